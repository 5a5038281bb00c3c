//! The awsJson1.1 request side: `X-Amz-Target` routing and typed bodies with the error
//! split AWS JSON services use (shape problems are `SerializationException`, missing
//! required members are `ValidationException`).

use crate::error::WireError;
use http::StatusCode;
use serde::de::DeserializeOwned;

/// The awsJson1.1 content type, for responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Splits `X-Amz-Target` (`TrentService.Encrypt`) into service prefix and operation.
pub fn parse_target(value: &str) -> Option<(&str, &str)> {
    let (prefix, op) = value.trim().rsplit_once('.')?;
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (ident(op) && !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_graphic()))
        .then_some((prefix, op))
}

/// For a target naming no operation this service has (or no target at all).
pub fn unknown_operation() -> WireError {
    WireError::sender(StatusCode::BAD_REQUEST, "UnknownOperationException", "")
}

/// A body that is not a JSON object, or a member of the wrong JSON type.
pub fn serialization_error(message: impl Into<String>) -> WireError {
    WireError::sender(StatusCode::BAD_REQUEST, "SerializationException", message)
}

/// A constraint violation, in AWS's "N validation error(s) detected" wording.
pub fn validation_error(message: impl Into<String>) -> WireError {
    WireError::sender(StatusCode::BAD_REQUEST, "ValidationException", message)
}

/// The message AWS uses for a required member that is absent.
pub fn null_member_message(member: &str) -> String {
    format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
         Member must not be null",
        lower_camel(member)
    )
}

/// AWS names members in validation messages in lowerCamelCase (`keyId` for `KeyId`): only
/// the first character changes (`AWSAccountId` is `aWSAccountId`).
pub(crate) fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The message for a request body that is JSON but not an object.
pub(crate) const NOT_AN_OBJECT: &str = "Start of structure or map found where not expected.";

/// Decodes an operation's input. An empty body means `{}` (clients send nothing for
/// operations without input); anything that is not a JSON object is rejected.
pub fn json_input<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    from_value(parse_body(body)?)
}

/// Parses a request body into a JSON object (empty means `{}`).
pub(crate) fn parse_body(body: &[u8]) -> Result<serde_json::Value, WireError> {
    let value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|_| serialization_error("Failed to parse the request body as JSON."))?
    };
    if !value.is_object() {
        return Err(serialization_error(NOT_AN_OBJECT));
    }
    Ok(value)
}

/// Deserialises a parsed body into the operation's input type.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, WireError> {
    T::deserialize(value).map_err(|e| map_serde_error(&e.to_string()))
}

/// serde reports a missing member as ``missing field `Name` ``; every other failure is a
/// shape mismatch.
fn map_serde_error(message: &str) -> WireError {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match missing {
        Some(name) => validation_error(null_member_message(name)),
        None => serialization_error(message),
    }
}

/// Serialises an output; failure is a bug (outputs are plain data), so it is a 500.
pub fn json_output<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    serde_json::to_vec(value).map_err(|_| WireError::internal(crate::Protocol::AwsJson11))
}

/// An awsJson timestamp: epoch seconds with the milliseconds as a fraction, as AWS writes
/// `CreationDate`, `CreatedDate` and the like.
pub fn epoch(t: time::OffsetDateTime) -> serde_json::Value {
    let secs = t.unix_timestamp_nanos() as f64 / 1e9;
    serde_json::json!((secs * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Input {
        key_id: String,
        #[serde(default)]
        grant_tokens: Vec<String>,
        number_of_bytes: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "PascalCase")]
    struct NoRequired {
        limit: Option<u32>,
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("TrentService.ListKeys"),
            Some(("TrentService", "ListKeys"))
        );
        assert_eq!(
            parse_target("secretsmanager.GetSecretValue"),
            Some(("secretsmanager", "GetSecretValue"))
        );
        assert_eq!(
            parse_target("AmazonSSM.GetParameter"),
            Some(("AmazonSSM", "GetParameter"))
        );
        for bad in [
            "",
            "ListKeys",
            ".ListKeys",
            "TrentService.",
            "Trent Service.X",
            "A.B-C",
        ] {
            assert_eq!(parse_target(bad), None, "{bad}");
        }
    }

    #[test]
    fn decodes_and_ignores_unknown_members() {
        let v: Input = json_input(br#"{"KeyId":"k","NumberOfBytes":32,"Extra":true}"#).unwrap();
        assert_eq!(
            v,
            Input {
                key_id: "k".into(),
                grant_tokens: vec![],
                number_of_bytes: Some(32)
            }
        );
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(
            json_input::<NoRequired>(b"").unwrap(),
            NoRequired::default()
        );
        assert_eq!(
            json_input::<NoRequired>(b" \n").unwrap(),
            NoRequired::default()
        );
    }

    #[test]
    fn missing_required_member_is_validation() {
        let e = json_input::<Input>(b"{}").unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: \
             Member must not be null"
        );
    }

    #[test]
    fn shape_problems_are_serialization() {
        for body in [
            &b"{"[..],
            b"[]",
            b"\"x\"",
            b"null",
            b"{\"KeyId\":5}",
            b"{\"KeyId\":\"k\",\"NumberOfBytes\":-1}",
            b"\xff",
        ] {
            let e = json_input::<Input>(body).unwrap_err();
            assert_eq!(
                e.code,
                "SerializationException",
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn unknown_operation_shape() {
        let e = unknown_operation();
        assert_eq!(
            (e.code.as_ref(), e.status),
            ("UnknownOperationException", StatusCode::BAD_REQUEST)
        );
    }

    proptest! {
        #[test]
        fn never_panics(body in prop::collection::vec(any::<u8>(), 0..256), s in "\\PC{0,64}") {
            let _ = json_input::<Input>(&body);
            let _ = json_input::<serde_json::Value>(&body);
            let _ = parse_target(&s);
            let _ = parse_target(&String::from_utf8_lossy(&body));
        }
    }
}
