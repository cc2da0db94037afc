//! What each kind of result is compared by: one entry per kind, so a new kind adds an entry
//! here, not a new code path.

use serde_json::Value;

use crate::result::comparison::{AxisKey, GridCell};

/// One number a document contributes to a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Stable identifier, unit in the name: `write_ior_mib_per_s`.
    pub id: String,
    /// What a chart's title says: `write bandwidth (IOR convention)`.
    pub title: String,
    pub unit: &'static str,
    pub value: f64,
    /// A time (a latency, a round trip, a run time): less is better. Every renderer and the
    /// campaign's figures read the direction here.
    pub lower_is_better: bool,
    /// Where the value sits when the metric is a cell of a grid (net's matrix, fs's sweep).
    pub cell: Option<GridCell>,
}

#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    /// Parameters that may differ between runs of one group without making them different
    /// experiments (a temporary file's name, whether it was kept).
    pub incidental_parameters: &'static [&'static str],
    /// The document's `results` to its metrics; a value that is neither a number nor null (not
    /// measured) is noted, with its path, instead of vanishing.
    pub metrics: fn(&Value, &mut Findings) -> Vec<MetricValue>,
}

pub const KINDS: &[Kind] = &[
    Kind { name: "mpiio", incidental_parameters: &["file", "keep", "pvfs2tab"], metrics: mpiio },
    Kind { name: "partdiff", incidental_parameters: &[], metrics: partdiff },
    Kind { name: "net", incidental_parameters: &["timeout_s", "keep_going"], metrics: net },
    Kind { name: "fs", incidental_parameters: &["target", "between_tests"], metrics: fs },
    Kind { name: "meta", incidental_parameters: &["dir"], metrics: meta },
    // The environment alone has nothing to compare; such documents are counted and left out.
    Kind { name: "env", incidental_parameters: &[], metrics: |_, _| Vec::new() },
];

pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The units of a time. A metric in one is lower-is-better; every other figure compared is a
/// rate (MiB/s, IOPS, ops/s, trans/s, MLUP/s), higher-is-better.
const TIME_UNITS: &[&str] = &["s", "ms", "µs", "ns"];

fn metric(id: String, title: String, unit: &'static str, value: Option<f64>) -> Option<MetricValue> {
    let lower_is_better = TIME_UNITS.contains(&unit);
    value.filter(|v| v.is_finite()).map(|value| MetricValue {
        id,
        title,
        unit,
        value,
        lower_is_better,
        cell: None,
    })
}

/// What reading a document's figures found besides them.
#[derive(Debug, Default)]
pub struct Findings {
    /// Values that are not numbers, with their paths: noted, and the rest compared.
    pub notes: Vec<String>,
    /// Numbers that are no measurement, with their paths: the document is left out.
    pub not_measurements: Vec<String>,
}

/// A metric's value: a number; null or absent (not measured) is `None` without a word; anything
/// else (`"500"`, `true`) is `None` and noted with its path below `results`.
fn number(value: &Value, path: impl FnOnce() -> String, found: &mut Findings) -> Option<f64> {
    match value {
        Value::Null => None,
        // Every figure compared is a rate or a time: 0 or less was not measured (a negative
        // bandwidth, a time of 0), and a document holding one is left out, not averaged.
        Value::Number(n) => match n.as_f64() {
            Some(v) if v > 0.0 && v.is_finite() => Some(v),
            v => {
                found.not_measurements.push(format!("results.{} is {:?}", path(), v.unwrap_or(f64::NAN)));
                None
            }
        },
        other => {
            found.notes.push(format!("results.{} is {other}, not a number", path()));
            None
        }
    }
}

