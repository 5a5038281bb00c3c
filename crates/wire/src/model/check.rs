//! The decoding pass: a member whose JSON type does not fit its shape stops the request
//! with a `SerializationException`, before any constraint is looked at. The messages are
//! those of AWS's JSON decoder (captured from live services by the authors of the
//! dynalite and kinesalite emulators), including its grammar ("an String") and typo
//! ("dectected").

use super::{Kind, ServiceModel, ShapeId};
use serde_json::Value;

const LIST_HERE: &str = "Start of list found where not expected";
const OBJECT_HERE: &str = "Start of structure or map found where not expected.";
const NUMBER: &str = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
const BOOLEAN: &str = "class java.lang.Boolean";
const STRING: &str = "class java.lang.String";

/// The first type mismatch in `value`, as the message AWS sends.
pub(super) fn types(model: &ServiceModel, shape: ShapeId, value: &Value) -> Result<(), String> {
    let target = model.shape(shape);
    match (&target.kind, value) {
        // JSON null is an absent member.
        (_, Value::Null) => Ok(()),
        (Kind::Structure(members), Value::Object(fields)) => {
            for (name, field) in fields {
                if let Some(member) = members.iter().find(|m| &m.name == name) {
                    types(model, member.shape, field)?;
                }
            }
            Ok(())
        }
        (Kind::List { member, .. }, Value::Array(items)) => items
            .iter()
            .try_for_each(|item| types(model, *member, item)),
        (Kind::Map { value: target, .. }, Value::Object(entries)) => {
            entries.values().try_for_each(|v| types(model, *target, v))
        }
        (Kind::List { .. }, Value::Object(_)) => Err(OBJECT_HERE.to_owned()),
        (Kind::List { .. }, _) => Err("Expected list or null".to_owned()),
        (Kind::Map { .. } | Kind::Structure(_), Value::Array(_)) => Err(LIST_HERE.to_owned()),
        (Kind::Map { .. }, _) => Err("Expected map or null".to_owned()),
        (Kind::Structure(_), _) => Err("Expected null".to_owned()),
        (_, Value::Array(_)) => Err(LIST_HERE.to_owned()),
        (_, Value::Object(_)) => Err(OBJECT_HERE.to_owned()),
        (kind, scalar) => scalar_type(kind, scalar, target.sensitive),
    }
}

/// A JSON string, number or boolean against a scalar shape.
fn scalar_type(kind: &Kind, value: &Value, sensitive: bool) -> Result<(), String> {
    let convert = |from: &str, to: &str| Err(format!("{from} can not be converted to {to}"));
    match (kind, value) {
        (Kind::String { .. }, Value::Bool(_)) => convert(BOOLEAN, "an String"),
        (Kind::String { .. }, Value::Number(_)) => convert(NUMBER, "an String"),
        (Kind::Boolean, Value::Number(_)) => convert(NUMBER, "an Boolean"),
        // The decoder upper-cases the text it quotes.
        (Kind::Boolean, Value::String(s)) => {
            convert(&format!("'{}'", s.to_uppercase()), "an Boolean")
        }
        (Kind::Integer(_), Value::Bool(_)) => convert(BOOLEAN, "an Integer"),
        (Kind::Integer(_), Value::String(_)) => convert(STRING, "an Integer"),
        (Kind::Long(_), Value::Bool(_)) => convert(BOOLEAN, "an Long"),
        (Kind::Long(_), Value::String(_)) => convert(STRING, "an Long"),
        (Kind::Blob(_), Value::Bool(_)) => convert(BOOLEAN, "a Blob"),
        (Kind::Blob(_), Value::Number(_)) => convert(NUMBER, "a Blob"),
        (Kind::Blob(_), Value::String(s)) => base64_problem(s).map_or(Ok(()), |problem| {
            // A sensitive blob (a plaintext) is never echoed back.
            Err(if sensitive {
                format!("Value can not be converted to a Blob: {problem}")
            } else {
                format!("'{s}' can not be converted to a Blob: {problem}")
            })
        }),
        (Kind::Timestamp, Value::Bool(_)) => convert(BOOLEAN, "milliseconds since epoch"),
        (Kind::Timestamp, Value::String(_)) => convert(STRING, "milliseconds since epoch"),
        _ => Ok(()),
    }
}

/// Why `text` is not canonical padded base64, in the decoder's words, checked in its
/// order: length, alphabet (a `=` before a non-`=` counts as a bad character), then the
/// unused low bits of the last symbol.
fn base64_problem(text: &str) -> Option<String> {
    let length = text.encode_utf16().count();
    if !length.is_multiple_of(4) {
        return Some(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {length}"
        ));
    }
    if let Some(bad) = first_bad_character(text) {
        return Some(format!("Invalid Base64 character: '{bad}'"));
    }
    (!canonical_tail(text)).then(|| "Invalid last non-pad Base64 character dectected".to_owned())
}

fn first_bad_character(text: &str) -> Option<char> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let in_alphabet = c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
        let pad_then_data = c == '=' && chars.peek().is_some_and(|&next| next != '=');
        if !in_alphabet || pad_then_data {
            return Some(c);
        }
    }
    None
}

/// At most two `=` of padding, and the bits the padding leaves unused are zero.
fn canonical_tail(text: &str) -> bool {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
    let last = text.bytes().rev().nth(padding).map(sextet);
    match (padding, last) {
        (0, _) => true,
        (1, Some(Some(v))) => v & 0b11 == 0,
        (2, Some(Some(v))) => v & 0b1111 == 0,
        _ => false,
    }
}

/// The 6-bit value of one base64 symbol.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The number of bytes canonical padded base64 `text` decodes to.
pub(super) fn decoded_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    (text.len() / 4 * 3).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rules_in_order() {
        assert_eq!(base64_problem(""), None);
        assert_eq!(base64_problem("AAECAw=="), None);
        assert_eq!(base64_problem("AAECAwQ="), None);
        assert_eq!(
            base64_problem("23456").as_deref(),
            Some("Base64 encoded length is expected a multiple of 4 bytes but found: 5")
        );
        assert_eq!(
            base64_problem("=+/=").as_deref(),
            Some("Invalid Base64 character: '='")
        );
        assert_eq!(
            base64_problem("ab-d").as_deref(),
            Some("Invalid Base64 character: '-'")
        );
        assert_eq!(
            base64_problem("+/+=").as_deref(),
            Some("Invalid last non-pad Base64 character dectected")
        );
        assert_eq!(
            base64_problem("AB==").as_deref(),
            Some("Invalid last non-pad Base64 character dectected")
        );
        assert_eq!(
            base64_problem("A===").as_deref(),
            Some("Invalid last non-pad Base64 character dectected")
        );
    }

    #[test]
    fn decoded_lengths() {
        assert_eq!(decoded_len(""), 0);
        assert_eq!(decoded_len("AA=="), 1);
        assert_eq!(decoded_len("AAA="), 2);
        assert_eq!(decoded_len("AAAA"), 3);
        assert_eq!(decoded_len("AAECAwQFBgc="), 8);
    }
}
