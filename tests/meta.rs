//! `pvbench meta` under the real launcher: mdtest's phases on 1 and 2 ranks, in one shared
//! directory and in a directory per rank; what it leaves behind after a run, an interrupt and
//! a --timeout (nothing); a directory holding someone else's files (refused).

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const ALL_PHASES: [&str; 7] =
    ["dir_create", "dir_stat", "dir_remove", "file_create", "file_stat", "file_read", "file_remove"];

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// Runs meta and returns its document; the test directory `dir` must be gone afterwards.
fn run(ranks: u32, dir: &Path, extra: &[&str]) -> Value {
    let json = dir.parent().unwrap().join("meta.json");
    let mut args = vec!["meta", "-d", dir.to_str().unwrap(), "--json", json.to_str().unwrap(), "--force"];
    args.extend_from_slice(extra);
    let out = mpiexec(ranks, &args);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("SUMMARY rate (in ops/sec)"), "{}", stdout(&out));
    read_json(&json)
}

fn check_phases(doc: &Value, phases: &[&str], items: u64, iterations: u64) {
    let got: Vec<&str> =
        doc["results"]["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(got, phases);
    for phase in doc["results"]["phases"].as_array().unwrap() {
        assert_eq!(phase["items"], items, "{phase}");
        let its = phase["iterations"].as_array().unwrap();
        assert_eq!(its.len() as u64, iterations);
        for it in its {
            let (seconds, rate) = (it["seconds"].as_f64().unwrap(), it["ops_per_s"].as_f64().unwrap());
            assert!(seconds > 0.0 && (rate * seconds - items as f64).abs() < 1e-6 * items as f64, "{it}");
        }
        let latency = &phase["latency"];
        assert_eq!(latency["samples"], items * iterations, "every operation of every rank");
        let (p50, p99, max) = (
            latency["p50_s"].as_f64().unwrap(),
            latency["p99_s"].as_f64().unwrap(),
            latency["max_s"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{latency}");
        assert!(phase["max_ops_per_s"].as_f64().unwrap() >= phase["min_ops_per_s"].as_f64().unwrap());
    }
}

#[test]
fn one_rank_runs_every_phase_in_a_new_directory_and_removes_it() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("meta");
    let doc = run(1, &dir, &["-n", "20", "-i", "2", "-w", "64", "-e", "64", "--label", "host"]);
    assert_eq!(doc["kind"], "meta");
    assert_eq!(doc["label"], "host");
    assert_environment(&doc, 1);
    assert_eq!(doc["parameters"]["interface"], "posix");
    assert_eq!(doc["parameters"]["read_bytes"], 64);
    check_phases(&doc, &ALL_PHASES, 20, 2);
    assert!(!dir.exists(), "the directory it made is gone");
}

#[test]
fn two_ranks_share_a_directory_or_each_have_one() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("meta");
    std::fs::create_dir(&dir).unwrap();
    let doc = run(2, &dir, &["-n", "15"]);
    check_phases(&doc, &ALL_PHASES, 30, 1);
    assert!(entries(&dir).is_empty(), "an empty directory given stays, empty: {:?}", entries(&dir));
    let doc = run(2, &dir, &["-n", "10", "-u", "-F"]);
    assert_eq!(doc["parameters"]["unique_dir"], true);
    check_phases(&doc, &ALL_PHASES[3..], 20, 1);
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    let doc = run(2, &dir, &["-n", "10", "-D"]);
    check_phases(&doc, &ALL_PHASES[..3], 20, 1);
}

#[test]
fn a_directory_holding_files_it_did_not_make_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious"), "keep me").unwrap();
    let out = mpiexec(2, &["meta", "-d", dir.path().to_str().unwrap(), "-n", "5"]);
    assert_fails_with(&out, 2, "holds 1 entry pvbench meta did not make (\"precious\")");
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("precious")).unwrap(), "keep me");
    assert_eq!(entries(dir.path()), ["precious"]);
}

#[test]
fn flags_that_cannot_work_are_refused() {
    for (args, needle) in [
        (vec!["-e", "10", "-w", "5"], "--read-bytes 10 is more than --write-bytes 5"),
        (vec!["-d", "pvfs2:/pvfs2/m"], "MPI-IO makes no directories: add -F/--files-only"),
        (vec!["-d", "pvfs2:/pvfs2/m", "-F", "-u"], "--unique-dir needs a directory per rank"),
        (vec!["-n", "0"], "--items <N>"),
        (vec!["-D", "-F"], "cannot be used with"),
        (vec!["--timeout", "0"], "--timeout 0"),
    ] {
        let mut all = vec!["meta"];
        all.extend(args);
        assert_fails_with(&mpiexec(1, &all), 2, needle);
    }
}

#[test]
fn an_interrupted_run_removes_what_it_made() {
    // Ctrl-C reaches mpiexec, which forwards it (and then exits 0 or 130, as hydra does); a
    // batch system's kill reaches the ranks.
    for (signal, to, codes) in
        [("INT", SignalTo::Mpiexec, &[0, 130][..]), ("TERM", SignalTo::Ranks, &[143][..])]
    {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("meta");
        let d = dir.clone();
        let out = interrupt_job(
            2,
            &["meta", "-d", dir.to_str().unwrap(), "-n", "2000000", "-F"],
            signal,
            to,
            || d.exists() && entries(&d).len() > 10,
        );
        assert!(
            codes.contains(&out.status.code().unwrap_or(-1)),
            "{signal}: {:?} {}",
            out.status,
            stderr(&out)
        );
        assert!(stderr(&out).contains(&format!("interrupted by SIG{signal}")), "{}", stderr(&out));
        assert!(!dir.exists(), "{signal}: {:?}", dir.exists().then(|| entries(&dir)));
    }
}

#[test]
fn a_run_past_its_timeout_names_phase_and_item_and_removes_what_it_made() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("meta");
    // Far more items than any machine makes in a second.
    let out = mpiexec(2, &["meta", "-d", dir.to_str().unwrap(), "-n", "2000000", "-u", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("rank 0 was in the directory creation phase, iteration 1 of 1, item "), "{err}");
    assert!(!dir.exists(), "{:?}", dir.exists().then(|| entries(&dir)));
}
