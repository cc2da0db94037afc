//! What `campaign run` says before each run: where it stands among the runs planned so far,
//! the round and the rounds an `until_ci` campaign may still add, and when it likely ends and
//! ends at the latest. On a terminal one live line (indicatif, as cargo draws its own) that
//! keeps counting; elsewhere (a file, a batch job's output) one plain line per run.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::figures::Measured;
use super::plan::{Plan, Reps};
use super::schedule;
use crate::compare::stats::t975;
use crate::console::note;
use crate::result::comparison::Summary;

/// The rounds an `until_ci` campaign likely runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Likely {
    pub rounds: u32,
    /// Whether the figures' spread said so; else it is the least the campaign can still run.
    pub from_spread: bool,
}

/// How many rounds an `until_ci` campaign in round `round` likely runs: per figure of every
/// (benchmark, group), the runs at which its 95 % interval (Student t, as `until_ci` decides)
/// would be within the plan's share of its mean if the mean and spread stay as seen; the most
/// of those, between the rounds that must run and `max`. A benchmark or group without a figure
/// after its first round never gets precise: `max`.
pub fn likely_rounds(measured: &Measured, plan: &Plan, round: u32) -> Likely {
    let (min, max, share) = match plan.file.reps {
        Reps::Fixed(n) => return Likely { rounds: n, from_spread: false },
        Reps::UntilCi { min, max, until_ci } => (min, max, until_ci),
    };
    let least = min.max(round).min(max);
    let mut needed: Option<u32> = None;
    for (b, g) in schedule::cells(plan) {
        let metrics = measured.metrics(b);
        if measured.runs(b, g) == 0 || metrics.is_empty() {
            if round > 1 {
                needed = Some(max);
            }
            continue;
        }
        for (metric, _) in metrics {
            if let Some(runs) = runs_needed(&measured.values(b, g, &metric), share, max) {
                needed = Some(needed.map_or(runs, |n| n.max(runs)));
            }
        }
    }
    Likely { rounds: needed.map_or(least, |n| n.clamp(least, max)), from_spread: needed.is_some() }
}

/// The runs after which `values`' 95 % interval is within ±`share` of their mean at the spread
/// seen so far, at most `max`; none from fewer than two values.
fn runs_needed(values: &[f64], share: f64, max: u32) -> Option<u32> {
    let summary = Summary::of(values)?;
    let sd = summary.sd?;
    let within =
        |runs: u32| t975(f64::from(runs - 1)) * sd / f64::from(runs).sqrt() <= share * summary.mean.abs();
    let seen = values.len() as u32;
    Some((seen..=max).find(|&runs| within(runs)).unwrap_or(max))
}

/// Where a campaign stands as one of its runs starts.
#[derive(Debug, Clone)]
pub struct Step {
    /// The run's number, from 1 (runs read from an earlier invocation count too).
    pub at: usize,
    /// `BENCHMARK/GROUP/rep-NN`.
    pub id: String,
    /// Interleaved and random orders: the round this run belongs to (blocked has none).
    pub round: Option<u32>,
    /// Runs in a round: one per (benchmark, group).
    pub per_round: usize,
    /// Rounds planned so far.
    pub planned: u32,
    pub reps: Reps,
    /// `until_ci` only.
    pub likely: Option<Likely>,
    /// Since the invocation started, and the runs it made meanwhile (their pace is the ETA's).
    pub elapsed: Duration,
    pub made: usize,
}

impl Step {
    /// The line for this step, `since` after it started (the live line keeps counting).
    pub fn line(&self, since: Duration) -> String {
        let total = self.per_round * self.planned as usize;
        let mut text = format!("[{}/{total}] ", self.at);
        if let Some(round) = self.round {
            let of = match self.reps {
                Reps::Fixed(n) => n.to_string(),
                Reps::UntilCi { min, max, .. } => format!("{min}–{max}"),
            };
            text.push_str(&format!("round {round} of {of}: "));
        }
        text.push_str(&format!("{}, elapsed {}", self.id, clock((self.elapsed + since).as_secs())));
        let left = |rounds: u32| {
            self.left(self.per_round * rounds as usize, since).map(|s| format!(": ~{} left", clock(s)))
        };
        match (self.likely, self.reps.max()) {
            (None, _) => {
                if let Some(left) = self.left(total, since) {
                    text.push_str(&format!(", remaining ~{}", clock(left)));
                }
            }
            (Some(likely), max) => {
                let guess = if likely.from_spread { "" } else { " (no spread yet)" };
                text.push_str(&format!(
                    ", likely {} rounds{guess}{}; at most {max}{}",
                    likely.rounds,
                    left(likely.rounds).unwrap_or_default(),
                    left(max).unwrap_or_default()
                ));
            }
        }
        text
    }

