//! coffer's transactional storage interface, its embedded (redb) and PostgreSQL adapters, and
//! their shared conformance suite.
//!
//! The interface is a set of named tables of byte keys to byte values, used only inside
//! transactions:
//!
//! * [`Storage::write_txn`] runs a closure in one serializable read-write transaction and commits
//!   durably if it succeeds; [`Storage::read_txn`] runs one over a consistent snapshot.
//! * [`write()`] and [`read()`] are the generic front doors: the closure returns the caller's own
//!   `Result<T, E>`, an `Err` rolls everything back and comes back out typed.
//! * Adapters: [`open_embedded`] (redb, one file, the default) and [`open_postgres`] (several
//!   coffer nodes sharing one PostgreSQL database). [`open`] picks by the location string.
//!
//! Never start a transaction from inside a transaction closure on the same thread: the embedded
//! adapter allows one writer at a time and would wait for itself.
//!
//! Transaction closures may run more than once (PostgreSQL retries serialization conflicts), so
//! they must not have side effects outside the transaction other than overwriting captured state.
//!
//! If any storage call inside a transaction fails, the transaction is *poisoned*: it will not
//! commit even when the closure swallows the error and returns `Ok`; the first error is returned
//! instead (or the transaction is retried, when that error was a serialization conflict).

mod embedded;
mod error;
mod migrate;
mod postgres;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::path::Path;
use std::sync::Arc;

pub use error::{BackendError, StorageError, TxnError};
pub use migrate::SCHEMA_VERSION;
pub use postgres::PostgresOptions;

/// The longest table name accepted.
pub const MAX_TABLE_NAME_LEN: usize = 63;
/// The longest key every adapter accepts (PostgreSQL's btree index limits keys to roughly 2.7 KB).
pub const MAX_KEY_LEN: usize = 1024;
/// The largest value every adapter accepts. Store bigger payloads in chunks.
pub const MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// A `(key, value)` pair returned by [`Txn::scan`].
pub type Entry = (Vec<u8>, Vec<u8>);

/// A transactional key-value store. Synchronous: call it from `tokio::task::spawn_blocking`.
pub trait Storage: Send + Sync + 'static {
    /// Runs `f` in one read-write transaction and commits if it returns `Ok(())`. Retries `f`
    /// transparently on serialization conflicts (PostgreSQL). Commit is durable (fsync) before
    /// return. `Err(TxnError::Abort)` from `f` rolls back and returns [`StorageError::Aborted`].
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError>;

    /// Runs `f` over a consistent snapshot (read-only): `put` and `delete` fail with
    /// [`StorageError::ReadOnly`].
    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError>;

    /// `"redb"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Whether a read transaction may wait on something slow: a network round trip, a lock
    /// held by a writer. Callers on an async runtime step off their worker thread for
    /// those, and can run the others in place.
    fn reads_may_wait(&self) -> bool {
        true
    }
}

/// Operations inside one transaction. Tables spring into existence on first write; reading a
/// table that was never written behaves as reading an empty one.
pub trait Txn {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Inserts or overwrites. Fails with [`StorageError::ReadOnly`] in a read transaction.
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError>;
    /// Returns whether the key existed. Fails with [`StorageError::ReadOnly`] in a read transaction.
    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError>;
    /// Keys in ascending byte order that start with `prefix`, strictly after `start_after` when
    /// given, at most `limit`.
    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;
}

/// Runs `f` in a read-write transaction (see [`Storage::write_txn`]) and returns its value. An
/// `Err` from `f` rolls the transaction back and is returned as is.
pub fn write<T, E: From<StorageError>>(
    s: &dyn Storage,
    f: impl FnMut(&mut dyn Txn) -> Result<T, E>,
) -> Result<T, E> {
    run_typed(f, |g| s.write_txn(g))
}

/// Runs `f` over a read-only snapshot (see [`Storage::read_txn`]) and returns its value. An `Err`
/// from `f` is returned as is.
pub fn read<T, E: From<StorageError>>(
    s: &dyn Storage,
    f: impl FnMut(&mut dyn Txn) -> Result<T, E>,
) -> Result<T, E> {
    run_typed(f, |g| s.read_txn(g))
}

/// Runs `f` with a read-only [`Txn`] that opens a read transaction for each operation, and
/// only when one is made. This is for request paths served from caches that touch storage
/// only now and then (a KMS call on a cached key: an alias, a grant, an IAM policy): opening
/// a transaction costs more than the rest of such a call, and with a blocking backend it
/// also hands the runtime worker's queue to another thread. Reads do not share a snapshot,
/// so use [`read`] where several reads must agree with each other. Writes fail with
/// [`StorageError::ReadOnly`].
pub fn read_each<T>(s: &dyn Storage, f: impl FnOnce(&mut dyn Txn) -> T) -> T {
    f(&mut ReadEach { storage: s })
}

struct ReadEach<'a> {
    storage: &'a dyn Storage,
}

impl Txn for ReadEach<'_> {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        read(self.storage, |t| t.get(table, key))
    }

    fn put(&mut self, _table: &str, _key: &[u8], _value: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn delete(&mut self, _table: &str, _key: &[u8]) -> Result<bool, StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        read(self.storage, |t| t.scan(table, prefix, start_after, limit))
    }
}

fn run_typed<T, E: From<StorageError>>(
    mut f: impl FnMut(&mut dyn Txn) -> Result<T, E>,
    run: impl FnOnce(&mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>) -> Result<(), StorageError>,
) -> Result<T, E> {
    // The closure may run several times (conflict retries); only the last run's outcome counts.
    let mut outcome: Option<Result<T, E>> = None;
    let result = run(&mut |txn| {
        let r = f(txn);
        let verdict = if r.is_ok() {
            Ok(())
        } else {
            Err(TxnError::Abort)
        };
        outcome = Some(r);
        verdict
    });
    match (result, outcome) {
        (Ok(()), Some(Ok(value))) => Ok(value),
        (Err(StorageError::Aborted), Some(Err(e))) => Err(e),
        (Err(e), _) => Err(e.into()),
        (Ok(()), _) => Err(StorageError::internal(
            "storage",
            "transaction committed without a value from the closure",
        )
        .into()),
    }
}

