//! Every subcommand that reads a file, against one set of hostile files (a device, a FIFO, a
//! directory, empty, binary, 200 MB of garbage, CRLF text, numbers JSON cannot hold, huge
//! counts and durations), and every one that prints, against a closed standard output: one
//! clear line and exit 1 or 2 (141 for the closed pipe, quietly), never a panic or a hang.

mod common;

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{pvbench, stderr};

/// A hostile input must be answered long before this (a hang is the failure it catches).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

struct Hostile {
    dir: tempfile::TempDir,
}

impl Hostile {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let fifo = std::ffi::CString::new(path("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::fs::create_dir(path("directory")).unwrap();
        std::fs::write(path("empty"), b"").unwrap();
        let binary: Vec<u8> = (0..65536u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        std::fs::write(path("binary"), &binary).unwrap();
        std::fs::write(
            path("crlf"),
            "name = \"t\"\r\n[[group]]\r\nname = \"g\"\r\nhosts = [\"localhost\"]\r\n",
        )
        .unwrap();
        std::fs::write(
            path("numbers.json"),
            r#"{"tool": {"name": "pvbench"}, "schema_version": 1e400, "x": -0, "y": NaN}"#,
        )
        .unwrap();
        Hostile { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The files every reader gets, by name.
    fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![PathBuf::from("/dev/zero"), PathBuf::from("/dev/null")];
        files.extend(["fifo", "directory", "empty", "binary", "crlf", "numbers.json"].map(|n| self.path(n)));
        files
    }

    /// 200 MB of bytes that are no format, made once for the reader that takes them whole.
    fn garbage(&self) -> PathBuf {
        let path = self.path("garbage");
        let mut state = 0x9e3779b97f4a7c15u64;
        let block: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let mut file = std::fs::File::create(&path).unwrap();
        for _ in 0..200 {
            std::io::Write::write_all(&mut file, &block).unwrap();
        }
        path
    }
}

/// Runs pvbench with `args` in the repository (standard output to `stdout`), killing it
/// past three times [`ANSWER_WITHIN`] (a hang fails the test, it does not stall it).
fn answer(args: &[&str], stdout: Stdio) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(pvbench())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > ANSWER_WITHIN * 3 {
            let _ = child.kill();
            panic!("{args:?}: no answer after {:?}", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// One clear line and exit 1 or 2, in time.
#[track_caller]
fn assert_one_clear_line(args: &[&str]) {
    let (out, took) = answer(args, Stdio::piped());
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(1 | 2)), "{args:?}: {:?}\n{err}", out.status);
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{args:?}: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: one error line:\n{err}");
    assert!(errors[0].starts_with("pvbench: error: "), "{args:?}: {err}");
    assert!(took < ANSWER_WITHIN, "{args:?}: answered after {took:?}");
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn every_file_argument_refuses_hostile_files_in_one_line() {
    let hostile = Hostile::new();
    let out = hostile.path("out");
    let results = hostile.path("results");
    for file in hostile.files() {
        let f = s(&file);
        assert_one_clear_line(&["campaign", "check", f]);
        assert_one_clear_line(&["campaign", "run", f, "--results", s(&results)]);
        assert_one_clear_line(&["campaign", "status", f]);
        // meta's test directory is a hostile file, or holds one: refused, nothing touched.
        let (dir, refusal) = if file.is_dir() {
            (s(file.parent().unwrap()), "pvbench meta did not make")
        } else {
            (f, "not a directory")
        };
        let meta = ["meta", "-d", dir, "-n", "1"];
        assert_one_clear_line(&meta);
        assert!(stderr(&answer(&meta, Stdio::piped()).0).contains(refusal), "{meta:?}");
        assert_one_clear_line(&["compare", f]);
        for format in ["auto", "iozone", "netperf", "iperf3", "mpi-io-test", "ior", "fio", "mdtest"] {
            assert_one_clear_line(&["import", format, f, "--host", "h", "--role", "dom0", "--out", s(&out)]);
        }
        assert_one_clear_line(&[
            "mpiio",
            "-b",
            "1MiB",
            "-i",
            "1",
            "-f",
            "pvfs2:/pvfs2/hostile",
            "--pvfs2tab",
            f,
        ]);
        // A plan whose group names the hostile file as its hostfile.
        let plan = hostile.path("plan.toml");
        std::fs::write(
            &plan,
            format!(
                "name = \"t\"\n[[group]]\nname = \"g\"\nhostfile = {f:?}\n[[benchmark]]\nkind = \"partdiff\"\n\
                 args = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n"
            ),
        )
        .unwrap();
        assert_one_clear_line(&["campaign", "check", s(&plan)]);
    }
    assert!(!results.exists() && !out.exists(), "nothing written for inputs that were refused");
    let garbage = hostile.garbage();
    for args in [
        vec!["import", "auto", s(&garbage), "--host", "h", "--role", "dom0", "--out", s(&out)],
        vec!["compare", s(&garbage)],
        vec!["campaign", "check", s(&garbage)],
    ] {
        assert_one_clear_line(&args);
    }
}

#[test]
fn counts_and_durations_past_their_bounds_are_refused_in_one_line() {
    let hostile = Hostile::new();
    for args in [
        vec!["mpiio", "--timeout", "500000000000years"],
        vec!["mpiio", "-i", "4294967295"],
        vec!["mpiio", "-s", "4294967295"],
        vec!["mpiio", "-s", "0"],
        vec!["mpiio", "-t", "1", "-b", "1g", "-s", "1000"],
        vec!["mpiio", "--offset", "9223372036854775807", "-b", "1k", "-i", "1"],
        vec!["mpiio", "--offset", "99999999999999999999t"],
        vec!["mpiio", "--offset", "-1"],
        vec!["mpiio", "--order", "backwards"],
        vec!["mpiio", "--seed", "5"],
        vec!["mpiio", "--order", "random", "--seed", "18446744073709551616"],
        vec!["mpiio", "-t", "47008", "-b", "47009"],
        vec!["net", "--duration", "1e300"],
        vec!["net", "--timeout", "18446744073709551616"],
        vec!["net", "--test", "bogus"],
        vec!["net", "--test", "rr,,latency"],
        vec!["net", "--test", "latency", "--iterations", "0"],
        vec!["net", "--test", "latency", "--iterations", "99999999999999999999"],
        vec!["fs", "--hook-timeout", "999999999999999999999"],
        vec!["meta", "-n", "18446744073709551616"],
        vec!["meta", "-n", "100000001"],
        vec!["meta", "-i", "4294967295"],
        vec!["meta", "-w", "99999999999999999999"],
        vec!["meta", "-w", "3GiB"],
        vec!["meta", "--timeout", "500000000000years"],
        vec!["meta", "--timeout", "0"],
        vec!["meta", "-n", "0"],
        vec!["meta", "-i", "0"],
        vec!["meta", "-D", "-F"],
        vec!["meta", "-e", "2k", "-w", "1k"],
        vec!["meta", "-e", "99999999999999999999"],
        vec!["meta", "-d", ""],
        vec!["meta", "-d", "pvfs2:/pvfs2/meta"],
        vec!["meta", "-u", "-F", "-d", "pvfs2:/pvfs2/meta"],
        vec!["campaign", "check", "testbed/study.toml", "--reps", "4294967295"],
    ] {
        assert_one_clear_line(&args);
    }
    let plan = hostile.path("plan.toml");
    for (setting, bound) in [
        ("reps = 4294967295", "more than 10000"),
        ("order = \"blocked\"\nreps = 1000000000", "more than 10000"),
        ("reps = { min = 2, max = 4294967295, until_ci = 0.05 }", "more than 10000"),
        ("reps = 5", "more than the 30 days"),
    ] {
        std::fs::write(
            &plan,
            format!(
                "name = \"t\"\n{setting}\n[[group]]\nname = \"g\"\nhosts = [\"localhost\"]\n[[benchmark]]\n\
                 kind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\ntimeout = \"{{t}}\"\n"
            )
            .replace("{t}", if setting == "reps = 5" { "500000000000years" } else { "1h" }),
        )
        .unwrap();
        let args = ["campaign", "check", s(&plan)];
        assert_one_clear_line(&args);
        let (out, _) = answer(&args, Stdio::piped());
        assert!(stderr(&out).contains(bound), "{setting}: {}", stderr(&out));
    }
}

/// A pipe whose reader is gone: every write to it fails with EPIPE at once.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are new and owned here alone.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (documents, imported) = (dir.path().join("documents"), dir.path().join("imported"));
    let netperf = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/import/netperf-two-runs.txt");
    fn import<'a>(file: &'a str, out: &'a Path) -> Vec<&'a str> {
        vec!["import", "netperf", file, "--host", "h", "--role", "dom0", "--out", s(out)]
    }
    let (made, _) = answer(&import(netperf, &documents), Stdio::piped());
    common::assert_exit(&made, 0);
    for args in [
        vec!["--help"],
        vec!["mpiio", "--help"],
        vec!["campaign", "check", "testbed/study.toml"],
        vec!["compare", s(&documents)],
        vec![
            "import",
            "iperf3",
            "tests/data/import/iperf3-3.12-tcp.json",
            "--host",
            "h",
            "--role",
            "dom0",
            "--json",
            "-",
        ],
        import(netperf, &imported),
    ] {
        let (out, took) = answer(&args, closed_pipe());
        let err = stderr(&out);
        assert!(matches!(out.status.code(), Some(0 | 141)), "{args:?}: {:?}\n{err}", out.status);
        assert!(
            !err.contains("panicked") && !err.contains("error") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(took < ANSWER_WITHIN, "{args:?}: answered after {took:?}");
    }
    // The documents are written before the summary that nobody reads.
    assert_eq!(imported.read_dir().unwrap().count(), documents.read_dir().unwrap().count());
}

/// An import whose figure is no measurement (a negative bandwidth, a test of no time or no
/// bytes) is refused with the field's path: the document compare would leave out is not written.
#[test]
fn an_import_whose_figure_is_no_measurement_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import");
    let edited = |file: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(data.join(file)).unwrap()).unwrap();
        edit(&mut doc);
        let path = tempfile::Builder::new().suffix(".json").tempfile_in(dir.path()).unwrap().into_temp_path();
        let path = path.keep().unwrap();
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    for (format, path, said) in [
        (
            "fio",
            edited("fio.json", &|d| d["jobs"][0]["write"]["bw_bytes"] = (-1000).into()),
            "write.bw_bytes is -1000: not a measurement",
        ),
        (
            "iperf3",
            edited("iperf3-3.12-tcp.json", &|d| d["end"]["sum_received"]["bytes"] = 0.into()),
            "end.sum_received.bytes is 0: nothing arrived",
        ),
        (
            "iperf3",
            edited("iperf3-3.12-tcp.json", &|d| d["end"]["sum_received"]["seconds"] = 1e-300.into()),
            "end.sum_received.seconds is 1e-300: not a measured test",
        ),
    ] {
        let out = dir.path().join("out");
        let args = ["import", format, s(&path), "--host", "h", "--role", "dom0", "--out", s(&out)];
        assert_one_clear_line(&args);
        let (answered, _) = answer(&args, Stdio::piped());
        assert!(stderr(&answered).contains(said), "{format}: {}", stderr(&answered));
        assert!(!out.exists(), "nothing written");
    }
}

/// compare walks a tree once, in time linear in its entries: 1500 directories deep (quadratic
/// before: 39 s), with a symbolic link to nothing in it, which is left out and named (it ended
/// the whole comparison before, --skip-bad or not).
#[test]
fn a_deep_tree_with_a_dangling_link_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    for _ in 0..1500 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let netperf = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/import/netperf-two-runs.txt");
    let (imported, _) = answer(
        &["import", "netperf", netperf, "--host", "h", "--role", "dom0", "--out", s(&deep)],
        Stdio::piped(),
    );
    common::assert_exit(&imported, 0);
    let link = dir.path().join("d/gone.json");
    std::os::unix::fs::symlink("/nonexistent-pvbench/gone.json", &link).unwrap();
    let (out, took) = answer(&["compare", s(dir.path()), "--format", "json"], Stdio::piped());
    common::assert_exit(&out, 0);
    assert!(took < ANSWER_WITHIN, "answered after {took:?}");
    let warning = format!("pvbench: warning: left out {}: a symbolic link to nothing", link.display());
    assert!(stderr(&out).lines().any(|l| l == warning), "{}", stderr(&out));
    let comparison: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(comparison["documents"], 2, "{}", comparison["documents"]);
}
