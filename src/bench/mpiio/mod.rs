//! `pvbench mpiio`: the successor of PVFS2's mpi-io-test. Every rank writes its block of each
//! iteration into one shared, striped file (or its own file), then reads it back and checks
//! it; rank 0 gathers every rank's clock marks and reports both bandwidth conventions.

mod pattern;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use mpi::topology::{Communicator, SimpleCommunicator};

use crate::cli::{MpiioArgs, TextFormat};
use crate::error::{UsageError, VerificationError};
use crate::mpi::io::{self, Access, ErrorClass, File, Info, MpiIoError};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::mpiio::{
    Hint, MpiioParameters, MpiioResults, Phase, PhaseResult, RankTiming, Verification,
};
use crate::result::{self, Document, JsonTarget, Ranks, Tool};

/// ROMIO prefixes whose paths are ordinary local (or kernel-mounted) paths.
const LOCAL_PREFIXES: [&str; 2] = ["ufs", "nfs"];

/// Validated options of one `pvbench mpiio` run.
#[derive(Debug)]
pub struct Options {
    /// The user's `-f`, or `None` for a fresh file in the temporary directory.
    file: Option<String>,
    block_size: u64,
    transfer_size: u64,
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
    format: TextFormat,
    json: Option<JsonTarget>,
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
        if args.file.is_none() && !phases.contains(&Phase::Write) {
            return Err(UsageError("--phases without write needs -f FILE written by an earlier run".into()));
        }
        Ok(Options {
            file: args.file,
            block_size: args.block_size,
            transfer_size,
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
            format: args.format,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            label: args.output.label,
        })
    }

    fn parameters(&self, file: &str) -> MpiioParameters {
        MpiioParameters {
            file: file.to_string(),
            block_size_bytes: self.block_size,
            transfer_size_bytes: self.transfer_size,
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

/// The ROMIO prefix of a path (`pvfs2` in `pvfs2://pvfs2/testfile`), if it has one. One
/// letter is not a prefix, so that a drive-letter-like name is not mistaken for one.
fn romio_prefix(path: &str) -> Option<&str> {
    let (prefix, _) = path.split_once(':')?;
    (prefix.len() >= 2 && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(prefix)
}

/// The local path behind `path`, when it is a plain path or a `ufs:`/`nfs:` one.
fn local_path(path: &str) -> Option<&Path> {
    match romio_prefix(path) {
        None => Some(Path::new(path)),
        Some(prefix) if LOCAL_PREFIXES.contains(&prefix) => Some(Path::new(&path[prefix.len() + 1..])),
        Some(_) => None,
    }
}

/// Where each rank's data lives: file name and offset of (writer rank, iteration).
struct Layout {
    file: String,
    block_size: u64,
    ranks: u64,
    file_per_process: bool,
}

impl Layout {
    fn path(&self, writer: u32) -> String {
        if self.file_per_process { format!("{}.{writer:08}", self.file) } else { self.file.clone() }
    }

    /// mpi-io-test's striping: iteration j, rank r at (j*P + r)*b; one file per rank holds
    /// its own blocks back to back.
    fn offset(&self, writer: u32, iteration: u32) -> u64 {
        let slot = if self.file_per_process {
            u64::from(iteration)
        } else {
            u64::from(iteration) * self.ranks + u64::from(writer)
        };
        slot * self.block_size
    }

    /// The files this rank is responsible for creating and deleting.
    fn own_files(&self, rank: u32) -> Vec<String> {
        match (self.file_per_process, rank) {
            (true, _) => vec![self.path(rank)],
            (false, 0) => vec![self.file.clone()],
            (false, _) => vec![],
        }
    }
}

/// A failed MPI-IO call on a path, explained in one line with the library's own words.
/// Rendered only when shown (see `MpiIoError`).
#[derive(Debug)]
struct FileError {
    path: String,
    error: MpiIoError,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let FileError { path, error } = self;
        let prefix = romio_prefix(path).filter(|p| !LOCAL_PREFIXES.contains(p));
        let what = match (error.class, prefix) {
            // Delete and open are the first calls that meet the prefix; ROMIO answers a file
            // system it was built without with MPI_ERR_IO there.
            (ErrorClass::Io, Some(prefix)) if matches!(error.call, "MPI_File_open" | "MPI_File_delete") => {
                return write!(
                    f,
                    "{path}: this MPI library's ROMIO does not support the `{prefix}:` file system ({}: {}). \
                     Use an MPI built with ROMIO's {prefix} driver, or mount the file system with its kernel \
                     client and pass the mount path as a plain path",
                    error.call,
                    error.message()
                );
            }
            (ErrorClass::Access, _) => "permission denied",
            (ErrorClass::NoSuchFile, _) => "no such file or directory",
            (ErrorClass::NoSpace, _) => "no space left on the file system",
            (ErrorClass::BadFile, _) => "not a valid file name (a directory?)",
            _ => "I/O error",
        };
        write!(f, "{path}: {what} ({}: {})", error.call, error.message())
    }
}

impl std::error::Error for FileError {}

fn describe(error: MpiIoError, path: &str) -> anyhow::Error {
    FileError { path: path.to_string(), error }.into()
}

/// Deletes `path` if it exists; a missing file is fine.
fn delete_if_present(path: &str) -> anyhow::Result<()> {
    match io::delete(path) {
        Err(e) if e.class != ErrorClass::NoSuchFile => Err(describe(e, path)),
        _ => Ok(()),
    }
}

/// Checks that can be made before any I/O, so a typo fails in a second and not after the
/// write phase: the output path, the directory, and what the path is.
fn preflight(options: &Options, layout: &Layout) -> anyhow::Result<()> {
    if let Some(json) = &options.json {
        json.check_writable()?;
    }
    let Some(local) = local_path(&layout.file) else {
        return Ok(());
    };
    let dir = match local.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!("{}: directory {} does not exist", layout.file, dir.display());
    }
    let files: Vec<String> = if options.file_per_process {
        (0..layout.ranks as u32).map(|r| layout.path(r)).collect()
    } else {
        vec![layout.file.clone()]
    };
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
    }
    Ok(())
}

