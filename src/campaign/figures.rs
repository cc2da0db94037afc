//! The numbers a campaign decides with: each run's primary figures (mpiio: write and read
//! bandwidth; fs: each pass; net: the throughput between the group's hosts and the peers;
//! partdiff: the lattice update rate), whether the repetitions are enough (`until_ci`), and what
//! a guest keeps of its host per benchmark and over all of them.

use std::collections::BTreeMap;

use crate::compare::load::Run;
use crate::compare::metrics::MetricValue;
use crate::compare::stats;
use crate::result::campaign::{FamilyFigure, Figure, NotInIndex, Overhead, RunRecord};
use crate::result::comparison::{AxisKey, NoInterval, Ratio, Summary};

use super::plan::{Benchmark, Family, OverheadPair, Plan};

/// The 0.975 quantile of the standard normal, for the index's interval on the log scale.
const Z975: f64 = 1.959_963_984_540_054;

/// What the overhead document and the report say the index is.
pub const INDEX_METHOD: &str = "per pair of groups and benchmark: guest mean / host mean with Fieller's 95% interval; \
per benchmark the geometric mean of its figures, and the index the geometric mean of the benchmarks' (as IO500 \
scores its phases); intervals of geometric means from the figures' intervals on the log scale (delta method)";

/// One primary figure of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub metric: String,
    pub unit: &'static str,
    pub value: f64,
    /// A time (a round trip, a latency): the guest keeps the host's over its own.
    pub lower_is_better: bool,
}

/// A host name as a net cell names it (`node7`, or `node7:3` for one of several ranks).
fn host_of(key: &AxisKey) -> Option<&str> {
    match key {
        AxisKey::Name(name) => Some(name.split(':').next().unwrap_or(name)),
        AxisKey::Number(_) => None,
    }
}

/// A net table that is a primary figure: its name there. TCP_RR's rate is left out beside its
/// round trip (one is the other's inverse: counted twice, it would weigh double), and of the
/// MPI latencies the smallest message's, osu_latency's headline.
fn net_figure(table: &str) -> Option<&'static str> {
    match table {
        "throughput" => Some("throughput"),
        "TCP_RR round trip p50" => Some("round trip"),
        "MPI latency 0 B" => Some("MPI latency"),
        _ => None,
    }
}

/// Whether an mpiio run asked for small I/O (IOR's segments, a random order, an offset): its
/// primary figures are then its operations per second, not its bandwidth.
fn small_io(run: &Run) -> bool {
    let p = &run.parameters;
    p.get("segments").and_then(|s| s.as_u64()).is_some_and(|s| s > 1)
        || p.get("order").and_then(|o| o.as_str()) == Some("random")
        || p.get("offset_bytes").and_then(|o| o.as_u64()).is_some_and(|o| o > 0)
}

