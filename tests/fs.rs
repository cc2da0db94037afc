//! `pvbench fs` under the real launcher: small sweeps on 1 and 2 ranks, O_DIRECT refused by
//! tmpfs, a full file system before and during the sweep, and an interrupted sweep.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const PASSES: [&str; 10] = [
    "write",
    "rewrite",
    "read",
    "reread",
    "random read",
    "random write",
    "pwrite",
    "re-pwrite",
    "pread",
    "re-pread",
];

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(String::from))
        .filter(|n| n.starts_with("pvbench-fs"))
        .collect()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A memory file system mounted on a fresh directory, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn new(size: &str) -> Self {
        Self::mount("tmpfs", &format!("size={size}"))
    }

    /// ramfs: no O_DIRECT at all (tmpfs has it since Linux 6.6).
    fn ramfs() -> Self {
        Self::mount("ramfs", "mode=0755")
    }

    fn mount(kind: &str, options: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok =
            Command::new("mount").args(["-t", kind, "-o", options, kind]).arg(dir.path()).status().unwrap();
        assert!(ok.success(), "mount {kind}");
        Tmpfs(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn small_sweeps_on_one_and_two_ranks_are_complete() {
    for ranks in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("fs.json");
        let csv = dir.path().join("fs.csv");
        let out = mpiexec(
            ranks,
            &[
                "fs",
                "--dir",
                dir.path().to_str().unwrap(),
                "--min-file",
                "1MiB",
                "--max-file",
                "8MiB",
                "--min-record",
                "4KiB",
                "--max-record",
                "64KiB",
                "--include-flush",
                "--drop-cache",
                "fadvise",
                "--json",
                json.to_str().unwrap(),
                "--csv",
                csv.to_str().unwrap(),
            ],
        );
        assert_exit(&out, 0);
        assert!(leftovers(dir.path()).is_empty(), "test files removed: {:?}", leftovers(dir.path()));
        let doc = read_json(&json);
        assert_eq!(doc["kind"], "fs");
        assert_environment(&doc, ranks);
        assert_eq!(doc["parameters"]["tests"], serde_json::json!([0, 1, 2, 9, 10]));
        assert_eq!(doc["parameters"]["skip_small_records"], false, "records were given");
        let sweeps = doc["results"]["ranks"].as_array().unwrap();
        assert_eq!(sweeps.len(), ranks as usize);
        for sweep in sweeps {
            let cells = sweep["cells"].as_array().unwrap();
            // 4 file sizes x 5 record sizes, every pass.
            assert_eq!(cells.len(), 4 * 5 * PASSES.len(), "{}", sweep["file"]);
            for pass in PASSES {
                assert_eq!(cells.iter().filter(|c| c["pass"] == pass).count(), 20, "{pass}");
            }
            for c in cells {
                let (kib, mib, s) = (
                    c["kib_per_s"].as_f64().unwrap(),
                    c["mib_per_s"].as_f64().unwrap(),
                    c["seconds"].as_f64().unwrap(),
                );
                assert!(kib > 0.0 && (mib * 1024.0 - kib).abs() < 1e-6 * kib, "{c}");
                assert!((kib - c["file_size_bytes"].as_f64().unwrap() / 1024.0 / s).abs() < 1e-6 * kib);
                // A page cache, a disk or tmpfs, on a machine however busy (an fsync behind a
                // build's writeback may take a second): between 16 KiB/s and 1 TiB/s, which a
                // clock read in the wrong unit (×1000 either way) leaves.
                assert!((16.0..1024.0 * 1024.0 * 1024.0).contains(&kib), "{c}");
            }
        }
        let text = stdout(&out);
        assert!(
            text.contains("random write: KiB/s; rows: file size (KiB), columns: record size (KiB)"),
            "{text}"
        );
        let csv = std::fs::read_to_string(&csv).unwrap();
        assert!(csv.contains("\"Re-Pread report") && csv.contains("\"\",4,8,16,32,64\n"), "{csv}");
    }
}

#[test]
fn automatic_mode_leaves_out_small_records_on_large_files() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "fs",
        "--dir",
        dir.path().to_str().unwrap(),
        "--min-file",
        "16MiB",
        "--max-file",
        "32MiB",
        "--tests",
        "0",
        "--json",
        "-",
    ];
    let out = mpiexec(1, &args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let cells = doc["results"]["ranks"][0]["cells"].as_array().unwrap();
    let has = |file: u64, record: u64| {
        cells.iter().any(|c| c["file_size_bytes"] == file << 20 && c["record_size_bytes"] == record << 10)
    };
    assert!(has(16, 4) && !has(32, 4) && has(32, 64), "iozone -a's crossover");
    let mut all = args.to_vec();
    all.insert(1, "--all-records");
    let out = mpiexec(1, &all);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["results"]["ranks"][0]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["file_size_bytes"] == 32 << 20 && c["record_size_bytes"] == 4 << 10)
    );
}

