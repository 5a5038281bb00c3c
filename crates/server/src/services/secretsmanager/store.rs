//! Secrets Manager records in storage and resolution of the names a caller uses.
//!
//! Tables:
//! - `sm_secrets`:  `<region>/<account>/<name>` -> [`SecretRecord`] (metadata, version list
//!   with staging labels, tags, policy, rotation, replication; never a value)
//! - `sm_versions`: `<region>/<account>/<name>#<version-id>` -> [`SealedValue`] (`#` cannot
//!   occur in a secret name, so one secret's versions never collide with another's)
//!
//! A replica is an ordinary record under its own region with `primary_region` set.

use super::error::{SmError, not_found};
use crate::record_cache::RecordCache;
use crate::records;
use coffer_storage::Txn;
use coffer_types::{AccountId, ArnParts};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::sync::Arc;
use time::OffsetDateTime;

/// Recently read secret records and sealed values, for the read path (GetSecretValue,
/// BatchGetSecretValue). Writes to `sm_secrets` and `sm_versions` on this node invalidate
/// an entry at once; see `crate::record_cache` for the bound on staleness across nodes. A
/// sealed value is kept as stored: ciphertext under a data key that only KMS can decrypt.
#[derive(Default)]
pub struct ReadCache {
    pub secrets: Arc<RecordCache<SecretRecord>>,
    pub values: Arc<RecordCache<SealedValue>>,
}

impl ReadCache {
    /// The tables whose writes invalidate these caches (see `WatchedStorage`).
    pub fn watches(&self) -> [crate::record_cache::Watch; 2] {
        [
            (SECRETS, self.secrets.clone()),
            (VERSIONS, self.values.clone()),
        ]
    }
}

pub const SECRETS: &str = "sm_secrets";
pub const VERSIONS: &str = "sm_versions";

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";
pub const PENDING: &str = "AWSPENDING";