/// The primary figures of a run of `family` from a group on `hosts`.
pub fn primaries(family: Family, hosts: &[String], peers: &[String], run: &Run) -> Vec<Value> {
    // Per figure: unit, sum, count, lower-is-better (several cells or pairs give one figure's
    // mean); the direction is the metric's own (compare's definition of it).
    let mut sums: Vec<(String, &'static str, f64, u32, bool)> = Vec::new();
    let has_ior = run.metrics.iter().any(|m| m.id.ends_with("_ior_mib_per_s"));
    let small = family == Family::Mpiio && small_io(run);
    let mut mean_into = |figure: &str, m: &MetricValue| match sums.iter_mut().find(|s| s.0 == figure) {
        Some(s) => {
            s.2 += m.value;
            s.3 += 1;
        }
        None => sums.push((figure.to_string(), m.unit, m.value, 1, m.lower_is_better)),
    };
    for m in &run.metrics {
        match family {
            Family::Mpiio if small => {
                if let Some(phase) = m.id.strip_suffix("_iops") {
                    mean_into(&format!("{phase} IOPS"), m);
                }
            }
            Family::Mpiio => {
                // IOR's convention; a document with mpi-io-test's figure only (the study's) gives that.
                let own = m.id.strip_suffix("_ior_mib_per_s");
                let imported = m.id.strip_suffix("_mpi_io_test_mb_per_s").filter(|_| !has_ior);
                if let Some(phase) = own.or(imported) {
                    mean_into(phase, m);
                }
            }
            Family::Partdiff => {
                if m.id == "mlup_per_s" {
                    mean_into("rate", m);
                }
            }
            Family::Fs => {
                if let Some(cell) = &m.cell {
                    mean_into(&cell.table, m);
                }
            }
            Family::Meta => {
                if let Some(phase) = m.id.strip_suffix("_ops_per_s") {
                    mean_into(&phase.replace('_', " "), m);
                }
            }
            Family::Net => {
                let Some(cell) = &m.cell else { continue };
                let Some(figure) = net_figure(&cell.table) else { continue };
                let (Some(from), Some(to)) = (host_of(&cell.row), host_of(&cell.column)) else { continue };
                let is = |list: &[String], h: &str| list.iter().any(|x| x == h);
                let between = if peers.is_empty() {
                    is(hosts, from) || is(hosts, to)
                } else {
                    (is(hosts, from) && is(peers, to)) || (is(peers, from) && is(hosts, to))
                };
                if between {
                    mean_into(figure, m);
                }
            }
        }
    }
    sums.into_iter()
        .map(|(metric, unit, sum, n, lower_is_better)| Value {
            metric,
            unit,
            value: sum / f64::from(n),
            lower_is_better,
        })
        .collect()
}

/// Per (benchmark, group) of a plan: the primary figures of every usable run, in run order,
/// and why the runs read but not counted were left out.
#[derive(Debug, Default)]
pub struct Measured {
    runs: BTreeMap<(usize, usize), Vec<Vec<Value>>>,
    left_out: BTreeMap<(usize, usize), Vec<String>>,
}

impl Measured {
    pub fn add(&mut self, benchmark: usize, group: usize, values: Vec<Value>) {
        self.runs.entry((benchmark, group)).or_default().push(values);
    }

    /// A run read but not counted (noisy, not a measurement, no figure in it).
    pub fn leave_out(&mut self, benchmark: usize, group: usize, reason: String) {
        self.left_out.entry((benchmark, group)).or_default().push(reason);
    }

    pub fn runs(&self, benchmark: usize, group: usize) -> usize {
        self.runs.get(&(benchmark, group)).map_or(0, Vec::len)
    }

    /// The figures' names of a benchmark, in the order first seen.
    pub(super) fn metrics(&self, benchmark: usize) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for ((b, _), runs) in &self.runs {
            for v in runs.iter().flatten() {
                if *b == benchmark && !out.iter().any(|(m, _)| *m == v.metric) {
                    out.push((v.metric.clone(), v.unit));
                }
            }
        }
        out
    }

    /// Whether a figure of a benchmark is a time (lower is better).
    fn lower_is_better(&self, benchmark: usize, metric: &str) -> bool {
        self.runs
            .iter()
            .filter(|((b, _), _)| *b == benchmark)
            .flat_map(|(_, runs)| runs.iter().flatten())
            .any(|v| v.metric == metric && v.lower_is_better)
    }

    pub(super) fn values(&self, benchmark: usize, group: usize, metric: &str) -> Vec<f64> {
        self.runs
            .get(&(benchmark, group))
            .into_iter()
            .flatten()
            .filter_map(|run| run.iter().find(|v| v.metric == metric).map(|v| v.value))
            .collect()
    }

    /// Every figure whose 95 % interval is not yet within ±`share` of its mean, as
    /// `pvfs2 domU read ±7.3 %` (n < 2: `no interval`), and every group without a run yet.
    /// Empty when the data suffice, or when runs will not give a figure more runs.
    pub fn imprecise(&self, plan: &Plan, share: f64) -> Vec<String> {
        let mut out = Vec::new();
        for (b, g) in super::schedule::cells(plan) {
            let name = format!("{} {}", plan.benchmarks[b].name, plan.groups[g].name);
            if self.runs(b, g) == 0 {
                out.push(format!("{name}: no figure yet"));
                continue;
            }
            for (metric, unit) in self.metrics(b) {
                let values = self.values(b, g, &metric);
                if values.is_empty() {
                    // Runs without this figure (a net without peers on one host): more of them
                    // will not give it one; the overhead names it.
                    continue;
                }
                match Summary::of(&values).and_then(|s| Some((s.ci95_high? - s.mean, s.mean))) {
                    Some((half, mean)) if half <= share * mean.abs() => {}
                    // No share of a mean of 0: the interval in the figure's unit.
                    Some((half, 0.0)) => out.push(format!(
                        "{name} {metric} ±{} {unit} around a mean of 0",
                        crate::report::compare::number(half)
                    )),
                    Some((half, mean)) => {
                        out.push(format!("{name} {metric} ±{:.1} %", 100.0 * half / mean.abs()))
                    }
                    None => out.push(format!("{name} {metric}: no interval ({} runs)", values.len())),
                }
            }
        }
        out
    }

    /// What `pair.guest` keeps of `pair.host`, benchmark by benchmark, naming every benchmark
    /// and figure that is not in the index; a reference's figures (`own` false) are named by
    /// the benchmark's family, not by what today's runs measure. `attempts` are the campaign's
    /// (empty for a reference): they say why a group has no run.
    pub fn overhead(
        &self,
        plan: &Plan,
        pair: &OverheadPair,
        source: &str,
        own: bool,
        attempts: &[RunRecord],
    ) -> Overhead {
        let index_of = |name: &str| plan.groups.iter().position(|g| g.name == name);
        let mut o = Overhead {
            guest: pair.guest.clone(),
            host: pair.host.clone(),
            source: source.to_string(),
            figures: Vec::new(),
            families: Vec::new(),
            index: None,
            benchmarks: 0,
            not_in_index: Vec::new(),
        };
        let (Some(guest), Some(host)) = (index_of(&pair.guest), index_of(&pair.host)) else { return o };
        for (b, bench) in plan.benchmarks.iter().enumerate() {
            if !(bench.groups.contains(&guest) && bench.groups.contains(&host)) {
                continue;
            }
            o.benchmarks += 1;
            let title = if own { bench.title.clone() } else { bench.family.title().to_string() };
            // Named by the plan's title, also for a reference: it is the plan's benchmark
            // that has no figure, and two of one family would read the same.
            let mut leave_out = |metric: Option<&str>, reason: String| {
                let metric = metric.map(str::to_string);
                o.not_in_index.push(NotInIndex {
                    benchmark: bench.name.clone(),
                    title: bench.title.clone(),
                    metric,
                    reason,
                })
            };
            let no_run: Vec<String> = match [guest, host].map(|g| self.runs(b, g) == 0) {
                [true, true] if !own => vec![format!("{source} has no figure for it")],
                missing => [guest, host]
                    .into_iter()
                    .zip(missing)
                    .filter(|&(_, none)| none)
                    .map(|(g, _)| self.no_run(plan, b, g, source, attempts))
                    .collect(),
            };
            if !no_run.is_empty() {
                leave_out(None, no_run.join("; "));
                continue;
            }
            let metrics = self.metrics(b);
            if metrics.is_empty() {
                leave_out(None, no_figure(bench));
                continue;
            }
            let mut ratios = Vec::new();
            for (metric, unit) in metrics {
                let (g, h) = (
                    Summary::of(&self.values(b, guest, &metric)),
                    Summary::of(&self.values(b, host, &metric)),
                );
                let (g, h) = match (g, h) {
                    (Some(g), Some(h)) => (g, h),
                    (_, h) => {
                        let only = if h.is_some() { &pair.host } else { &pair.guest };
                        leave_out(Some(&metric), format!("measured from {only} only"));
                        continue;
                    }
                };
                // What the guest keeps: of a rate its own over the host's, of a time the host's
                // over its own (a round trip twice the host's keeps 50 %).
                let lower_is_better = self.lower_is_better(b, &metric);
                let ratio = if lower_is_better { stats::ratio(&h, &g) } else { stats::ratio(&g, &h) };
                if !ratio.value.is_finite() {
                    let means = format!("guest {} and host {} {unit}", g.mean, h.mean);
                    leave_out(Some(&metric), format!("the ratio of the means is not a number ({means})"));
                    continue;
                }
                ratios.push(ratio.clone());
                o.figures.push(Figure {
                    benchmark: bench.name.clone(),
                    title: title.clone(),
                    metric,
                    unit,
                    guest_mean: g.mean,
                    guest_runs: g.n,
                    host_mean: h.mean,
                    host_runs: h.n,
                    lower_is_better,
                    ratio,
                });
            }
            if let Some(ratio) = geometric_mean(&ratios) {
                o.families.push(FamilyFigure { benchmark: bench.name.clone(), title, ratio });
            }
        }
        let family_ratios: Vec<Ratio> = o.families.iter().map(|f| f.ratio.clone()).collect();
        o.index = geometric_mean(&family_ratios);
        o
    }

    /// Why group `g` has no usable run of benchmark `b`: none yet, left out, failed.
    fn no_run(&self, plan: &Plan, b: usize, g: usize, source: &str, attempts: &[RunRecord]) -> String {
        let group = &plan.groups[g].name;
        if source != THIS_CAMPAIGN {
            return format!("{source} has no figure of {group}");
        }
        let bench = &plan.benchmarks[b].name;
        let mut why: Vec<String> = Vec::new();
        if let Some(reasons) = self.left_out.get(&(b, g)) {
            why.push(format!("{} left out: {}", runs(reasons.len()), distinct(reasons)));
        }
        for outcome in ["failed", "interrupted"] {
            let n = attempts
                .iter()
                .filter(|r| r.benchmark == *bench && r.group == *group && r.outcome == outcome);
            match n.count() {
                0 => {}
                n => why.push(format!("{} {outcome}", attempts_word(n))),
            }
        }
        if why.is_empty() {
            format!("no run of {group} yet")
        } else {
            format!("no run of {group} counted ({})", why.join(", "))
        }
    }
}

