//! Service events: EventBridge-shaped notifications of what services did (a parameter
//! changed, a policy acted, a secret rotated), delivered off the request path to the
//! configured targets: the audit trail (as a CloudTrail `AwsServiceEvent` record) and
//! webhooks from the configuration (`[[events.webhooks]]`).
//!
//! `publish` never blocks and never fails its caller: it queues the event on a bounded
//! channel (dropping it, with a warning, if the queue is full) and one background task
//! delivers it. Each webhook POST carries `X-Coffer-Timestamp` (Unix seconds) and
//! `X-Coffer-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, so the
//! receiver can check the sender and reject replays; failed deliveries are retried a few
//! times with backoff, then dropped with a warning.

use crate::State;
use bytes::Bytes;
use coffer_audit::AuditEvent;
use coffer_types::AccountId;
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Events waiting for delivery; beyond this, new events are dropped.
const QUEUE: usize = 4096;
/// Attempts per webhook delivery, and the first wait between them (doubling).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_secs(10);

/// One event, as a service describes it.
#[derive(Debug, Clone)]
pub struct ServiceEvent {
    /// `aws.ssm`, `aws.secretsmanager`.
    pub source: &'static str,
    /// `Parameter Store Change`.
    pub detail_type: String,
    pub account: AccountId,
    pub region: String,
    pub time: OffsetDateTime,
    pub resources: Vec<String>,
    pub detail: Value,
    /// Whether delivery also writes the event to the audit trail. False for events that
    /// are CloudTrail records already (Secrets Manager's rotation events), which their
    /// service appends itself.
    pub to_trail: bool,
}

/// A webhook target from the configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    /// Deliver only events whose `source` is this (e.g. `aws.ssm`); all when absent.
    pub source: Option<String>,
    /// For an `https://` URL: a PEM file of CAs to trust in addition to the system's.
    #[serde(rename = "ca-file")]
    pub ca_file: Option<PathBuf>,
}

impl Webhook {
    /// Whether this webhook takes events from `source`.
    pub fn wants(&self, source: &str) -> bool {
        self.source.as_deref().is_none_or(|s| s == source)
    }

    /// The TLS configuration of an `https://` webhook (`None` for `http://`): the system
    /// CAs plus those of `ca-file`.
    pub fn tls(&self) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
        crate::outbound::tls_for(&self.url, self.ca_file.as_deref())
    }
}

/// `[events]` in the configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
}

/// The queue between publishers and the delivery task.
pub struct Bus {
    tx: mpsc::Sender<ServiceEvent>,
    rx: Mutex<Option<mpsc::Receiver<ServiceEvent>>>,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

/// Queues `event` for delivery. Never blocks, never fails the caller.
pub fn publish(state: &State, event: ServiceEvent) {
    if let Err(e) = state.events.tx.try_send(event) {
        tracing::warn!(error = %e, "event queue full or closed; event dropped");
    }
}

/// The EventBridge envelope of an event.
pub fn envelope(e: &ServiceEvent, id: &str) -> Value {
    let time = crate::services::iso8601(e.time);
    json!({
        "version": "0",
        "id": id,
        "detail-type": e.detail_type,
        "source": e.source,
        "account": e.account.to_string(),
        "time": time,
        "region": e.region,
        "resources": e.resources,
        "detail": e.detail,
    })
}

/// The signature a receiver recomputes: HMAC-SHA256 over `timestamp.body`, hex.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(timestamp.len() + 1 + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(coffer_crypto::hmac_sha256(secret.as_bytes(), &msg))
    )
}

/// Starts the delivery task (once; later calls do nothing). Needs a Tokio runtime.
pub fn start(state: Arc<State>) {
    let rx = state.events.rx.lock().ok().and_then(|mut g| g.take());
    if let Some(rx) = rx {
        tokio::spawn(deliver_all(state, rx));
    }
}

