//! Parameter Store's service settings: the default tier of new parameters and the
//! high-throughput flag. A setting never updated reads as its default (`Status: Default`).

use super::store::{self, SettingRecord};
use super::values::{ADVANCED_TIER, INTELLIGENT_TIER, STANDARD_TIER};
use super::{Operation, SsmError, authorize, epoch};
use crate::api::{AuditInfo, Call, audit_object};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DEFAULT_TIER: &str = "/ssm/parameter-store/default-parameter-tier";
pub const HIGH_THROUGHPUT: &str = "/ssm/parameter-store/high-throughput-enabled";

/// Each setting: its id, default value and allowed values.
const SETTINGS: [(&str, &str, &[&str]); 2] = [
    (
        DEFAULT_TIER,
        STANDARD_TIER,
        &[STANDARD_TIER, ADVANCED_TIER, INTELLIGENT_TIER],
    ),
    (HIGH_THROUGHPUT, "false", &["true", "false"]),
];

fn setting_arn(call: &Call<'_>, id: &str) -> String {
    format!(
        "arn:aws:ssm:{}:{}:servicesetting{id}",
        call.ctx.region.as_str(),
        call.ctx.principal.account
    )
}

/// The setting a `SettingId` names (a bare id or the setting's ARN), with its definition.
fn resolve(
    call: &Call<'_>,
    raw: &str,
) -> Result<(&'static str, &'static str, &'static [&'static str]), SsmError> {
    let prefix = setting_arn(call, "");
    let id = raw.strip_prefix(&prefix).unwrap_or(raw);
    SETTINGS
        .iter()
        .find(|(s, _, _)| *s == id)
        .copied()
        .ok_or_else(|| {
            SsmError::ServiceSettingNotFound(
                "The specified service setting wasn't found. Either the service name or the setting hasn't been provisioned by the Amazon Web Services service team.".into(),
            )
        })
}

fn key(call: &Call<'_>, id: &str) -> String {
    format!(
        "{}{id}",
        store::scope(call.ctx.region.as_str(), call.ctx.principal.account)
    )
}

fn load(call: &Call<'_>, id: &str) -> Result<Option<SettingRecord>, SsmError> {
    let k = key(call, id);
    coffer_storage::read(call.state.store.as_ref(), |t| {
        store::get(t, store::SETTINGS, &k)
    })
}

/// The tier new parameters get when PutParameter names none.
pub fn default_tier(call: &Call<'_>) -> Result<String, SsmError> {
    Ok(load(call, DEFAULT_TIER)?
        .map(|s| s.value)
        .unwrap_or_else(|| STANDARD_TIER.to_owned()))
}

fn setting_json(call: &Call<'_>, id: &str, default: &str, rec: Option<SettingRecord>) -> Value {
    let (value, status, modified, user) = match rec {
        Some(r) => (r.value, "Customized", r.modified, r.modified_user),
        None => (
            default.to_owned(),
            "Default",
            call.ctx.time,
            "System".to_owned(),
        ),
    };
    json!({
        "SettingId": id,
        "SettingValue": value,
        "LastModifiedDate": epoch(modified),
        "LastModifiedUser": user,
        "ARN": setting_arn(call, id),
        "Status": status,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdInput {
    setting_id: String,
}

pub fn get(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([("settingId", Some(json!(i.setting_id)))]));
    let (id, default, _) = resolve(call, &i.setting_id)?;
    authorize(call, Operation::GetServiceSetting, &setting_arn(call, id))?;
    let rec = load(call, id)?;
    Ok(json!({"ServiceSetting": setting_json(call, id, default, rec)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    setting_id: String,
    setting_value: String,
}

pub fn update(call: &Call<'_>, i: UpdateInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("settingId", Some(json!(i.setting_id))),
        ("settingValue", Some(json!(i.setting_value))),
    ]));
    let (id, _, allowed) = resolve(call, &i.setting_id)?;
    authorize(
        call,
        Operation::UpdateServiceSetting,
        &setting_arn(call, id),
    )?;
    if !allowed.contains(&i.setting_value.as_str()) {
        return Err(SsmError::Validation(format!(
            "The value {} is not valid for the setting {id}. Valid values are: {}.",
            i.setting_value,
            allowed.join(", ")
        )));
    }
    let rec = SettingRecord {
        value: i.setting_value.clone(),
        modified: call.ctx.time,
        modified_user: call.ctx.principal.arn.clone(),
    };
    let k = key(call, id);
    coffer_storage::write(call.state.store.as_ref(), |t| {
        store::put(t, store::SETTINGS, &k, &rec)
    })?;
    Ok(json!({}))
}

pub fn reset(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([("settingId", Some(json!(i.setting_id)))]));
    let (id, default, _) = resolve(call, &i.setting_id)?;
    authorize(call, Operation::ResetServiceSetting, &setting_arn(call, id))?;
    let k = key(call, id);
    coffer_storage::write(call.state.store.as_ref(), |t| {
        t.delete(store::SETTINGS, k.as_bytes())
            .map_err(SsmError::from)
    })?;
    Ok(json!({"ServiceSetting": setting_json(call, id, default, None)}))
}
