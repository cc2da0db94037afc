//! `pvbench net`: the bandwidth matrix of the study's Tables 3.1/3.2 (there: rows =
//! receiver) in one `mpiexec`: every ordered pair of ranks, over TCP between their hosts or
//! over MPI, with each host's CPU utilisation and netperf's service demand; and, with `--test`,
//! the same pairs' request/response transactions over TCP (netperf's TCP_RR) and their MPI
//! ping-pong latency (osu_latency).

mod histogram;
mod latency;
mod round;
mod schedule;
mod tcp;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use mpi::topology::Communicator;

use crate::buffer::AlignedBuffer;
use crate::cli::{NetArgs, NetTest, Transport, parse_time};
use crate::env::{Identity, Live};
use crate::error::UsageError;
use crate::mpi::environment::{self, Extent, StealClock};
use crate::mpi::watchdog;
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::net::{LatencyPoint, NetParameters, NetResults, PairResult};
use crate::result::{self, Document, JsonTarget};
use round::Plan;
pub use tcp::Stop;

const CPU_NOTE: &str = "CPU: busy share of all CPUs of the host over each repetition (/proc/stat); \
inside a guest it misses the work the hypervisor does for the guest (its virtual NIC and bridge).";

#[derive(Debug)]
pub struct Options {
    /// Sorted, each once: stream, rr, latency.
    tests: Vec<NetTest>,
    latency_iterations: u32,
    transport: Transport,
    stop: Stop,
    warmup: Duration,
    repeat: u32,
    pairs: Option<String>,
    concurrent: bool,
    send_size: usize,
    window: u32,
    send_buffer: Option<u64>,
    receive_buffer: Option<u64>,
    nodelay: bool,
    address_from: Option<String>,
    timeout: Duration,
    keep_going: bool,
    json: Option<JsonTarget>,
    /// Replace an existing output file (`--force`).
    force: bool,
    label: Option<String>,
}

impl Options {
    pub fn from_args(args: NetArgs) -> Result<Self, UsageError> {
        let mut tests = args.tests.clone();
        tests.sort();
        tests.dedup();
        if args.bytes.is_some() && tests != [NetTest::Stream] {
            return Err(UsageError("--bytes is a stream's length: rr and latency run without it".into()));
        }
        if args.iterations.is_some() && !tests.contains(&NetTest::Latency) {
            return Err(UsageError("--iterations counts the round trips of --test latency".into()));
        }
        if args.concurrent && tests.contains(&NetTest::Latency) {
            return Err(UsageError("--concurrent: --test latency runs one pair at a time".into()));
        }
        let stop = match (args.duration.as_deref(), args.bytes) {
            (_, Some(0)) => return Err(UsageError("--bytes 0: nothing to move".into())),
            (_, Some(bytes)) => Stop::Bytes(bytes),
            (Some(text), None) => Stop::After(parse_time("--duration", text)?),
            (None, None) => Stop::After(Duration::from_secs(10)),
        };
        if stop == Stop::After(Duration::ZERO) {
            return Err(UsageError("--duration 0: nothing to measure".into()));
        }
        let warmup = match (&args.warmup, stop) {
            (Some(text), _) => parse_time("--warmup", text)?,
            (None, Stop::After(d)) => (d / 10).min(Duration::from_secs(1)),
            (None, Stop::Bytes(_)) => Duration::from_millis(100),
        };
        let default_size = if args.transport == Transport::Tcp { 16 << 10 } else { 1 << 20 };
        let send_size = args.send_size.unwrap_or(default_size);
        if !(64..=1 << 30).contains(&send_size) {
            return Err(UsageError(format!("--send-size {send_size}: between 64 bytes and 1 GiB")));
        }
        if args.transport == Transport::Mpi && args.concurrent {
            return Err(UsageError("--concurrent runs over TCP only (--transport tcp)".into()));
        }
        let timeout = parse_time("--timeout", &args.timeout)?;
        if timeout < Duration::from_millis(100) {
            return Err(UsageError(format!("--timeout {:?}: at least 100ms", args.timeout)));
        }
        Ok(Options {
            tests,
            latency_iterations: args.iterations.unwrap_or(10_000),
            transport: args.transport,
            stop,
            warmup,
            repeat: args.repeat,
            pairs: args.pairs,
            concurrent: args.concurrent,
            send_size: send_size as usize,
            window: args.window,
            send_buffer: args.send_buffer,
            receive_buffer: args.receive_buffer,
            nodelay: args.nodelay,
            address_from: args.address_from,
            timeout,
            keep_going: args.keep_going,
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
        })
    }

