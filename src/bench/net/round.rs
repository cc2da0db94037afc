//! One round of pairs: connect (TCP), warm up, run the repetitions of a stream or of
//! request/response, and put each pair's result together on rank 0. Every rank takes part in every collective of a round, idle or not, so a
//! failure on one pair is known to all ranks at the same point and nobody waits forever.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mpi::topology::Communicator;
use serde::{Deserialize, Serialize};

use super::histogram::{Histogram, Recorder};
use super::schedule::Pair;
use super::tcp::{self, Settings, Stop};
use super::{Buffers, Options};
use crate::cli::{NetTest, Transport};
use crate::env::{CpuTimes, Identity, Live};
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::result::net::{
    PairResult, Repetition, RequestResponse, RrRepetition, SocketOptions, service_demand_us_per_kib,
    service_demand_us_per_unit,
};

pub struct Plan<'a> {
    /// `Stream` or `Rr`: what each repetition does.
    pub test: NetTest,
    pub options: &'a Options,
    pub identities: &'a [Identity],
    pub hosts: &'a [String],
    pub listen_on: Option<IpAddr>,
}

/// What one rank measured in one repetition, in one role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Side {
    /// Bytes (a stream) or transactions (request/response).
    moved: u64,
    elapsed_s: f64,
    cpu_percent: f64,
}

/// What one rank tells rank 0 about the round.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Report {
    listen: Option<String>,
    local_address: Option<String>,
    sender_socket: Option<SocketOptions>,
    receiver_socket: Option<SocketOptions>,
    sent: Vec<Side>,
    received: Vec<Side>,
    cpus: u32,
    /// request/response: the client's round trips over all repetitions.
    round_trips: Option<Histogram>,
}

/// Failures of one rank in one step: as the sender of its pair, as the receiver of its pair.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Failures {
    as_sender: Option<String>,
    as_receiver: Option<String>,
}

/// This rank's part of the round.
struct Roles {
    /// The receiver this rank sends to.
    send_to: Option<u32>,
    /// The sender this rank receives from.
    receive_from: Option<u32>,
}

/// The pairs of the round that have failed so far, with why.
struct Failed(Vec<(Pair, String)>);

impl Failed {
    fn has(&self, pair: Pair) -> bool {
        self.0.iter().any(|(p, _)| *p == pair)
    }
}

pub fn run(
    session: &Session,
    plan: &Plan,
    round: &[Pair],
    index: u32,
    buffers: &mut Buffers,
) -> anyhow::Result<Vec<PairResult>> {
    let world = session.world();
    let me = world.rank() as u32;
    let roles = Roles {
        send_to: round.iter().find(|p| p.0 == me).map(|p| p.1),
        receive_from: round.iter().find(|p| p.1 == me).map(|p| p.0),
    };
    let options = plan.options;
    let mut failed = Failed(Vec::new());
    let mut report = Report { cpus: num_cpus(), ..Report::default() };
    let settings = Settings {
        send_size: options.send_size,
        send_buffer: options.send_buffer.map(|v| v as usize),
        receive_buffer: options.receive_buffer.map(|v| v as usize),
        nodelay: options.nodelay,
        timeout: options.timeout,
    };
    let mut connections: (Option<TcpStream>, Option<TcpStream>) = (None, None);
    let mut round_trips = Recorder::default();
    if options.transport == Transport::Tcp || plan.test == NetTest::Rr {
        connections = connect(session, plan, &roles, &settings, &mut report, &mut failed, round)?;
    }
    // The warm-up (not kept), then the repetitions.
    for repetition in 0..=options.repeat {
        let stop = if repetition == 0 { Stop::After(options.warmup) } else { options.stop };
        if repetition == 0 && options.warmup.is_zero() {
            continue;
        }
        let live = |pair: Option<Pair>| pair.filter(|&p| !failed.has(p));
        let sending = live(roles.send_to.map(|r| (me, r)));
        let receiving = live(roles.receive_from.map(|s| (s, me)));
        mpi_util::barrier_sleeping(world);
        let started = Instant::now();
        let cpu_before = CpuTimes::read(&Live);
        let (sent, received) = match (plan.test, options.transport) {
            (NetTest::Rr, _) => {
                let Stop::After(duration) = stop else { unreachable!("rr runs for a time (checked)") };
                let outcome = rr_repetition(&mut connections, sending, receiving, duration, &mut round_trips);
                if repetition == 0 {
                    round_trips.clear();
                }
                outcome
            }
            (_, Transport::Tcp) => {
                tcp_repetition(&mut connections, sending, receiving, buffers, &settings, stop, started)
            }
            (_, Transport::Mpi) => {
                let pair = sending.or(receiving);
                if let Some((s, r)) = pair {
                    let (from, to) = (&plan.hosts[s as usize], &plan.hosts[r as usize]);
                    let part = match repetition {
                        0 => format!("pair {s}→{r} ({from} → {to}), warm-up"),
                        n => format!("pair {s}→{r} ({from} → {to}), repetition {n} of {}", options.repeat),
                    };
                    watchdog::enter(Stage {
                        part: part.into(),
                        iteration: None,
                        call: Some("the MPI stream"),
                        item: None,
                    });
                }
                mpi_repetition(session, pair, buffers, options, stop, started)
            }
        };
        let cpu_percent = match (cpu_before, CpuTimes::read(&Live)) {
            (Some(before), Some(after)) => after.busy_percent_since(&before),
            _ => 0.0,
        };
        let mut failures = Failures::default();
        let keep = |outcome: Option<Result<(u64, f64), String>>,
                    into: &mut Vec<Side>,
                    error: &mut Option<String>| {
            match outcome {
                Some(Ok((moved, elapsed_s))) if repetition > 0 => {
                    into.push(Side { moved, elapsed_s, cpu_percent })
                }
                Some(Err(e)) => *error = Some(e),
                _ => {}
            }
        };
        keep(sent, &mut report.sent, &mut failures.as_sender);
        keep(received, &mut report.received, &mut failures.as_receiver);
        mpi_util::barrier_sleeping(world); // idle ranks wait here without spinning
        exchange(session, plan, round, failures, &mut failed)?;
    }
    drop(connections);
    if plan.test == NetTest::Rr && roles.send_to.is_some() {
        report.round_trips = Some(round_trips.histogram());
    }

    let reports = mpi_util::all_gather_strings(world, &serde_json::to_string(&report)?);
    if !session.is_root() {
        return Ok(Vec::new());
    }
    let reports: Vec<Report> = reports.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>()?;
    Ok(round.iter().map(|&pair| pair_result(plan, pair, index, &reports, &failed)).collect())
}

