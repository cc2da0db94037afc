//! `pvbench fs`: iozone's automatic sweep (`-a`) as a subcommand: every file size × record
//! size, the tests by iozone's numbers, on every rank's own file at the same time.

mod grid;
mod io;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use mpi::topology::Communicator;

use crate::buffer::AlignedBuffer;
use crate::cli::{DropCache, FsArgs, parse_time};
use crate::error::UsageError;
use crate::mpi::environment::{self, Extent, StealClock};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::fs::{Cell, FsParameters, FsResults, RankSweep};
use crate::result::outputs::{self, Output};
use crate::result::{self, Document, JsonTarget};
use grid::Test;
use io::Pass;

/// O_DIRECT needs records in whole blocks; 4 KiB covers every common device.
const DIRECT_ALIGNMENT: u64 = 4096;

#[derive(Debug)]
pub struct Options {
    target: PathBuf,
    /// `--dir` (a file is made in it) or `--file` (the path itself).
    in_dir: bool,
    files: Vec<u64>,
    records: Vec<u64>,
    skip_small: bool,
    tests: Vec<Test>,
    settings: io::Settings,
    drop_cache: DropCache,
    between_tests: Option<String>,
    hook_timeout: Duration,
    csv: Option<PathBuf>,
    json: Option<JsonTarget>,
    /// Replace an existing output file (`--force`).
    force: bool,
    label: Option<String>,
}

impl Options {
    pub fn from_args(args: FsArgs) -> Result<Self, UsageError> {
        let (target, in_dir) = match (args.dir, args.file) {
            (_, Some(file)) => (file, false),
            (Some(dir), None) => (dir, true),
            (None, None) => (std::env::temp_dir(), true),
        };
        let (min_record, max_record) =
            (args.min_record.unwrap_or(4 << 10), args.max_record.unwrap_or(16 << 20));
        for (what, min, max) in [("file", args.min_file, args.max_file), ("record", min_record, max_record)] {
            // 0 is refused by the size parser.
            if min > max {
                return Err(UsageError(format!(
                    "--min-{what} {min} and --max-{what} {max}: need min <= max"
                )));
            }
        }
        if min_record > args.min_file {
            return Err(UsageError(format!(
                "--min-record {min_record} is larger than --min-file {}: no file would have a record",
                args.min_file
            )));
        }
        let records = grid::doubling(min_record, max_record);
        if let Some(r) = records.iter().find(|&&r| r % DIRECT_ALIGNMENT != 0)
            && args.direct
        {
            return Err(UsageError(format!(
                "--direct: record size {r} is not a multiple of {DIRECT_ALIGNMENT} bytes"
            )));
        }
        let mut tests: Vec<Test> = Vec::new();
        for text in &args.tests {
            let test = Test::parse(text)?;
            if !tests.contains(&test) {
                tests.push(test);
            }
        }
        tests.sort();
        Ok(Options {
            target,
            in_dir,
            files: grid::doubling(args.min_file, args.max_file),
            records,
            skip_small: args.min_record.is_none() && args.max_record.is_none() && !args.all_records,
            tests,
            settings: io::Settings {
                direct: args.direct,
                include_flush: args.include_flush,
                include_close: args.include_close,
                seed: args.seed,
            },
            drop_cache: args.drop_cache,
            between_tests: args.between_tests,
            hook_timeout: parse_time("--hook-timeout", &args.hook_timeout)?,
            csv: args.csv,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
        })
    }

    fn parameters(&self) -> FsParameters {
        FsParameters {
            target: self.target.display().to_string(),
            min_file_bytes: self.files[0],
            max_file_bytes: *self.files.last().unwrap_or(&0),
            min_record_bytes: self.records[0],
            max_record_bytes: *self.records.last().unwrap_or(&0),
            tests: self.tests.iter().map(|t| t.iozone_number()).collect(),
            skip_small_records: self.skip_small,
            direct: self.settings.direct,
            include_flush: self.settings.include_flush,
            include_close: self.settings.include_close,
            drop_cache: format!("{:?}", self.drop_cache).to_lowercase(),
            between_tests: self.between_tests.clone(),
            seed: self.settings.seed,
        }
    }

    /// The JSON and CSV outputs: each writable and new (or `--force`), and not one file, nor
    /// the test file.
    fn check_outputs(&self) -> Result<(), UsageError> {
        let mut outputs = Vec::new();
        if let Some(JsonTarget::File(path)) = &self.json {
            outputs.push(Output::new("--json", path));
        }
        if let Some(csv) = &self.csv {
            outputs.push(Output::new("--csv", csv));
        }
        for output in &outputs {
            outputs::check_file(output, self.force)?;
        }
        if !self.in_dir {
            outputs.push(Output::new("--file", &self.target));
        }
        outputs::check_distinct(&outputs)
    }

