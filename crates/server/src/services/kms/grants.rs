//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
//!
//! A grant lets its grantee run the listed operations on one key, subject to its
//! encryption-context constraints; `access::authorize` consults grants when no policy
//! allows a call (an explicit deny still wins). Grants take effect at once, so the token
//! returned by CreateGrant is only needed to retire the grant.

use super::KmsError;
use super::access::{self, GRANT_TOKEN_PREFIX, Request};
use super::keys::{self, audit_key};
use super::store::{self, GrantRecord, KeyRecord};
use super::wire::epoch;
use crate::api::{AuditInfo, Call, audit_object};
use crate::authz::{self, Ask};
use base64::Engine;
use coffer_kms::context::EncryptionContext;
use coffer_kms::ops::Operation;
use coffer_kms::spec::{self, GrantOperation, KeySpec};
use coffer_storage::Txn;
use serde::Deserialize;
use serde_json::{Value, json};

const MAX_GRANTS_PER_KEY: usize = 50_000;

#[derive(Deserialize, Default, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Constraints {
    encryption_context_subset: Option<EncryptionContext>,
    encryption_context_equals: Option<EncryptionContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    key_id: String,
    grantee_principal: String,
    retiring_principal: Option<String>,
    operations: Vec<GrantOperation>,
    constraints: Option<Constraints>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    name: Option<String>,
    dry_run: Option<bool>,
}

