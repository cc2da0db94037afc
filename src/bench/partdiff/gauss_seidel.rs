//! Parallel Gauss-Seidel as a pipelined wavefront, in exactly the sequential order of updates.
//!
//! Rank r sweeps iteration k once it has rank r-1's last row of iteration k (the new values
//! above it); for its own last row it needs rank r+1's first row of iteration k-1 (the old
//! values below it), which rank r+1 sends as soon as it has computed that row. So rank r works
//! on iteration k while rank r+1 works on iteration k-1: all ranks compute at once.
//!
//! With TERM 1 the residuum of iteration k rides down the pipeline with the last rows (each
//! rank adds its own maximum), and the last rank, which then knows the global residuum, tells
//! every rank whether iteration k was the last. Ranks ahead do not wait for that answer: they
//! run on, each iteration writing into the next of `lead + 1` blocks (reading the previous
//! iteration's block, which gives the same values as partdiff's in-place sweep), so the results
//! of the last `lead` iterations stay intact. When the stop at iteration t is known, every rank
//! runs to exactly t + lead (so every message sent is received) and returns the block of
//! iteration t. The result equals one rank's, bit for bit, including the iteration count.

use std::ops::Range;

use mpi::topology::{Communicator, SimpleCommunicator};

use super::grid::{Block, Problem, Termination};
use super::{Solution, TO_HIGHER, TO_LOWER, kernels};
use crate::mpi::p2p::{Incoming, Outgoing};
use crate::mpi::{self as mpi_util};

/// The last rank's verdict on an iteration: `[stop (0 or 1), global residuum]`.
const DECISION: i32 = 3;

/// A rank's view of the TERM 1 verdicts: how far they are known, and the stop if it came.
struct Verdicts {
    incoming: Option<Incoming>,
    known_through: u64,
    stop: Option<(u64, f64)>,
}

impl Verdicts {
    fn take(&mut self, world: &SimpleCommunicator, last_rank: i32, message: Vec<f64>) {
        self.known_through += 1;
        if message[0] != 0.0 {
            self.stop = Some((self.known_through, message[1]));
        } else {
            self.incoming = Some(Incoming::start(world, last_rank, DECISION, message));
        }
    }

    /// Takes every verdict that has arrived, and waits for more until `through` is known.
    fn advance(&mut self, world: &SimpleCommunicator, last_rank: i32, through: u64) {
        while let Some(mut incoming) = self.incoming.take() {
            if self.known_through >= through && !incoming.is_done() {
                self.incoming = Some(incoming);
                break;
            }
            self.take(world, last_rank, incoming.finish());
        }
    }
}

/// The block holding the previous iteration and the block to write (the same one in place).
fn sweep_pair(ring: &mut [Block], read: usize, write: usize) -> (kernels::Previous<'_>, &mut Block) {
    match read.cmp(&write) {
        std::cmp::Ordering::Equal => (kernels::Previous::InPlace, &mut ring[write]),
        std::cmp::Ordering::Less => {
            let (head, tail) = ring.split_at_mut(write);
            (kernels::Previous::In(&head[read]), &mut tail[0])
        }
        std::cmp::Ordering::Greater => {
            let (head, tail) = ring.split_at_mut(read);
            (kernels::Previous::In(&tail[0]), &mut head[write])
        }
    }
}

/// How far past a stop ranks may run: the pipeline depth plus one iteration of slack (only
/// with TERM 1 on several ranks; otherwise every rank knows the stop in advance).
fn lead(ranks: usize, termination: Termination) -> u64 {
    if matches!(termination, Termination::Accuracy(_)) && ranks > 1 { ranks as u64 } else { 0 }
}

/// How many copies of its block each rank holds: lead + 1 (see `solve`).
pub fn blocks(ranks: usize, termination: Termination) -> usize {
    lead(ranks, termination) as usize + 1
}

/// One rank's part of the pipeline: its ring of blocks and the messages in flight.
struct Pipeline<'a> {
    world: &'a SimpleCommunicator,
    problem: &'a Problem,
    rank: i32,
    last_rank: i32,
    ring: Vec<Block>,
    from_lower: Option<Incoming>,
    from_higher: Option<Incoming>,
    to_lower: Option<Outgoing>,
    to_higher: Option<Outgoing>,
}

