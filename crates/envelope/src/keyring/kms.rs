//! AWS KMS keyrings over a small client trait, so the library itself needs no HTTP.
//!
//! - [`KmsKeyring`]: one KMS key. Encrypt: `GenerateDataKey` (as generator) or `Encrypt`
//!   (as a child). Decrypt: `Decrypt` with the configured key, for encrypted data keys whose
//!   provider info is that key's ARN, or, for multi-Region keys (`mrk-` IDs), a replica's
//!   ARN in any Region.
//! - [`KmsDiscoveryKeyring`]: decrypts with whichever key the provider info names, limited
//!   by an optional account/partition filter. Given a Region, multi-Region key ARNs of other
//!   Regions are rewritten to that Region (so the local replica is used).
//!
//! Encrypted data key: provider ID `aws-kms`, provider info = key ARN returned by KMS,
//! ciphertext = the KMS ciphertext blob. The encryption context is passed to KMS as is.

use super::{KMS_PROVIDER_ID, Keyring, data_key};
use crate::context::EncryptionContext;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::{Error, Result};
use coffer_types::ArnParts;
use std::sync::Arc;
use zeroize::Zeroizing;

/// A failed KMS call: the AWS error code (e.g. `AccessDeniedException`) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct KmsError {
    pub code: String,
    pub message: String,
}

/// `GenerateDataKey` response fields the keyring uses.
pub struct KmsGenerateDataKeyOutput {
    /// The ARN of the key that encrypted the data key.
    pub key_id: String,
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext_blob: Vec<u8>,
}

/// `Encrypt` response fields the keyring uses.
pub struct KmsEncryptOutput {
    pub key_id: String,
    pub ciphertext_blob: Vec<u8>,
}

/// `Decrypt` response fields the keyring uses.
pub struct KmsDecryptOutput {
    pub key_id: String,
    pub plaintext: Zeroizing<Vec<u8>>,
}

/// The three KMS operations envelope encryption needs. An implementation sends them to
/// coffer or to any AWS-compatible endpoint.
pub trait KmsClient: Send + Sync {
    fn generate_data_key(
        &self,
        key_id: &str,
        number_of_bytes: usize,
        encryption_context: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsGenerateDataKeyOutput, KmsError>;

    fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        encryption_context: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsEncryptOutput, KmsError>;

    fn decrypt(
        &self,
        key_id: &str,
        ciphertext_blob: &[u8],
        encryption_context: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsDecryptOutput, KmsError>;
}

/// A parsed KMS key or alias ARN: `arn:partition:kms:region:account:key/id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKeyArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// `key` or `alias`.
    pub resource_type: String,
    pub resource_id: String,
}

impl KmsKeyArn {
    pub fn parse(s: &str) -> Option<Self> {
        let arn = ArnParts::parse(s).ok()?;
        let (resource_type, resource_id) = arn.resource.split_once('/')?;
        let ok = arn.service == "kms"
            && !arn.region.is_empty()
            && !arn.account.is_empty()
            && matches!(resource_type, "key" | "alias")
            && !resource_id.is_empty();
        ok.then(|| Self {
            partition: arn.partition.into(),
            region: arn.region.into(),
            account: arn.account.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
        })
    }

    /// A multi-Region key: a `key` whose ID starts with `mrk-`.
    pub fn is_mrk(&self) -> bool {
        self.resource_type == "key" && self.resource_id.starts_with("mrk-")
    }

    pub fn with_region(&self, region: &str) -> Self {
        Self {
            region: region.into(),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for KmsKeyArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "arn:{}:kms:{}:{}:{}/{}",
            self.partition, self.region, self.account, self.resource_type, self.resource_id
        )
    }
}

/// ESDK "MRK match": identical identifiers match; otherwise both must be multi-Region key
/// ARNs that differ at most in their Region.
pub fn mrk_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (KmsKeyArn::parse(a), KmsKeyArn::parse(b)) {
        (Some(x), Some(y)) if x.is_mrk() && y.is_mrk() => x.with_region(&y.region) == y,
        _ => false,
    }
}

fn kms_err(op: &str, key: &str, e: KmsError) -> Error {
    Error::Kms(format!("{op} with {key} failed: {e}"))
}

/// A keyring for one KMS key (multi-Region aware).
#[derive(Clone)]
pub struct KmsKeyring {
    client: Arc<dyn KmsClient>,
    key_id: String,
    grant_tokens: Vec<String>,
}

impl std::fmt::Debug for KmsKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KmsKeyring({})", self.key_id)
    }
}

