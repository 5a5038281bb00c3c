//! The conformance suite against the embedded (redb) adapter.

// Test helpers outside #[test] fns fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_storage::conformance::Fixture;
use coffer_storage::{Storage, StorageError, open, open_embedded};
use std::sync::Arc;

struct Redb {
    dir: tempfile::TempDir,
}

impl Redb {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

impl Fixture for Redb {
    fn open(&self) -> Result<Arc<dyn Storage>, StorageError> {
        open_embedded(&self.dir.path().join("coffer.redb"))
    }
}

coffer_storage::conformance_tests!(Redb::new());

#[test]
fn open_dispatches_on_the_location() -> Result<(), StorageError> {
    let fx = Redb::new();
    let path = fx.dir.path().join("via-open.redb");
    let s = open(path.to_str().unwrap())?;
    assert_eq!(s.backend(), "redb");
    assert!(path.exists());
    Ok(())
}

#[test]
fn missing_directory_is_an_error_not_a_panic() {
    let fx = Redb::new();
    let r = open_embedded(&fx.dir.path().join("no/such/dir/coffer.redb"));
    assert!(
        matches!(r, Err(StorageError::Unavailable { .. })),
        "{:?}",
        r.err()
    );
}

/// Counts the read transactions a store opens.
struct CountingReads {
    inner: Arc<dyn Storage>,
    reads: std::sync::atomic::AtomicUsize,
}

impl Storage for CountingReads {
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn coffer_storage::Txn) -> Result<(), coffer_storage::TxnError>,
    ) -> Result<(), StorageError> {
        self.inner.write_txn(f)
    }

    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn coffer_storage::Txn) -> Result<(), coffer_storage::TxnError>,
    ) -> Result<(), StorageError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.read_txn(f)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

#[test]
fn read_each_opens_a_transaction_per_read_and_none_when_idle() -> Result<(), StorageError> {
    let fx = Redb::new();
    let store = CountingReads {
        inner: fx.open()?,
        reads: Default::default(),
    };
    coffer_storage::write(&store, |t| t.put("things", b"a/1", b"one"))?;
    let reads = || store.reads.load(std::sync::atomic::Ordering::SeqCst);
    let before = reads();
    assert_eq!(coffer_storage::read_each(&store, |_| 7), 7);
    assert_eq!(reads(), before, "an unused Txn opens nothing");
    let (got, rows, put) = coffer_storage::read_each(&store, |t| {
        (
            t.get("things", b"a/1"),
            t.scan("things", b"a/", None, 10),
            t.put("things", b"a/2", b"two"),
        )
    });
    assert_eq!(got?.as_deref(), Some(&b"one"[..]));
    assert_eq!(rows?.len(), 1);
    assert!(matches!(put, Err(StorageError::ReadOnly)));
    assert_eq!(reads(), before + 2, "one transaction per read");
    assert_eq!(
        coffer_storage::read(&store, |t| t.get("things", b"a/2"))?,
        None,
        "the refused write left nothing"
    );
    Ok(())
}
