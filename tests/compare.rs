//! `pvbench compare` on documents made from real runs of this machine, edited into the study's
//! groups (dom0-bridge, dom0-nobridge, domU) with chosen figures.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

/// One real `mpiio` run and one real `partdiff` run, and a directory to put variants in.
struct Fixture {
    dir: tempfile::TempDir,
    mpiio: Value,
    partdiff: Value,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mpiio = dir.path().join("mpiio.json");
        let out = mpiexec(1, &["mpiio", "-b", "1MiB", "-i", "2", "--json", mpiio.to_str().unwrap()]);
        assert_exit(&out, 0);
        let partdiff = dir.path().join("partdiff.json");
        let out =
            mpiexec(1, &["partdiff", "1", "2", "0", "2", "2", "5", "--json", partdiff.to_str().unwrap()]);
        assert_exit(&out, 0);
        let fixture = Fixture { mpiio: read_json(&mpiio), partdiff: read_json(&partdiff), dir };
        std::fs::remove_file(mpiio).unwrap();
        std::fs::remove_file(partdiff).unwrap();
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, doc: &Value) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        path
    }

    /// The mpiio run relabelled, on a host of `role`, with the given write and read figures
    /// (MiB/s in IOR's convention; mpi-io-test's MB/s set to 1.1 times them).
    fn mpiio_run(&self, label: &str, role: &str, rep: usize, write: f64, read: f64) -> PathBuf {
        let mut doc = self.mpiio.clone();
        doc["label"] = label.into();
        doc["started_at"] = format!("2026-11-26T10:{rep:02}:00Z").into();
        doc["environment"]["hosts"][0]["virtualization"]["role"] = role.into();
        for phase in doc["results"]["phases"].as_array_mut().unwrap() {
            let value = if phase["phase"] == "write" { write } else { read };
            phase["ior"]["mean_mib_per_s"] = value.into();
            phase["mpi_io_test"]["bandwidth_mb_per_s"] = (value * 1.1).into();
        }
        self.write(&format!("results/{label}/rep-{rep:02}.json"), &doc)
    }

    /// The study's three client groups, five runs each: nobridge like bridge, domU at 35%.
    fn study(&self) {
        let bridge = [100.0, 102.0, 98.0, 101.0, 99.0];
        let nobridge = [99.0, 103.0, 97.0, 100.5, 101.0];
        let domu = [35.0, 36.0, 34.0, 35.5, 34.5];
        for rep in 0..5 {
            self.mpiio_run("dom0-bridge", "xen-dom0", rep + 1, bridge[rep], 2.0 * bridge[rep]);
            self.mpiio_run("dom0-nobridge", "xen-dom0", rep + 1, nobridge[rep], 2.0 * nobridge[rep]);
            self.mpiio_run("domU", "xen-domU", rep + 1, domu[rep], 2.0 * domu[rep]);
        }
    }

    fn compare(&self, args: &[&str]) -> Output {
        Command::new(pvbench()).arg("compare").args(args).current_dir(self.dir.path()).output().unwrap()
    }
}

/// The expected file; `PVBENCH_BLESS=1` writes `got` as the new expectation instead.
fn golden(name: &str, got: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compare").join(name);
    if std::env::var_os("PVBENCH_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    std::fs::read_to_string(path).unwrap()
}

fn row<'a>(comparison: &'a Value, metric: &str, group: &str) -> &'a Value {
    let rows = comparison["rows"].as_array().unwrap();
    rows.iter()
        .find(|r| r["metric"] == metric && r["group"] == group)
        .unwrap_or_else(|| panic!("{metric} {group}"))
}

