//! The open log: one writer thread doing group commit, and an in-memory index for lookups.

use crate::error::AuditError;
use crate::event::{AuditEvent, DEFAULT_REDACTED_FIELDS, event_time, redact_event};
use crate::format::{self, DIGEST_FILE, Digest, LOCK_FILE, ZERO_HASH, append_record, record_len};
use crate::stats::{CommitStats, Counters};
use crate::verify::{self, Lines, Problem, Scan, Segment, Visit};
use coffer_crypto::{SecretKey, hmac_sha256, sha256};
use coffer_types::{AccountId, SharedClock};
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::num::NonZeroU64;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// Events larger than this are refused rather than written: the index stores lengths in
/// 32 bits and no legitimate request produces an event near this size.
pub const MAX_EVENT_BYTES: usize = 4 << 20;

/// See [`AuditOptions::gather`]: about the time one fsync takes on a fast local disk.
pub const DEFAULT_GATHER: Duration = Duration::from_micros(200);

/// The active segment is extended with written zeros this far ahead of its records.
///
/// Appending to a file changes its size and allocates blocks, so a data sync after an
/// append writes the inode and allocation metadata as well as the records (and on ext4
/// with a journal, commits it). A record written over zeros already on disk changes no
/// metadata, so its sync only writes the data: measured here, 3 device writes and about
/// 60 us of CPU per append+fdatasync against 2 writes and 40 us per overwrite+fdatasync.
/// The size changes once per this many bytes of records instead of once per group commit.
/// The zeros past the last record are cut off when a segment is closed, and by crash
/// recovery (see `trim_torn_tail`); `verify` reads them as unwritten space.
pub const PREALLOCATE_BYTES: u64 = 1 << 20;

/// The zeros are written this much at a time. The page cache sizes its folios by the
/// write, so one 1 MiB write asks for 1 MiB folios; on a VM that hands free memory back to
/// its host (these machines do), such large blocks mostly come from memory the host must
/// fault in again. Filling a fresh 2 GB file ran at 520-670 MB/s with 1 MiB writes and at
/// 810-4,200 MB/s with 16 KiB writes (the more recently freed the memory, the faster).
/// Written 1 MiB at a time, the zeros cost the server more CPU than the syncs they spared.
const ZERO_CHUNK: usize = 16 << 10;
static ZEROS: [u8; ZERO_CHUNK] = [0; ZERO_CHUNK];

/// Synced records leave the page cache this many bytes at a time.
///
/// The log is written once and read rarely (lookups, verification at open), so a page of
/// records is of no further use in memory once it is on disk; left there, the cache grows
/// by every byte the log writes (70-90 MB/s at full load), pushing out pages that are read,
/// and every new page of the log is memory the kernel must find afresh. Handed back at
/// once, the pages are reused for the next records. Measured on these VMs, GetSecretValue
/// (two records of about 1.1 KB per call) at concurrency 64: 41,800-42,800 req/s and
/// 27 us of server CPU per call with this, against 34,200-36,800 req/s and 30-31 us
/// without, in alternating runs.
const DROP_CACHE_BYTES: u64 = 256 << 10;

/// A batch buffer of up to this capacity is kept for the next group commit. A fresh
/// buffer for every group was fresh memory for every group: page faults, and on these
/// VMs huge pages zeroed each time, in the writer between two syncs.
const KEEP_BUFFER_BYTES: usize = 1 << 20;

