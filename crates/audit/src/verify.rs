//! Offline verification of a log directory, also run by `AuditLog::open` (which builds its
//! index from the same pass, so an opened log is always one that verifies).

use crate::format::{self, DIGEST_FILE, Digest, LineError, ZERO_HASH};
use coffer_crypto::{SecretKey, sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The outcome of verifying a log directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub dir: PathBuf,
    /// Records whose chain links were checked before any failure.
    pub records: u64,
    pub segments: usize,
    /// Digest lines accepted before any failure.
    pub digests: u64,
    /// Whether digest signatures were checked (a key was given).
    pub signed: bool,
    /// The last record's sequence number and hash.
    pub head: Option<(u64, String)>,
    /// Records after the newest digest: a truncation of these could not be detected.
    pub undigested_tail: u64,
    pub failure: Option<VerifyFailure>,
}

/// Where verification first failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// The segment or digest file name within the log directory.
    pub file: String,
    /// 1-based line number within `file`.
    pub line: u64,
    pub seq: Option<u64>,
    pub problem: Problem,
}

/// What is wrong at a [`VerifyFailure`], phrased by what it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Unreadable(String),
    Malformed(String),
    /// The record's bytes do not match its hash: it was edited.
    HashMismatch,
    /// The record does not link to the record before it.
    ChainBroken,
    /// A sequence number is missing: records were removed.
    SeqGap {
        expected: u64,
        found: u64,
    },
    /// The expected sequence number appears elsewhere: records were reordered or duplicated.
    OutOfOrder {
        expected: u64,
        found: u64,
    },
    /// The file ends in an unterminated line: a crash leftover (never acknowledged; cut
    /// off at the next open) or tampering.
    TornTail,
    SegmentMisnamed {
        named: u64,
        first: u64,
    },
    DigestMalformed(String),
    /// A digest does not follow the one before it: digests were removed, reordered or edited.
    DigestChainBroken,
    /// A key was given but the digest carries no signature.
    DigestUnsigned,
    DigestBadSignature,
    /// A signed head does not match the record now at that position: the chain was
    /// rewritten at or before this record.
    DigestHeadMismatch {
        digest_seq: u64,
    },
    /// A digest vouches for a record that is gone: the log was truncated.
    DigestHeadMissing {
        digest_seq: u64,
        head_seq: u64,
        last_seq: u64,
    },
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(e) => write!(f, "cannot be read: {e}"),
            Self::Malformed(e) => write!(f, "unparseable record: {e}"),
            Self::HashMismatch => f.write_str("record hash mismatch: the record was edited"),
            Self::ChainBroken => f.write_str(
                "record does not link to the previous record's hash: the chain was altered",
            ),
            Self::SeqGap { expected, found } => {
                write!(
                    f,
                    "expected seq {expected}, found {found}: records were removed"
                )
            }
            Self::OutOfOrder { expected, found } => {
                write!(
                    f,
                    "expected seq {expected}, found {found}: records were reordered or duplicated"
                )
            }
            Self::TornTail => f.write_str("unterminated final line: crash leftover or tampering"),
            Self::SegmentMisnamed { named, first } => {
                write!(f, "segment named for seq {named} starts at seq {first}")
            }
            Self::DigestMalformed(e) => write!(f, "unparseable digest: {e}"),
            Self::DigestChainBroken => {
                f.write_str("digest does not follow the previous digest: digests were altered")
            }
            Self::DigestUnsigned => f.write_str("digest is not signed"),
            Self::DigestBadSignature => {
                f.write_str("digest signature is invalid: digests were forged or the key is wrong")
            }
            Self::DigestHeadMismatch { digest_seq } => write!(
                f,
                "record differs from the head signed by digest {digest_seq}: the chain was rewritten at or before it"
            ),
            Self::DigestHeadMissing {
                digest_seq,
                head_seq,
                last_seq,
            } => write!(
                f,
                "digest {digest_seq} vouches for seq {head_seq} but the log ends at seq {last_seq}: the log was truncated"
            ),
        }
    }
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file, self.line)?;
        if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(failure) = &self.failure {
            writeln!(f, "audit log {}: FAILED", self.dir.display())?;
            writeln!(f, "  at {failure}")?;
            return write!(f, "  {} records verified before the failure", self.records);
        }
        writeln!(f, "audit log {}: OK", self.dir.display())?;
        writeln!(
            f,
            "  {} records in {} segments, hash chain intact",
            self.records, self.segments
        )?;
        if let Some((seq, hash)) = &self.head {
            writeln!(f, "  head: seq {seq}, sha256 {hash}")?;
        }
        let how = if self.signed {
            "signatures verified"
        } else {
            "no key given, signatures NOT checked"
        };
        write!(f, "  {} digests checked ({how})", self.digests)?;
        if self.undigested_tail > 0 {
            write!(
                f,
                "\n  {} newest records are not yet covered by a digest",
                self.undigested_tail
            )?;
        }
        Ok(())
    }
}

