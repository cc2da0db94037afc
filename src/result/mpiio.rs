//! Parameters and results of `pvbench mpiio`, the two bandwidth conventions computed from
//! per-rank timings, and the operation rate and latency percentiles of small transfers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const MB: f64 = 1e6;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Write,
    Read,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Write => "write",
            Phase::Read => "read",
        }
    }
}

/// In which order each rank issues its transfers of an iteration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Ascending file offsets (IOR's default).
    #[default]
    Sequential,
    /// The same transfers, shuffled by a seed (IOR's `-z`).
    Random,
}

impl Order {
    pub fn name(self) -> &'static str {
        match self {
            Order::Sequential => "sequential",
            Order::Random => "random",
        }
    }

    fn is_sequential(&self) -> bool {
        *self == Order::Sequential
    }
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hint {
    pub key: String,
    pub value: String,
}

/// The parsed, validated parameters of one run, exactly as used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MpiioParameters {
    /// As given to MPI_File_open (ROMIO prefix included); with `file_per_process`, the base.
    pub file: String,
    /// Bytes of one rank's block in one segment.
    pub block_size_bytes: u64,
    pub transfer_size_bytes: u64,
    /// IOR's segments: each iteration holds this many stripe sets of every rank's block.
    /// Left out when 1, so a run without the small-I/O options reads as before.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Order::is_sequential")]
    pub order: Order,
    /// The seed of `order = random`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Where the first block starts in the file (fio's `offset`), so transfers can sit off
    /// the file system's block boundaries.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset_bytes: u64,
    pub iterations: u32,
    pub collective: bool,
    /// Hints requested with `--hint`; the ones in effect are in the results.
    pub hints: Vec<Hint>,
    pub sync: bool,
    pub verify: bool,
    pub keep: bool,
    pub phases: Vec<Phase>,
    pub file_per_process: bool,
    pub reorder_read: bool,
    pub pvfs2tab: Option<String>,
}

impl MpiioParameters {
    /// Bytes one rank moves in one iteration: its block in every segment.
    pub fn bytes_per_rank_and_iteration(&self) -> u64 {
        self.block_size_bytes * u64::from(self.segments)
    }

    /// Whether the run asked for the small-I/O layout or order (segments, random order, an
    /// offset): only then does the table show the operations, so that the output of a run
    /// without them stays as it was.
    pub fn small_io(&self) -> bool {
        self.segments > 1 || self.order == Order::Random || self.offset_bytes > 0
    }
}

/// One rank's clock marks for one iteration of one phase. Times are seconds relative to a
/// common epoch (a barrier at start-up), so ranks' marks can be compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankTiming {
    pub rank: u32,
    /// Whose block this rank wrote or read: itself, or with `reorder_read` its neighbour's.
    pub block_of_rank: u32,
    pub open_start_s: f64,
    pub open_s: f64,
    /// Sum of the durations of the read or write calls only.
    pub transfer_s: f64,
    pub sync_s: f64,
    pub close_s: f64,
    pub close_end_s: f64,
    /// Time between open and close spent outside I/O: agreeing on the open's outcome, and
    /// pattern work between chunks, each fenced by barriers so it is the slowest rank's and the
    /// same on every rank; subtracted from the elapsed time so it never counts as I/O.
    pub excluded_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IterationResult {
    pub iteration: u32,
    pub bytes: u64,
    /// Last close end minus first open start, less the rank's pattern time (IOR's convention).
    pub elapsed_s: f64,
    pub bandwidth_mib_per_s: f64,
    pub ranks: Vec<RankTiming>,
}

/// IOR's convention: bandwidth of each iteration = bytes / (last close end - first open
/// start), in MiB/s; statistics over iterations with the population standard deviation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IorSummary {
    pub max_mib_per_s: f64,
    pub min_mib_per_s: f64,
    pub mean_mib_per_s: f64,
    pub stddev_mib_per_s: f64,
    pub mean_elapsed_s: f64,
}

/// mpi-io-test's convention: each rank sums its transfer (+ sync) times over all iterations;
/// bandwidth = all bytes / the largest such sum, in MB/s (10^6). Statistics are over ranks,
/// the variance with n - 1 (0 for one rank), exactly as mpi-io-test prints them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MpiIoTestSummary {
    pub bandwidth_mb_per_s: f64,
    /// Null where only the bandwidth is known (the study's Table 3.3).
    pub min_time_s: Option<f64>,
    pub max_time_s: Option<f64>,
    pub mean_time_s: Option<f64>,
    pub var_time_s2: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResult {
    pub phase: Phase,
    pub bytes: u64,
    /// Null for an imported mpi-io-test output (it prints no per-iteration times).
    pub ior: Option<IorSummary>,
    /// Null for an imported IOR output (it prints no per-rank transfer times).
    pub mpi_io_test: Option<MpiIoTestSummary>,
    pub iterations: Vec<IterationResult>,
    /// Null where each rank moved its data of an iteration in one transfer (an operation
    /// rate of such a run says nothing the bandwidth does not), and for imported documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Operations>,
}