/// Tuning for [`AuditLog::open_with`].
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// A segment is closed and a new one started before it would exceed this size.
    pub segment_max_bytes: u64,
    /// A signed digest is written at least every this many records.
    pub digest_every: u64,
    /// A group commit takes no further appends once it holds this many records (one
    /// caller's records are never split across groups).
    pub max_batch: usize,
    /// While records announced by [`AuditLog::underway`] are still to come, the writer
    /// waits up to this long after the first record of a group before taking the group,
    /// so that concurrent appends share a sync instead of each paying for one. It stops
    /// waiting as soon as every announced record is queued: the callers at work then have
    /// nothing more to add, and waiting would only leave the CPU idle. With nothing
    /// announced (a lone client, background appends) it does not wait at all.
    pub gather: Duration,
    /// Fields redacted from request parameters and response elements before writing.
    pub redact_fields: Vec<String>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            segment_max_bytes: 64 << 20,
            digest_every: 1000,
            max_batch: 4096,
            gather: DEFAULT_GATHER,
            redact_fields: DEFAULT_REDACTED_FIELDS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// Where a durable record lives and what lookups filter on before reading it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexEntry {
    pub segment: u32,
    pub len: u32,
    pub offset: u64,
    pub time: i64,
    pub account: Option<AccountId>,
}

/// Acknowledged records only: `entries[i]` is the record with seq `i + 1`.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub segments: Vec<PathBuf>,
    pub entries: Vec<IndexEntry>,
}

/// The two event fields the index keeps; the rest is skipped while parsing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexFields {
    #[serde(with = "event_time")]
    event_time: OffsetDateTime,
    #[serde(default)]
    recipient_account_id: Option<AccountId>,
}

impl Index {
    fn push_visit(&mut self, v: &Visit<'_>) -> Result<(), Problem> {
        let expected = self.entries.len() as u64 + 1;
        if v.seq != expected {
            return Err(Problem::OutOfOrder {
                expected,
                found: v.seq,
            });
        }
        let fields: IndexFields = serde_json::from_slice(v.event).map_err(|e| {
            Problem::Malformed(format!(
                "event lacks a valid eventTime or recipientAccountId: {e}"
            ))
        })?;
        let entry = IndexEntry {
            segment: u32::try_from(v.segment)
                .map_err(|_| Problem::Malformed("too many segments".into()))?,
            len: u32::try_from(v.len).map_err(|_| Problem::Malformed("record too long".into()))?,
            offset: v.offset,
            time: fields.event_time.unix_timestamp(),
            account: fields.recipient_account_id,
        };
        self.entries.push(entry);
        Ok(())
    }
}

/// State shared between the handle and the writer thread.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub index: RwLock<Index>,
    pub failed: AtomicBool,
    pub closed: AtomicBool,
    /// Records announced by [`AuditLog::underway`] and not yet queued.
    pub underway: AtomicUsize,
    /// The writer thread, woken when the last announced record is queued.
    pub writer: OnceLock<std::thread::Thread>,
    /// The group commit's histograms, for metrics.
    pub stats: Counters,
    #[cfg(test)]
    pub fail_sync: AtomicBool,
}

enum Msg {
    Append(Pending),
    Close(Closer),
}

/// Where the outcome of a close is reported.
type Closer = oneshot::Sender<Result<(), AuditError>>;

/// One caller's records: written in order, next to each other, and acknowledged with one
/// answer (a call and the calls a service made on its behalf share one wake-up).
struct Pending {
    records: Vec<Record>,
    /// When the caller handed the records over, for [`Counters::group`].
    queued: Instant,
    /// Told the sequence number of the last record once all of them are durable.
    reply: oneshot::Sender<Result<u64, AuditError>>,
}

struct Record {
    /// Serialized by the appending task, so the single writer only links and hashes.
    event_json: Vec<u8>,
    time: i64,
    account: Option<AccountId>,
}

/// An open audit log. Appends are durable when they return; lookups see only durable
/// records. Dropping the handle lets the writer finish queued appends and write a final
/// digest in the background; [`AuditLog::close`] does the same and waits for it.
#[derive(Debug)]
pub struct AuditLog {
    pub(crate) dir: PathBuf,
    tx: mpsc::Sender<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) token_key: SecretKey,
    redact_fields: Vec<String>,
    recovered_bytes: u64,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Append(_) => "Append",
            Msg::Close(_) => "Close",
        })
    }
}

impl AuditLog {
    /// Opens (or creates) the log in `dir` with default options. See [`AuditLog::open_with`].
    pub fn open(
        dir: impl AsRef<Path>,
        hmac_key: Option<SecretKey>,
        clock: SharedClock,
    ) -> Result<Self, AuditError> {
        Self::open_with(dir, hmac_key, clock, AuditOptions::default())
    }

