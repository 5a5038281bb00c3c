//! Parameter Store records in storage.
//!
//! Tables:
//! - `ssm_params`:   `<scope>/<name>` -> [`ParamRecord`] (the parameter and its current state)
//! - `ssm_versions`: `<param-id>/<version, 3 digits>` -> [`VersionRecord`] (one per version)
//! - `ssm_settings`: `<scope>/<setting-id>` -> [`SettingRecord`]
//! - `ssm_counts`:   `<scope>` -> [`Counts`] (parameters per tier, for AWS's quotas)
//! - `ssm_policy_due`: `<due, Unix seconds, 12 digits>/<param-id>` -> the parameter's
//!   `ssm_params` key: one row per pending policy, so the policy job reads only what is due
//!
//! `<scope>` is 12 hex digits of SHA-256 over `region/account`, not the readable pair: a
//! fully qualified name may be 1011 characters and storage keys are limited to 1024 bytes.
//! Every record also carries its region and account, and reads check them. `<param-id>` is
//! minted when a parameter is created, so a deleted and re-created name starts a fresh
//! history. SecureString values are only ever stored as KMS ciphertext (see `values.rs`).

use super::SsmError;
use crate::record_cache::RecordCache;
use crate::records;
use coffer_storage::Txn;
use coffer_types::AccountId;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Recently read parameters and versions, for the read path (GetParameter, GetParameters).
/// Writes to `ssm_params` and `ssm_versions` on this node invalidate an entry at once; see
/// `crate::record_cache` for the bound on staleness across nodes. A SecureString version
/// holds its value as KMS ciphertext, as in storage.
#[derive(Default)]
pub struct ReadCache {
    pub params: Arc<RecordCache<ParamRecord>>,
    pub versions: Arc<RecordCache<VersionRecord>>,
}

impl ReadCache {
    /// The tables whose writes invalidate these caches (see `WatchedStorage`).
    pub fn watches(&self) -> [crate::record_cache::Watch; 2] {
        [
            (PARAMS, self.params.clone()),
            (VERSIONS, self.versions.clone()),
        ]
    }
}

pub const PARAMS: &str = "ssm_params";
pub const VERSIONS: &str = "ssm_versions";
pub const SETTINGS: &str = "ssm_settings";
pub const COUNTS: &str = "ssm_counts";
pub const POLICY_DUE: &str = "ssm_policy_due";

/// How many parameters of each tier an account may hold in a region (AWS's quotas).
pub const QUOTAS: Counts = Counts {
    standard: 10_000,
    advanced: 100_000,
};

/// The storage scope of one account in one region.
pub fn scope(region: &str, account: AccountId) -> String {
    let h = coffer_crypto::sha256_hex(format!("{region}/{account}").as_bytes());
    h[..12].to_owned()
}

pub fn param_key(region: &str, account: AccountId, name: &str) -> String {
    format!("{}/{name}", scope(region, account))
}

pub fn version_key(param_id: &str, version: u64) -> String {
    format!("{param_id}/{version:03}")
}

/// A parameter policy as stored: the text the caller sent, its type, and its status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredPolicy {
    pub text: String,
    pub kind: String,
    /// `Pending`, `Finished` or `Failed`.
    pub status: String,
    /// When the policy acts (expiration, notification), computed at write time.
    pub due: Option<OffsetDateTime>,
    /// For NoChangeNotification: the interval after the last change.
    #[serde(default)]
    pub after_seconds: Option<i64>,
}

