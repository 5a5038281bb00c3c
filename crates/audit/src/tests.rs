//! Log-level tests: durability, chain verification, tamper detection, lookups.

use crate::format::{
    self, DIGEST_FILE, Digest, ZERO_HASH, encode_record, parse_record, segment_name,
};
use crate::*;
use coffer_crypto::{SecretKey, sha256};
use coffer_types::{AccountId, ManualClock, Principal, PrincipalKind, RequestContext, SharedClock};
use proptest::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

fn clock() -> SharedClock {
    Arc::new(ManualClock::new(T0))
}

fn key() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

fn acct(s: &str) -> AccountId {
    s.parse().unwrap()
}

fn ctx(account: AccountId, user: &str, time: OffsetDateTime) -> RequestContext {
    RequestContext {
        request_id: format!("req-{user}"),
        principal: Principal {
            kind: PrincipalKind::IamUser,
            account,
            arn: format!("arn:aws:iam::{account}:user/{user}"),
            user_id: "AIDAEXAMPLE".into(),
            access_key_id: format!("AKIA{}", user.to_uppercase()),
            role_arn: None,
            user_name: Some(user.into()),
        },
        region: "us-east-1".parse().unwrap(),
        source_ip: "192.0.2.10".parse().unwrap(),
        user_agent: "test".into(),
        secure_transport: true,
        time,
    }
}

/// Event `i`: one second apart from T0, alternating names, in account 111111111111.
fn event(i: u64) -> AuditEvent {
    let account = acct("111111111111");
    let name = if i.is_multiple_of(2) {
        "Encrypt"
    } else {
        "ListKeys"
    };
    AuditEvent::api_call(
        &ctx(account, "alice", T0 + Duration::from_secs(i)),
        "kms.amazonaws.com",
        name,
        !i.is_multiple_of(2),
    )
    .with_request(json!({"keyId": format!("key-{i}")}))
}

fn opts(digest_every: u64, segment_max_bytes: u64) -> AuditOptions {
    AuditOptions {
        digest_every,
        segment_max_bytes,
        ..AuditOptions::default()
    }
}

fn open(dir: &Path, k: Option<SecretKey>, o: AuditOptions) -> AuditLog {
    AuditLog::open_with(dir, k, clock(), o).unwrap()
}

/// Writes events `1..=n` concurrently (so they batch) and closes the log.
async fn write_log(dir: &Path, k: Option<SecretKey>, o: AuditOptions, n: u64) {
    let log = Arc::new(open(dir, k, o));
    let mut set = tokio::task::JoinSet::new();
    for i in 1..=n {
        let log = Arc::clone(&log);
        set.spawn(async move { log.append(event(i)).await.unwrap() });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    log.close().await.unwrap();
}

/// Writes events `1..=n` one at a time, so digests fall exactly every `digest_every`.
async fn write_log_seq(dir: &Path, k: Option<SecretKey>, o: AuditOptions, n: u64) {
    let log = open(dir, k, o);
    for i in 1..=n {
        assert_eq!(log.append(event(i)).await.unwrap(), i);
    }
    log.close().await.unwrap();
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("segment-")
        })
        .collect();
    v.sort();
    v
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path, lines.concat()).unwrap();
}

fn failure(dir: &Path, k: Option<&SecretKey>) -> VerifyFailure {
    let report = verify(dir, k);
    match report.failure.clone() {
        Some(f) => f,
        None => panic!("verify passed:\n{report}"),
    }
}

#[tokio::test]
async fn append_reopen_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Some(key()), opts(4, 64 << 20));
    for i in 1..=10 {
        assert_eq!(log.append(event(i)).await.unwrap(), i);
    }
    log.close().await.unwrap();
    assert!(matches!(
        log.append(event(11)).await,
        Err(AuditError::Closed)
    ));

    let log = open(dir.path(), Some(key()), opts(4, 64 << 20));
    assert_eq!(log.last_seq(), 10);
    for i in 11..=15 {
        assert_eq!(log.append(event(i)).await.unwrap(), i);
    }
    log.close().await.unwrap();

    let report = verify(dir.path(), Some(&key()));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 15);
    assert!(report.digests >= 4, "{report}");
    assert_eq!(report.undigested_tail, 0, "clean shutdown signs the head");
    assert!(report.to_string().contains("OK"));
}

