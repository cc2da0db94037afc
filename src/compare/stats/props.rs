//! Properties of the statistics on generated runs (issue 32): finite figures for any finite
//! positive data, intervals that hold their estimate, the same figures in any order of the
//! runs, ratios blind to the unit, and the same verdict whichever group is the baseline.
//! The generators are shared with the campaign's figures.

use super::*;
use proptest::prelude::*;

/// A measurement as the study has them: log-uniform over 1e-3..1e6.
fn realistic() -> impl Strategy<Value = f64> {
    (-3.0f64..6.0).prop_map(|e| 10f64.powf(e))
}

/// Extreme but valid: log-uniform over 1e-9..1e9.
fn extreme() -> impl Strategy<Value = f64> {
    (-9.0f64..9.0).prop_map(|e| 10f64.powf(e))
}

/// A group's runs: realistic ones (2..50), extreme ones (1..50), all equal (no spread), or a
/// few ulps apart (the spread is all rounding: cancellation).
pub(crate) fn runs() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(realistic(), 2..=50),
        prop::collection::vec(extreme(), 1..=50),
        (extreme(), 1..=50usize).prop_map(|(value, n)| vec![value; n]),
        (extreme(), prop::collection::vec(0u32..4, 1..=50)).prop_map(|(value, ulps)| ulps
            .into_iter()
            .map(|k| value * (1.0 + f64::from(k) * f64::EPSILON))
            .collect()),
    ]
}

/// A common unit factor: log-uniform over 1e-3..1e3.
pub(crate) fn factor() -> impl Strategy<Value = f64> {
    (-3.0f64..3.0).prop_map(|e| 10f64.powf(e))
}

/// Runs and the same runs in another order.
fn runs_and_shuffled() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    runs().prop_flat_map(|runs| (Just(runs.clone()), Just(runs).prop_shuffle()))
}

/// Equal, or apart by at most `relative` of the larger.
pub(crate) fn near(a: f64, b: f64, relative: f64) -> bool {
    near_at_scale(a, b, relative, 0.0)
}

/// Equal, or apart by at most `relative` of the larger or of `scale`.
fn near_at_scale(a: f64, b: f64, relative: f64, scale: f64) -> bool {
    a == b || (a - b).abs() <= relative * a.abs().max(b.abs()).max(scale)
}

/// How many times the relative rounding of its means a ratio's bounds carry: Fieller's divide
/// by 1 - g, which is 2 value / (low + high), so near g = 1 (the baseline's mean barely told
/// from 0) they are as ill-conditioned as they are far from the value (an interval
/// 8.1e-5..106 of 7.0e-4 moved its upper bound by 2.8e-9 of itself under a change of unit).
pub(crate) fn bounds_conditioning(r: &Ratio) -> f64 {
    r.low.zip(r.high).map_or(1.0, |(low, high)| ((low + high) / (2.0 * r.value)).max(1.0))
}

/// The two ratios are the same figures within `relative`, their bounds within `relative`
/// times `bounds_conditioning`; their verdicts are the same unless a bound is about 1, where
/// rounding decides. A bound is the value less or plus a half-width: near 0 it keeps the
/// error of the value's scale, not its own (under a change of unit the interval -0.0345..3276
/// of 718 moved its lower bound by 1.4e-9 of itself).
pub(crate) fn assert_same_ratio(a: &Ratio, b: &Ratio, relative: f64) {
    assert!(near(a.value, b.value, relative), "{a:?}\n{b:?}");
    let bounds_relative = relative * bounds_conditioning(a);
    let near_bound = |x: f64, y: f64| near_at_scale(x, y, bounds_relative, a.value);
    let same_bounds = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => near_bound(x, y),
        (x, y) => x == y,
    };
    assert!(same_bounds(a.low, b.low) && same_bounds(a.high, b.high), "{a:?}\n{b:?}");
    let at_one = |r: &Ratio| [r.low, r.high].into_iter().flatten().any(|bound| near_bound(bound, 1.0));
    if !(at_one(a) || at_one(b)) {
        assert_eq!(a.verdict, b.verdict, "{a:?}\n{b:?}");
    }
}

/// What every ratio of finite positive means is: a finite positive value; both bounds or
/// neither, finite and around the value; the verdict its interval says.
pub(crate) fn assert_well_formed(r: &Ratio) {
    assert!(r.value.is_finite() && r.value > 0.0, "{r:?}");
    match (r.low, r.high) {
        (Some(low), Some(high)) => {
            assert!(low.is_finite() && high.is_finite(), "{r:?}");
            assert!(low <= r.value && r.value <= high, "{r:?}");
        }
        (None, None) => {}
        _ => panic!("one bound without the other: {r:?}"),
    }
    if r.verdict != "n too small" {
        assert_eq!(r.verdict, verdict(r.low.zip(r.high)), "{r:?}");
    }
}

/// A ratio of a group to itself: exactly 1, an interval holding 1, no verdict but `same`.
pub(crate) fn assert_no_difference(r: &Ratio) {
    assert_eq!(r.value, 1.0, "{r:?}");
    assert!(r.low.is_none_or(|low| low <= 1.0) && r.high.is_none_or(|high| high >= 1.0), "{r:?}");
    assert!(r.verdict == "same" || r.verdict == "n too small", "{r:?}");
}

