//! What machine this is, seen from inside: host or guest and the evidence for it, the clock
//! and CPU steal, the network path to the other hosts, the MPI launcher. Everything read from
//! files goes through a [`Probe`]'s root directory, so tests hand it a fake `/proc` and `/sys`;
//! the few system-call facts (CPUID, addresses, routes, ethtool) go through the probe too.

pub mod cpu;
pub mod disk;
#[cfg(test)]
mod fixture;
mod launcher;
pub mod net;
mod sys;
pub mod virt;

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use cpu::{CpuTimes, Steal};
pub use launcher::{Launcher, SlurmJob, Started, Starter};
pub use net::{Interface, InterfaceAddress, KernelRoute, Offloads, PeerRoute};
pub use sys::Cpuid;
pub use virt::{Fact, Virtualization};

/// Where facts about this machine come from.
pub trait Probe {
    /// The directory standing for `/`.
    fn root(&self) -> &Path;
    fn cpuid(&self) -> Option<Cpuid>;
    fn addresses(&self) -> Vec<InterfaceAddress>;
    fn route_to(&self, destination: IpAddr) -> Result<KernelRoute, String>;
    fn offloads(&self, interface: &str) -> Offloads;
    fn ethtool_driver(&self, interface: &str) -> Option<String>;
    /// `(systemd-detect-virt --vm, systemd-detect-virt)`, where it is installed.
    fn systemd_detect_virt(&self) -> Option<(String, String)>;
    /// `tc -j OBJECT show dev INTERFACE` (OBJECT `qdisc` or `class`), where tc is installed.
    fn traffic_control(&self, _object: &str, _interface: &str) -> Option<String> {
        None
    }

    /// A file below the root, trimmed; `None` when missing, unreadable or empty.
    fn read(&self, relative: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.root().join(relative)).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// The running machine.
pub struct Live;

impl Probe for Live {
    fn root(&self) -> &Path {
        Path::new("/")
    }

    fn cpuid(&self) -> Option<Cpuid> {
        sys::cpuid()
    }

    fn addresses(&self) -> Vec<InterfaceAddress> {
        sys::interface_addresses().unwrap_or_default()
    }

    fn route_to(&self, destination: IpAddr) -> Result<KernelRoute, String> {
        sys::route_to(destination).map_err(|e| e.to_string())
    }

    fn offloads(&self, interface: &str) -> Offloads {
        sys::offloads(interface)
    }

    fn ethtool_driver(&self, interface: &str) -> Option<String> {
        sys::driver(interface)
    }

    fn systemd_detect_virt(&self) -> Option<(String, String)> {
        // It prints its answer and exits non-zero for "none": the text is the answer.
        let run = |args: &[&str]| {
            let out = std::process::Command::new("systemd-detect-virt").args(args).output().ok()?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (!text.is_empty()).then_some(text)
        };
        Some((run(&["--vm"])?, run(&[])?))
    }

    fn traffic_control(&self, object: &str, interface: &str) -> Option<String> {
        let out =
            std::process::Command::new("tc").args(["-j", object, "show", "dev", interface]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The environment block of every result: the launcher, and one entry per host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    pub launcher: Launcher,
    pub hosts: Vec<Host>,
}

/// One machine (or network namespace: see `virtualization.network_namespace`) and its ranks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    /// The ranks that ran here.
    pub ranks: Vec<u32>,
    pub kernel: String,
    /// The kernel's boot id: a campaign marks a run after a host rebooted.
    #[serde(default)]
    pub boot_id: Option<String>,
    pub cpu_model: Option<String>,
    pub logical_cpus: u32,
    pub memory_total_bytes: Option<u64>,
    pub clocksource: Option<String>,
    /// CPU frequency driver and governor; absent without cpufreq.
    #[serde(default)]
    pub frequency_scaling: Option<cpu::FrequencyScaling>,
    /// Steal since boot, as `/proc/stat` counts it.
    pub steal_since_boot_s: Option<f64>,
    /// Steal while the measured phase ran (absent for `pvbench env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_during_run: Option<Steal>,
    pub virtualization: Virtualization,
    pub interfaces: Vec<Interface>,
    /// Block devices (a guest's virtio disk shows as `paravirtual`).
    #[serde(default)]
    pub disks: Vec<disk::Disk>,
    /// The IPv4 default route.
    #[serde(default)]
    pub default_route: Option<net::DefaultRoute>,
    /// The kernel's route to each other host of the run.
    pub routes: Vec<PeerRoute>,
    /// ROMIO drivers of the MPI library (only `pvbench env` probes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub romio_drivers: Option<Vec<RomioDriver>>,
}

/// Whether the MPI library opens files with one ROMIO prefix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RomioDriver {
    pub prefix: String,
    pub supported: bool,
    /// The error class (and MPI's message) the probe got, or `success`.
    pub evidence: String,
}

/// What tells hosts apart, and what peers need to route to a host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub hostname: String,
    /// Boot id, network namespace and host name: ranks in two network namespaces of one
    /// machine are two hosts, as the testbed intends.
    pub key: String,
    pub addresses: Vec<InterfaceAddress>,
}

