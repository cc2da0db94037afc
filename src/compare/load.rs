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
    #[error("{0}: cannot read: {1}")]
    Unreadable(PathBuf, std::io::Error),
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
    /// A valid document with nothing to compare (`env`).
    NoMetrics,
    /// compare's own `comparison.json` (a campaign's `summary/` holds one): not a run.
    OwnComparison,
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
}

/// The files named by `inputs`: files as given, directories searched recursively for `*.json`,
/// and glob patterns. Sorted, each once.
pub fn expand(inputs: &[String]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.contains(['*', '?', '[']) {
            let paths =
                glob::glob(input).map_err(|e| UsageError(format!("{input}: not a glob pattern: {e}")))?;
            let before = files.len();
            for path in paths.flatten() {
                collect(&path, &mut files)?;
            }
            if files.len() == before {
                return Err(UsageError(format!("{input}: matches no file")));
            }
        } else {
            collect(Path::new(input), &mut files)?;
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), UsageError> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        for entry in entries.flatten() {
            let child = entry.path();
            if child.is_dir() || child.extension().is_some_and(|e| e == "json") {
                collect(&child, files)?;
            }
        }
        Ok(())
    } else if path.exists() {
        files.push(path.to_path_buf());
        Ok(())
    } else {
        Err(UsageError(format!("{}: no such file or directory", path.display())))
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
    let bytes = std::fs::read(path).map_err(|e| BadDocument::Unreadable(path.into(), e))?;
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
    let metrics = (kind.metrics)(&doc["results"]);
    if metrics.is_empty() {
        return Ok(Reduced::NoMetrics);
    }
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
    }))
}