    /// This rank's test file.
    fn path(&self, rank: i32, ranks: i32) -> PathBuf {
        let suffix = if ranks > 1 { format!(".{rank}") } else { String::new() };
        if self.in_dir {
            self.target.join(format!("pvbench-fs.{}{suffix}.tmp", std::process::id()))
        } else {
            PathBuf::from(format!("{}{suffix}", self.target.display()))
        }
    }
}

/// The test file, removed when the sweep ends however it ends.
struct TestFile(PathBuf);

impl Drop for TestFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Creates the file (refusing one that exists), and checks O_DIRECT where asked.
fn create(path: &Path, options: &Options) -> anyhow::Result<TestFile> {
    let parent = result::parent_dir(path);
    if !parent.is_dir() {
        anyhow::bail!("{}: no such directory", parent.display());
    }
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).with_context(|| {
        format!("{}: cannot create the test file (pvbench fs writes a new file)", path.display())
    })?;
    let file = TestFile(path.to_path_buf());
    if options.settings.direct {
        use std::os::unix::fs::OpenOptionsExt;
        let direct = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path);
        if let Err(e) = direct {
            anyhow::bail!(
                "{}: the file system refuses O_DIRECT ({e}); tmpfs does: drop --direct",
                parent.display()
            );
        }
    }
    Ok(file)
}

/// Refuses a sweep whose largest file does not fit: the ranks of one file system together.
fn check_space(session: &Session, path: &Path, need: u64) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let dir = result::parent_dir(path);
    let local = std::fs::metadata(dir).map(|m| m.dev()).with_context(|| format!("{}", dir.display()));
    let device = mpi_util::agree(session.world(), local)?;
    let hosts = session.hosts();
    let devices = mpi_util::all_gather(session.world(), &[device]);
    let me = session.rank() as usize;
    let sharing =
        (0..devices.len()).filter(|&r| devices[r] == device && hosts[r] == hosts[me]).count() as u64;
    let verdict = crate::env::space(dir).with_context(|| format!("{}: statvfs", dir.display())).and_then(
        |(free, total)| {
            // A file system that keeps no count (ramfs) cannot be checked.
            if total > 0 && need * sharing > free {
                anyhow::bail!(
                    "{}: the largest file, {} for each of {sharing} rank(s) here, needs {}; {} free",
                    dir.display(),
                    report::size(need),
                    report::size(need * sharing),
                    report::size(free)
                );
            }
            Ok(())
        },
    );
    mpi_util::agree(session.world(), verdict)
}

