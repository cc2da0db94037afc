//! Parameters and results of `pvbench net`. Throughput in MiB/s (2^20 bytes/s, what netperf's
//! `-f M` prints) and Mbit/s (10^6 bits/s); CPU in percent of all CPUs of a host; service
//! demand in µs of CPU per KiB moved (netperf's definition). Request/response (netperf's
//! TCP_RR) in transactions per second and round trips in µs; MPI latency (osu_latency) in µs,
//! half a round trip.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetParameters {
    /// `tcp` or `mpi`.
    pub transport: String,
    /// How long each repetition runs, or how many bytes it moves (one of the two).
    pub duration_s: Option<f64>,
    pub bytes: Option<u64>,
    pub warmup_s: f64,
    pub repeat: u32,
    /// TCP: bytes per send call; MPI: bytes per message.
    pub send_size_bytes: u64,
    /// MPI: messages in flight per window.
    pub window: Option<u32>,
    pub send_buffer_bytes: Option<u64>,
    pub receive_buffer_bytes: Option<u64>,
    pub nodelay: bool,
    pub address_from: Option<String>,
    pub concurrent: bool,
    /// `[sender, receiver]` in the order run.
    pub pairs: Vec<[u32; 2]>,
    pub timeout_s: f64,
    pub keep_going: bool,
    /// What was measured per pair: `stream`, `rr`, `latency`; absent: the stream alone (the
    /// documents before rr and latency, and the default run, which writes what they wrote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
    /// latency: timed round trips per message size up to 8 KiB (a tenth of them above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_iterations: Option<u32>,
}

/// The socket options in effect on one end (getsockopt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketOptions {
    pub send_buffer_bytes: Option<u64>,
    pub receive_buffer_bytes: Option<u64>,
    pub nodelay: Option<bool>,
    pub mss_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repetition {
    /// Received (null for an imported netperf output, which prints only the rate).
    pub bytes: Option<u64>,
    /// On the receiver, from the common start to the last byte (netperf: its elapsed time).
    pub elapsed_s: f64,
    /// What the sender counted: bytes written, and the time to the last write's return.
    pub sender_bytes: Option<u64>,
    pub sender_elapsed_s: Option<f64>,
    pub mib_per_s: f64,
    pub mbit_per_s: f64,
    /// Null where not measured (netperf without `-c`/`-C`).
    pub sender_cpu_percent: Option<f64>,
    pub receiver_cpu_percent: Option<f64>,
    /// From the sender's bytes and time, and the receiver's (netperf's local and remote).
    pub sender_service_demand_us_per_kib: Option<f64>,
    pub receiver_service_demand_us_per_kib: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PairResult {
    pub sender: u32,
    pub receiver: u32,
    pub sender_host: String,
    pub receiver_host: String,
    /// Pairs of one round ran at the same time (`--concurrent`); otherwise one per round.
    pub round: u32,
    /// `ok` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// TCP: the receiver's listening address and the sender's local address.
    pub receiver_address: Option<String>,
    pub sender_address: Option<String>,
    pub sender_socket: Option<SocketOptions>,
    pub receiver_socket: Option<SocketOptions>,
    pub repetitions: Vec<Repetition>,
    pub min_mib_per_s: Option<f64>,
    pub median_mib_per_s: Option<f64>,
    pub max_mib_per_s: Option<f64>,
    pub median_mbit_per_s: Option<f64>,
    /// Where a transcribed pair's figures stand in its publication (`Tabelle A.2, row vm3-no6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// An imported tool's report per interval (iperf3's `intervals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Vec<Interval>>,
    /// An imported tool's parallel streams of the pair (iperf3's `-P`): the pair's figures are
    /// their sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<Vec<Stream>>,
    /// A datagram test's loss and jitter, as the receiver counted them (iperf3's UDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datagrams: Option<Datagrams>,
    /// Request/response over TCP (`--test rr`, netperf's TCP_RR): the sender is the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr: Option<RequestResponse>,
    /// MPI ping-pong per message size (`--test latency`, osu_latency): the sender pings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Vec<LatencyPoint>>,
}

/// Request/response transactions, one at a time: the client sends a request and waits for its
/// response before the next (netperf's TCP_RR; 1 byte each way unless imported otherwise).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestResponse {
    /// Null where the tool's output does not say (netperf's `-v 0`).
    pub request_bytes: Option<u64>,
    pub response_bytes: Option<u64>,
    /// Median over the repetitions.
    pub transactions_per_s: f64,
    /// netperf's mean latency: 1 / `transactions_per_s`, in µs.
    pub mean_rtt_us: f64,
    /// Every timed transaction of every repetition, on the client; null where the tool prints
    /// only the rate (netperf's default output).
    pub round_trip: Option<Percentiles>,
    pub repetitions: Vec<RrRepetition>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RrRepetition {
    /// Null where the tool prints only the rate.
    pub transactions: Option<u64>,
    pub elapsed_s: Option<f64>,
    pub transactions_per_s: f64,
    /// Null where not measured (netperf without `-c`/`-C`).
    pub client_cpu_percent: Option<f64>,
    pub server_cpu_percent: Option<f64>,
    /// µs of CPU per transaction (netperf's `us/Tr`).
    pub client_service_demand_us_per_tr: Option<f64>,
    pub server_service_demand_us_per_tr: Option<f64>,
}

/// One message size of a ping-pong, as osu_latency measures it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyPoint {
    pub size_bytes: u64,
    /// Round trips timed, after `skipped` untimed ones (osu_latency's warm-up).
    pub iterations: u32,
    pub skipped: u32,
    /// osu_latency's figure: the timed loop's time / (2 × iterations), in µs.
    pub latency_us: f64,
    /// Each timed round trip halved.
    pub one_way: Percentiles,
}

