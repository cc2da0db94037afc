//! One direction of an iperf3 test, from its JSON: what the receiver counted (the `end.sum_received`
//! object iperf3's "receiver" line prints), what the sender counted, each stream's end figures,
//! the intervals, and for UDP the loss and jitter. A `--bidir` test has two: the client's
//! sending (`sum_received`, `intervals[].sum`) and its receiving (`…_bidir_reverse`).

use serde_json::Value;

use super::super::text::ParseError;
use crate::result::net::{Datagrams, Interval, Stream};

pub const MIB: f64 = 1_048_576.0;

/// Which direction of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Way {
    /// The test's own: the client sends, or with `-R` the server does.
    Main { client_sends: bool },
    /// `--bidir`'s other direction: the server sends to the client.
    BidirReverse,
}

impl Way {
    fn suffix(self) -> &'static str {
        match self {
            Way::Main { .. } => "",
            Way::BidirReverse => "_bidir_reverse",
        }
    }

    pub fn client_sends(self) -> bool {
        matches!(self, Way::Main { client_sends: true })
    }
}

/// What iperf3 counted in one direction.
pub struct Measured {
    pub received_bytes: u64,
    pub received_s: f64,
    pub sent_bytes: u64,
    pub sent_s: f64,
    pub intervals: Vec<Interval>,
    pub streams: Vec<Stream>,
    pub datagrams: Option<Datagrams>,
}

impl Measured {
    pub fn mib_per_s(&self) -> f64 {
        self.received_bytes as f64 / self.received_s / MIB
    }
}

pub fn measured(test: &Value, way: Way, udp: bool) -> Result<Measured, ParseError> {
    let end = &test["end"];
    let received_path = format!("end.sum_received{}", way.suffix());
    let received = &end[format!("sum_received{}", way.suffix())];
    let (received_bytes, received_s) = bytes_and_seconds(received, &received_path)?;
    if received_bytes == 0 {
        return Err(ParseError::whole(format!(
            "{received_path}.bytes is 0: nothing arrived, no rate to import"
        )));
    }
    let sent_path = format!("end.sum_sent{}", way.suffix());
    let (sent_bytes, sent_s) = bytes_and_seconds(&end[format!("sum_sent{}", way.suffix())], &sent_path)?;
    Ok(Measured {
        received_bytes,
        received_s,
        sent_bytes,
        sent_s,
        intervals: intervals(&test["intervals"], way)?,
        streams: streams(&end["streams"], way, udp)?,
        datagrams: udp.then(|| datagrams(received, &received_path, None)).transpose()?,
    })
}

pub fn number(value: &Value, path: &str) -> Result<f64, ParseError> {
    value.as_f64().filter(|v| v.is_finite()).ok_or_else(|| ParseError::whole(format!("no number at {path}")))
}

pub fn whole(value: &Value, path: &str) -> Result<u64, ParseError> {
    value.as_u64().ok_or_else(|| ParseError::whole(format!("no whole number at {path}")))
}

/// A figure that cannot be below zero (a percentage, a jitter, a time).
pub fn measure(value: &Value, path: &str) -> Result<f64, ParseError> {
    let figure = number(value, path)?;
    if figure < 0.0 {
        return Err(ParseError::whole(format!("{path} is {figure}: not a measurement")));
    }
    Ok(figure)
}

/// [`measure`] where the figure may be left out (absent or null).
pub fn optional_measure(value: &Value, path: &str) -> Result<Option<f64>, ParseError> {
    if value.is_null() { Ok(None) } else { measure(value, path).map(Some) }
}

/// Bytes and seconds of an `end.sum_*` object, checked: a test that took no time is not a
/// measurement.
fn bytes_and_seconds(sum: &Value, path: &str) -> Result<(u64, f64), ParseError> {
    let bytes = whole(&sum["bytes"], &format!("{path}.bytes"))?;
    let seconds = number(&sum["seconds"], &format!("{path}.seconds"))?;
    // 1e-300 s is above 0 but no measured test either: its rate would not be a number.
    if seconds <= 0.0 || !(bytes as f64 / seconds).is_finite() {
        return Err(ParseError::whole(format!("{path}.seconds is {seconds:?}: not a measured test")));
    }
    Ok((bytes, seconds))
}

