//! Where the data lives: ROMIO prefixes, the file layout, deleting, and what a failed MPI-IO
//! call on a path means, in one line.

use std::path::Path;

use anyhow::Context;

use crate::mpi::io::{self, Access, ErrorClass, File, Info, MpiIoError};

/// ROMIO prefixes whose paths are ordinary local (or kernel-mounted) paths.
const LOCAL_PREFIXES: [&str; 2] = ["ufs", "nfs"];

/// The ROMIO prefix of a path (`pvfs2` in `pvfs2:/pvfs2/testfile`), if it has one. One
/// letter is not a prefix, so that a drive-letter-like name is not mistaken for one.
pub(super) fn romio_prefix(path: &str) -> Option<&str> {
    let (prefix, _) = path.split_once(':')?;
    (prefix.len() >= 2 && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(prefix)
}

/// The local path behind `path`, when it is a plain path or a `ufs:`/`nfs:` one.
pub(super) fn local_path(path: &str) -> Option<&Path> {
    match romio_prefix(path) {
        None => Some(Path::new(path)),
        Some(prefix) if LOCAL_PREFIXES.contains(&prefix) => Some(Path::new(&path[prefix.len() + 1..])),
        Some(_) => None,
    }
}

/// Where each rank's data lives: file name and offset of (writer rank, iteration, segment).
pub(super) struct Layout {
    pub file: String,
    pub block_size: u64,
    /// Segments per iteration (IOR's `-s`).
    pub segments: u64,
    /// Bytes before the first block (`--offset`).
    pub start: u64,
    pub ranks: u64,
    pub file_per_process: bool,
}

impl Layout {
    pub fn path(&self, writer: u32) -> String {
        if self.file_per_process { format!("{}.{writer:08}", self.file) } else { self.file.clone() }
    }

    /// mpi-io-test's striping with IOR's segments: iteration j, segment s, rank r at
    /// ((j*S + s)*P + r)*b after the start; one file per rank holds its own blocks back to
    /// back.
    pub fn offset(&self, writer: u32, iteration: u32, segment: u64) -> u64 {
        let stripe_set = u64::from(iteration) * self.segments + segment;
        let slot =
            if self.file_per_process { stripe_set } else { stripe_set * self.ranks + u64::from(writer) };
        self.start + slot * self.block_size
    }

    /// The segment and the byte within its block of a file offset.
    pub fn locate(&self, file_offset: u64) -> (u64, u64) {
        let from_start = file_offset - self.start;
        let slot = from_start / self.block_size;
        let stripe_set = if self.file_per_process { slot } else { slot / self.ranks };
        (stripe_set % self.segments, from_start % self.block_size)
    }

    /// The files this rank is responsible for creating and deleting.
    pub fn own_files(&self, rank: u32) -> Vec<String> {
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
            // Open MPI's OMPIO does not know ROMIO's prefixes: it looks for the path as given.
            (ErrorClass::NoSuchFile, Some(prefix))
                if matches!(error.call, "MPI_File_open" | "MPI_File_delete") =>
            {
                return write!(
                    f,
                    "{path}: no such file or directory ({}: {}); if this MPI's MPI-IO is not ROMIO \
                     (Open MPI's OMPIO), it does not understand the `{prefix}:` prefix",
                    error.call,
                    error.message()
                );
            }
            (ErrorClass::Invalid, _) => return write!(f, "{path}: {error}"),
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

pub(super) fn describe(error: MpiIoError, path: &str) -> anyhow::Error {
    FileError { path: path.to_string(), error }.into()
}

/// Deletes `path` if it exists; a missing file is fine.
///
/// Never decided by a guessed class: ROMIO's pvfs2 driver (MPICH 4.0.2) answers both a delete
/// and a read-only open of a missing file with a code of no class at all. A local path is
/// removed by the kernel's own answer. Otherwise a delete that succeeds, or fails with
/// `NoSuchFile`, settles it; any other failure may mean "missing" or a real fault, so the file
/// is created (an open that fails now is a real fault) and deleted again, and a failure of that
/// second delete, of a file known to exist, is an error.
pub(super) fn delete_if_present(path: &str) -> anyhow::Result<()> {
    if let Some(local) = local_path(path) {
        return match std::fs::remove_file(local) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            removed => removed.with_context(|| format!("{path}: cannot delete it")),
        };
    }
    match io::delete(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.class == ErrorClass::NoSuchFile => return Ok(()),
        Err(_) => {}
    }
    let info = Info::new().map_err(|e| describe(e, path))?;
    let file = File::open_self(path, Access::CreateWrite, &info).map_err(|e| describe(e, path))?;
    file.close().map_err(|e| describe(e, path))?;
    io::delete(path).map_err(|e| describe(e, path))
}

/// After a failed run: one attempt to remove `path`, whatever the outcome, and none on a
/// `pvfs2:` path whose server does not take a connection. Not the create and delete of
/// [`delete_if_present`]: with the server gone, libpvfs2 spends its retries (~12 s with
/// OrangeFS's defaults) on each server request of a delete, ~50 s before the run could say why
/// it failed; a campaign's reset removes the file anyway.
pub(super) fn remove_after_failure(path: &str) {
    if let Some(local) = local_path(path) {
        drop(std::fs::remove_file(local));
    } else if crate::mpi::pvfs2tab::reachable(path) {
        drop(io::delete(path));
    }
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
    fn each_failure_class_reads_as_what_it_means() {
        let line = |path: &str, call, class| {
            FileError { path: path.into(), error: MpiIoError::for_test(call, class, "the library's words") }
                .to_string()
        };
        let open = "MPI_File_open";
        assert_eq!(
            line("/d/f", open, ErrorClass::Access),
            "/d/f: permission denied (MPI_File_open: the library's words)"
        );
        assert!(line("/d/f", open, ErrorClass::NoSuchFile).starts_with("/d/f: no such file or directory ("));
        assert!(
            line("/d/f", "MPI_File_write_at", ErrorClass::NoSpace)
                .starts_with("/d/f: no space left on the file system (")
        );
        assert!(
            line("/d/f", open, ErrorClass::BadFile)
                .starts_with("/d/f: not a valid file name (a directory?) (")
        );
        assert!(line("/d/f", open, ErrorClass::Io).starts_with("/d/f: I/O error ("));
        assert_eq!(
            line("pvfs2:/m/f", "MPI_File_delete", ErrorClass::Invalid),
            "pvfs2:/m/f: the MPI library returned an invalid error code -524286 from MPI_File_delete"
        );
        assert!(
            line("pvfs2:/m/f", open, ErrorClass::Io)
                .contains("ROMIO does not support the `pvfs2:` file system")
        );
        assert!(
            line("pvfs2:/m/f", open, ErrorClass::NoSuchFile)
                .ends_with("(Open MPI's OMPIO), it does not understand the `pvfs2:` prefix")
        );
        // Only the calls that first meet the prefix say so; a later failure is an I/O error.
        assert!(
            line("pvfs2:/m/f", "MPI_File_write_at_all", ErrorClass::Io)
                .starts_with("pvfs2:/m/f: I/O error (")
        );
    }

    #[test]
    fn layout_is_mpi_io_test_striping() {
        let shared = Layout {
            file: "f".into(),
            block_size: 10,
            segments: 1,
            start: 0,
            ranks: 3,
            file_per_process: false,
        };
        assert_eq!(shared.offset(0, 0, 0), 0);
        assert_eq!(shared.offset(2, 0, 0), 20);
        assert_eq!(shared.offset(1, 2, 0), 70);
        assert_eq!(shared.own_files(0), vec!["f"]);
        assert!(shared.own_files(1).is_empty());
        let fpp = Layout { file_per_process: true, ..shared };
        assert_eq!(fpp.offset(2, 3, 0), 30);
        assert_eq!(fpp.path(2), "f.00000002");
        assert_eq!(fpp.own_files(1), vec!["f.00000001"]);
    }

    /// IOR-hard: -t 47008 -b 47008 -s S puts transfer i of rank r at (i*P + r)*47008, each
    /// iteration after the last; --offset shifts everything.
    #[test]
    fn segments_are_ior_stripe_sets_after_the_start() {
        let b = 47008;
        let hard = Layout {
            file: "f".into(),
            block_size: b,
            segments: 4,
            start: 0,
            ranks: 2,
            file_per_process: false,
        };
        assert_eq!(hard.offset(0, 0, 3), 6 * b);
        assert_eq!(hard.offset(1, 0, 3), 7 * b);
        assert_eq!(hard.offset(1, 1, 0), 9 * b);
        assert_eq!(hard.locate(7 * b + 5), (3, 5));
        assert_eq!(hard.locate(9 * b), (0, 0));
        let shifted = Layout { start: 1, ..hard };
        assert_eq!(shifted.offset(1, 0, 3), 7 * b + 1);
        assert_eq!(shifted.locate(7 * b + 1), (3, 0));
        let fpp = Layout { file_per_process: true, ..shifted };
        assert_eq!(fpp.offset(1, 1, 2), 6 * b + 1);
        assert_eq!(fpp.locate(6 * b + 1), (2, 0));
    }
}
