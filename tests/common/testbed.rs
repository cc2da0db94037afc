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
