//! scripts/testbed from the tests: up and down, and pvbench launched into its nodes.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::{assert_exit, pvbench, stdout};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

pub fn testbed(args: &[&str]) -> Output {
    Command::new(format!("{REPO}/scripts/testbed")).args(args).output().unwrap()
}

/// Takes the testbed down however the test ends.
pub struct Up;

impl Drop for Up {
    fn drop(&mut self) {
        let _ = testbed(&["down"]);
    }
}

/// `pvbench ARGS` with ranks placed on `hosts` by MPICH's launcher through the testbed's, at
/// most `limit`.
pub fn launch_on(hosts: &str, ranks: u32, args: &[&str], limit: Duration) -> Output {
    assert_cmd::Command::new("mpiexec")
        .args(["-launcher", "ssh", "-launcher-exec", &format!("{REPO}/scripts/testbed-launch")])
        .args(["-iface", "pvtb0", "-hosts", hosts, "-n", &ranks.to_string(), pvbench()])
        .args(args)
        .timeout(limit)
        .output()
        .unwrap()
}

/// `pvbench ARGS --json -` on `hosts`: its document.
pub fn across(hosts: &str, ranks: u32, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--json", "-"]);
    let out = launch_on(hosts, ranks, &args, Duration::from_secs(300));
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

/// The environment of host `name` in a document.
pub fn host<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let hosts = doc["environment"]["hosts"].as_array().unwrap();
    hosts.iter().find(|h| h["hostname"] == name).unwrap_or_else(|| panic!("no {name} in {hosts:?}"))
}

/// `pvbench campaign run testbed/study.toml` into `results`: 2 rounds, small sizes, and `sets`.
pub fn study_campaign(results: &std::path::Path, sets: &[&str]) -> Output {
    let out = assert_cmd::Command::new(pvbench())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["campaign", "run", "testbed/study.toml", "--reps", "2", "--results"])
        .arg(results)
        .args(["--set", "block=2MiB", "--set", "net_seconds=1", "--set", "fs_file=4MiB"])
        .args(["--set", "partdiff_iterations=50", "--set", "meta_items=50", "--set", "small_segments=20"])
        .args(["--set", "latency_iterations=100"])
        .args(sets)
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap();
    println!("campaign:\n{}{}", stdout(&out), super::stderr(&out));
    out
}
