//! What machine this is. Reads everything through a root directory so tests can hand it a
//! fake `/proc` and `/etc`.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    pub hostname: String,
    pub kernel: String,
    pub cpu_model: Option<String>,
    pub logical_cpus: u32,
    pub memory_total_bytes: Option<u64>,
}

impl Environment {
    /// The environment of the running machine.
    pub fn detect() -> Self {
        Self::detect_from(Path::new("/"))
    }

    pub fn detect_from(root: &Path) -> Self {
        let read = |rel: &str| std::fs::read_to_string(root.join(rel)).ok();
        let first_line = |rel: &str| read(rel).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let cpuinfo = read("proc/cpuinfo").unwrap_or_default();
        let kernel = [first_line("proc/sys/kernel/ostype"), first_line("proc/sys/kernel/osrelease")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Environment {
            hostname: first_line("proc/sys/kernel/hostname")
                .or_else(|| first_line("etc/hostname"))
                .unwrap_or_else(|| "unknown".into()),
            kernel: if kernel.is_empty() { "unknown".into() } else { kernel },
            cpu_model: cpuinfo_field(&cpuinfo, "model name"),
            logical_cpus: cpuinfo.lines().filter(|l| l.starts_with("processor")).count() as u32,
            memory_total_bytes: read("proc/meminfo").and_then(|m| meminfo_bytes(&m, "MemTotal")),
        }
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
    use std::os::unix::ffi::OsStrExt;
    let c_dir = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: `stat` is plain data that statvfs fills; `c_dir` is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_dir.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
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
    use super::*;

    #[test]
    fn reads_a_fake_root() {
        let root = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = root.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("proc/sys/kernel/hostname", "node6\n");
        write("proc/sys/kernel/ostype", "Linux\n");
        write("proc/sys/kernel/osrelease", "2.6.18-xen\n");
        write(
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: AMD Opteron(tm) 248\nprocessor\t: 1\nmodel name\t: AMD Opteron(tm) 248\n",
        );
        write("proc/meminfo", "MemTotal:        2048 kB\nMemFree: 1 kB\nMemAvailable:   1536 kB\n");
        let env = Environment::detect_from(root.path());
        assert_eq!(env.hostname, "node6");
        assert_eq!(env.kernel, "Linux 2.6.18-xen");
        assert_eq!(env.cpu_model.as_deref(), Some("AMD Opteron(tm) 248"));
        assert_eq!(env.logical_cpus, 2);
        assert_eq!(env.memory_total_bytes, Some(2048 * 1024));
        assert_eq!(memory_available_from(root.path()), Some(1536 * 1024));
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
    fn missing_files_give_unknown_not_a_crash() {
        let env = Environment::detect_from(Path::new("/nonexistent-root"));
        assert_eq!(env.hostname, "unknown");
        assert_eq!(env.memory_total_bytes, None);
    }
}
