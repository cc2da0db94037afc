//! iperf3's JSON (`-J`), one object per test (several when runs were appended to one file): a
//! TCP or UDP test between the client and the server it connected to becomes a `net` document
//! of one pair, or with `--bidir` of two (one each way, sent at the same time). A pair's figure
//! is what its receiver counted (`end.sum_received`: bytes over its seconds, summed over the
//! `-P` streams), as iperf3's own "receiver" line; the sender's count, each stream's figures,
//! the intervals (those `-O` omitted marked) and a UDP test's loss and jitter are kept beside
//! it. iperf3's CPU figures are its own process's CPU time over the test (per cent of one CPU),
//! not the host's as netperf's: kept, with no service demand.

mod direction;

use serde_json::Value;

use super::text::{ParseError, json_values};
use super::two_hosts::{self, OneWay};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::Iperf3Parameters;
use crate::result::net::Repetition;
use direction::{Measured, Way, measure, optional_measure, whole};

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

/// iperf3 writes `"error"` (a message) when a test failed, whatever it measured before: any
/// value there, of any type, means the figures are not a test's.
fn refuse_an_error(test: &Value) -> Result<(), ParseError> {
    let Some(error) = test.get("error") else { return Ok(()) };
    let said = match error {
        Value::String(message) => message.clone(),
        other => {
            let mut text = other.to_string();
            if text.len() > 80 {
                text = format!("{}…", text.chars().take(80).collect::<String>());
            }
            format!("\"error\" is {text}, not iperf3's message")
        }
    };
    Err(ParseError::whole(format!("iperf3 reported an error, no measurement: {said}")))
}

fn imported(test: &Value, lines: [usize; 2], stated: &Stated) -> Result<Imported, ParseError> {
    refuse_an_error(test)?;
    let start = &test["start"];
    let asked = &start["test_start"];
    let protocol = asked["protocol"].as_str().unwrap_or_default();
    let udp = match protocol {
        "TCP" => false,
        "UDP" => true,
        _ => return Err(ParseError::whole(format!("protocol {protocol:?}: only TCP and UDP tests import"))),
    };
    let reverse = whole(&asked["reverse"], "start.test_start.reverse")? != 0;
    let end = &test["end"];
    // iperf3 3.12 does not say --bidir in test_start: its reverse direction's sums do.
    let bidirectional = !end["sum_received_bidir_reverse"].is_null();
    if bidirectional && reverse {
        return Err(ParseError::whole("reverse and bidirectional at once: not a test iperf3 runs"));
    }
    let main = Way::Main { client_sends: !reverse };
    let forth = direction::measured(test, main, udp)?;
    let back = bidirectional.then(|| direction::measured(test, Way::BidirReverse, udp)).transpose()?;
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
    let ends = Ends {
        client,
        server,
        server_address: start["connecting_to"]["host"].as_str().map(str::to_string),
        client_cpu: optional_measure(
            &end["cpu_utilization_percent"]["host_total"],
            "end.cpu_utilization_percent.host_total",
        )?,
        server_cpu: optional_measure(
            &end["cpu_utilization_percent"]["remote_total"],
            "end.cpu_utilization_percent.remote_total",
        )?,
        send_buffer: start["sndbuf_actual"].as_u64(),
        receive_buffer: start["rcvbuf_actual"].as_u64(),
    };
    let forth = ends.way(main, forth);
    let back = back.map(|back| ends.way(Way::BidirReverse, back));
    let summary = summary(&forth, back.as_ref());
    let hosts = vec![forth.sender_host.clone(), forth.receiver_host.clone()];
    let cpu_note = if bidirectional {
        "as iperf3 printed it: each end's iperf3 process, CPU time over the test in % of one CPU (not the host's, as netperf's), one figure per end for both directions; no service demand"
    } else {
        "as iperf3 printed it: each end's iperf3 process, CPU time over the test in % of one CPU (not the host's, as netperf's); no service demand"
    };
    let results = two_hosts::results(forth, back, cpu_note);
    let parameters = parameters(test, protocol, reverse, bidirectional)?;
    Ok(Imported {
        kind: "net",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: 2, hosts },
        started_at: start["timestamp"]["timesecs"].as_u64().map(|secs| {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .to_string()
        }),
        tool_version: start["version"].as_str().map(str::to_string),
        tool_command_line: None,
        lines,
        summary,
    })
}

/// The two ends of a test: who they are, their CPU and the client's socket buffers.
struct Ends {
    client: String,
    server: String,
    server_address: Option<String>,
    client_cpu: Option<f64>,
    server_cpu: Option<f64>,
    send_buffer: Option<u64>,
    receive_buffer: Option<u64>,
}

