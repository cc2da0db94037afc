//! `pvbench env` for people: per host, the verdict first, then the facts behind it.

use std::fmt::Write;

use crate::env::{Host, Interface, SlurmJob};
use crate::result::Document;
use crate::result::env::{EnvParameters, EnvResults};

pub fn text(doc: &Document<EnvParameters, EnvResults>) -> String {
    let env = &doc.environment;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pvbench env: {} host(s), {} rank(s), launcher {}, {:.3} s",
        env.hosts.len(),
        doc.ranks.count,
        env.launcher.name,
        doc.results.detection_s
    );
    if let Some(version) = &doc.mpi_library_version {
        let _ = writeln!(out, "MPI: {}", version.lines().next().unwrap_or_default());
    }
    if let Some(path) = &doc.mpi_library_path {
        let _ = writeln!(out, "MPI library: {path}");
    }
    if let Some(job) = &env.launcher.slurm {
        let _ = writeln!(out, "Slurm: {}", slurm_job(job));
    }
    for host in &env.hosts {
        out.push('\n');
        write_host(&mut out, host);
    }
    out
}

/// "job 17 step 2 on node[6-7] of cluster c (allocation node[6-7],vm3), MPI plugin pmi2".
fn slurm_job(job: &SlurmJob) -> String {
    let mut text = format!("job {}", job.job_id);
    if let Some(step) = &job.step_id {
        let _ = write!(text, " step {step}");
    }
    if let Some(nodes) = job.step_nodelist.as_ref().or(job.job_nodelist.as_ref()) {
        let _ = write!(text, " on {nodes}");
    }
    if let Some(cluster) = &job.cluster {
        let _ = write!(text, " of cluster {cluster}");
    }
    if let (Some(step), Some(allocation)) = (&job.step_nodelist, &job.job_nodelist)
        && step != allocation
    {
        let _ = write!(text, " (allocation {allocation})");
    }
    if let Some(plugin) = &job.mpi_plugin {
        let _ = write!(text, ", MPI plugin {plugin}");
    }
    text
}

/// One host as `pvbench env` prints it.
pub fn host_text(h: &Host) -> String {
    let mut out = String::new();
    write_host(&mut out, h);
    out
}

fn write_host(out: &mut String, h: &Host) {
    let v = &h.virtualization;
    let ranks: Vec<String> = h.ranks.iter().map(u32::to_string).collect();
    let _ = writeln!(out, "host {} (ranks {})", h.hostname, ranks.join(","));
    let guest = if v.guest { "guest" } else { "host" };
    let xen = v.xen_guest_type.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
    let _ = writeln!(out, "  role           {}{xen} ({guest}), decided by {}", v.role, v.decided_by);
    if let Some(s) = &v.systemd_detect_virt {
        let agrees = if s.vm_agrees { "agrees" } else { "DISAGREES" };
        let _ = writeln!(out, "  systemd        --vm: {} ({agrees}); plain: {}", s.vm, s.any);
    }
    let c = &v.container;
    let evidence: Vec<String> = c.evidence.iter().map(|m| format!("{} {}", m.source, m.value)).collect();
    let _ = writeln!(
        out,
        "  container      {}; PID 1 {}, cgroups {}{}",
        c.runtime.as_deref().unwrap_or("none confirmed"),
        c.pid1,
        c.cgroups,
        if evidence.is_empty() { String::new() } else { format!("; {}", evidence.join("; ")) }
    );
    let ns = &v.network_namespace;
    let initial = match ns.initial {
        Some(true) => "the initial one",
        Some(false) => "NOT the initial one",
        None => "unknown whether initial",
    };
    let _ = writeln!(out, "  net namespace  {} ({initial})", ns.id.as_deref().unwrap_or("?"));
    let _ = writeln!(out, "  kernel         {}", h.kernel);
    let memory = h.memory_total_bytes.map(super::size).unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "  cpu            {} x {}, memory {memory}",
        h.logical_cpus,
        h.cpu_model.as_deref().unwrap_or("?")
    );
    let steal = h.steal_since_boot_s.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "  clock          {}; steal since boot {steal}",
        h.clocksource.as_deref().unwrap_or("?")
    );
    let scaling = match &h.frequency_scaling {
        Some(f) => format!(
            "driver {}, governor {}",
            f.driver.as_deref().unwrap_or("?"),
            f.governor.as_deref().unwrap_or("?")
        ),
        None => "no cpufreq (a guest's hypervisor decides)".into(),
    };
    let _ = writeln!(out, "  cpu frequency  {scaling}");
    if let Some(s) = &h.steal_during_run {
        let _ = writeln!(out, "  steal (run)    {:.2} s, {:.2}% of CPU time", s.seconds, s.share_percent);
    }
    let _ = writeln!(out, "  evidence");
    for f in &v.evidence {
        let _ = writeln!(out, "    {:<40} {}", f.source, f.value);
    }
    let _ = writeln!(out, "  interfaces");
    let _ = writeln!(
        out,
        "    {:<12} {:<11} {:<14} {:>6} {:>7} {:>8} {:<12} {:<31} addresses",
        "name", "kind", "bridge", "mtu", "txqlen", "Mbit/s", "driver", "offloads tx rx sg tso gso gro"
    );
    for i in &h.interfaces {
        interface_line(out, i);
    }
    let shaping: Vec<String> = h
        .interfaces
        .iter()
        .flat_map(|i| i.qdiscs.iter().map(move |q| (i, q)))
        .map(|(i, q)| {
            let rate = q.rate_bit_per_s.map(|r| format!(" {:.1} Mbit/s", r as f64 / 1e6)).unwrap_or_default();
            format!("{} {} {}{rate}", i.name, q.parent, q.kind)
        })
        .collect();
    if !shaping.is_empty() {
        let _ = writeln!(out, "  qdiscs         {}", shaping.join("; "));
    }
    if !h.disks.is_empty() {
        let disks: Vec<String> = h.disks.iter().map(disk_words).collect();
        let _ = writeln!(out, "  disks          {}", disks.join("; "));
    }
    if let Some(r) = &h.default_route {
        let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
        let _ = writeln!(out, "  default route  dev {}{via}", r.interface);
    }
    if !h.routes.is_empty() {
        let _ = writeln!(out, "  routes ({})", h.routes[0].method);
        for r in &h.routes {
            let peer = r.peer_address.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
            let way = match (&r.interface, &r.error) {
                (_, Some(error)) => format!("no route: {error}"),
                (Some(iface), None) => {
                    let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
                    let src = r.source_address.map(|s| format!(" from {s}")).unwrap_or_default();
                    format!("dev {iface}{src}{via}")
                }
                (None, None) => "not looked up".into(),
            };
            let _ = writeln!(out, "    to {} {peer} ({}): {way}", r.peer_host, r.peer_address_chosen_by);
        }
    }
    if let Some(drivers) = &h.romio_drivers {
        let list: Vec<String> = drivers
            .iter()
            .map(|d| format!("{}{}", d.prefix, if d.supported { "yes" } else { "no" }))
            .collect();
        let _ = writeln!(out, "  ROMIO drivers  {}", list.join(" "));
    }
}