/// The distribution of timed samples, in µs. Percentiles by nearest rank, within 1 % of the
/// sample's value (kept in buckets 1 % wide, so a long run needs no more memory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub samples: u64,
    pub min_us: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// One of a pair's parallel streams, as the tool reported it at the end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    /// The tool's name for it (iperf3: the client's socket number).
    pub id: u64,
    /// What the receiver counted, over its seconds; null where the tool prints only the
    /// sender's count per stream (iperf3's UDP).
    pub bytes: Option<u64>,
    pub elapsed_s: Option<f64>,
    pub mib_per_s: Option<f64>,
    pub sender_bytes: Option<u64>,
    pub sender_elapsed_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datagrams: Option<Datagrams>,
}

/// What a datagram (UDP) test lost on the way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Datagrams {
    /// Datagrams sent (the sender's count where the tool has it, else the receiver's).
    pub packets: u64,
    pub lost_packets: u64,
    pub lost_percent: f64,
    /// Mean deviation of the datagrams' transit times, as the receiver measured it.
    pub jitter_ms: f64,
    /// Datagrams that arrived out of order; per stream only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_order: Option<u64>,
}

/// A tool's figures for one interval of a run, as it measured them on its side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interval {
    pub start_s: f64,
    pub end_s: f64,
    pub bytes: u64,
    pub mib_per_s: f64,
    /// Left out of the run's figures by the tool (iperf3's `-O`: the first seconds).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omitted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetResults {
    pub pairs: Vec<PairResult>,
    /// Median MiB/s, rows = sender rank, columns = receiver rank; null where not run or failed.
    pub matrix_mib_per_s: Vec<Vec<Option<f64>>>,
    pub cpu_note: String,
}

/// netperf's service demand: µs of CPU per KiB, from the host's busy share of all CPUs.
pub fn service_demand_us_per_kib(cpu_percent: f64, cpus: u32, bytes: u64, elapsed_s: f64) -> f64 {
    service_demand_us_per_unit(cpu_percent, cpus, bytes as f64 / 1024.0 / elapsed_s)
}

/// µs of CPU per unit of work (a KiB, a transaction) done at `units_per_s`.
pub fn service_demand_us_per_unit(cpu_percent: f64, cpus: u32, units_per_s: f64) -> f64 {
    if units_per_s > 0.0 { cpu_percent * 10_000.0 * f64::from(cpus) / units_per_s } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_demand_is_netperfs() {
        // One of two CPUs busy (50%) while 100 MiB/s move: 2 CPU-µs... per KiB:
        // 1 CPU-second per second / 102400 KiB per second = 9.765625 µs per KiB.
        let sd = service_demand_us_per_kib(50.0, 2, 100 * 1024 * 1024, 1.0);
        assert!((sd - 9.765625).abs() < 1e-9, "{sd}");
        assert_eq!(service_demand_us_per_kib(50.0, 2, 0, 1.0), 0.0);
        // The same bytes over two seconds: half the rate, twice the CPU per KiB.
        let slow = service_demand_us_per_kib(50.0, 2, 100 * 1024 * 1024, 2.0);
        assert!((slow - 2.0 * 9.765625).abs() < 1e-9, "{slow}");
    }
}
