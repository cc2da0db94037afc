//! netperf's TCP_STREAM output, and its TCP_RR output (rr.rs) (src/nettest_bsd.c, and nettest_omni.c's "MIGRATED" legacy
//! output): an optional banner naming the receiver, the title block (with `-c`/`-C` the CPU and
//! service demand columns), and one data line. The title names the unit netperf printed
//! (`-f`), converted here as netlib.c's `calc_thruput_interval` computes it. Every run in a
//! file (several concatenated) is one document of the `net` kind with the one pair.

mod rr;

use super::text::{ParseError, complete_lines, number};
use super::two_hosts::{self, OneWay};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::NetperfParameters;
use crate::result::net::Repetition;

const MIB: f64 = 1024.0 * 1024.0;

pub fn recognise(text: &str) -> Option<&'static str> {
    let head: Vec<&str> = text.lines().take(50).collect();
    if head.iter().any(|l| l.contains("TCP STREAM TEST")) {
        Some("its TCP STREAM TEST banner")
    } else if head.iter().any(|l| l.contains("TCP REQUEST/RESPONSE TEST")) {
        Some("its TCP REQUEST/RESPONSE TEST banner")
    } else if head.iter().any(|l| l.starts_with("Local /Remote")) {
        Some("its Local /Remote socket title")
    } else if head.iter().any(|l| l.starts_with("Recv   Send    Send")) {
        Some("its Recv/Send socket title")
    } else {
        None
    }
}

/// Bytes per second of one unit netperf prints, by the name its title shows.
fn bytes_per_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "Bytes" => 1.0,
        "KBytes" => 1024.0,
        "MBytes" => MIB,
        "GBytes" => 1024.0 * MIB,
        "10^3bits" => 1e3 / 8.0,
        "10^6bits" => 1e6 / 8.0,
        "10^9bits" => 1e9 / 8.0,
        // netlib.c divides by 1.0 for 'b' as for 'B': the figure is bytes per second.
        "10^0bits" => 1.0,
        _ => return None,
    })
}

/// One run as it is being read.
#[derive(Default)]
struct Run {
    first_line: usize,
    receiver: Option<String>,
    receiver_address: Option<String>,
    /// The title's line, its unit and whether it has the CPU columns.
    title: Option<(usize, String, bool)>,
    /// A TCP_RR run (from its banner, its title, or its untitled figures).
    rr: Option<rr::Run>,
}

