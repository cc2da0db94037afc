//! `pvbench mpiio`: the successor of PVFS2's mpi-io-test. Every rank writes its block of each
//! iteration into one shared, striped file (or its own file), then reads it back and checks
//! it; rank 0 gathers every rank's clock marks and reports both bandwidth conventions.

mod files;
mod pattern;
mod runner;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use mpi::topology::{Communicator, SimpleCommunicator};

use self::files::{Layout, delete_if_present, local_path, remove_after_failure};
use self::runner::{Measured, Runner, flatten, unflatten};
use crate::buffer::{ALIGNMENT, AlignedBuffer};
use crate::cli::{MpiioArgs, TextFormat, parse_time};
use crate::error::UsageError;
use crate::mpi::environment::{self, Extent, StealClock};
use crate::mpi::io::Info;
use crate::mpi::pvfs2tab;
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::mpiio::{
    Hint, MpiioParameters, MpiioResults, Operations, Order, Phase, PhaseResult, Verification,
};
use crate::result::outputs::{self, Output};
use crate::result::{self, Document, JsonTarget};

/// The most transfer memory filled or checked between two fences (see `Runner::fenced`):
/// large enough that small transfers are not each fenced by barriers, which would be most of
/// their time.
const BATCH_BYTES: usize = 16 << 20;

/// Validated options of one `pvbench mpiio` run.
#[derive(Debug)]
pub struct Options {
    /// The user's `-f`, or `None` for a fresh file in the temporary directory.
    file: Option<String>,
    block_size: u64,
    transfer_size: u64,
    segments: u32,
    order: Order,
    /// The seed of `Order::Random`, `None` for sequential.
    seed: Option<u64>,
    offset: u64,
    iterations: u32,
    collective: bool,
    hints: Vec<(String, String)>,
    sync: bool,
    verify: bool,
    keep: bool,
    phases: Vec<Phase>,
    file_per_process: bool,
    reorder_read: bool,
    pvfs2tab: Option<PathBuf>,
    /// `--timeout` as given, and as a duration.
    timeout: Option<(String, Duration)>,
    format: TextFormat,
    json: Option<JsonTarget>,
    /// Replace an existing output file (`--force`).
    force: bool,
    label: Option<String>,
}

impl Options {
    pub fn from_args(args: MpiioArgs) -> Result<Self, UsageError> {
        let transfer_size = args.transfer_size.unwrap_or(args.block_size);
        if !args.block_size.is_multiple_of(transfer_size) {
            return Err(UsageError(format!(
                "block size {} is not a multiple of transfer size {}",
                args.block_size, transfer_size
            )));
        }
        if transfer_size > i32::MAX as u64 {
            return Err(UsageError(format!(
                "transfer size {transfer_size} exceeds one MPI call's limit of {} bytes: give a smaller --transfer-size",
                i32::MAX
            )));
        }
        let mut phases = args.phases;
        phases.dedup();
        if let Some(file) = &args.file
            && file.trim().is_empty()
        {
            return Err(UsageError("-f/--file is empty".into()));
        }
        let timeout = match args.timeout {
            Some(text) => match parse_time("--timeout", &text)? {
                zero if zero.is_zero() => return Err(UsageError("--timeout 0: give a time above 0".into())),
                limit => Some((text, limit)),
            },
            None => None,
        };
        let seed = match (args.order, args.seed) {
            (Order::Random, seed) => Some(seed.unwrap_or(1)),
            (Order::Sequential, None) => None,
            (Order::Sequential, Some(_)) => {
                return Err(UsageError("--seed only applies to --order random".into()));
            }
        };
        let transfers = u128::from(args.iterations)
            * u128::from(args.segments)
            * u128::from(args.block_size / transfer_size);
        if transfers > u128::from(crate::bounds::MAX_TRANSFERS) {
            return Err(UsageError(format!(
                "{} iterations x {} segments x {} transfers per block = {transfers} transfers per rank and phase: \
                 more than {}, the most one run may hold (each keeps its latency)",
                args.iterations,
                args.segments,
                args.block_size / transfer_size,
                crate::bounds::MAX_TRANSFERS
            )));
        }
        if args.file.is_none() && !phases.contains(&Phase::Write) {
            return Err(UsageError("--phases without write needs -f FILE written by an earlier run".into()));
        }
        Ok(Options {
            file: args.file,
            block_size: args.block_size,
            transfer_size,
            segments: args.segments,
            order: args.order,
            seed,
            offset: args.offset.unwrap_or(0),
            iterations: args.iterations,
            collective: !args.independent,
            hints: args.hints,
            sync: args.sync,
            verify: !args.no_verify,
            keep: args.keep,
            phases,
            file_per_process: args.file_per_process,
            reorder_read: args.reorder_read,
            pvfs2tab: args.pvfs2tab,
            timeout,
            format: args.format,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
        })
    }