    fn parameters(&self, pairs: &[schedule::Pair]) -> NetParameters {
        let tcp = self.transport == Transport::Tcp;
        NetParameters {
            transport: if tcp { "tcp" } else { "mpi" }.into(),
            duration_s: match self.stop {
                Stop::After(d) => Some(d.as_secs_f64()),
                Stop::Bytes(_) => None,
            },
            bytes: match self.stop {
                Stop::Bytes(b) => Some(b),
                Stop::After(_) => None,
            },
            warmup_s: self.warmup.as_secs_f64(),
            repeat: self.repeat,
            send_size_bytes: self.send_size as u64,
            window: (!tcp).then_some(self.window),
            send_buffer_bytes: self.send_buffer,
            receive_buffer_bytes: self.receive_buffer,
            nodelay: self.nodelay,
            address_from: self.address_from.clone(),
            concurrent: self.concurrent,
            pairs: pairs.iter().map(|&(s, r)| [s, r]).collect(),
            timeout_s: self.timeout.as_secs_f64(),
            keep_going: self.keep_going,
            tests: (self.tests != [NetTest::Stream])
                .then(|| self.tests.iter().map(|t| format!("{t:?}").to_lowercase()).collect()),
            latency_iterations: self.tests.contains(&NetTest::Latency).then_some(self.latency_iterations),
        }
    }
}

