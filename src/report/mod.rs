//! Human and machine renderings of result documents. Knows nothing of MPI: it only reads the
//! result model. JSON output lives with the model (`result::JsonTarget`).

pub mod mpiio;
pub mod partdiff;

use std::io::Write;

/// Prints the human report: to standard output, or to standard error when standard output
/// carries the JSON document.
pub fn print_human(text: &str, stdout_is_json: bool) {
    if stdout_is_json {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    }
}
