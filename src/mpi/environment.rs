//! The environment block of a result, gathered from every host of the job: each rank says
//! which host it is on (and that host's addresses); the first rank of each host describes it,
//! with the routes to every other host; rank 0 puts them together.

use anyhow::Context;
use mpi::topology::Communicator;

use super::{Session, all_gather_strings, romio};
use crate::env::{self, CpuTimes, Environment, Host, Identity, Launcher, Live};

/// What a run takes at the start of its measured phase, to tell the steal of that phase.
pub struct StealClock(Option<CpuTimes>);

impl StealClock {
    pub fn start() -> Self {
        StealClock(CpuTimes::read(&Live))
    }
}

/// What else to find out on every host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// What every result carries.
    Result,
    /// Also the ROMIO drivers of the MPI library (`pvbench env`).
    WithRomioDrivers,
}

/// Collective. The environment on rank 0, `None` elsewhere. `steal` is the start of the
/// measured phase; it ends now.
pub fn gather(
    session: &Session,
    steal: Option<&StealClock>,
    extent: Extent,
) -> anyhow::Result<Option<Environment>> {
    let world = session.world();
    let me = Identity::detect(&Live);
    let me_json = super::agree(world, serde_json::to_string(&me).map_err(anyhow::Error::from))?;
    let identities: Vec<Identity> = all_gather_strings(world, &me_json)
        .iter()
        .map(|text| serde_json::from_str(text))
        .collect::<Result<_, _>>()
        .context("reading another rank's host identity")?;
    let hosts = hosts_of(&identities);
    let first_ranks: Vec<usize> = hosts.iter().map(|(first, _)| *first).collect();
    let name_of = |rank: usize| hosts.iter().find(|(first, _)| *first == rank).map(|(_, name)| name.clone());
    let rank = world.rank() as usize;
    let describes = first_ranks.contains(&rank);
    let local = if describes {
        let peers: Vec<(String, &Identity)> = hosts
            .iter()
            .filter(|(f, _)| *f != rank)
            .map(|(f, name)| (name.clone(), &identities[*f]))
            .collect();
        describe(&me, &peers, name_of(rank).unwrap_or_default(), steal, extent)
    } else {
        Ok(String::new())
    };
    let local = super::agree(world, local)?;
    let described = all_gather_strings(world, &local);
    if !session.is_root() {
        return Ok(None);
    }
    let mut hosts = Vec::with_capacity(first_ranks.len());
    for &first in &first_ranks {
        let mut host: Host =
            serde_json::from_str(&described[first]).context("reading another host's environment")?;
        host.ranks = (0..identities.len())
            .filter(|&r| identities[r].key == identities[first].key)
            .map(|r| r as u32)
            .collect();
        hosts.push(host);
    }
    Ok(Some(Environment { launcher: Launcher::detect(), hosts }))
}

/// The hosts among the ranks' identities, in the order of their first rank: `(first rank,
/// name)`, the name made unique where hosts share one (network namespaces of one machine).
fn hosts_of(identities: &[Identity]) -> Vec<(usize, String)> {
    let mut first_ranks: Vec<usize> = Vec::new();
    for (rank, identity) in identities.iter().enumerate() {
        if !first_ranks.iter().any(|&f| identities[f].key == identity.key) {
            first_ranks.push(rank);
        }
    }
    first_ranks
        .iter()
        .map(|&rank| {
            let hostname = &identities[rank].hostname;
            let namesakes = first_ranks.iter().filter(|&&f| &identities[f].hostname == hostname).count();
            (rank, if namesakes > 1 { format!("{hostname} (rank {rank})") } else { hostname.clone() })
        })
        .collect()
}

/// This host, as JSON for the trip to rank 0.
fn describe(
    me: &Identity,
    peers: &[(String, &Identity)],
    name: String,
    steal: Option<&StealClock>,
    extent: Extent,
) -> anyhow::Result<String> {
    let mut host = env::describe_host(&Live, me, peers);
    host.hostname = name;
    host.steal_during_run =
        steal.and_then(|s| s.0).and_then(|start| Some(CpuTimes::read(&Live)?.steal_since(&start)));
    if extent == Extent::WithRomioDrivers {
        let dir = tempfile::tempdir().context("creating a directory for the ROMIO probe")?;
        host.romio_drivers = Some(romio::drivers(dir.path()));
    }
    Ok(serde_json::to_string(&host)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(hostname: &str, key: &str) -> Identity {
        Identity { hostname: hostname.into(), key: key.into(), addresses: vec![] }
    }

    #[test]
    fn hosts_are_told_apart_by_key_and_named_uniquely() {
        let ranks = [
            identity("vm", "boot/net:[1]/vm"),
            identity("vm", "boot/net:[2]/vm"),
            identity("vm", "boot/net:[1]/vm"),
            identity("node6", "other/net:[1]/node6"),
        ];
        assert_eq!(
            hosts_of(&ranks),
            vec![(0, "vm (rank 0)".to_string()), (1, "vm (rank 1)".to_string()), (3, "node6".to_string())]
        );
        assert_eq!(hosts_of(&ranks[..1]), vec![(0, "vm".to_string())]);
    }
}