impl Ends {
    /// One direction as a pair, its sender and receiver the ends that sent and received.
    fn way(&self, way: Way, measured: Measured) -> OneWay {
        let mib_per_s = measured.mib_per_s();
        let client_sends = way.client_sends();
        let (sender_host, receiver_host) =
            if client_sends { (&self.client, &self.server) } else { (&self.server, &self.client) };
        let (sender_cpu, receiver_cpu) = if client_sends {
            (self.client_cpu, self.server_cpu)
        } else {
            (self.server_cpu, self.client_cpu)
        };
        // The buffers iperf3 prints are the client's: its send buffer, its receive buffer.
        let (send_buffer, receive_buffer) =
            if client_sends { (self.send_buffer, None) } else { (None, self.receive_buffer) };
        OneWay {
            sender_host: sender_host.clone(),
            receiver_host: receiver_host.clone(),
            receiver_address: self.server_address.clone().filter(|_| client_sends),
            send_buffer_bytes: send_buffer,
            receive_buffer_bytes: receive_buffer,
            repetition: Repetition {
                bytes: Some(measured.received_bytes),
                elapsed_s: measured.received_s,
                sender_bytes: Some(measured.sent_bytes),
                sender_elapsed_s: Some(measured.sent_s),
                mib_per_s,
                mbit_per_s: measured.received_bytes as f64 * 8.0 / measured.received_s / 1e6,
                sender_cpu_percent: sender_cpu,
                receiver_cpu_percent: receiver_cpu,
                sender_service_demand_us_per_kib: None,
                receiver_service_demand_us_per_kib: None,
            },
            intervals: Some(measured.intervals),
            streams: Some(measured.streams),
            datagrams: measured.datagrams,
        }
    }
}

fn summary(forth: &OneWay, back: Option<&OneWay>) -> String {
    let one = |way: &OneWay| {
        let loss = way.datagrams.as_ref().map(|d| format!(", {}% lost", d.lost_percent)).unwrap_or_default();
        format!("{} → {} {:.2} MiB/s{loss}", way.sender_host, way.receiver_host, way.repetition.mib_per_s)
    };
    match back {
        None => format!("net, {} (iperf3's receiver)", one(forth)),
        Some(back) => format!("net, {} and {} (iperf3's receivers, both at once)", one(forth), one(back)),
    }
}

