//! pvbench started by the launcher of another MPI (MPICH's build under Open MPI's mpiexec, or
//! Open MPI's under MPICH's): every process would be a singleton measuring alone. Refused on
//! every process with one line naming both sides, exit 2 (as srun without a PMI plugin).

mod common;

use std::time::Duration;

use common::{assert_exit, open_mpi, pvbench, stderr};

/// The other MPI's launcher, and what the refusal calls it and the MPI pvbench is built for.
fn foreign_launcher() -> (Vec<&'static str>, &'static str, &'static str) {
    if open_mpi() {
        (vec!["mpiexec.mpich"], "MPICH's mpiexec (hydra)", "Open MPI")
    } else {
        (vec!["mpiexec.openmpi", "--allow-run-as-root", "--oversubscribe"], "Open MPI's mpiexec", "MPICH")
    }
}

fn installed(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v \"$1\" > /dev/null", "_", program])
        .status()
        .is_ok_and(|s| s.success())
}

fn run(launcher: &[&str], args: &[&str]) -> std::process::Output {
    let output = assert_cmd::Command::new(launcher[0])
        .args(&launcher[1..])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("the launcher runs");
    assert!(output.status.code().is_some(), "the job did not end on its own: {}", stderr(&output));
    output
}

#[test]
fn another_mpis_launcher_is_refused_on_every_process_naming_both() {
    let (launcher, launcher_name, built_for) = foreign_launcher();
    if !installed(launcher[0]) {
        eprintln!("skipped: {} is not installed", launcher[0]);
        return;
    }
    let expected = format!(
        "pvbench: error: {launcher_name} started 2 processes, but this pvbench is built for {built_for}: \
         each is an MPI job of its own (1 rank)"
    );

    let job = run(&launcher, &["-n", "2", pvbench(), "env"]);
    assert_exit(&job, 2);
    let err = stderr(&job);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert!(!errors.is_empty() && errors.iter().all(|l| l.starts_with(&expected)), "{err}");

    // Each process's own exit code: a shell around it records it, so that the launcher does
    // not end the other process when the first leaves.
    let dir = tempfile::tempdir().unwrap();
    let record = "\"$0\" env 2> \"$1/stderr.$$\"; echo $? > \"$1/exit.$$\"";
    let job = run(&launcher, &["-n", "2", "sh", "-c", record, pvbench(), dir.path().to_str().unwrap()]);
    assert_exit(&job, 0);
    let mut codes = Vec::new();
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap().to_string_lossy().starts_with("exit.") {
            codes.push(text.trim().to_string());
        } else {
            lines.push(text);
        }
    }
    assert_eq!(codes, ["2", "2"], "every process leaves with the usage error's code");
    for text in lines {
        assert_eq!(text.lines().count(), 1, "one line: {text}");
        assert!(text.starts_with(&expected), "{text}");
    }
}
