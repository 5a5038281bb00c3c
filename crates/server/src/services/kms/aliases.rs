//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.
//!
//! An alias needs permission twice, as in AWS: on the alias (identity policy, resource
//! `arn:aws:kms:<region>:<account>:alias/<name>`) and on each key it points at (key policy).
//! `alias/aws/` is reserved for the keys coffer's services create for themselves.

use super::access::{self, Request, Resolved};
use super::keys::{self, audit_key};
use super::store::{self, AliasRecord, KeyRecord};
use super::wire::epoch;
use super::{KmsError, managed};
use crate::api::{AuditInfo, Call, audit_object};
use crate::authz::{self, Ask};
use coffer_kms::ops::Operation;
use coffer_kms::spec::{KeyManager, KeySpec};
use coffer_storage::Txn;
use serde::Deserialize;
use serde_json::{Value, json};

/// AWS answers malformed alias names with `ValidationException`.
fn validate_name(name: &str) -> Result<(), KmsError> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".into(),
        ));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
    if !ok {
        return Err(KmsError::Validation(format!(
            "{name} contains invalid characters for an alias"
        )));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::InvalidAliasName(format!(
            "{name} must not begin with alias/aws/, which is reserved for AWS managed keys"
        )));
    }
    Ok(())
}

/// Authorizes the alias side (an identity-policy decision on the alias ARN).
fn authorize_alias(
    call: &Call<'_>,
    t: &mut dyn Txn,
    op: Operation,
    name: &str,
) -> Result<(), KmsError> {
    let arn = store::alias_arn(call.ctx.region.as_str(), call.ctx.principal.account, name);
    authz::check(call, t, &Ask::new(op.action(), &arn), None)?;
    Ok(())
}

/// The key an alias may point at: named by id or ARN, in the caller's account, customer
/// managed, authorized by its key policy, in a state that allows `op`.
fn target(
    call: &Call<'_>,
    t: &mut dyn Txn,
    key_id: &str,
    op: Operation,
) -> Result<Resolved, KmsError> {
    let r = access::resolve(call, t, key_id, false)?;
    if r.key.account != call.ctx.principal.account {
        return Err(KmsError::NotFound(format!(
            "Key '{}' does not exist",
            r.key.arn()
        )));
    }
    access::authorize(call, t, &r, op, &Request::default())?;
    access::check_state(&r.key, op)?;
    if r.key.manager == KeyManager::Aws {
        return Err(KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: {} on resource: {} because an alias cannot point to an AWS managed key",
            call.ctx.principal.arn,
            op.action(),
            r.key.arn()
        )));
    }
    Ok(r)
}

/// The caller's alias `name`, which UpdateAlias and DeleteAlias need to exist.
fn existing(call: &Call<'_>, t: &mut dyn Txn, name: &str) -> Result<AliasRecord, KmsError> {
    access::alias_target(
        t,
        call.ctx.region.as_str(),
        call.ctx.principal.account,
        name,
    )
}

fn storage_key(call: &Call<'_>, name: &str) -> String {
    store::alias_storage_key(call.ctx.region.as_str(), call.ctx.principal.account, name)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasInput {
    alias_name: String,
    target_key_id: String,
}

pub fn create(
    call: &Call<'_>,
    input: AliasInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "aliasName": input.alias_name, "targetKeyId": input.target_key_id
    }));
    validate_name(&input.alias_name)?;
    let now = call.ctx.time;
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        authorize_alias(call, t, Operation::CreateAlias, &input.alias_name)?;
        let r = target(call, t, &input.target_key_id, Operation::CreateAlias)?;
        let sk = storage_key(call, &input.alias_name);
        if store::get::<AliasRecord>(t, store::ALIASES, &sk)?.is_some() {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                store::alias_arn(
                    call.ctx.region.as_str(),
                    call.ctx.principal.account,
                    &input.alias_name
                )
            )));
        }
        let rec = AliasRecord {
            name: input.alias_name.clone(),
            target_key_id: r.key.key_id.clone(),
            created: now,
            updated: now,
        };
        store::put(t, store::ALIASES, &sk, &rec)?;
        Ok(r.key)
    })?;
    audit_key(audit, &key);
    Ok(json!({}))
}

/// Symmetric, asymmetric and HMAC keys are different types; an alias may only move
/// between keys of the same type and usage.
fn key_type(k: &KeyRecord) -> u8 {
    match k.spec {
        KeySpec::SymmetricDefault => 0,
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => 1,
        _ => 2,
    }
}

