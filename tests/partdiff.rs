//! `pvbench partdiff` under real mpiexec: partdiff's reference outputs (tests/data/partdiff,
//! from partdiff built with gcc -O3) on 1, 2 and 3 ranks, identical output on any rank count
//! for random small cases, and bad arguments.

mod common;

use std::path::Path;

use common::*;

/// Everything but the `Calculation time:` line, which is the only line allowed to differ.
fn without_time(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("Calculation time:")).map(|l| format!("{l}\n")).collect()
}

fn partdiff(ranks: u32, args: &[&str]) -> String {
    let mut full = vec!["partdiff"];
    full.extend_from_slice(args);
    let out = mpiexec(ranks, &full);
    assert_exit(&out, 0);
    stdout(&out)
}

/// One run: partdiff's text without the time line, and what must be bit for bit the same on
/// any rank count: the full-precision excerpt, the whole matrix's checksum, the residuum.
#[derive(Debug, PartialEq)]
struct Solved {
    text: String,
    excerpt: serde_json::Value,
    checksum: serde_json::Value,
    residuum_bits: u64,
    iterations: serde_json::Value,
}

fn solve(ranks: u32, args: &[&str]) -> Solved {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut full = vec!["partdiff"];
    full.extend_from_slice(args);
    full.extend(["--json", json.to_str().unwrap()]);
    let out = mpiexec(ranks, &full);
    assert_exit(&out, 0);
    let doc = read_json(&json);
    let results = &doc["results"];
    Solved {
        text: without_time(&stdout(&out)),
        excerpt: results["matrix_excerpt"].clone(),
        checksum: results["matrix_checksum"].clone(),
        residuum_bits: results["residuum"].as_f64().unwrap().to_bits(),
        iterations: results["iterations"].clone(),
    }
}

#[test]
fn reference_outputs_on_one_two_and_three_ranks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/partdiff");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "out") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let args: Vec<&str> = name.split('_').collect();
        let expected = without_time(&std::fs::read_to_string(&path).unwrap());
        let one = solve(1, &args);
        assert_eq!(one.text, expected, "partdiff {} on 1 rank", args.join(" "));
        for ranks in [2, 3] {
            assert_eq!(solve(ranks, &args), one, "partdiff {} on {ranks} ranks", args.join(" "));
        }
        cases += 1;
    }
    assert_eq!(cases, 10, "all reference files were read");
}

/// A small deterministic generator (xorshift), so failures can be reproduced from the seed.
struct Cases(u64);

