//! The files and directories a command will write, checked before it reads or measures
//! anything: a typo in an output path must not cost an hour of measurement, and an existing
//! file is never replaced without `--force`.

use std::path::{Path, PathBuf};

use crate::error::UsageError;

/// An output the command line names: the flag (for the message) and its path.
#[derive(Debug, Clone)]
pub struct Output {
    pub flag: &'static str,
    pub path: PathBuf,
}

impl Output {
    pub fn new(flag: &'static str, path: impl Into<PathBuf>) -> Self {
        Output { flag, path: path.into() }
    }

    fn named(&self) -> String {
        format!("{} {}", self.flag, self.path.display())
    }
}

/// A file to be written: not empty, not a directory, in a directory where a file can be
/// created, and new unless `force`. A device or FIFO (`/dev/null`, a pipe a script reads) is
/// written through, never replaced, so it counts as new.
pub fn check_file(output: &Output, force: bool) -> Result<(), UsageError> {
    let path = &output.path;
    if path.as_os_str().is_empty() {
        return Err(UsageError(format!("{} '': an empty path", output.flag)));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(UsageError(format!("{}: is a directory", output.named()))),
        Ok(m) if m.is_file() && !force => {
            return Err(UsageError(format!("{}: exists; give --force to replace it", output.named())));
        }
        Ok(m) if !m.is_file() => return Ok(()),
        _ => {}
    }
    let dir = super::parent_dir(path);
    if !dir.is_dir() {
        return Err(UsageError(format!("{}: directory {} does not exist", output.named(), dir.display())));
    }
    can_create_in(dir).map_err(|e| {
        UsageError(format!("{}: cannot create a file in {}: {}", output.named(), dir.display(), e.kind()))
    })
}

/// A directory to write into: an existing directory, or one that can be made (its nearest
/// existing ancestor is a directory a file can be created in).
pub fn check_dir(output: &Output) -> Result<(), UsageError> {
    let dir = &output.path;
    if dir.as_os_str().is_empty() {
        return Err(UsageError(format!("{} '': an empty path", output.flag)));
    }
    let mut existing: &Path = dir;
    while !existing.exists() {
        // `a` has the parent ``, which has none: then the working directory.
        existing = existing.parent().unwrap_or(Path::new("."));
    }
    if !existing.is_dir() {
        return Err(UsageError(format!("{}: {} is not a directory", output.named(), existing.display())));
    }
    can_create_in(existing).map_err(|e| {
        UsageError(format!("{}: cannot create files in {}: {}", output.named(), existing.display(), e.kind()))
    })
}

/// The files a command is about to write into a directory it checked: none may exist unless
/// `force`.
pub fn check_new_files(flag: &'static str, files: &[PathBuf], force: bool) -> Result<(), UsageError> {
    let existing: Vec<String> =
        files.iter().filter(|f| f.is_file()).map(|f| f.display().to_string()).collect();
    if existing.is_empty() || force {
        return Ok(());
    }
    let more = if existing.len() > 1 { format!(" (and {} more)", existing.len() - 1) } else { String::new() };
    Err(UsageError(format!("{flag}: {} exists{more}; give --force to replace", existing[0])))
}

/// No two outputs may be one file: the second would silently replace the first.
pub fn check_distinct(outputs: &[Output]) -> Result<(), UsageError> {
    for (i, a) in outputs.iter().enumerate() {
        for b in &outputs[i + 1..] {
            if same_file(&a.path, &b.path) {
                return Err(UsageError(format!("{} and {}: the same file", a.named(), b.named())));
            }
        }
    }
    Ok(())
}

/// Two paths name one file: equal once their directories are resolved (the files themselves
/// need not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let resolved = |p: &Path| {
        let dir = std::fs::canonicalize(super::parent_dir(p)).unwrap_or_else(|_| super::parent_dir(p).into());
        dir.join(p.file_name().unwrap_or_default())
    };
    a == b || resolved(a) == resolved(b)
}

fn can_create_in(dir: &Path) -> std::io::Result<()> {
    tempfile::NamedTempFile::new_in(dir).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_must_be_new_creatable_and_not_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let new = Output::new("--json", dir.path().join("new.json"));
        assert!(check_file(&new, false).is_ok());
        std::fs::write(&new.path, "x").unwrap();
        let err = check_file(&new, false).unwrap_err().0;
        assert!(err.ends_with("new.json: exists; give --force to replace it"), "{err}");
        assert!(err.starts_with("--json "), "{err}");
        assert!(check_file(&new, true).is_ok());
        assert!(
            check_file(&Output::new("--csv", dir.path()), true).unwrap_err().0.ends_with(": is a directory")
        );
        assert_eq!(check_file(&Output::new("--json", ""), false).unwrap_err().0, "--json '': an empty path");
        let missing = Output::new("--csv", dir.path().join("no/x.csv"));
        assert!(check_file(&missing, false).unwrap_err().0.contains("does not exist"));
        assert!(check_file(&Output::new("--json", "/dev/null"), false).is_ok(), "written through");
        let forced = check_file(&Output::new("--json", "/proc/version"), true).unwrap_err().0;
        assert!(
            forced.contains("cannot create a file in /proc"),
            "replacing needs a new file beside it: {forced}"
        );
        let proc = check_file(&Output::new("--csv", "/proc/x"), false).unwrap_err().0;
        assert!(proc.starts_with("--csv /proc/x: cannot create a file in /proc"), "{proc}");
    }

    #[test]
    fn a_directory_must_exist_or_be_creatable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_dir(&Output::new("--out", dir.path().join("a/b/c"))).is_ok());
        let proc = check_dir(&Output::new("--plot", "/proc/x")).unwrap_err().0;
        assert!(proc.starts_with("--plot /proc/x: cannot create files in /proc"), "{proc}");
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let err = check_dir(&Output::new("--output", file.join("sub"))).unwrap_err().0;
        assert!(err.ends_with("f is not a directory"), "{err}");
        assert!(check_dir(&Output::new("--out", "")).is_err());
        assert!(check_dir(&Output::new("--out", "pvbench-no-such-dir/sub")).is_ok(), "relative: made in .");
    }

    #[test]
    fn two_outputs_may_not_be_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = Output::new("--json", dir.path().join("r.json"));
        let b = Output::new("--csv", dir.path().join("sub/../r.json"));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = check_distinct(&[a.clone(), b]).unwrap_err().0;
        assert!(err.starts_with("--json ") && err.ends_with(": the same file"), "{err}");
        assert!(check_distinct(&[a, Output::new("--csv", dir.path().join("r.csv"))]).is_ok());
    }

    #[test]
    fn files_about_to_be_written_must_be_new() {
        let dir = tempfile::tempdir().unwrap();
        let files = [dir.path().join("a"), dir.path().join("b"), dir.path().join("c")];
        assert!(check_new_files("--out", &files, false).is_ok());
        std::fs::write(&files[1], "").unwrap();
        std::fs::write(&files[2], "").unwrap();
        let err = check_new_files("--out", &files, false).unwrap_err().0;
        assert!(err.ends_with("b exists (and 1 more); give --force to replace"), "{err}");
        assert!(check_new_files("--out", &files, true).is_ok());
    }
}
