//! iperf3's JSON (`-J`), one object per test (several when runs were appended to one file):
//! a TCP test between the client and the server it connected to becomes a `net` document of
//! one pair. The pair's figure is what the receiver counted (`end.sum_received`: bytes over its
//! seconds), as iperf3's own "receiver" line; the sender's count, the streams and the intervals
//! are kept beside it. iperf3's CPU figures are its own process's CPU time over the test (per
//! cent of one CPU), not the host's as netperf's: kept, with no service demand.

use serde_json::Value;

use super::one_pair::{self, OnePair};
use super::text::{ParseError, json_values};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::Iperf3Parameters;
use crate::result::net::{Interval, Repetition};

const MIB: f64 = 1_048_576.0;

pub fn recognise(text: &str) -> Option<&'static str> {
    (text.trim_start().starts_with('{') && text.contains("\"iperf 3.") && text.contains("\"start\""))
        .then_some("its JSON's \"start\" and version \"iperf 3.x\"")
}

pub fn parse(text: &str, stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let tests = json_values(text)?;
    tests
        .into_iter()
        .map(|(lines, test)| imported(&test, lines, stated).map_err(|e| e.within(lines)))
        .collect()
}

fn number(value: &Value, path: &str) -> Result<f64, ParseError> {
    value.as_f64().filter(|v| v.is_finite()).ok_or_else(|| ParseError::whole(format!("no number at {path}")))
}

fn whole(value: &Value, path: &str) -> Result<u64, ParseError> {
    value.as_u64().ok_or_else(|| ParseError::whole(format!("no whole number at {path}")))
}

/// Bytes and seconds of an `end.sum_*` object, checked: a test that moved nothing or took no
/// time is not a measurement.
fn bytes_and_seconds(sum: &Value, path: &str) -> Result<(u64, f64), ParseError> {
    let bytes = whole(&sum["bytes"], &format!("{path}.bytes"))?;
    let seconds = number(&sum["seconds"], &format!("{path}.seconds"))?;
    if seconds <= 0.0 {
        return Err(ParseError::whole(format!("{path}.seconds is {seconds}: not a measured test")));
    }
    Ok((bytes, seconds))
}

