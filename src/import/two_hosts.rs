//! What a two-host network tool (netperf, iperf3) measured, as `net` results: one pair, sender
//! rank 0 to receiver rank 1, of one repetition; or, where both hosts sent at once (iperf3's
//! `--bidir`), that pair and its reverse, rank 1 to rank 0, in the same round.

use crate::result::net::{Datagrams, Interval, NetResults, PairResult, Repetition, SocketOptions, Stream};

/// One direction as the tool saw it; the buffers are the sender's send and the receiver's
/// receive socket buffers.
pub struct OneWay {
    pub sender_host: String,
    pub receiver_host: String,
    pub receiver_address: Option<String>,
    pub send_buffer_bytes: Option<u64>,
    pub receive_buffer_bytes: Option<u64>,
    pub repetition: Repetition,
    pub intervals: Option<Vec<Interval>>,
    pub streams: Option<Vec<Stream>>,
    pub datagrams: Option<Datagrams>,
}

/// `forth` as rank 0 → rank 1, and `back` (if both sent) as rank 1 → rank 0.
pub fn results(forth: OneWay, back: Option<OneWay>, cpu_note: &str) -> NetResults {
    let mut matrix_mib_per_s = vec![vec![None; 2]; 2];
    let pairs: Vec<PairResult> = std::iter::once((0, 1, forth))
        .chain(back.map(|back| (1, 0, back)))
        .map(|(sender, receiver, way)| {
            matrix_mib_per_s[sender as usize][receiver as usize] = Some(way.repetition.mib_per_s);
            pair(sender, receiver, way)
        })
        .collect();
    NetResults { pairs, matrix_mib_per_s, cpu_note: cpu_note.into() }
}

fn pair(sender: u32, receiver: u32, way: OneWay) -> PairResult {
    let mib_per_s = way.repetition.mib_per_s;
    PairResult {
        sender,
        receiver,
        sender_host: way.sender_host,
        receiver_host: way.receiver_host,
        round: 0,
        status: "ok".into(),
        error: None,
        receiver_address: way.receiver_address,
        sender_address: None,
        sender_socket: Some(SocketOptions {
            send_buffer_bytes: way.send_buffer_bytes,
            ..SocketOptions::default()
        }),
        receiver_socket: Some(SocketOptions {
            receive_buffer_bytes: way.receive_buffer_bytes,
            ..SocketOptions::default()
        }),
        min_mib_per_s: Some(mib_per_s),
        median_mib_per_s: Some(mib_per_s),
        max_mib_per_s: Some(mib_per_s),
        median_mbit_per_s: Some(way.repetition.mbit_per_s),
        repetitions: vec![way.repetition],
        source: None,
        intervals: way.intervals,
        streams: way.streams,
        datagrams: way.datagrams,
        rr: None,
        latency: None,
    }
}
