//! `pvbench import`: samples written from each tool's printf formats, real iperf3 and fio outputs
//! of every shape people run (tests/data/import), and pvbench mpiio's own mpi-io-test lines,
//! imported and set side by side by `pvbench compare`; broken files refused in one line; the
//! study's shipped reference documents.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import").join(name).display().to_string()
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(pvbench()).args(args).current_dir(dir).output().unwrap()
}

/// The comparison document of `args` (after `compare`).
fn comparison(dir: &Path, args: &[&str]) -> Value {
    let out = run_in(dir, &[&["compare", "--format", "json"], args].concat());
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("compare --format json prints one document")
}

/// The row of `metric` for `group`: its mean and every run's value.
fn row<'a>(c: &'a Value, metric: &str, group: &str) -> &'a Value {
    c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric && r["group"] == group)
        .unwrap_or_else(|| panic!("no row {metric} / {group} in {c:#}"))
}

#[test]
fn every_format_round_trips_into_compare_with_the_figures_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("netperf", "netperf-two-runs.txt", "node7_to_node6_mib_per_s", 77.89),
        ("netperf", "netperf-two-runs.txt", "node7_to_vm3_mib_per_s", 31.76),
        ("iozone", "iozone-table-and-report.txt", "reread_128k_32k_mib_per_s", 1745678.0 / 1024.0),
        ("iozone", "iozone-table-and-report.txt", "random_write_64k_16k_mib_per_s", 534567.0 / 1024.0),
        ("ior", "ior.json", "write_ior_mib_per_s", 70.0),
        ("ior", "ior.json", "read_ior_mib_per_s", 98.0),
        ("fio", "fio.json", "random_read_1048576k_64k_mib_per_s", 1024.0),
        ("mdtest", "mdtest-two-iterations.txt", "file_create_ops_per_s", 2338.5),
        ("auto", "mdtest-4.1-real.txt", "file_create_ops_per_s", 9260.114),
    ];
    for (format, file, metric, expected) in cases {
        let out_dir = format!("out-{format}");
        if !dir.path().join(&out_dir).exists() {
            let out = run_in(
                dir.path(),
                &["import", format, &sample(file), "--host", "node7", "--label", format, "--out", &out_dir],
            );
            assert_exit(&out, 0);
        }
        let c = comparison(dir.path(), &[&out_dir]);
        assert_eq!(row(&c, metric, format)["mean"], expected, "{format} {metric}");
    }
    // Two netperf runs in one file: two documents, numbered.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out-netperf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"netperf-two-runs-02.json".to_string()), "{names:?}");
    let part = |path: &str| read_json(&dir.path().join(path))["imported_from"]["part"].clone();
    assert_eq!(part("out-netperf/netperf-two-runs-02.json"), "run 2 of 2");
    assert!(part("out-ior/ior.json").is_null(), "one run in the file: no part");
}

