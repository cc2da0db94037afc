//! Properties of the overhead figures and the index on generated campaigns (issue 32): finite
//! figures that hold their values for any finite positive runs, the same figures in any order
//! of the runs, an index blind to the unit and between its benchmarks' ratios, and a guest
//! that is its host kept whole.

use super::*;
use crate::compare::stats::props::{
    assert_no_difference, assert_same_ratio, assert_well_formed, bounds_conditioning, factor, near, runs,
};
use proptest::prelude::*;

/// The figures of the test plan's benchmarks: partdiff's, then mpiio's.
const FIGURES: [&[&str]; 2] = [&["rate"], &["write", "read"]];
/// The test plan's groups: the overhead pair's host `a` (0) and guest `b` (1).
const HOST: usize = 0;
const GUEST: usize = 1;

/// The runs of one benchmark by one group, keyed by their indices: per run its figures.
type Cell = ((usize, usize), Vec<Vec<Value>>);

/// A cell whose figures have their own numbers of runs: runs past a figure's count lack it.
fn cell(benchmark: usize, group: usize) -> impl Strategy<Value = Cell> {
    let metrics = FIGURES[benchmark];
    prop::collection::vec(runs(), metrics.len()).prop_map(move |columns| {
        let count = columns.iter().map(Vec::len).max().unwrap_or(0);
        let run = |i: usize| {
            let figure = |(values, metric): (&Vec<f64>, &&str)| {
                values.get(i).map(|&value| Value {
                    metric: metric.to_string(),
                    unit: "MiB/s",
                    value,
                    lower_is_better: false,
                })
            };
            columns.iter().zip(metrics).filter_map(figure).collect()
        };
        ((benchmark, group), (0..count).map(run).collect())
    })
}

/// Every cell of the test plan.
fn campaign() -> Vec<impl Strategy<Value = Cell>> {
    (0..FIGURES.len()).flat_map(|b| [cell(b, HOST), cell(b, GUEST)]).collect()
}

/// A campaign and the same with each cell's runs in another order.
fn campaign_and_shuffled() -> impl Strategy<Value = (Vec<Cell>, Vec<Cell>)> {
    campaign().prop_flat_map(|cells| {
        let shuffled: Vec<_> =
            cells.iter().map(|(key, runs)| (Just(*key), Just(runs.clone()).prop_shuffle())).collect();
        (Just(cells), shuffled)
    })
}

fn overhead(plan: &Plan, cells: &[Cell]) -> Overhead {
    let mut measured = Measured::default();
    for ((benchmark, group), runs) in cells {
        for run in runs {
            measured.add(*benchmark, *group, run.clone());
        }
    }
    measured.overhead(plan, &plan.file.overheads[0], "this campaign", true, &[])
}

/// The geometric means of an overhead: the benchmarks', the index.
fn means(o: &Overhead) -> impl Iterator<Item = &Ratio> {
    o.families.iter().map(|f| &f.ratio).chain(&o.index)
}

/// Every ratio of an overhead: the figures', then the means.
fn ratios(o: &Overhead) -> impl Iterator<Item = &Ratio> {
    o.figures.iter().map(|f| &f.ratio).chain(means(o))
}

/// The figures by benchmark and metric: their order is the order in which runs first showed
/// them, and a shuffle may show another first.
fn by_name(o: &Overhead) -> Vec<&Figure> {
    let mut figures: Vec<&Figure> = o.figures.iter().collect();
    figures.sort_by(|a, b| (&a.benchmark, &a.metric).cmp(&(&b.benchmark, &b.metric)));
    figures
}

/// How far the bounds of the means can move for each part of the figures' values theirs
/// move: the means take the logs of the figures' bounds, each bound moved as far as its
/// `bounds_conditioning`, and a lower bound near 0, known to its value's scale
/// (`assert_same_ratio`), has a log known only to value / bound of that (one of
/// 4.4e-5..3.4665285437 moved its upper bound by 1.3e-9 under a change of unit).
fn log_conditioning(o: &Overhead) -> f64 {
    let figure = |f: &Figure| {
        let low = f.ratio.low.filter(|&low| low > 0.0)?;
        Some(bounds_conditioning(&f.ratio) * (f.ratio.value / low).max(1.0))
    };
    o.figures.iter().filter_map(figure).fold(1.0, f64::max)
}

/// The overhead `b` of a campaign whose values are `factor` times `a`'s has the same ratios
/// within `relative`, and means `factor` times `a`'s.
fn assert_same_overhead(a: &Overhead, b: &Overhead, factor: f64, relative: f64) {
    let (figures_a, figures_b) = (by_name(a), by_name(b));
    assert_eq!(figures_a.len(), figures_b.len());
    for (x, y) in figures_a.into_iter().zip(figures_b) {
        assert_eq!((&x.metric, x.guest_runs, x.host_runs), (&y.metric, y.guest_runs, y.host_runs));
        let scaled = near(x.guest_mean * factor, y.guest_mean, relative)
            && near(x.host_mean * factor, y.host_mean, relative);
        assert!(scaled, "{x:?}\n{y:?}");
        assert_same_ratio(&x.ratio, &y.ratio, relative);
    }
    assert_eq!(means(a).count(), means(b).count());
    let bounds_relative = relative * log_conditioning(a);
    for (x, y) in means(a).zip(means(b)) {
        assert!(near(x.value, y.value, relative), "{x:?}\n{y:?}");
        assert_same_ratio(x, y, bounds_relative);
    }
}