#[tokio::test]
async fn second_writer_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, AuditOptions::default());
    let second = AuditLog::open(dir.path(), None, clock());
    assert!(matches!(second, Err(AuditError::Locked(_))));
    log.close().await.unwrap();
    AuditLog::open(dir.path(), None, clock())
        .unwrap()
        .close()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_are_durable_batched_and_chained() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path(), Some(key()), opts(1000, 1 << 20)));
    let (callers, each) = (64u64, 100u64);
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for c in 0..callers {
        let log = Arc::clone(&log);
        set.spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..each {
                seqs.push(log.append(event(c * each + i)).await.unwrap());
            }
            seqs
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.unwrap());
    }
    let elapsed = started.elapsed();
    let total = callers * each;
    println!(
        "audit group commit: {total} appends from {callers} concurrent callers in {elapsed:?} = {:.0} appends/s",
        total as f64 / elapsed.as_secs_f64()
    );
    all.sort_unstable();
    assert_eq!(all, (1..=total).collect::<Vec<_>>());
    log.close().await.unwrap();
    let report = verify(dir.path(), Some(&key()));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, total);
    assert!(report.segments > 1, "1 MiB segments should have rotated");
}

/// Each group commit is counted once, with its records, its wait and its sync: a lone
/// caller's appends are groups of one.
#[tokio::test]
async fn commit_stats_count_each_group() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, AuditOptions::default());
    assert_eq!(log.commit_stats().group_records.count, 0);
    for i in 0..5 {
        log.append(event(i)).await.unwrap();
    }
    log.append_all(vec![event(5), event(6)]).await.unwrap();
    let s = log.commit_stats();
    assert_eq!(s.group_records.count, 6);
    assert_eq!(s.group_records.sum, 7.0);
    assert_eq!(s.group_records.buckets[0], (1.0, 5));
    assert_eq!(s.group_records.buckets[1], (2.0, 6));
    assert_eq!(s.group_sync_seconds.count, 6);
    assert!(s.group_sync_seconds.sum > 0.0, "a sync takes time");
    assert_eq!(s.group_wait_seconds.count, 6);
    log.close().await.unwrap();
}

/// A call's own record and those of the calls made on its behalf are one append: they
/// land next to each other, however many callers write at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_callers_records_are_adjacent() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path(), None, AuditOptions::default()));
    let mut set = tokio::task::JoinSet::new();
    for c in 0..64u64 {
        let log = Arc::clone(&log);
        set.spawn(async move {
            let events = (0..3).map(|i| event(c * 3 + i)).collect();
            (c, log.append_all(events).await.unwrap())
        });
    }
    let mut last_seqs = Vec::new();
    while let Some(r) = set.join_next().await {
        last_seqs.push(r.unwrap());
    }
    log.close().await.unwrap();
    let key_ids: Vec<String> = segments(dir.path())
        .iter()
        .flat_map(|p| lines(p))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
            v["event"]["requestParameters"]["keyId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(key_ids.len(), 64 * 3);
    let groups = log.commit_stats().group_records;
    assert_eq!(groups.sum, 192.0, "every record in some group");
    assert!((1..=64).contains(&groups.count), "{groups:?}");
    for (c, last) in last_seqs {
        let last = usize::try_from(last).unwrap();
        let got = &key_ids[last - 3..last];
        let want: Vec<String> = (0..3).map(|i| format!("key-{}", c * 3 + i)).collect();
        assert_eq!(
            got,
            want.as_slice(),
            "caller {c}'s records, ending at seq {last}"
        );
    }
}

#[tokio::test]
async fn torn_tail_is_reported_then_cut_off_at_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(1000, 64 << 20), 5).await;
    let seg = segments(dir.path()).pop().unwrap();
    let (partial, _) = encode_record(6, &ZERO_HASH, r#"{"half":"written"}"#);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&partial[..partial.len() / 2]);
    std::fs::write(&seg, &bytes).unwrap();

    let f = failure(dir.path(), None);
    assert_eq!((f.line, &f.problem), (6, &Problem::TornTail));

    let log = open(dir.path(), None, opts(1000, 64 << 20));
    assert_eq!(log.recovered_bytes(), (partial.len() / 2) as u64);
    assert_eq!(log.last_seq(), 5);
    assert_eq!(log.append(event(6)).await.unwrap(), 6);
    log.close().await.unwrap();
    assert!(verify(dir.path(), None).is_ok());
}