    /// Opens (or creates) the log in `dir`: cuts off a torn tail left by a crash (it was
    /// never acknowledged), verifies the whole log with `hmac_key`, builds the lookup index
    /// and resumes the chain. A log that does not verify is refused with
    /// [`AuditError::Corrupt`]: appending to it would bury the evidence.
    pub fn open_with(
        dir: impl AsRef<Path>,
        hmac_key: Option<SecretKey>,
        clock: SharedClock,
        opts: AuditOptions,
    ) -> Result<Self, AuditError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(AuditError::io("creating the log directory"))?;
        let lock = lock_dir(&dir)?;
        let recovered_bytes = recover_torn_tails(&dir)?;
        let mut index = Index::default();
        let scan = verify::scan(&dir, hmac_key.as_ref(), &mut |v| index.push_visit(v));
        if let Some(failure) = scan.report.failure.clone() {
            return Err(AuditError::Corrupt(Box::new(failure)));
        }
        index.segments = scan.segments.iter().map(|s| s.path.clone()).collect();
        let token_key = token_key(hmac_key.as_ref());
        let shared = Arc::new(Shared {
            index: RwLock::new(index),
            ..Shared::default()
        });
        let writer = Writer::resume(
            &dir,
            scan,
            lock,
            hmac_key,
            clock,
            &opts,
            Arc::clone(&shared),
        )?;
        let (tx, rx) = mpsc::channel(opts.max_batch.max(1) * 2);
        let thread = std::thread::Builder::new()
            .name("coffer-audit-writer".to_owned())
            .spawn(move || writer.run(rx))
            .map_err(AuditError::io("starting the writer thread"))?;
        let _ = shared.writer.set(thread.thread().clone());
        Ok(Self {
            dir,
            tx,
            shared,
            token_key,
            redact_fields: opts.redact_fields,
            recovered_bytes,
        })
    }

    /// Appends `event` and returns its sequence number once the record is written and
    /// synced to disk. Concurrent appends share one sync. Any error means the record may
    /// not be durable and the audited request must fail.
    pub async fn append(&self, event: AuditEvent) -> Result<u64, AuditError> {
        self.append_all(vec![event]).await
    }

    /// Announces that the caller will append soon (a request is being served), so that a
    /// gathering writer waits for its record rather than committing without it. The
    /// announcement ends when the returned value is dropped or handed to
    /// [`AuditLog::append_all_underway`] with the records.
    pub fn underway(&self) -> Underway {
        self.shared.underway.fetch_add(1, Ordering::AcqRel);
        Underway {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Redacts and serializes `event` for the writer.
    fn record(&self, mut event: AuditEvent) -> Result<Record, AuditError> {
        redact_event(&mut event, &self.redact_fields);
        // Room for a typical record (770 bytes for GetCallerIdentity, 1.1 KB for each of
        // GetSecretValue's two), so serializing rarely regrows the buffer.
        let mut event_json = Vec::with_capacity(2048);
        event.write_json(&mut event_json)?;
        if event_json.len() > MAX_EVENT_BYTES {
            return Err(AuditError::EventTooLarge(event_json.len()));
        }
        Ok(Record {
            event_json,
            time: event.event_time.unix_timestamp(),
            account: event.recipient_account_id,
        })
    }

    /// Appends several events, in order and next to each other, sharing one sync; returns
    /// the sequence number of the last (0 for none). Used for a call and the calls a
    /// service made on its behalf.
    pub async fn append_all(&self, events: Vec<AuditEvent>) -> Result<u64, AuditError> {
        if events.is_empty() {
            return Ok(0);
        }
        self.check_usable()?;
        // Not collected in place: the events' allocation would be reused and then shrunk
        // to fit the smaller records, a reallocation per call.
        let mut records = Vec::with_capacity(events.len());
        for e in events {
            records.push(self.record(e)?);
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Append(Pending {
                records,
                queued: Instant::now(),
                reply,
            }))
            .await
            .map_err(|_| self.gone())?;
        rx.await.map_err(|_| self.gone())?
    }

    /// [`AuditLog::append_all`] for the caller that announced these records. The
    /// announcement ends as they are handed to the writer, just before: a writer that has
    /// this caller's record already must not park to wait for it (a lone client would pay
    /// a wake-up per request), and the writer, if it was waiting, wakes only after the
    /// records are in its queue in all but the rarest interleaving, which costs one sync.
    pub async fn append_all_underway(
        &self,
        events: Vec<AuditEvent>,
        underway: Underway,
    ) -> Result<u64, AuditError> {
        drop(underway);
        self.append_all(events).await
    }

    /// Finishes queued appends, writes a final digest, releases the directory and waits
    /// for all of it. Later appends fail with [`AuditError::Closed`].
    pub async fn close(&self) -> Result<(), AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Close(reply))
            .await
            .map_err(|_| self.gone())?;
        rx.await.map_err(|_| self.gone())?
    }

    /// The group commit's histograms so far (records per group, the first caller's wait
    /// for the writer, the write and sync).
    pub fn commit_stats(&self) -> CommitStats {
        self.shared.stats.snapshot()
    }

    /// The sequence number of the newest durable record (0 when empty).
    pub fn last_seq(&self) -> u64 {
        read_index(&self.shared).entries.len() as u64
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes of torn tail cut off at open (non-zero after a crash mid-write).
    pub fn recovered_bytes(&self) -> u64 {
        self.recovered_bytes
    }

    fn check_usable(&self) -> Result<(), AuditError> {
        if self.shared.failed.load(Ordering::Acquire) {
            return Err(AuditError::Failed);
        }
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(AuditError::Closed);
        }
        Ok(())
    }

    /// The writer went away: it failed, or it was closed.
    fn gone(&self) -> AuditError {
        if self.shared.failed.load(Ordering::Acquire) {
            AuditError::Failed
        } else {
            AuditError::Closed
        }
    }

    #[cfg(test)]
    pub(crate) fn inject_sync_failure(&self) {
        self.shared.fail_sync.store(true, Ordering::SeqCst);
    }
}

