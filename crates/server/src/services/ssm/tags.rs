//! AddTagsToResource, RemoveTagsFromResource and ListTagsForResource for parameters
//! (`ResourceType` `Parameter`, `ResourceId` the parameter's name).

use super::store;
use super::{Operation, SsmError, arn, audit_param, authorize, names};
use crate::api::{AuditInfo, Call, audit_object};
use serde::Deserialize;
use serde_json::{Value, json};

/// A parameter carries at most 50 tags.
const MAX_TAGS: usize = 50;

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Parameters are the only resources coffer's SSM holds; other types AWS names exist but
/// cannot be found here.
fn parameter_name(kind: &str, id: &str) -> Result<String, SsmError> {
    if kind != "Parameter" {
        return Err(SsmError::InvalidResourceType(
            "The resource type isn't valid. Parameter is the only supported resource type.".into(),
        ));
    }
    Ok(names::trim(id).to_owned())
}

fn invalid_id() -> SsmError {
    SsmError::InvalidResourceId(
        "The resource ID isn't valid. Verify that you entered the correct ID and try again.".into(),
    )
}

/// Runs `f` on the tags of the parameter `name`, saving them afterwards.
fn with_tags(
    call: &Call<'_>,
    name: &str,
    f: impl Fn(&mut Vec<(String, String)>) -> Result<(), SsmError>,
) -> Result<(), SsmError> {
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut p = store::load(t, region, account, name)?.ok_or_else(invalid_id)?;
        f(&mut p.tags)?;
        store::put(t, store::PARAMS, &p.storage_key(), &p)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddInput {
    resource_type: String,
    resource_id: String,
    tags: Vec<Tag>,
}

/// Adds `new` to `tags`, a later value replacing an earlier one of the same key (a key has
/// one value), and refuses a result of more than [`MAX_TAGS`] tags. AddTagsToResource and
/// PutParameter both tag this way.
pub fn merge(tags: &mut Vec<(String, String)>, new: &[Tag]) -> Result<(), SsmError> {
    for t in new {
        crate::services::set_tag(tags, &t.key, &t.value);
    }
    if tags.len() > MAX_TAGS {
        return Err(SsmError::TooManyTags(
            "The Targets parameter includes too many tags. Remove one or more tags and try the command again.".into(),
        ));
    }
    Ok(())
}

pub fn add(call: &Call<'_>, i: AddInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("resourceType", Some(json!(i.resource_type))),
        ("resourceId", Some(json!(i.resource_id))),
    ]));
    let name = parameter_name(&i.resource_type, &i.resource_id)?;
    audit_param(call, audit, &name);
    authorize(call, Operation::AddTagsToResource, &arn(call, &name))?;
    with_tags(call, &name, |tags| merge(tags, &i.tags))?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveInput {
    resource_type: String,
    resource_id: String,
    tag_keys: Vec<String>,
}

pub fn remove(call: &Call<'_>, i: RemoveInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("resourceType", Some(json!(i.resource_type))),
        ("resourceId", Some(json!(i.resource_id))),
        ("tagKeys", Some(json!(i.tag_keys))),
    ]));
    let name = parameter_name(&i.resource_type, &i.resource_id)?;
    audit_param(call, audit, &name);
    authorize(call, Operation::RemoveTagsFromResource, &arn(call, &name))?;
    with_tags(call, &name, |tags| {
        tags.retain(|(k, _)| !i.tag_keys.contains(k));
        Ok(())
    })?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    resource_type: String,
    resource_id: String,
}

pub fn list(call: &Call<'_>, i: ListInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("resourceType", Some(json!(i.resource_type))),
        ("resourceId", Some(json!(i.resource_id))),
    ]));
    let name = parameter_name(&i.resource_type, &i.resource_id)?;
    audit_param(call, audit, &name);
    authorize(call, Operation::ListTagsForResource, &arn(call, &name))?;
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let p = coffer_storage::read(call.state.store.as_ref(), |t| {
        store::load(t, region, account, &name)
    })?
    .ok_or_else(invalid_id)?;
    let list: Vec<Value> = p
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "TagList": list }))
}
