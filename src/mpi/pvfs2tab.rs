//! The pvfs2tab check every benchmark makes before its first MPI-IO call on a `pvfs2:` path
//! (`mpiio`'s file, `meta`'s directory).
//!
//! libpvfs2 dies of a segmentation fault, taking every rank with it, when ROMIO's pvfs2 driver
//! opens a path whose server does not answer. So pvbench first reads the tab the library will
//! read, finds the mount that holds the path and connects to its server, and refuses with one
//! line when any of that fails. A server that dies later, mid-run, is the library's business.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::bail;

/// How long a server gets to accept a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The files libpvfs2 reads when `PVFS2TAB_FILE` names none with a pvfs2 entry, in its order
/// (`PVFS_util_parse_pvfstab`: the first file holding a pvfs2 entry wins).
const SYSTEM_TABS: [&str; 4] = ["/etc/fstab", "/etc/pvfs2tab", "pvfs2tab", "/etc/mtab"];

/// One pvfs2 line of a tab: `tcp://HOST:PORT/FS[,tcp://…] MOUNT_DIR pvfs2 OPTIONS …`.
#[derive(Debug, Clone, PartialEq)]
struct Mount {
    /// The ways to reach a config server, in the tab's order (`tcp://host:port/fs`).
    servers: Vec<String>,
    dir: PathBuf,
}

/// The pvfs2 entries of a tab file's text; comment lines and other file systems are skipped.
fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (name, dir, kind) = (fields.next()?, fields.next()?, fields.next()?);
            if name.starts_with('#') || !kind.starts_with("pvfs2") {
                return None;
            }
            // mtab entries may carry a "process#" prefix, which libpvfs2 drops.
            let name = name.rsplit('#').next().unwrap_or(name);
            Some(Mount {
                servers: name.split(',').map(str::to_string).collect(),
                dir: normalize(Path::new(dir)),
            })
        })
        .collect()
}

/// The tab libpvfs2 will use and its pvfs2 entries, or an error naming every file tried.
fn find_tab() -> anyhow::Result<(PathBuf, Vec<Mount>)> {
    let from_env = std::env::var_os("PVFS2TAB_FILE").map(PathBuf::from);
    let candidates: Vec<PathBuf> =
        from_env.into_iter().chain(SYSTEM_TABS.iter().map(PathBuf::from)).collect();
    for tab in &candidates {
        let mounts =
            crate::input::read_text(tab, crate::input::PVFS2TAB).map(|text| parse(&text)).unwrap_or_default();
        if !mounts.is_empty() {
            return Ok((tab.clone(), mounts));
        }
    }
    let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "no pvfs2tab with a pvfs2 entry (tried {}): set PVFS2TAB_FILE to one (mpiio: --pvfs2tab)",
        tried.join(", ")
    )
}

/// `path` made absolute against the working directory, with `.`, `..` and repeated slashes
/// resolved by name (the file itself need not exist).
fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(path)
    };
    let mut out = PathBuf::from("/");
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            _ => {}
        }
    }
    out
}

/// The mount whose directory holds `path`; the deepest one when mounts nest.
fn mount_for<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let path = normalize(path);
    mounts.iter().filter(|m| path.starts_with(&m.dir)).max_by_key(|m| m.dir.components().count())
}

/// `HOST:PORT` of a `tcp://HOST:PORT/FS` address; `None` for other transports (ib://, …),
/// which a TCP connect cannot check.
fn tcp_endpoint(server: &str) -> Option<&str> {
    let rest = server.strip_prefix("tcp://")?;
    Some(rest.split('/').next().unwrap_or(rest))
}

fn answers(endpoint: &str) -> Result<(), String> {
    let addresses = endpoint.to_socket_addrs().map_err(|e| format!("cannot resolve {endpoint}: {e}"))?;
    let mut last = format!("{endpoint} resolves to no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{endpoint}: {e}"),
        }
    }
    Err(last)
}

/// The tab in effect and its mount that holds `path`, or an error naming the tab's mounts.
fn find_mount(path: &str) -> anyhow::Result<(PathBuf, Mount)> {
    let (tab, mounts) = find_tab()?;
    let Some(mount) = mount_for(&mounts, Path::new(path)).cloned() else {
        let dirs: Vec<String> = mounts.iter().map(|m| m.dir.display().to_string()).collect();
        bail!(
            "pvfs2:{path} is under no mount of the pvfs2tab {} (its mounts: {})",
            tab.display(),
            dirs.join(", ")
        )
    };
    Ok((tab, mount))
}

