//! Multi-Region keys: ReplicateKey and UpdatePrimaryRegion.
//!
//! A replica is a key record in another region with the same key id and the same sealed
//! material versions (the sealing is not bound to the region), so ciphertext made in one
//! region decrypts in the other. Every record of the set carries the same
//! primary/replica configuration, updated together in one transaction.

use super::access::{self, Request};
use super::keys::{Tag, audit_key};
use super::store::{self, KeyRecord, MultiRegion};
use super::{KmsError, metadata, policy, tags};
use crate::api::{AuditInfo, Call, audit_object};
use coffer_kms::ops::Operation;
use coffer_kms::spec::KeyState;
use coffer_storage::Txn;
use serde::Deserialize;
use serde_json::{Value, json};

fn not_primary(k: &KeyRecord) -> KmsError {
    if k.is_multi_region() {
        KmsError::UnsupportedOperation(format!("{} is not a multi-Region primary key.", k.arn()))
    } else {
        KmsError::UnsupportedOperation(format!("{} is not a multi-Region key.", k.arn()))
    }
}

/// Writes `config` onto every record of the multi-Region set.
fn sync_config(t: &mut dyn Txn, k: &KeyRecord, config: &MultiRegion) -> Result<(), KmsError> {
    let regions = std::iter::once(&config.primary_region).chain(&config.replica_regions);
    for region in regions {
        let sk = store::key_storage_key(region, k.account, &k.key_id);
        if let Some(mut r) = store::get::<KeyRecord>(t, store::KEYS, &sk)? {
            r.multi_region = Some(config.clone());
            store::put_key(t, &r)?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateInput {
    key_id: String,
    replica_region: String,
    policy: Option<String>,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub fn replicate(
    call: &Call<'_>,
    i: ReplicateInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        ("replicaRegion", Some(json!(i.replica_region))),
        ("description", i.description.as_ref().map(|d| json!(d))),
    ]));
    let new_tags = tags::validate_new(&i.tags)?;
    let replica = coffer_storage::write(call.state.store.as_ref(), |t| {
        let r = access::resolve(call, t, &i.key_id, false)?;
        audit_key(audit, &r.key);
        access::authorize(
            call,
            t,
            &r,
            Operation::ReplicateKey,
            &Request {
                context: None,
                conditions: vec![(
                    "kms:ReplicaRegion".to_owned(),
                    vec![i.replica_region.clone()],
                )],
            },
        )?;
        access::check_state(&r.key, Operation::ReplicateKey)?;
        let primary = std::sync::Arc::unwrap_or_clone(r.key);
        if !primary.is_primary() {
            return Err(not_primary(&primary));
        }
        let mut config = primary.multi_region.clone().unwrap_or(MultiRegion {
            primary_region: primary.region.clone(),
            replica_regions: Vec::new(),
        });
        if i.replica_region == primary.region || config.replica_regions.contains(&i.replica_region)
        {
            return Err(KmsError::AlreadyExists(format!(
                "Replica key {} already exists.",
                store::key_arn(&i.replica_region, primary.account, &primary.key_id)
            )));
        }
        let replica_arn = store::key_arn(&i.replica_region, primary.account, &primary.key_id);
        let policy_text = match &i.policy {
            Some(p) => {
                policy::validate_new(
                    call,
                    t,
                    p,
                    &replica_arn,
                    primary.account,
                    i.bypass_policy_lockout_safety_check,
                )?;
                p.clone()
            }
            None => policy::default_policy(primary.account),
        };
        config.replica_regions.push(i.replica_region.clone());
        let mut replica = primary.clone();
        replica.region = i.replica_region.clone();
        replica.policy = policy_text;
        replica.tags = new_tags.clone();
        replica.description = i
            .description
            .clone()
            .unwrap_or_else(|| primary.description.clone());
        replica.created = call.ctx.time;
        replica.rotation.next = None;
        replica.on_demand_rotations.clear();
        replica.state = if primary.current().is_some_and(|v| v.sealed.is_some()) {
            KeyState::Enabled
        } else {
            KeyState::PendingImport
        };
        replica.multi_region = Some(config.clone());
        store::put_key(t, &replica)?;
        sync_config(t, &primary, &config)?;
        Ok::<_, KmsError>(replica)
    })?;
    Ok(json!({
        "ReplicaKeyMetadata": metadata::key_metadata(&replica),
        "ReplicaPolicy": replica.policy,
        "ReplicaTags": replica.tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePrimaryInput {
    key_id: String,
    primary_region: String,
}

pub fn update_primary(
    call: &Call<'_>,
    i: UpdatePrimaryInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters =
        Some(json!({ "keyId": i.key_id, "primaryRegion": i.primary_region }));
    coffer_storage::write(call.state.store.as_ref(), |t| {
        let r = access::resolve(call, t, &i.key_id, false)?;
        audit_key(audit, &r.key);
        access::authorize(
            call,
            t,
            &r,
            Operation::UpdatePrimaryRegion,
            &Request::default(),
        )?;
        access::check_state(&r.key, Operation::UpdatePrimaryRegion)?;
        let primary = std::sync::Arc::unwrap_or_clone(r.key);
        if !primary.is_primary() {
            return Err(not_primary(&primary));
        }
        let Some(mut config) = primary.multi_region.clone() else {
            return Err(not_primary(&primary));
        };
        if !config.replica_regions.contains(&i.primary_region) {
            return Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                store::key_arn(&i.primary_region, primary.account, &primary.key_id)
            )));
        }
        config.replica_regions.retain(|r| r != &i.primary_region);
        config.replica_regions.push(primary.region.clone());
        config.primary_region = i.primary_region.clone();
        sync_config(t, &primary, &config)?;
        // Automatic rotation is scheduled on the primary only.
        let new_sk = store::key_storage_key(&i.primary_region, primary.account, &primary.key_id);
        if let Some(mut np) = store::get::<KeyRecord>(t, store::KEYS, &new_sk)? {
            np.rotation = primary.rotation.clone();
            store::put_key(t, &np)?;
        }
        Ok::<_, KmsError>(())
    })?;
    Ok(json!({}))
}

/// After a replica is deleted: drop its region from the set, and let a primary that was
/// waiting for its last replica start its own deletion window.
pub fn forget_replica(
    t: &mut dyn Txn,
    gone: &KeyRecord,
    now: time::OffsetDateTime,
) -> Result<(), KmsError> {
    let Some(mut config) = gone.multi_region.clone() else {
        return Ok(());
    };
    config.replica_regions.retain(|r| r != &gone.region);
    sync_config(t, gone, &config)?;
    let psk = store::key_storage_key(&config.primary_region, gone.account, &gone.key_id);
    if let Some(mut p) = store::get::<KeyRecord>(t, store::KEYS, &psk)?
        && p.state == KeyState::PendingReplicaDeletion
        && config.replica_regions.is_empty()
    {
        p.state = KeyState::PendingDeletion;
        let days = i64::from(p.pending_window_days.unwrap_or(30));
        p.deletion_date = Some(now + time::Duration::days(days));
        store::put_key(t, &p)?;
    }
    Ok(())
}