#[tokio::test]
async fn zero_filled_tail_is_cut_off_at_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(1000, 64 << 20), 3).await;
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[0; 100]);
    bytes.push(b'\n');
    bytes.extend_from_slice(&[0; 50]);
    std::fs::write(&seg, &bytes).unwrap();
    let log = open(dir.path(), None, opts(1000, 64 << 20));
    assert_eq!(log.recovered_bytes(), 151);
    assert_eq!(log.append(event(4)).await.unwrap(), 4);
    log.close().await.unwrap();
    assert!(verify(dir.path(), None).is_ok());
}

/// Length on disk, and whether the file ends right after a record.
fn on_disk(path: &Path) -> (u64, bool) {
    let bytes = std::fs::read(path).unwrap();
    (bytes.len() as u64, bytes.last() == Some(&b'\n'))
}

#[tokio::test]
async fn active_segment_runs_into_zeros_that_close_cuts_off() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Some(key()), opts(1000, 64 << 20));
    for i in 1..=3 {
        log.append(event(i)).await.unwrap();
    }
    let seg = segments(dir.path()).pop().unwrap();
    assert_eq!(on_disk(&seg), (PREALLOCATE_BYTES, false));
    // The zeros are unwritten space, not a torn record.
    let report = verify(dir.path(), Some(&key()));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 3);

    log.close().await.unwrap();
    let (len, ends_with_record) = on_disk(&seg);
    assert!(len < PREALLOCATE_BYTES && ends_with_record, "{len}");
    assert!(verify(dir.path(), Some(&key())).is_ok());
}

#[tokio::test]
async fn a_crash_inside_preallocated_space_loses_no_acknowledged_record() {
    let crashed = crashed_after(4).await;

    let log = open(crashed.path(), None, opts(1000, 64 << 20));
    assert_eq!(log.last_seq(), 4);
    assert_eq!(log.append(event(5)).await.unwrap(), 5);
    log.close().await.unwrap();
    let report = verify(crashed.path(), None);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 5);
}

/// Zeros one record's line, all but its newline, in `dir`'s newest segment: the page holding
/// it never reached the disk while the next one, holding the newline and the records after
/// it, did.
fn lose_record(dir: &Path, seq: usize) -> usize {
    let seg = segments(dir).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let (start, end) = (starts[seq - 1], starts[seq] - 1);
    bytes[start..end].fill(0);
    std::fs::write(&seg, &bytes).unwrap();
    start
}

/// A log of `n` acknowledged records, as a crash would leave its files: copied while the
/// log is still open.
async fn crashed_after(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, opts(1000, 64 << 20));
    for i in 1..=n {
        log.append(event(i)).await.unwrap();
    }
    let crashed = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, crashed.path().join(f.file_name().unwrap())).unwrap();
    }
    log.close().await.unwrap();
    crashed
}

#[tokio::test]
async fn a_hole_left_by_a_crash_mid_sync_is_cut_off_with_what_follows_it() {
    let crashed = crashed_after(5).await;
    let seg_len = std::fs::metadata(segments(crashed.path()).pop().unwrap())
        .unwrap()
        .len();
    let hole = lose_record(crashed.path(), 4) as u64;

    let log = open(crashed.path(), None, opts(1000, 64 << 20));
    assert_eq!(log.last_seq(), 3);
    assert_eq!(log.recovered_bytes(), seg_len - hole);
    assert_eq!(log.append(event(4)).await.unwrap(), 4);
    log.close().await.unwrap();
    let report = verify(crashed.path(), None);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.records, 4);
}

#[tokio::test]
async fn a_hole_under_a_signed_digest_is_corruption_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    write_log_seq(dir.path(), Some(key()), opts(1000, 64 << 20), 5).await;
    lose_record(dir.path(), 4);
    let seg = segments(dir.path()).pop().unwrap();
    let damaged = std::fs::read(&seg).unwrap();
    let err =
        AuditLog::open_with(dir.path(), Some(key()), clock(), opts(1000, 64 << 20)).unwrap_err();
    match err {
        AuditError::Corrupt(f) => assert!(
            f.line == 4 && matches!(f.problem, Problem::Malformed(_)),
            "{f:?}"
        ),
        e => panic!("{e}"),
    }
    // Left as found, for whoever investigates.
    assert_eq!(std::fs::read(&seg).unwrap(), damaged);
}

