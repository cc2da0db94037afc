//! One rank's side of the phases: every item timed, each phase fenced by barriers, a failure
//! or a signal shared at the phase's end so that no rank waits forever.

use super::Options;
use super::tree::{Interface, Layout, Live};
use crate::interrupt;
use crate::mpi::watchdog::{self, Stage};
use crate::mpi::{self as mpi_util, Session};
use crate::result::meta::Phase;

/// One phase on this rank over all iterations.
pub(super) struct Measured {
    pub phase: Phase,
    /// Per iteration: from the barrier before the phase to the one after it.
    pub seconds: Vec<f64>,
    /// Every operation's time, iteration after iteration.
    pub samples: Vec<f64>,
}

pub(super) struct Runner<'a> {
    session: &'a Session,
    options: &'a Options,
    layout: &'a Layout,
    interface: &'a Interface,
    rank: u32,
    live: Live,
    /// What a create writes, and where a read reads to.
    data: Vec<u8>,
    buffer: Vec<u8>,
}

impl<'a> Runner<'a> {
    pub fn new(
        session: &'a Session,
        options: &'a Options,
        layout: &'a Layout,
        interface: &'a Interface,
    ) -> Self {
        Runner {
            session,
            options,
            layout,
            interface,
            rank: session.rank() as u32,
            live: Live::default(),
            data: vec![b'm'; options.write_bytes as usize],
            buffer: vec![0; options.read_bytes as usize],
        }
    }

    /// Every iteration of every phase, in mdtest's order.
    pub fn run_all(&mut self) -> anyhow::Result<Vec<Measured>> {
        let mut measured: Vec<Measured> = (self.options.phases.iter())
            .map(|&phase| Measured { phase, seconds: Vec::new(), samples: Vec::new() })
            .collect();
        for iteration in 0..self.options.iterations {
            for m in &mut measured {
                let seconds = self.run_phase(m.phase, iteration, &mut m.samples)?;
                m.seconds.push(seconds);
            }
        }
        Ok(measured)
    }

    /// One phase of one iteration: this rank's time between the barriers; each operation's
    /// time is added to `samples`.
    fn run_phase(&mut self, phase: Phase, iteration: u32, samples: &mut Vec<f64>) -> anyhow::Result<f64> {
        let world = self.session.world();
        let part = format!("{} phase", phase.mdtest_name().to_lowercase());
        let of = self.options.iterations;
        let items = self.options.items;
        watchdog::enter(Stage {
            part: part.clone().into(),
            iteration: Some((iteration + 1, of)),
            call: None,
            item: None,
        });
        // Room for this phase's times before the clock starts: no reallocation inside it.
        samples.reserve(items as usize);
        // The opening barrier; a signal that came before it stops every rank here.
        mpi_util::agree(world, interrupt::check().map_err(anyhow::Error::from))?;
        let start = self.session.time();
        let mut outcome = Ok(());
        for index in 0..items {
            if let Err(signal) = interrupt::check() {
                outcome = Err(signal.into());
                break;
            }
            watchdog::at_item(index + 1, items);
            let path = self.layout.item(phase, self.rank, index);
            let before = self.session.time();
            let done = self.interface.run(phase, &path, &self.data, &mut self.buffer);
            samples.push(self.session.time() - before);
            if let Err(e) = done {
                outcome = Err(e.context(format!(
                    "{part}, iteration {} of {of}, item {} of {items}",
                    iteration + 1,
                    index + 1
                )));
                break;
            }
            self.live.done(phase, index);
        }
        // The closing barrier: every rank's outcome, shared.
        mpi_util::agree(world, outcome)?;
        Ok(self.session.time() - start)
    }

    /// Removes the items this rank made that are still there (none after a whole run).
    pub fn clean_up(&mut self) -> anyhow::Result<()> {
        self.live.remove(self.interface, self.layout, self.rank)
    }
}