impl KmsKeyring {
    /// `key_id` may be any KMS key identifier for encryption; to decrypt it must be the key
    /// ARN (the provider info stores ARNs).
    pub fn new(client: Arc<dyn KmsClient>, key_id: &str) -> Result<Self> {
        if key_id.is_empty() {
            return Err(Error::Config("KMS key identifier must not be empty".into()));
        }
        Ok(Self {
            client,
            key_id: key_id.into(),
            grant_tokens: Vec::new(),
        })
    }

    pub fn with_grant_tokens(mut self, tokens: Vec<String>) -> Self {
        self.grant_tokens = tokens;
        self
    }
}

/// The ARN KMS answered with must be a key ARN: it becomes the provider info.
fn returned_key_arn(key_id: String) -> Result<String> {
    match KmsKeyArn::parse(&key_id) {
        Some(a) if a.resource_type == "key" => Ok(key_id),
        _ => Err(Error::Kms(
            "KMS returned a KeyId that is not a key ARN".into(),
        )),
    }
}

impl Keyring for KmsKeyring {
    fn on_encrypt(&self, mut m: EncryptionMaterials) -> Result<EncryptionMaterials> {
        let ec = &m.encryption_context;
        let (arn, ciphertext) = if m.data_key.is_none() {
            let out = self
                .client
                .generate_data_key(&self.key_id, m.suite.key_len(), ec, &self.grant_tokens)
                .map_err(|e| kms_err("GenerateDataKey", &self.key_id, e))?;
            let arn = returned_key_arn(out.key_id)?;
            m.set_data_key(out.plaintext).map_err(|_| {
                Error::Kms("GenerateDataKey returned a key of the wrong length".into())
            })?;
            (arn, out.ciphertext_blob)
        } else {
            let out = self
                .client
                .encrypt(&self.key_id, data_key(&m)?, ec, &self.grant_tokens)
                .map_err(|e| kms_err("Encrypt", &self.key_id, e))?;
            (returned_key_arn(out.key_id)?, out.ciphertext_blob)
        };
        m.encrypted_data_keys.push(EncryptedDataKey {
            provider_id: KMS_PROVIDER_ID.into(),
            provider_info: arn.into_bytes(),
            ciphertext,
        });
        Ok(m)
    }

    fn on_decrypt(
        &self,
        m: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // Only encrypted data keys of this key (or, for a multi-Region key, of a replica).
        let target = |edk: &EncryptedDataKey| {
            let info = std::str::from_utf8(&edk.provider_info).ok()?;
            let is_key_arn = KmsKeyArn::parse(info).is_some_and(|a| a.resource_type == "key");
            (is_key_arn && mrk_match(&self.key_id, info)).then(|| self.key_id.clone())
        };
        decrypt_first(
            self.client.as_ref(),
            &self.grant_tokens,
            m,
            edks,
            target,
            || format!("no encrypted data key for {}", self.key_id),
        )
    }
}

/// Calls Decrypt for the KMS encrypted data keys in order, with the key `target` names
/// (`None` skips one), until KMS answers from that key with a data key of the suite's
/// length. The error lists every failed call, or says `nothing_tried`.
fn decrypt_first(
    client: &dyn KmsClient,
    grant_tokens: &[String],
    mut m: DecryptionMaterials,
    edks: &[EncryptedDataKey],
    target: impl Fn(&EncryptedDataKey) -> Option<String>,
    nothing_tried: impl FnOnce() -> String,
) -> Result<DecryptionMaterials> {
    let mut failures = Vec::new();
    for edk in edks.iter().filter(|e| e.provider_id == KMS_PROVIDER_ID) {
        let Some(key) = target(edk) else {
            continue;
        };
        let out = client.decrypt(&key, &edk.ciphertext, &m.encryption_context, grant_tokens);
        match out {
            Ok(o) if o.key_id == key && o.plaintext.len() == m.suite.key_len() => {
                m.set_data_key(o.plaintext)?;
                return Ok(m);
            }
            Ok(_) => failures.push("Decrypt answered for another key or length".to_string()),
            Err(e) => failures.push(kms_err("Decrypt", &key, e).to_string()),
        }
    }
    if failures.is_empty() {
        failures.push(nothing_tried());
    }
    Err(Error::NoDecryptableDataKey(failures.join("; ")))
}

/// Limits a discovery keyring to keys of these accounts in this partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryFilter {
    pub partition: String,
    pub account_ids: Vec<String>,
}

