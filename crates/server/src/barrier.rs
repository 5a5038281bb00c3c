//! The barrier: the sealed root key and everything wrapped under it.
//!
//! Key hierarchy:
//! ```text
//! KEK (key file in the data directory, or Argon2id(passphrase, salt))
//!  └─ wraps the root key (random 256-bit), stored sealed in storage table `barrier`
//!      └─ HKDF-SHA256(root, purpose) -> one key per purpose (IAM secrets, audit digests, TLS keys, ...)
//! ```
//! The root key never leaves memory unwrapped; purpose keys are derived on demand and
//! zeroized on drop. Only the KEK source differs between deployments, so a node of a
//! PostgreSQL-backed cluster unseals with its own copy of the key file or passphrase.

use coffer_crypto::{Argon2Params, SecretKey};
use coffer_storage::{Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const TABLE: &str = "barrier";
const ROOT_RECORD: &[u8] = b"root";
/// Associated data binding the sealed root key to its role. Never change.
const ROOT_AAD: &[u8] = b"coffer/barrier/root/v1";

/// Where the key-encryption key comes from.
#[derive(Debug, Clone)]
pub enum UnsealSource {
    /// A 32-byte random key in a file (created on first start, mode 0600).
    KeyFile(PathBuf),
    /// A passphrase stretched with Argon2id; the salt and cost live in the sealed record.
    Passphrase(Zeroizing<String>),
}

/// Purposes of derived keys. Each is a distinct HKDF `info`, so keys never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    IamSecrets,
    AuditDigest,
    TlsKeys,
    /// KMS key material and import wrapping keys.
    KmsKeys,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Self::IamSecrets => b"coffer/iam-secrets/v1",
            Self::AuditDigest => b"coffer/audit-digest/v1",
            Self::TlsKeys => b"coffer/tls-keys/v1",
            Self::KmsKeys => b"coffer/kms-keys/v1",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BarrierError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {0} is not 32 bytes; refusing to use it")]
    KeyFileShape(PathBuf),
    #[error("the unseal key does not open this data store (wrong key file or passphrase)")]
    WrongKey,
    #[error("the data store is sealed with a {stored} but a {given} was given")]
    SourceMismatch {
        stored: &'static str,
        given: &'static str,
    },
    #[error("the sealed root record is corrupt")]
    Corrupt,
    #[error("passphrase stretching failed: {0}")]
    Kdf(#[from] coffer_crypto::KdfError),
}

#[derive(Serialize, Deserialize)]
struct SealedRoot {
    version: u32,
    /// "keyfile" or "passphrase".
    source: String,
    /// Argon2id salt and costs, for passphrase sources.
    salt: Option<Vec<u8>>,
    argon2: Option<(u32, u32, u32)>,
    sealed: Vec<u8>,
}

/// The unsealed barrier. Cheap to share behind an `Arc`.
pub struct Barrier {
    // The root key itself is dropped (and zeroized) once the purpose keys exist; tests keep
    // it to check that it never appears in storage.
    #[cfg(test)]
    root: SecretKey,
    // Purpose keys are derived once at unseal: credential lookups open a sealed secret on
    // every request, and re-running HKDF there would be work repeated on the hot path.
    iam_secrets: SecretKey,
    audit_digest: SecretKey,
    tls_keys: SecretKey,
    kms_keys: SecretKey,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Barrier(unsealed)")
    }
}

impl Barrier {
    /// Unseals the root key, creating it (and the key file) on a fresh store.
    pub fn unseal(store: &dyn Storage, source: &UnsealSource) -> Result<Self, BarrierError> {
        let existing: Option<Vec<u8>> = coffer_storage::read(store, |t| t.get(TABLE, ROOT_RECORD))?;
        match existing {
            Some(raw) => Self::open_existing(&raw, source),
            None => Self::initialize(store, source),
        }
    }

