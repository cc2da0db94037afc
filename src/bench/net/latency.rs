//! `--test latency`: osu_latency for every pair, one pair at a time while the other ranks wait
//! asleep: message sizes 0 B and 1 B to 64 KiB in powers of two, osu_latency's warm-up (100
//! round trips, 10 above 8 KiB) and its figure (the timed loop / 2 × iterations), with each
//! round trip's half kept for percentiles.

use mpi::topology::Communicator;

use super::histogram::Recorder;
use super::schedule::Pair;
use crate::buffer::AlignedBuffer;
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::result::net::LatencyPoint;

/// osu_latency's LARGE_MESSAGE_SIZE: above it, fewer iterations and a shorter warm-up.
const LARGE: usize = 8192;
const LARGEST: usize = 64 << 10;

/// 0 B, then 1 B to 64 KiB, doubling.
pub fn sizes() -> impl Iterator<Item = usize> {
    std::iter::once(0).chain((0..=LARGEST.trailing_zeros()).map(|shift| 1 << shift))
}

/// Untimed and timed round trips of one size, `iterations` being those of the small sizes.
fn rounds(size: usize, iterations: u32) -> (u32, u32) {
    if size > LARGE { (10, (iterations / 10).max(1)) } else { (100, iterations) }
}

/// Every pair's points, on rank 0 (empty on the others).
pub fn run(
    session: &Session,
    pairs: &[Pair],
    iterations: u32,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<Vec<LatencyPoint>>> {
    let world = session.world();
    let me = world.rank() as u32;
    let hosts = session.hosts();
    // Page-aligned as osu_latency's: a heap Vec starts 16 bytes past a page, and copies
    // between such buffers run slower on this EPYC (see crate::buffer).
    let (Some(mut message), Some(mut reply)) =
        (AlignedBuffer::zeroed(LARGEST), AlignedBuffer::zeroed(LARGEST))
    else {
        anyhow::bail!("out of memory for two ping-pong buffers of {LARGEST} bytes");
    };
    let mut all = Vec::new();
    for &(s, r) in pairs {
        let mut points = Vec::new();
        for size in sizes() {
            let (skip, timed) = rounds(size, iterations);
            mpi_util::barrier_sleeping(world);
            if me != s && me != r {
                continue;
            }
            watchdog::enter(Stage {
                part: format!(
                    "pair {s}→{r} ({} → {}), latency of {size} B",
                    hosts[s as usize], hosts[r as usize]
                )
                .into(),
                iteration: None,
                call: Some("the MPI ping-pong"),
                item: None,
            });
            watchdog::progress();
            let mut halves = Recorder::default();
            let elapsed_s = crate::mpi::pingpong::ping_pong(
                world,
                (s as i32, r as i32),
                &mut message[..size],
                &mut reply[..size],
                skip,
                timed,
                |ns| halves.record(ns),
            );
            watchdog::disarm();
            if me == s {
                let one_way = halves.histogram().percentiles(0.5).expect("at least one timed round trip");
                points.push(LatencyPoint {
                    size_bytes: size as u64,
                    iterations: timed,
                    skipped: skip,
                    latency_us: elapsed_s * 1e6 / (2.0 * f64::from(timed)),
                    one_way,
                });
            }
        }
        let gathered = mpi_util::all_gather_strings(world, &serde_json::to_string(&points)?);
        if session.is_root() {
            all.push(serde_json::from_str(&gathered[s as usize])?);
        }
        progress.inc(1);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rounds_are_osu_latencys() {
        let sizes: Vec<usize> = sizes().collect();
        assert_eq!(sizes.len(), 18);
        assert_eq!((sizes[0], sizes[1], sizes[17]), (0, 1, 65536));
        assert_eq!(rounds(8192, 10_000), (100, 10_000));
        assert_eq!(rounds(16384, 10_000), (10, 1000));
        assert_eq!(rounds(16384, 5), (10, 1));
    }
}
