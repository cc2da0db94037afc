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