/// Listens (receivers), shares the endpoints, connects (senders) and accepts; failures are
/// agreed on before anyone streams.
fn connect(
    session: &Session,
    plan: &Plan,
    roles: &Roles,
    settings: &Settings,
    report: &mut Report,
    failed: &mut Failed,
    round: &[Pair],
) -> anyhow::Result<(Option<TcpStream>, Option<TcpStream>)> {
    let world = session.world();
    let me = world.rank() as u32;
    let mut failures = Failures::default();
    let listener = roles.receive_from.and_then(|sender| {
        let address = if sender == me {
            IpAddr::from([127, 0, 0, 1])
        } else if let Some(address) = plan.listen_on {
            address
        } else {
            let (mine, theirs) = (&plan.identities[me as usize], &plan.identities[sender as usize]);
            match crate::env::net::peer_address(&theirs.addresses, &mine.addresses) {
                Some((address, _)) => address,
                None => {
                    failures.as_receiver =
                        Some(format!("host {} has no address the sender can reach", mine.hostname));
                    return None;
                }
            }
        };
        match tcp::listen(address, settings) {
            Ok((listener, bound)) => Some((listener, bound)),
            Err(e) => {
                failures.as_receiver = Some(format!("listening on {address}: {e}"));
                None
            }
        }
    });
    report.listen = listener.as_ref().map(|(_, bound)| bound.to_string());
    let endpoints = mpi_util::all_gather_strings(world, report.listen.as_deref().unwrap_or(""));
    let target: Option<SocketAddr> = roles.send_to.and_then(|r| endpoints[r as usize].parse().ok());
    let (sending, receiving) = std::thread::scope(|scope| {
        let accepting = listener.as_ref().map(|(l, _)| scope.spawn(|| tcp::accept(l, settings)));
        let sending = target.map(|address| tcp::connect(address, settings));
        (sending, accepting.map(|a| a.join().expect("the accepting thread does not panic")))
    });
    let sending = match sending {
        Some(Ok(stream)) => {
            report.local_address = stream.local_addr().ok().map(|a| a.ip().to_string());
            report.sender_socket = Some(tcp::effective(&stream));
            Some(stream)
        }
        Some(Err(e)) => {
            failures.as_sender =
                Some(format!("connecting to {}: {e}", target.map(|t| t.to_string()).unwrap_or_default()));
            None
        }
        None => None,
    };
    let receiving = match receiving {
        Some(Ok(stream)) => {
            report.receiver_socket = Some(tcp::effective(&stream));
            Some(stream)
        }
        Some(Err(e)) => {
            failures.as_receiver = Some(format!("accepting: {e}"));
            None
        }
        None => None,
    };
    exchange(session, plan, round, failures, failed)?;
    Ok((sending, receiving))
}

type Outcome = Option<Result<(u64, f64), String>>;