fn imported(test: &Value, lines: [usize; 2], stated: &Stated) -> Result<Imported, ParseError> {
    if let Some(error) = test["error"].as_str() {
        return Err(ParseError::whole(format!("iperf3 reported an error, no measurement: {error}")));
    }
    let start = &test["start"];
    let asked = &start["test_start"];
    let protocol = asked["protocol"].as_str().unwrap_or_default();
    if protocol != "TCP" {
        return Err(ParseError::whole(format!(
            "protocol {protocol:?}: only TCP tests import (a UDP test's rate is the one asked for)"
        )));
    }
    let reverse = asked["reverse"].as_u64().unwrap_or(0) != 0;
    let end = &test["end"];
    let (received, received_s) = bytes_and_seconds(&end["sum_received"], "end.sum_received")?;
    let (sent, sent_s) = bytes_and_seconds(&end["sum_sent"], "end.sum_sent")?;
    let client = stated.host.clone().unwrap_or_else(|| {
        // system_info is `uname -a`: the second word is the client's host name.
        start["system_info"]
            .as_str()
            .and_then(|s| s.split_whitespace().nth(1))
            .unwrap_or("client")
            .to_string()
    });
    let server = stated
        .peer
        .clone()
        .or_else(|| start["connecting_to"]["host"].as_str().map(str::to_string))
        .ok_or_else(|| ParseError::whole("no start.connecting_to.host: not a client's output"))?;
    let (sender_host, receiver_host) = if reverse { (server, client) } else { (client, server) };
    let cpu = &end["cpu_utilization_percent"];
    let (client_cpu, server_cpu) = (cpu["host_total"].as_f64(), cpu["remote_total"].as_f64());
    let (sender_cpu, receiver_cpu) =
        if reverse { (server_cpu, client_cpu) } else { (client_cpu, server_cpu) };
    let mib_per_s = received as f64 / received_s / MIB;
    let repetition = Repetition {
        bytes: Some(received),
        elapsed_s: received_s,
        sender_bytes: Some(sent),
        sender_elapsed_s: Some(sent_s),
        mib_per_s,
        mbit_per_s: received as f64 * 8.0 / received_s / 1e6,
        sender_cpu_percent: sender_cpu,
        receiver_cpu_percent: receiver_cpu,
        sender_service_demand_us_per_kib: None,
        receiver_service_demand_us_per_kib: None,
    };
    let intervals = intervals(&test["intervals"])?;
    let (send_buffer, receive_buffer) = (start["sndbuf_actual"].as_u64(), start["rcvbuf_actual"].as_u64());
    let results = one_pair::results(
        OnePair {
            sender_host: sender_host.clone(),
            receiver_host: receiver_host.clone(),
            receiver_address: start["connecting_to"]["host"].as_str().map(str::to_string),
            send_buffer_bytes: send_buffer,
            receive_buffer_bytes: receive_buffer,
            repetition,
            intervals: Some(intervals),
        },
        "as iperf3 printed it: each end's iperf3 process, CPU time over the test in % of one CPU (not the host's, as netperf's); no service demand",
    );
    let duration = number(&asked["duration"], "start.test_start.duration")?;
    let bytes = asked["bytes"].as_u64().filter(|b| *b > 0);
    let parameters = Iperf3Parameters {
        protocol: protocol.into(),
        streams: whole(&asked["num_streams"], "start.test_start.num_streams")?,
        send_size_bytes: whole(&asked["blksize"], "start.test_start.blksize")?,
        duration_s: (bytes.is_none() && duration > 0.0).then_some(duration),
        bytes,
        omit_s: asked["omit"].as_f64().unwrap_or(0.0),
        reverse,
        send_buffer_bytes: send_buffer,
        receive_buffer_bytes: receive_buffer,
        congestion_control: end["sender_tcp_congestion"].as_str().map(str::to_string),
    };
    Ok(Imported {
        kind: "net",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: 2, hosts: vec![sender_host.clone(), receiver_host.clone()] },
        started_at: start["timestamp"]["timesecs"].as_u64().map(|secs| {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .to_string()
        }),
        tool_version: start["version"].as_str().map(str::to_string),
        tool_command_line: None,
        lines,
        summary: format!("net, {sender_host} → {receiver_host} {mib_per_s:.2} MiB/s (iperf3's receiver)"),
    })
}