/// Verifies the log in `dir` without opening it: every record's hash, the chain links and
/// sequence numbers across segments, the digest chain, each digest's head against the
/// chain and, given the key, each digest's signature. Stops at the first failure.
pub fn verify(dir: &Path, hmac_key: Option<&SecretKey>) -> VerifyReport {
    scan(dir, hmac_key, &mut |_| Ok(())).report
}

/// A segment file and the first sequence number its name promises.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub first_seq: u64,
    pub path: PathBuf,
}

impl Segment {
    pub fn name(&self) -> String {
        file_name(&self.path)
    }
}

/// One verified record, handed to the caller of [`scan`].
pub(crate) struct Visit<'a> {
    pub segment: usize,
    pub offset: u64,
    pub len: usize,
    pub seq: u64,
    pub event: &'a [u8],
}

pub(crate) type Visitor<'v> = dyn FnMut(&Visit<'_>) -> Result<(), Problem> + 'v;

/// Everything `open` needs to resume writing.
pub(crate) struct Scan {
    pub report: VerifyReport,
    pub segments: Vec<Segment>,
    pub head: (u64, [u8; 32]),
    pub last_digest: Option<(Digest, [u8; 32])>,
}

pub(crate) fn scan(dir: &Path, key: Option<&SecretKey>, visit: &mut Visitor<'_>) -> Scan {
    let mut report = VerifyReport {
        dir: dir.to_path_buf(),
        records: 0,
        segments: 0,
        digests: 0,
        signed: key.is_some(),
        head: None,
        undigested_tail: 0,
        failure: None,
    };
    let segments = match list_segments(dir) {
        Ok(s) => s,
        Err(failure) => {
            report.failure = Some(failure);
            return Scan {
                report,
                segments: Vec::new(),
                head: (0, ZERO_HASH),
                last_digest: None,
            };
        }
    };
    report.segments = segments.len();
    let digests = load_digests(dir, key);
    report.digests = digests.trusted.len() as u64;
    let mut chain = Chain {
        digests: &digests,
        expected: 1,
        prev: ZERO_HASH,
        visit,
    };
    let chain_result = segments
        .iter()
        .enumerate()
        .try_for_each(|(i, seg)| chain.segment(i, seg, &segments[i + 1..]));
    let head = (chain.expected - 1, chain.prev);
    report.records = head.0;
    report.head = (head.0 > 0).then(|| (head.0, format::hex(&head.1)));
    report.failure = chain_result
        .err()
        .or(digests.failure.clone())
        .or_else(|| digests.beyond(head.0));
    let newest = digests
        .trusted
        .iter()
        .map(|d| d.head_seq)
        .max()
        .unwrap_or(0);
    report.undigested_tail = head.0.saturating_sub(newest);
    let last_digest = digests
        .trusted
        .last()
        .cloned()
        .map(|d| (d, digests.last_line_hash));
    Scan {
        report,
        segments,
        head,
        last_digest,
    }
}

