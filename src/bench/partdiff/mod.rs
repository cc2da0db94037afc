//! `pvbench partdiff`: partdiff's Jacobi / Gauss-Seidel solver for the Poisson equation on the
//! unit square, split into row blocks over the ranks, with partdiff's results bit for bit.

mod gauss_seidel;
mod grid;
mod jacobi;
mod kernels;
mod roofline;

use anyhow::Context;
use mpi::topology::{Communicator, SimpleCommunicator};

use crate::cli::PartdiffArgs;
use crate::error::UsageError;
use crate::mpi::environment::{self, Extent, StealClock};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::partdiff::{MethodName, PartdiffParameters, PartdiffResults};
use crate::result::{self, Document, JsonTarget};

use grid::{Block, Function, Method, Problem, Termination};

/// Message tags of boundary rows sent to the rank below (lower rank number) and above.
const TO_LOWER: i32 = 1;
const TO_HIGHER: i32 = 2;

/// The solver's answer on one rank: its final rows, and the global figures.
pub struct Solution {
    pub block: Block,
    pub iterations: u64,
    pub residuum: f64,
    /// Bytes this rank held for matrices, halos and rollback copies.
    pub memory_bytes: u64,
}

/// Validated options of one `pvbench partdiff` run.
#[derive(Debug)]
pub struct Options {
    threads: u32,
    method: Method,
    interlines: usize,
    function: Function,
    termination: Termination,
    json: Option<JsonTarget>,
    /// Replace an existing output file (`--force`).
    force: bool,
    label: Option<String>,
    /// Measure and print the roofline after the solve (hidden `--roofline`).
    roofline: bool,
}

impl Options {
    pub fn from_args(args: PartdiffArgs) -> Result<Self, UsageError> {
        let value = args.accuracy_or_iterations.trim();
        let termination = if args.termination == 1 {
            match value.parse::<f64>() {
                Ok(acc) if (1e-20..=1e-4).contains(&acc) => Termination::Accuracy(acc),
                _ => {
                    return Err(UsageError(format!(
                        "ACC_OR_ITER {value:?}: with TERM 1 it is the required accuracy, 1e-20..1e-4"
                    )));
                }
            }
        } else {
            match value.parse::<u64>() {
                Ok(n) if (1..=200_000).contains(&n) => Termination::Iterations(n),
                _ => {
                    return Err(UsageError(format!(
                        "ACC_OR_ITER {value:?}: with TERM 2 it is the number of iterations, 1..200000"
                    )));
                }
            }
        };
        Ok(Options {
            threads: args.threads.max(1),
            method: if args.method == 1 { Method::GaussSeidel } else { Method::Jacobi },
            interlines: args.interlines as usize,
            function: if args.function == 1 { Function::Zero } else { Function::FpiSin },
            termination,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
            roofline: args.roofline,
        })
    }

    fn parameters(&self) -> PartdiffParameters {
        PartdiffParameters {
            threads: self.threads,
            method: match self.method {
                Method::GaussSeidel => MethodName::GaussSeidel,
                Method::Jacobi => MethodName::Jacobi,
            },
            interlines: self.interlines as u32,
            function: if self.function == Function::Zero { 1 } else { 2 },
            termination: if matches!(self.termination, Termination::Accuracy(_)) { 1 } else { 2 },
            accuracy: match self.termination {
                Termination::Accuracy(a) => Some(a),
                Termination::Iterations(_) => None,
            },
            iterations: match self.termination {
                Termination::Iterations(n) => Some(n),
                Termination::Accuracy(_) => None,
            },
        }
    }
}

/// The 9 x 9 excerpt partdiff prints: every (interlines+1)-th row and column.
const EXCERPT: usize = 9;

/// This rank's part of the excerpt: 9 values per excerpt row it holds, then one flag per row.
fn excerpt_part(problem: &Problem, block: &Block, interlines: usize, ranks: usize, rank: usize) -> Vec<f64> {
    let step = interlines + 1;
    let mut part = vec![0.0; EXCERPT * EXCERPT + EXCERPT];
    for y in 0..EXCERPT {
        let global = y * step;
        // Boundary rows 0 and N live in the halo rows of the first and last rank.
        let held = (global >= block.first && global < block.first + block.len)
            || (global == 0 && rank == 0)
            || (global == problem.n && rank == ranks - 1);
        if held {
            let row = block.row(global + 1 - block.first);
            for x in 0..EXCERPT {
                part[y * EXCERPT + x] = row[x * step];
            }
            part[EXCERPT * EXCERPT + y] = 1.0;
        }
    }
    part
}

/// This rank's share of the whole-matrix checksum: for each row it holds (its interior rows;
/// the first rank also row 0, the last also row N), FNV-1a over the values' bits, mixed with the
/// row's index; shares are summed, so the total does not depend on how rows are split.
fn checksum_part(block: &Block, ranks: usize, rank: usize) -> u64 {
    let first_local = if rank == 0 { 0 } else { 1 };
    let last_local = if rank == ranks - 1 { block.len + 1 } else { block.len };
    (first_local..=last_local)
        .map(|local| {
            let global = (block.first + local - 1) as u64;
            let row_hash = block.row(local).iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
                v.to_bits()
                    .to_le_bytes()
                    .iter()
                    .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
            });
            mix(row_hash ^ global.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        })
        .fold(0u64, u64::wrapping_add)
}

