//! Key lifecycle: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey,
//! DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, GetKeyLastUsage, and the
//! custom-key-store operations (which answer as AWS does when no store exists).

use super::access::{self, Request};
use super::error::validation;
use super::store::{self, KeyRecord, KeyVersion, Rotation};
use super::wire::epoch;
use super::{KmsError, material, metadata, policy, tags};
use crate::api::{AuditInfo, AuditResource, Call, audit_object};
use crate::authz::{self, Ask};
use coffer_kms::messages;
use coffer_kms::ops::Operation;
use coffer_kms::spec::{self, KeyManager, KeySpec, KeyState, KeyUsage, Origin};
use coffer_storage::Txn;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::Duration;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyInput {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<KeyUsage>,
    customer_master_key_spec: Option<KeySpec>,
    key_spec: Option<KeySpec>,
    origin: Option<Origin>,
    custom_key_store_id: Option<String>,
    #[serde(default)]
    bypass_policy_lockout_safety_check: bool,
    #[serde(default)]
    tags: Vec<Tag>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdInput {
    pub key_id: String,
    #[serde(default)]
    pub grant_tokens: Vec<String>,
}

/// Records the key as the event's resource, as KMS's CloudTrail events do.
pub fn audit_key(audit: &mut AuditInfo, key: &KeyRecord) {
    audit.resources = vec![AuditResource {
        arn: key.arn(),
        account: key.account,
        kind: "AWS::KMS::Key",
    }];
}

fn new_key_id(multi_region: bool) -> String {
    if multi_region {
        format!("mrk-{}", hex::encode(coffer_crypto::random_bytes(16)))
    } else {
        uuid::Uuid::new_v4().to_string()
    }
}

pub fn create_key(
    call: &Call<'_>,
    input: CreateKeyInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("description", input.description.as_ref().map(|d| json!(d))),
        ("keySpec", input.key_spec.map(|s| json!(s.as_str()))),
        ("keyUsage", input.key_usage.map(|u| json!(u.as_str()))),
        ("origin", input.origin.map(|o| json!(o.as_str()))),
        ("multiRegion", input.multi_region.map(|m| json!(m))),
        (
            "bypassPolicyLockoutSafetyCheck",
            Some(json!(input.bypass_policy_lockout_safety_check)),
        ),
    ]));
    let spec = match (input.key_spec, input.customer_master_key_spec) {
        (Some(_), Some(_)) => {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
            ));
        }
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => KeySpec::SymmetricDefault,
    };
    let usage = spec::resolve_key_usage(spec, input.key_usage).map_err(|e| match e {
        spec::KeyUsageError::Missing(_) => messages::key_usage_required(),
        spec::KeyUsageError::Incompatible { spec, usage } => {
            messages::key_usage_incompatible(spec, usage)
        }
    })?;
    let origin = input.origin.unwrap_or(Origin::AwsKms);
    if input.custom_key_store_id.is_some()
        || input.xks_key_id.is_some()
        || matches!(origin, Origin::AwsCloudhsm | Origin::ExternalKeyStore)
    {
        return Err(KmsError::CustomKeyStoreNotFound(
            "Custom key stores are not available on this endpoint.".into(),
        ));
    }
    let tags = tags::validate_new(&input.tags)?;
    let multi_region = input.multi_region.unwrap_or(false);
    let key_id = new_key_id(multi_region);
    let region = call.ctx.region.as_str().to_owned();
    let account = call.ctx.principal.account;
    let arn = store::key_arn(&region, account, &key_id);
    let now = call.ctx.time;
    // Generated before the transaction: RSA-4096 generation takes long enough that it
    // must not hold a write transaction open.
    let fresh = if origin == Origin::AwsKms {
        Some(material::generate(spec)?)
    } else {
        None
    };
    let key = coffer_storage::write(call.state.store.as_ref(), |t| {
        let conditions = |_: &coffer_policy::KeysUsed| {
            let mut c = vec![
                ("kms:KeySpec".to_owned(), vec![spec.as_str().to_owned()]),
                ("kms:KeyUsage".to_owned(), vec![usage.as_str().to_owned()]),
                ("kms:KeyOrigin".to_owned(), vec![origin.as_str().to_owned()]),
                ("kms:MultiRegion".to_owned(), vec![multi_region.to_string()]),
                (
                    "kms:BypassPolicyLockoutSafetyCheck".to_owned(),
                    vec![input.bypass_policy_lockout_safety_check.to_string()],
                ),
            ];
            c.extend(crate::authz::request_tag_conditions(&tags));
            c
        };
        authz::check(
            call,
            t,
            &Ask {
                action: "kms:CreateKey",
                resource: "*",
                extra: &conditions,
            },
            None,
        )?;
        let policy_text = match &input.policy {
            Some(p) => {
                policy::validate_new(
                    call,
                    t,
                    p,
                    &arn,
                    account,
                    input.bypass_policy_lockout_safety_check,
                )?;
                p.clone()
            }
            None => policy::default_policy(account),
        };
        let versions = match &fresh {
            Some(m) => vec![KeyVersion {
                version: 1,
                material_id: material::material_id(account, &key_id, 1),
                created: now,
                rotation_type: None,
                sealed: Some(material::seal(&call.state.barrier, account, &key_id, 1, m)),
                fingerprint: None,
            }],
            None => Vec::new(),
        };
        let key = KeyRecord {
            key_id: key_id.clone(),
            account,
            region: region.clone(),
            description: input.description.clone().unwrap_or_default(),
            spec,
            usage,
            origin,
            manager: KeyManager::Customer,
            state: if origin == Origin::External {
                KeyState::PendingImport
            } else {
                KeyState::Enabled
            },
            created: now,
            deletion_date: None,
            pending_window_days: None,
            policy: policy_text,
            tags: tags.clone(),
            rotation: Rotation {
                enabled: false,
                period_days: spec::limits::ROTATION_PERIOD_DEFAULT_DAYS,
                next: None,
            },
            on_demand_rotations: Vec::new(),
            versions,
            multi_region: multi_region.then(|| store::MultiRegion {
                primary_region: region.clone(),
                replica_regions: Vec::new(),
            }),
            valid_to: None,
        };
        store::put_key(t, &key)?;
        Ok::<_, KmsError>(key)
    })?;
    audit_key(audit, &key);
    let md = metadata::key_metadata(&key);
    audit.response_elements = Some(json!({ "keyMetadata": metadata::audit_view(&md) }));
    Ok(json!({ "KeyMetadata": md }))
}

