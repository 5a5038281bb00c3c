//! The conformance suite every adapter must pass.
//!
//! Each case takes a fresh, empty store and returns `Err` for storage failures and panics (via
//! `assert!`) on wrong behaviour. [`conformance_tests!`](crate::conformance_tests) expands to
//! one `#[test]` per case for an adapter, given an expression that builds a [`Fixture`]:
//!
//! ```ignore
//! struct MyFixture { dir: tempfile::TempDir }
//! impl coffer_storage::conformance::Fixture for MyFixture { /* open(&self) */ }
//! coffer_storage::conformance_tests!(MyFixture::new());
//! ```

use crate::{
    Entry, MAX_KEY_LEN, SCHEMA_VERSION, Storage, StorageError, Txn, TxnError, read, schema_version,
    write,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc;

/// A place holding one empty store for one test; cleaned up when dropped.
pub trait Fixture {
    /// Opens the store. Calling it again after dropping every earlier handle reopens the same
    /// data (for the persistence case).
    fn open(&self) -> Result<Arc<dyn Storage>, StorageError>;
}

/// Expands to one `#[test]` per conformance case; `$fixture` builds a fresh [`Fixture`] per test.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:expr) => {
        $crate::conformance_tests!(@storage $fixture;
            get_put_delete, overwrite, empty_values_and_keys, binary_keys, scan_prefix_and_paging,
            scan_matches_model, scan_sees_own_writes, tables_are_isolated, abort_rolls_back,
            storage_error_rolls_back, domain_error_comes_back_typed, read_txn_rejects_writes,
            swallowed_error_blocks_commit, reserved_tables_are_read_only, size_limits,
            uncommitted_writes_are_invisible, read_txn_is_a_snapshot,
            concurrent_increments_lose_no_update, schema_version_is_recorded);
        $crate::conformance_tests!(@fixture $fixture; reopen_persists);
    };
    (@storage $fixture:expr; $($case:ident),* $(,)?) => {$(
        #[test]
        fn $case() -> ::std::result::Result<(), $crate::StorageError> {
            let fixture = $fixture;
            let storage = $crate::conformance::Fixture::open(&fixture)?;
            $crate::conformance::$case(&*storage)
        }
    )*};
    (@fixture $fixture:expr; $($case:ident),* $(,)?) => {$(
        #[test]
        fn $case() -> ::std::result::Result<(), $crate::StorageError> {
            let fixture = $fixture;
            $crate::conformance::$case(&fixture)
        }
    )*};
}

type Entries = Vec<Entry>;

fn put1(s: &dyn Storage, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
    write(s, |txn| txn.put(table, key, value))
}

fn get1(s: &dyn Storage, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
    read(s, |txn| txn.get(table, key))
}

fn scan_all(s: &dyn Storage, table: &str) -> Result<Entries, StorageError> {
    read(s, |txn| txn.scan(table, b"", None, usize::MAX))
}

fn keys(entries: &Entries) -> Vec<Vec<u8>> {
    entries.iter().map(|(k, _)| k.clone()).collect()
}

pub fn get_put_delete(s: &dyn Storage) -> Result<(), StorageError> {
    assert_eq!(get1(s, "t", b"k")?, None, "missing key reads as None");
    put1(s, "t", b"k", b"v")?;
    assert_eq!(get1(s, "t", b"k")?, Some(b"v".to_vec()));
    assert!(
        write(s, |txn| txn.delete("t", b"k"))?,
        "delete reports an existing key"
    );
    assert_eq!(get1(s, "t", b"k")?, None);
    assert!(
        !write(s, |txn| txn.delete("t", b"k"))?,
        "delete reports a missing key"
    );
    assert!(!write(s, |txn| txn.delete("never_written", b"k"))?);
    assert_eq!(get1(s, "never_written", b"k")?, None);
    Ok(())
}