#[test]
fn mpiios_own_mpi_io_test_lines_import_as_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out = mpiexec(
        2,
        &["mpiio", "-b", "1MiB", "-i", "2", "-f", file.to_str().unwrap(), "--format", "mpi-io-test"],
    );
    assert_exit(&out, 0);
    let printed = stdout(&out);
    std::fs::write(dir.path().join("run.txt"), &printed).unwrap();
    let bandwidth = |phase: &str| -> f64 {
        let line = printed.lines().find(|l| l.starts_with(&format!("{phase} bandwidth = "))).unwrap();
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    };
    let out = run_in(dir.path(), &["import", "auto", "run.txt", "--label", "mine", "--json", "run.json"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("run.txt: read as mpi-io-test"), "{}", stderr(&out));
    let c = comparison(dir.path(), &["run.json"]);
    assert_eq!(row(&c, "write_mpi_io_test_mb_per_s", "mine")["mean"], bandwidth("Write"));
    assert_eq!(row(&c, "read_mpi_io_test_mb_per_s", "mine")["mean"], bandwidth("Read"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(doc["ranks"]["count"], 2);
    assert_eq!(doc["parameters"]["block_size_bytes"], 1 << 20);
    assert_eq!(doc["parameters"]["collective"], true);
}

#[test]
fn documents_say_where_they_came_from_and_only_what_the_user_stated() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let file = sample("ior.json");
    let out =
        run_in(dir.path(), &["import", "ior", &file, "--host", "node7", "--role", "dom0", "--json", "-"]);
    assert_exit(&out, 0);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stderr(&out).contains("-> ") || stderr(&out).contains("ior, mpiio"), "{}", stderr(&out));
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["kind"], "mpiio");
    let from = &doc["imported_from"];
    assert_eq!(from["format"], "ior");
    assert_eq!(from["file"], file.as_str());
    let sha: String =
        sha2::Sha256::digest(std::fs::read(&file).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(from["sha256"], sha.as_str());
    assert_eq!(from["tool_version"], "4.0.0");
    assert!(from["tool_command_line"].as_str().unwrap().starts_with("ior -a MPIIO"));
    assert_eq!(
        doc["environment"],
        serde_json::json!({"source": "stated at import", "hosts": [
            {"hostname": "node7", "virtualization": {"role": "xen-dom0", "guest": false}}
        ]})
    );
    assert!(doc["mpi_library_version"].is_null());
    // Without --host: no host at all, nothing detected from this machine.
    let out = run_in(dir.path(), &["import", "fio", &sample("fio.json"), "--json", "-"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["environment"]["hosts"], serde_json::json!([]));
    assert_eq!(doc["started_at"], "2026-11-26T10:00:00Z");
}

#[test]
fn broken_inputs_are_one_line_with_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let netperf = std::fs::read_to_string(sample("netperf-two-runs.txt")).unwrap();
    std::fs::write(dir.path().join("cut.txt"), &netperf[..netperf.len() - 30]).unwrap();
    std::fs::write(
        dir.path().join("cut2.txt"),
        netperf.lines().take(12).map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello\n").unwrap();
    std::fs::write(dir.path().join("binary.txt"), [&netperf.as_bytes()[..40], b"\0"].concat()).unwrap();
    let cases: [(&[&str], i32, &str); 11] = [
        (
            &["import", "netperf", "binary.txt", "--out", "o"],
            1,
            "binary.txt: a NUL byte at offset 40: binary",
        ),
        (&["import", "netperf", "cut.txt", "--out", "o"], 1, "cut.txt:14: truncated"),
        (&["import", "netperf", "cut2.txt", "--out", "o"], 1, "cut2.txt:12: truncated"),
        (&["import", "iozone", "hello.txt", "--out", "o"], 1, "hello.txt: no iozone auto-mode table"),
        (&["import", "auto", "hello.txt", "--out", "o"], 1, "hello.txt: not an output pvbench can import"),
        (&["import", "netperf", "missing.txt", "--out", "o"], 2, "missing.txt: no such file"),
        (&["import", "netperf", "cut.txt"], 2, "--out"),
        (
            &["import", "netperf", "cut.txt", "--out", "o", "--host", "h", "--role", "toaster"],
            2,
            "not a role",
        ),
        (&["import", "csv", "cut.txt", "--out", "o"], 2, "invalid value 'csv'"),
        (&["import", "netperf", "cut.txt", "--out", "hello.txt"], 2, "--out hello.txt: not a directory"),
        (&["import", "netperf", ".", "--out", "o"], 2, ".: a directory, not a tool's output"),
    ];
    for (args, code, needle) in cases {
        let out = run_in(dir.path(), args);
        assert_fails_with(&out, code, needle);
        if code == 1 {
            assert_eq!(stderr(&out).lines().count(), 1, "one line: {}", stderr(&out));
        }
    }
    assert!(!dir.path().join("o").exists(), "nothing written when a file fails");
    // A (sparse) file as large as the memory available is refused before it is read.
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let available_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let huge = std::fs::File::create(dir.path().join("huge.txt")).unwrap();
    huge.set_len(available_kib * 1024).unwrap();
    let out = run_in(dir.path(), &["import", "netperf", "huge.txt", "--out", "o"]);
    assert_fails_with(&out, 1, "of memory to read");
    // Two runs cannot go to one --json file.
    let out =
        run_in(dir.path(), &["import", "netperf", &sample("netperf-two-runs.txt"), "--json", "one.json"]);
    assert_fails_with(&out, 2, "--json takes one document, these files hold 2");
}

/// A document that exists is not replaced without --force, whether by --out or --json; an
/// output directory that cannot be made is refused before the files are read.
#[test]
fn existing_documents_are_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let ior = sample("ior.json");
    assert_exit(&run_in(dir.path(), &["import", "ior", &ior, "--out", "o"]), 0);
    std::fs::write(dir.path().join("o/ior.json"), "mine").unwrap();
    let out = run_in(dir.path(), &["import", "ior", &ior, "--out", "o"]);
    assert_fails_with(&out, 2, "--out: o/ior.json exists; give --force to replace");
    assert_eq!(std::fs::read_to_string(dir.path().join("o/ior.json")).unwrap(), "mine");
    assert_exit(&run_in(dir.path(), &["import", "ior", &ior, "--out", "o", "--force"]), 0);
    assert!(read_json(&dir.path().join("o/ior.json"))["results"].is_object());
    let out = run_in(dir.path(), &["import", "ior", &ior, "--json", "o/ior.json"]);
    assert_fails_with(&out, 2, "--json o/ior.json: exists; give --force to replace it");
    let out = run_in(dir.path(), &["import", "ior", &ior, "--out", "/proc/x"]);
    assert_fails_with(&out, 2, "--out /proc/x: cannot create files in /proc");
}

