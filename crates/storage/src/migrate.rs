//! Schema versions and the migrations that move a store between them.
//!
//! The version lives in the reserved table `_meta` under key `schema_version` as a big-endian
//! `u64`; a store without it is version 0 (empty). Each adapter runs [`pending`] migrations in
//! one transaction at open, then records the new version. A store newer than [`SCHEMA_VERSION`]
//! is refused with [`StorageError::SchemaTooNew`] and left untouched.

use crate::error::Invariant;
use crate::{StorageError, Txn};
use std::sync::Arc;

/// The newest schema version this binary reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

pub(crate) const META_TABLE: &str = "_meta";
const VERSION_KEY: &[u8] = b"schema_version";

/// One step from `to - 1` to `to`.
pub(crate) struct Migration {
    pub(crate) to: u64,
    /// DDL run first on PostgreSQL, inside the migration transaction ("" for none).
    pub(crate) postgres_sql: &'static str,
    /// Data changes, run through the backend-neutral interface.
    pub(crate) apply: fn(&mut dyn Txn) -> Result<(), StorageError>,
}

/// Append only; never edit a released step.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    to: 1,
    // Version 1's layout (`coffer_kv`) is created by the PostgreSQL bootstrap itself.
    postgres_sql: "",
    apply: |_| Ok(()),
}];

/// The recorded version, 0 for a fresh store.
pub(crate) fn read_version(txn: &mut dyn Txn, backend: &'static str) -> Result<u64, StorageError> {
    match txn.get(META_TABLE, VERSION_KEY)? {
        None => Ok(0),
        Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
            Ok(b) => Ok(u64::from_be_bytes(b)),
            Err(_) => Err(StorageError::Corrupt {
                backend,
                source: Arc::new(Invariant("_meta.schema_version is not an 8-byte integer")),
            }),
        },
    }
}

pub(crate) fn write_version(txn: &mut dyn Txn, version: u64) -> Result<(), StorageError> {
    txn.put(META_TABLE, VERSION_KEY, &version.to_be_bytes())
}

/// The migrations still to run on a store at version `found`.
pub(crate) fn pending(
    found: u64,
) -> Result<impl Iterator<Item = &'static Migration>, StorageError> {
    if found > SCHEMA_VERSION {
        return Err(StorageError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(MIGRATIONS.iter().filter(move |m| m.to > found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_contiguous_and_end_at_current() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.to, i as u64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.to), Some(SCHEMA_VERSION));
    }
}