pub fn overwrite(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"k", b"a much longer first value")?;
    put1(s, "t", b"k", b"short")?;
    assert_eq!(get1(s, "t", b"k")?, Some(b"short".to_vec()));
    write(s, |txn| {
        txn.put("t", b"k", b"one")?;
        txn.put("t", b"k", b"two")?;
        assert_eq!(txn.get("t", b"k")?, Some(b"two".to_vec()));
        Ok::<_, StorageError>(())
    })?;
    assert_eq!(get1(s, "t", b"k")?, Some(b"two".to_vec()));
    assert_eq!(scan_all(s, "t")?.len(), 1, "overwrite does not duplicate");
    Ok(())
}

pub fn empty_values_and_keys(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"empty", b"")?;
    assert_eq!(
        get1(s, "t", b"empty")?,
        Some(Vec::new()),
        "empty is not missing"
    );
    put1(s, "t", b"", b"empty key")?;
    assert_eq!(get1(s, "t", b"")?, Some(b"empty key".to_vec()));
    let all = scan_all(s, "t")?;
    assert_eq!(keys(&all), vec![b"".to_vec(), b"empty".to_vec()]);
    assert!(write(s, |txn| txn.delete("t", b""))?);
    assert_eq!(get1(s, "t", b"")?, None);
    Ok(())
}

pub fn binary_keys(s: &dyn Storage) -> Result<(), StorageError> {
    let mut ks: Vec<Vec<u8>> = vec![
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xFF],
        vec![0x01],
        vec![0x7F],
        vec![0x80],
        vec![0xFE, 0xFF],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF, 0xFF],
        b"a\x00b".to_vec(),
        b"a".to_vec(),
        b"\xC3\x28 not utf-8".to_vec(),
    ];
    write(s, |txn| {
        for (i, k) in ks.iter().enumerate() {
            txn.put("bin", k, &[i as u8, 0x00, 0xFF])?;
        }
        Ok::<_, StorageError>(())
    })?;
    for (i, k) in ks.iter().enumerate() {
        assert_eq!(
            get1(s, "bin", k)?,
            Some(vec![i as u8, 0x00, 0xFF]),
            "key {k:?}"
        );
    }
    ks.sort();
    assert_eq!(
        keys(&scan_all(s, "bin")?),
        ks,
        "ascending unsigned byte order"
    );
    Ok(())
}

pub fn scan_prefix_and_paging(s: &dyn Storage) -> Result<(), StorageError> {
    let stored: [&[u8]; 9] = [
        b"a",
        b"ab",
        b"ab\x00",
        b"abc",
        b"ab\xFF",
        b"ab\xFF\xFF",
        b"ac",
        b"b",
        b"\xFF\xFF",
    ];
    write(s, |txn| {
        for k in stored {
            txn.put("s", k, k)?;
        }
        Ok::<_, StorageError>(())
    })?;
    let scan = |prefix: &[u8], after: Option<&[u8]>, limit: usize| {
        read(s, |txn| txn.scan("s", prefix, after, limit)).map(|e| keys(&e))
    };
    let v = |ks: &[&[u8]]| ks.iter().map(|k| k.to_vec()).collect::<Vec<_>>();

    let ab = v(&[b"ab", b"ab\x00", b"abc", b"ab\xFF", b"ab\xFF\xFF"]);
    assert_eq!(
        scan(b"ab", None, 100)?,
        ab,
        "prefix, inclusive of the prefix itself"
    );
    assert_eq!(scan(b"ab", None, 2)?, ab[..2].to_vec(), "limit");
    assert_eq!(scan(b"ab", None, 0)?, Vec::<Vec<u8>>::new(), "limit 0");
    assert_eq!(
        scan(b"ab", Some(b"abc"), 100)?,
        ab[3..].to_vec(),
        "start_after is exclusive"
    );
    assert_eq!(
        scan(b"ab", Some(b"abb"), 100)?,
        ab[2..].to_vec(),
        "start_after need not exist"
    );
    assert_eq!(
        scan(b"ab", Some(b"a"), 100)?,
        ab,
        "start_after before the prefix"
    );
    assert_eq!(
        scan(b"ab", Some(b"ac"), 100)?,
        Vec::<Vec<u8>>::new(),
        "start_after past it"
    );
    assert_eq!(
        scan(b"ab\xFF", None, 100)?,
        ab[3..].to_vec(),
        "prefix ending in 0xFF"
    );
    assert_eq!(
        scan(b"\xFF", None, 100)?,
        v(&[b"\xFF\xFF"]),
        "prefix of only 0xFF"
    );
    assert_eq!(scan(b"zz", None, 100)?, Vec::<Vec<u8>>::new(), "no match");
    assert_eq!(
        scan(b"", None, usize::MAX)?.len(),
        stored.len(),
        "empty prefix is everything"
    );

    // Paging with start_after = last key of the previous page visits everything once, in order.
    let mut paged = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = scan(b"", after.as_deref(), 2)?;
        let Some(last) = page.last().cloned() else {
            break;
        };
        assert!(page.len() <= 2);
        paged.extend(page);
        after = Some(last);
    }
    let mut expected = v(&stored);
    expected.sort();
    assert_eq!(paged, expected);
    // Values come back with their keys.
    let entries = read(s, |txn| txn.scan("s", b"ac", None, 10))?;
    assert_eq!(entries, vec![(b"ac".to_vec(), b"ac".to_vec())]);
    Ok(())
}

