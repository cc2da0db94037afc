//! The network side of a host: its interfaces (what they are, bridges and ports, the knobs the
//! study tuned by hand) and the path the kernel takes to each peer host.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Probe;

/// How routes are found; recorded beside every route.
pub const ROUTE_METHOD: &str = "netlink RTM_GETROUTE (the kernel's own lookup, as `ip route get`)";

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceAddress {
    pub interface: String,
    pub address: IpAddr,
    pub prefix_len: u8,
}

impl InterfaceAddress {
    pub fn contains(&self, other: IpAddr) -> bool {
        match (self.address, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }

    /// Addresses another host could reach this one at: not loopback, not IPv6 link-local.
    pub fn is_reachable_from_elsewhere(&self) -> bool {
        match self.address {
            IpAddr::V4(a) => !a.is_loopback(),
            IpAddr::V6(a) => !a.is_loopback() && (a.segments()[0] & 0xffc0) != 0xfe80,
        }
    }
}

/// What the kernel answered for one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct KernelRoute {
    pub interface: Option<String>,
    pub source: Option<IpAddr>,
    pub gateway: Option<IpAddr>,
}

/// ethtool's offload switches; `None` where the driver does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offloads {
    pub tx_checksum: Option<bool>,
    pub rx_checksum: Option<bool>,
    pub scatter_gather: Option<bool>,
    pub tso: Option<bool>,
    pub gso: Option<bool>,
    pub gro: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    /// `loopback`, `bridge`, `veth`, `tap`, `tun`, `xen-vif` (netback's end in dom0),
    /// `paravirtual` (a guest's NIC whose driver talks to its hypervisor: virtio_net,
    /// netfront, vmxnet3, hv_netvsc, ena, gve), `physical` (any other device: emulated in a
    /// guest, real on a host), or `virtual` (no device; see `driver`).
    pub kind: String,
    /// The bridge this interface is a port of.
    pub bridge: Option<String>,
    /// For a bridge: its ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// `address/prefix`.
    pub addresses: Vec<String>,
    pub operstate: Option<String>,
    pub mtu_bytes: Option<u32>,
    pub tx_queue_len: Option<u32>,
    pub speed_mbit_per_s: Option<u64>,
    pub driver: Option<String>,
    pub offloads: Offloads,
    /// What shapes the way out: the interface's queueing disciplines, as `tc` shows them.
    #[serde(default)]
    pub qdiscs: Vec<Qdisc>,
}

/// Drivers of NICs that exist only as a protocol with a hypervisor.
const PARAVIRTUAL_DRIVERS: [&str; 8] =
    ["virtio_net", "vif", "xen-netfront", "vmxnet3", "hv_netvsc", "ena", "gve", "netvsc"];

/// One queueing discipline of an interface (`tc -j qdisc show`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qdisc {
    /// `tbf`, `htb`, `netem`, `fq_codel`, `pfifo_fast`, `noqueue`, …
    pub kind: String,
    pub handle: Option<String>,
    /// `root`, or the parent's handle.
    pub parent: String,
    /// The rate it holds the interface to: tbf's rate, or the highest rate of an htb's classes.
    pub rate_bit_per_s: Option<u64>,
    /// Everything `tc` said of it (netem's delay and loss, tbf's burst and latency, …).
    pub options: serde_json::Value,
}

