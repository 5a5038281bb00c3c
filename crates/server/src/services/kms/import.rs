//! Imported key material: GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial, and expiry (driven by the scheduler).
//!
//! The wrapping key pair is generated per request and its private half is sealed in
//! `kms_import` with the hash of the import token; both expire after 24 hours, as in AWS.

use super::keys::{self, KeyIdInput};
use super::store::{self, ImportParams, KeyRecord, KeyVersion};
use super::wire::{Blob, b64, epoch};
use super::{KmsError, material};
use crate::api::{AuditInfo, Call, audit_object};
use crate::barrier::{Barrier, Purpose};
use coffer_crypto::{AsymSpec, WrappingAlgorithm};
use coffer_kms::ops::Operation;
use coffer_kms::spec::{KeyState, Origin};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const PARAMETERS_VALID_FOR: Duration = Duration::hours(24);

fn require_external(k: &KeyRecord) -> Result<(), KmsError> {
    if k.origin == Origin::External {
        Ok(())
    } else {
        Err(KmsError::UnsupportedOperation(format!(
            "{} origin is {} which is not valid for this operation.",
            k.arn(),
            k.origin.as_str()
        )))
    }
}

fn wrapping_spec(s: &str) -> Result<AsymSpec, KmsError> {
    match s {
        "RSA_2048" => Ok(AsymSpec::Rsa2048),
        "RSA_3072" => Ok(AsymSpec::Rsa3072),
        "RSA_4096" => Ok(AsymSpec::Rsa4096),
        other => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'wrappingKeySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096]"
        ))),
    }
}

fn wrapping_algorithm(s: &str) -> Result<WrappingAlgorithm, KmsError> {
    match s {
        "RSAES_OAEP_SHA_1" => Ok(WrappingAlgorithm::RsaesOaepSha1),
        "RSAES_OAEP_SHA_256" => Ok(WrappingAlgorithm::RsaesOaepSha256),
        "RSA_AES_KEY_WRAP_SHA_1" => Ok(WrappingAlgorithm::RsaAesKeyWrapSha1),
        "RSA_AES_KEY_WRAP_SHA_256" => Ok(WrappingAlgorithm::RsaAesKeyWrapSha256),
        other => Err(KmsError::Validation(format!(
            "The wrapping algorithm {other} is not supported."
        ))),
    }
}

fn import_aad(k: &KeyRecord) -> Vec<u8> {
    format!("coffer/kms/import/v1/{}", k.storage_key()).into_bytes()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParamsInput {
    key_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
}

pub fn get_parameters(
    call: &Call<'_>,
    i: ParamsInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": i.key_id, "wrappingAlgorithm": i.wrapping_algorithm, "wrappingKeySpec": i.wrapping_key_spec
    }));
    let spec = wrapping_spec(&i.wrapping_key_spec)?;
    wrapping_algorithm(&i.wrapping_algorithm)?;
    let r = keys::read_key(
        call,
        &i.key_id,
        false,
        Operation::GetParametersForImport,
        audit,
    )?;
    require_external(&r.key)?;
    let private = material::generate_private_key(spec)?;
    let public = coffer_crypto::public_key_spki(spec, &private)
        .map_err(|e| KmsError::Internal(e.to_string()))?;
    let token = coffer_crypto::random_bytes(64);
    let valid_to = call.ctx.time + PARAMETERS_VALID_FOR;
    let params = ImportParams {
        wrapping_spec: i.wrapping_key_spec.clone(),
        algorithm: i.wrapping_algorithm.clone(),
        sealed_private_key: call.state.barrier.seal(
            Purpose::KmsKeys,
            &import_aad(&r.key),
            &private,
        ),
        token_hash: coffer_crypto::sha256_hex(&token),
        valid_to,
    };
    coffer_storage::write(call.state.store.as_ref(), |t| {
        store::put(t, store::IMPORTS, &r.key.storage_key(), &params)
    })?;
    Ok(json!({
        "KeyId": r.key.arn(),
        "ImportToken": b64(&token),
        "PublicKey": b64(&public),
        "ParametersValidTo": epoch(valid_to),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportInput {
    key_id: String,
    import_token: Blob,
    encrypted_key_material: Blob,
    valid_to: Option<f64>,
    expiration_model: Option<String>,
}

fn valid_to(i: &ImportInput, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, KmsError> {
    let expires = match i.expiration_model.as_deref() {
        Some("KEY_MATERIAL_EXPIRES") => true,
        Some("KEY_MATERIAL_DOES_NOT_EXPIRE") => false,
        Some(other) => {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'expirationModel' failed to satisfy constraint: Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]"
            )));
        }
        None => i.valid_to.is_some(),
    };
    match (expires, i.valid_to) {
        (true, None) => Err(KmsError::Validation(
            "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into(),
        )),
        (false, Some(_)) => Err(KmsError::Validation(
            "A ValidTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
                .into(),
        )),
        (false, None) => Ok(None),
        (true, Some(secs)) => {
            #[allow(clippy::cast_possible_truncation)] // epoch seconds fit an i128 exactly
            let t = OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128)
                .map_err(|_| KmsError::Validation("ValidTo is not a valid date".into()))?;
            if t <= now {
                return Err(KmsError::Validation("ValidTo must be in the future".into()));
            }
            Ok(Some(t))
        }
    }
}

