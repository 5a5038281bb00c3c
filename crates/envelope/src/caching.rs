//! The caching materials manager: reuses data keys across messages within limits, so many
//! small messages do not each call KMS.
//!
//! As the ESDK specifies: encryption materials are cached only when the plaintext length is
//! known and the suite derives its key (never for the identity-KDF suites); a cached data
//! key is used for at most `max_messages` messages and `max_bytes` plaintext bytes, and for
//! at most `max_age` after it was made; entry identifiers are SHA-512 digests of a partition
//! ID (random per manager unless given), the suite and the serialized context (plus, for
//! decryption, the sorted digests of the encrypted data keys). Decryption entries also
//! cover the reproduced context, so one caller's reproduced pairs never serve another's.

use crate::cmm::{CryptoMaterialsManager, DecryptionRequest, EncryptionRequest};
use crate::context;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};
use crate::suite::Kdf;
use crate::{Error, Result};
use coffer_crypto::sha512;
use coffer_types::SharedClock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Limits on how long and how much one cached data key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    pub max_age: Duration,
    /// Messages per data key (default 2^32).
    pub max_messages: u64,
    /// Plaintext bytes per data key (default 2^63 - 1).
    pub max_bytes: u64,
    /// Entries kept; the oldest is dropped beyond this.
    pub capacity: usize,
}

impl CacheLimits {
    pub fn new(max_age: Duration) -> Result<Self> {
        if max_age <= Duration::ZERO {
            return Err(Error::Config(
                "the cache max age must be greater than zero".into(),
            ));
        }
        Ok(Self {
            max_age,
            max_messages: 1 << 32,
            max_bytes: i64::MAX as u64,
            capacity: 1000,
        })
    }
}

enum Entry {
    Encrypt {
        materials: EncryptionMaterials,
        created: OffsetDateTime,
        messages: u64,
        bytes: u64,
    },
    Decrypt {
        materials: DecryptionMaterials,
        created: OffsetDateTime,
    },
}

impl Entry {
    fn created(&self) -> OffsetDateTime {
        match self {
            Entry::Encrypt { created, .. } | Entry::Decrypt { created, .. } => *created,
        }
    }
}

/// Caches the materials of an underlying materials manager.
pub struct CachingCmm {
    inner: Arc<dyn CryptoMaterialsManager>,
    partition: [u8; 64],
    limits: CacheLimits,
    clock: SharedClock,
    entries: Mutex<HashMap<[u8; 64], Entry>>,
}

impl std::fmt::Debug for CachingCmm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachingCmm({:?})", self.limits)
    }
}

