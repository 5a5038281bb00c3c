//! Service events: EventBridge-shaped notifications of what services did (a parameter
//! changed, a policy acted, a secret rotated), delivered off the request path to the
//! configured targets: the audit trail (as a CloudTrail `AwsServiceEvent` record) and
//! webhooks from the configuration (`[[events.webhooks]]`).
//!
//! `publish` never fails its caller: it writes the event to a durable queue in storage
//! (table `event_outbox`) and wakes one background task, which delivers it; events and
//! their retry state survive a restart. Each webhook POST carries `X-Coffer-Timestamp` (Unix seconds) and
//! `X-Coffer-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, so the
//! receiver can check the sender and reject replays; failed deliveries are retried a few
//! times with backoff (judged by the injected clock), then dropped with a warning.

use crate::State;
use bytes::Bytes;
use coffer_audit::AuditEvent;
use coffer_types::AccountId;
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

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

/// Wakes the delivery task when an event was queued.
pub struct Bus {
    tx: mpsc::Sender<()>,
    rx: Mutex<Option<mpsc::Receiver<()>>>,
    /// Orders the events this node queues at the same instant (one transaction may queue
    /// several, and a test clock stands still): see [`queue`].
    seq: std::sync::atomic::AtomicU64,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(1);
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
            seq: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

/// The durable queue: one record per event not yet fully delivered, keyed by the time it
/// was published and then the order in which this node queued it (so scans go oldest
/// first, and events of one instant in the order they were queued).
const OUTBOX: &str = "event_outbox";
/// How often the delivery task looks at the queue at least.
const POLL: Duration = Duration::from_secs(1);
/// The delivery lease lapses this long after its holder last renewed it.
const LEASE_TTL: Duration = Duration::from_secs(3);
/// Queued events read per storage scan; a pass reads the whole queue, page by page.
const SCAN: usize = 256;
const LEASE: &str = "event-delivery";

/// A queued event: the EventBridge envelope, whether the audit trail still needs it, and
/// the webhooks (by URL) still to deliver to with their retry state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Queued {
    id: String,
    source: String,
    detail_type: String,
    account: AccountId,
    region: String,
    time: OffsetDateTime,
    body: Value,
    trail_pending: bool,
    pending: Vec<Pending>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    url: String,
    /// Failed attempts so far.
    attempts: u32,
    /// Not before this time (by the injected clock).
    next: OffsetDateTime,
}

/// Queues `event` for delivery: written to storage (table `event_outbox`) before this
/// returns, so it survives a restart. Never fails the caller: if storage refuses the write,
/// the event is dropped with an error in the log (the API call that caused it is in the
/// audit trail). A change made by a request queues its event with [`queue`] instead, in
/// the transaction that makes the change.
pub fn publish(state: &State, event: ServiceEvent) {
    if !wanted(state, &event) {
        return;
    }
    // The server's storage steps off the runtime worker for writes by itself.
    match coffer_storage::write(state.store.as_ref(), |t| queue(t, state, &event)) {
        Ok(()) => wake(state),
        Err(e) => tracing::error!(error = %e, "could not queue a service event; dropped"),
    }
}

