//! The problem (grid size, boundary values, right-hand side) and its row-block decomposition.
//!
//! Numerics follow partdiff exactly: N = interlines*8 + 8, h = 1/N, the grid has (N+1)^2
//! points with indices 0..=N, and the right-hand side term of FUNC 2 is
//! `fpisin_i * sin(pih * j)` with `pih = PI*h`, `fpisin = 0.25 * (2*PI^2) * h*h` and
//! `fpisin_i = fpisin * sin(pih * i)`. The sines are precomputed per row and column: each
//! value is the same `sin()` of the same argument, so the bits do not change.

use std::f64::consts::PI;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    GaussSeidel,
    Jacobi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// f(x,y) = 0, with linear boundary values.
    Zero,
    /// f(x,y) = 2 pi^2 sin(pi x) sin(pi y), zero boundary.
    FpiSin,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Termination {
    /// Stop after the first iteration whose residuum is below this.
    Accuracy(f64),
    /// Run exactly this many iterations.
    Iterations(u64),
}

/// The grid and right-hand side shared by every rank.
pub struct Problem {
    /// Largest index: the grid is (n+1) x (n+1).
    pub n: usize,
    pub function: Function,
    /// `sin(pih * j)` for j in 0..=n (FUNC 2 only; empty otherwise).
    pub sin_pih: Vec<f64>,
    /// `fpisin * sin(pih * i)` for i in 0..=n (FUNC 2 only; empty otherwise).
    pub fpisin_row: Vec<f64>,
    h: f64,
}

impl Problem {
    pub fn new(interlines: usize, function: Function) -> Self {
        let n = interlines * 8 + 8;
        let h = 1.0 / n as f64;
        let (sin_pih, fpisin_row) = match function {
            Function::Zero => (Vec::new(), Vec::new()),
            Function::FpiSin => {
                let pih = PI * h;
                let fpisin = 0.25 * (2.0 * PI * PI) * h * h;
                let sin_pih: Vec<f64> = (0..=n).map(|j| (pih * j as f64).sin()).collect();
                let fpisin_row = sin_pih.iter().map(|s| fpisin * s).collect();
                (sin_pih, fpisin_row)
            }
        };
        Problem { n, function, sin_pih, fpisin_row, h }
    }

    /// Row `i` (global) of the starting matrix, as partdiff's initMatrices sets it.
    pub fn initial_row(&self, i: usize, row: &mut [f64]) {
        row.fill(0.0);
        if self.function == Function::FpiSin {
            return;
        }
        let (n, h) = (self.n, self.h);
        if i == 0 {
            for (j, v) in row.iter_mut().enumerate() {
                *v = 1.0 - h * j as f64;
            }
        } else if i == n {
            for (j, v) in row.iter_mut().enumerate() {
                *v = h * j as f64;
            }
        } else {
            row[0] = 1.0 - h * i as f64;
            row[n] = h * i as f64;
        }
        // partdiff sets both corners that are not on the diagonal to 0.
        if i == 0 {
            row[n] = 0.0;
        }
        if i == n {
            row[0] = 0.0;
        }
    }

    /// Interior rows: 1..n.
    pub fn interior_rows(&self) -> usize {
        self.n - 1
    }
}

/// The interior rows (global indices) that `rank` of `ranks` owns: contiguous blocks, the
/// first `rows % ranks` ranks one row more.
pub fn rows_of(interior_rows: usize, ranks: usize, rank: usize) -> Range<usize> {
    let base = interior_rows / ranks;
    let extra = interior_rows % ranks;
    let start = 1 + rank * base + rank.min(extra);
    let len = base + usize::from(rank < extra);
    start..start + len
}

/// One rank's rows plus one halo (or boundary) row above and below, contiguous.
/// Local row 0 is global row `first - 1`; local row `len + 1` is global row `first + len`.
#[derive(Clone)]
pub struct Block {
    pub width: usize,
    pub first: usize,
    pub len: usize,
    pub data: Vec<f64>,
}

impl Block {
    /// The block of `rows`, with the starting values of the whole grid.
    pub fn initial(problem: &Problem, rows: Range<usize>) -> Self {
        let width = problem.n + 1;
        let len = rows.len();
        let mut data = vec![0.0; width * (len + 2)];
        for (local, row) in data.chunks_exact_mut(width).enumerate() {
            problem.initial_row(rows.start - 1 + local, row);
        }
        Block { width, first: rows.start, len, data }
    }

    pub fn row(&self, local: usize) -> &[f64] {
        &self.data[local * self.width..(local + 1) * self.width]
    }

    pub fn row_mut(&mut self, local: usize) -> &mut [f64] {
        &mut self.data[local * self.width..(local + 1) * self.width]
    }

    /// Global row index of local row `local`.
    pub fn global(&self, local: usize) -> usize {
        self.first - 1 + local
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cover_the_interior_once_for_any_rank_count() {
        for interior in [7usize, 8, 31, 807] {
            for ranks in 1..=interior.min(9) {
                let mut next = 1;
                for rank in 0..ranks {
                    let rows = rows_of(interior, ranks, rank);
                    assert_eq!(rows.start, next);
                    assert!(!rows.is_empty());
                    next = rows.end;
                }
                assert_eq!(next, interior + 1);
            }
        }
    }

    #[test]
    fn boundary_of_func_1_is_partdiffs() {
        let p = Problem::new(0, Function::Zero);
        let mut row = vec![9.0; 9];
        p.initial_row(0, &mut row);
        assert_eq!(row, [1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0]);
        p.initial_row(8, &mut row);
        assert_eq!(row, [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]);
        p.initial_row(3, &mut row);
        assert_eq!(row, [0.625, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.375]);
    }
}
