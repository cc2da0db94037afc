//! Standard output and standard error, the one way to them (clippy's `print_stdout` and
//! `print_stderr` are denied elsewhere): a reader that goes away (`pvbench … | head -1`) ends
//! the command quietly, as coreutils and ripgrep end, never with a panic.

use std::io::Write;
use std::sync::Mutex;

use crate::error::StdoutClosed;

/// Writes `text` to standard output. A closed pipe is [`StdoutClosed`], which `main` turns
/// into a quiet exit 141 (as SIGPIPE would); any other failure is an error naming stdout.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
        Ok(()) => Ok(()),
    }
}

/// Writes `text` to standard error, as one write (a launcher that merges the ranks' output
/// must not cut it). A closed standard error loses the note, nothing else. A live line is
/// taken away for the write and drawn again below it.
pub fn to_stderr(text: &str) {
    let write = || {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    };
    let live = LIVE.lock().ok().and_then(|live| live.clone());
    match live {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// The live line at the bottom of a terminal, if one is shown.
static LIVE: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Shows `bar` as the live line below every note written meanwhile, until the value is dropped
/// (then the line goes: the notes stay).
pub fn live_line(bar: indicatif::ProgressBar) -> LiveLine {
    if let Ok(mut live) = LIVE.lock() {
        *live = Some(bar.clone());
    }
    LiveLine(bar)
}

pub struct LiveLine(indicatif::ProgressBar);

impl Drop for LiveLine {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE.lock() {
            *live = None;
        }
        self.0.finish_and_clear();
    }
}

/// `eprintln!` that cannot panic: a line on standard error through [`to_stderr`].
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::console::to_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use note;