impl CachingCmm {
    /// `partition`: managers sharing one share entries; `None` makes this one's private.
    pub fn new(
        inner: Arc<dyn CryptoMaterialsManager>,
        limits: CacheLimits,
        clock: SharedClock,
        partition: Option<&str>,
    ) -> Result<Self> {
        if limits.max_age <= Duration::ZERO || limits.max_messages == 0 || limits.capacity == 0 {
            return Err(Error::Config(
                "cache limits must be greater than zero".into(),
            ));
        }
        let id = match partition {
            Some(p) => p.as_bytes().to_vec(),
            None => coffer_crypto::random_bytes(32),
        };
        Ok(Self {
            inner,
            partition: sha512(&id),
            limits,
            clock,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 64], Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, e: &Entry, now: OffsetDateTime) -> bool {
        now < e.created() + self.limits.max_age
    }

    fn insert(&self, id: [u8; 64], entry: Entry) {
        let mut map = self.lock();
        let now = self.clock.now();
        map.retain(|_, e| self.fresh(e, now));
        while map.len() >= self.limits.capacity {
            let oldest = map.iter().min_by_key(|(_, e)| e.created()).map(|(k, _)| *k);
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(id, entry);
    }

    fn encrypt_id(&self, req: &EncryptionRequest<'_>) -> Result<[u8; 64]> {
        let mut buf = self.partition.to_vec();
        match req.suite {
            None => buf.push(0),
            Some(s) => {
                buf.push(1);
                buf.extend_from_slice(&s.id().to_be_bytes());
            }
        }
        buf.extend_from_slice(&sha512(&context::serialize(req.encryption_context)?));
        Ok(sha512(&buf))
    }

    fn decrypt_id(&self, req: &DecryptionRequest<'_>) -> Result<[u8; 64]> {
        let mut buf = self.partition.to_vec();
        buf.extend_from_slice(&req.suite.id().to_be_bytes());
        let mut edks: Vec<[u8; 64]> = req
            .encrypted_data_keys
            .iter()
            .map(|e| {
                let mut s = Vec::new();
                for part in [e.provider_id.as_bytes(), &e.provider_info, &e.ciphertext] {
                    s.extend_from_slice(&(part.len() as u16).to_be_bytes());
                    s.extend_from_slice(part);
                }
                sha512(&s)
            })
            .collect();
        edks.sort_unstable();
        for d in &edks {
            buf.extend_from_slice(d);
        }
        buf.extend_from_slice(&[0u8; 64]);
        buf.extend_from_slice(&sha512(&context::serialize(req.encryption_context)?));
        let reproduced = req
            .reproduced_encryption_context
            .map(context::serialize)
            .transpose()?
            .unwrap_or_default();
        buf.extend_from_slice(&sha512(&reproduced));
        Ok(sha512(&buf))
    }

    /// Takes one use of a cached entry, if it is still within every limit.
    fn take_encrypt(&self, id: &[u8; 64], len: u64) -> Result<Option<EncryptionMaterials>> {
        let now = self.clock.now();
        let mut map = self.lock();
        let Some(entry) = map.get_mut(id) else {
            return Ok(None);
        };
        let fresh = self.fresh(entry, now);
        if let Entry::Encrypt {
            materials,
            messages,
            bytes,
            ..
        } = entry
            && fresh
            && *messages < self.limits.max_messages
            && bytes.saturating_add(len) <= self.limits.max_bytes
        {
            *messages += 1;
            *bytes = bytes.saturating_add(len);
            return materials.try_clone().map(Some);
        }
        map.remove(id);
        Ok(None)
    }
}

fn caches(suite: Option<crate::AlgorithmSuite>) -> bool {
    suite.is_none_or(|s| s.kdf() != Kdf::Identity)
}

impl CryptoMaterialsManager for CachingCmm {
    fn get_encryption_materials(&self, req: &EncryptionRequest<'_>) -> Result<EncryptionMaterials> {
        let Some(len) = req.max_plaintext_length.filter(|_| caches(req.suite)) else {
            return self.inner.get_encryption_materials(req);
        };
        let id = self.encrypt_id(req)?;
        if let Some(m) = self.take_encrypt(&id, len)? {
            return Ok(m);
        }
        let inner_req = EncryptionRequest {
            max_plaintext_length: Some(self.limits.max_bytes),
            ..req.clone()
        };
        let m = self.inner.get_encryption_materials(&inner_req)?;
        if caches(Some(m.suite)) && len <= self.limits.max_bytes {
            let entry = Entry::Encrypt {
                materials: m.try_clone()?,
                created: self.clock.now(),
                messages: 1,
                bytes: len,
            };
            self.insert(id, entry);
        }
        Ok(m)
    }

    fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials> {
        if !caches(Some(req.suite)) {
            return self.inner.decrypt_materials(req);
        }
        let id = self.decrypt_id(req)?;
        let now = self.clock.now();
        {
            let mut map = self.lock();
            match map.get(&id) {
                Some(e @ Entry::Decrypt { materials, .. }) if self.fresh(e, now) => {
                    return Ok(materials.clone());
                }
                Some(_) => {
                    map.remove(&id);
                }
                None => {}
            }
        }
        let m = self.inner.decrypt_materials(req)?;
        self.insert(
            id,
            Entry::Decrypt {
                materials: m.clone(),
                created: now,
            },
        );
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncryptionContext;
    use crate::keyring::{Keyring, RawAesKeyring};
    use crate::materials::EncryptedDataKey;
    use crate::{Client, DecryptOptions, DefaultCmm};
    use coffer_types::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts how often the wrapped keyring is asked for anything.
    struct Counting(RawAesKeyring, AtomicUsize);

    impl Keyring for Counting {
        fn on_encrypt(&self, m: EncryptionMaterials) -> Result<EncryptionMaterials> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.on_encrypt(m)
        }
        fn on_decrypt(
            &self,
            m: DecryptionMaterials,
            edks: &[EncryptedDataKey],
        ) -> Result<DecryptionMaterials> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.on_decrypt(m, edks)
        }
    }

    fn setup(limits: CacheLimits) -> (Arc<Counting>, Arc<ManualClock>, CachingCmm) {
        let kr = Arc::new(Counting(
            RawAesKeyring::new("ns", "k", &[1u8; 32]).unwrap(),
            AtomicUsize::new(0),
        ));
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let inner = Arc::new(DefaultCmm::new(kr.clone()));
        let cmm = CachingCmm::new(inner, limits, clock.clone(), None).unwrap();
        (kr, clock, cmm)
    }

    fn calls(k: &Counting) -> usize {
        k.1.load(Ordering::SeqCst)
    }

    #[test]
    fn encryption_reuses_a_data_key_within_its_limits() {
        let mut limits = CacheLimits::new(Duration::seconds(60)).unwrap();
        limits.max_messages = 3;
        limits.max_bytes = 100;
        let (kr, clock, cmm) = setup(limits);
        let client = Client::new();
        let ec: EncryptionContext = [("a".to_string(), "b".to_string())].into();
        let mut msgs = Vec::new();
        for _ in 0..3 {
            msgs.push(client.encrypt(&cmm, b"0123456789", &ec).unwrap());
        }
        assert_eq!(calls(&kr), 1, "three messages, one data key");
        let edk = |m: &[u8]| crate::parse_header(m).unwrap().encrypted_data_keys;
        assert_eq!(edk(&msgs[0]), edk(&msgs[2]));
        // Every message still has its own message ID, signature key use and verifies.
        for m in &msgs {
            assert_eq!(
                client
                    .decrypt(&cmm, m, &DecryptOptions::default())
                    .unwrap()
                    .plaintext,
                b"0123456789"
            );
        }
        let after_decrypts = calls(&kr);
        assert_eq!(after_decrypts, 2, "one decryption entry serves all three");
        // Message limit reached: a new data key.
        client.encrypt(&cmm, b"x", &ec).unwrap();
        assert_eq!(calls(&kr), after_decrypts + 1);
        // Byte limit (100): 99 more bytes fit beside the 1 already used, one more does not.
        client.encrypt(&cmm, &[0u8; 99], &ec).unwrap();
        assert_eq!(calls(&kr), after_decrypts + 1);
        client.encrypt(&cmm, b"y", &ec).unwrap();
        assert_eq!(calls(&kr), after_decrypts + 2);
        // Another context is another entry; age expires entries.
        client
            .encrypt(&cmm, b"z", &EncryptionContext::new())
            .unwrap();
        assert_eq!(calls(&kr), after_decrypts + 3);
        clock.advance(std::time::Duration::from_secs(61));
        client
            .encrypt(&cmm, b"z", &EncryptionContext::new())
            .unwrap();
        assert_eq!(calls(&kr), after_decrypts + 4);
    }

    #[test]
    fn unknown_lengths_and_identity_suites_are_not_cached() {
        let (kr, _clock, cmm) = setup(CacheLimits::new(Duration::seconds(60)).unwrap());
        let client = Client::new();
        let ec = EncryptionContext::new();
        for _ in 0..2 {
            let mut e = client.encryptor(&cmm, &ec, Vec::new(), None).unwrap();
            std::io::Write::write_all(&mut e, b"stream").unwrap();
            e.finish().unwrap();
        }
        assert_eq!(calls(&kr), 2);
        let legacy = Client::new()
            .with_commitment_policy(crate::CommitmentPolicy::ForbidEncryptAllowDecrypt)
            .with_suite(crate::AlgorithmSuite::Aes256GcmNoKdf);
        for _ in 0..2 {
            legacy.encrypt(&cmm, b"x", &ec).unwrap();
        }
        assert_eq!(calls(&kr), 4);
    }

    #[test]
    fn reproduced_context_is_part_of_the_decryption_entry() {
        let (kr, _clock, cmm) = setup(CacheLimits::new(Duration::seconds(60)).unwrap());
        let client = Client::new();
        let required: std::collections::BTreeSet<String> = ["k".to_string()].into();
        let rcmm = crate::RequiredEncryptionContextCmm::new(
            Arc::new(DefaultCmm::new(kr.clone())),
            required,
        )
        .unwrap();
        let ec: EncryptionContext = [("k".to_string(), "v".to_string())].into();
        let msg = client.encrypt(&rcmm, b"data", &ec).unwrap();
        let right = DecryptOptions::default().with_reproduced_context(ec.clone());
        assert!(client.decrypt(&cmm, &msg, &right).is_ok());
        // Without the reproduced pair the cached materials must not be reused.
        assert!(
            client
                .decrypt(&cmm, &msg, &DecryptOptions::default())
                .is_err()
        );
        let wrong: EncryptionContext = [("k".to_string(), "w".to_string())].into();
        let wrong = DecryptOptions::default().with_reproduced_context(wrong);
        assert!(client.decrypt(&cmm, &msg, &wrong).is_err());
    }
}
