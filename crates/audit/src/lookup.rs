//! CloudTrail `LookupEvents` over the log: filters, newest-first paging with
//! authenticated next tokens, and the API's output shape.

use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::format::{self, parse_record};
use crate::log::{AuditLog, IndexEntry, read_index};
use crate::verify::{Problem, VerifyFailure, file_name};
use coffer_crypto::{constant_time_eq, hmac_sha256, sha256};
use coffer_types::AccountId;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::str::FromStr;
use time::OffsetDateTime;

/// `LookupAttributes[].AttributeKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventId => "EventId",
            Self::EventName => "EventName",
            Self::ReadOnly => "ReadOnly",
            Self::Username => "Username",
            Self::ResourceType => "ResourceType",
            Self::ResourceName => "ResourceName",
            Self::EventSource => "EventSource",
            Self::AccessKeyId => "AccessKeyId",
        }
    }

    const ALL: [LookupKey; 8] = [
        Self::EventId,
        Self::EventName,
        Self::ReadOnly,
        Self::Username,
        Self::ResourceType,
        Self::ResourceName,
        Self::EventSource,
        Self::AccessKeyId,
    ];

    /// Whether `event` has this attribute equal to `value` (exact match, as CloudTrail).
    fn matches(self, event: &AuditEvent, value: &str) -> bool {
        match self {
            Self::EventId => event.event_id == value,
            Self::EventName => event.event_name == value,
            Self::ReadOnly => value == if event.read_only { "true" } else { "false" },
            Self::Username => event.username().as_deref() == Some(value),
            Self::ResourceType => event.resources.iter().any(|r| r.kind == value),
            Self::ResourceName => event.resources.iter().any(|r| r.arn == value),
            Self::EventSource => event.event_source == value,
            Self::AccessKeyId => event.user_identity.access_key_id.as_deref() == Some(value),
        }
    }
}

impl FromStr for LookupKey {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, AuditError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                AuditError::InvalidLookupAttributes(format!("unknown attribute key {s}"))
            })
    }
}

/// A `LookupEvents` request. Times are inclusive; `account` restricts the result to events
/// delivered to that account (one deployment hosts many).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupQuery {
    pub attribute: Option<(LookupKey, String)>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    /// 1 to 50.
    pub max_results: usize,
    pub next_token: Option<String>,
    pub account: Option<AccountId>,
}

impl LookupQuery {
    pub const DEFAULT_MAX_RESULTS: usize = 50;
}

impl Default for LookupQuery {
    fn default() -> Self {
        Self {
            attribute: None,
            start: None,
            end: None,
            max_results: Self::DEFAULT_MAX_RESULTS,
            next_token: None,
            account: None,
        }
    }
}

/// A record as read back: its position in the chain, the event, and the event JSON exactly
/// as stored (what `CloudTrailEvent` returns).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: u64,
    pub event: AuditEvent,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LookupPage {
    /// Newest first.
    pub events: Vec<StoredEvent>,
    pub next_token: Option<String>,
}

/// How many index entries a lookup copies per lock acquisition, so a long scan never
/// holds up the writer publishing new records.
const CHUNK: usize = 512;
const TOKEN_DOMAIN: &[u8] = b"coffer-audit-token-v1";

impl LookupQuery {
    fn validate(&self) -> Result<(), AuditError> {
        if !(1..=Self::DEFAULT_MAX_RESULTS).contains(&self.max_results) {
            return Err(AuditError::InvalidMaxResults);
        }
        if let (Some(s), Some(e)) = (self.start, self.end)
            && s > e
        {
            return Err(AuditError::InvalidTimeRange);
        }
        Ok(())
    }

