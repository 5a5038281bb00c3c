//! Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy,
//! ValidateResourcePolicy. Policies are parsed by the foundation's policy engine and
//! evaluated on every operation (see `access`).

use super::access::{self, cond};
use super::error::SmError;
use super::replication;
use super::store::{self, SecretRecord};
use crate::api::{AuditInfo, Call};
use coffer_policy::{
    Effect, PolicyDocument, PolicyKind, PrincipalElement, PrincipalType, Principals,
};
use serde::Deserialize;
use serde_json::{Value, json};

fn parse(text: &str) -> Result<PolicyDocument, SmError> {
    coffer_policy::parse_with(text, PolicyKind::Resource)
        .map_err(|e| SmError::MalformedPolicyDocument(e.to_string()))
}

/// Whether a statement lets anyone at all in: an Allow for the `*` principal (or
/// `{"AWS": "*"}`) with no condition narrowing who, or a `NotPrincipal` Allow.
pub fn grants_public_access(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && s.conditions.is_empty()
            && match &s.principal {
                Some(PrincipalElement::Only(Principals::Any)) => true,
                Some(PrincipalElement::Only(Principals::Typed(t))) => t
                    .iter()
                    .any(|(k, v)| *k == PrincipalType::Aws && v.iter().any(|p| p == "*")),
                Some(PrincipalElement::Not(_)) => true,
                None => false,
            }
    })
}

fn public_error() -> SmError {
    SmError::PublicPolicy(
        "This resource policy contains a statement that grants public access.".into(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    secret_id: String,
    resource_policy: String,
    block_public_policy: Option<bool>,
}

pub fn put(call: &Call<'_>, i: PutInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    // AWS's API reference: "By default, public policies aren't blocked."
    let block = i.block_public_policy.unwrap_or(false);
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let c = vec![cond("secretsmanager:BlockPublicPolicy", block.to_string())];
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:PutResourcePolicy",
            c,
            audit,
        )?;
        access::not_replica(&s, "PutResourcePolicy")?;
        let doc = parse(&i.resource_policy)?;
        if block && grants_public_access(&doc) {
            return Err(public_error());
        }
        s.policy = Some(i.resource_policy.clone());
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    replication::sync(call, &s, audit)?;
    Ok(json!({"ARN": s.arn(), "Name": s.name}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdInput {
    secret_id: String,
}

pub fn get(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s: SecretRecord = coffer_storage::read(call.state.store.as_ref(), |t| {
        access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:GetResourcePolicy",
            Vec::new(),
            audit,
        )
    })?;
    let mut out = json!({"ARN": s.arn(), "Name": s.name});
    if let Some(p) = &s.policy {
        out["ResourcePolicy"] = json!(p);
    }
    Ok(out)
}

pub fn delete(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:DeleteResourcePolicy",
            Vec::new(),
            audit,
        )?;
        access::not_replica(&s, "DeleteResourcePolicy")?;
        s.policy = None;
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    replication::sync(call, &s, audit)?;
    Ok(json!({"ARN": s.arn(), "Name": s.name}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateInput {
    secret_id: Option<String>,
    resource_policy: String,
}

/// Checks a policy without storing it: a syntax error is MalformedPolicyDocumentException;
/// a policy that parses is reported with the findings of the public-access check.
pub fn validate(
    call: &Call<'_>,
    i: ValidateInput,
    audit: &mut AuditInfo,
) -> Result<Value, SmError> {
    coffer_storage::read(call.state.store.as_ref(), |t| match &i.secret_id {
        Some(id) => access::load(
            call,
            t,
            id,
            "secretsmanager:ValidateResourcePolicy",
            Vec::new(),
            audit,
        )
        .map(|_| ()),
        None => access::authorize_resource(
            call,
            t,
            "secretsmanager:ValidateResourcePolicy",
            "*",
            Vec::new(),
        ),
    })?;
    let doc = parse(&i.resource_policy)?;
    let mut errors = Vec::new();
    if grants_public_access(&doc) {
        errors.push(json!({
            "CheckName": "BLOCK_PUBLIC_POLICY",
            "ErrorMessage": "This resource policy contains a statement that grants public access.",
        }));
    }
    Ok(json!({"PolicyValidationPassed": errors.is_empty(), "ValidationErrors": errors}))
}
