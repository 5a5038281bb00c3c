//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(+WithoutPlaintext),
//! GenerateDataKeyPair(+WithoutPlaintext), GenerateRandom, Sign, Verify, GenerateMac,
//! VerifyMac, GetPublicKey, DeriveSharedSecret.
//!
//! None of these write to storage: a key is read, authorized and state-checked in one read
//! transaction, then the cryptography runs outside it. Secret inputs and outputs never
//! reach the audit record.

use super::access::{self, Request, Resolved};
use super::keys::audit_key;
use super::store::KeyRecord;
use super::wire::{Blob, SecretBlob, b64};
use super::{KmsError, material, metadata};
use crate::api::{AuditInfo, Call, audit_object};
use crate::authz::{self, Ask};
use coffer_crypto::{MessageType as CMessageType, OaepHash};
use coffer_kms::blob::{self, BlobHeader, BlobRandom};
use coffer_kms::context::EncryptionContext;
use coffer_kms::messages::{self, ErrorCode};
use coffer_kms::ops::Operation;
use coffer_kms::spec::{
    self, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm,
    MessageType, SigningAlgorithm,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Reads, authorizes and state-checks the key named by `key_id` for `op`.
pub(super) fn use_key(
    call: &Call<'_>,
    key_id: &str,
    op: Operation,
    req: &Request<'_>,
    audit: &mut AuditInfo,
) -> Result<Resolved, KmsError> {
    let r = coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let r = access::resolve_for_use(call, t, key_id, true)?;
        access::authorize(call, t, &r, op, req)?;
        Ok::<_, KmsError>(r)
    })?;
    audit_key(audit, &r.key);
    access::check_state(&r.key, op)?;
    Ok(r)
}

fn wrong_usage(key: &KeyRecord, op: Operation) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {}.",
        key.arn(),
        key.usage.as_str(),
        op.as_str()
    ))
}

pub(super) fn require_usage(
    key: &KeyRecord,
    usage: KeyUsage,
    op: Operation,
) -> Result<(), KmsError> {
    if key.usage == usage {
        Ok(())
    } else {
        Err(wrong_usage(key, op))
    }
}

/// Data keys and ciphertext blobs come only from symmetric encryption keys.
fn require_symmetric(key: &KeyRecord, op: Operation) -> Result<(), KmsError> {
    require_usage(key, KeyUsage::EncryptDecrypt, op)?;
    if key.spec == KeySpec::SymmetricDefault {
        Ok(())
    } else {
        Err(KmsError::InvalidKeyUsage(format!(
            "{} is not a symmetric encryption key; {} requires one.",
            key.arn(),
            op.as_str()
        )))
    }
}

fn algorithm_for(
    key: &KeyRecord,
    requested: Option<EncryptionAlgorithm>,
) -> Result<EncryptionAlgorithm, KmsError> {
    let alg = requested.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if spec::encryption_algorithm_valid(key.spec, alg) {
        Ok(alg)
    } else {
        Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {} is not supported for key {}.",
            alg.as_str(),
            key.arn()
        )))
    }
}

fn oaep_hash(alg: EncryptionAlgorithm) -> Option<OaepHash> {
    match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => Some(OaepHash::Sha1),
        EncryptionAlgorithm::RsaesOaepSha256 => Some(OaepHash::Sha256),
        _ => None,
    }
}

fn context_conditions(alg: Option<EncryptionAlgorithm>) -> Vec<(String, Vec<String>)> {
    alg.map(|a| {
        vec![(
            "kms:EncryptionAlgorithm".to_owned(),
            vec![a.as_str().to_owned()],
        )]
    })
    .unwrap_or_default()
}

fn no_context_for_asymmetric(key: &KeyRecord, ctx: &EncryptionContext) -> Result<(), KmsError> {
    if key.spec != KeySpec::SymmetricDefault && !ctx.is_empty() {
        return Err(KmsError::Validation(
            "EncryptionContext is not supported with asymmetric KMS keys.".into(),
        ));
    }
    Ok(())
}

fn dry_run(flag: Option<bool>) -> Result<(), KmsError> {
    if flag == Some(true) {
        Err(KmsError::DryRun)
    } else {
        Ok(())
    }
}

