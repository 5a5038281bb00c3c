//! TagResource and UntagResource, and tag validation for CreateSecret.

use super::access;
use super::error::{SmError, invalid_param};
use super::replication;
use super::store::{self, SecretRecord};
use crate::api::{AuditInfo, Call};
use serde::Deserialize;
use serde_json::{Value, json};

/// AWS's limit of tags per secret.
const MAX_TAGS: usize = 50;

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: Option<String>,
    value: Option<String>,
}

fn merge(tags: &mut Vec<(String, String)>, t: &Tag) -> Result<(), SmError> {
    let k = t.key.as_deref().unwrap_or_default();
    if k.is_empty() {
        return Err(invalid_param("Tag keys must not be empty."));
    }
    if k.to_ascii_lowercase().starts_with("aws:") {
        return Err(invalid_param(
            "Invalid tag key: tag keys starting with 'aws:' are reserved for AWS use.",
        ));
    }
    crate::services::set_tag(tags, k, t.value.as_deref().unwrap_or_default());
    Ok(())
}

fn check_count(tags: &[(String, String)]) -> Result<(), SmError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid_param(format!(
            "Number of tags exceeds the limit of {MAX_TAGS} tags per secret."
        )));
    }
    Ok(())
}

pub fn validate_new(tags: &[Tag]) -> Result<Vec<(String, String)>, SmError> {
    let mut out = Vec::new();
    for t in tags {
        merge(&mut out, t)?;
    }
    check_count(&out)?;
    Ok(out)
}

pub fn to_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    secret_id: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagInput {
    secret_id: String,
    tag_keys: Vec<String>,
}

fn change(
    call: &Call<'_>,
    secret_id: &str,
    action: &str,
    conds: access::Conditions,
    audit: &mut AuditInfo,
    f: impl Fn(&mut SecretRecord) -> Result<(), SmError>,
) -> Result<Value, SmError> {
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s = access::load(call, t, secret_id, action, conds.clone(), audit)?;
        access::not_replica(&s, action.trim_start_matches("secretsmanager:"))?;
        f(&mut s)?;
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    replication::sync(call, &s, audit)?;
    Ok(json!({}))
}

pub fn tag(call: &Call<'_>, i: TagInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let requested = validate_new(&i.tags)?;
    change(
        call,
        &i.secret_id,
        "secretsmanager:TagResource",
        crate::authz::request_tag_conditions(&requested),
        audit,
        |s| {
            for t in &i.tags {
                merge(&mut s.tags, t)?;
            }
            check_count(&s.tags)
        },
    )
}

pub fn untag(call: &Call<'_>, i: UntagInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let conds = vec![("aws:TagKeys".to_owned(), i.tag_keys.clone())];
    change(
        call,
        &i.secret_id,
        "secretsmanager:UntagResource",
        conds,
        audit,
        |s| {
            s.tags.retain(|(k, _)| !i.tag_keys.contains(k));
            Ok(())
        },
    )
}