/// Compares scans over a pseudo-random store against a `BTreeMap` model.
pub fn scan_matches_model(s: &dyn Storage) -> Result<(), StorageError> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut model = BTreeMap::new();
    for _ in 0..150 {
        let k = rng.key(4);
        let v = rng.key(3);
        model.insert(k, v);
    }
    write(s, |txn| {
        for (k, v) in &model {
            txn.put("m", k, v)?;
        }
        Ok::<_, StorageError>(())
    })?;
    let mut queries = Vec::new();
    for _ in 0..60 {
        let prefix = rng.key(2);
        let after = if rng.next().is_multiple_of(2) {
            Some(rng.key(4))
        } else {
            None
        };
        let limit = (rng.next() % 12) as usize;
        queries.push((prefix, after, limit));
    }
    read(s, |txn| {
        for (prefix, after, limit) in &queries {
            let expected: Entries = model
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
                .take(*limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let got = txn.scan("m", prefix, after.as_deref(), *limit)?;
            assert_eq!(
                got, expected,
                "prefix {prefix:?} after {after:?} limit {limit}"
            );
        }
        Ok::<_, StorageError>(())
    })
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Up to `max_len` bytes drawn from values around the signed/unsigned and 0x00/0xFF edges.
    fn key(&mut self, max_len: u64) -> Vec<u8> {
        const ALPHABET: [u8; 6] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
        let len = self.next() % (max_len + 1);
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
            .collect()
    }
}

pub fn scan_sees_own_writes(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"k1", b"old")?;
    put1(s, "t", b"k3", b"gone")?;
    write(s, |txn| {
        txn.put("t", b"k2", b"new")?;
        txn.put("t", b"k1", b"changed")?;
        txn.delete("t", b"k3")?;
        let got = txn.scan("t", b"k", None, 10)?;
        assert_eq!(
            got,
            vec![
                (b"k1".to_vec(), b"changed".to_vec()),
                (b"k2".to_vec(), b"new".to_vec())
            ]
        );
        Ok::<_, StorageError>(())
    })
}

pub fn tables_are_isolated(s: &dyn Storage) -> Result<(), StorageError> {
    write(s, |txn| {
        txn.put("t", b"k", b"in t")?;
        txn.put("t_", b"k", b"in t_")?;
        txn.put("tt", b"k", b"in tt")?;
        txn.put("T", b"k", b"in T")?;
        Ok::<_, StorageError>(())
    })?;
    assert_eq!(get1(s, "t", b"k")?, Some(b"in t".to_vec()));
    assert_eq!(get1(s, "t_", b"k")?, Some(b"in t_".to_vec()));
    assert_eq!(
        get1(s, "T", b"k")?,
        Some(b"in T".to_vec()),
        "names are case-sensitive"
    );
    assert_eq!(scan_all(s, "t")?, vec![(b"k".to_vec(), b"in t".to_vec())]);
    assert!(write(s, |txn| txn.delete("t", b"k"))?);
    assert_eq!(get1(s, "t", b"k")?, None);
    assert_eq!(get1(s, "tt", b"k")?, Some(b"in tt".to_vec()));
    assert_eq!(get1(s, "t_", b"k")?, Some(b"in t_".to_vec()));
    Ok(())
}