#[test]
fn o_direct_where_the_file_system_refuses_it_is_a_clear_error() {
    let out = mpiexec(1, &["fs", "--direct", "--min-record", "1000", "--max-record", "1000"]);
    assert_fails_with(&out, 2, "--direct: record size 1000 is not a multiple of 4096 bytes");
    if !is_root() {
        eprintln!("skipped: mounting ramfs needs root");
        return;
    }
    let ramfs = Tmpfs::ramfs();
    let dir = ramfs.path().to_str().unwrap();
    let args = [
        "fs",
        "--dir",
        dir,
        "--direct",
        "--min-file",
        "1MiB",
        "--max-file",
        "1MiB",
        "--min-record",
        "64KiB",
        "--max-record",
        "64KiB",
    ];
    let out = mpiexec(1, &args);
    assert_fails_with(&out, 1, &format!("{dir}: the file system refuses O_DIRECT"));
    assert!(leftovers(ramfs.path()).is_empty());
}

#[test]
fn a_full_file_system_is_refused_before_and_reported_during_the_sweep() {
    if !is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let small = Tmpfs::new("6m");
    let dir = small.path().to_str().unwrap();
    let out = mpiexec(1, &["fs", "--dir", dir, "--min-file", "8MiB", "--max-file", "8MiB", "--tests", "0"]);
    assert_fails_with(
        &out,
        1,
        "the largest file, 8.0 MiB for each of 1 rank(s) here, needs 8.0 MiB; 6.0 MiB free",
    );
    // Rank 1 fills the file system between tests: ENOSPC mid-sweep ends every rank, one line.
    let filler = format!("[ \"$PMI_RANK\" != 1 ] || [ -e {dir}/filler ] || fallocate -l 5M {dir}/filler");
    let out = mpiexec(
        2,
        &[
            "fs",
            "--dir",
            dir,
            "--min-file",
            "512KiB",
            "--max-file",
            "1MiB",
            "--min-record",
            "64KiB",
            "--max-record",
            "64KiB",
            "--between-tests",
            &filler,
        ],
    );
    assert_fails_with(&out, 1, "No space left on device");
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(leftovers(small.path()).is_empty(), "{:?}", leftovers(small.path()));
}

#[test]
fn an_interrupted_sweep_removes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = interrupt_job(
        2,
        &[
            "fs",
            "--dir",
            dir.path().to_str().unwrap(),
            "--min-file",
            "64MiB",
            "--max-file",
            "256MiB",
            "--min-record",
            "4KiB",
            "--max-record",
            "4KiB",
            "--tests",
            "0,1",
        ],
        "INT",
        SignalTo::Ranks,
        || leftovers(&d).len() == 2,
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim(), "pvbench: interrupted by SIGINT");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

/// iozone's habit: `-i 0 -i 2` repeated is the same as `--tests 0,2`.
#[test]
fn tests_repeated_as_iozone_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let tests_of = |flags: &[&str]| -> Value {
        let mut args = vec!["fs", "--dir", dir.path().to_str().unwrap(), "--max-file", "128KiB"];
        args.extend_from_slice(flags);
        args.extend(["--json", "-"]);
        let out = mpiexec(1, &args);
        let doc: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        doc["parameters"]["tests"].clone()
    };
    assert_eq!(tests_of(&["-i", "0", "-i", "2"]), serde_json::json!([0, 2]));
    assert_eq!(tests_of(&["--tests", "0,2"]), serde_json::json!([0, 2]));
}

/// The JSON and CSV outputs are checked before the sweep: one file for both is refused, a CSV
/// that cannot be written names --csv, and an existing one is kept without --force.
#[test]
fn outputs_are_distinct_new_and_named_by_their_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out_path = dir.path().join("r.out");
    let o = out_path.to_str().unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["fs", "--dir", d, "--max-file", "128KiB", "-i", "0"];
        args.extend_from_slice(extra);
        mpiexec(1, &args)
    };
    let out = sweep(&["--json", o, "--csv", o]);
    assert_fails_with(&out, 2, &format!("--json {o} and --csv {o}: the same file"));
    let out = sweep(&["--csv", "/proc/x"]);
    assert_fails_with(&out, 2, "--csv /proc/x: cannot create a file in /proc");
    std::fs::write(&out_path, "mine").unwrap();
    let out = sweep(&["--csv", o]);
    assert_fails_with(&out, 2, &format!("--csv {o}: exists; give --force to replace it"));
    assert!(leftovers(dir.path()).is_empty() && out.stdout.is_empty(), "refused before the sweep");
    assert_exit(&sweep(&["--csv", o, "--force"]), 0);
    assert_ne!(std::fs::read_to_string(&out_path).unwrap(), "mine", "the report replaced it");
}

