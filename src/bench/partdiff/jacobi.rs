//! Parallel Jacobi: every rank sweeps its rows from the old matrix into the new one. Halo rows
//! travel while the rows that do not need them are computed; the residuum is reduced only in
//! the iterations that need it. Each point sees the same inputs as on one rank, so the result
//! is the same bit for bit on any rank count.

use std::ops::Range;

use mpi::topology::{Communicator, SimpleCommunicator};

use super::grid::{Block, Problem, Termination};
use super::{Solution, TO_HIGHER, TO_LOWER, kernels};
use crate::mpi::p2p::{Incoming, Outgoing};
use crate::mpi::{self as mpi_util};

/// Jacobi reads one matrix and writes the other.
pub const BLOCKS: usize = 2;

pub fn solve(
    world: &SimpleCommunicator,
    problem: &Problem,
    rows: Range<usize>,
    termination: Termination,
) -> Solution {
    let (ranks, rank) = (world.size(), world.rank());
    let mut old = Block::initial(problem, rows);
    let mut new = old.clone();
    let (len, width) = (old.len, old.width);
    let lower = (rank > 0).then(|| rank - 1);
    let higher = (rank + 1 < ranks).then(|| rank + 1);
    // Buffers go out with a message and come back when it completes, so nothing is allocated
    // per iteration.
    let mut spare: Vec<Vec<f64>> = (0..4).map(|_| vec![0.0; width]).collect();

    let mut iteration = 0u64;
    let residuum = loop {
        crate::interrupt::exit_if_received();
        iteration += 1;
        let last = matches!(termination, Termination::Iterations(n) if iteration == n);
        let want_residuum = last || matches!(termination, Termination::Accuracy(_));

        let mut sends = Vec::new();
        let mut receives = Vec::new();
        for (neighbour, (own_row, tag_out, tag_in, halo)) in
            [(lower, (1, TO_LOWER, TO_HIGHER, 0)), (higher, (len, TO_HIGHER, TO_LOWER, len + 1))]
        {
            let Some(neighbour) = neighbour else { continue };
            let mut out = spare.pop().expect("four spare rows");
            out.copy_from_slice(old.row(own_row));
            sends.push(Outgoing::start(world, neighbour, tag_out, out));
            receives.push((
                halo,
                Incoming::start(world, neighbour, tag_in, spare.pop().expect("four spare rows")),
            ));
        }

        // Rows 2..len-1 need no halo: compute them while the halos travel.
        let inner = 2..len.max(2);
        let mut local = kernels::jacobi_rows(problem, &old, &mut new, inner, want_residuum);
        for (halo, incoming) in receives {
            let row = incoming.finish();
            old.row_mut(halo).copy_from_slice(&row);
            spare.push(row);
        }
        let edges: &[usize] = if len == 1 { &[1] } else { &[1, len] };
        for &edge in edges {
            let r = kernels::jacobi_rows(problem, &old, &mut new, edge..edge + 1, want_residuum);
            local = if r < local { local } else { r };
        }
        spare.extend(sends.into_iter().map(Outgoing::finish));
        std::mem::swap(&mut old, &mut new);

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
    Solution { block: old, iterations: iteration, residuum, memory_bytes }
}
