//! Parameters and results of `pvbench partdiff`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodName {
    GaussSeidel,
    Jacobi,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartdiffParameters {
    /// partdiff's NUM as given (0 is read as 1); pvbench's parallelism is the rank count.
    pub threads: u32,
    pub method: MethodName,
    pub interlines: u32,
    /// 1: f(x,y) = 0; 2: f(x,y) = 2 pi^2 sin(pi x) sin(pi y).
    pub function: u8,
    /// 1: stop at the required accuracy; 2: after a number of iterations.
    pub termination: u8,
    pub accuracy: Option<f64>,
    pub iterations: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartdiffResults {
    /// Grid points per side, interlines*8 + 9.
    pub grid_points_per_side: u64,
    pub calculation_time_s: f64,
    pub iterations: u64,
    /// Null in the study's reference documents (it reports only times), as are the checksum,
    /// and the per-rank lists and the excerpt are empty.
    pub residuum: Option<f64>,
    /// Million lattice updates per second: interior points x iterations / time.
    pub mlup_per_s: f64,
    /// partdiff's figure: (N+1)^2 x 8 bytes x matrix count (2 for Jacobi, 1 for Gauss-Seidel).
    pub memory_usage_partdiff_bytes: u64,
    /// What each rank really holds: its rows with halos, per matrix, plus rollback copies.
    pub memory_per_rank_bytes: Vec<u64>,
    /// Interior rows per rank.
    pub rows_per_rank: Vec<u64>,
    /// Rows and columns 0, (interlines+1), 2(interlines+1), ... 8(interlines+1), full precision.
    pub matrix_excerpt: Vec<Vec<f64>>,
    /// A checksum of the whole final matrix, every value's bits (hex): the same on any rank
    /// count exactly when every value is bit for bit the same.
    pub matrix_checksum: Option<String>,
}