#[test]
fn the_study_groups_match_the_golden_tables() {
    let f = Fixture::new();
    f.study();
    let out = f.compare(&["results", "--baseline", "dom0-bridge", "--runs", "--output", "out"]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "", "nothing skipped, nothing to say");
    for name in ["summary.md", "summary.csv", "runs.csv"] {
        let got = std::fs::read_to_string(f.path("out").join(name)).unwrap();
        assert_eq!(got, golden(name, &got), "{name} differs from tests/data/compare/{name}");
    }
    assert!(f.path("out/summary.txt").is_file() && f.path("out/runs.md").is_file());
    // Standard output is the table, with the run table after it.
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string(f.path("out/summary.txt")).unwrap()
            + "\n"
            + &std::fs::read_to_string(f.path("out/runs.txt")).unwrap()
    );

    let c: Value =
        serde_json::from_str(&std::fs::read_to_string(f.path("out/comparison.json")).unwrap()).unwrap();
    assert_eq!(c["kind"], "comparison");
    assert_eq!(c["documents"], 15);
    assert!(c["ratio_method"].as_str().unwrap().starts_with("Fieller"));
    let domu = row(&c, "read_ior_mib_per_s", "domU");
    assert_eq!(domu["ratio"]["verdict"], "lower", "{domu}");
    assert!((domu["ratio"]["value"].as_f64().unwrap() - 0.35).abs() < 1e-9);
    assert!(domu["ratio"]["high"].as_f64().unwrap() < 1.0);
    let nobridge = row(&c, "write_ior_mib_per_s", "dom0-nobridge");
    assert_eq!(nobridge["ratio"]["verdict"], "same", "{nobridge}");
    assert!(
        nobridge["ratio"]["low"].as_f64().unwrap() < 1.0 && nobridge["ratio"]["high"].as_f64().unwrap() > 1.0
    );
    assert!(row(&c, "write_ior_mib_per_s", "dom0-bridge")["ratio"].is_null());
    assert_eq!(
        row(&c, "write_ior_mib_per_s", "domU")["values"],
        serde_json::json!([35.0, 36.0, 34.0, 35.5, 34.5])
    );
}

#[test]
fn groups_by_a_field_of_the_environment() {
    let f = Fixture::new();
    f.study();
    let out = f.compare(&["results", "--by", "environment.hosts[0].virtualization.role", "--format", "json"]);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let groups: Vec<(&str, u64)> = c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["runs"].as_u64().unwrap()))
        .collect();
    assert_eq!(groups, [("xen-dom0", 10), ("xen-domU", 5)]);
    assert_eq!(c["grouped_by"], serde_json::json!(["environment.hosts[0].virtualization.role"]));
    // Two fields combine.
    let out = f.compare(&[
        "results",
        "--by",
        "environment.hosts[0].virtualization.role",
        "--by",
        "label",
        "--format",
        "csv",
    ]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(",\"xen-dom0, dom0-nobridge\","), "{}", stdout(&out));
}