/// Each interval's sum over the streams, as the client measured it.
fn intervals(list: &Value) -> Result<Vec<Interval>, ParseError> {
    let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter()
        .enumerate()
        .map(|(i, interval)| {
            let sum = &interval["sum"];
            let path = |key: &str| format!("intervals[{i}].sum.{key}");
            let (start_s, end_s) =
                (number(&sum["start"], &path("start"))?, number(&sum["end"], &path("end"))?);
            let bytes = whole(&sum["bytes"], &path("bytes"))?;
            let seconds = end_s - start_s;
            Ok(Interval {
                start_s,
                end_s,
                bytes,
                mib_per_s: if seconds > 0.0 { bytes as f64 / seconds / MIB } else { 0.0 },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import").join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn a_tcp_test_is_one_pair_at_the_receivers_rate() {
        let text = sample("iperf3-3.12-tcp.json");
        let raw: Value = serde_json::from_str(&text).unwrap();
        let runs = parse(&text, &Stated::host(Some("node7"))).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        let pair = &run.results["pairs"][0];
        assert_eq!(
            (pair["sender_host"].as_str(), pair["receiver_host"].as_str()),
            (Some("node7"), Some("127.0.0.1"))
        );
        let received = &raw["end"]["sum_received"];
        let expected = received["bytes"].as_f64().unwrap() / received["seconds"].as_f64().unwrap() / MIB;
        assert_eq!(pair["median_mib_per_s"].as_f64(), Some(expected));
        let mbit = received["bytes"].as_f64().unwrap() * 8.0 / received["seconds"].as_f64().unwrap() / 1e6;
        assert_eq!(pair["median_mbit_per_s"].as_f64(), Some(mbit));
        let repetition = &pair["repetitions"][0];
        assert_eq!(repetition["sender_bytes"], raw["end"]["sum_sent"]["bytes"]);
        assert_eq!(repetition["sender_cpu_percent"], raw["end"]["cpu_utilization_percent"]["host_total"]);
        assert_eq!(repetition["receiver_cpu_percent"], raw["end"]["cpu_utilization_percent"]["remote_total"]);
        assert!(repetition["sender_service_demand_us_per_kib"].is_null());
        let intervals = pair["intervals"].as_array().unwrap();
        assert_eq!(intervals.len(), 3);
        for (got, raw) in intervals.iter().zip(raw["intervals"].as_array().unwrap()) {
            let sum = &raw["sum"];
            assert_eq!(
                (got["start_s"].as_f64(), got["end_s"].as_f64(), got["bytes"].as_u64()),
                (sum["start"].as_f64(), sum["end"].as_f64(), sum["bytes"].as_u64())
            );
            let seconds = sum["end"].as_f64().unwrap() - sum["start"].as_f64().unwrap();
            assert_eq!(got["mib_per_s"].as_f64(), Some(sum["bytes"].as_f64().unwrap() / seconds / MIB));
        }
        assert_eq!(pair["sender_socket"]["send_buffer_bytes"], raw["start"]["sndbuf_actual"]);
        assert_eq!(pair["receiver_socket"]["receive_buffer_bytes"], raw["start"]["rcvbuf_actual"]);
        assert!(run.parameters["bytes"].is_null(), "limited by time, not bytes");
        assert_eq!(run.parameters["send_size_bytes"], 16384);
        assert_eq!(run.parameters["duration_s"], 3.0);
        assert_eq!(run.tool_version.as_deref(), Some("iperf 3.12"));
        assert!(run.started_at.as_deref().is_some_and(|t| t.starts_with("2026-")), "{:?}", run.started_at);
    }

    /// `-n`: a test limited by bytes has no duration; an interval of no length no rate.
    #[test]
    fn a_test_limited_by_bytes_and_an_empty_interval() {
        let mut test: Value = serde_json::from_str(&sample("iperf3-3.12-tcp.json")).unwrap();
        test["start"]["test_start"]["bytes"] = 1_000_000.into();
        test["start"]["test_start"]["duration"] = 0.into();
        test["intervals"][0]["sum"]["end"] = test["intervals"][0]["sum"]["start"].clone();
        let run = &parse(&test.to_string(), &Stated::host(None)).unwrap()[0];
        assert_eq!(
            (run.parameters["duration_s"].as_f64(), run.parameters["bytes"].as_u64()),
            (None, Some(1_000_000))
        );
        assert_eq!(run.results["pairs"][0]["intervals"][0]["mib_per_s"], 0.0);
    }

    #[test]
    fn reverse_swaps_the_ends_and_parallel_streams_are_summed() {
        let text = sample("iperf3-3.12-two-streams-reverse.json");
        let runs = parse(&text, &Stated { host: Some("node7".into()), peer: Some("node6".into()) }).unwrap();
        let pair = &runs[0].results["pairs"][0];
        assert_eq!(
            (pair["sender_host"].as_str(), pair["receiver_host"].as_str()),
            (Some("node6"), Some("node7"))
        );
        assert_eq!(runs[0].parameters["streams"], 2);
        assert_eq!(runs[0].parameters["reverse"], true);
    }

    #[test]
    fn appended_tests_are_one_document_each_and_failures_are_refused() {
        let one = sample("iperf3-3.12-tcp.json");
        let two = format!("{one}{}", sample("iperf3-3.12-two-streams-reverse.json"));
        let runs = parse(&two, &Stated::host(None)).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].lines, [1, one.lines().count()]);
        assert_eq!(runs[1].lines[0], one.lines().count() + 1);
        assert_eq!(runs[0].results["pairs"][0]["sender_host"], "vm", "uname's host name when unstated");
        let err = parse(&sample("iperf3-3.12-refused.json"), &Stated::host(None)).unwrap_err();
        assert!(
            err.message.contains("iperf3 reported an error, no measurement: unable to connect"),
            "{err:?}"
        );
        let udp = one.replace("\"protocol\":\t\"TCP\"", "\"protocol\":\t\"UDP\"");
        assert!(parse(&udp, &Stated::host(None)).unwrap_err().message.contains("only TCP tests import"));
        let no_time = one.replacen("\"seconds\":", "\"secs\":", usize::MAX);
        assert!(parse(&no_time, &Stated::host(None)).unwrap_err().message.contains("no number at"));
        assert!(recognise(&one).is_some() && recognise("{\"tests\": []}").is_none());
    }
}
