//! One rank's side of a run: every iteration of a phase, timed, with failures shared so that
//! no rank waits forever.

use anyhow::anyhow;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::files::{Layout, describe};
use super::{Options, pattern};
use crate::buffer::AlignedBuffer;
use crate::error::VerificationError;
use crate::interrupt;
use crate::mpi::io::{Access, File, Info, MpiIoError};
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::result::mpiio::{Phase, RankTiming};

/// What one rank needs while it runs the phases.
pub(super) struct Runner<'a> {
    pub session: &'a Session,
    pub options: &'a Options,
    pub layout: Layout,
    pub info: Info,
    pub rank: u32,
    pub epoch: f64,
    pub buffer: AlignedBuffer,
    pub hints_in_effect: Option<Vec<(String, String)>>,
    pub bytes_checked: u64,
    /// Said after the place of a failed call: the file's PVFS2 server, if any.
    pub server_note: String,
}

impl Runner<'_> {
    fn now(&self) -> f64 {
        self.session.time() - self.epoch
    }

    fn open(&self, path: &str, access: Access) -> Result<File, MpiIoError> {
        if self.options.file_per_process {
            File::open_self(path, access, &self.info)
        } else {
            File::open(self.session.world(), path, access, &self.info)
        }
    }

    /// One phase, all iterations: this rank's clock marks per iteration and its latencies.
    pub fn run_phase(&mut self, phase: Phase) -> anyhow::Result<Measured> {
        let ranks = self.layout.ranks as u32;
        let mut latencies_s = Vec::new();
        let timings = (0..self.options.iterations)
            .map(|iteration| {
                let writer = match phase {
                    Phase::Read if self.options.reorder_read => (self.rank + 1) % ranks,
                    _ => self.rank,
                };
                self.run_iteration(phase, iteration, writer, &mut latencies_s)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Measured { phase, timings, latencies_s })
    }

    /// The file offsets of `writer`'s transfers in `iteration`, in the order this rank makes
    /// them: ascending, or shuffled by the seed. ChaCha8 gives the same order for a seed on
    /// every platform and rand version; each phase, iteration and writer has its own stream.
    fn transfer_offsets(&self, phase: Phase, iteration: u32, writer: u32) -> Vec<u64> {
        let opts = self.options;
        let per_block = opts.block_size / opts.transfer_size;
        let mut offsets: Vec<u64> = (0..self.layout.segments)
            .flat_map(|segment| {
                let block = self.layout.offset(writer, iteration, segment);
                (0..per_block).map(move |k| block + k * opts.transfer_size)
            })
            .collect();
        if let Some(seed) = opts.seed {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(
                (u64::from(iteration) << 33) | (u64::from(writer) << 1) | u64::from(phase == Phase::Read),
            );
            offsets.shuffle(&mut rng);
        }
        offsets
    }

    /// One iteration: open, the transfers in batches, sync, close; this rank's marks.
    ///
    /// The window a bandwidth is computed from holds only open, transfers, sync and close.
    /// Pattern work and bookkeeping happen before the open, after the close, or in steps
    /// fenced by barriers on both sides (see [`Runner::fenced`]), whose length is subtracted.
    fn run_iteration(
        &mut self,
        phase: Phase,
        iteration: u32,
        writer: u32,
        latencies_s: &mut Vec<f64>,
    ) -> anyhow::Result<RankTiming> {
        let opts = self.options;
        let world = self.session.world();
        let mut pass = Pass {
            path: self.layout.path(writer),
            writer,
            iteration,
            key: pattern::block_key(writer, iteration),
            failure: None,
            mismatch: None,
            unchecked: Vec::new(),
        };
        let offsets = self.transfer_offsets(phase, iteration, writer);
        let batch = opts.batch_transfers();
        let part = match phase {
            Phase::Write => "write phase",
            Phase::Read => "read phase",
        };
        watchdog::enter(Stage {
            part: part.into(),
            iteration: Some((iteration + 1, opts.iterations)),
            call: None,
            item: None,
        });
        self.prepare_batch(phase, &pass, &offsets[..batch.min(offsets.len())]);
        let access = if phase == Phase::Write { Access::CreateWrite } else { Access::ReadOnly };

        // Starts together, and stops together when a signal came (see `interrupt`).
        watchdog::calling("a barrier before MPI_File_open");
        mpi_util::agree(world, interrupt::check().map_err(anyhow::Error::from))?;
        watchdog::calling("MPI_File_open");
        let open_start_s = self.now();
        let opened = self.open(&pass.path, access);
        let open_end = self.now();
        let (opened, mut excluded_s, stop) = self.fenced(|runner| -> anyhow::Result<File> {
            let file = mpi_util::agree(world, opened.map_err(|e| describe(e, &pass.path)))?;
            if runner.hints_in_effect.is_none() && runner.rank == 0 {
                match file.hints_in_effect() {
                    Ok(hints) => runner.hints_in_effect = Some(hints),
                    Err(e) => pass.failure = Some(describe(e, &pass.path)),
                }
            }
            Ok(file)
        });
        let mut file = opened?;
        pass.fail(stop);

        let (transfer_s, fences_s) =
            self.transfer_batches(&mut file, phase, &mut pass, &offsets, latencies_s);
        excluded_s += fences_s;
        let transfer_end = self.now();
        if phase == Phase::Write && opts.sync {
            watchdog::calling("MPI_File_sync");
            let synced = file.sync().map_err(|e| describe(e, &pass.path));
            pass.fail(synced);
        }
        let sync_end = self.now();
        watchdog::calling("MPI_File_close");
        let closed = file.close().map_err(|e| describe(e, &pass.path));
        let close_end_s = self.now();
        pass.fail(closed);
        self.check_batch(&mut pass);
        watchdog::calling("a barrier after MPI_File_close");
        let outcome = pass.outcome(self.rank, &self.layout, opts.bytes_per_iteration()).map_err(|e| {
            if e.is::<VerificationError>() {
                return e; // it names its iteration and block already
            }
            let iteration = iteration + 1;
            e.context(format!("{part}, iteration {iteration} of {}{}", opts.iterations, self.server_note))
        });
        mpi_util::agree(world, outcome)?;
        Ok(RankTiming {
            rank: self.rank,
            block_of_rank: writer,
            open_start_s,
            open_s: open_end - open_start_s,
            transfer_s,
            sync_s: sync_end - transfer_end,
            close_s: close_end_s - sync_end,
            close_end_s,
            excluded_s,
        })
    }

    /// Makes the transfers at `offsets`, batch by batch (the first one prepared already), each
    /// call's time into `latencies_s`; returns the time in transfer calls and in the fences
    /// between batches.
    fn transfer_batches(
        &mut self,
        file: &mut File,
        phase: Phase,
        pass: &mut Pass,
        offsets: &[u64],
        latencies_s: &mut Vec<f64>,
    ) -> (f64, f64) {
        let (mut transfer_s, mut fences_s) = (0.0, 0.0);
        for (index, batch) in offsets.chunks(self.options.batch_transfers()).enumerate() {
            if index > 0 && (phase == Phase::Write || self.options.verify) {
                let ((), fence_s, stop) = self.fenced(|runner| {
                    runner.check_batch(pass);
                    runner.prepare_batch(phase, pass, batch);
                });
                fences_s += fence_s;
                pass.fail(stop);
            }
            for (slot, &offset) in batch.iter().enumerate() {
                let took = self.transfer(file, phase, pass, slot, offset);
                latencies_s.push(took);
                transfer_s += took;
            }
        }
        (transfer_s, fences_s)
    }

    /// Runs `step` between two barriers: it starts when every rank is done with its I/O and
    /// ends when every rank is done with the step, so no rank's I/O call waits for another
    /// rank's pattern work, and the length returned is the same on every rank. The closing
    /// barrier is an agreement on signals: an interrupted run stops on every rank at once.
    fn fenced<T>(&mut self, step: impl FnOnce(&mut Self) -> T) -> (T, f64, anyhow::Result<()>) {
        watchdog::calling("a barrier between transfers");
        mpi_util::barrier(self.session.world());
        let start = self.now();
        let value = step(self);
        let stop = mpi_util::agree(self.session.world(), interrupt::check().map_err(anyhow::Error::from));
        (value, self.now() - start, stop)
    }

    /// The buffer's slot of transfer `slot` of a batch: page-aligned, one transfer long.
    fn slot_range(&self, slot: usize) -> std::ops::Range<usize> {
        let start = slot * self.options.slot_stride();
        start..start + self.options.transfer_size as usize
    }

    /// Gets the buffer ready for the transfers at `offsets`: the pattern to write, or poison
    /// before reads that are checked (so a read that moves no data cannot pass).
    fn prepare_batch(&mut self, phase: Phase, pass: &Pass, offsets: &[u64]) {
        if pass.failure.is_some() {
            return;
        }
        match phase {
            Phase::Write => {
                for (slot, &offset) in offsets.iter().enumerate() {
                    let range = self.slot_range(slot);
                    pattern::fill(&mut self.buffer[range], offset, pass.key);
                }
            }
            Phase::Read if self.options.verify => self.buffer.fill(pattern::POISON),
            Phase::Read => {}
        }
    }

    /// Checks the transfers the last reads brought in that are still unchecked.
    fn check_batch(&mut self, pass: &mut Pass) {
        for (slot, offset) in std::mem::take(&mut pass.unchecked) {
            let range = self.slot_range(slot);
            if let Some(bad) = pattern::check(&self.buffer[range.clone()], offset, pass.key) {
                let first = pass.mismatch.get_or_insert((bad, 0));
                first.0.first_bad_offset = first.0.first_bad_offset.min(bad.first_bad_offset);
                first.1 += bad.bad_bytes;
            }
            self.bytes_checked += range.len() as u64;
        }
    }

    /// Moves the transfer in buffer slot `slot` to or from `offset` and returns how long the
    /// call took. After a failure a rank keeps taking part in collective calls with empty
    /// transfers, so that no rank waits forever.
    fn transfer(&mut self, file: &mut File, phase: Phase, pass: &mut Pass, slot: usize, offset: u64) -> f64 {
        let opts = self.options;
        if pass.failure.is_some() && !opts.collective {
            return 0.0;
        }
        let mut range = self.slot_range(slot);
        if pass.failure.is_some() {
            range.end = range.start;
        }
        let len = range.len();
        watchdog::calling(match (phase, opts.collective) {
            (Phase::Write, true) => "MPI_File_write_at_all",
            (Phase::Write, false) => "MPI_File_write_at",
            (Phase::Read, true) => "MPI_File_read_at_all",
            (Phase::Read, false) => "MPI_File_read_at",
        });
        let start = self.now();
        let moved = match phase {
            Phase::Write => file.write_at(offset, &self.buffer[range], opts.collective),
            Phase::Read => file.read_at(offset, &mut self.buffer[range], opts.collective),
        };
        let took = self.now() - start;
        if pass.failure.is_some() {
            return took;
        }
        let path = &pass.path;
        match moved {
            Err(e) => pass.failure = Some(describe(e, path)),
            Ok(n) if n != len && phase == Phase::Write => {
                pass.failure = Some(anyhow!("{path}: short write at offset {offset}: {n} of {len} bytes"))
            }
            Ok(n) if n != len => {
                pass.failure = Some(
                    VerificationError(format!(
                        "{path}: file ends early: read {n} of {len} bytes at offset {offset} \
                         (iteration {}, block of rank {})",
                        pass.iteration, pass.writer
                    ))
                    .into(),
                )
            }
            Ok(_) if phase == Phase::Read && opts.verify => pass.unchecked.push((slot, offset)),
            Ok(_) => {}
        }
        took
    }
}

