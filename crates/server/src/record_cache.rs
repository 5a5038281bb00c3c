//! Short-lived caches of records read from storage, and the storage wrapper that keeps
//! them honest.
//!
//! Correctness rests on two mechanisms:
//!
//! * **Invalidation on write.** Every storage write goes through [`WatchedStorage`], which
//!   notes the keys a transaction puts or deletes in each watched table and, once the
//!   transaction is over, drops those entries from that table's cache. A lookup that raced
//!   with such a write (it read storage before the commit and would insert after it) is not
//!   cached: inserts carry the cache generation seen before the storage read, and every
//!   invalidation moves it on. So on one node a changed record is seen from the moment its
//!   write commits.
//! * **Expiry.** Entries live [`CACHE_TTL`] at most. This is what bounds staleness when
//!   another coffer node of a PostgreSQL cluster writes: this node does not see that write,
//!   and may serve the old record for up to the TTL afterwards (AWS IAM and KMS are
//!   themselves eventually consistent for a few seconds).
//!
//! Only records found in storage are cached; missing ones go to storage every time, so a
//! record created on another node is seen at once. A cache holds at most its `max_entries`.
//! Cached values are dropped with their entry (secrets in them zeroize themselves).

use coffer_storage::{Entry, Storage, StorageError, Txn, TxnError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;

/// How long a cached record is trusted without reading storage again.
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// The most records a cache keeps at once.
pub const MAX_ENTRIES: usize = 10_000;

/// Storage key -> value derived from that record, with expiry and write invalidation.
pub struct RecordCache<V> {
    ttl: time::Duration,
    max_entries: usize,
    inner: RwLock<Inner<V>>,
}

struct Inner<V> {
    /// Moves on at every invalidation; see [`RecordCache::insert`].
    generation: u64,
    entries: HashMap<String, Cached<V>>,
}

struct Cached<V> {
    value: Arc<V>,
    loaded: OffsetDateTime,
}

impl<V> Cached<V> {
    fn fresh(&self, now: OffsetDateTime, ttl: time::Duration) -> bool {
        // A clock that went backwards must not extend an entry's life.
        self.loaded <= now && self.loaded.checked_add(ttl).is_some_and(|end| now < end)
    }
}

impl<V> Default for RecordCache<V> {
    fn default() -> Self {
        Self::new(CACHE_TTL, MAX_ENTRIES)
    }
}

impl<V> RecordCache<V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            // Durations beyond `time`'s range are not short-lived; treat them as no caching.
            ttl: time::Duration::try_from(ttl).unwrap_or(time::Duration::ZERO),
            max_entries,
            inner: RwLock::new(Inner {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    /// To be read before looking a record up in storage, and handed to [`Self::insert`].
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// The fresh entry for `key`, if any.
    pub fn get(&self, key: &str, now: OffsetDateTime) -> Option<Arc<V>> {
        self.read()
            .entries
            .get(key)
            .filter(|c| c.fresh(now, self.ttl))
            .map(|c| c.value.clone())
    }

    /// Keeps `value`, derived from the record at `key`, unless a write to that table
    /// finished since `generation` was read: the value may predate that write.
    pub fn insert(&self, key: &str, value: V, generation: u64, now: OffsetDateTime) -> Arc<V> {
        let value = Arc::new(value);
        let mut inner = self.write();
        if inner.generation != generation {
            return value;
        }
        if inner.entries.len() >= self.max_entries {
            let ttl = self.ttl;
            inner.entries.retain(|_, c| c.fresh(now, ttl));
        }
        if inner.entries.len() < self.max_entries {
            let cached = Cached {
                value: value.clone(),
                loaded: now,
            };
            inner.entries.insert(key.to_owned(), cached);
        }
        value
    }

    /// The fresh entry for `key`, or what `load` finds in storage (then kept, as
    /// [`Self::insert`] decides). `None` when storage has no such record; that is not cached.
    pub fn get_or_load<E>(
        &self,
        key: &str,
        now: OffsetDateTime,
        load: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<Arc<V>>, E> {
        if let Some(v) = self.get(key, now) {
            return Ok(Some(v));
        }
        let generation = self.generation();
        Ok(load()?.map(|v| self.insert(key, v, generation, now)))
    }

    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner<V>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner<V>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// What [`WatchedStorage`] tells a cache after a write touched its table.
pub trait Invalidate: Send + Sync {
    /// Forgets the given records (raw storage keys of the watched table).
    fn invalidate(&self, keys: &[Vec<u8>]);
}

impl<V: Send + Sync> Invalidate for RecordCache<V> {
    fn invalidate(&self, keys: &[Vec<u8>]) {
        let mut inner = self.write();
        inner.generation = inner.generation.wrapping_add(1);
        for key in keys {
            if let Ok(key) = std::str::from_utf8(key) {
                inner.entries.remove(key);
            }
        }
    }
}

/// A table and the cache of its records.
pub type Watch = (&'static str, Arc<dyn Invalidate>);

/// The server's storage: passes everything through, runs each write transaction and each
/// read that may wait through [`crate::blocking::run`] (request handlers call it from
/// runtime workers), and
/// invalidates the cached records a write transaction touched.
pub struct WatchedStorage {
    inner: Arc<dyn Storage>,
    watches: Vec<Watch>,
}

impl WatchedStorage {
    pub fn new(inner: Arc<dyn Storage>, watches: Vec<Watch>) -> Self {
        Self { inner, watches }
    }
}

impl Storage for WatchedStorage {
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        let mut touched = vec![Vec::new(); self.watches.len()];
        let result = crate::blocking::run(|| {
            self.inner.write_txn(&mut |txn| {
                f(&mut WatchTxn {
                    inner: txn,
                    watches: &self.watches,
                    touched: &mut touched,
                })
            })
        });
        // Invalidating after a failed or retried attempt too is merely conservative; it
        // must happen after the commit so that no lookup can re-cache the old record.
        for ((_, cache), keys) in self.watches.iter().zip(&touched) {
            if !keys.is_empty() {
                cache.invalidate(keys);
            }
        }
        result
    }

    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        // Handing the worker's queue to another thread costs more than a whole embedded
        // read (it was a fifth of a GetSecretValue's CPU), so only reads that may wait
        // step off the worker.
        if self.inner.reads_may_wait() {
            crate::blocking::run(|| self.inner.read_txn(f))
        } else {
            self.inner.read_txn(f)
        }
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn reads_may_wait(&self) -> bool {
        self.inner.reads_may_wait()
    }
}

struct WatchTxn<'a> {
    inner: &'a mut dyn Txn,
    watches: &'a [Watch],
    touched: &'a mut [Vec<Vec<u8>>],
}

impl WatchTxn<'_> {
    fn note(&mut self, table: &str, key: &[u8]) {
        if let Some(i) = self.watches.iter().position(|(t, _)| *t == table) {
            self.touched[i].push(key.to_vec());
        }
    }
}

impl Txn for WatchTxn<'_> {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(table, key)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.note(table, key);
        self.inner.put(table, key, value)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.note(table, key);
        self.inner.delete(table, key)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.inner.scan(table, prefix, start_after, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    #[test]
    fn each_table_invalidates_only_its_own_cache() {
        let dir = tempfile::tempdir().unwrap();
        let raw = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let a = Arc::new(RecordCache::<u32>::default());
        let b = Arc::new(RecordCache::<u32>::default());
        let watches: Vec<Watch> = vec![("table_a", a.clone()), ("table_b", b.clone())];
        let store = WatchedStorage::new(raw, watches);
        for (cache, v) in [(&a, 1), (&b, 2)] {
            let g = cache.generation();
            cache.insert("k", v, g, T0);
            cache.insert("other", v, g, T0);
        }
        coffer_storage::write(&store, |t| t.put("table_a", b"k", b"x")).unwrap();
        assert!(a.get("k", T0).is_none(), "the written record is dropped");
        assert_eq!(a.get("other", T0).as_deref(), Some(&1));
        assert_eq!(
            b.get("k", T0).as_deref(),
            Some(&2),
            "another table's cache is kept"
        );
        coffer_storage::write(&store, |t| t.delete("table_b", b"other").map(|_| ())).unwrap();
        assert!(b.get("other", T0).is_none());
        assert_eq!(b.get("k", T0).as_deref(), Some(&2));
    }
    #[test]
    fn get_or_load_loads_once_and_never_keeps_a_missing_record() {
        let cache = RecordCache::<u32>::default();
        let loads = std::cell::Cell::new(0);
        let load = |v: Option<u32>| {
            loads.set(loads.get() + 1);
            Ok::<_, ()>(v)
        };
        assert_eq!(cache.get_or_load("gone", T0, || load(None)), Ok(None));
        assert_eq!(cache.get_or_load("gone", T0, || load(None)), Ok(None));
        let first = cache.get_or_load("k", T0, || load(Some(1))).unwrap();
        let again = cache.get_or_load("k", T0, || load(Some(2))).unwrap();
        assert_eq!((first.as_deref(), again.as_deref()), (Some(&1), Some(&1)));
        assert_eq!(
            loads.get(),
            3,
            "a missing record is looked up every time, a found one once"
        );
        let later = T0 + CACHE_TTL;
        let reloaded = cache.get_or_load("k", later, || load(Some(3))).unwrap();
        assert_eq!(reloaded.as_deref(), Some(&3), "expired at the TTL");
        assert_eq!(
            cache.get_or_load("k", T0, || Err(())),
            Err(()),
            "a clock gone back"
        );
    }
}