fn new_token() -> String {
    let raw = coffer_crypto::random_bytes(32);
    format!(
        "{GRANT_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

fn token_hash(token: &str) -> String {
    coffer_crypto::sha256_hex(token.as_bytes())
}

fn grant_key(k: &KeyRecord, grant_id: &str) -> String {
    format!("{}/{grant_id}", k.storage_key())
}

fn entry(k: &KeyRecord, g: &GrantRecord) -> Value {
    let mut e = json!({
        "KeyId": k.arn(),
        "GrantId": g.grant_id,
        "CreationDate": epoch(g.created),
        "GranteePrincipal": g.grantee,
        "IssuingAccount": g.issuing_account,
        "Operations": g.operations,
    });
    if let Some(n) = &g.name {
        e["Name"] = json!(n);
    }
    if let Some(r) = &g.retiring {
        e["RetiringPrincipal"] = json!(r);
    }
    let mut c = serde_json::Map::new();
    if let Some(s) = &g.context_subset {
        c.insert("EncryptionContextSubset".into(), json!(s));
    }
    if let Some(s) = &g.context_equals {
        c.insert("EncryptionContextEquals".into(), json!(s));
    }
    if !c.is_empty() {
        e["Constraints"] = Value::Object(c);
    }
    e
}

fn validate_operations(
    k: &KeyRecord,
    ops: &[GrantOperation],
    c: &Constraints,
) -> Result<(), KmsError> {
    let allowed = spec::grant_operations(k.spec, k.usage);
    if let Some(bad) = ops.iter().find(|o| !allowed.contains(o)) {
        return Err(KmsError::Validation(format!(
            "Grant operation {} is not valid for a KMS key with KeySpec {} and KeyUsage {}.",
            bad.as_str(),
            k.spec.as_str(),
            k.usage.as_str()
        )));
    }
    let has_constraints =
        c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some();
    if has_constraints && k.spec != KeySpec::SymmetricDefault {
        return Err(KmsError::Validation(
            "Grant constraints on the encryption context are supported only for symmetric encryption KMS keys.".into(),
        ));
    }
    check_constraint_sizes(c)
}

/// AWS's limits on a grant constraint: "Each constraint value can include up to 8
/// encryption context pairs. The encryption context value in each constraint cannot
/// exceed 384 characters."
const MAX_CONSTRAINT_PAIRS: usize = 8;
const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

fn check_constraint_sizes(c: &Constraints) -> Result<(), KmsError> {
    let given = [
        ("EncryptionContextEquals", &c.encryption_context_equals),
        ("EncryptionContextSubset", &c.encryption_context_subset),
    ];
    for (name, ctx) in given {
        let Some(ctx) = ctx else { continue };
        if ctx.len() > MAX_CONSTRAINT_PAIRS {
            return Err(KmsError::Validation(format!(
                "{name} can include at most {MAX_CONSTRAINT_PAIRS} encryption context pairs."
            )));
        }
        if ctx
            .values()
            .any(|v| v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
        {
            return Err(KmsError::Validation(format!(
                "An encryption context value in {name} cannot exceed {MAX_CONSTRAINT_VALUE_CHARS} characters."
            )));
        }
    }
    Ok(())
}

pub fn create(call: &Call<'_>, i: CreateInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        ("granteePrincipal", Some(json!(i.grantee_principal))),
        (
            "retiringPrincipal",
            i.retiring_principal.as_ref().map(|r| json!(r)),
        ),
        (
            "operations",
            Some(json!(
                i.operations.iter().map(|o| o.as_str()).collect::<Vec<_>>()
            )),
        ),
        ("name", i.name.as_ref().map(|n| json!(n))),
    ]));
    access::check_grant_tokens(&i.grant_tokens)?;
    if i.operations.is_empty() {
        return Err(super::error::validation(
            "operations",
            "[]",
            "Member must have length greater than or equal to 1",
        ));
    }
    let constraints = i.constraints.clone().unwrap_or_default();
    let op_names: Vec<String> = i.operations.iter().map(|o| o.as_str().to_owned()).collect();
    let mut conditions = vec![
        ("kms:GrantOperations".to_owned(), op_names.clone()),
        (
            "kms:GranteePrincipal".to_owned(),
            vec![i.grantee_principal.clone()],
        ),
        (
            "kms:GrantIsForAWSResource".to_owned(),
            vec!["false".to_owned()],
        ),
    ];
    if let Some(r) = &i.retiring_principal {
        conditions.push(("kms:RetiringPrincipal".to_owned(), vec![r.clone()]));
    }
    let token = new_token();
    let now = call.ctx.time;
    let (key, grant_id) = coffer_storage::write(call.state.store.as_ref(), |t| {
        let r = access::resolve(call, t, &i.key_id, false)?;
        access::authorize(
            call,
            t,
            &r,
            Operation::CreateGrant,
            &Request {
                context: None,
                conditions: conditions.clone(),
            },
        )?;
        access::check_state(&r.key, Operation::CreateGrant)?;
        validate_operations(&r.key, &i.operations, &constraints)?;
        if i.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let prefix = format!("{}/", r.key.storage_key());
        let existing: Vec<(String, GrantRecord)> =
            store::scan(t, store::GRANTS, &prefix, None, MAX_GRANTS_PER_KEY + 1)?;
        // Name makes CreateGrant idempotent: the same name and parameters return the same grant.
        let same = existing.iter().find(|(_, g)| {
            i.name.is_some()
                && g.name == i.name
                && g.grantee == i.grantee_principal
                && g.retiring == i.retiring_principal
                && g.operations == op_names
                && g.context_subset == constraints.encryption_context_subset
                && g.context_equals == constraints.encryption_context_equals
        });
        if let Some((sk, g)) = same {
            let mut g = g.clone();
            g.token_hashes.push(token_hash(&token));
            store::put(t, store::GRANTS, sk, &g)?;
            return Ok((r.key, g.grant_id));
        }
        if existing.len() >= MAX_GRANTS_PER_KEY {
            return Err(KmsError::LimitExceeded(format!(
                "The request would exceed the limit of {MAX_GRANTS_PER_KEY} grants for {}.",
                r.key.arn()
            )));
        }
        let grant_id = hex::encode(coffer_crypto::random_bytes(32));
        let g = GrantRecord {
            grant_id: grant_id.clone(),
            key_id: r.key.key_id.clone(),
            name: i.name.clone(),
            created: now,
            grantee: i.grantee_principal.clone(),
            retiring: i.retiring_principal.clone(),
            issuing_account: format!("arn:aws:iam::{}:root", call.ctx.principal.account),
            operations: op_names.clone(),
            context_subset: constraints.encryption_context_subset.clone(),
            context_equals: constraints.encryption_context_equals.clone(),
            token_hashes: vec![token_hash(&token)],
        };
        store::put(t, store::GRANTS, &grant_key(&r.key, &grant_id), &g)?;
        Ok::<_, KmsError>((r.key, grant_id))
    })?;
    audit_key(audit, &key);
    audit.response_elements = Some(json!({ "grantId": grant_id }));
    Ok(json!({ "GrantToken": token, "GrantId": grant_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    limit: Option<i64>,
    marker: Option<String>,
    key_id: String,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

fn page(entries: Vec<Value>, limit: usize, marker: Option<&str>) -> Result<Value, KmsError> {
    let start = keys::offset_marker(marker)?;
    Ok(keys::offset_page("Grants", &entries, start, limit))
}

pub fn list(call: &Call<'_>, i: ListInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    let limit = keys::page_limit(i.limit, 100, 50)?;
    let r = keys::read_key(call, &i.key_id, false, Operation::ListGrants, audit)?;
    let prefix = format!("{}/", r.key.storage_key());
    let grants: Vec<(String, GrantRecord)> =
        coffer_storage::read(call.state.store.as_ref(), |t| {
            store::scan(t, store::GRANTS, &prefix, None, usize::MAX)
        })?;
    let entries = grants
        .iter()
        .filter(|(_, g)| i.grant_id.as_ref().is_none_or(|id| &g.grant_id == id))
        .filter(|(_, g)| i.grantee_principal.as_ref().is_none_or(|p| &g.grantee == p))
        .map(|(_, g)| entry(&r.key, g))
        .collect();
    page(entries, limit, i.marker.as_deref())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableInput {
    limit: Option<i64>,
    marker: Option<String>,
    retiring_principal: String,
}

pub fn list_retirable(
    call: &Call<'_>,
    i: ListRetirableInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "retiringPrincipal": i.retiring_principal }));
    let limit = keys::page_limit(i.limit, 100, 50)?;
    let region = call.ctx.region.as_str().to_owned();
    let rows = coffer_storage::read(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new("kms:ListRetirableGrants", "*"), None)?;
        grants_in_region(t, &region)
    })?;
    let entries = rows
        .iter()
        .filter(|(_, g)| g.retiring.as_deref() == Some(i.retiring_principal.as_str()))
        .map(|(k, g)| entry(k, g))
        .collect();
    page(entries, limit, i.marker.as_deref())
}

