//! The sweep kernels. Every point update is, in this order and without FMA contraction,
//! `star = 0.25 * (up + left + right + down)`, then `star += fpisin_i * sin_pih[j]` for FUNC 2,
//! and the residuum `|old - star|` with partdiff's compare-and-select maximum: the same
//! operations as partdiff, so the same bits. Speed comes from vectorising Jacobi rows and from
//! interleaving several Gauss-Seidel rows (a skewed wavefront, each row one column behind the
//! row above, each row's last value kept in a register), which hides the latency of
//! Gauss-Seidel's dependency chain without reordering a single operation. AVX-512 or AVX2 code
//! is chosen at run time from what the CPU has.

use std::ops::Range;

use super::grid::{Block, Function, Problem};

/// Picks the variant for the function and the residuum flag.
macro_rules! variants {
    ($kernel:ident, $function:expr, $residuum:expr, ($($arg:expr),*)) => {
        match ($function, $residuum) {
            (Function::Zero, false) => $kernel::<false, false>($($arg),*),
            (Function::Zero, true) => $kernel::<false, true>($($arg),*),
            (Function::FpiSin, false) => $kernel::<true, false>($($arg),*),
            (Function::FpiSin, true) => $kernel::<true, true>($($arg),*),
        }
    };
}

/// Calls the widest build of a kernel the CPU can run (AVX-512, AVX2), else `$portable`.
macro_rules! with_widest_simd {
    ($name:ident($($arg:expr),*), $portable:expr) => {{
        #[cfg(target_arch = "x86_64")]
        match simd() {
            // SAFETY: the CPU has AVX-512F (checked at run time).
            Simd::Avx512 => return unsafe { avx512::$name($($arg),*) },
            // SAFETY: the CPU has AVX2 (checked at run time).
            Simd::Avx2 => return unsafe { avx2::$name($($arg),*) },
            Simd::Portable => {}
        }
        $portable
    }};
}

/// How many Gauss-Seidel rows are in flight at once.
pub const BAND_ROWS: usize = 8;

/// partdiff's `residuum < 0 ? -residuum : residuum` and `residuum < max ? max : residuum`.
#[inline(always)]
fn fold_residuum(max: f64, old: f64, star: f64) -> f64 {
    let r = old - star;
    let r = if r < 0.0 { -r } else { r };
    if r < max { max } else { r }
}

#[inline(always)]
fn jacobi_row<const FPISIN: bool, const RESIDUUM: bool>(
    up: &[f64],
    mid: &[f64],
    down: &[f64],
    out: &mut [f64],
    fpisin_i: f64,
    sin_pih: &[f64],
) -> f64 {
    let n = mid.len() - 1;
    let (up, down, out) = (&up[1..n], &down[1..n], &mut out[1..n]);
    let (left, centre, right) = (&mid[..n - 1], &mid[1..n], &mid[2..]);
    let sin = if FPISIN { &sin_pih[1..n] } else { &[][..] };
    // Four lanes of maxima, folded at the end: max is exact, so the order does not matter.
    let mut lanes = [0.0f64; 4];
    for j in 0..n - 1 {
        let mut star = 0.25 * (up[j] + left[j] + right[j] + down[j]);
        if FPISIN {
            star += fpisin_i * sin[j];
        }
        if RESIDUUM {
            lanes[j % 4] = fold_residuum(lanes[j % 4], centre[j], star);
        }
        out[j] = star;
    }
    lanes.iter().fold(0.0, |max, &r| if r < max { max } else { r })
}

#[inline(always)]
fn jacobi_rows_generic<const FPISIN: bool, const RESIDUUM: bool>(
    problem: &Problem,
    old: &Block,
    new: &mut Block,
    rows: Range<usize>,
) -> f64 {
    let mut max = 0.0;
    for local in rows {
        let fpisin_i = if FPISIN { problem.fpisin_row[old.global(local)] } else { 0.0 };
        let r = jacobi_row::<FPISIN, RESIDUUM>(
            old.row(local - 1),
            old.row(local),
            old.row(local + 1),
            new.row_mut(local),
            fpisin_i,
            &problem.sin_pih,
        );
        max = if r < max { max } else { r };
    }
    max
}

