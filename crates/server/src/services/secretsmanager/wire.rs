//! Secrets Manager's side of the JSON wire: model validation, typed inputs, audit
//! parameters with secret values removed, timestamps.

use super::error::SmError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

/// The typed input of an operation; shapes were validated already.
pub fn typed<T: DeserializeOwned>(v: Value) -> Result<T, SmError> {
    Ok(coffer_wire::json::from_value(v)?)
}

/// Members that carry secret material and never reach an audit record.
const SECRET_MEMBERS: &[&str] = &["SecretString", "SecretBinary", "RotationToken"];

/// The request as CloudTrail records it: lowerCamel member names, secret members left out.
pub fn audit_parameters(input: &Value) -> Value {
    match input {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !SECRET_MEMBERS.contains(&k.as_str()))
                .map(|(k, v)| (lower_camel(k), audit_parameters(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(audit_parameters).collect()),
        other => other.clone(),
    }
}

fn lower_camel(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

pub use coffer_wire::json::epoch;

/// AWS reports LastAccessedDate at day granularity (midnight UTC).
pub fn epoch_day(t: OffsetDateTime) -> Value {
    let day = t.replace_time(time::Time::MIDNIGHT);
    epoch(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_parameters_drop_secrets() {
        let v = serde_json::json!({"SecretId": "a", "SecretString": "hunter2", "SecretBinary": "aGk=", "Tags": [{"Key": "k"}]});
        let a = audit_parameters(&v);
        assert_eq!(
            a,
            serde_json::json!({"secretId": "a", "tags": [{"key": "k"}]})
        );
        assert!(!a.to_string().contains("hunter2"));
    }
}