#[test]
fn the_studys_reference_reproduces_table_3_3() {
    let dir = tempfile::tempdir().unwrap();
    let c = comparison(dir.path(), &["--reference", "study-2008"]);
    for (metric, group, runs) in [
        ("read_mpi_io_test_mb_per_s", "2008 dom0-nobridge", [96.0, 89.0, 90.0, 97.0, 90.0]),
        ("write_mpi_io_test_mb_per_s", "2008 dom0-nobridge", [62.0, 67.0, 67.0, 77.0, 75.0]),
        ("read_mpi_io_test_mb_per_s", "2008 dom0-bridge", [99.0, 98.0, 99.0, 99.0, 97.0]),
        ("write_mpi_io_test_mb_per_s", "2008 dom0-bridge", [70.0, 70.0, 77.0, 69.0, 72.0]),
    ] {
        let r = row(&c, metric, group);
        assert_eq!(r["values"], serde_json::json!(runs), "{metric} {group}: Messung 1 to 5 in order");
        assert_eq!(r["mean"], runs.iter().sum::<f64>() / 5.0, "{metric} {group}");
    }
    assert_eq!(row(&c, "read_mpi_io_test_mb_per_s", "2008 dom0-nobridge")["mean"], 92.4);
    assert_eq!(row(&c, "vm4_to_node7_mib_per_s", "2008 net after tuning")["mean"], 293.56);
    assert_eq!(row(&c, "calculation_time_s", "2008 partdiff 4 copies at once")["mean"], 405.0);
    // The same files, read from the repository's directory, are the same groups.
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/study-2008");
    let from_files = comparison(dir.path(), &[reference.to_str().unwrap()]);
    assert_eq!(from_files["rows"].as_array().unwrap().len(), c["rows"].as_array().unwrap().len());
    let out = run_in(dir.path(), &["compare", "--reference", "study-1999"]);
    assert_fails_with(&out, 2, "no such reference (known: study-2008)");
}

#[test]
fn todays_net_cells_meet_the_studys_by_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "import",
            "netperf",
            &sample("netperf-two-runs.txt"),
            "--host",
            "node7",
            "--label",
            "today",
            "--out",
            "t",
        ],
    );
    assert_exit(&out, 0);
    let c =
        comparison(dir.path(), &["--reference", "study-2008", "t", "--baseline", "2008 net after tuning"]);
    let today = row(&c, "node7_to_node6_mib_per_s", "today");
    assert_eq!(today["mean"], 77.89);
    assert_eq!(today["ratio"]["value"], 1.0, "the sample repeats Table A.2's no7-no6 row");
}

