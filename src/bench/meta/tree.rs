//! Where the items live and how each operation reaches them: system calls on a local path,
//! ROMIO (through `mpi::io`) on a `pvfs2:` path.

use std::ops::Range;

use anyhow::{Context, bail};

use crate::mpi::io::{self, Access, File, Info};
use crate::result::meta::Phase;

/// The names of one rank's items: `DIR/[rank.R/]dir.R.I` and `DIR/[rank.R/]file.R.I`.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub dir: String,
    pub unique_dir: bool,
}

impl Layout {
    /// The directory rank `rank` works in.
    pub fn parent(&self, rank: u32) -> String {
        if self.unique_dir { self.own_dir(rank) } else { self.dir.clone() }
    }

    /// The rank's own directory (`--unique-dir`).
    pub fn own_dir(&self, rank: u32) -> String {
        format!("{}/rank.{rank}", self.dir)
    }

    pub fn item(&self, phase: Phase, rank: u32, index: u64) -> String {
        let kind = if Phase::DIRS.contains(&phase) { "dir" } else { "file" };
        format!("{}/{kind}.{rank}.{index}", self.parent(rank))
    }

    /// Removes every item of `ranks` and their own directories: after a `--timeout`, on a
    /// local directory that held nothing of anyone else's when the run began (so what is
    /// there by these names is the run's). Reads the directories rather than trying every
    /// name: the items left are few, the names many.
    pub fn sweep(&self, ranks: &[u32]) {
        let parents: Vec<String> = if self.unique_dir {
            ranks.iter().map(|&r| self.own_dir(r)).collect()
        } else {
            vec![self.dir.clone()]
        };
        for parent in &parents {
            let Ok(entries) = std::fs::read_dir(parent) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let owner = name.split('.').nth(1).and_then(|r| r.parse::<u32>().ok());
                if owner.is_some_and(|r| ranks.contains(&r)) {
                    let path = entry.path();
                    let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir(&path));
                }
            }
            if self.unique_dir {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
}

/// How the operations reach the file system (IOR's idea: one table of operations per
/// interface, and a benchmark loop that does not know which one it drives).
pub(super) enum Interface {
    /// mkdir, stat, rmdir, open/write/close, open/read/close, unlink.
    Posix,
    /// ROMIO: files only (MPI-IO makes no directories).
    MpiIo(Info),
}

impl Interface {
    pub fn name(&self) -> &'static str {
        match self {
            Interface::Posix => "posix",
            Interface::MpiIo(_) => "mpi-io",
        }
    }

    /// One operation of `phase` on `path`: `data` is written at a create, `buffer` filled at a
    /// read.
    pub fn run(&self, phase: Phase, path: &str, data: &[u8], buffer: &mut [u8]) -> anyhow::Result<()> {
        match self {
            Interface::Posix => posix(phase, path, data, buffer),
            Interface::MpiIo(info) => mpi_io(info, phase, path, data, buffer),
        }
    }

    /// Removes an item this rank made (after a failure or an interrupt).
    pub fn remove(&self, phase: Phase, path: &str) -> anyhow::Result<()> {
        let removal = if Phase::DIRS.contains(&phase) { Phase::DirRemove } else { Phase::FileRemove };
        self.run(removal, path, &[], &mut [])
    }
}

fn posix(phase: Phase, path: &str, data: &[u8], buffer: &mut [u8]) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let (what, done) = match phase {
        Phase::DirCreate => ("mkdir", std::fs::create_dir(path)),
        Phase::DirStat | Phase::FileStat => ("stat", std::fs::metadata(path).map(drop)),
        Phase::DirRemove => ("rmdir", std::fs::remove_dir(path)),
        Phase::FileCreate => (
            "create",
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(path)
                .and_then(|mut f| if data.is_empty() { Ok(()) } else { f.write_all(data) }),
        ),
        Phase::FileRead => (
            "read",
            std::fs::File::open(path)
                .and_then(|mut f| if buffer.is_empty() { Ok(()) } else { f.read_exact(buffer) }),
        ),
        Phase::FileRemove => ("unlink", std::fs::remove_file(path)),
    };
    done.with_context(|| format!("{path}: {what}"))
}

fn mpi_io(info: &Info, phase: Phase, path: &str, data: &[u8], buffer: &mut [u8]) -> anyhow::Result<()> {
    let failed = |e: io::MpiIoError| anyhow::anyhow!("{path}: {e}");
    match phase {
        Phase::DirCreate | Phase::DirStat | Phase::DirRemove => {
            bail!("{path}: MPI-IO makes no directories")
        }
        Phase::FileCreate => {
            let mut file = File::open_self(path, Access::CreateNew, info).map_err(failed)?;
            if !data.is_empty() {
                let written = file.write_at(0, data, false).map_err(failed)?;
                if written != data.len() {
                    bail!("{path}: short write: {written} of {} bytes", data.len());
                }
            }
            file.close().map_err(failed)
        }
        Phase::FileStat => {
            let file = File::open_self(path, Access::ReadOnly, info).map_err(failed)?;
            file.size().map_err(failed)?;
            file.close().map_err(failed)
        }
        Phase::FileRead => {
            let mut file = File::open_self(path, Access::ReadOnly, info).map_err(failed)?;
            if !buffer.is_empty() {
                let read = file.read_at(0, buffer, false).map_err(failed)?;
                if read != buffer.len() {
                    bail!("{path}: short read: {read} of {} bytes", buffer.len());
                }
            }
            file.close().map_err(failed)
        }
        Phase::FileRemove => io::delete(path).map_err(failed),
    }
}

/// The items of this rank that exist now: created and not yet removed, by index.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Live {
    pub dirs: Range<u64>,
    pub files: Range<u64>,
}

impl Live {
    /// Item `index` of `phase` is done: a create adds it, a remove takes it away.
    pub fn done(&mut self, phase: Phase, index: u64) {
        match phase {
            Phase::DirCreate => self.dirs = 0..index + 1,
            Phase::FileCreate => self.files = 0..index + 1,
            Phase::DirRemove => self.dirs.start = index + 1,
            Phase::FileRemove => self.files.start = index + 1,
            _ => {}
        }
    }

    /// Removes what is left, files first; the first failure is kept and the rest still tried.
    pub fn remove(&mut self, interface: &Interface, layout: &Layout, rank: u32) -> anyhow::Result<()> {
        let mut first = Ok(());
        let kinds = [(Phase::FileCreate, self.files.clone()), (Phase::DirCreate, self.dirs.clone())];
        for (phase, range) in kinds {
            for index in range {
                let removed = interface.remove(phase, &layout.item(phase, rank, index));
                if first.is_ok() {
                    first = removed;
                }
            }
        }
        *self = Live::default();
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_items_follow_creates_and_removes() {
        let mut live = Live::default();
        live.done(Phase::FileCreate, 0);
        live.done(Phase::FileCreate, 1);
        live.done(Phase::FileStat, 5);
        assert_eq!(live.files, 0..2);
        live.done(Phase::FileRemove, 0);
        assert_eq!(live.files, 1..2);
        live.done(Phase::DirCreate, 2);
        assert_eq!(live.dirs, 0..3);
    }

    #[test]
    fn names_carry_the_rank_and_a_unique_dir_holds_them() {
        let shared = Layout { dir: "/d".into(), unique_dir: false };
        assert_eq!(shared.item(Phase::FileRead, 1, 2), "/d/file.1.2");
        let unique = Layout { unique_dir: true, ..shared };
        assert_eq!(unique.item(Phase::DirStat, 0, 0), "/d/rank.0/dir.0.0");
    }
}
