//! Errors of the storage layer, named by what a caller can do about them.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// The backend's own error, kept as the `source` of a [`StorageError`] for logs.
///
/// Shared (`Arc`) so that a [`StorageError`] is `Clone`: an adapter remembers the first error a
/// transaction hit and reports it again if the caller swallowed it (see [`crate::Txn`]).
pub type BackendError = Arc<dyn StdError + Send + Sync + 'static>;

/// What went wrong in the storage layer.
///
/// Variants are grouped by the caller's options: retry ([`StorageError::is_retryable`]), fix the
/// request (`ReadOnly`, `InvalidTableName`, `ReservedTable`, `TooLarge`), or stop and page an
/// operator (`Corrupt`, `SchemaTooNew`, `Locked`, `InvalidConfig`, `Internal`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The store could not be reached or did an I/O error (connection refused or lost, disk
    /// error, pool exhausted). Retryable. For a write, the outcome of a commit that failed this
    /// way may be unknown (the connection may have dropped after the server committed).
    #[error("{backend} storage unavailable")]
    Unavailable {
        backend: &'static str,
        #[source]
        source: BackendError,
    },
    /// The transaction kept conflicting with concurrent transactions (PostgreSQL serialization
    /// failure or deadlock) and the adapter's own retries ran out. Nothing was committed; retryable.
    #[error("{backend} transaction conflicted with concurrent writers after {attempts} attempts")]
    Conflict {
        backend: &'static str,
        attempts: u32,
        #[source]
        source: BackendError,
    },
    /// Stored data failed an integrity check. Not retryable; restore from backup.
    #[error("{backend} storage is corrupt")]
    Corrupt {
        backend: &'static str,
        #[source]
        source: BackendError,
    },
    /// The embedded store's file is held by another process.
    #[error("{backend} store is locked by another process")]
    Locked {
        backend: &'static str,
        #[source]
        source: BackendError,
    },
    /// `put` or `delete` was called in a read transaction.
    #[error("write attempted in a read-only transaction")]
    ReadOnly,
    /// The table name is not a short ASCII identifier (see [`crate::validate_table_name`]).
    #[error("invalid table name {name:?}: expected 1-{max} of [A-Za-z0-9_], not starting with a digit", max = crate::MAX_TABLE_NAME_LEN)]
    InvalidTableName { name: String },
    /// Tables whose names start with `_` belong to the storage layer (schema metadata); callers
    /// may read them but not write them.
    #[error("table {name:?} is reserved for the storage layer")]
    ReservedTable { name: String },
    /// A key or value exceeds the limit every adapter guarantees.
    #[error("{what} of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// The store was written by a newer coffer; this binary must not touch it.
    #[error(
        "store schema version {found} is newer than this binary supports ({supported}); upgrade coffer"
    )]
    SchemaTooNew { found: u64, supported: u64 },
    /// The transaction closure returned [`crate::TxnError::Abort`]; everything was rolled back.
    /// [`crate::write`] and [`crate::read`] turn this back into the caller's own error.
    #[error("transaction aborted by the caller")]
    Aborted,
    /// The location or connection settings are unusable (bad URL, bad schema name).
    #[error("invalid storage configuration: {what}")]
    InvalidConfig {
        what: &'static str,
        #[source]
        source: Option<BackendError>,
    },
    /// The backend rejected something this crate did: a bug or an unsupported server setup.
    #[error("{backend} storage internal error")]
    Internal {
        backend: &'static str,
        #[source]
        source: BackendError,
    },
}

impl StorageError {
    /// True when retrying the whole operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Conflict { .. })
    }

    /// For callers that read back a record they cannot decode: reports it as [`Self::Corrupt`]
    /// with `what` (a fixed description such as `"iam_users record"`) as the source.
    pub fn corrupt_record(what: &'static str) -> Self {
        Self::Corrupt {
            backend: "record",
            source: Arc::new(Invariant(what)),
        }
    }

    pub(crate) fn internal(backend: &'static str, what: &'static str) -> Self {
        Self::Internal {
            backend,
            source: Arc::new(Invariant(what)),
        }
    }
}

/// An invariant of this crate did not hold; carried as the source of [`StorageError::Internal`].
#[derive(Debug)]
pub(crate) struct Invariant(pub(crate) &'static str);

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Invariant {}

/// What a transaction closure returns on failure.
///
/// `?` on a storage call inside the closure converts a [`StorageError`] into `Storage`. Use
/// `Abort` to roll back for a reason of your own; [`crate::write`] and [`crate::read`] do this for
/// you and hand your typed error back.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TxnError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("transaction aborted by the caller")]
    Abort,
}
