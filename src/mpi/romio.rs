//! Which ROMIO file-system drivers this MPI library has, found by asking it: each prefix opens
//! a file that does not exist, read-only, and the error class tells a driver that looked for
//! the file (`MPI_ERR_NO_SUCH_FILE`, or whatever else its file system said) from a prefix the
//! library has no driver for. ROMIO refuses an unknown prefix with `MPI_ERR_IO`
//! ("*iofstypeunsupported"), which a driver may also return, so a prefix no library has is
//! probed first and a prefix counts as unsupported only when it fails exactly like that one.

use std::path::Path;

use super::io::{Access, File, Info};
use crate::env::RomioDriver;

/// The prefixes ROMIO's `ad_fstype.c` knows, but `testfs:`, a test driver that accepts any
/// path and prints every call to standard output.
pub const PREFIXES: &[&str] =
    &["ufs", "nfs", "pvfs2", "lustre", "gpfs", "panfs", "xfs", "daos", "ime", "quobyte"];

/// A prefix that no MPI library has a driver for.
const NO_DRIVER: &str = "pvbenchnodriver";

/// How one open went: `(error class name, MPI's message with the path taken out)`, or `None`
/// for success.
fn attempt(prefix: &str, dir: &Path) -> Option<(String, String)> {
    let target = dir.join("pvbench-romio-probe-missing");
    let path = format!("{prefix}:{}", target.display());
    let info = Info::new().ok()?;
    match File::open_self(&path, Access::ReadOnly, &info) {
        Ok(file) => {
            let _ = file.close();
            None
        }
        Err(e) => Some((
            e.class.name(),
            e.message().replace(&path, "PATH").replace(&target.display().to_string(), "PATH"),
        )),
    }
}

/// Probes every prefix in `dir`, an empty directory of this process's.
pub fn drivers(dir: &Path) -> Vec<RomioDriver> {
    let unsupported = attempt(NO_DRIVER, dir);
    PREFIXES
        .iter()
        .map(|prefix| {
            let outcome = attempt(prefix, dir);
            let supported = outcome != unsupported || unsupported.is_none();
            let evidence = match &outcome {
                None => "the open succeeded".to_string(),
                Some((class, _)) if !supported => format!("{class}, as for a prefix no library has"),
                Some((class, message)) => format!("{class}: {message}"),
            };
            RomioDriver { prefix: format!("{prefix}:"), supported, evidence }
        })
        .collect()
}
