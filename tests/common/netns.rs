//! Network namespaces standing in for hosts, joined by a veth pair (optionally through a
//! bridge, optionally shaped with `tc tbf`), with one rank in each under MPICH's mpiexec and
//! scripts/testbed-launch. Everything is removed on drop.

use std::process::{Command, Output};

use super::{assert_exit, open_mpi, pvbench};

/// Network namespaces standing in for two hosts, removed on drop.
pub struct Hosts {
    pub names: [String; 2],
}

fn ip_tool(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn ip(args: &[&str]) {
    ip_tool("ip", args);
}

impl Hosts {
    /// Two namespaces joined by a veth pair (`a0` in the first, `b0` in the second); with
    /// `bridge`, the first one's end is a port of a bridge `br0` that holds its address, as
    /// Xen's dom0 holds its own on `xenbr0`.
    pub fn new(tag: &str, bridge: bool) -> Self {
        let pid = std::process::id();
        let names = [format!("pvbt{pid}{tag}a"), format!("pvbt{pid}{tag}b")];
        let hosts = Hosts { names };
        let [a, b] = &hosts.names;
        ip(&["netns", "add", a]);
        ip(&["netns", "add", b]);
        ip(&["-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "b0", "netns", b]);
        let mut up_a = vec!["lo", "a0"];
        let a_address_on = if bridge {
            ip(&["-n", a, "link", "add", "br0", "type", "bridge"]);
            ip(&["-n", a, "link", "set", "a0", "master", "br0"]);
            up_a.push("br0");
            "br0"
        } else {
            "a0"
        };
        ip(&["-n", a, "addr", "add", "198.18.1.1/24", "dev", a_address_on]);
        ip(&["-n", b, "addr", "add", "198.18.1.2/24", "dev", "b0"]);
        for link in up_a {
            ip(&["-n", a, "link", "set", link, "up"]);
        }
        for link in ["lo", "b0"] {
            ip(&["-n", b, "link", "set", link, "up"]);
        }
        hosts
    }

    /// `pvbench ARGS` with one rank in each namespace, started by MPICH's mpiexec inside the
    /// first (its control connection runs over the link under test, `-iface`).
    pub fn launch(&self, iface: &str, args: &[&str]) -> Output {
        let launch = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testbed-launch");
        let hosts = self.names.join(",");
        assert_cmd::Command::new("ip")
            .args(["netns", "exec", &self.names[0], "mpiexec", "-launcher", "ssh", "-launcher-exec", launch])
            .args(["-iface", iface, "-hosts", &hosts, "-n", "2", pvbench()])
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap()
    }

    /// As [`Hosts::launch`], with `--json -`: the document.
    pub fn run(&self, iface: &str, args: &[&str]) -> serde_json::Value {
        let mut full = args.to_vec();
        full.extend(["--json", "-"]);
        let out = self.launch(iface, &full);
        assert_exit(&out, 0);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// Caps both directions of the link at `rate` (tc's syntax, e.g. `200mbit`) with a token
    /// bucket on each end's egress.
    pub fn shape(&self, rate: &str) {
        for (ns, dev) in [(&self.names[0], "a0"), (&self.names[1], "b0")] {
            ip_tool(
                "tc",
                &[
                    "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", "64kb",
                    "latency", "50ms",
                ],
            );
        }
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

pub fn may_create_namespaces() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || open_mpi() {
        eprintln!("skipped: needs root and MPICH's mpiexec");
    }
    root && !open_mpi()
}
