//! SecureString values: encrypted through KMS on the caller's behalf, as Parameter Store
//! does, with the parameter's ARN as encryption context (`PARAMETER_ARN`), so a ciphertext
//! cannot be replayed as another parameter's value and key policies can condition on it.
//!
//! Standard tier: the value is encrypted by KMS `Encrypt` (values are at most 4 KB, KMS's
//! Encrypt limit). Advanced tier: envelope encryption: a 256-bit data key from
//! `GenerateDataKey`, the value sealed under it with AES-256-GCM (the ARN as additional
//! data), the data key's ciphertext stored next to it. What GetParameter returns without
//! decryption is base64 of the stored ciphertext: opaque, as AWS's is.

use super::SsmError;
use super::store::StoredValue;
use crate::api::{AuditInfo, Call};
use crate::services::kms::OnBehalf;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use coffer_kms::context::EncryptionContext;
use zeroize::Zeroizing;

pub const STANDARD_TIER: &str = "Standard";
pub const ADVANCED_TIER: &str = "Advanced";
pub const INTELLIGENT_TIER: &str = "Intelligent-Tiering";
/// The AWS managed key Parameter Store uses when no KeyId is given.
pub const DEFAULT_KEY: &str = "alias/aws/ssm";
/// Largest value of a standard parameter (4 KB) and of an advanced one (8 KB).
pub const STANDARD_MAX: usize = 4096;
pub const ADVANCED_MAX: usize = 8192;

const ENVELOPE_AAD: &str = "coffer/ssm/param/v1";

fn context(arn: &str) -> EncryptionContext {
    EncryptionContext::from([("PARAMETER_ARN".to_owned(), arn.to_owned())])
}

fn on_behalf<'a>(call: &'a Call<'a>) -> OnBehalf<'a> {
    OnBehalf {
        call,
        service: "ssm",
    }
}

/// Encrypts a SecureString value for the parameter `arn` under `key_id` (the managed key
/// when `None`).
pub fn seal(
    call: &Call<'_>,
    arn: &str,
    key_id: Option<&str>,
    advanced: bool,
    value: &str,
    audit: &mut AuditInfo,
) -> Result<StoredValue, SsmError> {
    let kms = on_behalf(call);
    let ctx = context(arn);
    if !advanced {
        let (blob, _) = kms.encrypt(key_id, &ctx, value.as_bytes(), audit)?;
        return Ok(StoredValue::Kms {
            blob: STANDARD.encode(blob),
        });
    }
    let dk = kms.generate_data_key(key_id, &ctx, 32, audit)?;
    let key = coffer_crypto::SecretKey::from_slice(&dk.plaintext)
        .ok_or_else(|| SsmError::Internal("data key of the wrong length".into()))?;
    let sealed = coffer_crypto::seal(&key, &aad(arn), value.as_bytes());
    Ok(StoredValue::Envelope {
        data_key: STANDARD.encode(dk.ciphertext),
        sealed: STANDARD.encode(sealed),
    })
}

fn aad(arn: &str) -> Vec<u8> {
    format!("{ENVELOPE_AAD}/{arn}").into_bytes()
}

fn b64(s: &str) -> Result<Vec<u8>, SsmError> {
    STANDARD
        .decode(s)
        .map_err(|_| SsmError::Internal("corrupt stored ciphertext".into()))
}

/// The value as the caller sees it: plaintext (decrypting through KMS when `decrypt`), or
/// the opaque ciphertext of a SecureString read without decryption.
pub fn reveal(
    call: &Call<'_>,
    arn: &str,
    value: &StoredValue,
    decrypt: bool,
    audit: &mut AuditInfo,
) -> Result<Zeroizing<String>, SsmError> {
    match value {
        StoredValue::Plain { text } => Ok(Zeroizing::new(text.clone())),
        StoredValue::Kms { blob } if !decrypt => Ok(Zeroizing::new(blob.clone())),
        StoredValue::Envelope { data_key, sealed } if !decrypt => {
            Ok(Zeroizing::new(envelope_wire(data_key, sealed)?))
        }
        StoredValue::Kms { blob } => {
            let (pt, _) = on_behalf(call).decrypt(&b64(blob)?, &context(arn), None, audit)?;
            utf8(pt)
        }
        StoredValue::Envelope { data_key, sealed } => {
            let kms = on_behalf(call);
            let (dk, _) = kms.decrypt(&b64(data_key)?, &context(arn), None, audit)?;
            let key = coffer_crypto::SecretKey::from_slice(&dk)
                .ok_or_else(|| SsmError::Internal("data key of the wrong length".into()))?;
            let pt = coffer_crypto::open(&key, &aad(arn), &b64(sealed)?)
                .map_err(|_| SsmError::Internal("stored value failed authentication".into()))?;
            utf8(pt)
        }
    }
}