    /// Binds a next token to the filters it was issued for, as CloudTrail rejects a token
    /// replayed with different parameters.
    fn fingerprint(&self) -> [u8; 32] {
        let attr = self
            .attribute
            .as_ref()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let times = (
            self.start.map(|t| t.unix_timestamp()),
            self.end.map(|t| t.unix_timestamp()),
        );
        let account = self.account.map(|a| a.to_string());
        let canonical = serde_json::to_vec(&(attr, times, account)).unwrap_or_default();
        sha256(&canonical)
    }

    /// The filters answerable from the index alone, checked before reading a record.
    fn admits(&self, e: &IndexEntry) -> bool {
        let after_start = self.start.is_none_or(|s| e.time >= s.unix_timestamp());
        let before_end = self.end.is_none_or(|t| e.time <= t.unix_timestamp());
        let account = self.account.is_none_or(|a| e.account == Some(a));
        after_start && before_end && account
    }

    fn matches(&self, event: &AuditEvent) -> bool {
        self.attribute
            .as_ref()
            .is_none_or(|(k, v)| k.matches(event, v))
    }
}

impl AuditLog {
    /// Runs a `LookupEvents` query over the durable records, newest (highest seq) first.
    /// It reads segment files; called from a runtime worker, the worker's other tasks move
    /// to another thread meanwhile.
    pub fn lookup(&self, q: &LookupQuery) -> Result<LookupPage, AuditError> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| self.lookup_now(q)),
            _ => self.lookup_now(q),
        }
    }

    fn lookup_now(&self, q: &LookupQuery) -> Result<LookupPage, AuditError> {
        q.validate()?;
        let fingerprint = q.fingerprint();
        let mut below = match &q.next_token {
            Some(t) => self.open_token(t, &fingerprint)?,
            None => u64::MAX,
        };
        let mut reader = Reader {
            log: self,
            files: HashMap::new(),
        };
        let mut events: Vec<StoredEvent> = Vec::new();
        loop {
            let chunk = self.index_chunk(below);
            let Some(&(lowest, _)) = chunk.last() else {
                return Ok(LookupPage {
                    events,
                    next_token: None,
                });
            };
            for (seq, entry) in chunk.into_iter().filter(|(_, e)| q.admits(e)) {
                let stored = reader.read(seq, &entry)?;
                if !q.matches(&stored.event) {
                    continue;
                }
                if let Some(last) = events.last().filter(|_| events.len() == q.max_results) {
                    let next_token = Some(self.seal_token(last.seq, &fingerprint));
                    return Ok(LookupPage { events, next_token });
                }
                events.push(stored);
            }
            below = lowest;
        }
    }

    /// Up to [`CHUNK`] index entries with seq below `below`, highest first.
    fn index_chunk(&self, below: u64) -> Vec<(u64, IndexEntry)> {
        let index = read_index(&self.shared);
        let top = (index.entries.len() as u64).min(below.saturating_sub(1));
        let bottom = top.saturating_sub(CHUNK as u64);
        (bottom + 1..=top)
            .rev()
            .filter_map(|seq| Some((seq, *index.entries.get(seq as usize - 1)?)))
            .collect()
    }

    fn segment_path(&self, segment: u32) -> Option<std::path::PathBuf> {
        read_index(&self.shared)
            .segments
            .get(segment as usize)
            .cloned()
    }

    fn token_mac(&self, seq: u64, fingerprint: &[u8; 32]) -> [u8; 32] {
        let mut msg = TOKEN_DOMAIN.to_vec();
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.extend_from_slice(fingerprint);
        hmac_sha256(self.token_key.expose(), &msg)
    }

    /// A token is the cursor (the last seq returned) and a truncated MAC over it and the
    /// query, in hex.
    fn seal_token(&self, seq: u64, fingerprint: &[u8; 32]) -> String {
        let mac = self.token_mac(seq, fingerprint);
        format!(
            "{}{}",
            format::hex(&seq.to_be_bytes()),
            format::hex(&mac[..16])
        )
    }

    fn open_token(&self, token: &str, fingerprint: &[u8; 32]) -> Result<u64, AuditError> {
        let bytes = token.as_bytes();
        if bytes.len() != 48 {
            return Err(AuditError::InvalidNextToken);
        }
        let seq = format::unhex::<8>(&bytes[..16])
            .map(u64::from_be_bytes)
            .ok_or(AuditError::InvalidNextToken)?;
        let mac = format::unhex::<16>(&bytes[16..]).ok_or(AuditError::InvalidNextToken)?;
        if !constant_time_eq(&mac, &self.token_mac(seq, fingerprint)[..16]) {
            return Err(AuditError::InvalidNextToken);
        }
        Ok(seq)
    }
}