    fn open_existing(raw: &[u8], source: &UnsealSource) -> Result<Self, BarrierError> {
        let rec: SealedRoot = serde_json::from_slice(raw).map_err(|_| BarrierError::Corrupt)?;
        let kek = match (rec.source.as_str(), source) {
            ("keyfile", UnsealSource::KeyFile(p)) => read_key_file(p)?,
            ("passphrase", UnsealSource::Passphrase(pw)) => {
                let salt = rec.salt.as_deref().ok_or(BarrierError::Corrupt)?;
                let (m, i, p) = rec.argon2.ok_or(BarrierError::Corrupt)?;
                let params = Argon2Params {
                    memory_kib: m,
                    iterations: i,
                    parallelism: p,
                };
                coffer_crypto::argon2id(pw.as_bytes(), salt, params)?
            }
            (stored, given) => {
                return Err(BarrierError::SourceMismatch {
                    stored: source_name(stored),
                    given: given_name(given),
                });
            }
        };
        let root =
            coffer_crypto::open(&kek, ROOT_AAD, &rec.sealed).map_err(|_| BarrierError::WrongKey)?;
        let root = SecretKey::from_slice(&root).ok_or(BarrierError::Corrupt)?;
        Ok(Self::from_root(root))
    }

    fn initialize(store: &dyn Storage, source: &UnsealSource) -> Result<Self, BarrierError> {
        let root = SecretKey::generate();
        let (kek, rec_source, salt, argon2) = match source {
            UnsealSource::KeyFile(p) => (create_or_read_key_file(p)?, "keyfile", None, None),
            UnsealSource::Passphrase(pw) => {
                let salt = coffer_crypto::random_bytes(16);
                let params = Argon2Params::default();
                let kek = coffer_crypto::argon2id(pw.as_bytes(), &salt, params)?;
                let costs = (params.memory_kib, params.iterations, params.parallelism);
                (kek, "passphrase", Some(salt), Some(costs))
            }
        };
        let rec = SealedRoot {
            version: 1,
            source: rec_source.into(),
            salt,
            argon2,
            sealed: coffer_crypto::seal(&kek, ROOT_AAD, root.expose()),
        };
        let bytes = serde_json::to_vec(&rec).map_err(|_| BarrierError::Corrupt)?;
        // Two nodes may initialize at once: the first commit wins and the loser re-reads.
        let won = coffer_storage::write(store, |t| {
            if t.get(TABLE, ROOT_RECORD)?.is_some() {
                return Ok::<bool, StorageError>(false);
            }
            t.put(TABLE, ROOT_RECORD, &bytes)?;
            Ok(true)
        })?;
        if won {
            Ok(Self::from_root(root))
        } else {
            Self::unseal(store, source)
        }
    }

    fn from_root(root: SecretKey) -> Self {
        let derive = |p: Purpose| coffer_crypto::hkdf_sha256(root.expose(), b"", p.info());
        Self {
            iam_secrets: derive(Purpose::IamSecrets),
            audit_digest: derive(Purpose::AuditDigest),
            tls_keys: derive(Purpose::TlsKeys),
            kms_keys: derive(Purpose::KmsKeys),
            #[cfg(test)]
            root,
        }
    }

    fn key(&self, purpose: Purpose) -> &SecretKey {
        match purpose {
            Purpose::IamSecrets => &self.iam_secrets,
            Purpose::AuditDigest => &self.audit_digest,
            Purpose::TlsKeys => &self.tls_keys,
            Purpose::KmsKeys => &self.kms_keys,
        }
    }

    /// The key for one purpose, derived from the root key (HKDF-SHA256, `info` = purpose).
    pub fn derive(&self, purpose: Purpose) -> SecretKey {
        self.key(purpose).clone()
    }

    /// Seals `plaintext` under the purpose key, bound to `aad` (e.g. the record's id).
    pub fn seal(&self, purpose: Purpose, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        coffer_crypto::seal(self.key(purpose), aad, plaintext)
    }

    pub fn open(
        &self,
        purpose: Purpose,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BarrierError> {
        coffer_crypto::open(self.key(purpose), aad, sealed).map_err(|_| BarrierError::WrongKey)
    }
}

fn source_name(stored: &str) -> &'static str {
    if stored == "passphrase" {
        "passphrase"
    } else {
        "key file"
    }
}

fn given_name(s: &UnsealSource) -> &'static str {
    match s {
        UnsealSource::KeyFile(_) => "key file",
        UnsealSource::Passphrase(_) => "passphrase",
    }
}