fn tcp_repetition(
    connections: &mut (Option<TcpStream>, Option<TcpStream>),
    sending: Option<Pair>,
    receiving: Option<Pair>,
    buffers: &mut Buffers,
    settings: &Settings,
    stop: Stop,
    started: Instant,
) -> (Outcome, Outcome) {
    let (send_stream, receive_stream) = connections;
    let Buffers { send, receive } = buffers;
    let receiving = receiving.and(receive_stream.as_mut());
    let sending = sending.and(send_stream.as_mut());
    let receive_one = |stream: &mut TcpStream, buffer: &mut crate::buffer::AlignedBuffer| {
        tcp::receive(stream, buffer, settings.send_size)
            .map(|bytes| (bytes, started.elapsed().as_secs_f64()))
            .map_err(|e| e.to_string())
    };
    let send_one = |stream: &mut TcpStream, buffer: &mut crate::buffer::AlignedBuffer| {
        tcp::send(stream, buffer, stop)
            .map(|bytes| (bytes, started.elapsed().as_secs_f64()))
            .map_err(|e| e.to_string())
    };
    match (sending, receiving) {
        // Both ends on this rank (loopback, or a concurrent round): the receiver in a thread.
        (Some(out), Some(into)) => std::thread::scope(|scope| {
            let receiver = scope.spawn(|| receive_one(into, receive));
            let sent = send_one(out, send);
            (Some(sent), Some(receiver.join().expect("the receiving thread does not panic")))
        }),
        (Some(out), None) => (Some(send_one(out, send)), None),
        (None, Some(into)) => (None, Some(receive_one(into, receive))),
        (None, None) => (None, None),
    }
}

/// Request/response: the client (sender) times each transaction, the server (receiver) answers.
fn rr_repetition(
    connections: &mut (Option<TcpStream>, Option<TcpStream>),
    sending: Option<Pair>,
    receiving: Option<Pair>,
    duration: Duration,
    round_trips: &mut Recorder,
) -> (Outcome, Outcome) {
    let started = Instant::now();
    let (client, server) = connections;
    let client = sending.and(client.as_mut());
    let server = receiving.and(server.as_mut());
    let done = |result: std::io::Result<u64>| {
        Some(result.map(|n| (n, started.elapsed().as_secs_f64())).map_err(|e| e.to_string()))
    };
    match (client, server) {
        (Some(client), Some(server)) => std::thread::scope(|scope| {
            let serving = scope.spawn(|| done(tcp::respond(server)));
            let asked = done(tcp::request(client, duration, round_trips));
            (asked, serving.join().expect("the serving thread does not panic"))
        }),
        (Some(client), None) => (done(tcp::request(client, duration, round_trips)), None),
        (None, Some(server)) => (None, done(tcp::respond(server))),
        (None, None) => (None, None),
    }
}

fn mpi_repetition(
    session: &Session,
    pair: Option<Pair>,
    buffers: &mut Buffers,
    options: &Options,
    stop: Stop,
    started: Instant,
) -> (Outcome, Outcome) {
    let Some((sender, receiver)) = pair else {
        return (None, None);
    };
    let more = |moved: u64| match stop {
        Stop::After(duration) => moved == 0 || started.elapsed() < duration,
        Stop::Bytes(total) => moved < total,
    };
    watchdog::progress();
    let moved = crate::mpi::stream::stream(
        session.world(),
        sender as i32,
        receiver as i32,
        &buffers.send,
        &mut buffers.receive,
        options.window as usize,
        more,
    );
    watchdog::disarm();
    let me = session.rank() as u32;
    let outcome = Some(Ok((moved, started.elapsed().as_secs_f64())));
    (if me == sender { outcome.clone() } else { None }, if me == receiver { outcome } else { None })
}

/// Shares every rank's failures; a pair fails when either of its ranks failed in its role.
/// Without `--keep-going` the first failure ends the run, on every rank, naming the pair.
fn exchange(
    session: &Session,
    plan: &Plan,
    round: &[Pair],
    mine: Failures,
    failed: &mut Failed,
) -> anyhow::Result<()> {
    let all = mpi_util::all_gather_strings(session.world(), &serde_json::to_string(&mine)?);
    let all: Vec<Failures> = all.iter().map(|f| serde_json::from_str(f)).collect::<Result<_, _>>()?;
    for &(s, r) in round {
        if failed.has((s, r)) {
            continue;
        }
        let why = match (&all[s as usize].as_sender, &all[r as usize].as_receiver) {
            (Some(e), _) => format!("sender: {e}"),
            (None, Some(e)) => format!("receiver: {e}"),
            (None, None) => continue,
        };
        let message =
            format!("pair {s}→{r} ({} → {}): {why}", plan.hosts[s as usize], plan.hosts[r as usize]);
        if !plan.options.keep_going {
            anyhow::bail!("{message}");
        }
        failed.0.push(((s, r), message));
    }
    Ok(())
}