#[tokio::test]
async fn rotation_leaves_segments_without_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, opts(1000, 4096));
    for i in 1..=40 {
        log.append(event(i)).await.unwrap();
    }
    let segs = segments(dir.path());
    assert!(segs.len() > 2, "4 KiB segments should have rotated");
    for seg in &segs[..segs.len() - 1] {
        let (len, ends_with_record) = on_disk(seg);
        assert!(len <= 4096 && ends_with_record, "{}: {len}", seg.display());
    }
    // Preallocation stops at the segment limit.
    assert_eq!(on_disk(segs.last().unwrap()).0, 4096);
    log.close().await.unwrap();
    assert!(verify(dir.path(), None).is_ok());
}

#[tokio::test]
async fn removed_record_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(1000, 64 << 20), 10).await;
    let seg = segments(dir.path()).pop().unwrap();
    let mut l = lines(&seg);
    l.remove(2);
    write_lines(&seg, &l);
    let f = failure(dir.path(), None);
    assert_eq!(
        (f.line, f.seq, &f.problem),
        (
            3,
            Some(4),
            &Problem::SeqGap {
                expected: 3,
                found: 4
            }
        )
    );
    assert!(f.to_string().contains("records were removed"), "{f}");
}

#[tokio::test]
async fn swapped_records_are_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(1000, 64 << 20), 10).await;
    let seg = segments(dir.path()).pop().unwrap();
    let mut l = lines(&seg);
    l.swap(3, 4);
    write_lines(&seg, &l);
    let f = failure(dir.path(), None);
    assert_eq!(
        (f.line, &f.problem),
        (
            4,
            &Problem::OutOfOrder {
                expected: 4,
                found: 5
            }
        )
    );
    assert!(matches!(
        AuditLog::open(dir.path(), None, clock()),
        Err(AuditError::Corrupt(_))
    ));
}

#[tokio::test]
async fn removed_middle_segment_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(1000, 4000), 40).await;
    let segs = segments(dir.path());
    assert!(segs.len() >= 3);
    std::fs::remove_file(&segs[1]).unwrap();
    let f = failure(dir.path(), None);
    assert_eq!(f.file, segs[2].file_name().unwrap().to_str().unwrap());
    assert!(matches!(f.problem, Problem::SeqGap { .. }), "{f}");
}

/// Re-encodes every record from `from` on, as an attacker who edits a record and
/// recomputes the chain would.
fn rewrite_chain_from(seg: &Path, from: usize, edit: impl Fn(&str) -> String) {
    let old = lines(seg);
    let mut prev = ZERO_HASH;
    let mut out = Vec::new();
    for (i, line) in old.iter().enumerate() {
        let rec = parse_record(&line[..line.len() - 1]).unwrap();
        if i < from {
            prev = rec.hash;
            out.push(line.clone());
            continue;
        }
        let ev = std::str::from_utf8(rec.event).unwrap();
        let ev = if i == from { edit(ev) } else { ev.to_owned() };
        let (new, hash) = encode_record(rec.seq, &prev, &ev);
        prev = hash;
        out.push(new);
    }
    write_lines(seg, &out);
}

/// Recomputes the digest file for the rewritten chain, without the key.
fn forge_digests(dir: &Path, head_hashes: &std::collections::HashMap<u64, String>) {
    let path = dir.join(DIGEST_FILE);
    let mut prev = ZERO_HASH;
    let mut out = Vec::new();
    for line in lines(&path) {
        let mut d: Digest = serde_json::from_slice(&line[..line.len() - 1]).unwrap();
        d.head_hash = head_hashes[&d.head_seq].clone();
        d.prev_digest = format::hex(&prev);
        let encoded = d.encode().unwrap();
        prev = sha256(&encoded[..encoded.len() - 1]);
        out.push(encoded);
    }
    write_lines(&path, &out);
}

