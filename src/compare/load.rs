//! Turning files, directories and globs into runs: each document read once, checked, and
//! reduced to what a comparison needs (group key, parameters, metrics), so ten thousand
//! documents need not be held in memory.

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use super::metrics::{self, Kind, MetricValue};
use super::path::{FieldPath, display};
use crate::error::UsageError;
use crate::result::SCHEMA_VERSION;

/// A document that cannot be compared, and why.
#[derive(Debug, Error)]
pub enum BadDocument {
    #[error("{0}")]
    Unreadable(crate::input::InputError),
    #[error("{0}: truncated: the JSON ends early ({1})")]
    Truncated(PathBuf, String),
    #[error("{0}: not JSON: {1}")]
    NotJson(PathBuf, String),
    #[error("{0}: not a pvbench result document (no tool.name \"pvbench\")")]
    NotPvbench(PathBuf),
    #[error(
        "{0}: schema_version {1} is newer than this pvbench reads ({SCHEMA_VERSION}); use a newer pvbench"
    )]
    NewerSchema(PathBuf, u64),
    #[error("{0}: kind {1:?} is not one this pvbench compares")]
    UnknownKind(PathBuf, String),
}

/// What a document holds for a comparison.
#[derive(Debug)]
pub enum Reduced {
    Run(Run),
    /// A valid document with nothing to compare (`env`, or no value that is a number), and why.
    NoMetrics(String),
    /// compare's own `comparison.json` (a campaign's `summary/` holds one): not a run.
    OwnComparison,
    /// A figure that is no measurement (a negative bandwidth, a time of 0), with its path:
    /// the whole document is left out, never averaged in.
    NotAMeasurement(String),
}

/// One document, reduced.
#[derive(Debug, Clone)]
pub struct Run {
    pub path: PathBuf,
    pub kind: &'static Kind,
    pub started_at: String,
    /// The value of each grouping field, as text.
    pub key: Vec<String>,
    /// The parameters that make runs the same experiment: `parameters` less the kind's
    /// incidental ones, plus the rank count.
    pub parameters: serde_json::Map<String, Value>,
    pub metrics: Vec<MetricValue>,
    /// Values of the document that are not numbers and so are not compared.
    pub notes: Vec<String>,
    /// What makes two documents the same run (a copy, a relabelled copy, the same output
    /// imported twice): kind, start, hosts and results, or the imported file and part.
    pub identity: [u8; 32],
}

/// The files named by `inputs`: files as given, directories searched recursively for `*.json`,
/// and glob patterns. Each file once however many links lead to it (by device and inode, so two
/// links to one directory or a link loop do not count a document twice), under the first name
/// it was reached by; sorted. Links to nothing inside a directory are left out and named.
pub fn expand(inputs: &[String]) -> Result<Expanded, UsageError> {
    let mut found = Expanded::default();
    for input in inputs {
        if input.contains(['*', '?', '[']) {
            let paths =
                glob::glob(input).map_err(|e| UsageError(format!("{input}: not a glob pattern: {e}")))?;
            let before = found.files.len();
            for path in paths.flatten() {
                found.collect(&path)?;
            }
            if found.files.len() == before {
                return Err(UsageError(format!("{input}: matches no file")));
            }
        } else {
            found.collect(Path::new(input))?;
        }
    }
    found.files.sort();
    Ok(found)
}

#[derive(Default)]
pub struct Expanded {
    pub files: Vec<PathBuf>,
    /// Symbolic links below a directory that lead nowhere: named, not read.
    pub dangling: Vec<PathBuf>,
    /// Device and inode of the files and directories already visited.
    seen: std::collections::HashSet<(u64, u64)>,
}

impl Expanded {
    /// One walk, with a stack of its own (no recursion however deep the tree), one `stat` per
    /// entry: linear in the entries (a canonical path per entry made a deep tree quadratic).
    fn collect(&mut self, path: &Path) -> Result<(), UsageError> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                UsageError(format!("{}: no such file or directory", path.display()))
            }
            _ => UsageError(format!("{}: {e}", path.display())),
        })?;
        let mut pending = vec![(path.to_path_buf(), metadata)];
        while let Some((path, metadata)) = pending.pop() {
            if !self.seen.insert((metadata.dev(), metadata.ino())) {
                continue;
            }
            if !metadata.is_dir() {
                self.files.push(path);
                continue;
            }
            let entries =
                std::fs::read_dir(&path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            // The first name a file is reached by does not depend on the directory's order.
            children.sort();
            for child in children.into_iter().rev() {
                match std::fs::metadata(&child) {
                    Ok(m) if m.is_dir() || child.extension().is_some_and(|e| e == "json") => {
                        pending.push((child, m))
                    }
                    Ok(_) => {}
                    Err(_) if child.is_symlink() => self.dangling.push(child),
                    Err(e) => return Err(UsageError(format!("{}: {e}", child.display()))),
                }
            }
        }
        Ok(())
    }
}