/// Decrypts with the KMS key each encrypted data key names. Cannot encrypt.
#[derive(Clone)]
pub struct KmsDiscoveryKeyring {
    client: Arc<dyn KmsClient>,
    filter: Option<DiscoveryFilter>,
    region: Option<String>,
    grant_tokens: Vec<String>,
}

impl std::fmt::Debug for KmsDiscoveryKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KmsDiscoveryKeyring({:?}, {:?})",
            self.filter, self.region
        )
    }
}

impl KmsDiscoveryKeyring {
    /// `region`, when given, is the client's Region (MRK-aware discovery): multi-Region key
    /// ARNs of other Regions are decrypted with the replica in this one, and single-Region
    /// keys of other Regions are skipped.
    pub fn new(
        client: Arc<dyn KmsClient>,
        filter: Option<DiscoveryFilter>,
        region: Option<&str>,
    ) -> Result<Self> {
        let bad = |f: &DiscoveryFilter| {
            f.partition.is_empty()
                || f.account_ids.is_empty()
                || f.account_ids.iter().any(String::is_empty)
        };
        if filter.as_ref().is_some_and(bad) {
            return Err(Error::Config(
                "a discovery filter needs a partition and at least one account".into(),
            ));
        }
        Ok(Self {
            client,
            filter,
            region: region.map(str::to_string),
            grant_tokens: Vec::new(),
        })
    }

    pub fn with_grant_tokens(mut self, tokens: Vec<String>) -> Self {
        self.grant_tokens = tokens;
        self
    }

    /// The ARN to call Decrypt with, if `info` names a key this keyring may use.
    fn target(&self, info: &[u8]) -> Option<String> {
        let arn = KmsKeyArn::parse(std::str::from_utf8(info).ok()?)?;
        if arn.resource_type != "key" {
            return None;
        }
        if let Some(f) = &self.filter
            && (arn.partition != f.partition || !f.account_ids.contains(&arn.account))
        {
            return None;
        }
        match &self.region {
            Some(r) if arn.is_mrk() => Some(arn.with_region(r).to_string()),
            // A Region-bound client can only reach single-Region keys of its own Region.
            Some(r) if arn.region != *r => None,
            _ => Some(arn.to_string()),
        }
    }
}

impl Keyring for KmsDiscoveryKeyring {
    fn on_encrypt(&self, _m: EncryptionMaterials) -> Result<EncryptionMaterials> {
        Err(Error::Keyring(
            "a KMS discovery keyring cannot encrypt".into(),
        ))
    }

    fn on_decrypt(
        &self,
        m: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        decrypt_first(
            self.client.as_ref(),
            &self.grant_tokens,
            m,
            edks,
            |edk| self.target(&edk.provider_info),
            || "no encrypted data key passed the discovery filter".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parsing() {
        let a = KmsKeyArn::parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1").unwrap();
        assert!(a.is_mrk());
        assert_eq!(
            a.to_string(),
            "arn:aws:kms:us-east-1:111122223333:key/mrk-1"
        );
        let alias = KmsKeyArn::parse("arn:aws-cn:kms:cn-north-1:111122223333:alias/mrk-x").unwrap();
        assert!(!alias.is_mrk());
        assert_eq!(alias.partition, "aws-cn");
        for bad in [
            "",
            "mrk-1",
            "arn:aws:s3:us-east-1:111122223333:key/1",
            "arn:aws:kms::111122223333:key/1",
            "arn:aws:kms:us-east-1::key/1",
            "arn:aws:kms:us-east-1:111122223333:key/",
            "arn:aws:kms:us-east-1:111122223333:grant/1",
            "arn:aws:kms:us-east-1:111122223333",
        ] {
            assert!(KmsKeyArn::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn mrk_matching() {
        let e = "arn:aws:kms:us-east-1:111122223333:key/mrk-1";
        let w = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1";
        assert!(mrk_match(e, w) && mrk_match(e, e) && mrk_match("mrk-1", "mrk-1"));
        assert!(!mrk_match(e, "mrk-1"));
        assert!(!mrk_match(
            e,
            "arn:aws:kms:eu-west-1:111122223333:key/mrk-2"
        ));
        assert!(!mrk_match(
            e,
            "arn:aws-cn:kms:eu-west-1:111122223333:key/mrk-1"
        ));
        assert!(!mrk_match(
            "arn:aws:kms:us-east-1:111122223333:key/k1",
            "arn:aws:kms:eu-west-1:111122223333:key/k1"
        ));
    }
}