/// One Jacobi sweep over local rows `rows` (1-based local indices): reads `old`, writes `new`.
/// Returns the maximum residuum of those rows (0 when `residuum` is false).
pub fn jacobi_rows(
    problem: &Problem,
    old: &Block,
    new: &mut Block,
    rows: Range<usize>,
    residuum: bool,
) -> f64 {
    with_widest_simd!(
        jacobi(problem, old, new, rows, residuum),
        variants!(jacobi_rows_generic, problem.function, residuum, (problem, old, new, rows))
    )
}

/// Where a Gauss-Seidel sweep finds the values of the previous iteration (the right and lower
/// neighbours and the point itself): in the block it writes, as partdiff does, or in another
/// block, which then stays as it was. Either way every point sees the same values.
#[derive(Clone, Copy)]
pub enum Previous<'a> {
    InPlace,
    In(&'a Block),
}

/// Gauss-Seidel over local rows `rows` of `block`, in partdiff's order of updates.
/// Returns the maximum residuum of those rows (0 when `residuum` is false).
pub fn gauss_seidel_rows(
    problem: &Problem,
    previous: Previous,
    block: &mut Block,
    rows: Range<usize>,
    residuum: bool,
) -> f64 {
    with_widest_simd!(
        gauss_seidel(problem, previous, block, rows, residuum),
        variants!(gauss_seidel_rows_generic, problem.function, residuum, (problem, previous, block, rows))
    )
}

#[inline(always)]
fn gauss_seidel_rows_generic<const FPISIN: bool, const RESIDUUM: bool>(
    problem: &Problem,
    previous: Previous,
    block: &mut Block,
    rows: Range<usize>,
) -> f64 {
    let mut max = 0.0;
    let mut start = rows.start;
    while start < rows.end {
        let count = BAND_ROWS.min(rows.end - start);
        let r = if count == BAND_ROWS {
            gauss_seidel_band::<BAND_ROWS, FPISIN, RESIDUUM>(problem, previous, block, start)
        } else {
            gauss_seidel_band_dyn::<FPISIN, RESIDUUM>(problem, previous, block, start, count)
        };
        max = if r < max { max } else { r };
        start += count;
    }
    max
}

/// Gauss-Seidel on the K rows `first..first+K` as a skewed wavefront: at step s, row
/// `first+m` updates column `s-m`. Row `first+m` at column j needs row `first+m-1` at column j
/// already updated (it is one column ahead) and row `first+m+1` at column j not yet updated
/// (it is one column behind), exactly as in the row-by-row order.
#[inline(always)]
fn gauss_seidel_band<const K: usize, const FPISIN: bool, const RESIDUUM: bool>(
    problem: &Problem,
    previous: Previous,
    block: &mut Block,
    first: usize,
) -> f64 {
    let width = block.width;
    let n = width - 1;
    assert!(first >= 1 && first + K < block.len + 2, "band inside the block");
    let fpisin: [f64; K] =
        std::array::from_fn(|m| if FPISIN { problem.fpisin_row[block.global(first + m)] } else { 0.0 });
    let sin = &problem.sin_pih;
    if FPISIN {
        assert_eq!(sin.len(), width);
    }
    let mut lanes = [0.0f64; K];
    let new = block.data.as_mut_ptr();
    let old: *const f64 = match previous {
        Previous::InPlace => new,
        Previous::In(other) => {
            assert!(other.width == width && other.data.len() == block.data.len(), "blocks of one shape");
            other.data.as_ptr()
        }
    };
    // SAFETY: every index below is (row, column) with row in first-1..=first+K and column in
    // 0..=n; the asserts above keep those rows inside both blocks' data. `block.data` is not
    // otherwise borrowed while `new` is in use; `old` is either the same pointer (in place) or
    // a different block borrowed shared for the whole call. `sin` has n+1 entries.
    let at = |m: usize, j: usize| (first + m) * width + j;
    // What each row computed last (its left neighbour for the next point, and the new value
    // above the row below it): kept in registers, so the dependency chain does not go through
    // a store and a load. It starts at the boundary column 0.
    let mut last: [f64; K] = std::array::from_fn(|m| unsafe { *new.add(at(m, 0)) });
    // Row m reads `last[m - 1]` as written one step earlier: rows go from the bottom up.
    let mut point = |m: usize, j: usize, last: &mut [f64; K]| unsafe {
        let here = at(m, j);
        let up = if m == 0 { *new.add(here - width) } else { last[m - 1] };
        let mut star = 0.25 * (up + last[m] + *old.add(here + 1) + *old.add(here + width));
        if FPISIN {
            star += fpisin[m] * *sin.get_unchecked(j);
        }
        if RESIDUUM {
            lanes[m] = fold_residuum(lanes[m], *old.add(here), star);
        }
        last[m] = star;
        *new.add(here) = star;
    };
    // Steps 1..K-1 fill the wavefront, steps n..n+K-2 drain it; in between all K rows work.
    for s in 1..(n - 1 + K) {
        if (K..n).contains(&s) {
            for m in (0..K).rev() {
                point(m, s - m, &mut last);
            }
        } else {
            for m in (0..K).rev() {
                if s > m && s - m < n {
                    point(m, s - m, &mut last);
                }
            }
        }
    }
    lanes.iter().fold(0.0, |max, &r| if r < max { max } else { r })
}

