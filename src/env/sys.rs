//! The few facts the kernel gives only through system calls, not files: interface addresses
//! (`getifaddrs`), the kernel's own route lookup (netlink `RTM_GETROUTE`, what `ip route get`
//! asks), ethtool settings (`SIOCETHTOOL`), and the CPUID hypervisor leaves. Each unsafe block
//! says why it is sound.

use std::ffi::{CStr, CString};
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::net::{InterfaceAddress, KernelRoute, Offloads};

/// CPUID's hypervisor facts: leaf 1 ECX bit 31, and the vendor signature of leaf 0x40000000
/// (EBX, ECX, EDX), which hypervisors fill and bare metal leaves unused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Cpuid {
    pub hypervisor_bit: bool,
    pub vendor: Option<String>,
}

#[cfg(target_arch = "x86_64")]
pub fn cpuid() -> Option<Cpuid> {
    use std::arch::x86_64::__cpuid;
    // SAFETY: CPUID exists on every x86_64 processor and only reads identification registers.
    #[allow(unused_unsafe)]
    let (leaf1, leaf_hv) = unsafe { (__cpuid(1), __cpuid(0x4000_0000)) };
    let hypervisor_bit = leaf1.ecx & (1 << 31) != 0;
    let vendor = hypervisor_bit.then(|| {
        let bytes: Vec<u8> =
            [leaf_hv.ebx, leaf_hv.ecx, leaf_hv.edx].iter().flat_map(|r| r.to_le_bytes()).collect();
        String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_string()
    });
    Some(Cpuid { hypervisor_bit, vendor: vendor.filter(|v| !v.trim().is_empty()) })
}

#[cfg(not(target_arch = "x86_64"))]
pub fn cpuid() -> Option<Cpuid> {
    None
}

/// Every IPv4 and IPv6 address of every interface, with its prefix length.
pub fn interface_addresses() -> io::Result<Vec<InterfaceAddress>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut node = list;
    while !node.is_null() {
        // SAFETY: `node` is a live element of the list getifaddrs returned; its name is a C string;
        // ifa_addr and ifa_netmask are null or point at a sockaddr of the family they name.
        unsafe {
            let entry = &*node;
            if let (Some(address), Some(mask)) = (socket_ip(entry.ifa_addr), socket_ip(entry.ifa_netmask)) {
                let prefix_len = match mask {
                    IpAddr::V4(m) => u32::from(m).count_ones(),
                    IpAddr::V6(m) => u128::from(m).count_ones(),
                } as u8;
                let interface = CStr::from_ptr(entry.ifa_name).to_string_lossy().into_owned();
                found.push(InterfaceAddress { interface, address, prefix_len });
            }
            node = entry.ifa_next;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    Ok(found)
}

/// # Safety
/// `addr` is null or points at a sockaddr whose `sa_family` tells its real type.
unsafe fn socket_ip(addr: *const libc::sockaddr) -> Option<IpAddr> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: the caller's promise; the family decides which larger struct it is.
    unsafe {
        match (*addr).sa_family as i32 {
            libc::AF_INET => {
                let v4 = &*(addr as *const libc::sockaddr_in);
                Some(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()))
            }
            libc::AF_INET6 => Some(IpAddr::from((*(addr as *const libc::sockaddr_in6)).sin6_addr.s6_addr)),
            _ => None,
        }
    }
}

const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
const NLMSG_HEADER_LEN: usize = 16;
const RTMSG_LEN: usize = 12;

