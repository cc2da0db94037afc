//! pvbench: the front door. Parse, pick the subcommand, map errors to exit codes.

mod bench;
mod cli;
mod env;
mod error;
mod mpi;
mod report;
mod result;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{EXIT_USAGE, exit_code};

fn main() {
    let code = match run() {
        Ok(()) => 0,
        Err(error) => {
            let code = exit_code(&error);
            if mpi::launcher_rank().unwrap_or(0) == 0 {
                eprintln!("pvbench: error: {error:#}");
            }
            code
        }
    };
    std::process::exit(code);
}

fn run() -> anyhow::Result<()> {
    let command_line: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print (once per job) and succeed.
            if mpi::launcher_rank().unwrap_or(0) == 0 {
                let _ = e.print();
            }
            return Ok(());
        }
        Err(e) => {
            // Usage errors are found before MPI starts; only the launcher's rank 0 prints.
            if mpi::launcher_rank().unwrap_or(0) == 0 {
                let _ = e.print();
            }
            std::process::exit(EXIT_USAGE);
        }
    };
    match cli.command {
        Command::Mpiio(args) => {
            let options = bench::mpiio::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            bench::mpiio::run(&session, options, command_line)
        }
        Command::Partdiff(args) => {
            let options = bench::partdiff::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            bench::partdiff::run(&session, options, command_line)
        }
    }
}