    /// What must be in place before `MPI_Init`: `--pvfs2tab` becomes `PVFS2TAB_FILE`, which
    /// ROMIO's pvfs2 driver reads at its first open. Set while the process has one thread:
    /// MPI_Init starts more (UCX's progress thread), and `set_var` is unsound beside them.
    pub fn prepare_process(&self) -> anyhow::Result<()> {
        if let Some(tab) = &self.pvfs2tab {
            crate::input::read(tab, crate::input::PVFS2TAB).context("--pvfs2tab")?;
            // SAFETY: called from `main` before MPI_Init; no other thread exists yet.
            unsafe { std::env::set_var("PVFS2TAB_FILE", tab) };
        }
        Ok(())
    }

    /// The shared file ends at offset + iterations × segments × ranks × block: that must be a
    /// valid `MPI_Offset` (a signed 64-bit integer), or offsets would wrap. Every rank finds
    /// the same answer.
    fn check_file_size(&self, ranks: u64) -> Result<(), UsageError> {
        let end = u128::from(self.offset)
            + u128::from(self.block_size)
                * u128::from(self.segments)
                * u128::from(self.iterations)
                * u128::from(ranks);
        if end > i64::MAX as u128 {
            let segments =
                if self.segments > 1 { format!(" x {} segments", self.segments) } else { String::new() };
            let offset = if self.offset > 0 { format!(" + offset {}", self.offset) } else { String::new() };
            return Err(UsageError(format!(
                "{} iterations{segments} x {ranks} ranks x block {} bytes{offset} = {end} bytes, beyond the largest MPI-IO offset ({})",
                self.iterations,
                self.block_size,
                i64::MAX
            )));
        }
        Ok(())
    }

    /// Bytes one rank moves in one iteration.
    fn bytes_per_iteration(&self) -> u64 {
        self.block_size * u64::from(self.segments)
    }

    /// Transfer calls of one rank in one iteration.
    fn transfers_per_iteration(&self) -> u64 {
        u64::from(self.segments) * (self.block_size / self.transfer_size)
    }

    /// Where transfer `i` of a batch sits in the buffer: transfers start on a page each, so
    /// that every transfer's memory is page-aligned whatever its size (only file offsets are
    /// unaligned).
    fn slot_stride(&self) -> usize {
        (self.transfer_size as usize).next_multiple_of(ALIGNMENT)
    }

    /// Transfers filled or checked at once between two fences: as many as fit in
    /// [`BATCH_BYTES`], at least one, at most an iteration's.
    fn batch_transfers(&self) -> usize {
        (BATCH_BYTES / self.slot_stride()).clamp(1, self.transfers_per_iteration() as usize)
    }

    /// This rank's memory: the batch buffer, a latency per transfer of a phase (all phases
    /// are kept until the end), the offsets of one iteration, and on rank 0 every rank's
    /// latencies of one phase.
    fn memory_needed(&self, rank: u32, ranks: u64) -> u64 {
        let buffer = (self.batch_transfers() * self.slot_stride()) as u64;
        let per_phase = u64::from(self.iterations) * self.transfers_per_iteration();
        let mut samples = per_phase * self.phases.len() as u64 + self.transfers_per_iteration();
        if rank == 0 {
            samples = samples.saturating_add(per_phase.saturating_mul(ranks));
        }
        buffer.saturating_add(samples.saturating_mul(8))
    }