/// The source of a campaign's own figures (a reference's is its name).
pub const THIS_CAMPAIGN: &str = "this campaign";

fn runs(n: usize) -> String {
    if n == 1 { "1 run".into() } else { format!("{n} runs") }
}

/// Reasons without repeats, at most three of them named.
fn distinct(reasons: &[String]) -> String {
    const NAMED: usize = 3;
    let mut seen: Vec<&str> = Vec::new();
    for reason in reasons {
        if !seen.contains(&reason.as_str()) {
            seen.push(reason);
        }
    }
    let more = seen.len().saturating_sub(NAMED);
    seen.truncate(NAMED);
    let named = seen.join("; ");
    if more == 0 { named } else { format!("{named}; {more} more") }
}

fn attempts_word(n: usize) -> String {
    if n == 1 { "1 attempt".into() } else { format!("{n} attempts") }
}

/// Why a benchmark whose groups both ran has no primary figure.
fn no_figure(bench: &Benchmark) -> String {
    match bench.family {
        Family::Net if bench.peers.is_empty() => {
            "no figure: no peers, and no pair with a host of the group (one host, one rank?)".into()
        }
        Family::Net => {
            format!("no figure: no pair between the group's hosts and the peers ({})", bench.peers.join(", "))
        }
        _ => "no figure in its runs".into(),
    }
}

