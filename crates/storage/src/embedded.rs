//! The embedded adapter: one redb file, one redb table (`&[u8] -> &[u8]`) per coffer table.
//!
//! redb runs one write transaction at a time (later writers wait), so write transactions are
//! serializable without retries; readers work on MVCC snapshots and never block. Commits use
//! `Durability::Immediate`: the data is fsynced before `commit` returns.

use crate::migrate;
use crate::{Access, Entry, Poison, Settle, Storage, StorageError, Txn, TxnError, settle};
use redb::{Database, Durability, ReadableTable, TableDefinition, TableError};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

const BACKEND: &str = "redb";

type Def<'a> = TableDefinition<'a, &'static [u8], &'static [u8]>;
type ReadOnlyTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;

pub(crate) struct RedbStorage {
    db: Database,
}

impl RedbStorage {
    pub(crate) fn open(path: &Path) -> Result<Self, StorageError> {
        let db = Database::create(path).map_err(classify)?;
        let storage = Self { db };
        storage.migrate()?;
        Ok(storage)
    }

    fn migrate(&self) -> Result<(), StorageError> {
        self.run_write(true, &mut |txn| {
            let found = migrate::read_version(txn, BACKEND)?;
            for m in migrate::pending(found)? {
                (m.apply)(txn)?;
                migrate::write_version(txn, m.to)?;
            }
            Ok(())
        })
    }

    fn run_write(
        &self,
        internal: bool,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        let mut tx = self.db.begin_write().map_err(classify)?;
        tx.set_durability(Durability::Immediate);
        let mut txn = WriteTxn {
            tx,
            access: Access {
                writable: true,
                internal,
            },
            poison: Poison::default(),
        };
        let result = f(&mut txn);
        let WriteTxn { tx, mut poison, .. } = txn;
        match settle(result, poison.take()) {
            Settle::Commit => tx.commit().map_err(classify),
            // One writer at a time: a conflict cannot come from redb itself, so nothing to retry.
            Settle::Fail(e) | Settle::Retry(e) => {
                // Aborting only frees the transaction's pages; the caller wants the cause.
                let _ = tx.abort();
                Err(e)
            }
        }
    }
}

impl Storage for RedbStorage {
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        self.run_write(false, f)
    }

    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        let tx = self.db.begin_read().map_err(classify)?;
        let mut txn = ReadTxn {
            tx,
            access: Access {
                writable: false,
                internal: false,
            },
            poison: Poison::default(),
        };
        let result = f(&mut txn);
        match settle(result, txn.poison.take()) {
            Settle::Commit => Ok(()),
            Settle::Fail(e) | Settle::Retry(e) => Err(e),
        }
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }

    /// redb readers see a snapshot and never wait for the writer; a read is a walk of
    /// pages that are in its cache or one `pread` away.
    fn reads_may_wait(&self) -> bool {
        false
    }
}

struct WriteTxn {
    tx: redb::WriteTransaction,
    access: Access,
    poison: Poison,
}

impl WriteTxn {
    fn get_inner(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.access.check_read(table, key)?;
        let t = self.tx.open_table(Def::new(table)).map_err(classify)?;
        let value = t.get(key).map_err(classify)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn put_inner(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.access.check_write(table, key, Some(value))?;
        let mut t = self.tx.open_table(Def::new(table)).map_err(classify)?;
        t.insert(key, value).map_err(classify)?;
        Ok(())
    }

    fn delete_inner(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.access.check_write(table, key, None)?;
        let mut t = self.tx.open_table(Def::new(table)).map_err(classify)?;
        let old = t.remove(key).map_err(classify)?;
        Ok(old.is_some())
    }

    fn scan_inner(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.access.check_read(table, prefix)?;
        let t = self.tx.open_table(Def::new(table)).map_err(classify)?;
        scan_table(&t, prefix, start_after, limit)
    }
}

impl Txn for WriteTxn {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.poison.check()?;
        let r = self.get_inner(table, key);
        self.poison.track(r)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.poison.check()?;
        let r = self.put_inner(table, key, value);
        self.poison.track(r)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.poison.check()?;
        let r = self.delete_inner(table, key);
        self.poison.track(r)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.poison.check()?;
        let r = self.scan_inner(table, prefix, start_after, limit);
        self.poison.track(r)
    }
}