pub fn update(
    call: &Call<'_>,
    input: AliasInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "aliasName": input.alias_name, "targetKeyId": input.target_key_id
    }));
    validate_name(&input.alias_name)?;
    let now = call.ctx.time;
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        authorize_alias(call, t, Operation::UpdateAlias, &input.alias_name)?;
        let sk = storage_key(call, &input.alias_name);
        let mut rec = existing(call, t, &input.alias_name)?;
        let current_ref = store::key_arn(
            call.ctx.region.as_str(),
            call.ctx.principal.account,
            &rec.target_key_id,
        );
        let current = target(call, t, &current_ref, Operation::UpdateAlias)?;
        let next = target(call, t, &input.target_key_id, Operation::UpdateAlias)?;
        if key_type(&current.key) != key_type(&next.key) || current.key.usage != next.key.usage {
            return Err(KmsError::Validation(format!(
                "{} key usage and type must be the same as the current key {}.",
                next.key.arn(),
                current.key.arn()
            )));
        }
        rec.target_key_id = next.key.key_id.clone();
        rec.updated = now;
        store::put(t, store::ALIASES, &sk, &rec)?;
        Ok(next.key)
    })?;
    audit_key(audit, &key);
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    alias_name: String,
}

pub fn delete(
    call: &Call<'_>,
    input: DeleteInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "aliasName": input.alias_name }));
    validate_name(&input.alias_name)?;
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        authorize_alias(call, t, Operation::DeleteAlias, &input.alias_name)?;
        let sk = storage_key(call, &input.alias_name);
        let rec = existing(call, t, &input.alias_name)?;
        // Deleting an alias needs permission on its key too (any key state is fine).
        let key_ref = store::key_arn(
            call.ctx.region.as_str(),
            call.ctx.principal.account,
            &rec.target_key_id,
        );
        let r = access::resolve(call, t, &key_ref, false)?;
        access::authorize(call, t, &r, Operation::DeleteAlias, &Request::default())?;
        t.delete(store::ALIASES, sk.as_bytes())?;
        Ok::<_, KmsError>(r.key)
    })?;
    audit_key(audit, &key);
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub fn list(call: &Call<'_>, input: ListInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", input.key_id.as_ref().map(|k| json!(k))),
        ("limit", input.limit.map(|l| json!(l))),
    ]));
    let limit = keys::page_limit(input.limit, 100, 50)?;
    let region = call.ctx.region.as_str();
    let account = call.ctx.principal.account;
    let prefix = format!("{region}/{account}/");
    let (rows, filter) = coffer_storage::read(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new("kms:ListAliases", "*"), None)?;
        let filter = match &input.key_id {
            Some(k) => Some(access::resolve(call, t, k, false)?.key.key_id.clone()),
            None => None,
        };
        let rows: Vec<(String, AliasRecord)> =
            store::scan(t, store::ALIASES, &prefix, None, usize::MAX)?;
        Ok::<_, KmsError>((rows, filter))
    })?;
    let mut entries: Vec<(String, Value)> = rows
        .into_iter()
        .filter(|(_, a)| filter.as_ref().is_none_or(|k| &a.target_key_id == k))
        .map(|(_, a)| {
            let v = json!({
                "AliasName": a.name,
                "AliasArn": store::alias_arn(region, account, &a.name),
                "TargetKeyId": a.target_key_id,
                "CreationDate": epoch(a.created),
                "LastUpdatedDate": epoch(a.updated),
            });
            (a.name, v)
        })
        .collect();
    if filter.is_none() {
        // AWS lists the predefined AWS managed aliases even before their keys exist.
        for name in managed::SERVICE_ALIASES {
            if !entries.iter().any(|(n, _)| n == name) {
                entries.push((
                    (*name).to_owned(),
                    json!({ "AliasName": name, "AliasArn": store::alias_arn(region, account, name) }),
                ));
            }
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match &input.marker {
        None => 0,
        Some(m) => entries
            .iter()
            .position(|(n, _)| n == m)
            .map(|i| i + 1)
            .ok_or_else(|| KmsError::InvalidMarker("Invalid marker".into()))?,
    };
    let page: Vec<&(String, Value)> = entries.iter().skip(start).take(limit).collect();
    let truncated = start + page.len() < entries.len();
    let mut out = json!({
        "Aliases": page.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "Truncated": truncated,
    });
    if truncated && let Some((n, _)) = page.last() {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}