#[tokio::test]
async fn rewritten_tail_is_caught_by_signed_digests() {
    let dir = tempfile::tempdir().unwrap();
    write_log_seq(dir.path(), Some(key()), opts(5, 64 << 20), 20).await;
    let seg = segments(dir.path()).pop().unwrap();
    rewrite_chain_from(&seg, 11, |ev| ev.replace("key-", "kex-"));

    // The chain itself is consistent again; the untouched digests are not.
    let f = failure(dir.path(), None);
    assert_eq!(f.problem, Problem::DigestHeadMismatch { digest_seq: 3 });
    assert_eq!(f.seq, Some(15));

    // The attacker forges the digests too: without the key that passes...
    let hashes = lines(&seg)
        .iter()
        .map(|l| {
            let r = parse_record(&l[..l.len() - 1]).unwrap();
            (r.seq, format::hex(&r.hash))
        })
        .collect();
    forge_digests(dir.path(), &hashes);
    assert!(
        verify(dir.path(), None).is_ok(),
        "without the key, digests are only advisory"
    );
    // ...but not with it.
    let f = failure(dir.path(), Some(&key()));
    assert_eq!(
        (f.file.as_str(), f.line, &f.problem),
        (DIGEST_FILE, 3, &Problem::DigestBadSignature)
    );
    let wrong = SecretKey::from_bytes([1; 32]);
    assert_eq!(
        failure(dir.path(), Some(&wrong)).problem,
        Problem::DigestBadSignature
    );
    assert!(matches!(
        AuditLog::open(dir.path(), Some(key()), clock()),
        Err(AuditError::Corrupt(_))
    ));
}

#[tokio::test]
async fn truncated_log_is_caught_by_digests() {
    let dir = tempfile::tempdir().unwrap();
    write_log_seq(dir.path(), Some(key()), opts(5, 64 << 20), 20).await;
    let seg = segments(dir.path()).pop().unwrap();
    let mut l = lines(&seg);
    l.truncate(17);
    write_lines(&seg, &l);
    let f = failure(dir.path(), Some(&key()));
    assert_eq!(
        f.problem,
        Problem::DigestHeadMissing {
            digest_seq: 4,
            head_seq: 20,
            last_seq: 17
        }
    );
    assert!(f.to_string().contains("truncated"), "{f}");
    assert!(matches!(
        AuditLog::open(dir.path(), Some(key()), clock()),
        Err(AuditError::Corrupt(_))
    ));
}

#[tokio::test]
async fn unsigned_digests_fail_when_a_key_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), None, opts(5, 64 << 20), 6).await;
    assert!(verify(dir.path(), None).is_ok());
    assert_eq!(
        failure(dir.path(), Some(&key())).problem,
        Problem::DigestUnsigned
    );
}

#[tokio::test]
async fn rotation_keeps_one_chain_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), Some(key()), opts(1000, 3000), 30).await;
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "{segs:?}");
    let report = verify(dir.path(), Some(&key()));
    assert!(report.is_ok(), "{report}");
    assert!(
        report.digests >= segs.len() as u64,
        "a digest at each rotation and at close: {report}"
    );
    for s in &segs {
        let first = parse_record(&lines(s)[0][..lines(s)[0].len() - 1])
            .unwrap()
            .seq;
        assert_eq!(
            s.file_name().unwrap().to_str().unwrap(),
            segment_name(first)
        );
    }
    let log = open(dir.path(), Some(key()), opts(1000, 3000));
    let page = log.lookup(&LookupQuery::default()).unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=30).rev().collect::<Vec<_>>()
    );
    assert_eq!(log.append(event(31)).await.unwrap(), 31);
    log.close().await.unwrap();
    assert!(verify(dir.path(), Some(&key())).is_ok());
}

#[tokio::test]
async fn failed_sync_fails_every_waiter_and_closes_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, AuditOptions::default());
    assert_eq!(log.append(event(1)).await.unwrap(), 1);
    log.inject_sync_failure();
    assert!(matches!(
        log.append(event(2)).await,
        Err(AuditError::WriteFailed(_))
    ));
    assert!(matches!(
        log.append(event(3)).await,
        Err(AuditError::Failed)
    ));
    assert!(matches!(log.close().await, Err(AuditError::Failed)));
    drop(log);
    // The writer releases the directory as it exits; reopening resumes a valid chain.
    let mut reopened = None;
    for _ in 0..100 {
        match AuditLog::open(dir.path(), None, clock()) {
            Ok(l) => {
                reopened = Some(l);
                break;
            }
            Err(AuditError::Locked(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => panic!("{e}"),
        }
    }
    let log = reopened.unwrap();
    let seq = log.append(event(4)).await.unwrap();
    assert!(seq >= 2);
    log.close().await.unwrap();
    assert!(verify(dir.path(), None).is_ok());
}

#[tokio::test]
async fn append_redacts_secrets_defensively() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, AuditOptions::default());
    let ev = event(1)
        .with_request(json!({"KeyId": "k", "Plaintext": "dG9wIHNlY3JldA=="}))
        .with_response(json!({"SecretString": "hunter2"}));
    log.append(ev).await.unwrap();
    log.close().await.unwrap();
    let bytes = std::fs::read(segments(dir.path()).pop().unwrap()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("dG9wIHNlY3JldA==") && !text.contains("hunter2"));
    assert_eq!(text.matches(HIDDEN).count(), 2);
}

