//! `pvbench env` on the real machine, under the real launcher, and across network namespaces
//! that stand in for hosts (created and removed here).

mod common;

use std::process::Command;

use common::netns::{Hosts, may_create_namespaces};
use common::*;
use serde_json::Value;

fn env_json(out: &std::process::Output) -> Value {
    assert_exit(out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// `systemd-detect-virt ARGS`'s answer (it exits 1 for `none`).
fn systemd_detect_virt(args: &[&str]) -> String {
    let out =
        Command::new("systemd-detect-virt").args(args).output().expect("systemd-detect-virt is installed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An empty --json path is refused before anything is measured or printed.
#[test]
fn an_empty_json_path_is_a_usage_error_before_the_table() {
    let out = Command::new(pvbench()).args(["env", "--json", ""]).output().unwrap();
    assert_fails_with(&out, 2, "--json '': an empty path");
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}

/// This machine without a launcher: a KVM guest (CPUID says so, there is no DMI and no
/// /sys/hypervisor), in agreement with `systemd-detect-virt --vm`, fast.
#[test]
fn this_machine_is_a_kvm_guest_as_systemd_says() {
    let started = std::time::Instant::now();
    let out = Command::new(pvbench()).args(["env", "--json", "-"]).output().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let doc = env_json(&out);
    assert_eq!(doc["kind"], "env");
    assert_eq!(doc["environment"]["launcher"]["name"], "none");
    let host = &doc["environment"]["hosts"][0];
    let v = &host["virtualization"];
    let systemd_vm = systemd_detect_virt(&["--vm"]);
    assert_eq!(v["systemd_detect_virt"]["vm"], systemd_vm.as_str());
    assert_eq!(v["systemd_detect_virt"]["any"], systemd_detect_virt(&[]).as_str());
    assert_eq!(v["systemd_detect_virt"]["vm_agrees"], true, "{v}");
    assert_eq!(systemd_vm, "kvm", "the machine these tests were written on is a KVM guest");
    assert_eq!(v["role"], "kvm");
    assert_eq!(v["guest"], true);
    assert_eq!(v["decided_by"], "cpuid leaf 0x40000000 (vendor)");
    assert!(v["evidence"].as_array().unwrap().iter().any(|f| f["value"] == "KVMKVMKVM"), "{v}");
    assert_eq!(v["network_namespace"]["initial"], true);
    // A marker file without a container behind it is reported, not believed.
    if std::path::Path::new("/.dockerenv").exists() {
        assert_eq!(v["container"]["pid1"], "denies", "{v}");
        assert!(v["container"]["runtime"].is_null(), "{v}");
        assert!(v["container"]["evidence"].as_array().unwrap().iter().any(|f| f["source"] == "/.dockerenv"));
    }
    assert!(host["clocksource"].is_string());
    assert!(host["steal_since_boot_s"].as_f64().unwrap() >= 0.0);
    assert!(
        host["interfaces"].as_array().unwrap().iter().any(|i| i["name"] == "lo" && i["kind"] == "loopback")
    );
    // 0.035 s and 0.11 s idle: bounds ~30× and ~45× that, for a busy machine.
    assert!(doc["results"]["detection_s"].as_f64().unwrap() < 1.0, "{}", doc["results"]);
    assert!(elapsed < 5.0, "pvbench env took {elapsed:.2} s");
    // The human report goes to stderr when the JSON takes stdout.
    assert!(stderr(&out).contains("role           kvm (guest)"), "{}", stderr(&out));
    // This machine's own disk is a KVM guest's virtio disk, in the document and the report.
    let root_disk = host["disks"].as_array().unwrap().iter().find(|d| d["driver"] == "virtio_blk");
    let root_disk = root_disk.unwrap_or_else(|| panic!("no virtio disk in {}", host["disks"]));
    assert_eq!(root_disk["kind"], "paravirtual");
    let line = format!("disks          {} paravirtual virtio_blk", root_disk["name"].as_str().unwrap());
    assert!(stderr(&out).contains(&line), "{}", stderr(&out));
}

/// Debian's MPICH has ROMIO's ufs and nfs drivers and no pvfs2 driver; two ranks on one host
/// make one host entry that lists both.
#[test]
fn romio_drivers_of_debians_mpich() {
    if open_mpi() {
        return; // OMPIO has no ROMIO prefixes to probe
    }
    let doc = env_json(&mpiexec(2, &["env", "--json", "-"]));
    assert_eq!(doc["environment"]["launcher"]["name"], "hydra");
    let hosts = doc["environment"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0]["ranks"], serde_json::json!([0, 1]));
    assert!(hosts[0]["routes"].as_array().unwrap().is_empty(), "no other host to route to");
    let drivers = hosts[0]["romio_drivers"].as_array().unwrap();
    let supported = |prefix: &str| {
        let d =
            drivers.iter().find(|d| d["prefix"] == prefix).unwrap_or_else(|| panic!("{prefix} not probed"));
        d["supported"].as_bool().unwrap()
    };
    assert!(supported("ufs:"), "{drivers:?}");
    assert!(supported("nfs:"), "{drivers:?}");
    assert!(!supported("pvfs2:"), "{drivers:?}");
    assert!(!supported("lustre:"), "{drivers:?}");
    let ufs = drivers.iter().find(|d| d["prefix"] == "ufs:").unwrap();
    assert!(ufs["evidence"].as_str().unwrap().starts_with("MPI_ERR_NO_SUCH_FILE: "), "{ufs}");
    let pvfs2 = drivers.iter().find(|d| d["prefix"] == "pvfs2:").unwrap();
    assert_eq!(pvfs2["evidence"], "MPI_ERR_IO, as for a prefix no library has");
}

fn host<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let hosts = doc["environment"]["hosts"].as_array().unwrap();
    hosts.iter().find(|h| h["hostname"] == name).unwrap_or_else(|| panic!("no host {name} in {hosts:?}"))
}

fn interface<'a>(host: &'a Value, name: &str) -> &'a Value {
    let list = host["interfaces"].as_array().unwrap();
    list.iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("no interface {name} in {list:?}"))
}

