//! `campaign run`: the rounds of a plan, each run once (a run with a result is not run again:
//! an interrupted or failed campaign resumes with the same command), then the summary.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::layout;
use super::plan::{Order, Plan, Reps};
use super::progress::{self, Progress, Step};
use super::runner::{self, Ended, RunFiles};
use super::schedule::{self, Slot};
use super::state;
use super::summary::{self, Collected};
use crate::console::note;
use crate::error::{Interrupted, UsageError};
use crate::result::campaign::{CAMPAIGN_SCHEMA_VERSION, KeptOptions, Manifest, RunRecord};

/// What an invocation did, for its last line.
#[derive(Default)]
struct Counts {
    new: usize,
    done_before: usize,
    failed: usize,
}

struct Campaign<'a> {
    plan: &'a Plan,
    results: PathBuf,
    manifest: Manifest,
    collected: Collected,
    include_noisy: bool,
    counts: Counts,
    started: Instant,
    /// Set by SIGUSR1: no new run starts (a batch job's end is near: `sbatch
    /// --signal=B:USR1@SECONDS`); the one under way finishes.
    drain: Arc<AtomicBool>,
}

/// The results directory, made and locked, and the manifest it holds (or a new one).
fn open(results: &Path) -> anyhow::Result<(PathBuf, state::Lock, Option<Manifest>)> {
    if results.exists() && !results.is_dir() {
        return Err(UsageError(format!("--results {}: not a directory", results.display())).into());
    }
    std::fs::create_dir_all(results)
        .map_err(|e| UsageError(format!("--results {}: cannot create: {e}", results.display())))?;
    let results = std::fs::canonicalize(results)?;
    let lock = state::lock(&results.join(layout::LOCK), false, || {
        format!("another campaign is running on {}", results.display())
    })?;
    let manifest = state::read_manifest(&results)?;
    if manifest.is_none() {
        let other =
            std::fs::read_dir(&results)?.flatten().map(|e| e.file_name()).find(|name| name != layout::LOCK);
        if let Some(other) = other {
            return Err(UsageError(format!(
                "--results {}: holds {} but no campaign ({}): give an empty or new directory",
                results.display(),
                other.to_string_lossy(),
                layout::MANIFEST
            ))
            .into());
        }
    }
    Ok((results, lock, manifest))
}

/// Runs the campaign with the options `given` (or those it was started with, when left out).
pub fn run(plan: &Plan, results: &Path, given: &KeptOptions) -> anyhow::Result<()> {
    let (results, _lock, old) = open(results)?;
    let seed = plan
        .file
        .seed
        .or_else(|| old.as_ref().and_then(|m| m.identity["seed"].as_u64()))
        .unwrap_or_else(draw_seed);
    let identity = state::identity(plan, seed);
    if let Some(old) = &old
        && old.identity != identity
    {
        let differs = state::first_difference(&old.identity, &identity, "").unwrap_or_default();
        return Err(UsageError(format!(
            "{} holds another campaign ({differs}): give another --results",
            results.display()
        ))
        .into());
    }
    let options = state::kept_options(old.as_ref().and_then(|m| m.options.as_ref()), given)?;
    if options != *given {
        note!("campaign: options kept from its first run: {}", state::options_text(&options));
    }
    let mut server_locks = Vec::new();
    let mut resets: Vec<&String> = plan.benchmarks.iter().filter_map(|b| b.reset.as_ref()).collect();
    resets.sort();
    resets.dedup();
    for reset in resets {
        server_locks.push(state::lock(&state::server_lock_path(reset), true, || {
            format!("another campaign is resetting the same server(s): {reset}")
        })?);
    }
    crate::interrupt::install(crate::interrupt::Policy::Agree, |code| std::process::exit(code))?;
    let drain = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&drain))?;
    runner::write_hostfiles(plan, &results)?;
    let now = crate::result::now_rfc3339();
    let manifest = old.unwrap_or_else(|| Manifest {
        schema_version: CAMPAIGN_SCHEMA_VERSION,
        kind: "campaign".into(),
        tool: crate::result::Tool::this(),
        identity,
        started_at: now.clone(),
        updated_at: now,
        hosts: Vec::new(),
        runs: Vec::new(),
        status: String::new(),
        options: None,
        rounds: None,
    });
    let mut campaign = Campaign {
        plan,
        results,
        manifest,
        collected: Collected::default(),
        include_noisy: options.include_noisy,
        counts: Counts::default(),
        started: Instant::now(),
        drain,
    };
    campaign.manifest.status = String::new();
    campaign.manifest.options = Some(options.clone());
    campaign.manifest.rounds = Some(state::planned_rounds(&plan.file.reps, &campaign.manifest.runs));
    state::write_manifest(&campaign.results, &campaign.manifest)?;
    let status = campaign.rounds(seed)?;
    let ended = campaign.at_end();
    campaign.manifest.status = status.clone();
    state::write_manifest(&campaign.results, &campaign.manifest)?;
    let Counts { new, done_before, failed } = campaign.counts;
    note!(
        "campaign: {status}; {} runs: {} new, {done_before} already done, {failed} failed; results in {}",
        new + done_before,
        new - failed,
        campaign.results.display()
    );
    summary::publish(plan, &campaign.results, &campaign.manifest, &campaign.collected, &options.references)?;
    drop(server_locks);
    if !ended {
        anyhow::bail!("a benchmark's stop command failed (above)");
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of the campaign's runs failed (their .failed and .log files say why; run again to retry them)"
        );
    }
    Ok(())
}

