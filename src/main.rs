//! pvbench: the front door. Parse, pick the subcommand, map errors to exit codes.
// Standard output and error only through `console`: a closed pipe must not panic.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use clap::{CommandFactory, Parser};

use pvbench::cli::{Cli, Command};
use pvbench::error::{EXIT_STDOUT_CLOSED, EXIT_USAGE, exit_code};
use pvbench::{bench, campaign, compare, console, import, interrupt, mpi};

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

/// Prints `error` on the launcher's rank 0, as one line and one write (a launcher that merges
/// the ranks' output must not cut the line), and returns its exit code. A closed standard
/// output ends quietly.
fn report(error: &anyhow::Error) -> i32 {
    let code = exit_code(error);
    if mpi::prints_errors() && code != EXIT_STDOUT_CLOSED {
        console::to_stderr(&if code > 128 {
            format!("pvbench: {error:#}\n")
        } else if code == EXIT_USAGE {
            usage_line(&format!("{error:#}"))
        } else {
            format!("pvbench: error: {error:#}\n")
        });
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

/// A usage error as one line: the message and where the help is (the command on the command
/// line, as far as it names subcommands: "pvbench campaign check --help").
fn usage_line(message: &str) -> String {
    let mut command = Cli::command();
    let mut words = vec!["pvbench".to_string()];
    for word in std::env::args().skip(1) {
        match command.find_subcommand(&word) {
            Some(sub) => {
                words.push(word);
                command = sub.clone();
            }
            None => break,
        }
    }
    format!("pvbench: error: {message} (see {} --help)\n", words.join(" "))
}

/// clap's message on one line: its lines up to the usage, `tip:` lines in parentheses.
fn clap_message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let mut parts = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        match line.strip_prefix("tip: ") {
            Some(tip) => parts.push(format!("({tip})")),
            None if !line.is_empty() => parts.push(line.trim_start_matches("error: ").to_string()),
            None => {}
        }
    }
    parts.join(" ")
}

/// A campaign plan's arguments for one benchmark, checked as its own command line would check
/// them; the problem on one line.
fn check_benchmark_args(kind: &str, args: &[String]) -> Result<(), String> {
    let words = ["pvbench", kind].into_iter().map(String::from).chain(args.iter().cloned());
    let cli = Cli::try_parse_from(words).map_err(|e| clap_message(&e))?;
    let checked = match cli.command {
        Command::Mpiio(args) => bench::mpiio::Options::from_args(args).map(drop),
        Command::Partdiff(args) => bench::partdiff::Options::from_args(args).map(drop),
        Command::Net(args) => bench::net::Options::from_args(args).map(drop),
        Command::Fs(args) => bench::fs::Options::from_args(args).map(drop),
        Command::Meta(args) => bench::meta::Options::from_args(args).map(drop),
        _ => Ok(()),
    };
    checked.map_err(|e| e.to_string())
}

fn run() -> anyhow::Result<()> {
    let command_line: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            // --help and --version are "errors" that succeed; a missing subcommand shows help.
            let mut code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            if mpi::prints_errors() {
                match e.kind() {
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                        if console::print(&e.render().to_string()).is_err() {
                            code = EXIT_STDOUT_CLOSED;
                        }
                    }
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        console::to_stderr(&e.render().to_string())
                    }
                    _ => console::to_stderr(&usage_line(&clap_message(&e))),
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
        Command::Meta(args) => {
            let options = bench::meta::Options::from_args(args)?;
            let session = mpi::Session::init()?;
            interrupt::install(interrupt::Policy::Agree, mpi::abort_job)?;
            reported(bench::meta::run(&session, options, command_line))
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
