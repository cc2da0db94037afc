//! Which program started the ranks (hydra, srun, Open MPI's mpiexec), the variables that say
//! so, the Slurm job they ran in, and how many processes the launcher started.

use serde::{Deserialize, Serialize};

use super::Fact;

/// Which program started the ranks, and the variables that say so.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launcher {
    /// `hydra` (MPICH's mpiexec), `slurm` (srun), `open-mpi` (mpirun/prterun), `pmi` (another
    /// PMI launcher), or `none` (a singleton).
    pub name: String,
    pub evidence: Vec<Fact>,
    /// The Slurm job the ranks ran in: srun's own ranks, or hydra's inside an allocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmJob>,
}

/// A Slurm job and step, as its variables give them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmJob {
    pub job_id: String,
    pub step_id: Option<String>,
    pub cluster: Option<String>,
    /// The allocation's nodes (`SLURM_JOB_NODELIST`, Slurm's compressed form).
    pub job_nodelist: Option<String>,
    /// The step's nodes (`SLURM_STEP_NODELIST`).
    pub step_nodelist: Option<String>,
    /// The MPI plugin srun served the ranks with (`SLURM_MPI_TYPE`: `pmi2`, `pmix`, `none`).
    pub mpi_plugin: Option<String>,
}

impl Launcher {
    pub fn detect() -> Self {
        Self::from_variables(std::env::vars())
    }

    fn from_variables(vars: impl Iterator<Item = (String, String)>) -> Self {
        let vars: Vec<(String, String)> = vars.collect();
        let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let slurm = get("SLURM_JOB_ID").map(|job_id| SlurmJob {
            job_id,
            step_id: get("SLURM_STEP_ID"),
            cluster: get("SLURM_CLUSTER_NAME"),
            job_nodelist: get("SLURM_JOB_NODELIST"),
            step_nodelist: get("SLURM_STEP_NODELIST"),
            mpi_plugin: get("SLURM_MPI_TYPE"),
        });
        let rules: [(&str, &[&str]); 4] = [
            // hydra alone sets MPI_LOCALNRANKS beside PMI_RANK; inside an allocation
            // (`-launcher slurm`) its proxies are a Slurm step, but hydra started the ranks.
            ("hydra", &["MPI_LOCALNRANKS"]),
            ("slurm", &["SLURM_STEP_ID", "SLURM_PROCID"]),
            ("open-mpi", &["OMPI_COMM_WORLD_RANK", "PRTE_LAUNCHED", "PMIX_NAMESPACE"]),
            ("pmi", &["PMI_RANK", "PMIX_RANK"]),
        ];
        for (name, markers) in rules {
            let evidence: Vec<Fact> = markers
                .iter()
                .filter_map(|m| Some(Fact { source: format!("environment {m}"), value: get(m)? }))
                .collect();
            if !evidence.is_empty() {
                return Launcher { name: name.into(), evidence, slurm };
            }
        }
        Launcher { name: "none".into(), evidence: vec![], slurm }
    }

    /// Which launcher started this process and how many processes it started, as the
    /// launcher's own variables say.
    pub fn started() -> Option<Started> {
        started_by(|name| std::env::var(name).ok())
    }
}

/// A launcher that starts MPI processes, as the refusal of a mismatched one names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starter {
    /// MPICH's mpiexec.
    Hydra,
    /// Open MPI's mpiexec (mpirun, prterun).
    OpenMpi,
    /// Slurm's srun.
    Srun,
}

/// What a launcher says it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub by: Starter,
    pub processes: usize,
}

