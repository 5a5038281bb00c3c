//! KMS's side of the JSON wire: decoding a body into a validated value, typed inputs,
//! base64 blobs and epoch timestamps.

use super::KmsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use zeroize::Zeroizing;

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

pub use coffer_wire::json::epoch;
