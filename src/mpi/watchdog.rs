//! A time limit (`--timeout`): a thread per rank that, when the limit passes, says where the
//! run was and ends the job on every rank with [`EXIT_TIMEOUT`]. The limit is either on the
//! whole run (mpiio) or on each wait for progress while armed (net over MPI: a pair whose
//! messages stop moving, e.g. a transport that picked a path that goes nowhere).
//!
//! Why a thread: the calls that hang are inside the MPI library (ROMIO's pvfs2 driver waits
//! 300 s per try for a server that is stopped, and tries again), where no loop of pvbench's can
//! look at a clock. `MPI_Abort` from this thread ends the rank stuck in such a call and, through
//! the launcher, every other rank.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::EXIT_TIMEOUT;

/// Where a rank is: set by the benchmark at each step, read when the limit passes.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The part of the run: "setup", "write phase", "read phase", "removing the test file",
    /// "pair 0→1 (node7 → vm3), repetition 2 of 3", …
    pub part: Cow<'static, str>,
    /// Iteration (from 1) and how many there are, inside a phase.
    pub iteration: Option<(u32, u32)>,
    /// The call it is in, e.g. "MPI_File_write_at_all".
    pub call: Option<&'static str>,
    /// The item (from 1) and how many there are, inside a phase of `meta`.
    pub item: Option<(u64, u64)>,
}

impl Stage {
    pub const fn part(part: &'static str) -> Self {
        Stage { part: Cow::Borrowed(part), iteration: None, call: None, item: None }
    }

    fn describe(&self) -> String {
        let mut text = self.part.to_string();
        if let Some((iteration, of)) = self.iteration {
            text.push_str(&format!(", iteration {iteration} of {of}"));
        }
        if let Some((item, of)) = self.item {
            text.push_str(&format!(", item {item} of {of}"));
        }
        if let Some(call) = self.call {
            text.push_str(&format!(", in {call}"));
        }
        text
    }
}

/// Where this rank is, and whether the limit has passed: once it has, the benchmark's thread
/// stops at its next step, so that it cannot make a file again that the watchdog removed.
static STAGE: Mutex<(Stage, bool)> = Mutex::new((Stage::part("setup"), false));

/// What this rank removes when the limit passes: local files and directories it made that
/// nobody would remove once the job is ended.
type Cleanup = Box<dyn Fn() + Send>;
static CLEANUP: Mutex<Option<Cleanup>> = Mutex::new(None);

/// Names the local files this rank removes when the limit passes (a test file of several GiB
/// in /tmp must not outlive the run). Files behind a server are left: it may be the one that
/// does not answer, and a campaign resets it anyway.
pub fn remove_on_timeout(files: Vec<PathBuf>) {
    clean_up_on_timeout(move || {
        for file in &files {
            let _ = std::fs::remove_file(file);
        }
    });
}

/// What this rank does when the limit passes, before the job ends: remove what it made (the
/// benchmark's thread is stopped at its next step by then, so it makes nothing more).
pub fn clean_up_on_timeout(cleanup: impl Fn() + Send + 'static) {
    if let Ok(mut current) = CLEANUP.lock() {
        *current = Some(Box::new(cleanup));
    }
}

/// Records the item this rank is about to work on, within its current part and iteration.
pub fn at_item(item: u64, of: u64) {
    update(|current| current.item = Some((item, of)));
}

/// Records where this rank is now.
pub fn enter(stage: Stage) {
    update(|current| *current = stage);
}

/// Records the call this rank is about to make, within its current part and iteration.
pub fn calling(call: &'static str) {
    update(|current| current.call = Some(call));
}