/// A log of varied events for lookup tests: 3 accounts, several names and sources.
async fn lookup_fixture(dir: &Path) -> AuditLog {
    let log = open(dir, Some(key()), AuditOptions::default());
    let (a, b) = (acct("111111111111"), acct("222222222222"));
    for i in 0..120u64 {
        let account = if i.is_multiple_of(3) { b } else { a };
        let user = if i.is_multiple_of(4) { "bob" } else { "alice" };
        let (source, name) = if i.is_multiple_of(5) {
            ("secretsmanager.amazonaws.com", "GetSecretValue")
        } else {
            ("kms.amazonaws.com", "Decrypt")
        };
        let arn = format!("arn:aws:kms:us-east-1:{account}:key/k{}", i % 7);
        let ev = AuditEvent::api_call(
            &ctx(account, user, T0 + Duration::from_secs(i * 60)),
            source,
            name,
            i.is_multiple_of(2),
        )
        .with_resource(arn.clone(), account, "AWS::KMS::Key");
        log.append(ev).await.unwrap();
    }
    let failed = AuditEvent::failed_authentication(&FailedAuthentication {
        request_id: "r-bad".into(),
        region: "us-east-1".into(),
        source_ip: "203.0.113.9".parse().unwrap(),
        user_agent: "curl".into(),
        time: T0 + Duration::from_secs(120 * 60),
        event_source: "kms.amazonaws.com".into(),
        event_name: "Decrypt".into(),
        access_key_id: Some("AKIAPROBE".into()),
        account: None,
        error_code: "UnrecognizedClientException".into(),
        error_message: "The security token included in the request is invalid.".into(),
    });
    log.append(failed).await.unwrap();
    log
}

fn query(attribute: Option<(LookupKey, &str)>) -> LookupQuery {
    LookupQuery {
        attribute: attribute.map(|(k, v)| (k, v.to_owned())),
        max_results: 50,
        ..LookupQuery::default()
    }
}

/// Every matching event, following next tokens.
fn lookup_all(log: &AuditLog, mut q: LookupQuery) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    loop {
        let page = log.lookup(&q).unwrap();
        assert!(page.events.len() <= q.max_results);
        out.extend(page.events);
        match page.next_token {
            Some(t) => q.next_token = Some(t),
            None => return out,
        }
    }
}

#[tokio::test]
async fn lookup_filters_by_each_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let log = lookup_fixture(dir.path()).await;
    let count = |k, v| lookup_all(&log, query(Some((k, v)))).len();
    assert_eq!(count(LookupKey::EventName, "GetSecretValue"), 24);
    assert_eq!(
        count(LookupKey::EventSource, "secretsmanager.amazonaws.com"),
        24
    );
    assert_eq!(count(LookupKey::ReadOnly, "true"), 60);
    assert_eq!(count(LookupKey::ReadOnly, "false"), 61);
    assert_eq!(count(LookupKey::Username, "bob"), 30);
    assert_eq!(count(LookupKey::ResourceType, "AWS::KMS::Key"), 120);
    assert_eq!(
        count(
            LookupKey::ResourceName,
            "arn:aws:kms:us-east-1:111111111111:key/k1"
        ),
        12
    );
    assert_eq!(count(LookupKey::AccessKeyId, "AKIABOB"), 30);
    assert_eq!(count(LookupKey::AccessKeyId, "AKIAPROBE"), 1);
    let one = &lookup_all(&log, query(None))[7];
    let by_id = lookup_all(&log, query(Some((LookupKey::EventId, &one.event.event_id))));
    assert_eq!(by_id, vec![one.clone()]);
    assert!(matches!(
        "Bogus".parse::<LookupKey>(),
        Err(AuditError::InvalidLookupAttributes(_))
    ));
    assert_eq!(
        "ResourceName".parse::<LookupKey>().unwrap(),
        LookupKey::ResourceName
    );
}

