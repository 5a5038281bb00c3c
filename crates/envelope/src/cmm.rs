//! Cryptographic materials managers: between the client and the keyrings.
//!
//! - Every [`Keyring`] is itself a materials manager with the ESDK *default* behaviour
//!   (so `client.encrypt(&keyring, ...)` works); [`DefaultCmm`] is the same over a shared
//!   keyring.
//! - [`RequiredEncryptionContextCmm`]: named context keys are authenticated but not stored
//!   in the message; decryption must reproduce them.

use crate::context::{EncryptionContext, PUBLIC_KEY_FIELD};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::suite::{AlgorithmSuite, CommitmentPolicy};
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use coffer_crypto::EcdsaSigner;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the client asks for when encrypting.
#[derive(Debug, Clone)]
pub struct EncryptionRequest<'a> {
    pub encryption_context: &'a EncryptionContext,
    pub commitment_policy: CommitmentPolicy,
    /// The suite the caller asked for, if any.
    pub suite: Option<AlgorithmSuite>,
    /// The plaintext length, when known.
    pub max_plaintext_length: Option<u64>,
}

/// What the client asks for when decrypting.
#[derive(Debug, Clone)]
pub struct DecryptionRequest<'a> {
    pub suite: AlgorithmSuite,
    pub commitment_policy: CommitmentPolicy,
    pub encrypted_data_keys: &'a [EncryptedDataKey],
    /// The context stored in the message.
    pub encryption_context: &'a EncryptionContext,
    /// The context the caller supplied, if any.
    pub reproduced_encryption_context: Option<&'a EncryptionContext>,
}

/// Supplies encryption and decryption materials.
pub trait CryptoMaterialsManager: Send + Sync {
    fn get_encryption_materials(&self, req: &EncryptionRequest<'_>) -> Result<EncryptionMaterials>;
    fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials>;
}

impl<K: Keyring + ?Sized> CryptoMaterialsManager for K {
    fn get_encryption_materials(&self, req: &EncryptionRequest<'_>) -> Result<EncryptionMaterials> {
        default_encryption_materials(self, req)
    }

    fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials> {
        default_decryption_materials(self, req)
    }
}

/// The default materials manager over a shared keyring.
#[derive(Clone)]
pub struct DefaultCmm {
    keyring: Arc<dyn Keyring>,
}

impl std::fmt::Debug for DefaultCmm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DefaultCmm(..)")
    }
}

impl DefaultCmm {
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        Self { keyring }
    }
}

impl CryptoMaterialsManager for DefaultCmm {
    fn get_encryption_materials(&self, req: &EncryptionRequest<'_>) -> Result<EncryptionMaterials> {
        default_encryption_materials(self.keyring.as_ref(), req)
    }

    fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials> {
        default_decryption_materials(self.keyring.as_ref(), req)
    }
}

/// Picks the suite, adds the signing key's public half to the context, asks the keyring.
fn default_encryption_materials<K: Keyring + ?Sized>(
    keyring: &K,
    req: &EncryptionRequest<'_>,
) -> Result<EncryptionMaterials> {
    let suite = req
        .suite
        .unwrap_or_else(|| req.commitment_policy.default_suite());
    req.commitment_policy.check(suite, true)?;
    let mut ec = req.encryption_context.clone();
    if ec.contains_key(PUBLIC_KEY_FIELD) {
        return Err(Error::EncryptionContext(format!(
            "{PUBLIC_KEY_FIELD} is reserved"
        )));
    }
    let signing_key = match suite.signature() {
        Some(curve) => {
            let signer = EcdsaSigner::generate(curve)
                .map_err(|_| Error::Config("signing key generation failed".into()))?;
            let pk = signer
                .public_key_compressed()
                .map_err(|_| Error::Config("signing key encoding failed".into()))?;
            ec.insert(PUBLIC_KEY_FIELD.into(), B64.encode(pk));
            Some(signer)
        }
        None => None,
    };
    let m = EncryptionMaterials {
        suite,
        encryption_context: ec,
        required_context_keys: BTreeSet::new(),
        data_key: None,
        encrypted_data_keys: Vec::new(),
        signing_key,
    };
    let m = keyring.on_encrypt(m)?;
    if m.data_key.is_none() || m.encrypted_data_keys.is_empty() {
        return Err(Error::Keyring(
            "the keyring produced no (encrypted) data key".into(),
        ));
    }
    Ok(m)
}

