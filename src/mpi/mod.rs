//! Everything pvbench knows about MPI: start-up, abort-on-panic, agreeing on errors across
//! ranks, and collectives that wait by polling and yielding.
//!
//! Why yielding: with more ranks than cores, MPICH's blocking calls busy-poll and starve the
//! rank they wait for (a barrier at 4 ranks on 2 cores takes ~14 ms). A non-blocking call
//! completed with `MPI_Test` + `yield_now()` lets the other rank run (~0.1 ms).

pub mod environment;
pub mod io;
mod launch;
pub mod p2p;
pub mod pingpong;
pub mod pvfs2tab;
mod romio;
pub mod stream;
pub mod watchdog;

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use mpi::collective::{CommunicatorCollectives, Root};
use mpi::datatype::{Buffer, BufferMut};
use mpi::environment::Universe;
use mpi::request::{Request, Scope};
use mpi::topology::{Communicator, Rank, SimpleCommunicator};

use crate::env::Environment;
use crate::error::{EXIT_USAGE, EXIT_VERIFICATION, Interrupted, UsageError, VerificationError, exit_code};
use crate::result::{Document, Ranks};

static MPI_RUNNING: AtomicBool = AtomicBool::new(false);

/// Set when the launcher started several processes that MPI sees as singletons: each is its
/// own rank 0, and none waits for the one the launcher calls rank 0.
static ALONE_UNDER_A_LAUNCHER: AtomicBool = AtomicBool::new(false);

/// An initialised MPI session; finalises on drop.
pub struct Session {
    world: SimpleCommunicator,
    // Declared last so that it drops (MPI_Finalize) after everything above.
    _universe: Universe,
}

impl Session {
    /// `MPI_Init` and the abort-on-panic hook.
    pub fn init() -> anyhow::Result<Self> {
        let _ = INHERITED_SOCKETS.set(socket_inodes());
        let universe = mpi::initialize().ok_or_else(|| anyhow!("MPI was already initialised"))?;
        MPI_RUNNING.store(true, Ordering::SeqCst);
        install_abort_on_panic();
        let session = Session { world: universe.world(), _universe: universe };
        let started = crate::env::Launcher::started();
        if let Some(why) =
            launch::mismatch(started, session.world.size() as usize, &session.library_version())
        {
            ALONE_UNDER_A_LAUNCHER.store(true, Ordering::SeqCst);
            return Err(UsageError(why).into());
        }
        // Test hook (docs/exit-codes.md): PVBENCH_TEST_PANIC_RANK=R makes rank R
        // panic here, so the integration tests can prove that a panic on one rank ends the job.
        let panic_rank = std::env::var("PVBENCH_TEST_PANIC_RANK").ok().and_then(|r| r.parse().ok());
        if panic_rank == Some(session.rank()) {
            panic!("PVBENCH_TEST_PANIC_RANK: deliberate panic on rank {}", session.rank());
        }
        Ok(session)
    }

    pub fn world(&self) -> &SimpleCommunicator {
        &self.world
    }

    pub fn rank(&self) -> Rank {
        self.world.rank()
    }

    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// The MPI library's version string (`MPI_Get_library_version`), whole: for MPICH it names
    /// the device and the configure options, which tell how the library was built.
    pub fn library_version(&self) -> String {
        mpi::environment::library_version().map_or_else(|_| "unknown".to_string(), |v| v.trim().to_string())
    }

    /// The processor (host) name of every rank, in rank order, on every rank.
    pub fn hosts(&self) -> Vec<String> {
        let name = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
        all_gather_strings(&self.world, &name)
    }

    /// The result document of a run of `kind` on these ranks (`hosts`: each rank's host, as
    /// `hosts()` gave them), with the MPI library it ran on; label, start and command line are
    /// the caller's to fill in.
    pub fn document<P, R>(
        &self,
        kind: &str,
        hosts: Vec<String>,
        parameters: P,
        environment: Environment,
        results: R,
    ) -> Document<P, R> {
        debug_assert_eq!(hosts.len(), self.world.size() as usize, "one host per rank");
        let ranks = Ranks { count: self.world.size() as u32, hosts };
        Document {
            mpi_library_version: Some(self.library_version()),
            mpi_library_path: crate::env::mpi_library_path(),
            ..Document::new(kind, ranks, parameters, environment, results)
        }
    }

    /// `MPI_Wtime`: seconds on this rank's clock.
    pub fn time(&self) -> f64 {
        mpi::time()
    }
}

/// The exit code this process leaves with, once known (see [`leaving_with`]).
static EXIT_CODE: AtomicI32 = AtomicI32::new(0);

/// Records the exit code of the run before MPI is finalised, for the finalize guard.
pub fn leaving_with(code: i32) {
    EXIT_CODE.store(code, Ordering::SeqCst);
}

