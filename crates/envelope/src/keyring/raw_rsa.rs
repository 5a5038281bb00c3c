//! The raw RSA keyring: data keys encrypted to a local RSA public key.
//!
//! Encrypted data key: provider ID = key namespace, provider info = key name, ciphertext =
//! the RSA ciphertext. A keyring with only a public key can encrypt but not decrypt; one
//! with a private key does both.

use super::{Keyring, check_raw_names, data_key, ensure_data_key};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::{Error, Result};
use coffer_crypto::{RsaPadding, RsaPrivateKey, RsaPublicKey};

/// Wraps data keys with a local RSA key pair (or only its public half).
pub struct RawRsaKeyring {
    namespace: String,
    name: String,
    padding: RsaPadding,
    public: RsaPublicKey,
    private: Option<RsaPrivateKey>,
}

impl std::fmt::Debug for RawRsaKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RawRsaKeyring({}/{}, {:?})",
            self.namespace, self.name, self.padding
        )
    }
}

impl RawRsaKeyring {
    /// A keyring that encrypts and decrypts with a PKCS #8 private key (PEM or DER).
    pub fn with_private_key(
        namespace: &str,
        name: &str,
        padding: RsaPadding,
        private_key: &[u8],
    ) -> Result<Self> {
        check_raw_names(namespace, name)?;
        let der = crate::pem::decode(private_key, "PRIVATE KEY")?;
        let private = RsaPrivateKey::from_pkcs8_der(&der)
            .map_err(|_| Error::Config("not an RSA PKCS #8 private key".into()))?;
        let public = private
            .public_key()
            .map_err(|_| Error::Config("not an RSA PKCS #8 private key".into()))?;
        Ok(Self {
            namespace: namespace.into(),
            name: name.into(),
            padding,
            public,
            private: Some(private),
        })
    }

    /// An encrypt-only keyring from a SubjectPublicKeyInfo public key (PEM or DER).
    pub fn with_public_key(
        namespace: &str,
        name: &str,
        padding: RsaPadding,
        public_key: &[u8],
    ) -> Result<Self> {
        check_raw_names(namespace, name)?;
        let der = crate::pem::decode(public_key, "PUBLIC KEY")?;
        let public = RsaPublicKey::from_spki_der(&der)
            .map_err(|_| Error::Config("not an RSA SubjectPublicKeyInfo public key".into()))?;
        Ok(Self {
            namespace: namespace.into(),
            name: name.into(),
            padding,
            public,
            private: None,
        })
    }
}

impl Keyring for RawRsaKeyring {
    fn on_encrypt(&self, mut m: EncryptionMaterials) -> Result<EncryptionMaterials> {
        ensure_data_key(&mut m)?;
        let ct = self
            .public
            .encrypt(self.padding, data_key(&m)?)
            .map_err(|e| Error::Keyring(format!("RSA encryption of the data key failed: {e}")))?;
        m.encrypted_data_keys.push(EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info: self.name.as_bytes().to_vec(),
            ciphertext: ct,
        });
        Ok(m)
    }

    fn on_decrypt(
        &self,
        mut m: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        let Some(private) = &self.private else {
            return Err(Error::NoDecryptableDataKey(format!(
                "raw RSA keyring {}/{} has no private key",
                self.namespace, self.name
            )));
        };
        let ours = edks
            .iter()
            .filter(|e| e.provider_id == self.namespace && e.provider_info == self.name.as_bytes());
        for edk in ours {
            if let Ok(dk) = private.decrypt(self.padding, &edk.ciphertext)
                && dk.len() == m.suite.key_len()
            {
                m.set_data_key(dk)?;
                return Ok(m);
            }
        }
        Err(Error::NoDecryptableDataKey(format!(
            "raw RSA keyring {}/{} matched no encrypted data key",
            self.namespace, self.name
        )))
    }
}
