//! Shared helpers for the integration tests: keys, keyrings and an in-memory KMS.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_crypto::{AsymSpec, GCM_IV_LEN, GcmKey, generate_private_key, random_bytes};
use coffer_envelope::keyring::{
    KmsClient, KmsDecryptOutput, KmsEncryptOutput, KmsError, KmsGenerateDataKeyOutput, mrk_match,
};
use coffer_envelope::{EncryptionContext, Keyring, RawAesKeyring, RawRsaKeyring, RsaPadding};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use zeroize::Zeroizing;

pub fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn aes(name: &str, len: usize) -> Arc<dyn Keyring> {
    let key: Vec<u8> = name.bytes().cycle().take(len).collect();
    Arc::new(RawAesKeyring::new("test-ns", name, &key).unwrap())
}

/// One RSA-2048 key per test binary (generation is the slow part).
pub fn rsa_pkcs8() -> &'static [u8] {
    static KEY: OnceLock<Zeroizing<Vec<u8>>> = OnceLock::new();
    KEY.get_or_init(|| generate_private_key(AsymSpec::Rsa2048).unwrap())
}

pub fn rsa(padding: RsaPadding) -> Arc<dyn Keyring> {
    Arc::new(RawRsaKeyring::with_private_key("rsa-ns", "rsa-key", padding, rsa_pkcs8()).unwrap())
}

/// An in-memory KMS: symmetric keys by ARN, multi-Region replicas sharing material.
/// Ciphertext blob: ARN length (2) | ARN of the encrypting key | IV | ciphertext | tag, with
/// the serialized encryption context as AAD (so a wrong context fails, as in KMS).
pub struct FakeKms {
    pub keys: BTreeMap<String, [u8; 32]>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeKms {
    pub fn new(arns: &[&str]) -> Self {
        let mut keys = BTreeMap::new();
        for arn in arns {
            // Replicas of one multi-Region key share material: derive it from the key ID.
            let id = arn.rsplit('/').next().unwrap();
            let mut m = [0u8; 32];
            for (i, b) in id.bytes().enumerate() {
                m[i % 32] ^= b;
            }
            keys.insert(arn.to_string(), m);
        }
        Self {
            keys,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn log(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }

    fn resolve(&self, key_id: &str) -> Result<(String, GcmKey), KmsError> {
        let arn = self
            .keys
            .keys()
            .find(|a| *a == key_id || a.ends_with(&format!("/{key_id}")))
            .ok_or_else(|| KmsError {
                code: "NotFoundException".into(),
                message: format!("{key_id} not found"),
            })?;
        Ok((arn.clone(), GcmKey::new(&self.keys[arn]).unwrap()))
    }

    fn seal(&self, arn: &str, key: &GcmKey, pt: &[u8], ec: &EncryptionContext) -> Vec<u8> {
        let aad = format!("{ec:?}");
        let iv: [u8; GCM_IV_LEN] = random_bytes(GCM_IV_LEN).try_into().unwrap();
        let mut body = pt.to_vec();
        let tag = key.seal_in_place(&iv, aad.as_bytes(), &mut body).unwrap();
        let mut blob = (arn.len() as u16).to_be_bytes().to_vec();
        blob.extend_from_slice(arn.as_bytes());
        blob.extend_from_slice(&iv);
        blob.extend_from_slice(&body);
        blob.extend_from_slice(&tag);
        blob
    }
}

fn invalid() -> KmsError {
    KmsError {
        code: "InvalidCiphertextException".into(),
        message: "bad ciphertext".into(),
    }
}

impl KmsClient for FakeKms {
    fn generate_data_key(
        &self,
        key_id: &str,
        n: usize,
        ec: &EncryptionContext,
        _g: &[String],
    ) -> Result<KmsGenerateDataKeyOutput, KmsError> {
        self.log(format!("GenerateDataKey {key_id}"));
        let (arn, key) = self.resolve(key_id)?;
        let pt = Zeroizing::new(random_bytes(n));
        let blob = self.seal(&arn, &key, &pt, ec);
        Ok(KmsGenerateDataKeyOutput {
            key_id: arn,
            plaintext: pt,
            ciphertext_blob: blob,
        })
    }

    fn encrypt(
        &self,
        key_id: &str,
        pt: &[u8],
        ec: &EncryptionContext,
        _g: &[String],
    ) -> Result<KmsEncryptOutput, KmsError> {
        self.log(format!("Encrypt {key_id}"));
        let (arn, key) = self.resolve(key_id)?;
        Ok(KmsEncryptOutput {
            ciphertext_blob: self.seal(&arn, &key, pt, ec),
            key_id: arn,
        })
    }

    fn decrypt(
        &self,
        key_id: &str,
        blob: &[u8],
        ec: &EncryptionContext,
        _g: &[String],
    ) -> Result<KmsDecryptOutput, KmsError> {
        self.log(format!("Decrypt {key_id}"));
        let (arn, key) = self.resolve(key_id)?;
        let n = usize::from(u16::from_be_bytes([blob[0], blob[1]]));
        let blob_arn = std::str::from_utf8(&blob[2..2 + n]).map_err(|_| invalid())?;
        if !mrk_match(blob_arn, &arn) {
            return Err(KmsError {
                code: "IncorrectKeyException".into(),
                message: "wrong key".into(),
            });
        }
        let rest = &blob[2 + n..];
        let iv: [u8; GCM_IV_LEN] = rest[..GCM_IV_LEN].try_into().unwrap();
        let (ct, tag) = rest[GCM_IV_LEN..].split_at(rest.len() - GCM_IV_LEN - 16);
        let mut pt = Zeroizing::new(ct.to_vec());
        key.open_in_place(&iv, format!("{ec:?}").as_bytes(), &mut pt, tag)
            .map_err(|_| invalid())?;
        Ok(KmsDecryptOutput {
            key_id: arn,
            plaintext: pt,
        })
    }
}
