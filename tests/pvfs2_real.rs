//! pvbench against a real OrangeFS server, through a real MPICH whose ROMIO has the pvfs2
//! driver. Runs when `PVBENCH_PVFS2_PREFIX` names a stack built by `scripts/build-pvfs2-stack`;
//! skips (and says why) otherwise. pvbench is rebuilt against that stack's MPICH first, so the
//! code under test is this checkout's.
//!
//! One test on purpose: one private server (own port, own storage, own pid file) serves every
//! step in order, and is stopped at the end whatever happened.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::stack::repo;
use common::{assert_exit, stderr, stdout};

struct Stack {
    prefix: PathBuf,
    dir: tempfile::TempDir,
}

impl Stack {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("fs.conf")
    }

    fn tab(&self) -> PathBuf {
        self.dir.path().join("pvfs2tab")
    }

    fn path_env(&self) -> String {
        format!("{}:{}", self.prefix.join("mpich/bin").display(), std::env::var("PATH").unwrap_or_default())
    }

    fn pvbench(&self) -> PathBuf {
        common::stack::pvbench(&self.prefix)
    }

    /// `pvfs2-reset ARGS` for this server.
    fn reset(&self, extra: &[&str]) -> Output {
        let out = Command::new(repo().join("scripts/pvfs2-reset"))
            .args(self.reset_args())
            .args(extra)
            .output()
            .unwrap();
        println!("pvfs2-reset {extra:?}:\n{}{}", stdout(&out), stderr(&out));
        out
    }

    fn reset_args(&self) -> Vec<String> {
        let s = |p: &Path| p.display().to_string();
        vec![
            "-c".into(),
            s(&self.conf()),
            "-a".into(),
            "node6".into(),
            "--bin".into(),
            s(&self.prefix.join("orangefs")),
            "--pidfile".into(),
            s(&self.dir.path().join("server.pid")),
            "--pvfs2tab".into(),
            s(&self.tab()),
        ]
    }

    /// `mpiexec -n RANKS pvbench mpiio ARGS` with the stack's MPICH.
    fn mpiio(&self, ranks: u32, args: &[&str]) -> Output {
        self.run("mpiio", ranks, args)
    }

    /// `mpiexec -n RANKS pvbench COMMAND ARGS` with the stack's MPICH.
    fn run(&self, command: &str, ranks: u32, args: &[&str]) -> Output {
        let out = assert_cmd::Command::new(self.prefix.join("mpich/bin/mpiexec"))
            .args(["-n", &ranks.to_string()])
            .arg(self.pvbench())
            .arg(command)
            .args(args)
            .env("PVFS2TAB_FILE", self.tab())
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        println!("{command} {args:?}: {:?}\n{}{}", out.status, stdout(&out), stderr(&out));
        out
    }

    /// The tab's mount point: a directory of the test (OrangeFS's tools resolve paths in it).
    fn mount(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn file(&self, name: &str) -> String {
        format!("pvfs2:{}/{name}", self.mount().display())
    }

    /// Runs one of OrangeFS's tools (pvfs2-cp, pvfs2-ls) against this server.
    fn orangefs_tool(&self, tool: &str, args: &[&Path]) -> String {
        let out = Command::new(self.prefix.join("orangefs/bin").join(tool))
            .args(args)
            .env("PVFS2TAB_FILE", self.tab())
            .output()
            .unwrap();
        assert!(out.status.success(), "{tool} {args:?}: {}{}", stdout(&out), stderr(&out));
        stdout(&out)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.reset(&["--stop"]);
    }
}

/// The stack to test against, or `None` with the reason printed.
fn stack() -> Option<Stack> {
    let prefix = common::stack::prefix()?;
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stack = Stack { prefix, dir: tempfile::tempdir().unwrap() };
    std::fs::create_dir(stack.mount()).unwrap();
    let rendered = Command::new(repo().join("scripts/render-pvfs2-config"))
        .args(["--servers", "node6", "--address", "node6=127.0.0.1", "--port", &port.to_string()])
        .arg("--out")
        .arg(stack.dir.path())
        .arg("--storage")
        .arg(stack.dir.path().join("storage"))
        .arg("--log")
        .arg(stack.dir.path().join("server.log"))
        .arg("--mount")
        .arg(stack.mount())
        .output()
        .unwrap();
    assert_exit(&rendered, 0);
    Some(stack)
}

