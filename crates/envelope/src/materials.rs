//! Materials passed between the client, materials managers and keyrings.

use crate::context::EncryptionContext;
use crate::suite::AlgorithmSuite;
use crate::{Error, Result};
use coffer_crypto::EcdsaSigner;
use std::collections::BTreeSet;
use zeroize::Zeroizing;

/// A data key encrypted by one wrapping key, as stored in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// Who can decrypt it: `aws-kms`, or a raw keyring's namespace.
    pub provider_id: String,
    /// Which key: a KMS key ARN, or a raw keyring's key name (plus IV data for AES).
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

/// What a keyring receives and returns on encrypt.
#[derive(Debug)]
pub struct EncryptionMaterials {
    pub suite: AlgorithmSuite,
    /// The full encryption context (stored and authenticate-only pairs).
    pub encryption_context: EncryptionContext,
    /// Keys of pairs authenticated but not stored in the message.
    pub required_context_keys: BTreeSet<String>,
    /// The plaintext data key, once a generator has produced it.
    pub data_key: Option<Zeroizing<Vec<u8>>>,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The signing key of signing suites.
    pub signing_key: Option<EcdsaSigner>,
}

impl EncryptionMaterials {
    /// A copy for another message: same data key and encrypted data keys, the same signing
    /// key with a fresh digest.
    pub fn try_clone(&self) -> Result<Self> {
        let signing_key = match &self.signing_key {
            Some(s) => Some(
                s.fresh_copy()
                    .map_err(|_| Error::Keyring("copying the signing key failed".into()))?,
            ),
            None => None,
        };
        Ok(Self {
            suite: self.suite,
            encryption_context: self.encryption_context.clone(),
            required_context_keys: self.required_context_keys.clone(),
            data_key: self.data_key.clone(),
            encrypted_data_keys: self.encrypted_data_keys.clone(),
            signing_key,
        })
    }

    /// Sets the data key a generator produced; it must be new and of the suite's length.
    pub fn set_data_key(&mut self, key: Zeroizing<Vec<u8>>) -> Result<()> {
        set_once(&mut self.data_key, self.suite, key, "generated")
    }
}

/// What a keyring receives and returns on decrypt.
#[derive(Debug, Clone)]
pub struct DecryptionMaterials {
    pub suite: AlgorithmSuite,
    /// The full encryption context: stored pairs plus reproduced authenticate-only pairs.
    pub encryption_context: EncryptionContext,
    pub required_context_keys: BTreeSet<String>,
    pub data_key: Option<Zeroizing<Vec<u8>>>,
    /// The compressed public key of signing suites.
    pub verification_key: Option<Vec<u8>>,
}

impl DecryptionMaterials {
    /// Sets the decrypted data key; it must be the first and of the suite's length.
    pub fn set_data_key(&mut self, key: Zeroizing<Vec<u8>>) -> Result<()> {
        set_once(&mut self.data_key, self.suite, key, "decrypted")
    }
}

/// Fills an empty data-key slot with a key of the suite's length (`done`: how the key that
/// is already there came, for the error).
fn set_once(
    slot: &mut Option<Zeroizing<Vec<u8>>>,
    suite: AlgorithmSuite,
    key: Zeroizing<Vec<u8>>,
    done: &str,
) -> Result<()> {
    if slot.is_some() {
        return Err(Error::Keyring(format!("a data key was already {done}")));
    }
    if key.len() != suite.key_len() {
        return Err(Error::Keyring(
            "data key length does not match the suite".into(),
        ));
    }
    *slot = Some(key);
    Ok(())
}
