//! Every chart of report.html and of `compare --html` as Chromium shows it: data drawn in its
//! plot area and text of at least 11 px, in the shapes that once drew empty charts: a grid of
//! one cell, one row or one column, a bar chart of one group, an overhead figure of one
//! benchmark.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{assert_exit, browser, read_json};
use serde_json::{Value, json};

/// A campaign of partdiff by the real pvbench (two groups on this machine, no MPI launcher):
/// its report has an overhead figure of one row and bar charts of two groups.
fn campaign(dir: &Path) -> std::path::PathBuf {
    let plan = dir.join("plan.toml");
    let text = format!(
        "name = \"charts\"\npvbench = {:?}\nlauncher = \"env\"\nreps = 3\n\
         [[group]]\nname = \"host\"\nhosts = [\"localhost\"]\n[[group]]\nname = \"guest\"\nhosts = [\"localhost\"]\n\
         [[benchmark]]\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n\
         [[overhead]]\nguest = \"guest\"\nhost = \"host\"\n",
        common::pvbench()
    );
    std::fs::write(&plan, text).unwrap();
    let results = dir.join("campaign");
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "run"])
        .arg(&plan)
        .arg("--results")
        .arg(&results)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    results
}

/// fs documents of groups `host` and `guest` (at half the host's figures), each pass a grid of
/// another shape: write 1×1, rewrite 1×3, read 3×1, random read 4×4 (beyond the cells that
/// get a chart each, so the page holds the maps alone).
fn fs_documents(dir: &Path) -> std::path::PathBuf {
    let template = dir.join("fs.json");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let args = ["fs", "--dir", work.to_str().unwrap(), "--min-file", "64KiB", "--max-file", "64KiB"];
    let more = [
        "--min-record",
        "64KiB",
        "--max-record",
        "64KiB",
        "--tests",
        "0",
        "--json",
        template.to_str().unwrap(),
    ];
    assert_exit(&common::mpiexec(1, &[&args[..], &more[..]].concat()), 0);
    let template = read_json(&template);
    let shapes: [(&str, &[u64], &[u64]); 4] = [
        ("write", &[256], &[64]),
        ("rewrite", &[256], &[16, 32, 64]),
        ("read", &[64, 128, 256], &[64]),
        ("random read", &[64, 128, 256, 512], &[4, 8, 16, 32]),
    ];
    let documents = dir.join("fs");
    for (label, share) in [("host", 1.0), ("guest", 0.5)] {
        for rep in 1..=3 {
            let mut cells = Vec::new();
            for (pass, files, records) in shapes {
                for (i, file) in files.iter().enumerate() {
                    for (j, record) in records.iter().enumerate() {
                        let figure = share * (1000.0 * (1 + i + j) as f64 + rep as f64);
                        cells.push(json!({
                            "file_size_bytes": file * 1024, "record_size_bytes": record * 1024, "pass": pass,
                            "seconds": 0.001, "kib_per_s": figure * 1024.0, "mib_per_s": figure,
                        }));
                    }
                }
            }
            let mut doc: Value = template.clone();
            doc["label"] = label.into();
            doc["started_at"] = format!("2026-11-26T10:0{rep}:00Z").into();
            doc["results"]["ranks"][0]["cells"] = Value::Array(cells);
            let path = documents.join(label).join(format!("fs-{rep}.json"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
    }
    documents
}

fn compare_html(inputs: &Path, baseline: Option<&str>, html: &Path) {
    let mut command = assert_cmd::Command::new(common::pvbench());
    command.arg("compare").arg(inputs).arg("--html").arg(html);
    if let Some(baseline) = baseline {
        command.args(["--baseline", baseline]);
    }
    let out = command.timeout(Duration::from_secs(60)).output().unwrap();
    assert_exit(&out, 0);
}

/// Each page's charts, by name; every one readable and with its data drawn: at least a dot's
/// worth of coloured pixels in its plot area, and for bars and maps a twentieth of it.
fn check(page: &Path, expected: &[&str]) {
    let charts = browser::charts(page);
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    for name in expected {
        assert!(names.contains(name), "{name} not on {}: {names:?}", page.display());
    }
    for chart in &charts {
        assert!(chart.smallest_text >= 11.0, "{chart:?}: text smaller than 11 px as shown");
        assert!(chart.plot_pixels > 10_000, "{chart:?}: a plot area of a size");
        assert!(chart.coloured >= 30, "{chart:?}: nothing drawn in the plot area");
        let filled = ["bar-", "heatmap-", "ratio-"].iter().any(|p| chart.name.starts_with(p));
        if filled {
            assert!(chart.coloured * 20 >= chart.plot_pixels, "{chart:?}: bars or cells missing");
        }
    }
}

#[test]
fn every_chart_is_drawn_and_readable_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let results = campaign(dir.path());
    check(
        &results.join("report.html"),
        &["overhead+guest+host.svg", "bar-mlup_per_s.svg", "runs-mlup_per_s.svg"],
    );
    let one_group = dir.path().join("one-group.html");
    compare_html(&results.join("partdiff/host"), None, &one_group);
    check(&one_group, &["bar-mlup_per_s.svg", "runs-calculation_time_s.svg"]);
    let grids = dir.path().join("grids.html");
    compare_html(&fs_documents(dir.path()), Some("host"), &grids);
    let maps: Vec<String> = ["write", "rewrite", "read", "random_read"]
        .iter()
        .flat_map(|pass| {
            [
                format!("heatmap-host-{pass}.svg"),
                format!("heatmap-guest-{pass}.svg"),
                format!("ratio-guest-{pass}.svg"),
            ]
        })
        .collect();
    check(&grids, &maps.iter().map(String::as_str).collect::<Vec<_>>());
}
