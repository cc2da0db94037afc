//! Text renderings of an `mpiio` result: pvbench's table and mpi-io-test's lines.

use std::fmt::Write;

use super::size;
use crate::result::Document;
use crate::result::mpiio::{MpiioParameters, MpiioResults, Order, Phase};

type MpiioDocument = Document<MpiioParameters, MpiioResults>;

/// pvbench's table: parameters, per-iteration figures, then both conventions' summaries.
pub fn table(doc: &MpiioDocument) -> String {
    let mut out = header(doc);
    let _ = writeln!(out);
    out.push_str(&iterations(doc));
    let _ = writeln!(out);
    out.push_str(&summary(doc));
    if doc.parameters.small_io() {
        out.push_str(&operations(doc));
    }
    out
}

/// What ran: file, ranks, sizes, hints in effect, MPI library.
fn header(doc: &MpiioDocument) -> String {
    let p = &doc.parameters;
    let mut out = String::new();
    let mode = if p.collective { "collective" } else { "independent" };
    let _ =
        writeln!(out, "pvbench mpiio{}", doc.label.as_ref().map(|l| format!("  [{l}]")).unwrap_or_default());
    let _ = writeln!(
        out,
        "  file        {}{}",
        p.file,
        if p.file_per_process { ".<rank> (one per rank)" } else { "" }
    );
    let _ = writeln!(out, "  ranks       {} on {}", doc.ranks.count, distinct_hosts(&doc.ranks.hosts));
    let _ = writeln!(
        out,
        "  block       {} per rank per {}, transfer {}, {} iterations, {mode}{}{}",
        exact_size(p.block_size_bytes, p.small_io()),
        if p.segments > 1 { format!("segment, {} segments", p.segments) } else { "iteration".into() },
        exact_size(p.transfer_size_bytes, p.small_io()),
        p.iterations,
        if p.sync { ", sync" } else { "" },
        if p.reorder_read { ", reorder-read" } else { "" },
    );
    if p.order == Order::Random || p.offset_bytes > 0 {
        let _ = writeln!(
            out,
            "  order       {}{}",
            match p.seed {
                Some(seed) if p.order == Order::Random => format!("random (seed {seed})"),
                _ => p.order.name().into(),
            },
            if p.offset_bytes > 0 {
                format!(", first block at byte {}", p.offset_bytes)
            } else {
                String::new()
            }
        );
    }
    let needed = p.offset_bytes
        + p.bytes_per_rank_and_iteration() * u64::from(p.iterations) * u64::from(doc.ranks.count);
    let _ = writeln!(
        out,
        "  space       {} written{}",
        size(needed),
        match doc.results.free_space_bytes {
            Some(free) => format!(", {} free before the run", size(free)),
            None => ", free space not known for this path (checked for local paths only)".into(),
        }
    );
    if !doc.results.hints_in_effect.is_empty() {
        let mut line = String::from("  hints      ");
        for (key, value) in &doc.results.hints_in_effect {
            if line.len() > 14 && line.len() + key.len() + value.len() > 100 {
                let _ = writeln!(out, "{line}");
                line = " ".repeat(13);
            }
            let _ = write!(line, " {key}={value}");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "  mpi         {}",
        mpi_summary(doc.mpi_library_version.as_deref().unwrap_or("unknown"))
    );
    if let Some(path) = &doc.mpi_library_path {
        let _ = writeln!(out, "  library     {path}");
    }
    for line in super::host_lines(&doc.environment) {
        let _ = writeln!(out, "  host        {line}");
    }
    out
}

/// One line per iteration of each phase, with the slowest rank's times.
fn iterations(doc: &MpiioDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:>4} {:>10} {:>11} {:>9} {:>11} {:>9} {:>9}",
        "phase", "iter", "MiB/s", "elapsed_s", "open_s", "transfer_s", "sync_s", "close_s"
    );
    for phase in &doc.results.phases {
        for it in &phase.iterations {
            let max =
                |f: fn(&crate::result::mpiio::RankTiming) -> f64| it.ranks.iter().map(f).fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "{:<6} {:>4} {:>10.2} {:>11.6} {:>9.6} {:>11.6} {:>9.6} {:>9.6}",
                phase.phase.name(),
                it.iteration,
                it.bandwidth_mib_per_s,
                it.elapsed_s,
                max(|t| t.open_s),
                max(|t| t.transfer_s),
                max(|t| t.sync_s),
                max(|t| t.close_s),
            );
        }
    }
    let _ = writeln!(out, "(per-rank times: the slowest rank's)");
    out
}