/// An announced append (see [`AuditLog::underway`]); dropping it ends the announcement.
#[derive(Debug)]
pub struct Underway {
    shared: Arc<Shared>,
}

impl Drop for Underway {
    fn drop(&mut self) {
        if self.shared.underway.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(writer) = self.shared.writer.get()
        {
            // Cheap when the writer is not parked: no system call then.
            writer.unpark();
        }
    }
}

pub(crate) fn read_index(shared: &Shared) -> std::sync::RwLockReadGuard<'_, Index> {
    shared.index.read().unwrap_or_else(|p| p.into_inner())
}

/// Next tokens are MACed so that clients cannot forge cursors; deriving the key from the
/// log key keeps tokens valid across restarts.
fn token_key(hmac_key: Option<&SecretKey>) -> SecretKey {
    match hmac_key {
        Some(k) => SecretKey::from_bytes(hmac_sha256(k.expose(), b"coffer-audit next-token v1")),
        None => SecretKey::generate(),
    }
}

/// One writer per directory, across processes: two would interleave chains.
fn lock_dir(dir: &Path) -> Result<File, AuditError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(AuditError::io("opening the lock file"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AuditError::Locked(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(AuditError::io("locking the log directory")(e)),
    }
}

fn recover_torn_tails(dir: &Path) -> Result<u64, AuditError> {
    let segments = verify::list_segments(dir).map_err(|f| AuditError::Corrupt(Box::new(f)))?;
    let digests = dir.join(DIGEST_FILE);
    let mut removed = trim_torn_tail(&digests, |_| true)?;
    if let Some(last) = segments.last() {
        let vouched = vouched_head(&digests)?;
        // What stays must still hold every record a digest vouches for.
        let keeps_vouched = |kept: &[u8]| {
            let kept_head = Lines::new(kept)
                .last()
                .and_then(|l| format::peek_seq(l.bytes))
                .unwrap_or(last.first_seq.saturating_sub(1));
            kept_head >= vouched
        };
        removed += trim_torn_tail(&last.path, keeps_vouched)?;
    }
    Ok(removed)
}

/// The newest record the digest file vouches for (0 with no digest). An unreadable last
/// digest vouches for everything, so that recovery leaves the segment for `verify` to
/// judge.
fn vouched_head(digests: &Path) -> Result<u64, AuditError> {
    let bytes = match std::fs::read(digests) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(AuditError::io("reading the digest file")(e)),
    };
    Ok(match Lines::new(&bytes).last() {
        None => 0,
        Some(l) => serde_json::from_slice::<Digest>(l.bytes).map_or(u64::MAX, |d| d.head_seq),
    })
}