/// One opaque blob for an envelope: the data key's length (2 bytes), the data key's
/// ciphertext, then the sealed value.
fn envelope_wire(data_key: &str, sealed: &str) -> Result<String, SsmError> {
    let dk = b64(data_key)?;
    let len = u16::try_from(dk.len()).map_err(|_| SsmError::Internal("data key".into()))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&dk);
    out.extend_from_slice(&b64(sealed)?);
    Ok(STANDARD.encode(out))
}

fn utf8(pt: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, SsmError> {
    std::str::from_utf8(&pt)
        .map(|s| Zeroizing::new(s.to_owned()))
        .map_err(|_| SsmError::Internal("stored value is not UTF-8".into()))
}

/// The tier a value is stored in: `requested` (or the account's default tier), with
/// Intelligent-Tiering choosing Advanced only when the value's size or policies need it,
/// and an Advanced parameter never moving back to Standard.
pub fn choose_tier(
    requested: &str,
    existing: Option<&str>,
    value_len: usize,
    has_policies: bool,
) -> Result<&'static str, SsmError> {
    let was_advanced = existing == Some(ADVANCED_TIER);
    match requested {
        STANDARD_TIER if was_advanced => Err(SsmError::Validation(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.".into(),
        )),
        STANDARD_TIER => Ok(STANDARD_TIER),
        ADVANCED_TIER => Ok(ADVANCED_TIER),
        _ if was_advanced || value_len > STANDARD_MAX || has_policies => Ok(ADVANCED_TIER),
        _ => Ok(STANDARD_TIER),
    }
}

/// The tier's size limit (4 KB, 8 KB: bytes of UTF-8, which is also what bounds a
/// standard SecureString under KMS Encrypt's 4096-byte limit), with AWS's message.
pub fn check_size(tier: &str, value: &str) -> Result<(), SsmError> {
    let n = value.len();
    if tier == STANDARD_TIER && n > STANDARD_MAX {
        return Err(SsmError::Validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html".into(),
        ));
    }
    if n > ADVANCED_MAX {
        return Err(SsmError::Validation(
            "Advanced tier parameters support a maximum parameter value of 8192 characters.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert_eq!(
            choose_tier(STANDARD_TIER, None, 10, false).unwrap(),
            STANDARD_TIER
        );
        assert_eq!(
            choose_tier(INTELLIGENT_TIER, None, 10, false).unwrap(),
            STANDARD_TIER
        );
        assert_eq!(
            choose_tier(INTELLIGENT_TIER, None, 5000, false).unwrap(),
            ADVANCED_TIER
        );
        assert_eq!(
            choose_tier(INTELLIGENT_TIER, None, 10, true).unwrap(),
            ADVANCED_TIER
        );
        assert_eq!(
            choose_tier(INTELLIGENT_TIER, Some(ADVANCED_TIER), 10, false).unwrap(),
            ADVANCED_TIER
        );
        assert!(choose_tier(STANDARD_TIER, Some(ADVANCED_TIER), 10, false).is_err());
        assert!(check_size(STANDARD_TIER, &"x".repeat(4096)).is_ok());
        assert!(check_size(STANDARD_TIER, &"x".repeat(4097)).is_err());
        assert!(check_size(ADVANCED_TIER, &"x".repeat(8192)).is_ok());
        assert!(check_size(ADVANCED_TIER, &"x".repeat(8193)).is_err());
        // Two bytes each: 2049 of them pass 4 KB.
        assert!(check_size(STANDARD_TIER, &"é".repeat(2048)).is_ok());
        assert!(check_size(STANDARD_TIER, &"é".repeat(2049)).is_err());
    }
}