/// One version's metadata (its value lives in `sm_versions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionMeta {
    pub id: String,
    pub stages: Vec<String>,
    pub created: OffsetDateTime,
    #[serde(default)]
    pub last_accessed: Option<OffsetDateTime>,
    /// The KMS key ARN that encrypted this version's data key.
    pub key_arn: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RotationRules {
    pub after_days: Option<i64>,
    pub expression: Option<String>,
    pub duration: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RotationConfig {
    pub enabled: bool,
    pub lambda_arn: Option<String>,
    pub rules: Option<RotationRules>,
    pub last_rotated: Option<OffsetDateTime>,
    pub next_rotation: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplicaMeta {
    pub region: String,
    pub kms_key_id: Option<String>,
    /// `InSync`, `Failed`, `InProgress`.
    pub status: String,
    pub status_message: String,
    pub last_accessed: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretRecord {
    pub name: String,
    /// The 6 random characters after the name in the ARN.
    pub suffix: String,
    pub account: AccountId,
    pub region: String,
    pub description: Option<String>,
    /// The key as the caller named it; `None` means `alias/aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    /// The ARN of that key, resolved when it was set (so callers of other accounts use the
    /// same key); `None` for the managed key.
    pub kms_key_arn: Option<String>,
    pub created: OffsetDateTime,
    pub last_changed: OffsetDateTime,
    pub last_accessed: Option<OffsetDateTime>,
    /// When DeleteSecret was called (`DeletedDate`), if scheduled for deletion.
    pub deleted: Option<OffsetDateTime>,
    /// When the scheduled deletion takes effect.
    pub purge_at: Option<OffsetDateTime>,
    pub tags: Vec<(String, String)>,
    pub policy: Option<String>,
    pub rotation: RotationConfig,
    /// In creation order.
    pub versions: Vec<VersionMeta>,
    /// Set on a replica: the region of its primary.
    pub primary_region: Option<String>,
    /// Set on a primary: its replicas.
    pub replicas: Vec<ReplicaMeta>,
    /// The service that created the secret on the caller's behalf (`OwningService`, e.g.
    /// `rds`); `None` for a secret created directly. Records from before this field read
    /// as `None`.
    #[serde(default)]
    pub owning_service: Option<String>,
}

impl SecretRecord {
    /// A secret of account 111122223333 in us-east-1 with no versions, for unit tests.
    #[cfg(test)]
    pub fn example(name: &str, created: OffsetDateTime) -> Self {
        Self {
            name: name.into(),
            suffix: "AbCdEf".into(),
            #[allow(clippy::unwrap_used)]
            account: "111122223333".parse().unwrap(),
            region: "us-east-1".into(),
            description: None,
            kms_key_id: None,
            kms_key_arn: None,
            created,
            last_changed: created,
            last_accessed: None,
            deleted: None,
            purge_at: None,
            tags: Vec::new(),
            policy: None,
            rotation: Default::default(),
            versions: Vec::new(),
            primary_region: None,
            replicas: Vec::new(),
            owning_service: None,
        }
    }

    pub fn arn(&self) -> String {
        secret_arn(&self.region, self.account, &self.name, &self.suffix)
    }

    pub fn storage_key(&self) -> String {
        secret_key(&self.region, self.account, &self.name)
    }

    pub fn version_key(&self, version_id: &str) -> String {
        key(&self.region, self.account, &self.name, Some(version_id))
    }

    pub fn version(&self, id: &str) -> Option<&VersionMeta> {
        self.versions.iter().find(|v| v.id == id)
    }

    pub fn version_mut(&mut self, id: &str) -> Option<&mut VersionMeta> {
        self.versions.iter_mut().find(|v| v.id == id)
    }

    pub fn with_stage(&self, stage: &str) -> Option<&VersionMeta> {
        self.versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage))
    }

    pub fn is_replica(&self) -> bool {
        self.primary_region.is_some()
    }
}

/// A version's value: AES-256-GCM under a data key that KMS encrypted.
#[derive(Clone, Serialize, Deserialize)]
pub struct SealedValue {
    /// `string` or `binary`.
    pub kind: String,
    #[serde(with = "records::b64")]
    pub data_key: Vec<u8>,
    #[serde(with = "records::b64")]
    pub sealed: Vec<u8>,
}

/// Built with `concat`, in one allocation of the right size: a read builds it several
/// times (authorization, the audit record, the value's AAD), and `format!` regrew it.
pub fn secret_arn(region: &str, account: AccountId, name: &str, suffix: &str) -> String {
    let account = account.as_str();
    [
        "arn:aws:secretsmanager:",
        region,
        ":",
        account,
        ":secret:",
        name,
        "-",
        suffix,
    ]
    .concat()
}

pub fn secret_key(region: &str, account: AccountId, name: &str) -> String {
    key(region, account, name, None)
}

/// `region/account/name`, then `#version` for a version's key, built in one allocation of
/// the right size: the read path makes several of these per call, and `format!` grew each
/// one two or three times.
fn key(region: &str, account: AccountId, name: &str, version: Option<&str>) -> String {
    let account = account.as_str();
    match version {
        None => [region, "/", account, "/", name].concat(),
        Some(v) => [region, "/", account, "/", name, "#", v].concat(),
    }
}

pub fn get<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    key: &str,
) -> Result<Option<T>, SmError> {
    records::get(t, table, key)
}

pub fn put<T: Serialize>(t: &mut dyn Txn, table: &str, key: &str, v: &T) -> Result<(), SmError> {
    records::put(t, table, key, v)
}

pub fn put_secret(t: &mut dyn Txn, s: &SecretRecord) -> Result<(), SmError> {
    put(t, SECRETS, &s.storage_key(), s)
}

/// Every secret whose storage key starts with `prefix`.
pub fn scan_secrets(t: &mut dyn Txn, prefix: &str) -> Result<Vec<SecretRecord>, SmError> {
    let rows = records::scan::<SecretRecord, SmError>(t, SECRETS, prefix, None, usize::MAX)?;
    Ok(rows.into_iter().map(|(_, s)| s).collect())
}

/// Removes a secret record and every version value it lists.
pub fn remove_secret(t: &mut dyn Txn, s: &SecretRecord) -> Result<(), SmError> {
    for v in &s.versions {
        t.delete(VERSIONS, s.version_key(&v.id).as_bytes())?;
    }
    t.delete(SECRETS, s.storage_key().as_bytes())?;
    Ok(())
}

/// How the caller named a secret: by name in its own account, or by a full or partial ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub region: String,
    pub account: AccountId,
    /// The resource part after `secret:` for an ARN, the name otherwise.
    pub text: String,
    pub is_arn: bool,
}

/// Parses `SecretId`. `None` for an ARN of another service or a malformed one.
pub fn parse_ref(s: &str, region: &str, account: AccountId) -> Option<SecretRef> {
    if !s.starts_with("arn:") {
        return Some(SecretRef {
            region: region.to_owned(),
            account,
            text: s.to_owned(),
            is_arn: false,
        });
    }
    let arn = ArnParts::parse(s).ok()?;
    if arn.service != "secretsmanager" {
        return None;
    }
    let text = arn.resource.strip_prefix("secret:")?;
    Some(SecretRef {
        region: arn.region.to_owned(),
        account: arn.account.parse().ok()?,
        text: text.to_owned(),
        is_arn: true,
    })
}