fn seed_state(s: &dyn Storage) -> Result<(), StorageError> {
    write(s, |txn| {
        txn.put("t", b"keep", b"original")?;
        txn.put("t", b"doomed", b"still here")?;
        Ok::<_, StorageError>(())
    })
}

fn assert_seed_state(s: &dyn Storage) -> Result<(), StorageError> {
    assert_eq!(
        scan_all(s, "t")?,
        vec![
            (b"doomed".to_vec(), b"still here".to_vec()),
            (b"keep".to_vec(), b"original".to_vec())
        ],
        "rolled back transaction left no trace"
    );
    assert_eq!(scan_all(s, "other")?, Vec::new());
    Ok(())
}

fn scribble(txn: &mut dyn Txn) -> Result<(), StorageError> {
    txn.put("t", b"keep", b"overwritten")?;
    assert!(txn.delete("t", b"doomed")?);
    txn.put("t", b"new", b"inserted")?;
    txn.put("other", b"x", b"y")
}

pub fn abort_rolls_back(s: &dyn Storage) -> Result<(), StorageError> {
    seed_state(s)?;
    let r = s.write_txn(&mut |txn| {
        scribble(txn)?;
        Err(TxnError::Abort)
    });
    assert!(matches!(r, Err(StorageError::Aborted)), "got {r:?}");
    assert_seed_state(s)
}

pub fn storage_error_rolls_back(s: &dyn Storage) -> Result<(), StorageError> {
    seed_state(s)?;
    let r = s.write_txn(&mut |txn| {
        scribble(txn)?;
        Err(TxnError::Storage(StorageError::ReadOnly))
    });
    assert!(matches!(r, Err(StorageError::ReadOnly)), "got {r:?}");
    assert_seed_state(s)
}

#[derive(Debug)]
enum Domain {
    NotAllowed(String),
    Storage(StorageError),
}

impl From<StorageError> for Domain {
    fn from(e: StorageError) -> Self {
        Domain::Storage(e)
    }
}

pub fn domain_error_comes_back_typed(s: &dyn Storage) -> Result<(), StorageError> {
    seed_state(s)?;
    let r: Result<u32, Domain> = write(s, |txn| {
        scribble(txn)?;
        Err(Domain::NotAllowed("quota".into()))
    });
    assert!(
        matches!(r, Err(Domain::NotAllowed(ref w)) if w == "quota"),
        "{r:?}"
    );
    assert_seed_state(s)?;
    let r: Result<u32, Domain> = read(s, |txn| {
        txn.get("t", b"keep")?;
        Err(Domain::NotAllowed("read".into()))
    });
    assert!(
        matches!(r, Err(Domain::NotAllowed(ref w)) if w == "read"),
        "{r:?}"
    );

    // A storage error raised inside the closure comes back through the caller's type.
    let r: Result<(), Domain> = write(s, |txn| Ok(txn.put("bad name", b"k", b"v")?));
    assert!(
        matches!(
            r,
            Err(Domain::Storage(StorageError::InvalidTableName { .. }))
        ),
        "{r:?}"
    );

    // Values come back too.
    let n: Result<usize, Domain> = write(s, |txn| {
        txn.put("t", b"extra", b"1")?;
        Ok(txn.scan("t", b"", None, 100)?.len())
    });
    assert!(matches!(n, Ok(3)), "{n:?}");
    let v: Result<Option<Vec<u8>>, Domain> = read(s, |txn| Ok(txn.get("t", b"extra")?));
    assert!(matches!(v, Ok(Some(ref v)) if v == b"1"), "{v:?}");
    Ok(())
}