/// Per phase: the mean bandwidth in IOR's convention and mpi-io-test's; for small transfers
/// also the mean IOPS and the latency percentiles of one transfer call (µs).
fn mpiio(results: &Value, found: &mut Findings) -> Vec<MetricValue> {
    let phases = results["phases"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut metrics = Vec::new();
    for (i, phase) in phases.iter().enumerate() {
        let Some(name) = phase["phase"].as_str() else { continue };
        let ior =
            number(&phase["ior"]["mean_mib_per_s"], || format!("phases[{i}].ior.mean_mib_per_s"), found);
        let mpi_io_test = number(
            &phase["mpi_io_test"]["bandwidth_mb_per_s"],
            || format!("phases[{i}].mpi_io_test.bandwidth_mb_per_s"),
            found,
        );
        metrics.extend(metric(
            format!("{name}_ior_mib_per_s"),
            format!("{name} bandwidth (IOR convention)"),
            "MiB/s",
            ior,
        ));
        metrics.extend(metric(
            format!("{name}_mpi_io_test_mb_per_s"),
            format!("{name} bandwidth (mpi-io-test convention)"),
            "MB/s",
            mpi_io_test,
        ));
        let operations = &phase["operations"];
        if operations.is_null() {
            continue;
        }
        let iops = number(&operations["mean_iops"], || format!("phases[{i}].operations.mean_iops"), found);
        metrics.extend(metric(
            format!("{name}_iops"),
            format!("{name} operations (IOR convention)"),
            "IOPS",
            iops,
        ));
        for percentile in ["p50", "p99", "max"] {
            let key = format!("latency_{percentile}_us");
            let value = number(&operations[&key], || format!("phases[{i}].operations.{key}"), found);
            metrics.extend(metric(
                format!("{name}_{percentile}_latency_us"),
                format!("{name} latency of one transfer, {percentile}"),
                "µs",
                value,
            ));
        }
    }
    metrics
}

fn partdiff(results: &Value, found: &mut Findings) -> Vec<MetricValue> {
    [
        metric(
            "calculation_time_s".into(),
            "partdiff calculation time".into(),
            "s",
            number(&results["calculation_time_s"], || "calculation_time_s".into(), found),
        ),
        metric(
            "mlup_per_s".into(),
            "partdiff lattice updates".into(),
            "MLUP/s",
            number(&results["mlup_per_s"], || "mlup_per_s".into(), found),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every measured cell of the matrices: the median MiB/s of the pair; where they ran, its
/// TCP_RR transactions per second and round-trip p50 and p99 (`…_rr_p50_us`), and its MPI
/// latency per message size (`…_latency_8b_us`, osu_latency's figure), both in µs. Cells are
/// named by host, so that the study's node6 → vm2 meets today's node6 → vm2 whatever the ranks
/// were; a host with several ranks in one document names its cells `host:rank`.
fn net(results: &Value, found: &mut Findings) -> Vec<MetricValue> {
    let pairs = results["pairs"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut ranks_of_host: Vec<(&str, u64)> = Vec::new();
    for pair in pairs {
        for end in ["sender", "receiver"] {
            if let (Some(host), Some(rank)) = (pair[format!("{end}_host")].as_str(), pair[end].as_u64())
                && !ranks_of_host.contains(&(host, rank))
            {
                ranks_of_host.push((host, rank));
            }
        }
    }
    let name = |host: &str, rank: u64| {
        if ranks_of_host.iter().filter(|(h, _)| *h == host).count() > 1 {
            format!("{host}:{rank}")
        } else {
            host.to_string()
        }
    };
    let mut metrics = Vec::new();
    for (i, pair) in pairs.iter().enumerate() {
        let end = |end: &str| Some(name(pair[format!("{end}_host")].as_str()?, pair[end].as_u64()?));
        let (Some(s), Some(r)) = (end("sender"), end("receiver")) else {
            continue;
        };
        let prefix = format!("{}_to_{}", s.replace(' ', "_"), r.replace(' ', "_"));
        // One cell of the table `what`: the value at `path` below the pair.
        let mut add = |path: String, value: &Value, suffix: String, what: String, unit: &'static str| {
            let value = number(value, || format!("pairs[{i}].{path}"), found);
            if let Some(mut m) =
                metric(format!("{prefix}_{suffix}"), format!("{s} → {r} {what}"), unit, value)
            {
                m.cell = Some(GridCell {
                    table: what,
                    rows: "sender",
                    columns: "receiver",
                    row: AxisKey::Name(s.clone()),
                    column: AxisKey::Name(r.clone()),
                });
                metrics.push(m);
            }
        };
        let throughput = "median_mib_per_s".to_string();
        add(throughput.clone(), &pair[&throughput], "mib_per_s".into(), "throughput".into(), "MiB/s");
        let rr = &pair["rr"];
        let rate = &rr["transactions_per_s"];
        add(
            "rr.transactions_per_s".into(),
            rate,
            "rr_transactions_per_s".into(),
            "TCP_RR rate".into(),
            "trans/s",
        );
        for q in ["p50", "p99"] {
            let value = &rr["round_trip"][format!("{q}_us")];
            let what = format!("TCP_RR round trip {q}");
            add(format!("rr.round_trip.{q}_us"), value, format!("rr_{q}_us"), what, "µs");
        }
        let points = pair["latency"].as_array().map(Vec::as_slice).unwrap_or_default();
        for (k, point) in points.iter().enumerate() {
            let Some(size) = point["size_bytes"].as_u64() else { continue };
            let what = format!("MPI latency {size} B");
            add(
                format!("latency[{k}].latency_us"),
                &point["latency_us"],
                format!("latency_{size}b_us"),
                what,
                "µs",
            );
        }
    }
    metrics
}

/// Every cell of the sweep: pass × file size × record size, MiB/s, the mean over the ranks
/// (each rank swept its own file at the same time). A cell of several jobs reported as one
/// (fio's group_reporting) holds the mean job's figure and counts as that many ranks.
fn fs(results: &Value, found: &mut Findings) -> Vec<MetricValue> {
    let mut sums: Vec<(String, u64, u64, f64, u32)> = Vec::new();
    let sweeps = results["ranks"].as_array().map(Vec::as_slice).unwrap_or_default();
    let cells = sweeps.iter().enumerate().flat_map(|(r, s)| {
        s["cells"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(c, cell)| (r, c, cell))
    });
    for (r, c, cell) in cells {
        let value = number(&cell["mib_per_s"], || format!("ranks[{r}].cells[{c}].mib_per_s"), found);
        let (Some(pass), Some(file), Some(record), Some(value)) = (
            cell["pass"].as_str(),
            cell["file_size_bytes"].as_u64(),
            cell["record_size_bytes"].as_u64(),
            value,
        ) else {
            continue;
        };
        let jobs = cell["group"]["jobs"].as_u64().and_then(|j| u32::try_from(j).ok()).unwrap_or(1).max(1);
        let weighted = value * f64::from(jobs);
        match sums.iter_mut().find(|s| s.0 == pass && s.1 == file && s.2 == record) {
            Some(sum) => {
                sum.3 += weighted;
                sum.4 += jobs;
            }
            None => sums.push((pass.to_string(), file, record, weighted, jobs)),
        }
    }
    sums.into_iter()
        .filter_map(|(pass, file, record, sum, n)| {
            let (file_kib, record_kib) = (file / 1024, record / 1024);
            let id = format!("{}_{file_kib}k_{record_kib}k_mib_per_s", pass.replace(' ', "_"));
            let title = format!("{pass}, {file_kib} KiB file, {record_kib} KiB records");
            let mut m = metric(id, title, "MiB/s", Some(sum / f64::from(n)))?;
            m.cell = Some(GridCell {
                table: pass,
                rows: "file KiB",
                columns: "record KiB",
                row: AxisKey::Number(file_kib),
                column: AxisKey::Number(record_kib),
            });
            Some(m)
        })
        .collect()
}

/// Per phase: the mean aggregate rate over the iterations (mdtest's SUMMARY mean), and where
/// measured (not in mdtest's summary) the latency percentiles of one operation, in µs.
fn meta(results: &Value, found: &mut Findings) -> Vec<MetricValue> {
    let phases = results["phases"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut metrics = Vec::new();
    for (i, phase) in phases.iter().enumerate() {
        let Some(name) = phase["phase"].as_str() else { continue };
        let what = name.replace('_', " ");
        let value = number(&phase["mean_ops_per_s"], || format!("phases[{i}].mean_ops_per_s"), found);
        metrics.extend(metric(format!("{name}_ops_per_s"), format!("{what} rate"), "ops/s", value));
        let latency = &phase["latency"];
        if latency.is_null() {
            continue;
        }
        for percentile in ["p50", "p99", "max"] {
            let key = format!("{percentile}_s");
            let seconds = number(&latency[&key], || format!("phases[{i}].latency.{key}"), found);
            metrics.extend(metric(
                format!("{name}_{percentile}_latency_us"),
                format!("{what} latency of one operation, {percentile}"),
                "µs",
                seconds.map(|s| s * 1e6),
            ));
        }
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real runs of every family with times in them: each time (`…_us`, `…_s`) is
    /// lower-is-better, each rate (`…_per_s`, IOPS) is not.
    #[test]
    fn every_time_is_lower_is_better_and_every_rate_is_not() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/documents");
        for file in ["meta.json", "net-stream-rr-latency.json", "mpiio-small-random.json"] {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(data.join(file)).unwrap()).unwrap();
            let kind = kind(doc["kind"].as_str().unwrap()).unwrap();
            let metrics = (kind.metrics)(&doc["results"], &mut Findings::default());
            assert!(metrics.iter().any(|m| m.lower_is_better), "{file}: no time");
            assert!(metrics.iter().any(|m| !m.lower_is_better), "{file}: no rate");
            for m in metrics {
                let time = !m.id.ends_with("_per_s") && (m.id.ends_with("_us") || m.id.ends_with("_s"));
                assert_eq!(m.lower_is_better, time, "{file}: {} in {}", m.id, m.unit);
            }
        }
        let results = serde_json::json!({"calculation_time_s": 2.0, "mlup_per_s": 50.0});
        let got: Vec<(String, bool)> = partdiff(&results, &mut Findings::default())
            .into_iter()
            .map(|m| (m.id, m.lower_is_better))
            .collect();
        assert_eq!(got, [("calculation_time_s".into(), true), ("mlup_per_s".into(), false)]);
    }

    #[test]
    fn meta_gives_the_rate_and_latency_in_microseconds() {
        let results = serde_json::json!({"phases": [{"phase": "file_stat", "mean_ops_per_s": 5000.0,
            "latency": {"samples": 10, "mean_s": 2e-4, "p50_s": 1.5e-4, "p99_s": 0.002, "max_s": 0.004}}]});
        let got: Vec<(String, f64)> =
            meta(&results, &mut Findings::default()).into_iter().map(|m| (m.id, m.value)).collect();
        let want = [
            ("ops_per_s", 5000.0),
            ("p50_latency_us", 150.0),
            ("p99_latency_us", 2000.0),
            ("max_latency_us", 4000.0),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((id, value), (suffix, expected)) in got.iter().zip(want) {
            assert_eq!(id, &format!("file_stat_{suffix}"));
            assert!((value - expected).abs() < 1e-9, "{id}: {value}");
        }
    }

    #[test]
    fn mpiio_gives_both_conventions_per_phase() {
        let results = serde_json::json!({"phases": [
            {"phase": "write", "ior": {"mean_mib_per_s": 100.0}, "mpi_io_test": {"bandwidth_mb_per_s": 110.0}},
            {"phase": "read", "ior": {"mean_mib_per_s": 200.0}, "mpi_io_test": {"bandwidth_mb_per_s": null}}
        ]});
        let got: Vec<(String, f64)> =
            mpiio(&results, &mut Findings::default()).into_iter().map(|m| (m.id, m.value)).collect();
        assert_eq!(
            got,
            vec![
                ("write_ior_mib_per_s".into(), 100.0),
                ("write_mpi_io_test_mb_per_s".into(), 110.0),
                ("read_ior_mib_per_s".into(), 200.0)
            ]
        );
    }

    #[test]
    fn mpiio_gives_iops_and_latency_percentiles_where_measured() {
        let results = serde_json::json!({"phases": [
            {"phase": "write", "ior": {"mean_mib_per_s": 100.0}, "mpi_io_test": null, "operations": {
                "mean_iops": 2000.0, "latency_p50_us": 40.0, "latency_p99_us": 800.0, "latency_max_us": 9000.0}},
            {"phase": "read", "ior": {"mean_mib_per_s": 200.0}, "mpi_io_test": null}
        ]});
        let got: Vec<(String, &str, f64)> =
            mpiio(&results, &mut Findings::default()).into_iter().map(|m| (m.id, m.unit, m.value)).collect();
        assert_eq!(
            got,
            vec![
                ("write_ior_mib_per_s".into(), "MiB/s", 100.0),
                ("write_iops".into(), "IOPS", 2000.0),
                ("write_p50_latency_us".into(), "µs", 40.0),
                ("write_p99_latency_us".into(), "µs", 800.0),
                ("write_max_latency_us".into(), "µs", 9000.0),
                ("read_ior_mib_per_s".into(), "MiB/s", 200.0),
            ]
        );
    }

    /// A figure written with 17 digits reads back as the same f64: without serde_json's
    /// `float_roundtrip` it came back one unit in the last place off (3901.777132088894).
    #[test]
    fn a_written_figure_reads_back_unchanged() {
        let written = 3901.7771320888946f64;
        let text = format!(
            r#"{{"pairs": [{{"sender": 0, "receiver": 1, "sender_host": "a", "receiver_host": "b", "median_mib_per_s": {}}}]}}"#,
            serde_json::to_string(&written).unwrap()
        );
        let results: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(net(&results, &mut Findings::default())[0].value.to_bits(), written.to_bits());
    }

    #[test]
    fn a_value_that_is_not_a_number_is_noted_with_its_path() {
        let results = serde_json::json!({"phases": [
            {"phase": "write", "ior": {"mean_mib_per_s": "500"}, "mpi_io_test": {"bandwidth_mb_per_s": null}}
        ]});
        let mut found = Findings::default();
        assert!(mpiio(&results, &mut found).is_empty());
        assert_eq!(found.notes, ["results.phases[0].ior.mean_mib_per_s is \"500\", not a number"]);
        let mut found = Findings::default();
        let cells = serde_json::json!({"ranks": [{"cells": [
            {"pass": "write", "file_size_bytes": 1024, "record_size_bytes": 1024, "mib_per_s": true}]}]});
        assert!(fs(&cells, &mut found).is_empty());
        assert_eq!(found.notes, ["results.ranks[0].cells[0].mib_per_s is true, not a number"]);
        let mut found = Findings::default();
        let pairs = serde_json::json!({"pairs": [{"sender": 0, "receiver": 1, "sender_host": "a",
            "receiver_host": "b", "median_mib_per_s": "fast"}]});
        assert!(net(&pairs, &mut found).is_empty());
        assert_eq!(found.notes, ["results.pairs[0].median_mib_per_s is \"fast\", not a number"]);
        let mut found = Findings::default();
        partdiff(&serde_json::json!({"calculation_time_s": [1], "mlup_per_s": 2.0}), &mut found);
        assert_eq!(found.notes, ["results.calculation_time_s is [1], not a number"]);
    }

    #[test]
    fn net_gives_every_measured_cell() {
        let results = serde_json::json!({"pairs": [
            {"sender": 0, "receiver": 1, "sender_host": "node6", "receiver_host": "vm1", "median_mib_per_s": 110.5},
            {"sender": 1, "receiver": 0, "sender_host": "vm1", "receiver_host": "node6", "median_mib_per_s": null}
        ]});
        let got = (kind("net").unwrap().metrics)(&results, &mut Findings::default());
        assert_eq!(got.len(), 1, "a failed pair has no value");
        assert_eq!((got[0].id.as_str(), got[0].value), ("node6_to_vm1_mib_per_s", 110.5));
        let cell = got[0].cell.as_ref().unwrap();
        assert_eq!(cell.table, "throughput");
        assert_eq!((&cell.row, &cell.column, cell.rows), (&name("node6"), &name("vm1"), "sender"));
        assert_eq!(got[0].title, "node6 → vm1 throughput");
    }

    fn name(text: &str) -> AxisKey {
        AxisKey::Name(text.into())
    }

    /// A pair's TCP_RR rate and round trips and its MPI latency per size are cells of their own
    /// tables, beside the throughput; a pair without them has none.
    #[test]
    fn net_gives_request_response_and_latency_cells() {
        let results = serde_json::json!({"pairs": [
            {"sender": 0, "receiver": 1, "sender_host": "node6", "receiver_host": "vm1", "median_mib_per_s": null,
             "rr": {"transactions_per_s": 20000.0, "round_trip": {"p50_us": 45.0, "p99_us": 90.0}},
             "latency": [{"size_bytes": 0, "latency_us": 3.5}, {"size_bytes": 8, "latency_us": 3.75}]},
            {"sender": 1, "receiver": 0, "sender_host": "vm1", "receiver_host": "node6", "median_mib_per_s": 10.0,
             "rr": {"transactions_per_s": 100.0, "round_trip": null}}
        ]});
        let got = (kind("net").unwrap().metrics)(&results, &mut Findings::default());
        let ids: Vec<(&str, f64, &str)> = got.iter().map(|m| (m.id.as_str(), m.value, m.unit)).collect();
        assert_eq!(
            ids,
            [
                ("node6_to_vm1_rr_transactions_per_s", 20000.0, "trans/s"),
                ("node6_to_vm1_rr_p50_us", 45.0, "µs"),
                ("node6_to_vm1_rr_p99_us", 90.0, "µs"),
                ("node6_to_vm1_latency_0b_us", 3.5, "µs"),
                ("node6_to_vm1_latency_8b_us", 3.75, "µs"),
                ("vm1_to_node6_mib_per_s", 10.0, "MiB/s"),
                ("vm1_to_node6_rr_transactions_per_s", 100.0, "trans/s"),
            ]
        );
        let tables: Vec<&str> = got.iter().map(|m| m.cell.as_ref().unwrap().table.as_str()).collect();
        assert_eq!(
            tables[..4],
            ["TCP_RR rate", "TCP_RR round trip p50", "TCP_RR round trip p99", "MPI latency 0 B"]
        );
        let mut found = Findings::default();
        let bad = serde_json::json!({"pairs": [{"sender": 0, "receiver": 1, "sender_host": "a",
            "receiver_host": "b", "latency": [{"size_bytes": 8, "latency_us": -1.0}]}]});
        assert!(net(&bad, &mut found).is_empty());
        assert_eq!(found.not_measurements, ["results.pairs[0].latency[0].latency_us is -1.0"]);
    }

    #[test]
    fn net_names_a_host_with_several_ranks_by_rank_too() {
        let results = serde_json::json!({"pairs": [
            {"sender": 0, "receiver": 1, "sender_host": "h", "receiver_host": "h", "median_mib_per_s": 1.0},
            {"sender": 1, "receiver": 2, "sender_host": "h", "receiver_host": "g", "median_mib_per_s": 2.0}
        ]});
        let got = (kind("net").unwrap().metrics)(&results, &mut Findings::default());
        let ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["h:0_to_h:1_mib_per_s", "h:1_to_g_mib_per_s"]);
    }

    #[test]
    fn axis_keys_order_numbers_by_value_and_names_naturally() {
        let mut keys = [name("vm2"), name("node10"), AxisKey::Number(64), name("node6"), AxisKey::Number(8)];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["8", "64", "node6", "node10", "vm2"]);
        assert!(name("a") < name("a1") && name("a2") < name("a10") && name("b") > name("a9"));
    }

    #[test]
    fn fs_gives_every_cell_averaged_over_ranks() {
        let cell = |pass: &str, value: f64| serde_json::json!({"pass": pass, "file_size_bytes": 1048576, "record_size_bytes": 4096, "mib_per_s": value});
        let results = serde_json::json!({"ranks": [
            {"cells": [cell("write", 100.0), cell("random read", 50.0)]},
            {"cells": [cell("write", 200.0)]}
        ]});
        let got = (kind("fs").unwrap().metrics)(&results, &mut Findings::default());
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].id.as_str(), got[0].value), ("write_1024k_4k_mib_per_s", 150.0));
        assert_eq!(got[1].id, "random_read_1024k_4k_mib_per_s");
        let c = got[1].cell.as_ref().unwrap();
        assert_eq!(c.table, "random read");
        assert_eq!((&c.row, &c.column, c.rows), (&AxisKey::Number(1024), &AxisKey::Number(4), "file KiB"));
    }

    /// A group of four jobs reported as one counts as four ranks of its mean job's figure.
    #[test]
    fn fs_weighs_a_group_of_jobs_by_its_count() {
        let cell = |value: f64| serde_json::json!({"pass": "write", "file_size_bytes": 1048576, "record_size_bytes": 4096, "mib_per_s": value});
        let mut group = cell(100.0);
        group["group"] = serde_json::json!({"jobs": 4, "mib_per_s": 400.0});
        let results = serde_json::json!({"ranks": [{"cells": [group]}, {"cells": [cell(200.0)]}]});
        let got = (kind("fs").unwrap().metrics)(&results, &mut Findings::default());
        assert_eq!(got[0].value, 120.0, "(4 × 100 + 200) / 5");
    }

    #[test]
    fn meta_gives_each_phase_s_mean_rate() {
        let results = serde_json::json!({"phases": [
            {"phase": "file_create", "mean_ops_per_s": 2500.0},
            {"phase": "file_stat", "mean_ops_per_s": null}
        ]});
        let got = (kind("meta").unwrap().metrics)(&results, &mut Findings::default());
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].id.as_str(), got[0].unit, got[0].value),
            ("file_create_ops_per_s", "ops/s", 2500.0)
        );
        assert_eq!(got[0].title, "file create rate");
    }

    #[test]
    fn partdiff_gives_time_and_rate() {
        let got = (kind("partdiff").unwrap().metrics)(
            &serde_json::json!({"calculation_time_s": 2.5, "mlup_per_s": 40.0}),
            &mut Findings::default(),
        );
        assert_eq!(got.iter().map(|m| m.unit).collect::<Vec<_>>(), ["s", "MLUP/s"]);
        assert!(kind("nonsense").is_none());
        assert!((kind("env").unwrap().metrics)(&Value::Null, &mut Findings::default()).is_empty());
    }
}