impl Cases {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[test]
fn random_small_cases_are_identical_on_one_two_and_three_ranks() {
    let mut cases = Cases(0x5eed_2008);
    for _ in 0..16 {
        let method = 1 + cases.next(2);
        let interlines = cases.next(13);
        let function = 1 + cases.next(2);
        let termination = 1 + cases.next(2);
        let limit = if termination == 1 {
            format!("1e-{}", 4 + cases.next(6))
        } else {
            (1 + cases.next(300)).to_string()
        };
        let args = [
            "1".to_string(),
            method.to_string(),
            interlines.to_string(),
            function.to_string(),
            termination.to_string(),
            limit,
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let one = solve(1, &args);
        assert!(one.text.contains("Matrix:"), "{}", one.text);
        for ranks in [2, 3] {
            assert_eq!(solve(ranks, &args), one, "partdiff {} on {ranks} ranks", args.join(" "));
        }
    }
}

/// Jacobi on more ranks than cores: on 4, the inner ranks have two neighbours and run their
/// wavefronts in opposite directions (rank 1 down, rank 2 up), and with TERM 2 the last round
/// is shorter than the others (31 interior rows: rounds of 7, 37 = 5 x 7 + 2); on 7, every
/// rank has one row (interlines 0) and rounds are one iteration deep.
#[test]
fn jacobi_on_four_and_seven_ranks() {
    let cases = [
        (4, ["1", "2", "3", "1", "2", "37"]),
        (4, ["1", "2", "3", "2", "1", "1e-6"]),
        (7, ["1", "2", "0", "1", "2", "9"]),
        (7, ["1", "2", "0", "2", "1", "1e-9"]),
    ];
    for (ranks, args) in cases {
        assert_eq!(solve(ranks, &args), solve(1, &args), "partdiff {} on {ranks} ranks", args.join(" "));
    }
}

/// Gauss-Seidel with TERM 1 on more ranks than cores (4 on 2): the pipeline's rollback gives
/// one rank's answer, and waiting by yielding keeps it fast.
#[test]
fn four_ranks_gauss_seidel_accuracy() {
    let args = ["1", "1", "6", "2", "1", "1e-7"];
    assert_eq!(solve(4, &args), solve(1, &args));
}

#[test]
fn json_result_carries_the_full_excerpt_and_rates() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("p.json");
    let out =
        partdiff(2, &["0", "2", "100", "1", "2", "50", "--json", json.to_str().unwrap(), "--label", "seed"]);
    assert!(out.contains("Number of iterations:   50"));
    let doc = read_json(&json);
    assert_eq!(doc["kind"], "partdiff");
    assert_eq!(doc["label"], "seed");
    assert_eq!(doc["parameters"]["threads"], 1, "NUM 0 is read as 1");
    assert_eq!(doc["parameters"]["method"], "jacobi");
    assert_eq!(doc["results"]["iterations"], 50);
    assert_eq!(doc["results"]["grid_points_per_side"], 809);
    assert_eq!(doc["results"]["memory_usage_partdiff_bytes"], 809 * 809 * 8 * 2);
    assert_eq!(doc["results"]["rows_per_rank"], serde_json::json!([404, 403]));
    let excerpt = doc["results"]["matrix_excerpt"].as_array().unwrap();
    assert_eq!(excerpt.len(), 9);
    assert_eq!(excerpt[0][0], 1.0);
    assert_eq!(excerpt[8][8], 1.0);
    assert!(doc["results"]["mlup_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["results"]["memory_per_rank_bytes"].as_array().unwrap().len(), 2);
    assert_environment(&doc, 2);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let cases: [(&[&str], &str); 8] = [
        (&["1", "3", "10", "1", "2", "5"], "<METHOD>"),
        (&["1", "1", "100001", "1", "2", "5"], "<INTERLINES>"),
        (&["1", "1", "10", "3", "2", "5"], "<FUNC>"),
        (&["1", "1", "10", "1", "0", "5"], "<TERM>"),
        (&["1025", "1", "10", "1", "2", "5"], "<NUM>"),
        (&["1", "1", "10", "1", "2", "0"], "1..200000"),
        (&["1", "1", "10", "1", "1", "1e-3"], "1e-20..1e-4"),
        (&["1", "1", "10", "1", "2", "abc"], "number of iterations"),
    ];
    for (args, needle) in cases {
        let mut full = vec!["partdiff"];
        full.extend_from_slice(args);
        let out = mpiexec(2, &full);
        assert_fails_with(&out, 2, needle);
        // One line of pvbench's (Open MPI's mpirun adds its own banner), which says where the
        // help is; no usage block.
        let err = stderr(&out);
        let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("pvbench")).collect();
        assert_eq!(ours.len(), 1, "{err}");
        assert!(ours[0].ends_with("(see pvbench partdiff --help)") && !err.contains("Usage:"), "{err}");
    }
    let out = mpiexec(2, &["partdiff", "1", "1", "10"]);
    assert_fails_with(
        &out,
        2,
        "the following required arguments were not provided: <FUNC> <TERM> <ACC_OR_ITER>",
    );
    assert!(!stderr(&out).contains("Usage:"), "{}", stderr(&out));
}

/// A grid that cannot fit is refused before anything is allocated (not the OOM killer).
#[test]
fn a_grid_larger_than_memory_is_refused_before_allocating() {
    let out = mpiexec(2, &["partdiff", "1", "2", "100000", "1", "2", "10"]);
    assert_fails_with(&out, 1, "partdiff's matrices: 9.3 TiB needed on host");
    assert!(stderr(&out).contains("(2 ranks there), only"), "{}", stderr(&out));
}

#[test]
fn more_ranks_than_rows_is_a_clear_error() {
    // interlines 0: 7 interior rows; 8 ranks would leave one without a row.
    let out = mpiexec(8, &["partdiff", "1", "2", "0", "1", "2", "5"]);
    assert_fails_with(&out, 2, "would leave a rank without a row");
}

#[test]
fn json_to_stdout_moves_partdiffs_output_to_stderr() {
    let out = mpiexec(2, &["partdiff", "1", "1", "2", "2", "2", "10", "--json", "-"]);
    assert_exit(&out, 0);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["kind"], "partdiff");
    assert_eq!(doc["results"]["iterations"], 10);
    assert!(stderr(&out).contains("Number of iterations:   10"), "{}", stderr(&out));
}

/// SIGTERM to every rank ends a long solve at once (MPI_Abort, so no rank is left reading from
/// a peer that is gone): exit 143, pvbench's one line.
#[test]
fn a_terminated_solve_exits_cleanly() {
    let out =
        interrupt_job(2, &["partdiff", "1", "1", "200", "1", "2", "100000"], "TERM", SignalTo::Ranks, || {
            true
        });
    assert_exit(&out, 143);
    // pvbench's line (from each rank that got there before the first abort ended the job);
    // the rest is the launcher's note of that MPI_Abort; no backtrace.
    let err = stderr(&out);
    let ours = err.lines().filter(|l| l.starts_with("pvbench")).collect::<Vec<_>>();
    assert!(!ours.is_empty() && ours.iter().all(|l| *l == "pvbench: interrupted by SIGTERM"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
}

/// The hidden `--roofline` (scripts/bench-partdiff) adds one line after partdiff's output and
/// changes nothing else; the line names the level and a limit on every rank count.
#[test]
fn roofline_adds_one_line_after_partdiffs_output() {
    let args = ["1", "2", "5", "1", "2", "37"];
    let plain = without_time(&partdiff(1, &args));
    for ranks in [1, 2] {
        let mut with = args.to_vec();
        with.push("--roofline");
        let text = without_time(&partdiff(ranks, &with));
        let (before, line) = text.trim_end().rsplit_once('\n').unwrap();
        assert_eq!(format!("{before}\n"), plain);
        assert!(
            line.starts_with("Roofline:") && line.contains(" per rank in ") && line.contains("MLUP/s ("),
            "{line}"
        );
    }
}
