//! Tags: TagResource, UntagResource, ListResourceTags, and tag validation for CreateKey.

use super::KmsError;
use super::access::Request;
use super::keys::{self, Tag, audit_key};
use crate::api::{AuditInfo, Call};
use coffer_kms::ops::Operation;
use serde::Deserialize;
use serde_json::{Value, json};

/// AWS's limit of tags per KMS key.
const MAX_TAGS: usize = 50;

fn check_tag(t: &Tag) -> Result<(), KmsError> {
    if t.tag_key.starts_with("aws:") {
        return Err(KmsError::Tag(
            "Tag keys beginning with 'aws:' are reserved by AWS.".into(),
        ));
    }
    Ok(())
}

/// Validates tags of a new key (CreateKey, ReplicateKey).
pub fn validate_new(tags: &[Tag]) -> Result<Vec<(String, String)>, KmsError> {
    check_request(tags)?;
    let out: Vec<(String, String)> = tags
        .iter()
        .map(|t| (t.tag_key.clone(), t.tag_value.clone()))
        .collect();
    if out.len() > MAX_TAGS {
        return Err(too_many());
    }
    Ok(out)
}

/// The checks every list of tags in a request passes: no reserved key, and no key twice.
/// AWS refuses a repeated key with `TagException` rather than keeping one of the values
/// (observed for TagResource: LocalStack's test of it, validated against AWS).
fn check_request(tags: &[Tag]) -> Result<(), KmsError> {
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    for t in tags {
        check_tag(t)?;
        if !seen.insert(t.tag_key.as_str()) {
            return Err(KmsError::Tag("Duplicate tag keys".into()));
        }
    }
    Ok(())
}

fn too_many() -> KmsError {
    KmsError::LimitExceeded(format!(
        "The request would cause the key to exceed the limit of {MAX_TAGS} tags."
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    key_id: String,
    tags: Vec<Tag>,
}

pub fn tag(call: &Call<'_>, input: TagInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": input.key_id,
        "tags": input.tags.iter().map(|t| json!({"tagKey": t.tag_key, "tagValue": t.tag_value})).collect::<Vec<_>>(),
    }));
    check_request(&input.tags)?;
    let requested: Vec<(String, String)> = input
        .tags
        .iter()
        .map(|t| (t.tag_key.clone(), t.tag_value.clone()))
        .collect();
    let req = Request {
        context: None,
        conditions: crate::authz::request_tag_conditions(&requested),
    };
    keys::update_key_as(
        call,
        &input.key_id,
        Operation::TagResource,
        &req,
        audit,
        |_, k| {
            let mut next = k.tags.clone();
            for t in &input.tags {
                crate::services::set_tag(&mut next, &t.tag_key, &t.tag_value);
            }
            if next.len() > MAX_TAGS {
                return Err(too_many());
            }
            k.tags = next;
            Ok(())
        },
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagInput {
    key_id: String,
    tag_keys: Vec<String>,
}

pub fn untag(call: &Call<'_>, input: UntagInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": input.key_id, "tagKeys": input.tag_keys }));
    if input.tag_keys.iter().any(|k| k.starts_with("aws:")) {
        return Err(KmsError::Tag(
            "Tag keys beginning with 'aws:' are reserved by AWS.".into(),
        ));
    }
    let req = Request {
        context: None,
        conditions: vec![("aws:TagKeys".to_owned(), input.tag_keys.clone())],
    };
    keys::update_key_as(
        call,
        &input.key_id,
        Operation::UntagResource,
        &req,
        audit,
        |_, k| {
            k.tags.retain(|(key, _)| !input.tag_keys.contains(key));
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
    let limit = keys::page_limit(input.limit, 50, 50)?;
    let start = keys::offset_marker(input.marker.as_deref())?;
    let r = keys::read_key(
        call,
        &input.key_id,
        false,
        Operation::ListResourceTags,
        audit,
    )?;
    audit_key(audit, &r.key);
    let entries: Vec<Value> = r
        .key
        .tags
        .iter()
        .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
        .collect();
    Ok(keys::offset_page("Tags", &entries, start, limit))
}