/// Encrypts under the key's current material version (symmetric) or public key (RSA).
pub(super) fn encrypt_with(
    call: &Call<'_>,
    key: &KeyRecord,
    alg: EncryptionAlgorithm,
    ctx: &EncryptionContext,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Option<String>), KmsError> {
    let (version, material) = material::open_current(&call.state.barrier, key)?;
    match oaep_hash(alg) {
        None => {
            let header = BlobHeader {
                account: key.account.to_string(),
                key_id: key.key_id.clone(),
                version: version.version,
            };
            let blob = blob::encrypt(&header, &material, ctx, plaintext, BlobRandom::fresh())
                .map_err(|e| KmsError::Internal(e.to_string()))?;
            Ok((blob, Some(version.material_id.clone())))
        }
        Some(hash) => {
            let asym = material::asym_spec(key.spec)
                .ok_or_else(|| KmsError::Internal("RSA algorithm on a non-RSA key".into()))?;
            let max = coffer_crypto::rsa_oaep_max_plaintext(asym, hash);
            if plaintext.len() > max {
                return Err(messages::rsa_plaintext_too_large(alg, key.spec, max).into());
            }
            let spki = coffer_crypto::public_key_spki(asym, &material)
                .map_err(|e| KmsError::Internal(e.to_string()))?;
            let ct = coffer_crypto::rsa_oaep_encrypt(&spki, hash, plaintext)
                .map_err(|e| KmsError::Internal(e.to_string()))?;
            Ok((ct, None))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptInput {
    key_id: String,
    plaintext: SecretBlob,
    #[serde(default)]
    encryption_context: EncryptionContext,
    #[serde(default)]
    grant_tokens: Vec<String>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    dry_run: Option<bool>,
}

fn audit_ctx(ctx: &EncryptionContext) -> Option<Value> {
    (!ctx.is_empty()).then(|| json!(ctx))
}

/// The request parameters Encrypt and Decrypt record (CloudTrail names the algorithm even
/// when the caller left it to the default).
fn cipher_audit(
    key_id: Option<&str>,
    alg: Option<EncryptionAlgorithm>,
    ctx: &EncryptionContext,
    dry: Option<bool>,
) -> Value {
    let alg = alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    audit_object([
        ("keyId", key_id.map(|k| json!(k))),
        ("encryptionAlgorithm", Some(json!(alg.as_str()))),
        ("encryptionContext", audit_ctx(ctx)),
        ("dryRun", dry.map(|d| json!(d))),
    ])
}

pub fn encrypt(call: &Call<'_>, i: EncryptInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(cipher_audit(
        Some(&i.key_id),
        i.encryption_algorithm,
        &i.encryption_context,
        i.dry_run,
    ));
    access::check_grant_tokens(&i.grant_tokens)?;
    let req = Request {
        context: Some(&i.encryption_context),
        conditions: context_conditions(Some(
            i.encryption_algorithm
                .unwrap_or(EncryptionAlgorithm::SymmetricDefault),
        )),
    };
    let r = use_key(call, &i.key_id, Operation::Encrypt, &req, audit)?;
    let key = &r.key;
    require_usage(key, KeyUsage::EncryptDecrypt, Operation::Encrypt)?;
    let alg = algorithm_for(key, i.encryption_algorithm)?;
    no_context_for_asymmetric(key, &i.encryption_context)?;
    dry_run(i.dry_run)?;
    let (ct, _) = encrypt_with(call, key, alg, &i.encryption_context, &i.plaintext.0)?;
    Ok(json!({
        "CiphertextBlob": b64(&ct),
        "KeyId": key.arn(),
        "EncryptionAlgorithm": alg.as_str(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptInput {
    ciphertext_blob: Blob,
    #[serde(default)]
    encryption_context: EncryptionContext,
    #[serde(default)]
    grant_tokens: Vec<String>,
    key_id: Option<String>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    dry_run: Option<bool>,
}

/// The result of opening a ciphertext: the key, the algorithm and the plaintext.
pub(super) struct Opened {
    pub key: Arc<KeyRecord>,
    pub alg: EncryptionAlgorithm,
    pub plaintext: Zeroizing<Vec<u8>>,
    pub material_id: Option<String>,
}

/// Finds the key a ciphertext belongs to, authorizes `action` on it, and decrypts.
/// Shared by Decrypt and the source half of ReEncrypt.
#[allow(clippy::too_many_arguments)]
pub(super) fn open_ciphertext(
    call: &Call<'_>,
    ciphertext: &[u8],
    ctx: &EncryptionContext,
    key_id: Option<&str>,
    requested: Option<EncryptionAlgorithm>,
    op: Operation,
    action: &str,
    grant_op: &str,
    dry: Option<bool>,
    audit: &mut AuditInfo,
) -> Result<Opened, KmsError> {
    let alg = requested.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    let req = Request {
        context: Some(ctx),
        conditions: context_conditions(Some(alg)),
    };
    let symmetric = alg == EncryptionAlgorithm::SymmetricDefault;
    let parsed = if symmetric {
        Some(blob::parse(ciphertext).map_err(|e| KmsError::InvalidCiphertext(e.to_string()))?)
    } else {
        None
    };
    let r = coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let r = match (&parsed, key_id) {
            (Some(p), given) => {
                let blob_arn = super::store::key_arn(
                    call.ctx.region.as_str(),
                    p.header
                        .account
                        .parse()
                        .map_err(|_| KmsError::InvalidCiphertext("account".into()))?,
                    &p.header.key_id,
                );
                if let Some(given) = given {
                    let named = access::resolve_for_use(call, t, given, true)?;
                    if named.key.key_id != p.header.key_id
                        || named.key.account.to_string() != p.header.account
                    {
                        return Err(KmsError::IncorrectKey(
                            "The key ID in the request does not identify a CMK that can perform this operation.".into(),
                        ));
                    }
                    named
                } else {
                    // The blob's key reference is internal: a key that does not exist here
                    // (deleted, or never ours) makes the blob invalid, and the wire says no
                    // more than that. The audit record keeps the detail.
                    access::resolve_for_use(call, t, &blob_arn, false).map_err(|e| match e {
                        KmsError::Aws(a) if a.code == ErrorCode::NotFoundException => {
                            KmsError::InvalidCiphertext(format!("{blob_arn}: {}", a.message))
                        }
                        other => other,
                    })?
                }
            }
            (None, Some(given)) => access::resolve_for_use(call, t, given, true)?,
            (None, None) => {
                return Err(KmsError::Validation(
                    "KeyId is required when decrypting with an asymmetric encryption algorithm."
                        .into(),
                ));
            }
        };
        access::authorize_as(call, t, &r, action, grant_op, &req)?;
        Ok::<_, KmsError>(r)
    })?;
    audit_key(audit, &r.key);
    let key = r.key;
    access::check_state(&key, op)?;
    require_usage(&key, KeyUsage::EncryptDecrypt, op)?;
    let alg = algorithm_for(&key, requested)?;
    no_context_for_asymmetric(&key, ctx)?;
    dry_run(dry)?;
    let (plaintext, material_id) = match (parsed, oaep_hash(alg)) {
        (Some(p), _) => {
            let version = key.version(p.header.version).ok_or_else(|| {
                KmsError::InvalidCiphertext(format!("unknown key version {}", p.header.version))
            })?;
            let m = material::open(&call.state.barrier, &key, p.header.version)?;
            let pt = blob::decrypt(&p, &m, ctx)
                .map_err(|e| KmsError::InvalidCiphertext(e.to_string()))?;
            (pt, Some(version.material_id.clone()))
        }
        (None, Some(hash)) => {
            let asym = material::asym_spec(key.spec)
                .ok_or_else(|| KmsError::Internal("RSA algorithm on a non-RSA key".into()))?;
            let (_, m) = material::open_current(&call.state.barrier, &key)?;
            let pt = coffer_crypto::rsa_oaep_decrypt(asym, &m, hash, ciphertext)
                .map_err(|e| KmsError::InvalidCiphertext(format!("RSA-OAEP: {e}")))?;
            (pt, None)
        }
        (None, None) => return Err(KmsError::Internal("unreachable algorithm".into())),
    };
    Ok(Opened {
        key,
        alg,
        plaintext,
        material_id,
    })
}

pub fn decrypt(call: &Call<'_>, i: DecryptInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    audit.request_parameters = Some(cipher_audit(
        i.key_id.as_deref(),
        i.encryption_algorithm,
        &i.encryption_context,
        i.dry_run,
    ));
    access::check_grant_tokens(&i.grant_tokens)?;
    let o = open_ciphertext(
        call,
        &i.ciphertext_blob.0,
        &i.encryption_context,
        i.key_id.as_deref(),
        i.encryption_algorithm,
        Operation::Decrypt,
        Operation::Decrypt.action(),
        "Decrypt",
        i.dry_run,
        audit,
    )?;
    let mut out = json!({
        "KeyId": o.key.arn(),
        "Plaintext": b64(&o.plaintext),
        "EncryptionAlgorithm": o.alg.as_str(),
    });
    if let Some(m) = o.material_id {
        out["KeyMaterialId"] = json!(m);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptInput {
    ciphertext_blob: Blob,
    #[serde(default)]
    source_encryption_context: EncryptionContext,
    source_key_id: Option<String>,
    destination_key_id: String,
    #[serde(default)]
    destination_encryption_context: EncryptionContext,
    source_encryption_algorithm: Option<EncryptionAlgorithm>,
    destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub fn re_encrypt(
    call: &Call<'_>,
    i: ReEncryptInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("sourceKeyId", i.source_key_id.as_ref().map(|k| json!(k))),
        ("destinationKeyId", Some(json!(i.destination_key_id))),
        (
            "sourceEncryptionContext",
            audit_ctx(&i.source_encryption_context),
        ),
        (
            "destinationEncryptionContext",
            audit_ctx(&i.destination_encryption_context),
        ),
    ]));
    access::check_grant_tokens(&i.grant_tokens)?;
    let src = open_ciphertext(
        call,
        &i.ciphertext_blob.0,
        &i.source_encryption_context,
        i.source_key_id.as_deref(),
        i.source_encryption_algorithm,
        Operation::ReEncrypt,
        "kms:ReEncryptFrom",
        "ReEncryptFrom",
        None,
        audit,
    )?;
    let src_resources = std::mem::take(&mut audit.resources);
    let dest_alg = i.destination_encryption_algorithm;
    let req = Request {
        context: Some(&i.destination_encryption_context),
        conditions: {
            let mut c = context_conditions(Some(
                dest_alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault),
            ));
            c.push(("kms:ReEncryptOnSameKey".to_owned(), vec![String::new()]));
            c
        },
    };
    let dest = coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let r = access::resolve_for_use(call, t, &i.destination_key_id, true)?;
        let mut req2 = Request {
            context: req.context,
            conditions: req.conditions.clone(),
        };
        if let Some(last) = req2.conditions.last_mut() {
            last.1 = vec![
                (r.key.key_id == src.key.key_id && r.key.account == src.key.account).to_string(),
            ];
        }
        access::authorize_as(call, t, &r, "kms:ReEncryptTo", "ReEncryptTo", &req2)?;
        Ok::<_, KmsError>(r)
    })?;
    audit_key(audit, &dest.key);
    audit.resources.splice(0..0, src_resources);
    let key = &dest.key;
    access::check_state(key, Operation::ReEncrypt)?;
    require_usage(key, KeyUsage::EncryptDecrypt, Operation::ReEncrypt)?;
    let alg = algorithm_for(key, dest_alg)?;
    no_context_for_asymmetric(key, &i.destination_encryption_context)?;
    dry_run(i.dry_run)?;
    let (ct, dest_material) = encrypt_with(
        call,
        key,
        alg,
        &i.destination_encryption_context,
        &src.plaintext,
    )?;
    let mut out = json!({
        "CiphertextBlob": b64(&ct),
        "SourceKeyId": src.key.arn(),
        "KeyId": key.arn(),
        "SourceEncryptionAlgorithm": src.alg.as_str(),
        "DestinationEncryptionAlgorithm": alg.as_str(),
    });
    if let Some(m) = src.material_id {
        out["SourceKeyMaterialId"] = json!(m);
    }
    if let Some(m) = dest_material {
        out["DestinationKeyMaterialId"] = json!(m);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataKeyInput {
    key_id: String,
    #[serde(default)]
    encryption_context: EncryptionContext,
    number_of_bytes: Option<i64>,
    key_spec: Option<DataKeySpec>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

/// The data key's length: from `NumberOfBytes` (its range already checked against the
/// model) or `KeySpec`, exactly one of which must be given.
fn data_key_len(n: Option<i64>, s: Option<DataKeySpec>) -> Result<usize, KmsError> {
    match (n, s) {
        (Some(n), None) => {
            messages::check_number_of_bytes(n)?;
            usize::try_from(n).map_err(|_| KmsError::Internal("numberOfBytes".into()))
        }
        (None, Some(spec)) => Ok(spec.len_bytes()),
        (Some(_), Some(_)) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec, but not both.".into(),
        )),
        (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".into(),
        )),
    }
}

