use std::path::PathBuf;

/// Everything that can stop a benchmark run. Per-request failures during the load are not
/// errors of the run: they are counted in the report.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("unknown scenario {0:?} (known: {known})", known = crate::SCENARIO_NAMES.join(", "))]
    UnknownScenario(String),
    #[error("cannot read CA bundle {path}: {reason}")]
    CaBundle { path: PathBuf, reason: String },
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("building the request: {0}")]
    Request(String),
    #[error("setup step of scenario {scenario}: {reason}")]
    Setup { scenario: String, reason: String },
    #[error("histogram: {0}")]
    Histogram(String),
    #[error("a load worker failed: {0}")]
    Worker(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}
