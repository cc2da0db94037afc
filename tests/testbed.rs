//! The study's cluster on this machine (scripts/testbed), end to end: up, `pvbench env` over
//! every node, `pvbench net` across the bridge and to the shaped guest, `pvbench partdiff` on a
//! host and in the CPU-capped guest compared, down, and nothing left behind.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::testbed::{Up, across, host, testbed};
use common::*;
use serde_json::Value;

fn route_interface<'a>(from: &'a Value, to: &str) -> &'a str {
    let routes = from["routes"].as_array().unwrap();
    routes.iter().find(|r| r["peer_host"] == to).and_then(|r| r["interface"].as_str()).unwrap()
}

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
    assert!(started.elapsed() < Duration::from_secs(2), "up took {:?}", started.elapsed());
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

    // The network: the guest's pairs at its shaped rate, the hosts' far above it.
    let net = across("node6,node7,vm3", 3, &["net", "--duration", "500ms", "--warmup", "200ms"]);
    for pair in net["results"]["pairs"].as_array().unwrap() {
        let mbit = pair["median_mbit_per_s"].as_f64().unwrap();
        let guest = (pair["sender"] == 2) != (pair["receiver"] == 2);
        if guest {
            assert!(
                (170.0..=220.0).contains(&mbit),
                "{}→{}: {mbit} Mbit/s, shaped to 200",
                pair["sender"],
                pair["receiver"]
            );
        } else {
            assert!(mbit > 1000.0, "{}→{}: {mbit} Mbit/s", pair["sender"], pair["receiver"]);
        }
    }

    // The study's campaign across the client groups, launched into the nodes, the PVFS2 server
    // (the tests' stand-in) reset inside node6 before every run, over `scripts/testbed exec`
    // as pvfs2-reset's ssh, and stopped at the end.
    let campaign = tempfile::tempdir().unwrap();
    let testfile = campaign.path().join("testfile");
    let dir = campaign.path().display();
    let conf = campaign.path().join("fs.conf");
    std::fs::write(
        &conf,
        format!(
            "<Defaults>\n\tLogFile {dir}/server.log\n\tDataStorageSpace {dir}/storage\n\tMetadataStorageSpace {dir}/storage\n</Defaults>\n\
             <Aliases>\n\tAlias node6 tcp://node6:3334\n</Aliases>\n<Filesystem>\n\tName pvfs2-fs\n\tID 9\n</Filesystem>\n"
        ),
    )
    .unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let reset = format!(
        "{repo}/scripts/pvfs2-reset -c {} --all --ssh '{repo}/scripts/testbed exec' --bin {repo}/tests/pvfs2-standin --pidfile {dir}/server.pid --timeout 10",
        conf.display()
    );
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/run-campaign"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--scenario", "dom0-bridge:hostfiles/testbed/dom0-bridge:2"])
        .args(["--scenario", "dom0-nobridge:hostfiles/testbed/dom0-nobridge:2"])
        .args(["--scenario", "domU:hostfiles/testbed/domU:1"])
        .args(["--reps", "2", "--reset", &reset, "--stop-at-end", "--pvbench", pvbench()])
        .args(["--results", campaign.path().join("results").to_str().unwrap()])
        .args(["--launcher", "mpiexec -launcher ssh -launcher-exec scripts/testbed-launch -iface pvtb0 -f {hostfile} -n {ranks}"])
        .args(["--", "-b", "1MiB", "-i", "2", "-f", testfile.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    for (group, ranks_host) in [("dom0-bridge", "node7"), ("dom0-nobridge", "node7-direct"), ("domU", "vm3")]
    {
        for rep in 1..=2 {
            let doc = read_json(&campaign.path().join(format!("results/{group}/rep-{rep:02}.json")));
            assert_eq!(doc["ranks"]["hosts"][0], ranks_host, "{group}");
        }
    }
    assert!(stdout(&out).contains("ratios to \"dom0-bridge\""), "{}", stdout(&out));
    let log = std::fs::read_to_string(campaign.path().join("results/domU/rep-01.log")).unwrap();
    assert!(log.contains("pvfs2-reset[node6]: ready   ok"), "the server was reset in node6: {log}");
    assert!(stderr(&out).contains("stopping the server"), "{}", stderr(&out));

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
    assert_eq!(rate["ratio"]["verdict"], "lower", "the guest's CPU is capped at half a CPU: {rate}");

    drop(_up);
    let hosts_after = std::fs::read_to_string("/etc/hosts").unwrap();
    assert_eq!(hosts_after.trim_end(), hosts_before.trim_end(), "/etc/hosts as it was");
    for name in ["node6", "node7", "vm3"] {
        assert!(!namespaces().lines().any(|l| l.split_whitespace().next() == Some(name)), "{name} left");
    }
    assert!(!Path::new("/sys/fs/cgroup/cpu/pvbench-testbed").exists());
    assert!(!Command::new("ip").args(["link", "show", "pvtb0"]).output().unwrap().status.success());
}