/// How long a rank's last line gets to reach the launcher before `MPI_Abort`.
const GRACE_FOR_OUTPUT: Duration = Duration::from_millis(500);

/// How long `MPI_Finalize` may take once every rank has reached it before this rank closes its
/// peers' connections, and again before it leaves (it takes well under a second when it does
/// not hang).
const FINALIZE_LIMIT: Duration = Duration::from_secs(5);

impl Drop for Session {
    /// Every rank reaches `MPI_Finalize` together, and none waits in it for ever. MPICH's UCX
    /// netmod disconnects every endpoint (which needs the peer's progress) and then enters the
    /// PMI barrier (which makes none): a slow (emulated) guest's rank was still disconnecting
    /// while the hosts' ranks sat in the barrier, no longer answering (gdb, 2 of 3 jobs). So a
    /// rank still in `MPI_Finalize` after [`FINALIZE_LIMIT`] shuts its TCP connections to the
    /// peers down: the guest's disconnects end, it reaches the barrier, and the job ends in
    /// order with every process alive to answer it. (Leaving at once instead, as before, made
    /// hydra fail the guest's late barrier when the machine was busy: exit 255.) Only a rank
    /// still there after as long again leaves, with the run's own exit code: every result is
    /// written and reported by then.
    fn drop(&mut self) {
        barrier_sleeping(&self.world);
        MPI_RUNNING.store(false, Ordering::SeqCst);
        let _ = std::thread::Builder::new().name("pvbench-finalize".into()).spawn(|| {
            std::thread::sleep(FINALIZE_LIMIT);
            shut_peer_connections_down();
            std::thread::sleep(FINALIZE_LIMIT);
            // SAFETY: _exit has no preconditions; it ends the process without running anything.
            unsafe { libc::_exit(EXIT_CODE.load(Ordering::SeqCst)) }
        });
    }
}

/// The sockets this process had before `MPI_Init`: the launcher's (PMI, a proxy's listening
/// socket a rank may inherit), never to be shut down.
static INHERITED_SOCKETS: std::sync::OnceLock<Vec<(i32, u64)>> = std::sync::OnceLock::new();

/// This process's sockets: descriptor and inode.
fn socket_inodes() -> Vec<(i32, u64)> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let inode = target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()?;
            Some((fd, inode))
        })
        .collect()
}

/// Shuts down the TCP connections the MPI library made to its peers; the sockets this process
/// had before `MPI_Init` (the launcher's) and listening sockets stay as they are.
fn shut_peer_connections_down() {
    let inherited = INHERITED_SOCKETS.get().map(Vec::as_slice).unwrap_or_default();
    for (fd, inode) in socket_inodes() {
        if inherited.iter().any(|&(_, known)| known == inode) || !is_tcp_connection(fd) {
            continue;
        }
        // SAFETY: shutdown on a descriptor number only ends the socket's traffic; an error (the
        // descriptor closed meanwhile) is harmless here.
        unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    }
}

/// Whether `fd` is an IPv4 or IPv6 stream socket that is not listening.
fn is_tcp_connection(fd: i32) -> bool {
    let option = |name: i32| {
        let mut value: libc::c_int = 0;
        let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: value and length are valid for writes of one c_int; a descriptor that is not
        // a socket gives an error, not undefined behaviour.
        let got =
            unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, name, (&raw mut value).cast(), &raw mut length) };
        (got == 0).then_some(value)
    };
    matches!(option(libc::SO_DOMAIN), Some(libc::AF_INET | libc::AF_INET6))
        && option(libc::SO_TYPE) == Some(libc::SOCK_STREAM)
        && option(libc::SO_ACCEPTCONN) == Some(0)
}

/// A panic on one rank would leave the others waiting forever in the next collective or in
/// `MPI_Finalize`: print the panic as usual, then take the whole job down.
fn install_abort_on_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        if MPI_RUNNING.load(Ordering::SeqCst) {
            abort_job(101);
        }
    }));
}

/// Ends the whole job with `code` (`MPI_Abort`: the launcher takes every rank down at once, so
/// no rank is left reading from a peer that is gone), or just this process outside MPI.
pub fn abort_job(code: i32) -> ! {
    if MPI_RUNNING.load(Ordering::SeqCst) {
        // Every abort follows a line this rank wrote (a signal, a time limit, a panic): the
        // launcher's proxy forwards it before MPI_Abort has the proxy killed (jobs ended with
        // 124, and under load with 143, and nothing on stderr).
        std::thread::sleep(GRACE_FOR_OUTPUT);
        // SAFETY: MPI is initialised and not finalised; MPI_Abort does not return.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, code);
        }
    }
    std::process::exit(code)
}

