//! Secret values and their encryption.
//!
//! Every version is sealed with AES-256-GCM under a fresh 256-bit data key that KMS
//! generates on the caller's behalf (`kms:ViaService` = secretsmanager), with the
//! encryption context AWS uses: `SecretARN` and `SecretVersionId`. The data key's KMS
//! ciphertext is stored next to the sealed value; reading decrypts it through KMS again,
//! so key policies, grants and key state apply to every read.

use super::error::SmError;
use super::store::SealedValue;
use crate::api::{AuditInfo, Call};
use crate::services::kms::OnBehalf;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use coffer_kms::context::EncryptionContext;
use coffer_types::RequestContext;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use zeroize::Zeroizing;

/// The largest secret value AWS accepts, in bytes.
pub const MAX_VALUE_BYTES: usize = 65_536;

/// A secret value in memory; zeroized on drop.
#[derive(Clone)]
pub enum SecretValue {
    String(Zeroizing<String>),
    Binary(Zeroizing<Vec<u8>>),
}

impl SecretValue {
    fn kind(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Binary(_) => "binary",
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::String(s) => s.as_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// Constant-time equality (idempotent retries compare a new value with a stored one).
    pub fn same_as(&self, other: &SecretValue) -> bool {
        self.kind() == other.kind() && coffer_crypto::constant_time_eq(self.bytes(), other.bytes())
    }

    /// The reply members carrying the value.
    pub fn reply_members(&self, out: &mut serde_json::Map<String, Value>) {
        match self {
            Self::String(s) => {
                out.insert("SecretString".into(), Value::String(s.to_string()));
            }
            Self::Binary(b) => {
                out.insert("SecretBinary".into(), Value::String(STANDARD.encode(b)));
            }
        }
    }
}

/// `SecretString` as decoded from a request; zeroized on drop.
pub struct SecretText(pub Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SecretText(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// `SecretBinary` (base64 on the wire); zeroized on drop.
pub struct SecretBytes(pub Zeroizing<Vec<u8>>);

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map(|b| SecretBytes(Zeroizing::new(b)))
            .map_err(|_| serde::de::Error::custom("Invalid base64 blob"))
    }
}

/// The value a request carries: at most one of `SecretString` and `SecretBinary`.
pub fn from_input(
    s: Option<SecretText>,
    b: Option<SecretBytes>,
) -> Result<Option<SecretValue>, SmError> {
    let v = match (s, b) {
        (Some(_), Some(_)) => {
            return Err(SmError::InvalidParameter(
                "You can't specify both a binary secret value and a string secret value in the same secret."
                    .into(),
            ));
        }
        (Some(s), None) => Some(SecretValue::String(s.0)),
        (None, Some(b)) => Some(SecretValue::Binary(b.0)),
        (None, None) => None,
    };
    if let Some(v) = &v
        && v.bytes().len() > MAX_VALUE_BYTES
    {
        return Err(SmError::InvalidParameter(format!(
            "The secret value exceeds the maximum size of {MAX_VALUE_BYTES} bytes."
        )));
    }
    Ok(v)
}

fn context(arn: &str, version_id: &str) -> EncryptionContext {
    EncryptionContext::from([
        ("SecretARN".to_owned(), arn.to_owned()),
        ("SecretVersionId".to_owned(), version_id.to_owned()),
    ])
}

fn aad(arn: &str, version_id: &str, kind: &str) -> Vec<u8> {
    // One allocation of the right size; `format!` regrew it on every read.
    [
        "coffer/secretsmanager/v1\0",
        arn,
        "\0",
        version_id,
        "\0",
        kind,
    ]
    .concat()
    .into_bytes()
}

/// The request context of `call` moved to another region: Secrets Manager in that region
/// uses that region's KMS (replicas).
pub fn region_ctx(call: &Call<'_>, region: &str) -> Result<RequestContext, SmError> {
    let mut ctx = call.ctx.clone();
    ctx.region = region
        .parse()
        .map_err(|_| SmError::InvalidParameter(format!("Invalid Region: {region}")))?;
    Ok(ctx)
}

/// Encrypts a version's value under `key_id` (the managed key when `None`); returns the
/// sealed value and the ARN of the KMS key used.
pub fn seal(
    call: &Call<'_>,
    key_id: Option<&str>,
    arn: &str,
    version_id: &str,
    value: &SecretValue,
    audit: &mut AuditInfo,
) -> Result<(SealedValue, String), SmError> {
    let ob = OnBehalf {
        call,
        service: "secretsmanager",
    };
    let dk = ob
        .generate_data_key(key_id, &context(arn, version_id), 32, audit)
        .map_err(SmError::from_kms_write)?;
    let key = coffer_crypto::SecretKey::from_slice(&dk.plaintext)
        .ok_or_else(|| SmError::Internal("data key of the wrong length".into()))?;
    let sealed = coffer_crypto::seal(&key, &aad(arn, version_id, value.kind()), value.bytes());
    Ok((
        SealedValue {
            kind: value.kind().to_owned(),
            data_key: dk.ciphertext,
            sealed,
        },
        dk.key_arn,
    ))
}

/// Decrypts a stored version through KMS.
pub fn open(
    call: &Call<'_>,
    arn: &str,
    version_id: &str,
    sv: &SealedValue,
    audit: &mut AuditInfo,
) -> Result<SecretValue, SmError> {
    let ob = OnBehalf {
        call,
        service: "secretsmanager",
    };
    let (dk, _) = ob
        .decrypt(&sv.data_key, &context(arn, version_id), None, audit)
        .map_err(SmError::from_kms_read)?;
    let key = coffer_crypto::SecretKey::from_slice(&dk)
        .ok_or_else(|| SmError::Internal("data key of the wrong length".into()))?;
    let mut plain = coffer_crypto::open(&key, &aad(arn, version_id, &sv.kind), &sv.sealed)
        .map_err(|_| SmError::Internal(format!("sealed value of {arn} does not open")))?;
    match sv.kind.as_str() {
        "string" => {
            let s = String::from_utf8(std::mem::take(&mut *plain))
                .map_err(|_| SmError::Internal("stored string is not UTF-8".into()))?;
            Ok(SecretValue::String(Zeroizing::new(s)))
        }
        _ => Ok(SecretValue::Binary(plain)),
    }
}

#[cfg(test)]
mod tests {
    /// The AAD binds a stored value to its secret, version and kind: its form may never
    /// change.
    #[test]
    fn value_aad_keeps_its_form() {
        assert_eq!(
            super::aad("arn:aws:secretsmanager:us-east-1:000011112222:secret:s-AbCdEf", "v1", "string"),
            b"coffer/secretsmanager/v1\0arn:aws:secretsmanager:us-east-1:000011112222:secret:s-AbCdEf\0v1\0string".to_vec()
        );
    }
}
