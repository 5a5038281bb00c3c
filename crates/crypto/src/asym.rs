//! Asymmetric key pairs for the AWS KMS key specs: generation, public key export and
//! validation of imported private keys.
//!
//! Private keys travel as unencrypted PKCS#8 DER (what GenerateDataKeyPair returns and
//! ImportKeyMaterial accepts); public keys as DER SubjectPublicKeyInfo (what GetPublicKey
//! returns). Callers are expected to seal the PKCS#8 bytes before storing them.

use crate::CryptoError;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeySize, PublicEncryptingKey};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, PqdsaKeyPair,
    PqdsaSigningAlgorithm, RsaKeyPair, RsaParameters,
};
use zeroize::Zeroizing;

/// The asymmetric AWS KMS key specs (`KeySpec` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsymSpec {
    /// `RSA_2048`
    Rsa2048,
    /// `RSA_3072`
    Rsa3072,
    /// `RSA_4096`
    Rsa4096,
    /// `ECC_NIST_P256` (secp256r1)
    EccNistP256,
    /// `ECC_NIST_P384` (secp384r1)
    EccNistP384,
    /// `ECC_NIST_P521` (secp521r1)
    EccNistP521,
    /// `ECC_SECG_P256K1` (secp256k1)
    EccSecgP256k1,
    /// `ECC_NIST_EDWARDS25519` (Ed25519)
    EccNistEd25519,
    /// `ML_DSA_44` (FIPS 204 ML-DSA-44)
    MlDsa44,
    /// `ML_DSA_65` (FIPS 204 ML-DSA-65)
    MlDsa65,
    /// `ML_DSA_87` (FIPS 204 ML-DSA-87)
    MlDsa87,
}

impl AsymSpec {
    /// Every spec, for exhaustive iteration (tests, DescribeKey tables).
    pub const ALL: [AsymSpec; 11] = [
        AsymSpec::Rsa2048,
        AsymSpec::Rsa3072,
        AsymSpec::Rsa4096,
        AsymSpec::EccNistP256,
        AsymSpec::EccNistP384,
        AsymSpec::EccNistP521,
        AsymSpec::EccSecgP256k1,
        AsymSpec::EccNistEd25519,
        AsymSpec::MlDsa44,
        AsymSpec::MlDsa65,
        AsymSpec::MlDsa87,
    ];

    /// The RSA modulus size in bits, or `None` for elliptic-curve specs.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            AsymSpec::Rsa2048 => Some(2048),
            AsymSpec::Rsa3072 => Some(3072),
            AsymSpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    pub fn is_rsa(self) -> bool {
        self.rsa_bits().is_some()
    }

    /// Whether this is an ML-DSA spec.
    pub fn is_ml_dsa(self) -> bool {
        ml_dsa_alg(self).is_some()
    }
}

/// The ML-DSA parameter set of an ML-DSA spec.
pub(crate) fn ml_dsa_alg(spec: AsymSpec) -> Option<&'static PqdsaSigningAlgorithm> {
    match spec {
        AsymSpec::MlDsa44 => Some(&signature::ML_DSA_44_SIGNING),
        AsymSpec::MlDsa65 => Some(&signature::ML_DSA_65_SIGNING),
        AsymSpec::MlDsa87 => Some(&signature::ML_DSA_87_SIGNING),
        _ => None,
    }
}

/// A parsed private key of a known spec, ready to sign.
pub(crate) enum PrivateKey {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    MlDsa(PqdsaKeyPair),
}