/// Reads records by position, keeping each segment open for the rest of the lookup.
struct Reader<'a> {
    log: &'a AuditLog,
    files: HashMap<u32, File>,
}

impl Reader<'_> {
    /// Reads and re-authenticates one record: a record edited since open is reported,
    /// never served.
    fn read(&mut self, seq: u64, e: &IndexEntry) -> Result<StoredEvent, AuditError> {
        let path = self.log.segment_path(e.segment).unwrap_or_default();
        let corrupt = |problem: Problem| {
            AuditError::Corrupt(Box::new(VerifyFailure {
                file: file_name(&path),
                line: 0,
                seq: Some(seq),
                problem,
            }))
        };
        let file = match self.files.entry(e.segment) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(File::open(&path).map_err(AuditError::io("opening a segment for lookup"))?)
            }
        };
        let mut buf = vec![0; e.len as usize];
        file.read_exact_at(&mut buf, e.offset)
            .map_err(AuditError::io("reading a record"))?;
        let rec = parse_record(&buf).map_err(|_| corrupt(Problem::HashMismatch))?;
        if rec.seq != seq {
            return Err(corrupt(Problem::OutOfOrder {
                expected: seq,
                found: rec.seq,
            }));
        }
        let raw = String::from_utf8(rec.event.to_vec())
            .map_err(|e| corrupt(Problem::Malformed(e.to_string())))?;
        let event =
            serde_json::from_str(&raw).map_err(|e| corrupt(Problem::Malformed(e.to_string())))?;
        Ok(StoredEvent { seq, event, raw })
    }
}

/// One item of `LookupEvents`' `Events`, as the awsJson1.1 protocol sends it: `ReadOnly` is
/// the string `"true"`/`"false"`, `EventTime` is epoch seconds, `CloudTrailEvent` is the
/// record as a JSON string.
pub fn lookup_event_item(stored: &StoredEvent) -> Value {
    let ev = &stored.event;
    let mut item = Map::new();
    item.insert("EventId".into(), json!(ev.event_id));
    item.insert("EventName".into(), json!(ev.event_name));
    item.insert(
        "ReadOnly".into(),
        json!(if ev.read_only { "true" } else { "false" }),
    );
    if let Some(key) = &ev.user_identity.access_key_id {
        item.insert("AccessKeyId".into(), json!(key));
    }
    item.insert("EventTime".into(), json!(ev.event_time.unix_timestamp()));
    item.insert("EventSource".into(), json!(ev.event_source));
    if let Some(name) = ev.username() {
        item.insert("Username".into(), json!(name));
    }
    let resources: Vec<Value> = ev
        .resources
        .iter()
        .map(|r| json!({"ResourceType": r.kind, "ResourceName": r.arn}))
        .collect();
    item.insert("Resources".into(), Value::Array(resources));
    item.insert("CloudTrailEvent".into(), json!(stored.raw));
    Value::Object(item)
}

/// The whole `LookupEvents` response body.
pub fn lookup_events_output(page: &LookupPage) -> Value {
    let mut out = Map::new();
    out.insert(
        "Events".into(),
        Value::Array(page.events.iter().map(lookup_event_item).collect()),
    );
    if let Some(t) = &page.next_token {
        out.insert("NextToken".into(), json!(t));
    }
    Value::Object(out)
}