/// The same wavefront for a band of fewer than `BAND_ROWS` rows (the last band of a block).
fn gauss_seidel_band_dyn<const FPISIN: bool, const RESIDUUM: bool>(
    problem: &Problem,
    previous: Previous,
    block: &mut Block,
    first: usize,
    count: usize,
) -> f64 {
    macro_rules! bands {
        ($($k:literal)*) => {
            match count {
                $($k => gauss_seidel_band::<$k, FPISIN, RESIDUUM>(problem, previous, block, first),)*
                _ => unreachable!("band of {count} rows"),
            }
        };
    }
    bands!(1 2 3 4 5 6 7)
}

/// The roofline probe's pass: every value read once and written once, as a sweep moves them
/// (Jacobi: `from` into `to`; Gauss-Seidel: `to` in place when there is no `from`).
pub fn stream(from: Option<&[f64]>, to: &mut [f64]) {
    with_widest_simd!(stream(from, to), stream_generic(from, to))
}

#[inline(always)]
fn stream_generic(from: Option<&[f64]>, to: &mut [f64]) {
    match from {
        Some(from) => to.iter_mut().zip(from).for_each(|(t, f)| *t = 0.25 * f + 1.0),
        None => to.iter_mut().for_each(|t| *t = 0.25 * *t + 1.0),
    }
}

/// The instruction sets the kernels have builds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Simd {
    Portable,
    Avx2,
    Avx512,
}

/// The widest build this CPU can run (the std macro caches what the CPU has).
fn simd() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Simd::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Simd::Avx2;
        }
    }
    Simd::Portable
}

/// The same kernels compiled for wider registers: the same operations in the same order (no
/// FMA: Rust never contracts a multiply and an add), so the same bits.
macro_rules! simd_build {
    ($module:ident, $feature:literal) => {
        #[cfg(target_arch = "x86_64")]
        mod $module {
            use super::*;

            #[target_feature(enable = $feature)]
            pub fn jacobi(
                problem: &Problem,
                old: &Block,
                new: &mut Block,
                rows: Range<usize>,
                residuum: bool,
            ) -> f64 {
                variants!(jacobi_rows_generic, problem.function, residuum, (problem, old, new, rows))
            }

            #[target_feature(enable = $feature)]
            pub fn gauss_seidel(
                problem: &Problem,
                previous: Previous,
                block: &mut Block,
                rows: Range<usize>,
                residuum: bool,
            ) -> f64 {
                variants!(
                    gauss_seidel_rows_generic,
                    problem.function,
                    residuum,
                    (problem, previous, block, rows)
                )
            }

            #[target_feature(enable = $feature)]
            pub fn stream(from: Option<&[f64]>, to: &mut [f64]) {
                stream_generic(from, to)
            }
        }
    };
}

simd_build!(avx2, "avx2");
simd_build!(avx512, "avx512f");

#[cfg(test)]
mod tests {
    use super::*;

    /// partdiff's loop, written the plain way: the kernels must give the same bits.
    fn naive_sweep(problem: &Problem, input: &Block, output: &mut Block, in_place: bool) -> f64 {
        let n = problem.n;
        let mut max = 0.0;
        for i in 1..n {
            for j in 1..n {
                let src = if in_place { &*output } else { input };
                let at = |r: usize, c: usize| src.data[r * (n + 1) + c];
                let mut star = 0.25 * (at(i - 1, j) + at(i, j - 1) + at(i, j + 1) + at(i + 1, j));
                if problem.function == Function::FpiSin {
                    star += problem.fpisin_row[i] * problem.sin_pih[j];
                }
                max = fold_residuum(max, at(i, j), star);
                output.data[i * (n + 1) + j] = star;
            }
        }
        max
    }

