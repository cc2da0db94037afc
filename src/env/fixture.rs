//! Test-only: a machine described by a fixture tree under `tests/data/env/NAME` — files where
//! the kernel has files, and `probe.json` for what it answers only to system calls.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Cpuid, InterfaceAddress, KernelRoute, Offloads, Probe};

#[derive(Deserialize)]
struct Answers {
    cpuid: Option<Cpuid>,
    addresses: Vec<InterfaceAddress>,
    #[serde(default)]
    routes: BTreeMap<IpAddr, KernelRoute>,
    #[serde(default)]
    offloads: BTreeMap<String, Offloads>,
    #[serde(default)]
    ethtool_drivers: BTreeMap<String, String>,
    systemd_detect_virt: Option<(String, String)>,
    /// `"qdisc IFACE"` / `"class IFACE"` → what `tc -j … show dev IFACE` printed.
    #[serde(default)]
    traffic_control: BTreeMap<String, String>,
}

pub struct Fixture {
    pub root: PathBuf,
    answers: Answers,
}

impl Fixture {
    pub fn load(name: &str) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/env").join(name);
        let text = std::fs::read_to_string(root.join("probe.json")).unwrap();
        Fixture { answers: serde_json::from_str(&text).unwrap(), root }
    }
}

impl Probe for Fixture {
    fn root(&self) -> &Path {
        &self.root
    }

    fn cpuid(&self) -> Option<Cpuid> {
        self.answers.cpuid.clone()
    }

    fn addresses(&self) -> Vec<InterfaceAddress> {
        self.answers.addresses.clone()
    }

    fn route_to(&self, destination: IpAddr) -> Result<KernelRoute, String> {
        self.answers
            .routes
            .get(&destination)
            .cloned()
            .ok_or_else(|| "Network is unreachable (os error 101)".into())
    }

    fn offloads(&self, interface: &str) -> Offloads {
        self.answers.offloads.get(interface).cloned().unwrap_or_default()
    }

    fn ethtool_driver(&self, interface: &str) -> Option<String> {
        self.answers.ethtool_drivers.get(interface).cloned()
    }

    fn systemd_detect_virt(&self) -> Option<(String, String)> {
        self.answers.systemd_detect_virt.clone()
    }

    fn traffic_control(&self, object: &str, interface: &str) -> Option<String> {
        self.answers.traffic_control.get(&format!("{object} {interface}")).cloned()
    }
}