/// splitmix64's finaliser: spreads every input bit over the whole word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 9 x 9 excerpt on every rank, each row from the rank that holds it.
fn gather_excerpt(
    world: &SimpleCommunicator,
    problem: &Problem,
    block: &Block,
    interlines: usize,
) -> anyhow::Result<Vec<Vec<f64>>> {
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let parts = mpi_util::all_gather(world, &excerpt_part(problem, block, interlines, ranks, rank)[..]);
    let stride = EXCERPT * EXCERPT + EXCERPT;
    (0..EXCERPT)
        .map(|y| {
            let owner = (0..ranks)
                .find(|r| parts[r * stride + EXCERPT * EXCERPT + y] == 1.0)
                .context("an excerpt row no rank holds")?;
            Ok(parts[owner * stride + y * EXCERPT..owner * stride + (y + 1) * EXCERPT].to_vec())
        })
        .collect()
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let started_at = result::now_rfc3339();
    let problem = Problem::new(options.interlines, options.function);
    if problem.interior_rows() < ranks {
        return Err(UsageError(format!(
            "interlines {} gives {} interior rows: {ranks} ranks would leave a rank without a row (use at most {} ranks)",
            options.interlines,
            problem.interior_rows(),
            problem.interior_rows()
        ))
        .into());
    }
    if let Some(json) = &options.json {
        mpi_util::root_checks(world, || Ok(json.check_writable(options.force)?))?;
    }
    let hosts = session.hosts();
    let rows = grid::rows_of(problem.interior_rows(), ranks, rank);
    let (blocks, block_rows) = match options.method {
        Method::Jacobi => {
            let depth = jacobi::depth(&problem, ranks, options.termination);
            (jacobi::BLOCKS, jacobi::stored_rows(&problem, &rows, depth).len())
        }
        Method::GaussSeidel => (gauss_seidel::blocks(ranks, options.termination), rows.len()),
    };
    // Each block is the rows a rank stores with a row above and below, all columns.
    let need = blocks as u64 * (problem.n as u64 + 1) * (block_rows as u64 + 2) * 8;
    mpi_util::check_memory_per_host(session, need, "partdiff's matrices")?;

    mpi_util::barrier(world);
    let steal = StealClock::start();
    let start = session.time();
    let solution = match options.method {
        Method::Jacobi => jacobi::solve(world, &problem, rows, options.termination),
        Method::GaussSeidel => gauss_seidel::solve(world, &problem, rows, options.termination),
    };
    let elapsed = mpi_util::all_gather(world, &[session.time() - start]);
    let calculation_time_s = elapsed.iter().copied().fold(0.0, f64::max);

    let matrix_excerpt = gather_excerpt(world, &problem, &solution.block, options.interlines);
    let checksum = mpi_util::all_gather(world, &[checksum_part(&solution.block, ranks, rank)])
        .into_iter()
        .fold(0u64, u64::wrapping_add);
    let memory = mpi_util::all_gather(world, &[solution.memory_bytes]);
    let rows_per_rank = mpi_util::all_gather(world, &[solution.block.len as u64]);
    let roofline = options.roofline.then(|| {
        let ranks_on_host = hosts.iter().filter(|h| **h == hosts[rank]).count() as u32;
        let matrix_bytes = solution.memory_bytes / blocks as u64;
        roofline::measure(world, options.method, matrix_bytes, ranks_on_host)
    });
    let Some(environment) = environment::gather(session, Some(&steal), Extent::Result)? else {
        return Ok(());
    };
    let matrix_excerpt = matrix_excerpt?;
    let side = (problem.n + 1) as u64;
    // partdiff's own figure: two matrices for Jacobi, one for Gauss-Seidel.
    let matrices = if options.method == Method::Jacobi { 2 } else { 1 };
    let interior = (problem.n as u64 - 1).pow(2);
    let document = Document {
        label: options.label.clone(),
        started_at: Some(started_at),
        command_line,
        ..session.document(
            "partdiff",
            hosts,
            options.parameters(),
            environment,
            PartdiffResults {
                grid_points_per_side: side,
                calculation_time_s,
                iterations: solution.iterations,
                residuum: Some(solution.residuum),
                mlup_per_s: interior as f64 * solution.iterations as f64 / calculation_time_s / 1e6,
                memory_usage_partdiff_bytes: side * side * 8 * matrices,
                memory_per_rank_bytes: memory,
                rows_per_rank,
                matrix_excerpt,
                matrix_checksum: Some(format!("{checksum:016x}")),
            },
        )
    };
    let mut text = report::partdiff::text(&document);
    if let Some(roofline) = roofline {
        text.push_str(&roofline.line(document.results.mlup_per_s));
    }
    report::publish(&text, options.json.as_ref(), &document)
}
