//! netperf's TCP_RR output (nettest_omni.c's `send_tcp_rr`, printed as nettest_bsd.c's was):
//! the title `Local /Remote` … (with `-c`/`-C` the CPU and service demand columns; with `-f`
//! a throughput in the title's unit instead of `Trans. Rate per sec`), a line of figures
//! (`%-6d %-6d %-6d   %-6d  %-6.2f   %7.2f`) and a line of the remote socket sizes. Also
//! without the title (`-P 0`: taken as transactions per second, netperf's unit for RR without
//! `-f`) and the rate alone after the banner (`-v 0`). `-v 2`'s alignment block is skipped by
//! the caller.

use super::{bytes_per_unit, measured};
use crate::import::text::{ParseError, number};
use crate::import::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::NetperfRrParameters;
use crate::result::net::{NetResults, PairResult, RequestResponse, RrRepetition, SocketOptions};

/// A TCP_RR run's title as read so far.
#[derive(Debug, Default)]
pub struct Title {
    /// `None` until a title line names it: `Trans`, or a throughput unit (`10^6bits`).
    pub unit: Option<String>,
    pub cpu: bool,
}

/// A TCP_RR run being read: its title (none for `-P 0`), the first line of figures once read.
#[derive(Debug, Default)]
pub struct Run {
    pub title: Option<Title>,
    pub figures: Option<Figures>,
}

/// What a run printed.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub local_send_buffer: Option<u64>,
    pub local_receive_buffer: Option<u64>,
    pub remote_send_buffer: Option<u64>,
    pub remote_receive_buffer: Option<u64>,
    pub request: Option<u64>,
    pub response: Option<u64>,
    pub elapsed_s: Option<f64>,
    pub transactions_per_s: f64,
    /// Local and remote utilisation, local and remote service demand (`-1`: not measured).
    pub cpu: Option<[Option<f64>; 4]>,
    pub unit: String,
}

/// Whether a line of figures without a title is TCP_RR's (`-P 0`): 6 figures, 10 with CPU.
pub fn untitled(line: &str) -> bool {
    matches!(line.split_whitespace().count(), 6 | 10)
}

/// Reads one line of a TCP_RR run; the run's figures once complete.
pub fn line(run: &mut Run, n: usize, line: &str) -> Result<Option<Figures>, ParseError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let title_line = line.starts_with("Socket") || line.starts_with("Send") || words[0] == "bytes";
    if title_line {
        let Some(title) = run.title.as_mut().filter(|_| run.figures.is_none()) else {
            return Err(ParseError::at(n, format!("not netperf TCP_RR output: {line:?}")));
        };
        title_unit(title, n, line, &words)?;
        return Ok(None);
    }
    if !line.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return Err(ParseError::at(n, format!("not netperf TCP_RR output: {line:?}")));
    }
    if let Some(mut figures) = run.figures.take() {
        if words.len() != 2 {
            return Err(ParseError::at(
                n,
                format!("{} figures where the remote socket sizes belong", words.len()),
            ));
        }
        figures.remote_send_buffer = Some(number(n, words[0], "remote send socket size")?);
        figures.remote_receive_buffer = Some(number(n, words[1], "remote receive socket size")?);
        return Ok(Some(figures));
    }
    let unit = match &run.title {
        Some(Title { unit: Some(unit), .. }) => unit.clone(),
        Some(_) => return Err(ParseError::at(n, "figures before the title named their unit")),
        None => "Trans".into(),
    };
    match words.len() {
        // -v 0: the rate alone (with -c/-C netperf prints a service demand instead).
        1 => {
            Ok(Some(Figures { transactions_per_s: rate(n, words[0], &unit, 0)?, unit, ..Figures::default() }))
        }
        2 if words[1].len() == 1 && words[1].chars().all(|c| c.is_ascii_alphabetic()) => Err(ParseError::at(
            n,
            "netperf -v 0 with -c/-C prints a service demand, not the transaction rate: import its -v 1 output",
        )),
        6 | 10 => {
            let cpu = words.len() == 10;
            if run.title.as_ref().is_some_and(|t| t.cpu != cpu) {
                let wanted = if cpu { 6 } else { 10 };
                return Err(ParseError::at(
                    n,
                    format!("{} figures, the title promises {wanted}", words.len()),
                ));
            }
            run.figures = Some(first_line(n, &words, unit)?);
            Ok(None)
        }
        count => {
            Err(ParseError::at(n, format!("{count} figures: not a TCP_RR result line (6, or 10 with CPU)")))
        }
    }
}

