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
        // SAFETY: RSMPI_REQUEST_NULL is overwritten; the buffer is owned by the returned value
        // until the request completes (see `InFlight::drop`).
        let mut request = unsafe { ffi::RSMPI_REQUEST_NULL };
        unsafe {
            ffi::MPI_Isend(
                buffer.as_ptr().cast(),
                buffer.len() as c_int,
                ffi::RSMPI_DOUBLE,
                dest,
                tag,
                comm.as_raw(),
                &mut request,
            )
        };
        Outgoing(InFlight { request, buffer, done: false })
    }

    /// Waits for the send to complete and returns the buffer for reuse.
    pub fn finish(mut self) -> Vec<f64> {
        self.0.wait();
        std::mem::take(&mut self.0.buffer)
    }

    pub fn is_done(&mut self) -> bool {
        self.0.test()
    }
}

/// A receive into an owned buffer (`MPI_Irecv`).
pub struct Incoming(InFlight);

impl Incoming {
    pub fn start(comm: &SimpleCommunicator, source: Rank, tag: i32, mut buffer: Vec<f64>) -> Self {
        // SAFETY: as for `Outgoing::start`; MPI writes at most `buffer.len()` values.
        let mut request = unsafe { ffi::RSMPI_REQUEST_NULL };
        unsafe {
            ffi::MPI_Irecv(
                buffer.as_mut_ptr().cast(),
                buffer.len() as c_int,
                ffi::RSMPI_DOUBLE,
                source,
                tag,
                comm.as_raw(),
                &mut request,
            )
        };
        Incoming(InFlight { request, buffer, done: false })
    }

    pub fn is_done(&mut self) -> bool {
        self.0.test()
    }

    /// Waits for the message and returns the buffer holding it.
    pub fn finish(mut self) -> Vec<f64> {
        self.0.wait();
        std::mem::take(&mut self.0.buffer)
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