#[tokio::test]
async fn lookup_pages_newest_first_with_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let log = lookup_fixture(dir.path()).await;
    let mut q = query(None);
    let p1 = log.lookup(&q).unwrap();
    assert_eq!(p1.events.len(), 50);
    assert_eq!(p1.events[0].seq, 121);
    q.next_token = p1.next_token.clone();
    let p2 = log.lookup(&q).unwrap();
    q.next_token = p2.next_token.clone();
    let p3 = log.lookup(&q).unwrap();
    assert_eq!(
        (p2.events.len(), p3.events.len(), p3.next_token.as_ref()),
        (50, 21, None)
    );
    let seqs: Vec<u64> = [p1.events, p2.events, p3.events]
        .concat()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=121).rev().collect::<Vec<_>>());

    // Exactly one page's worth leaves no dangling token.
    let mut exact = query(Some((LookupKey::EventName, "GetSecretValue")));
    exact.max_results = 24;
    assert_eq!(log.lookup(&exact).unwrap().next_token, None);
}

#[tokio::test]
async fn lookup_rejects_bad_tokens_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let log = lookup_fixture(dir.path()).await;
    let token = log.lookup(&query(None)).unwrap().next_token.unwrap();
    let mut forged = token.clone().into_bytes();
    forged[15] = if forged[15] == b'0' { b'1' } else { b'0' };
    for bad in [
        String::from_utf8(forged).unwrap(),
        "garbage".into(),
        String::new(),
        token.to_uppercase(),
    ] {
        let q = LookupQuery {
            next_token: Some(bad),
            ..query(None)
        };
        assert!(matches!(log.lookup(&q), Err(AuditError::InvalidNextToken)));
    }
    // A token is only good for the query that issued it.
    let q = LookupQuery {
        next_token: Some(token),
        ..query(Some((LookupKey::Username, "bob")))
    };
    assert!(matches!(log.lookup(&q), Err(AuditError::InvalidNextToken)));
    for max_results in [0, 51] {
        let q = LookupQuery {
            max_results,
            ..query(None)
        };
        assert!(matches!(log.lookup(&q), Err(AuditError::InvalidMaxResults)));
    }
    let q = LookupQuery {
        start: Some(T0 + Duration::from_secs(10)),
        end: Some(T0),
        ..query(None)
    };
    assert!(matches!(log.lookup(&q), Err(AuditError::InvalidTimeRange)));
}

#[tokio::test]
async fn lookup_time_range_and_account_isolation() {
    let dir = tempfile::tempdir().unwrap();
    let log = lookup_fixture(dir.path()).await;
    let q = LookupQuery {
        start: Some(T0 + Duration::from_secs(10 * 60)),
        end: Some(T0 + Duration::from_secs(19 * 60)),
        ..query(None)
    };
    let got: Vec<u64> = lookup_all(&log, q).iter().map(|e| e.seq).collect();
    assert_eq!(got, (11..=20).rev().collect::<Vec<_>>(), "inclusive bounds");

    let b = acct("222222222222");
    let only_b = lookup_all(
        &log,
        LookupQuery {
            account: Some(b),
            max_results: 7,
            ..query(None)
        },
    );
    assert_eq!(only_b.len(), 40);
    assert!(
        only_b
            .iter()
            .all(|e| e.event.recipient_account_id == Some(b))
    );
    let none = LookupQuery {
        account: Some(acct("333333333333")),
        ..query(None)
    };
    assert!(log.lookup(&none).unwrap().events.is_empty());
    let bob_in_b = LookupQuery {
        account: Some(b),
        ..query(Some((LookupKey::Username, "bob")))
    };
    assert_eq!(lookup_all(&log, bob_in_b).len(), 10);
}

