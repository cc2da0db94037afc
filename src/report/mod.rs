//! Human and machine renderings of result documents. Knows nothing of MPI: it only reads the
//! result model. JSON output lives with the model (`result::JsonTarget`).

pub mod campaign;
pub mod compare;
pub mod env;
pub mod fs;
pub mod html;
pub mod meta;
pub mod mpiio;
pub mod net;
pub mod partdiff;

use serde::Serialize;

use crate::env::Environment;
use crate::result::JsonTarget;

/// A byte count for people: `1.5 GiB`.
pub fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// One line per host: its role and the CPU steal of the measured phase, e.g.
/// `node7 (ranks 0,1): xen-domU PV guest, steal 1.20 s = 4.1% of CPU time`.
pub fn host_lines(environment: &Environment) -> Vec<String> {
    environment
        .hosts
        .iter()
        .map(|h| {
            let v = &h.virtualization;
            let ranks: Vec<String> = h.ranks.iter().map(u32::to_string).collect();
            let xen = v.xen_guest_type.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
            let kind = if v.guest { "guest" } else { "host" };
            let steal = h
                .steal_during_run
                .map(|s| format!(", steal {:.2} s = {:.1}% of CPU time", s.seconds, s.share_percent))
                .unwrap_or_default();
            format!("{} (ranks {}): {}{xen} {kind}{steal}", h.hostname, ranks.join(","), v.role)
        })
        .collect()
}

/// Prints the human report and writes the JSON document where `--json` asked for it (when that
/// is standard output, the report goes to standard error).
pub fn publish<T: Serialize>(text: &str, json: Option<&JsonTarget>, document: &T) -> anyhow::Result<()> {
    print_human(text, json.is_some_and(JsonTarget::is_stdout))?;
    match json {
        Some(target) => target.write(document),
        None => Ok(()),
    }
}

/// The human output: on standard output, or on standard error when that holds the JSON.
pub fn print_human(text: &str, stdout_is_json: bool) -> anyhow::Result<()> {
    if stdout_is_json {
        crate::console::to_stderr(text);
        Ok(())
    } else {
        crate::console::print(text)
    }
}
