use super::*;
use crate::compare::load::{Grouping, Reduced, reduce};

fn run(kind: &str, results: serde_json::Value) -> Run {
    run_with(kind, serde_json::json!({}), results)
}

fn run_with(kind: &str, parameters: serde_json::Value, results: serde_json::Value) -> Run {
    let doc = serde_json::json!({
        "schema_version": 3, "tool": {"name": "pvbench", "version": "0"}, "kind": kind, "label": "g",
        "started_at": "t", "parameters": parameters, "ranks": {"count": 1, "hosts": []},
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
            m.add(
                0,
                group,
                vec![Value { metric: "rate".into(), unit: "MLUP/s", value: v, lower_is_better: false }],
            );
            let io = |metric: &str, value: f64| Value {
                metric: metric.into(),
                unit: "MiB/s",
                value,
                lower_is_better: false,
            };
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
    // ±25 % of a mean of 100 is not within 5 % of it (nor within 5 plus it).
    let wide = measured(&[100.0, 110.0, 90.0], &[50.0, 50.5, 49.5]).imprecise(&p, 0.05);
    assert!(wide.iter().any(|l| l.starts_with("partdiff a rate ±24.8 %")), "{wide:?}");
    let one = measured(&[100.0], &[50.0]).imprecise(&p, 0.05);
    assert_eq!(one[0], "partdiff a rate: no interval (1 runs)");
    let nothing = Measured::default().imprecise(&p, 0.05);
    assert_eq!(nothing[0], "partdiff a: no figure yet");
    let guest_missing = measured(&[100.0, 100.0], &[]).imprecise(&p, 0.05);
    assert_eq!(guest_missing, ["partdiff b: no figure yet", "mpiio b: no figure yet"]);
    // Runs without a figure (a net without peers on one host): more would not give one.
    let mut figureless = measured(&[100.0, 100.0, 100.0], &[50.0, 50.0, 50.0]);
    let mut never = Measured::default();
    for group in [0, 1] {
        figureless.add(0, group, Vec::new());
        never.add(0, group, Vec::new());
        never.add(1, group, Vec::new());
    }
    assert!(figureless.imprecise(&p, 0.05).is_empty(), "{:?}", figureless.imprecise(&p, 0.05));
    assert!(never.imprecise(&p, 0.05).is_empty(), "{:?}", never.imprecise(&p, 0.05));
}

#[test]
fn the_overhead_is_the_guests_mean_over_the_hosts() {
    let p = plan();
    let o = measured(&[100.0, 100.0, 100.0], &[50.0, 50.0, 50.0]).overhead(
        &p,
        &p.file.overheads[0],
        "this campaign",
        true,
        &[],
    );
    let ratios: Vec<(&str, &str, f64)> =
        o.figures.iter().map(|f| (f.benchmark.as_str(), f.metric.as_str(), f.ratio.value)).collect();
    assert_eq!(ratios, [("partdiff", "rate", 0.5), ("mpiio", "write", 0.5), ("mpiio", "read", 0.5)]);
    assert_eq!((o.figures[1].guest_mean, o.figures[1].host_mean, o.figures[1].guest_runs), (100.0, 200.0, 3));
    assert_eq!(o.families.len(), 2);
    assert_eq!(o.index.as_ref().map(|i| i.value), Some(0.5));
    assert_eq!(o.figures[0].title, "partdiff");
    let reference = measured(&[100.0], &[50.0]).overhead(&p, &p.file.overheads[0], "study-2008", false, &[]);
    assert_eq!(reference.figures[1].title, "MPI-IO", "a reference's figures are named by family");
    assert_eq!(reference.figures[0].ratio.verdict, "n too small");
}

fn ratio(value: f64, low: f64, high: f64) -> Ratio {
    Ratio { value, low: Some(low), high: Some(high), verdict: "lower".into(), no_interval: None }
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
    let r = Ratio {
        value: 1.7310360781236863e-4,
        low: None,
        high: None,
        verdict: "n too small".into(),
        no_interval: Some(NoInterval::OneRun),
    };
    assert_eq!(geometric_mean(&[r.clone(), r.clone()]).unwrap().value, r.value);
}

#[test]
fn a_ratio_without_an_interval_leaves_the_mean_without_one() {
    let open = Ratio {
        value: 0.5,
        low: None,
        high: None,
        verdict: "n too small".into(),
        no_interval: Some(NoInterval::OneRun),
    };
    let g = geometric_mean(&[ratio(0.5, 0.4, 0.6), open]).unwrap();
    assert_eq!((g.low, g.high, g.verdict.as_str()), (None, None, "n too small"));
    assert!(geometric_mean(&[]).is_none());
    // An interval reaching 0 has no bound on the log scale.
    let to_zero = geometric_mean(&[ratio(0.5, 0.0, 0.6), ratio(0.5, 0.4, 0.6)]).unwrap();
    assert_eq!((to_zero.low, to_zero.high), (None, None));
    assert_eq!(to_zero.no_interval, Some(NoInterval::FromItsRatios));
}

#[test]
fn a_ratio_of_0_is_a_result_that_makes_the_mean_0() {
    assert_eq!(geometric_mean(&[ratio(0.0, 0.0, 0.1)]).map(|g| g.value), Some(0.0));
    let g = geometric_mean(&[ratio(0.0, 0.0, 0.1), ratio(0.5, 0.4, 0.6)]).unwrap();
    assert_eq!((g.value, g.low, g.verdict.as_str()), (0.0, None, "lower"));
    assert_eq!(g.no_interval, Some(NoInterval::FromItsRatios));
    assert!(geometric_mean(&[ratio(f64::INFINITY, 1.0, 2.0), ratio(0.5, 0.4, 0.6)]).is_none());
}

/// A plan of partdiff, mpiio and a net without peers on groups a (host) and b, and an fs on a
/// alone (not the pair's).
fn three() -> Plan {
    with_net("")
}

/// That plan, its net with `peers` (a line of TOML or nothing).
fn with_net(peers: &str) -> Plan {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        "name = \"t\"\n[[group]]\nname = \"a\"\nhosts = [\"x\"]\n[[group]]\nname = \"b\"\nhosts = [\"y\"]\n\
         [[benchmark]]\nkind = \"partdiff\"\n[[benchmark]]\nkind = \"mpiio\"\n[[benchmark]]\nkind = \"net\"\n\
         [[benchmark]]\nname = \"host-only\"\nkind = \"fs\"\ngroups = [\"a\"]\n\
         [[overhead]]\nguest = \"b\"\nhost = \"a\"\n"
            .replace("kind = \"net\"\n", &format!("kind = \"net\"\n{peers}")),
    )
    .unwrap();
    super::super::plan::load(&path, &[], None, std::path::Path::new("pvbench")).unwrap()
}

#[test]
fn a_net_whose_runs_have_no_pair_with_its_peers_says_so() {
    let p = with_net("peers = [\"z\", \"w\"]\n");
    let mut m = Measured::default();
    m.add(2, 0, Vec::new());
    m.add(2, 1, Vec::new());
    let o = m.overhead(&p, &p.file.overheads[0], "this campaign", true, &[]);
    let net = o.not_in_index.iter().find(|n| n.benchmark == "net").expect("net named");
    assert_eq!(net.reason, "no figure: no pair between the group's hosts and the peers (z, w)");
    let mut partdiff = Measured::default();
    partdiff.add(0, 0, Vec::new());
    partdiff.add(0, 1, Vec::new());
    let o = partdiff.overhead(&p, &p.file.overheads[0], "this campaign", true, &[]);
    assert_eq!(o.not_in_index[0].reason, "no figure in its runs");
}

#[test]
fn every_benchmark_and_figure_not_in_the_index_is_named_with_why() {
    let p = three();
    let mut m = Measured::default();
    let io = |metric: &str, value: f64| Value {
        metric: metric.into(),
        unit: "MiB/s",
        value,
        lower_is_better: false,
    };
    for _ in 0..3 {
        m.add(
            0,
            0,
            vec![Value { metric: "rate".into(), unit: "MLUP/s", value: 100.0, lower_is_better: false }],
        );
        m.add(
            0,
            1,
            vec![Value { metric: "rate".into(), unit: "MLUP/s", value: 0.0, lower_is_better: false }],
        );
        m.add(1, 0, vec![io("write", 100.0), io("read", 100.0)]);
        m.add(1, 1, vec![io("write", 50.0)]);
        // net: runs of both, no pair between the group's hosts and another.
        m.add(2, 0, Vec::new());
        m.add(2, 1, Vec::new());
    }
    let o = m.overhead(&p, &p.file.overheads[0], "this campaign", true, &[]);
    assert_eq!(o.benchmarks, 3);
    let families: Vec<(&str, f64)> =
        o.families.iter().map(|f| (f.benchmark.as_str(), f.ratio.value)).collect();
    assert_eq!(families, [("partdiff", 0.0), ("mpiio", 0.5)], "a ratio of 0 is in the index");
    assert_eq!(o.index.as_ref().map(|i| i.value), Some(0.0));
    let named: Vec<(&str, Option<&str>, &str)> = o
        .not_in_index
        .iter()
        .map(|n| (n.benchmark.as_str(), n.metric.as_deref(), n.reason.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("mpiio", Some("read"), "measured from a only"),
            ("net", None, "no figure: no peers, and no pair with a host of the group (one host, one rank?)"),
        ]
    );
}

#[test]
fn a_group_without_a_run_is_named_with_its_attempts() {
    let p = three();
    let mut m = Measured::default();
    m.add(0, 0, vec![Value { metric: "rate".into(), unit: "MLUP/s", value: 100.0, lower_is_better: false }]);
    m.leave_out(0, 1, "noisy: CPU steal 40.0 % > 10 %".into());
    m.leave_out(0, 1, "noisy: CPU steal 40.0 % > 10 %".into());
    let attempt = |benchmark: &str, group: &str, outcome: &str| RunRecord {
        id: format!("{benchmark}/{group}/rep-01"),
        benchmark: benchmark.into(),
        group: group.into(),
        rep: 1,
        attempt: 1,
        started_at: String::new(),
        seconds: 1.0,
        outcome: outcome.into(),
        reason: None,
    };
    let attempts = [attempt("partdiff", "b", "failed"), attempt("mpiio", "a", "interrupted")];
    let o = m.overhead(&p, &p.file.overheads[0], "this campaign", true, &attempts);
    let reasons: Vec<&str> = o.not_in_index.iter().map(|n| n.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "no run of b counted (2 runs left out: noisy: CPU steal 40.0 % > 10 %, 1 attempt failed)",
            "no run of b yet; no run of a counted (1 attempt interrupted)",
            "no run of b yet; no run of a yet",
        ]
    );
    assert_eq!((o.families.len(), o.index.is_none()), (0, true));
    let reference = m.overhead(&p, &p.file.overheads[0], "study-2008", false, &[]);
    assert_eq!(reference.not_in_index[0].reason, "study-2008 has no figure of b");
    assert_eq!(reference.not_in_index[2].reason, "study-2008 has no figure for it");
}

