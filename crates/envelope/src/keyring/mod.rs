//! Keyrings: they generate, encrypt and decrypt data keys.
//!
//! - [`RawAesKeyring`]: wraps with a local AES key (AES-GCM).
//! - [`RawRsaKeyring`]: wraps with a local RSA key (PKCS #1 v1.5 or OAEP).
//! - [`MultiKeyring`]: one generator and any number of children; any one decrypts.
//! - [`KmsKeyring`] / [`KmsDiscoveryKeyring`]: AWS KMS (or coffer) through the
//!   [`KmsClient`] trait, multi-Region-key aware.

mod kms;
mod multi;
mod raw_aes;
mod raw_rsa;

pub use kms::{
    DiscoveryFilter, KmsClient, KmsDecryptOutput, KmsDiscoveryKeyring, KmsEncryptOutput, KmsError,
    KmsGenerateDataKeyOutput, KmsKeyArn, KmsKeyring, mrk_match,
};
pub use multi::MultiKeyring;
pub use raw_aes::RawAesKeyring;
pub use raw_rsa::RawRsaKeyring;

use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::{Error, Result};
use zeroize::Zeroizing;

/// Produces and protects data keys. Implementations must be usable from several threads.
pub trait Keyring: Send + Sync {
    /// Generates a data key if there is none yet, and adds at least one encrypted data key.
    fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials>;

    /// Decrypts one of `edks` into `materials.data_key`, or fails. Called only while
    /// `materials` has no data key.
    fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials>;
}

/// The provider ID reserved for AWS KMS; raw keyrings may not use it.
pub const KMS_PROVIDER_ID: &str = "aws-kms";

/// A fresh random data key of the suite's length, unless one is already present.
pub(crate) fn ensure_data_key(m: &mut EncryptionMaterials) -> Result<()> {
    if m.data_key.is_none() {
        let dk = Zeroizing::new(coffer_crypto::random_bytes(m.suite.key_len()));
        m.set_data_key(dk)?;
    }
    Ok(())
}

pub(crate) fn data_key(m: &EncryptionMaterials) -> Result<&[u8]> {
    m.data_key
        .as_deref()
        .map(Vec::as_slice)
        .ok_or_else(|| Error::Keyring("no data key to encrypt".into()))
}

pub(crate) fn check_raw_names(namespace: &str, name: &str) -> Result<()> {
    if namespace.is_empty() || name.is_empty() {
        return Err(Error::Config(
            "key namespace and key name must not be empty".into(),
        ));
    }
    if namespace.starts_with(KMS_PROVIDER_ID) {
        return Err(Error::Config(
            "the key namespace aws-kms is reserved for AWS KMS".into(),
        ));
    }
    if namespace.len() > usize::from(u16::MAX) || name.len() > usize::from(u16::MAX) - 20 {
        return Err(Error::Config("key namespace or name is too long".into()));
    }
    Ok(())
}