pub fn generate_data_key(
    call: &Call<'_>,
    op: Operation,
    i: DataKeyInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        ("numberOfBytes", i.number_of_bytes.map(|n| json!(n))),
        ("keySpec", i.key_spec.map(|s| json!(s.as_str()))),
        ("encryptionContext", audit_ctx(&i.encryption_context)),
    ]));
    access::check_grant_tokens(&i.grant_tokens)?;
    let len = data_key_len(i.number_of_bytes, i.key_spec)?;
    let dk = new_data_key(
        call,
        op,
        &i.key_id,
        &i.encryption_context,
        len,
        i.dry_run,
        audit,
    )?;
    let mut out = json!({ "CiphertextBlob": b64(&dk.ciphertext), "KeyId": dk.key.arn() });
    if op == Operation::GenerateDataKey {
        out["Plaintext"] = b64(&dk.plaintext);
    }
    if let Some(m) = dk.material_id {
        out["KeyMaterialId"] = json!(m);
    }
    Ok(out)
}

/// A fresh data key and its ciphertext under a symmetric KMS key.
pub(super) struct DataKey {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext: Vec<u8>,
    pub key: Arc<KeyRecord>,
    pub material_id: Option<String>,
}

/// The body of GenerateDataKey(WithoutPlaintext), shared with the services that call KMS
/// on their callers' behalf (`super::internal`).
pub(super) fn new_data_key(
    call: &Call<'_>,
    op: Operation,
    key_id: &str,
    ctx: &EncryptionContext,
    len: usize,
    dry: Option<bool>,
    audit: &mut AuditInfo,
) -> Result<DataKey, KmsError> {
    let req = Request {
        context: Some(ctx),
        conditions: context_conditions(Some(EncryptionAlgorithm::SymmetricDefault)),
    };
    let r = use_key(call, key_id, op, &req, audit)?;
    require_symmetric(&r.key, op)?;
    dry_run(dry)?;
    let plaintext = Zeroizing::new(coffer_crypto::random_bytes(len));
    let (ciphertext, material_id) = encrypt_with(
        call,
        &r.key,
        EncryptionAlgorithm::SymmetricDefault,
        ctx,
        &plaintext,
    )?;
    Ok(DataKey {
        plaintext,
        ciphertext,
        key: r.key,
        material_id,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataKeyPairInput {
    key_id: String,
    #[serde(default)]
    encryption_context: EncryptionContext,
    key_pair_spec: DataKeyPairSpec,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub fn generate_data_key_pair(
    call: &Call<'_>,
    op: Operation,
    i: DataKeyPairInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([
        ("keyId", Some(json!(i.key_id))),
        ("keyPairSpec", Some(json!(i.key_pair_spec.as_str()))),
        ("encryptionContext", audit_ctx(&i.encryption_context)),
    ]));
    access::check_grant_tokens(&i.grant_tokens)?;
    let asym = material::asym_spec(i.key_pair_spec.key_spec()).ok_or_else(|| {
        KmsError::UnsupportedOperation(format!(
            "{} is not supported in this region.",
            i.key_pair_spec.as_str()
        ))
    })?;
    let mut conditions = context_conditions(Some(EncryptionAlgorithm::SymmetricDefault));
    conditions.push((
        "kms:DataKeyPairSpec".to_owned(),
        vec![i.key_pair_spec.as_str().to_owned()],
    ));
    let req = Request {
        context: Some(&i.encryption_context),
        conditions,
    };
    let r = use_key(call, &i.key_id, op, &req, audit)?;
    require_symmetric(&r.key, op)?;
    dry_run(i.dry_run)?;
    let private = material::generate_private_key(asym)?;
    let public = coffer_crypto::public_key_spki(asym, &private)
        .map_err(|e| KmsError::Internal(e.to_string()))?;
    let (ct, material_id) = encrypt_with(
        call,
        &r.key,
        EncryptionAlgorithm::SymmetricDefault,
        &i.encryption_context,
        &private,
    )?;
    let mut out = json!({
        "PrivateKeyCiphertextBlob": b64(&ct),
        "PublicKey": b64(&public),
        "KeyId": r.key.arn(),
        "KeyPairSpec": i.key_pair_spec.as_str(),
    });
    if op == Operation::GenerateDataKeyPair {
        out["PrivateKeyPlaintext"] = b64(&private);
    }
    if let Some(m) = material_id {
        out["KeyMaterialId"] = json!(m);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RandomInput {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
}

pub fn generate_random(
    call: &Call<'_>,
    i: RandomInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(audit_object([(
        "numberOfBytes",
        i.number_of_bytes.map(|n| json!(n)),
    )]));
    coffer_storage::read_each(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new("kms:GenerateRandom", "*"), None).map_err(KmsError::from)
    })?;
    if i.custom_key_store_id.is_some() {
        return Err(KmsError::CustomKeyStoreNotFound(String::new()));
    }
    let n = data_key_len(
        Some(
            i.number_of_bytes
                .ok_or_else(messages::number_of_bytes_required)?,
        ),
        None,
    )?;
    Ok(json!({ "Plaintext": b64(&Zeroizing::new(coffer_crypto::random_bytes(n))) }))
}

fn crypto_signing(a: SigningAlgorithm) -> coffer_crypto::SigningAlgorithm {
    use coffer_crypto::SigningAlgorithm as C;
    match a {
        SigningAlgorithm::RsassaPssSha256 => C::RsassaPssSha256,
        SigningAlgorithm::RsassaPssSha384 => C::RsassaPssSha384,
        SigningAlgorithm::RsassaPssSha512 => C::RsassaPssSha512,
        SigningAlgorithm::RsassaPkcs1V15Sha256 => C::RsassaPkcs1V15Sha256,
        SigningAlgorithm::RsassaPkcs1V15Sha384 => C::RsassaPkcs1V15Sha384,
        SigningAlgorithm::RsassaPkcs1V15Sha512 => C::RsassaPkcs1V15Sha512,
        SigningAlgorithm::EcdsaSha256 => C::EcdsaSha256,
        SigningAlgorithm::EcdsaSha384 => C::EcdsaSha384,
        SigningAlgorithm::EcdsaSha512 => C::EcdsaSha512,
        SigningAlgorithm::Ed25519Sha512 => C::Ed25519Sha512,
        SigningAlgorithm::Ed25519PhSha512 => C::Ed25519PhSha512,
        SigningAlgorithm::MlDsaShake256 => C::MlDsaShake256,
    }
}

/// Checks the algorithm and message type suit the key; returns the crypto-layer values.
fn signing_setup(
    key: &KeyRecord,
    op: Operation,
    alg: SigningAlgorithm,
    mt: Option<MessageType>,
) -> Result<
    (
        coffer_crypto::AsymSpec,
        coffer_crypto::SigningAlgorithm,
        CMessageType,
    ),
    KmsError,
> {
    require_usage(key, KeyUsage::SignVerify, op)?;
    if !spec::signing_algorithm_valid(key.spec, alg) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "The signing algorithm {} is not supported for key {}.",
            alg.as_str(),
            key.arn()
        )));
    }
    let mt = mt.unwrap_or(MessageType::Raw);
    if !alg.accepts_message_type(mt) {
        return Err(messages::message_type_not_accepted(alg, mt).into());
    }
    let mt = match mt {
        MessageType::Raw => CMessageType::Raw,
        MessageType::Digest => CMessageType::Digest,
    };
    let asym = material::asym_spec(key.spec)
        .ok_or_else(|| KmsError::Internal("signing key without asymmetric spec".into()))?;
    Ok((asym, crypto_signing(alg), mt))
}

