//! The plan file as written (TOML, serde): what `load` reads and checks into a `Plan`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::{MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The plan as written. Unknown keys are refused: a typo must not silently change a campaign.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// What the campaign is, in the report's title.
    pub name: String,
    /// Where commands run and relative paths start, relative to the plan file's directory
    /// (default: that directory).
    pub workdir: Option<PathBuf>,
    /// The pvbench every run starts (default: the one running the campaign).
    pub pvbench: Option<String>,
    /// How ranks start: `{hostfile}`, `{hosts}`, `{nodes}` (how many hosts) and `{ranks}` are
    /// filled in per run.
    #[serde(default = "default_launcher")]
    pub launcher: String,
    #[serde(default)]
    pub order: Order,
    /// The seed of `order = "random"` (default: drawn at the first run and kept in the manifest).
    pub seed: Option<u64>,
    #[serde(default)]
    pub reps: Reps,
    /// A run whose CPU steal on any host is above this share of CPU time is marked noisy.
    pub max_steal_percent: Option<f64>,
    /// Text filled in for `{name}` in every string below; `--set name=value` overrides.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(rename = "group")]
    pub groups: Vec<GroupFile>,
    #[serde(rename = "benchmark")]
    pub benchmarks: Vec<BenchmarkFile>,
    #[serde(default, rename = "overhead")]
    pub overheads: Vec<OverheadPair>,
}

/// The plan in `text`: TOML, only the keys a plan has, and no NUL anywhere (no command,
/// argument, path or environment can hold one).
pub fn parse(text: &str) -> Result<PlanFile, String> {
    let at_line = |e: toml::de::Error| {
        let message = e.message().trim_end().to_string();
        match e.span() {
            Some(span) => format!("line {}: {message}", text[..span.start].matches('\n').count() + 1),
            None => message,
        }
    };
    let file = toml::from_str(text).map_err(at_line)?;
    let table: toml::Table = toml::from_str(text).map_err(at_line)?;
    match nul_at(&toml::Value::Table(table), "") {
        Some(at) => {
            Err(format!("{at}: holds a NUL character (no command, argument, path or environment can)"))
        }
        None => Ok(file),
    }
}

/// Where in `value` a key or string holds a NUL: `benchmark[1].args[2]`.
fn nul_at(value: &toml::Value, at: &str) -> Option<String> {
    match value {
        toml::Value::String(s) => s.contains('\0').then(|| at.to_string()),
        toml::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_at(item, &format!("{at}[{i}]")))
        }
        toml::Value::Table(table) => table.iter().find_map(|(key, item)| {
            let shown = key.escape_debug();
            let here = if at.is_empty() { shown.to_string() } else { format!("{at}.{shown}") };
            if key.contains('\0') { Some(here) } else { nul_at(item, &here) }
        }),
        _ => None,
    }
}

fn default_launcher() -> String {
    "mpiexec -f {hostfile} -n {ranks}".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Round-robin over the groups within each repetition (Abedi & Brecht's interleaved trials).
    #[default]
    Interleaved,
    /// Each repetition's runs in a seeded random order.
    Random,
    /// Every repetition of one group before the next group: only when asked for.
    Blocked,
}

/// A count (`reps = 5`) or a table (`reps = { min = 3, max = 10, until_ci = 0.05 }`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reps {
    Fixed(u32),
    /// Rounds are added until every primary figure's 95 % interval is within ±until_ci of its
    /// mean, from `min` rounds to at most `max`.
    UntilCi {
        min: u32,
        max: u32,
        until_ci: f64,
    },
}

/// `reps`' table form as written: unknown keys refused, as everywhere in a plan.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UntilCiFile {
    min: u32,
    max: u32,
    until_ci: f64,
}

/// By hand rather than `untagged`: that form ignores unknown keys in the table and names
/// every mistake "data did not match any variant".
impl<'de> Deserialize<'de> for Reps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RepsVisitor;
        impl<'de> Visitor<'de> for RepsVisitor {
            type Value = Reps;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count (reps = 5) or { min = 3, max = 10, until_ci = 0.05 }")
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Reps, E> {
                u32::try_from(n).map(Reps::Fixed).map_err(|_| E::invalid_value(Unexpected::Signed(n), &self))
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Reps, E> {
                u32::try_from(n)
                    .map(Reps::Fixed)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(n), &self))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Reps, A::Error> {
                let UntilCiFile { min, max, until_ci } =
                    UntilCiFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Reps::UntilCi { min, max, until_ci })
            }
        }
        deserializer.deserialize_any(RepsVisitor)
    }
}

impl Default for Reps {
    fn default() -> Self {
        Reps::Fixed(5)
    }
}

impl Reps {
    pub fn min(&self) -> u32 {
        match self {
            Reps::Fixed(n) => *n,
            Reps::UntilCi { min, .. } => *min,
        }
    }

    pub fn max(&self) -> u32 {
        match self {
            Reps::Fixed(n) => *n,
            Reps::UntilCi { max, .. } => *max,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    pub name: String,
    /// The group's hosts, one rank slot each (`node7:2` for two).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Or an MPICH hostfile (`host[:slots]` per line, `#` comments).
    pub hostfile: Option<PathBuf>,
    /// Ranks per run (default: the slots of the hosts).
    pub ranks: Option<u32>,
    /// Environment of the launcher (and so of the ranks, with hydra).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Mpiio,
    Fs,
    Net,
    Partdiff,
    Meta,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Mpiio => "mpiio",
            Family::Fs => "fs",
            Family::Net => "net",
            Family::Partdiff => "partdiff",
            Family::Meta => "meta",
        }
    }

    /// What it measures, in words (a reference's figures are named by it).
    pub fn title(self) -> &'static str {
        match self {
            Family::Mpiio => "MPI-IO",
            Family::Fs => "file I/O",
            Family::Net => "network",
            Family::Partdiff => "CPU (partdiff)",
            Family::Meta => "metadata",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkFile {
    /// The benchmark's name in paths and tables (default: its kind).
    pub name: Option<String>,
    pub kind: Family,
    /// What it measures, in the overhead sentence: "PVFS2 (real server)".
    pub title: Option<String>,
    /// A shell command run when the plan is read: the benchmark is part of the campaign only
    /// when it succeeds (a real server is up; its stand-in when not).
    pub only_if: Option<String>,
    /// pvbench's arguments (without --json, --label, which the campaign gives).
    #[serde(default)]
    pub args: Vec<String>,
    /// More arguments for one group: `{ domU = ["--dir", "/mnt"] }`.
    #[serde(default)]
    pub group_args: BTreeMap<String, Vec<String>>,
    /// The groups it runs from (default: every group).
    pub groups: Option<Vec<String>>,
    /// Ranks per run (default: the group's).
    pub ranks: Option<u32>,
    /// `net`: hosts every group's hosts are measured against (each run: peers + the group).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Run before every run of this benchmark (PVFS2 storage reset, cache drop); a failure
    /// fails the run.
    pub reset: Option<String>,
    /// Run right before the launch (the server answers).
    pub check: Option<String>,
    /// Run once when the campaign ends (stop the server).
    pub stop: Option<String>,
    /// Per-run time limit (default 30m); given to pvbench as `--timeout` where it has one.
    pub timeout: Option<String>,
    pub pvbench: Option<String>,
    pub launcher: Option<String>,
}

/// A guest group and the host group it is set against.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OverheadPair {
    pub guest: String,
    pub host: String,
}
