//! Timed samples in logarithmic buckets 1 % wide: a 10-minute TCP_RR makes tens of millions
//! of round trips, and its percentiles need no more memory than a 1-second one's. Minimum,
//! maximum and mean are exact; a percentile is its bucket's middle, within 1 % of the sample,
//! and never outside [minimum, maximum].

use serde::{Deserialize, Serialize};

use crate::result::net::Percentiles;

/// The width of a bucket: 1 %.
const STEP: f64 = 1.01;
/// Buckets up to 1.01^2800 ns ≈ 1200 s; a longer sample counts in the last.
const BUCKETS: usize = 2800;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histogram {
    /// Sparse: (bucket, count) in bucket order, so that a rank sends rank 0 only the buckets
    /// it used.
    counts: Vec<(u32, u64)>,
    samples: u64,
    sum_ns: f64,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: Vec::new(), samples: 0, sum_ns: 0.0, min_ns: u64::MAX, max_ns: 0 }
    }
}

fn bucket(ns: u64) -> u32 {
    let index = (ns.max(1) as f64).ln() / STEP.ln();
    (index as usize).min(BUCKETS - 1) as u32
}

/// Dense counts while recording: one add per sample, no search.
pub struct Recorder {
    counts: Vec<u64>,
    histogram: Histogram,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder { counts: vec![0; BUCKETS], histogram: Histogram::default() }
    }
}

impl Recorder {
    pub fn record(&mut self, ns: u64) {
        self.counts[bucket(ns) as usize] += 1;
        let h = &mut self.histogram;
        h.samples += 1;
        h.sum_ns += ns as f64;
        h.min_ns = h.min_ns.min(ns);
        h.max_ns = h.max_ns.max(ns);
    }

    /// Forgets every sample (those of a warm-up).
    pub fn clear(&mut self) {
        *self = Recorder::default();
    }

    pub fn histogram(&self) -> Histogram {
        let counts =
            self.counts.iter().enumerate().filter(|&(_, &c)| c > 0).map(|(i, &c)| (i as u32, c)).collect();
        Histogram { counts, ..self.histogram.clone() }
    }
}

impl Histogram {
    /// Min, mean, p50, p99 and max in µs, `scale` times each sample (½ for half round trips);
    /// `None` without samples.
    pub fn percentiles(&self, scale: f64) -> Option<Percentiles> {
        if self.samples == 0 {
            return None;
        }
        let us = |ns: f64| ns * scale / 1000.0;
        let (min, max) = (self.min_ns as f64, self.max_ns as f64);
        let quantile = |q: f64| {
            let rank = ((q * self.samples as f64).ceil() as u64).clamp(1, self.samples);
            let mut seen = 0;
            for &(index, count) in &self.counts {
                seen += count;
                if seen >= rank {
                    return STEP.powf(f64::from(index) + 0.5).clamp(min, max);
                }
            }
            max
        };
        Some(Percentiles {
            samples: self.samples,
            min_us: us(min),
            mean_us: us(self.sum_ns / self.samples as f64),
            p50_us: us(quantile(0.50)),
            p99_us: us(quantile(0.99)),
            max_us: us(max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_a_percent_and_ordered() {
        let mut r = Recorder::default();
        for ns in 1..=10_000u64 {
            r.record(ns * 1000);
        }
        let p = r.histogram().percentiles(1.0).unwrap();
        assert_eq!((p.samples, p.min_us, p.max_us), (10_000, 1.0, 10_000.0));
        assert!((p.mean_us - 5000.5).abs() < 1e-6, "{p:?}");
        assert!((p.p50_us / 5000.0 - 1.0).abs() < 0.01, "{p:?}");
        assert!((p.p99_us / 9900.0 - 1.0).abs() < 0.01, "{p:?}");
        let half = r.histogram().percentiles(0.5).unwrap();
        assert_eq!(half.max_us, 5000.0);
        r.clear();
        assert!(r.histogram().percentiles(1.0).is_none());
    }

    #[test]
    fn one_sample_and_extremes_stay_in_range() {
        let mut r = Recorder::default();
        r.record(0);
        r.record(u64::MAX);
        let p = r.histogram().percentiles(1.0).unwrap();
        assert!(p.min_us <= p.p50_us && p.p50_us <= p.p99_us && p.p99_us <= p.max_us, "{p:?}");
        let mut one = Recorder::default();
        one.record(1234);
        let p = one.histogram().percentiles(1.0).unwrap();
        assert_eq!((p.p50_us, p.p99_us), (1.234, 1.234));
    }
}