/// What one rank needs while it runs the phases.
struct Runner<'a> {
    session: &'a Session,
    options: &'a Options,
    layout: Layout,
    info: Info,
    rank: u32,
    epoch: f64,
    buffer: Vec<u8>,
    hints_in_effect: Option<Vec<(String, String)>>,
    bytes_checked: u64,
}

impl Runner<'_> {
    fn now(&self) -> f64 {
        self.session.time() - self.epoch
    }

    fn open(&self, path: &str, access: Access) -> Result<File, MpiIoError> {
        if self.options.file_per_process {
            File::open_self(path, access, &self.info)
        } else {
            File::open(self.session.world(), path, access, &self.info)
        }
    }

    /// One phase, all iterations: this rank's clock marks per iteration.
    fn run_phase(&mut self, phase: Phase) -> anyhow::Result<Vec<RankTiming>> {
        let ranks = self.layout.ranks as u32;
        (0..self.options.iterations)
            .map(|iteration| {
                let writer = match phase {
                    Phase::Read if self.options.reorder_read => (self.rank + 1) % ranks,
                    _ => self.rank,
                };
                self.run_iteration(phase, iteration, writer)
            })
            .collect()
    }

    fn run_iteration(&mut self, phase: Phase, iteration: u32, writer: u32) -> anyhow::Result<RankTiming> {
        let opts = self.options;
        let path = self.layout.path(writer);
        let block_offset = self.layout.offset(writer, iteration);
        let key = pattern::block_key(writer, iteration);
        let transfers = opts.block_size / opts.transfer_size;
        if phase == Phase::Write {
            pattern::fill(&mut self.buffer, block_offset, key);
        }
        let access = if phase == Phase::Write { Access::CreateWrite } else { Access::ReadOnly };

        mpi_util::barrier(self.session.world());
        let open_start_s = self.now();
        let opened = self.open(&path, access);
        let open_end = self.now();
        let mut file = mpi_util::agree(self.session.world(), opened.map_err(|e| describe(e, &path)))?;

        // After a failure a rank keeps taking part in the remaining collective calls with
        // empty transfers, so that no rank waits forever; the error is shared after close.
        let mut failure: Option<anyhow::Error> = None;
        if self.hints_in_effect.is_none() && self.rank == 0 {
            match file.hints_in_effect() {
                Ok(hints) => self.hints_in_effect = Some(hints),
                Err(e) => failure = Some(describe(e, &path)),
            }
        }
        let mut mismatch: Option<(pattern::Mismatch, u64)> = None;
        let (mut transfer_s, mut excluded_s) = (0.0, 0.0);
        for k in 0..transfers {
            let offset = block_offset + k * opts.transfer_size;
            if failure.is_some() && !opts.collective {
                break;
            }
            if phase == Phase::Write && k > 0 && failure.is_none() {
                let t = self.now();
                pattern::fill(&mut self.buffer, offset, key);
                excluded_s += self.now() - t;
            }
            let len = if failure.is_some() { 0 } else { self.buffer.len() };
            let t = self.now();
            let moved = match phase {
                Phase::Write => file.write_at(offset, &self.buffer[..len], opts.collective),
                Phase::Read => file.read_at(offset, &mut self.buffer[..len], opts.collective),
            };
            transfer_s += self.now() - t;
            if failure.is_some() {
                continue;
            }
            match moved {
                Err(e) => failure = Some(describe(e, &path)),
                Ok(n) if n != len && phase == Phase::Write => {
                    failure = Some(anyhow!("{path}: short write at offset {offset}: {n} of {len} bytes"))
                }
                Ok(n) if n != len => {
                    failure = Some(
                        VerificationError(format!(
                            "{path}: file ends early: read {n} of {len} bytes at offset {offset} \
                         (iteration {iteration}, block of rank {writer})"
                        ))
                        .into(),
                    )
                }
                Ok(_) if phase == Phase::Read && opts.verify => {
                    let t = self.now();
                    if let Some(bad) = pattern::check(&self.buffer, offset, key) {
                        mismatch.get_or_insert((bad, 0)).1 += bad.bad_bytes;
                    }
                    self.bytes_checked += len as u64;
                    excluded_s += self.now() - t;
                }
                Ok(_) => {}
            }
        }
        let transfer_end = self.now();
        if phase == Phase::Write && opts.sync {
            let synced = file.sync();
            if failure.is_none() {
                failure = synced.err().map(|e| describe(e, &path));
            }
        }
        let sync_end = self.now();
        let closed = file.close();
        let close_end_s = self.now();
        if failure.is_none() {
            failure = closed.err().map(|e| describe(e, &path));
        }
        if failure.is_none()
            && let Some((first, bad_bytes)) = mismatch
        {
            failure = Some(VerificationError(format!(
                "verification failed: {path}, iteration {iteration}, block of rank {writer} read by rank {}: \
                 first bad byte at file offset {} (byte {} of the block), {bad_bytes} of {} bytes differ",
                self.rank,
                first.first_bad_offset,
                first.first_bad_offset - block_offset,
                opts.block_size
            )).into());
        }
        mpi_util::agree(self.session.world(), failure.map_or(Ok(()), Err))?;
        Ok(RankTiming {
            rank: self.rank,
            open_start_s,
            open_s: open_end - open_start_s,
            transfer_s,
            sync_s: sync_end - transfer_end,
            close_s: close_end_s - sync_end,
            close_end_s,
            excluded_s,
        })
    }
}