/// Merges the reproduced context, finds the verification key, asks the keyring.
fn default_decryption_materials<K: Keyring + ?Sized>(
    keyring: &K,
    req: &DecryptionRequest<'_>,
) -> Result<DecryptionMaterials> {
    req.commitment_policy.check(req.suite, false)?;
    let mut ec = req.encryption_context.clone();
    let mut required = BTreeSet::new();
    for (k, v) in req.reproduced_encryption_context.into_iter().flatten() {
        match ec.get(k) {
            Some(stored) if stored == v => {}
            Some(_) => {
                return Err(Error::EncryptionContext(format!(
                    "the value of {k} does not match the message"
                )));
            }
            // Not stored: it can only be an authenticate-only pair, checked by the header tag.
            None => {
                ec.insert(k.clone(), v.clone());
                required.insert(k.clone());
            }
        }
    }
    let verification_key = match (req.suite.signature(), ec.get(PUBLIC_KEY_FIELD)) {
        (Some(_), Some(pk)) => Some(
            B64.decode(pk)
                .map_err(|_| Error::Malformed("aws-crypto-public-key is not base64"))?,
        ),
        (Some(_), None) => {
            return Err(Error::Malformed(
                "signed message without aws-crypto-public-key",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::Malformed(
                "unsigned message with aws-crypto-public-key",
            ));
        }
        (None, None) => None,
    };
    let m = DecryptionMaterials {
        suite: req.suite,
        encryption_context: ec,
        required_context_keys: required,
        data_key: None,
        verification_key,
    };
    let m = keyring.on_decrypt(m, req.encrypted_data_keys)?;
    if m.data_key.is_none() {
        return Err(Error::NoDecryptableDataKey(
            "the keyring returned no data key".into(),
        ));
    }
    Ok(m)
}

/// Requires context keys on encrypt, keeps them out of the message, and requires them to be
/// reproduced on decrypt.
#[derive(Clone)]
pub struct RequiredEncryptionContextCmm {
    inner: Arc<dyn CryptoMaterialsManager>,
    required: BTreeSet<String>,
}

impl std::fmt::Debug for RequiredEncryptionContextCmm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequiredEncryptionContextCmm({:?})", self.required)
    }
}

impl RequiredEncryptionContextCmm {
    pub fn new(
        inner: Arc<dyn CryptoMaterialsManager>,
        required_keys: BTreeSet<String>,
    ) -> Result<Self> {
        if required_keys.is_empty() {
            return Err(Error::Config(
                "at least one required encryption context key".into(),
            ));
        }
        Ok(Self {
            inner,
            required: required_keys,
        })
    }

    fn missing(&self, ec: Option<&EncryptionContext>) -> Option<&String> {
        self.required
            .iter()
            .find(|k| !ec.is_some_and(|ec| ec.contains_key(*k)))
    }
}

impl CryptoMaterialsManager for RequiredEncryptionContextCmm {
    fn get_encryption_materials(&self, req: &EncryptionRequest<'_>) -> Result<EncryptionMaterials> {
        if let Some(k) = self.missing(Some(req.encryption_context)) {
            return Err(Error::EncryptionContext(format!(
                "required key {k} is missing"
            )));
        }
        let mut m = self.inner.get_encryption_materials(req)?;
        m.required_context_keys
            .extend(self.required.iter().cloned());
        Ok(m)
    }

    fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials> {
        if let Some(k) = self.missing(req.reproduced_encryption_context) {
            return Err(Error::EncryptionContext(format!(
                "required key {k} was not reproduced"
            )));
        }
        let m = self.inner.decrypt_materials(req)?;
        if let Some(k) = self.missing(Some(&m.encryption_context)) {
            return Err(Error::EncryptionContext(format!(
                "required key {k} is missing"
            )));
        }
        Ok(m)
    }
}