/// The phase as operations: IOPS in IOR's convention (per iteration, transfers of all ranks /
/// the iteration's elapsed time; max, min, mean, population stddev over iterations) and the
/// latency of single transfer calls over every rank's every transfer (nearest-rank percentiles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operations {
    /// Transfers of all ranks in all iterations: the number of latency samples.
    pub count: u64,
    pub transfer_size_bytes: u64,
    pub max_iops: f64,
    pub min_iops: f64,
    pub mean_iops: f64,
    pub stddev_iops: f64,
    pub latency_p50_us: f64,
    pub latency_p99_us: f64,
    pub latency_max_us: f64,
}

impl Operations {
    /// From the phase's iterations and every transfer call's duration in seconds (all ranks).
    pub fn from_samples(
        transfer_size_bytes: u64,
        iterations: &[IterationResult],
        mut latencies_s: Vec<f64>,
    ) -> Self {
        let per_iteration = latencies_s.len() as f64 / iterations.len().max(1) as f64;
        let iops: Vec<f64> = iterations.iter().map(|i| per_iteration / i.elapsed_s).collect();
        let mean_iops = mean(&iops);
        latencies_s.sort_unstable_by(f64::total_cmp);
        let us = |p: f64| super::nearest_rank(&latencies_s, p) * 1e6;
        Operations {
            count: latencies_s.len() as u64,
            transfer_size_bytes,
            max_iops: fold(&iops, f64::max),
            min_iops: fold(&iops, f64::min),
            mean_iops,
            stddev_iops: mean(&iops.iter().map(|x| (x - mean_iops).powi(2)).collect::<Vec<_>>()).sqrt(),
            latency_p50_us: us(50.0),
            latency_p99_us: us(99.0),
            latency_max_us: us(100.0),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verification {
    pub performed: bool,
    pub bytes_checked: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MpiioResults {
    /// `MPI_File_get_info` on rank 0 after its first open.
    pub hints_in_effect: BTreeMap<String, String>,
    pub phases: Vec<PhaseResult>,
    /// Free space of the file system before the run (old test files counted as free), checked
    /// against the write phase; `None` where it cannot be known (a `pvfs2:` path through ROMIO).
    pub free_space_bytes: Option<u64>,
    pub verification: Verification,
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

fn fold(values: &[f64], f: fn(f64, f64) -> f64) -> f64 {
    values.iter().copied().reduce(f).unwrap_or(0.0)
}

impl PhaseResult {
    /// Summarises `timings[iteration][rank]`; every rank moved `block_bytes` per iteration.
    pub fn from_timings(phase: Phase, block_bytes: u64, timings: Vec<Vec<RankTiming>>) -> Self {
        let iterations: Vec<IterationResult> = timings
            .into_iter()
            .enumerate()
            .map(|(iteration, ranks)| {
                let bytes = block_bytes * ranks.len() as u64;
                let first_open = fold(&ranks.iter().map(|r| r.open_start_s).collect::<Vec<_>>(), f64::min);
                let last_close =
                    fold(&ranks.iter().map(|r| r.close_end_s - r.excluded_s).collect::<Vec<_>>(), f64::max);
                let elapsed_s = last_close - first_open;
                IterationResult {
                    iteration: iteration as u32,
                    bytes,
                    elapsed_s,
                    bandwidth_mib_per_s: bytes as f64 / MIB / elapsed_s,
                    ranks,
                }
            })
            .collect();
        let bandwidths: Vec<f64> = iterations.iter().map(|i| i.bandwidth_mib_per_s).collect();
        let mean_bw = mean(&bandwidths);
        let ior = IorSummary {
            max_mib_per_s: fold(&bandwidths, f64::max),
            min_mib_per_s: fold(&bandwidths, f64::min),
            mean_mib_per_s: mean_bw,
            stddev_mib_per_s: mean(&bandwidths.iter().map(|b| (b - mean_bw).powi(2)).collect::<Vec<_>>())
                .sqrt(),
            mean_elapsed_s: mean(&iterations.iter().map(|i| i.elapsed_s).collect::<Vec<_>>()),
        };

        let rank_count = iterations.first().map_or(0, |i| i.ranks.len());
        let per_rank_time: Vec<f64> = (0..rank_count)
            .map(|r| iterations.iter().map(|i| i.ranks[r].transfer_s + i.ranks[r].sync_s).sum())
            .collect();
        let bytes: u64 = iterations.iter().map(|i| i.bytes).sum();
        let mean_time = mean(&per_rank_time);
        let max_time = fold(&per_rank_time, f64::max);
        let mpi_io_test = MpiIoTestSummary {
            bandwidth_mb_per_s: bytes as f64 / MB / max_time,
            min_time_s: Some(fold(&per_rank_time, f64::min)),
            max_time_s: Some(max_time),
            mean_time_s: Some(mean_time),
            var_time_s2: Some(if rank_count > 1 {
                per_rank_time.iter().map(|t| (t - mean_time).powi(2)).sum::<f64>() / (rank_count - 1) as f64
            } else {
                0.0
            }),
        };
        PhaseResult {
            phase,
            bytes,
            ior: Some(ior),
            mpi_io_test: Some(mpi_io_test),
            iterations,
            operations: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(rank: u32, open_start_s: f64, transfer_s: f64, close_end_s: f64, excluded_s: f64) -> RankTiming {
        RankTiming { rank, open_start_s, transfer_s, close_end_s, excluded_s, ..Default::default() }
    }

    #[test]
    fn both_conventions_from_known_timings() {
        let mib = 1 << 20;
        // Two iterations, two ranks, 1 MiB per rank per iteration.
        let timings = vec![
            vec![rank(0, 0.0, 0.5, 1.0, 0.0), rank(1, 0.1, 1.0, 2.0, 0.0)],
            vec![rank(0, 3.0, 0.5, 4.0, 0.0), rank(1, 3.0, 0.5, 4.5, 0.5)],
        ];
        let phase = PhaseResult::from_timings(Phase::Write, mib, timings);
        assert_eq!(phase.bytes, 4 * mib);
        // IOR: 2 MiB in 2.0 s, then 2 MiB in 1.0 s (4.5 - 0.5 excluded - 3.0).
        assert_eq!(phase.iterations[0].bandwidth_mib_per_s, 1.0);
        assert_eq!(phase.iterations[1].bandwidth_mib_per_s, 2.0);
        assert_eq!(phase.ior.as_ref().unwrap().mean_mib_per_s, 1.5);
        assert_eq!(phase.ior.as_ref().unwrap().stddev_mib_per_s, 0.5);
        assert_eq!(
            (phase.ior.as_ref().unwrap().min_mib_per_s, phase.ior.as_ref().unwrap().max_mib_per_s),
            (1.0, 2.0)
        );
        // mpi-io-test: rank sums 1.0 and 1.5 s; 4 MiB / 1.5 s in MB/s.
        let m = phase.mpi_io_test.as_ref().unwrap();
        assert_eq!((m.min_time_s, m.max_time_s, m.mean_time_s), (Some(1.0), Some(1.5), Some(1.25)));
        assert_eq!(m.var_time_s2, Some(0.125));
        assert!((m.bandwidth_mb_per_s - 4.0 * mib as f64 / 1e6 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn operations_are_per_iteration_rates_and_nearest_rank_percentiles() {
        // Two iterations of 1 and 2 s, 100 transfers each (all ranks): 100 and 50 IOPS.
        let timings = vec![vec![rank(0, 0.0, 0.5, 1.0, 0.0)], vec![rank(0, 2.0, 0.5, 4.0, 0.0)]];
        let phase = PhaseResult::from_timings(Phase::Write, 4096, timings);
        let latencies: Vec<f64> = (1..=200).rev().map(|us| f64::from(us) * 1e-6).collect();
        let ops = Operations::from_samples(4096, &phase.iterations, latencies);
        assert_eq!(ops.count, 200);
        assert_eq!((ops.max_iops, ops.min_iops, ops.mean_iops, ops.stddev_iops), (100.0, 50.0, 75.0, 25.0));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(ops.latency_p50_us, 100.0), "{}", ops.latency_p50_us);
        assert!(close(ops.latency_p99_us, 198.0), "{}", ops.latency_p99_us);
        assert!(close(ops.latency_max_us, 200.0), "{}", ops.latency_max_us);
        assert_eq!(super::super::nearest_rank(&[7.0], 50.0), 7.0);
        assert_eq!(super::super::nearest_rank(&[1.0, 2.0], 50.0), 1.0);
        assert_eq!(super::super::nearest_rank(&[1.0, 2.0], 99.0), 2.0);
    }

    #[test]
    fn one_rank_has_zero_variance() {
        let phase = PhaseResult::from_timings(Phase::Read, 10, vec![vec![rank(0, 0.0, 1.0, 1.0, 0.0)]]);
        assert_eq!(phase.mpi_io_test.unwrap().var_time_s2, Some(0.0));
        assert_eq!(phase.ior.as_ref().unwrap().stddev_mib_per_s, 0.0);
    }
}
