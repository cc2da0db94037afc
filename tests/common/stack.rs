//! The real PVFS2 stack of `scripts/build-pvfs2-stack`, named by `PVBENCH_PVFS2_PREFIX`: the
//! tests that need it skip (and say why) without it, and rebuild pvbench against its MPICH
//! first, so that the code under test is this checkout's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The stack's prefix with pvbench built against it, or `None` with the reason printed.
pub fn prefix() -> Option<PathBuf> {
    let Some(prefix) = std::env::var_os("PVBENCH_PVFS2_PREFIX").map(PathBuf::from) else {
        println!("skipped: PVBENCH_PVFS2_PREFIX is not set (a stack built by scripts/build-pvfs2-stack)");
        return None;
    };
    for need in
        ["orangefs/sbin/pvfs2-server", "orangefs/bin/pvfs2-ping", "pvbench/build.env", "mpich/bin/mpiexec"]
    {
        assert!(prefix.join(need).exists(), "PVBENCH_PVFS2_PREFIX={} has no {need}", prefix.display());
    }
    let built = Command::new("bash")
        .current_dir(repo())
        .args(["-c", r#". "$1" && cargo build --release --quiet"#, "build"])
        .arg(prefix.join("pvbench/build.env"))
        .status()
        .unwrap();
    assert!(built.success(), "pvbench builds against the stack's MPICH");
    Some(prefix)
}

/// pvbench as built against the stack's MPICH.
pub fn pvbench(prefix: &Path) -> PathBuf {
    prefix.join("pvbench/target/release/pvbench")
}

/// The MB/s of a `Write bandwidth = …` / `Read bandwidth = …` line (`--format mpi-io-test`).
pub fn mpi_io_test_mb_per_s(out: &Output, phase: &str) -> f64 {
    super::stdout(out)
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{phase} bandwidth = "))?.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {phase} bandwidth line in {}", super::stdout(out)))
}