/// The qdiscs in `tc -j qdisc show dev X` output; `classes` is `tc -j class show dev X`'s,
/// where an htb keeps its rates.
pub fn parse_qdiscs(qdiscs: &str, classes: Option<&str>) -> Vec<Qdisc> {
    let list = |text: &str| serde_json::from_str::<Vec<serde_json::Value>>(text).unwrap_or_default();
    let class_rate = |handle: &Option<String>| {
        let major = handle.as_deref()?.trim_end_matches(':').to_string();
        list(classes?)
            .iter()
            .filter(|c| c["class"] == "htb")
            .filter(|c| c["handle"].as_str().is_some_and(|h| h.split(':').next() == Some(major.as_str())))
            .filter_map(|c| c["rate"].as_u64())
            .max()
    };
    list(qdiscs)
        .into_iter()
        .map(|q| {
            let kind = q["kind"].as_str().unwrap_or("?").to_string();
            let handle = q["handle"].as_str().map(str::to_string);
            let parent = if q["root"] == true {
                "root".to_string()
            } else {
                q["parent"].as_str().unwrap_or("?").to_string()
            };
            // tc's JSON gives rates in bytes per second.
            let rate_bytes = match kind.as_str() {
                "tbf" => q["options"]["rate"].as_u64(),
                "htb" => class_rate(&handle),
                _ => None,
            };
            Qdisc {
                kind,
                handle,
                parent,
                rate_bit_per_s: rate_bytes.map(|r| r * 8),
                options: q["options"].clone(),
            }
        })
        .collect()
}

/// The IPv4 default route of `/proc/net/route`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefaultRoute {
    pub interface: String,
    pub gateway: Option<IpAddr>,
}

pub fn default_route(probe: &dyn Probe) -> Option<DefaultRoute> {
    parse_default_route(&probe.read("proc/net/route")?)
}

fn parse_default_route(table: &str) -> Option<DefaultRoute> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 8 || fields[1] != "00000000" || fields[7] != "00000000" {
            return None;
        }
        // Hexadecimal in the host's byte order (little-endian here).
        let gateway = u32::from_str_radix(fields[2], 16).ok().filter(|&g| g != 0);
        Some(DefaultRoute {
            interface: fields[0].to_string(),
            gateway: gateway.map(|g| IpAddr::from(g.to_le_bytes())),
        })
    })
}

/// The way from this host to one peer host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerRoute {
    pub peer_host: String,
    /// The peer's address the route was looked up for.
    pub peer_address: Option<IpAddr>,
    /// Why that address: `same subnet as IFACE`, or `the peer's first address`.
    pub peer_address_chosen_by: String,
    pub interface: Option<String>,
    pub source_address: Option<IpAddr>,
    pub gateway: Option<IpAddr>,
    pub method: String,
    /// Why there is no route, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every interface that has an address or carries a route in `routes`, and every port of a
