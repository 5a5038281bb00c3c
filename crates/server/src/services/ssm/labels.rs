//! LabelParameterVersion and UnlabelParameterVersion. A label names one version of a
//! parameter at a time: attaching it elsewhere moves it. A version holds at most ten.

use super::params::not_found;
use super::store;
use super::{Operation, SsmError, arn, audit_param, authorize, names};
use crate::api::{AuditInfo, Call, audit_object};
use serde::Deserialize;
use serde_json::{Value, json};

const MAX_LABELS_PER_VERSION: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelInput {
    name: String,
    parameter_version: Option<u64>,
    labels: Vec<String>,
}

pub fn label(call: &Call<'_>, i: LabelInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    let name = names::read_name(&i.name)?.to_owned();
    audit.request_parameters = Some(audit_object([
        ("name", Some(json!(name))),
        ("parameterVersion", i.parameter_version.map(|v| json!(v))),
        ("labels", Some(json!(i.labels))),
    ]));
    audit_param(call, audit, &name);
    authorize(call, Operation::LabelParameterVersion, &arn(call, &name))?;
    let (valid, invalid): (Vec<String>, Vec<String>) = i
        .labels
        .iter()
        .cloned()
        .partition(|l| names::valid_label(l));
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let version = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut p = store::load(t, region, account, &name)?.ok_or_else(not_found)?;
        let version = target_version(&p, &name, i.parameter_version)?;
        let mut after: Vec<&String> = p
            .labels
            .iter()
            .filter(|(_, v)| **v == version)
            .map(|(l, _)| l)
            .collect();
        for l in &valid {
            if !after.contains(&l) {
                after.push(l);
            }
        }
        if after.len() > MAX_LABELS_PER_VERSION {
            return Err(SsmError::ParameterVersionLabelLimitExceeded(
                "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.".into(),
            ));
        }
        for l in &valid {
            p.labels.insert(l.clone(), version);
        }
        store::put(t, store::PARAMS, &p.storage_key(), &p)?;
        if !valid.is_empty() {
            super::events::parameter_changed(t, call, &p, "LabelParameterVersion")?;
        }
        Ok(version)
    })?;
    if !valid.is_empty() {
        crate::events::wake(call.state);
    }
    Ok(json!({"InvalidLabels": invalid, "ParameterVersion": version}))
}

fn target_version(p: &store::ParamRecord, name: &str, v: Option<u64>) -> Result<u64, SsmError> {
    match v {
        None => Ok(p.version),
        Some(v) if p.versions.contains(&v) => Ok(v),
        Some(v) => Err(SsmError::ParameterVersionNotFound(format!(
            "Systems Manager could not find version {v} of {name}. Verify the version and try again."
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnlabelInput {
    name: String,
    parameter_version: u64,
    labels: Vec<String>,
}

pub fn unlabel(call: &Call<'_>, i: UnlabelInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    let name = names::read_name(&i.name)?.to_owned();
    audit.request_parameters = Some(audit_object([
        ("name", Some(json!(name))),
        ("parameterVersion", Some(json!(i.parameter_version))),
        ("labels", Some(json!(i.labels))),
    ]));
    audit_param(call, audit, &name);
    authorize(call, Operation::UnlabelParameterVersion, &arn(call, &name))?;
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let (removed, invalid) = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut p = store::load(t, region, account, &name)?.ok_or_else(not_found)?;
        let version = target_version(&p, &name, Some(i.parameter_version))?;
        let mut removed = Vec::new();
        let mut invalid = Vec::new();
        for l in &i.labels {
            if p.labels.get(l) == Some(&version) {
                p.labels.remove(l);
                removed.push(l.clone());
            } else {
                invalid.push(l.clone());
            }
        }
        store::put(t, store::PARAMS, &p.storage_key(), &p)?;
        Ok::<_, SsmError>((removed, invalid))
    })?;
    Ok(json!({"RemovedLabels": removed, "InvalidLabels": invalid}))
}