fn pair_result(plan: &Plan, (s, r): Pair, round: u32, reports: &[Report], failed: &Failed) -> PairResult {
    let (sender, receiver) = (&reports[s as usize], &reports[r as usize]);
    let error = failed.0.iter().find(|(p, _)| *p == (s, r)).map(|(_, e)| e.clone());
    let skeleton = PairResult {
        sender: s,
        receiver: r,
        sender_host: plan.hosts[s as usize].clone(),
        receiver_host: plan.hosts[r as usize].clone(),
        round,
        status: if error.is_some() { "failed" } else { "ok" }.into(),
        error: error.clone(),
        receiver_address: receiver.listen.clone(),
        sender_address: sender.local_address.clone(),
        sender_socket: sender.sender_socket.clone(),
        receiver_socket: receiver.receiver_socket.clone(),
        ..PairResult::default()
    };
    if plan.test == NetTest::Rr {
        let rr = error.is_none().then(|| request_response(sender, receiver));
        return PairResult { rr: rr.flatten(), ..skeleton };
    }
    let repetitions: Vec<Repetition> = if error.is_some() {
        Vec::new()
    } else {
        sender
            .sent
            .iter()
            .zip(&receiver.received)
            .map(|(tx, rx)| {
                let mib_per_s = rx.moved as f64 / rx.elapsed_s / (1 << 20) as f64;
                Repetition {
                    bytes: Some(rx.moved),
                    elapsed_s: rx.elapsed_s,
                    sender_bytes: Some(tx.moved),
                    sender_elapsed_s: Some(tx.elapsed_s),
                    mib_per_s,
                    mbit_per_s: rx.moved as f64 * 8.0 / rx.elapsed_s / 1e6,
                    sender_cpu_percent: Some(tx.cpu_percent),
                    receiver_cpu_percent: Some(rx.cpu_percent),
                    sender_service_demand_us_per_kib: Some(service_demand_us_per_kib(
                        tx.cpu_percent,
                        sender.cpus,
                        tx.moved,
                        tx.elapsed_s,
                    )),
                    receiver_service_demand_us_per_kib: Some(service_demand_us_per_kib(
                        rx.cpu_percent,
                        receiver.cpus,
                        rx.moved,
                        rx.elapsed_s,
                    )),
                }
            })
            .collect()
    };
    let mut rates: Vec<f64> = repetitions.iter().map(|r| r.mib_per_s).collect();
    rates.sort_by(f64::total_cmp);
    let median = median(&rates);
    PairResult {
        min_mib_per_s: rates.first().copied(),
        max_mib_per_s: rates.last().copied(),
        median_mbit_per_s: median.map(|m| m * (1 << 20) as f64 * 8.0 / 1e6),
        median_mib_per_s: median,
        repetitions,
        ..skeleton
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 })
}

/// A pair's transactions: the client's count and time per repetition (the server's CPU beside
/// it), the median rate, and the client's round trips.
fn request_response(client: &Report, server: &Report) -> Option<RequestResponse> {
    let repetitions: Vec<RrRepetition> = client
        .sent
        .iter()
        .zip(&server.received)
        .map(|(asked, served)| {
            let rate = asked.moved as f64 / asked.elapsed_s;
            RrRepetition {
                transactions: Some(asked.moved),
                elapsed_s: Some(asked.elapsed_s),
                transactions_per_s: rate,
                client_cpu_percent: Some(asked.cpu_percent),
                server_cpu_percent: Some(served.cpu_percent),
                client_service_demand_us_per_tr: Some(service_demand_us_per_unit(
                    asked.cpu_percent,
                    client.cpus,
                    rate,
                )),
                server_service_demand_us_per_tr: Some(service_demand_us_per_unit(
                    served.cpu_percent,
                    server.cpus,
                    rate,
                )),
            }
        })
        .collect();
    let mut rates: Vec<f64> = repetitions.iter().map(|r| r.transactions_per_s).collect();
    rates.sort_by(f64::total_cmp);
    let transactions_per_s = median(&rates)?;
    Some(RequestResponse {
        request_bytes: Some(1),
        response_bytes: Some(1),
        transactions_per_s,
        mean_rtt_us: 1e6 / transactions_per_s,
        round_trip: client.round_trips.as_ref().and_then(|h| h.percentiles(1.0)),
        repetitions,
    })
}

/// The host's CPUs, as `/proc/stat` counts them (not this process's affinity or quota).
fn num_cpus() -> u32 {
    CpuTimes::read(&Live).map_or(1, |t| t.cpus.max(1))
}