/// The unit from the title: `Trans.` in the second line, or a throughput unit (`-f`) in the
/// third (with CPU columns) or fourth line (without).
fn title_unit(title: &mut Title, n: usize, line: &str, words: &[&str]) -> Result<(), ParseError> {
    let named = if line.starts_with("Socket") {
        title.cpu = line.contains("CPU");
        line.contains("Trans.").then(|| "Trans".to_string())
    } else if line.starts_with("Send") && title.cpu && line.contains("Time") {
        // cpu_title_tput: "Send Recv Size Size Time %-8.8s local remote local remote".
        (!line.contains("Rate")).then(|| words.get(5).map(|w| w.to_string())).flatten()
    } else if words[0] == "bytes" && !title.cpu && !line.contains("per sec") {
        let after = line.split_once("secs.").map(|(_, rest)| rest.trim()).unwrap_or_default();
        Some(after.split("/sec").next().unwrap_or_default().trim().to_string())
    } else {
        None
    };
    if let Some(unit) = named {
        if unit != "Trans" && bytes_per_unit(&unit).is_none() {
            return Err(ParseError::at(
                n,
                format!("unit {unit:?} is not one netperf prints (Trans, or -f B K M G b k m g)"),
            ));
        }
        title.unit = Some(unit);
    }
    Ok(())
}

/// Transactions per second from the printed figure: as printed, or a throughput of requests
/// and responses together (netperf: rate × (request + response) bytes).
fn rate(n: usize, text: &str, unit: &str, bytes_per_transaction: u64) -> Result<f64, ParseError> {
    let printed = measured(n, text, "transaction rate")?;
    let rate = match bytes_per_unit(unit) {
        None => printed,
        Some(_) if bytes_per_transaction == 0 => {
            return Err(ParseError::at(n, "a throughput of 0-byte transactions: no rate to compute"));
        }
        Some(bytes) => printed * bytes / bytes_per_transaction as f64,
    };
    if rate == 0.0 {
        return Err(ParseError::at(n, format!("transaction rate {text}: the test did not run")));
    }
    Ok(rate)
}

fn first_line(n: usize, words: &[&str], unit: String) -> Result<Figures, ParseError> {
    let request: u64 = number(n, words[2], "request size")?;
    let response: u64 = number(n, words[3], "response size")?;
    let elapsed_s = measured(n, words[4], "elapsed time")?;
    if elapsed_s == 0.0 {
        return Err(ParseError::at(n, format!("elapsed time {}: the test did not run", words[4])));
    }
    let cpu = if words.len() == 10 {
        let mut figures = [None; 4];
        let names = [
            "local CPU utilisation",
            "remote CPU utilisation",
            "local service demand",
            "remote service demand",
        ];
        for (value, (text, what)) in figures.iter_mut().zip(words[6..10].iter().zip(names)) {
            let read: f64 = number(n, text, what)?;
            if !read.is_finite() {
                return Err(ParseError::at(n, format!("{what} {text}: not a measurement")));
            }
            *value = Some(read).filter(|v| *v >= 0.0);
        }
        Some(figures)
    } else {
        None
    };
    Ok(Figures {
        local_send_buffer: Some(number(n, words[0], "local send socket size")?),
        local_receive_buffer: Some(number(n, words[1], "local receive socket size")?),
        request: Some(request),
        response: Some(response),
        elapsed_s: Some(elapsed_s),
        transactions_per_s: rate(n, words[5], &unit, request.saturating_add(response))?,
        cpu,
        unit,
        ..Figures::default()
    })
}

