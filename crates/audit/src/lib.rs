//! CloudTrail-shaped audit events in a hash-chained, group-committed, verifiable log.
//!
//! Every request coffer serves becomes an [`AuditEvent`] (CloudTrail's record shape),
//! appended to an [`AuditLog`] before the response is sent. [`AuditLog::append`] returns
//! only once the record is synced, so an acknowledged request is never missing from the
//! trail; concurrent appends share one sync (group commit). [`AuditLog::lookup`] serves
//! CloudTrail `LookupEvents`, and [`verify`] checks a log directory offline.
//!
//! # On-disk format (version 1)
//!
//! **This format may never change incompatibly**: logs written today must verify with
//! every later release. Extend it only in ways old verifiers reject loudly (a new line
//! shape), never by reinterpreting existing bytes.
//!
//! A log is a directory holding:
//!
//! * `segment-<first seq, 20 digits>.jsonl`: the records, in order, one per line, each
//!   line ending in `\n`. A new segment starts when the current one would exceed the size
//!   limit (64 MiB by default); the chain continues across segments unbroken.
//! * `digests.jsonl`: signed statements of the chain head, one per line.
//! * `LOCK`: an advisory lock file held by the one process writing the log.
//!
//! A record line is exactly (no whitespace; seq canonical decimal from 1; hashes 64
//! lower-case hex digits):
//!
//! ```text
//! {"seq":<N>,"prev":"<hash of record N-1>","event":<CloudTrail event JSON>,"hash":"<H>"}
//! ```
//!
//! where `H` is SHA-256 over the line's bytes up to and excluding `,"hash":"`, and `prev`
//! of record 1 is 64 zeros. The hash thus covers the bytes as written, including `seq` and
//! `prev`: editing any byte of a record breaks that record's hash, removing or reordering
//! records breaks the `seq` sequence and the `prev` links. The event JSON never contains a
//! raw newline (JSON escapes it). Every line is also valid JSON.
//!
//! A digest line is the JSON object
//! `{"digestSeq","headSeq","headHash","segment","time","prevDigest","mac"}` in that order:
//! digest number (from 1), the seq and hash of the newest record at the time, the segment
//! holding it, when it was written (RFC 3339, UTC), the SHA-256 of the previous digest
//! line without its `\n` (zeros for the first), and HMAC-SHA256 under the log key (or
//! `null` when the log has no key) over
//! `"coffer-audit-digest-v1\n{digestSeq}\n{headSeq}\n{headHash}\n{segment}\n{time}\n{prevDigest}"`.
//! A digest is written every N records, at each segment rotation and at clean shutdown,
//! always after the records it covers are synced. Someone able to rewrite the files can
//! recompute every record hash, but without the key cannot sign a digest for the new head,
//! and a truncated log no longer contains a head its digests vouch for.
//!
//! A crash can leave an unterminated final line (or zero-filled space) at the end of the
//! newest segment or of the digest file, and in the segment possibly whole records after
//! zero-filled space (pages of one sync reach the disk in any order). From the first such
//! line on nothing was acknowledged, and it is cut off when the log is next opened, unless
//! a digest vouches for a record there: that is damage, which opening reports instead.

mod error;
mod event;
mod format;
mod json;
mod log;
mod lookup;
mod stats;
mod verify;

pub use error::AuditError;
pub use event::{
    AuditEvent, DEFAULT_REDACTED_FIELDS, EVENT_VERSION, FailedAuthentication, HIDDEN, Resource,
    SessionAttributes, SessionContext, SessionIssuer, TlsDetails, UserIdentity, random_uuid,
    redact, redact_event,
};
pub use log::{
    AuditLog, AuditOptions, DEFAULT_GATHER, MAX_EVENT_BYTES, PREALLOCATE_BYTES, Underway,
};
pub use lookup::{
    LookupKey, LookupPage, LookupQuery, StoredEvent, lookup_event_item, lookup_events_output,
};
pub use stats::CommitStats;
pub use verify::{Problem, VerifyFailure, VerifyReport, verify};

#[cfg(test)]
mod tests;