/// Opens (creating if needed) the embedded redb store at `path` and brings its schema up to date.
pub fn open_embedded(path: &Path) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(Arc::new(embedded::RedbStorage::open(path)?))
}

/// Connects to PostgreSQL at `url` (e.g. `postgres://postgres@127.0.0.1:5432/coffer`), creates
/// the tables if needed and brings the schema up to date. TLS is not supported yet.
pub fn open_postgres(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    open_postgres_with(url, PostgresOptions::default())
}

/// Like [`open_postgres`], with a schema (created if missing) and pool size.
pub fn open_postgres_with(
    url: &str,
    options: PostgresOptions,
) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(Arc::new(postgres::PgStorage::open(url, options)?))
}

/// `postgres://...` or `postgresql://...` opens PostgreSQL; anything else is an embedded path.
pub fn open(url_or_path: &str) -> Result<Arc<dyn Storage>, StorageError> {
    if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
        open_postgres(url_or_path)
    } else {
        open_embedded(Path::new(url_or_path))
    }
}

/// The schema version recorded in the store.
pub fn schema_version(s: &dyn Storage) -> Result<u64, StorageError> {
    read(s, |txn| migrate::read_version(txn, s.backend()))
}

/// Caller tables: 1-63 of `[A-Za-z0-9_]`, starting with an ASCII letter. Names starting with `_`
/// are reserved for the storage layer: readable, not writable.
pub fn validate_table_name(name: &str) -> Result<(), StorageError> {
    let bytes = name.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.len() <= MAX_TABLE_NAME_LEN
        && (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !well_formed {
        return Err(StorageError::InvalidTableName {
            name: name.chars().take(MAX_TABLE_NAME_LEN + 1).collect(),
        });
    }
    Ok(())
}

/// Checks shared by every adapter before touching the backend.
pub(crate) struct Access {
    pub(crate) writable: bool,
    /// Migrations may write reserved (`_`-prefixed) tables.
    pub(crate) internal: bool,
}

impl Access {
    pub(crate) fn check_read(&self, table: &str, key: &[u8]) -> Result<(), StorageError> {
        validate_table_name(table)?;
        check_key(key)
    }

    pub(crate) fn check_write(
        &self,
        table: &str,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        if !self.writable {
            return Err(StorageError::ReadOnly);
        }
        validate_table_name(table)?;
        if table.starts_with('_') && !self.internal {
            return Err(StorageError::ReservedTable {
                name: table.to_owned(),
            });
        }
        check_key(key)?;
        if let Some(v) = value
            && v.len() > MAX_VALUE_LEN
        {
            return Err(StorageError::TooLarge {
                what: "value",
                len: v.len(),
                max: MAX_VALUE_LEN,
            });
        }
        Ok(())
    }
}

fn check_key(key: &[u8]) -> Result<(), StorageError> {
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::TooLarge {
            what: "key",
            len: key.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(())
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` when no
/// such bound exists (empty prefix or all `0xFF`).
pub(crate) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// What an adapter does with a finished attempt of a transaction closure.
pub(crate) enum Settle {
    Commit,
    /// Roll back and return this error.
    Fail(StorageError),
    /// Roll back and run the closure again (serialization conflict).
    Retry(StorageError),
}

/// Decides the fate of one attempt from the closure's result and the transaction's poison.
pub(crate) fn settle(result: Result<(), TxnError>, poison: Option<StorageError>) -> Settle {
    match (result, poison) {
        (_, Some(e @ StorageError::Conflict { .. }))
        | (Err(TxnError::Storage(e @ StorageError::Conflict { .. })), _) => Settle::Retry(e),
        (Ok(()), None) => Settle::Commit,
        // The closure swallowed an error: refuse to commit a transaction that did not do what
        // it asked for.
        (Ok(()), Some(e)) => Settle::Fail(e),
        (Err(TxnError::Abort), _) => Settle::Fail(StorageError::Aborted),
        (Err(TxnError::Storage(e)), _) => Settle::Fail(e),
    }
}

/// Remembers the first error a transaction hit, so it cannot commit after the caller swallowed it.
#[derive(Default)]
pub(crate) struct Poison(Option<StorageError>);

impl Poison {
    pub(crate) fn check(&self) -> Result<(), StorageError> {
        match &self.0 {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Passes `r` through, recording its error. Validation errors (nothing reached the backend)
    /// poison too: the caller's transaction did not do what it asked for.
    pub(crate) fn track<T>(&mut self, r: Result<T, StorageError>) -> Result<T, StorageError> {
        if let Err(e) = &r
            && self.0.is_none()
        {
            self.0 = Some(e.clone());
        }
        r
    }

    pub(crate) fn take(&mut self) -> Option<StorageError> {
        self.0.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound(b""), None);
        assert_eq!(prefix_upper_bound(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_upper_bound(&[0]), Some(vec![1]));
    }

    #[test]
    fn table_names() {
        for ok in ["iam_users", "a", "A9_", "_meta"] {
            assert!(validate_table_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(MAX_TABLE_NAME_LEN + 1);
        for bad in ["", "9a", "a-b", "a b", "é", long.as_str()] {
            assert!(
                matches!(
                    validate_table_name(bad),
                    Err(StorageError::InvalidTableName { .. })
                ),
                "{bad}"
            );
        }
    }
}
