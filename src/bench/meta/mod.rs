//! `pvbench meta`: mdtest's metadata phases under MPI. Every rank makes, stats, reads and
//! removes N items of its own, all ranks at once between barriers; rank 0 gathers each
//! phase's time and every operation's latency.

mod runner;
mod tree;

use std::time::Duration;

use anyhow::Context;
use mpi::topology::Communicator;

use self::runner::Runner;
use self::tree::{Interface, Layout};
use crate::cli::{MetaArgs, parse_time};
use crate::error::UsageError;
use crate::mpi::environment::{self, Extent, StealClock};
use crate::mpi::io::Info;
use crate::mpi::pvfs2tab;
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::meta::{MetaParameters, MetaResults, Phase, PhaseResult};
use crate::result::{self, Document, JsonTarget};

/// Validated options of one `pvbench meta` run.
#[derive(Debug)]
pub struct Options {
    dir: String,
    items: u64,
    iterations: u32,
    unique_dir: bool,
    phases: Vec<Phase>,
    write_bytes: u64,
    read_bytes: u64,
    /// `--timeout` as given, and as a duration.
    timeout: Option<(String, Duration)>,
    json: Option<JsonTarget>,
    force: bool,
    label: Option<String>,
}

/// The largest buffer of one create or read: one MPI call's count.
const MAX_ITEM_BYTES: u64 = i32::MAX as u64;

impl Options {
    pub fn from_args(args: MetaArgs) -> Result<Self, UsageError> {
        let dir = match args.dir {
            Some(dir) if dir.trim().is_empty() => return Err(UsageError("-d/--dir is empty".into())),
            Some(dir) => dir.trim_end_matches('/').to_string(),
            None => std::env::temp_dir().join("pvbench-meta").display().to_string(),
        };
        let dir = if dir.is_empty() { "/".to_string() } else { dir };
        if dir.starts_with("pvfs2:") {
            if !args.files_only {
                return Err(UsageError(format!(
                    "{dir}: MPI-IO makes no directories: add -F/--files-only (the file phases, in a directory that exists)"
                )));
            }
            if args.unique_dir {
                return Err(UsageError(format!(
                    "{dir}: --unique-dir needs a directory per rank, which MPI-IO cannot make"
                )));
            }
        }
        if args.read_bytes > args.write_bytes {
            return Err(UsageError(format!(
                "--read-bytes {} is more than --write-bytes {}: the read phase reads what the create phase wrote",
                args.read_bytes, args.write_bytes
            )));
        }
        if args.write_bytes > MAX_ITEM_BYTES {
            return Err(UsageError(format!(
                "--write-bytes {}: more than one call's {MAX_ITEM_BYTES} bytes",
                args.write_bytes
            )));
        }
        let timeout = match args.timeout {
            Some(text) => match parse_time("--timeout", &text)? {
                zero if zero.is_zero() => return Err(UsageError("--timeout 0: give a time above 0".into())),
                limit => Some((text, limit)),
            },
            None => None,
        };
        let phases = match (args.dirs_only, args.files_only) {
            (true, _) => Phase::DIRS.to_vec(),
            (_, true) => Phase::FILES.to_vec(),
            _ => Phase::DIRS.into_iter().chain(Phase::FILES).collect(),
        };
        Ok(Options {
            dir,
            items: args.items,
            iterations: args.iterations,
            unique_dir: args.unique_dir,
            phases,
            write_bytes: args.write_bytes,
            read_bytes: args.read_bytes,
            timeout,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
        })
    }

    fn is_local(&self) -> bool {
        !self.dir.starts_with("pvfs2:")
    }

    fn parameters(&self, interface: &Interface) -> MetaParameters {
        MetaParameters {
            dir: self.dir.clone(),
            items_per_rank: self.items,
            iterations: self.iterations,
            unique_dir: self.unique_dir,
            write_bytes: self.write_bytes,
            read_bytes: self.read_bytes,
            phases: self.phases.clone(),
            interface: interface.name().into(),
        }
    }
}

