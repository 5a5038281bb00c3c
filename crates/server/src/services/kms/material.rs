//! Key material: generation for each key spec, and sealing under the barrier.
//!
//! Each version's material is sealed with the barrier's KMS purpose key and bound (as
//! associated data) to the account, key id and version, so sealed material copied onto
//! another key record does not open. The region is not bound: multi-Region replicas carry
//! the primary's sealed material unchanged.

use super::KmsError;
use super::store::{KeyRecord, KeyVersion};
use crate::barrier::{Barrier, Purpose};
use coffer_crypto::{AsymSpec, MacAlgorithm};
use coffer_kms::spec::KeySpec;
use coffer_types::AccountId;
use std::io::Write as _;
use zeroize::Zeroizing;

pub fn asym_spec(spec: KeySpec) -> Option<AsymSpec> {
    Some(match spec {
        KeySpec::Rsa2048 => AsymSpec::Rsa2048,
        KeySpec::Rsa3072 => AsymSpec::Rsa3072,
        KeySpec::Rsa4096 => AsymSpec::Rsa4096,
        KeySpec::EccNistP256 => AsymSpec::EccNistP256,
        KeySpec::EccNistP384 => AsymSpec::EccNistP384,
        KeySpec::EccNistP521 => AsymSpec::EccNistP521,
        KeySpec::EccSecgP256k1 => AsymSpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519 => AsymSpec::EccNistEd25519,
        KeySpec::MlDsa44 => AsymSpec::MlDsa44,
        KeySpec::MlDsa65 => AsymSpec::MlDsa65,
        KeySpec::MlDsa87 => AsymSpec::MlDsa87,
        _ => return None,
    })
}

pub fn mac_algorithm(spec: KeySpec) -> Option<MacAlgorithm> {
    Some(match spec {
        KeySpec::Hmac224 => MacAlgorithm::HmacSha224,
        KeySpec::Hmac256 => MacAlgorithm::HmacSha256,
        KeySpec::Hmac384 => MacAlgorithm::HmacSha384,
        KeySpec::Hmac512 => MacAlgorithm::HmacSha512,
        _ => return None,
    })
}

/// Fresh material for a key of `spec`: 32 bytes for symmetric keys, the spec's key length
/// for HMAC keys, a PKCS#8 private key for asymmetric keys.
pub fn generate(spec: KeySpec) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    if let Some(a) = asym_spec(spec) {
        return generate_private_key(a);
    }
    let len = match mac_algorithm(spec) {
        Some(m) => coffer_crypto::hmac_key_len(m),
        None => 32,
    };
    Ok(Zeroizing::new(coffer_crypto::random_bytes(len)))
}

/// A new asymmetric private key (PKCS#8). RSA-4096 generation can take a second, so it
/// runs where it may block without holding up other requests on this worker.
pub fn generate_private_key(a: AsymSpec) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    crate::blocking::run(|| coffer_crypto::generate_private_key(a))
        .map_err(|e| KmsError::Internal(format!("key generation: {e}")))
}

/// Checks imported material is usable for `spec` (length for symmetric and HMAC keys, a
/// matching private key for asymmetric keys).
pub fn validate_import(spec: KeySpec, material: &[u8]) -> bool {
    if let Some(a) = asym_spec(spec) {
        return coffer_crypto::validate_private_key(a, material).is_ok();
    }
    match mac_algorithm(spec) {
        // At least the spec's key length and at most 64 bytes, as AWS documents.
        Some(m) => (coffer_crypto::hmac_key_len(m)..=64).contains(&material.len()),
        None => material.len() == 32,
    }
}

fn aad(account: AccountId, key_id: &str, version: u32) -> Vec<u8> {
    // Sized up front (a u32 has at most 10 digits): `format!` regrew it on every use.
    let prefix = "coffer/kms/material/v1/";
    let mut a = Vec::with_capacity(prefix.len() + 12 + key_id.len() + 12);
    a.extend_from_slice(prefix.as_bytes());
    a.extend_from_slice(account.as_str().as_bytes());
    a.push(b'/');
    a.extend_from_slice(key_id.as_bytes());
    a.push(b'/');
    // Writing into a Vec cannot fail.
    let _ = write!(a, "{version}");
    a
}

pub fn seal(
    barrier: &Barrier,
    account: AccountId,
    key_id: &str,
    version: u32,
    material: &[u8],
) -> Vec<u8> {
    barrier.seal(Purpose::KmsKeys, &aad(account, key_id, version), material)
}

/// The plaintext material of one version of `key`.
pub fn open(
    barrier: &Barrier,
    key: &KeyRecord,
    version: u32,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let v = key
        .version(version)
        .ok_or_else(|| KmsError::InvalidCiphertext(format!("no key version {version}")))?;
    let sealed = v
        .sealed
        .as_ref()
        .ok_or_else(|| KmsError::Internal("key material is absent".into()))?;
    barrier
        .open(
            Purpose::KmsKeys,
            &aad(key.account, &key.key_id, version),
            sealed,
        )
        .map_err(|_| KmsError::Internal(format!("sealed material of {} did not open", key.arn())))
}

/// The key's current material version and its plaintext material.
pub fn open_current<'k>(
    barrier: &Barrier,
    key: &'k KeyRecord,
) -> Result<(&'k KeyVersion, Zeroizing<Vec<u8>>), KmsError> {
    let version = key
        .current()
        .ok_or_else(|| KmsError::Internal("key has no material".into()))?;
    Ok((version, open(barrier, key, version.version)?))
}

/// AWS's 64-hex-digit `KeyMaterialId`: here a digest naming the key and version, so it is
/// stable across replicas and reveals nothing about the material.
pub fn material_id(account: AccountId, key_id: &str, version: u32) -> String {
    coffer_crypto::sha256_hex(&aad(account, key_id, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AAD binds stored material to its key and version: its form may never change.
    #[test]
    fn material_aad_keeps_its_form() {
        let account: AccountId = "000011112222".parse().unwrap();
        for version in [0, 7, u32::MAX] {
            assert_eq!(
                aad(account, "1234abcd-12ab-34cd-56ef-1234567890ab", version),
                format!(
                    "coffer/kms/material/v1/000011112222/1234abcd-12ab-34cd-56ef-1234567890ab/{version}"
                )
                .into_bytes()
            );
        }
    }
}