impl Identity {
    pub fn detect(probe: &dyn Probe) -> Self {
        let hostname = hostname(probe);
        let netns = std::fs::read_link(probe.root().join("proc/self/ns/net"))
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        let boot_id = probe.read("proc/sys/kernel/random/boot_id").unwrap_or_default();
        Identity { key: format!("{boot_id}/{netns}/{hostname}"), hostname, addresses: probe.addresses() }
    }
}

fn hostname(probe: &dyn Probe) -> String {
    probe
        .read("proc/sys/kernel/hostname")
        .or_else(|| probe.read("etc/hostname"))
        .unwrap_or_else(|| "unknown".into())
}

/// Everything about this host; `peers` are the other hosts of the run (named by
/// `peer_names`), to which routes are looked up.
pub fn describe_host(probe: &dyn Probe, me: &Identity, peers: &[(String, &Identity)]) -> Host {
    let cpuinfo = probe.read("proc/cpuinfo").unwrap_or_default();
    let kernel = [probe.read("proc/sys/kernel/ostype"), probe.read("proc/sys/kernel/osrelease")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let routes: Vec<PeerRoute> = peers
        .iter()
        .map(|(name, peer)| net::route_to_peer(probe, name, &me.addresses, &peer.addresses))
        .collect();
    Host {
        hostname: me.hostname.clone(),
        ranks: Vec::new(),
        kernel: if kernel.is_empty() { "unknown".into() } else { kernel },
        boot_id: probe.read("proc/sys/kernel/random/boot_id").map(|b| b.trim().to_string()),
        cpu_model: cpuinfo_field(&cpuinfo, "model name"),
        logical_cpus: cpuinfo.lines().filter(|l| l.starts_with("processor")).count() as u32,
        memory_total_bytes: probe.read("proc/meminfo").and_then(|m| meminfo_bytes(&m, "MemTotal")),
        clocksource: cpu::clocksource(probe),
        frequency_scaling: cpu::frequency_scaling(probe),
        steal_since_boot_s: CpuTimes::read(probe).map(|t| t.steal_since(&CpuTimes::default()).seconds),
        steal_during_run: None,
        virtualization: virt::detect(probe),
        interfaces: net::interfaces(probe, &me.addresses, &routes),
        disks: disk::disks(probe),
        default_route: net::default_route(probe),
        routes,
        romio_drivers: None,
    }
}

/// The MPI library this process has loaded (`libmpi*.so` or `libmpich*.so` in
/// `/proc/self/maps`): after a rebuild against another MPI, this says which one a run used.
pub fn mpi_library_path() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    mapped_mpi_library(&maps)
}

fn mapped_mpi_library(maps: &str) -> Option<String> {
    maps.lines().filter_map(|line| line.split_whitespace().nth(5)).find_map(|path| {
        let name = path.rsplit('/').next()?;
        (name.starts_with("libmpi.so") || name.starts_with("libmpich.so")).then(|| path.to_string())
    })
}

/// `MemAvailable` of this machine: what can be allocated without swapping, as the kernel
/// estimates it.
pub fn memory_available_bytes() -> Option<u64> {
    memory_available_from(Path::new("/"))
}

/// Bytes an unprivileged writer may still use on the file system holding `dir` (`statvfs`).
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    space(dir).map(|(free, _)| free)
}

/// `(free, total)` bytes of the file system holding `dir` (`statvfs`); a total of 0 means the
/// file system keeps no count (ramfs).
pub fn space(dir: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c_dir = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: `stat` is plain data that statvfs fills; `c_dir` is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_dir.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let block = stat.f_frsize as u64;
    Ok((stat.f_bavail as u64 * block, stat.f_blocks as u64 * block))
}

fn memory_available_from(root: &Path) -> Option<u64> {
    meminfo_bytes(&std::fs::read_to_string(root.join("proc/meminfo")).ok()?, "MemAvailable")
}

