//! Parallel Jacobi with temporal blocking: when the number of iterations is known, a rank runs
//! several iterations per round as a wavefront over its rows (iteration t one row behind
//! iteration t-1), so only a band of a few rows per matrix is live at a time and stays in the
//! L2 cache instead of both matrices being streamed from L3 or memory every iteration. A round
//! of R iterations starts from R halo rows of each neighbour; the rows next to the border
//! are computed redundantly (a trapezoid shrinking by one row per iteration), so ranks talk
//! once per round. With TERM 1 a round is one iteration. Each point sees the same inputs as
//! on one rank, so the result is the same bit for bit on any rank count.
//!
//! Neighbours run their wavefronts in opposite directions (even ranks up, odd ranks down), and
//! a rank sends its border rows the moment the round's last iteration has finished them and
//! reads a halo only when its wavefront gets there. At every border both ranks then finish
//! their rows early and read the halo early in the next round, or both late: rows a neighbour
//! finishes at the end of a round are read only near the end of the next, so a rank waits
//! only when its neighbour is slower over a whole round, not at every round.

use std::collections::VecDeque;
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

/// Sends in flight per border before the oldest is waited for. The neighbour has taken the
/// send of two rounds back before it sends the halo this round needs, so with two the wait is
/// only for MPI to complete it, never for the neighbour to get there.
const SENDS_IN_FLIGHT: usize = 2;

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
    direction: Direction,
}

impl Own {
    /// The rows iteration `t` (1-based) of a round of `r` computes: the own rows and, towards
    /// each neighbour, `r - t` rows more (those the later iterations of the round still read).
    fn computed_by(&self, r: usize, t: usize) -> Range<usize> {
        let extra = r - t;
        let start = if self.lower.is_some() { self.first - extra } else { self.first };
        let end = self.first + self.len + if self.higher.is_some() { extra } else { 0 };
        start..end
    }
}

/// The way a rank's wavefront runs through its rows.
#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

impl Direction {
    fn of(rank: i32) -> Self {
        if rank % 2 == 0 { Direction::Up } else { Direction::Down }
    }

    /// The row at `position` (0 = where the wavefront starts) of `rows`, if it is in them.
    fn row(self, rows: &Range<usize>, position: usize) -> Option<usize> {
        (position < rows.len()).then(|| match self {
            Direction::Up => rows.start + position,
            Direction::Down => rows.end - 1 - position,
        })
    }
}

/// One neighbour: the halo it sends for each round, and the own rows at this border sent to it.
struct Border {
    neighbour: i32,
    lower: bool,
    /// The halo of the current round (posted a round ahead, so MPI can deliver it early).
    incoming: Option<Incoming>,
    /// Sends not known to be complete, oldest first.
    in_flight: VecDeque<Outgoing>,
    /// Whether this round's halo is in the block.
    placed: bool,
    /// How many of the rows to send for the next round this round has finished.
    finished: usize,
}

impl Border {
    /// The own rows this rank sends for a round of `r`.
    fn sent_rows(&self, own: Own, r: usize) -> Range<usize> {
        if self.lower { own.first..own.first + r } else { own.first + own.len - r..own.first + own.len }
    }

    /// Where the `r` halo rows of a round go.
    fn halo_rows(&self, own: Own, r: usize) -> Range<usize> {
        if self.lower { own.first - r..own.first } else { own.first + own.len..own.first + own.len + r }
    }

    /// Posts the receive of the next round's halo into `buffer`.
    fn post_receive(&mut self, world: &SimpleCommunicator, buffer: Vec<f64>) {
        let tag = if self.lower { TO_HIGHER } else { TO_LOWER };
        self.incoming = Some(Incoming::start(world, self.neighbour, tag, buffer));
    }

    /// Whether computing `row` in a round's first iteration reads this border's halo.
    fn is_read_by(&self, own: Own, row: usize) -> bool {
        if self.lower { row <= own.first } else { row + 1 >= own.first + own.len }
    }
}

/// The halo exchange of every round with both neighbours.
struct Halos<'a> {
    world: &'a SimpleCommunicator,
    own: Own,
    width: usize,
    /// Capacity of a halo message: the deepest round's rows.
    depth: usize,
    borders: Vec<Border>,
    /// Buffers of completed sends, for the next ones (a receive reuses its own buffer).
    spare: Vec<Vec<f64>>,
}

impl<'a> Halos<'a> {
    fn new(world: &'a SimpleCommunicator, own: Own, width: usize, depth: usize) -> Self {
        let borders = [(own.lower, true), (own.higher, false)]
            .into_iter()
            .filter_map(|(neighbour, lower)| {
                let neighbour = neighbour?;
                let mut border = Border {
                    neighbour,
                    lower,
                    incoming: None,
                    in_flight: VecDeque::new(),
                    placed: false,
                    finished: 0,
                };
                border.post_receive(world, vec![0.0; depth * width]);
                Some(border)
            })
            .collect();
        Halos { world, own, width, depth, borders, spare: Vec::new() }
    }

    fn begin_round(&mut self) {
        for border in &mut self.borders {
            border.placed = false;
            border.finished = 0;
        }
    }

    /// Before the round's first iteration computes `row`: puts each halo it reads into `from`,
    /// waiting for it if need be, and posts the receive of the next round's if there is one.
    fn place_before(&mut self, row: usize, from: &mut Block, r: usize, more_rounds: bool) {
        let (world, own, width) = (self.world, self.own, self.width);
        for border in self.borders.iter_mut().filter(|b| !b.placed && b.is_read_by(own, row)) {
            let rows = border.incoming.take().expect("a halo receive is posted for every round").finish();
            let halo = border.halo_rows(own, r);
            from.data[halo.start * width..halo.end * width].copy_from_slice(&rows[..r * width]);
            border.placed = true;
            if more_rounds {
                border.post_receive(world, rows);
            }
        }
    }

