//! The numbers a campaign decides with: each run's primary figures (mpiio: write and read
//! bandwidth; fs: each pass; net: the throughput between the group's hosts and the peers;
//! partdiff: the lattice update rate), whether the repetitions are enough (`until_ci`), and what
//! a guest keeps of its host per benchmark and over all of them.

use std::collections::BTreeMap;

use crate::compare::load::Run;
use crate::compare::stats;
use crate::result::campaign::{FamilyFigure, Figure, Overhead};
use crate::result::comparison::{AxisKey, Ratio, Summary};

use super::plan::{Family, OverheadPair, Plan};

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
}

/// A host name as a net cell names it (`node7`, or `node7:3` for one of several ranks).
fn host_of(key: &AxisKey) -> Option<&str> {
    match key {
        AxisKey::Name(name) => Some(name.split(':').next().unwrap_or(name)),
        AxisKey::Number(_) => None,
    }
}

/// The primary figures of a run of `family` from a group on `hosts`.
pub fn primaries(family: Family, hosts: &[String], peers: &[String], run: &Run) -> Vec<Value> {
    // Per figure: unit, sum, count (several cells or pairs give one figure's mean).
    let mut sums: Vec<(String, &'static str, f64, u32)> = Vec::new();
    let has_ior = run.metrics.iter().any(|m| m.id.ends_with("_ior_mib_per_s"));
    let mut mean_into =
        |metric: &str, unit: &'static str, value: f64| match sums.iter_mut().find(|s| s.0 == metric) {
            Some(s) => {
                s.2 += value;
                s.3 += 1;
            }
            None => sums.push((metric.to_string(), unit, value, 1)),
        };
    for m in &run.metrics {
        match family {
            Family::Mpiio => {
                // IOR's convention; a document with mpi-io-test's figure only (the study's) gives that.
                let own = m.id.strip_suffix("_ior_mib_per_s");
                let imported = m.id.strip_suffix("_mpi_io_test_mb_per_s").filter(|_| !has_ior);
                if let Some(phase) = own.or(imported) {
                    mean_into(phase, m.unit, m.value);
                }
            }
            Family::Partdiff => {
                if m.id == "mlup_per_s" {
                    mean_into("rate", m.unit, m.value);
                }
            }
            Family::Fs => {
                if let Some(cell) = &m.cell {
                    mean_into(&cell.table, m.unit, m.value);
                }
            }
            Family::Net => {
                let Some(cell) = &m.cell else { continue };
                let (Some(from), Some(to)) = (host_of(&cell.row), host_of(&cell.column)) else { continue };
                let is = |list: &[String], h: &str| list.iter().any(|x| x == h);
                let between = if peers.is_empty() {
                    is(hosts, from) || is(hosts, to)
                } else {
                    (is(hosts, from) && is(peers, to)) || (is(peers, from) && is(hosts, to))
                };
                if between {
                    mean_into("throughput", m.unit, m.value);
                }
            }
        }
    }
    sums.into_iter().map(|(metric, unit, sum, n)| Value { metric, unit, value: sum / f64::from(n) }).collect()
}

/// Per (benchmark, group) of a plan: the primary figures of every usable run, in run order.
#[derive(Debug, Default)]
pub struct Measured {
    runs: BTreeMap<(usize, usize), Vec<Vec<Value>>>,
}