/// Segment files sorted by the sequence number in their names; other files are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<Segment>, VerifyFailure> {
    let unreadable = |e: std::io::Error| VerifyFailure {
        file: dir.display().to_string(),
        line: 0,
        seq: None,
        problem: Problem::Unreadable(e.to_string()),
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if let Some(first_seq) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(format::parse_segment_name)
        {
            out.push(Segment { first_seq, path });
        }
    }
    out.sort_by_key(|s| s.first_seq);
    Ok(out)
}

/// The digests that passed every check, in order, and the first that did not.
struct Digests {
    trusted: Vec<Digest>,
    by_head: HashMap<u64, Vec<usize>>,
    last_line_hash: [u8; 32],
    failure: Option<VerifyFailure>,
}

impl Digests {
    /// The first digest vouching for a record past the end of the chain.
    fn beyond(&self, last_seq: u64) -> Option<VerifyFailure> {
        let d = self.trusted.iter().find(|d| d.head_seq > last_seq)?;
        let problem = Problem::DigestHeadMissing {
            digest_seq: d.digest_seq,
            head_seq: d.head_seq,
            last_seq,
        };
        Some(VerifyFailure {
            file: DIGEST_FILE.to_owned(),
            line: d.digest_seq,
            seq: None,
            problem,
        })
    }
}

fn load_digests(dir: &Path, key: Option<&SecretKey>) -> Digests {
    let mut out = Digests {
        trusted: Vec::new(),
        by_head: HashMap::new(),
        last_line_hash: ZERO_HASH,
        failure: None,
    };
    let bytes = match std::fs::read(dir.join(DIGEST_FILE)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            out.failure = Some(digest_failure(1, Problem::Unreadable(e.to_string())));
            return out;
        }
    };
    for (i, line) in Lines::new(&bytes).enumerate() {
        let n = i as u64 + 1;
        match check_digest(line, n, out.last_line_hash, key) {
            Ok(d) => {
                out.last_line_hash = sha256(line.bytes);
                out.by_head
                    .entry(d.head_seq)
                    .or_default()
                    .push(out.trusted.len());
                out.trusted.push(d);
            }
            Err(problem) => {
                out.failure = Some(digest_failure(n, problem));
                break;
            }
        }
    }
    out
}

fn check_digest(
    line: Line<'_>,
    n: u64,
    prev_hash: [u8; 32],
    key: Option<&SecretKey>,
) -> Result<Digest, Problem> {
    if !line.terminated {
        return Err(Problem::DigestMalformed(
            "unterminated final line".to_owned(),
        ));
    }
    let d: Digest =
        serde_json::from_slice(line.bytes).map_err(|e| Problem::DigestMalformed(e.to_string()))?;
    if d.head_hash_bytes().is_none() {
        return Err(Problem::DigestMalformed(
            "headHash is not 64 lower-case hex digits".to_owned(),
        ));
    }
    if d.digest_seq != n || d.prev_digest != format::hex(&prev_hash) {
        return Err(Problem::DigestChainBroken);
    }
    match (key, &d.mac) {
        (Some(_), None) => Err(Problem::DigestUnsigned),
        (Some(k), Some(_)) if !d.mac_valid(k) => Err(Problem::DigestBadSignature),
        _ => Ok(d),
    }
}

fn digest_failure(line: u64, problem: Problem) -> VerifyFailure {
    VerifyFailure {
        file: DIGEST_FILE.to_owned(),
        line,
        seq: None,
        problem,
    }
}

/// The running state of a chain walk across segments.
struct Chain<'a, 'v> {
    digests: &'a Digests,
    expected: u64,
    prev: [u8; 32],
    visit: &'a mut Visitor<'v>,
}

