//! The order runs are made in. Interleaved (the default) and random orders spread a drift of
//! the machine (another job, a filling page cache) over every group instead of reading it as a
//! difference between groups (Abedi & Brecht, ICPE 2017); blocked is the 2008 study's order.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::plan::{Order, Plan};

/// One run of the campaign: a benchmark from a group, its repetition (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub benchmark: usize,
    pub group: usize,
    pub rep: u32,
}

impl Slot {
    /// `pvfs2/domU/rep-03`: where its files go, below the results directory.
    pub fn id(&self, plan: &Plan) -> String {
        format!(
            "{}/{}/rep-{:02}",
            plan.benchmarks[self.benchmark].name, plan.groups[self.group].name, self.rep
        )
    }
}

/// Every (benchmark, group) cell of the plan, benchmarks in plan order, groups in the
/// benchmark's order.
pub fn cells(plan: &Plan) -> Vec<(usize, usize)> {
    plan.benchmarks
        .iter()
        .enumerate()
        .flat_map(|(b, bench)| bench.groups.iter().map(move |&g| (b, g)))
        .collect()
}

/// Repetition `rep`'s runs (a round), interleaved or in the seeded random order.
pub fn round(plan: &Plan, rep: u32, seed: u64) -> Vec<Slot> {
    let mut slots: Vec<Slot> =
        cells(plan).into_iter().map(|(benchmark, group)| Slot { benchmark, group, rep }).collect();
    if plan.file.order == Order::Random {
        // ChaCha8 gives the same order for a seed on every platform and rand version: a
        // resumed campaign runs what the first invocation would have.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(rep).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        slots.shuffle(&mut rng);
    }
    slots
}

/// Every run of a blocked campaign: each cell's repetitions back to back.
pub fn blocked(plan: &Plan, reps: u32) -> Vec<Slot> {
    cells(plan)
        .into_iter()
        .flat_map(|(benchmark, group)| (1..=reps).map(move |rep| Slot { benchmark, group, rep }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::plan;

    fn plan(order: &str) -> Plan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let text = format!(
            "name = \"t\"\norder = \"{order}\"\nreps = 2\n\
             [[group]]\nname = \"a\"\nhosts = [\"x\"]\n[[group]]\nname = \"b\"\nhosts = [\"y\"]\n\
             [[group]]\nname = \"c\"\nhosts = [\"z\"]\n\
             [[benchmark]]\nkind = \"mpiio\"\n[[benchmark]]\nkind = \"partdiff\"\ngroups = [\"a\", \"c\"]\n"
        );
        std::fs::write(&path, text).unwrap();
        plan::load(&path, &[], None, std::path::Path::new("pvbench")).unwrap()
    }

    fn ids(plan: &Plan, slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| s.id(plan)).collect()
    }

    #[test]
    fn interleaved_goes_round_robin_over_the_groups() {
        let p = plan("interleaved");
        assert_eq!(
            ids(&p, &round(&p, 2, 0)),
            ["mpiio/a/rep-02", "mpiio/b/rep-02", "mpiio/c/rep-02", "partdiff/a/rep-02", "partdiff/c/rep-02"]
        );
    }

    #[test]
    fn blocked_runs_each_cell_to_the_end() {
        let p = plan("blocked");
        assert_eq!(&ids(&p, &blocked(&p, 2))[..3], ["mpiio/a/rep-01", "mpiio/a/rep-02", "mpiio/b/rep-01"]);
    }

    #[test]
    fn random_is_a_permutation_fixed_by_its_seed() {
        let p = plan("random");
        let first = round(&p, 1, 42);
        assert_eq!(first, round(&p, 1, 42));
        let mut sorted = ids(&p, &first);
        sorted.sort();
        let mut plain = ids(&p, &round(&plan("interleaved"), 1, 42));
        plain.sort();
        assert_eq!(sorted, plain);
        let orders: std::collections::HashSet<Vec<String>> =
            (0..20).map(|seed| ids(&p, &round(&p, 1, seed))).collect();
        assert!(orders.len() > 5, "seeds give different orders: {}", orders.len());
        let rounds: std::collections::HashSet<Vec<String>> = (1..=20)
            .map(|rep| {
                let mut ids = ids(&p, &round(&p, rep, 0));
                for id in &mut ids {
                    id.truncate(id.len() - 2); // the repetition's number aside
                }
                ids
            })
            .collect();
        assert!(rounds.len() > 5, "rounds of one seed differ: {}", rounds.len());
    }
}
