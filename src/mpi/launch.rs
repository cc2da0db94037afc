//! A launcher that does not speak the MPI library's start-up protocol (srun without a PMI
//! plugin, Open MPI's mpiexec for a pvbench built for MPICH, MPICH's for one built for Open
//! MPI) starts every process as an MPI job of its own, a world of one rank: each would measure
//! alone and write its own result. Refused on every process, naming both sides.

use crate::env::{Started, Starter};

/// The MPI library a version string (`MPI_Get_library_version`) names.
fn library_name(version: &str) -> &str {
    const KNOWN: [(&str, &str); 4] =
        [("MPICH", "MPICH"), ("MVAPICH", "MVAPICH"), ("Open MPI", "Open MPI"), ("Intel(R) MPI", "Intel MPI")];
    KNOWN.iter().find(|(prefix, _)| version.starts_with(prefix)).map_or("this MPI library", |(_, name)| name)
}

/// The launcher to use instead, for the library pvbench is built for.
fn launcher_of(library: &str) -> &'static str {
    match library {
        "MPICH" => "MPICH's mpiexec (Debian: mpiexec.mpich)",
        "Open MPI" => "Open MPI's mpiexec (Debian: mpiexec.openmpi)",
        _ => "the library's own launcher",
    }
}

/// Why this job cannot run, when the launcher started several processes and MPI sees a world
/// of one; `None` when they agree.
pub(super) fn mismatch(started: Option<Started>, world_size: usize, library_version: &str) -> Option<String> {
    let Started { by, processes } = started?;
    if world_size != 1 || processes <= 1 {
        return None;
    }
    let library = library_name(library_version);
    let (launcher, its_library) = match by {
        Starter::Srun => return Some(srun_without_pmi(processes, library)),
        Starter::Hydra => ("MPICH's mpiexec (hydra)", "MPICH"),
        Starter::OpenMpi => ("Open MPI's mpiexec", "Open MPI"),
    };
    if library == its_library {
        // One MPI on both sides, still no PMI between them (another installation's launcher).
        return Some(format!(
            "{launcher} started {processes} processes, but each is an MPI job of its own (1 rank): \
             is the mpiexec of the {library} installation pvbench is linked with first on PATH?"
        ));
    }
    Some(format!(
        "{launcher} started {processes} processes, but this pvbench is built for {library}: each is \
         an MPI job of its own (1 rank); start it with {}, or use a pvbench built for {its_library} \
         (docs/mpi.md)",
        launcher_of(library)
    ))
}

/// srun serves the PMI of its `--mpi` plugin; `--mpi=none` serves none.
fn srun_without_pmi(tasks: usize, library: &str) -> String {
    let plugin = match library {
        "Open MPI" => "pmix",
        _ => "pmi2",
    };
    format!(
        "srun started {tasks} tasks, but each is an MPI job of its own (no PMI between them): use \
         srun --mpi={plugin}, the PMI that {library} speaks (or MpiDefault={plugin} in slurm.conf)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPICH: &str = "MPICH Version:\t4.0.2\nMPICH Release date: Thu May 19 11:27:18 CDT 2022";
    const OPEN_MPI: &str = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4";

    fn by(by: Starter, processes: usize) -> Option<Started> {
        Some(Started { by, processes })
    }

    #[test]
    fn a_launcher_of_another_mpi_is_named_with_the_one_pvbench_is_built_for() {
        assert_eq!(
            mismatch(by(Starter::OpenMpi, 2), 1, MPICH).unwrap(),
            "Open MPI's mpiexec started 2 processes, but this pvbench is built for MPICH: each is an \
             MPI job of its own (1 rank); start it with MPICH's mpiexec (Debian: mpiexec.mpich), or use \
             a pvbench built for Open MPI (docs/mpi.md)"
        );
        let hydra = mismatch(by(Starter::Hydra, 3), 1, OPEN_MPI).unwrap();
        assert!(hydra.starts_with(
            "MPICH's mpiexec (hydra) started 3 processes, but this pvbench is built for Open MPI"
        ));
        assert!(hydra.contains("start it with Open MPI's mpiexec (Debian: mpiexec.openmpi)"), "{hydra}");
    }

    #[test]
    fn srun_without_a_pmi_names_the_plugin_the_library_speaks() {
        let mpich = mismatch(by(Starter::Srun, 3), 1, MPICH).unwrap();
        assert_eq!(
            mpich,
            "srun started 3 tasks, but each is an MPI job of its own (no PMI between them): use srun \
             --mpi=pmi2, the PMI that MPICH speaks (or MpiDefault=pmi2 in slurm.conf)"
        );
        assert!(mismatch(by(Starter::Srun, 2), 1, OPEN_MPI).unwrap().contains("use srun --mpi=pmix"));
    }

    #[test]
    fn a_launcher_and_a_library_that_agree_pass() {
        assert_eq!(mismatch(by(Starter::OpenMpi, 2), 2, OPEN_MPI), None, "one job of 2 ranks");
        assert_eq!(mismatch(by(Starter::Hydra, 1), 1, OPEN_MPI), None, "one process: nothing to tell");
        assert_eq!(mismatch(None, 1, MPICH), None, "a singleton started by hand");
        assert_eq!(library_name("Something MPI 1.0"), "this MPI library");
        let same = mismatch(by(Starter::Hydra, 2), 1, MPICH).unwrap();
        assert!(
            same.ends_with("is the mpiexec of the MPICH installation pvbench is linked with first on PATH?")
        );
    }
}
