//! pvbench as a library: what the binary (`src/main.rs`, the front door) runs, and what the
//! fuzz targets (`fuzz/`) reach: every parser of user input behind its gate.
// Standard output and error only through `console`: a closed pipe must not panic.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod bounds;
pub mod buffer;
pub mod campaign;
pub mod cli;
pub mod compare;
pub mod console;
pub mod env;
pub mod error;
pub mod fuzzing;
pub mod import;
pub mod input;
pub mod interrupt;
pub mod mpi;
pub mod report;
pub mod result;