/// Resolves and authorizes a key in a read transaction, then applies the state table.
pub fn read_key(
    call: &Call<'_>,
    key_id: &str,
    aliases: bool,
    op: Operation,
    audit: &mut AuditInfo,
) -> Result<access::Resolved, KmsError> {
    let r = coffer_storage::read(call.state.store.as_ref(), |t| {
        let r = access::resolve(call, t, key_id, aliases)?;
        access::authorize(call, t, &r, op, &Request::default())?;
        Ok::<_, KmsError>(r)
    })?;
    audit_key(audit, &r.key);
    access::check_state(&r.key, op)?;
    Ok(r)
}

/// Resolves, authorizes and state-checks a key inside a write transaction, lets `change`
/// modify it, and stores it; all or nothing.
pub fn update_key<T>(
    call: &Call<'_>,
    key_id: &str,
    op: Operation,
    audit: &mut AuditInfo,
    change: impl FnMut(&mut dyn Txn, &mut KeyRecord) -> Result<T, KmsError>,
) -> Result<(KeyRecord, T), KmsError> {
    update_key_as(call, key_id, op, &Request::default(), audit, change)
}

/// [`update_key`] for a request that brings condition keys of its own (the tags TagResource
/// sets, the keys UntagResource removes).
pub fn update_key_as<T>(
    call: &Call<'_>,
    key_id: &str,
    op: Operation,
    req: &Request<'_>,
    audit: &mut AuditInfo,
    mut change: impl FnMut(&mut dyn Txn, &mut KeyRecord) -> Result<T, KmsError>,
) -> Result<(KeyRecord, T), KmsError> {
    let mut seen = None;
    let res = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut r = access::resolve(call, t, key_id, false)?;
        seen = Some(r.key.clone());
        access::authorize(call, t, &r, op, req)?;
        access::check_state(&r.key, op)?;
        let key = Arc::make_mut(&mut r.key);
        let out = change(t, key)?;
        store::put_key(t, key)?;
        Ok::<_, KmsError>((Arc::unwrap_or_clone(r.key), out))
    });
    if let Some(k) = &seen {
        audit_key(audit, k);
    }
    res
}