/// hydra first: inside an allocation its proxies are a Slurm step whose task count is the
/// proxies'. Open MPI before srun for the same reason (its daemons are a Slurm step).
fn started_by(get: impl Fn(&str) -> Option<String>) -> Option<Started> {
    let count = |name: &str| get(name)?.parse().ok();
    let (by, processes) = if get("MPI_LOCALNRANKS").is_some() {
        (Starter::Hydra, count("PMI_SIZE")?)
    } else if let Some(processes) = count("OMPI_COMM_WORLD_SIZE") {
        (Starter::OpenMpi, processes)
    } else {
        (Starter::Srun, count("SLURM_STEP_NUM_TASKS")?)
    };
    Some(Started { by, processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_is_named_by_its_variables() {
        let vars = |list: &[(&str, &str)]| {
            Launcher::from_variables(list.iter().map(|(k, v)| (k.to_string(), v.to_string()))).name
        };
        assert_eq!(vars(&[("PMI_RANK", "0"), ("MPI_LOCALNRANKS", "2")]), "hydra");
        assert_eq!(vars(&[("OMPI_COMM_WORLD_RANK", "1"), ("PMIX_RANK", "1")]), "open-mpi");
        assert_eq!(vars(&[("SLURM_PROCID", "0"), ("PMI_RANK", "0")]), "slurm");
        assert_eq!(vars(&[("SLURM_STEP_ID", "0"), ("PMI_RANK", "0"), ("MPI_LOCALNRANKS", "1")]), "hydra");
        assert_eq!(vars(&[("PMI_RANK", "0")]), "pmi");
        assert_eq!(vars(&[("HOME", "/")]), "none");
    }

    #[test]
    fn the_launcher_that_started_the_processes_and_how_many() {
        let started = |list: &[(&str, &str)]| {
            started_by(|name| list.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
        };
        let by = |by, processes| Some(Started { by, processes });
        assert_eq!(started(&[("SLURM_STEP_NUM_TASKS", "3")]), by(Starter::Srun, 3));
        assert_eq!(
            started(&[("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "1")]),
            by(Starter::OpenMpi, 2)
        );
        assert_eq!(started(&[("PMI_SIZE", "4"), ("MPI_LOCALNRANKS", "2")]), by(Starter::Hydra, 4));
        assert_eq!(
            started(&[("SLURM_STEP_NUM_TASKS", "2"), ("PMI_SIZE", "1"), ("MPI_LOCALNRANKS", "1")]),
            by(Starter::Hydra, 1),
            "hydra's proxies are a Slurm step: its ranks count"
        );
        assert_eq!(
            started(&[("SLURM_STEP_NUM_TASKS", "2"), ("OMPI_COMM_WORLD_SIZE", "1")]),
            by(Starter::OpenMpi, 1),
            "Open MPI's daemons are a Slurm step: its ranks count"
        );
        assert_eq!(started(&[("PMI_SIZE", "2")]), None, "a PMI launcher that does not say which");
        assert_eq!(started(&[("OMPI_COMM_WORLD_SIZE", "two")]), None);
        assert_eq!(started(&[]), None, "a singleton started by hand");
    }

    #[test]
    fn the_slurm_job_is_kept_whoever_started_the_ranks() {
        let launcher = |list: &[(&str, &str)]| {
            Launcher::from_variables(list.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        };
        let srun = launcher(&[
            ("SLURM_JOB_ID", "17"),
            ("SLURM_STEP_ID", "2"),
            ("SLURM_PROCID", "1"),
            ("SLURM_CLUSTER_NAME", "c"),
            ("SLURM_JOB_NODELIST", "node[6-7],vm3"),
            ("SLURM_STEP_NODELIST", "node[6-7]"),
            ("SLURM_MPI_TYPE", "pmi2"),
        ]);
        assert_eq!(srun.name, "slurm");
        let job = srun.slurm.unwrap();
        assert_eq!(
            (job.job_id.as_str(), job.step_id.as_deref(), job.cluster.as_deref()),
            ("17", Some("2"), Some("c"))
        );
        assert_eq!(job.job_nodelist.as_deref(), Some("node[6-7],vm3"));
        assert_eq!(job.step_nodelist.as_deref(), Some("node[6-7]"));
        assert_eq!(job.mpi_plugin.as_deref(), Some("pmi2"));
        let hydra = launcher(&[("SLURM_JOB_ID", "18"), ("MPI_LOCALNRANKS", "1")]);
        assert_eq!((hydra.name.as_str(), hydra.slurm.unwrap().job_id.as_str()), ("hydra", "18"));
        assert!(launcher(&[("PMI_RANK", "0")]).slurm.is_none());
    }
}