/// The stored form of a value: plain text, or ciphertext for a SecureString.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum StoredValue {
    Plain {
        text: String,
    },
    /// Standard tier: one KMS ciphertext blob of the value (base64 in the record).
    Kms {
        blob: String,
    },
    /// Advanced tier: a data key's KMS ciphertext and the value under AES-256-GCM.
    Envelope {
        data_key: String,
        sealed: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub version: u64,
    pub value: StoredValue,
    #[serde(rename = "type")]
    pub kind: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub data_type: String,
    pub policies: Vec<StoredPolicy>,
    pub modified: OffsetDateTime,
    pub modified_user: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamRecord {
    pub id: String,
    pub name: String,
    pub region: String,
    pub account: AccountId,
    pub version: u64,
    /// Versions still kept (at most 100), oldest first.
    pub versions: Vec<u64>,
    /// Label to the version it is attached to.
    pub labels: BTreeMap<String, u64>,
    pub tags: Vec<(String, String)>,
    /// Copies of the current version's metadata, so listings read one record per parameter.
    #[serde(rename = "type")]
    pub kind: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub data_type: String,
    pub policies: Vec<StoredPolicy>,
    pub modified: OffsetDateTime,
    pub modified_user: String,
}

impl ParamRecord {
    pub fn storage_key(&self) -> String {
        param_key(&self.region, self.account, &self.name)
    }

    pub fn arn(&self) -> String {
        param_arn(&self.region, self.account, &self.name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingRecord {
    pub value: String,
    pub modified: OffsetDateTime,
    pub modified_user: String,
}

/// `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`.
pub fn param_arn(region: &str, account: AccountId, name: &str) -> String {
    let bare = name.strip_prefix('/').unwrap_or(name);
    format!("arn:aws:ssm:{region}:{account}:parameter/{bare}")
}

pub fn get<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    key: &str,
) -> Result<Option<T>, SsmError> {
    records::get(t, table, key)
}

pub fn put<T: Serialize>(t: &mut dyn Txn, table: &str, key: &str, v: &T) -> Result<(), SsmError> {
    records::put(t, table, key, v)
}

/// The parameter `name` of the caller's account and region, if it exists.
pub fn load(
    t: &mut dyn Txn,
    region: &str,
    account: AccountId,
    name: &str,
) -> Result<Option<ParamRecord>, SsmError> {
    let rec: Option<ParamRecord> = get(t, PARAMS, &param_key(region, account, name))?;
    Ok(rec.filter(|r| r.region == region && r.account == account))
}

/// [`load`] through the read cache.
pub fn load_cached(
    cache: &ReadCache,
    now: OffsetDateTime,
    t: &mut dyn Txn,
    region: &str,
    account: AccountId,
    name: &str,
) -> Result<Option<Arc<ParamRecord>>, SsmError> {
    let key = param_key(region, account, name);
    let rec = cache
        .params
        .get_or_load(&key, now, || get(t, PARAMS, &key))?;
    Ok(rec.filter(|r| r.region == region && r.account == account))
}

/// [`load_version`] through the read cache.
pub fn load_version_cached(
    cache: &ReadCache,
    now: OffsetDateTime,
    t: &mut dyn Txn,
    p: &ParamRecord,
    version: u64,
) -> Result<Option<Arc<VersionRecord>>, SsmError> {
    let key = version_key(&p.id, version);
    cache
        .versions
        .get_or_load(&key, now, || get(t, VERSIONS, &key))
}

pub fn load_version(
    t: &mut dyn Txn,
    p: &ParamRecord,
    version: u64,
) -> Result<Option<VersionRecord>, SsmError> {
    get(t, VERSIONS, &version_key(&p.id, version))
}

/// Rows of the scope's parameters whose names start with `prefix`, after `start_after`.
pub fn scan_params(
    t: &mut dyn Txn,
    region: &str,
    account: AccountId,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<ParamRecord>, SsmError> {
    let sc = scope(region, account);
    let after = start_after.map(|n| format!("{sc}/{n}"));
    let rows = records::scan::<ParamRecord, SsmError>(
        t,
        PARAMS,
        &format!("{sc}/{prefix}"),
        after.as_deref(),
        limit,
    )?;
    Ok(rows
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.region == region && r.account == account)
        .collect())
}

/// The number of parameters of each tier in one scope, kept up to date by every write
/// that creates, deletes or re-tiers a parameter, so the quota check reads one record.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub standard: u64,
    pub advanced: u64,
}

impl Counts {
    fn slot(&mut self, tier: &str) -> &mut u64 {
        if tier == super::values::ADVANCED_TIER {
            &mut self.advanced
        } else {
            &mut self.standard
        }
    }
}

/// Records a parameter moving from tier `before` to tier `after` (`None`: not there),
/// refusing a move into a tier that is full with AWS's `ParameterLimitExceeded`.
pub fn recount(
    t: &mut dyn Txn,
    region: &str,
    account: AccountId,
    before: Option<&str>,
    after: Option<&str>,
    quotas: Counts,
) -> Result<(), SsmError> {
    if before == after {
        return Ok(());
    }
    let key = scope(region, account);
    let mut counts: Counts = get(t, COUNTS, &key)?.unwrap_or_default();
    if let Some(tier) = after {
        let mut limits = quotas;
        if *counts.slot(tier) >= *limits.slot(tier) {
            return Err(SsmError::ParameterLimitExceeded(
                "You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.".into(),
            ));
        }
        *counts.slot(tier) += 1;
    }
    if let Some(tier) = before {
        let n = counts.slot(tier);
        *n = n.saturating_sub(1);
    }
    put(t, COUNTS, &key, &counts)
}

/// The `ssm_policy_due` rows of a parameter's pending policies.
fn due_keys(p: &ParamRecord) -> Vec<String> {
    let mut keys: Vec<String> = p
        .policies
        .iter()
        .filter(|pol| pol.status == "Pending")
        .filter_map(|pol| pol.due)
        .map(|d| format!("{:012}/{}", d.unix_timestamp().max(0), p.id))
        .collect();
    keys.dedup();
    keys
}

/// Replaces the due-index rows of `old` (the record as it was) by those of `new`.
pub fn reindex(
    t: &mut dyn Txn,
    old: Option<&ParamRecord>,
    new: Option<&ParamRecord>,
) -> Result<(), SsmError> {
    for k in old.map(due_keys).unwrap_or_default() {
        t.delete(POLICY_DUE, k.as_bytes())?;
    }
    if let Some(p) = new {
        let target = p.storage_key();
        for k in due_keys(p) {
            t.put(POLICY_DUE, k.as_bytes(), target.as_bytes())?;
        }
    }
    Ok(())
}

/// The `ssm_params` keys of parameters with a policy due at or before `now` (Unix seconds).
pub fn due_params(t: &mut dyn Txn, now: i64) -> Result<Vec<String>, SsmError> {
    let mut out: Vec<String> = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let rows = t.scan(POLICY_DUE, b"", after.as_deref(), 256)?;
        let exhausted = rows.len() < 256;
        for (k, v) in rows {
            let due = std::str::from_utf8(&k)
                .ok()
                .and_then(|k| k.split('/').next())
                .and_then(|d| d.parse::<i64>().ok());
            if due.is_none_or(|d| d > now) {
                return Ok(out);
            }
            let target = String::from_utf8(v)
                .map_err(|_| SsmError::Internal("corrupt record in ssm_policy_due".into()))?;
            if !out.contains(&target) {
                out.push(target);
            }
            after = Some(k);
        }
        if exhausted {
            return Ok(out);
        }
    }
}

/// Removes a parameter and every version of it.
pub fn remove(t: &mut dyn Txn, p: &ParamRecord) -> Result<(), SsmError> {
    recount(t, &p.region, p.account, Some(&p.tier), None, QUOTAS)?;
    reindex(t, Some(p), None)?;
    t.delete(PARAMS, p.storage_key().as_bytes())?;
    for v in &p.versions {
        t.delete(VERSIONS, version_key(&p.id, *v).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_per_tier() {
        let dir = tempfile::tempdir().unwrap();
        let st = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let account: AccountId = "111122223333".parse().unwrap();
        let small = Counts {
            standard: 2,
            advanced: 1,
        };
        let step = |before: Option<&'static str>, after: Option<&'static str>| {
            coffer_storage::write(st.as_ref(), |t| {
                recount(t, "us-east-1", account, before, after, small)
            })
        };
        let std = Some("Standard");
        let adv = Some("Advanced");
        step(None, std).unwrap();
        step(None, std).unwrap();
        assert!(matches!(
            step(None, std),
            Err(SsmError::ParameterLimitExceeded(_))
        ));
        // Another region is another scope.
        coffer_storage::write(st.as_ref(), |t| {
            recount(t, "eu-west-1", account, None, std, small)
        })
        .unwrap();
        step(std, adv).unwrap();
        step(None, std).unwrap();
        assert!(matches!(
            step(std, adv),
            Err(SsmError::ParameterLimitExceeded(_))
        ));
        step(adv, None).unwrap();
        step(std, adv).unwrap();
        let counts: Counts = coffer_storage::read(st.as_ref(), |t| {
            get(t, COUNTS, &scope("us-east-1", account))
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            counts,
            Counts {
                standard: 1,
                advanced: 1
            }
        );
    }
}