/// How runs are grouped: by label, or by the values of the `--by` fields.
pub enum Grouping {
    Label,
    Fields(Vec<FieldPath>),
}

impl Grouping {
    pub fn names(&self) -> Vec<String> {
        match self {
            Grouping::Label => vec!["label".into()],
            Grouping::Fields(fields) => fields.iter().map(|f| f.as_str().to_string()).collect(),
        }
    }

    fn key(&self, doc: &Value) -> Vec<String> {
        match self {
            Grouping::Label => vec![doc["label"].as_str().unwrap_or("(no label)").to_string()],
            Grouping::Fields(fields) => fields.iter().map(|f| display(f.get(doc))).collect(),
        }
    }
}

/// Reads one document.
pub fn read(path: &Path, grouping: &Grouping) -> Result<Reduced, BadDocument> {
    let bytes = crate::input::read(path, crate::input::DOCUMENT).map_err(BadDocument::Unreadable)?;
    reduce(path, &bytes, grouping)
}

/// One document's bytes, reduced; `path` names it in errors and in the comparison.
pub fn reduce(path: &Path, bytes: &[u8], grouping: &Grouping) -> Result<Reduced, BadDocument> {
    let mut doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            BadDocument::Truncated(path.into(), e.to_string())
        } else {
            BadDocument::NotJson(path.into(), e.to_string())
        }
    })?;
    if doc["kind"] == "comparison" && doc["rows"].is_array() && doc["groups"].is_array() {
        return Ok(Reduced::OwnComparison);
    }
    if doc["tool"]["name"] != "pvbench" || !doc["results"].is_object() {
        return Err(BadDocument::NotPvbench(path.into()));
    }
    let version = doc["schema_version"].as_u64().ok_or_else(|| BadDocument::NotPvbench(path.into()))?;
    if version > u64::from(SCHEMA_VERSION) {
        return Err(BadDocument::NewerSchema(path.into(), version));
    }
    let kind_name = doc["kind"].as_str().unwrap_or_default();
    let kind =
        metrics::kind(kind_name).ok_or_else(|| BadDocument::UnknownKind(path.into(), kind_name.into()))?;
    let mut found = metrics::Findings::default();
    let metrics = (kind.metrics)(&doc["results"], &mut found);
    if !found.not_measurements.is_empty() {
        return Ok(Reduced::NotAMeasurement(format!(
            "not a measurement: {}",
            found.not_measurements.join("; ")
        )));
    }
    let notes = found.notes;
    if metrics.is_empty() {
        let mut why = format!("{kind_name} document without a value to compare");
        for note in notes {
            why.push_str(&format!("; {note}"));
        }
        return Ok(Reduced::NoMetrics(why));
    }
    let identity = identity(&doc);
    let key = grouping.key(&doc);
    let mut parameters = match doc["parameters"].take() {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    for incidental in kind.incidental_parameters {
        parameters.remove(*incidental);
    }
    parameters.insert("ranks.count".into(), doc["ranks"]["count"].take());
    Ok(Reduced::Run(Run {
        path: path.into(),
        kind,
        started_at: doc["started_at"].as_str().unwrap_or_default().to_string(),
        key,
        parameters,
        metrics,
        notes,
        identity,
    }))
}

/// Kind, start, hosts and results, hashed; for an imported document the imported file's hash
/// and part instead of the hosts (which are only what `--host` stated).
fn identity(doc: &Value) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let imported = &doc["imported_from"];
    let source = if imported.is_object() {
        serde_json::json!([imported["sha256"], imported["part"]])
    } else {
        let hosts = doc["environment"]["hosts"].as_array().map(Vec::as_slice).unwrap_or_default();
        Value::Array(hosts.iter().map(|h| h["hostname"].clone()).collect())
    };
    // Serialised straight into the hash: the results are not copied.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    serde_json::to_writer(&mut hashing, &(&doc["kind"], &doc["started_at"], &source, &doc["results"]))
        .expect("a JSON value serialises");
    hashing.0.finalize().into()
}