/// Both conventions per phase, what they mean, and the verification.
fn summary(doc: &MpiioDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:>10} {:>10} {:>10} {:>10}   {:>14}",
        "phase", "max_MiB/s", "min_MiB/s", "mean_MiB/s", "stddev", "mpi-io-test_MB/s"
    );
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for phase in &doc.results.phases {
        let ior = phase.ior.as_ref();
        let _ = writeln!(
            out,
            "{:<6} {:>10} {:>10} {:>10} {:>10}   {:>16}",
            phase.phase.name(),
            num(ior.map(|s| s.max_mib_per_s)),
            num(ior.map(|s| s.min_mib_per_s)),
            num(ior.map(|s| s.mean_mib_per_s)),
            num(ior.map(|s| s.stddev_mib_per_s)),
            num(phase.mpi_io_test.as_ref().map(|s| s.bandwidth_mb_per_s)),
        );
    }
    let _ = writeln!(
        out,
        "MiB/s: IOR's convention, bytes / (last close end - first open start) per iteration, population stddev.\n\
         MB/s: mpi-io-test's, all bytes / largest per-rank sum of transfer+sync times, 1 MB = 10^6 bytes."
    );
    let v = &doc.results.verification;
    let _ = writeln!(
        out,
        "verification: {}",
        if v.performed {
            format!("passed, {} checked", size(v.bytes_checked))
        } else {
            "not performed".into()
        }
    );
    out
}

/// Per phase: IOPS in IOR's convention and the latency percentiles of one transfer call.
fn operations(doc: &MpiioDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:>10} {:>10} {:>10} {:>10}   {:>9} {:>9} {:>9} {:>10}",
        "phase", "max_IOPS", "min_IOPS", "mean_IOPS", "stddev", "p50_us", "p99_us", "max_us", "transfers"
    );
    for phase in &doc.results.phases {
        let Some(ops) = &phase.operations else { continue };
        let _ = writeln!(
            out,
            "{:<6} {:>10.1} {:>10.1} {:>10.1} {:>10.1}   {:>9.1} {:>9.1} {:>9.1} {:>10}",
            phase.phase.name(),
            ops.max_iops,
            ops.min_iops,
            ops.mean_iops,
            ops.stddev_iops,
            ops.latency_p50_us,
            ops.latency_p99_us,
            ops.latency_max_us,
            ops.count,
        );
    }
    let _ = writeln!(
        out,
        "IOPS: IOR's convention, transfers of all ranks / elapsed time per iteration. Latency: one transfer\n\
         call, nearest-rank percentiles over every transfer of every rank."
    );
    out
}

/// A size as `size` gives it, with the exact bytes beside it where asked and it is not whole
/// KiB ("45.9 KiB (47008 bytes)": IOR-hard's transfer is not 46 KiB).
fn exact_size(bytes: u64, exact: bool) -> String {
    if exact && bytes >= 1024 && !bytes.is_multiple_of(1024) {
        format!("{} ({bytes} bytes)", size(bytes))
    } else {
        size(bytes)
    }
}

/// The first line of an MPI library version string, plus MPICH's device when it names one:
/// "MPICH Version: 4.0.2, device ch4:ucx".
fn mpi_summary(version: &str) -> String {
    let tidy = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = tidy(version.lines().next().unwrap_or_default());
    match version.lines().find_map(|l| l.split_once("Device:")) {
        Some((_, device)) => format!("{first}, device {}", device.trim()),
        None => first,
    }
}

fn distinct_hosts(hosts: &[String]) -> String {
    let mut distinct: Vec<&str> = hosts.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.join(", ")
}

/// The lines PVFS2's mpi-io-test prints, so existing scripts that parse them keep working.
pub fn mpi_io_test(doc: &MpiioDocument) -> String {
    let p = &doc.parameters;
    let mut out = String::from("# Using mpi-io calls.\n");
    let block = p.bytes_per_rank_and_iteration();
    let total = block * u64::from(doc.ranks.count) * u64::from(p.iterations);
    let _ = writeln!(
        out,
        "nr_procs = {}, nr_iter = {}, blk_sz = {}, coll = {}",
        doc.ranks.count,
        p.iterations,
        block,
        u8::from(p.collective)
    );
    let _ = writeln!(out, "# total_size = {total}");
    let find =
        |phase| doc.results.phases.iter().find(|r| r.phase == phase).and_then(|r| r.mpi_io_test.as_ref());
    for (phase, name) in [(Phase::Write, "Write: "), (Phase::Read, "Read:  ")] {
        if let Some(m) = find(phase)
            && let (Some(min), Some(max), Some(mean), Some(var)) =
                (m.min_time_s, m.max_time_s, m.mean_time_s, m.var_time_s2)
        {
            let _ = writeln!(
                out,
                "# {name}min_t = {min:.6}, max_t = {max:.6}, mean_t = {mean:.6}, var_t = {var:.6}"
            );
        }
    }
    for (phase, name) in [(Phase::Write, "Write"), (Phase::Read, "Read")] {
        if let Some(m) = find(phase) {
            let _ = writeln!(out, "{name} bandwidth = {:.6} Mbytes/sec", m.bandwidth_mb_per_s);
        }
    }
    if doc.results.verification.performed {
        out.push_str("Correctness test passed.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpi_summary_keeps_version_and_device() {
        let mpich = "MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7\nMPICH Device:\tch4:ucx\nMPICH configure: --x";
        assert_eq!(mpi_summary(mpich), "MPICH Version: 4.0.2, device ch4:ucx");
        assert_eq!(mpi_summary("Open MPI v4.1.4, package: Debian"), "Open MPI v4.1.4, package: Debian");
    }
}
