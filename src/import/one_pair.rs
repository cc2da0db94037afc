//! What a two-host network tool (netperf, iperf3) measured, as `net` results: one pair,
//! sender rank 0 to receiver rank 1, of one repetition.

use crate::result::net::{Interval, NetResults, PairResult, Repetition, SocketOptions};

/// The pair as the tool saw it; the buffers are the sender's send and the receiver's receive
/// socket buffers.
pub struct OnePair {
    pub sender_host: String,
    pub receiver_host: String,
    pub receiver_address: Option<String>,
    pub send_buffer_bytes: Option<u64>,
    pub receive_buffer_bytes: Option<u64>,
    pub repetition: Repetition,
    pub intervals: Option<Vec<Interval>>,
}

pub fn results(pair: OnePair, cpu_note: &str) -> NetResults {
    let mib_per_s = pair.repetition.mib_per_s;
    let result = PairResult {
        sender: 0,
        receiver: 1,
        sender_host: pair.sender_host,
        receiver_host: pair.receiver_host,
        round: 0,
        status: "ok".into(),
        error: None,
        receiver_address: pair.receiver_address,
        sender_address: None,
        sender_socket: Some(SocketOptions {
            send_buffer_bytes: pair.send_buffer_bytes,
            ..SocketOptions::default()
        }),
        receiver_socket: Some(SocketOptions {
            receive_buffer_bytes: pair.receive_buffer_bytes,
            ..SocketOptions::default()
        }),
        min_mib_per_s: Some(mib_per_s),
        median_mib_per_s: Some(mib_per_s),
        max_mib_per_s: Some(mib_per_s),
        median_mbit_per_s: Some(pair.repetition.mbit_per_s),
        repetitions: vec![pair.repetition],
        source: None,
        intervals: pair.intervals,
    };
    NetResults {
        pairs: vec![result],
        matrix_mib_per_s: vec![vec![None, Some(mib_per_s)], vec![None, None]],
        cpu_note: cpu_note.into(),
    }
}