fn update(change: impl FnOnce(&mut Stage)) {
    let fired = match STAGE.lock() {
        Ok(mut guard) => {
            change(&mut guard.0);
            guard.1
        }
        Err(_) => false,
    };
    // The watchdog ends the process; this thread does nothing more until then.
    if fired {
        PARKED.store(true, std::sync::atomic::Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    }
}

/// Set once the benchmark's thread has stopped for good after the limit passed.
static PARKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// How long the watchdog waits for the benchmark's thread to stop before it removes files: its
/// call in flight (one small file operation) ends; a call that hangs (a stopped server) does not.
const WAIT_FOR_PARKING: Duration = Duration::from_secs(1);

fn wait_until_parked() {
    if CLEANUP.lock().map(|cleanup| cleanup.is_none()).unwrap_or(true) {
        return; // nothing to remove: the line need not wait
    }
    let deadline = Instant::now() + WAIT_FOR_PARKING;
    while !PARKED.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs what the benchmark asked to be done when the limit passes.
fn clean_up() {
    if let Ok(cleanup) = CLEANUP.lock()
        && let Some(cleanup) = cleanup.as_ref()
    {
        cleanup();
    }
}

/// Marks the limit as passed and returns where this rank was.
fn fire() -> Stage {
    match STAGE.lock() {
        Ok(mut guard) => {
            guard.1 = true;
            guard.0.clone()
        }
        Err(_) => Stage::part("unknown"),
    }
}

/// How long rank 0 gets to say what happened before the other ranks end the job themselves
/// (rank 0's host may be the one that cannot be reached).
const GRACE_FOR_RANK_0: Duration = Duration::from_secs(5);

/// How long `MPI_Abort` gets before the process leaves on its own: the launcher it must tell
/// may be behind a link that is down.
const GRACE_FOR_ABORT: Duration = Duration::from_secs(10);

/// The words of the line printed when the limit passes.
pub struct Limit {
    /// The limit as the user gave it, e.g. "20s".
    pub given: String,
    pub after: Duration,
    /// What the run works on, e.g. "pvfs2:/pvfs2/f (PVFS2 server tcp://node6:3334/pvfs2-fs)".
    pub target: String,
    pub kind: Kind,
}

/// What the limit bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// The whole run, from the start of the watchdog.
    WholeRun,
    /// Each wait between [`progress`] calls, from [`progress`] to [`disarm`] (idle ranks,
    /// waiting for others' pairs, are not bounded).
    Progress,
}

/// When the limit passes (`None`: not armed), and the limit of a [`Kind::Progress`] watchdog.
struct Clock {
    deadline: Option<Instant>,
    progress_limit: Option<Duration>,
}

static CLOCK: Mutex<Clock> = Mutex::new(Clock { deadline: None, progress_limit: None });

/// Arms a [`Kind::Progress`] watchdog, or moves its limit on: this rank made progress now.
pub fn progress() {
    if let Ok(mut clock) = CLOCK.lock()
        && let Some(limit) = clock.progress_limit
    {
        clock.deadline = Some(Instant::now() + limit);
    }
}

/// Disarms a [`Kind::Progress`] watchdog until the next [`progress`].
pub fn disarm() {
    if let Ok(mut clock) = CLOCK.lock()
        && clock.progress_limit.is_some()
    {
        clock.deadline = None;
    }
}

/// How often an unarmed or far watchdog looks at the clock again.
const POLL: Duration = Duration::from_millis(100);

/// Starts the watchdog of this rank; it lives as long as the process.
pub fn start(limit: Limit, rank: i32) -> std::io::Result<()> {
    if let Ok(mut clock) = CLOCK.lock() {
        *clock = match limit.kind {
            Kind::WholeRun => Clock { deadline: Some(Instant::now() + limit.after), progress_limit: None },
            Kind::Progress => Clock { deadline: None, progress_limit: Some(limit.after) },
        };
    }
    std::thread::Builder::new().name("pvbench-watchdog".into()).spawn(move || {
        wait_for_deadline();
        // Every rank stops at once, so that none makes a file while files are removed.
        let stage = fire();
        wait_until_parked();
        // Every rank's whole-run limit passes at once: rank 0 says where the run was, and ends
        // the job; the others clean up before they wait for that.
        let waits_for_rank_0 = rank != 0 && limit.kind == Kind::WholeRun;
        if waits_for_rank_0 {
            clean_up();
            std::thread::sleep(GRACE_FOR_RANK_0);
        }
        let what = match limit.kind {
            Kind::WholeRun => format!("the time limit (--timeout {}) passed", limit.given),
            Kind::Progress => format!("nothing moved within --timeout {}", limit.given),
        };
        let line = format!(
            "pvbench: error: {what}: rank {rank} was in the {} on {}; the job is ended (exit {EXIT_TIMEOUT})\n",
            stage.describe(),
            limit.target
        );
        crate::console::to_stderr(&line);
        if !waits_for_rank_0 {
            clean_up();
        }
        let _ = std::thread::Builder::new().spawn(|| {
            std::thread::sleep(GRACE_FOR_ABORT);
            // SAFETY: _exit has no preconditions; it ends the process without running anything.
            unsafe { libc::_exit(EXIT_TIMEOUT) }
        });
        super::abort_job(EXIT_TIMEOUT);
    })?;
    Ok(())
}

/// Returns once the armed deadline has passed.
fn wait_for_deadline() {
    loop {
        let deadline = CLOCK.lock().map(|clock| clock.deadline).unwrap_or(None);
        let now = Instant::now();
        match deadline {
            Some(deadline) if deadline <= now => return,
            Some(deadline) => std::thread::sleep((deadline - now).min(POLL)),
            None => std::thread::sleep(POLL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_names_part_iteration_and_call() {
        assert_eq!(Stage::part("setup").describe(), "setup");
        let stage = Stage {
            part: "read phase".into(),
            iteration: Some((3, 5)),
            call: Some("MPI_File_read_at_all"),
            item: None,
        };
        assert_eq!(stage.describe(), "read phase, iteration 3 of 5, in MPI_File_read_at_all");
        let stage = Stage {
            part: "file create phase".into(),
            iteration: Some((1, 1)),
            call: None,
            item: Some((7, 9)),
        };
        assert_eq!(stage.describe(), "file create phase, iteration 1 of 1, item 7 of 9");
    }

    /// One test for the process-wide clock: progress arms and moves a progress limit, disarm
    /// clears it but never a whole-run limit, and a passed deadline ends the wait.
    #[test]
    fn progress_arms_and_disarm_clears_only_a_progress_limit() {
        let limit = Duration::from_secs(30);
        *CLOCK.lock().unwrap() = Clock { deadline: None, progress_limit: Some(limit) };
        let before = Instant::now();
        progress();
        let armed = CLOCK.lock().unwrap().deadline.expect("armed");
        assert!(armed >= before + limit && armed <= Instant::now() + limit);
        disarm();
        assert_eq!(CLOCK.lock().unwrap().deadline, None);

        let whole_run = Instant::now() + limit;
        *CLOCK.lock().unwrap() = Clock { deadline: Some(whole_run), progress_limit: None };
        progress();
        disarm();
        assert_eq!(CLOCK.lock().unwrap().deadline, Some(whole_run), "a whole-run limit stays");

        CLOCK.lock().unwrap().deadline = Some(Instant::now() + Duration::from_millis(150));
        let waited = Instant::now();
        wait_for_deadline();
        assert!(waited.elapsed() >= Duration::from_millis(150));
        *CLOCK.lock().unwrap() = Clock { deadline: None, progress_limit: None };
    }

    #[test]
    fn calling_keeps_part_and_iteration() {
        enter(Stage { part: "write phase".into(), iteration: Some((1, 2)), call: None, item: None });
        calling("MPI_File_open");
        let now = STAGE.lock().unwrap().0.clone();
        assert_eq!(
            now,
            Stage {
                part: "write phase".into(),
                iteration: Some((1, 2)),
                call: Some("MPI_File_open"),
                item: None
            }
        );
    }
}
