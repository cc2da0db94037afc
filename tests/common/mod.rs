//! Helpers for integration tests: the real binary under the real `mpiexec`.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// A hang is a failure: every job gets this long.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

pub fn pvbench() -> &'static str {
    env!("CARGO_BIN_EXE_pvbench")
}

/// Runs `pvbench ARGS` under `mpiexec -n RANKS` and returns its output (panics on a hang).
pub fn mpiexec(ranks: u32, args: &[&str]) -> Output {
    mpiexec_in(ranks, args, None)
}

pub fn mpiexec_in(ranks: u32, args: &[&str], dir: Option<&Path>) -> Output {
    let mut cmd = assert_cmd::Command::new("mpiexec");
    cmd.arg("-n").arg(ranks.to_string()).arg(pvbench()).args(args).timeout(JOB_TIMEOUT);
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

/// Starts `mpiexec -n RANKS pvbench ARGS`, waits until `ready()` holds, sends `signal` (a name
/// such as `INT`) to mpiexec, which forwards it to every rank, and returns the job's output.
pub fn interrupt_job(ranks: u32, args: &[&str], signal: &str, ready: impl Fn() -> bool) -> Output {
    let child = std::process::Command::new("mpiexec")
        .arg("-n")
        .arg(ranks.to_string())
        .arg(pvbench())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpiexec runs");
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    while !ready() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent =
        std::process::Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(sent.unwrap().success(), "kill -{signal}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    rx.recv_timeout(JOB_TIMEOUT).expect("the job ends after the signal").expect("mpiexec output")
}
