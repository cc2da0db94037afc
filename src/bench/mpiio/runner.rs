//! One rank's side of a run: every iteration of a phase, timed, with failures shared so that
//! no rank waits forever.

use anyhow::anyhow;

use super::files::{Layout, describe};
use super::{Options, pattern};
use crate::error::VerificationError;
use crate::mpi::io::{Access, File, Info, MpiIoError};
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
    pub buffer: Vec<u8>,
    pub hints_in_effect: Option<Vec<(String, String)>>,
    pub bytes_checked: u64,
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

    /// One phase, all iterations: this rank's clock marks per iteration.
    pub fn run_phase(&mut self, phase: Phase) -> anyhow::Result<Vec<RankTiming>> {
        let ranks = self.layout.ranks as u32;
        (0..self.options.iterations)
            .map(|iteration| {
                let writer = match phase {
                    Phase::Read if self.options.reorder_read => (self.rank + 1) % ranks,
                    _ => self.rank,
                };
                self.run_iteration(phase, iteration, writer)
            })
            .collect()
    }

    fn run_iteration(&mut self, phase: Phase, iteration: u32, writer: u32) -> anyhow::Result<RankTiming> {
        let opts = self.options;
        let path = self.layout.path(writer);
        let block_offset = self.layout.offset(writer, iteration);
        let key = pattern::block_key(writer, iteration);
        let transfers = opts.block_size / opts.transfer_size;
        if phase == Phase::Write {
            pattern::fill(&mut self.buffer, block_offset, key);
        }
        let access = if phase == Phase::Write { Access::CreateWrite } else { Access::ReadOnly };

        mpi_util::barrier(self.session.world());
        let open_start_s = self.now();
        let opened = self.open(&path, access);
        let open_end = self.now();
        let mut file = mpi_util::agree(self.session.world(), opened.map_err(|e| describe(e, &path)))?;

        // After a failure a rank keeps taking part in the remaining collective calls with
        // empty transfers, so that no rank waits forever; the error is shared after close.
        let mut failure: Option<anyhow::Error> = None;
        if self.hints_in_effect.is_none() && self.rank == 0 {
            match file.hints_in_effect() {
                Ok(hints) => self.hints_in_effect = Some(hints),
                Err(e) => failure = Some(describe(e, &path)),
            }
        }
        let mut mismatch: Option<(pattern::Mismatch, u64)> = None;
        let (mut transfer_s, mut excluded_s) = (0.0, 0.0);
        for k in 0..transfers {
            let offset = block_offset + k * opts.transfer_size;
            if failure.is_some() && !opts.collective {
                break;
            }
            if phase == Phase::Write && k > 0 && failure.is_none() {
                let t = self.now();
                pattern::fill(&mut self.buffer, offset, key);
                excluded_s += self.now() - t;
            }
            let len = if failure.is_some() { 0 } else { self.buffer.len() };
            let t = self.now();
            let moved = match phase {
                Phase::Write => file.write_at(offset, &self.buffer[..len], opts.collective),
                Phase::Read => file.read_at(offset, &mut self.buffer[..len], opts.collective),
            };
            transfer_s += self.now() - t;
            if failure.is_some() {
                continue;
            }
            match moved {
                Err(e) => failure = Some(describe(e, &path)),
                Ok(n) if n != len && phase == Phase::Write => {
                    failure = Some(anyhow!("{path}: short write at offset {offset}: {n} of {len} bytes"))
                }
                Ok(n) if n != len => {
                    failure = Some(
                        VerificationError(format!(
                            "{path}: file ends early: read {n} of {len} bytes at offset {offset} \
                         (iteration {iteration}, block of rank {writer})"
                        ))
                        .into(),
                    )
                }
                Ok(_) if phase == Phase::Read && opts.verify => {
                    let t = self.now();
                    if let Some(bad) = pattern::check(&self.buffer, offset, key) {
                        mismatch.get_or_insert((bad, 0)).1 += bad.bad_bytes;
                    }
                    self.bytes_checked += len as u64;
                    excluded_s += self.now() - t;
                }
                Ok(_) => {}
            }
        }
        let transfer_end = self.now();
        if phase == Phase::Write && opts.sync {
            let synced = file.sync();
            if failure.is_none() {
                failure = synced.err().map(|e| describe(e, &path));
            }
        }
        let sync_end = self.now();
        let closed = file.close();
        let close_end_s = self.now();
        if failure.is_none() {
            failure = closed.err().map(|e| describe(e, &path));
        }
        if failure.is_none()
            && let Some((first, bad_bytes)) = mismatch
        {
            failure = Some(VerificationError(format!(
                "verification failed: {path}, iteration {iteration}, block of rank {writer} read by rank {}: \
                 first bad byte at file offset {} (byte {} of the block), {bad_bytes} of {} bytes differ",
                self.rank,
                first.first_bad_offset,
                first.first_bad_offset - block_offset,
                opts.block_size
            )).into());
        }
        mpi_util::agree(self.session.world(), failure.map_or(Ok(()), Err))?;
        Ok(RankTiming {
            rank: self.rank,
            open_start_s,
            open_s: open_end - open_start_s,
            transfer_s,
            sync_s: sync_end - transfer_end,
            close_s: close_end_s - sync_end,
            close_end_s,
            excluded_s,
        })
    }
}

const TIMING_FIELDS: usize = 7;

pub(super) fn flatten(timings: &[RankTiming]) -> Vec<f64> {
    timings
        .iter()
        .flat_map(|t| {
            [t.open_start_s, t.open_s, t.transfer_s, t.sync_s, t.close_s, t.close_end_s, t.excluded_s]
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
