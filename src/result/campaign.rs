//! A campaign's documents: its manifest (`DIR/campaign.json`: what the campaign is, and every
//! run in the order it ran) and its answer (`DIR/overhead.json`: per guest/host pair and
//! benchmark the ratio of means with its interval, and one index over the families).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comparison::Ratio;

/// Bumped when a field of the manifest or the overhead document changes meaning.
pub const CAMPAIGN_SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    /// Always `campaign`.
    pub kind: String,
    pub tool: super::Tool,
    /// What makes two invocations the same campaign: a different one into the same directory
    /// is refused.
    pub identity: Value,
    pub started_at: String,
    pub updated_at: String,
    /// The first environment seen of every host (kernel, boot id, MPI library): a run on a host
    /// that changed since is marked.
    #[serde(default)]
    pub hosts: Vec<HostState>,
    /// Every attempt, in the order run.
    #[serde(default)]
    pub runs: Vec<RunRecord>,
    /// Why the campaign stopped adding rounds (or that it is not finished).
    #[serde(default)]
    pub status: String,
    /// The options of its first invocation that shape the report, kept on resume; absent in a
    /// manifest begun before they were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<KeptOptions>,
    /// The rounds planned, as the latest invocation saw them; absent in older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<PlannedRounds>,
}

/// `campaign run`'s options that shape the report (not what a run measures).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeptOptions {
    /// `--reference`, in the order given.
    #[serde(default)]
    pub references: Vec<String>,
    /// `--include-noisy`.
    #[serde(default)]
    pub include_noisy: bool,
}

/// How many rounds a campaign runs: each round runs every (benchmark, group) once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRounds {
    /// Rounds planned so far: `min` at first, one more each time `until_ci` adds one.
    pub planned: u32,
    pub min: u32,
    pub max: u32,
    /// The interval's half-width, as a share of the mean, that ends an `until_ci` campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ci: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    pub hostname: String,
    pub kernel: String,
    pub boot_id: Option<String>,
    pub mpi_library: Option<String>,
    /// The run that first saw it.
    pub seen_in: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// `pvfs2/domU/rep-03`.
    pub id: String,
    pub benchmark: String,
    pub group: String,
    pub rep: u32,
    pub attempt: u32,
    pub started_at: String,
    pub seconds: f64,
    /// `ok`, `failed` or `interrupted`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `DIR/overhead.json`.
#[derive(Debug, Clone, Serialize)]
pub struct OverheadDocument {
    pub schema_version: u32,
    /// Always `campaign-overhead`.
    pub kind: &'static str,
    pub campaign: String,
    pub method: &'static str,
    pub pairs: Vec<Overhead>,
    /// The same from a reference's figures (`--reference study-2008`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<Overhead>,
    /// Runs left out of the figures, and why (noise guards).
    pub left_out: Vec<super::comparison::LeftOut>,
}

/// What a guest group keeps of a host group's performance.
#[derive(Debug, Clone, Serialize)]
pub struct Overhead {
    pub guest: String,
    pub host: String,
    /// Where the figures come from: `this campaign`, or the reference's name.
    pub source: String,
    pub figures: Vec<Figure>,
    /// Per benchmark, the geometric mean of its figures.
    pub families: Vec<FamilyFigure>,
    /// The geometric mean over the families; absent without a family.
    pub index: Option<Ratio>,
    /// How many of the plan's benchmarks run both groups: the index is over `families.len()`
    /// of them.
    pub benchmarks: usize,
    /// Every benchmark and figure of those that is not in the index, and why.
    pub not_in_index: Vec<NotInIndex>,
}

/// A benchmark (`metric` absent) or one of its figures left out of the index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotInIndex {
    pub benchmark: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub benchmark: String,
    pub title: String,
    /// The primary figure: `write`, `read`, `throughput`, `rate`.
    pub metric: String,
    pub unit: &'static str,
    pub guest_mean: f64,
    pub guest_runs: usize,
    pub host_mean: f64,
    pub host_runs: usize,
    /// A time (round trip, latency): `ratio` is then the host's mean over the guest's.
    pub lower_is_better: bool,
    /// What the guest keeps, with Fieller's 95 % interval: guest over host, of a time host
    /// over guest.
    pub ratio: Ratio,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyFigure {
    pub benchmark: String,
    pub title: String,
    pub ratio: Ratio,
}
