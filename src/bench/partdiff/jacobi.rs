//! Parallel Jacobi with temporal blocking: when the number of iterations is known, a rank runs
//! several iterations per round as a wavefront over its rows (iteration t one row behind
//! iteration t-1), so only a band of a few rows per matrix is live at a time and stays in the
//! L2 cache instead of both matrices being streamed from L3 or memory every iteration. A round
//! of R iterations starts with R halo rows from each neighbour; the rows next to the border
//! are computed redundantly (a trapezoid shrinking by one row per iteration), so ranks talk
//! once per round. With TERM 1 a round is one iteration. Each point sees the same inputs as
//! on one rank, so the result is the same bit for bit on any rank count.

use std::ops::Range;

use mpi::topology::{Communicator, SimpleCommunicator};

use super::grid::{Block, Problem, Termination};
use super::{Solution, TO_HIGHER, TO_LOWER, kernels};
use crate::mpi::p2p::{Incoming, Outgoing};
use crate::mpi::{self as mpi_util};

/// Jacobi reads one matrix and writes the other.
pub const BLOCKS: usize = 2;

/// Iterations per round when their number is known: the wavefront then keeps about this many
/// rows of each matrix live (16 rows of 6.5 KB each for the study's grid: well inside L2).
const ROUND: usize = 16;

/// The longest round on `ranks` ranks: a neighbour must hold every halo row a round needs.
pub fn depth(problem: &Problem, ranks: usize, termination: Termination) -> usize {
    match termination {
        Termination::Iterations(_) => ROUND.min(problem.interior_rows() / ranks),
        Termination::Accuracy(_) => 1,
    }
}

/// The rows a rank stores: its own and up to `depth` halo rows of each neighbour.
pub fn stored_rows(problem: &Problem, rows: &Range<usize>, depth: usize) -> Range<usize> {
    rows.start.saturating_sub(depth).max(1)..(rows.end + depth).min(problem.n)
}

/// Where a rank's own rows lie in its stored block, and whether it has neighbours.
#[derive(Clone, Copy)]
struct Own {
    /// Local index (in the stored block) of the first own row.
    first: usize,
    len: usize,
    lower: Option<i32>,
    higher: Option<i32>,
}

impl Own {
    /// The rows iteration `t` (1-based) of a round of `r` computes: the own rows and, towards
    /// each neighbour, `r - t` rows more (those the later iterations of the round still read).
    fn rows(&self, r: usize, t: usize) -> Range<usize> {
        let extra = r - t;
        let start = if self.lower.is_some() { self.first - extra } else { self.first };
        let end = self.first + self.len + if self.higher.is_some() { extra } else { 0 };
        start..end
    }
}

/// Sends the `r` own rows at each border to that neighbour and puts the `r` rows it sends
/// into the halo. `spare` holds the message buffers between rounds.
fn exchange_halos(
    world: &SimpleCommunicator,
    block: &mut Block,
    own: Own,
    r: usize,
    spare: &mut Vec<Vec<f64>>,
) {
    let width = block.width;
    let mut sends = Vec::new();
    let mut receives = Vec::new();
    for (neighbour, own_start, halo_start, tag_out, tag_in) in [
        (own.lower, own.first, own.first - r, TO_LOWER, TO_HIGHER),
        (own.higher, own.first + own.len - r, own.first + own.len, TO_HIGHER, TO_LOWER),
    ] {
        let Some(neighbour) = neighbour else { continue };
        let mut out = spare.pop().unwrap_or_default();
        out.clear();
        out.extend_from_slice(&block.data[own_start * width..(own_start + r) * width]);
        sends.push(Outgoing::start(world, neighbour, tag_out, out));
        let mut into = spare.pop().unwrap_or_default();
        into.resize(r * width, 0.0);
        receives.push((halo_start, Incoming::start(world, neighbour, tag_in, into)));
    }
    for (halo_start, incoming) in receives {
        let rows = incoming.finish();
        block.data[halo_start * width..(halo_start + r) * width].copy_from_slice(&rows);
        spare.push(rows);
    }
    spare.extend(sends.into_iter().map(Outgoing::finish));
}

/// Runs `r` iterations from `a` as a wavefront: at step s, iteration t updates row s - t + 1.
/// Iteration t reads the block iteration t-1 wrote (`a` for odd t) and writes the other one;
/// a row it overwrites (iteration t-2's) was last needed by iteration t-1 for the row below,
/// which is done one step earlier. Returns the residuum of the last iteration's own rows (0
/// unless `residuum`); the result is in `b` when `r` is odd, else in `a`.
fn round(problem: &Problem, a: &mut Block, b: &mut Block, own: Own, r: usize, residuum: bool) -> f64 {
    let first_step = own.rows(r, 1).start;
    let last_step = own.rows(r, 1).end - 1 + (r - 1);
    let mut max = 0.0;
    for step in first_step..=last_step {
        for t in 1..=r {
            let Some(row) = (step + 1).checked_sub(t) else { break };
            if !own.rows(r, t).contains(&row) {
                continue;
            }
            let (from, to) = if t % 2 == 1 { (&*a, &mut *b) } else { (&*b, &mut *a) };
            let with_residuum = residuum && t == r;
            let res = kernels::jacobi_rows(problem, from, to, row..row + 1, with_residuum);
            max = if res < max { max } else { res };
        }
    }
    max
}

pub fn solve(
    world: &SimpleCommunicator,
    problem: &Problem,
    rows: Range<usize>,
    termination: Termination,
) -> Solution {
    let (ranks, rank) = (world.size(), world.rank());
    let depth = depth(problem, ranks as usize, termination);
    let stored = stored_rows(problem, &rows, depth);
    let own = Own {
        first: rows.start - stored.start + 1,
        len: rows.len(),
        lower: (rank > 0).then(|| rank - 1),
        higher: (rank + 1 < ranks).then(|| rank + 1),
    };
    let mut old = Block::initial(problem, stored);
    let mut new = old.clone();
    let mut spare: Vec<Vec<f64>> = Vec::new();

    let mut iteration = 0u64;
    let residuum = loop {
        crate::interrupt::exit_if_received();
        let r = match termination {
            Termination::Iterations(n) => (depth as u64).min(n - iteration) as usize,
            Termination::Accuracy(_) => 1,
        };
        iteration += r as u64;
        let last = matches!(termination, Termination::Iterations(n) if iteration == n);
        let want_residuum = last || matches!(termination, Termination::Accuracy(_));
        exchange_halos(world, &mut old, own, r, &mut spare);
        let local = round(problem, &mut old, &mut new, own, r, want_residuum);
        if r % 2 == 1 {
            std::mem::swap(&mut old, &mut new);
        }
        if want_residuum {
            let global = if ranks > 1 { mpi_util::all_reduce_max(world, local) } else { local };
            match termination {
                Termination::Accuracy(eps) if global < eps => break global,
                _ if last => break global,
                _ => {}
            }
        }
    };
    let memory_bytes = (BLOCKS * old.data.len() * 8) as u64;
    // The own rows with the row above and below (the boundary rows on the outer ranks).
    let width = old.width;
    let data = old.data[(own.first - 1) * width..(own.first + own.len + 1) * width].to_vec();
    let block = Block { width, first: rows.start, len: own.len, data };
    Solution { block, iterations: iteration, residuum, memory_bytes }
}