/// One phase's measurements on one rank.
pub(super) struct Measured {
    pub phase: Phase,
    pub timings: Vec<RankTiming>,
    /// Every transfer call's duration, in the order made: as many on every rank.
    pub latencies_s: Vec<f64>,
}

/// One iteration's state on one rank while its file is open.
struct Pass {
    path: String,
    /// Whose blocks of which iteration these are.
    writer: u32,
    iteration: u32,
    key: u64,
    failure: Option<anyhow::Error>,
    /// The lowest bad file offset and the number of bad bytes over all transfers.
    mismatch: Option<(pattern::Mismatch, u64)>,
    /// Buffer slot and file offset of transfers read and not yet checked.
    unchecked: Vec<(usize, u64)>,
}

impl Pass {
    /// Keeps the first failure: from here on this rank only joins collective calls.
    fn fail(&mut self, outcome: anyhow::Result<()>) {
        if let (None, Err(e)) = (&self.failure, outcome) {
            self.failure = Some(e);
        }
    }

    /// The iteration's outcome on this rank: the first failure, else a verification failure
    /// naming the lowest bad offset (`bytes`: what the writer wrote in the iteration).
    fn outcome(self, rank: u32, layout: &Layout, bytes: u64) -> anyhow::Result<()> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let Some((first, bad_bytes)) = self.mismatch else { return Ok(()) };
        let (segment, byte) = layout.locate(first.first_bad_offset);
        let segment = if layout.segments > 1 { format!(" in segment {segment}") } else { String::new() };
        Err(VerificationError(format!(
            "verification failed: {}, iteration {}, block of rank {} read by rank {rank}: \
             first bad byte at file offset {} (byte {byte} of the block{segment}), {bad_bytes} of {bytes} bytes differ",
            self.path, self.iteration, self.writer, first.first_bad_offset,
        ))
        .into())
    }
}