impl Chain<'_, '_> {
    fn segment(
        &mut self,
        index: usize,
        seg: &Segment,
        later: &[Segment],
    ) -> Result<(), VerifyFailure> {
        let fail = |line: u64, seq: Option<u64>, problem: Problem| VerifyFailure {
            file: seg.name(),
            line,
            seq,
            problem,
        };
        let mut bytes = std::fs::read(&seg.path)
            .map_err(|e| fail(0, None, Problem::Unreadable(e.to_string())))?;
        if later.is_empty() {
            // The active segment runs on into zeros written ahead of its records (see
            // `log::PREALLOCATE_BYTES`): unwritten space, not a record. Records never
            // contain NUL, so the records end at the last other byte.
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            bytes.truncate(end);
        }
        let mut lines = Lines::new(&bytes);
        let mut n = 0;
        while let Some(line) = lines.next() {
            n += 1;
            if !line.terminated {
                return Err(fail(n, format::peek_seq(line.bytes), Problem::TornTail));
            }
            let seq = format::peek_seq(line.bytes);
            self.record(index, seg, n, line, lines.rest(), later)
                .map_err(|p| fail(n, seq, p))?;
        }
        Ok(())
    }

    fn record(
        &mut self,
        index: usize,
        seg: &Segment,
        n: u64,
        line: Line<'_>,
        rest: &[u8],
        later: &[Segment],
    ) -> Result<(), Problem> {
        let rec = format::parse_record(line.bytes).map_err(|e| match e {
            LineError::HashMismatch => Problem::HashMismatch,
            LineError::Malformed(m) => Problem::Malformed(m.to_owned()),
        })?;
        if rec.seq != self.expected {
            return Err(misplaced(self.expected, rec.seq, rest, later));
        }
        if n == 1 && rec.seq != seg.first_seq {
            return Err(Problem::SegmentMisnamed {
                named: seg.first_seq,
                first: rec.seq,
            });
        }
        if rec.prev != self.prev {
            return Err(Problem::ChainBroken);
        }
        self.check_digests(rec.seq, &rec.hash)?;
        let visit = Visit {
            segment: index,
            offset: line.offset as u64,
            len: line.bytes.len(),
            seq: rec.seq,
            event: rec.event,
        };
        (self.visit)(&visit)?;
        self.expected += 1;
        self.prev = rec.hash;
        Ok(())
    }

    fn check_digests(&self, seq: u64, hash: &[u8; 32]) -> Result<(), Problem> {
        for &i in self.digests.by_head.get(&seq).into_iter().flatten() {
            let d = &self.digests.trusted[i];
            if d.head_hash_bytes().as_ref() != Some(hash) {
                return Err(Problem::DigestHeadMismatch {
                    digest_seq: d.digest_seq,
                });
            }
        }
        Ok(())
    }
}

/// A record with the wrong sequence number: reordered if the expected one turns up later,
/// removed if it does not.
fn misplaced(expected: u64, found: u64, rest: &[u8], later: &[Segment]) -> Problem {
    let in_rest =
        |bytes: &[u8]| Lines::new(bytes).any(|l| format::peek_seq(l.bytes) == Some(expected));
    let later_has = || {
        later
            .iter()
            .any(|s| std::fs::read(&s.path).is_ok_and(|b| in_rest(&b)))
    };
    if found < expected || in_rest(rest) || later_has() {
        Problem::OutOfOrder { expected, found }
    } else {
        Problem::SeqGap { expected, found }
    }
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A line of a log file: its bytes without `\n`, where it starts, and whether a `\n` ended it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub bytes: &'a [u8],
    pub offset: usize,
    pub terminated: bool,
}

pub(crate) struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.rest();
        if rest.is_empty() {
            return None;
        }
        let offset = self.pos;
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.pos += end + 1;
                Some(Line {
                    bytes: &rest[..end],
                    offset,
                    terminated: true,
                })
            }
            None => {
                self.pos = self.buf.len();
                Some(Line {
                    bytes: rest,
                    offset,
                    terminated: false,
                })
            }
        }
    }
}
