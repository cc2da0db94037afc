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
mod progress;
mod run;
mod runner;
pub mod schedule;
mod state;
mod status;
mod summary;

use std::path::PathBuf;

use crate::console::note;
use crate::error::UsageError;
use crate::result::campaign::KeptOptions;

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
            let given = KeptOptions { references: references.clone(), include_noisy: *include_noisy };
            run::run(&plan, results, &given)
        }
        Action::Status { results } => status::status(results),
    }
}
