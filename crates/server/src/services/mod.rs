//! The AWS services coffer speaks. Each module implements `api::Service` and owns its
//! typed operations and its error enum; `api::errors` maps those errors to the wire.

pub mod cloudtrail;
pub mod iam;
pub mod kms;
pub mod secretsmanager;
pub mod ssm;
pub mod sts;

use crate::api::Service;
use std::sync::Arc;

/// Every service the server routes to. Adding a service is adding a line here.
pub fn all() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(sts::Sts),
        Arc::new(iam::Iam),
        Arc::new(cloudtrail::CloudTrail),
        Arc::new(kms::Kms),
        Arc::new(secretsmanager::SecretsManager),
        Arc::new(ssm::Ssm),
    ]
}

/// Checks a string parameter's length and pattern, producing the standard AWS validation
/// message (`Value 'x' at 'roleSessionName' failed to satisfy constraint: ...`).
pub fn validate_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n < min {
        return Err(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
        ));
    }
    if n > max {
        return Err(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        ));
    }
    Ok(())
}

/// IAM's name pattern `[\w+=,.@-]+`.
pub fn validate_iam_name(field: &str, value: &str, max: usize) -> Result<(), String> {
    validate_len(field, value, 1, max)?;
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        ))
    }
}

/// Sets tag `key` to `value` in a resource's tags, keeping one value per key (KMS, Secrets
/// Manager and Parameter Store all tag this way: a key given again replaces its value).
pub fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: &str) {
    match tags.iter_mut().find(|(k, _)| k == key) {
        Some(existing) => value.clone_into(&mut existing.1),
        None => tags.push((key.to_owned(), value.to_owned())),
    }
}

/// RFC 3339 with whole seconds and `Z`, as AWS writes timestamps in XML.
pub fn iso8601(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_tag_keeps_one_value_per_key_in_first_seen_order() {
        let mut tags = vec![("a".to_owned(), "1".to_owned())];
        super::set_tag(&mut tags, "b", "2");
        super::set_tag(&mut tags, "a", "3");
        assert_eq!(
            tags,
            [
                ("a".to_owned(), "3".to_owned()),
                ("b".to_owned(), "2".to_owned())
            ]
        );
    }
}
