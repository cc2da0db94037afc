//! `pvbench meta` as mdtest shows it: its SUMMARY rate table (max, min, mean, sd over the
//! iterations), with each operation's latency beside it.

use std::fmt::Write;

use crate::result::Document;
use crate::result::meta::{MetaParameters, MetaResults};

pub fn text(doc: &Document<MetaParameters, MetaResults>) -> String {
    let p = &doc.parameters;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pvbench meta: {}, {} rank(s) x {} items, {} iteration(s), {}, {}{}{}",
        p.dir,
        doc.ranks.count,
        p.items_per_rank,
        p.iterations,
        if p.unique_dir { "a directory per rank" } else { "one shared directory" },
        p.interface,
        if p.write_bytes > 0 {
            format!(", {} written per file", super::size(p.write_bytes))
        } else {
            String::new()
        },
        if p.read_bytes > 0 {
            format!(", {} read per file", super::size(p.read_bytes))
        } else {
            String::new()
        },
    );
    for line in super::host_lines(&doc.environment) {
        let _ = writeln!(out, "  host {line}");
    }
    let _ = writeln!(out, "\nSUMMARY rate (in ops/sec): (of {} iterations)", p.iterations);
    let _ = writeln!(
        out,
        "   {:<18} {:>14} {:>14} {:>14} {:>14} {:>10} {:>10} {:>10}",
        "Operation", "Max", "Min", "Mean", "Std Dev", "p50 µs", "p99 µs", "max µs"
    );
    for phase in &doc.results.phases {
        let latency = |pick: fn(&crate::result::meta::Latency) -> f64| {
            phase.latency.as_ref().map_or("-".to_string(), |l| format!("{:.1}", pick(l) * 1e6))
        };
        let _ = writeln!(
            out,
            "   {:<18} {:>14.3} {:>14.3} {:>14.3} {:>14.3} {:>10} {:>10} {:>10}",
            phase.phase.mdtest_name(),
            phase.max_ops_per_s,
            phase.min_ops_per_s,
            phase.mean_ops_per_s,
            phase.sd_ops_per_s,
            latency(|l| l.p50_s),
            latency(|l| l.p99_s),
            latency(|l| l.max_s),
        );
    }
    out
}
