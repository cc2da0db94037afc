//! SIGINT and SIGTERM: hydra's mpiexec forwards both (Ctrl-C, `timeout`, a batch system's
//! kill) to every rank. The handler only notes the signal; what happens then depends on what
//! the run must undo:
//! - a run that created files (`mpiio`) looks at the note at its agreement points and stops
//!   there on every rank together, removes its files, and exits with 128 + signal;
//! - a run with nothing to undo (`partdiff`) asks for [`Policy::ExitAtOnce`]: the note is read
//!   in its loops and wait loops, and the job is aborted with 128 + signal right there;
//! - `import` (no MPI) looks at the note between files and documents and removes what it wrote.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::Interrupted;

static RECEIVED: AtomicUsize = AtomicUsize::new(0);
static EXIT_AT_ONCE: AtomicBool = AtomicBool::new(false);
/// How a job ends at once under [`Policy::ExitAtOnce`]: given by the caller (the MPI layer's
/// abort), so that this module needs nothing of MPI's.
static ABORT: OnceLock<fn(i32) -> !> = OnceLock::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Stop at the next point where all ranks agree (see `mpi::agree`; without MPI, the next
    /// check), then clean up.
    Agree,
    /// Exit as soon as a loop notices: there is nothing to clean up.
    ExitAtOnce,
}

/// Installs the handlers (with SA_RESTART, so no I/O call sees EINTR); `abort` ends the job
/// with an exit code where [`Policy::ExitAtOnce`] asks for it.
pub fn install(policy: Policy, abort: fn(i32) -> !) -> anyhow::Result<()> {
    EXIT_AT_ONCE.store(policy == Policy::ExitAtOnce, Ordering::SeqCst);
    let _ = ABORT.set(abort);
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_usize(signal, &RECEIVED, signal as usize)?;
    }
    Ok(())
}

/// The signal received so far, as an error (exit code 128 + signal).
pub fn check() -> Result<(), Interrupted> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(Interrupted(signal as i32)),
    }
}

/// Under [`Policy::ExitAtOnce`], ends the job if a signal came: one line, then `MPI_Abort` with
/// 128 + signal. Not a plain exit: a peer may be in the middle of
/// reading this rank's message from its memory (UCX's CMA), and dies of it when the memory goes.
/// Cheap enough for every iteration and every poll.
pub fn exit_if_received() {
    if !EXIT_AT_ONCE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(interrupted) = check() {
        // Every rank that gets here says so: the first one's abort may end the others before
        // rank 0 would have printed.
        crate::console::to_stderr(&format!("pvbench: {interrupted}\n"));
        let code = interrupted.exit_code();
        match ABORT.get() {
            Some(abort) => abort(code),
            None => std::process::exit(code),
        }
    }
}