pub fn describe_key(
    call: &Call<'_>,
    input: KeyIdInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id }));
    access::check_grant_tokens(&input.grant_tokens)?;
    super::managed::create_if_predefined(call, &input.key_id)?;
    let r = read_key(call, &input.key_id, true, Operation::DescribeKey, audit)?;
    Ok(json!({ "KeyMetadata": metadata::key_metadata(&r.key) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    limit: Option<i64>,
    marker: Option<String>,
}

/// Validates `Limit` (1 to `max`, default `default`).
/// The position a `Marker` of the offset-paged list operations (grants, rotations, tags)
/// stands for; coffer writes these markers as the index of the next entry.
pub fn offset_marker(marker: Option<&str>) -> Result<usize, KmsError> {
    match marker {
        None => Ok(0),
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| KmsError::InvalidMarker("Invalid marker".into())),
    }
}

/// One page of `entries` from `start`, as `{<member>: [...], Truncated, NextMarker?}`.
pub fn offset_page(member: &str, entries: &[Value], start: usize, limit: usize) -> Value {
    let page: Vec<Value> = entries.iter().skip(start).take(limit).cloned().collect();
    let end = start + page.len();
    let mut out = json!({ member: page, "Truncated": end < entries.len() });
    if end < entries.len() {
        out["NextMarker"] = json!(end.to_string());
    }
    out
}

pub fn page_limit(limit: Option<i64>, max: i64, default: i64) -> Result<usize, KmsError> {
    let l = limit.unwrap_or(default);
    if !(1..=max).contains(&l) {
        return Err(validation(
            "limit",
            l,
            &format!(
                "Member must have value {}",
                if l < 1 {
                    "greater than or equal to 1".to_owned()
                } else {
                    format!("less than or equal to {max}")
                }
            ),
        ));
    }
    usize::try_from(l).map_err(|_| KmsError::Internal("limit".into()))
}

pub fn list_keys(
    call: &Call<'_>,
    input: ListInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("limit", input.limit.map(|l| json!(l))),
        ("marker", input.marker.as_ref().map(|m| json!(m))),
    ]));
    let limit = page_limit(input.limit, 1000, 100)?;
    if let Some(m) = &input.marker
        && !store::is_key_id(m)
    {
        return Err(KmsError::InvalidMarker("Invalid marker".into()));
    }
    let region = call.ctx.region.as_str();
    let account = call.ctx.principal.account;
    let prefix = format!("{region}/{account}/");
    let start = input.marker.as_ref().map(|m| format!("{prefix}{m}"));
    let rows: Vec<(String, KeyRecord)> = coffer_storage::read(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new("kms:ListKeys", "*"), None)?;
        store::scan(t, store::KEYS, &prefix, start.as_deref(), limit + 1)
    })?;
    let truncated = rows.len() > limit;
    let keys: Vec<Value> = rows
        .iter()
        .take(limit)
        .map(|(_, k)| json!({ "KeyId": k.key_id, "KeyArn": k.arn() }))
        .collect();
    let mut out = json!({ "Keys": keys, "Truncated": truncated });
    if truncated && let Some((_, last)) = rows.get(limit - 1) {
        out["NextMarker"] = json!(last.key_id);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateDescriptionInput {
    key_id: String,
    description: String,
}

pub fn update_description(
    call: &Call<'_>,
    input: UpdateDescriptionInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": input.key_id, "description": input.description
    }));
    update_key(
        call,
        &input.key_id,
        Operation::UpdateKeyDescription,
        audit,
        |_, k| {
            k.description = input.description.clone();
            Ok(())
        },
    )?;
    Ok(json!({}))
}

pub fn set_enabled(
    call: &Call<'_>,
    op: Operation,
    input: KeyIdInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id }));
    let enable = op == Operation::EnableKey;
    update_key(call, &input.key_id, op, audit, |_, k| {
        k.state = if enable {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        Ok(())
    })?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleDeletionInput {
    key_id: String,
    pending_window_in_days: Option<i64>,
}

pub fn schedule_deletion(
    call: &Call<'_>,
    input: ScheduleDeletionInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(input.key_id))),
        (
            "pendingWindowInDays",
            input.pending_window_in_days.map(|d| json!(d)),
        ),
    ]));
    let days = input
        .pending_window_in_days
        .unwrap_or(i64::from(spec::limits::PENDING_WINDOW_DEFAULT_DAYS));
    messages::check_pending_window(days)?;
    let now = call.ctx.time;
    let (key, ()) = update_key(
        call,
        &input.key_id,
        Operation::ScheduleKeyDeletion,
        audit,
        |_, k| {
            let has_replicas = k
                .multi_region
                .as_ref()
                .is_some_and(|m| k.is_primary() && !m.replica_regions.is_empty());
            if has_replicas {
                k.state = KeyState::PendingReplicaDeletion;
                k.deletion_date = None;
            } else {
                k.state = KeyState::PendingDeletion;
                k.deletion_date = Some(now + Duration::days(days));
            }
            k.pending_window_days = u32::try_from(days).ok();
            k.rotation.next = None;
            Ok(())
        },
    )?;
    let mut out = json!({
        "KeyId": key.arn(),
        "KeyState": key.state.as_str(),
        "PendingWindowInDays": days,
    });
    if let Some(d) = key.deletion_date {
        out["DeletionDate"] = epoch(d);
    }
    audit.response_elements = Some(json!({
        "keyId": key.arn(), "keyState": key.state.as_str(),
        "deletionDate": key.deletion_date.map(crate::services::iso8601),
        "pendingWindowInDays": days,
    }));
    Ok(out)
}

