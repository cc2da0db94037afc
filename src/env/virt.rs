//! Host or guest: the virtualisation role of a machine, with every fact that went into it, so
//! that a reader can check the verdict. Three independent axes: the hypervisor (VM), a
//! container, and a network namespace.

use serde::{Deserialize, Serialize};

use super::Probe;
use super::sys::Cpuid;

/// One observation: where it was read, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub source: String,
    pub value: String,
}

fn fact(source: &str, value: impl Into<String>) -> Fact {
    Fact { source: source.to_string(), value: value.into() }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Virtualization {
    /// `bare-metal`, `xen-dom0`, `xen-domU`, `kvm`, `qemu` (without KVM), `vmware`, `hyper-v`,
    /// or `other-hypervisor` (see `hypervisor`).
    pub role: String,
    /// True for a guest of a hypervisor; false for bare metal and for Xen's dom0, which the
    /// study counts as the host.
    pub guest: bool,
    /// The hypervisor's name, or its CPUID vendor string when pvbench does not know it.
    pub hypervisor: Option<String>,
    /// Xen only: `PV`, `PVH` or `HVM`, as `/sys/hypervisor/guest_type` says.
    pub xen_guest_type: Option<String>,
    /// The source whose fact decided the role.
    pub decided_by: String,
    /// Every fact read, deciding or not.
    pub evidence: Vec<Fact>,
    /// What `systemd-detect-virt --vm` and plain `systemd-detect-virt` say, where installed.
    pub systemd_detect_virt: Option<SystemdDetectVirt>,
    pub container: Container,
    pub network_namespace: NetworkNamespace,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemdDetectVirt {
    /// `systemd-detect-virt --vm`.
    pub vm: String,
    /// Plain `systemd-detect-virt` (a container outranks a VM there).
    pub any: String,
    /// Whether `vm` names the same hypervisor as `role` (systemd calls dom0 `none`).
    pub vm_agrees: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    /// The container runtime, only when PID 1 or the cgroups confirm a marker.
    pub runtime: Option<String>,
    /// Every container marker found (files, PID 1's `container=`, cgroup paths) and what
    /// was seen of PID 1's PID namespace.
    pub evidence: Vec<Fact>,
    /// `confirms`, `denies` or `unreadable`: PID 1's environment names a container, or PID 1
    /// is in a PID namespace of its own (confirms), or the machine's init (denies).
    pub pid1: String,
    /// `confirms` or `denies`: PID 1's cgroups lie under a container runtime's.
    pub cgroups: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkNamespace {
    /// `net:[INODE]` of this process.
    pub id: Option<String>,
    /// Whether it is the machine's first network namespace; `None` when that cannot be read.
    pub initial: Option<bool>,
    /// What it was compared with.
    pub compared_with: String,
}

/// A hypervisor as its CPUID vendor leaf (0x40000000) names it: (signature, role, name).
const CPUID_VENDORS: &[(&str, &str, &str)] = &[
    ("XenVMMXenVMM", "xen-domU", "xen"),
    ("KVMKVMKVM", "kvm", "kvm"),
    ("Linux KVM Hv", "kvm", "kvm"), // KVM with Hyper-V enlightenments
    ("TCGTCGTCGTCG", "qemu", "qemu"),
    ("VMwareVMware", "vmware", "vmware"),
    ("Microsoft Hv", "hyper-v", "hyper-v"),
];

/// DMI `sys_vendor` / `product_name` / `bios_vendor` prefixes: (prefix, role, name).
const DMI_VENDORS: &[(&str, &str, &str)] = &[
    ("KVM", "kvm", "kvm"),
    ("QEMU", "qemu", "qemu"),
    ("VMware", "vmware", "vmware"),
    ("Xen", "xen-domU", "xen"),
    ("Microsoft Corporation", "hyper-v", "hyper-v"),
];

/// The role on the VM axis and the source that decided it.
struct Verdict {
    role: &'static str,
    hypervisor: Option<String>,
    decided_by: String,
}

pub fn detect(probe: &dyn Probe) -> Virtualization {
    let mut evidence = Vec::new();
    let mut read = |source: &str| {
        let value = probe.read(source)?;
        evidence.push(fact(&format!("/{source}"), value.clone()));
        Some(value)
    };
    let capabilities = read("proc/xen/capabilities");
    let hypervisor_type = read("sys/hypervisor/type");
    let guest_type = read("sys/hypervisor/guest_type");
    let features = read("sys/hypervisor/properties/features");
    let dmi: Vec<(String, String)> = ["sys_vendor", "product_name", "bios_vendor"]
        .iter()
        .filter_map(|f| {
            let source = format!("sys/class/dmi/id/{f}");
            read(&source).map(|v| (format!("/{source}"), v))
        })
        .collect();
    let cpuid = probe.cpuid();
    match &cpuid {
        Some(Cpuid { hypervisor_bit, vendor }) => {
            evidence.push(fact("cpuid leaf 1 ecx bit 31 (hypervisor)", hypervisor_bit.to_string()));
            if let Some(vendor) = vendor {
                evidence.push(fact("cpuid leaf 0x40000000 (vendor)", vendor.clone()));
            }
        }
        None => evidence.push(fact("cpuid", "not available on this architecture")),
    }
    let cpuinfo_flag = probe.read("proc/cpuinfo").map(|c| {
        c.lines()
            .filter(|l| l.starts_with("flags"))
            .take(1)
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    });
    if let Some(flag) = cpuinfo_flag {
        evidence.push(fact("/proc/cpuinfo flags", if flag { "hypervisor" } else { "no hypervisor flag" }));
    }

    // XENFEAT_dom0 is bit 11 of the feature word Xen publishes (xen/include/public/features.h).
    let dom0_feature =
        features.as_deref().and_then(|f| u64::from_str_radix(f, 16).ok()).map(|f| f & (1 << 11) != 0);
    let verdict = if capabilities.as_deref().is_some_and(|c| c.contains("control_d")) {
        Verdict {
            role: "xen-dom0",
            hypervisor: Some("xen".into()),
            decided_by: "/proc/xen/capabilities".into(),
        }
    } else if dom0_feature == Some(true) {
        Verdict {
            role: "xen-dom0",
            hypervisor: Some("xen".into()),
            decided_by: "/sys/hypervisor/properties/features".into(),
        }
    } else if hypervisor_type.as_deref() == Some("xen") {
        Verdict {
            role: "xen-domU",
            hypervisor: Some("xen".into()),
            decided_by: "/sys/hypervisor/type".into(),
        }
    } else if let Some(v) = by_cpuid(cpuid.as_ref()) {
        v
    } else if let Some(v) = by_dmi(&dmi) {
        v
    } else if cpuid.as_ref().is_some_and(|c| c.hypervisor_bit) {
        // The kernel's `hypervisor` flag in /proc/cpuinfo is this bit: evidence, not a second vote.
        Verdict {
            role: "other-hypervisor",
            hypervisor: None,
            decided_by: "cpuid leaf 1 ecx bit 31 (hypervisor), without a vendor".into(),
        }
    } else {
        Verdict { role: "bare-metal", hypervisor: None, decided_by: "no source shows a hypervisor".into() }
    };
    let xen_guest_type = guest_type.filter(|_| verdict.role.starts_with("xen"));
    let systemd_detect_virt = probe.systemd_detect_virt().map(|(vm, any)| SystemdDetectVirt {
        vm_agrees: systemd_agrees(verdict.role, &vm),
        vm,
        any,
    });
    Virtualization {
        role: verdict.role.to_string(),
        guest: !matches!(verdict.role, "bare-metal" | "xen-dom0"),
        hypervisor: verdict.hypervisor,
        xen_guest_type,
        decided_by: verdict.decided_by,
        evidence,
        systemd_detect_virt,
        container: container(probe),
        network_namespace: network_namespace(probe),
    }
}

fn by_cpuid(cpuid: Option<&Cpuid>) -> Option<Verdict> {
    let vendor = cpuid?.vendor.as_deref()?;
    let decided_by = "cpuid leaf 0x40000000 (vendor)".to_string();
    Some(match CPUID_VENDORS.iter().find(|(signature, _, _)| vendor == *signature) {
        Some((_, role, name)) => Verdict { role, hypervisor: Some(name.to_string()), decided_by },
        None => Verdict { role: "other-hypervisor", hypervisor: Some(vendor.to_string()), decided_by },
    })
}

fn by_dmi(dmi: &[(String, String)]) -> Option<Verdict> {
    dmi.iter().find_map(|(source, value)| {
        let (_, role, name) = DMI_VENDORS.iter().find(|(prefix, _, _)| value.starts_with(prefix))?;
        // Microsoft's DMI vendor is also that of its hardware: only "Virtual Machine" is Hyper-V.
        if *role == "hyper-v" && !dmi.iter().any(|(_, v)| v == "Virtual Machine") {
            return None;
        }
        Some(Verdict { role, hypervisor: Some(name.to_string()), decided_by: source.clone() })
    })
}

/// Whether `systemd-detect-virt --vm`'s answer names the same thing as `role`.
fn systemd_agrees(role: &str, vm: &str) -> bool {
    let expected = match role {
        "bare-metal" | "xen-dom0" => "none",
        "xen-domU" => "xen",
        "hyper-v" => "microsoft",
        "other-hypervisor" => return vm != "none",
        other => other,
    };
    vm == expected
}

/// Container markers, and whether PID 1 and the cgroups back them: a marker file alone (an
/// image can leave `/.dockerenv` behind) does not make a container.
fn container(probe: &dyn Probe) -> Container {
    let mut evidence = Vec::new();
    let mut marker_runtime = None;
    for (file, runtime) in [(".dockerenv", "docker"), ("run/.containerenv", "podman")] {
        if probe.root().join(file).exists() {
            evidence.push(fact(&format!("/{file}"), format!("present ({runtime})")));
            marker_runtime.get_or_insert(runtime.to_string());
        }
    }
    if let Some(name) = probe.read("run/systemd/container") {
        evidence.push(fact("/run/systemd/container", name.clone()));
        marker_runtime.get_or_insert(name);
    }
    let environ = std::fs::read(probe.root().join("proc/1/environ")).ok();
    let pid1_named = environ.as_ref().and_then(|environ| {
        environ
            .split(|&b| b == 0)
            .find_map(|var| var.strip_prefix(b"container="))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    });
    if let Some(name) = &pid1_named {
        evidence.push(fact("/proc/1/environ container=", name.clone()));
    }
    // Kernel threads (kthreadd is PID 2) are visible only in the machine's first PID
    // namespace, whose PID 1 is the machine's own init.
    let initial_pid_namespace = probe.read("proc/2/comm").as_deref() == Some("kthreadd");
    let pid1 = if pid1_named.is_some() {
        "confirms"
    } else if initial_pid_namespace {
        evidence.push(fact("/proc/2/comm", "kthreadd: the first PID namespace, PID 1 is the machine's init"));
        "denies"
    } else if environ.is_some() || probe.read("proc/1/comm").is_some() {
        evidence.push(fact("/proc/2/comm", "not kthreadd: PID 1 is in a PID namespace of its own"));
        "confirms"
    } else {
        "unreadable"
    };
    let cgroup = probe.read("proc/1/cgroup");
    let cgroup_runtime = cgroup.as_deref().and_then(|c| {
        c.lines().find_map(|line| {
            let path = line.splitn(3, ':').nth(2)?;
            let needles = [
                ("/docker", "docker"),
                ("libpod", "podman"),
                ("/lxc", "lxc"),
                ("machine.slice", "systemd-nspawn"),
            ];
            let runtime = needles.iter().find(|(needle, _)| path.contains(needle))?.1;
            Some((runtime, path.to_string()))
        })
    });
    if let Some((runtime, path)) = &cgroup_runtime {
        evidence.push(fact("/proc/1/cgroup", format!("{path} ({runtime})")));
    }
    let cgroups = match (&cgroup, &cgroup_runtime) {
        (_, Some(_)) => "confirms",
        (Some(_), None) => "denies",
        (None, None) => "unreadable",
    };
    let confirmed = pid1 == "confirms" || cgroups == "confirms";
    let runtime = confirmed.then(|| {
        pid1_named
            .or_else(|| cgroup_runtime.map(|(r, _)| r.to_string()))
            .or(marker_runtime)
            .unwrap_or_else(|| "unknown".into())
    });
    Container { runtime, evidence, pid1: pid1.into(), cgroups: cgroups.into() }
}

/// Compares this process's network namespace with that of kthreadd (PID 2), a kernel thread
/// and so always in the first namespace; PID 1 is the fallback when PID 2 is not kthreadd (a
/// PID namespace), and may itself be unreadable.
fn network_namespace(probe: &dyn Probe) -> NetworkNamespace {
    let link = |pid: &str| {
        std::fs::read_link(probe.root().join(format!("proc/{pid}/ns/net")))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    };
    let id = link("self");
    let (reference, compared_with) = if probe.read("proc/2/comm").as_deref() == Some("kthreadd") {
        (link("2"), "/proc/2/ns/net (kthreadd, a kernel thread)")
    } else {
        (link("1"), "/proc/1/ns/net (PID 1)")
    };
    NetworkNamespace {
        initial: match (&id, &reference) {
            (Some(mine), Some(first)) => Some(mine == first),
            _ => None,
        },
        id,
        compared_with: compared_with.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_names_map_onto_roles() {
        assert!(systemd_agrees("kvm", "kvm"));
        assert!(systemd_agrees("xen-dom0", "none"));
        assert!(systemd_agrees("xen-domU", "xen"));
        assert!(systemd_agrees("hyper-v", "microsoft"));
        assert!(systemd_agrees("other-hypervisor", "bhyve"));
        assert!(!systemd_agrees("bare-metal", "kvm"));
        assert!(!systemd_agrees("kvm", "docker"));
    }

    #[test]
    fn unknown_cpuid_vendors_are_named_not_dropped() {
        let v = by_cpuid(Some(&Cpuid { hypervisor_bit: true, vendor: Some("bhyve bhyve".into()) })).unwrap();
        assert_eq!((v.role, v.hypervisor.as_deref()), ("other-hypervisor", Some("bhyve bhyve")));
        assert!(by_cpuid(Some(&Cpuid { hypervisor_bit: false, vendor: None })).is_none());
    }

    #[test]
    fn microsoft_hardware_is_not_hyper_v() {
        let surface = [("/sys/class/dmi/id/sys_vendor".to_string(), "Microsoft Corporation".to_string())];
        assert!(by_dmi(&surface).is_none());
        let vm = [
            ("/sys/class/dmi/id/sys_vendor".to_string(), "Microsoft Corporation".to_string()),
            ("/sys/class/dmi/id/product_name".to_string(), "Virtual Machine".to_string()),
        ];
        assert_eq!(by_dmi(&vm).unwrap().role, "hyper-v");
    }
}