/// A webhook with its TLS configuration, built once.
#[derive(Clone)]
struct Target {
    hook: Webhook,
    tls: Option<Arc<rustls::ClientConfig>>,
}

fn targets(hooks: &[Webhook]) -> Vec<Target> {
    hooks
        .iter()
        .filter_map(|h| match h.tls() {
            Ok(tls) => Some(Target {
                hook: h.clone(),
                tls,
            }),
            Err(e) => {
                tracing::error!(url = %h.url, error = %e, "webhook disabled: no TLS configuration");
                None
            }
        })
        .collect()
}

async fn deliver_all(state: Arc<State>, mut rx: mpsc::Receiver<ServiceEvent>) {
    let targets = targets(&state.config.events.webhooks);
    while let Some(event) = rx.recv().await {
        let id = uuid::Uuid::new_v4().to_string();
        let body = envelope(&event, &id);
        if event.to_trail
            && let Err(e) = state.audit.append(audit_record(&event, &body)).await
        {
            tracing::error!(error = %e, "could not record a service event in the audit trail");
        }
        let bytes = Bytes::from(body.to_string());
        for target in targets.iter().filter(|t| t.hook.wants(event.source)) {
            // Each delivery retries on its own, so a slow receiver delays no other.
            let clock = state.clock.clone();
            let (target, id, bytes) = (target.clone(), id.clone(), bytes.clone());
            tokio::spawn(deliver(target, id, bytes, clock, FIRST_BACKOFF));
        }
    }
}

/// The CloudTrail record of an event: an `AwsServiceEvent` by the service itself, the
/// EventBridge event as its `serviceEventDetails`-like payload in `responseElements`.
fn audit_record(e: &ServiceEvent, body: &Value) -> AuditEvent {
    let service = format!("{}.amazonaws.com", e.source.trim_start_matches("aws."));
    let name = e.detail_type.replace(' ', "");
    AuditEvent::service_event(&service, &name, &e.region, e.account, e.time)
        .with_response(body.clone())
}