/// The ratio of the baseline to the group, from that of the group to the baseline whose
/// interval holds positive ratios only.
fn inverted(r: &Ratio) -> Ratio {
    let verdict = match r.verdict.as_str() {
        "lower" => "higher",
        "higher" => "lower",
        other => other,
    };
    Ratio {
        value: 1.0 / r.value,
        low: r.high.map(f64::recip),
        high: r.low.map(f64::recip),
        verdict: verdict.into(),
        no_interval: r.no_interval,
    }
}

proptest! {
    #[test]
    fn a_summary_of_positive_runs_is_finite_and_its_interval_holds_the_mean(values in runs()) {
        let s = Summary::of(&values).unwrap();
        let cv_finite = s.cv_percent.is_none_or(f64::is_finite);
        prop_assert!(s.is_finite() && s.median.is_finite() && cv_finite, "{s:?}");
        prop_assert!(s.min <= s.mean && s.mean <= s.max, "{s:?}");
        prop_assert!(s.min <= s.median && s.median <= s.max, "{s:?}");
        if values.len() == 1 {
            prop_assert_eq!((s.sd, s.ci95_low, s.ci95_high), (None, None, None));
        } else {
            let (low, high) = (s.ci95_low.unwrap(), s.ci95_high.unwrap());
            prop_assert!(low <= s.mean && s.mean <= high, "{s:?}");
        }
    }

    #[test]
    fn a_summary_is_the_same_in_any_order_of_the_runs((values, shuffled) in runs_and_shuffled()) {
        prop_assert_eq!(Summary::of(&values), Summary::of(&shuffled));
    }

    #[test]
    fn a_ratio_of_positive_runs_is_finite_holds_its_value_and_says_when_it_is_unbounded(
        group in runs(), baseline in runs()
    ) {
        let (g, b) = (Summary::of(&group).unwrap(), Summary::of(&baseline).unwrap());
        let r = ratio(&g, &b);
        assert_well_formed(&r);
        prop_assert_eq!(r.verdict == "n too small", g.n < MIN_RUNS_FOR_VERDICT || b.n < MIN_RUNS_FOR_VERDICT);
        if r.low.is_none() && g.n > 1 && b.n > 1 {
            // Unbounded: Fieller's set is not an interval because the baseline's mean is within
            // t standard errors of 0, t at Welch's degrees of freedom (at least the smaller
            // group's n - 1).
            let t = t975((g.n.min(b.n) - 1) as f64);
            prop_assert!(b.mean <= t * b.variance_of_mean().sqrt(), "{r:?} of {g:?} over {b:?}");
        }
    }

    #[test]
    fn a_ratio_is_the_same_in_any_order_of_the_runs(
        (group, group_shuffled) in runs_and_shuffled(), (baseline, baseline_shuffled) in runs_and_shuffled()
    ) {
        let r = ratio(&Summary::of(&group).unwrap(), &Summary::of(&baseline).unwrap());
        let shuffled =
            ratio(&Summary::of(&group_shuffled).unwrap(), &Summary::of(&baseline_shuffled).unwrap());
        prop_assert_eq!(r, shuffled);
    }

    #[test]
    fn a_ratio_does_not_depend_on_the_unit(group in runs(), baseline in runs(), factor in factor()) {
        let scaled = |values: &[f64]| {
            Summary::of(&values.iter().map(|v| v * factor).collect::<Vec<_>>()).unwrap()
        };
        let r = ratio(&Summary::of(&group).unwrap(), &Summary::of(&baseline).unwrap());
        assert_same_ratio(&r, &ratio(&scaled(&group), &scaled(&baseline)), 1e-9);
    }

    #[test]
    fn a_group_over_itself_is_one_and_the_same(values in runs()) {
        let s = Summary::of(&values).unwrap();
        let r = ratio(&s, &s);
        assert_no_difference(&r);
        let expected = if s.n < MIN_RUNS_FOR_VERDICT { "n too small" } else { "same" };
        prop_assert_eq!(r.verdict.as_str(), expected, "{:?}", r);
    }

    #[test]
    fn swapping_the_baseline_inverts_the_ratio_and_its_interval(group in runs(), baseline in runs()) {
        let (g, b) = (Summary::of(&group).unwrap(), Summary::of(&baseline).unwrap());
        let (r, inverse) = (ratio(&g, &b), ratio(&b, &g));
        prop_assert!(near(r.value * inverse.value, 1.0, 1e-12), "{r:?}\n{inverse:?}");
        // Fieller's set of b/a is the reciprocal of a/b's (same degrees of freedom too): an
        // interval of positive ratios inverts into one; one reaching 0 inverts into an unbounded set.
        if let Some(low) = r.low {
            if low > 1e-6 * r.value {
                assert_same_ratio(&inverse, &inverted(&r), 1e-9);
            } else if low < -1e-6 * r.value {
                prop_assert_eq!((inverse.low, inverse.high), (None, None), "{:?}\n{:?}", r, inverse);
            }
        }
    }
}
