//! What a campaign writes into its results directory, named in one place: the writer and the
//! plan's checker use the same names, so they cannot drift apart.
//!
//! Runs go to `BENCHMARK/GROUP/rep-NN.*`: names cannot hold `/`, so those paths never collide.
//! A file named after two names at once joins them with [`JOIN`], a character names cannot
//! hold, so that `a` + `b-c` and `a-b` + `c` stay two files. The campaign's own files sit beside
//! the benchmarks' directories: a benchmark may not be named like one of them ([`RESERVED`]).

use std::path::{Path, PathBuf};

/// The manifest: the campaign's identity and every attempt.
pub const MANIFEST: &str = "campaign.json";
/// Held while a campaign runs in the directory.
pub const LOCK: &str = ".campaign.lock";
/// The hostfile of each (benchmark, group).
pub const HOSTFILES: &str = "hostfiles";
/// compare's tables and charts, per benchmark.
pub const SUMMARY: &str = "summary";
pub const REPORT: &str = "report.html";
pub const OVERHEAD: &str = "overhead.json";

/// Every name the campaign itself writes at the top of the results directory.
pub const RESERVED: &[&str] = &[MANIFEST, LOCK, HOSTFILES, SUMMARY, REPORT, OVERHEAD];

/// Joins names in one file name; names are letters, digits, `.`, `_` and `-` only.
pub const JOIN: char = '+';

/// The campaign file a benchmark of this name would take the place of, if any (compared
/// without case: the directory may be on a file system that ignores it).
pub fn reserved(name: &str) -> Option<&'static str> {
    RESERVED.iter().copied().find(|r| r.eq_ignore_ascii_case(name))
}

/// `RESULTS/hostfiles/BENCHMARK+GROUP`.
pub fn hostfile(results: &Path, benchmark: &str, group: &str) -> PathBuf {
    results.join(HOSTFILES).join(format!("{benchmark}{JOIN}{group}"))
}

/// `overhead+GUEST+HOST.svg`, `overhead+GUEST+HOST+REFERENCE.svg` for a reference's figures.
pub fn overhead_chart(guest: &str, host: &str, reference: Option<&str>) -> String {
    let reference = reference.map(|r| format!("{JOIN}{r}")).unwrap_or_default();
    format!("overhead{JOIN}{guest}{JOIN}{host}{reference}.svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_joined_stay_apart() {
        let results = Path::new("/r");
        assert_ne!(hostfile(results, "a", "b-c"), hostfile(results, "a-b", "c"));
        assert_eq!(hostfile(results, "a", "b-c"), Path::new("/r/hostfiles/a+b-c"));
        assert_ne!(overhead_chart("a-vs-b", "c", None), overhead_chart("a", "b-vs-c", None));
        assert_ne!(overhead_chart("g", "h", Some("study-2008")), overhead_chart("g", "h-study-2008", None));
        for name in RESERVED {
            assert!(!name.contains(JOIN), "{name}");
        }
    }

    #[test]
    fn reserved_names_are_found_in_any_case() {
        assert_eq!(reserved("overhead.json"), Some(OVERHEAD));
        assert_eq!(reserved("Summary"), Some(SUMMARY));
        assert_eq!(reserved("pvfs2"), None);
    }
}