/// Cuts off what a crash can leave after the last synced write: an unterminated final
/// line, and lines holding zero bytes (space allocated but never written).
///
/// The cut is at the first such line, not after the last: a group's records span several
/// pages, and a crash during its sync can leave a later page on disk and an earlier one
/// unwritten, so whole records may follow a hole. Our lines never contain NUL (JSON
/// escapes control characters), and a record is acknowledged only after a sync covering
/// every byte before it, so nothing from the first such line on was acknowledged. A
/// cut that `may_keep` refuses (given the bytes that would stay) is not made: a record a
/// digest vouches for is damaged, not torn, and is left for verification to report.
fn trim_torn_tail(path: &Path, may_keep: impl Fn(&[u8]) -> bool) -> Result<u64, AuditError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(AuditError::io("reading a log file")(e)),
    };
    let keep = Lines::new(&bytes)
        .find(|l| !l.terminated || l.bytes.contains(&0))
        .map_or(bytes.len(), |l| l.offset);
    if keep == bytes.len() || !may_keep(&bytes[..keep]) {
        return Ok(0);
    }
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(AuditError::io("opening a torn file"))?;
    file.set_len(keep as u64)
        .map_err(AuditError::io("truncating a torn tail"))?;
    file.sync_all()
        .map_err(AuditError::io("syncing a truncated file"))?;
    Ok((bytes.len() - keep) as u64)
}

/// Makes file creations durable: a new segment is only found again if its directory entry is.
fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(AuditError::io("syncing the log directory"))
}

/// The single writer: owns the files and the chain head.
struct Writer {
    dir: PathBuf,
    _lock: File,
    key: Option<SecretKey>,
    clock: SharedClock,
    segment_max: u64,
    digest_every: u64,
    max_batch: usize,
    gather: Duration,
    seg: File,
    seg_name: String,
    seg_index: u32,
    /// Bytes of records in the active segment: where the next one is written.
    seg_size: u64,
    /// The active segment's length on disk, `seg_size` plus written zeros (see
    /// [`PREALLOCATE_BYTES`]).
    seg_alloc: u64,
    /// The active segment's bytes before this offset have left the page cache (see
    /// [`DROP_CACHE_BYTES`]).
    cached_from: u64,
    /// The last group's buffer, kept for the next (see [`KEEP_BUFFER_BYTES`]).
    buf: Vec<u8>,
    digests: File,
    next_seq: u64,
    head: [u8; 32],
    digest_seq: u64,
    digest_head: u64,
    digest_line_hash: [u8; 32],
    shared: Arc<Shared>,
}

