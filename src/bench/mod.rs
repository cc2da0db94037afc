//! One module per benchmark. Benchmarks never import each other: shared needs live in
//! `mpi`, `result` and `env`.

pub mod env;
pub mod fs;
pub mod meta;
pub mod mpiio;
pub mod net;
pub mod partdiff;
