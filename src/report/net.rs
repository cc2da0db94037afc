//! `pvbench net` for people: the matrix (rows: sender, columns: receiver; the study's Tables
//! 3.1/3.2 are its transpose, rows = receiver "auf", columns = sender "von"), then every pair.

use std::fmt::Write;

use crate::result::Document;
use crate::result::net::{NetParameters, NetResults};

pub fn text(doc: &Document<NetParameters, NetResults>) -> String {
    let p = &doc.parameters;
    let r = &doc.results;
    let mut out = String::new();
    let length = match (p.duration_s, p.bytes) {
        (Some(d), _) => format!("{d} s"),
        (None, Some(b)) => super::size(b),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "pvbench net: {} transport, {} per pair{}, {} repetition(s), send size {}{}",
        p.transport,
        length,
        if p.warmup_s > 0.0 { format!(" after a {} s warm-up", p.warmup_s) } else { String::new() },
        p.repeat,
        super::size(p.send_size_bytes),
        if p.concurrent { ", pairs of a round at once (contention)" } else { ", one pair at a time" }
    );
    for line in super::host_lines(&doc.environment) {
        let _ = writeln!(out, "  host {line}");
    }
    let n = r.matrix_mib_per_s.len();
    let _ = writeln!(out, "\nMiB/s (2^20 bytes/s), median; rows: sender, columns: receiver");
    let name =
        |rank: usize| format!("{rank}:{}", doc.ranks.hosts.get(rank).map(String::as_str).unwrap_or("?"));
    let width = (0..n).map(|i| name(i).len()).max().unwrap_or(0).max(10);
    let _ = write!(out, "{:<width$}", "");
    for j in 0..n {
        let _ = write!(out, " {:>width$}", name(j));
    }
    out.push('\n');
    for (i, row) in r.matrix_mib_per_s.iter().enumerate() {
        let _ = write!(out, "{:<width$}", name(i));
        for cell in row {
            let _ = write!(out, " {:>width$}", cell.map_or("-".to_string(), |v| format!("{v:.1}")));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{:<7} {:>10} {:>10} {:>10} {:>10} {:>7} {:>7} {:>10} {:>10}",
        "pair", "MiB/s", "min", "max", "Mbit/s", "cpu_tx%", "cpu_rx%", "sd_tx", "sd_rx"
    );
    for pair in &r.pairs {
        let label = format!("{}→{}", pair.sender, pair.receiver);
        if let Some(error) = &pair.error {
            let _ = writeln!(out, "{label:<7} FAILED: {error}");
            continue;
        }
        let median = |f: &dyn Fn(&crate::result::net::Repetition) -> Option<f64>| {
            let mut v: Vec<f64> = pair.repetitions.iter().filter_map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        let demand = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let _ = writeln!(
            out,
            "{label:<7} {:>10} {:>10} {:>10} {:>10} {:>7} {:>7} {:>10} {:>10}",
            num(pair.median_mib_per_s),
            num(pair.min_mib_per_s),
            num(pair.max_mib_per_s),
            num(pair.median_mbit_per_s),
            num(median(&|x| x.sender_cpu_percent)),
            num(median(&|x| x.receiver_cpu_percent)),
            demand(median(&|x| x.sender_service_demand_us_per_kib)),
            demand(median(&|x| x.receiver_service_demand_us_per_kib))
        );
    }
    let _ = writeln!(out, "sd: service demand, µs of CPU per KiB moved (netperf's). {}", r.cpu_note);
    out
}