    fn whole_grid(problem: &Problem) -> Block {
        Block::initial(problem, 1..problem.n)
    }

    /// The builds this machine can run, each called directly: the public entry points pick
    /// the widest, so the others would otherwise never be tested here.
    fn variants_here() -> Vec<Simd> {
        let widest = simd();
        [Simd::Portable, Simd::Avx2, Simd::Avx512].into_iter().filter(|&v| v <= widest).collect()
    }

    fn jacobi_with(v: Simd, problem: &Problem, old: &Block, new: &mut Block, rows: Range<usize>) -> f64 {
        match v {
            Simd::Portable => {
                variants!(jacobi_rows_generic, problem.function, true, (problem, old, new, rows))
            }
            // SAFETY: only listed by `variants_here` when the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { avx2::jacobi(problem, old, new, rows, true) },
            // SAFETY: only listed by `variants_here` when the CPU has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { avx512::jacobi(problem, old, new, rows, true) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only the portable build here"),
        }
    }

    fn gauss_seidel_with(
        v: Simd,
        problem: &Problem,
        previous: Previous,
        block: &mut Block,
        rows: Range<usize>,
    ) -> f64 {
        match v {
            Simd::Portable => {
                variants!(gauss_seidel_rows_generic, problem.function, true, (problem, previous, block, rows))
            }
            // SAFETY: only listed by `variants_here` when the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { avx2::gauss_seidel(problem, previous, block, rows, true) },
            // SAFETY: only listed by `variants_here` when the CPU has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { avx512::gauss_seidel(problem, previous, block, rows, true) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only the portable build here"),
        }
    }

    #[test]
    fn every_variant_equals_the_plain_loop_bit_for_bit() {
        for variant in variants_here() {
            each_kernel_equals_the_plain_loop(variant);
        }
    }

    fn each_kernel_equals_the_plain_loop(variant: Simd) {
        for function in [Function::Zero, Function::FpiSin] {
            for interlines in [0, 1, 2] {
                let problem = Problem::new(interlines, function);
                let rows = 1..problem.n;
                // Gauss-Seidel: several sweeps in place, residuum of each.
                let mut fast = whole_grid(&problem);
                let mut plain = whole_grid(&problem);
                for _ in 0..5 {
                    // Out of place from a copy, then in place: both equal the plain loop.
                    let before = fast.clone();
                    let mut out_of_place = fast.clone();
                    let r_out = gauss_seidel_with(
                        variant,
                        &problem,
                        Previous::In(&before),
                        &mut out_of_place,
                        rows.clone(),
                    );
                    let r_fast =
                        gauss_seidel_with(variant, &problem, Previous::InPlace, &mut fast, rows.clone());
                    let copy = plain.clone();
                    let r_plain = naive_sweep(&problem, &copy, &mut plain, true);
                    assert_eq!(r_fast.to_bits(), r_plain.to_bits(), "{variant:?}");
                    assert_eq!(r_out.to_bits(), r_plain.to_bits(), "{variant:?}");
                    assert!(fast.data.iter().zip(&plain.data).all(|(a, b)| a.to_bits() == b.to_bits()));
                    assert!(
                        out_of_place.data.iter().zip(&plain.data).all(|(a, b)| a.to_bits() == b.to_bits())
                    );
                }
                // Jacobi: old -> new.
                let old = whole_grid(&problem);
                let (mut fast, mut plain) = (old.clone(), old.clone());
                let r_fast = jacobi_with(variant, &problem, &old, &mut fast, rows.clone());
                let r_plain = naive_sweep(&problem, &old, &mut plain, false);
                assert_eq!(r_fast.to_bits(), r_plain.to_bits(), "{variant:?}");
                assert!(fast.data.iter().zip(&plain.data).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }

    #[test]
    fn residuum_is_zero_when_not_asked_for() {
        let problem = Problem::new(1, Function::FpiSin);
        let mut block = whole_grid(&problem);
        assert_eq!(gauss_seidel_rows(&problem, Previous::InPlace, &mut block, 1..problem.n, false), 0.0);
    }
}
