//! The one gate for every file a user names (plans, hostfiles, documents, imports, pvfs2tabs,
//! campaign state): only a regular file is read, and at most a stated number of bytes, so that
//! `/dev/zero`, a FIFO or a directory is one clear line instead of a hang or an allocation abort.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a file is read as, and the most it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub what: &'static str,
    pub max_bytes: u64,
}

const MIB: u64 = 1 << 20;

/// A campaign plan (TOML).
pub const PLAN: Kind = Kind { what: "a plan", max_bytes: MIB };
/// An MPICH hostfile.
pub const HOSTFILE: Kind = Kind { what: "a hostfile", max_bytes: MIB };
/// A pvfs2tab (fstab lines).
pub const PVFS2TAB: Kind = Kind { what: "a pvfs2tab", max_bytes: MIB };
/// A result document of pvbench's (JSON).
pub const DOCUMENT: Kind = Kind { what: "a result document", max_bytes: 256 * MIB };
/// Another tool's output to import.
pub const IMPORT: Kind = Kind { what: "a file to import", max_bytes: 256 * MIB };
/// A campaign's manifest.
pub const MANIFEST: Kind = Kind { what: "a campaign manifest", max_bytes: 256 * MIB };

#[derive(Debug)]
pub enum InputError {
    /// Not a regular file: what it is instead.
    NotAFile {
        path: PathBuf,
        is: &'static str,
        kind: Kind,
    },
    TooLarge {
        path: PathBuf,
        kind: Kind,
    },
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl InputError {
    /// Whether the gate refused the file (not a regular file, or over its cap): a usage error.
    pub fn is_refused(&self) -> bool {
        !matches!(self, InputError::Io { .. })
    }

    /// Whether the file does not exist (a caller may treat that as "none yet").
    pub fn is_missing(&self) -> bool {
        matches!(self, InputError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NotAFile { path, is, kind } => {
                write!(
                    f,
                    "{}: is {is}, not a regular file ({} is read from a file)",
                    path.display(),
                    kind.what
                )
            }
            InputError::TooLarge { path, kind } => write!(
                f,
                "{}: larger than {}, the most {} may hold",
                path.display(),
                bytesize::ByteSize::b(kind.max_bytes).display().iec(),
                kind.what
            ),
            InputError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for InputError {}

/// What a file that is not regular is, in words.
fn describe(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Reads `path` whole, if it is a regular file of at most `kind.max_bytes`.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, InputError> {
    let io = |error| InputError::Io { path: path.into(), error };
    // O_NONBLOCK: opening a FIFO for reading would wait for a writer; the type is known only
    // after the open (checking before it would race with a rename).
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if let Some(is) = describe(metadata.file_type()) {
        return Err(InputError::NotAFile { path: path.into(), is, kind });
    }
    if metadata.len() > kind.max_bytes {
        return Err(InputError::TooLarge { path: path.into(), kind });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // A file that grows while it is read is still held to the cap.
    file.take(kind.max_bytes + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > kind.max_bytes {
        return Err(InputError::TooLarge { path: path.into(), kind });
    }
    Ok(bytes)
}

/// Reads `path` as text (invalid UTF-8 is an error naming the file).
pub fn read_text(path: &Path, kind: Kind) -> Result<String, InputError> {
    String::from_utf8(read(path, kind)?).map_err(|e| InputError::Io {
        path: path.into(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Kind = Kind { what: "a test file", max_bytes: 8 };

    #[test]
    fn a_regular_file_within_its_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345678").unwrap();
        assert_eq!(read(&path, SMALL).unwrap(), b"12345678");
        assert_eq!(read_text(&path, SMALL).unwrap(), "12345678");
    }

    #[test]
    fn what_is_not_a_regular_file_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, is) in [
            (dir.path().to_path_buf(), "is a directory"),
            (fifo, "is a FIFO (named pipe)"),
            (PathBuf::from("/dev/zero"), "is a character device"),
        ] {
            let error = read(&path, SMALL).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("{}: {is}, not a regular file (a test file is read from a file)", path.display())
            );
        }
    }

    #[test]
    fn a_file_over_its_cap_names_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"123456789").unwrap();
        let error = read(&path, SMALL).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}: larger than 8 B, the most a test file may hold", path.display())
        );
        assert!(!error.is_missing());
        assert!(read(&dir.path().join("missing"), SMALL).unwrap_err().is_missing());
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read_text(&path, SMALL).unwrap_err().to_string().contains("not UTF-8"));
    }
}
