//! Standard output and standard error, the one way to them (clippy's `print_stdout` and
//! `print_stderr` are denied elsewhere): a reader that goes away (`pvbench … | head -1`) ends
//! the command quietly, as coreutils and ripgrep end, never with a panic.

use std::io::Write;

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
/// must not cut it). A closed standard error loses the note, nothing else.
pub fn to_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `eprintln!` that cannot panic: a line on standard error through [`to_stderr`].
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::console::to_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use note;