fn parameters(
    test: &Value,
    protocol: &str,
    reverse: bool,
    bidirectional: bool,
) -> Result<Iperf3Parameters, ParseError> {
    let start = &test["start"];
    let asked = &start["test_start"];
    let duration = measure(&asked["duration"], "start.test_start.duration")?;
    let bytes = asked["bytes"].as_u64().filter(|b| *b > 0);
    let blocks = asked["blocks"].as_u64().filter(|b| *b > 0);
    Ok(Iperf3Parameters {
        protocol: protocol.into(),
        streams: whole(&asked["num_streams"], "start.test_start.num_streams")?,
        send_size_bytes: whole(&asked["blksize"], "start.test_start.blksize")?,
        duration_s: (bytes.is_none() && blocks.is_none() && duration > 0.0).then_some(duration),
        bytes,
        blocks,
        omit_s: optional_measure(&asked["omit"], "start.test_start.omit")?.unwrap_or(0.0),
        reverse,
        bidirectional,
        target_bits_per_s: asked["target_bitrate"].as_u64().filter(|b| *b > 0),
        send_buffer_bytes: start["sndbuf_actual"].as_u64(),
        receive_buffer_bytes: start["rcvbuf_actual"].as_u64(),
        congestion_control: test["end"]["sender_tcp_congestion"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::direction::MIB;
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
        assert!(
            pair["receiver_socket"]["receive_buffer_bytes"].is_null(),
            "iperf3's rcvbuf_actual is the client's, not the receiving server's"
        );
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
        let sctp = one.replace("\"protocol\":\t\"TCP\"", "\"protocol\":\t\"SCTP\"");
        assert!(
            parse(&sctp, &Stated::host(None)).unwrap_err().message.contains("only TCP and UDP tests import")
        );
        let no_time = one.replacen("\"seconds\":", "\"secs\":", usize::MAX);
        assert!(parse(&no_time, &Stated::host(None)).unwrap_err().message.contains("no number at"));
        assert!(recognise(&one).is_some() && recognise("{\"tests\": []}").is_none());
    }

    /// Values no iperf3 writes: each is one error naming its place, never a panic or a figure.
    #[test]
    fn hostile_values_are_one_clear_error() {
        let test: Value = serde_json::from_str(&sample("iperf3-3.12-tcp.json")).unwrap();
        let refused = |edit: &dyn Fn(&mut Value)| {
            let mut test = test.clone();
            edit(&mut test);
            parse(&test.to_string(), &Stated::host(None)).unwrap_err().message
        };
        for (error, said) in [
            (serde_json::json!(5), "\"error\" is 5, not iperf3's message"),
            (serde_json::json!({"code": 1}), "\"error\" is {\"code\":1}"),
            (serde_json::json!(["a"]), "\"error\" is [\"a\"]"),
            (Value::Null, "\"error\" is null"),
            (serde_json::json!("x".repeat(500)), "xxx"),
        ] {
            let message = refused(&|t| t["error"] = error.clone());
            assert!(message.starts_with("iperf3 reported an error, no measurement: "), "{message}");
            assert!(message.contains(said), "{message}");
        }
        let long = refused(&|t| t["error"] = Value::Array(vec![0.into(); 200]));
        assert!(long.chars().count() < 160, "a hostile value is shortened: {long}");
        for (edit, said) in [
            (
                &(|t: &mut Value| t["end"]["sum_received"]["bytes"] = (-5).into()) as &dyn Fn(&mut Value),
                "no whole number at end.sum_received.bytes",
            ),
            (
                &|t: &mut Value| t["end"]["sum_received"]["bytes"] = 0.into(),
                "end.sum_received.bytes is 0: nothing arrived",
            ),
            (
                &|t: &mut Value| t["end"]["sum_received"]["seconds"] = "NaN".into(),
                "no number at end.sum_received.seconds",
            ),
            (
                &|t: &mut Value| t["end"]["sum_received"]["seconds"] = 0.into(),
                "end.sum_received.seconds is 0.0: not a measured test",
            ),
            (
                &|t: &mut Value| t["end"]["sum_sent"]["seconds"] = (-1.5).into(),
                "end.sum_sent.seconds is -1.5",
            ),
            (
                &|t: &mut Value| t["end"]["cpu_utilization_percent"]["host_total"] = (-3).into(),
                "host_total is -3: not a measurement",
            ),
            (
                &|t: &mut Value| t["start"]["test_start"]["reverse"] = "yes".into(),
                "no whole number at start.test_start.reverse",
            ),
            (
                &|t: &mut Value| t["intervals"][1]["sum"]["end"] = 0.5.into(),
                "intervals[1].sum.end: ends before it starts",
            ),
            (
                &|t: &mut Value| t["end"]["streams"][0]["receiver"]["end"] = 0.into(),
                "end.streams[0].receiver: ends before it starts",
            ),
        ] {
            let message = refused(edit);
            assert!(message.contains(said), "{said:?} in {message:?}");
        }
        let huge = sample("iperf3-3.12-tcp.json").replacen("\"seconds\":", "\"seconds\": 1e400, \"x\":", 1);
        let err = parse(&huge, &Stated::host(None)).unwrap_err();
        assert!(err.message.starts_with("not JSON: number out of range"), "{err:?}");
    }

    /// `--bidir` with `-P 2`: a pair each way, each the sum of its own two streams.
    #[test]
    fn bidir_is_a_pair_each_way_with_its_own_streams() {
        let text = sample("iperf3-3.12-bidir-two-streams.json");
        let raw: Value = serde_json::from_str(&text).unwrap();
        let run =
            &parse(&text, &Stated { host: Some("node7".into()), peer: Some("node6".into()) }).unwrap()[0];
        let pairs = run.results["pairs"].as_array().unwrap();
        let ends: Vec<(&str, &str, u64, u64)> = pairs
            .iter()
            .map(|p| {
                let ends = (p["sender_host"].as_str().unwrap(), p["receiver_host"].as_str().unwrap());
                (ends.0, ends.1, p["sender"].as_u64().unwrap(), p["receiver"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(ends, [("node7", "node6", 0, 1), ("node6", "node7", 1, 0)]);
        for (pair, suffix) in pairs.iter().zip(["", "_bidir_reverse"]) {
            let sum = &raw["end"][format!("sum_received{suffix}")];
            let expected = sum["bytes"].as_f64().unwrap() / sum["seconds"].as_f64().unwrap() / MIB;
            assert_eq!(pair["median_mib_per_s"].as_f64(), Some(expected));
            let streams = pair["streams"].as_array().unwrap();
            assert_eq!(streams.len(), 2);
            let bytes: u64 = streams.iter().map(|s| s["bytes"].as_u64().unwrap()).sum();
            assert_eq!(Some(bytes), sum["bytes"].as_u64(), "the streams add up to the receiver's sum");
            assert_eq!(
                pair["intervals"][0]["bytes"],
                raw["intervals"][0][format!("sum{}", if suffix.is_empty() { "" } else { "_bidir_reverse" })]
                    ["bytes"]
            );
        }
        assert_eq!(run.results["matrix_mib_per_s"][1][0], pairs[1]["median_mib_per_s"]);
        assert_eq!(run.parameters["bidirectional"], true);
        assert!(run.results["cpu_note"].as_str().unwrap().contains("both directions"));
    }

    /// UDP: the receiver's bytes over its time, its loss and jitter; each stream's as iperf3
    /// prints them (the sender's count, the receiver's loss).
    #[test]
    fn udp_keeps_the_receivers_figure_loss_and_jitter() {
        for (file, sender) in [("iperf3-3.12-udp.json", "node7"), ("iperf3-3.12-udp-reverse.json", "node6")] {
            let text = sample(file);
            let raw: Value = serde_json::from_str(&text).unwrap();
            let run =
                &parse(&text, &Stated { host: Some("node7".into()), peer: Some("node6".into()) }).unwrap()[0];
            let pair = &run.results["pairs"][0];
            assert_eq!(pair["sender_host"], sender, "{file}");
            let received = &raw["end"]["sum_received"];
            let expected = received["bytes"].as_f64().unwrap() / received["seconds"].as_f64().unwrap() / MIB;
            assert_eq!(pair["median_mib_per_s"].as_f64(), Some(expected));
            let datagrams = &pair["datagrams"];
            for key in ["packets", "lost_packets", "lost_percent", "jitter_ms"] {
                assert_eq!(datagrams[key].as_f64(), received[key].as_f64(), "{file} {key}");
            }
            let stream = &pair["streams"][0];
            assert_eq!(stream["sender_bytes"], raw["end"]["streams"][0]["udp"]["bytes"]);
            assert_eq!(stream["datagrams"]["out_of_order"], raw["end"]["streams"][0]["udp"]["out_of_order"]);
            assert!(stream["bytes"].is_null(), "iperf3 prints no receiver's bytes per UDP stream");
            assert_eq!(run.parameters["protocol"], "UDP");
            assert_eq!(run.parameters["target_bits_per_s"], 10_000_000);
        }
    }

    /// `-n`, `-O` and `-P 3` as iperf3 3.12 wrote them.
    #[test]
    fn bytes_omitted_seconds_and_three_streams() {
        let run = &parse(&sample("iperf3-3.12-bytes.json"), &Stated::host(None)).unwrap()[0];
        assert_eq!(
            (run.parameters["bytes"].as_u64(), run.parameters["duration_s"].as_f64()),
            (Some(64 << 20), None)
        );
        // iperf3's receiver counts what arrived before the sender's end: at most the -n bytes.
        let repetition = &run.results["pairs"][0]["repetitions"][0];
        assert_eq!(repetition["sender_bytes"], 64 << 20);
        assert!(repetition["bytes"].as_u64().unwrap() <= 64 << 20);
        let run = &parse(&sample("iperf3-3.12-omit.json"), &Stated::host(None)).unwrap()[0];
        let intervals = run.results["pairs"][0]["intervals"].as_array().unwrap();
        assert_eq!(intervals[0]["omitted"], true);
        assert!(intervals[1].get("omitted").is_none(), "only the omitted are marked");
        assert_eq!(run.parameters["omit_s"], 1.0);
        let text = sample("iperf3-3.12-three-streams.json");
        let raw: Value = serde_json::from_str(&text).unwrap();
        let pair = &parse(&text, &Stated::host(None)).unwrap()[0].results["pairs"][0];
        let streams = pair["streams"].as_array().unwrap();
        assert_eq!(streams.len(), 3);
        let sum: f64 = streams.iter().map(|s| s["mib_per_s"].as_f64().unwrap()).sum();
        let pair_rate = pair["median_mib_per_s"].as_f64().unwrap();
        assert!((sum - pair_rate).abs() < 1e-9 * pair_rate, "{sum} vs {pair_rate}");
        for (got, raw) in streams.iter().zip(raw["end"]["streams"].as_array().unwrap()) {
            assert_eq!(got["id"], raw["receiver"]["socket"]);
            assert_eq!(got["sender_bytes"], raw["sender"]["bytes"]);
        }
    }
}