impl Writer {
    fn resume(
        dir: &Path,
        scan: Scan,
        lock: File,
        key: Option<SecretKey>,
        clock: SharedClock,
        opts: &AuditOptions,
        shared: Arc<Shared>,
    ) -> Result<Self, AuditError> {
        let next_seq = scan.head.0 + 1;
        let (seg, seg_path, seg_index) = open_tail_segment(dir, &scan.segments, next_seq, &shared)?;
        let seg_size = seg
            .metadata()
            .map_err(AuditError::io("reading segment size"))?
            .len();
        let digests = OpenOptions::new()
            .append(true)
            .create(true)
            .open(dir.join(DIGEST_FILE))
            .map_err(AuditError::io("opening the digest file"))?;
        sync_dir(dir)?;
        let (digest_seq, digest_head, digest_line_hash) = scan
            .last_digest
            .map_or((0, 0, ZERO_HASH), |(d, h)| (d.digest_seq, d.head_seq, h));
        Ok(Self {
            dir: dir.to_path_buf(),
            _lock: lock,
            key,
            clock,
            segment_max: opts.segment_max_bytes,
            digest_every: opts.digest_every.max(1),
            max_batch: opts.max_batch.max(1),
            gather: opts.gather,
            seg,
            seg_name: verify::file_name(&seg_path),
            seg_index,
            seg_size,
            seg_alloc: seg_size,
            cached_from: 0,
            buf: Vec::new(),
            digests,
            next_seq,
            head: scan.head.1,
            digest_seq,
            digest_head,
            digest_line_hash,
            shared,
        })
    }

    fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let (closer, result) = self.serve(&mut rx);
        // Release the files and the directory lock before the closer hears back, so
        // that it can reopen at once.
        drop(self);
        if let Some(reply) = closer {
            let _ = reply.send(result);
        }
    }

    fn serve(&mut self, rx: &mut mpsc::Receiver<Msg>) -> (Option<Closer>, Result<(), AuditError>) {
        loop {
            let Some(first) = rx.blocking_recv() else {
                return (None, self.final_digest());
            };
            self.wait_for_company();
            let (batch, closer) = self.drain(first, rx);
            if let Err(e) = self.commit(batch) {
                self.shared.failed.store(true, Ordering::Release);
                return (closer, Err(e));
            }
            if closer.is_some() {
                self.shared.closed.store(true, Ordering::Release);
                return (closer, self.final_digest());
            }
        }
    }

    /// Waits up to `gather` for the records still announced; see [`AuditOptions::gather`].
    /// The last announcement to end unparks this thread.
    fn wait_for_company(&self) {
        let deadline = Instant::now() + self.gather;
        while self.shared.underway.load(Ordering::Acquire) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::park_timeout(left);
        }
    }

    /// Everything already queued, up to a batch: this is the group in group commit.
    fn drain(&self, first: Msg, rx: &mut mpsc::Receiver<Msg>) -> (Vec<Pending>, Option<Closer>) {
        let mut batch = Vec::new();
        let mut records = 0;
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Append(p) => {
                    records += p.records.len();
                    batch.push(p);
                }
                Msg::Close(reply) => return (batch, Some(reply)),
            }
            next = if records < self.max_batch {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        (batch, None)
    }

    /// Writes and syncs a batch, then makes it visible and acknowledges it. On failure
    /// every waiter gets the error: none of them may assume durability.
    fn commit(&mut self, batch: Vec<Pending>) -> Result<(), AuditError> {
        let first_seq = self.next_seq;
        let started = Instant::now();
        let written = self.write_batch(&batch);
        if let Some(first) = batch.first() {
            self.shared.stats.group(
                batch.iter().map(|p| p.records.len()).sum(),
                started.saturating_duration_since(first.queued),
                started.elapsed(),
            );
        }
        match written {
            Ok(entries) => {
                write_index(&self.shared).entries.extend(entries);
                let mut next = first_seq;
                for p in batch {
                    next += p.records.len() as u64;
                    let _ = p.reply.send(Ok(next - 1));
                }
                Ok(())
            }
            Err(e) => {
                let msg = e.to_string();
                for p in batch {
                    let _ = p.reply.send(Err(AuditError::WriteFailed(msg.clone())));
                }
                Err(e)
            }
        }
    }

    fn write_batch(&mut self, batch: &[Pending]) -> Result<Vec<IndexEntry>, AuditError> {
        let records = || batch.iter().flat_map(|p| &p.records);
        let mut buf = std::mem::take(&mut self.buf);
        buf.reserve(
            records()
                .map(|r| record_len(self.next_seq, r.event_json.len()))
                .sum(),
        );
        let mut entries = Vec::with_capacity(records().count());
        for r in records() {
            let line_len = record_len(self.next_seq, r.event_json.len());
            let size = self.seg_size + buf.len() as u64;
            if size > 0 && size + line_len as u64 > self.segment_max {
                self.flush(&mut buf)?;
                self.write_digest()?;
                self.rotate()?;
            }
            let offset = self.seg_size + buf.len() as u64;
            let len =
                u32::try_from(line_len - 1).map_err(|_| AuditError::EventTooLarge(line_len))?;
            entries.push(IndexEntry {
                segment: self.seg_index,
                len,
                offset,
                time: r.time,
                account: r.account,
            });
            self.head = append_record(&mut buf, self.next_seq, &self.head, &r.event_json);
            self.next_seq += 1;
        }
        self.flush(&mut buf)?;
        if buf.capacity() <= KEEP_BUFFER_BYTES {
            self.buf = buf;
        }
        if self.next_seq - 1 - self.digest_head >= self.digest_every {
            self.write_digest()?;
        }
        Ok(entries)
    }

    fn flush(&mut self, buf: &mut Vec<u8>) -> Result<(), AuditError> {
        if buf.is_empty() {
            return Ok(());
        }
        let end = self.seg_size + buf.len() as u64;
        if end > self.seg_alloc {
            self.preallocate(end)?;
        }
        self.seg
            .write_all_at(buf, self.seg_size)
            .map_err(AuditError::io("writing a segment"))?;
        self.sync_segment()?;
        self.seg_size = end;
        buf.clear();
        self.uncache(end - end % DROP_CACHE_BYTES);
        Ok(())
    }

    /// Drops the active segment's pages before `upto` (synced records) from the page
    /// cache. Whole chunks behind the records' end only: the page holding that end and the
    /// zeros ahead stay, or the next write into them would first read them from disk.
    fn uncache(&mut self, upto: u64) {
        if upto > self.cached_from {
            drop_cache(
                &self.seg,
                self.cached_from,
                NonZeroU64::new(upto - self.cached_from),
            );
            self.cached_from = upto;
        }
    }

    /// Writes zeros from the segment's end to past `end`: up to the next multiple of
    /// [`PREALLOCATE_BYTES`], but not beyond the segment's size limit unless `end` is. The
    /// sync that follows (in `flush`) makes the new length durable with the records.
    fn preallocate(&mut self, end: u64) -> Result<(), AuditError> {
        let target = end
            .next_multiple_of(PREALLOCATE_BYTES)
            .min(self.segment_max)
            .max(end);
        while self.seg_alloc < target {
            let n = (target - self.seg_alloc).min(ZERO_CHUNK as u64);
            self.seg
                .write_all_at(&ZEROS[..n as usize], self.seg_alloc)
                .map_err(AuditError::io("extending a segment"))?;
            self.seg_alloc += n;
        }
        Ok(())
    }

    /// Cuts the written zeros off the active segment, leaving exactly its records: done
    /// before a segment is left behind by rotation and when the log closes.
    fn trim_preallocated(&mut self) -> Result<(), AuditError> {
        if self.seg_alloc == self.seg_size {
            return Ok(());
        }
        self.seg
            .set_len(self.seg_size)
            .and_then(|()| self.seg.sync_all())
            .map_err(AuditError::io("trimming a segment"))?;
        self.seg_alloc = self.seg_size;
        Ok(())
    }

    fn sync_segment(&self) -> Result<(), AuditError> {
        #[cfg(test)]
        if self.shared.fail_sync.load(Ordering::SeqCst) {
            return Err(AuditError::io("syncing a segment")(std::io::Error::other(
                "injected fsync failure",
            )));
        }
        self.seg
            .sync_data()
            .map_err(AuditError::io("syncing a segment"))
    }

    fn rotate(&mut self) -> Result<(), AuditError> {
        self.trim_preallocated()?;
        // Synced by the trim (or the flush before it): all of it may go.
        drop_cache(&self.seg, self.cached_from, None);
        let name = format::segment_name(self.next_seq);
        let path = self.dir.join(&name);
        self.seg = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(AuditError::io("creating a segment"))?;
        sync_dir(&self.dir)?;
        self.seg_name = name;
        self.seg_size = 0;
        self.seg_alloc = 0;
        self.cached_from = 0;
        self.seg_index += 1;
        write_index(&self.shared).segments.push(path);
        Ok(())
    }

    /// Signs the current head: every `digest_every` records (checked per batch) and as the
    /// last act on each segment before rotating away from it. Written after the records it covers are synced, so a
    /// digest never vouches for a record that a crash could lose.
    fn write_digest(&mut self) -> Result<(), AuditError> {
        let time = event_time::format(self.clock.now())
            .map_err(|e| AuditError::io("formatting digest time")(std::io::Error::other(e)))?;
        let mut d = Digest {
            digest_seq: self.digest_seq + 1,
            head_seq: self.next_seq - 1,
            head_hash: format::hex(&self.head),
            segment: self.seg_name.clone(),
            time,
            prev_digest: format::hex(&self.digest_line_hash),
            mac: None,
        };
        if let Some(key) = &self.key {
            d.sign(key);
        }
        let line = d.encode()?;
        self.digests
            .write_all(&line)
            .map_err(AuditError::io("writing a digest"))?;
        self.digests
            .sync_data()
            .map_err(AuditError::io("syncing the digest file"))?;
        self.digest_seq = d.digest_seq;
        self.digest_head = d.head_seq;
        self.digest_line_hash = sha256(&line[..line.len() - 1]);
        Ok(())
    }

    fn final_digest(&mut self) -> Result<(), AuditError> {
        self.trim_preallocated()?;
        if self.next_seq - 1 > self.digest_head {
            self.write_digest()
        } else {
            Ok(())
        }
    }
}