impl Pipeline<'_> {
    fn width(&self) -> usize {
        self.ring[0].width
    }

    fn message(&self) -> Vec<f64> {
        vec![0.0; self.width() + 1]
    }

    /// Sweeps `iteration` over this rank's rows, band by band, taking the rows it needs from
    /// its neighbours and passing its own on as soon as they are done. Returns the maximum
    /// residuum of this rank and every rank above it (0 unless `want_residuum`).
    fn sweep(&mut self, iteration: u64, want_residuum: bool) -> f64 {
        let (world, rank, width, len) = (self.world, self.rank, self.width(), self.ring[0].len);
        let buffers = self.ring.len();
        let (read, write) = ((iteration as usize - 1) % buffers, iteration as usize % buffers);
        let mut residuum = 0.0;
        if let Some(incoming) = self.from_lower.take() {
            // The new values above: the lower rank's last row of this iteration.
            let row = incoming.finish();
            self.ring[write].row_mut(0).copy_from_slice(&row[..width]);
            residuum = row[width];
            self.from_lower = Some(Incoming::start(world, rank - 1, TO_HIGHER, row));
        }
        let mut band_start = 1;
        while band_start <= len {
            let band = band_start..(band_start + kernels::BAND_ROWS).min(len + 1);
            if band.end == len + 1 && iteration >= 2 {
                // The old values below: the higher rank's first row of the previous iteration.
                if let Some(incoming) = self.from_higher.take() {
                    let row = incoming.finish();
                    self.ring[read].row_mut(len + 1).copy_from_slice(&row[..width]);
                    self.from_higher = Some(Incoming::start(world, rank + 1, TO_LOWER, row));
                }
            }
            let (previous, block) = sweep_pair(&mut self.ring, read, write);
            let r = kernels::gauss_seidel_rows(self.problem, previous, block, band.clone(), want_residuum);
            residuum = if r < residuum { residuum } else { r };
            if band.start == 1 && rank > 0 {
                let mut row = self.to_lower.take().map_or_else(|| self.message(), Outgoing::finish);
                row[..width].copy_from_slice(self.ring[write].row(1));
                self.to_lower = Some(Outgoing::start(world, rank - 1, TO_LOWER, row));
            }
            band_start = band.end;
        }
        if rank < self.last_rank {
            let mut row = self.to_higher.take().map_or_else(|| self.message(), Outgoing::finish);
            row[..width].copy_from_slice(self.ring[write].row(len));
            row[width] = residuum;
            self.to_higher = Some(Outgoing::start(world, rank + 1, TO_HIGHER, row));
        }
        residuum
    }

    /// Every message sent is received: the higher rank's first row of the final iteration is
    /// still on its way, the receive posted for the lower rank's next row has no sender.
    fn drain(&mut self) {
        if let Some(incoming) = self.from_higher.take() {
            incoming.finish();
        }
        if let Some(incoming) = self.from_lower.take() {
            incoming.cancel();
        }
        self.to_lower.take().map(Outgoing::finish);
        self.to_higher.take().map(Outgoing::finish);
    }
}

/// TERM 1: the last rank decides on every iteration and tells the others; the others learn
/// the verdicts as they come, never later than the ring allows. Returns the stop if known.
fn decide(
    pipeline: &Pipeline,
    verdicts: &mut Verdicts,
    verdicts_out: &mut Vec<Outgoing>,
    iteration: u64,
    residuum: f64,
    eps: f64,
    lead: u64,
) -> Option<(u64, f64)> {
    let (world, last_rank) = (pipeline.world, pipeline.last_rank);
    if pipeline.rank == last_rank && verdicts.stop.is_none() {
        let stop = residuum < eps;
        verdicts_out.retain_mut(|sent| !sent.is_done());
        for other in 0..last_rank {
            let verdict = vec![f64::from(u8::from(stop)), residuum];
            verdicts_out.push(Outgoing::start(world, other, DECISION, verdict));
        }
        verdicts.known_through = iteration;
        if stop {
            verdicts.stop = Some((iteration, residuum));
        }
    } else if verdicts.stop.is_none() {
        // The next iteration overwrites the result of iteration (this - lead): by then the
        // verdict on it must be in.
        verdicts.advance(world, last_rank, iteration.saturating_sub(lead));
    }
    verdicts.stop
}

pub fn solve(
    world: &SimpleCommunicator,
    problem: &Problem,
    rows: Range<usize>,
    termination: Termination,
) -> Solution {
    let (ranks, rank) = (world.size(), world.rank());
    let last_rank = ranks - 1;
    let first = Block::initial(problem, rows);
    let message = vec![0.0; first.width + 1];
    let lead = lead(ranks as usize, termination);
    // Iteration k reads block (k-1) % n and writes block k % n. With one block that is
    // partdiff's in-place sweep; with lead+1 blocks the result of each of the last lead
    // iterations stays intact, ready for a rollback, without copying anything.
    let buffers = blocks(ranks as usize, termination);
    let mut pipeline = Pipeline {
        world,
        problem,
        rank,
        last_rank,
        ring: vec![first; buffers],
        from_lower: (rank > 0).then(|| Incoming::start(world, rank - 1, TO_HIGHER, message.clone())),
        from_higher: (rank < last_rank).then(|| Incoming::start(world, rank + 1, TO_LOWER, message.clone())),
        to_lower: None,
        to_higher: None,
    };
    let mut verdicts_out: Vec<Outgoing> = Vec::new();
    let mut verdicts = Verdicts {
        incoming: (lead > 0 && rank != last_rank)
            .then(|| Incoming::start(world, last_rank, DECISION, vec![0.0; 2])),
        known_through: 0,
        stop: None,
    };
    let mut final_iteration = match termination {
        Termination::Iterations(n) => Some(n),
        Termination::Accuracy(_) => None,
    };
    let mut last_residuum = 0.0;
    let mut iteration = 0u64;
    loop {
        crate::interrupt::exit_if_received();
        iteration += 1;
        let want_residuum =
            matches!(termination, Termination::Accuracy(_)) || final_iteration == Some(iteration);
        let residuum = pipeline.sweep(iteration, want_residuum);
        if let Termination::Accuracy(eps) = termination {
            let stop = decide(&pipeline, &mut verdicts, &mut verdicts_out, iteration, residuum, eps, lead);
            if let Some((stop, _)) = stop {
                final_iteration = Some(stop + lead);
            }
        } else if final_iteration == Some(iteration) {
            last_residuum = residuum;
        }
        if final_iteration == Some(iteration) {
            break;
        }
    }
    pipeline.drain();
    verdicts_out.into_iter().for_each(|sent| drop(sent.finish()));

    let memory_bytes = pipeline.ring.iter().map(|b| b.data.len() as u64 * 8).sum();
    let (iterations, residuum) = match verdicts.stop {
        Some((stop, residuum)) => (stop, residuum),
        None => {
            let global =
                if ranks > 1 { mpi_util::all_reduce_max(world, last_residuum) } else { last_residuum };
            (iteration, global)
        }
    };
    // The result of the last iteration that counts (the stop), untouched by the ones after it.
    let block = pipeline.ring.swap_remove(iterations as usize % buffers);
    Solution { block, iterations, residuum, memory_bytes }
}
