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