#[test]
fn route_through_a_bridge_names_the_bridge_and_its_port() {
    if !may_create_namespaces() {
        return;
    }
    let hosts = Hosts::new("br", true);
    let doc = hosts.run("br0", &["env"]);
    let [a, b] = &hosts.names;
    assert_eq!(doc["environment"]["hosts"].as_array().unwrap().len(), 2);

    let host_a = host(&doc, a);
    assert_eq!(host_a["ranks"], serde_json::json!([0]));
    assert_eq!(host_a["virtualization"]["network_namespace"]["initial"], false);
    let route = &host_a["routes"][0];
    assert_eq!(route["peer_host"], b.as_str());
    assert_eq!(route["peer_address"], "198.18.1.2");
    assert_eq!(route["interface"], "br0");
    assert_eq!(route["source_address"], "198.18.1.1");
    let bridge = interface(host_a, "br0");
    assert_eq!(bridge["kind"], "bridge");
    assert_eq!(bridge["ports"], serde_json::json!(["a0"]));
    let port = interface(host_a, "a0");
    assert_eq!((&port["kind"], &port["bridge"]), (&Value::from("veth"), &Value::from("br0")));

    let host_b = host(&doc, b);
    assert_eq!(host_b["routes"][0]["interface"], "b0");
    assert_eq!(host_b["routes"][0]["peer_address"], "198.18.1.1");
    assert!(interface(host_b, "b0")["bridge"].is_null());
}

#[test]
fn route_over_a_plain_veth_pair_has_no_bridge() {
    if !may_create_namespaces() {
        return;
    }
    let hosts = Hosts::new("ve", false);
    let doc = hosts.run("a0", &["env"]);
    for (name, iface) in hosts.names.iter().zip(["a0", "b0"]) {
        let h = host(&doc, name);
        assert_eq!(h["routes"][0]["interface"], iface, "{h}");
        for i in h["interfaces"].as_array().unwrap() {
            assert!(i["bridge"].is_null() && i["kind"] != "bridge", "{i}");
        }
        assert_eq!(interface(h, iface)["kind"], "veth");
        assert!(interface(h, iface)["mtu_bytes"].as_u64().unwrap() >= 1280);
    }
}
