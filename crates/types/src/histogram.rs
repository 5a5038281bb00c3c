//! A histogram with Prometheus's cumulative buckets, updated without locks: the server's
//! request latency and the audit log's group commits are counted with it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds of the buckets, in counted units, increasing.
    bounds: &'static [u64],
    /// `cumulative[i]` counts observations at or below `bounds[i]`.
    cumulative: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
    /// Counted units per shown unit (1e6 for microseconds shown as seconds); a division,
    /// so that 50 us shows as exactly `0.00005`.
    per_unit: f64,
}

impl Histogram {
    /// Counts of things (records per group), shown as they are.
    pub fn counts(bounds: &'static [u64]) -> Self {
        Self::new(bounds, 1.0)
    }

    /// Durations, counted in microseconds (`bounds` too) and shown in seconds.
    pub fn micros(bounds: &'static [u64]) -> Self {
        Self::new(bounds, 1e6)
    }

    fn new(bounds: &'static [u64], per_unit: f64) -> Self {
        Self {
            bounds,
            cumulative: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            per_unit,
        }
    }

    /// One observation, in counted units.
    pub fn observe(&self, value: u64) {
        for (bound, n) in self.bounds.iter().zip(&self.cumulative) {
            if value <= *bound {
                n.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// One duration, for a histogram made by [`Histogram::micros`].
    pub fn observe_duration(&self, d: Duration) {
        self.observe(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: self
                .bounds
                .iter()
                .zip(&self.cumulative)
                .map(|(b, n)| (*b as f64 / self.per_unit, n.load(Ordering::Relaxed)))
                .collect(),
            count: self.count.load(Ordering::Relaxed),
            sum: self.sum.load(Ordering::Relaxed) as f64 / self.per_unit,
        }
    }
}

/// A histogram read at one moment, in shown units: `(upper bound, observations at or
/// below it)` in increasing order, then the count and sum of all observations (the
/// `+Inf` bucket is the count).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_shown_in_their_unit() {
        static COUNTS: [u64; 3] = [1, 2, 4];
        let h = Histogram::counts(&COUNTS);
        for v in [1, 3, 2000] {
            h.observe(v);
        }
        assert_eq!(
            h.snapshot(),
            HistogramSnapshot {
                buckets: vec![(1.0, 1), (2.0, 1), (4.0, 2)],
                count: 3,
                sum: 2004.0,
            }
        );
        static MICROS: [u64; 2] = [50, 1_000_000];
        let t = Histogram::micros(&MICROS);
        t.observe_duration(Duration::from_micros(40));
        t.observe_duration(Duration::from_micros(600));
        t.observe_duration(Duration::from_secs(3));
        let s = t.snapshot();
        assert_eq!(s.buckets, [(0.00005, 1), (1.0, 2)], "3 s is only in +Inf");
        assert_eq!(s.sum, 3.00064);
    }
}