/// Tells the kernel that `len` bytes of `file` from `offset` (to its end with `None`)
/// will not be read soon; clean pages there leave the page cache. Only advice: a refusal
/// changes nothing the log relies on, so it is not an error.
#[cfg(target_os = "linux")]
fn drop_cache(file: &File, offset: u64, len: Option<NonZeroU64>) {
    let _ = rustix::fs::fadvise(file, offset, len, rustix::fs::Advice::DontNeed);
}

#[cfg(not(target_os = "linux"))]
fn drop_cache(_file: &File, _offset: u64, _len: Option<NonZeroU64>) {}

fn write_index(shared: &Shared) -> std::sync::RwLockWriteGuard<'_, Index> {
    shared.index.write().unwrap_or_else(|p| p.into_inner())
}

/// Opens the newest segment for appending, creating the first one for a new log. An
/// empty newest segment must be named for the next record, or the chain would not verify.
fn open_tail_segment(
    dir: &Path,
    segments: &[Segment],
    next_seq: u64,
    shared: &Shared,
) -> Result<(File, PathBuf, u32), AuditError> {
    // Not in append mode: records are written at an offset, over preallocated zeros.
    let open = |path: &Path, create: bool| {
        OpenOptions::new()
            .write(true)
            .create(create)
            .open(path)
            .map_err(AuditError::io("opening a segment"))
    };
    let Some(last) = segments.last() else {
        let path = dir.join(format::segment_name(1));
        let file = open(&path, true)?;
        write_index(shared).segments.push(path.clone());
        return Ok((file, path, 0));
    };
    let file = open(&last.path, false)?;
    let empty = file
        .metadata()
        .map_err(AuditError::io("reading segment size"))?
        .len()
        == 0;
    if empty && last.first_seq != next_seq {
        let problem = Problem::SegmentMisnamed {
            named: last.first_seq,
            first: next_seq,
        };
        let failure = verify::VerifyFailure {
            file: last.name(),
            line: 1,
            seq: None,
            problem,
        };
        return Err(AuditError::Corrupt(Box::new(failure)));
    }
    let index = u32::try_from(segments.len() - 1).map_err(|_| {
        AuditError::io("counting segments")(std::io::Error::other("too many segments"))
    })?;
    Ok((file, last.path.clone(), index))
}
