//! Replication to other regions of this deployment: ReplicateSecretToRegions,
//! RemoveRegionsFromReplication, StopReplicationToReplica, and keeping replicas in step
//! with their primary after every write.
//!
//! A replica is a secret record under its region (same name and ARN suffix), read-only,
//! whose versions are re-encrypted under that region's key: its own KmsKeyId or the
//! region's `alias/aws/secretsmanager`.

use super::access;
use super::error::{SmError, invalid_param, invalid_request};
use super::secrets::ReplicaRegion;
use super::store::{self, ReplicaMeta, SealedValue, SecretRecord};
use super::values::{self, region_ctx};
use super::versions;
use super::wire::epoch_day;
use crate::api::{AuditInfo, Call};
use crate::services::kms::OnBehalf;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn status_json(s: &SecretRecord) -> Value {
    Value::Array(
        s.replicas
            .iter()
            .map(|r| {
                let mut o = json!({"Region": r.region, "Status": r.status, "StatusMessage": r.status_message});
                if let Some(k) = &r.kms_key_id {
                    o["KmsKeyId"] = json!(k);
                }
                if let Some(a) = r.last_accessed {
                    o["LastAccessedDate"] = epoch_day(a);
                }
                o
            })
            .collect(),
    )
}

/// Adds replicas to a primary and copies it into each; returns the updated primary.
pub fn add(
    call: &Call<'_>,
    primary: &SecretRecord,
    regions: &[ReplicaRegion],
    force: bool,
    audit: &mut AuditInfo,
) -> Result<SecretRecord, SmError> {
    let mut seen: Vec<&str> = Vec::new();
    for r in regions {
        let region = r.region.as_deref().unwrap_or("");
        if region.is_empty() || region.parse::<coffer_types::Region>().is_err() {
            return Err(invalid_param(format!("Invalid Region: {region}")));
        }
        if region == primary.region {
            return Err(invalid_param(
                "Invalid replica region: a secret can't be replicated to its primary region.",
            ));
        }
        if seen.contains(&region) || primary.replicas.iter().any(|x| x.region == region) {
            return Err(invalid_param(format!(
                "The secret is already replicated to the region {region}."
            )));
        }
        seen.push(region);
    }
    let mut metas = Vec::new();
    for r in regions {
        let mut meta = ReplicaMeta {
            region: r.region.clone().unwrap_or_default(),
            kms_key_id: r.kms_key_id.clone().filter(|k| !k.is_empty()),
            status: "InSync".into(),
            status_message: "Replication succeeded".into(),
            last_accessed: None,
        };
        if let Err(m) = copy_to(call, primary, &meta, force, audit) {
            meta.status = "Failed".into();
            meta.status_message = m;
        }
        metas.push(meta);
    }
    let sk = primary.storage_key();
    coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut p: SecretRecord =
            store::get(t, store::SECRETS, &sk)?.ok_or_else(super::error::not_found)?;
        p.replicas.extend(metas.iter().cloned());
        store::put_secret(t, &p)?;
        Ok::<_, SmError>(p)
    })
}

/// Brings every in-sync replica of `primary` up to date (after any write to it).
pub fn sync(call: &Call<'_>, primary: &SecretRecord, audit: &mut AuditInfo) -> Result<(), SmError> {
    if primary.is_replica() {
        return Ok(());
    }
    for r in primary.replicas.iter().filter(|r| r.status == "InSync") {
        if let Err(m) = copy_to(call, primary, r, false, audit) {
            tracing::warn!(region = %r.region, error = %m, "secret replication failed");
        }
    }
    Ok(())
}

