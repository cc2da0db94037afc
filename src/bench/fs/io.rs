//! The passes of a sweep over one file: what each times, as iozone does it. The timer runs
//! from after the open to after the last transfer (plus fsync with `--include-flush`, and the
//! close with `--include-close`); buffers are page-aligned, so O_DIRECT works and the kernel
//! copies at full speed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::buffer::AlignedBuffer;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub direct: bool,
    pub include_flush: bool,
    pub include_close: bool,
    pub seed: u64,
}

/// How a pass moves through the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `write()` from the start; `create` makes a new file first (iozone's write, not rewrite).
    Write {
        create: bool,
    },
    Read,
    RandomRead,
    RandomWrite,
    Pwrite,
    Pread,
}

fn open(path: &Path, pass: Pass, settings: &Settings) -> io::Result<File> {
    let mut options = OpenOptions::new();
    match pass {
        Pass::Write { create: true } => options.write(true).create(true).truncate(true),
        Pass::Write { create: false } | Pass::Pwrite | Pass::RandomWrite => options.write(true),
        Pass::Read | Pass::Pread | Pass::RandomRead => options.read(true),
    };
    if settings.direct {
        options.custom_flags(libc::O_DIRECT);
    }
    options.open(path)
}

/// Runs one pass over `file_size` bytes in records of `buffer.len()`; returns the seconds timed.
pub fn run(
    path: &Path,
    pass: Pass,
    file_size: u64,
    buffer: &mut AlignedBuffer,
    settings: &Settings,
) -> io::Result<f64> {
    if pass == (Pass::Write { create: true }) {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let record = buffer.len() as u64;
    let records = file_size / record;
    let mut file = open(path, pass, settings)?;
    // The positions (and the random order) are drawn before the timer starts.
    let positions = positions(pass, records, settings.seed);
    let started = Instant::now();
    match pass {
        Pass::Write { .. } => {
            for _ in 0..records {
                file.write_all(buffer)?;
            }
        }
        Pass::Read => {
            for _ in 0..records {
                file.read_exact(buffer)?;
            }
        }
        Pass::Pwrite | Pass::RandomWrite => {
            for &i in &positions {
                file.write_all_at(buffer, i * record)?;
            }
        }
        Pass::Pread | Pass::RandomRead => {
            for &i in &positions {
                file.read_exact_at(buffer, i * record)?;
            }
        }
    }
    let writes = matches!(pass, Pass::Write { .. } | Pass::Pwrite | Pass::RandomWrite);
    if settings.include_flush && writes {
        file.sync_all()?;
    }
    let mut seconds = started.elapsed().as_secs_f64();
    if settings.include_close {
        drop(file);
        seconds = started.elapsed().as_secs_f64();
    }
    Ok(seconds)
}

/// The records a positional pass visits, in order: every one once; in file order for pwrite and
/// pread, shuffled by `seed` for random read (`seed + 1` for random write, so the two passes do
/// not repeat one order). Empty for the streaming passes.
fn positions(pass: Pass, records: u64, seed: u64) -> Vec<u64> {
    let shuffled = |seed: u64| {
        let mut order: Vec<u64> = (0..records).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        order
    };
    match pass {
        Pass::Pwrite | Pass::Pread => (0..records).collect(),
        Pass::RandomRead => shuffled(seed),
        Pass::RandomWrite => shuffled(seed.wrapping_add(1)),
        Pass::Write { .. } | Pass::Read => Vec::new(),
    }
}

/// Drops the file's pages from the page cache (after writing them back), so the next pass
/// reads from the device: `posix_fadvise(POSIX_FADV_DONTNEED)`.
pub fn drop_from_cache(path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let file = File::open(path)?;
    file.sync_all()?;
    // SAFETY: a valid descriptor; fadvise only advises the kernel.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings { direct: false, include_flush: true, include_close: true, seed: 7 }
    }

    #[test]
    fn every_pass_moves_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        for pass in [
            Pass::Write { create: true },
            Pass::Write { create: false },
            Pass::Read,
            Pass::RandomRead,
            Pass::RandomWrite,
            Pass::Pwrite,
            Pass::Pread,
        ] {
            let seconds = run(&path, pass, 64 * 4096, &mut buffer, &settings()).unwrap();
            assert!(seconds > 0.0, "{pass:?}");
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * 4096, "{pass:?}");
        }
        drop_from_cache(&path).unwrap();
    }

    /// Writes at each record's offset: an empty file grows to the whole size, whatever the order.
    #[test]
    fn positional_and_random_writes_cover_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        for pass in [Pass::Pwrite, Pass::RandomWrite] {
            let path = dir.path().join(format!("{pass:?}"));
            std::fs::File::create(&path).unwrap();
            run(&path, pass, 16 * 4096, &mut buffer, &settings()).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 16 * 4096, "{pass:?}");
        }
    }

    /// The random passes visit every record once, in a shuffled order that the seed fixes and
    /// that differs between read and write; pwrite and pread go in file order.
    #[test]
    fn random_passes_visit_every_record_once_in_a_seeded_shuffled_order() {
        let in_order: Vec<u64> = (0..256).collect();
        for pass in [Pass::RandomRead, Pass::RandomWrite] {
            let order = positions(pass, 256, 7);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, in_order, "{pass:?}: every record once");
            let in_place = order.iter().zip(&in_order).filter(|(a, b)| a == b).count();
            assert!(in_place < 16, "{pass:?}: shuffled, {in_place} of 256 records in place");
            assert_eq!(order, positions(pass, 256, 7), "{pass:?}: the seed fixes the order");
            assert_ne!(order, positions(pass, 256, 8), "{pass:?}: another seed, another order");
        }
        assert_ne!(positions(Pass::RandomRead, 256, 7), positions(Pass::RandomWrite, 256, 7));
        assert_eq!(positions(Pass::RandomWrite, 256, 7), positions(Pass::RandomRead, 256, 8));
        for pass in [Pass::Pwrite, Pass::Pread] {
            assert_eq!(positions(pass, 256, 7), in_order, "{pass:?}");
        }
        assert!(
            positions(Pass::Read, 256, 7).is_empty()
                && positions(Pass::Write { create: true }, 256, 7).is_empty()
        );
    }

    /// Reads at each record's offset: a file one record short fails at the missing record.
    #[test]
    fn every_read_pass_reaches_the_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short");
        std::fs::write(&path, vec![1u8; 15 * 4096]).unwrap();
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        for pass in [Pass::Read, Pass::Pread, Pass::RandomRead] {
            let err = run(&path, pass, 16 * 4096, &mut buffer, &settings()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{pass:?}");
        }
    }

    #[test]
    fn a_directory_in_the_way_is_an_error_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        assert!(
            run(&dir.path().join("d"), Pass::Write { create: true }, 4096, &mut buffer, &settings()).is_err()
        );
        assert!(dir.path().join("d").is_dir());
    }

    #[test]
    fn a_missing_file_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        let err = run(&dir.path().join("none"), Pass::Read, 4096, &mut buffer, &settings()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
