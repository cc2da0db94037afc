//! `pvbench campaign`: the whole study as one plan. `check` reads a plan and prints its
//! schedule; `run` makes the runs (interleaved, each benchmark's reset before each run,
//! repetitions until the figures are sure), resumes where a previous invocation stopped, and
//! ends with the overhead sentence, the tables and `report.html`; `status` says where a
//! campaign stands. Benchmarks run as processes through the plan's launcher, never by calling
//! `bench/` code: the campaign runs without MPI.

mod check;
mod figures;
mod layout;
pub mod plan;
mod run;
mod runner;
pub mod schedule;
mod state;
mod summary;

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::console::note;
use crate::error::UsageError;

/// Checks a benchmark's arguments the way its own command line would (sizes, ranges), given
/// by the front door: `(kind, arguments)` → the one-line problem.
pub type ArgsCheck = fn(&str, &[String]) -> Result<(), String>;

pub enum Action {
    Check,
    Run { results: PathBuf, include_noisy: bool, references: Vec<String> },
    Status { results: PathBuf },
}

pub struct Options {
    pub action: Action,
    pub plan: Option<PathBuf>,
    pub sets: Vec<String>,
    /// A fixed repetition count instead of the plan's.
    pub reps: Option<u32>,
    /// Every benchmark's launcher instead of the plan's.
    pub launcher: Option<String>,
    pub args_check: ArgsCheck,
}

impl Options {
    pub fn from_command(command: crate::cli::CampaignCommand, args_check: ArgsCheck) -> Options {
        use crate::cli::CampaignCommand;
        match command {
            CampaignCommand::Check(args) => Options {
                action: Action::Check,
                plan: Some(args.plan),
                sets: args.set,
                reps: args.reps,
                launcher: args.launcher,
                args_check,
            },
            CampaignCommand::Run(args) => Options {
                action: Action::Run {
                    results: args.results,
                    include_noisy: args.include_noisy,
                    references: args.reference,
                },
                plan: Some(args.plan.plan),
                sets: args.plan.set,
                reps: args.plan.reps,
                launcher: args.plan.launcher,
                args_check,
            },
            CampaignCommand::Status(args) => Options {
                action: Action::Status { results: args.results },
                plan: None,
                sets: Vec::new(),
                reps: None,
                launcher: None,
                args_check,
            },
        }
    }
}

pub fn run(options: Options) -> anyhow::Result<()> {
    let load = |path: &PathBuf| {
        let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("pvbench"));
        let mut plan = plan::load(path, &options.sets, options.reps, &me)?;
        if let Some(template) = &options.launcher {
            plan.launch_every_benchmark_with(template)?;
        }
        for (name, condition) in &plan.left_out {
            note!("campaign: benchmark {name} left out: its only_if failed ({condition})");
        }
        Ok::<_, UsageError>(plan)
    };
    match &options.action {
        Action::Check => {
            let plan = load(options.plan.as_ref().expect("check has a plan"))?;
            check::check(&plan, options.args_check)
        }
        Action::Run { results, include_noisy, references } => {
            let plan = load(options.plan.as_ref().expect("run has a plan"))?;
            check::problems(&plan, options.args_check)?;
            for name in references {
                crate::compare::reference_documents(name)?;
            }
            run::run(&plan, results, *include_noisy, references)
        }
        Action::Status { results } => status(results),
    }
}

/// Where a campaign stands: its runs by outcome and its last word.
fn status(results: &std::path::Path) -> anyhow::Result<()> {
    let manifest = state::read_manifest(results)?.ok_or_else(|| {
        UsageError(format!("{}: no campaign here (no {})", results.display(), layout::MANIFEST))
    })?;
    let count = |outcome: &str| manifest.runs.iter().filter(|r| r.outcome == outcome).count();
    let mut out = String::new();
    writeln!(out, "campaign {} in {}", manifest.identity["name"].as_str().unwrap_or("?"), results.display())?;
    writeln!(out, "started {}, last run {}", manifest.started_at, manifest.updated_at)?;
    writeln!(
        out,
        "attempts: {} ok, {} failed, {} interrupted",
        count("ok"),
        count("failed"),
        count("interrupted")
    )?;
    let mut cells: Vec<(String, usize, usize)> = Vec::new();
    for record in &manifest.runs {
        let cell = format!("{} {}", record.benchmark, record.group);
        let ok = usize::from(record.outcome == "ok");
        match cells.iter_mut().find(|c| c.0 == cell) {
            Some(c) => {
                c.1 += ok;
                c.2 += 1;
            }
            None => cells.push((cell, ok, 1)),
        }
    }
    for (cell, ok, attempts) in cells {
        writeln!(out, "  {cell:<32} {ok} results, {attempts} attempts")?;
    }
    if let Some(last) = manifest.runs.last() {
        writeln!(out, "last: {} {} ({})", last.id, last.outcome, last.reason.as_deref().unwrap_or("-"))?;
    }
    writeln!(out, "status: {}", if manifest.status.is_empty() { "not finished" } else { &manifest.status })?;
    crate::console::print(&out)
}
