//! The host's block devices as the kernel shows them in `/sys/block`: which are a hypervisor's
//! paravirtual disks (a guest's virtio or Xen disk) and which are real, so a file I/O figure
//! can be read against the device under it.

use serde::{Deserialize, Serialize};

use super::Probe;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disk {
    pub name: String,
    /// `paravirtual` (a driver that talks to a hypervisor: virtio_blk, Xen's vbd, …),
    /// `physical` (any other device), or `virtual` (no device: device-mapper, md).
    pub kind: String,
    /// The device's driver (`virtio_blk`, `nvme`, `sd`, `vbd`), where it has one.
    pub driver: Option<String>,
    pub size_bytes: Option<u64>,
    /// Whether the kernel takes it for a spinning disk.
    pub rotational: Option<bool>,
    /// The I/O scheduler in use.
    pub scheduler: Option<String>,
    pub model: Option<String>,
}

const PARAVIRTUAL_DRIVERS: [&str; 4] = ["virtio_blk", "vbd", "xen-blkfront", "hv_storvsc"];

/// Devices that hold no data of their own, left out: loop files, RAM disks, zram, optical drives.
const SKIPPED_PREFIXES: [&str; 5] = ["loop", "ram", "zram", "sr", "fd"];

/// Every block device of the host but loop devices and RAM disks, by name.
pub fn disks(probe: &dyn Probe) -> Vec<Disk> {
    let Ok(entries) = std::fs::read_dir(probe.root().join("sys/block")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .filter(|name| !SKIPPED_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    names.sort();
    names.iter().map(|name| describe(probe, name)).collect()
}

fn describe(probe: &dyn Probe, name: &str) -> Disk {
    let dir = format!("sys/block/{name}");
    let read = |file: &str| probe.read(&format!("{dir}/{file}"));
    let device = probe.root().join(&dir).join("device");
    let driver = std::fs::read_link(device.join("driver"))
        .ok()
        .and_then(|target| Some(target.file_name()?.to_string_lossy().into_owned()));
    let kind = if driver.as_deref().is_some_and(|d| PARAVIRTUAL_DRIVERS.contains(&d)) {
        "paravirtual"
    } else if device.exists() {
        "physical"
    } else {
        "virtual"
    };
    Disk {
        name: name.to_string(),
        kind: kind.to_string(),
        driver,
        // The kernel counts 512-byte sectors whatever the device's block size.
        size_bytes: read("size").and_then(|s| s.parse::<u64>().ok()).map(|sectors| sectors * 512),
        rotational: read("queue/rotational").map(|r| r == "1"),
        scheduler: read("queue/scheduler").map(|s| selected_scheduler(&s)),
        model: read("device/model"),
    }
}

/// `mq-deadline kyber [bfq] none` → `bfq`; a single name stands for itself.
fn selected_scheduler(text: &str) -> String {
    text.split_whitespace()
        .find_map(|s| s.strip_prefix('[').and_then(|s| s.strip_suffix(']')))
        .unwrap_or(text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::fixture::Fixture;

    #[test]
    fn a_guests_virtio_disk_is_paravirtual() {
        let got = disks(&Fixture::load("kvm-guest"));
        let names: Vec<&str> = got.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["dm-0", "vda"], "loop0 is left out");
        assert_eq!((got[0].kind.as_str(), got[0].driver.as_deref()), ("virtual", None), "no device");
        let vda = &got[1];
        assert_eq!(vda.kind, "paravirtual");
        assert_eq!(vda.driver.as_deref(), Some("virtio_blk"));
        assert_eq!(vda.size_bytes, Some(2097152 * 512));
        assert_eq!(vda.rotational, Some(true));
        assert_eq!(vda.scheduler.as_deref(), Some("none"));
    }

    #[test]
    fn a_hosts_nvme_disk_is_physical() {
        let got = disks(&Fixture::load("bare-metal"));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].name.as_str(), got[0].kind.as_str()), ("nvme0n1", "physical"));
        assert_eq!(got[0].driver.as_deref(), Some("nvme"));
        assert_eq!(got[0].rotational, Some(false));
        assert_eq!(got[0].model.as_deref(), Some("Samsung SSD 980 PRO 1TB"));
    }

    #[test]
    fn the_selected_scheduler_is_the_one_in_brackets() {
        assert_eq!(selected_scheduler("mq-deadline kyber [bfq] none"), "bfq");
        assert_eq!(selected_scheduler("none"), "none");
    }
}