impl Campaign<'_> {
    /// Runs the rounds; returns why it stopped adding them.
    fn rounds(&mut self, seed: u64) -> anyhow::Result<String> {
        let reps = self.plan.file.reps.clone();
        let progress = Progress::new();
        if self.plan.file.order == Order::Blocked {
            for slot in schedule::blocked(self.plan, reps.max()) {
                self.slot(&slot, reps.max(), &progress)?;
            }
            return Ok(format!("{} repetitions, blocked", reps.max()));
        }
        for rep in 1..=reps.max() {
            let planned = rep.max(reps.min());
            if let Some(rounds) = &mut self.manifest.rounds {
                rounds.planned = rounds.planned.max(planned);
            }
            for slot in schedule::round(self.plan, rep, seed) {
                self.slot(&slot, planned, &progress)?;
            }
            let Reps::UntilCi { until_ci, max, .. } = reps else { continue };
            if rep < reps.min() {
                continue;
            }
            let imprecise = self.collected.measured.imprecise(self.plan, until_ci);
            let within = format!("±{} %", until_ci * 100.0);
            if imprecise.is_empty() {
                return Ok(format!(
                    "every figure's 95 % interval within {within} of its mean after {rep} rounds"
                ));
            }
            if rep == max {
                return Ok(format!(
                    "max {max} rounds reached, not yet within {within}: {}",
                    imprecise.join(", ")
                ));
            }
            note!("campaign: after round {rep}, not yet within {within}: {}", imprecise.join(", "));
        }
        Ok(format!("{} repetitions, {:?} order", reps.max(), self.plan.file.order).to_lowercase())
    }

    /// Each benchmark's `stop` command, once (a server stopped after the last run), its output
    /// on stderr; whether all succeeded.
    fn at_end(&self) -> bool {
        let mut ok = true;
        let mut done: Vec<&String> = Vec::new();
        for command in self.plan.benchmarks.iter().filter_map(|b| b.stop.as_ref()) {
            if done.contains(&command) {
                continue;
            }
            done.push(command);
            note!("campaign: at the end: {command}");
            let to_stderr = std::io::stderr().as_fd().try_clone_to_owned().map(std::process::Stdio::from);
            let status = runner::shell(self.plan, command)
                .stdin(std::process::Stdio::null())
                .stdout(to_stderr.unwrap_or_else(|_| std::process::Stdio::null()))
                .status();
            if !status.is_ok_and(|s| s.success()) {
                note!("campaign: the end command failed: {command}");
                ok = false;
            }
        }
        ok
    }

    /// One run: its result read if it has one, made otherwise.
    fn slot(&mut self, slot: &Slot, rounds_now: u32, progress: &Progress) -> anyhow::Result<()> {
        let files = RunFiles::of(&self.results, self.plan, slot);
        if files.result.exists() {
            self.counts.done_before += 1;
        } else {
            if self.drain.load(Ordering::SeqCst) {
                note!(
                    "campaign: SIGUSR1: stopping before {}; the same command resumes it",
                    slot.id(self.plan)
                );
                return Err(Interrupted(signal_hook::consts::SIGUSR1).into());
            }
            progress.show(self.step(slot, rounds_now));
            let record = self.attempt(slot, &files)?;
            self.counts.new += 1;
            let outcome = record.outcome.clone();
            if outcome == "failed" {
                self.counts.failed += 1;
                let reason = record.reason.clone().unwrap_or_default();
                note!("campaign: {} FAILED: {reason} (log: {})", record.id, files.log.display());
                let mut marker = File::options().create(true).append(true).open(&files.failed)?;
                runner::note(
                    &mut marker,
                    &format!("attempt {}: {reason}; log: {}", record.attempt, files.log.display()),
                )?;
            }
            self.manifest.updated_at = crate::result::now_rfc3339();
            self.manifest.runs.push(record);
            state::write_manifest(&self.results, &self.manifest)?;
            if outcome != "ok" {
                return self.stop_if_interrupted(slot);
            }
        }
        self.collected.absorb(
            self.plan,
            slot,
            &files.result,
            &mut self.manifest.hosts,
            self.include_noisy,
        )?;
        self.stop_if_interrupted(slot)
    }

    /// After a run: a Ctrl-C (or SIGTERM) that came meanwhile ends the campaign here.
    fn stop_if_interrupted(&self, slot: &Slot) -> anyhow::Result<()> {
        crate::interrupt::check().inspect_err(|_| {
            note!("campaign: interrupted at {}; the same command resumes it", slot.id(self.plan));
        })?;
        Ok(())
    }

    /// Where the campaign stands as `slot` starts, `rounds_now` rounds planned.
    fn step(&self, slot: &Slot, rounds_now: u32) -> Step {
        let reps = &self.plan.file.reps;
        let interleaved = self.plan.file.order != Order::Blocked;
        let until_ci = matches!(reps, Reps::UntilCi { .. }) && interleaved;
        Step {
            at: self.counts.new + self.counts.done_before + 1,
            id: slot.id(self.plan),
            round: interleaved.then_some(slot.rep),
            per_round: schedule::cells(self.plan).len(),
            planned: rounds_now,
            reps: reps.clone(),
            likely: until_ci.then(|| progress::likely_rounds(&self.collected.measured, self.plan, slot.rep)),
            elapsed: self.started.elapsed(),
            made: self.counts.new,
        }
    }

    /// Reset, check and the benchmark, with every step in the run's log.
    fn attempt(&self, slot: &Slot, files: &RunFiles) -> anyhow::Result<RunRecord> {
        let bench = &self.plan.benchmarks[slot.benchmark];
        let group = &self.plan.groups[slot.group];
        if let Some(dir) = files.result.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let attempt = std::fs::read_to_string(&files.log)
            .map_or(0, |log| log.lines().filter(|l| l.starts_with("# attempt ")).count() as u32)
            + 1;
        let mut log = File::options().create(true).append(true).open(&files.log)?;
        let started_at = crate::result::now_rfc3339();
        let started = Instant::now();
        runner::note(&mut log, &format!("# attempt {attempt}, {started_at}, {}", slot.id(self.plan)))?;
        let limit = bench.timeout;
        let mut steps: Vec<(&str, Command, String)> = Vec::new();
        for (name, command) in [("reset", &bench.reset), ("server check", &bench.check)] {
            if let Some(text) = command {
                steps.push((name, runner::shell(self.plan, text), text.clone()));
            }
        }
        let hostfile = runner::hostfile(&self.results, self.plan, slot);
        let words = runner::launch_words(self.plan, slot, &hostfile, &files.result);
        let mut launch = Command::new(&words[0]);
        launch.args(&words[1..]).envs(&group.env).current_dir(&self.plan.workdir);
        steps.push(("benchmark", launch, words.join(" ")));
        let mut reason: Option<String> = None;
        let mut interrupted = false;
        for (name, command, text) in steps {
            runner::note(&mut log, &format!("$ {text}"))?;
            let why = match runner::run_logged(command, &log, limit)? {
                Ended::Exited(0) => continue,
                Ended::Exited(124) if name == "benchmark" => {
                    format!("timeout: pvbench's own --timeout ended the job (limit {} s)", limit.as_secs())
                }
                Ended::Exited(code) => format!("{name} failed (exit {code})"),
                Ended::TimedOut => format!("{name}: timeout after {} s", limit.as_secs()),
                Ended::Interrupted => {
                    interrupted = true;
                    format!("{name}: interrupted")
                }
            };
            reason = Some(why);
            break;
        }
        if reason.is_none() && !files.result.exists() {
            reason = Some("the benchmark wrote no result".into());
        }
        if interrupted && files.result.exists() {
            // pvbench writes its document whole at the very end: the run was complete when the
            // signal came (the campaign stops after it all the same).
            reason = None;
            interrupted = false;
        }
        if reason.is_some() && !interrupted && signal_follows(SIGNAL_GRACE) {
            // A step that failed because the campaign's end came first: a Slurm job at its time
            // limit refuses new steps (srun exits 1) before its SIGTERM arrives here.
            interrupted = true;
        }
        if reason.is_some() && files.result.exists() {
            // A document of a run that failed is kept beside, never counted.
            let kept = files.result.with_extension(format!("json.failed-{attempt}"));
            std::fs::rename(&files.result, &kept)?;
        }
        let outcome = match (&reason, interrupted) {
            (_, true) => "interrupted",
            (Some(_), false) => "failed",
            (None, false) => "ok",
        };
        match &reason {
            Some(why) => runner::note(&mut log, &format!("# {}: {why}", outcome.to_uppercase()))?,
            None => runner::note(&mut log, &format!("# ok, {:.1} s", started.elapsed().as_secs_f64()))?,
        }
        Ok(RunRecord {
            id: slot.id(self.plan),
            benchmark: bench.name.clone(),
            group: group.name.clone(),
            rep: slot.rep,
            attempt,
            started_at,
            seconds: started.elapsed().as_secs_f64(),
            outcome: outcome.into(),
            reason,
        })
    }
}

/// A seed a plan can hold: TOML's integers end at i64::MAX, and a drawn seed is one to copy
/// into a plan (`seed = N`) to run the same order again.
fn draw_seed() -> u64 {
    rand::random::<u64>() >> 1
}

/// How long a failed step waits for a signal that would explain it.
const SIGNAL_GRACE: Duration = Duration::from_secs(2);

/// Whether a SIGINT or SIGTERM comes (or came) within `grace`.
fn signal_follows(grace: Duration) -> bool {
    let until = Instant::now() + grace;
    while crate::interrupt::check().is_ok() {
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}