    fn parameters(&self, file: &str) -> MpiioParameters {
        MpiioParameters {
            file: file.to_string(),
            block_size_bytes: self.block_size,
            transfer_size_bytes: self.transfer_size,
            segments: self.segments,
            order: self.order,
            seed: self.seed,
            offset_bytes: self.offset,
            iterations: self.iterations,
            collective: self.collective,
            hints: self
                .hints
                .iter()
                .map(|(key, value)| Hint { key: key.clone(), value: value.clone() })
                .collect(),
            sync: self.sync,
            verify: self.verify,
            keep: self.keep,
            phases: self.phases.clone(),
            file_per_process: self.file_per_process,
            reorder_read: self.reorder_read,
            pvfs2tab: self.pvfs2tab.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// Checks that can be made before any I/O, so a typo fails in a second and not after the
/// write phase: the output path, the directory, and what the path is.
///
/// Returns the free space of a local path's file system (`None` where it cannot be known, as
/// for a `pvfs2:` path through ROMIO), after refusing a write phase that cannot fit in it.
fn preflight(options: &Options, layout: &Layout) -> anyhow::Result<Option<u64>> {
    if let Some(json) = &options.json {
        json.check_writable(options.force)?;
    }
    let Some(local) = local_path(&layout.file) else {
        return Ok(None);
    };
    let dir = result::parent_dir(local);
    if !dir.is_dir() {
        bail!("{}: directory {} does not exist", layout.file, dir.display());
    }
    let files: Vec<String> = if options.file_per_process {
        (0..layout.ranks as u32).map(|r| layout.path(r)).collect()
    } else {
        vec![layout.file.clone()]
    };
    if let Some(JsonTarget::File(json)) = &options.json {
        // The test file is deleted and rewritten: the document must not be one of them.
        for file in &files {
            let data = local_path(file).expect("same prefix as the base");
            outputs::check_distinct(&[Output::new("--json", json), Output::new("-f", data)])?;
        }
    }
    // The old files are deleted before the write phase: their space counts as free.
    let mut reclaimed = 0;
    for file in files {
        let path = local_path(&file).expect("same prefix as the base");
        if path.is_dir() {
            bail!("{file}: is a directory, not a file");
        }
        if !options.phases.contains(&Phase::Write) && !path.exists() {
            bail!(
                "{file}: does not exist (a read-only run checks a file an earlier `--phases write --keep` run wrote)"
            );
        }
        reclaimed += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    let free = crate::env::free_bytes(dir).with_context(|| format!("{}: statvfs", dir.display()))?;
    let needed =
        options.offset + options.bytes_per_iteration() * u64::from(options.iterations) * layout.ranks;
    if options.phases.contains(&Phase::Write) && needed > free + reclaimed {
        bail!(
            "{}: the write phase needs {} but the file system has {} free",
            layout.file,
            report::size(needed),
            report::size(free + reclaimed)
        );
    }
    Ok(Some(free + reclaimed))
}

/// A fresh file name in the temporary directory, chosen by rank 0 and shared.
fn default_file(world: &SimpleCommunicator) -> String {
    let name = if world.rank() == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        std::env::temp_dir()
            .join(format!("pvbench-mpiio-{}-{nanos:09}", std::process::id()))
            .display()
            .to_string()
    } else {
        String::new()
    };
    mpi_util::broadcast_string(world, 0, &name)
}

/// Starts the `--timeout` watchdog of this rank, naming the file and, for a `pvfs2:` path,
/// its server (`note`) in the line it prints.
fn start_watchdog(session: &Session, options: &Options, note: &str) -> anyhow::Result<()> {
    let Some((given, after)) = options.timeout.clone() else { return Ok(()) };
    let mut target = options.file.clone().unwrap_or_else(|| "a file in the temporary directory".into());
    target.push_str(note);
    watchdog::start(watchdog::Limit { given, after, target, kind: watchdog::Kind::WholeRun }, session.rank())
        .context("starting the --timeout watchdog")
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    // The tab is read once: the watchdog's line and a failed call's message both name the server.
    let server_note = options.file.as_deref().map(pvfs2tab::server_note).unwrap_or_default();
    start_watchdog(session, &options, &server_note)?;
    let started_at = result::now_rfc3339();
    let (layout, info, free_space_bytes) = prepare(session, &options)?;
    let file = layout.file.clone();
    let hosts = session.hosts();
    let buffer_bytes = options.batch_transfers() * options.slot_stride();
    let buffer = AlignedBuffer::zeroed(buffer_bytes)
        .ok_or_else(|| anyhow!("cannot allocate a transfer buffer of {buffer_bytes} bytes"));
    let buffer = mpi_util::agree(world, buffer)?;
    mpi_util::barrier(world);
    let mut runner = Runner {
        session,
        options: &options,
        layout,
        info,
        rank: world.rank() as u32,
        epoch: session.time(),
        buffer,
        hints_in_effect: None,
        bytes_checked: 0,
        server_note,
    };
    let steal = StealClock::start();
    let measured = measure(&mut runner)?;
    watchdog::enter(Stage::part("gathering of the results"));

    let ranks = world.size() as usize;
    let phases: Vec<PhaseResult> = measured
        .into_iter()
        .map(|measured| {
            let all = mpi_util::all_gather(world, &flatten(&measured.timings)[..]);
            let timings = unflatten(&all, ranks, options.iterations as usize);
            let mut result =
                PhaseResult::from_timings(measured.phase, options.bytes_per_iteration(), timings);
            // Every rank's latencies to rank 0 only: they can be many.
            let latencies = mpi_util::gather_to_root(world, &measured.latencies_s);
            if options.transfers_per_iteration() > 1 {
                result.operations =
                    Some(Operations::from_samples(options.transfer_size, &result.iterations, latencies));
            }
            result
        })
        .collect();
    let bytes_checked: u64 = mpi_util::all_gather(world, &[runner.bytes_checked]).iter().sum();
    let Some(environment) = environment::gather(session, Some(&steal), Extent::Result)? else {
        return Ok(());
    };
    let document = Document {
        label: options.label.clone(),
        started_at: Some(started_at),
        command_line,
        ..session.document(
            "mpiio",
            hosts,
            options.parameters(&file),
            environment,
            MpiioResults {
                hints_in_effect: runner
                    .hints_in_effect
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .collect::<BTreeMap<_, _>>(),
                phases,
                free_space_bytes,
                verification: Verification {
                    performed: options.verify && options.phases.contains(&Phase::Read),
                    bytes_checked,
                },
            },
        )
    };
    let text = match options.format {
        TextFormat::Table => report::mpiio::table(&document),
        TextFormat::MpiIoTest => report::mpiio::mpi_io_test(&document),
    };
    report::publish(&text, options.json.as_ref(), &document)
}

/// Everything checked and built before the first I/O, the same on every rank: the file and
/// its layout, the paths, a `pvfs2:` path's server, the hints.
fn prepare(session: &Session, options: &Options) -> anyhow::Result<(Layout, Info, Option<u64>)> {
    let world = session.world();
    options.check_file_size(world.size() as u64)?;
    let ranks = world.size() as u64;
    let memory = options.memory_needed(world.rank() as u32, ranks);
    mpi_util::check_memory_per_host(session, memory, "the transfer buffers and latency samples")?;
    let layout = Layout {
        file: options.file.clone().unwrap_or_else(|| default_file(world)),
        block_size: options.block_size,
        segments: u64::from(options.segments),
        start: options.offset,
        ranks,
        file_per_process: options.file_per_process,
    };
    let mut free_bytes = None;
    mpi_util::root_checks(world, || preflight(options, &layout).map(|free| free_bytes = free))?;
    // Every rank: each host reads its own tab, and libpvfs2 crashes the rank whose server is gone.
    if let Some(pvfs2_path) = layout.file.strip_prefix("pvfs2:") {
        mpi_util::agree(world, pvfs2tab::check(pvfs2_path))?;
    }
    let info = Info::from_hints(options.hints.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| anyhow!("building the hints: {e}"));
    Ok((layout, mpi_util::agree(world, info)?, free_bytes))
}

/// Runs every phase, each write phase on a fresh file, then removes this rank's files unless
/// `--keep`; this rank's marks per phase.
fn measure(runner: &mut Runner) -> anyhow::Result<Vec<Measured>> {
    let world = runner.session.world();
    let options = runner.options;
    let own_files = runner.layout.own_files(runner.rank);
    let mut measure_phases = || -> anyhow::Result<Vec<Measured>> {
        let mut measured = Vec::new();
        for &phase in &options.phases {
            if phase == Phase::Write {
                // Start from nothing, so stale data from an earlier file cannot pass the check.
                watchdog::enter(Stage::part("removal of an old test file"));
                mpi_util::agree(world, own_files.iter().try_for_each(|f| delete_if_present(f)))?;
            }
            measured.push(runner.run_phase(phase)?);
        }
        Ok(measured)
    };
    if !options.keep {
        watchdog::remove_on_timeout(
            own_files.iter().filter_map(|f| local_path(f)).map(PathBuf::from).collect(),
        );
    }
    let measured = measure_phases();
    watchdog::enter(Stage::part("removal of the test file"));
    mpi_util::barrier(world);
    if !options.keep {
        if measured.is_ok() {
            let removed = own_files.iter().try_for_each(|f| delete_if_present(f));
            mpi_util::agree(world, removed).context("removing the test file")?;
        } else {
            own_files.iter().for_each(|f| remove_after_failure(f));
        }
    }
    measured
}