#[test]
fn until_ci_on_a_mean_of_0_names_the_interval_in_its_unit() {
    let p = plan();
    let mut m = Measured::default();
    for (group, values) in [(0, [1.0, 1.0, 1.0]), (1, [0.0, 0.0, 0.0])] {
        for v in values {
            m.add(
                0,
                group,
                vec![Value { metric: "rate".into(), unit: "MLUP/s", value: v, lower_is_better: false }],
            );
        }
    }
    // Every figure 0: no spread, within any share.
    assert!(!m.imprecise(&p, 0.05).iter().any(|l| l.contains("partdiff")), "{:?}", m.imprecise(&p, 0.05));
    let mut spread = Measured::default();
    for v in [-1.0, 0.0, 1.0] {
        spread.add(
            0,
            1,
            vec![Value { metric: "rate".into(), unit: "MLUP/s", value: v, lower_is_better: false }],
        );
    }
    let lines = spread.imprecise(&p, 0.05);
    assert!(
        lines.iter().any(|l| l.starts_with("partdiff b rate ±2.484 MLUP/s around a mean of 0")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("inf")), "{lines:?}");
}

fn lower(values: Vec<Value>) -> Vec<(String, f64, bool)> {
    values.into_iter().map(|v| (v.metric, v.value, v.lower_is_better)).collect()
}

