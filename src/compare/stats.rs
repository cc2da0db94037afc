//! The statistics of a group of runs, and the ratio of two groups' means with Fieller's
//! interval. The t quantiles come from `statrs`; the rest is a few lines of arithmetic.

use crate::result::comparison::{NoInterval, Ratio, Summary};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// What docs/compare.md and every output call the ratio interval.
pub const RATIO_METHOD: &str =
    "Fieller's 95% interval for a ratio of independent means (t with Welch-Satterthwaite degrees of freedom)";

/// Below this many runs in either group a ratio gets no verdict.
pub const MIN_RUNS_FOR_VERDICT: usize = 3;

/// The 0.975 quantile of Student's t: half of a two-sided 95% interval.
pub(crate) fn t975(degrees_of_freedom: f64) -> f64 {
    StudentsT::new(0.0, 1.0, degrees_of_freedom).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        if sorted[0] == sorted[n - 1] {
            // Identical values: the mean is the value and the spread none, exactly (a mean one
            // ulp off gave sd 5.6e-13).
            return Some(Summary::identical(sorted[0], n));
        }
        // From the sorted values, not the runs' order: sums round differently in another order,
        // and the runs' order is no measurement (the sd of [54, 0.85, 0.4, 14.96] and of its
        // reverse differed in the last digit, an interval's bound near 0 in the twelfth).
        let (mut mean, mut sd) = mean_and_sd(&sorted);
        // Sums and squares of values near f64's limit overflow: the same on values divided by
        // the largest one, then multiplied back (only then: it costs the last digit).
        let largest = sorted[0].abs().max(sorted[n - 1].abs());
        if !(mean.is_finite() && sd.is_none_or(f64::is_finite)) && largest.is_finite() && largest > 0.0 {
            let scaled: Vec<f64> = sorted.iter().map(|v| v / largest).collect();
            let (m, s) = mean_and_sd(&scaled);
            (mean, sd) = (m * largest, s.map(|s| s * largest));
        }
        let half = sd.map(|sd| t975((n - 1) as f64) * sd / (n as f64).sqrt());
        Some(Summary {
            n,
            mean,
            median,
            min: sorted[0],
            max: sorted[n - 1],
            sd,
            cv_percent: sd.filter(|_| mean != 0.0).map(|sd| 100.0 * sd / mean.abs()),
            ci95_low: half.map(|h| mean - h),
            ci95_high: half.map(|h| mean + h),
        })
    }

    fn identical(value: f64, n: usize) -> Summary {
        let sd = (n > 1).then_some(0.0);
        Summary {
            n,
            mean: value,
            median: value,
            min: value,
            max: value,
            sd,
            cv_percent: sd.filter(|_| value != 0.0),
            ci95_low: sd.map(|_| value),
            ci95_high: sd.map(|_| value),
        }
    }

    /// Whether every figure is a number: values near f64's limit can still overflow (the
    /// interval's bounds).
    pub fn is_finite(&self) -> bool {
        [Some(self.mean), self.sd, self.ci95_low, self.ci95_high].into_iter().flatten().all(f64::is_finite)
    }

    /// The squared standard error of the mean.
    fn variance_of_mean(&self) -> f64 {
        self.sd.map_or(0.0, |sd| sd * sd / self.n as f64)
    }
}

/// The mean and the sample standard deviation (n - 1; none for one value).
fn mean_and_sd(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len();
    let mean = compensated_sum(values) / n as f64;
    let sd = (n > 1).then(|| {
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        (squares / (n - 1) as f64).sqrt()
    });
    (mean, sd)
}

/// Neumaier's compensated sum: the mean of 500 runs of 77.89 is 77.89, not 77.88999999999957.
fn compensated_sum(values: &[f64]) -> f64 {
    let (mut sum, mut lost) = (0.0f64, 0.0f64);
    for &v in values {
        let next = sum + v;
        lost += if sum.abs() >= v.abs() { (sum - next) + v } else { (v - next) + sum };
        sum = next;
    }
    sum + lost
}

/// What a ratio's 95 % interval says: `lower` or `higher` when it excludes 1, else `same`
/// (also when there is no interval).
pub fn verdict(bounds: Option<(f64, f64)>) -> &'static str {
    match bounds {
        Some((_, high)) if high < 1.0 => "lower",
        Some((low, _)) if low > 1.0 => "higher",
        _ => "same",
    }
}

