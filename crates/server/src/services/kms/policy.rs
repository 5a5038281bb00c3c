//! Key policies: the default policy, validation with AWS's lockout safety check, and
//! GetKeyPolicy / PutKeyPolicy / ListKeyPolicies.

use super::KmsError;
use super::keys::{self, audit_key};
use crate::api::{AuditInfo, Call, audit_object};
use crate::authz::{self, Ask, AuthzError, ResourcePolicy};
use coffer_kms::ops::Operation;
use coffer_policy::{PolicyKind, ResourcePolicyMode};
use coffer_storage::Txn;
use coffer_types::AccountId;
use serde::Deserialize;
use serde_json::{Value, json};

/// KMS has exactly one key policy per key, named `default`.
const POLICY_NAME: &str = "default";

/// AWS's default key policy: the account (root) may do everything, which delegates
/// authorization to the account's IAM policies.
pub fn default_policy(account: AccountId) -> String {
    let doc = json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Parses a proposed key policy and, unless bypassed, checks that it still lets the caller
/// change the key policy later (AWS's lockout safety check).
pub fn validate_new(
    call: &Call<'_>,
    t: &mut dyn Txn,
    text: &str,
    key_arn: &str,
    owner: AccountId,
    bypass: bool,
) -> Result<(), KmsError> {
    if text.len() > coffer_kms::spec::limits::KEY_POLICY_MAX {
        return Err(KmsError::LimitExceeded(format!(
            "The key policy exceeds the maximum size of {} bytes.",
            coffer_kms::spec::limits::KEY_POLICY_MAX
        )));
    }
    let doc = coffer_policy::parse_with(text, PolicyKind::Resource)
        .map_err(|e| KmsError::MalformedPolicyDocument(e.to_string()))?;
    if bypass {
        return Ok(());
    }
    let ask = Ask::new("kms:PutKeyPolicy", key_arn);
    let rp = ResourcePolicy {
        document: &doc,
        owner,
        mode: ResourcePolicyMode::Required,
    };
    match authz::check(call, t, &ask, Some(rp)) {
        Ok(()) => Ok(()),
        Err(AuthzError::Denied(_)) => Err(KmsError::MalformedPolicyDocument(
            "The new key policy will not allow you to update the key policy in the future.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

fn check_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(_) => Err(KmsError::NotFound("No such policy exists".into())),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetInput {
    key_id: String,
    policy_name: Option<String>,
}

pub fn get(call: &Call<'_>, input: GetInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(input.key_id))),
        ("policyName", input.policy_name.as_ref().map(|p| json!(p))),
    ]));
    let r = keys::read_key(call, &input.key_id, false, Operation::GetKeyPolicy, audit)?;
    check_name(input.policy_name.as_deref())?;
    Ok(json!({ "Policy": r.key.policy, "PolicyName": POLICY_NAME }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
}

pub fn put(call: &Call<'_>, input: PutInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(input.key_id))),
        ("policyName", input.policy_name.as_ref().map(|p| json!(p))),
        ("policy", Some(json!(input.policy))),
        (
            "bypassPolicyLockoutSafetyCheck",
            Some(json!(input.bypass_policy_lockout_safety_check)),
        ),
    ]));
    check_name(input.policy_name.as_deref())?;
    keys::update_key(
        call,
        &input.key_id,
        Operation::PutKeyPolicy,
        audit,
        |t, k| {
            validate_new(
                call,
                t,
                &input.policy,
                &k.arn(),
                k.account,
                input.bypass_policy_lockout_safety_check,
            )?;
            k.policy = input.policy.clone();
            Ok(())
        },
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

pub fn list(call: &Call<'_>, input: ListInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id }));
    keys::page_limit(input.limit, 1000, 100)?;
    if input.marker.is_some() {
        return Err(KmsError::InvalidMarker("Invalid marker".into()));
    }
    let r = keys::read_key(
        call,
        &input.key_id,
        false,
        Operation::ListKeyPolicies,
        audit,
    )?;
    audit_key(audit, &r.key);
    Ok(json!({ "PolicyNames": [POLICY_NAME], "Truncated": false }))
}
