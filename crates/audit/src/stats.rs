//! Counters of the group commit, for the server's metrics: how many records each group
//! held, how long its first caller waited before the writer started the group, and how
//! long the group's write and sync took.
//!
//! These say why throughput is what it is. On a 2-core VM whose sync took 100-300 us,
//! under 64 connections, a quarter to a third of the groups held one caller while most
//! records went in groups holding nearly every connection, the largest often started 1-2
//! ms after their first record was handed over: the woken writer thread waited for a CPU
//! behind the request workers (BENCHMARKS.md, "A thirteenth host"). Only the wait
//! histogram shows this.

use coffer_types::{Histogram, HistogramSnapshot};
use std::time::Duration;

/// Upper bounds of the records-per-group buckets.
const RECORD_BOUNDS: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Upper bounds of the duration buckets, in microseconds.
const MICROS_BOUNDS: [u64; 11] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000,
];

/// What the writer counts; see the module documentation.
#[derive(Debug)]
pub(crate) struct Counters {
    group_records: Histogram,
    group_wait: Histogram,
    group_sync: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            group_records: Histogram::counts(&RECORD_BOUNDS),
            group_wait: Histogram::micros(&MICROS_BOUNDS),
            group_sync: Histogram::micros(&MICROS_BOUNDS),
        }
    }
}

impl Counters {
    /// One group: its records, how long its oldest caller had waited when the writer took
    /// it, and how long writing and syncing it took.
    pub(crate) fn group(&self, records: usize, waited: Duration, synced: Duration) {
        self.group_records
            .observe(u64::try_from(records).unwrap_or(u64::MAX));
        self.group_wait.observe_duration(waited);
        self.group_sync.observe_duration(synced);
    }

    pub(crate) fn snapshot(&self) -> CommitStats {
        CommitStats {
            group_records: self.group_records.snapshot(),
            group_wait_seconds: self.group_wait.snapshot(),
            group_sync_seconds: self.group_sync.snapshot(),
        }
    }
}

/// The group commit's histograms; see [`crate::AuditLog::commit_stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct CommitStats {
    /// Records per group commit (one sync each).
    pub group_records: HistogramSnapshot,
    /// From the moment a group's first caller handed its records over to the moment the
    /// writer started writing the group: the writer's lateness plus its gather window.
    pub group_wait_seconds: HistogramSnapshot,
    /// Writing and syncing a group.
    pub group_sync_seconds: HistogramSnapshot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_sums_scaled() {
        let c = Counters::default();
        c.group(1, Duration::from_micros(40), Duration::from_micros(120));
        c.group(3, Duration::from_micros(600), Duration::from_micros(90));
        c.group(2000, Duration::from_secs(3), Duration::from_micros(100));
        let s = c.snapshot();
        assert_eq!(s.group_records.count, 3);
        assert_eq!(s.group_records.sum, 2004.0);
        assert_eq!(
            &s.group_records.buckets[..3],
            &[(1.0, 1), (2.0, 1), (4.0, 2)]
        );
        assert_eq!(s.group_records.buckets.last(), Some(&(1024.0, 2)));
        let wait = &s.group_wait_seconds;
        assert_eq!(wait.buckets.first(), Some(&(50e-6, 1)));
        assert_eq!(wait.buckets.last(), Some(&(1.0, 2)), "3 s is only in +Inf");
        assert_eq!(wait.sum, 3.00064);
        let sync = &s.group_sync_seconds;
        assert_eq!(sync.buckets[1], (100e-6, 2));
        assert_eq!(sync.buckets[2], (250e-6, 3));
    }
}
