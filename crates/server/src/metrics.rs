//! Prometheus metrics: request counts by service, operation and outcome, and a latency
//! histogram. Kept dependency-free: a few counters do not justify a metrics framework.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS_MS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0];
/// Joins service, operation and code in a counter's key; sorts before every printable
/// character, so keys order as the (service, operation, code) triples do.
const SEP: char = '\u{1f}';

thread_local! {
    /// Where each request's counter key is built, so that counting allocates nothing once
    /// the counter exists.
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

#[derive(Default)]
pub struct Metrics {
    /// Written only when a (service, operation, code) is seen for the first time.
    requests: RwLock<BTreeMap<String, AtomicU64>>,
    buckets: [AtomicU64; BUCKETS_MS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    audit_failures: AtomicU64,
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

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_service_operation_and_code_in_order() {
        let m = Metrics::default();
        let ms = Duration::from_millis(3);
        m.observe("sts", "GetCallerIdentity", "200", ms);
        m.observe("iam", "CreateUser", "400", ms);
        m.observe("sts", "GetCallerIdentity", "200", ms);
        m.observe("sts", "AssumeRole", "200", ms);
        let text = m.render();
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