/// Rank 0's check of a local test directory: an empty one is used, a missing one is made
/// (and `true` returned: it is removed at the end), one holding anything is refused.
fn claim_dir(dir: &str) -> anyhow::Result<bool> {
    let path = std::path::Path::new(dir);
    match std::fs::read_dir(path) {
        Ok(entries) => {
            let names: Vec<String> =
                entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            if let Some(first) = names.iter().min() {
                return Err(UsageError(format!(
                    "{dir}: holds {} entr{} pvbench meta did not make ({first:?}{}); give an empty or new directory",
                    names.len(),
                    if names.len() == 1 { "y" } else { "ies" },
                    if names.len() > 1 { ", …" } else { "" }
                ))
                .into());
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(path).with_context(|| format!("{dir}: cannot make the test directory"))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(UsageError(format!("{dir}: not a directory")).into())
        }
        Err(e) => Err(e).with_context(|| format!("{dir}: cannot list it")),
    }
}

/// Everything in place before the first phase, the same on every rank: the outputs, the
/// directory (rank 0's `made_dir` is whether it made it), each rank's own directory.
fn prepare(session: &Session, options: &Options, layout: &Layout) -> anyhow::Result<(Interface, bool)> {
    let world = session.world();
    let ranks = world.size() as u64;
    let samples = options.items * u64::from(options.iterations);
    if samples * ranks > i32::MAX as u64 {
        return Err(UsageError(format!(
            "{} items x {} iterations x {ranks} ranks: more operation times than one gather holds ({})",
            options.items,
            options.iterations,
            i32::MAX
        ))
        .into());
    }
    let own = samples * options.phases.len() as u64 * 8 + options.write_bytes;
    let gathered = if session.is_root() { samples * ranks * 8 } else { 0 };
    mpi_util::check_memory_per_host(session, own + gathered, "meta's operation times")?;
    let mut made_dir = false;
    mpi_util::root_checks(world, || {
        if let Some(json) = &options.json {
            json.check_writable(options.force)?;
        }
        if options.is_local() {
            made_dir = claim_dir(&options.dir)?;
        }
        Ok(())
    })?;
    if let Some(pvfs2_path) = options.dir.strip_prefix("pvfs2:") {
        // Every rank: each host reads its own tab, and libpvfs2 crashes the rank whose server is gone.
        mpi_util::agree(world, pvfs2tab::check(pvfs2_path))?;
    }
    if !options.is_local() {
        let info = Info::new().map_err(|e| anyhow::anyhow!("building the MPI-IO info: {e}"));
        return Ok((Interface::MpiIo(mpi_util::agree(world, info)?), false));
    }
    let seen = match std::fs::metadata(&options.dir) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(anyhow::anyhow!("{}: no such directory on this rank's host", options.dir)),
    };
    let own_dir = seen.and_then(|()| {
        if !layout.unique_dir {
            return Ok(());
        }
        let own = layout.own_dir(session.rank() as u32);
        std::fs::create_dir(&own).with_context(|| format!("{own}: mkdir"))
    });
    if let Err(e) = mpi_util::agree(world, own_dir) {
        finish(session, layout, made_dir);
        return Err(e);
    }
    Ok((Interface::Posix, made_dir))
}

/// Removes what the run made around its items: each rank's own directory, then (rank 0, when
/// it made it) the test directory. Every rank calls it.
fn finish(session: &Session, layout: &Layout, made_dir: bool) {
    if layout.unique_dir {
        let _ = std::fs::remove_dir(layout.own_dir(session.rank() as u32));
    }
    mpi_util::barrier(session.world());
    if made_dir {
        let _ = std::fs::remove_dir(&layout.dir);
    }
}

/// On a `--timeout`: this rank's items, and rank 0 also those of the ranks on its host
/// (the job ends before theirs run), then the test directory if rank 0 made it.
fn clean_up_on_timeout(session: &Session, layout: &Layout, made_dir: bool) {
    let hosts = session.hosts();
    let me = session.rank() as usize;
    let ranks: Vec<u32> = if me == 0 {
        (0..hosts.len()).filter(|&r| hosts[r] == hosts[0]).map(|r| r as u32).collect()
    } else {
        vec![me as u32]
    };
    let layout = layout.clone();
    watchdog::clean_up_on_timeout(move || {
        layout.sweep(&ranks);
        if made_dir {
            let _ = std::fs::remove_dir(&layout.dir);
        }
    });
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    if let Some((given, after)) = options.timeout.clone() {
        let target = format!("{}{}", options.dir, pvfs2tab::server_note(&options.dir));
        let limit = watchdog::Limit { given, after, target, kind: watchdog::Kind::WholeRun };
        watchdog::start(limit, session.rank()).context("starting the --timeout watchdog")?;
    }
    let started_at = result::now_rfc3339();
    let layout = Layout { dir: options.dir.clone(), unique_dir: options.unique_dir };
    let (interface, made_dir) = prepare(session, &options, &layout)?;
    if options.is_local() {
        clean_up_on_timeout(session, &layout, made_dir);
    }
    let steal = StealClock::start();
    let mut runner = Runner::new(session, &options, &layout, &interface);
    let measured = runner.run_all();
    watchdog::enter(Stage::part("removal of the test directory"));
    // After a failure, items on a server that no longer answers are left to the campaign's reset.
    let cleaned =
        if measured.is_ok() || pvfs2tab::reachable(&options.dir) { runner.clean_up() } else { Ok(()) };
    finish(session, &layout, made_dir);
    let measured = measured?;
    mpi_util::agree(world, cleaned).context("removing the items")?;

    watchdog::enter(Stage::part("gathering of the results"));
    let ranks = world.size() as u64;
    let phases: Vec<PhaseResult> = measured
        .into_iter()
        .map(|m| {
            let seconds = mpi_util::gather_to_root(world, &m.seconds);
            let samples = mpi_util::gather_to_root(world, &m.samples);
            // mdtest: every rank's time is between the same barriers; the longest one counts.
            let slowest: Vec<f64> = (0..m.seconds.len())
                .map(|i| seconds.iter().skip(i).step_by(m.seconds.len()).copied().fold(0.0, f64::max))
                .collect();
            PhaseResult::new(m.phase, options.items * ranks, &slowest, samples)
        })
        .collect();
    let hosts = session.hosts();
    let Some(environment) = environment::gather(session, Some(&steal), Extent::Result)? else {
        return Ok(());
    };
    let document = Document {
        label: options.label.clone(),
        started_at: Some(started_at),
        command_line,
        ..session.document("meta", hosts, options.parameters(&interface), environment, MetaResults { phases })
    };
    report::publish(&report::meta::text(&document), options.json.as_ref(), &document)
}
