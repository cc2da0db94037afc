//! The testbed with a real guest (testbed/study-vm.topology): vm3 a QEMU virtual machine behind
//! node7's bridge, end to end — up, `pvbench env` in the guest and on its host, one net pair
//! each way over TCP and over MPI, a pair whose guest rank stops ended by net's --timeout, one
//! file I/O cell on the guest's virtio disk, a small partdiff in the guest, down, and nothing
//! left behind. Prints how long each step took. Needs root, MPICH and qemu-system-x86_64
//! (scripts/test installs it); skips and says why otherwise.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::testbed::{Up, across, host, launch_on, testbed};
use common::*;
use serde_json::Value;

fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    let list = list.as_array().unwrap();
    list.iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("no {name} in {list:?}"))
}

fn pgrep(pattern: &str) -> String {
    String::from_utf8(Command::new("pgrep").args(["-af", pattern]).output().unwrap().stdout).unwrap()
}

/// Each step's duration, printed as it ends.
struct Steps(Instant);

impl Steps {
    fn done(&mut self, step: &str) {
        eprintln!("testbed_vm: {step}: {:.1} s", self.0.elapsed().as_secs_f64());
        self.0 = Instant::now();
    }
}

#[test]
fn a_real_guest_as_vm3() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || open_mpi() {
        eprintln!("skipped: the testbed needs root and MPICH's mpiexec");
        return;
    }
    if !Command::new("sh").args(["-c", "command -v qemu-system-x86_64"]).output().unwrap().status.success() {
        eprintln!("skipped: no qemu-system-x86_64 (apt-get install qemu-system-x86)");
        return;
    }
    let hosts_before = std::fs::read_to_string("/etc/hosts").unwrap();
    // The guest's image: built by this up when missing (and then removed by down), else kept.
    let image_cache = std::path::Path::new("/var/cache/pvbench-testbed-vm");
    let cache_before = image_cache.exists();
    let mut steps = Steps(Instant::now());
    let out = testbed(&["up", concat!(env!("CARGO_MANIFEST_DIR"), "/testbed/study-vm.topology")]);
    let _up = Up;
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("testbed: vm vm3 up"), "{}", stdout(&out));
    let accel = std::fs::read_to_string("/run/pvbench-testbed/vm/accel").unwrap();
    steps.done(&format!("up with vm3 booted ({})", accel.trim()));

    // The guest says it is one, with a virtio NIC and disk and a kernel of its own; its host
    // node is not that guest, and holds the guest's tap on its bridge.
    // Three ranks, two of them in namespaces: MPI_Finalize hung here in 2 of 3 jobs (UCX over
    // TCP to the slow guest) until pvbench bounded it.
    let env = across("node6,node7,vm3", 3, &["env"]);
    let (node7, vm3) = (host(&env, "node7"), host(&env, "vm3"));
    let virt = &vm3["virtualization"];
    assert_eq!(virt["guest"], true, "{virt}");
    let role = if accel.trim() == "kvm" { "kvm" } else { "qemu" };
    assert_eq!(virt["role"], role, "TCG is plain qemu, KVM kvm: {virt}");
    assert_ne!(node7["virtualization"]["role"], virt["role"], "the host is not the guest: {node7}");
    assert_ne!(node7["kernel"], vm3["kernel"], "a second kernel");
    let eth0 = named(&vm3["interfaces"], "eth0");
    assert_eq!((eth0["kind"].as_str(), eth0["driver"].as_str()), (Some("paravirtual"), Some("virtio_net")));
    let vda = named(&vm3["disks"], "vda");
    assert_eq!((vda["kind"].as_str(), vda["driver"].as_str()), (Some("paravirtual"), Some("virtio_blk")));
    let vif = named(&node7["interfaces"], "vif3.0");
    assert_eq!((vif["kind"].as_str(), vif["bridge"].as_str()), (Some("tap"), Some("xenbr0")), "{vif}");
    steps.done("env on node6, node7 and in vm3");

    // One pair each way, over TCP and over MPI (UCX on each side's own NIC).
    for transport in ["tcp", "mpi"] {
        let net = across(
            "node7,vm3",
            2,
            &["net", "--transport", transport, "--pairs", "0:1,1:0", "--bytes", "8MiB", "--warmup", "0s"],
        );
        let pairs = net["results"]["pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), 2);
        for pair in pairs {
            assert!(pair["median_mib_per_s"].as_f64().unwrap() > 1.0, "{transport}: {pair}");
        }
        steps.done(&format!("net node7 ⇄ vm3 over {transport}"));
    }

    // A guest rank that stops mid-stream: the host's rank ends the job within its --timeout,
    // naming the pair, instead of waiting for ever.
    // Stopped once the guest's rank is past MPI_Init (its SIGTERM handler is in place: under
    // TCG on a busy machine that takes anywhere from 5 to 30 s), and 5 s into its 60 s stream.
    let stopper = std::thread::spawn(|| {
        testbed(&[
            "exec",
            "vm3",
            "for i in $(seq 1200); do pid=$(pgrep -f '[p]vbench net') && \
               [ $(( 0x$(awk '/^SigCgt:/ { print $2 }' /proc/$pid/status) & 0x4000 )) -ne 0 ] && break; \
               sleep 0.1; done; sleep 5; kill -STOP $pid",
        ])
    });
    let started = Instant::now();
    let out = launch_on(
        "node7,vm3",
        2,
        &[
            "net",
            "--transport",
            "mpi",
            "--pairs",
            "0:1",
            "--duration",
            "1s",
            "--repeat",
            "60",
            "--timeout",
            "5s",
        ],
        Duration::from_secs(300),
    );
    assert_exit(&stopper.join().unwrap(), 0);
    assert_fails_with(&out, 124, "nothing moved within --timeout 5s");
    assert!(stderr(&out).contains("pair 0→1 (node7 → vm3)"), "{}", stderr(&out));
    // 27.6 s idle (mostly TCG's start of the guest's rank); a job that waited for the
    // stopped rank would run into launch_on's 300 s.
    assert!(started.elapsed() < Duration::from_secs(240), "ended after {:?}", started.elapsed());
    assert_eq!(testbed(&["exec", "vm3", "pgrep -f '[p]vbench net' || true"]).stdout, b"");
    steps.done("a stopped guest rank ended by net --timeout");

    // One file I/O cell on the guest's virtual disk (ext4 on a file of the host's disk).
    let fs = across(
        "vm3",
        1,
        &[
            "fs",
            "--dir",
            "/mnt",
            "--min-file",
            "2MiB",
            "--max-file",
            "2MiB",
            "--min-record",
            "64KiB",
            "--max-record",
            "64KiB",
            "--tests",
            "0",
        ],
    );
    let cells = fs["results"]["ranks"][0]["cells"].as_array().unwrap();
    assert!(!cells.is_empty() && cells.iter().all(|c| c["mib_per_s"].as_f64().unwrap() > 0.0), "{cells:?}");
    assert_eq!(fs["environment"]["hosts"][0]["disks"][0]["driver"], "virtio_blk");
    steps.done("fs on vm3's virtio disk");

    let partdiff = across("vm3", 1, &["partdiff", "1", "2", "16", "2", "2", "100"]);
    assert_eq!(partdiff["ranks"]["hosts"][0], "vm3");
    steps.done("partdiff in vm3");

    drop(_up);
    steps.done("down");
    assert_eq!(pgrep("qemu-system-x86_64 -name vm3"), "", "QEMU is gone");
    assert_eq!(pgrep("virtiofsd --socket-path=/run/pvbench-testbed"), "", "virtiofsd is gone");
    for gone in ["/run/pvbench-testbed/vm", "/var/tmp/pvbench-testbed-vm", "/run/pvbench-testbed/state"] {
        assert!(!std::path::Path::new(gone).exists(), "{gone} is left");
    }
    let namespaces = Command::new("ip").args(["netns", "list"]).output().unwrap().stdout;
    assert!(!String::from_utf8_lossy(&namespaces).contains("node7"), "namespaces left");
    assert_eq!(image_cache.exists(), cache_before, "the image cache as it was");
    let hosts_after = std::fs::read_to_string("/etc/hosts").unwrap();
    assert_eq!(hosts_after.trim_end(), hosts_before.trim_end(), "/etc/hosts as it was");
}
