//! `pvbench net` for people: the matrix (rows: sender, columns: receiver; the study's Tables
//! 3.1/3.2 are its transpose, rows = receiver "auf", columns = sender "von"), then every pair;
//! then, where they ran, the request/response and MPI latency matrices and pairs.

use std::fmt::Write;

use crate::result::Document;
use crate::result::net::{NetParameters, NetResults, PairResult};

pub fn text(doc: &Document<NetParameters, NetResults>) -> String {
    let p = &doc.parameters;
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
    let ran = |test: &str| p.tests.as_ref().is_none_or(|tests| tests.iter().any(|t| t == test));
    if ran("stream") {
        stream(&mut out, doc);
    }
    if ran("rr") {
        request_response(&mut out, doc);
    }
    if ran("latency") {
        latency(&mut out, doc);
    }
    out
}

/// A matrix of one figure per pair: rows sender, columns receiver, `-` where not measured.
fn matrix(
    out: &mut String,
    doc: &Document<NetParameters, NetResults>,
    title: &str,
    cell: impl Fn(usize, usize) -> Option<f64>,
    decimals: usize,
) {
    let n = doc.results.matrix_mib_per_s.len();
    let _ = writeln!(out, "\n{title}");
    let name =
        |rank: usize| format!("{rank}:{}", doc.ranks.hosts.get(rank).map(String::as_str).unwrap_or("?"));
    let width = (0..n).map(|i| name(i).len()).max().unwrap_or(0).max(10);
    let _ = write!(out, "{:<width$}", "");
    for j in 0..n {
        let _ = write!(out, " {:>width$}", name(j));
    }
    out.push('\n');
    for i in 0..n {
        let _ = write!(out, "{:<width$}", name(i));
        for j in 0..n {
            let value = cell(i, j);
            let _ = write!(out, " {:>width$}", value.map_or("-".to_string(), |v| format!("{v:.decimals$}")));
        }
        out.push('\n');
    }
}

/// A cell of the matrix from the pair `i → j`, where it ran.
fn of_pair<'a>(
    doc: &'a Document<NetParameters, NetResults>,
    figure: impl Fn(&PairResult) -> Option<f64> + 'a,
) -> impl Fn(usize, usize) -> Option<f64> + 'a {
    move |i, j| {
        let pair = doc.results.pairs.iter().find(|p| (p.sender as usize, p.receiver as usize) == (i, j))?;
        figure(pair)
    }
}

fn stream(out: &mut String, doc: &Document<NetParameters, NetResults>) {
    let r = &doc.results;
    let title = "MiB/s (2^20 bytes/s), median; rows: sender, columns: receiver";
    matrix(out, doc, title, |i, j| r.matrix_mib_per_s[i][j], 1);
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
}

fn request_response(out: &mut String, doc: &Document<NetParameters, NetResults>) {
    let rr = |f: fn(&crate::result::net::RequestResponse) -> Option<f64>| {
        of_pair(doc, move |pair: &PairResult| pair.rr.as_ref().and_then(f))
    };
    let rows = "rows: client (sender of requests), columns: server";
    matrix(
        out,
        doc,
        &format!("TCP_RR transactions/s, median; {rows}"),
        rr(|r| Some(r.transactions_per_s)),
        1,
    );
    let p50 = rr(|r| r.round_trip.as_ref().map(|p| p.p50_us));
    matrix(out, doc, &format!("TCP_RR round trip µs, p50; {rows}"), p50, 1);
    let p99 = rr(|r| r.round_trip.as_ref().map(|p| p.p99_us));
    matrix(out, doc, &format!("TCP_RR round trip µs, p99; {rows}"), p99, 1);
    let _ = writeln!(
        out,
        "\n{:<7} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "pair", "trans/s", "mean µs", "min µs", "p50 µs", "p99 µs", "max µs"
    );
    for pair in &doc.results.pairs {
        let label = format!("{}→{}", pair.sender, pair.receiver);
        let Some(rr) = &pair.rr else {
            let _ = writeln!(
                out,
                "{label:<7} {}",
                pair.error.as_deref().map_or("-".into(), |e| format!("FAILED: {e}"))
            );
            continue;
        };
        let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        let trip = rr.round_trip.as_ref();
        let _ = writeln!(
            out,
            "{label:<7} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10}",
            num(Some(rr.transactions_per_s)),
            num(Some(rr.mean_rtt_us)),
            num(trip.map(|t| t.min_us)),
            num(trip.map(|t| t.p50_us)),
            num(trip.map(|t| t.p99_us)),
            num(trip.map(|t| t.max_us)),
        );
    }
    let _ = writeln!(
        out,
        "mean: 1 / transactions per second (netperf's); the others from every timed round trip."
    );
}

fn latency(out: &mut String, doc: &Document<NetParameters, NetResults>) {
    let at = |size: u64| {
        of_pair(doc, move |pair: &PairResult| {
            pair.latency.as_ref()?.iter().find(|point| point.size_bytes == size).map(|point| point.latency_us)
        })
    };
    let rows = "rows: sender, columns: receiver";
    matrix(out, doc, &format!("MPI latency µs (half a round trip, osu_latency), 0 B; {rows}"), at(0), 2);
    let with_points: Vec<&PairResult> = doc.results.pairs.iter().filter(|p| p.latency.is_some()).collect();
    let Some(first) = with_points.first().and_then(|p| p.latency.as_ref()) else {
        return;
    };
    let _ = write!(
        out,
        "\nMPI latency µs per size: osu_latency's mean, and p50/p99 of the half round trips\n{:>8}",
        "size"
    );
    for pair in &with_points {
        let _ = write!(out, " {:>26}", format!("{}→{} mean/p50/p99", pair.sender, pair.receiver));
    }
    out.push('\n');
    for point in first {
        let _ = write!(out, "{:>8}", point.size_bytes);
        for pair in &with_points {
            let cell =
                pair.latency.as_ref().and_then(|l| l.iter().find(|q| q.size_bytes == point.size_bytes));
            let text = cell.map_or("-".into(), |q| {
                format!("{:.2}/{:.2}/{:.2}", q.latency_us, q.one_way.p50_us, q.one_way.p99_us)
            });
            let _ = write!(out, " {text:>26}");
        }
        out.push('\n');
    }
}