fn read_key_file(p: &Path) -> Result<SecretKey, BarrierError> {
    let bytes = Zeroizing::new(std::fs::read(p).map_err(|e| BarrierError::KeyFile {
        path: p.into(),
        source: e,
    })?);
    SecretKey::from_slice(&bytes).ok_or_else(|| BarrierError::KeyFileShape(p.into()))
}

fn create_or_read_key_file(p: &Path) -> Result<SecretKey, BarrierError> {
    if p.exists() {
        return read_key_file(p);
    }
    let key = SecretKey::generate();
    crate::fsutil::write_private(p, key.expose()).map_err(|e| BarrierError::KeyFile {
        path: p.into(),
        source: e,
    })?;
    Ok(key)
}

/// Lets the TLS layer keep its private keys sealed on disk.
pub struct TlsSealer<'a>(pub &'a Barrier);

impl coffer_tls::KeySealer for TlsSealer<'_> {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        self.0.seal(Purpose::TlsKeys, purpose.as_bytes(), plaintext)
    }

    fn open(
        &self,
        purpose: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, coffer_tls::SealError> {
        self.0
            .open(Purpose::TlsKeys, purpose.as_bytes(), sealed)
            .map_err(|_| {
                coffer_tls::SealError::new("the sealed TLS key does not open under this root key")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> std::sync::Arc<dyn Storage> {
        coffer_storage::open_embedded(&dir.join("db.redb")).unwrap()
    }

    #[test]
    fn key_file_unseals_the_same_root_and_a_wrong_file_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let src = UnsealSource::KeyFile(dir.path().join("unseal.key"));
        let b1 = Barrier::unseal(st.as_ref(), &src).unwrap();
        let sealed = b1.seal(Purpose::IamSecrets, b"AKIA1", b"secret");
        let b2 = Barrier::unseal(st.as_ref(), &src).unwrap();
        assert_eq!(
            b2.open(Purpose::IamSecrets, b"AKIA1", &sealed)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        // Bound to its record id and its purpose.
        assert!(b2.open(Purpose::IamSecrets, b"AKIA2", &sealed).is_err());
        assert!(b2.open(Purpose::TlsKeys, b"AKIA1", &sealed).is_err());
        std::fs::write(dir.path().join("unseal.key"), [7u8; 32]).unwrap();
        assert!(matches!(
            Barrier::unseal(st.as_ref(), &src),
            Err(BarrierError::WrongKey)
        ));
        std::fs::write(dir.path().join("unseal.key"), [7u8; 31]).unwrap();
        assert!(matches!(
            Barrier::unseal(st.as_ref(), &src),
            Err(BarrierError::KeyFileShape(_))
        ));
    }

    #[test]
    fn passphrase_unseals_and_a_wrong_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let pw = |s: &str| UnsealSource::Passphrase(Zeroizing::new(s.to_owned()));
        let b1 = Barrier::unseal(st.as_ref(), &pw("correct horse")).unwrap();
        let b2 = Barrier::unseal(st.as_ref(), &pw("correct horse")).unwrap();
        assert_eq!(
            b1.derive(Purpose::AuditDigest),
            b2.derive(Purpose::AuditDigest)
        );
        assert!(matches!(
            Barrier::unseal(st.as_ref(), &pw("wrong")),
            Err(BarrierError::WrongKey)
        ));
        let kf = UnsealSource::KeyFile(dir.path().join("unseal.key"));
        assert!(matches!(
            Barrier::unseal(st.as_ref(), &kf),
            Err(BarrierError::SourceMismatch { .. })
        ));
        // The stored record holds no trace of the root key or the passphrase in plaintext.
        let raw = coffer_storage::read(st.as_ref(), |t| t.get(TABLE, ROOT_RECORD))
            .unwrap()
            .unwrap();
        let root = b1.root.expose().to_vec();
        assert!(!raw.windows(32).any(|w| w == root.as_slice()));
        assert!(!raw.windows(13).any(|w| w == b"correct horse"));
    }

    #[test]
    fn purposes_derive_distinct_keys() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let b = Barrier::unseal(st.as_ref(), &UnsealSource::KeyFile(dir.path().join("k"))).unwrap();
        assert_ne!(
            b.derive(Purpose::IamSecrets),
            b.derive(Purpose::AuditDigest)
        );
        assert_ne!(b.derive(Purpose::AuditDigest), b.derive(Purpose::TlsKeys));
    }
}
