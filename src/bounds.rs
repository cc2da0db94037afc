//! Upper bounds of every count and duration a user gives (flags and plans), checked where they
//! are parsed: a number beyond them is a usage error naming the bound, never an allocation
//! abort, an overflow panic or a plan that would run for centuries. docs/exit-codes.md lists them.

use std::time::Duration;

/// The longest duration anything takes: a run's limit, a measurement, a hook's limit.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Repetitions of a campaign (`reps`, `--reps`, until_ci's `max`).
pub const MAX_REPS: u32 = 10_000;
/// Iterations of one `mpiio` run (`-i`).
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// Segments of one `mpiio` iteration (`-s`).
pub const MAX_SEGMENTS: u32 = 1_000_000_000;
/// Transfers of one rank in one `mpiio` phase (iterations x segments x transfers per block):
/// each keeps its latency (8 bytes) until rank 0 has the percentiles.
pub const MAX_TRANSFERS: u64 = 100_000_000;
/// Items per rank of one `meta` run (`-n`): 10^8 files a rank is beyond any mdtest run.
pub const MAX_META_ITEMS: u64 = 100_000_000;
/// Ranks of one campaign run (a group's or a benchmark's `ranks`).
pub const MAX_RANKS: u32 = 1_000_000;

/// `duration` if it is within [`MAX_DURATION`], else why not (`what` names it).
pub fn duration(what: &str, duration: Duration) -> Result<Duration, String> {
    if duration > MAX_DURATION {
        Err(format!("{what}: more than the 30 days a duration may be"))
    } else {
        Ok(duration)
    }
}

/// `count` if it is at most `max`, else why not.
pub fn count(what: &str, count: u32, max: u32) -> Result<u32, String> {
    if count > max { Err(format!("{what} {count}: more than {max}, the most it may be")) } else { Ok(count) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_at_and_refuse_past_their_limit() {
        // The bounds docs/exit-codes.md states.
        assert_eq!(MAX_DURATION, Duration::from_secs(2_592_000), "30 days");
        assert_eq!((MAX_REPS, MAX_ITERATIONS, MAX_RANKS), (10_000, 1_000_000, 1_000_000));
        assert_eq!((MAX_SEGMENTS, MAX_TRANSFERS), (1_000_000_000, 100_000_000));
        assert_eq!(duration("--timeout", MAX_DURATION), Ok(MAX_DURATION));
        let past = duration("--timeout", MAX_DURATION + Duration::from_nanos(1)).unwrap_err();
        assert_eq!(past, "--timeout: more than the 30 days a duration may be");
        assert_eq!(count("reps", MAX_REPS, MAX_REPS), Ok(MAX_REPS));
        assert_eq!(
            count("reps", 10_001, MAX_REPS).unwrap_err(),
            "reps 10001: more than 10000, the most it may be"
        );
    }
}