const TIMING_FIELDS: usize = 8;

pub(super) fn flatten(timings: &[RankTiming]) -> Vec<f64> {
    timings
        .iter()
        .flat_map(|t| {
            [
                t.open_start_s,
                t.open_s,
                t.transfer_s,
                t.sync_s,
                t.close_s,
                t.close_end_s,
                t.excluded_s,
                f64::from(t.block_of_rank),
            ]
        })
        .collect()
}

/// `timings[iteration][rank]` from every rank's flattened marks, in rank order.
pub(super) fn unflatten(all: &[f64], ranks: usize, iterations: usize) -> Vec<Vec<RankTiming>> {
    (0..iterations)
        .map(|iteration| {
            (0..ranks)
                .map(|rank| {
                    let at = (rank * iterations + iteration) * TIMING_FIELDS;
                    let f = &all[at..at + TIMING_FIELDS];
                    RankTiming {
                        rank: rank as u32,
                        open_start_s: f[0],
                        open_s: f[1],
                        transfer_s: f[2],
                        sync_s: f[3],
                        close_s: f[4],
                        close_end_s: f[5],
                        excluded_s: f[6],
                        block_of_rank: f[7] as u32,
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_survive_the_flattening() {
        let t = |rank, x: f64| RankTiming {
            rank,
            block_of_rank: 1 - rank,
            open_start_s: x,
            open_s: x + 1.0,
            transfer_s: x + 2.0,
            sync_s: x + 3.0,
            close_s: x + 4.0,
            close_end_s: x + 5.0,
            excluded_s: x + 6.0,
        };
        let rank0 = vec![t(0, 0.0), t(0, 10.0)];
        let rank1 = vec![t(1, 20.0), t(1, 30.0)];
        let all: Vec<f64> = [flatten(&rank0), flatten(&rank1)].concat();
        let back = unflatten(&all, 2, 2);
        assert_eq!(back[0], vec![rank0[0], rank1[0]]);
        assert_eq!(back[1], vec![rank0[1], rank1[1]]);
    }
}