/// Asks the kernel which interface, source address and gateway it would use to reach
/// `destination` (policy rules and every table included): netlink `RTM_GETROUTE`.
pub fn route_to(destination: IpAddr) -> io::Result<KernelRoute> {
    let (family, address) = match destination {
        IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
    };
    let attribute_len = 4 + address.len();
    let total = NLMSG_HEADER_LEN + RTMSG_LEN + attribute_len;
    let mut request = Vec::with_capacity(total);
    request.extend_from_slice(&(total as u32).to_ne_bytes());
    request.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
    request.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    request.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
    // struct rtmsg: family, dst_len (full address), src_len, tos, table, protocol, scope, type, flags
    request.extend_from_slice(&[family, (address.len() * 8) as u8, 0, 0, 0, 0, 0, 0]);
    request.extend_from_slice(&0u32.to_ne_bytes());
    request.extend_from_slice(&(attribute_len as u16).to_ne_bytes());
    request.extend_from_slice(&RTA_DST.to_ne_bytes());
    request.extend_from_slice(&address);

    // SAFETY: plain socket(2); the descriptor is owned (closed on drop) at once.
    let fd =
        unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: a zeroed sockaddr_nl with nl_family set addresses the kernel (pid 0).
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: `request` and `kernel` are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut reply = vec![0u8; 8192];
    // SAFETY: `reply` is writable for its whole length.
    let received = unsafe { libc::recv(socket.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
    if received < 0 {
        return Err(io::Error::last_os_error());
    }
    reply.truncate(received as usize);
    parse_route_reply(&reply, family)
}

fn parse_route_reply(reply: &[u8], family: u8) -> io::Result<KernelRoute> {
    let u16_at = |at: usize| u16::from_ne_bytes([reply[at], reply[at + 1]]);
    let u32_at = |at: usize| u32::from_ne_bytes(reply[at..at + 4].try_into().unwrap());
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "short netlink reply");
    if reply.len() < NLMSG_HEADER_LEN + 4 {
        return Err(bad());
    }
    let message_len = (u32_at(0) as usize).min(reply.len());
    match u16_at(4) {
        NLMSG_ERROR => return Err(io::Error::from_raw_os_error(-(u32_at(NLMSG_HEADER_LEN) as i32))),
        RTM_NEWROUTE if message_len >= NLMSG_HEADER_LEN + RTMSG_LEN => {}
        _ => return Err(bad()),
    }
    let ip = |bytes: &[u8]| -> Option<IpAddr> {
        match (family as i32, bytes.len()) {
            (libc::AF_INET, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
            (libc::AF_INET6, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
            _ => None,
        }
    };
    let mut route = KernelRoute::default();
    let mut at = NLMSG_HEADER_LEN + RTMSG_LEN;
    while at + 4 <= message_len {
        let len = u16_at(at) as usize;
        if len < 4 || at + len > message_len {
            break;
        }
        let data = &reply[at + 4..at + len];
        match u16_at(at + 2) {
            RTA_OIF if data.len() == 4 => {
                route.interface = interface_name(u32::from_ne_bytes(data.try_into().unwrap()))
            }
            RTA_PREFSRC => route.source = ip(data),
            RTA_GATEWAY => route.gateway = ip(data),
            _ => {}
        }
        at += (len + 3) & !3;
    }
    Ok(route)
}

fn interface_name(index: u32) -> Option<String> {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has room for IF_NAMESIZE bytes, as if_indextoname requires.
    let found = unsafe { libc::if_indextoname(index, name.as_mut_ptr()) };
    // SAFETY: on success the buffer holds a NUL-terminated name.
    (!found.is_null()).then(|| unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned())
}

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GDRVINFO: u32 = 0x03;
const ETHTOOL_GRXCSUM: u32 = 0x14;
const ETHTOOL_GTXCSUM: u32 = 0x16;
const ETHTOOL_GSG: u32 = 0x18;
const ETHTOOL_GTSO: u32 = 0x1e;
const ETHTOOL_GGSO: u32 = 0x23;
const ETHTOOL_GGRO: u32 = 0x2b;

/// `struct ifreq` with the `ifr_data` member of its union (40 bytes on 64-bit Linux).
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IF_NAMESIZE],
    data: *mut libc::c_void,
    _rest: [u8; 16],
}

/// Runs one ethtool command on `interface`, `command` being the ethtool struct to fill.
fn ethtool<T>(interface: &str, command: &mut T) -> io::Result<()> {
    let name = CString::new(interface).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let bytes = name.as_bytes_with_nul();
    if bytes.len() > libc::IF_NAMESIZE {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let mut request =
        IfReq { name: [0; libc::IF_NAMESIZE], data: (command as *mut T).cast(), _rest: [0; 16] };
    for (slot, &byte) in request.name.iter_mut().zip(bytes) {
        *slot = byte as libc::c_char;
    }
    // SAFETY: a datagram socket only serves as a handle for the ioctl; owned and closed on drop.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is fresh and ours.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `request` is a valid ifreq whose data points at the ethtool struct the command
    // names (its first u32 is the command), which outlives the call.
    if unsafe { libc::ioctl(socket.as_raw_fd(), SIOCETHTOOL as _, &mut request) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn ethtool_flag(interface: &str, command: u32) -> Option<bool> {
    let mut value = [command, 0u32]; // struct ethtool_value { cmd, data }
    ethtool(interface, &mut value).ok().map(|_| value[1] != 0)
}

/// The offload switches the study toggled by hand (`ethtool -K eth0 tx off`); `None` for each
/// one the driver does not answer.
pub fn offloads(interface: &str) -> Offloads {
    Offloads {
        tx_checksum: ethtool_flag(interface, ETHTOOL_GTXCSUM),
        rx_checksum: ethtool_flag(interface, ETHTOOL_GRXCSUM),
        scatter_gather: ethtool_flag(interface, ETHTOOL_GSG),
        tso: ethtool_flag(interface, ETHTOOL_GTSO),
        gso: ethtool_flag(interface, ETHTOOL_GGSO),
        gro: ethtool_flag(interface, ETHTOOL_GGRO),
    }
}

/// The driver name ethtool reports (`veth`, `bridge`, `virtio_net`, ...).
pub fn driver(interface: &str) -> Option<String> {
    // struct ethtool_drvinfo: cmd, then driver[32], version[32], ... (196 bytes in all).
    #[repr(C)]
    struct DrvInfo {
        cmd: u32,
        driver: [u8; 32],
        rest: [u8; 160],
    }
    let mut info = DrvInfo { cmd: ETHTOOL_GDRVINFO, driver: [0; 32], rest: [0; 160] };
    ethtool(interface, &mut info).ok()?;
    let end = info.driver.iter().position(|&b| b == 0).unwrap_or(32);
    let name = String::from_utf8_lossy(&info.driver[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_route() {
        let addresses = interface_addresses().unwrap();
        assert!(
            addresses.iter().any(|a| a.interface == "lo"
                && a.address == IpAddr::from([127, 0, 0, 1])
                && a.prefix_len == 8),
            "{addresses:?}"
        );
        let route = route_to(IpAddr::from([127, 0, 0, 1])).unwrap();
        assert_eq!(route.interface.as_deref(), Some("lo"));
        assert_eq!(route.source, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(driver("lo"), None, "loopback has no ethtool driver info");
    }

    #[test]
    fn netlink_errors_come_back_as_os_errors() {
        let mut reply = vec![0u8; 36];
        reply[0..4].copy_from_slice(&36u32.to_ne_bytes());
        reply[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        reply[16..20].copy_from_slice(&(-libc::ENETUNREACH).to_ne_bytes());
        let err = parse_route_reply(&reply, libc::AF_INET as u8).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENETUNREACH));
        assert!(parse_route_reply(&reply[..10], libc::AF_INET as u8).is_err());
    }
}