/// Finds the secret a reference names: a full ARN matches name and suffix; a partial ARN
/// (no suffix) or a name matches the name. A full ARN whose suffix does not match an
/// existing secret (one deleted and re-created) names nothing.
pub fn find(t: &mut dyn Txn, r: &SecretRef) -> Result<Option<SecretRecord>, SmError> {
    resolve(r, |name| {
        get(t, SECRETS, &secret_key(&r.region, r.account, name))
    })
}

/// [`find`] through `cache`: the record each storage key names is looked up once per
/// cache lifetime. Only records found are cached (see `RecordCache`).
pub fn find_cached(
    cache: &RecordCache<SecretRecord>,
    now: OffsetDateTime,
    t: &mut dyn Txn,
    r: &SecretRef,
) -> Result<Option<Arc<SecretRecord>>, SmError> {
    resolve(r, |name| {
        let key = secret_key(&r.region, r.account, name);
        cache.get_or_load(&key, now, || get(t, SECRETS, &key))
    })
}

/// The name resolution of [`find`], with the record of a secret name looked up by `lookup`.
fn resolve<S: std::borrow::Borrow<SecretRecord>>(
    r: &SecretRef,
    mut lookup: impl FnMut(&str) -> Result<Option<S>, SmError>,
) -> Result<Option<S>, SmError> {
    if r.is_arn
        && let Some((name, suffix)) = split_suffix(&r.text)
        && let Some(s) = lookup(name)?
        && s.borrow().suffix == suffix
    {
        return Ok(Some(s));
    }
    lookup(&r.text)
}

/// `name-XXXXXX` into the name and the 6-character suffix.
fn split_suffix(text: &str) -> Option<(&str, &str)> {
    let (name, suffix) = text.rsplit_once('-')?;
    (suffix.len() == 6 && !name.is_empty()).then_some((name, suffix))
}

/// [`find`], failing with ResourceNotFoundException.
pub fn require(t: &mut dyn Txn, r: &SecretRef) -> Result<SecretRecord, SmError> {
    find(t, r)?.ok_or_else(not_found)
}

/// A new ARN suffix: 6 characters from the alphabet AWS uses (letters and digits).
pub fn new_suffix() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    coffer_crypto::random_bytes(6)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_suffixes() {
        let acct: AccountId = "111122223333".parse().unwrap();
        let r = parse_ref("db/app", "us-east-1", acct).unwrap();
        assert!(!r.is_arn);
        assert_eq!(r.text, "db/app");
        let r = parse_ref(
            "arn:aws:secretsmanager:eu-west-1:444455556666:secret:db/app-AbC123",
            "us-east-1",
            acct,
        )
        .unwrap();
        assert!(r.is_arn);
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.account.to_string(), "444455556666");
        assert_eq!(r.text, "db/app-AbC123");
        assert_eq!(split_suffix("db/app-AbC123"), Some(("db/app", "AbC123")));
        assert_eq!(split_suffix("db/app"), None);
        assert!(parse_ref("arn:aws:kms:us-east-1:111122223333:key/x", "r", acct).is_none());
        // An ARN without a partition is malformed, as `Arn` and the policy engine read it.
        assert!(
            parse_ref(
                "arn::secretsmanager:us-east-1:111122223333:secret:x",
                "r",
                acct
            )
            .is_none()
        );
        let s = new_suffix();
        assert_eq!(s.len(), 6);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    /// The storage keys are on disk: their form may never change.
    #[test]
    fn storage_keys_keep_their_form_and_fit_their_allocation() {
        let acct: AccountId = "111122223333".parse().unwrap();
        let k = secret_key("us-east-1", acct, "db/app");
        assert_eq!(k, "us-east-1/111122223333/db/app");
        assert_eq!(k.capacity(), k.len());
        let v = key("us-east-1", acct, "db/app", Some("v-1"));
        assert_eq!(v, "us-east-1/111122223333/db/app#v-1");
        assert_eq!(v.capacity(), v.len());
    }

    /// The ARN is in every value's AAD, so its form may never change either.
    #[test]
    fn secret_arns_keep_their_form() {
        let acct: AccountId = "111122223333".parse().unwrap();
        assert_eq!(
            secret_arn("us-east-1", acct, "db/app", "AbCdEf"),
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:db/app-AbCdEf"
        );
    }
}
