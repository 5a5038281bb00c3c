//! A short-lived cache of resolved credentials, so that a request does not pay a storage
//! read, a JSON decode and an AES-GCM unseal to find its caller's secret, nor the four-HMAC
//! SigV4 key derivation once the caller has been seen today.
//!
//! Correctness rests on two mechanisms:
//!
//! * **Invalidation on write.** Every storage write goes through [`WatchedStorage`], which
//!   notes the keys of the access-key table a transaction puts or deletes and, once the
//!   transaction is over, drops those entries. A lookup that raced with such a write (it read
//!   storage before the commit and would insert after it) is not cached: inserts carry the
//!   cache generation seen before the storage read, and every invalidation moves it on. So
//!   on one node a deleted key is refused from the moment `DeleteAccessKey` commits.
//! * **Expiry.** Entries live [`CREDENTIAL_TTL`] at most. This is what bounds staleness when
//!   another coffer node of a PostgreSQL cluster deletes a key: this node does not see that
//!   write, and may accept the key for up to the TTL afterwards (AWS IAM itself is
//!   eventually consistent for a few seconds). Session expiry is not affected: it is checked
//!   against the record on every request.
//!
//! Only keys found in storage are cached; unknown keys go to storage every time, so a key
//! created on another node works at once. The cache holds at most [`MAX_ENTRIES`] entries.
//! Secrets and derived signing keys are zeroized when their entry is dropped.

use crate::identity::{Credential, KEYS, KeyRecord};
use coffer_storage::{Entry, Storage, StorageError, Txn, TxnError};
use coffer_types::Principal;
use coffer_wire::sigv4::{Scope, signing_key};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// How long a resolved credential is trusted without reading storage again.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(2);
/// The most credentials kept at once.
pub const MAX_ENTRIES: usize = 10_000;

/// A resolved credential, shared by the requests that use it while it is fresh.
pub struct CachedCredential {
    pub record: KeyRecord,
    pub secret: Zeroizing<String>,
    pub principal: Principal,
    loaded: OffsetDateTime,
    /// The last derived SigV4 signing key: clients sign a day's requests with one scope.
    signing: Mutex<Option<DerivedKey>>,
}

struct DerivedKey {
    date: String,
    region: String,
    service: String,
    key: Zeroizing<[u8; 32]>,
}

impl CachedCredential {
    fn new(cred: Credential, loaded: OffsetDateTime) -> Self {
        Self {
            record: cred.record,
            secret: cred.secret,
            principal: cred.principal,
            loaded,
            signing: Mutex::new(None),
        }
    }

    /// The SigV4 signing key of this secret for `scope`, derived at most once per scope.
    pub fn signing_key(&self, scope: Scope<'_>) -> [u8; 32] {
        let mut slot = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = slot.as_ref()
            && d.date == scope.date
            && d.region == scope.region
            && d.service == scope.service
        {
            return *d.key;
        }
        let key = signing_key(&self.secret, scope.date, scope.region, scope.service);
        *slot = Some(DerivedKey {
            date: scope.date.to_owned(),
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
            key: Zeroizing::new(key),
        });
        key
    }

    fn fresh(&self, now: OffsetDateTime, ttl: time::Duration) -> bool {
        // A clock that went backwards must not extend an entry's life.
        self.loaded <= now && self.loaded.checked_add(ttl).is_some_and(|end| now < end)
    }
}

/// Access key id -> resolved credential, with expiry and write invalidation.
pub struct CredentialCache {
    ttl: time::Duration,
    max_entries: usize,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Moves on at every invalidation; see [`CredentialCache::insert`].
    generation: u64,
    entries: HashMap<String, Arc<CachedCredential>>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self::new(CREDENTIAL_TTL, MAX_ENTRIES)
    }
}

impl CredentialCache {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            // Durations beyond `time`'s range are not short-lived; treat them as no caching.
            ttl: time::Duration::try_from(ttl).unwrap_or(time::Duration::ZERO),
            max_entries,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// To be read before looking a credential up in storage, and handed to [`Self::insert`].
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// The fresh entry for `akid`, if any.
    pub fn get(&self, akid: &str, now: OffsetDateTime) -> Option<Arc<CachedCredential>> {
        self.read()
            .entries
            .get(akid)
            .filter(|c| c.fresh(now, self.ttl))
            .cloned()
    }