#[test]
fn the_new_families_give_rates_and_times() {
    let none: &[String] = &[];
    // Small I/O: operations per second, not bandwidth.
    let phases = serde_json::json!({"phases": [
        {"phase": "write", "ior": {"mean_mib_per_s": 10.0}, "operations": {"mean_iops": 2000.0, "latency_p50_us": 40.0}},
        {"phase": "read", "ior": {"mean_mib_per_s": 20.0}, "operations": {"mean_iops": 4000.0}}]});
    let hard = run_with("mpiio", serde_json::json!({"segments": 100}), phases.clone());
    assert_eq!(
        lower(primaries(Family::Mpiio, none, none, &hard)),
        [("write IOPS".into(), 2000.0, false), ("read IOPS".into(), 4000.0, false)]
    );
    let random = run_with("mpiio", serde_json::json!({"order": "random"}), phases.clone());
    assert_eq!(primaries(Family::Mpiio, none, none, &random).len(), 2);
    let offset = run_with("mpiio", serde_json::json!({"offset_bytes": 1}), phases.clone());
    assert_eq!(primaries(Family::Mpiio, none, none, &offset)[0].metric, "write IOPS");
    // A run of large transfers keeps its bandwidth, whatever operations it counted.
    let plain = run_with("mpiio", serde_json::json!({"segments": 1, "offset_bytes": 0}), phases);
    assert_eq!(
        figures(primaries(Family::Mpiio, none, none, &plain)),
        [("write".into(), 10.0), ("read".into(), 20.0)]
    );
    let meta = run(
        "meta",
        serde_json::json!({"phases": [{"phase": "file_create", "mean_ops_per_s": 2500.0},
                                      {"phase": "dir_stat", "mean_ops_per_s": 9000.0}]}),
    );
    assert_eq!(
        lower(primaries(Family::Meta, none, none, &meta)),
        [("file create".into(), 2500.0, false), ("dir stat".into(), 9000.0, false)]
    );
    let mut cell = pair("node7", "node6", (0, 1), 100.0);
    cell["rr"] =
        serde_json::json!({"transactions_per_s": 5000.0, "round_trip": {"p50_us": 200.0, "p99_us": 900.0}});
    cell["latency"] =
        serde_json::json!([{"size_bytes": 0, "latency_us": 30.0}, {"size_bytes": 8, "latency_us": 31.0}]);
    let net = run("net", serde_json::json!({"pairs": [cell]}));
    let (node7, node6) = (vec!["node7".to_string()], vec!["node6".to_string()]);
    assert_eq!(
        lower(primaries(Family::Net, &node7, &node6, &net)),
        [
            ("throughput".into(), 100.0, false),
            ("round trip".into(), 200.0, true),
            ("MPI latency".into(), 30.0, true)
        ],
        "the throughput from its own cells; a rate beside its round trip would count twice"
    );
}

#[test]
fn a_time_twice_the_hosts_keeps_half() {
    let p = plan();
    let mut m = Measured::default();
    let time =
        |v: f64| vec![Value { metric: "round trip".into(), unit: "µs", value: v, lower_is_better: true }];
    for v in [100.0, 100.0, 100.0] {
        m.add(0, 0, time(v));
    }
    for v in [200.0, 200.0, 200.0] {
        m.add(0, 1, time(v));
    }
    let o = m.overhead(&p, &p.file.overheads[0], "this campaign", true, &[]);
    assert_eq!(o.figures[0].ratio.value, 0.5);
    assert!(o.figures[0].lower_is_better);
    assert_eq!((o.figures[0].guest_mean, o.figures[0].host_mean), (200.0, 100.0));
    let sentence = crate::report::campaign::sentence(&o);
    assert!(
        sentence.starts_with("b keeps 50 % [50, 50] of a's partdiff round trip (2.0× the host's)"),
        "{sentence}"
    );
}