fn unwrap_material(
    barrier: &Barrier,
    k: &KeyRecord,
    p: &ImportParams,
    wrapped: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
    let spec = wrapping_spec(&p.wrapping_spec)?;
    let alg = wrapping_algorithm(&p.algorithm)?;
    let private = barrier
        .open(Purpose::KmsKeys, &import_aad(k), &p.sealed_private_key)
        .map_err(|_| KmsError::Internal("sealed wrapping key did not open".into()))?;
    coffer_crypto::unwrap_imported_material(spec, &private, alg, wrapped)
        .map_err(|e| KmsError::InvalidCiphertext(format!("import unwrap: {e}")))
}

pub fn import(call: &Call<'_>, i: ImportInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        (
            "expirationModel",
            i.expiration_model.as_ref().map(|m| json!(m)),
        ),
        ("validTo", i.valid_to.map(|v| json!(v))),
    ]));
    let now = call.ctx.time;
    let valid_to = valid_to(&i, now)?;
    let barrier = call.state.barrier.clone();
    let (key, ()) = keys::update_key(
        call,
        &i.key_id,
        Operation::ImportKeyMaterial,
        audit,
        |t, k| {
            require_external(k)?;
            let p: ImportParams = store::get(t, store::IMPORTS, &k.storage_key())?
                .ok_or_else(|| KmsError::InvalidImportToken("Invalid import token".into()))?;
            if !coffer_crypto::constant_time_eq(
                p.token_hash.as_bytes(),
                coffer_crypto::sha256_hex(&i.import_token.0).as_bytes(),
            ) {
                return Err(KmsError::InvalidImportToken("Invalid import token".into()));
            }
            if p.valid_to <= now {
                return Err(KmsError::ExpiredImportToken(
                    "The import token has expired.".into(),
                ));
            }
            let m = unwrap_material(&barrier, k, &p, &i.encrypted_key_material.0)?;
            if !material::validate_import(k.spec, &m) {
                return Err(KmsError::IncorrectKeyMaterial(
                    "The key material is not valid for the key spec of this KMS key.".into(),
                ));
            }
            install(&barrier, k, &m, now)?;
            k.valid_to = valid_to;
            if k.state == KeyState::PendingImport {
                k.state = KeyState::Enabled;
            }
            t.delete(store::IMPORTS, k.storage_key().as_bytes())?;
            Ok(())
        },
    )?;
    Ok(json!({ "KeyId": key.arn() }))
}

/// Seals newly imported material as version 1, or checks a re-import is the same material.
fn install(
    barrier: &Barrier,
    k: &mut KeyRecord,
    m: &[u8],
    now: OffsetDateTime,
) -> Result<(), KmsError> {
    match k.versions.first().map(|v| v.version) {
        None => {
            k.versions.push(KeyVersion {
                version: 1,
                material_id: material::material_id(k.account, &k.key_id, 1),
                created: now,
                rotation_type: None,
                sealed: Some(material::seal(barrier, k.account, &k.key_id, 1, m)),
                fingerprint: Some(fingerprint(barrier, m)),
            });
            Ok(())
        }
        Some(first) => {
            let now_fp = fingerprint(barrier, m);
            let previous = k
                .versions
                .iter()
                .find(|v| v.version == first)
                .and_then(|v| v.fingerprint.clone());
            if previous
                .is_some_and(|p| !coffer_crypto::constant_time_eq(p.as_bytes(), now_fp.as_bytes()))
            {
                return Err(KmsError::IncorrectKeyMaterial(
                    "The key material in the request is not the same key material that was previously imported into this KMS key.".into(),
                ));
            }
            for v in &mut k.versions {
                if v.version == first {
                    v.sealed = Some(material::seal(barrier, k.account, &k.key_id, first, m));
                }
            }
            Ok(())
        }
    }
}

/// A keyed digest of imported material (HMAC under the barrier's KMS key), so that
/// storage holds nothing that could confirm a guess of the material offline.
fn fingerprint(barrier: &Barrier, m: &[u8]) -> String {
    hex::encode(coffer_crypto::hmac_sha256(
        barrier.derive(Purpose::KmsKeys).expose(),
        m,
    ))
}

/// Removes the material of an EXTERNAL key: it becomes `PendingImport` (unless it is
/// already pending deletion). The version records stay so re-imported material can be
/// checked against them.
pub fn remove_material(k: &mut KeyRecord) {
    for v in &mut k.versions {
        v.sealed = None;
    }
    k.valid_to = None;
    if k.state != KeyState::PendingDeletion {
        k.state = KeyState::PendingImport;
    }
}

pub fn delete(call: &Call<'_>, i: KeyIdInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    let (key, ()) = keys::update_key(
        call,
        &i.key_id,
        Operation::DeleteImportedKeyMaterial,
        audit,
        |t, k| {
            require_external(k)?;
            remove_material(k);
            t.delete(store::IMPORTS, k.storage_key().as_bytes())?;
            Ok(())
        },
    )?;
    let mut out = json!({ "KeyId": key.arn() });
    if let Some(v) = key.current() {
        out["KeyMaterialId"] = json!(v.material_id);
    }
    Ok(out)
}