pub fn read_txn_rejects_writes(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"k", b"v")?;
    let r = s.read_txn(&mut |txn| {
        let put = txn.put("t", b"new", b"x");
        assert!(matches!(put, Err(StorageError::ReadOnly)), "put: {put:?}");
        Ok(())
    });
    assert!(matches!(r, Err(StorageError::ReadOnly)), "{r:?}");
    let r = s.read_txn(&mut |txn| {
        let del = txn.delete("t", b"k");
        assert!(
            matches!(del, Err(StorageError::ReadOnly)),
            "delete: {del:?}"
        );
        Ok(())
    });
    assert!(matches!(r, Err(StorageError::ReadOnly)), "{r:?}");
    assert_eq!(scan_all(s, "t")?, vec![(b"k".to_vec(), b"v".to_vec())]);
    Ok(())
}

pub fn swallowed_error_blocks_commit(s: &dyn Storage) -> Result<(), StorageError> {
    let r = s.write_txn(&mut |txn| {
        txn.put("t", b"first", b"1")?;
        let bad = txn.put("not a table", b"k", b"v");
        assert!(
            matches!(bad, Err(StorageError::InvalidTableName { .. })),
            "{bad:?}"
        );
        // A poisoned transaction refuses further work too.
        assert!(txn.get("t", b"first").is_err());
        Ok(()) // swallowed
    });
    assert!(
        matches!(r, Err(StorageError::InvalidTableName { .. })),
        "{r:?}"
    );
    assert_eq!(get1(s, "t", b"first")?, None, "nothing committed");
    Ok(())
}

pub fn reserved_tables_are_read_only(s: &dyn Storage) -> Result<(), StorageError> {
    let r = put1(s, "_meta", b"schema_version", &[0; 8]);
    assert!(
        matches!(r, Err(StorageError::ReservedTable { .. })),
        "{r:?}"
    );
    let r = write(s, |txn| txn.delete("_meta", b"schema_version"));
    assert!(
        matches!(r, Err(StorageError::ReservedTable { .. })),
        "{r:?}"
    );
    assert!(get1(s, "_meta", b"schema_version")?.is_some(), "readable");
    assert_eq!(schema_version(s)?, SCHEMA_VERSION);
    Ok(())
}

pub fn size_limits(s: &dyn Storage) -> Result<(), StorageError> {
    let key = vec![0xAB; MAX_KEY_LEN];
    let value: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    put1(s, "t", &key, &value)?;
    assert_eq!(get1(s, "t", &key)?.as_deref(), Some(value.as_slice()));
    let long = vec![0xAB; MAX_KEY_LEN + 1];
    let r = put1(s, "t", &long, b"v");
    assert!(
        matches!(r, Err(StorageError::TooLarge { what: "key", .. })),
        "{r:?}"
    );
    Ok(())
}

pub fn uncommitted_writes_are_invisible(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"k", b"before")?;
    std::thread::scope(|scope| {
        write(s, |txn| {
            txn.put("t", b"k", b"after")?;
            txn.put("t", b"k2", b"new")?;
            // Another thread, another transaction: must not see the uncommitted writes.
            let seen = scope
                .spawn(|| {
                    read(s, |t| {
                        Ok::<_, StorageError>((t.get("t", b"k")?, t.get("t", b"k2")?))
                    })
                })
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            assert_eq!(seen, (Some(b"before".to_vec()), None), "dirty read");
            Ok::<_, StorageError>(())
        })
    })?;
    assert_eq!(
        get1(s, "t", b"k")?,
        Some(b"after".to_vec()),
        "visible after commit"
    );
    assert_eq!(get1(s, "t", b"k2")?, Some(b"new".to_vec()));
    Ok(())
}

