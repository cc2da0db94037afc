//! Which ordered pairs (sender → receiver) run, in which order, and which run at once.

use crate::error::UsageError;

pub type Pair = (u32, u32);

/// Every ordered pair of `ranks`, the diagonal (loopback) included, sender by sender:
/// 0→0, 0→1, …, 1→0, 1→1, …
pub fn all_pairs(ranks: u32) -> Vec<Pair> {
    (0..ranks).flat_map(|s| (0..ranks).map(move |r| (s, r))).collect()
}

/// `--pairs 0:1,2:0`: the pairs to run, in the order given.
pub fn parse_pairs(text: &str, ranks: u32) -> Result<Vec<Pair>, UsageError> {
    let mut pairs = Vec::new();
    for item in text.split(',').map(str::trim) {
        let bad = || UsageError(format!("--pairs {text:?}: {item:?} is not SENDER:RECEIVER (e.g. 0:1,2:0)"));
        let (s, r) = item.split_once(':').ok_or_else(bad)?;
        let (s, r): (u32, u32) = (s.trim().parse().map_err(|_| bad())?, r.trim().parse().map_err(|_| bad())?);
        if s >= ranks || r >= ranks {
            return Err(UsageError(format!(
                "--pairs {text:?}: {s}:{r} names a rank beyond the {ranks} ranks of the job"
            )));
        }
        if pairs.contains(&(s, r)) {
            return Err(UsageError(format!("--pairs {text:?}: {s}:{r} is given twice")));
        }
        pairs.push((s, r));
    }
    Ok(pairs)
}

/// Groups `pairs` into rounds that run at once: in a round every rank sends at most once and
/// receives at most once, so a rank is at most one sender and one receiver (a loopback pair is
/// both). Greedy in the given order; for the full matrix of P ranks this gives P rounds, each
/// a permutation i → (i + k) mod P, the round-robin shifts.
pub fn rounds(pairs: &[Pair], concurrent: bool) -> Vec<Vec<Pair>> {
    if !concurrent {
        return pairs.iter().map(|&p| vec![p]).collect();
    }
    let ranks = pairs.iter().map(|&(s, r)| s.max(r) + 1).max().unwrap_or(0);
    let mut left: Vec<Pair> = pairs.to_vec();
    // The full matrix goes by shifts, so that each round is a permutation.
    left.sort_by_key(|&(s, r)| ((r + ranks - s) % ranks.max(1), s));
    let mut rounds: Vec<Vec<Pair>> = Vec::new();
    while !left.is_empty() {
        let mut round: Vec<Pair> = Vec::new();
        left.retain(|&(s, r)| {
            let free = round.iter().all(|&(rs, rr)| rs != s && rr != r);
            if free {
                round.push((s, r));
            }
            !free
        });
        rounds.push(round);
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_matrix_is_sender_major_with_the_diagonal() {
        assert_eq!(all_pairs(2), vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
        assert_eq!(all_pairs(3).len(), 9);
    }

    #[test]
    fn pairs_are_parsed_and_checked() {
        assert_eq!(parse_pairs("0:1, 2:0", 3).unwrap(), vec![(0, 1), (2, 0)]);
        for bad in ["0-1", "0:x", "0:3", "0:1,0:1", ""] {
            assert!(parse_pairs(bad, 3).is_err(), "{bad}");
        }
    }

    #[test]
    fn concurrent_rounds_are_permutations() {
        let rounds = rounds(&all_pairs(3), true);
        assert_eq!(rounds.len(), 3);
        assert_eq!(rounds[0], vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(rounds[1], vec![(0, 1), (1, 2), (2, 0)]);
        for round in &rounds {
            let mut senders: Vec<u32> = round.iter().map(|p| p.0).collect();
            let mut receivers: Vec<u32> = round.iter().map(|p| p.1).collect();
            senders.sort();
            receivers.sort();
            assert_eq!((senders, receivers), (vec![0, 1, 2], vec![0, 1, 2]));
        }
        assert_eq!(super::rounds(&[(0, 1), (1, 0)], false), vec![vec![(0, 1)], vec![(1, 0)]]);
        assert_eq!(super::rounds(&[(0, 1), (0, 2)], true).len(), 2, "one sender cannot send twice at once");
    }
}
