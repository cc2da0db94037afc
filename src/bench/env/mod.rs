//! `pvbench env`: the environment block every result carries, on its own, with the ROMIO
//! drivers of the MPI library probed as well.

use std::time::Instant;

use crate::cli::EnvArgs;
use crate::mpi::environment::{self, Extent};
use crate::mpi::{self as mpi_util, Session};
use crate::report;
use crate::result::env::{EnvParameters, EnvResults};
use crate::result::{self, Document, JsonTarget};

#[derive(Debug)]
pub struct Options {
    json: Option<JsonTarget>,
    /// Replace an existing output file (`--force`).
    force: bool,
    label: Option<String>,
}

impl Options {
    pub fn from_args(args: EnvArgs) -> Self {
        Options {
            json: args.output.json.as_deref().map(JsonTarget::parse),
            force: args.output.force,
            label: args.output.label,
        }
    }
}

pub fn run(session: &Session, options: Options, command_line: Vec<String>) -> anyhow::Result<()> {
    let world = session.world();
    if let Some(json) = &options.json {
        mpi_util::root_checks(world, || Ok(json.check_writable(options.force)?))?;
    }
    let started_at = result::now_rfc3339();
    let started = Instant::now();
    let hosts = session.hosts();
    let Some(environment) = environment::gather(session, None, Extent::WithRomioDrivers)? else {
        return Ok(());
    };
    let document = Document {
        label: options.label,
        started_at: Some(started_at),
        command_line,
        ..session.document(
            "env",
            hosts,
            EnvParameters {},
            environment,
            EnvResults { detection_s: started.elapsed().as_secs_f64() },
        )
    };
    report::publish(&report::env::text(&document), options.json.as_ref(), &document)
}
