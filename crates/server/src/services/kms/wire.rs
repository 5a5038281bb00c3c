//! KMS's side of the JSON wire: decoding a body into a validated value, typed inputs,
//! base64 blobs and epoch timestamps.

use super::KmsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use coffer_kms::ops::Operation;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Parses the body and validates it against the KMS model (lengths, patterns, ranges and
/// enums, every violation reported at once), before any work is done.
pub fn decode(op: Operation, body: &[u8]) -> Result<Value, KmsError> {
    let value: Value = coffer_wire::json::json_input(body)?;
    coffer_wire::model::kms().validate(op.as_str(), &value)?;
    Ok(value)
}

/// The typed input of an operation. Shapes were validated already, so a failure here is a
/// member of the wrong JSON type.
pub fn typed<T: DeserializeOwned>(v: Value) -> Result<T, KmsError> {
    Ok(coffer_wire::json::from_value(v)?)
}

/// A base64 blob member whose content is secret (plaintext): zeroized on drop.
#[derive(Default)]
pub struct SecretBlob(pub Zeroizing<Vec<u8>>);

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map(|b| SecretBlob(Zeroizing::new(b)))
            .map_err(|_| serde::de::Error::custom("Invalid base64 blob"))
    }
}

/// A base64 blob member that is not secret (ciphertext, signatures, public keys).
#[derive(Default, Clone)]
pub struct Blob(pub Vec<u8>);

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("Invalid base64 blob"))
    }
}

pub fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

/// awsJson timestamps are epoch seconds with a fractional part.
pub fn epoch(t: OffsetDateTime) -> Value {
    let secs = t.unix_timestamp_nanos() as f64 / 1e9;
    serde_json::json!((secs * 1000.0).round() / 1000.0)
}
