//! KMS records in storage and the resolution of the names a caller may use for a key.
//!
//! Tables (keys are `/`-separated so a prefix scan lists one account's records):
//! - `kms_keys`:    `<region>/<account>/<key-id>`        -> [`KeyRecord`]
//! - `kms_aliases`: `<region>/<account>/<alias-name>`    -> [`AliasRecord`]
//! - `kms_grants`:  `<region>/<account>/<key-id>/<grant-id>` -> [`GrantRecord`]
//! - `kms_import`:  `<region>/<account>/<key-id>`        -> [`ImportParams`]
//!
//! Key material never appears here in plaintext: each version's material is sealed by the
//! barrier (see `material.rs`).

use super::error::KmsError;
use crate::records;
use coffer_kms::context::EncryptionContext;
use coffer_kms::spec::{KeyManager, KeySpec, KeyState, KeyUsage, Origin};
use coffer_storage::Txn;
use coffer_types::AccountId;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::OffsetDateTime;

pub const KEYS: &str = "kms_keys";
pub const ALIASES: &str = "kms_aliases";
pub const GRANTS: &str = "kms_grants";
pub const IMPORTS: &str = "kms_import";

/// One version of a key's material (rotation adds versions; none is ever removed while the
/// key exists, so old ciphertext keeps decrypting).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyVersion {
    pub version: u32,
    /// AWS's 64-hex-character `KeyMaterialId`.
    pub material_id: String,
    pub created: OffsetDateTime,
    /// `AUTOMATIC`, `ON_DEMAND`, or `None` for the original material.
    pub rotation_type: Option<String>,
    /// The material sealed under the barrier's KMS purpose key; `None` while an EXTERNAL key
    /// waits for (or has lost) its imported material. Base64 in the record.
    #[serde(with = "records::b64_opt")]
    pub sealed: Option<Vec<u8>>,
    /// For imported material: SHA-256 (hex) of the material, so a re-import can be checked
    /// to be the same material after the original was deleted or expired.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub enabled: bool,
    pub period_days: u32,
    pub next: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultiRegion {
    /// The region holding the primary key.
    pub primary_region: String,
    /// Every region holding a replica.
    pub replica_regions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key_id: String,
    pub account: AccountId,
    pub region: String,
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: Origin,
    pub manager: KeyManager,
    pub state: KeyState,
    pub created: OffsetDateTime,
    pub deletion_date: Option<OffsetDateTime>,
    pub pending_window_days: Option<u32>,
    /// Key policies by name (KMS has only `default`).
    pub policy: String,
    pub tags: Vec<(String, String)>,
    pub rotation: Rotation,
    pub on_demand_rotations: Vec<OffsetDateTime>,
    pub versions: Vec<KeyVersion>,
    pub multi_region: Option<MultiRegion>,
    /// For imported material: when it expires (`KEY_MATERIAL_EXPIRES`), `None` otherwise.
    pub valid_to: Option<OffsetDateTime>,
}

impl KeyRecord {
    pub fn arn(&self) -> String {
        key_arn(&self.region, self.account, &self.key_id)
    }

    pub fn current(&self) -> Option<&KeyVersion> {
        self.versions.last()
    }

    pub fn version(&self, v: u32) -> Option<&KeyVersion> {
        self.versions.iter().find(|k| k.version == v)
    }

    pub fn is_multi_region(&self) -> bool {
        self.multi_region.is_some()
    }

    pub fn is_primary(&self) -> bool {
        self.multi_region
            .as_ref()
            .is_some_and(|m| m.primary_region == self.region)
    }

