//! A campaign's answer in words: what a guest keeps of its host, benchmark by benchmark, and
//! the index over them.

use crate::result::campaign::{NotInIndex, Overhead};
use crate::result::comparison::{NoInterval, Ratio};

/// A share for people: `36 %`, `7.6 %`, `0.58 %`, `0 %`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 {
        "0".into()
    } else if p.abs() >= 10.0 {
        format!("{p:.0}")
    } else if p.abs() >= 1.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.2}")
    }
}

/// `36 % [33, 39]`, or `36 % (no interval: one run)` and the like: why there is none.
pub fn ratio(r: &Ratio) -> String {
    match (r.low, r.high) {
        (Some(low), Some(high)) => format!("{} % [{}, {}]", percent(r.value), percent(low), percent(high)),
        _ => format!("{} % ({})", percent(r.value), without_interval(r.no_interval)),
    }
}

/// Why a ratio has no interval, as the overhead sentence and page say it.
fn without_interval(why: Option<NoInterval>) -> &'static str {
    match why {
        Some(NoInterval::OneRun) => "no interval: one run",
        Some(NoInterval::Unbounded) => "interval unbounded: the host's mean is not told from 0",
        Some(NoInterval::FromItsRatios) => "no interval: a figure in it has none",
        None => "no interval",
    }
}

/// A factor for people: `2.8`, `0.85`, `14`.
fn times(factor: f64) -> String {
    if factor >= 10.0 {
        format!("{factor:.0}")
    } else if factor >= 1.0 {
        format!("{factor:.1}")
    } else {
        format!("{factor:.2}")
    }
}

/// How many benchmarks the index is over: `over 3 benchmarks`, `over 2 of 3 benchmarks`.
pub fn index_scope(o: &Overhead) -> String {
    if o.families.len() == o.benchmarks {
        format!("over {} benchmarks", o.benchmarks)
    } else {
        format!("over {} of {} benchmarks", o.families.len(), o.benchmarks)
    }
}

/// `MPI-IO read — measured from dom0 only`.
pub fn not_in_index(n: &NotInIndex) -> String {
    match &n.metric {
        Some(metric) => format!("{} {metric} — {}", n.title, n.reason),
        None => format!("{} — {}", n.title, n.reason),
    }
}

/// `domU keeps 7.6 % [3.0, 13] of dom0-bridge's PVFS2 write, 5.7 % [2.4, 9.3] read; net …;
/// index 9.1 % [5.0, 16] over 2 of 3 benchmarks; left out: …` — prefixed with the source when
/// it is a reference. Every benchmark and figure not in the index is named with why.
pub fn sentence(o: &Overhead) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut benchmark = "";
    for f in &o.figures {
        // A time says how many times the host's it took: what it keeps is the inverse.
        let (keeps, what) = match f.lower_is_better {
            true => {
                (ratio(&f.ratio), format!("{} ({}× the host's)", f.metric, times(f.guest_mean / f.host_mean)))
            }
            false => (ratio(&f.ratio), f.metric.clone()),
        };
        if f.benchmark == benchmark {
            let last = parts.last_mut().expect("a figure before");
            last.push_str(&format!(", {keeps} {what}"));
        } else {
            parts.push(if parts.is_empty() {
                format!("{keeps} of {}'s {} {what}", o.host, f.title)
            } else {
                format!("{} {keeps} {what}", f.title)
            });
            benchmark = &f.benchmark;
        }
    }
    let (keeps, source) = if o.source == "this campaign" {
        ("keeps", String::new())
    } else {
        ("kept", format!("{}: ", o.source))
    };
    let mut text = if parts.is_empty() {
        format!("{source}{} against {}: no figure measured from both", o.guest, o.host)
    } else {
        format!("{source}{} {keeps} {}", o.guest, parts.join("; "))
    };
    if let Some(index) = &o.index
        && o.benchmarks > 1
    {
        text.push_str(&format!("; index {} {}", ratio(index), index_scope(o)));
    }
    if !o.not_in_index.is_empty() {
        let named: Vec<String> = o.not_in_index.iter().map(not_in_index).collect();
        text.push_str(&format!("; left out: {}", named.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::campaign::{FamilyFigure, Figure};

    fn r(value: f64, low: f64, high: f64) -> Ratio {
        Ratio { value, low: Some(low), high: Some(high), verdict: "lower".into(), no_interval: None }
    }

    fn figure(benchmark: &str, metric: &str, ratio: Ratio) -> Figure {
        Figure {
            benchmark: benchmark.into(),
            title: benchmark.to_uppercase(),
            metric: metric.into(),
            unit: "MiB/s",
            guest_mean: 1.0,
            guest_runs: 3,
            host_mean: 2.0,
            host_runs: 3,
            lower_is_better: false,
            ratio,
        }
    }

    #[test]
    fn the_sentence_names_every_figure_and_the_index() {
        let o = Overhead {
            guest: "domU".into(),
            host: "dom0".into(),
            source: "this campaign".into(),
            figures: vec![
                figure("pvfs2", "write", r(0.076, 0.03, 0.127)),
                figure("pvfs2", "read", r(0.057, 0.024, 0.093)),
                figure("net", "throughput", r(0.5, 0.45, 0.55)),
            ],
            families: vec![
                FamilyFigure { benchmark: "pvfs2".into(), title: "PVFS2".into(), ratio: r(0.066, 0.04, 0.1) },
                FamilyFigure { benchmark: "net".into(), title: "NET".into(), ratio: r(0.5, 0.45, 0.55) },
            ],
            index: Some(r(0.18, 0.12, 0.27)),
            benchmarks: 2,
            not_in_index: Vec::new(),
        };
        assert_eq!(
            sentence(&o),
            "domU keeps 7.6 % [3.0, 13] of dom0's PVFS2 write, 5.7 % [2.4, 9.3] read; NET 50 % [45, 55] throughput; \
             index 18 % [12, 27] over 2 benchmarks"
        );
        let reference = Overhead { source: "study-2008".into(), index: None, ..o.clone() };
        assert!(sentence(&reference).starts_with("study-2008: domU kept 7.6 % [3.0, 13] of dom0's PVFS2"));
        let fewer = Overhead {
            benchmarks: 3,
            not_in_index: vec![NotInIndex {
                benchmark: "cpu".into(),
                title: "CPU".into(),
                metric: None,
                reason: "no run of domU yet".into(),
            }],
            ..o
        };
        assert!(
            sentence(&fewer).ends_with(
                "; index 18 % [12, 27] over 2 of 3 benchmarks; left out: CPU — no run of domU yet"
            ),
            "{}",
            sentence(&fewer)
        );
    }

    #[test]
    fn a_ratio_says_why_it_has_no_interval_and_0_is_0() {
        let without = |why| Ratio {
            value: 0.5,
            low: None,
            high: None,
            verdict: "n too small".into(),
            no_interval: why,
        };
        assert_eq!(ratio(&without(Some(NoInterval::OneRun))), "50 % (no interval: one run)");
        assert_eq!(
            ratio(&without(Some(NoInterval::Unbounded))),
            "50 % (interval unbounded: the host's mean is not told from 0)"
        );
        assert_eq!(
            ratio(&without(Some(NoInterval::FromItsRatios))),
            "50 % (no interval: a figure in it has none)"
        );
        assert_eq!(ratio(&r(0.0, 0.0, 0.0)), "0 % [0, 0]");
    }
}
