//! The cache of resolved credentials, so that a request does not pay a storage read, a
//! JSON decode and an AES-GCM unseal to find its caller's secret, nor the four-HMAC SigV4
//! key derivation once the caller has been seen today.
//!
//! It is a [`RecordCache`] of the access-key table: writes to that table on this node
//! invalidate it at once (`DeleteAccessKey` refuses the key from its commit on); a delete
//! on another node of a PostgreSQL cluster takes effect within [`CACHE_TTL`]. Session
//! expiry is not affected: it is checked against the record on every request. Secrets and
//! derived signing keys are zeroized when their entry is dropped.

use crate::identity::Credential;
use crate::identity::KeyRecord;
pub use crate::record_cache::CACHE_TTL;
use crate::record_cache::RecordCache;
use coffer_types::Principal;
use coffer_wire::sigv4::{Scope, SigningKeyCache};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Access key id -> resolved credential.
pub type CredentialCache = RecordCache<CachedCredential>;

/// A resolved credential, shared by the requests that use it while it is fresh.
pub struct CachedCredential {
    pub record: KeyRecord,
    pub secret: Zeroizing<String>,
    pub principal: Principal,
    /// The last derived SigV4 signing key: clients sign a day's requests with one scope.
    signing: Mutex<SigningKeyCache>,
}

impl CachedCredential {
    pub fn new(cred: Credential) -> Self {
        Self {
            record: cred.record,
            secret: cred.secret,
            principal: cred.principal,
            signing: Mutex::new(SigningKeyCache::default()),
        }
    }

    /// The SigV4 signing key of this secret for `scope`, derived at most once per scope.
    pub fn signing_key(&self, scope: Scope<'_>) -> [u8; 32] {
        let mut cache = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        *cache.key(&self.secret, scope.date, scope.region, scope.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KEYS;
    use crate::identity::{self, KeyOwner};
    use crate::record_cache::{Invalidate, WatchedStorage};
    use coffer_storage::{Storage, StorageError};
    use coffer_types::AccountId;
    use coffer_wire::sigv4::signing_key;
    use std::sync::Arc;
    use std::time::Duration;
    use time::OffsetDateTime;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn account() -> AccountId {
        "111122223333".parse().unwrap()
    }

    fn credential(akid: &str, secret: &str) -> CachedCredential {
        let record = KeyRecord {
            account: account(),
            owner: KeyOwner::Root,
            active: true,
            created: T0,
            sealed_secret: Vec::new(),
        };
        CachedCredential::new(Credential {
            principal: identity::principal_for(akid, &record),
            record,
            secret: Zeroizing::new(secret.to_owned()),
        })
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
        Invalidate::invalidate(&cache, &[b"AKIA1".to_vec()]);
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
        let watched = WatchedStorage::new(
            raw.clone(),
            vec![(KEYS, cache.clone() as Arc<dyn Invalidate>)],
        );
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
        let later = T0 + time::Duration::try_from(CACHE_TTL).unwrap();
        assert!(f.cache.get("AKIA1", later).is_none());
        let stored = coffer_storage::read(&f.watched, |t| identity::get_key(t, "AKIA1"));
        assert!(stored.unwrap().is_none());
    }
}