fn interface_line(out: &mut String, i: &Interface) {
    let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let flag = |v: Option<bool>| match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "-",
    };
    let o = &i.offloads;
    let offloads = format!(
        "{} {} {} {} {} {}",
        flag(o.tx_checksum),
        flag(o.rx_checksum),
        flag(o.scatter_gather),
        flag(o.tso),
        flag(o.gso),
        flag(o.gro)
    );
    let bridge = match (&i.bridge, i.ports.is_empty()) {
        (Some(b), _) => format!("port of {b}"),
        (None, false) => format!("{} ports", i.ports.len()),
        (None, true) => "-".into(),
    };
    let _ = writeln!(
        out,
        "    {:<12} {:<11} {:<14} {:>6} {:>7} {:>8} {:<12} {:<31} {}",
        i.name,
        i.kind,
        bridge,
        num(i.mtu_bytes.map(u64::from)),
        num(i.tx_queue_len.map(u64::from)),
        num(i.speed_mbit_per_s),
        i.driver.as_deref().unwrap_or("-"),
        offloads,
        i.addresses.join(" ")
    );
}

/// `vda paravirtual virtio_blk 1.0 GiB` (size where the kernel says it).
fn disk_words(d: &crate::env::disk::Disk) -> String {
    let mut words = vec![d.name.clone(), d.kind.clone()];
    words.extend(d.driver.clone());
    words.extend(d.size_bytes.map(super::size));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::disk::Disk;

    #[test]
    fn a_slurm_job_reads_as_job_step_nodes_and_plugin() {
        let mut job = SlurmJob {
            job_id: "17".into(),
            step_id: Some("2".into()),
            cluster: Some("c".into()),
            job_nodelist: Some("node[6-7],vm3".into()),
            step_nodelist: Some("node[6-7]".into()),
            mpi_plugin: Some("pmi2".into()),
        };
        assert_eq!(
            slurm_job(&job),
            "job 17 step 2 on node[6-7] of cluster c (allocation node[6-7],vm3), MPI plugin pmi2"
        );
        job.step_nodelist = job.job_nodelist.clone();
        job.mpi_plugin = None;
        assert_eq!(slurm_job(&job), "job 17 step 2 on node[6-7],vm3 of cluster c");
        let batch = SlurmJob { step_id: None, cluster: None, step_nodelist: None, ..job };
        assert_eq!(slurm_job(&batch), "job 17 on node[6-7],vm3");
    }

    #[test]
    fn a_disk_reads_as_name_kind_driver_and_size() {
        let mut disk = Disk {
            name: "vda".into(),
            kind: "paravirtual".into(),
            driver: Some("virtio_blk".into()),
            size_bytes: Some(1 << 30),
            rotational: Some(true),
            scheduler: Some("none".into()),
            model: None,
        };
        assert_eq!(disk_words(&disk), "vda paravirtual virtio_blk 1.0 GiB");
        (disk.driver, disk.size_bytes) = (None, None);
        assert_eq!(disk_words(&disk), "vda paravirtual");
    }
}
