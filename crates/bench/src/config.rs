use crate::{BenchError, Credentials, Scenario};
use coffer_types::{SharedClock, SystemClock};
use http::Uri;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What to load, where, and how hard. Free of any CLI framework; `coffer bench` maps its
/// flags onto these fields.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// `http://host:port` or `https://host:port`. Its path is ignored: the scenario's
    /// template carries the request path.
    pub endpoint: Uri,
    /// Where the scenario's setup step runs, when not at `endpoint`. Loading the floor
    /// with exactly the signed request a scenario sends coffer (same size, same signing
    /// work for the load tool) needs the setup (create a key, store a secret) done on a
    /// real server, while the load goes to the floor.
    pub setup_endpoint: Option<Uri>,
    /// Region of the signing scope.
    pub region: String,
    /// Service of the signing scope (`sts`, `kms`, `secretsmanager`, ...).
    pub service: String,
    /// The request to repeat, with an optional setup step that runs once before the load.
    pub scenario: Scenario,
    /// The concurrency sweep: one measured level per entry, each with exactly that many
    /// connections and workers.
    pub concurrency: Vec<usize>,
    /// Measured time per level. `None` runs each level until `requests` have been sent.
    pub duration: Option<Duration>,
    /// Measured requests per level; the level ends at whichever of this and `duration`
    /// comes first.
    pub requests: Option<u64>,
    /// Discarded warmup per level, on the same connections.
    pub warmup: Duration,
    /// A request taking longer than this counts as an error and its connection is replaced.
    pub request_timeout: Duration,
    pub credentials: Credentials,
    /// PEM file of the CA certificates trusted for an `https` endpoint (required for https:
    /// no system roots are compiled in).
    pub ca_bundle: Option<PathBuf>,
    /// Wall time for `x-amz-date`; latency is measured with `Instant`.
    pub clock: SharedClock,
    /// Names the endpoint in the reports (`coffer`, `moto`, `floor`); defaults to the
    /// endpoint's authority.
    pub label: String,
}

impl BenchConfig {
    /// Defaults: region `us-east-1`, the scenario's service, concurrency `[1, 16, 64]`,
    /// 10 s per level, 1 s warmup, 30 s request timeout, the system clock.
    pub fn new(endpoint: Uri, scenario: Scenario, credentials: Credentials) -> Self {
        let label = endpoint
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|| endpoint.to_string());
        Self {
            endpoint,
            setup_endpoint: None,
            region: "us-east-1".to_owned(),
            service: scenario.service.clone(),
            scenario,
            concurrency: vec![1, 16, 64],
            duration: Some(Duration::from_secs(10)),
            requests: None,
            warmup: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            credentials,
            ca_bundle: None,
            clock: Arc::new(SystemClock),
            label,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), BenchError> {
        let bad = |m: &str| Err(BenchError::Config(m.to_owned()));
        if self.concurrency.is_empty() {
            return bad("the concurrency list is empty");
        }
        if self.concurrency.contains(&0) {
            return bad("a concurrency level must be at least 1");
        }
        match (self.duration, self.requests) {
            (None, None) => return bad("give a duration, a request count, or both"),
            (Some(d), _) if d.is_zero() => return bad("the duration must be positive"),
            (_, Some(0)) => return bad("the request count must be positive"),
            _ => {}
        }
        if self.request_timeout.is_zero() {
            return bad("the request timeout must be positive");
        }
        for uri in std::iter::once(&self.endpoint).chain(&self.setup_endpoint) {
            match uri.scheme_str() {
                Some("http") | Some("https") => {}
                _ => return bad("the endpoint must start with http:// or https://"),
            }
            if uri.host().is_none() {
                return bad("the endpoint has no host");
            }
        }
        Ok(())
    }
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
/// `AWS_SESSION_TOKEN`, the defaults of `--access-key`/`--secret-key`.
pub fn credentials_from_env() -> Option<Credentials> {
    let key = std::env::var("AWS_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok()?;
    let mut creds = Credentials::new(key, secret);
    creds.session_token = std::env::var("AWS_SESSION_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    Some(creds)
}