pub fn parse(text: &str, stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let lines = complete_lines(text)?;
    let mut documents = Vec::new();
    let mut run = Run::default();
    // -v 2 prints an alignment block of 4 lines after a TCP_RR result (its figures repeat the
    // result's), and a histogram where netperf was built with one.
    let (mut after_rr, mut alignment_left, mut in_histogram) = (false, 0, false);
    for &(n, line) in &lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("!!!") {
            continue; // confidence-interval warnings
        }
        if alignment_left > 0 {
            alignment_left -= 1;
            continue;
        }
        if std::mem::take(&mut after_rr) && trimmed.starts_with("Alignment") {
            alignment_left = 3;
            continue;
        }
        // -v 2 of a netperf built with --enable-histogram: its buckets, up to their total.
        if in_histogram || trimmed.starts_with("Histogram of") {
            in_histogram = !trimmed.starts_with("HIST_TOTAL:");
            continue;
        }
        let pending = run.title.is_some() || run.rr.as_ref().is_some_and(|r| r.figures.is_some());
        if trimmed.contains(" TEST") && (trimmed.contains(" to ") || trimmed.contains(" from ")) {
            if pending || run.rr.as_ref().is_some_and(|r| r.title.is_some()) {
                return Err(ParseError::at(
                    n,
                    "truncated: a new test begins before the last one printed its figures",
                ));
            }
            let request_response = trimmed.contains("TCP REQUEST/RESPONSE TEST");
            if !request_response && !trimmed.contains("TCP STREAM TEST") {
                return Err(ParseError::at(n, format!("not a TCP_STREAM or TCP_RR test: {trimmed:?}")));
            }
            run = Run { first_line: n, rr: request_response.then(rr::Run::default), ..Run::default() };
            (run.receiver, run.receiver_address) = banner_receiver(trimmed);
        } else if trimmed.starts_with("Local /Remote") {
            if pending || run.rr.as_ref().is_some_and(|r| r.title.is_some()) {
                return Err(ParseError::at(
                    n,
                    "truncated: a new title before the last test printed its figures",
                ));
            }
            if run.first_line == 0 {
                run.first_line = n;
            }
            run.rr = Some(rr::Run { title: Some(rr::Title::default()), figures: None });
        } else if let Some(rr_run) = run.rr.as_mut() {
            if let Some(figures) = rr::line(rr_run, n, trimmed)? {
                let banner = (run.receiver.take(), run.receiver_address.take());
                documents.push(rr::document([run.first_line, n], banner, figures, stated));
                run = Run::default();
                after_rr = true;
            }
        } else if trimmed.starts_with("Recv") && trimmed.contains("Send") {
            if run.title.is_some() {
                return Err(ParseError::at(
                    n,
                    "truncated: a new title before the last test printed its figures",
                ));
            }
            if run.first_line == 0 {
                run.first_line = n;
            }
            run.title = Some((n, String::new(), trimmed.contains("Utilization")));
        } else if trimmed.starts_with("Socket") || trimmed.starts_with("Size") {
            if run.title.is_none() {
                return Err(ParseError::at(n, format!("not netperf output: {trimmed:?}")));
            }
        } else if trimmed.starts_with("bytes") {
            let Some((_, unit, _)) = run.title.as_mut() else {
                return Err(ParseError::at(n, format!("not netperf output: {trimmed:?}")));
            };
            *unit = title_unit(n, trimmed)?;
        } else if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
            let Some((title_line, unit, cpu)) = run.title.take() else {
                if rr::untitled(trimmed) {
                    // -P 0: TCP_RR's figures without banner and title.
                    let mut untitled = rr::Run::default();
                    rr::line(&mut untitled, n, trimmed)?;
                    run = Run { first_line: n, rr: Some(untitled), ..Run::default() };
                    continue;
                }
                return Err(ParseError::at(
                    n,
                    "figures without netperf's title (-P 0 output): the unit is unknown, print the titles",
                ));
            };
            if unit.is_empty() {
                return Err(ParseError::at(title_line, "the title has no unit line (bytes … secs. …)"));
            }
            documents.push(document(&run, n, trimmed, &unit, cpu, stated)?);
            run = Run::default();
        } else {
            return Err(ParseError::at(n, format!("not netperf TCP_STREAM output: {trimmed:?}")));
        }
    }
    if let Some((title_line, _, _)) = run.title {
        return Err(ParseError::at(
            lines.len().max(title_line),
            "truncated: the last test printed no figures",
        ));
    }
    if let Some(rr_run) = &run.rr {
        let what = if rr_run.figures.is_some() { "no remote socket sizes" } else { "no figures" };
        return Err(ParseError::at(
            lines.last().map_or(1, |l| l.0).max(run.first_line),
            format!("truncated: the last TCP_RR test printed {what}"),
        ));
    }
    if documents.is_empty() {
        return Err(ParseError::whole("no netperf TCP_STREAM or TCP_RR result in the file"));
    }
    Ok(documents)
}

/// A figure netperf measured: a finite number, not negative (`nan`, `1e400` and `-5` are not).
fn measured(n: usize, text: &str, what: &str) -> Result<f64, ParseError> {
    let value: f64 = number(n, text, what)?;
    if !value.is_finite() || value < 0.0 {
        return Err(ParseError::at(n, format!("{what} {text}: not a measurement")));
    }
    Ok(value)
}

/// The receiver in `… TEST from SRC (ADDR) port 0 AF_INET to DEST (ADDR) port …`; older
/// netperfs print `… TEST to DEST`. An empty address (`()`) is none.
fn banner_receiver(banner: &str) -> (Option<String>, Option<String>) {
    let Some((_, after)) = banner.split_once(" to ") else {
        return (None, None);
    };
    let mut words = after.split_whitespace();
    let name = words.next().map(str::to_string);
    let address = words
        .next()
        .and_then(|w| w.strip_prefix('(')?.strip_suffix(')').map(str::to_string))
        .filter(|a| !a.is_empty());
    (name, address)
}

/// The unit in `bytes  bytes   bytes    secs.    MBytes/sec` or, with CPU columns,
/// `… secs.    MBytes  /s  % S …` (netperf pads the unit to 8 characters there).
fn title_unit(n: usize, line: &str) -> Result<String, ParseError> {
    let after = line.split_once("secs.").map(|(_, rest)| rest.trim_start()).unwrap_or_default();
    let unit: String = after.chars().take_while(|c| *c != '/').filter(|c| !c.is_whitespace()).collect();
    if bytes_per_unit(&unit).is_none() {
        return Err(ParseError::at(
            n,
            format!("throughput unit {unit:?} is not one netperf prints (-f B K M G b k m g)"),
        ));
    }
    Ok(unit)
}