fn run_hook(command: &str, timeout: Duration) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    // Its own process group: at the timeout the whole command goes (a `sleep` the shell
    // started would otherwise hold the job's output open until it ends).
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .process_group(0)
        .spawn()
        .context("--between-tests")?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                anyhow::bail!("--between-tests {command:?} failed ({status})");
            }
            return Ok(());
        }
        let kill_group = |child: &mut std::process::Child| {
            // SAFETY: signals the group this function made; no memory is touched.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
        };
        // Ctrl-C reaches the terminal's group, not the hook's: it goes with pvbench.
        if let Err(interrupted) = crate::interrupt::check() {
            kill_group(&mut child);
            return Err(interrupted.into());
        }
        if std::time::Instant::now() > deadline {
            kill_group(&mut child);
            anyhow::bail!("--between-tests {command:?} did not finish within {timeout:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn drop_cache(how: DropCache, path: &Path) -> anyhow::Result<()> {
    match how {
        DropCache::None => Ok(()),
        DropCache::Fadvise => {
            io::drop_from_cache(path).with_context(|| format!("{}: posix_fadvise", path.display()))
        }
        DropCache::System => {
            // SAFETY: sync has no preconditions.
            unsafe { libc::sync() };
            std::fs::write("/proc/sys/vm/drop_caches", "3")
                .context("--drop-cache system: /proc/sys/vm/drop_caches (root only)")
        }
    }
}

/// One cell (file size, record size): every test's two passes; returns the cells measured.
fn sweep_cell(
    path: &Path,
    file_size: u64,
    buffer: &mut AlignedBuffer,
    options: &Options,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<Cell>> {
    let mut cells = Vec::new();
    let cell = format!("file {} record {}", report::size(file_size), report::size(buffer.len() as u64));
    let measure =
        |name: &str, pass: Pass, buffer: &mut AlignedBuffer, cells: &mut Vec<Cell>| -> anyhow::Result<()> {
            crate::interrupt::check()?;
            progress.set_message(format!("{cell} {name}"));
            if matches!(pass, Pass::Read | Pass::Pread | Pass::RandomRead) {
                drop_cache(options.drop_cache, path)?;
            }
            let seconds = io::run(path, pass, file_size, buffer, &options.settings).with_context(|| {
                format!(
                    "{} ({name}, {} file, {} records)",
                    path.display(),
                    report::size(file_size),
                    report::size(buffer.len() as u64)
                )
            })?;
            let kib_per_s = file_size as f64 / 1024.0 / seconds;
            cells.push(Cell {
                file_size_bytes: file_size,
                record_size_bytes: buffer.len() as u64,
                pass: name.to_string(),
                seconds: Some(seconds),
                kib_per_s,
                mib_per_s: kib_per_s / 1024.0,
                bytes_moved: None,
                group: None,
            });
            progress.inc(file_size);
            Ok(())
        };
    // Every test needs the file: the write test makes it, or an untimed write when not asked.
    if !options.tests.contains(&Test::Write) {
        progress.set_message(format!("{cell} untimed write"));
        io::run(path, Pass::Write { create: true }, file_size, buffer, &options.settings)?;
        progress.inc(file_size);
    }
    for test in &options.tests {
        if let Some(hook) = &options.between_tests {
            run_hook(hook, options.hook_timeout)?;
        }
        let [first, second] = test.passes();
        let (a, b) = match test {
            Test::Write => (Pass::Write { create: true }, Pass::Write { create: false }),
            Test::Read => (Pass::Read, Pass::Read),
            Test::Random => (Pass::RandomRead, Pass::RandomWrite),
            Test::Pwrite => (Pass::Pwrite, Pass::Pwrite),
            Test::Pread => (Pass::Pread, Pass::Pread),
        };
        measure(first, a, buffer, &mut cells)?;
        measure(second, b, buffer, &mut cells)?;
    }
    Ok(cells)
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    mpi_util::root_checks(world, || Ok(options.check_outputs()?))?;
    let cells = grid::cells(&options.files, &options.records, options.skip_small);
    if cells.is_empty() {
        return Err(UsageError("no record size fits a file size: nothing to sweep".into()).into());
    }
    let started_at = result::now_rfc3339();
    let path = options.path(session.rank(), world.size());
    let largest_record = cells.iter().map(|c| c.1).max().unwrap_or(0);
    mpi_util::check_memory_per_host(session, largest_record, "fs's record buffer")?;
    check_space(session, &path, cells.iter().map(|c| c.0).max().unwrap_or(0))?;
    let file = mpi_util::agree(world, create(&path, &options))?;

    let passes = 2 * options.tests.len() as u64 + u64::from(!options.tests.contains(&Test::Write));
    let total: u64 = cells.iter().map(|c| c.0 * passes).sum();
    let progress = if session.is_root() {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ETA {eta}",
            )
            .expect("a valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let steal = StealClock::start();
    let mut measured: Vec<Cell> = Vec::new();
    let mut buffers: Vec<(u64, AlignedBuffer)> = Vec::new();
    for &(file_size, record) in &cells {
        if !buffers.iter().any(|(r, _)| *r == record) {
            buffers.clear(); // records go up within a file size: keep one buffer at a time
            let buffer = AlignedBuffer::zeroed(record as usize)
                .ok_or_else(|| anyhow::anyhow!("cannot allocate a record buffer of {record} bytes"));
            buffers.push((record, mpi_util::agree(world, buffer)?));
        }
        let buffer = &mut buffers[0].1;
        // Every rank measures the same cell at the same time.
        mpi_util::barrier(world);
        let outcome = sweep_cell(&path, file_size, buffer, &options, &progress);
        measured.extend(mpi_util::agree(world, outcome)?);
    }
    progress.finish_and_clear();
    drop(file);

    let hosts = session.hosts();
    let mine = serde_json::to_string(&(path.display().to_string(), measured))?;
    let all = mpi_util::all_gather_strings(world, &mine);
    let Some(environment) = environment::gather(session, Some(&steal), Extent::Result)? else {
        return Ok(());
    };
    let ranks: Vec<RankSweep> = all
        .iter()
        .enumerate()
        .map(|(rank, text)| {
            let (file, cells): (String, Vec<Cell>) = serde_json::from_str(text)?;
            Ok(RankSweep { rank: rank as u32, host: hosts[rank].clone(), file, cells })
        })
        .collect::<anyhow::Result<_>>()?;
    let document = Document {
        label: options.label.clone(),
        started_at: Some(started_at),
        command_line,
        ..session.document("fs", hosts, options.parameters(), environment, FsResults { ranks })
    };
    if let Some(csv) = &options.csv {
        result::write_atomically(csv, report::fs::csv(&document).as_bytes())?;
    }
    report::publish(&report::fs::text(&document), options.json.as_ref(), &document)
}
