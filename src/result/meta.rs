//! Parameters and results of `pvbench meta`: mdtest's phases, each one's aggregate rate per
//! iteration (mdtest's formula) and the latency of every operation of every rank.

use serde::{Deserialize, Serialize};

/// One phase of mdtest, in the order mdtest runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    DirCreate,
    DirStat,
    DirRemove,
    FileCreate,
    FileStat,
    FileRead,
    FileRemove,
}

impl Phase {
    pub const DIRS: [Phase; 3] = [Phase::DirCreate, Phase::DirStat, Phase::DirRemove];
    pub const FILES: [Phase; 4] = [Phase::FileCreate, Phase::FileStat, Phase::FileRead, Phase::FileRemove];

    /// The name in the document and in metric ids: `file_create`.
    pub fn id(self) -> &'static str {
        match self {
            Phase::DirCreate => "dir_create",
            Phase::DirStat => "dir_stat",
            Phase::DirRemove => "dir_remove",
            Phase::FileCreate => "file_create",
            Phase::FileStat => "file_stat",
            Phase::FileRead => "file_read",
            Phase::FileRemove => "file_remove",
        }
    }

    /// The operation's name in mdtest's summary.
    pub fn mdtest_name(self) -> &'static str {
        match self {
            Phase::DirCreate => "Directory creation",
            Phase::DirStat => "Directory stat",
            Phase::DirRemove => "Directory removal",
            Phase::FileCreate => "File creation",
            Phase::FileStat => "File stat",
            Phase::FileRead => "File read",
            Phase::FileRemove => "File removal",
        }
    }

    pub fn from_mdtest_name(name: &str) -> Option<Phase> {
        Phase::DIRS.into_iter().chain(Phase::FILES).find(|p| p.mdtest_name() == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaParameters {
    /// The test directory (a local path or `pvfs2:…`).
    pub dir: String,
    /// mdtest -n.
    pub items_per_rank: u64,
    pub iterations: u32,
    /// Each rank in its own directory (mdtest -u), or all in one.
    pub unique_dir: bool,
    /// Bytes written into each file when it is created (mdtest -w).
    pub write_bytes: u64,
    /// Bytes read from each file in the read phase (mdtest -e).
    pub read_bytes: u64,
    pub phases: Vec<Phase>,
    /// `posix` (system calls) or `mpi-io` (ROMIO, for `pvfs2:` paths).
    pub interface: String,
}

/// One iteration of one phase: every rank's items over the longest rank's time between the
/// barriers that fence the phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseIteration {
    pub seconds: f64,
    pub ops_per_s: f64,
}

/// Per-operation latency over every rank and iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub samples: u64,
    pub mean_s: f64,
    pub p50_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
}

impl Latency {
    /// Percentiles by nearest rank over `samples` (sorted here); `None` for no samples.
    pub fn of(mut samples: Vec<f64>) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let rank = |percent: f64| super::nearest_rank(&samples, percent);
        Some(Latency {
            samples: n as u64,
            mean_s: samples.iter().sum::<f64>() / n as f64,
            p50_s: rank(50.0),
            p99_s: rank(99.0),
            max_s: samples[n - 1],
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResult {
    pub phase: Phase,
    /// Operations of all ranks in one iteration.
    pub items: u64,
    pub iterations: Vec<PhaseIteration>,
    /// Over the iterations, as mdtest's SUMMARY rate: max, min, mean, sample sd (0 for one).
    pub max_ops_per_s: f64,
    pub min_ops_per_s: f64,
    pub mean_ops_per_s: f64,
    pub sd_ops_per_s: f64,
    /// Null for an imported summary, which has no operation's time.
    pub latency: Option<Latency>,
}

impl PhaseResult {
    /// `slowest_s[i]`: the longest rank's time of iteration `i`; `samples`: every operation's time.
    pub fn new(phase: Phase, items: u64, slowest_s: &[f64], samples: Vec<f64>) -> PhaseResult {
        let iterations: Vec<PhaseIteration> = slowest_s
            .iter()
            .map(|&seconds| PhaseIteration { seconds, ops_per_s: items as f64 / seconds })
            .collect();
        let rates: Vec<f64> = iterations.iter().map(|i| i.ops_per_s).collect();
        let n = rates.len().max(1) as f64;
        let mean = rates.iter().sum::<f64>() / n;
        let sd = if rates.len() > 1 {
            (rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        PhaseResult {
            phase,
            items,
            max_ops_per_s: rates.iter().copied().fold(0.0, f64::max),
            min_ops_per_s: rates.iter().copied().fold(f64::INFINITY, f64::min),
            mean_ops_per_s: mean,
            sd_ops_per_s: sd,
            iterations,
            latency: Latency::of(samples),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaResults {
    pub phases: Vec<PhaseResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_all_items_over_the_slowest_rank_and_summarised_as_mdtest_does() {
        let r = PhaseResult::new(Phase::FileCreate, 200, &[2.0, 4.0], vec![0.01; 400]);
        assert_eq!(r.iterations[0], PhaseIteration { seconds: 2.0, ops_per_s: 100.0 });
        assert_eq!((r.max_ops_per_s, r.min_ops_per_s, r.mean_ops_per_s), (100.0, 50.0, 75.0));
        assert!((r.sd_ops_per_s - 35.355_339).abs() < 1e-5, "{}", r.sd_ops_per_s);
        assert_eq!(PhaseResult::new(Phase::DirStat, 1, &[1.0], vec![1.0]).sd_ops_per_s, 0.0);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Latency::of((1..=100).rev().map(f64::from).collect()).unwrap();
        assert_eq!((l.samples, l.p50_s, l.p99_s, l.max_s, l.mean_s), (100, 50.0, 99.0, 100.0, 50.5));
        let one = Latency::of(vec![3.0]).unwrap();
        assert_eq!((one.p50_s, one.p99_s, one.max_s), (3.0, 3.0, 3.0));
        assert!(Latency::of(Vec::new()).is_none());
    }

    #[test]
    fn every_phase_has_its_mdtest_name() {
        for phase in Phase::DIRS.into_iter().chain(Phase::FILES) {
            assert_eq!(Phase::from_mdtest_name(phase.mdtest_name()), Some(phase));
        }
    }
}
