//! The raw AES keyring: data keys wrapped with AES-GCM under a local wrapping key.
//!
//! Encrypted data key: provider ID = key namespace; provider info = key name | tag length
//! in bits (4, = 128) | IV length (4, = 12) | IV (12); ciphertext = wrapped key | tag. The
//! AAD is the serialized encryption context of the materials.

use super::{Keyring, check_raw_names, data_key, ensure_data_key};
use crate::context;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::{Error, Result};
use coffer_crypto::{GCM_IV_LEN, GCM_TAG_LEN, GcmKey, fill_random};
use zeroize::Zeroizing;

/// Wraps data keys with a local 128/192/256-bit AES key.
pub struct RawAesKeyring {
    namespace: String,
    name: String,
    key: GcmKey,
}

impl std::fmt::Debug for RawAesKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawAesKeyring({}/{})", self.namespace, self.name)
    }
}

const INFO_SUFFIX: usize = 4 + 4 + GCM_IV_LEN;

impl RawAesKeyring {
    /// `wrapping_key` must be 16, 24 or 32 bytes.
    pub fn new(namespace: &str, name: &str, wrapping_key: &[u8]) -> Result<Self> {
        check_raw_names(namespace, name)?;
        let key = GcmKey::new(wrapping_key)
            .map_err(|_| Error::Config("AES wrapping key must be 16, 24 or 32 bytes".into()))?;
        Ok(Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
            key,
        })
    }

    /// The IV of `edk` if it is ours and well-formed.
    fn matching_iv(&self, edk: &EncryptedDataKey) -> Option<[u8; GCM_IV_LEN]> {
        let info = &edk.provider_info;
        if edk.provider_id != self.namespace || info.len() != self.name.len() + INFO_SUFFIX {
            return None;
        }
        let (name, rest) = info.split_at(self.name.len());
        let tag_bits = u32::from_be_bytes(rest[0..4].try_into().ok()?);
        let iv_len = u32::from_be_bytes(rest[4..8].try_into().ok()?);
        if name != self.name.as_bytes() || tag_bits != 128 || iv_len != GCM_IV_LEN as u32 {
            return None;
        }
        rest[8..].try_into().ok()
    }
}

impl Keyring for RawAesKeyring {
    fn on_encrypt(&self, mut m: EncryptionMaterials) -> Result<EncryptionMaterials> {
        ensure_data_key(&mut m)?;
        let aad = context::serialize(&m.encryption_context)?;
        let mut iv = [0u8; GCM_IV_LEN];
        fill_random(&mut iv);
        let mut ct = data_key(&m)?.to_vec();
        let tag = self
            .key
            .seal_in_place(&iv, &aad, &mut ct)
            .map_err(|_| Error::Keyring("AES wrapping failed".into()))?;
        ct.extend_from_slice(&tag);
        let mut info = Vec::with_capacity(self.name.len() + INFO_SUFFIX);
        info.extend_from_slice(self.name.as_bytes());
        info.extend_from_slice(&128u32.to_be_bytes());
        info.extend_from_slice(&(GCM_IV_LEN as u32).to_be_bytes());
        info.extend_from_slice(&iv);
        m.encrypted_data_keys.push(EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info: info,
            ciphertext: ct,
        });
        Ok(m)
    }

    fn on_decrypt(
        &self,
        mut m: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        let aad = context::serialize(&m.encryption_context)?;
        let key_len = m.suite.key_len();
        for edk in edks {
            let Some(iv) = self.matching_iv(edk) else {
                continue;
            };
            if edk.ciphertext.len() != key_len + GCM_TAG_LEN {
                continue;
            }
            let (ct, tag) = edk.ciphertext.split_at(key_len);
            let mut dk = Zeroizing::new(ct.to_vec());
            if self.key.open_in_place(&iv, &aad, &mut dk, tag).is_ok() {
                m.set_data_key(dk)?;
                return Ok(m);
            }
        }
        Err(Error::NoDecryptableDataKey(format!(
            "raw AES keyring {}/{} matched no encrypted data key",
            self.namespace, self.name
        )))
    }
}