pub fn read_txn_is_a_snapshot(s: &dyn Storage) -> Result<(), StorageError> {
    put1(s, "t", b"a", b"1")?;
    put1(s, "t", b"b", b"1")?;
    let (go, wait) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        read(s, |txn| {
            assert_eq!(txn.get("t", b"a")?, Some(b"1".to_vec()));
            // A writer commits while this snapshot is open.
            let go = go.clone();
            scope
                .spawn(move || {
                    let r = write(s, |w| {
                        w.put("t", b"a", b"2")?;
                        w.put("t", b"b", b"2")?;
                        w.put("t", b"c", b"2")
                    });
                    let _ = go.send(());
                    r
                })
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            let _ = wait.recv();
            assert_eq!(txn.get("t", b"a")?, Some(b"1".to_vec()), "snapshot moved");
            assert_eq!(
                txn.scan("t", b"", None, 10)?,
                vec![
                    (b"a".to_vec(), b"1".to_vec()),
                    (b"b".to_vec(), b"1".to_vec())
                ],
                "snapshot moved"
            );
            Ok::<_, StorageError>(())
        })
    })?;
    assert_eq!(get1(s, "t", b"c")?, Some(b"2".to_vec()));
    Ok(())
}

/// Several threads each read a counter, add one and write it back, and log the value they
/// wrote. Serializable writes mean no increment is lost and no value is written twice.
pub fn concurrent_increments_lose_no_update(s: &dyn Storage) -> Result<(), StorageError> {
    const THREADS: usize = 6;
    const PER_THREAD: usize = 20;
    increment_from(&[s; THREADS], PER_THREAD)
}

/// [`concurrent_increments_lose_no_update`] with one thread per handle: handles to the same
/// store (PostgreSQL nodes) must not lose updates either.
pub fn increment_from(handles: &[&dyn Storage], per_thread: usize) -> Result<(), StorageError> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .iter()
            .map(|&h| {
                scope.spawn(move || -> Result<(), StorageError> {
                    for _ in 0..per_thread {
                        write(h, |txn| {
                            let n = match txn.get("counter", b"n")? {
                                Some(b) => u64::from_be_bytes(b.try_into().unwrap_or([0xFF; 8])),
                                None => 0,
                            };
                            let next = n + 1;
                            txn.put("counter", b"n", &next.to_be_bytes())?;
                            txn.put("counter_log", &next.to_be_bytes(), b"")
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        }
        Ok::<_, StorageError>(())
    })?;
    let total = (handles.len() * per_thread) as u64;
    let s = handles[0];
    assert_eq!(
        get1(s, "counter", b"n")?,
        Some(total.to_be_bytes().to_vec()),
        "lost update"
    );
    let log = scan_all(s, "counter_log")?;
    let expected: Vec<Vec<u8>> = (1..=total).map(|n| n.to_be_bytes().to_vec()).collect();
    assert_eq!(keys(&log), expected, "every value written exactly once");
    Ok(())
}

pub fn schema_version_is_recorded(s: &dyn Storage) -> Result<(), StorageError> {
    assert_eq!(schema_version(s)?, SCHEMA_VERSION);
    let raw = get1(s, "_meta", b"schema_version")?;
    assert_eq!(raw, Some(SCHEMA_VERSION.to_be_bytes().to_vec()));
    Ok(())
}

pub fn reopen_persists(fixture: &dyn Fixture) -> Result<(), StorageError> {
    {
        let s = fixture.open()?;
        write(&*s, |txn| {
            txn.put("t", b"kept", b"v1")?;
            txn.put("t", b"deleted", b"x")?;
            txn.put("u", b"\x00\xFF", b"")
        })?;
        write(&*s, |txn| {
            txn.put("t", b"kept", b"v2")?;
            txn.delete("t", b"deleted").map(|_| ())
        })?;
        let r = s.write_txn(&mut |txn| {
            txn.put("t", b"aborted", b"x")?;
            Err(TxnError::Abort)
        });
        assert!(matches!(r, Err(StorageError::Aborted)));
    }
    let s = fixture.open()?;
    assert_eq!(
        scan_all(&*s, "t")?,
        vec![(b"kept".to_vec(), b"v2".to_vec())]
    );
    assert_eq!(get1(&*s, "u", b"\x00\xFF")?, Some(Vec::new()));
    assert_eq!(schema_version(&*s)?, SCHEMA_VERSION);
    Ok(())
}