const TIMING_FIELDS: usize = 7;

fn flatten(timings: &[RankTiming]) -> Vec<f64> {
    timings
        .iter()
        .flat_map(|t| {
            [t.open_start_s, t.open_s, t.transfer_s, t.sync_s, t.close_s, t.close_end_s, t.excluded_s]
        })
        .collect()
}

/// `timings[iteration][rank]` from every rank's flattened marks, in rank order.
fn unflatten(all: &[f64], ranks: usize, iterations: usize) -> Vec<Vec<RankTiming>> {
    (0..iterations)
        .map(|iteration| {
            (0..ranks)
                .map(|rank| {
                    let at = (rank * iterations + iteration) * TIMING_FIELDS;
                    let f = &all[at..at + TIMING_FIELDS];
                    RankTiming {
                        rank: rank as u32,
                        open_start_s: f[0],
                        open_s: f[1],
                        transfer_s: f[2],
                        sync_s: f[3],
                        close_s: f[4],
                        close_end_s: f[5],
                        excluded_s: f[6],
                    }
                })
                .collect()
        })
        .collect()
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

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    let started_at = result::now_rfc3339();
    if let Some(tab) = &options.pvfs2tab {
        let found =
            if tab.is_file() { Ok(()) } else { Err(anyhow!("--pvfs2tab {}: no such file", tab.display())) };
        mpi_util::agree(world, found)?;
        // SAFETY: no other thread of ours runs; ROMIO's pvfs2 driver reads it at its first open.
        unsafe { std::env::set_var("PVFS2TAB_FILE", tab) };
    }
    let file = options.file.clone().unwrap_or_else(|| default_file(world));
    let layout = Layout {
        file: file.clone(),
        block_size: options.block_size,
        ranks: world.size() as u64,
        file_per_process: options.file_per_process,
    };
    mpi_util::root_checks(world, || preflight(&options, &layout))?;
    let hosts = session.hosts();
    let info = Info::from_hints(options.hints.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| anyhow!("building the hints: {e}"))?;

    mpi_util::barrier(world);
    let mut runner = Runner {
        session,
        options: &options,
        layout,
        info,
        rank: world.rank() as u32,
        epoch: session.time(),
        buffer: vec![0u8; options.transfer_size as usize],
        hints_in_effect: None,
        bytes_checked: 0,
    };
    let own_files = runner.layout.own_files(runner.rank);
    let measured = (|| -> anyhow::Result<Vec<(Phase, Vec<RankTiming>)>> {
        let mut measured = Vec::new();
        for &phase in &options.phases {
            if phase == Phase::Write {
                // Start from nothing, so stale data from an earlier file cannot pass the check.
                mpi_util::agree(world, own_files.iter().try_for_each(|f| delete_if_present(f)))?;
            }
            measured.push((phase, runner.run_phase(phase)?));
        }
        Ok(measured)
    })();
    mpi_util::barrier(world);
    if !options.keep {
        let removed = own_files.iter().try_for_each(|f| delete_if_present(f));
        if measured.is_ok() {
            mpi_util::agree(world, removed).context("removing the test file")?;
        }
    }
    let measured = measured?;

    let ranks = world.size() as usize;
    let iterations = options.iterations as usize;
    let phases: Vec<PhaseResult> = measured
        .into_iter()
        .map(|(phase, timings)| {
            let all = mpi_util::all_gather(world, &flatten(&timings)[..]);
            PhaseResult::from_timings(phase, options.block_size, unflatten(&all, ranks, iterations))
        })
        .collect();
    let bytes_checked: u64 = mpi_util::all_gather(world, &[runner.bytes_checked]).iter().sum();
    if !session.is_root() {
        return Ok(());
    }
    let document = Document {
        schema_version: result::SCHEMA_VERSION,
        tool: Tool::this(),
        kind: "mpiio".into(),
        label: options.label.clone(),
        started_at,
        command_line,
        parameters: options.parameters(&file),
        ranks: Ranks { count: ranks as u32, hosts },
        mpi_library_version: Some(session.library_version()),
        environment: crate::env::Environment::detect(),
        results: MpiioResults {
            hints_in_effect: runner
                .hints_in_effect
                .take()
                .unwrap_or_default()
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            phases,
            verification: Verification {
                performed: options.verify && options.phases.contains(&Phase::Read),
                bytes_checked,
            },
        },
    };
    let text = match options.format {
        TextFormat::Table => report::mpiio::table(&document),
        TextFormat::MpiIoTest => report::mpiio::mpi_io_test(&document),
    };
    report::print_human(&text, options.json.as_ref().is_some_and(JsonTarget::is_stdout));
    if let Some(json) = &options.json {
        json.write(&document)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_local_paths() {
        assert_eq!(romio_prefix("pvfs2://pvfs2/testfile"), Some("pvfs2"));
        assert_eq!(romio_prefix("/tmp/a:b"), None);
        assert_eq!(romio_prefix("c:/x"), None);
        assert_eq!(local_path("ufs:/tmp/x"), Some(Path::new("/tmp/x")));
        assert_eq!(local_path("/tmp/x"), Some(Path::new("/tmp/x")));
        assert_eq!(local_path("pvfs2:/x"), None);
    }

    #[test]
    fn layout_is_mpi_io_test_striping() {
        let shared = Layout { file: "f".into(), block_size: 10, ranks: 3, file_per_process: false };
        assert_eq!(shared.offset(0, 0), 0);
        assert_eq!(shared.offset(2, 0), 20);
        assert_eq!(shared.offset(1, 2), 70);
        assert_eq!(shared.own_files(0), vec!["f"]);
        assert!(shared.own_files(1).is_empty());
        let fpp = Layout { file_per_process: true, ..shared };
        assert_eq!(fpp.offset(2, 3), 30);
        assert_eq!(fpp.path(2), "f.00000002");
        assert_eq!(fpp.own_files(1), vec!["f.00000001"]);
    }

    #[test]
    fn timings_survive_the_flattening() {
        let t = |rank, x: f64| RankTiming {
            rank,
            open_start_s: x,
            open_s: x + 1.0,
            transfer_s: x + 2.0,
            sync_s: x + 3.0,
            close_s: x + 4.0,
            close_end_s: x + 5.0,
            excluded_s: x + 6.0,
        };
        let rank0 = vec![t(0, 0.0), t(0, 10.0)];
        let rank1 = vec![t(1, 20.0), t(1, 30.0)];
        let all: Vec<f64> = [flatten(&rank0), flatten(&rank1)].concat();
        let back = unflatten(&all, 2, 2);
        assert_eq!(back[0], vec![rank0[0], rank1[0]]);
        assert_eq!(back[1], vec![rank0[1], rank1[1]]);
    }
}