/// The rank the launcher gave this process, read from its environment before `MPI_Init`
/// (MPICH/hydra `PMI_RANK`, PMIx, Open MPI). Used so that only rank 0 prints usage errors,
/// which are found before MPI starts.
pub fn launcher_rank() -> Option<u32> {
    ["PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"]
        .iter()
        .find_map(|var| std::env::var(var).ok()?.parse().ok())
}

/// Whether this process prints the job's error (usage errors are found on every rank, before
/// MPI starts): the launcher's rank 0, or every process of a
/// launcher whose processes are singletons (a launcher that ends the job when the first one
/// leaves may end rank 0 before it printed).
pub fn prints_errors() -> bool {
    launcher_rank().unwrap_or(0) == 0 || ALONE_UNDER_A_LAUNCHER.load(Ordering::SeqCst)
}

/// Before a process started by a launcher exits without having started MPI (a usage error, or
/// `--help`): start and finalise MPI, so the launcher sees every rank end in order. A rank
/// that exits before `MPI_Init` can make hydra's mpiexec die of SIGPIPE instead of passing
/// the exit code on (seen in about 1 of 30 usage errors with several jobs at once).
pub fn settle_before_exit() {
    if launcher_rank().is_some() && !mpi::environment::is_initialized() {
        drop(mpi::initialize());
    }
}

/// Completes a request by polling, yielding the core between polls.
fn wait_yielding<'a, D: ?Sized, S: Scope<'a>>(request: Request<'a, D, S>) {
    wait_polling(request, std::thread::yield_now);
}

/// Completes a request by polling, yielding the core only every 256 polls: a round trip of a
/// few µs would otherwise pay a yield (and, on a busy host, another process's time slice) in
/// each wait, which osu_latency's blocking calls do not.
fn wait_spinning<'a, D: ?Sized, S: Scope<'a>>(request: Request<'a, D, S>) {
    let polls = std::cell::Cell::new(0u32);
    wait_polling(request, || {
        polls.set(polls.get().wrapping_add(1));
        if polls.get().is_multiple_of(256) {
            std::thread::yield_now();
        }
    });
}

fn wait_polling<'a, D: ?Sized, S: Scope<'a>>(mut request: Request<'a, D, S>, pause: impl Fn()) {
    loop {
        match request.test() {
            Ok(_) => return,
            Err(pending) => {
                request = pending;
                crate::interrupt::exit_if_received();
                pause();
            }
        }
    }
}

/// `MPI_Barrier`, waiting by yielding.
pub fn barrier(comm: &SimpleCommunicator) {
    wait_yielding(comm.immediate_barrier());
}

/// `MPI_Barrier` for ranks that wait while others measure their host's CPU: polls every
/// 200 µs and sleeps in between, so a waiting rank costs no CPU (yielding would spin).
pub fn barrier_sleeping(comm: &SimpleCommunicator) {
    wait_polling(comm.immediate_barrier(), || std::thread::sleep(std::time::Duration::from_micros(200)));
}

/// `MPI_Allgather`, waiting by yielding: every rank's `send` concatenated in rank order.
pub fn all_gather<T>(comm: &SimpleCommunicator, send: &[T]) -> Vec<T>
where
    T: Clone + Default,
    [T]: Buffer + BufferMut,
{
    let mut received = vec![T::default(); send.len() * comm.size() as usize];
    mpi::request::scope(|scope| {
        wait_yielding(comm.immediate_all_gather_into(scope, send, &mut received[..]));
    });
    received
}

/// `MPI_Gather` to rank 0, waiting by yielding: every rank's `send` (all of one length)
/// concatenated in rank order on rank 0; empty on the others. Where only rank 0 needs the
/// data (every operation's time), so the other ranks hold none of it.
pub fn gather_to_root<T>(comm: &SimpleCommunicator, send: &[T]) -> Vec<T>
where
    T: Clone + Default,
    [T]: Buffer + BufferMut,
{
    let root = comm.process_at_rank(0);
    if comm.rank() != 0 {
        mpi::request::scope(|scope| wait_yielding(root.immediate_gather_into(scope, send)));
        return Vec::new();
    }
    let mut received = vec![T::default(); send.len() * comm.size() as usize];
    mpi::request::scope(|scope| {
        wait_yielding(root.immediate_gather_into_root(scope, send, &mut received[..]));
    });
    received
}

/// `MPI_Bcast` from `root`, waiting by yielding.
pub fn broadcast<T: ?Sized + BufferMut>(comm: &SimpleCommunicator, root: Rank, data: &mut T) {
    let root_process = comm.process_at_rank(root);
    mpi::request::scope(|scope| {
        wait_yielding(root_process.immediate_broadcast_into(scope, data));
    });
}

