//! Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations, and the rotation itself (used by the scheduler).
//!
//! Rotating adds a material version; earlier versions stay, so every ciphertext made
//! under them still decrypts (the blob names its version). A multi-Region primary's new
//! version is copied to its replicas in the same transaction, so they never diverge.

use super::keys::{self, KeyIdInput};
use super::store::{self, KeyRecord, KeyVersion};
use super::wire::epoch;
use super::{KmsError, material};
use crate::api::{AuditInfo, Call, audit_object};
use crate::barrier::Barrier;
use coffer_kms::messages;
use coffer_kms::ops::Operation;
use coffer_kms::spec::{self, KeySpec, KeyState, Origin};
use coffer_storage::Txn;
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// Whether automatic and on-demand rotation apply to this key, with AWS's refusal if not.
fn rotatable(k: &KeyRecord, on_demand: bool) -> Result<(), KmsError> {
    if k.spec != KeySpec::SymmetricDefault {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} does not support key rotation: only symmetric encryption KMS keys can be rotated.",
            k.arn()
        )));
    }
    if k.origin == Origin::External && !on_demand {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} has imported key material and does not support automatic key rotation.",
            k.arn()
        )));
    }
    if k.is_multi_region() && !k.is_primary() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is a multi-Region replica key; rotation is managed by its primary key.",
            k.arn()
        )));
    }
    Ok(())
}

/// Recomputes the next automatic rotation after a change of state or period.
pub fn reschedule(k: &mut KeyRecord, now: OffsetDateTime) {
    k.rotation.next = k
        .rotation
        .enabled
        .then(|| now + Duration::days(i64::from(k.rotation.period_days)));
}

/// Adds a fresh material version to `k` (and to its replicas) inside `t`.
pub fn rotate(
    t: &mut dyn Txn,
    barrier: &Barrier,
    k: &mut KeyRecord,
    now: OffsetDateTime,
    kind: &str,
) -> Result<(), KmsError> {
    let next = k.versions.last().map_or(1, |v| v.version + 1);
    let m = material::generate(k.spec)?;
    let version = KeyVersion {
        version: next,
        material_id: material::material_id(k.account, &k.key_id, next),
        created: now,
        rotation_type: Some(kind.to_owned()),
        sealed: Some(material::seal(barrier, k.account, &k.key_id, next, &m)),
        fingerprint: None,
    };
    k.versions.push(version.clone());
    if let Some(mr) = k.multi_region.clone().filter(|_| k.is_primary()) {
        for region in &mr.replica_regions {
            let sk = store::key_storage_key(region, k.account, &k.key_id);
            if let Some(mut replica) = store::get::<KeyRecord>(t, store::KEYS, &sk)? {
                replica.versions.push(version.clone());
                store::put_key(t, &replica)?;
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableInput {
    key_id: String,
    rotation_period_in_days: Option<i64>,
}

pub fn enable(call: &Call<'_>, i: EnableInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        (
            "rotationPeriodInDays",
            i.rotation_period_in_days.map(|d| json!(d)),
        ),
    ]));
    let days = i
        .rotation_period_in_days
        .unwrap_or(i64::from(spec::limits::ROTATION_PERIOD_DEFAULT_DAYS));
    messages::check_rotation_period(days)?;
    let days = u32::try_from(days).map_err(|_| KmsError::Internal("period".into()))?;
    let now = call.ctx.time;
    keys::update_key(
        call,
        &i.key_id,
        Operation::EnableKeyRotation,
        audit,
        |_, k| {
            rotatable(k, false)?;
            k.rotation.enabled = true;
            k.rotation.period_days = days;
            reschedule(k, now);
            Ok(())
        },
    )?;
    Ok(json!({}))
}

pub fn disable(call: &Call<'_>, i: KeyIdInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    keys::update_key(
        call,
        &i.key_id,
        Operation::DisableKeyRotation,
        audit,
        |_, k| {
            rotatable(k, false)?;
            k.rotation.enabled = false;
            k.rotation.next = None;
            Ok(())
        },
    )?;
    Ok(json!({}))
}

pub fn status(call: &Call<'_>, i: KeyIdInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    let r = keys::read_key(
        call,
        &i.key_id,
        false,
        Operation::GetKeyRotationStatus,
        audit,
    )?;
    let k = &r.key;
    if k.spec != KeySpec::SymmetricDefault {
        rotatable(k, false)?;
    }
    let enabled = k.rotation.enabled && k.state != KeyState::PendingDeletion;
    let mut out = json!({ "KeyRotationEnabled": enabled, "KeyId": k.arn() });
    if enabled {
        out["RotationPeriodInDays"] = json!(k.rotation.period_days);
        if let Some(n) = k.rotation.next {
            out["NextRotationDate"] = epoch(n);
        }
    }
    Ok(out)
}

pub fn on_demand(call: &Call<'_>, i: KeyIdInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    let now = call.ctx.time;
    let barrier = call.state.barrier.clone();
    let (key, ()) = keys::update_key(
        call,
        &i.key_id,
        Operation::RotateKeyOnDemand,
        audit,
        |t, k| {
            rotatable(k, true)?;
            let limit = usize::try_from(spec::limits::ON_DEMAND_ROTATIONS_PER_KEY).unwrap_or(25);
            if k.on_demand_rotations.len() >= limit {
                return Err(messages::on_demand_rotation_limit(&k.arn()).into());
            }
            rotate(t, &barrier, k, now, "ON_DEMAND")?;
            k.on_demand_rotations.push(now);
            Ok(())
        },
    )?;
    Ok(json!({ "KeyId": key.arn() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    key_id: String,
    include_key_material: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub fn list(call: &Call<'_>, i: ListInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    let limit = keys::page_limit(i.limit, 1000, 100)?;
    let start = keys::offset_marker(i.marker.as_deref())?;
    let r = keys::read_key(call, &i.key_id, false, Operation::ListKeyRotations, audit)?;
    let k = &r.key;
    if k.spec != KeySpec::SymmetricDefault {
        rotatable(k, true)?;
    }
    let all_material = i.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
    let current = k.current().map(|v| v.version);
    let entries: Vec<Value> = k
        .versions
        .iter()
        .filter(|v| all_material || v.rotation_type.is_some())
        .map(|v| {
            let mut e = json!({
                "KeyId": k.arn(),
                "KeyMaterialId": v.material_id,
                "KeyMaterialState": if Some(v.version) == current { "CURRENT" } else { "NON_CURRENT" },
            });
            if let Some(kind) = &v.rotation_type {
                e["RotationDate"] = epoch(v.created);
                e["RotationType"] = json!(kind);
            }
            e
        })
        .collect();
    Ok(keys::offset_page("Rotations", &entries, start, limit))
}