impl Measured {
    pub fn add(&mut self, benchmark: usize, group: usize, values: Vec<Value>) {
        self.runs.entry((benchmark, group)).or_default().push(values);
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

    pub(super) fn values(&self, benchmark: usize, group: usize, metric: &str) -> Vec<f64> {
        self.runs
            .get(&(benchmark, group))
            .into_iter()
            .flatten()
            .filter_map(|run| run.iter().find(|v| v.metric == metric).map(|v| v.value))
            .collect()
    }

    /// Every figure whose 95 % interval is not yet within ±`share` of its mean, as
    /// `pvfs2 domU read ±7.3 %` (n < 2: `no interval`). Empty when the data suffice.
    pub fn imprecise(&self, plan: &Plan, share: f64) -> Vec<String> {
        let mut out = Vec::new();
        for (b, g) in super::schedule::cells(plan) {
            let name = format!("{} {}", plan.benchmarks[b].name, plan.groups[g].name);
            let metrics = self.metrics(b);
            if self.runs(b, g) == 0 || metrics.is_empty() {
                out.push(format!("{name}: no figure yet"));
                continue;
            }
            for (metric, _) in metrics {
                let values = self.values(b, g, &metric);
                match Summary::of(&values).and_then(|s| Some((s.ci95_high? - s.mean, s.mean))) {
                    Some((half, mean)) if half <= share * mean.abs() => {}
                    Some((half, mean)) => {
                        out.push(format!("{name} {metric} ±{:.1} %", 100.0 * half / mean.abs()))
                    }
                    None => out.push(format!("{name} {metric}: no interval ({} runs)", values.len())),
                }
            }
        }
        out
    }

    /// What `pair.guest` keeps of `pair.host`, benchmark by benchmark; a reference's figures
    /// (`own` false) are named by the benchmark's family, not by what today's runs measure.
    pub fn overhead(&self, plan: &Plan, pair: &OverheadPair, source: &str, own: bool) -> Overhead {
        let index_of = |name: &str| plan.groups.iter().position(|g| g.name == name);
        let (guest, host) = (index_of(&pair.guest), index_of(&pair.host));
        let mut figures = Vec::new();
        let mut families = Vec::new();
        for (b, bench) in plan.benchmarks.iter().enumerate() {
            let (Some(guest), Some(host)) = (guest, host) else { break };
            let title = if own { bench.title.clone() } else { bench.family.title().to_string() };
            let mut ratios = Vec::new();
            for (metric, unit) in self.metrics(b) {
                let (Some(g), Some(h)) = (
                    Summary::of(&self.values(b, guest, &metric)),
                    Summary::of(&self.values(b, host, &metric)),
                ) else {
                    continue;
                };
                let ratio = stats::ratio(&g, &h);
                ratios.push(ratio.clone());
                figures.push(Figure {
                    benchmark: bench.name.clone(),
                    title: title.clone(),
                    metric,
                    unit,
                    guest_mean: g.mean,
                    guest_runs: g.n,
                    host_mean: h.mean,
                    host_runs: h.n,
                    ratio,
                });
            }
            if let Some(ratio) = geometric_mean(&ratios) {
                families.push(FamilyFigure { benchmark: bench.name.clone(), title, ratio });
            }
        }
        let family_ratios: Vec<Ratio> = families.iter().map(|f| f.ratio.clone()).collect();
        Overhead {
            guest: pair.guest.clone(),
            host: pair.host.clone(),
            source: source.to_string(),
            figures,
            index: geometric_mean(&family_ratios),
            families,
        }
    }
}

/// The geometric mean of ratios, with an interval from theirs on the log scale (each
/// interval's half-width in logs taken as 1.96 standard errors, the errors independent).
/// None without ratios or with one that is not positive; no interval when one has none.
pub fn geometric_mean(ratios: &[Ratio]) -> Option<Ratio> {
    if ratios.is_empty() || ratios.iter().any(|r| !(r.value > 0.0 && r.value.is_finite())) {
        return None;
    }
    let k = ratios.len() as f64;
    // Clamped between the smallest and the largest ratio, where a mean is: ln and exp round,
    // and two ratios of 1.7310360781236863e-4 had a mean of 1.7310360781236869e-4.
    let (smallest, largest) =
        ratios.iter().fold((f64::INFINITY, 0.0f64), |(s, l), r| (s.min(r.value), l.max(r.value)));
    let value = (ratios.iter().map(|r| r.value.ln()).sum::<f64>() / k).exp().clamp(smallest, largest);
    if ratios.len() == 1 {
        return Some(ratios[0].clone());
    }
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
    let verdict = if ratios.iter().any(|r| r.verdict == "n too small") {
        "n too small"
    } else {
        stats::verdict(bounds)
    };
    Some(Ratio { value, low: bounds.map(|b| b.0), high: bounds.map(|b| b.1), verdict: verdict.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::load::{Grouping, Reduced, reduce};

    fn run(kind: &str, results: serde_json::Value) -> Run {
        let doc = serde_json::json!({
            "schema_version": 3, "tool": {"name": "pvbench", "version": "0"}, "kind": kind, "label": "g",
            "started_at": "t", "parameters": {}, "ranks": {"count": 1, "hosts": []},
            "environment": {"hosts": []}, "results": results,
        });
        match reduce(std::path::Path::new("d.json"), doc.to_string().as_bytes(), &Grouping::Label).unwrap() {
            Reduced::Run(run) => run,
            _ => panic!("no run"),
        }
    }

    fn figures(values: Vec<Value>) -> Vec<(String, f64)> {
        values.into_iter().map(|v| (v.metric, v.value)).collect()
    }

    fn pair(from: &str, to: &str, rank: (u32, u32), mib: f64) -> serde_json::Value {
        serde_json::json!({"sender": rank.0, "receiver": rank.1, "sender_host": from, "receiver_host": to,
                           "median_mib_per_s": mib})
    }

    #[test]
    fn each_family_gives_its_primary_figures() {
        let none: &[String] = &[];
        let mpiio = run(
            "mpiio",
            serde_json::json!({"phases": [
            {"phase": "write", "ior": {"mean_mib_per_s": 100.0}, "mpi_io_test": {"bandwidth_mb_per_s": 110.0}},
            {"phase": "read", "ior": {"mean_mib_per_s": 200.0}, "mpi_io_test": {"bandwidth_mb_per_s": 220.0}}]}),
        );
        assert_eq!(
            figures(primaries(Family::Mpiio, none, none, &mpiio)),
            [("write".into(), 100.0), ("read".into(), 200.0)]
        );
        // The study's documents have mpi-io-test's figure only.
        let study = run(
            "mpiio",
            serde_json::json!({"phases": [
            {"phase": "read", "ior": {"mean_mib_per_s": null}, "mpi_io_test": {"bandwidth_mb_per_s": 98.4}}]}),
        );
        assert_eq!(figures(primaries(Family::Mpiio, none, none, &study)), [("read".into(), 98.4)]);
        let partdiff = run("partdiff", serde_json::json!({"calculation_time_s": 2.0, "mlup_per_s": 26.0}));
        assert_eq!(figures(primaries(Family::Partdiff, none, none, &partdiff)), [("rate".into(), 26.0)]);
        let cell = |pass: &str, file: u64, mib: f64| serde_json::json!({"pass": pass, "file_size_bytes": file, "record_size_bytes": 1024, "mib_per_s": mib});
        let fs = run(
            "fs",
            serde_json::json!({"ranks": [{"cells": [
            cell("write", 1 << 20, 10.0), cell("write", 2 << 20, 20.0), cell("read", 1 << 20, 30.0)]}]}),
        );
        assert_eq!(
            figures(primaries(Family::Fs, none, none, &fs)),
            [("write".into(), 15.0), ("read".into(), 30.0)]
        );
    }

    #[test]
    fn net_gives_the_pairs_between_the_group_and_the_peers() {
        let net = run(
            "net",
            serde_json::json!({"pairs": [
            pair("node6", "node7", (0, 1), 100.0), pair("node7", "node6", (1, 0), 200.0),
            pair("node7", "node7", (1, 1), 999.0), pair("vm3", "node6", (2, 0), 5.0)]}),
        );
        let (node7, node6) = (vec!["node7".to_string()], vec!["node6".to_string()]);
        assert_eq!(figures(primaries(Family::Net, &node7, &node6, &net)), [("throughput".into(), 150.0)]);
        // Without peers: every pair with a host of the group.
        assert_eq!(figures(primaries(Family::Net, &node7, &[], &net)), [("throughput".into(), 433.0)]);
        assert_eq!(
            figures(primaries(Family::Net, &["vm3".to_string()], &node6, &net)),
            [("throughput".into(), 5.0)]
        );
        // A host with several ranks names its cells host:rank; they are the host's.
        let two = run(
            "net",
            serde_json::json!({"pairs": [
            pair("node7", "node6", (0, 2), 10.0), pair("node7", "node6", (1, 2), 30.0)]}),
        );
        assert_eq!(figures(primaries(Family::Net, &node7, &node6, &two)), [("throughput".into(), 20.0)]);
    }

    pub(super) fn plan() -> Plan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"t\"\n[[group]]\nname = \"a\"\nhosts = [\"x\"]\n[[group]]\nname = \"b\"\nhosts = [\"y\"]\n\
             [[benchmark]]\nkind = \"partdiff\"\n[[benchmark]]\nkind = \"mpiio\"\n\
             [[overhead]]\nguest = \"b\"\nhost = \"a\"\n",
        )
        .unwrap();
        super::super::plan::load(&path, &[], None, std::path::Path::new("pvbench")).unwrap()
    }

    fn measured(a: &[f64], b: &[f64]) -> Measured {
        let mut m = Measured::default();
        for (group, values) in [(0, a), (1, b)] {
            for &v in values {
                m.add(0, group, vec![Value { metric: "rate".into(), unit: "MLUP/s", value: v }]);
                let io = |metric: &str, value: f64| Value { metric: metric.into(), unit: "MiB/s", value };
                m.add(1, group, vec![io("write", v * 2.0), io("read", v * 4.0)]);
            }
        }
        m
    }

    #[test]
    fn precision_is_reached_when_every_interval_is_within_the_share() {
        let p = plan();
        assert!(measured(&[100.0, 101.0, 99.0], &[50.0, 50.5, 49.5]).imprecise(&p, 0.05).is_empty());
        let noisy = measured(&[100.0, 101.0, 99.0], &[50.0, 25.0, 75.0]).imprecise(&p, 0.05);
        assert_eq!(noisy.len(), 3, "{noisy:?}");
        assert!(noisy[0].starts_with("partdiff b rate ±") && noisy[0].ends_with(" %"), "{noisy:?}");
        let one = measured(&[100.0], &[50.0]).imprecise(&p, 0.05);
        assert_eq!(one[0], "partdiff a rate: no interval (1 runs)");
        let nothing = Measured::default().imprecise(&p, 0.05);
        assert_eq!(nothing[0], "partdiff a: no figure yet");
        let guest_missing = measured(&[100.0, 100.0], &[]).imprecise(&p, 0.05);
        assert_eq!(guest_missing, ["partdiff b: no figure yet", "mpiio b: no figure yet"]);
    }

    #[test]
    fn the_overhead_is_the_guests_mean_over_the_hosts() {
        let p = plan();
        let o = measured(&[100.0, 100.0, 100.0], &[50.0, 50.0, 50.0]).overhead(
            &p,
            &p.file.overheads[0],
            "this campaign",
            true,
        );
        let ratios: Vec<(&str, &str, f64)> =
            o.figures.iter().map(|f| (f.benchmark.as_str(), f.metric.as_str(), f.ratio.value)).collect();
        assert_eq!(ratios, [("partdiff", "rate", 0.5), ("mpiio", "write", 0.5), ("mpiio", "read", 0.5)]);
        assert_eq!(
            (o.figures[1].guest_mean, o.figures[1].host_mean, o.figures[1].guest_runs),
            (100.0, 200.0, 3)
        );
        assert_eq!(o.families.len(), 2);
        assert_eq!(o.index.as_ref().map(|i| i.value), Some(0.5));
        assert_eq!(o.figures[0].title, "partdiff");
        let reference = measured(&[100.0], &[50.0]).overhead(&p, &p.file.overheads[0], "study-2008", false);
        assert_eq!(reference.figures[1].title, "MPI-IO", "a reference's figures are named by family");
        assert_eq!(reference.figures[0].ratio.verdict, "n too small");
    }

    fn ratio(value: f64, low: f64, high: f64) -> Ratio {
        Ratio { value, low: Some(low), high: Some(high), verdict: "lower".into() }
    }

    #[test]
    fn the_geometric_mean_of_two_ratios_and_its_interval() {
        let g = geometric_mean(&[ratio(0.25, 0.2, 0.3125), ratio(1.0, 0.8, 1.25)]).unwrap();
        assert!((g.value - 0.5).abs() < 1e-12, "{g:?}");
        // Each interval is ±ln 1.25 in logs; the mean's is sqrt(2) ln 1.25 / 2.
        let half = 2f64.sqrt() * 1.25f64.ln() / 2.0;
        assert!((g.low.unwrap() - 0.5 * (-half).exp()).abs() < 1e-12, "{g:?}");
        assert!((g.high.unwrap() - 0.5 * half.exp()).abs() < 1e-12, "{g:?}");
        assert_eq!(g.verdict, "lower");
    }

    #[test]
    fn the_geometric_mean_of_equal_ratios_is_their_value() {
        // Found by props::a_geometric_mean_lies_between_its_ratios_and_holds_its_value.
        let r = Ratio { value: 1.7310360781236863e-4, low: None, high: None, verdict: "n too small".into() };
        assert_eq!(geometric_mean(&[r.clone(), r.clone()]).unwrap().value, r.value);
    }

    #[test]
    fn a_ratio_without_an_interval_leaves_the_mean_without_one() {
        let open = Ratio { value: 0.5, low: None, high: None, verdict: "n too small".into() };
        let g = geometric_mean(&[ratio(0.5, 0.4, 0.6), open]).unwrap();
        assert_eq!((g.low, g.high, g.verdict.as_str()), (None, None, "n too small"));
        assert!(geometric_mean(&[]).is_none());
        // An interval reaching 0 has no bound on the log scale.
        let to_zero = geometric_mean(&[ratio(0.5, 0.0, 0.6), ratio(0.5, 0.4, 0.6)]).unwrap();
        assert_eq!((to_zero.low, to_zero.high), (None, None));
        assert!(geometric_mean(&[ratio(0.0, 0.0, 0.1)]).is_none());
    }
}

#[cfg(test)]
mod props;