/// Sign and Verify refuse a caller's input only for a DIGEST of the wrong length, which
/// AWS words `Digest is invalid length for algorithm <ALG>.`
fn signing_input_error(alg: SigningAlgorithm) -> impl Fn(coffer_crypto::CryptoError) -> KmsError {
    move |e| match e {
        coffer_crypto::CryptoError::InvalidInput(_) => {
            messages::digest_invalid_length(alg.as_str()).into()
        }
        other => KmsError::Internal(other.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignInput {
    key_id: String,
    message: SecretBlob,
    message_type: Option<MessageType>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    signing_algorithm: SigningAlgorithm,
    dry_run: Option<bool>,
}

fn signing_conditions(
    alg: SigningAlgorithm,
    mt: Option<MessageType>,
) -> Vec<(String, Vec<String>)> {
    vec![
        (
            "kms:SigningAlgorithm".to_owned(),
            vec![alg.as_str().to_owned()],
        ),
        (
            "kms:MessageType".to_owned(),
            vec![mt.unwrap_or(MessageType::Raw).as_str().to_owned()],
        ),
    ]
}

/// A key ready for Sign or Verify: resolved, authorized, its state, usage and algorithm
/// checked (with the audit parameters both operations record), DryRun answered.
struct SigningKey {
    key: Arc<KeyRecord>,
    asym: coffer_crypto::AsymSpec,
    alg: coffer_crypto::SigningAlgorithm,
    mt: CMessageType,
}

#[allow(clippy::too_many_arguments)]
fn signing_key(
    call: &Call<'_>,
    op: Operation,
    key_id: &str,
    alg: SigningAlgorithm,
    message_type: Option<MessageType>,
    grant_tokens: &[String],
    dry: Option<bool>,
    audit: &mut AuditInfo,
) -> Result<SigningKey, KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": key_id,
        "signingAlgorithm": alg.as_str(),
        "messageType": message_type.unwrap_or(MessageType::Raw).as_str(),
    }));
    access::check_grant_tokens(grant_tokens)?;
    let req = Request {
        context: None,
        conditions: signing_conditions(alg, message_type),
    };
    let r = use_key(call, key_id, op, &req, audit)?;
    let (asym, alg, mt) = signing_setup(&r.key, op, alg, message_type)?;
    dry_run(dry)?;
    Ok(SigningKey {
        key: r.key,
        asym,
        alg,
        mt,
    })
}