    /// Wraps a credential read from storage and keeps it, unless a write to the key table
    /// finished since `generation` was read: the credential may predate that write.
    pub fn insert(
        &self,
        akid: &str,
        cred: Credential,
        generation: u64,
        now: OffsetDateTime,
    ) -> Arc<CachedCredential> {
        let cached = Arc::new(CachedCredential::new(cred, now));
        let mut inner = self.write();
        if inner.generation != generation {
            return cached;
        }
        if inner.entries.len() >= self.max_entries {
            let ttl = self.ttl;
            inner.entries.retain(|_, c| c.fresh(now, ttl));
        }
        if inner.entries.len() < self.max_entries {
            inner.entries.insert(akid.to_owned(), cached.clone());
        }
        cached
    }

    /// Forgets the given access keys (raw storage keys of the key table).
    pub fn invalidate(&self, akids: &[Vec<u8>]) {
        let mut inner = self.write();
        inner.generation = inner.generation.wrapping_add(1);
        for akid in akids {
            if let Ok(akid) = std::str::from_utf8(akid) {
                inner.entries.remove(akid);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The server's storage: passes everything through, runs each transaction through
/// [`crate::blocking::run`] (request handlers call it from runtime workers), and
/// invalidates cached credentials whose key records a write transaction touched.
pub struct WatchedStorage {
    inner: Arc<dyn Storage>,
    cache: Arc<CredentialCache>,
}

impl WatchedStorage {
    pub fn new(inner: Arc<dyn Storage>, cache: Arc<CredentialCache>) -> Self {
        Self { inner, cache }
    }
}

impl Storage for WatchedStorage {
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        let mut touched = Vec::new();
        let result = crate::blocking::run(|| {
            self.inner.write_txn(&mut |txn| {
                f(&mut WatchTxn {
                    inner: txn,
                    touched: &mut touched,
                })
            })
        });
        // Invalidating after a failed or retried attempt too is merely conservative; it
        // must happen after the commit so that no lookup can re-cache the old record.
        if !touched.is_empty() {
            self.cache.invalidate(&touched);
        }
        result
    }

    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        crate::blocking::run(|| self.inner.read_txn(f))
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

struct WatchTxn<'a> {
    inner: &'a mut dyn Txn,
    touched: &'a mut Vec<Vec<u8>>,
}

impl WatchTxn<'_> {
    fn note(&mut self, table: &str, key: &[u8]) {
        if table == KEYS {
            self.touched.push(key.to_vec());
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
    use crate::identity::{self, KeyOwner};
    use coffer_types::AccountId;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn account() -> AccountId {
        "111122223333".parse().unwrap()
    }

    fn credential(akid: &str, secret: &str) -> Credential {
        let record = KeyRecord {
            account: account(),
            owner: KeyOwner::Root,
            active: true,
            created: T0,
            sealed_secret: Vec::new(),
        };
        Credential {
            principal: identity::principal_for(akid, &record),
            record,
            secret: Zeroizing::new(secret.to_owned()),
        }
    }

    fn secs(s: i64) -> OffsetDateTime {
        T0 + time::Duration::seconds(s)
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = CredentialCache::new(Duration::from_secs(2), 10);
        let g = cache.generation();
        cache.insert("AKIA1", credential("AKIA1", "s"), g, T0);
        assert_eq!(cache.get("AKIA1", T0).unwrap().secret.as_str(), "s");
        assert!(
            cache
                .get("AKIA1", T0 + time::Duration::milliseconds(1999))
                .is_some()
        );
        assert!(cache.get("AKIA1", secs(2)).is_none(), "expired at the TTL");
        // A clock stepping back must not make an entry last longer than the TTL.
        assert!(cache.get("AKIA1", secs(-1)).is_none());
        assert!(cache.get("AKIA2", T0).is_none());
    }

    #[test]
    fn a_lookup_that_raced_a_key_write_is_not_kept() {
        let cache = CredentialCache::default();
        let before = cache.generation();
        // A key write finishes between the lookup's storage read and its insert.
        cache.invalidate(&[b"AKIA1".to_vec()]);
        let c = cache.insert("AKIA1", credential("AKIA1", "old"), before, T0);
        assert_eq!(c.secret.as_str(), "old", "the caller still gets its answer");
        assert!(cache.get("AKIA1", T0).is_none(), "but it is not cached");
        let now = cache.generation();
        cache.insert("AKIA1", credential("AKIA1", "new"), now, T0);
        assert!(cache.get("AKIA1", T0).is_some());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = CredentialCache::new(Duration::from_secs(2), 2);
        for akid in ["A", "B", "C"] {
            let g = cache.generation();
            cache.insert(akid, credential(akid, "s"), g, T0);
        }
        assert_eq!(cache.len(), 2);
        assert!(
            cache.get("C", T0).is_none(),
            "full of fresh entries: not kept"
        );
        // Expired entries make room.
        let g = cache.generation();
        cache.insert("D", credential("D", "s"), g, secs(10));
        assert_eq!(cache.len(), 1);
        assert!(cache.get("D", secs(10)).is_some());
    }

    #[test]
    fn signing_keys_are_derived_per_scope() {
        let cache = CredentialCache::default();
        let g = cache.generation();
        let c = cache.insert("AKIA1", credential("AKIA1", "secret"), g, T0);
        let scope = |date, service| Scope {
            date,
            region: "us-east-1",
            service,
        };
        let k1 = c.signing_key(scope("20260101", "sts"));
        assert_eq!(k1, signing_key("secret", "20260101", "us-east-1", "sts"));
        assert_eq!(c.signing_key(scope("20260101", "sts")), k1);
        let k2 = c.signing_key(scope("20260102", "sts"));
        assert_eq!(k2, signing_key("secret", "20260102", "us-east-1", "sts"));
        let k3 = c.signing_key(scope("20260102", "iam"));
        assert_eq!(k3, signing_key("secret", "20260102", "us-east-1", "iam"));
        assert_ne!(k2, k3);
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        raw: Arc<dyn Storage>,
        watched: WatchedStorage,
        cache: Arc<CredentialCache>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let raw = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let cache = Arc::new(CredentialCache::default());
        let watched = WatchedStorage::new(raw.clone(), cache.clone());
        Fixture {
            _dir: dir,
            raw,
            watched,
            cache,
        }
    }

    fn put_key(store: &dyn Storage, akid: &str) {
        coffer_storage::write(store, |t| t.put(KEYS, akid.as_bytes(), b"{}")).unwrap();
    }

    fn cache_both(f: &Fixture) {
        for akid in ["AKIA1", "AKIA2"] {
            let g = f.cache.generation();
            f.cache.insert(akid, credential(akid, "s"), g, T0);
        }
    }

    #[test]
    fn key_writes_invalidate_their_entries_and_other_writes_do_not() {
        let f = fixture();
        put_key(&f.watched, "AKIA1");
        cache_both(&f);
        coffer_storage::write(&f.watched, |t| t.put("iam_users", b"x", b"{}")).unwrap();
        assert_eq!(f.cache.len(), 2, "a write elsewhere keeps the cache");
        let g = f.cache.generation();
        // What DeleteAccessKey runs for a root key.
        let deleted = coffer_storage::write(&f.watched, |t| identity::delete_key(t, "AKIA1"));
        assert!(deleted.unwrap());
        assert!(
            f.cache.get("AKIA1", T0).is_none(),
            "refused from the commit on"
        );
        assert!(f.cache.get("AKIA2", T0).is_some());
        assert_ne!(f.cache.generation(), g);
        put_key(&f.watched, "AKIA2");
        assert!(
            f.cache.get("AKIA2", T0).is_none(),
            "an overwritten record too"
        );
    }

    #[test]
    fn a_rolled_back_key_write_still_invalidates() {
        let f = fixture();
        cache_both(&f);
        let r: Result<(), StorageError> = coffer_storage::write(&f.watched, |t| {
            t.delete(KEYS, b"AKIA1")?;
            Err(StorageError::Aborted)
        });
        assert!(r.is_err());
        assert!(f.cache.get("AKIA1", T0).is_none());
    }

    /// Another node of a PostgreSQL cluster deletes the key: this node cannot see the
    /// write, so the entry is trusted until it expires, and not a moment longer.
    #[test]
    fn a_delete_this_node_did_not_see_takes_effect_within_the_ttl() {
        let f = fixture();
        put_key(&f.watched, "AKIA1");
        cache_both(&f);
        coffer_storage::write(f.raw.as_ref(), |t| t.delete(KEYS, b"AKIA1")).unwrap();
        assert!(f.cache.get("AKIA1", secs(1)).is_some());
        let later = T0 + time::Duration::try_from(CREDENTIAL_TTL).unwrap();
        assert!(f.cache.get("AKIA1", later).is_none());
        let stored = coffer_storage::read(&f.watched, |t| identity::get_key(t, "AKIA1"));
        assert!(stored.unwrap().is_none());
    }
}