    /// The time until `runs` runs are done, at the pace of the runs this invocation made
    /// (runs read from an earlier one took none of it); none before the first.
    fn left(&self, runs: usize, since: Duration) -> Option<u64> {
        let to_do = runs.saturating_sub(self.at - 1) as u64;
        (self.made > 0).then(|| {
            let ahead = self.elapsed.as_secs() * to_do / self.made as u64;
            ahead.saturating_sub(since.as_secs())
        })
    }
}

/// `1:02:03`.
fn clock(seconds: u64) -> String {
    format!("{}:{:02}:{:02}", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}

/// Says each step: on a live line when standard error is a terminal, else as a plain line.
pub struct Progress {
    live: Option<Live>,
}

/// The live line, and the thread that draws each step on it anew every second (its times
/// keep counting while a run takes its time).
struct Live {
    steps: Option<mpsc::Sender<Step>>,
    ticker: Option<std::thread::JoinHandle<()>>,
    _line: crate::console::LiveLine,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = indicatif::ProgressBar::new_spinner(); // hidden when stderr is no terminal
        if bar.is_hidden() {
            return Progress { live: None };
        }
        // wide_msg: cut at the terminal's width, one line as cargo's.
        bar.set_style(
            indicatif::ProgressStyle::with_template("campaign: {wide_msg}").expect("a valid template"),
        );
        let (steps, received) = mpsc::channel::<Step>();
        let drawn = bar.clone();
        let ticker = std::thread::spawn(move || {
            let mut shown: Option<(Step, Instant)> = None;
            loop {
                match received.recv_timeout(Duration::from_secs(1)) {
                    Ok(step) => shown = Some((step, Instant::now())),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                if let Some((step, started)) = &shown {
                    drawn.set_message(step.line(started.elapsed()));
                }
            }
        });
        let line = crate::console::live_line(bar);
        Progress { live: Some(Live { steps: Some(steps), ticker: Some(ticker), _line: line }) }
    }

    pub fn show(&self, step: Step) {
        match self.live.as_ref().and_then(|live| live.steps.as_ref()) {
            Some(steps) => {
                let _ = steps.send(step);
            }
            None => note!("campaign: {}", step.line(Duration::ZERO)),
        }
    }
}

impl Drop for Live {
    /// The ticker ends before the line goes.
    fn drop(&mut self) {
        drop(self.steps.take());
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::figures::Value;

    fn plan(reps: &str) -> Plan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let text = format!(
            "name = \"t\"\nreps = {reps}\n[[group]]\nname = \"a\"\nhosts = [\"x\"]\n\
             [[group]]\nname = \"b\"\nhosts = [\"y\"]\n[[benchmark]]\nkind = \"partdiff\"\n"
        );
        std::fs::write(&path, text).unwrap();
        crate::campaign::plan::load(&path, &[], None, std::path::Path::new("pvbench")).unwrap()
    }

    fn measured(a: &[f64], b: &[f64]) -> Measured {
        let mut measured = Measured::default();
        for (group, values) in [a, b].into_iter().enumerate() {
            for &value in values {
                measured.add(
                    0,
                    group,
                    vec![Value { metric: "rate".into(), unit: "MLUP/s", value, lower_is_better: false }],
                );
            }
        }
        measured
    }

    const UNTIL: &str = "{ min = 3, max = 8, until_ci = 0.05 }";

    #[test]
    fn the_runs_a_figure_needs_at_its_spread() {
        // sd 1 around 100: t(2) 4.30 / √3 = 2.5 % is within 5 % after 3 runs.
        assert_eq!(runs_needed(&[99.0, 100.0, 101.0], 0.05, 8), Some(3));
        // sd 5 around 100: 3 runs give ±12.4 %, 5 give ±6.2 %, 6 give ±5.2 %, 7 ±4.6 %.
        assert_eq!(runs_needed(&[95.0, 100.0, 105.0], 0.05, 20), Some(7));
        assert_eq!(runs_needed(&[95.0, 100.0, 105.0], 0.05, 6), Some(6), "never past max");
        assert_eq!(runs_needed(&[50.0, 150.0], 0.05, 8), Some(8));
        assert_eq!(runs_needed(&[100.0, 100.0], 0.05, 8), Some(2), "no spread: precise as is");
        assert_eq!(runs_needed(&[-1.0, 1.0], 0.05, 8), Some(8), "a mean of 0 is never within a share of it");
        assert_eq!(runs_needed(&[100.0], 0.05, 8), None, "one value has no spread");
    }

    #[test]
    fn the_likely_rounds_are_the_most_any_figure_needs_within_the_bounds() {
        let p = plan(UNTIL);
        let quiet = [99.0, 100.0, 101.0];
        assert_eq!(likely_rounds(&measured(&quiet, &quiet), &p, 3), Likely { rounds: 3, from_spread: true });
        let spread = [95.0, 100.0, 105.0];
        assert_eq!(likely_rounds(&measured(&quiet, &spread), &p, 4).rounds, 7, "the least precise figure");
        assert_eq!(likely_rounds(&measured(&quiet, &quiet), &p, 5).rounds, 5, "the round under way runs");
        let first = likely_rounds(&measured(&[100.0], &[]), &p, 1);
        assert_eq!(first, Likely { rounds: 3, from_spread: false }, "nothing known yet: min");
        assert_eq!(likely_rounds(&measured(&quiet, &[]), &p, 2).rounds, 8, "a group without a figure: max");
        assert_eq!(
            likely_rounds(&measured(&[], &[]), &plan("4"), 2),
            Likely { rounds: 4, from_spread: false }
        );
    }

    fn step(at: usize, round: u32, planned: u32, likely: Option<u32>, elapsed: u64, made: usize) -> Step {
        Step {
            at,
            id: format!("partdiff/a/rep-{round:02}"),
            round: Some(round),
            per_round: 2,
            planned,
            reps: if likely.is_some() {
                Reps::UntilCi { min: 3, max: 8, until_ci: 0.05 }
            } else {
                Reps::Fixed(4)
            },
            likely: likely.map(|rounds| Likely { rounds, from_spread: true }),
            elapsed: Duration::from_secs(elapsed),
            made,
        }
    }

    #[test]
    fn a_fixed_campaign_says_its_runs_and_the_time_they_take() {
        assert_eq!(clock(3723), "1:02:03");
        assert_eq!(clock(59), "0:00:59");
        let s = step(3, 2, 4, None, 20, 2);
        assert_eq!(
            s.line(Duration::ZERO),
            "[3/8] round 2 of 4: partdiff/a/rep-02, elapsed 0:00:20, remaining ~0:01:00"
        );
        assert_eq!(
            s.line(Duration::from_secs(5)),
            "[3/8] round 2 of 4: partdiff/a/rep-02, elapsed 0:00:25, remaining ~0:00:55"
        );
        assert_eq!(
            s.line(Duration::from_secs(500)),
            "[3/8] round 2 of 4: partdiff/a/rep-02, elapsed 0:08:40, remaining ~0:00:00"
        );
        let first = Step { made: 0, ..step(1, 1, 4, None, 0, 0) };
        assert_eq!(
            first.line(Duration::ZERO),
            "[1/8] round 1 of 4: partdiff/a/rep-01, elapsed 0:00:00",
            "no pace yet"
        );
        let blocked = Step { round: None, ..s };
        assert_eq!(
            blocked.line(Duration::ZERO),
            "[3/8] partdiff/a/rep-02, elapsed 0:00:20, remaining ~0:01:00"
        );
    }

    /// `[16/16] … remaining ~0:00:00` then `[17/24]` was all an `until_ci` campaign said: now the
    /// rounds' bounds, the likely end and the latest.
    #[test]
    fn an_until_ci_campaign_says_its_likely_end_and_its_bound() {
        // Round 4 of 3–8 (8 runs planned, 6 done at 10 s each), likely 5 rounds.
        let s = step(7, 4, 4, Some(5), 60, 6);
        assert_eq!(
            s.line(Duration::ZERO),
            "[7/8] round 4 of 3–8: partdiff/a/rep-04, elapsed 0:01:00, likely 5 rounds: ~0:00:40 left; \
             at most 8: ~0:01:40 left"
        );
        let unsure = Step {
            likely: Some(Likely { rounds: 3, from_spread: false }),
            made: 0,
            ..step(1, 1, 3, Some(3), 0, 0)
        };
        assert_eq!(
            unsure.line(Duration::ZERO),
            "[1/6] round 1 of 3–8: partdiff/a/rep-01, elapsed 0:00:00, likely 3 rounds (no spread yet); at most 8"
        );
    }
}