/// The geometric mean of ratios, with an interval from theirs on the log scale (each
/// interval's half-width in logs taken as 1.96 standard errors, the errors independent).
/// None without ratios or with one that is negative or not finite (the caller names those); a
/// ratio of 0 makes it 0, without an interval: a guest that keeps nothing of one benchmark is
/// a result, not a gap.
pub fn geometric_mean(ratios: &[Ratio]) -> Option<Ratio> {
    if ratios.is_empty() || ratios.iter().any(|r| !(r.value >= 0.0 && r.value.is_finite())) {
        return None;
    }
    if ratios.len() == 1 {
        return Some(ratios[0].clone());
    }
    let small = ratios.iter().any(|r| r.verdict == "n too small");
    if let Some(zero) = ratios.iter().find(|r| r.value == 0.0) {
        let verdict = if small { "n too small".into() } else { zero.verdict.clone() };
        return Some(Ratio {
            value: 0.0,
            low: None,
            high: None,
            verdict,
            no_interval: Some(NoInterval::FromItsRatios),
        });
    }
    let k = ratios.len() as f64;
    // Clamped between the smallest and the largest ratio, where a mean is: ln and exp round,
    // and two ratios of 1.7310360781236863e-4 had a mean of 1.7310360781236869e-4.
    let (smallest, largest) =
        ratios.iter().fold((f64::INFINITY, 0.0f64), |(s, l), r| (s.min(r.value), l.max(r.value)));
    let value = (ratios.iter().map(|r| r.value.ln()).sum::<f64>() / k).exp().clamp(smallest, largest);
    let variance: Option<f64> = ratios
        .iter()
        .map(|r| match (r.low, r.high) {
            (Some(low), Some(high)) if low > 0.0 => Some(((high.ln() - low.ln()) / (2.0 * Z975)).powi(2)),
            _ => None,
        })
        .sum();
    let bounds = variance.map(|v| {
        let half = Z975 * v.sqrt() / k;
        (value * (-half).exp(), value * half.exp())
    });
    let verdict = if small { "n too small" } else { stats::verdict(bounds) };
    Some(Ratio {
        value,
        low: bounds.map(|b| b.0),
        high: bounds.map(|b| b.1),
        verdict: verdict.into(),
        no_interval: bounds.is_none().then_some(NoInterval::FromItsRatios),
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
