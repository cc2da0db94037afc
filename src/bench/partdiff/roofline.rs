//! `pvbench partdiff --roofline` (hidden; for scripts/bench-partdiff): how close the solve came
//! to the bandwidth limit of the memory level its matrices fit in, measured on the same ranks
//! right after it. A sweep at that limit reads each value once and writes it once, the
//! neighbours coming from L1: 16 bytes per lattice update. The probe streams buffers of the
//! same size in the same pattern (Jacobi: one matrix into the other; Gauss-Seidel: one matrix in
//! place) on every rank at once, and keeps each rank's best of several timed stretches.

use std::time::{Duration, Instant};

use mpi::topology::SimpleCommunicator;

use super::grid::Method;
use super::kernels;
use crate::env::cpu::CacheLevel;
use crate::mpi::{self as mpi_util};

/// Bytes a lattice update moves at best: the old value read once, the new one written once.
const BYTES_PER_UPDATE: f64 = 16.0;
/// Timed stretches per rank, and the least time each runs.
const STRETCHES: usize = 7;
const STRETCH: Duration = Duration::from_millis(20);

/// The bandwidth figures of one run, on every rank.
pub struct Roofline {
    /// Bytes of matrices one rank sweeps (rank 0's).
    working_set: u64,
    /// Where that fits: `L1`, `L2`, `L3` or `memory`.
    level: String,
    /// Each rank's best streaming rate, bytes per second.
    rates: Vec<f64>,
}

/// Runs the probe on every rank at once (collective) for `matrix_bytes` per matrix.
pub fn measure(
    world: &SimpleCommunicator,
    method: Method,
    matrix_bytes: u64,
    ranks_on_host: u32,
) -> Roofline {
    let matrices = if method == Method::Jacobi { 2 } else { 1 };
    let working_set = matrices * matrix_bytes;
    let caches = crate::env::cpu::data_caches(&crate::env::Live);
    mpi_util::barrier(world);
    let rate = stream_rate(method, (matrix_bytes / 8) as usize);
    Roofline {
        working_set,
        level: level(&caches, working_set, ranks_on_host),
        rates: mpi_util::all_gather(world, &[rate]),
    }
}

/// The innermost cache that holds `bytes` per rank (a shared cache holds every sharing rank's).
fn level(caches: &[CacheLevel], bytes: u64, ranks_on_host: u32) -> String {
    caches
        .iter()
        .find(|c| bytes * u64::from(c.shared_by.min(ranks_on_host).max(1)) <= c.bytes)
        .map_or_else(|| "memory".to_string(), |c| format!("L{}", c.level))
}

/// Bytes per second this rank streams through `values` doubles per matrix, as the sweep does.
fn stream_rate(method: Method, values: usize) -> f64 {
    let mut a = vec![1.0; values];
    let mut b = if method == Method::Jacobi { vec![1.0; values] } else { Vec::new() };
    let mut pass = || match method {
        Method::Jacobi => {
            kernels::stream(Some(&a), &mut b);
            std::mem::swap(&mut a, &mut b);
        }
        Method::GaussSeidel => kernels::stream(None, &mut a),
    };
    pass();
    let bytes_per_pass = values as f64 * BYTES_PER_UPDATE;
    let mut best: f64 = 0.0;
    for _ in 0..STRETCHES {
        let start = Instant::now();
        let mut passes = 0u64;
        while start.elapsed() < STRETCH {
            pass();
            passes += 1;
        }
        best = best.max(passes as f64 * bytes_per_pass / start.elapsed().as_secs_f64());
    }
    best
}

impl Roofline {
    /// One line: where the matrices fit, the measured rate, the limit it sets and how much of
    /// it `mlup_per_s` (the run's rate, all ranks) is.
    pub fn line(&self, mlup_per_s: f64) -> String {
        let per_rank = self.rates.iter().sum::<f64>() / self.rates.len() as f64;
        let limit = self.rates.iter().sum::<f64>() / BYTES_PER_UPDATE / 1e6;
        format!(
            "Roofline:               {} per rank in {}, streamed at {:.1} GB/s per rank: limit {:.0} MLUP/s at {} B per update; reached {:.0} MLUP/s ({:.0} %)\n",
            crate::report::size(self.working_set),
            self.level,
            per_rank / 1e9,
            limit,
            BYTES_PER_UPDATE,
            mlup_per_s,
            100.0 * mlup_per_s / limit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_cache_holds_every_sharing_ranks_matrices() {
        let caches = [
            CacheLevel { level: 1, bytes: 48 << 10, shared_by: 1 },
            CacheLevel { level: 2, bytes: 1 << 20, shared_by: 1 },
            CacheLevel { level: 3, bytes: 32 << 20, shared_by: 2 },
        ];
        assert_eq!(level(&caches, 40 << 10, 2), "L1");
        assert_eq!(level(&caches, 10 << 20, 1), "L3");
        assert_eq!(level(&caches, 10 << 20, 2), "L3");
        assert_eq!(level(&caches, 20 << 20, 2), "memory", "two ranks' 20 MiB do not fit in 32 MiB");
        assert_eq!(level(&[], 1, 1), "memory");
    }
}
