//! Non-blocking point-to-point messages of `f64`s that own their buffers, so a send or a
//! receive can stay in flight across loop iterations (rsmpi's scoped requests cannot).
//! Completion is waited for by polling and yielding, like the collectives in this module.

use std::os::raw::c_int;

use mpi::ffi;
use mpi::raw::AsRaw;
use mpi::topology::{Rank, SimpleCommunicator};

/// A message in flight with the buffer it reads from or writes into.
struct InFlight {
    request: ffi::MPI_Request,
    buffer: Vec<f64>,
    done: bool,
}

impl InFlight {
    /// Posts `post` (MPI_Isend or MPI_Irecv) on `buffer`, which the returned value then owns
    /// until the request completes (see `Drop`), so MPI never sees a freed buffer.
    fn start(
        mut buffer: Vec<f64>,
        post: impl FnOnce(*mut f64, c_int, *mut ffi::MPI_Request) -> c_int,
    ) -> Self {
        // SAFETY: RSMPI_REQUEST_NULL is a valid placeholder that the post overwrites.
        let mut request = unsafe { ffi::RSMPI_REQUEST_NULL };
        post(buffer.as_mut_ptr(), buffer.len() as c_int, &mut request);
        InFlight { request, buffer, done: false }
    }

    /// Waits for completion and hands the buffer back.
    fn finish(mut self) -> Vec<f64> {
        self.wait();
        std::mem::take(&mut self.buffer)
    }

    fn test(&mut self) -> bool {
        if !self.done {
            let mut flag: c_int = 0;
            // SAFETY: `request` is a live request from MPI_Isend/MPI_Irecv on `buffer`, which
            // this struct owns and does not touch until the request completes.
            unsafe { ffi::MPI_Test(&mut self.request, &mut flag, ffi::RSMPI_STATUS_IGNORE) };
            self.done = flag != 0;
        }
        self.done
    }

    fn wait(&mut self) {
        while !self.test() {
            crate::interrupt::exit_if_received();
            std::thread::yield_now();
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The buffer must outlive the request: never free it while MPI may still use it.
        self.wait();
    }
}

/// A send of an owned buffer (`MPI_Isend`).
pub struct Outgoing(InFlight);

impl Outgoing {
    pub fn start(comm: &SimpleCommunicator, dest: Rank, tag: i32, buffer: Vec<f64>) -> Self {
        Outgoing(InFlight::start(buffer, |data, len, request| {
            // SAFETY: `data` is valid for `len` values while the request is in flight.
            unsafe { ffi::MPI_Isend(data.cast(), len, ffi::RSMPI_DOUBLE, dest, tag, comm.as_raw(), request) }
        }))
    }

    /// Waits for the send to complete and returns the buffer for reuse.
    pub fn finish(self) -> Vec<f64> {
        self.0.finish()
    }

    pub fn is_done(&mut self) -> bool {
        self.0.test()
    }
}

/// A receive into an owned buffer (`MPI_Irecv`).
pub struct Incoming(InFlight);

impl Incoming {
    pub fn start(comm: &SimpleCommunicator, source: Rank, tag: i32, buffer: Vec<f64>) -> Self {
        Incoming(InFlight::start(buffer, |data, len, request| {
            // SAFETY: MPI writes at most `len` values into `data`, which it owns until completion.
            unsafe {
                ffi::MPI_Irecv(data.cast(), len, ffi::RSMPI_DOUBLE, source, tag, comm.as_raw(), request)
            }
        }))
    }

    pub fn is_done(&mut self) -> bool {
        self.0.test()
    }

    /// Waits for the message and returns the buffer holding it.
    pub fn finish(self) -> Vec<f64> {
        self.0.finish()
    }

    /// Withdraws a receive that no message will match (`MPI_Cancel`).
    pub fn cancel(mut self) {
        if !self.0.test() {
            // SAFETY: cancelling a pending receive is always allowed; the wait in drop then
            // completes it as cancelled, after which the buffer is free.
            unsafe { ffi::MPI_Cancel(&mut self.0.request) };
        }
    }
}
