//! What each fuzz target (`fuzz/fuzz_targets/`) runs on its input, and what
//! `tests/fuzz_regressions.rs` runs on every input a fuzzer once crashed: the gates of user
//! input (import parsers, the plan loader and its schedule, the result document loader, the
//! size and duration parsers). An error is an answer; a panic, a hang or an abort is a bug.

use std::path::Path;

/// The first byte picks the format, the rest is the file's text (read as `import` reads it).
pub fn import(data: &[u8]) {
    let Some((&format, text)) = data.split_first() else { return };
    let _ = crate::import::parse_text(usize::from(format), &String::from_utf8_lossy(text));
}

/// A plan's text, resolved as `campaign check` resolves it (no `only_if` is run: every one
/// holds), and its schedule's first round.
pub fn plan(data: &[u8]) {
    use crate::campaign::{plan, schedule};
    let text = String::from_utf8_lossy(data);
    let holds = |_: &Path, _: &str| true;
    let Ok(plan) =
        plan::resolve(&text, Path::new("/tmp/fuzz.toml"), &[], None, Path::new("/bin/true"), &holds)
    else {
        return;
    };
    let _ = schedule::cells(&plan);
    match plan.file.order {
        plan::Order::Blocked => drop(schedule::blocked(&plan, plan.file.reps.min())),
        _ => drop(schedule::round(&plan, 1, plan.file.seed.unwrap_or(0))),
    }
}

/// A result document as `compare` and a campaign read it.
pub fn document(data: &[u8]) {
    use crate::compare::load::{Grouping, reduce};
    let _ = reduce(Path::new("fuzz.json"), data, &Grouping::Label);
}

/// A size or a duration as the command line gives it.
pub fn values(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::cli::parse_size(&text);
    let _ = crate::cli::parse_size_or_zero(&text);
    let _ = crate::cli::parse_time("--fuzz", &text);
}