    pub fn storage_key(&self) -> String {
        key_storage_key(&self.region, self.account, &self.key_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliasRecord {
    pub name: String,
    pub target_key_id: String,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantRecord {
    pub grant_id: String,
    pub key_id: String,
    pub name: Option<String>,
    pub created: OffsetDateTime,
    pub grantee: String,
    pub retiring: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    pub context_subset: Option<EncryptionContext>,
    pub context_equals: Option<EncryptionContext>,
    /// SHA-256 of every token issued for this grant (a repeated named CreateGrant returns
    /// the same grant with a new token; all of them work), never the tokens themselves.
    pub token_hashes: Vec<String>,
}

/// Parameters issued by `GetParametersForImport`: the wrapping private key, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportParams {
    pub wrapping_spec: String,
    pub algorithm: String,
    #[serde(with = "records::b64")]
    pub sealed_private_key: Vec<u8>,
    pub token_hash: String,
    pub valid_to: OffsetDateTime,
}

// These run several times per KMS call; `concat` sizes the string once and skips the
// formatting machinery that `format!` goes through.
pub fn key_arn(region: &str, account: AccountId, key_id: &str) -> String {
    [
        "arn:aws:kms:",
        region,
        ":",
        account.as_str(),
        ":key/",
        key_id,
    ]
    .concat()
}

pub fn alias_arn(region: &str, account: AccountId, name: &str) -> String {
    ["arn:aws:kms:", region, ":", account.as_str(), ":", name].concat()
}

pub fn key_storage_key(region: &str, account: AccountId, key_id: &str) -> String {
    [region, "/", account.as_str(), "/", key_id].concat()
}

pub fn alias_storage_key(region: &str, account: AccountId, name: &str) -> String {
    [region, "/", account.as_str(), "/", name].concat()
}

pub fn get<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    key: &str,
) -> Result<Option<T>, KmsError> {
    records::get(t, table, key)
}

pub fn put<T: Serialize>(t: &mut dyn Txn, table: &str, key: &str, v: &T) -> Result<(), KmsError> {
    records::put(t, table, key, v)
}

pub fn put_key(t: &mut dyn Txn, k: &KeyRecord) -> Result<(), KmsError> {
    put(t, KEYS, &k.storage_key(), k)
}

/// Rows of `table` under `prefix`, after `start_after`, at most `limit`.
pub fn scan<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, T)>, KmsError> {
    records::scan(t, table, prefix, start_after, limit)
}

/// How the caller named a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A bare key id (uuid or `mrk-`), in the caller's account.
    Id(String),
    /// A key ARN (possibly another account).
    Arn {
        region: String,
        account: AccountId,
        key_id: String,
    },
    /// `alias/...`, in the caller's account.
    AliasName(String),
    /// An alias ARN.
    AliasArn {
        region: String,
        account: AccountId,
        name: String,
    },
}

impl KeyRef {
    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::AliasName(_) | KeyRef::AliasArn { .. })
    }

    /// The alias name used, for the `kms:RequestAlias` condition key.
    pub fn alias_name(&self) -> Option<&str> {
        match self {
            KeyRef::AliasName(n) | KeyRef::AliasArn { name: n, .. } => Some(n),
            _ => None,
        }
    }
}

/// A key id as KMS mints them: a lowercase UUID, or `mrk-` and 32 lowercase hex digits.
pub fn is_key_id(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// Parses what a caller passed as `KeyId`. `None` when it cannot name a key at all.
pub fn parse_key_ref(s: &str) -> Option<KeyRef> {
    if s.starts_with("alias/") {
        return Some(KeyRef::AliasName(s.to_owned()));
    }
    if let Some(rest) = s.strip_prefix("arn:aws:kms:") {
        let mut parts = rest.splitn(3, ':');
        let region = parts.next()?.to_owned();
        let account: AccountId = parts.next()?.parse().ok()?;
        let resource = parts.next()?;
        if let Some(id) = resource.strip_prefix("key/") {
            return is_key_id(id).then(|| KeyRef::Arn {
                region,
                account,
                key_id: id.to_owned(),
            });
        }
        if resource.starts_with("alias/") {
            return Some(KeyRef::AliasArn {
                region,
                account,
                name: resource.to_owned(),
            });
        }
        return None;
    }
    is_key_id(s).then(|| KeyRef::Id(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_refs() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(parse_key_ref(id), Some(KeyRef::Id(id.into())));
        assert_eq!(
            parse_key_ref("mrk-1234abcd12ab34cd56ef1234567890ab"),
            Some(KeyRef::Id("mrk-1234abcd12ab34cd56ef1234567890ab".into()))
        );
        assert_eq!(
            parse_key_ref(&format!("arn:aws:kms:us-east-1:111122223333:key/{id}")),
            Some(KeyRef::Arn {
                region: "us-east-1".into(),
                account: "111122223333".parse().unwrap(),
                key_id: id.into()
            })
        );
        assert_eq!(
            parse_key_ref("alias/app"),
            Some(KeyRef::AliasName("alias/app".into()))
        );
        assert!(matches!(
            parse_key_ref("arn:aws:kms:us-east-1:111122223333:alias/app"),
            Some(KeyRef::AliasArn { .. })
        ));
        assert_eq!(parse_key_ref("nonsense"), None);
        assert_eq!(parse_key_ref("arn:aws:kms:us-east-1:1:key/x"), None);
        assert_eq!(parse_key_ref("mrk-zz"), None);
    }
}