fn cpuinfo_field(cpuinfo: &str, name: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// A `/proc/meminfo` entry (given in kB, meaning KiB) in bytes.
fn meminfo_bytes(meminfo: &str, name: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(':')?;
        let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::fixture::Fixture;
    use super::*;

    /// The host a fixture describes, with one peer at `peer` (if any).
    fn host(name: &str, peer: Option<&str>) -> Host {
        let probe = Fixture::load(name);
        let me = Identity::detect(&probe);
        let peer = peer.map(|address| Identity {
            hostname: "peer".into(),
            key: "peer".into(),
            addresses: vec![InterfaceAddress {
                interface: "eth0".into(),
                address: address.parse().unwrap(),
                prefix_len: 24,
            }],
        });
        let peers: Vec<(String, &Identity)> = peer.iter().map(|p| ("peer".to_string(), p)).collect();
        describe_host(&probe, &me, &peers)
    }

    fn sources(v: &Virtualization) -> Vec<&str> {
        v.evidence.iter().map(|f| f.source.as_str()).collect()
    }

    #[test]
    fn xen_dom0_is_the_host_and_its_route_leaves_through_the_bridge() {
        let h = host("xen-dom0", Some("10.0.0.6"));
        let v = &h.virtualization;
        assert_eq!(
            (v.role.as_str(), v.guest, v.decided_by.as_str()),
            ("xen-dom0", false, "/proc/xen/capabilities")
        );
        assert_eq!(v.xen_guest_type.as_deref(), Some("PV"));
        assert!(sources(v).contains(&"/sys/hypervisor/properties/features"));
        assert_eq!(h.clocksource.as_deref(), Some("xen"));
        assert_eq!(
            (h.hostname.as_str(), h.kernel.as_str(), h.logical_cpus),
            ("node7", "Linux 2.6.18-6-xen-amd64", 2)
        );
        assert_eq!(h.memory_total_bytes, Some(2097152 * 1024));

        let route = &h.routes[0];
        assert_eq!(route.peer_address_chosen_by, "same subnet as xenbr0");
        assert_eq!(route.interface.as_deref(), Some("xenbr0"));
        assert_eq!(route.source_address, Some("10.0.0.7".parse().unwrap()));
        let bridge = h.interfaces.iter().find(|i| i.name == "xenbr0").unwrap();
        assert_eq!(
            (bridge.kind.as_str(), bridge.ports.clone()),
            ("bridge", vec!["peth0".to_string(), "vif3.0".into()])
        );
        let port = h.interfaces.iter().find(|i| i.name == "peth0").expect("a bridge's ports are listed");
        assert_eq!(
            (port.kind.as_str(), port.bridge.as_deref(), port.driver.as_deref()),
            ("physical", Some("xenbr0"), Some("tg3"))
        );
        assert_eq!(port.offloads.tx_checksum, Some(false), "the study's `ethtool -K eth0 tx off`");
        assert_eq!(
            (port.mtu_bytes, port.tx_queue_len, port.speed_mbit_per_s),
            (Some(1500), Some(1000), Some(1000))
        );
        let vif = h.interfaces.iter().find(|i| i.name == "vif3.0").unwrap();
        assert_eq!(
            (vif.kind.as_str(), vif.bridge.as_deref(), vif.tx_queue_len),
            ("xen-vif", Some("xenbr0"), Some(32))
        );
    }

    #[test]
    fn xen_pv_guest_is_told_by_sys_hypervisor() {
        let h = host("xen-domU-pv", Some("10.0.0.6"));
        let v = &h.virtualization;
        assert_eq!(
            (v.role.as_str(), v.guest, v.decided_by.as_str()),
            ("xen-domU", true, "/sys/hypervisor/type")
        );
        assert_eq!(v.xen_guest_type.as_deref(), Some("PV"));
        assert!(v.systemd_detect_virt.as_ref().unwrap().vm_agrees);
        assert_eq!(h.routes[0].interface.as_deref(), Some("eth0"));
        assert_eq!(h.interfaces[1].kind, "paravirtual", "netfront (driver vif, not named vif*)");
        assert!(h.interfaces.iter().all(|i| i.bridge.is_none()));
        assert_eq!(h.steal_since_boot_s.map(|s| s > 0.0), Some(true));
    }

    #[test]
    fn xen_hvm_guest_keeps_every_source() {
        let v = host("xen-domU-hvm", None).virtualization;
        assert_eq!((v.role.as_str(), v.xen_guest_type.as_deref()), ("xen-domU", Some("HVM")));
        for source in [
            "/sys/hypervisor/type",
            "/sys/class/dmi/id/product_name",
            "cpuid leaf 0x40000000 (vendor)",
            "/proc/cpuinfo flags",
        ] {
            assert!(sources(&v).contains(&source), "{source} missing from {:?}", v.evidence);
        }
        assert!(v.evidence.contains(&Fact {
            source: "cpuid leaf 0x40000000 (vendor)".into(),
            value: "XenVMMXenVMM".into()
        }));
    }

    #[test]
    fn kvm_guest_is_decided_by_cpuid_before_dmi() {
        let h = host("kvm-guest", None);
        let v = &h.virtualization;
        assert_eq!((v.role.as_str(), v.hypervisor.as_deref()), ("kvm", Some("kvm")));
        assert_eq!(v.decided_by, "cpuid leaf 0x40000000 (vendor)");
        assert!(
            v.evidence
                .contains(&Fact { source: "/sys/class/dmi/id/sys_vendor".into(), value: "QEMU".into() })
        );
        assert_eq!(h.clocksource.as_deref(), Some("kvm-clock"));
        assert_eq!((h.cpu_model.as_deref(), h.logical_cpus), (Some("AMD EPYC 7B13"), 4));
        assert!(
            v.evidence.contains(&Fact { source: "/proc/cpuinfo flags".into(), value: "hypervisor".into() })
        );
        assert_eq!(v.xen_guest_type, None);
        let eth0 = h.interfaces.iter().find(|i| i.name == "eth0").unwrap();
        assert_eq!((eth0.kind.as_str(), eth0.driver.as_deref()), ("paravirtual", Some("virtio_net")));
        assert_eq!(
            eth0.qdiscs
                .iter()
                .map(|q| (q.kind.as_str(), q.parent.as_str(), q.rate_bit_per_s))
                .collect::<Vec<_>>(),
            [("tbf", "root", Some(200_000_000))]
        );
        assert_eq!(eth0.qdiscs[0].options["lat"], 50000);
        assert_eq!(
            h.default_route,
            Some(net::DefaultRoute { interface: "eth0".into(), gateway: Some("192.0.2.1".parse().unwrap()) })
        );
        assert_eq!(h.frequency_scaling, None, "a guest without cpufreq");
    }

    #[test]
    fn bare_metal_route_leaves_through_a_plain_nic() {
        let h = host("bare-metal", Some("10.0.0.7"));
        let v = &h.virtualization;
        assert_eq!((v.role.as_str(), v.guest), ("bare-metal", false));
        assert_eq!(v.decided_by, "no source shows a hypervisor");
        assert!(
            v.evidence
                .contains(&Fact { source: "/proc/cpuinfo flags".into(), value: "no hypervisor flag".into() })
        );
        assert!(v.systemd_detect_virt.as_ref().unwrap().vm_agrees);
        assert_eq!((v.container.runtime.as_deref(), v.container.pid1.as_str()), (None, "denies"));
        assert_eq!(v.network_namespace.initial, Some(true));
        let route = &h.routes[0];
        assert_eq!(route.interface.as_deref(), Some("eno1"));
        let nic = h.interfaces.iter().find(|i| i.name == "eno1").unwrap();
        assert_eq!((nic.kind.as_str(), nic.bridge.as_deref()), ("physical", None));
        assert_eq!(nic.offloads.tso, Some(true));
        assert_eq!(h.steal_since_boot_s, Some(0.0));
        assert_eq!(
            h.frequency_scaling,
            Some(cpu::FrequencyScaling {
                driver: Some("acpi-cpufreq".into()),
                governor: Some("performance".into())
            })
        );
        assert_eq!(h.default_route, None, "no /proc/net/route in the fixture");
    }

    #[test]
    fn docker_container_is_confirmed_by_pid1_and_cgroups() {
        let h = host("docker", None);
        let c = &h.virtualization.container;
        assert_eq!(c.runtime.as_deref(), Some("docker"));
        assert_eq!((c.pid1.as_str(), c.cgroups.as_str()), ("confirms", "confirms"));
        assert!(c.evidence.iter().any(|m| m.source == "/.dockerenv"));
        assert_eq!(h.virtualization.role, "bare-metal");
        assert_eq!(h.virtualization.network_namespace.compared_with, "/proc/1/ns/net (PID 1)");
        let eth0 = h.interfaces.iter().find(|i| i.name == "eth0").unwrap();
        assert_eq!((eth0.kind.as_str(), eth0.tx_queue_len), ("veth", Some(0)));
    }

    #[test]
    fn an_interface_carrying_a_route_is_listed_without_an_address() {
        let h = host("bare-metal", Some("203.0.113.5"));
        assert_eq!(h.routes[0].interface.as_deref(), Some("tun0"));
        let tun = h.interfaces.iter().find(|i| i.name == "tun0").expect("the route's interface is listed");
        assert_eq!((tun.kind.as_str(), tun.tx_queue_len), ("tun", Some(500)));
        assert!(tun.addresses.is_empty());
    }

    #[test]
    fn pvh_dom0_without_xenfs_is_told_by_the_dom0_feature_bit() {
        let v = host("xen-dom0-pvh", None).virtualization;
        assert_eq!((v.role.as_str(), v.guest), ("xen-dom0", false));
        assert_eq!(v.decided_by, "/sys/hypervisor/properties/features");
        assert_eq!(v.xen_guest_type.as_deref(), Some("PVH"));
    }

    #[test]
    fn a_hypervisor_without_a_vendor_is_other() {
        let v = host("hidden-hypervisor", None).virtualization;
        assert_eq!((v.role.as_str(), v.hypervisor.as_deref(), v.guest), ("other-hypervisor", None, true));
        assert!(v.decided_by.starts_with("cpuid leaf 1 ecx bit 31"), "{}", v.decided_by);
        assert!(v.systemd_detect_virt.is_none());
    }

    #[test]
    fn nspawn_is_confirmed_by_pid1_alone() {
        let c = host("nspawn", None).virtualization.container;
        assert_eq!(c.runtime.as_deref(), Some("systemd-nspawn"));
        assert_eq!((c.pid1.as_str(), c.cgroups.as_str()), ("confirms", "denies"));
        assert!(
            c.evidence.contains(&Fact {
                source: "/proc/1/environ container=".into(),
                value: "systemd-nspawn".into()
            })
        );
    }

    #[test]
    fn lxc_with_an_unreadable_pid1_environment_is_told_by_namespaces_and_cgroups() {
        let c = host("lxc", None).virtualization.container;
        assert_eq!(c.runtime.as_deref(), Some("lxc"));
        assert_eq!((c.pid1.as_str(), c.cgroups.as_str()), ("confirms", "confirms"));
        assert!(c.evidence.iter().any(|f| f.source == "/proc/1/cgroup" && f.value.contains("/lxc/c1")));
    }

    #[test]
    fn routes_that_fail_say_why() {
        let h = host("bare-metal", Some("192.0.2.99"));
        assert_eq!(h.routes[0].peer_address_chosen_by, "the peer's first address");
        assert!(h.routes[0].error.as_deref().unwrap().contains("unreachable"));
    }

    #[test]
    fn finds_the_mpi_library_in_the_maps() {
        let maps = "7f00-7f01 r--p 00000000 fe:01 1 /usr/lib/x86_64-linux-gnu/libucs.so.0\n\
                    7f01-7f02 r-xp 00001000 fe:01 2 /opt/ompi/lib/libmpi.so.40.30.0\n\
                    7f02-7f03 rw-p 00000000 00:00 0 \n";
        assert_eq!(mapped_mpi_library(maps).as_deref(), Some("/opt/ompi/lib/libmpi.so.40.30.0"));
        assert_eq!(
            mapped_mpi_library("7f-80 r--p 0 fe:01 1 /lib/libmpich.so.12\n").as_deref(),
            Some("/lib/libmpich.so.12")
        );
        assert_eq!(mapped_mpi_library("7f-80 r--p 0 fe:01 1 /lib/libmpi_cxx.so.40\n"), None);
    }

    #[test]
    fn memory_available_comes_from_meminfo() {
        assert_eq!(memory_available_from(&Fixture::load("bare-metal").root), Some(2097152 / 2 * 1024));
    }

    #[test]
    fn missing_files_give_unknown_not_a_crash() {
        struct Empty;
        impl Probe for Empty {
            fn root(&self) -> &Path {
                Path::new("/nonexistent-root")
            }
            fn cpuid(&self) -> Option<Cpuid> {
                None
            }
            fn addresses(&self) -> Vec<InterfaceAddress> {
                vec![]
            }
            fn route_to(&self, _: IpAddr) -> Result<KernelRoute, String> {
                Err("none".into())
            }
            fn offloads(&self, _: &str) -> Offloads {
                Offloads::default()
            }
            fn ethtool_driver(&self, _: &str) -> Option<String> {
                None
            }
            fn systemd_detect_virt(&self) -> Option<(String, String)> {
                None
            }
        }
        let h = describe_host(&Empty, &Identity::detect(&Empty), &[]);
        assert_eq!(
            (h.hostname.as_str(), h.kernel.as_str(), h.memory_total_bytes),
            ("unknown", "unknown", None)
        );
        assert_eq!(h.virtualization.role, "bare-metal");
        assert_eq!(h.virtualization.container.pid1, "unreadable");
    }
}
