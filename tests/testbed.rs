//! The study's cluster on this machine (scripts/testbed), end to end: up, `pvbench env` over
//! every node, `pvbench net` across the bridge and to the shaped guest, `pvbench partdiff` on a
//! host and in the CPU-capped guest compared, down, and nothing left behind.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::testbed::{Up, across, host, study_campaign, testbed};
use common::*;
use serde_json::Value;

fn route_interface<'a>(from: &'a Value, to: &str) -> &'a str {
    let routes = from["routes"].as_array().unwrap();
    routes.iter().find(|r| r["peer_host"] == to).and_then(|r| r["interface"].as_str()).unwrap()
}

/// The guest link's tbf rate and its bucket's burst: no measurement may exceed it.
const GUEST_CAP_MBIT: f64 = 220.0;

fn namespaces() -> String {
    String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap()
}

#[test]
fn the_study_on_one_machine() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || open_mpi() {
        eprintln!("skipped: the testbed needs root and MPICH's mpiexec");
        return;
    }
    let hosts_before = std::fs::read_to_string("/etc/hosts").unwrap();
    let started = Instant::now();
    let out = testbed(&["up"]);
    assert_exit(&out, 0);
    let _up = Up;
    // Bounds that hold on a busy machine: up takes 0.33 s here, at most a tenth of this.
    assert!(started.elapsed() < Duration::from_secs(20), "up took {:?}", started.elapsed());
    let again = testbed(&["up"]);
    assert!(stdout(&again).contains("up already"), "{}", stdout(&again));

    // Where every number will come from: node7's way to node6 leaves through xenbr0, the
    // direct host's does not, the guest hangs off xenbr0 and is a namespace, not a domU.
    let env = across("node6,node7,node7-direct,vm3", 4, &["env"]);
    assert_eq!(route_interface(host(&env, "node7"), "node6"), "xenbr0");
    assert_eq!(route_interface(host(&env, "node7-direct"), "node6"), "eth0");
    let node7 = host(&env, "node7");
    let vif = node7["interfaces"].as_array().unwrap().iter().find(|i| i["name"] == "vif3.0").unwrap();
    assert_eq!(vif["bridge"], "xenbr0");
    let vm3 = host(&env, "vm3");
    assert_eq!(vm3["virtualization"]["network_namespace"]["initial"], false);
    assert_ne!(vm3["virtualization"]["role"], "xen-domU", "an emulation is never reported as a hypervisor");
    // What shapes the guest's way out: its tbf, as tc shows it, and no default route.
    let eth0 = vm3["interfaces"].as_array().unwrap().iter().find(|i| i["name"] == "eth0").unwrap();
    assert_eq!(eth0["qdiscs"][0]["kind"], "tbf", "{eth0}");
    assert_eq!(eth0["qdiscs"][0]["rate_bit_per_s"], 200_000_000, "{eth0}");
    assert_eq!(vm3["default_route"], Value::Null);

    // The network: the guest's pairs never above its shaped rate (+10 % for the bucket), the
    // hosts' far above it (~8000 Mbit/s idle). How close the guest comes to its cap depends on
    // the machine's spare CPU, so that is measured in scripts/bench-net, not asserted here.
    let net = across("node6,node7,vm3", 3, &["net", "--duration", "500ms", "--warmup", "200ms"]);
    for pair in net["results"]["pairs"].as_array().unwrap() {
        let mbit = pair["median_mbit_per_s"].as_f64().unwrap();
        let guest = (pair["sender"] == 2) != (pair["receiver"] == 2);
        if guest {
            assert!(
                mbit > 20.0 && mbit <= GUEST_CAP_MBIT,
                "{}→{}: {mbit} Mbit/s, shaped to 200",
                pair["sender"],
                pair["receiver"]
            );
        } else {
            assert!(mbit > 2.0 * GUEST_CAP_MBIT, "{}→{}: {mbit} Mbit/s", pair["sender"], pair["receiver"]);
        }
    }

    // The stand-in PVFS2 server reset inside node6 over `scripts/testbed exec` as
    // pvfs2-reset's ssh, and stopped.
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().display();
    let conf = scratch.path().join("fs.conf");
    std::fs::write(
        &conf,
        format!(
            "<Defaults>\n\tLogFile {dir}/server.log\n\tDataStorageSpace {dir}/storage\n\tMetadataStorageSpace {dir}/storage\n</Defaults>\n\
             <Aliases>\n\tAlias node6 tcp://node6:3334\n</Aliases>\n<Filesystem>\n\tName pvfs2-fs\n\tID 9\n</Filesystem>\n"
        ),
    )
    .unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let reset = |extra: &[&str]| {
        Command::new(format!("{repo}/scripts/pvfs2-reset"))
            .args(["-c", conf.to_str().unwrap(), "--all", "--ssh", &format!("{repo}/scripts/testbed exec")])
            .args([
                "--bin",
                &format!("{repo}/tests/pvfs2-standin"),
                "--pidfile",
                &format!("{dir}/server.pid"),
            ])
            .args(["--timeout", "10"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = reset(&[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("pvfs2-reset[node6]: ready   ok"), "reset in node6: {}", stdout(&out));
    assert_exit(&reset(&["--stop"]), 0);

    // The study as one campaign (testbed/study.toml): every family from node7, node7-direct
    // and vm3, interleaved; no servers here, so the MPI-IO stand-in, said so, and the PVFS2
    // small I/O and metadata left out.
    let results = scratch.path().join("study");
    let out = study_campaign(&results, &["--reference", "study-2008"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.starts_with("domU keeps ") && text.contains("of dom0-bridge's MPI-IO stand-in (no PVFS2 server"),
        "{text}"
    );
    assert!(text.contains("study-2008: domU kept "), "{text}");
    for left_out in ["pvfs2", "pvfs2-small", "pvfs2-meta"] {
        let line = format!("benchmark {left_out} left out: its only_if failed");
        assert!(stderr(&out).contains(&line), "{}", stderr(&out));
    }
    // Beyond bandwidth: round trips and MPI latency as times the host's, each phase of mdtest.
    assert!(text.contains(" round trip (") && text.contains(" MPI latency ("), "{text}");
    assert!(text.contains("metadata (mdtest's phases, local) ") && text.contains(" file create"), "{text}");
    let order = campaign_order(&results);
    assert_eq!(order.len(), 30, "{order:?}");
    assert_eq!(
        &order[..4],
        [
            "mpiio-standin/dom0-bridge/rep-01",
            "mpiio-standin/dom0-nobridge/rep-01",
            "mpiio-standin/domU/rep-01",
            "net/dom0-bridge/rep-01"
        ]
    );
    assert_eq!(order[15], "mpiio-standin/dom0-bridge/rep-02", "the second round after the first");
    for (run, hosts) in [
        ("net/domU/rep-01", vec!["node6", "vm3"]),
        ("meta/domU/rep-02", vec!["vm3"]),
        ("meta/dom0-bridge/rep-01", vec!["node7"]),
        ("fs/dom0-nobridge/rep-02", vec!["node7-direct"]),
        ("partdiff/domU/rep-02", vec!["vm3"]),
        ("mpiio-standin/dom0-bridge/rep-01", vec!["node7", "node7"]),
    ] {
        let doc = read_json(&results.join(format!("{run}.json")));
        assert_eq!(doc["ranks"]["hosts"], serde_json::json!(hosts), "{run}");
    }
    // The guest's 200 Mbit/s against the host's link: the network figure says so.
    let overhead = read_json(&results.join("overhead.json"));
    let figures = overhead["pairs"][0]["figures"].as_array().unwrap();
    let net = figures.iter().find(|f| f["benchmark"] == "net" && f["metric"] == "throughput").unwrap();
    let as_mbit = |field: &str| net[field].as_f64().unwrap() * 1048576.0 * 8.0 / 1e6;
    assert!(as_mbit("guest_mean") <= GUEST_CAP_MBIT, "{net}");
    assert!(as_mbit("host_mean") > 2.0 * GUEST_CAP_MBIT, "{net}");
    assert!(results.join("report.html").is_file());

    // Local file I/O on a host and in the guest at once: one sweep per rank.
    let scratch = tempfile::tempdir().unwrap();
    let fs = across(
        "node7,vm3",
        2,
        &[
            "fs",
            "--dir",
            scratch.path().to_str().unwrap(),
            "--min-file",
            "1MiB",
            "--max-file",
            "2MiB",
            "--min-record",
            "64KiB",
            "--max-record",
            "64KiB",
            "--tests",
            "0,1",
        ],
    );
    let sweeps = fs["results"]["ranks"].as_array().unwrap();
    assert_eq!((sweeps[0]["host"].as_str(), sweeps[1]["host"].as_str()), (Some("node7"), Some("vm3")));
    assert!(sweeps.iter().all(|s| s["cells"].as_array().unwrap().len() == 2 * 4), "{sweeps:?}");

    // CPU: partdiff on the hosts and in the guest capped at half a CPU, compared.
    let results = tempfile::tempdir().unwrap();
    for (group, node) in [("dom0-bridge", "node7"), ("dom0-nobridge", "node7-direct"), ("domU", "vm3")] {
        for rep in 0..4 {
            let doc = across(node, 1, &["partdiff", "1", "2", "100", "2", "2", "2000", "--label", group]);
            let path = results.path().join(format!("{group}-{rep}.json"));
            std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
        }
    }
    let out = Command::new(pvbench())
        .args(["compare", results.path().to_str().unwrap(), "--baseline", "dom0-bridge", "--format", "json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let comparison: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rate = comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "mlup_per_s" && r["group"] == "domU")
        .unwrap();
    assert!(rate["ratio"]["value"].as_f64().unwrap() > 0.0, "{rate}");
    // The guest's cap is the mechanism, asserted as such: how much of a CPU a host has to
    // spare beside it depends on the machine's load (the ratio, 0.43 here idle, is measured by
    // scripts/demo's campaign).
    let cgroup = testbed(&["exec", "vm3", "cat /proc/self/cgroup"]);
    assert!(stdout(&cgroup).lines().any(|l| l.ends_with(":/pvbench-testbed/vm3")), "{}", stdout(&cgroup));
    let read = |file: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/pvbench-testbed/vm3/{file}"));
    assert_eq!(
        (read("cpu.cfs_quota_us").unwrap().trim(), read("cpu.cfs_period_us").unwrap().trim()),
        ("50000", "100000")
    );

    drop(_up);
    let hosts_after = std::fs::read_to_string("/etc/hosts").unwrap();
    assert_eq!(hosts_after.trim_end(), hosts_before.trim_end(), "/etc/hosts as it was");
    for name in ["node6", "node7", "vm3"] {
        assert!(!namespaces().lines().any(|l| l.split_whitespace().next() == Some(name)), "{name} left");
    }
    assert!(!Path::new("/sys/fs/cgroup/cpu/pvbench-testbed").exists());
    assert!(!Command::new("ip").args(["link", "show", "pvtb0"]).output().unwrap().status.success());
}
