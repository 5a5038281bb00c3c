//! Prometheus metrics: request counts by service, operation and outcome, and a latency
//! histogram. Kept dependency-free: a few counters do not justify a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS_MS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, String), u64>>,
    buckets: [AtomicU64; BUCKETS_MS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    audit_failures: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, service: &str, operation: &str, code: &str, latency: Duration) {
        {
            let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            *m.entry((service.to_owned(), operation.to_owned(), code.to_owned()))
                .or_default() += 1;
        }
        let ms = latency.as_secs_f64() * 1000.0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if let (true, Some(c)) = (ms <= *b, self.buckets.get(i)) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn audit_failure(&self) {
        self.audit_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP coffer_requests_total Requests by service, operation and result code.\n",
        );
        out.push_str("# TYPE coffer_requests_total counter\n");
        let m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        for ((s, o, c), n) in m.iter() {
            let _ = writeln!(
                out,
                "coffer_requests_total{{service=\"{s}\",operation=\"{o}\",code=\"{c}\"}} {n}"
            );
        }
        drop(m);
        out.push_str("# HELP coffer_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE coffer_request_duration_seconds histogram\n");
        for (b, c) in BUCKETS_MS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "coffer_request_duration_seconds_bucket{{le=\"{}\"}} {}",
                b / 1000.0,
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "coffer_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "coffer_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "coffer_request_duration_seconds_count {count}");
        out.push_str("# TYPE coffer_audit_failures_total counter\n");
        let _ = writeln!(
            out,
            "coffer_audit_failures_total {}",
            self.audit_failures.load(Ordering::Relaxed)
        );
        out
    }
}
