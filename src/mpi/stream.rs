//! The MPI transport of `pvbench net`: osu_bw's pattern — a window of non-blocking sends of
//! one message size, then one acknowledgement — repeated until the sender decides to stop.
//! Before each window the sender says whether one follows (one byte), so a run can last a
//! time as well as a byte count. Waiting polls and yields, as everywhere in pvbench.

use mpi::point_to_point::{Destination, Source};
use mpi::topology::{Communicator, Rank, SimpleCommunicator};

use super::wait_yielding;

const CONTROL: i32 = 41;
const DATA: i32 = 42;
const ACK: i32 = 43;

/// Streams `message`-sized messages from `sender` to `receiver` (which may be the same rank)
/// in windows of `window`; `more(bytes_so_far)` on the sender decides whether another window
/// follows. `receive_into` holds a window of messages on the receiver. Returns the bytes moved.
pub fn stream(
    comm: &SimpleCommunicator,
    sender: Rank,
    receiver: Rank,
    message: &[u8],
    receive_into: &mut [u8],
    window: usize,
    mut more: impl FnMut(u64) -> bool,
) -> u64 {
    let me = comm.rank();
    let size = message.len();
    let per_window = (size * window) as u64;
    let mut moved: u64 = 0;
    loop {
        let go = if me == sender { more(moved) } else { true };
        if me == sender && me != receiver {
            let flag = [u8::from(go)];
            mpi::request::scope(|scope| {
                wait_yielding(comm.process_at_rank(receiver).immediate_send_with_tag(
                    scope,
                    &flag[..],
                    CONTROL,
                ));
            });
        } else if me == receiver && me != sender {
            let mut flag = [0u8];
            mpi::request::scope(|scope| {
                wait_yielding(comm.process_at_rank(sender).immediate_receive_into_with_tag(
                    scope,
                    &mut flag[..],
                    CONTROL,
                ));
            });
            if flag[0] == 0 {
                return moved;
            }
        }
        if !go {
            return moved;
        }
        mpi::request::scope(|scope| {
            let mut receives = Vec::new();
            if me == receiver {
                for slot in receive_into.chunks_mut(size).take(window) {
                    receives.push(
                        comm.process_at_rank(sender).immediate_receive_into_with_tag(scope, slot, DATA),
                    );
                }
            }
            let mut sends = Vec::new();
            if me == sender {
                for _ in 0..window {
                    sends.push(comm.process_at_rank(receiver).immediate_send_with_tag(scope, message, DATA));
                }
            }
            sends.into_iter().for_each(wait_yielding);
            receives.into_iter().for_each(wait_yielding);
        });
        if sender != receiver {
            let mut ack = [0u8];
            mpi::request::scope(|scope| {
                if me == receiver {
                    wait_yielding(comm.process_at_rank(sender).immediate_send_with_tag(scope, &ack[..], ACK));
                } else {
                    wait_yielding(comm.process_at_rank(receiver).immediate_receive_into_with_tag(
                        scope,
                        &mut ack[..],
                        ACK,
                    ));
                }
            });
        }
        moved += per_window;
        super::watchdog::progress();
    }
}