pub fn cancel_deletion(
    call: &Call<'_>,
    input: KeyIdInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id }));
    let (key, ()) = update_key(
        call,
        &input.key_id,
        Operation::CancelKeyDeletion,
        audit,
        |_, k| {
            k.state = KeyState::Disabled;
            k.deletion_date = None;
            k.pending_window_days = None;
            super::rotation::reschedule(k, call.ctx.time);
            Ok(())
        },
    )?;
    Ok(json!({ "KeyId": key.arn() }))
}

/// Reads the last successful cryptographic use from the audit trail, which records the
/// operation, its time and its CloudTrail event id durably for every call.
pub fn last_usage(
    call: &Call<'_>,
    input: KeyIdInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id }));
    let r = read_key(
        call,
        &input.key_id,
        false,
        Operation::GetKeyLastUsage,
        audit,
    )?;
    let key = &r.key;
    let mut out = json!({
        "KeyId": key.arn(),
        "TrackingStartDate": epoch(key.created),
        "KeyCreationDate": epoch(key.created),
    });
    if let Some((op, at, event_id)) = find_last_use(call, key)? {
        out["KeyLastUsage"] = json!({
            "Operation": op, "Timestamp": epoch(at), "CloudTrailEventId": event_id
        });
    }
    Ok(out)
}

type LastUse = (String, time::OffsetDateTime, String);

/// The operations GetKeyLastUsage reports (the model's `KeyLastUsageTrackingOperation`).
const LAST_USAGE_OPERATIONS: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

fn find_last_use(call: &Call<'_>, key: &KeyRecord) -> Result<Option<LastUse>, KmsError> {
    let mut query = coffer_audit::LookupQuery {
        attribute: Some((coffer_audit::LookupKey::ResourceName, key.arn())),
        max_results: 50,
        ..Default::default()
    };
    loop {
        let page = call
            .state
            .audit
            .lookup(&query)
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let hit = page.events.iter().find(|s| {
            let e = &s.event;
            e.error_code.is_none()
                && e.event_source == "kms.amazonaws.com"
                && LAST_USAGE_OPERATIONS.contains(&e.event_name.as_str())
        });
        if let Some(s) = hit {
            let e = &s.event;
            return Ok(Some((
                e.event_name.clone(),
                e.event_time,
                e.event_id.clone(),
            )));
        }
        match page.next_token {
            Some(t) => query.next_token = Some(t),
            None => return Ok(None),
        }
    }
}

/// The six custom-key-store operations: coffer has no CloudHSM or external key store, so
/// each answers as AWS does for a store id that does not exist (and lists none).
pub fn custom_key_store(
    call: &Call<'_>,
    op: Operation,
    input: Value,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    let id = input
        .get("CustomKeyStoreId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    audit.request_parameters = Some(audit_object([(
        "customKeyStoreId",
        id.as_ref().map(|i| json!(i)),
    )]));
    coffer_storage::read(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new(op.action(), "*"), None).map_err(KmsError::from)
    })?;
    match op {
        Operation::DescribeCustomKeyStores
            if id.is_none() && input.get("CustomKeyStoreName").is_none() =>
        {
            Ok(json!({ "CustomKeyStores": [], "Truncated": false }))
        }
        // CloudHSM clusters and external key store proxies do not exist for coffer, so
        // creating a store fails as AWS fails for a cluster or proxy it cannot find.
        Operation::CreateCustomKeyStore => {
            let xks = input.get("CustomKeyStoreType").and_then(Value::as_str)
                == Some("EXTERNAL_KEY_STORE");
            Err(KmsError::Aws(if xks {
                messages::AwsError {
                    code: messages::ErrorCode::XksProxyUriUnreachableException,
                    message: "KMS cannot reach the external key store proxy.".into(),
                }
            } else {
                messages::AwsError {
                    code: messages::ErrorCode::CloudHsmClusterNotFoundException,
                    message: "The specified AWS CloudHSM cluster was not found.".into(),
                }
            }))
        }
        _ => Err(KmsError::CustomKeyStoreNotFound(String::new())),
    }
}