pub fn sign(call: &Call<'_>, i: SignInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    let k = signing_key(
        call,
        Operation::Sign,
        &i.key_id,
        i.signing_algorithm,
        i.message_type,
        &i.grant_tokens,
        i.dry_run,
        audit,
    )?;
    let (_, private) = material::open_current(&call.state.barrier, &k.key)?;
    let sig = coffer_crypto::sign(k.asym, &private, k.alg, k.mt, &i.message.0)
        .map_err(signing_input_error(i.signing_algorithm))?;
    Ok(json!({
        "KeyId": k.key.arn(),
        "Signature": b64(&sig),
        "SigningAlgorithm": i.signing_algorithm.as_str(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyInput {
    key_id: String,
    message: SecretBlob,
    message_type: Option<MessageType>,
    signature: Blob,
    signing_algorithm: SigningAlgorithm,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub fn verify(call: &Call<'_>, i: VerifyInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    let k = signing_key(
        call,
        Operation::Verify,
        &i.key_id,
        i.signing_algorithm,
        i.message_type,
        &i.grant_tokens,
        i.dry_run,
        audit,
    )?;
    let spki = public_key(call, &k.key, k.asym)?;
    let valid = coffer_crypto::verify(k.asym, &spki, k.alg, k.mt, &i.message.0, &i.signature.0)
        .map_err(signing_input_error(i.signing_algorithm))?;
    if !valid {
        return Err(KmsError::InvalidSignature);
    }
    Ok(json!({
        "KeyId": k.key.arn(),
        "SignatureValid": true,
        "SigningAlgorithm": i.signing_algorithm.as_str(),
    }))
}

fn public_key(
    call: &Call<'_>,
    key: &KeyRecord,
    asym: coffer_crypto::AsymSpec,
) -> Result<Vec<u8>, KmsError> {
    let (_, private) = material::open_current(&call.state.barrier, key)?;
    coffer_crypto::public_key_spki(asym, &private).map_err(|e| KmsError::Internal(e.to_string()))
}

fn mac_setup(
    key: &KeyRecord,
    op: Operation,
    alg: MacAlgorithm,
) -> Result<coffer_crypto::MacAlgorithm, KmsError> {
    require_usage(key, KeyUsage::GenerateVerifyMac, op)?;
    let key_alg = material::mac_algorithm(key.spec)
        .ok_or_else(|| KmsError::Internal("MAC key without MAC spec".into()))?;
    let requested = match alg {
        MacAlgorithm::HmacSha224 => coffer_crypto::MacAlgorithm::HmacSha224,
        MacAlgorithm::HmacSha256 => coffer_crypto::MacAlgorithm::HmacSha256,
        MacAlgorithm::HmacSha384 => coffer_crypto::MacAlgorithm::HmacSha384,
        MacAlgorithm::HmacSha512 => coffer_crypto::MacAlgorithm::HmacSha512,
    };
    if requested != key_alg {
        return Err(KmsError::InvalidKeyUsage(format!(
            "The MAC algorithm {} is not supported for key {}.",
            alg.as_str(),
            key.arn()
        )));
    }
    Ok(requested)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MacInput {
    message: SecretBlob,
    key_id: String,
    mac_algorithm: MacAlgorithm,
    mac: Option<Blob>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

fn mac_op(
    call: &Call<'_>,
    op: Operation,
    i: &MacInput,
    audit: &mut AuditInfo,
) -> Result<(Arc<KeyRecord>, Vec<u8>), KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": i.key_id, "macAlgorithm": i.mac_algorithm.as_str()
    }));
    access::check_grant_tokens(&i.grant_tokens)?;
    let req = Request {
        context: None,
        conditions: vec![(
            "kms:MacAlgorithm".to_owned(),
            vec![i.mac_algorithm.as_str().to_owned()],
        )],
    };
    let r = use_key(call, &i.key_id, op, &req, audit)?;
    let alg = mac_setup(&r.key, op, i.mac_algorithm)?;
    dry_run(i.dry_run)?;
    let (_, k) = material::open_current(&call.state.barrier, &r.key)?;
    let mac = coffer_crypto::hmac(alg, &k, &i.message.0);
    Ok((r.key, mac))
}

pub fn generate_mac(
    call: &Call<'_>,
    i: MacInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    let (key, mac) = mac_op(call, Operation::GenerateMac, &i, audit)?;
    Ok(json!({
        "Mac": b64(&mac), "MacAlgorithm": i.mac_algorithm.as_str(), "KeyId": key.arn()
    }))
}

pub fn verify_mac(call: &Call<'_>, i: MacInput, audit: &mut AuditInfo) -> Result<Value, KmsError> {
    let given = i
        .mac
        .clone()
        .ok_or_else(|| KmsError::Validation(coffer_wire::json::null_member_message("Mac")))?;
    let (key, mac) = mac_op(call, Operation::VerifyMac, &i, audit)?;
    if !coffer_crypto::constant_time_eq(&mac, &given.0) {
        return Err(KmsError::InvalidMac);
    }
    Ok(json!({
        "KeyId": key.arn(), "MacValid": true, "MacAlgorithm": i.mac_algorithm.as_str()
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyInput {
    key_id: String,
    #[serde(default)]
    grant_tokens: Vec<String>,
}

pub fn get_public_key(
    call: &Call<'_>,
    i: PublicKeyInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({ "keyId": i.key_id }));
    access::check_grant_tokens(&i.grant_tokens)?;
    let r = use_key(
        call,
        &i.key_id,
        Operation::GetPublicKey,
        &Request::default(),
        audit,
    )?;
    let key = &r.key;
    let asym = material::asym_spec(key.spec).ok_or_else(|| {
        KmsError::UnsupportedOperation(format!(
            "{} is not an asymmetric KMS key: GetPublicKey is not supported.",
            key.arn()
        ))
    })?;
    let spki = public_key(call, key, asym)?;
    let mut out = json!({
        "KeyId": key.arn(),
        "PublicKey": b64(&spki),
        "CustomerMasterKeySpec": key.spec.as_str(),
        "KeySpec": key.spec.as_str(),
        "KeyUsage": key.usage.as_str(),
    });
    match key.usage {
        KeyUsage::EncryptDecrypt => {
            out["EncryptionAlgorithms"] =
                metadata::names(spec::encryption_algorithms(key.spec, key.usage));
        }
        KeyUsage::SignVerify => {
            out["SigningAlgorithms"] =
                metadata::names(spec::signing_algorithms(key.spec, key.usage));
        }
        KeyUsage::KeyAgreement => out["KeyAgreementAlgorithms"] = json!(["ECDH"]),
        KeyUsage::GenerateVerifyMac => {}
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SharedSecretInput {
    key_id: String,
    key_agreement_algorithm: String,
    public_key: Blob,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub fn derive_shared_secret(
    call: &Call<'_>,
    i: SharedSecretInput,
    audit: &mut AuditInfo,
) -> Result<Value, KmsError> {
    audit.request_parameters = Some(json!({
        "keyId": i.key_id, "keyAgreementAlgorithm": i.key_agreement_algorithm
    }));
    access::check_grant_tokens(&i.grant_tokens)?;
    let req = Request {
        context: None,
        conditions: vec![(
            "kms:KeyAgreementAlgorithm".to_owned(),
            vec![i.key_agreement_algorithm.clone()],
        )],
    };
    let r = use_key(call, &i.key_id, Operation::DeriveSharedSecret, &req, audit)?;
    let key = &r.key;
    require_usage(key, KeyUsage::KeyAgreement, Operation::DeriveSharedSecret)?;
    dry_run(i.dry_run)?;
    let asym = material::asym_spec(key.spec)
        .ok_or_else(|| KmsError::Internal("agreement key without asymmetric spec".into()))?;
    let (_, private) = material::open_current(&call.state.barrier, key)?;
    let secret =
        coffer_crypto::ecdh_shared_secret(asym, &private, &i.public_key.0).map_err(|_| {
            KmsError::Validation(
                "PublicKey is not a valid DER-encoded SubjectPublicKeyInfo on the key's curve."
                    .into(),
            )
        })?;
    Ok(json!({
        "KeyId": key.arn(),
        "SharedSecret": b64(&secret),
        "KeyAgreementAlgorithm": "ECDH",
        "KeyOrigin": key.origin.as_str(),
    }))
}