#[test]
fn kinds_mix_and_n_below_three_gets_no_verdict() {
    let f = Fixture::new();
    for (rep, time) in [1.0, 1.1].iter().enumerate() {
        let mut doc = f.partdiff.clone();
        doc["label"] = "one copy".into();
        doc["results"]["calculation_time_s"] = (*time).into();
        f.write(&format!("p/one-{rep}.json"), &doc);
        doc["label"] = "two copies".into();
        doc["results"]["calculation_time_s"] = (2.0 * time).into();
        f.write(&format!("p/two-{rep}.json"), &doc);
    }
    f.mpiio_run("one copy", "kvm", 1, 10.0, 20.0);
    let out = f.compare(&["p", "results", "--baseline", "one copy", "--format", "json"]);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let two = row(&c, "calculation_time_s", "two copies");
    assert_eq!(two["ratio"]["verdict"], "n too small");
    assert!((two["ratio"]["value"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    let names: Vec<&str> =
        c["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["one copy (partdiff)", "two copies", "one copy (mpiio)"],
        "a name two kinds share says the kind"
    );
}

#[test]
fn bad_documents_are_named_and_skip_bad_counts_them() {
    let f = Fixture::new();
    f.study();
    let good = std::fs::read_to_string(f.path("results/domU/rep-01.json")).unwrap();
    std::fs::write(f.path("results/domU/notes.json"), r#"{"hello": "world"}"#).unwrap();
    std::fs::write(
        f.path("results/domU/no-results.json"),
        r#"{"tool": {"name": "pvbench"}, "schema_version": 2}"#,
    )
    .unwrap();
    let cases = [
        ("results/domU/notes.json", "not a pvbench result document"),
        ("results/domU/no-results.json", "not a pvbench result document"),
        ("results/domU/cut.json", "truncated"),
        ("results/domU/future.json", "schema_version 99 is newer than this pvbench reads"),
    ];
    std::fs::write(f.path("results/domU/cut.json"), &good[..good.len() / 2]).unwrap();
    std::fs::write(
        f.path("results/domU/future.json"),
        good.replace("\"schema_version\": 3", "\"schema_version\": 99"),
    )
    .unwrap();
    for (file, message) in cases {
        let out = f.compare(&[file]);
        assert_fails_with(&out, 1, &format!("{file}: {message}"));
        assert_eq!(stderr(&out).lines().count(), 1, "one line: {}", stderr(&out));
    }
    let out = f.compare(&["results"]);
    assert_exit(&out, 1);
    let out = f.compare(&["results", "--skip-bad"]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out).matches("warning").count(), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("4 of 19 documents skipped (--skip-bad)"), "{}", stderr(&out));
    assert!(stdout(&out).contains("15 documents in 3 groups"), "{}", stdout(&out));
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let f = Fixture::new();
    f.study();
    let mut env_doc = f.mpiio.clone();
    env_doc["kind"] = "env".into();
    env_doc["results"] = serde_json::json!({"detection_s": 0.01});
    f.write("env/env.json", &env_doc);
    let cases: [(&[&str], &str); 7] = [
        (&["no/such/dir"], "no/such/dir: no such file or directory"),
        (&["results/*/none-*.json"], "matches no file"),
        (&["results", "--by", "a..b"], "--by \"a..b\": an empty field name"),
        (
            &["results", "--baseline", "dom1"],
            "--baseline \"dom1\": no such group (groups: dom0-bridge, dom0-nobridge, domU)",
        ),
        (&["env"], "nothing to compare: 1 documents, none with metrics (1 without, 0 bad)"),
        (&["results", "--format", "pdf"], "invalid value 'pdf'"),
        (&["results", "--output", "results/domU/rep-01.json"], "not a directory"),
    ];
    for (args, message) in cases {
        let out = f.compare(args);
        assert_fails_with(&out, 2, message);
    }
}

#[test]
fn different_parameters_in_one_group_are_refused_or_split() {
    let f = Fixture::new();
    f.study();
    let path = f.path("results/domU/rep-03.json");
    let mut doc = read_json(&path);
    doc["parameters"]["block_size_bytes"] = 2097152.into();
    f.write("results/domU/rep-03.json", &doc);
    let out = f.compare(&["results"]);
    assert_fails_with(&out, 2, "group \"domU\" mixes parameters: block_size_bytes = 1048576");
    assert!(stderr(&out).contains("but 2097152 (results/domU/rep-03.json)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--split-on-params"), "{}", stderr(&out));
    let out = f.compare(&["results", "--split-on-params", "--format", "json"]);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let names: Vec<&str> =
        c["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dom0-bridge",
            "dom0-nobridge",
            "domU [block_size_bytes=1048576]",
            "domU [block_size_bytes=2097152]"
        ]
    );
    // A different temporary file name is not a different experiment.
    let mut doc = read_json(&f.path("results/domU/rep-04.json"));
    doc["parameters"]["file"] = "/tmp/elsewhere".into();
    f.write("results/domU/rep-04.json", &doc);
    assert_exit(&f.compare(&["results", "--split-on-params"]), 0);
}

#[test]
fn plots_are_svg_with_a_bar_and_an_error_bar_per_group() {
    let f = Fixture::new();
    f.study();
    let out = f.compare(&["results", "--baseline", "dom0-bridge", "--plot", "plots"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("8 charts in plots"), "{}", stderr(&out));
    let svg = std::fs::read_to_string(f.path("plots/bar-read_ior_mib_per_s.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("valid SVG");
    let root = doc.root_element();
    // Drawn at the size report.html shows it: the narrowest, two side by side.
    assert_eq!(root.attribute("width"), Some("540"), "{svg}");
    let filled = |color: &str| {
        doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(color)).count()
    };
    // Two groups in the bar colour, the baseline in its own.
    assert_eq!((filled("#4678B4"), filled("#C86E28")), (2, 1), "{svg}");
    let black_lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#000000"))
        .count();
    assert!(black_lines >= 3 * 3, "an error bar (stem and two caps) per group: {black_lines}");
    let text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    for needle in [
        "read bandwidth (IOR convention), MiB/s",
        "block_size_bytes=1048576",
        "dom0-nobridge",
        "domU",
        "baseline dom0-bridge",
    ] {
        assert!(text.contains(needle), "{needle:?} not in the chart's text: {text}");
    }
    let dots = std::fs::read_to_string(f.path("plots/runs-read_ior_mib_per_s.svg")).unwrap();
    let doc = roxmltree::Document::parse(&dots).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("circle")).count(), 15, "one dot per run");
}

/// net and fs results: their grids as tables and heatmaps, and with a baseline as ratio maps.
#[test]
fn grids_of_net_and_fs_results() {
    let f = Fixture::new();
    for (label, rep) in [("host", 1), ("host", 2), ("guest", 1), ("guest", 2)] {
        let dir = f.path(&format!("grids/{label}"));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join(format!("fs-{rep}.json"));
        let args = ["fs", "--dir", dir.to_str().unwrap(), "--min-file", "256KiB", "--max-file", "512KiB"];
        let more = [
            "--min-record",
            "64KiB",
            "--max-record",
            "128KiB",
            "--tests",
            "0",
            "--label",
            label,
            "--json",
            json.to_str().unwrap(),
        ];
        assert_exit(&mpiexec(1, &[&args[..], &more[..]].concat()), 0);
        let json = dir.join(format!("net-{rep}.json"));
        let net = ["net", "--duration", "100ms", "--label", label, "--json", json.to_str().unwrap()];
        assert_exit(&mpiexec(1, &net), 0);
    }
    let out = f.compare(&["grids", "--baseline", "host", "--format", "markdown", "--plot", "plots"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    // net's cells are named by host.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for needle in [
        "host (fs): write, MiB/s, mean of the runs.",
        "| file KiB \\ record KiB | 64 | 128 |",
        "guest (net): throughput, MiB/s, mean of the runs.",
        &format!("| sender \\ receiver | {} |", host.trim()),
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let heatmaps: Vec<String> = std::fs::read_dir(f.path("plots"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("heatmap-") || n.starts_with("ratio-"))
        .collect();
    // Means: fs write and rewrite and net for two groups; ratios: the same for the guest.
    assert_eq!(heatmaps.len(), 3 * 2 + 3, "{heatmaps:?}");
    for name in &heatmaps {
        let svg = std::fs::read_to_string(f.path("plots").join(name)).unwrap();
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Named by what they show; a ratio map names its baseline and has a legend in numbers.
    for name in
        ["heatmap-host_fs-write.svg", "heatmap-guest_net-throughput.svg", "ratio-guest_fs-rewrite.svg"]
    {
        assert!(heatmaps.iter().any(|n| n == name), "{name} not in {heatmaps:?}");
    }
    let svg = std::fs::read_to_string(f.path("plots/ratio-guest_fs-write.svg")).unwrap();
    assert!(svg.contains("ratio to host (fs)") && svg.contains("\nratio\n"), "{svg}");
}

/// A campaign's results directory holds compare's own summary (`summary/comparison.json`, as
/// a campaign's summary/ holds one): comparing the directory again leaves it out and says so.
#[test]
fn a_campaigns_own_summary_is_left_out_and_named() {
    let f = Fixture::new();
    f.study();
    assert_exit(&f.compare(&["results", "--output", "results/summary"]), 0);
    let out = f.compare(&["results", "--baseline", "dom0-bridge", "--format", "json"]);
    assert_exit(&out, 0);
    assert_eq!(
        stderr(&out),
        "pvbench: left out results/summary/comparison.json: a comparison output of pvbench compare\n"
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["documents"], 15, "the 15 runs, not the summary");
}

/// Values far beyond any bandwidth must not hang the plots (plotters' tick search did not end on
/// 0..1e200: the axis is now in units of 1e200) nor give NaN statistics with exit 0.
#[test]
fn huge_values_plot_at_once_and_overflowing_ones_are_an_error() {
    let f = Fixture::new();
    for (rep, value) in [1e200, 2e200, 3e200].into_iter().enumerate() {
        f.mpiio_run("big", "kvm", rep + 1, value, value);
    }
    let started = std::time::Instant::now();
    let out = f.compare(&["results/big", "--plot", "plots"]);
    assert_exit(&out, 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    let svg = std::fs::read_to_string(f.path("plots/bar-write_ior_mib_per_s.svg")).unwrap();
    assert!(svg.contains("MiB/s × 1e200"), "the axis says its scale");

    for (rep, value) in [1.7e308, 1.7e308, 1.6e308].into_iter().enumerate() {
        f.mpiio_run("limit", "kvm", rep + 1, value, value);
    }
    let out = f.compare(&["results/limit"]);
    common::assert_fails_with(
        &out,
        1,
        "write_ior_mib_per_s, group \"limit\": its statistics are not finite numbers",
    );
}

/// A `--by` field that no document has is a typo: exit 2 naming the nearest field, not every
/// run in a group "(missing)".
#[test]
fn a_by_field_that_no_document_has_names_the_nearest() {
    let f = Fixture::new();
    f.study();
    let out = f.compare(&["results", "--by", "parameters.blocksize"]);
    common::assert_fails_with(
        &out,
        2,
        "--by parameters.blocksize: no document has this field; the nearest field of ",
    );
    assert!(stderr(&out).contains(" is parameters.block_size_bytes"), "{}", stderr(&out));
    // A field some documents have, and others not, still groups.
    assert_exit(&f.compare(&["results", "--by", "parameters.block_size_bytes"]), 0);
}

/// A group of one run has no interval ("n = 1", not "unbounded"); a label with a line break
/// stays on its Markdown row.
#[test]
fn one_run_says_so_and_a_line_break_keeps_its_markdown_row() {
    let f = Fixture::new();
    f.study();
    f.mpiio_run("single", "kvm", 1, 50.0, 100.0);
    let out = f.compare(&["results", "--baseline", "dom0-bridge"]);
    assert_exit(&out, 0);
    let single: Vec<String> =
        stdout(&out).lines().filter(|l| l.contains(" single ")).map(str::to_string).collect();
    assert!(
        !single.is_empty() && single.iter().all(|l| l.contains("n = 1") && !l.contains("unbounded")),
        "{single:?}"
    );

    let path = f.mpiio_run("two\nlines", "kvm", 1, 50.0, 100.0);
    let out = f.compare(&[path.to_str().unwrap(), "--format", "markdown"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| write_")).collect();
    assert!(!rows.is_empty() && rows.iter().all(|l| l.contains("two lines") && l.ends_with('|')), "{text}");
}

/// Links to one directory, a link loop, an identical copy and a relabelled copy are all the same
/// runs: each counted once (the first by name), the others named on stderr and in the header.
#[test]
fn the_same_run_reached_twice_counts_once() {
    let f = Fixture::new();
    f.study();
    std::os::unix::fs::symlink("dom0-bridge", f.path("results/bridge-again")).unwrap();
    std::os::unix::fs::symlink("dom0-bridge", f.path("results/bridge-third")).unwrap();
    std::os::unix::fs::symlink("..", f.path("results/domU/loop")).unwrap();
    std::fs::copy(f.path("results/domU/rep-01.json"), f.path("results/domU/copy.json")).unwrap();
    let mut relabelled = read_json(&f.path("results/domU/rep-02.json"));
    relabelled["label"] = "domU".into();
    relabelled["command_line"] = serde_json::json!(["pvbench", "mpiio", "again"]);
    f.write("results/domU/relabelled.json", &relabelled);

    let out = f.compare(&["results", "results/dom0-bridge", "--format", "json"]);
    assert_exit(&out, 0);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["documents"], 15, "{}", stderr(&out));
    for group in c["groups"].as_array().unwrap() {
        assert_eq!(group["runs"], 5, "{group}");
    }
    let err = stderr(&out);
    assert!(
        err.contains("results/domU/rep-01.json is the same run as results/domU/copy.json")
            && err.contains("results/domU/rep-02.json is the same run as results/domU/relabelled.json"),
        "{err}"
    );
    let left: Vec<&str> =
        c["left_out"].as_array().unwrap().iter().map(|l| l["file"].as_str().unwrap()).collect();
    assert_eq!(left, ["results/domU/rep-01.json", "results/domU/rep-02.json"], "the first by name is kept");

    let table = stdout(&f.compare(&["results"]));
    assert!(
        table.lines().nth(1).unwrap().starts_with(
            "left out: results/domU/rep-01.json (the same run as results/domU/copy.json: kind, start, hosts and results agree); "
        ),
        "{table}"
    );
}

/// One tool output imported twice is one run.
#[test]
fn the_same_output_imported_twice_counts_once() {
    let f = Fixture::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import/ior.json");
    for dir in ["a", "b"] {
        let out = Command::new(pvbench())
            .args(["import", "ior", sample.to_str().unwrap(), "--label", "ior", "--out", dir])
            .current_dir(f.path(""))
            .output()
            .unwrap();
        assert_exit(&out, 0);
    }
    let out = f.compare(&["a", "b", "--format", "json"]);
    assert_exit(&out, 0);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["documents"], 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("is the same run as a/"), "{}", stderr(&out));
}

/// A document without a number to compare, and a value that is a string, are named with the
/// reason in the table's header line, not dropped without a word.
#[test]
fn what_is_left_out_is_said_in_the_header() {
    let f = Fixture::new();
    f.study();
    let mut strings = read_json(&f.mpiio_run("domU", "xen-domU", 6, 1.0, 1.0));
    for phase in strings["results"]["phases"].as_array_mut().unwrap() {
        phase["ior"]["mean_mib_per_s"] = "500".into();
        phase["mpi_io_test"]["bandwidth_mb_per_s"] = Value::Null;
    }
    f.write("results/domU/rep-06.json", &strings);
    let mut one_string = read_json(&f.mpiio_run("domU", "xen-domU", 7, 35.0, 70.0));
    one_string["results"]["phases"][1]["ior"]["mean_mib_per_s"] = "fast".into();
    f.write("results/domU/rep-07.json", &one_string);
    let mut env = f.partdiff.clone();
    env["kind"] = "env".into();
    f.write("results/env.json", &env);

    let out = f.compare(&["results"]);
    assert_exit(&out, 0);
    let header = stdout(&out).lines().nth(1).unwrap().to_string();
    for expected in [
        "results/domU/rep-06.json (mpiio document without a value to compare; results.phases[0].ior.mean_mib_per_s is \"500\", not a number; results.phases[1].ior.mean_mib_per_s is \"500\", not a number)",
        "results/domU/rep-07.json (a value: results.phases[1].ior.mean_mib_per_s is \"fast\", not a number)",
        "results/env.json (env document without a value to compare)",
    ] {
        assert!(header.starts_with("left out: ") && header.contains(expected), "{header}\nlacks {expected}");
    }
    let markdown = stdout(&f.compare(&["results", "--format", "markdown"]));
    assert!(markdown.contains("rep-07.json (a value:"), "{markdown}");
}

/// Output paths are checked before anything is read or printed, and existing summaries and
/// charts are not replaced without --force; a refusal writes nothing.
#[test]
fn outputs_are_checked_first_and_never_replaced_silently() {
    let f = Fixture::new();
    f.study();
    for flag in ["--output", "--plot"] {
        let out = f.compare(&["results", flag, "/proc/x"]);
        common::assert_fails_with(&out, 2, &format!("{flag} /proc/x: cannot create files in /proc"));
        assert!(out.stdout.is_empty(), "nothing printed before the refusal");
    }
    assert_exit(&f.compare(&["results", "--output", "out", "--plot", "out"]), 0);
    let before = std::fs::read_dir(f.path("out")).unwrap().count();
    std::fs::write(f.path("out/summary.md"), "mine").unwrap();
    let out = f.compare(&["results", "--baseline", "domU", "--output", "out", "--plot", "out"]);
    common::assert_fails_with(
        &out,
        2,
        "--output: out/summary.txt exists (and 3 more); give --force to replace",
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(f.path("out/summary.md")).unwrap(), "mine");
    let out = f.compare(&["results", "--plot", "out"]);
    common::assert_fails_with(&out, 2, "--plot: out/bar-write_ior_mib_per_s.svg exists");
    assert_exit(&f.compare(&["results", "--output", "out", "--plot", "out", "--force"]), 0);
    assert_ne!(std::fs::read_to_string(f.path("out/summary.md")).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(f.path("out")).unwrap().count(), before);
}

/// A figure that is no measurement (a negative or zero bandwidth) never enters a statistic:
/// its document is left out, named with the field's path, and the rest are compared.
#[test]
fn a_figure_that_is_no_measurement_leaves_its_document_out() {
    let f = Fixture::new();
    f.study();
    let negative = f.mpiio_run("domU", "xen-domU", 6, -1709.0, 70.0);
    let zero = f.mpiio_run("domU", "xen-domU", 7, 35.0, 0.0);
    let out = f.compare(&["results", "--baseline", "dom0-bridge", "--format", "json"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    for (file, field) in [(&negative, "phases[0].ior.mean_mib_per_s is -1709"), (&zero, "is 0")] {
        let line = err.lines().find(|l| l.contains(file.file_name().unwrap().to_str().unwrap()));
        let line = line.unwrap_or_else(|| panic!("{file:?} not named: {err}"));
        assert!(line.contains("not a measurement: results.") && line.contains(field), "{line}");
    }
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let domu = row(&c, "write_ior_mib_per_s", "domU");
    assert_eq!(domu["values"].as_array().unwrap().len(), 5, "{domu}");
    assert!(domu["mean"].as_f64().unwrap() > 0.0, "{domu}");
    let left_out: Vec<&str> =
        c["left_out"].as_array().unwrap().iter().map(|l| l["file"].as_str().unwrap()).collect();
    assert_eq!(left_out.len(), 2, "{left_out:?}");
}

/// A ratio interval below 0 (a group whose runs spread more than their mean) is shown as
/// computed, with a word saying what it means; the JSON says why a ratio has no interval.
#[test]
fn an_interval_below_0_has_a_word_and_no_interval_says_why() {
    let f = Fixture::new();
    f.study();
    for (rep, write) in [1.0, 90.0, 2.0].into_iter().enumerate() {
        f.mpiio_run("wild", "kvm", rep + 1, write, 2.0 * write);
    }
    f.mpiio_run("single", "kvm", 1, 50.0, 100.0);
    let out = f.compare(&["results", "--baseline", "dom0-bridge", "--format", "table,markdown,json"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let wild = text.lines().find(|l| l.contains(" wild ") && l.contains("write_")).expect("the wild row");
    assert!(wild.contains("[-"), "the interval as computed: {wild}");
    let word = "a ratio interval reaching below 0 is shown as computed: that group's runs spread so widely \
                that its mean is not told from 0";
    assert_eq!(text.matches(word).count(), 2, "in the table's and the Markdown's caption: {text}");
    let json: Value = serde_json::from_str(&text[text.find("\n{").unwrap()..]).unwrap();
    assert_eq!(row(&json, "write_ior_mib_per_s", "single")["ratio"]["no_interval"], "one_run", "{json}");
    assert!(row(&json, "write_ior_mib_per_s", "wild")["ratio"].get("no_interval").is_none());
}

/// A latency is lower-is-better: a guest whose operations take longer is shown as worse, in
/// words and in the page's colours, and one whose operations are quicker as better; a rate the
/// other way round.
#[test]
fn a_higher_latency_is_worse_and_a_lower_one_better() {
    let f = Fixture::new();
    let dir = f.path("meta-dir");
    let json = f.path("meta.json");
    let meta = ["meta", "-F", "-n", "20", "-d", dir.to_str().unwrap(), "--json", json.to_str().unwrap()];
    assert_exit(&mpiexec(1, &meta), 0);
    let doc = read_json(&json);
    std::fs::remove_file(&json).unwrap();
    // Per group: the rate, p50 and p99 of every phase (the guest: slower rate, slower median,
    // quicker tail).
    for (label, rate, p50, p99) in [("host", 1000.0, 100e-6, 900e-6), ("guest", 500.0, 200e-6, 300e-6)] {
        for rep in 1..=5 {
            let jitter = 1.0 + 0.01 * rep as f64;
            let mut doc = doc.clone();
            doc["label"] = label.into();
            doc["started_at"] = format!("2026-11-26T10:{rep:02}:00Z").into();
            for phase in doc["results"]["phases"].as_array_mut().unwrap() {
                phase["mean_ops_per_s"] = (rate * jitter).into();
                phase["latency"]["p50_s"] = (p50 * jitter).into();
                phase["latency"]["p99_s"] = (p99 * jitter).into();
            }
            f.write(&format!("latency/{label}/rep-{rep}.json"), &doc);
        }
    }
    let out = f.compare(&["latency", "--baseline", "host", "--format", "markdown", "--html", "page.html"]);
    assert_exit(&out, 0);
    let markdown = stdout(&out);
    let line = |metric: &str| {
        markdown
            .lines()
            .find(|l| l.starts_with(&format!("| {metric} |")) && l.contains("| guest |"))
            .unwrap_or_else(|| panic!("no guest row of {metric} in {markdown}"))
            .to_string()
    };
    assert!(line("file_create_p50_latency_us").ends_with("| higher (worse) |"), "{markdown}");
    assert!(line("file_create_p99_latency_us").ends_with("| lower (better) |"), "{markdown}");
    assert!(line("file_create_ops_per_s").ends_with("| lower (worse) |"), "{markdown}");

    let page = std::fs::read_to_string(f.path("page.html")).unwrap();
    for (needle, class) in [("higher (worse)", "worse"), ("lower (better)", "better")] {
        assert!(page.contains(&format!("<td class=\"{class}\">{needle}</td>")), "{needle}: {page}");
    }
    assert!(!page.contains("higher (better)"), "no latency is better for being higher: {page}");
}