/// A ratio: a value over 1e-9..1e9, an interval around it (possibly reaching 0 or below) or
/// none, and the verdict its interval says or `n too small`.
fn any_ratio() -> impl Strategy<Value = Ratio> {
    let value = (-9.0f64..9.0).prop_map(|e| 10f64.powf(e));
    let widths = prop::option::of((0.0f64..2.0, 0.0f64..10.0));
    (value, widths, any::<bool>()).prop_map(|(value, widths, enough)| {
        let bounds = widths.map(|(below, above)| (value * (1.0 - below), value * (1.0 + above)));
        let verdict = if enough { stats::verdict(bounds) } else { "n too small" };
        let no_interval = bounds.is_none().then_some(NoInterval::OneRun);
        Ratio {
            value,
            low: bounds.map(|b| b.0),
            high: bounds.map(|b| b.1),
            verdict: verdict.into(),
            no_interval,
        }
    })
}

/// 1..10 ratios, or one ratio several times.
fn ratio_lists() -> impl Strategy<Value = Vec<Ratio>> {
    prop_oneof![
        prop::collection::vec(any_ratio(), 1..10),
        (any_ratio(), 1..10usize).prop_map(|(ratio, k)| vec![ratio; k]),
    ]
}

fn assert_between_extremes(mean: &Ratio, of: &[&Ratio]) {
    let values = || of.iter().map(|r| r.value);
    let (smallest, largest) = (values().fold(f64::INFINITY, f64::min), values().fold(0.0, f64::max));
    assert!(smallest <= mean.value && mean.value <= largest, "{mean:?} of {of:?}");
}

proptest! {
    #[test]
    fn a_geometric_mean_lies_between_its_ratios_and_holds_its_value(ratios in ratio_lists()) {
        let mean = geometric_mean(&ratios).unwrap();
        assert_well_formed(&mean);
        assert_between_extremes(&mean, &ratios.iter().collect::<Vec<_>>());
    }

    #[test]
    fn a_geometric_mean_is_the_same_in_any_order(
        (ratios, shuffled) in ratio_lists().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle()))
    ) {
        assert_same_ratio(&geometric_mean(&ratios).unwrap(), &geometric_mean(&shuffled).unwrap(), 1e-12);
    }
}

#[test]
fn overhead_figures_of_positive_runs_are_finite_and_hold_their_values() {
    let plan = tests::plan();
    proptest!(|(cells in campaign())| {
        let o = overhead(&plan, &cells);
        prop_assert_eq!(o.figures.len(), 3);
        prop_assert!(o.index.is_some() && o.families.len() == 2, "{:?}", o);
        for f in &o.figures {
            prop_assert!(f.guest_mean.is_finite() && f.host_mean.is_finite(), "{:?}", f);
        }
        ratios(&o).for_each(assert_well_formed);
    });
}

#[test]
fn the_index_lies_between_its_benchmarks_and_each_between_its_figures() {
    let plan = tests::plan();
    proptest!(|(cells in campaign())| {
        let o = overhead(&plan, &cells);
        let families: Vec<&Ratio> = o.families.iter().map(|f| &f.ratio).collect();
        assert_between_extremes(o.index.as_ref().unwrap(), &families);
        for family in &o.families {
            let figures: Vec<&Ratio> =
                o.figures.iter().filter(|f| f.benchmark == family.benchmark).map(|f| &f.ratio).collect();
            assert_between_extremes(&family.ratio, &figures);
        }
    });
}

#[test]
fn overhead_figures_are_the_same_in_any_order_of_the_runs() {
    let plan = tests::plan();
    proptest!(|((cells, shuffled) in campaign_and_shuffled())| {
        assert_same_overhead(&overhead(&plan, &cells), &overhead(&plan, &shuffled), 1.0, 1e-12);
    });
}

#[test]
fn overhead_figures_do_not_depend_on_the_unit() {
    let plan = tests::plan();
    proptest!(|(cells in campaign(), factor in factor())| {
        let mut scaled = cells.clone();
        scaled.iter_mut().flat_map(|(_, runs)| runs.iter_mut().flatten()).for_each(|v| v.value *= factor);
        assert_same_overhead(&overhead(&plan, &cells), &overhead(&plan, &scaled), factor, 1e-9);
    });
}

#[test]
fn a_guest_measured_as_its_host_keeps_it_whole() {
    let plan = tests::plan();
    proptest!(|(cells in campaign())| {
        // The guest's runs, and the same runs as the host's.
        let guest = cells.into_iter().filter(|((_, group), _)| *group == GUEST);
        let both: Vec<Cell> =
            guest.flat_map(|((b, _), runs)| [((b, HOST), runs.clone()), ((b, GUEST), runs)]).collect();
        ratios(&overhead(&plan, &both)).for_each(assert_no_difference);
    });
}