/// The local address to listen on for `--address-from IFACE|CIDR`.
fn address_from(spec: &str, me: &Identity) -> anyhow::Result<IpAddr> {
    let found = match spec.split_once('/') {
        Some((net, len)) => {
            let net: IpAddr =
                net.parse().map_err(|_| UsageError(format!("--address-from {spec:?}: not a CIDR")))?;
            let len: u8 =
                len.parse().map_err(|_| UsageError(format!("--address-from {spec:?}: not a CIDR")))?;
            let network =
                crate::env::InterfaceAddress { interface: String::new(), address: net, prefix_len: len };
            me.addresses.iter().find(|a| network.contains(a.address)).map(|a| a.address)
        }
        None => me
            .addresses
            .iter()
            .filter(|a| a.interface == spec)
            .map(|a| a.address)
            .min_by_key(|a| !a.is_ipv4()),
    };
    found.ok_or_else(|| anyhow::anyhow!("--address-from {spec}: no such address on host {}", me.hostname))
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    let ranks = world.size() as u32;
    if let Some(json) = &options.json {
        mpi_util::root_checks(world, || Ok(json.check_writable(options.force)?))?;
    }
    let pairs = match &options.pairs {
        Some(text) => schedule::parse_pairs(text, ranks)?,
        None => schedule::all_pairs(ranks),
    };
    let rounds = schedule::rounds(&pairs, options.concurrent);
    let started_at = result::now_rfc3339();
    let hosts = session.hosts();
    let me = Identity::detect(&Live);
    let listen_on =
        mpi_util::agree(world, options.address_from.as_deref().map(|s| address_from(s, &me)).transpose())?;
    let identities: Vec<Identity> = mpi_util::all_gather_strings(world, &serde_json::to_string(&me)?)
        .iter()
        .map(|text| serde_json::from_str(text))
        .collect::<Result<_, _>>()
        .context("reading another rank's addresses")?;
    let buffers = allocate(session, &options);
    let mut buffers = mpi_util::agree(world, buffers)?;

    let streams_over_mpi = options.transport == Transport::Mpi && options.tests.contains(&NetTest::Stream);
    if streams_over_mpi || options.tests.contains(&NetTest::Latency) {
        // TCP has socket timeouts; a wait inside the MPI library has only this.
        let limit = watchdog::Limit {
            given: humantime::format_duration(options.timeout).to_string(),
            after: options.timeout,
            target: if streams_over_mpi { "the MPI transport" } else { "the MPI ping-pong" }.into(),
            kind: watchdog::Kind::Progress,
        };
        watchdog::start(limit, session.rank()).context("starting the --timeout watchdog")?;
    }
    let steal = StealClock::start();
    let plan = |test| Plan { test, options: &options, identities: &identities, hosts: &hosts, listen_on };
    let round_tests: Vec<NetTest> =
        options.tests.iter().copied().filter(|t| *t != NetTest::Latency).collect();
    let latency = options.tests.contains(&NetTest::Latency);
    let steps = rounds.len() * round_tests.len() + if latency { pairs.len() } else { 0 };
    // Progress by round on rank 0, on a terminal only (a 5-host matrix of 10 s pairs takes 5 min).
    let progress = if session.is_root() {
        let bar = indicatif::ProgressBar::new(steps as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rounds, ETA {eta}")
                .expect("a valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut results: Vec<PairResult> = Vec::new();
    for test in round_tests {
        for (index, round) in rounds.iter().enumerate() {
            let names: Vec<String> = round.iter().map(|(s, r)| format!("{s}→{r}")).collect();
            let what = if test == NetTest::Rr { "rr " } else { "" };
            progress.set_message(format!("{what}pairs {}", names.join(" ")));
            let outcome = round::run(session, &plan(test), round, index as u32, &mut buffers)?;
            for pair in outcome {
                merge(&mut results, pair);
            }
            progress.inc(1);
        }
    }
    if latency {
        progress.set_message("latency");
        let points = latency::run(session, &pairs, options.latency_iterations, &progress)?;
        for (&pair, points) in pairs.iter().zip(points) {
            attach_latency(&mut results, pair, &hosts, points);
        }
    }
    progress.finish_and_clear();
    let Some(environment) = environment::gather(session, Some(&steal), Extent::Result)? else {
        return Ok(());
    };
    let mut matrix = vec![vec![None; ranks as usize]; ranks as usize];
    for pair in &results {
        matrix[pair.sender as usize][pair.receiver as usize] = pair.median_mib_per_s;
    }
    let document = Document {
        label: options.label.clone(),
        started_at: Some(started_at),
        command_line,
        ..session.document(
            "net",
            hosts,
            options.parameters(&pairs),
            environment,
            NetResults { pairs: results, matrix_mib_per_s: matrix, cpu_note: CPU_NOTE.into() },
        )
    };
    report::publish(&report::net::text(&document), options.json.as_ref(), &document)
}

/// Puts a pair's request/response result beside its stream's; a failure of either fails the
/// pair, naming both.
fn merge(results: &mut Vec<PairResult>, pair: PairResult) {
    let Some(known) = results.iter_mut().find(|p| (p.sender, p.receiver) == (pair.sender, pair.receiver))
    else {
        results.push(pair);
        return;
    };
    known.rr = pair.rr;
    if let Some(error) = pair.error {
        known.status = "failed".into();
        known.error = Some(match known.error.take() {
            Some(before) => format!("{before}; rr: {error}"),
            None => format!("rr: {error}"),
        });
    }
}

/// A pair's latency points, beside its other figures (or alone, when nothing else ran).
fn attach_latency(
    results: &mut Vec<PairResult>,
    (s, r): schedule::Pair,
    hosts: &[String],
    points: Vec<LatencyPoint>,
) {
    let index = match results.iter().position(|p| (p.sender, p.receiver) == (s, r)) {
        Some(index) => index,
        None => {
            results.push(PairResult {
                sender: s,
                receiver: r,
                sender_host: hosts[s as usize].clone(),
                receiver_host: hosts[r as usize].clone(),
                round: results.len() as u32,
                status: "ok".into(),
                ..PairResult::default()
            });
            results.len() - 1
        }
    };
    results[index].latency = Some(points);
}

/// The send buffer and the receive buffer (a window of messages for MPI), page-aligned, after
/// checking the ranks of each host can hold them.
pub struct Buffers {
    send: AlignedBuffer,
    receive: AlignedBuffer,
}

fn allocate(session: &Session, options: &Options) -> anyhow::Result<Buffers> {
    let receive_len = match options.transport {
        // Large sends are received one whole send per call; small ones many at a time.
        Transport::Tcp if options.send_size >= 64 << 10 => options.send_size,
        Transport::Tcp => 1 << 20,
        Transport::Mpi => options.send_size * options.window as usize,
    };
    mpi_util::check_memory_per_host(session, (options.send_size + receive_len) as u64, "net's buffers")?;
    let fail = |len: usize| anyhow::anyhow!("cannot allocate a buffer of {len} bytes");
    Ok(Buffers {
        send: AlignedBuffer::zeroed(options.send_size).ok_or_else(|| fail(options.send_size))?,
        receive: AlignedBuffer::zeroed(receive_len).ok_or_else(|| fail(receive_len))?,
    })
}