#[test]
fn pvbench_on_a_real_orangefs_server() {
    let Some(stack) = stack() else { return };

    // The server is down: refused with one line, no segmentation fault.
    let out = stack.mpiio(2, &["-b", "1MiB", "-i", "1", "-f", &stack.file("down")]);
    common::assert_fails_with(&out, 1, "does not answer");
    assert!(!stderr(&out).contains("Segmentation"), "{}", stderr(&out));
    // So is meta on a pvfs2: directory, before its first MPI-IO call.
    let out = stack.run("meta", 2, &["-F", "-n", "10", "-d", &stack.file("meta-down")]);
    common::assert_fails_with(&out, 1, "does not answer");
    assert!(!stderr(&out).contains("Segmentation"), "{}", stderr(&out));

    assert_exit(&stack.reset(&[]), 0);
    let json = stack.dir.path().join("collective.json");
    // A file that does not exist yet: the normal case (the pvfs2 driver's delete of a missing
    // file returns an invalid error code).
    let out = stack.mpiio(
        2,
        &[
            "-b",
            "8MiB",
            "-i",
            "3",
            "-f",
            &stack.file("testfile"),
            "--json",
            json.to_str().unwrap(),
            "--format",
            "mpi-io-test",
        ],
    );
    assert_exit(&out, 0);
    assert!(
        common::stack::mpi_io_test_mb_per_s(&out, "Write") > 0.0
            && common::stack::mpi_io_test_mb_per_s(&out, "Read") > 0.0
    );
    let doc = common::read_json(&json);
    assert_eq!(doc["results"]["verification"]["bytes_checked"], 2 * 3 * 8 * 1024 * 1024);
    assert!(doc["mpi_library_version"].as_str().unwrap().contains("pvfs2"), "the stack's MPICH ran");
    let listed = stack.orangefs_tool("pvfs2-ls", &[&stack.mount()]);
    assert!(!listed.contains("testfile"), "the test file is deleted: {listed}");

    for extra in [&["--independent"][..], &["--file-per-process"], &["--sync"], &["--transfer-size", "1MiB"]]
    {
        let mut args = vec!["-b", "4MiB", "-i", "2"];
        args.extend_from_slice(extra);
        let file = stack.file("modes");
        args.extend(["-f", &file]);
        assert_exit(&stack.mpiio(2, &args), 0);
    }

    // IOR-hard, collective, and random unaligned small transfers, independent: verified, and
    // every transfer of every rank counted as an operation.
    for extra in [&[][..], &["--independent", "--order", "random", "--offset", "1"]] {
        let json = stack.dir.path().join("small.json");
        let file = stack.file("small");
        let mut args = vec!["-t", "47008", "-b", "47008", "-s", "50", "-i", "2", "-f", &file];
        args.extend(["--json", json.to_str().unwrap(), "--force"]);
        args.extend_from_slice(extra);
        assert_exit(&stack.mpiio(2, &args), 0);
        let doc = common::read_json(&json);
        assert_eq!(doc["results"]["verification"]["bytes_checked"], 2 * 50 * 2 * 47008, "{extra:?}");
        for phase in doc["results"]["phases"].as_array().unwrap() {
            assert_eq!(phase["operations"]["count"], 2 * 50 * 2, "{extra:?}");
            assert!(phase["operations"]["latency_p99_us"].as_f64().unwrap() > 0.0, "{extra:?}");
        }
    }

    // A flipped byte in the file on the server is found.
    let file = stack.file("kept");
    assert_exit(&stack.mpiio(2, &["-b", "1MiB", "-i", "2", "-f", &file, "--keep", "--phases", "write"]), 0);
    let server_path = stack.mount().join("kept");
    let local = stack.dir.path().join("kept.local");
    stack.orangefs_tool("pvfs2-cp", &[&server_path, &local]);
    let mut bytes = std::fs::read(&local).unwrap();
    assert_eq!(bytes.len(), 4 * 1024 * 1024);
    bytes[3 * 1024 * 1024 + 1000] ^= 0xff;
    std::fs::write(&local, bytes).unwrap();
    // OrangeFS 2.10 has no pvfs2-rm and pvfs2-cp does not overwrite: a copy under a new name.
    stack.orangefs_tool("pvfs2-cp", &[&local, &stack.mount().join("flipped")]);
    let out = stack.mpiio(2, &["-b", "1MiB", "-i", "2", "-f", &stack.file("flipped"), "--phases", "read"]);
    common::assert_fails_with(&out, 3, "verification failed");
    assert!(stderr(&out).contains("iteration 1, block of rank 1"), "{}", stderr(&out));

    // meta's file phases through ROMIO, beside files it did not make (it cannot list a
    // directory there): every item it made is removed, the others stay.
    let json = stack.dir.path().join("meta.json");
    let dir = stack.file("");
    let args = [
        "-F",
        "-n",
        "25",
        "-i",
        "2",
        "-w",
        "4KiB",
        "-e",
        "1KiB",
        "-d",
        &dir,
        "--json",
        json.to_str().unwrap(),
    ];
    assert_exit(&stack.run("meta", 2, &args), 0);
    let doc = common::read_json(&json);
    assert_eq!(doc["parameters"]["interface"], "mpi-io");
    let phases = doc["results"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    assert!(phases.iter().all(|p| p["items"] == 50 && p["latency"]["samples"] == 100), "{phases:?}");
    let listed = stack.orangefs_tool("pvfs2-ls", &[&stack.mount()]);
    assert!(!listed.contains("file.") && listed.contains("kept"), "{listed}");

    // The server stopped in the middle of the create phase: the job ends within --timeout (the
    // pvfs2 driver would wait 300 s per try) and says where it was; or, when libpvfs2 gives up
    // on the create first (its retries, ~10 s), ends with that error, not in a removal of the
    // items that would wait for the server until the --timeout.
    let meta = std::process::Command::new(stack.prefix.join("mpich/bin/mpiexec"))
        .args(["-n", "2"])
        .arg(stack.pvbench())
        .args(["meta", "-F", "-n", "1000000", "--timeout", "40s", "-d", &dir])
        .env("PVFS2TAB_FILE", stack.tab())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let creating = std::time::Instant::now();
    while !stack.orangefs_tool("pvfs2-ls", &[&stack.mount()]).contains("file.1.") {
        assert!(creating.elapsed() < Duration::from_secs(120), "no item made on the server");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_exit(&stack.reset(&["--stop"]), 0);
    let out = meta.wait_with_output().unwrap();
    println!("meta with the server stopped: {:?}\n{}", out.status, stderr(&out));
    let said = match out.status.code() {
        Some(124) => "was in the file creation phase, iteration 1 of 1, item ",
        Some(1) => "file creation phase, iteration 1 of 1, item ",
        _ => panic!("{:?}: {}", out.status, stderr(&out)),
    };
    assert!(stderr(&out).contains(said), "{}", stderr(&out));
    assert_exit(&stack.reset(&[]), 0);

    // A campaign: reset before every run, 2 groups x 2 repetitions, server stopped at the end.
    let results = stack.dir.path().join("results");
    let reset = format!("{} {}", repo().join("scripts/pvfs2-reset").display(), stack.reset_args().join(" "));
    let plan = stack.dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"real\"\nreps = 2\npvbench = {pvbench:?}\n\
             [[group]]\nname = \"dom0\"\nhosts = [\"localhost:2\"]\n[[group]]\nname = \"domU\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nname = \"pvfs2\"\nkind = \"mpiio\"\n\
             args = [\"-b\", \"2MiB\", \"-i\", \"2\", \"-f\", {file:?}, \"--pvfs2tab\", {tab:?}]\n\
             reset = {reset:?}\ncheck = \"{reset} --check\"\nstop = \"{reset} --stop\"\ntimeout = \"5m\"\n\
             [[overhead]]\nguest = \"domU\"\nhost = \"dom0\"\n",
            pvbench = stack.pvbench().to_str().unwrap(),
            file = stack.file("campaign"),
            tab = stack.tab().to_str().unwrap(),
        ),
    )
    .unwrap();
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "run"])
        .arg(&plan)
        .arg("--results")
        .arg(&results)
        .env("PATH", stack.path_env())
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    println!("campaign:\n{}{}", stdout(&out), stderr(&out));
    assert_exit(&out, 0);
    assert!(stdout(&out).starts_with("domU keeps "), "{}", stdout(&out));
    for run in ["dom0/rep-01", "dom0/rep-02", "domU/rep-01", "domU/rep-02"] {
        assert!(results.join(format!("pvfs2/{run}.json")).exists(), "{run} has a result");
        let log = std::fs::read_to_string(results.join(format!("pvfs2/{run}.log"))).unwrap();
        assert!(
            log.contains("wipe    ok") && log.contains("pvfs2-ping with"),
            "{run}: reset and ping:\n{log}"
        );
    }
    assert!(!stack.dir.path().join("server.pid").exists(), "the plan's stop stopped the server");
}
