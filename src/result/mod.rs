//! The result document: one serde model for every pvbench run (the single source of truth for
//! every export), and its atomic writer. Knows nothing of MPI.
//!
//! Units live in field names (`_bytes`, `_s`, `_mib_per_s`, `_mb_per_s`); MB = 10^6 bytes,
//! MiB = 2^20 bytes.

pub mod campaign;
pub mod comparison;
pub mod env;
pub mod fs;
pub mod imported;
pub mod meta;
pub mod mpiio;
pub mod net;
pub mod outputs;
pub mod partdiff;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::env::Environment;

/// Bumped whenever a field changes meaning or disappears (adding a field does not bump it).
/// 3: imported documents (`imported_from`): fields a tool does not print are null, the
/// environment is only what the user stated.
pub const SCHEMA_VERSION: u32 = 3;

/// Everything one run produced. `P` are the parsed parameters and `R` the kind-specific
/// results; a reader that does not know the kind can take `Document<Value, Value>`. `E` is
/// the environment: detected on every host for a run, stated by the user for an import.
#[derive(Debug, Serialize, Deserialize)]
pub struct Document<P, R, E = Environment> {
    pub schema_version: u32,
    pub tool: Tool,
    /// `mpiio` or `partdiff` (later `net`, `fs`, ...).
    pub kind: String,
    pub label: Option<String>,
    /// RFC 3339, UTC; for an import, the time the tool printed (null where it printed none).
    pub started_at: Option<String>,
    pub command_line: Vec<String>,
    pub parameters: P,
    pub ranks: Ranks,
    pub mpi_library_version: Option<String>,
    /// The MPI library file this process loaded (rank 0's), e.g. `/usr/lib/x86_64-linux-gnu/libmpich.so.12`.
    pub mpi_library_path: Option<String>,
    pub environment: E,
    pub results: R,
    /// Set on documents made by `pvbench import` from another tool's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<imported::ImportedFrom>,
}

impl<P, R, E> Document<P, R, E> {
    /// A document of this pvbench for a run of `kind`: what the caller knows of the run itself
    /// (label, start, command line, MPI library, import) is left empty for it to fill in.
    pub fn new(kind: &str, ranks: Ranks, parameters: P, environment: E, results: R) -> Self {
        Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            kind: kind.into(),
            label: None,
            started_at: None,
            command_line: Vec::new(),
            parameters,
            ranks,
            mpi_library_version: None,
            mpi_library_path: None,
            environment,
            results,
            imported_from: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Self {
        Tool { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Ranks {
    pub count: u32,
    /// Host name of each rank, indexed by rank.
    pub hosts: Vec<String>,
}

/// The current time as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Where a JSON document goes: a file, or standard output for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonTarget {
    Stdout,
    File(PathBuf),
}

impl JsonTarget {
    pub fn parse(arg: &str) -> Self {
        if arg == "-" { JsonTarget::Stdout } else { JsonTarget::File(PathBuf::from(arg)) }
    }

    pub fn is_stdout(&self) -> bool {
        *self == JsonTarget::Stdout
    }

    /// Fails unless the document could be written, and written without replacing a file
    /// (unless `force`): checked before a benchmark runs, so that an hour of measurement is
    /// never lost to a typo in the output path.
    pub fn check_writable(&self, force: bool) -> Result<(), crate::error::UsageError> {
        match self {
            JsonTarget::Stdout => Ok(()),
            JsonTarget::File(path) => outputs::check_file(&outputs::Output::new("--json", path), force),
        }
    }

    pub fn write<T: Serialize>(&self, document: &T) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(document).context("serialising the result")?;
        text.push('\n');
        match self {
            JsonTarget::Stdout => crate::console::print(&text),
            // A device or pipe (`--json /dev/null`, a FIFO a script reads) is written to;
            // renaming a file over it would replace the device itself.
            JsonTarget::File(path) if is_special_file(path) => std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .with_context(|| format!("writing {}", path.display())),
            JsonTarget::File(path) => write_atomically(path, text.as_bytes()),
        }
    }
}

/// An existing path that is neither a regular file nor a directory: a device, FIFO or socket.
fn is_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The directory a path's file lives in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`:
/// readers see the old document or the whole new one, never half of it; the directory is
/// synced after the rename so that the new name survives a crash. The file gets the mode a
/// plain create would (0666 less the umask), not the temporary file's 0600.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent_dir(path);
    let mut temp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|_| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", temp.path().display()))?;
    temp.persist(path).with_context(|| format!("renaming the result into {}", path.display()))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))?;
    Ok(())
}

/// The `p`-th percentile of `sorted` by the nearest-rank method: the smallest sample with at
/// least p % of the samples at or below it (always a sample, so p50 <= p99 <= max holds).
pub fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The mode of a plain create: 0666 less the umask (0644 with the usual 022).
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: umask only swaps the process's mask; it is put back at once.
        let mask = unsafe { libc::umask(0o022) };
        unsafe { libc::umask(mask) };
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !(mask as u32), "mode {mode:o} with umask {mask:o}");
    }

    #[test]
    fn a_fifo_is_written_to_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let target = JsonTarget::parse(fifo.to_str().unwrap());
        target.check_writable(false).unwrap();
        target.write(&serde_json::json!({"kind": "env"})).unwrap();
        // Checked before joining: had the FIFO been replaced, its reader would wait forever.
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
        assert_eq!(reader.join().unwrap(), "{\n  \"kind\": \"env\"\n}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn missing_directory_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let target = JsonTarget::parse(dir.path().join("no/such/r.json").to_str().unwrap());
        let err = target.check_writable(false).unwrap_err();
        assert!(err.0.contains("does not exist"), "{}", err.0);
        assert!(JsonTarget::parse(dir.path().to_str().unwrap()).check_writable(true).is_err());
        assert!(JsonTarget::parse("-").check_writable(false).is_ok());
    }
}
