//! The result of `pvbench compare`: groups of runs and, per metric and group, the statistics
//! and the ratio to the baseline (`comparison.json`). What every rendering reads; built by
//! `compare`.

use serde::Serialize;
use serde_json::{Map, Value};

/// Bumped when a field of the comparison document changes meaning or disappears. 2: net cells
/// are keyed by host name, not rank.
pub const COMPARISON_SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub schema_version: u32,
    /// Always `comparison`.
    pub kind: &'static str,
    pub grouped_by: Vec<String>,
    pub baseline: Option<String>,
    pub ratio_method: &'static str,
    /// Documents compared, documents left out as bad (`--skip-bad`), and documents with
    /// nothing to compare (`env`).
    pub documents: usize,
    pub skipped_bad: usize,
    pub without_metrics: usize,
    /// Every document, or value of one, the comparison does not hold, and why: bad ones
    /// (`--skip-bad`), ones without a number to compare, values that are not numbers, the same
    /// run reached twice, compare's own outputs.
    pub left_out: Vec<LeftOut>,
    pub groups: Vec<Group>,
    /// One row per metric and group, metrics in the order they first appear.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub kind: &'static str,
    pub runs: usize,
    /// The parameters every run of the group shares.
    pub parameters: Map<String, Value>,
    /// The documents, in run order (by `started_at`).
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub metric: String,
    pub title: String,
    pub unit: &'static str,
    /// A time: a ratio below 1 (verdict `lower`) is the better one.
    pub lower_is_better: bool,
    /// Where the metric sits when it is a cell of a grid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<GridCell>,
    pub group: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// Whether this is the baseline group's row.
    pub baseline: bool,
    /// To the baseline group's mean; absent for the baseline itself, without `--baseline`, and
    /// for a metric the baseline group does not have.
    pub ratio: Option<Ratio>,
    /// Every run's value, in run order.
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation (n - 1); absent for one run.
    pub sd: Option<f64>,
    /// sd / mean, in percent.
    pub cv_percent: Option<f64>,
    /// 95% confidence interval of the mean, Student t with n - 1 degrees of freedom.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    /// This group's mean over the baseline's.
    pub value: f64,
    /// Fieller's 95% interval; both absent when it is unbounded (the baseline's mean is not
    /// told apart from zero) or a group has a single run.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// `same` (the interval holds 1.0), `lower`, `higher`, or `n too small`: which way, not
    /// whether for the better (the row's `lower_is_better` says that).
    pub verdict: String,
    /// Why `low` and `high` are absent (when they are).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_interval: Option<NoInterval>,
}

/// Why a ratio has no interval: "(no interval)" alone would say two different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoInterval {
    /// A group, or its baseline, has a single run.
    OneRun,
    /// The baseline's mean is not told apart from 0: Fieller's set is unbounded.
    Unbounded,
    /// A geometric mean over ratios of which one has no interval, or one reaching 0 (no bound
    /// on the log scale).
    FromItsRatios,
}

/// A cell of a two-dimensional table of one kind's results.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GridCell {
    /// The table: `throughput` (net), or the pass (fs: `write`, `random read`, …).
    pub table: String,
    /// What rows and columns are, e.g. `sender`/`receiver`, `file KiB`/`record KiB`.
    pub rows: &'static str,
    pub columns: &'static str,
    pub row: AxisKey,
    pub column: AxisKey,
}

/// A row or column of a grid: a size (fs) or a host (net).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum AxisKey {
    Number(u64),
    Name(String),
}

impl Ord for AxisKey {
    /// Numbers by value, before names; names in natural order (`node6` before `node10`).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (AxisKey::Number(a), AxisKey::Number(b)) => a.cmp(b),
            (AxisKey::Number(_), AxisKey::Name(_)) => std::cmp::Ordering::Less,
            (AxisKey::Name(_), AxisKey::Number(_)) => std::cmp::Ordering::Greater,
            (AxisKey::Name(a), AxisKey::Name(b)) => {
                natural_key(a).cmp(&natural_key(b)).then_with(|| a.cmp(b))
            }
        }
    }
}

impl PartialOrd for AxisKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for AxisKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AxisKey::Number(n) => write!(f, "{n}"),
            AxisKey::Name(name) => f.write_str(name),
        }
    }
}

/// A name as runs of text and numbers, so that digits compare by value.
fn natural_key(name: &str) -> Vec<(String, Option<u64>)> {
    let mut key = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let text_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let (text, tail) = rest.split_at(text_end);
        let digits_end = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
        let (digits, tail) = tail.split_at(digits_end);
        key.push((text.to_string(), digits.parse().ok()));
        rest = tail;
    }
    key
}