/// The ECDSA signing algorithm AWS KMS pairs with each curve (DER-encoded signatures).
/// The digest is fixed by the curve: SHA-256 for P-256 and secp256k1, SHA-384 for P-384,
/// SHA-512 for P-521.
pub(crate) fn ecdsa_signing_alg(spec: AsymSpec) -> Option<&'static EcdsaSigningAlgorithm> {
    match spec {
        AsymSpec::EccNistP256 => Some(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        AsymSpec::EccNistP384 => Some(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
        AsymSpec::EccNistP521 => Some(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
        AsymSpec::EccSecgP256k1 => Some(&signature::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

fn rsa_key_size(bits: usize) -> Result<KeySize, CryptoError> {
    match bits {
        2048 => Ok(KeySize::Rsa2048),
        3072 => Ok(KeySize::Rsa3072),
        4096 => Ok(KeySize::Rsa4096),
        _ => Err(CryptoError::Internal),
    }
}

/// Generates a fresh private key of `spec`, as PKCS#8 (v1) DER.
pub fn generate_private_key(spec: AsymSpec) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let internal = |_| CryptoError::Internal;
    if let Some(bits) = spec.rsa_bits() {
        let key = RsaKeyPair::generate(rsa_key_size(bits)?).map_err(internal)?;
        let der: Pkcs8V1Der<'static> = key.as_der().map_err(internal)?;
        return Ok(Zeroizing::new(der.as_ref().to_vec()));
    }
    // The documents below zeroize their own copy when dropped.
    let doc = match (ecdsa_signing_alg(spec), ml_dsa_alg(spec)) {
        (Some(alg), _) => EcdsaKeyPair::generate(alg)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(internal)?,
        (None, Some(alg)) => PqdsaKeyPair::generate(alg)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(internal)?,
        (None, None) => Ed25519KeyPair::generate()
            .and_then(|k| k.to_pkcs8v1())
            .map_err(internal)?,
    };
    Ok(Zeroizing::new(doc.as_ref().to_vec()))
}

/// Parses `pkcs8` as a private key of exactly `spec`.
pub(crate) fn parse_private_key(spec: AsymSpec, pkcs8: &[u8]) -> Result<PrivateKey, CryptoError> {
    let invalid = |_| CryptoError::InvalidKey;
    if let Some(bits) = spec.rsa_bits() {
        let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(invalid)?;
        // aws-lc accepts 2048..=8192-bit keys; the spec pins one exact modulus size.
        let actual = RsaParameters::public_modulus_len(key.public_key().as_ref())
            .map_err(|_| CryptoError::InvalidKey)?;
        if usize::try_from(actual).ok() != Some(bits) {
            return Err(CryptoError::InvalidKey);
        }
        return Ok(PrivateKey::Rsa(key));
    }
    match (ecdsa_signing_alg(spec), ml_dsa_alg(spec)) {
        // from_pkcs8 rejects keys on any other curve.
        (Some(alg), _) => Ok(PrivateKey::Ecdsa(
            EcdsaKeyPair::from_pkcs8(alg, pkcs8).map_err(invalid)?,
        )),
        // And keys of any other ML-DSA parameter set.
        (None, Some(alg)) => Ok(PrivateKey::MlDsa(
            PqdsaKeyPair::from_pkcs8(alg, pkcs8).map_err(invalid)?,
        )),
        (None, None) => Ok(PrivateKey::Ed25519(
            Ed25519KeyPair::from_pkcs8(pkcs8).map_err(invalid)?,
        )),
    }
}

/// Checks that imported key material is a well-formed PKCS#8 private key of `spec`
/// (for RSA, of exactly the spec's modulus size; for ECC, on the spec's curve).
pub fn validate_private_key(spec: AsymSpec, pkcs8: &[u8]) -> Result<(), CryptoError> {
    parse_private_key(spec, pkcs8).map(|_| ())
}

/// The DER SubjectPublicKeyInfo of the private key `pkcs8` (what KMS GetPublicKey returns).
pub fn public_key_spki(spec: AsymSpec, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let internal = |_| CryptoError::Internal;
    let der: PublicKeyX509Der<'static> = match parse_private_key(spec, pkcs8)? {
        PrivateKey::Rsa(k) => k.public_key().as_der().map_err(internal)?,
        PrivateKey::Ecdsa(k) => k.public_key().as_der().map_err(internal)?,
        PrivateKey::Ed25519(k) => k.public_key().as_der().map_err(internal)?,
        PrivateKey::MlDsa(k) => k.public_key().as_der().map_err(internal)?,
    };
    Ok(der.as_ref().to_vec())
}

/// The modulus size in bits of an RSA SubjectPublicKeyInfo.
pub(crate) fn rsa_spki_bits(spki_der: &[u8]) -> Result<usize, CryptoError> {
    PublicEncryptingKey::from_der(spki_der)
        .map(|k| k.key_size_bits())
        .map_err(|_| CryptoError::InvalidKey)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    /// One generated key per spec for the whole test binary: RSA-4096 generation is slow.
    pub(crate) fn test_key(spec: AsymSpec) -> Zeroizing<Vec<u8>> {
        static KEYS: OnceLock<Mutex<HashMap<AsymSpec, Zeroizing<Vec<u8>>>>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| Mutex::new(HashMap::new()));
        let mut keys = keys.lock().unwrap();
        keys.entry(spec)
            .or_insert_with(|| generate_private_key(spec).unwrap())
            .clone()
    }

    #[test]
    fn every_spec_generates_a_key_that_validates_and_exports_spki() {
        for spec in AsymSpec::ALL {
            let key = test_key(spec);
            validate_private_key(spec, &key).unwrap();
            let spki = public_key_spki(spec, &key).unwrap();
            // A DER SEQUENCE, and different from the private key.
            assert_eq!(spki[0], 0x30, "{spec:?}");
            assert_ne!(spki.as_slice(), key.as_slice());
            if let Some(bits) = spec.rsa_bits() {
                assert_eq!(rsa_spki_bits(&spki).unwrap(), bits);
            }
        }
    }

    #[test]
    fn validation_rejects_keys_of_another_spec() {
        for spec in AsymSpec::ALL {
            let key = test_key(spec);
            for other in AsymSpec::ALL.into_iter().filter(|o| *o != spec) {
                assert_eq!(
                    validate_private_key(other, &key),
                    Err(CryptoError::InvalidKey),
                    "{spec:?} key accepted as {other:?}"
                );
            }
        }
    }

    #[test]
    fn validation_rejects_garbage_and_truncation() {
        for spec in AsymSpec::ALL {
            let key = test_key(spec);
            assert_eq!(
                validate_private_key(spec, &key[..key.len() / 2]),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                validate_private_key(spec, b"not a key"),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(public_key_spki(spec, b""), Err(CryptoError::InvalidKey));
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = generate_private_key(AsymSpec::EccNistP256).unwrap();
        let b = generate_private_key(AsymSpec::EccNistP256).unwrap();
        assert_ne!(a, b);
    }
}