/// bridge among them.
pub fn interfaces(probe: &dyn Probe, addresses: &[InterfaceAddress], routes: &[PeerRoute]) -> Vec<Interface> {
    let mut names: Vec<String> = Vec::new();
    let wanted =
        addresses.iter().map(|a| &a.interface).chain(routes.iter().filter_map(|r| r.interface.as_ref()));
    for name in wanted {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut listed: Vec<Interface> = names.iter().map(|n| describe(probe, n, addresses)).collect();
    let ports: Vec<String> =
        listed.iter().flat_map(|i| i.ports.clone()).filter(|p| !names.contains(p)).collect();
    listed.extend(ports.iter().map(|p| describe(probe, p, addresses)));
    listed
}

fn describe(probe: &dyn Probe, name: &str, addresses: &[InterfaceAddress]) -> Interface {
    let dir = format!("sys/class/net/{name}");
    let read = |file: &str| probe.read(&format!("{dir}/{file}"));
    let number = |file: &str| read(file).and_then(|v| v.parse::<i64>().ok());
    let exists = |file: &str| probe.root().join(&dir).join(file).exists();
    let link_name = |file: &str| {
        let target = std::fs::read_link(probe.root().join(&dir).join(file)).ok()?;
        Some(target.file_name()?.to_string_lossy().into_owned())
    };
    let driver = link_name("device/driver").or_else(|| probe.ethtool_driver(name));
    let ports = std::fs::read_dir(probe.root().join(&dir).join("brif"))
        .map(|entries| {
            let mut ports: Vec<String> =
                entries.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect();
            ports.sort();
            ports
        })
        .unwrap_or_default();
    let kind = if exists("bridge") {
        "bridge"
    } else if number("type") == Some(772) {
        "loopback"
    } else if let Some(flags) = read("tun_flags") {
        // IFF_TAP = 0x0002 in the flags the tun driver shows as hex.
        let flags = i64::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
        if flags & 0x2 != 0 { "tap" } else { "tun" }
    } else if driver.as_deref() == Some("veth") {
        "veth"
    } else if driver.as_deref() == Some("vif") && name.starts_with("vif") {
        "xen-vif"
    } else if driver.as_deref().is_some_and(|d| PARAVIRTUAL_DRIVERS.contains(&d)) {
        "paravirtual"
    } else if exists("device") {
        "physical"
    } else {
        "virtual"
    };
    Interface {
        name: name.to_string(),
        kind: kind.to_string(),
        bridge: link_name("brport/bridge").or_else(|| link_name("master").filter(|_| exists("brport"))),
        ports,
        addresses: addresses
            .iter()
            .filter(|a| a.interface == name)
            .map(|a| format!("{}/{}", a.address, a.prefix_len))
            .collect(),
        operstate: read("operstate"),
        mtu_bytes: number("mtu").and_then(|v| u32::try_from(v).ok()),
        tx_queue_len: number("tx_queue_len").and_then(|v| u32::try_from(v).ok()),
        // Virtual links without a speed answer -1 or EINVAL.
        speed_mbit_per_s: number("speed").and_then(|v| u64::try_from(v).ok()),
        driver,
        offloads: probe.offloads(name),
        qdiscs: probe
            .traffic_control("qdisc", name)
            .map(|q| parse_qdiscs(&q, probe.traffic_control("class", name).as_deref()))
            .unwrap_or_default(),
    }
}

/// The address of `peer` to route to: one in a subnet this host is on (the path the peers
/// share), else the peer's first IPv4 address, else its first address.
pub fn peer_address(mine: &[InterfaceAddress], peer: &[InterfaceAddress]) -> Option<(IpAddr, String)> {
    let candidates: Vec<&InterfaceAddress> =
        peer.iter().filter(|a| a.is_reachable_from_elsewhere()).collect();
    let shared = |want_v4: bool| {
        candidates.iter().filter(|p| p.address.is_ipv4() == want_v4).find_map(|p| {
            let local = mine.iter().find(|m| m.is_reachable_from_elsewhere() && m.contains(p.address))?;
            Some((p.address, format!("same subnet as {}", local.interface)))
        })
    };
    shared(true).or_else(|| shared(false)).or_else(|| {
        let first = candidates.iter().find(|a| a.address.is_ipv4()).or_else(|| candidates.first())?;
        Some((first.address, "the peer's first address".to_string()))
    })
}

/// The route to one peer host, from the kernel.
pub fn route_to_peer(
    probe: &dyn Probe,
    peer_host: &str,
    mine: &[InterfaceAddress],
    peer: &[InterfaceAddress],
) -> PeerRoute {
    let mut route = PeerRoute {
        peer_host: peer_host.to_string(),
        peer_address: None,
        peer_address_chosen_by: "the peer has no address reachable from elsewhere".into(),
        interface: None,
        source_address: None,
        gateway: None,
        method: ROUTE_METHOD.into(),
        error: None,
    };
    let Some((address, chosen_by)) = peer_address(mine, peer) else {
        return route;
    };
    route.peer_address = Some(address);
    route.peer_address_chosen_by = chosen_by;
    match probe.route_to(address) {
        Ok(found) => {
            route.interface = found.interface;
            route.source_address = found.source;
            route.gateway = found.gateway;
        }
        Err(error) => route.error = Some(error),
    }
    route
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_route_is_the_zero_destination_with_a_zero_mask() {
        let table = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                     eth1\t00000000\t00000000\t0001\t0\t0\t0\t00FFFFFF\n\
                     short\t00000000\n\
                     eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n";
        let route = parse_default_route(table).unwrap();
        assert_eq!((route.interface.as_str(), route.gateway), ("eth0", Some("192.0.2.1".parse().unwrap())));
        let direct = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                      ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n";
        assert_eq!(parse_default_route(direct).unwrap().gateway, None);
        assert_eq!(parse_default_route("Iface\tDestination\n"), None);
    }

    #[test]
    fn qdiscs_with_their_rates_from_tc() {
        let qdiscs = r#"[{"kind":"htb","handle":"1:","root":true,"options":{"r2q":10,"default":"0x10"}},
            {"kind":"netem","handle":"10:","parent":"1:10","options":{"limit":1000,"delay":{"delay":0.01}}},
            {"kind":"tbf","handle":"8001:","parent":"10:1","options":{"rate":125000,"burst":1600}}]"#;
        let classes = r#"[{"class":"htb","handle":"1:10","root":true,"rate":12500000,"ceil":12500000},
            {"class":"htb","handle":"1:1","root":true,"rate":1250000,"ceil":12500000},
            {"class":"htb","handle":"2:1","root":true,"rate":99999999}]"#;
        let parsed = parse_qdiscs(qdiscs, Some(classes));
        let summary: Vec<_> =
            parsed.iter().map(|q| (q.kind.as_str(), q.parent.as_str(), q.rate_bit_per_s)).collect();
        assert_eq!(
            summary,
            [("htb", "root", Some(100_000_000)), ("netem", "1:10", None), ("tbf", "10:1", Some(1_000_000))]
        );
        assert_eq!(parsed[1].options["delay"]["delay"], 0.01);
        assert!(parse_qdiscs("not json", None).is_empty());
    }

    fn addr(interface: &str, cidr: &str) -> InterfaceAddress {
        let (ip, len) = cidr.split_once('/').unwrap();
        InterfaceAddress {
            interface: interface.into(),
            address: ip.parse().unwrap(),
            prefix_len: len.parse().unwrap(),
        }
    }

    #[test]
    fn peer_address_prefers_a_shared_subnet_then_ipv4() {
        let mine = [addr("lo", "127.0.0.1/8"), addr("eth0", "10.0.0.5/24"), addr("br0", "198.18.1.1/24")];
        let peer = [addr("lo", "127.0.0.1/8"), addr("eth0", "172.16.0.9/16"), addr("eth1", "198.18.1.7/24")];
        assert_eq!(
            peer_address(&mine, &peer),
            Some(("198.18.1.7".parse().unwrap(), "same subnet as br0".to_string()))
        );
        let elsewhere = [addr("lo", "127.0.0.1/8"), addr("eth0", "fe80::1/64"), addr("eth0", "192.0.2.4/24")];
        assert_eq!(
            peer_address(&mine, &elsewhere),
            Some(("192.0.2.4".parse().unwrap(), "the peer's first address".to_string()))
        );
        assert_eq!(peer_address(&mine, &[addr("lo", "127.0.0.1/8")]), None);
        // IPv6: never loopback or link-local; IPv4 first where both share a subnet.
        let v6_only = [addr("lo", "::1/128"), addr("eth0", "fe80::1/64"), addr("eth0", "2001:db8::7/64")];
        assert_eq!(
            peer_address(&mine, &v6_only),
            Some(("2001:db8::7".parse().unwrap(), "the peer's first address".to_string()))
        );
        let dual = [addr("eth0", "2001:db8::1/64"), addr("eth0", "10.0.0.1/24")];
        let peer = [addr("eth0", "2001:db8::2/64"), addr("eth0", "10.0.0.2/24")];
        assert_eq!(
            peer_address(&dual, &peer),
            Some(("10.0.0.2".parse().unwrap(), "same subnet as eth0".to_string()))
        );
        assert_eq!(
            peer_address(&dual[..1], &peer),
            Some(("2001:db8::2".parse().unwrap(), "same subnet as eth0".to_string()))
        );
    }

    #[test]
    fn subnet_membership_uses_the_prefix() {
        let net = addr("eth0", "198.18.0.1/15");
        assert!(net.contains("198.19.255.1".parse().unwrap()));
        assert!(!net.contains("198.20.0.1".parse().unwrap()));
        assert!(addr("x", "0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(addr("x", "2001:db8::1/32").contains("2001:db8:ffff::2".parse().unwrap()));
        assert!(!addr("x", "2001:db8::1/32").contains("2001:db9::2".parse().unwrap()));
        assert!(!addr("x", "2001:db8::1/32").contains("198.18.0.1".parse().unwrap()));
    }
}