/// Writes the replica of `primary` in `meta.region`: metadata copied, each version
/// re-encrypted under the replica region's key (versions it has already are kept).
/// Failures come back as the replica's status message.
fn copy_to(
    call: &Call<'_>,
    primary: &SecretRecord,
    meta: &ReplicaMeta,
    force: bool,
    audit: &mut AuditInfo,
) -> Result<(), String> {
    let ctx = region_ctx(call, &meta.region).map_err(|e| e.to_string())?;
    let rcall = Call {
        state: call.state,
        ctx: &ctx,
        key: call.key,
        via_service: None,
    };
    let rkey = store::secret_key(&meta.region, primary.account, &primary.name);
    let existing: Option<SecretRecord> = coffer_storage::read(call.state.store.as_ref(), |t| {
        store::get(t, store::SECRETS, &rkey)
    })
    .map_err(|e: SmError| e.to_string())?;
    let ours = existing.as_ref().is_some_and(|e| {
        e.primary_region.as_deref() == Some(primary.region.as_str()) && e.suffix == primary.suffix
    });
    if existing.is_some() && !ours && !force {
        return Err(format!(
            "Replication failed: a secret named {} already exists in the region {}.",
            primary.name, meta.region
        ));
    }
    let kms_key_arn = match &meta.kms_key_id {
        Some(k) => Some(
            OnBehalf {
                call: &rcall,
                service: "secretsmanager",
            }
            .describe_key(k, audit)
            .map_err(|e| format!("Replication failed: {e}"))?
            .arn(),
        ),
        None => None,
    };
    let mut replica = primary.clone();
    replica.region = meta.region.clone();
    replica.primary_region = Some(primary.region.clone());
    replica.replicas = Vec::new();
    replica.kms_key_id = meta.kms_key_id.clone();
    replica.kms_key_arn = kms_key_arn.clone();
    let have: Vec<String> = match (&existing, ours) {
        (Some(e), true) => e.versions.iter().map(|v| v.id.clone()).collect(),
        _ => Vec::new(),
    };
    let mut new_values: Vec<(String, SealedValue)> = Vec::new();
    let replica_arn = replica.arn();
    for v in replica.versions.iter_mut() {
        if have.contains(&v.id) {
            if let Some(old) = existing.as_ref().and_then(|e| e.version(&v.id)) {
                v.key_arn = old.key_arn.clone();
                v.last_accessed = old.last_accessed;
            }
            continue;
        }
        let value = versions::read_value(call, primary, &v.id, audit).map_err(|e| e.to_string())?;
        let (sv, key_arn) = values::seal(
            &rcall,
            kms_key_arn.as_deref(),
            &replica_arn,
            &v.id,
            &value,
            audit,
        )
        .map_err(|e| format!("Replication failed: {e}"))?;
        v.key_arn = key_arn;
        new_values.push((v.id.clone(), sv));
    }
    coffer_storage::write(call.state.store.as_ref(), |t| {
        if let Some(e) = &existing {
            for v in &e.versions {
                let stale = !ours || replica.version(&v.id).is_none();
                if stale {
                    t.delete(store::VERSIONS, e.version_key(&v.id).as_bytes())?;
                }
            }
        }
        for (id, sv) in &new_values {
            store::put(t, store::VERSIONS, &replica.version_key(id), sv)?;
        }
        store::put_secret(t, &replica)
    })
    .map_err(|e: SmError| e.to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateInput {
    secret_id: String,
    add_replica_regions: Vec<ReplicaRegion>,
    force_overwrite_replica_secret: Option<bool>,
}

pub fn replicate(
    call: &Call<'_>,
    i: ReplicateInput,
    audit: &mut AuditInfo,
) -> Result<Value, SmError> {
    let s = coffer_storage::read(call.state.store.as_ref(), |t| {
        let regions: Vec<String> = i
            .add_replica_regions
            .iter()
            .filter_map(|r| r.region.clone())
            .collect();
        let c = vec![("secretsmanager:AddReplicaRegions".to_owned(), regions)];
        let s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:ReplicateSecretToRegions",
            c,
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "ReplicateSecretToRegions")?;
        Ok::<_, SmError>(s)
    })?;
    let force = i.force_overwrite_replica_secret.unwrap_or(false);
    let p = add(call, &s, &i.add_replica_regions, force, audit)?;
    Ok(json!({"ARN": p.arn(), "ReplicationStatus": status_json(&p)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveInput {
    secret_id: String,
    remove_replica_regions: Vec<String>,
}

pub fn remove(call: &Call<'_>, i: RemoveInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let p = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut p = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:RemoveRegionsFromReplication",
            Vec::new(),
            audit,
        )?;
        access::not_replica(&p, "RemoveRegionsFromReplication")?;
        for region in &i.remove_replica_regions {
            if !p.replicas.iter().any(|r| &r.region == region) {
                return Err(invalid_param(format!(
                    "The secret isn't replicated to the region {region}."
                )));
            }
            let rkey = store::secret_key(region, p.account, &p.name);
            if let Some(r) = store::get::<SecretRecord>(t, store::SECRETS, &rkey)?
                && r.primary_region.as_deref() == Some(p.region.as_str())
            {
                store::remove_secret(t, &r)?;
            }
        }
        p.replicas
            .retain(|r| !i.remove_replica_regions.contains(&r.region));
        store::put_secret(t, &p)?;
        Ok::<_, SmError>(p)
    })?;
    Ok(json!({"ARN": p.arn(), "ReplicationStatus": status_json(&p)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopInput {
    secret_id: String,
}

/// Promotes a replica to a standalone secret in its region.
pub fn stop(call: &Call<'_>, i: StopInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:StopReplicationToReplica",
            Vec::new(),
            audit,
        )?;
        let Some(primary_region) = s.primary_region.take() else {
            return Err(invalid_request(
                "StopReplicationToReplica can be called only on a replica secret.",
            ));
        };
        let pkey = store::secret_key(&primary_region, s.account, &s.name);
        if let Some(mut p) = store::get::<SecretRecord>(t, store::SECRETS, &pkey)?
            && p.suffix == s.suffix
        {
            p.replicas.retain(|r| r.region != s.region);
            store::put_secret(t, &p)?;
        }
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    Ok(json!({"ARN": s.arn()}))
}
