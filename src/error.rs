//! Error kinds that decide the exit code. Everything else is a runtime error (exit 1).

use thiserror::Error;

/// The command line cannot work as given (exit 2).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The data read back is not what was written (exit 3).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct VerificationError(pub String);

/// The run was stopped by a signal (exit 128 + signal: 130 for SIGINT, 143 for SIGTERM, 138
/// for a campaign's SIGUSR1).
#[derive(Debug, Error)]
#[error("interrupted by {}", signal_name(*.0))]
pub struct Interrupted(pub i32);

impl Interrupted {
    pub fn exit_code(&self) -> i32 {
        128 + self.0
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        10 => "SIGUSR1".into(),
        15 => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

/// Standard output's reader went away (`pvbench … | head -1`): the command ends quietly with
/// 141, the status of a process that SIGPIPE ended, as coreutils' do.
#[derive(Debug, Error)]
#[error("standard output closed")]
pub struct StdoutClosed;

pub const EXIT_RUNTIME: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_VERIFICATION: i32 = 3;
/// `mpiio --timeout` passed: the job was ended on every rank (GNU timeout's code).
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_STDOUT_CLOSED: i32 = 141;

/// The process exit code for an error: the kind found anywhere in its chain.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.chain().any(|e| e.is::<StdoutClosed>()) {
        EXIT_STDOUT_CLOSED
    } else if let Some(interrupted) = error.chain().find_map(|e| e.downcast_ref::<Interrupted>()) {
        interrupted.exit_code()
    } else if error.chain().any(|e| e.is::<VerificationError>()) {
        EXIT_VERIFICATION
    } else if error.chain().any(|e| {
        e.is::<UsageError>() || e.downcast_ref::<crate::input::InputError>().is_some_and(|e| e.is_refused())
    }) {
        EXIT_USAGE
    } else {
        EXIT_RUNTIME
    }
}
