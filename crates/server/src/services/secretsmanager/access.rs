//! Finding the secret a caller names and deciding whether the caller may act on it.
//!
//! Secrets Manager's model is IAM's standard one: within an account an Allow in the
//! caller's identity policies or in the secret's resource policy suffices; across accounts
//! both must allow; an explicit Deny in either wins.

use super::error::{SmError, not_found};
use super::store::{self, SecretRecord};
use crate::api::{AuditInfo, AuditResource, Call};
use crate::authz::{self, Ask, ResourcePolicy};
use coffer_policy::{KeysUsed, PolicyKind, ResourcePolicyMode};
use coffer_storage::Txn;
use std::borrow::Borrow;
use std::sync::Arc;

/// Extra condition keys a handler adds for its operation.
pub use crate::authz::Conditions;

pub fn cond(k: &str, v: impl Into<String>) -> (String, Vec<String>) {
    (k.to_owned(), vec![v.into()])
}

/// Resolves `secret_id` and authorizes `action` on it; records the secret in the audit.
pub fn load(
    call: &Call<'_>,
    t: &mut dyn Txn,
    secret_id: &str,
    action: &str,
    extra: Conditions,
    audit: &mut AuditInfo,
) -> Result<SecretRecord, SmError> {
    let find = |t: &mut dyn Txn, r: &store::SecretRef| store::find(t, r);
    load_with(call, t, secret_id, action, extra, audit, find)
}

/// [`load`] for reads: the record comes from the server's secret cache when fresh there,
/// so it is shared, not owned. Only for handlers that do not write the record back.
pub fn load_for_read(
    call: &Call<'_>,
    t: &mut dyn Txn,
    secret_id: &str,
    action: &str,
    extra: Conditions,
    audit: &mut AuditInfo,
) -> Result<Arc<SecretRecord>, SmError> {
    let (cache, now) = (&call.state.sm_reads.secrets, call.state.clock.now());
    let find = |t: &mut dyn Txn, r: &store::SecretRef| store::find_cached(cache, now, t, r);
    load_with(call, t, secret_id, action, extra, audit, find)
}

/// [`load`] with the look-up as a parameter: resolves `secret_id` in the caller's region
/// and finds it with `find`. A secret that is not there is ResourceNotFound, or
/// AccessDenied in another account (whose secrets' existence is not revealed).
fn load_with<S: Borrow<SecretRecord>>(
    call: &Call<'_>,
    t: &mut dyn Txn,
    secret_id: &str,
    action: &str,
    extra: Conditions,
    audit: &mut AuditInfo,
    find: impl FnOnce(&mut dyn Txn, &store::SecretRef) -> Result<Option<S>, SmError>,
) -> Result<S, SmError> {
    let me = call.ctx.principal.account;
    let region = call.ctx.region.as_str();
    let r = store::parse_ref(secret_id, region, me).ok_or_else(not_found)?;
    if r.region != region {
        return Err(not_found());
    }
    let secret = match find(t, &r)? {
        Some(s) => s,
        None if r.account != me => {
            return Err(SmError::AccessDenied(denied_message(
                call,
                action,
                secret_id,
                "because no resource-based policy allows the action",
            )));
        }
        None => return Err(not_found()),
    };
    audit_secret(audit, secret.borrow());
    authorize(call, t, action, secret.borrow(), extra)?;
    Ok(secret)
}

/// Authorizes `action` on an existing secret for the caller.
pub fn authorize(
    call: &Call<'_>,
    t: &mut dyn Txn,
    action: &str,
    secret: &SecretRecord,
    extra: Conditions,
) -> Result<(), SmError> {
    let arn = secret.arn();
    let all = |_: &KeysUsed| {
        let mut c = extra.clone();
        c.extend(resource_conditions(secret));
        c
    };
    let ask = Ask {
        action,
        resource: &arn,
        extra: &all,
    };
    let cross_account = secret.account != call.ctx.principal.account;
    let parsed = match &secret.policy {
        Some(p) => Some(
            coffer_policy::parse_with(p, PolicyKind::Resource)
                .map_err(|e| SmError::Internal(format!("stored secret policy: {e}")))?,
        ),
        None => None,
    };
    match &parsed {
        Some(doc) => authz::check(
            call,
            t,
            &ask,
            Some(ResourcePolicy {
                document: doc,
                owner: secret.account,
                mode: ResourcePolicyMode::Standard,
            }),
        )?,
        None if cross_account => {
            return Err(SmError::AccessDenied(denied_message(
                call,
                action,
                &arn,
                "because no resource-based policy allows the action",
            )));
        }
        None => authz::check(call, t, &ask, None)?,
    }
    Ok(())
}

/// Authorizes an action that names no existing secret (`ListSecrets`, `CreateSecret`).
pub fn authorize_resource(
    call: &Call<'_>,
    t: &mut dyn Txn,
    action: &str,
    resource: &str,
    extra: Conditions,
) -> Result<(), SmError> {
    let ask = Ask {
        action,
        resource,
        extra: &|_| extra.clone(),
    };
    authz::check(call, t, &ask, None)?;
    Ok(())
}

fn resource_conditions(s: &SecretRecord) -> Conditions {
    let mut c = vec![cond("secretsmanager:SecretId", s.arn())];
    for (k, v) in &s.tags {
        c.push(cond(&format!("secretsmanager:ResourceTag/{k}"), v.clone()));
        c.push(cond(&format!("aws:ResourceTag/{k}"), v.clone()));
    }
    if let Some(p) = &s.primary_region {
        c.push(cond("secretsmanager:SecretPrimaryRegion", p.clone()));
    }
    if let Some(l) = &s.rotation.lambda_arn {
        c.push(cond(
            "secretsmanager:resource/AllowRotationLambdaArn",
            l.clone(),
        ));
    }
    c
}

fn denied_message(call: &Call<'_>, action: &str, resource: &str, why: &str) -> String {
    format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        call.ctx.principal.arn
    )
}

pub fn audit_secret(audit: &mut AuditInfo, s: &SecretRecord) {
    audit.resources = vec![AuditResource {
        arn: s.arn(),
        account: s.account,
        kind: "AWS::SecretsManager::Secret",
    }];
}

/// Operations that change or read a value are refused while the secret waits for deletion.
pub fn not_deleted(s: &SecretRecord) -> Result<(), SmError> {
    match s.deleted {
        Some(_) => Err(super::error::marked_deleted()),
        None => Ok(()),
    }
}

/// Writes to a replica are refused: it changes only through its primary.
pub fn not_replica(s: &SecretRecord, op: &str) -> Result<(), SmError> {
    match &s.primary_region {
        Some(p) => Err(SmError::InvalidRequest(format!(
            "Operation {op} is not allowed on a replica secret. Perform the operation on the primary secret in {p}."
        ))),
        None => Ok(()),
    }
}
