//! The MPI latency of `pvbench net --test latency`: osu_latency's ping-pong. The pinger sends
//! a message and waits for the ponger's reply of the same size; untimed round trips first
//! (osu_latency's warm-up), then timed ones, each recorded on the pinger. A pair of one rank
//! with itself sends to itself.

use mpi::point_to_point::{Destination, Source};
use mpi::topology::{Communicator, Rank, SimpleCommunicator};

use super::wait_spinning;

const PING: i32 = 51;
const PONG: i32 = 52;

/// `skip` untimed then `iterations` timed round trips of `message.len()` bytes between
/// `pinger` and `ponger`, replies arriving in `reply` (as long as `message`; the same rank
/// needs two buffers); ranks outside the pair return at once. On the pinger
/// `round_trip(ns)` gets each timed round trip; returns the timed loop's seconds (0 elsewhere).
pub fn ping_pong(
    comm: &SimpleCommunicator,
    (pinger, ponger): (Rank, Rank),
    message: &mut [u8],
    reply: &mut [u8],
    skip: u32,
    iterations: u32,
    mut round_trip: impl FnMut(u64),
) -> f64 {
    let me = comm.rank();
    if me != pinger && me != ponger {
        return 0.0;
    }
    let mut started = std::time::Instant::now();
    let mut last = started;
    for i in 0..skip + iterations {
        if i == skip {
            started = std::time::Instant::now();
            last = started;
        }
        // The reply comes back from the ponger's buffer into the pinger's message.
        hop(comm, me, pinger, ponger, message, reply, PING);
        hop(comm, me, ponger, pinger, reply, message, PONG);
        if me == pinger && i >= skip {
            let now = std::time::Instant::now();
            round_trip(now.duration_since(last).as_nanos() as u64);
            last = now;
        }
        if i.is_multiple_of(1024) {
            super::watchdog::progress();
        }
    }
    if me == pinger { started.elapsed().as_secs_f64() } else { 0.0 }
}

/// One message `from` → `to` (the same rank or not): the receive posted before the send.
fn hop(
    comm: &SimpleCommunicator,
    me: Rank,
    from: Rank,
    to: Rank,
    outgoing: &[u8],
    incoming: &mut [u8],
    tag: i32,
) {
    mpi::request::scope(|scope| {
        let receive = (me == to)
            .then(|| comm.process_at_rank(from).immediate_receive_into_with_tag(scope, incoming, tag));
        let send =
            (me == from).then(|| comm.process_at_rank(to).immediate_send_with_tag(scope, outgoing, tag));
        send.into_iter().for_each(wait_spinning);
        receive.into_iter().for_each(wait_spinning);
    });
}