/// Sizes that give no sweep are usage errors before any file is made.
#[test]
fn ranges_without_a_sweep_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (flags, needle) in [
        (&["--min-file", "0"][..], "size \"0\" must be greater than zero"),
        (&["--min-file", "1MiB", "--max-file", "64KiB"][..], "need min <= max"),
        (&["--min-record", "8KiB", "--max-record", "4KiB"][..], "--min-record 8192 and --max-record 4096"),
        (
            &["--min-file", "64KiB", "--min-record", "128KiB"][..],
            "--min-record 131072 is larger than --min-file",
        ),
    ] {
        let mut args = vec!["fs", "--dir", d];
        args.extend_from_slice(flags);
        assert_fails_with(&mpiexec(1, &args), 2, needle);
    }
    // A record as large as the smallest file is a sweep.
    let args =
        ["fs", "--dir", d, "--min-file", "64KiB", "--max-file", "64KiB", "--min-record", "64KiB", "-i", "0"];
    assert_exit(&mpiexec(1, &args), 0);
    assert!(leftovers(dir.path()).is_empty());
}

/// `--file F`: one rank writes F itself, several F.0, F.1 …; the document names each; the
/// JSON may not be F.
#[test]
fn a_named_file_is_the_path_itself_on_one_rank_and_numbered_on_several() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let f = file.to_str().unwrap();
    let sweep = |ranks: u32| -> Value {
        let out = mpiexec(ranks, &["fs", "--file", f, "--max-file", "64KiB", "-i", "0", "--json", "-"]);
        assert_exit(&out, 0);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(sweep(1)["results"]["ranks"][0]["file"], f);
    let files: Vec<String> = sweep(2)["results"]["ranks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, [format!("{f}.0"), format!("{f}.1")]);
    let out = mpiexec(1, &["fs", "--file", f, "--max-file", "64KiB", "--json", f]);
    assert_fails_with(&out, 2, &format!("--json {f} and --file {f}: the same file"));
}

/// Reads alone: the file is written first, untimed, and only the read passes are reported;
/// a `--between-tests` hook that outlives `--hook-timeout` is killed and named.
#[test]
fn reads_alone_and_a_hook_past_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mpiexec(1, &["fs", "--dir", d, "--max-file", "64KiB", "-i", "1", "--json", "-"]);
    assert_exit(&out, 0);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut passes: Vec<&str> = doc["results"]["ranks"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pass"].as_str().unwrap())
        .collect();
    passes.sort_unstable();
    passes.dedup();
    assert_eq!(passes, ["read", "reread"]);
    let started = std::time::Instant::now();
    let args = [
        "fs",
        "--dir",
        d,
        "--max-file",
        "64KiB",
        "-i",
        "0",
        "--between-tests",
        "sleep 20",
        "--hook-timeout",
        "300ms",
    ];
    let out = mpiexec(1, &args);
    assert_fails_with(&out, 1, "--between-tests \"sleep 20\" did not finish within 300ms; killed");
    assert!(started.elapsed().as_secs() < 15, "took {:?}", started.elapsed());
    assert!(leftovers(dir.path()).is_empty());
}

/// Ctrl-C while a `--between-tests` hook runs (in its own process group, so the signal does
/// not reach it): the hook is killed with pvbench, at once.
#[test]
fn an_interrupt_during_a_hook_ends_hook_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("hook-started");
    let hook = format!("touch {}; sleep 30", marker.display());
    let started = std::time::Instant::now();
    let m = marker.clone();
    let out = interrupt_job(
        1,
        &[
            "fs",
            "--dir",
            dir.path().to_str().unwrap(),
            "--max-file",
            "64KiB",
            "-i",
            "0",
            "--between-tests",
            &hook,
        ],
        "INT",
        SignalTo::Ranks,
        || m.exists(),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(started.elapsed().as_secs() < 15, "took {:?}", started.elapsed());
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}