fn document(
    run: &Run,
    n: usize,
    line: &str,
    unit: &str,
    cpu: bool,
    stated: &Stated,
) -> Result<Imported, ParseError> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let wanted = if cpu { 9 } else { 5 };
    if fields.len() < wanted {
        return Err(ParseError::at(
            n,
            format!("truncated: {} figures, the title promises {wanted}", fields.len()),
        ));
    }
    if fields.len() > wanted {
        return Err(ParseError::at(n, format!("{} figures, the title promises {wanted}", fields.len())));
    }
    let receive_buffer: u64 = number(n, fields[0], "receive socket size")?;
    let send_buffer: u64 = number(n, fields[1], "send socket size")?;
    let send_size: u64 = number(n, fields[2], "message size")?;
    let elapsed_s: f64 = measured(n, fields[3], "elapsed time")?;
    if elapsed_s == 0.0 {
        return Err(ParseError::at(n, format!("elapsed time {}: the test did not run", fields[3])));
    }
    let throughput: f64 = measured(n, fields[4], "throughput")?;
    // Local utilisation, remote, local service demand, remote; netperf prints -1 for the side
    // it did not measure (-c without -C, or -C without -c).
    let mut cpu_figures: [Option<f64>; 4] = [None; 4];
    if cpu {
        for (value, (text, what)) in cpu_figures.iter_mut().zip(fields[5..9].iter().zip([
            "local CPU utilisation",
            "remote CPU utilisation",
            "local service demand",
            "remote service demand",
        ])) {
            let value_read: f64 = number(n, text, what)?;
            if !value_read.is_finite() {
                return Err(ParseError::at(n, format!("{what} {text}: not a measurement")));
            }
            *value = Some(value_read).filter(|v| *v >= 0.0);
        }
    }
    let bytes_per_s = throughput * bytes_per_unit(unit).expect("the unit was checked");
    let mib_per_s = bytes_per_s / MIB;
    let sender_host = stated.host_or("local");
    let receiver_host =
        stated.peer.clone().or_else(|| run.receiver.clone()).unwrap_or_else(|| "remote".to_string());
    let repetition = Repetition {
        bytes: None,
        elapsed_s,
        sender_bytes: None,
        sender_elapsed_s: None,
        mib_per_s,
        mbit_per_s: bytes_per_s * 8.0 / 1e6,
        sender_cpu_percent: cpu_figures[0],
        receiver_cpu_percent: cpu_figures[1],
        sender_service_demand_us_per_kib: cpu_figures[2],
        receiver_service_demand_us_per_kib: cpu_figures[3],
    };
    let cpu_note = if cpu {
        "as netperf printed it: utilisation in % of all CPUs of each host, service demand in µs per KiB"
    } else {
        "not measured (netperf without -c/-C)"
    };
    let results = two_hosts::results(
        OneWay {
            sender_host: sender_host.clone(),
            receiver_host: receiver_host.clone(),
            receiver_address: run.receiver_address.clone(),
            send_buffer_bytes: Some(send_buffer),
            receive_buffer_bytes: Some(receive_buffer),
            repetition,
            intervals: None,
            streams: None,
            datagrams: None,
        },
        None,
        cpu_note,
    );
    let parameters = NetperfParameters {
        test: "TCP_STREAM".into(),
        send_size_bytes: send_size,
        send_buffer_bytes: send_buffer,
        receive_buffer_bytes: receive_buffer,
        cpu_measured: cpu,
        printed_unit: unit.into(),
    };
    Ok(Imported {
        kind: "net",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: 2, hosts: vec![sender_host.clone(), receiver_host.clone()] },
        started_at: None,
        tool_version: None,
        tool_command_line: None,
        lines: [run.first_line, n],
        summary: format!("net, {sender_host} → {receiver_host} {mib_per_s:.2} MiB/s ({throughput} {unit}/s)"),
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// The study's first row of Table A.1 as netperf 2.4 printed it: -c -C -n 2 -f M.
    pub const STUDY_RUN: &str = "\
TCP STREAM TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to node6 (10.0.0.6) port 0 AF_INET
Recv   Send    Send                          Utilization       Service Demand
Socket Socket  Message  Elapsed              Send     Recv     Send    Recv
Size   Size    Size     Time     Throughput  local    remote   local   remote
bytes  bytes   bytes    secs.    MBytes  /s  % S      % S      us/KB   us/KB

 87380  16384  16384    100.02      231.88   50.24    50.24    4.232   4.232  
";

    /// netperf 2.7's, without -c/-C and with the default unit (10^6 bits).
    const PLAIN_RUN: &str = "\
MIGRATED TCP STREAM TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to localhost () port 0 AF_INET : demo
Recv   Send    Send                          
Socket Socket  Message  Elapsed              
Size   Size    Size     Time     Throughput  
bytes  bytes   bytes    secs.    10^6bits/sec  

131072  16384  16384    10.00    22000.50   
";

    fn stated(host: Option<&str>) -> Stated {
        Stated::host(host)
    }

    #[test]
    fn the_studys_run_with_cpu_and_service_demand() {
        let runs = parse(STUDY_RUN, &stated(Some("node7"))).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.kind, "net");
        assert_eq!(run.lines, [1, 7]);
        let pair = &run.results["pairs"][0];
        assert_eq!(
            (pair["sender_host"].as_str(), pair["receiver_host"].as_str()),
            (Some("node7"), Some("node6"))
        );
        assert_eq!(pair["receiver_address"], "10.0.0.6");
        // -f M is 2^20 bytes per second: MiB/s as printed.
        assert_eq!(pair["median_mib_per_s"], 231.88);
        let rep = &pair["repetitions"][0];
        assert_eq!(rep["elapsed_s"], 100.02);
        assert!((rep["mbit_per_s"].as_f64().unwrap() - 231.88 * 1.048576 * 8.0).abs() < 1e-9);
        assert_eq!(rep["sender_cpu_percent"], 50.24);
        assert_eq!(rep["receiver_service_demand_us_per_kib"], 4.232);
        assert!(rep["bytes"].is_null());
        assert_eq!(pair["sender_socket"]["send_buffer_bytes"], 16384);
        assert_eq!(pair["receiver_socket"]["receive_buffer_bytes"], 87380);
        assert_eq!(run.parameters["send_size_bytes"], 16384);
        assert_eq!(run.parameters["printed_unit"], "MBytes");
        assert_eq!(run.results["matrix_mib_per_s"][0][1], 231.88);
    }

    #[test]
    fn every_unit_netperf_prints() {
        for (unit, bytes) in [
            ("Bytes", 1.0),
            ("KBytes", 1024.0),
            ("MBytes", 1048576.0),
            ("GBytes", 1073741824.0),
            ("10^0bits", 1.0),
            ("10^3bits", 125.0),
            ("10^6bits", 125000.0),
            ("10^9bits", 125000000.0),
        ] {
            assert_eq!(bytes_per_unit(unit), Some(bytes), "{unit}");
        }
        assert_eq!(bytes_per_unit("Trans"), None);
    }

    #[test]
    fn units_are_converted_and_cpu_columns_are_optional() {
        let runs = parse(PLAIN_RUN, &stated(None)).unwrap();
        let pair = &runs[0].results["pairs"][0];
        assert_eq!(
            (pair["sender_host"].as_str(), pair["receiver_host"].as_str()),
            (Some("local"), Some("localhost"))
        );
        assert!(pair["receiver_address"].is_null());
        assert!((pair["median_mbit_per_s"].as_f64().unwrap() - 22000.5).abs() < 1e-9);
        assert!((pair["median_mib_per_s"].as_f64().unwrap() - 22000.5e6 / 8.0 / MIB).abs() < 1e-9);
        assert!(pair["repetitions"][0]["sender_cpu_percent"].is_null());
        assert_eq!(runs[0].parameters["cpu_measured"], false);
        for (unit, factor) in [("KBytes", 1024.0), ("10^9bits", 1.25e8), ("GBytes", 1024.0 * MIB)] {
            let text = PLAIN_RUN.replace("10^6bits/sec", &format!("{unit}/sec"));
            let got = parse(&text, &stated(None)).unwrap()[0].results["pairs"][0]["median_mib_per_s"]
                .as_f64()
                .unwrap();
            assert!((got - 22000.5 * factor / MIB).abs() < 1e-6, "{unit}: {got}");
        }
        // -c without -C: the remote side is -1, not measured.
        let local_only = STUDY_RUN.replace("50.24    4.232   4.232", "-1.00    4.232   -1.000");
        let rep = &parse(&local_only, &stated(None)).unwrap()[0].results["pairs"][0]["repetitions"][0];
        assert_eq!(
            (rep["sender_cpu_percent"].as_f64(), rep["sender_service_demand_us_per_kib"].as_f64()),
            (Some(50.24), Some(4.232))
        );
        assert!(rep["receiver_cpu_percent"].is_null() && rep["receiver_service_demand_us_per_kib"].is_null());
        let peer = Stated { host: None, peer: Some("vm3".into()) };
        assert_eq!(parse(PLAIN_RUN, &peer).unwrap()[0].results["pairs"][0]["receiver_host"], "vm3");
    }

    #[test]
    fn concatenated_runs_become_one_document_each_even_without_banners() {
        let no_banner: String = STUDY_RUN.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let text = format!("{STUDY_RUN}{PLAIN_RUN}\n{no_banner}");
        let runs = parse(&text, &stated(None)).unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[1].lines, [8, 14]);
        assert_eq!(runs[2].lines, [16, 21]);
        assert_eq!(runs[2].results["pairs"][0]["receiver_host"], "remote");
    }

    #[test]
    fn broken_outputs_name_their_line() {
        // Cut inside the figures: fewer columns than the title has.
        let cut = STUDY_RUN.replace("   4.232   4.232  ", "");
        let err = parse(&cut, &stated(None)).unwrap_err();
        assert_eq!(err.line, Some(7));
        assert!(err.message.starts_with("truncated"), "{err:?}");
        // Cut before the figures.
        let cut: String = STUDY_RUN.lines().take(5).map(|l| format!("{l}\n")).collect();
        assert!(parse(&cut, &stated(None)).unwrap_err().message.contains("printed no figures"));
        let cut =
            format!("{}{STUDY_RUN}", STUDY_RUN.lines().take(5).map(|l| format!("{l}\n")).collect::<String>());
        assert_eq!(parse(&cut, &stated(None)).unwrap_err().line, Some(6));
        let udp = STUDY_RUN.replace("TCP STREAM TEST", "UDP REQUEST/RESPONSE TEST");
        assert!(parse(&udp, &stated(None)).unwrap_err().message.contains("not a TCP_STREAM or TCP_RR test"));
        let unit = STUDY_RUN.replace("MBytes  /s", "Furlongs/s");
        assert_eq!(parse(&unit, &stated(None)).unwrap_err().line, Some(5));
        let headless = " 87380  16384  16384    10.00    940.12\n";
        assert!(parse(headless, &stated(None)).unwrap_err().message.contains("-P 0"));
        // netperf before 2.4 names only the receiver.
        let old = STUDY_RUN
            .replace("from 0.0.0.0 (0.0.0.0) port 0 AF_INET to node6 (10.0.0.6) port 0 AF_INET", "to node6");
        assert_eq!(parse(&old, &stated(None)).unwrap()[0].results["pairs"][0]["receiver_host"], "node6");
        let chatter = format!("sending to node6\n{STUDY_RUN}");
        assert_eq!(
            parse(&chatter, &stated(None)).unwrap_err(),
            ParseError::at(1, "not netperf TCP_STREAM output: \"sending to node6\"")
        );
        let garbage = STUDY_RUN.replace("Size   Size", "Hello");
        assert_eq!(parse(&garbage, &stated(None)).unwrap_err().line, Some(4));
        let bad = STUDY_RUN.replace("231.88", "2x1.88");
        assert_eq!(
            parse(&bad, &stated(None)).unwrap_err(),
            ParseError::at(7, "throughput: \"2x1.88\" is not a number")
        );
    }

    /// Figures that are no measurement are refused at their line, not imported.
    #[test]
    fn figures_that_are_not_measurements_are_refused() {
        for (from, to, message) in [
            ("231.88", "nan", "throughput nan: not a measurement"),
            ("231.88", "1e400", "throughput 1e400: not a measurement"),
            ("231.88", "-231.88", "throughput -231.88: not a measurement"),
            ("100.02", "0.00", "elapsed time 0.00: the test did not run"),
            ("50.24    50.24", "50.24    nan", "remote CPU utilisation nan: not a measurement"),
            ("4.232   4.232  ", "4.232   4.232   7.0", "10 figures, the title promises 9"),
        ] {
            let text = STUDY_RUN.replacen(from, to, 1);
            assert_eq!(parse(&text, &stated(None)).unwrap_err(), ParseError::at(7, message), "{to}");
        }
    }
}