/// fio itself (Debian's, installed by scripts/test): its JSON, imported, gives compare fio's own
/// bandwidth for each job.
#[test]
fn real_fio_output_imports_with_fios_figures() {
    if Command::new("fio").arg("--version").output().is_err() {
        eprintln!("skipped: fio is not installed (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = Command::new("fio")
        .args(["--directory", data.to_str().unwrap(), "--size=4M", "--bs=64k", "--ioengine=psync"])
        .args(["--output-format=json", "--output", "fio.json"])
        .args(["--name=seq-write", "--rw=write", "--name=rand-read", "--stonewall", "--rw=randread"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "fio: {}", String::from_utf8_lossy(&out.stderr));
    let fio: Value = read_json(&dir.path().join("fio.json"));
    let out = run_in(dir.path(), &["import", "auto", "fio.json", "--label", "fio", "--json", "fio-doc.json"]);
    assert_exit(&out, 0);
    let doc = read_json(&dir.path().join("fio-doc.json"));
    assert_eq!(doc["imported_from"]["tool_version"], fio["fio version"]);
    let c = comparison(dir.path(), &["fio-doc.json"]);
    for (metric, job, side) in
        [("write_4096k_64k_mib_per_s", 0, "write"), ("random_read_4096k_64k_mib_per_s", 1, "read")]
    {
        let expected = fio["jobs"][job][side]["bw_bytes"].as_f64().unwrap() / 1048576.0;
        assert!(expected > 0.0, "{side}: {fio:#}");
        assert_eq!(row(&c, metric, "fio")["mean"], expected, "{metric}");
    }
}

/// iperf3 itself (Debian's, installed by scripts/test) on loopback: `import auto` recognises its
/// JSON, and compare shows iperf3's receiver figure for the pair it names.
#[test]
fn real_iperf3_output_imports_with_its_receivers_figure() {
    if Command::new("iperf3").arg("--version").output().is_err() {
        eprintln!("skipped: iperf3 is not installed (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut server =
        Command::new("iperf3").args(["-s", "-1", "-B", "127.0.0.1", "-p", &port]).spawn().unwrap();
    let mut client = None;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let out =
            Command::new("iperf3").args(["-c", "127.0.0.1", "-p", &port, "-t", "1", "-J"]).output().unwrap();
        if out.status.success() {
            client = Some(out.stdout);
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let json = client.expect("iperf3 client ran against its server");
    std::fs::write(dir.path().join("iperf.json"), &json).unwrap();
    let raw: Value = serde_json::from_slice(&json).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "import",
            "auto",
            "iperf.json",
            "--host",
            "node7",
            "--peer",
            "node6",
            "--label",
            "iperf3",
            "--out",
            "o",
        ],
    );
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("iperf3"), "auto says which format: {}", stderr(&out));
    let c = comparison(dir.path(), &["o"]);
    let received = &raw["end"]["sum_received"];
    let expected = received["bytes"].as_f64().unwrap() / received["seconds"].as_f64().unwrap() / 1048576.0;
    assert_eq!(row(&c, "node7_to_node6_mib_per_s", "iperf3")["mean"], expected);
}

/// Ctrl-C while thousands of documents are being written: exit 130, one line, and none of the
/// run's documents (nor the directory it created) left behind.
#[test]
fn an_interrupted_import_leaves_no_documents() {
    let dir = tempfile::tempdir().unwrap();
    let runs = std::fs::read_to_string(sample("netperf-two-runs.txt")).unwrap().repeat(10_000);
    std::fs::write(dir.path().join("many.txt"), runs).unwrap();
    let out_dir = dir.path().join("out");
    let child = Command::new(pvbench())
        .args(["import", "netperf", "many.txt", "--out", "out"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&out_dir).map_or(true, |mut d| d.next().is_none()) {
        assert!(std::time::Instant::now() < deadline, "no document written within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(stderr(&out), "pvbench: interrupted by SIGINT\n");
    assert!(!out_dir.exists(), "the documents and the directory the run made are gone");
}

/// The document `file` (a real output in tests/data/import) imports as.
fn imported(dir: &Path, file: &str, args: &[&str]) -> Value {
    let json = format!("{file}.doc.json");
    let out = run_in(dir, &[&["import", "auto", &sample(file), "--json", &json], args].concat());
    assert_exit(&out, 0);
    read_json(&dir.join(json))
}

/// iperf3 3.12's own outputs of each shape (tests/data/import/make-real-outputs): what the
/// receiver counted is the pair's figure, in every direction iperf3 measured.
#[test]
fn real_iperf3_shapes_keep_every_direction_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let stated = ["--host", "node7", "--peer", "node6"];
    let doc = imported(dir.path(), "iperf3-3.12-bidir-two-streams.json", &stated);
    let pairs = doc["results"]["pairs"].as_array().unwrap();
    let ends: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p["sender_host"].as_str().unwrap(), p["receiver_host"].as_str().unwrap()))
        .collect();
    assert_eq!(ends, [("node7", "node6"), ("node6", "node7")], "--bidir: both directions");
    assert!(pairs.iter().all(|p| p["streams"].as_array().unwrap().len() == 2 && p["round"] == 0));
    let c = comparison(dir.path(), &["iperf3-3.12-bidir-two-streams.json.doc.json"]);
    for (metric, pair) in ["node7_to_node6_mib_per_s", "node6_to_node7_mib_per_s"].iter().zip(pairs) {
        assert_eq!(row(&c, metric, "(no label)")["mean"], pair["median_mib_per_s"]);
    }
    let udp = imported(dir.path(), "iperf3-3.12-udp.json", &stated);
    let pair = &udp["results"]["pairs"][0];
    assert!(pair["datagrams"]["jitter_ms"].is_number() && pair["datagrams"]["lost_percent"].is_number());
    assert_eq!(udp["parameters"]["protocol"], "UDP");
    let three = imported(dir.path(), "iperf3-3.12-three-streams.json", &stated);
    assert_eq!(three["results"]["pairs"][0]["streams"].as_array().unwrap().len(), 3);
    let omit = imported(dir.path(), "iperf3-3.12-omit.json", &stated);
    assert_eq!(omit["results"]["pairs"][0]["intervals"][0]["omitted"], true);
    let bytes = imported(dir.path(), "iperf3-3.12-bytes.json", &stated);
    assert_eq!(bytes["parameters"]["bytes"], 64 << 20);
    let reverse = imported(dir.path(), "iperf3-3.12-udp-reverse.json", &stated);
    assert_eq!(reverse["results"]["pairs"][0]["sender_host"], "node6");
}

/// fio 3.33's own outputs: `numjobs=4` is four ranks; with group_reporting one entry marked as
/// four jobs; randrw (json+ too) a read and a write cell; two sections their three jobs.
#[test]
fn real_fio_shapes_keep_every_job_and_direction() {
    let dir = tempfile::tempdir().unwrap();
    let four = imported(dir.path(), "fio-3.33-numjobs4.json", &[]);
    assert_eq!(four["ranks"]["count"], 4);
    let sweeps = four["results"]["ranks"].as_array().unwrap();
    assert_eq!(sweeps.len(), 4);
    assert!(sweeps.iter().all(|s| s["cells"][0]["group"].is_null()));
    for file in ["fio-3.33-numjobs4-group.json", "fio-3.33-numjobs4-group-normal-json.txt"] {
        let group = imported(dir.path(), file, &[]);
        assert_eq!(group["ranks"]["count"], 4, "{file}");
        let cell = &group["results"]["ranks"][0]["cells"][0];
        assert_eq!(cell["group"]["jobs"], 4, "{file}: the aggregate is marked");
        let per_job = cell["group"]["mib_per_s"].as_f64().unwrap() / 4.0;
        assert_eq!(cell["mib_per_s"].as_f64(), Some(per_job), "{file}");
    }
    let mix = imported(dir.path(), "fio-3.33-randrw-json-plus.json", &[]);
    let passes: Vec<&str> = mix["results"]["ranks"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pass"].as_str().unwrap())
        .collect();
    assert_eq!(passes, ["mixed random read", "mixed random write"]);
    let sections = imported(dir.path(), "fio-3.33-two-sections.json", &[]);
    let jobs: Vec<(&str, &str)> = sections["parameters"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["name"].as_str().unwrap(), j["rw"].as_str().unwrap()))
        .collect();
    assert_eq!(jobs, [("seqread", "read"), ("randwrite", "randwrite"), ("randwrite", "randwrite")]);
}

/// A failed run, and fio's sum of different sections, are refused in one line naming the file
/// and why: never a document.
#[test]
fn real_failures_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (format, file, needle) in [
        (
            "fio",
            "fio-3.33-verify-error.json",
            "fio-3.33-verify-error.json: job \"verify\" ended with error 84",
        ),
        ("fio", "fio-3.33-two-sections-group.json", "moved read bytes, which rw=randwrite does not"),
        (
            "iperf3",
            "iperf3-3.12-no-server.json",
            "iperf3-3.12-no-server.json:1: iperf3 reported an error, no measurement: unable to connect",
        ),
    ] {
        let out = run_in(dir.path(), &["import", format, &sample(file), "--out", "o"]);
        assert_fails_with(&out, 1, needle);
        assert_eq!(stderr(&out).lines().count(), 1, "one line: {}", stderr(&out));
    }
    assert!(!dir.path().join("o").exists());
}

/// The same four jobs, reported one by one and as one group, compare as the same per-job rate:
/// real runs, so a loose bound; the point is neither 4x nor the sum against one job.
#[test]
fn numjobs_with_and_without_group_reporting_compare_near_one() {
    let dir = tempfile::tempdir().unwrap();
    for (file, label) in [("fio-3.33-numjobs4.json", "separate"), ("fio-3.33-numjobs4-group.json", "grouped")]
    {
        let out = run_in(dir.path(), &["import", "fio", &sample(file), "--label", label, "--out", label]);
        assert_exit(&out, 0);
    }
    let c = comparison(dir.path(), &["separate", "grouped", "--baseline", "separate"]);
    let metric = "write_4096k_64k_mib_per_s";
    let ratio = row(&c, metric, "grouped")["mean"].as_f64().unwrap()
        / row(&c, metric, "separate")["mean"].as_f64().unwrap();
    assert!((0.5..2.0).contains(&ratio), "grouped / separate = {ratio}");
}

/// netperf's TCP_RR in every shape pvbench reads (-v 1 with and without -c/-C, -v 2's
/// alignment block and histogram, -P 0, -v 0): each run one document with the rate netperf printed, which
/// compare shows as a TCP_RR cell; a cut run names its line.
#[test]
fn netperf_tcp_rr_outputs_round_trip_into_compare() {
    let dir = tempfile::tempdir().unwrap();
    let import = |file: &str, out: &str| {
        let args = ["import", "netperf", &sample(file), "--host", "node7", "--label", "rr", "--out", out];
        assert_exit(&run_in(dir.path(), &args), 0);
    };
    import("netperf-2.7-tcp-rr.txt", "rr");
    import("netperf-2.7-tcp-rr-P0.txt", "p0");
    import("netperf-2.7-tcp-rr-v0.txt", "v0");
    // A real netperf 2.7 (built with --enable-histogram) at -v 2: alignment block and histogram.
    import("netperf-2.7-tcp-rr-v2-histogram-real.txt", "real");
    let real = read_json(&dir.path().join("real/netperf-2.7-tcp-rr-v2-histogram-real.json"));
    assert_eq!(real["results"]["pairs"][0]["rr"]["transactions_per_s"], 62297.63);
    let doc = |path: &str| read_json(&dir.path().join(path));
    let first = doc("rr/netperf-2.7-tcp-rr-01.json");
    assert_eq!(first["parameters"]["test"], "TCP_RR");
    let pair = &first["results"]["pairs"][0];
    assert_eq!(
        (pair["sender_host"].as_str(), pair["receiver_host"].as_str()),
        (Some("node7"), Some("node6"))
    );
    assert_eq!(pair["rr"]["transactions_per_s"], 23340.87);
    assert!((pair["rr"]["mean_rtt_us"].as_f64().unwrap() - 1e6 / 23340.87).abs() < 1e-9);
    assert_eq!(
        (pair["rr"]["request_bytes"].as_u64(), pair["rr"]["response_bytes"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(pair["receiver_socket"]["receive_buffer_bytes"], 131072);
    assert!(pair["rr"]["round_trip"].is_null(), "netperf's default output has no percentiles");
    let cpu = &doc("rr/netperf-2.7-tcp-rr-02.json")["results"]["pairs"][0]["rr"]["repetitions"][0];
    assert_eq!(
        (cpu["client_cpu_percent"].as_f64(), cpu["server_service_demand_us_per_tr"].as_f64()),
        (Some(25.03), Some(52.85))
    );
    assert_eq!(
        doc("rr/netperf-2.7-tcp-rr-03.json")["results"]["pairs"][0]["rr"]["transactions_per_s"],
        23010.52
    );
    let second = &doc("p0/netperf-2.7-tcp-rr-P0-02.json")["results"]["pairs"][0]["rr"];
    assert_eq!(
        (second["transactions_per_s"].as_f64(), second["request_bytes"].as_u64()),
        (Some(15011.2), Some(64))
    );
    let alone = &doc("v0/netperf-2.7-tcp-rr-v0.json")["results"]["pairs"][0]["rr"];
    assert!(alone["request_bytes"].is_null() && alone["repetitions"][0]["elapsed_s"].is_null(), "{alone}");
    let c = comparison(dir.path(), &["rr/netperf-2.7-tcp-rr-01.json", "rr/netperf-2.7-tcp-rr-03.json"]);
    let row = row(&c, "node7_to_node6_rr_transactions_per_s", "rr");
    assert_eq!(row["n"], 2);
    assert!((row["mean"].as_f64().unwrap() - (23340.87 + 23010.52) / 2.0).abs() < 1e-6, "{row}");

    let text = std::fs::read_to_string(sample("netperf-2.7-tcp-rr.txt")).unwrap();
    let cut: String = text.lines().take(7).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("cut.txt"), cut).unwrap();
    let out = run_in(dir.path(), &["import", "netperf", "cut.txt", "--out", "o"]);
    assert_fails_with(&out, 1, "cut.txt:7: truncated: the last TCP_RR test printed no remote socket sizes");
}