/// The ratio of `group`'s mean to `baseline`'s, for two independent samples.
pub fn ratio(group: &Summary, baseline: &Summary) -> Ratio {
    let (a, b) = (group.mean, baseline.mean);
    let q = a / b;
    let (va, vb) = (group.variance_of_mean(), baseline.variance_of_mean());
    let bounds = if group.n < 2 || baseline.n < 2 || b == 0.0 {
        None
    } else if va == 0.0 && vb == 0.0 {
        Some((q, q))
    } else {
        // Fieller: the set of r with (a - r b)^2 <= t^2 (va + r^2 vb). Its degrees of
        // freedom are those of a - q b's variance, by Welch-Satterthwaite.
        let combined = va + q * q * vb;
        // A group without spread whose mean is 0 (every run 0): only the baseline's variance
        // is left, and with it the baseline's degrees of freedom (Welch's formula is 0/0).
        let df = if combined == 0.0 {
            (baseline.n - 1) as f64
        } else {
            combined.powi(2)
                / (va.powi(2) / (group.n - 1) as f64 + (q * q * vb).powi(2) / (baseline.n - 1) as f64)
        };
        let t = t975(df);
        let g = t * t * vb / (b * b);
        (g < 1.0).then(|| {
            let half = t / b.abs() * (va * (1.0 - g) + q * q * vb).sqrt();
            ((q - half) / (1.0 - g), (q + half) / (1.0 - g))
        })
    };
    let verdict = if group.n < MIN_RUNS_FOR_VERDICT || baseline.n < MIN_RUNS_FOR_VERDICT {
        "n too small"
    } else {
        verdict(bounds)
    };
    let no_interval = match bounds {
        Some(_) => None,
        None if group.n < 2 || baseline.n < 2 => Some(NoInterval::OneRun),
        None => Some(NoInterval::Unbounded),
    };
    Ratio {
        value: q,
        low: bounds.map(|b| b.0),
        high: bounds.map(|b| b.1),
        verdict: verdict.into(),
        no_interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn values_near_the_limit_of_f64_keep_finite_statistics() {
        let s = Summary::of(&[1e200, 2e200, 3e200]).unwrap();
        assert!(close(s.mean, 2e200, 1e186) && close(s.sd.unwrap(), 1e200, 1e186), "{s:?}");
        assert!(s.is_finite());
        let s = Summary::of(&[1.7e308, 1.7e308, 1.6e308]).unwrap();
        assert!(s.mean.is_finite() && s.sd.unwrap().is_finite(), "{s:?}");
        assert!(!s.is_finite(), "its interval's upper bound overflows: {s:?}");
    }

    #[test]
    fn a_group_of_zeros_is_lower_than_its_baseline_with_the_interval_0_0() {
        let zeros = Summary::of(&[0.0; 5]).unwrap();
        let baseline = Summary::of(&[100.0, 102.0, 98.0, 101.0, 99.0]).unwrap();
        let r = ratio(&zeros, &baseline);
        assert_eq!((r.value, r.low, r.high, r.verdict.as_str()), (0.0, Some(0.0), Some(0.0), "lower"));
    }

    #[test]
    fn many_equal_runs_have_their_value_as_mean_and_no_spread() {
        for value in [0.1, 1e-300, 77.89, 3.3, 123456.789] {
            for n in [2, 3, 7, 10, 1000] {
                let s = Summary::of(&vec![value; n]).unwrap();
                assert_eq!(
                    (s.mean, s.sd, s.ci95_low, s.ci95_high),
                    (value, Some(0.0), Some(value), Some(value))
                );
                assert_eq!(s.cv_percent, Some(0.0));
            }
        }
        assert_eq!(Summary::of(&[0.0, 0.0]).unwrap().cv_percent, None, "no cv of a zero mean");
        assert_eq!(Summary::of(&[4.0]).unwrap().sd, None, "one value has no spread");
        let s = Summary::of(&[77.89; 500]).unwrap();
        assert_eq!(s.mean, 77.89);
        assert_eq!(s.sd, Some(0.0));
        assert_eq!(compensated_sum(&[1e16, 1.0, -1e16]), 1.0);
        assert_eq!(compensated_sum(&[1.0, 1e16, -1e16]), 1.0);
    }

    #[test]
    fn the_runs_order_does_not_change_a_summary() {
        // Found by props::a_summary_is_the_same_in_any_order_of_the_runs: summed in the runs'
        // order, the sd of these and of their reverse differed in the last digit.
        let runs = [54.0, 0.85, 0.4, 14.96];
        let reversed: Vec<f64> = runs.iter().rev().copied().collect();
        assert_eq!(Summary::of(&runs), Summary::of(&reversed));
    }

    #[test]
    fn summary_matches_hand_computation() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!((s.n, s.mean, s.median, s.min, s.max), (8, 5.0, 4.5, 2.0, 9.0));
        // Sample sd: sqrt(32 / 7).
        assert!(close(s.sd.unwrap(), (32.0f64 / 7.0).sqrt(), 1e-12));
        assert!(close(s.cv_percent.unwrap(), 100.0 * (32.0f64 / 7.0).sqrt() / 5.0, 1e-9));
        // t(0.975, 7) = 2.364624; half width = t * sd / sqrt(8).
        let half = 2.364624 * (32.0f64 / 7.0).sqrt() / 8f64.sqrt();
        assert!(close(s.ci95_low.unwrap(), 5.0 - half, 1e-5), "{s:?}");
        assert!(close(s.ci95_high.unwrap(), 5.0 + half, 1e-5));
        let one = Summary::of(&[3.0]).unwrap();
        assert_eq!((one.sd, one.ci95_low, one.median), (None, None, 3.0));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn t_quantiles_are_the_tabled_ones() {
        assert!(close(t975(1.0), 12.706205, 1e-5));
        assert!(close(t975(4.0), 2.776445, 1e-5));
        assert!(close(t975(30.0), 2.042272, 1e-5));
    }

    #[test]
    fn fieller_interval_and_verdicts() {
        // The study's domU reads at about 35% of dom0: clearly lower.
        let dom0 = Summary::of(&[100.0, 102.0, 98.0, 101.0, 99.0]).unwrap();
        let domu = Summary::of(&[35.0, 36.0, 34.0, 35.5, 34.5]).unwrap();
        let r = ratio(&domu, &dom0);
        assert!(close(r.value, 0.35, 1e-12));
        let (low, high) = (r.low.unwrap(), r.high.unwrap());
        assert!(low < 0.35 && 0.35 < high && high < 0.4 && low > 0.3, "{r:?}");
        assert_eq!(r.verdict, "lower");
        assert_eq!(ratio(&dom0, &domu).verdict, "higher");
        // Overlapping noise: the interval holds 1.
        let bridge = Summary::of(&[99.0, 103.0, 97.0, 100.5, 101.0]).unwrap();
        let r = ratio(&bridge, &dom0);
        assert!(r.low.unwrap() < 1.0 && r.high.unwrap() > 1.0);
        assert_eq!(r.verdict, "same");
        // Two runs: a ratio, an interval, no verdict.
        let two = Summary::of(&[50.0, 51.0]).unwrap();
        assert_eq!(ratio(&two, &dom0).verdict, "n too small");
        assert_eq!(ratio(&dom0, &two).verdict, "n too small");
    }

    #[test]
    fn fieller_matches_the_closed_form_with_known_numbers() {
        // a = 10 (sd 1, n 4), b = 20 (sd 2, n 4): va = 0.25, vb = 1, q = 0.5,
        // df = (0.25 + 0.25)^2 / (0.0625/3 + 0.0625/3) = 6.
        let a = Summary::of(&[9.0, 11.0, 9.0, 11.0]).unwrap();
        let b = Summary::of(&[18.0, 22.0, 18.0, 22.0]).unwrap();
        assert!(close(a.sd.unwrap(), (4.0f64 / 3.0).sqrt(), 1e-12));
        let r = ratio(&a, &b);
        let (va, vb, q) = (4.0 / 3.0 / 4.0, 16.0 / 3.0 / 4.0, 0.5);
        let t =
            t975((va + q * q * vb) * (va + q * q * vb) / (va * va / 3.0 + (q * q * vb) * (q * q * vb) / 3.0));
        assert!(close(t, 2.446912, 1e-5), "df 6");
        let g = t * t * vb / 400.0;
        let half = t / 20.0 * (va * (1.0 - g) + q * q * vb).sqrt();
        assert!(close(r.low.unwrap(), (q - half) / (1.0 - g), 1e-12));
        assert!(close(r.high.unwrap(), (q + half) / (1.0 - g), 1e-12));
    }

    #[test]
    fn one_run_or_a_zero_baseline_gives_a_ratio_without_interval() {
        let one = Summary::of(&[5.0]).unwrap();
        let three = Summary::of(&[9.0, 10.0, 11.0]).unwrap();
        for (a, b) in [(&one, &three), (&three, &one)] {
            let r = ratio(a, b);
            assert_eq!((r.low, r.high, r.verdict.as_str()), (None, None, "n too small"), "{a:?} / {b:?}");
        }
        let zero = Summary::of(&[0.0, 0.0, 0.0]).unwrap();
        let r = ratio(&three, &zero);
        assert_eq!((r.low, r.high), (None, None));
    }

    #[test]
    fn an_exact_group_over_a_noisy_baseline_still_gets_fieller() {
        let exact = Summary::of(&[10.0, 10.0, 10.0]).unwrap();
        let noisy = Summary::of(&[18.0, 22.0, 20.0]).unwrap();
        let r = ratio(&exact, &noisy);
        assert!(r.low.unwrap() < 0.5 && r.high.unwrap() > 0.5, "{r:?}");
        assert!(r.high.unwrap() - r.low.unwrap() > 0.05, "the baseline's noise widens it: {r:?}");
    }

    #[test]
    fn an_unbounded_interval_gives_no_bounds_and_says_same() {
        let noisy = Summary::of(&[1.0, -1.0, 2.0, -2.0]).unwrap();
        let r = ratio(&Summary::of(&[1.0, 1.1, 0.9]).unwrap(), &noisy);
        assert_eq!((r.low, r.high, r.verdict.as_str()), (None, None, "same"));
        let exact = Summary::of(&[2.0, 2.0, 2.0]).unwrap();
        let r = ratio(&exact, &Summary::of(&[4.0, 4.0, 4.0]).unwrap());
        assert_eq!((r.low, r.high, r.verdict.as_str()), (Some(0.5), Some(0.5), "lower"));
    }
}

#[cfg(test)]
pub(crate) mod props;
