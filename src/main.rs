//! pvbench: the front door. Parse, pick the subcommand, map errors to exit codes.

mod bench;
mod buffer;
mod campaign;
mod cli;
mod compare;
mod env;
mod error;
mod import;
mod interrupt;
mod mpi;
mod report;
mod result;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::{EXIT_USAGE, exit_code};

fn main() {
    let code = match run() {
        Ok(()) => 0,
        Err(error) => match error.downcast_ref::<Reported>() {
            Some(Reported(code)) => *code,
            None => report(&error),
        },
    };
    mpi::settle_before_exit();
    std::process::exit(code);
}

/// Prints `error` on the launcher's rank 0, as one write (a launcher that merges the ranks'
/// output must not cut the line), and returns its exit code.
fn report(error: &anyhow::Error) -> i32 {
    let code = exit_code(error);
    if prints() {
        let mut text =
            if code > 128 { format!("pvbench: {error:#}\n") } else { format!("pvbench: error: {error:#}\n") };
        if code == EXIT_USAGE {
            text.push_str(&format!("\n{}\n\nFor more information, try '--help'.\n", usage()));
        }
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
    code
}

/// An error already printed, while MPI still ran: Open MPI's mpirun ends the whole job as
/// soon as one rank exits non-zero, so rank 0 must print before any rank can leave
/// `MPI_Finalize` (which waits for all).
#[derive(Debug)]
struct Reported(i32);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for Reported {}

/// The outcome of a subcommand, reported while its MPI session is still open.
fn reported(outcome: anyhow::Result<()>) -> anyhow::Result<()> {
    outcome.map_err(|error| {
        let code = report(&error);
        mpi::leaving_with(code);
        Reported(code).into()
    })
}

/// Usage errors are found before MPI starts, on every rank: only the launcher's rank 0 prints.
fn prints() -> bool {
    mpi::launcher_rank().unwrap_or(0) == 0
}

/// The usage line of the subcommand on the command line (or of pvbench), for usage errors.
fn usage() -> String {
    let mut command = Cli::command();
    command.build(); // gives subcommands their full name, "pvbench partdiff"
    let sub = std::env::args().nth(1).unwrap_or_default();
    let usage = match command.find_subcommand_mut(&sub) {
        Some(sub) => sub.render_usage(),
        None => command.render_usage(),
    };
    usage.to_string()
}

/// A campaign plan's arguments for one benchmark, checked as its own command line would check
/// them; the first line of the problem.
fn check_benchmark_args(kind: &str, args: &[String]) -> Result<(), String> {
    let words = ["pvbench", kind].into_iter().map(String::from).chain(args.iter().cloned());
    let cli = Cli::try_parse_from(words).map_err(|e| {
        // clap's message up to its usage lines, on one line.
        let text = e.render().to_string();
        let message = text.split("\nUsage:").next().unwrap_or_default();
        message.split_whitespace().collect::<Vec<_>>().join(" ").trim_start_matches("error: ").to_string()
    })?;
    let checked = match cli.command {
        Command::Mpiio(args) => bench::mpiio::Options::from_args(args).map(drop),
        Command::Partdiff(args) => bench::partdiff::Options::from_args(args).map(drop),
        Command::Net(args) => bench::net::Options::from_args(args).map(drop),
        Command::Fs(args) => bench::fs::Options::from_args(args).map(drop),
        _ => Ok(()),
    };
    checked.map_err(|e| e.to_string())
}

fn run() -> anyhow::Result<()> {
    let command_line: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that succeed.
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            if prints() {
                let text = e.render().to_string();
                let _ = e.print();
                if code == EXIT_USAGE && !text.contains("Usage:") {
                    eprintln!("\n{}", usage());
                }
            }
            mpi::settle_before_exit();
            std::process::exit(code);
        }
    };
    match cli.command {
        Command::Mpiio(args) => {
            let options = bench::mpiio::Options::from_args(args)?;
            options.prepare_process()?;
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::Agree, mpi::abort_job)?;
            reported(bench::mpiio::run(&session, options, command_line))
        }
        Command::Partdiff(args) => {
            let options = bench::partdiff::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::ExitAtOnce, mpi::abort_job)?;
            reported(bench::partdiff::run(&session, options, command_line))
        }
        Command::Compare(args) => compare::run(compare::Options::from_args(args)?),
        Command::Import(args) => {
            let options = import::Options::from_args(args)?;
            interrupt::install(interrupt::Policy::Agree, mpi::abort_job)?; // noted, and checked between documents
            import::run(options)
        }
        Command::Net(args) => {
            let options = bench::net::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::ExitAtOnce, mpi::abort_job)?;
            reported(bench::net::run(&session, options, command_line))
        }
        Command::Fs(args) => {
            let options = bench::fs::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::Agree, mpi::abort_job)?;
            reported(bench::fs::run(&session, options, command_line))
        }
        Command::Campaign(command) => {
            campaign::run(campaign::Options::from_command(command, check_benchmark_args))
        }
        Command::Env(args) => {
            let options = bench::env::Options::from_args(args);
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::ExitAtOnce, mpi::abort_job)?;
            reported(bench::env::run(&session, options, command_line))
        }
    }
}
