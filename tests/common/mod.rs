//! Helpers for integration tests: the real binary under the real `mpiexec`.

#![allow(dead_code)] // each test crate uses its own subset

pub mod browser;
pub mod netns;
pub mod stack;
pub mod standin;
pub mod testbed;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// A hang is a failure: every job gets this long.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

pub fn pvbench() -> &'static str {
    env!("CARGO_BIN_EXE_pvbench")
}

/// True when the tests run under Open MPI (`PVBENCH_TEST_MPI=openmpi`, with pvbench built
/// against it): its `mpirun`, and OMPIO instead of ROMIO for MPI-IO.
pub fn open_mpi() -> bool {
    std::env::var("PVBENCH_TEST_MPI").is_ok_and(|v| v == "openmpi")
}

/// The launcher and its options: MPICH's `mpiexec` (hydra), or Open MPI's `mpirun` named
/// explicitly (Debian's alternatives may point `mpiexec` at either), as root and beyond the
/// core count.
pub fn launcher() -> Vec<&'static str> {
    if open_mpi() {
        vec!["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe"]
    } else {
        vec!["mpiexec"]
    }
}

/// A command that runs `pvbench` under the launcher with `ranks` ranks.
pub fn launch(ranks: u32) -> std::process::Command {
    let launcher = launcher();
    let mut cmd = std::process::Command::new(launcher[0]);
    cmd.args(&launcher[1..]).arg("-n").arg(ranks.to_string()).arg(pvbench());
    cmd
}

/// Runs `pvbench ARGS` under `mpiexec -n RANKS` and returns its output (panics on a hang).
pub fn mpiexec(ranks: u32, args: &[&str]) -> Output {
    mpiexec_in(ranks, args, None)
}

pub fn mpiexec_in(ranks: u32, args: &[&str], dir: Option<&Path>) -> Output {
    let mut cmd = assert_cmd::Command::from_std(launch(ranks));
    cmd.args(args).timeout(JOB_TIMEOUT);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let output = cmd.output().expect("mpiexec runs");
    assert!(
        output.status.code().is_some(),
        "job did not finish on its own (hang or signal, {:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it is wrong.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output));
}

/// Asserts a failure: the exit code and exactly one error line naming `needle` on stderr.
#[track_caller]
pub fn assert_fails_with(output: &Output, code: i32, needle: &str) {
    assert_exit(output, code);
    let err = stderr(output);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "expected one error line, got:\n{err}");
    assert!(errors[0].contains(needle), "error line lacks {needle:?}: {}", errors[0]);
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("result file exists");
    serde_json::from_str(&text).expect("result is valid JSON")
}

/// Who gets the signal in [`interrupt_job`]: mpiexec (Ctrl-C: hydra forwards it to every
/// rank) or the ranks themselves (as a batch system's kill does).
#[derive(Clone, Copy)]
pub enum SignalTo {
    Mpiexec,
    Ranks,
    /// One rank only (a node or guest that dies).
    OneRank,
}

/// The pvbench processes below `pid` (mpiexec → hydra_pmi_proxy → ranks).
fn ranks_below(pid: u32) -> Vec<u32> {
    let parent_of = |p: u32| -> Option<(u32, String)> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
        Some((rest.split_whitespace().nth(1)?.parse().ok()?, name.to_string()))
    };
    let all: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| parent_of(p).map(|(ppid, name)| (p, ppid, name)))
        .collect();
    let mut below = vec![pid];
    let mut i = 0;
    while i < below.len() {
        let parent = below[i];
        below.extend(all.iter().filter(|(_, ppid, _)| *ppid == parent).map(|(p, _, _)| *p));
        i += 1;
    }
    all.iter().filter(|(p, _, name)| below.contains(p) && name == "pvbench").map(|(p, _, _)| *p).collect()
}

/// Whether process `pid` catches SIGINT and SIGTERM: pvbench installs its handlers after
/// MPI_Init, so before that a signal meant for pvbench finds a process that is not yet it.
fn catches_int_and_term(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    let caught = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).map(str::trim);
    let mask = caught.and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(0);
    let bit = |signal: u32| 1u64 << (signal - 1);
    mask & bit(libc::SIGINT as u32) != 0 && mask & bit(libc::SIGTERM as u32) != 0
}

/// Starts `mpiexec -n RANKS pvbench ARGS`, waits until every rank runs with its signal
/// handlers in place and then until `ready()` holds (never a fixed sleep: a busy machine may
/// take seconds to start the ranks), sends `signal` (a name such as `INT`) to mpiexec or to
/// every rank, and returns the job's output.
pub fn interrupt_job(
    ranks: u32,
    args: &[&str],
    signal: &str,
    to: SignalTo,
    ready: impl Fn() -> bool,
) -> Output {
    let child = launch(ranks)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpiexec runs");
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    let started = || {
        let below = ranks_below(child.id());
        below.len() == ranks as usize && below.into_iter().all(catches_int_and_term)
    };
    while !(started() && ready()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let targets = match to {
        SignalTo::Mpiexec => vec![child.id()],
        SignalTo::Ranks => ranks_below(child.id()),
        SignalTo::OneRank => ranks_below(child.id()).into_iter().take(1).collect(),
    };
    assert!(!targets.is_empty(), "no process to signal");
    for pid in targets {
        let sent = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
        assert!(sent.unwrap().success(), "kill -{signal} {pid}");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    rx.recv_timeout(JOB_TIMEOUT).expect("the job ends after the signal").expect("mpiexec output")
}

/// The environment block every result carries: this one machine (one host holding every
/// rank), its role, and the CPU steal of the measured phase.
pub fn assert_environment(doc: &serde_json::Value, ranks: u32) {
    assert_eq!(doc["schema_version"], 3);
    let env = &doc["environment"];
    let expected_launcher = if open_mpi() { "open-mpi" } else { "hydra" };
    assert_eq!(env["launcher"]["name"], expected_launcher, "{}", env["launcher"]);
    let hosts = env["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{env}");
    let host = &hosts[0];
    assert_eq!(host["ranks"], serde_json::json!((0..ranks).collect::<Vec<_>>()));
    assert!(host["kernel"].as_str().unwrap().starts_with("Linux"));
    assert!(host["virtualization"]["role"].is_string());
    assert!(!host["virtualization"]["evidence"].as_array().unwrap().is_empty());
    assert!(host["interfaces"].as_array().unwrap().iter().any(|i| i["name"] == "lo"));
    let steal = &host["steal_during_run"];
    assert!(steal["seconds"].as_f64().unwrap() >= 0.0, "{host}");
    assert!((0.0..=100.0).contains(&steal["share_percent"].as_f64().unwrap()));
    assert!(host.get("romio_drivers").is_none(), "only pvbench env probes ROMIO");
}

/// The runs of the campaign in `results`, in the order they ran (its manifest's attempts).
pub fn campaign_order(results: &Path) -> Vec<String> {
    read_json(&results.join("campaign.json"))["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Writes a script (or any file) at `path` and makes it executable.
pub fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