/// One imported run as a `net` document of one pair: the client (netperf) → the server.
pub fn document(
    lines: [usize; 2],
    banner: (Option<String>, Option<String>),
    figures: Figures,
    stated: &Stated,
) -> Imported {
    let client = stated.host_or("local");
    let server = stated.peer.clone().or(banner.0).unwrap_or_else(|| "remote".to_string());
    let [local_cpu, remote_cpu, local_demand, remote_demand] = figures.cpu.unwrap_or_default();
    let rate = figures.transactions_per_s;
    let rr = RequestResponse {
        request_bytes: figures.request,
        response_bytes: figures.response,
        transactions_per_s: rate,
        mean_rtt_us: 1e6 / rate,
        round_trip: None,
        repetitions: vec![RrRepetition {
            transactions: None,
            elapsed_s: figures.elapsed_s,
            transactions_per_s: rate,
            client_cpu_percent: local_cpu,
            server_cpu_percent: remote_cpu,
            client_service_demand_us_per_tr: local_demand,
            server_service_demand_us_per_tr: remote_demand,
        }],
    };
    let socket = |send, receive| {
        Some(SocketOptions {
            send_buffer_bytes: send,
            receive_buffer_bytes: receive,
            ..SocketOptions::default()
        })
    };
    let pair = PairResult {
        sender: 0,
        receiver: 1,
        sender_host: client.clone(),
        receiver_host: server.clone(),
        status: "ok".into(),
        receiver_address: banner.1,
        sender_socket: socket(figures.local_send_buffer, figures.local_receive_buffer),
        receiver_socket: socket(figures.remote_send_buffer, figures.remote_receive_buffer),
        rr: Some(rr),
        ..PairResult::default()
    };
    let cpu_measured = figures.cpu.is_some();
    let cpu_note = if cpu_measured {
        "as netperf printed it: utilisation in % of all CPUs of each host, service demand in µs per transaction"
    } else {
        "not measured (netperf without -c/-C)"
    };
    let results =
        NetResults { pairs: vec![pair], matrix_mib_per_s: vec![vec![None; 2]; 2], cpu_note: cpu_note.into() };
    let parameters = NetperfRrParameters {
        test: "TCP_RR".into(),
        request_size_bytes: figures.request,
        response_size_bytes: figures.response,
        local_send_buffer_bytes: figures.local_send_buffer,
        local_receive_buffer_bytes: figures.local_receive_buffer,
        remote_send_buffer_bytes: figures.remote_send_buffer,
        remote_receive_buffer_bytes: figures.remote_receive_buffer,
        cpu_measured,
        printed_unit: figures.unit,
    };
    Imported {
        kind: "net",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: 2, hosts: vec![client.clone(), server.clone()] },
        started_at: None,
        tool_version: None,
        tool_command_line: None,
        lines,
        summary: format!("net, {client} → {server} {rate:.2} transactions/s (TCP_RR)"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::import::Stated;
    use crate::import::text::ParseError;

    const TITLE: &str = "\
MIGRATED TCP REQUEST/RESPONSE TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to node6 (10.0.0.6) port 0 AF_INET : first burst 0
Local /Remote
Socket Size   Request  Resp.   Elapsed  Trans.
Send   Recv   Size     Size    Time     Rate         
bytes  Bytes  bytes    bytes   secs.    per sec   

";

    fn run(figures: &str) -> String {
        format!("{TITLE}{figures}\n16384  131072\n")
    }

    fn rate(text: &str) -> Result<f64, ParseError> {
        let docs = parse(text, &Stated::host(None))?;
        Ok(docs[0].results["pairs"][0]["rr"]["transactions_per_s"].as_f64().unwrap())
    }

    /// `-f m` prints the throughput of requests and responses together: the rate is recovered.
    #[test]
    fn a_throughput_title_gives_the_rate_back() {
        let band = TITLE
            .replace("Elapsed  Trans.", "Elapsed  ")
            .replace("Time     Rate         ", "Time     Throughput ")
            .replace("secs.    per sec   ", "secs.    10^6bits/sec   ");
        let text = format!("{band}16384  131072 1        1       10.00    0.37   \n16384  131072\n");
        let got = rate(&text).unwrap();
        assert!((got - 0.37 * 1e6 / 8.0 / 2.0).abs() < 1e-6, "{got}");
        let furlongs = text.replace("10^6bits/sec", "furlongs/sec");
        assert!(rate(&furlongs).unwrap_err().message.contains("\"furlongs\" is not one netperf prints"));
    }

    #[test]
    fn figures_that_are_no_measurement_are_refused_at_their_line() {
        assert_eq!(rate(&run("16384  131072 1        1       10.00    23340.87   ")).unwrap(), 23340.87);
        for (figures, message) in [
            ("16384  131072 1        1       10.00    nan   ", "transaction rate nan: not a measurement"),
            (
                "16384  131072 1        1       10.00    0.00   ",
                "transaction rate 0.00: the test did not run",
            ),
            ("16384  131072 1        1       0.00    5.00   ", "elapsed time 0.00: the test did not run"),
            ("16384  131072 1        1       10.00    -5   ", "transaction rate -5: not a measurement"),
            ("16384  131072 1  1  10.00  5.0  1.0  2.0  3.0  4.0", "10 figures, the title promises 6"),
            ("16384  131072 1  1  10.00", "5 figures: not a TCP_RR result line (6, or 10 with CPU)"),
            ("16384  131072 18446744073709551615 18446744073709551615 10.00 5.0", ""),
        ] {
            let got = rate(&run(figures));
            if message.is_empty() {
                assert!(got.is_ok(), "{figures}: {got:?}");
            } else {
                assert_eq!(got.unwrap_err(), ParseError::at(7, message), "{figures}");
            }
        }
        let v0_with_cpu = TITLE.lines().next().unwrap().to_string() + "\n21.770 S \n";
        assert!(rate(&v0_with_cpu).unwrap_err().message.contains("prints a service demand"));
        let no_sizes = format!("{TITLE}16384  131072 1        1       10.00    23340.87   \n1 2 3\n");
        assert_eq!(
            rate(&no_sizes).unwrap_err(),
            ParseError::at(8, "3 figures where the remote socket sizes belong")
        );
        let two_titles = format!("{TITLE}{TITLE}");
        assert!(rate(&two_titles).unwrap_err().message.contains("truncated"));
    }
}
