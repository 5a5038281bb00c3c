//! Results of one concurrency level, and the three output formats.

use serde::{Deserialize, Serialize};

/// One measured concurrency level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelReport {
    /// The endpoint's label (`coffer`, `moto`, `floor`, or its host:port).
    pub label: String,
    pub scenario: String,
    pub concurrency: usize,
    /// Measured requests, errors included.
    pub requests: u64,
    /// Non-2xx answers plus transport failures (connect, timeout, reset).
    pub errors: u64,
    /// Connections reopened because the server closed them (e.g. no keep-alive).
    pub reconnects: u64,
    /// From the end of the warmup to the last measured response.
    pub elapsed_s: f64,
    pub throughput_rps: f64,
    /// Latency of answered requests (2xx or not), in milliseconds with microsecond
    /// resolution.
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first error seen: status and the start of the body, or the transport error.
    pub first_error: Option<String>,
}

const COLUMNS: [&str; 11] = [
    "target", "scenario", "conc", "requests", "errors", "reconn", "req/s", "p50 ms", "p90 ms",
    "p99 ms", "max ms",
];

fn cells(r: &LevelReport) -> [String; 11] {
    [
        r.label.clone(),
        r.scenario.clone(),
        r.concurrency.to_string(),
        r.requests.to_string(),
        r.errors.to_string(),
        r.reconnects.to_string(),
        format!("{:.1}", r.throughput_rps),
        format!("{:.3}", r.p50_ms),
        format!("{:.3}", r.p90_ms),
        format!("{:.3}", r.p99_ms),
        format!("{:.3}", r.max_ms),
    ]
}

/// An aligned text table (text columns left-aligned, numbers right-aligned), followed by
/// the first error of each level that had any.
pub fn format_table(reports: &[LevelReport]) -> String {
    let rows: Vec<[String; 11]> = reports.iter().map(cells).collect();
    let mut widths = COLUMNS.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cols: &[String]| {
        let mut out = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            if i < 2 {
                out.push_str(&format!("{c:<w$}"));
            } else {
                out.push_str(&format!("{c:>w$}"));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(&COLUMNS.map(str::to_owned));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    for r in reports {
        if let Some(e) = &r.first_error {
            out.push_str(&format!(
                "first error at concurrency {} ({} of {} failed): {}\n",
                r.concurrency,
                r.errors,
                r.requests,
                one_line(e)
            ));
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The reports as a pretty JSON array.
pub fn format_json(reports: &[LevelReport]) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(reports)
}

/// The header and separator lines of the Markdown table.
pub fn format_markdown_header() -> String {
    let head = COLUMNS.join(" | ");
    let sep = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, _)| if i < 2 { "---" } else { "---:" })
        .collect::<Vec<_>>()
        .join(" | ");
    format!("| {head} |\n| {sep} |\n")
}

/// One Markdown table row per level, for BENCHMARKS.md; with `header`, the table's
/// header lines first.
pub fn format_markdown(reports: &[LevelReport], header: bool) -> String {
    let mut out = if header {
        format_markdown_header()
    } else {
        String::new()
    };
    for r in reports {
        let c = cells(r).map(|c| c.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LevelReport {
        LevelReport {
            label: "floor".into(),
            scenario: "floor".into(),
            concurrency: 16,
            requests: 123_456,
            errors: 0,
            reconnects: 0,
            elapsed_s: 10.0,
            throughput_rps: 12_345.6,
            p50_ms: 0.5,
            p90_ms: 0.9,
            p99_ms: 1.25,
            max_ms: 12.0,
            first_error: None,
        }
    }

    #[test]
    fn formats_agree() {
        let r = vec![sample()];
        let table = format_table(&r);
        assert!(table.lines().next().unwrap().starts_with("target"));
        assert!(table.contains("12345.6"));
        let md = format_markdown(&r, true);
        assert_eq!(md.lines().count(), 3);
        assert!(md.contains("| floor | floor | 16 | 123456 | 0 | 0 | 12345.6 | 0.500 |"));
        let back: Vec<LevelReport> = serde_json::from_str(&format_json(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