#[tokio::test]
async fn lookup_output_has_the_api_shape() {
    let dir = tempfile::tempdir().unwrap();
    let log = lookup_fixture(dir.path()).await;
    let page = log
        .lookup(&LookupQuery {
            max_results: 2,
            ..query(None)
        })
        .unwrap();
    let out = lookup_events_output(&page);
    assert!(out["NextToken"].is_string());
    let failed = &out["Events"][0];
    assert_eq!(failed["ReadOnly"], "false");
    assert_eq!(failed["AccessKeyId"], "AKIAPROBE");
    assert!(failed.get("Username").is_none());
    let item = &out["Events"][1];
    assert_eq!(
        item["EventTime"],
        json!((T0 + Duration::from_secs(119 * 60)).unix_timestamp())
    );
    assert_eq!(item["ReadOnly"], "false");
    assert_eq!(item["Username"], "alice");
    assert_eq!(item["Resources"][0]["ResourceType"], "AWS::KMS::Key");
    let embedded: serde_json::Value =
        serde_json::from_str(item["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(
        embedded,
        serde_json::to_value(&page.events[1].event).unwrap()
    );
    assert_eq!(embedded["eventID"], item["EventId"]);
}

#[tokio::test]
async fn lookup_refuses_records_edited_after_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), None, AuditOptions::default());
    log.append(event(1)).await.unwrap();
    let seg = segments(dir.path()).pop().unwrap();
    let edited = String::from_utf8(std::fs::read(&seg).unwrap())
        .unwrap()
        .replace("key-1", "key-9");
    std::fs::write(&seg, edited).unwrap();
    assert!(matches!(
        log.lookup(&query(None)),
        Err(AuditError::Corrupt(_))
    ));
}

#[test]
fn report_display_names_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join(segment_name(1));
    let (l1, h1) = encode_record(1, &ZERO_HASH, r#"{"a":1}"#);
    let (l2, _) = encode_record(2, &h1, r#"{"a":2}"#);
    let mut bad = l2.clone();
    bad[30] ^= 1;
    std::fs::write(&seg, [l1, bad].concat()).unwrap();
    let text = verify(dir.path(), None).to_string();
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains(&format!("{} line 2 (seq 2)", segment_name(1))),
        "{text}"
    );
    let missing = verify(&dir.path().join("nope"), None);
    assert!(matches!(
        missing.failure.unwrap().problem,
        Problem::Unreadable(_)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Changing any one byte of any record makes verification fail at that record (or
    /// earlier), with or without the key; it never passes.
    #[test]
    fn any_byte_edit_is_caught_at_its_record(n in 1u64..16, pick in any::<prop::sample::Index>(), new in any::<u8>()) {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(write_log(dir.path(), Some(key()), opts(4, 64 << 20), n));
        let seg = segments(dir.path()).pop().unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        let pos = pick.index(bytes.len());
        prop_assume!(bytes[pos] != new);
        let record_line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        bytes[pos] = new;
        std::fs::write(&seg, &bytes).unwrap();
        for k in [None, Some(key())] {
            let report = verify(dir.path(), k.as_ref());
            let f = report.failure.clone();
            prop_assert!(f.is_some(), "edit at byte {} passed: {}", pos, report);
            let f = f.unwrap();
            prop_assert_eq!(&f.file, &segment_name(1));
            prop_assert!(f.line <= record_line, "edit in line {} reported at {}", record_line, f);
        }
    }
}

/// The writer waits for records announced with `underway`, and only for those: appends
/// with nothing announced never wait, however many run at once; an announced record's
/// group is held until the announcement ends; `append_all_underway` does not wait for
/// its own announcement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gathering_waits_only_for_announced_records() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let o = AuditOptions {
        gather: Duration::from_secs(30),
        ..AuditOptions::default()
    };
    let log = Arc::new(open(dir.path(), None, o));
    let mut set = tokio::task::JoinSet::new();
    for i in 1..=40 {
        let log = Arc::clone(&log);
        set.spawn(async move { log.append(event(i)).await.unwrap() });
    }
    let all = async {
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .expect("nothing announced: no append waits");

    let announced = log.underway();
    let waiting = {
        let log = Arc::clone(&log);
        tokio::spawn(async move { log.append(event(41)).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the group waits for the announced record"
    );
    drop(announced);
    let seq = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the announcement ended: the group is committed")
        .unwrap();
    assert_eq!(seq, 41);

    let own = log.underway();
    let seq = tokio::time::timeout(
        Duration::from_secs(10),
        log.append_all_underway(vec![event(42), event(43)], own),
    )
    .await
    .expect("a caller's own announcement ends with its records")
    .unwrap();
    assert_eq!(seq, 43);
    log.close().await.unwrap();
    assert_eq!(lines(&segments(dir.path())[0]).len(), 43);
    assert!(verify(dir.path(), None).is_ok());
}