/// Every grant of every key in the region, with its key.
fn grants_in_region(
    t: &mut dyn Txn,
    region: &str,
) -> Result<Vec<(KeyRecord, GrantRecord)>, KmsError> {
    let grants: Vec<(String, GrantRecord)> =
        store::scan(t, store::GRANTS, &format!("{region}/"), None, usize::MAX)?;
    let mut out = Vec::with_capacity(grants.len());
    for (sk, g) in grants {
        let key_sk = sk
            .rsplit_once('/')
            .map(|(k, _)| k.to_owned())
            .unwrap_or_default();
        if let Some(k) = store::get::<KeyRecord>(t, store::KEYS, &key_sk)? {
            out.push((k, g));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetireInput {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

pub fn retire(call: &Call<'_>, i: RetireInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", i.key_id.as_ref().map(|k| json!(k))),
        ("grantId", i.grant_id.as_ref().map(|g| json!(g))),
    ]));
    if let Some(tok) = &i.grant_token {
        access::check_grant_tokens(std::slice::from_ref(tok))?;
    }
    let region = call.ctx.region.as_str().to_owned();
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        let (key, g) = match (&i.grant_token, &i.key_id, &i.grant_id) {
            (Some(tok), _, _) => {
                let h = token_hash(tok);
                grants_in_region(t, &region)?
                    .into_iter()
                    .find(|(_, g)| g.token_hashes.contains(&h))
                    .ok_or_else(|| KmsError::InvalidGrantToken("Invalid grant token".into()))?
            }
            (None, Some(k), Some(id)) => {
                let r = access::resolve(call, t, k, false)?;
                let g: GrantRecord = store::get(t, store::GRANTS, &grant_key(&r.key, id))?
                    .ok_or_else(|| KmsError::InvalidGrantId("Grant ID not found".into()))?;
                (std::sync::Arc::unwrap_or_clone(r.key), g)
            }
            _ => {
                return Err(KmsError::Validation(
                    "Either GrantToken, or both KeyId and GrantId, must be specified.".into(),
                ));
            }
        };
        let may_retire = g
            .retiring
            .as_deref()
            .is_some_and(|r| access::is_principal(call, r))
            || (access::is_principal(call, &g.grantee)
                && g.operations.iter().any(|o| o == "RetireGrant"));
        if !may_retire {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: kms:RetireGrant on resource: {}",
                call.ctx.principal.arn,
                key.arn()
            )));
        }
        if i.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        t.delete(store::GRANTS, grant_key(&key, &g.grant_id).as_bytes())?;
        Ok::<_, KmsError>(key)
    })?;
    audit_key(audit, &key);
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeInput {
    key_id: String,
    grant_id: String,
    dry_run: Option<bool>,
}

pub fn revoke(call: &Call<'_>, i: RevokeInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id, "grantId": i.grant_id }));
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        let r = access::resolve(call, t, &i.key_id, false)?;
        access::authorize(call, t, &r, Operation::RevokeGrant, &Request::default())?;
        access::check_state(&r.key, Operation::RevokeGrant)?;
        let gk = grant_key(&r.key, &i.grant_id);
        if store::get::<GrantRecord>(t, store::GRANTS, &gk)?.is_none() {
            return Err(KmsError::NotFound(format!(
                "Grant ID {} not found for key {}",
                i.grant_id,
                r.key.arn()
            )));
        }
        if i.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        t.delete(store::GRANTS, gk.as_bytes())?;
        Ok::<_, KmsError>(r.key)
    })?;
    audit_key(audit, &key);
    Ok(json!({}))
}