struct ReadTxn {
    tx: redb::ReadTransaction,
    access: Access,
    poison: Poison,
}

impl ReadTxn {
    /// The table, or `None` if it was never created (reads as empty).
    fn table(&self, table: &str) -> Result<Option<ReadOnlyTable>, StorageError> {
        match self.tx.open_table(Def::new(table)) {
            Ok(t) => Ok(Some(t)),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn get_inner(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.access.check_read(table, key)?;
        let Some(t) = self.table(table)? else {
            return Ok(None);
        };
        let value = t.get(key).map_err(classify)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn scan_inner(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.access.check_read(table, prefix)?;
        match self.table(table)? {
            Some(t) => scan_table(&t, prefix, start_after, limit),
            None => Ok(Vec::new()),
        }
    }
}

impl Txn for ReadTxn {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.poison.check()?;
        let r = self.get_inner(table, key);
        self.poison.track(r)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.poison.check()?;
        let r = self.access.check_write(table, key, Some(value));
        self.poison.track(r)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.poison.check()?;
        let r = self.access.check_write(table, key, None).map(|()| false);
        self.poison.track(r)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.poison.check()?;
        let r = self.scan_inner(table, prefix, start_after, limit);
        self.poison.track(r)
    }
}

fn scan_table(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
    start_after: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<Entry>, StorageError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    // Keys starting with `prefix` are contiguous and sort at or after `prefix`, so start at the
    // later of `prefix` and `start_after` and stop at the first key without the prefix.
    let lower = match start_after {
        Some(after) if after >= prefix => Bound::Excluded(after),
        _ => Bound::Included(prefix),
    };
    let range = t
        .range::<&[u8]>((lower, Bound::Unbounded))
        .map_err(classify)?;
    for entry in range {
        let (k, v) = entry.map_err(classify)?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push((key.to_vec(), v.value().to_vec()));
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

fn classify(e: impl Into<redb::Error>) -> StorageError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::ValueTooLarge(len) => StorageError::TooLarge {
            what: "value",
            len,
            max: crate::MAX_VALUE_LEN,
        },
        redb::Error::DatabaseAlreadyOpen => StorageError::Locked {
            backend: BACKEND,
            source: Arc::new(e),
        },
        redb::Error::Corrupted(_) => StorageError::Corrupt {
            backend: BACKEND,
            source: Arc::new(e),
        },
        redb::Error::Io(_) | redb::Error::PreviousIo => StorageError::Unavailable {
            backend: BACKEND,
            source: Arc::new(e),
        },
        _ => StorageError::Internal {
            backend: BACKEND,
            source: Arc::new(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let s = RedbStorage::open(&path).unwrap();
        s.run_write(true, &mut |txn| {
            migrate::write_version(txn, migrate::SCHEMA_VERSION + 7)?;
            Ok(())
        })
        .unwrap();
        drop(s);
        match RedbStorage::open(&path) {
            Err(StorageError::SchemaTooNew { found, supported }) => {
                assert_eq!(found, migrate::SCHEMA_VERSION + 7);
                assert_eq!(supported, migrate::SCHEMA_VERSION);
            }
            other => panic!("expected SchemaTooNew, got {:?}", other.err()),
        }
        // Still refused: the failed open did not rewrite the version.
        assert!(matches!(
            RedbStorage::open(&path),
            Err(StorageError::SchemaTooNew { .. })
        ));
    }

    #[test]
    fn second_open_of_same_file_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let _first = RedbStorage::open(&path).unwrap();
        assert!(matches!(
            RedbStorage::open(&path),
            Err(StorageError::Locked { .. })
        ));
    }
}
