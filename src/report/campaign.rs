//! A campaign's answer in words: what a guest keeps of its host, benchmark by benchmark, and
//! the index over them.

use crate::result::campaign::Overhead;
use crate::result::comparison::Ratio;

/// A share for people: `36 %`, `7.6 %`, `0.58 %`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p.abs() >= 10.0 {
        format!("{p:.0}")
    } else if p.abs() >= 1.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.2}")
    }
}

/// `36 % [33, 39]`, or `36 % (no interval)`.
pub fn ratio(r: &Ratio) -> String {
    match (r.low, r.high) {
        (Some(low), Some(high)) => format!("{} % [{}, {}]", percent(r.value), percent(low), percent(high)),
        _ => format!("{} % (no interval)", percent(r.value)),
    }
}

/// `domU keeps 7.6 % [3.0, 13] of dom0-bridge's PVFS2 write, 5.7 % [2.4, 9.3] read; net …;
/// index 9.1 % [5.0, 16]` — prefixed with the source when it is a reference.
pub fn sentence(o: &Overhead) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut benchmark = "";
    for f in &o.figures {
        if f.benchmark == benchmark {
            let last = parts.last_mut().expect("a figure before");
            last.push_str(&format!(", {} {}", ratio(&f.ratio), f.metric));
        } else {
            parts.push(if parts.is_empty() {
                format!("{} of {}'s {} {}", ratio(&f.ratio), o.host, f.title, f.metric)
            } else {
                format!("{} {} {}", f.title, ratio(&f.ratio), f.metric)
            });
            benchmark = &f.benchmark;
        }
    }
    let (keeps, source) = if o.source == "this campaign" {
        ("keeps", String::new())
    } else {
        ("kept", format!("{}: ", o.source))
    };
    if parts.is_empty() {
        return format!("{source}{} against {}: no figure measured from both", o.guest, o.host);
    }
    let mut text = format!("{source}{} {keeps} {}", o.guest, parts.join("; "));
    if let Some(index) = &o.index
        && o.families.len() > 1
    {
        text.push_str(&format!("; index {} over {} benchmarks", ratio(index), o.families.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::campaign::{FamilyFigure, Figure};

    fn r(value: f64, low: f64, high: f64) -> Ratio {
        Ratio { value, low: Some(low), high: Some(high), verdict: "lower".into() }
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
        };
        assert_eq!(
            sentence(&o),
            "domU keeps 7.6 % [3.0, 13] of dom0's PVFS2 write, 5.7 % [2.4, 9.3] read; NET 50 % [45, 55] throughput; \
             index 18 % [12, 27] over 2 benchmarks"
        );
        let reference = Overhead { source: "study-2008".into(), index: None, ..o };
        assert!(sentence(&reference).starts_with("study-2008: domU kept 7.6 % [3.0, 13] of dom0's PVFS2"));
    }
}