    /// After the round's last iteration wrote `row` into `to`: sends the rows of each border
    /// whose `r_next` rows for the next round are now all final.
    fn send_when_final(&mut self, row: usize, to: &Block, r_next: usize) {
        let own = self.own;
        for index in 0..self.borders.len() {
            let border = &mut self.borders[index];
            if !border.sent_rows(own, r_next).contains(&row) {
                continue;
            }
            border.finished += 1;
            if border.finished == r_next {
                self.send(index, to, r_next);
            }
        }
    }

    /// Sends every border's rows from `block` for a round of `r`.
    fn send_all(&mut self, block: &Block, r: usize) {
        for index in 0..self.borders.len() {
            self.send(index, block, r);
        }
    }

    fn send(&mut self, index: usize, block: &Block, r: usize) {
        let (own, width) = (self.own, self.width);
        let border = &mut self.borders[index];
        while border.in_flight.len() >= SENDS_IN_FLIGHT {
            self.spare.push(border.in_flight.pop_front().expect("the queue is not empty").finish());
        }
        let rows = border.sent_rows(own, r);
        let mut out = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(self.depth * width));
        out.clear();
        out.extend_from_slice(&block.data[rows.start * width..rows.end * width]);
        let tag = if border.lower { TO_LOWER } else { TO_HIGHER };
        border.in_flight.push_back(Outgoing::start(self.world, border.neighbour, tag, out));
    }

    /// Completes every send and withdraws the receive posted for a round that did not come.
    fn finish(self) {
        for border in self.borders {
            border.in_flight.into_iter().for_each(|sent| drop(sent.finish()));
            if let Some(incoming) = border.incoming {
                incoming.cancel();
            }
        }
    }
}

/// What one round does.
struct Plan {
    /// Iterations in this round.
    r: usize,
    /// The next round's length when it is known to come (TERM 2): the border rows for it go
    /// out as soon as they are final.
    next_round: Option<usize>,
    /// Whether another round may come, so its halos are to be received.
    more_rounds: bool,
    /// Whether the last iteration computes the residuum.
    residuum: bool,
}

/// Runs `plan.r` iterations from `a` as a wavefront: at step s, iteration t updates the row at
/// position s - t + 1 from where the rank's direction starts. Iteration t reads the block
/// iteration t-1 wrote (`a` for odd t) and writes the other one; a row it overwrites
/// (iteration t-2's) was last needed by iteration t-1 for the row one position ahead, which
/// is done earlier in the same step. Returns the residuum of the last iteration's own rows
/// (0 unless `plan.residuum`); the result is in `b` when `r` is odd, else in `a`.
fn round(problem: &Problem, a: &mut Block, b: &mut Block, halos: &mut Halos, plan: &Plan) -> f64 {
    let (own, r) = (halos.own, plan.r);
    let widest = own.computed_by(r, 1);
    halos.begin_round();
    let mut max = 0.0;
    for step in 0..widest.len() + r - 1 {
        for t in 1..=r {
            let Some(position) = step.checked_sub(t - 1) else { break };
            let Some(row) = own.direction.row(&widest, position) else { continue };
            if !own.computed_by(r, t).contains(&row) {
                continue;
            }
            if t == 1 {
                halos.place_before(row, a, r, plan.more_rounds);
            }
            let (from, to) = if t % 2 == 1 { (&*a, &mut *b) } else { (&*b, &mut *a) };
            let res = kernels::jacobi_rows(problem, from, to, row..row + 1, plan.residuum && t == r);
            max = if res < max { max } else { res };
            if t == r
                && let Some(r_next) = plan.next_round
            {
                halos.send_when_final(row, to, r_next);
            }
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
        direction: Direction::of(rank),
    };
    let mut old = Block::initial(problem, stored);
    let mut new = old.clone();
    let mut halos = Halos::new(world, own, old.width, depth);
    // The length of the round after `done` iterations (TERM 1: one, as long as it goes on).
    let round_after = |done: u64| match termination {
        Termination::Iterations(n) => (done < n).then(|| (depth as u64).min(n - done) as usize),
        Termination::Accuracy(_) => Some(1),
    };

    let mut iteration = 0u64;
    let mut r = round_after(0).expect("at least one iteration");
    halos.send_all(&old, r);
    let residuum = loop {
        crate::interrupt::exit_if_received();
        iteration += r as u64;
        let last = matches!(termination, Termination::Iterations(n) if iteration == n);
        let want_residuum = last || matches!(termination, Termination::Accuracy(_));
        let plan = Plan {
            r,
            next_round: match termination {
                Termination::Iterations(_) => round_after(iteration),
                Termination::Accuracy(_) => None,
            },
            more_rounds: !last,
            residuum: want_residuum,
        };
        let local = round(problem, &mut old, &mut new, &mut halos, &plan);
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
        r = round_after(iteration).expect("the loop ends after the last round");
        if let Termination::Accuracy(_) = termination {
            // Only the residuum said another round comes, so its rows go out only now.
            halos.send_all(&old, r);
        }
    };
    halos.finish();
    let memory_bytes = (BLOCKS * old.data.len() * 8) as u64;
    // The own rows with the row above and below (the boundary rows on the outer ranks).
    let width = old.width;
    let data = old.data[(own.first - 1) * width..(own.first + own.len + 1) * width].to_vec();
    let block = Block { width, first: rows.start, len: own.len, data };
    Solution { block, iterations: iteration, residuum, memory_bytes }
}
