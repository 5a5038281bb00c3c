//! Prometheus metrics: request counts by service, operation and outcome, a latency
//! histogram, and the audit log's group commit (records per group, the wait for the
//! writer, the sync). Kept dependency-free: a few counters do not justify a metrics
//! framework.

use coffer_audit::CommitStats;
use coffer_types::{Histogram, HistogramSnapshot};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds (0.5 ms to 1 s).
const LATENCY_MICROS: [u64; 10] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];
/// Joins service, operation and code in a counter's key; sorts before every printable
/// character, so keys order as the (service, operation, code) triples do.
const SEP: char = '\u{1f}';

thread_local! {
    /// Where each request's counter key is built, so that counting allocates nothing once
    /// the counter exists.
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

pub struct Metrics {
    /// Written only when a (service, operation, code) is seen for the first time.
    requests: RwLock<BTreeMap<String, AtomicU64>>,
    latency: Histogram,
    audit_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: RwLock::default(),
            latency: Histogram::micros(&LATENCY_MICROS),
            audit_failures: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn observe(&self, service: &str, operation: &str, code: &str, latency: Duration) {
        KEY.with_borrow_mut(|key| {
            key.clear();
            for (i, part) in [service, operation, code].into_iter().enumerate() {
                if i > 0 {
                    key.push(SEP);
                }
                key.push_str(part);
            }
            self.count_request(key);
        });
        self.latency.observe_duration(latency);
    }

    fn count_request(&self, key: &str) {
        {
            let m = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = m.get(key) {
                n.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut m = self.requests.write().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_owned())
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    pub fn audit_failure(&self) {
        self.audit_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format, with the audit log's `commit` histograms.
    pub fn render(&self, commit: &CommitStats) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP coffer_requests_total Requests by service, operation and result code.\n",
        );
        out.push_str("# TYPE coffer_requests_total counter\n");
        let m = self.requests.read().unwrap_or_else(|p| p.into_inner());
        for (key, n) in m.iter() {
            let mut parts = key.split(SEP);
            let (s, o, c) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "coffer_requests_total{{service=\"{s}\",operation=\"{o}\",code=\"{c}\"}} {n}"
            );
        }
        drop(m);
        let latency = self.latency.snapshot();
        let histograms = [
            (
                "coffer_request_duration_seconds",
                "Request latency.",
                &latency,
            ),
            (
                "coffer_audit_group_records",
                "Audit records per group commit (one sync each).",
                &commit.group_records,
            ),
            (
                "coffer_audit_group_wait_seconds",
                "From a group's first record handed to the audit writer to the start of its write.",
                &commit.group_wait_seconds,
            ),
            (
                "coffer_audit_group_sync_seconds",
                "Writing and syncing one audit group commit.",
                &commit.group_sync_seconds,
            ),
        ];
        for (name, help, h) in histograms {
            write_histogram(&mut out, name, help, h);
        }
        out.push_str("# TYPE coffer_audit_failures_total counter\n");
        let _ = writeln!(
            out,
            "coffer_audit_failures_total {}",
            self.audit_failures.load(Ordering::Relaxed)
        );
        out
    }
}

fn write_histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (bound, n) in &h.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(buckets: Vec<(f64, u64)>, count: u64, sum: f64) -> CommitStats {
        let h = HistogramSnapshot {
            buckets,
            count,
            sum,
        };
        CommitStats {
            group_records: h.clone(),
            group_wait_seconds: h.clone(),
            group_sync_seconds: h,
        }
    }

    #[test]
    fn audit_commit_histograms_in_the_exposition_format() {
        let text = Metrics::default().render(&commits(vec![(0.00005, 2), (0.0001, 3)], 4, 0.5));
        let wait: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("coffer_audit_group_wait_seconds"))
            .collect();
        assert_eq!(
            wait,
            [
                "# HELP coffer_audit_group_wait_seconds From a group's first record handed to the audit writer to the start of its write.",
                "# TYPE coffer_audit_group_wait_seconds histogram",
                r#"coffer_audit_group_wait_seconds_bucket{le="0.00005"} 2"#,
                r#"coffer_audit_group_wait_seconds_bucket{le="0.0001"} 3"#,
                r#"coffer_audit_group_wait_seconds_bucket{le="+Inf"} 4"#,
                "coffer_audit_group_wait_seconds_sum 0.5",
                "coffer_audit_group_wait_seconds_count 4",
            ]
        );
        assert!(text.contains("# TYPE coffer_audit_group_records histogram\n"));
        assert!(text.contains("# TYPE coffer_audit_group_sync_seconds histogram\n"));
    }

    #[test]
    fn counts_by_service_operation_and_code_in_order() {
        let m = Metrics::default();
        let ms = Duration::from_millis(3);
        m.observe("sts", "GetCallerIdentity", "200", ms);
        m.observe("iam", "CreateUser", "400", ms);
        m.observe("sts", "GetCallerIdentity", "200", ms);
        m.observe("sts", "AssumeRole", "200", ms);
        let text = m.render(&commits(Vec::new(), 0, 0.0));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("coffer_requests_total{"))
            .collect();
        assert_eq!(
            lines,
            [
                r#"coffer_requests_total{service="iam",operation="CreateUser",code="400"} 1"#,
                r#"coffer_requests_total{service="sts",operation="AssumeRole",code="200"} 1"#,
                r#"coffer_requests_total{service="sts",operation="GetCallerIdentity",code="200"} 2"#,
            ]
        );
        assert!(text.contains("coffer_request_duration_seconds_count 4\n"));
        assert!(text.contains("coffer_request_duration_seconds_bucket{le=\"0.005\"} 4\n"));
        assert!(text.contains("coffer_request_duration_seconds_bucket{le=\"0.0025\"} 0\n"));
    }
}