/// The config servers of the mount that holds `path`, as the tab names them (for messages).
fn servers(path: &str) -> Option<Vec<String>> {
    find_mount(path).ok().map(|(_, mount)| mount.servers)
}

/// " (PVFS2 server tcp://…)" for a `pvfs2:` path whose tab names its servers, else "": for
/// the lines that say where a run stopped.
pub fn server_note(path: &str) -> String {
    match path.strip_prefix("pvfs2:").and_then(servers) {
        Some(servers) => format!(" (PVFS2 server {})", servers.join(", ")),
        None => String::new(),
    }
}

/// Whether a path may be touched after a failure: any path but a `pvfs2:` one whose server does
/// not take a connection (libpvfs2 would spend its retries, ~12 s with OrangeFS's defaults, on
/// each request, and the run would end at its --timeout instead of saying why it failed).
pub fn reachable(path: &str) -> bool {
    path.strip_prefix("pvfs2:").is_none_or(|p| check(p).is_ok())
}

/// Refuses a `pvfs2:` path (given without its prefix) that no mount of the tab in effect holds,
/// or whose config servers all fail to answer.
pub fn check(path: &str) -> anyhow::Result<()> {
    let (tab, mount) = find_mount(path)?;
    let endpoints: Vec<&str> = mount.servers.iter().filter_map(|s| tcp_endpoint(s)).collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let mut failures = Vec::new();
    for endpoint in &endpoints {
        match answers(endpoint) {
            Ok(()) => return Ok(()),
            Err(e) => failures.push(e),
        }
    }
    bail!(
        "the PVFS2 server of pvfs2:{path} does not answer ({}; mount {} in the pvfs2tab {}): start it, or fix the tab",
        failures.join("; "),
        mount.dir.display(),
        tab.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pvfs2_entries_only() {
        let text = "# comment\n\
                    /dev/sda1 / ext4 defaults 0 1\n\
                    tcp://node6:3334/pvfs2-fs /mnt/pvfs2 pvfs2 defaults,noauto 0 0\n\
                    #tcp://x:1/fs /mnt/x pvfs2 defaults 0 0\n\
                    pvfs2-client#tcp://a:1/fs,tcp://b:2/fs //mnt//two/ pvfs2 rw 0 0\n";
        let mounts = parse(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].servers, vec!["tcp://node6:3334/pvfs2-fs"]);
        assert_eq!(mounts[0].dir, Path::new("/mnt/pvfs2"));
        assert_eq!(mounts[1].servers, vec!["tcp://a:1/fs", "tcp://b:2/fs"]);
        assert_eq!(mounts[1].dir, Path::new("/mnt/two"));
    }

    #[test]
    fn finds_the_deepest_mount_by_whole_components() {
        let mounts = parse(
            "tcp://a:1/fs /pvfs2 pvfs2 defaults 0 0\n\
             tcp://b:1/fs /pvfs2/inner pvfs2 defaults 0 0\n",
        );
        let server = |p: &str| mount_for(&mounts, Path::new(p)).map(|m| m.servers[0].as_str());
        assert_eq!(server("//pvfs2/testfile"), Some("tcp://a:1/fs"));
        assert_eq!(server("/pvfs2/inner/f"), Some("tcp://b:1/fs"));
        assert_eq!(server("/pvfs2/inner/../f"), Some("tcp://a:1/fs"));
        assert_eq!(server("/pvfs2x/f"), None);
        assert_eq!(server("/tmp/f"), None);
    }

    #[test]
    fn only_a_pvfs2_path_may_be_unreachable() {
        assert!(reachable("/tmp/pvbench-file"));
        assert!(reachable("ufs:/tmp/pvbench-file"));
    }

    #[test]
    fn tcp_endpoints() {
        assert_eq!(tcp_endpoint("tcp://node6:3334/pvfs2-fs"), Some("node6:3334"));
        assert_eq!(tcp_endpoint("ib://node6:3335/pvfs2-fs"), None);
    }

    #[test]
    fn a_listening_port_answers_and_a_closed_one_does_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(answers(&format!("127.0.0.1:{port}")).is_ok());
        drop(listener);
        let refused = answers(&format!("127.0.0.1:{port}")).unwrap_err();
        assert!(refused.contains(&format!("127.0.0.1:{port}")), "{refused}");
    }
}