/// Delivers one event to one webhook, retrying failures with doubling waits; true once
/// the receiver accepted it.
async fn deliver(
    target: Target,
    id: String,
    body: Bytes,
    clock: coffer_types::SharedClock,
    first_backoff: Duration,
) -> bool {
    let url = &target.hook.url;
    let mut wait = first_backoff;
    for attempt in 1..=ATTEMPTS {
        let timestamp = clock.now().unix_timestamp().to_string();
        let req = request(&target.hook, &id, &timestamp, body.clone());
        let sent = match req {
            Ok(req) => crate::outbound::send(req, target.tls.clone(), TIMEOUT).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(status) if status.is_success() => return true,
            Ok(status) if attempt == ATTEMPTS => {
                tracing::warn!(%url, %status, "event delivery refused; giving up");
            }
            Err(e) if attempt == ATTEMPTS => {
                tracing::warn!(%url, error = %e, "event delivery failed; giving up");
            }
            _ => {
                tracing::debug!(%url, attempt, "event delivery failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    false
}

fn request(
    hook: &Webhook,
    id: &str,
    timestamp: &str,
    body: Bytes,
) -> Result<http::Request<Full<Bytes>>, String> {
    let uri: http::Uri = hook.url.parse().map_err(|e| format!("{e}"))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let sig = signature(&hook.secret, timestamp, &body);
    http::Request::post(uri)
        .header("host", host)
        .header("content-type", "application/json")
        .header("x-coffer-event-id", id)
        .header("x-coffer-timestamp", timestamp)
        .header("x-coffer-signature", sig)
        .body(Full::new(body))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: String, source: Option<&str>) -> Webhook {
        Webhook {
            url,
            secret: "s".into(),
            source: source.map(Into::into),
            ca_file: None,
        }
    }

    fn plain(url: String) -> Target {
        Target {
            hook: hook(url, None),
            tls: None,
        }
    }

    #[test]
    fn source_filter() {
        assert!(hook("http://x/".into(), None).wants("aws.ssm"));
        assert!(hook("http://x/".into(), Some("aws.ssm")).wants("aws.ssm"));
        assert!(!hook("http://x/".into(), Some("aws.ssm")).wants("aws.secretsmanager"));
    }

    /// A receiver answering the given statuses in turn; counts the requests it saw.
    async fn receiver(statuses: Vec<u16>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            for status in statuses {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await.unwrap();
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
            }
        });
        (url, seen)
    }

    fn clock() -> coffer_types::SharedClock {
        Arc::new(coffer_types::ManualClock::new(
            time::macros::datetime!(2026-01-01 0:00 UTC),
        ))
    }

    #[tokio::test]
    async fn failed_deliveries_are_retried_then_given_up() {
        let fast = Duration::from_millis(10);
        let body = Bytes::from_static(b"{}");
        let (url, seen) = receiver(vec![500, 503, 200]).await;
        assert!(deliver(plain(url), "id".into(), body.clone(), clock(), fast).await);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
        let (url, seen) = receiver(vec![500; ATTEMPTS as usize]).await;
        assert!(!deliver(plain(url), "id".into(), body, clock(), fast).await);
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::SeqCst),
            ATTEMPTS as usize
        );
    }

    /// Keys in the clear: the test's certificates protect nothing.
    struct NoSeal;
    impl coffer_tls::KeySealer for NoSeal {
        fn seal(&self, _purpose: &str, plaintext: &[u8]) -> Vec<u8> {
            plaintext.to_vec()
        }
        fn open(
            &self,
            _purpose: &str,
            sealed: &[u8],
        ) -> Result<zeroize::Zeroizing<Vec<u8>>, coffer_tls::SealError> {
            Ok(zeroize::Zeroizing::new(sealed.to_vec()))
        }
    }

    /// A local CA and an HTTPS receiver with a certificate it issued for 127.0.0.1; the
    /// receiver answers 200 to each request and counts them.
    async fn tls_receiver(
        dir: &std::path::Path,
    ) -> (String, PathBuf, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let material = coffer_tls::load_or_generate(dir, &[], now, &NoSeal).unwrap();
        let ca = material.ca_cert_path().unwrap().to_path_buf();
        let acceptor = coffer_tls::tokio_rustls::TlsAcceptor::from(
            coffer_tls::server_config(&material).unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    continue;
                };
                let mut buf = vec![0u8; 65536];
                let _ = tls.read(&mut buf).await;
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        (url, ca, seen)
    }

    #[tokio::test]
    async fn https_webhooks_trust_only_their_ca() {
        let dir = tempfile::tempdir().unwrap();
        let (url, ca, seen) = tls_receiver(&dir.path().join("a")).await;
        let mut h = hook(url.clone(), None);
        h.ca_file = Some(ca);
        let target = Target {
            tls: h.tls().unwrap(),
            hook: h,
        };
        let body = Bytes::from_static(b"{}");
        let fast = Duration::from_millis(10);
        assert!(deliver(target, "id".into(), body.clone(), clock(), fast).await);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another CA's certificate is refused: the handshake fails, nothing is delivered.
        let other = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let m = coffer_tls::load_or_generate(other.path(), &[], now, &NoSeal).unwrap();
        let mut h = hook(url, None);
        h.ca_file = Some(m.ca_cert_path().unwrap().to_path_buf());
        let target = Target {
            tls: h.tls().unwrap(),
            hook: h,
        };
        assert!(!deliver(target, "id".into(), body, clock(), fast).await);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn signature_covers_timestamp_and_body() {
        let a = signature("s", "100", b"{}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), 7 + 64);
        assert_ne!(a, signature("s", "101", b"{}"));
        assert_ne!(a, signature("s", "100", b"{ }"));
        assert_ne!(a, signature("t", "100", b"{}"));
        assert_eq!(a, signature("s", "100", b"{}"));
    }
}