/// Broadcasts a string of any length from `root`.
pub fn broadcast_string(comm: &SimpleCommunicator, root: Rank, text: &str) -> String {
    let mut len = [text.len() as u64];
    broadcast(comm, root, &mut len[..]);
    let mut bytes = if comm.rank() == root { text.as_bytes().to_vec() } else { vec![0u8; len[0] as usize] };
    if !bytes.is_empty() {
        broadcast(comm, root, &mut bytes[..]);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every rank's string, in rank order, on every rank.
pub fn all_gather_strings(comm: &SimpleCommunicator, text: &str) -> Vec<String> {
    let lengths = all_gather(comm, &[text.len() as u64]);
    let longest = lengths.iter().copied().max().unwrap_or(0) as usize;
    let mut padded = text.as_bytes().to_vec();
    padded.resize(longest, 0);
    let all = all_gather(comm, &padded[..]);
    lengths
        .iter()
        .enumerate()
        .map(|(rank, &len)| {
            let start = rank * longest;
            String::from_utf8_lossy(&all[start..start + len as usize]).into_owned()
        })
        .collect()
}

/// Makes a local outcome collective: if any rank failed, every rank returns the same error
/// (the lowest failing rank's message and kind); otherwise each keeps its own value.
/// Call it at the same point on every rank, like any collective.
pub fn agree<T>(comm: &SimpleCommunicator, local: anyhow::Result<T>) -> anyhow::Result<T> {
    share_outcome(comm, local, true)
}

/// Runs `check` on rank 0 only and shares its outcome with every rank.
pub fn root_checks(
    comm: &SimpleCommunicator,
    check: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let local = if comm.rank() == 0 { check() } else { Ok(()) };
    share_outcome(comm, local, false)
}

fn share_outcome<T>(
    comm: &SimpleCommunicator,
    local: anyhow::Result<T>,
    name_rank: bool,
) -> anyhow::Result<T> {
    // Each rank contributes its would-be exit code (0 = fine), so the kind survives the trip.
    let code = local.as_ref().err().map_or(0, exit_code);
    let codes = all_gather(comm, &[code]);
    let Some(first) = codes.iter().position(|&c| c != 0) else {
        return local;
    };
    let failed = codes.iter().filter(|&&c| c != 0).count();
    let message = match (&local, comm.rank() as usize == first) {
        (Err(error), true) => format!("{error:#}"),
        _ => String::new(),
    };
    let mut message = broadcast_string(comm, first as Rank, &message);
    if name_rank && comm.size() > 1 {
        message = format!("rank {first}: {message}");
        if failed > 1 {
            message.push_str(&format!(" ({failed} of {} ranks failed)", comm.size()));
        }
    }
    // A signal on any rank outranks other failures: every rank stops for it.
    if let Some(&code) = codes.iter().find(|&&c| c > 128) {
        return Err(Interrupted(code - 128).into());
    }
    Err(match codes[first] {
        EXIT_VERIFICATION => VerificationError(message).into(),
        EXIT_USAGE => UsageError(message).into(),
        _ => anyhow!(message),
    })
}

/// Refuses, on every rank, to go on when the ranks of some host together need more memory
/// than that host has available (`MemAvailable`), so a size that cannot fit is one clear
/// line instead of the OOM killer. `need_bytes` is this rank's; `what` says what it is for.
pub fn check_memory_per_host(session: &Session, need_bytes: u64, what: &str) -> anyhow::Result<()> {
    let needs = all_gather(session.world(), &[need_bytes]);
    let hosts = session.hosts();
    let me = &hosts[session.rank() as usize];
    let on_my_host: Vec<usize> = (0..hosts.len()).filter(|&r| &hosts[r] == me).collect();
    let total: u64 = on_my_host.iter().map(|&r| needs[r]).sum();
    let verdict = match crate::env::memory_available_bytes() {
        Some(available) if total > available => Err(anyhow!(
            "{what}: {} needed on host {me} ({} ranks there), only {} available",
            bytesize::ByteSize(total).display().iec(),
            on_my_host.len(),
            bytesize::ByteSize(available).display().iec()
        )),
        _ => Ok(()),
    };
    agree(session.world(), verdict)
}

/// `MPI_Allreduce` with `MPI_MAX` of one value, waiting by yielding.
pub fn all_reduce_max(comm: &SimpleCommunicator, value: f64) -> f64 {
    let mut result = 0.0;
    mpi::request::scope(|scope| {
        wait_yielding(comm.immediate_all_reduce_into(
            scope,
            &value,
            &mut result,
            mpi::collective::SystemOperation::max(),
        ));
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The finalize guard leaves with the code the run reported, not 0.
    #[test]
    fn the_code_a_run_leaves_with_is_kept_for_the_finalize_guard() {
        leaving_with(3);
        assert_eq!(EXIT_CODE.load(Ordering::SeqCst), 3);
        leaving_with(0);
    }
}