/// Loss and jitter of a UDP summary object (`out_of_order` is in the streams' only).
fn datagrams(sum: &Value, path: &str, out_of_order: Option<u64>) -> Result<Datagrams, ParseError> {
    let key = |key: &str| format!("{path}.{key}");
    Ok(Datagrams {
        packets: whole(&sum["packets"], &key("packets"))?,
        lost_packets: whole(&sum["lost_packets"], &key("lost_packets"))?,
        lost_percent: measure(&sum["lost_percent"], &key("lost_percent"))?,
        jitter_ms: measure(&sum["jitter_ms"], &key("jitter_ms"))?,
        out_of_order,
    })
}

/// Each interval's sum over the streams of this direction, as the client measured it (iperf3
/// starts its clock again after `-O`'s omitted seconds, and marks those intervals).
fn intervals(list: &Value, way: Way) -> Result<Vec<Interval>, ParseError> {
    let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
    let key = match way {
        Way::Main { .. } => "sum",
        Way::BidirReverse => "sum_bidir_reverse",
    };
    list.iter()
        .enumerate()
        .map(|(i, interval)| {
            let sum = &interval[key];
            let path = |field: &str| format!("intervals[{i}].{key}.{field}");
            let (start_s, end_s) =
                (measure(&sum["start"], &path("start"))?, measure(&sum["end"], &path("end"))?);
            if end_s < start_s {
                return Err(ParseError::whole(format!("{}: ends before it starts", path("end"))));
            }
            let bytes = whole(&sum["bytes"], &path("bytes"))?;
            let seconds = end_s - start_s;
            Ok(Interval {
                start_s,
                end_s,
                bytes,
                mib_per_s: if seconds > 0.0 { bytes as f64 / seconds / MIB } else { 0.0 },
                omitted: sum["omitted"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// The streams of this direction (iperf3 marks each with whether the client sent on it).
fn streams(list: &Value, way: Way, udp: bool) -> Result<Vec<Stream>, ParseError> {
    let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut streams = Vec::new();
    for (i, stream) in list.iter().enumerate() {
        let path = format!("end.streams[{i}]");
        let first = if udp { &stream["udp"] } else { &stream["sender"] };
        let client_sent = first["sender"].as_bool().unwrap_or(way.client_sends());
        let this_way = match way {
            Way::Main { client_sends } => client_sent == client_sends,
            Way::BidirReverse => !client_sent,
        };
        if this_way {
            streams.push(if udp { udp_stream(&stream["udp"], &path)? } else { tcp_stream(stream, &path)? });
        }
    }
    Ok(streams)
}

/// The receiver's bytes over its time (the stream's `end`: iperf3's `seconds` there is the
/// sender's), and the sender's count.
fn tcp_stream(stream: &Value, path: &str) -> Result<Stream, ParseError> {
    let (sender, receiver) = (&stream["sender"], &stream["receiver"]);
    let id = whole(&receiver["socket"], &format!("{path}.receiver.socket"))?;
    let bytes = whole(&receiver["bytes"], &format!("{path}.receiver.bytes"))?;
    let start = measure(&receiver["start"], &format!("{path}.receiver.start"))?;
    let elapsed_s = measure(&receiver["end"], &format!("{path}.receiver.end"))? - start;
    if elapsed_s <= 0.0 {
        return Err(ParseError::whole(format!("{path}.receiver: ends before it starts")));
    }
    Ok(Stream {
        id,
        bytes: Some(bytes),
        elapsed_s: Some(elapsed_s),
        mib_per_s: Some(bytes as f64 / elapsed_s / MIB),
        sender_bytes: Some(whole(&sender["bytes"], &format!("{path}.sender.bytes"))?),
        sender_elapsed_s: Some(measure(&sender["seconds"], &format!("{path}.sender.seconds"))?),
        datagrams: None,
    })
}

/// iperf3 prints one object per UDP stream: the sender's bytes and time, the receiver's loss.
fn udp_stream(udp: &Value, path: &str) -> Result<Stream, ParseError> {
    let path = format!("{path}.udp");
    let out_of_order = whole(&udp["out_of_order"], &format!("{path}.out_of_order"))?;
    Ok(Stream {
        id: whole(&udp["socket"], &format!("{path}.socket"))?,
        bytes: None,
        elapsed_s: None,
        mib_per_s: None,
        sender_bytes: Some(whole(&udp["bytes"], &format!("{path}.bytes"))?),
        sender_elapsed_s: Some(measure(&udp["seconds"], &format!("{path}.seconds"))?),
        datagrams: Some(datagrams(udp, &path, Some(out_of_order))?),
    })
}