/// Queues `event` inside the caller's write transaction `t`, so the event is stored if and
/// only if the change it reports is. Call [`wake`] once the transaction has committed.
pub fn queue(
    t: &mut dyn coffer_storage::Txn,
    state: &State,
    event: &ServiceEvent,
) -> Result<(), coffer_storage::StorageError> {
    // Before the body is built: most events go nowhere when no webhook is configured.
    if !wanted(state, event) {
        return Ok(());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    let q = Queued {
        body: envelope(event, &id),
        id,
        source: event.source.to_owned(),
        detail_type: event.detail_type.clone(),
        account: event.account,
        region: event.region.clone(),
        time: event.time,
        trail_pending: event.to_trail,
        pending: state
            .config
            .events
            .webhooks
            .iter()
            .filter(|h| h.wants(event.source))
            .map(|h| Pending {
                url: h.url.clone(),
                attempts: 0,
                next: now,
            })
            .collect(),
    };
    let seq = state
        .events
        .seq
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = format!(
        "{:020}-{seq:020}-{}",
        now.unix_timestamp_nanos().max(0),
        q.id
    );
    put_queued(t, &key, &q)
}

/// Whether `event` goes anywhere: to the audit trail, or to a webhook that takes its source.
fn wanted(state: &State, event: &ServiceEvent) -> bool {
    event.to_trail
        || state
            .config
            .events
            .webhooks
            .iter()
            .any(|h| h.wants(event.source))
}

/// Tells the delivery task that events were queued.
pub fn wake(state: &State) {
    let _ = state.events.tx.try_send(());
}

fn put_queued(
    t: &mut dyn coffer_storage::Txn,
    key: &str,
    q: &Queued,
) -> Result<(), coffer_storage::StorageError> {
    let bytes =
        serde_json::to_vec(q).map_err(|_| coffer_storage::StorageError::corrupt_record("event"))?;
    t.put(OUTBOX, key.as_bytes(), &bytes)
}

/// Changes the queued record `key` with `f`, deleting it once nothing is left to do.
fn update(
    store: &dyn coffer_storage::Storage,
    key: &str,
    f: impl Fn(&mut Queued),
) -> Result<(), coffer_storage::StorageError> {
    coffer_storage::write(store, |t| update_in(t, key, &f))
}

/// [`update`] inside the transaction `t`.
fn update_in(
    t: &mut dyn coffer_storage::Txn,
    key: &str,
    f: &dyn Fn(&mut Queued),
) -> Result<(), coffer_storage::StorageError> {
    let Some(bytes) = t.get(OUTBOX, key.as_bytes())? else {
        return Ok(());
    };
    let Ok(mut q) = serde_json::from_slice::<Queued>(&bytes) else {
        tracing::error!(%key, "unreadable queued event removed");
        t.delete(OUTBOX, key.as_bytes())?;
        return Ok(());
    };
    f(&mut q);
    if !q.trail_pending && q.pending.is_empty() {
        t.delete(OUTBOX, key.as_bytes())?;
        Ok(())
    } else {
        put_queued(t, key, &q)
    }
}

/// Records the outcome of one delivery attempt to `url`: done on success; otherwise
/// retried after a doubling wait, and given up after `ATTEMPTS` attempts.
fn record_attempt(
    store: &dyn coffer_storage::Storage,
    key: &str,
    url: &str,
    delivered: bool,
    now: OffsetDateTime,
) -> Result<(), coffer_storage::StorageError> {
    update(store, key, |q| {
        if delivered {
            q.pending.retain(|p| p.url != url);
            return;
        }
        for p in q.pending.iter_mut().filter(|p| p.url == url) {
            p.attempts += 1;
            let wait = FIRST_BACKOFF * 2u32.saturating_pow(p.attempts.saturating_sub(1));
            p.next = now + wait;
        }
        q.pending.retain(|p| {
            let keep = p.attempts < ATTEMPTS;
            if !keep {
                tracing::warn!(url = %p.url, event = %q.id, "event delivery failed; giving up");
            }
            keep
        });
    })
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

/// Deliveries on this node, by queue key and URL: those under way, and those that ended
/// since the current pass began. A pass works from a page read at its start, which may
/// predate the outcome of a delivery that ended since: starting that delivery again from
/// the page would send the event twice, so it waits for the next pass.
#[derive(Default)]
struct Flights {
    running: std::collections::BTreeSet<String>,
    ended: std::collections::BTreeSet<String>,
}

type InFlight = Arc<Mutex<Flights>>;

/// The delivery task: works through the queue when woken by `publish`, and at least once
/// per `POLL`, so events queued before a restart (or left by a node that died) go out.
/// With several nodes, the one holding the `event-delivery` lease delivers. Delivery is
/// at least once: a receiver deduplicates by `X-Coffer-Event-Id`.
async fn deliver_all(state: Arc<State>, mut rx: mpsc::Receiver<()>) {
    let targets = targets(&state.config.events.webhooks);
    let in_flight = InFlight::default();
    loop {
        if let Err(e) = pass(&state, &targets, &in_flight).await {
            tracing::warn!(error = %e, "event delivery pass failed");
        }
        tokio::select! {
            woken = rx.recv() => {
                if woken.is_none() {
                    tokio::time::sleep(POLL).await;
                }
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass over the queue, page by page: records pending events in the audit trail and
/// starts the webhook deliveries that are due and not already under way.
async fn pass(
    state: &Arc<State>,
    targets: &[Target],
    in_flight: &InFlight,
) -> Result<(), coffer_storage::StorageError> {
    let now = state.clock.now();
    let store = state.store.as_ref();
    // Deliveries that ended before this point have recorded their outcome: the pages
    // read from here on show it.
    if let Ok(mut f) = in_flight.lock() {
        f.ended.clear();
    }
    // The server's storage steps off the runtime worker by itself where it must. The queue
    // is read before the lease is taken: an idle node then writes (and syncs) nothing.
    let mut page = coffer_storage::read(store, |t| t.scan(OUTBOX, b"", None, SCAN))?;
    if page.is_empty()
        || !crate::scheduler::hold_lease(store, &state.node_id, LEASE, LEASE_TTL, now)?
    {
        return Ok(());
    }
    loop {
        let after = page
            .last()
            .map(|(k, _)| k.clone())
            .filter(|_| page.len() == SCAN);
        work_through(state, targets, in_flight, page, now).await?;
        let Some(after) = after else {
            return Ok(());
        };
        page = coffer_storage::read(store, |t| t.scan(OUTBOX, b"", Some(&after), SCAN))?;
    }
}

/// One page of the queue.
async fn work_through(
    state: &Arc<State>,
    targets: &[Target],
    in_flight: &InFlight,
    page: Vec<coffer_storage::Entry>,
    now: OffsetDateTime,
) -> Result<(), coffer_storage::StorageError> {
    let store = state.store.as_ref();
    let mut queued = Vec::with_capacity(page.len());
    for (k, v) in page {
        let key = String::from_utf8_lossy(&k).into_owned();
        match serde_json::from_slice::<Queued>(&v) {
            Ok(q) => queued.push((key, q)),
            // `update` removes a record it cannot read.
            Err(_) => update(store, &key, |_| {})?,
        }
    }
    record_in_trail(state, &queued).await?;
    start_deliveries(state, targets, in_flight, &queued, now)
}

/// Appends the audit records of the events that still need one, sharing one sync, then
/// marks them recorded in one transaction. If the append fails they stay pending and are
/// tried again on the next pass (a failure after part of them was written can record
/// those twice: delivery is at least once).
async fn record_in_trail(
    state: &State,
    queued: &[(String, Queued)],
) -> Result<(), coffer_storage::StorageError> {
    let pending: Vec<&(String, Queued)> = queued.iter().filter(|(_, q)| q.trail_pending).collect();
    if pending.is_empty() {
        return Ok(());
    }
    let records = pending.iter().map(|(_, q)| audit_record(q)).collect();
    if let Err(e) = state.audit.append_all(records).await {
        tracing::error!(error = %e, "could not record service events in the audit trail");
        return Ok(());
    }
    coffer_storage::write(state.store.as_ref(), |t| {
        for (key, _) in &pending {
            update_in(t, key, &|q: &mut Queued| q.trail_pending = false)?;
        }
        Ok(())
    })
}

/// One delivery to make: the event (by queue key and id), its body, and its flight name.
struct Delivery {
    key: String,
    id: String,
    body: Bytes,
    flight: String,
}

/// Starts the page's due deliveries that are not under way: one task per webhook, which
/// sends them in queue order (so a receiver gets the events of one page in the order they
/// happened), while a slow receiver delays no other.
fn start_deliveries(
    state: &Arc<State>,
    targets: &[Target],
    in_flight: &InFlight,
    queued: &[(String, Queued)],
    now: OffsetDateTime,
) -> Result<(), coffer_storage::StorageError> {
    let mut by_target: Vec<(&Target, Vec<Delivery>)> = Vec::new();
    for (key, q) in queued {
        let body = Bytes::from(q.body.to_string());
        for p in q.pending.iter().filter(|p| p.next <= now) {
            let Some(target) = targets.iter().find(|t| t.hook.url == p.url) else {
                // The webhook left the configuration since the event was queued.
                let url = p.url.clone();
                update(state.store.as_ref(), key, |q| {
                    q.pending.retain(|x| x.url != url)
                })?;
                continue;
            };
            let flight = format!("{key} {}", p.url);
            let fresh = in_flight
                .lock()
                .map(|mut f| !f.ended.contains(&flight) && f.running.insert(flight.clone()))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let d = Delivery {
                key: key.clone(),
                id: q.id.clone(),
                body: body.clone(),
                flight,
            };
            match by_target.iter_mut().find(|(t, _)| t.hook.url == p.url) {
                Some((_, list)) => list.push(d),
                None => by_target.push((target, vec![d])),
            }
        }
    }
    for (target, list) in by_target {
        let (st, target, flights) = (state.clone(), target.clone(), in_flight.clone());
        tokio::spawn(async move {
            for d in list {
                let ok = attempt(&target, &d.id, d.body, &st.clock).await;
                let now = st.clock.now();
                let r = record_attempt(st.store.as_ref(), &d.key, &target.hook.url, ok, now);
                if let Err(e) = r {
                    tracing::warn!(error = %e, "could not record an event delivery");
                }
                if let Ok(mut f) = flights.lock() {
                    f.running.remove(&d.flight);
                    f.ended.insert(d.flight);
                }
            }
        });
    }
    Ok(())
}

/// The CloudTrail record of an event: an `AwsServiceEvent` by the service itself, the
/// EventBridge event as its `serviceEventDetails`-like payload in `responseElements`.
fn audit_record(e: &Queued) -> AuditEvent {
    let service = format!("{}.amazonaws.com", e.source.trim_start_matches("aws."));
    let name = e.detail_type.replace(' ', "");
    AuditEvent::service_event(&service, &name, &e.region, e.account, e.time)
        .with_response(e.body.clone())
}

/// One delivery attempt of one event to one webhook; true if the receiver accepted it.
async fn attempt(
    target: &Target,
    id: &str,
    body: Bytes,
    clock: &coffer_types::SharedClock,
) -> bool {
    let url = &target.hook.url;
    let timestamp = clock.now().unix_timestamp().to_string();
    let sent = match request(&target.hook, id, &timestamp, body) {
        Ok(req) => crate::outbound::send(req, target.tls.clone(), TIMEOUT).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(status) if status.is_success() => true,
        Ok(status) => {
            tracing::debug!(%url, %status, "event delivery refused");
            false
        }
        Err(e) => {
            tracing::debug!(%url, error = %e, "event delivery failed");
            false
        }
    }
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

    fn queued(url: &str, now: OffsetDateTime) -> Queued {
        Queued {
            id: "id".into(),
            source: "aws.ssm".into(),
            detail_type: "Parameter Store Change".into(),
            account: "111122223333".parse().unwrap(),
            region: "us-east-1".into(),
            time: now,
            body: json!({}),
            trail_pending: false,
            pending: vec![Pending {
                url: url.into(),
                attempts: 0,
                next: now,
            }],
        }
    }

    fn stored(store: &dyn coffer_storage::Storage, key: &str) -> Option<Queued> {
        coffer_storage::read(store, |t| t.get(OUTBOX, key.as_bytes()))
            .unwrap()
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    /// Attempts and their bookkeeping in the durable queue: a failure is retried after a
    /// doubling wait, success removes the event, and after `ATTEMPTS` failures it is
    /// given up.
    #[tokio::test]
    async fn failed_deliveries_are_retried_then_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let body = Bytes::from_static(b"{}");
        let (url, seen) = receiver(vec![500, 503, 200]).await;
        let key = "k1";
        coffer_storage::write(store.as_ref(), |t| put_queued(t, key, &queued(&url, now))).unwrap();
        let target = plain(url.clone());
        let mut t = now;
        for i in 1..=3u32 {
            let ok = attempt(&target, "id", body.clone(), &clock()).await;
            assert_eq!(ok, i == 3);
            record_attempt(store.as_ref(), key, &url, ok, t).unwrap();
            if let Some(q) = stored(store.as_ref(), key) {
                let wait = FIRST_BACKOFF * 2u32.pow(i - 1);
                assert_eq!(q.pending[0].attempts, i);
                assert_eq!(q.pending[0].next, t + wait);
            }
            t += time::Duration::seconds(10);
        }
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert!(stored(store.as_ref(), key).is_none(), "delivered: removed");

        let (url, seen) = receiver(vec![500; ATTEMPTS as usize]).await;
        coffer_storage::write(store.as_ref(), |t| put_queued(t, "k2", &queued(&url, now))).unwrap();
        let target = plain(url.clone());
        for _ in 0..ATTEMPTS {
            assert!(stored(store.as_ref(), "k2").is_some());
            let ok = attempt(&target, "id", body.clone(), &clock()).await;
            record_attempt(store.as_ref(), "k2", &url, ok, now).unwrap();
        }
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::SeqCst),
            ATTEMPTS as usize
        );
        assert!(stored(store.as_ref(), "k2").is_none(), "given up: removed");
    }

    /// A local CA and an HTTPS receiver with a certificate it issued for 127.0.0.1; the
    /// receiver answers 200 to each request and counts them.
    async fn tls_receiver(
        dir: &std::path::Path,
    ) -> (String, PathBuf, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let material = crate::test_support::tls_material(dir, now);
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
        assert!(attempt(&target, "id", body.clone(), &clock()).await);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another CA's certificate is refused: the handshake fails, nothing is delivered.
        let other = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let m = crate::test_support::tls_material(other.path(), now);
        let mut h = hook(url, None);
        h.ca_file = Some(m.ca_cert_path().unwrap().to_path_buf());
        let target = Target {
            tls: h.tls().unwrap(),
            hook: h,
        };
        assert!(!attempt(&target, "id", body, &clock()).await);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// One pass works through the whole queue, however long, and a second pass right
    /// after it may run too: the lease has no period. Trail records of a page share a sync.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pass_records_the_whole_queue_and_passes_may_follow_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::test_support::state(dir.path());
        let event = |n: usize| ServiceEvent {
            source: "aws.ssm",
            detail_type: "Parameter Store Change".into(),
            account: "111122223333".parse().unwrap(),
            region: "us-east-1".into(),
            time: state.clock.now(),
            resources: vec![],
            detail: json!({ "name": format!("/p/{n}") }),
            to_trail: true,
        };
        let queue_some = |from: usize, n: usize| {
            coffer_storage::write(state.store.as_ref(), |t| {
                (from..from + n).try_for_each(|i| queue(t, &state, &event(i)))
            })
            .unwrap();
        };
        let queued = || {
            coffer_storage::read(state.store.as_ref(), |t| t.scan(OUTBOX, b"", None, 10_000))
                .unwrap()
                .len()
        };
        let before = state.audit.last_seq();
        queue_some(0, SCAN * 2 + 50);
        assert_eq!(queued(), SCAN * 2 + 50);
        let in_flight = InFlight::default();
        pass(&state, &[], &in_flight).await.unwrap();
        assert_eq!(queued(), 0, "one pass empties the queue");
        assert_eq!(state.audit.last_seq() - before, (SCAN * 2 + 50) as u64);
        queue_some(1000, 3);
        pass(&state, &[], &in_flight).await.unwrap();
        assert_eq!(
            queued(),
            0,
            "the next pass runs at once, at the same instant"
        );
        assert_eq!(state.audit.last_seq() - before, (SCAN * 2 + 53) as u64);
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
