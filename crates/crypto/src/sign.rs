//! Digital signatures with AWS KMS semantics (Sign / Verify).
//!
//! - RSASSA-PSS: salt length = digest length, MGF1 with the signature's hash.
//! - RSASSA-PKCS1-v1_5 with SHA-256/384/512.
//! - ECDSA: DER-encoded (RFC 3279) signatures; the curve fixes the hash (P-256 and
//!   secp256k1: SHA-256, P-384: SHA-384, P-521: SHA-512).
//! - Ed25519 (pure, RFC 8032) over the raw message only; Ed25519ph (HashEdDSA) over a
//!   SHA-512 digest only (see [`crate::ed25519ph`]).
//! - ML-DSA (FIPS 204, pure, empty context) over the raw message only: KMS's
//!   `ML_DSA_SHAKE_256`. Its other message type, `EXTERNAL_MU`, is not offered.
//!
//! With [`MessageType::Digest`] the message is the precomputed hash and must be exactly the
//! algorithm's digest length.

use crate::CryptoError;
use crate::asym::{AsymSpec, PrivateKey, parse_private_key, rsa_spki_bits};
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, ParsedPublicKey, RsaEncoding, RsaKeyPair, Signature, VerificationAlgorithm,
};

/// AWS KMS `SigningAlgorithmSpec` values for the supported key specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    RsassaPssSha256,
    RsassaPssSha384,
    RsassaPssSha512,
    RsassaPkcs1V15Sha256,
    RsassaPkcs1V15Sha384,
    RsassaPkcs1V15Sha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519Sha512,
    Ed25519PhSha512,
    MlDsaShake256,
}

/// AWS KMS `MessageType`: whether `message` is the message itself or its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Raw,
    Digest,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 12] = [
        SigningAlgorithm::RsassaPssSha256,
        SigningAlgorithm::RsassaPssSha384,
        SigningAlgorithm::RsassaPssSha512,
        SigningAlgorithm::RsassaPkcs1V15Sha256,
        SigningAlgorithm::RsassaPkcs1V15Sha384,
        SigningAlgorithm::RsassaPkcs1V15Sha512,
        SigningAlgorithm::EcdsaSha256,
        SigningAlgorithm::EcdsaSha384,
        SigningAlgorithm::EcdsaSha512,
        SigningAlgorithm::Ed25519Sha512,
        SigningAlgorithm::Ed25519PhSha512,
        SigningAlgorithm::MlDsaShake256,
    ];

    /// The hash a DIGEST message is the output of; `None` for ML-DSA, which hashes with
    /// SHAKE256 inside the scheme and takes no DIGEST message.
    fn digest_alg(self) -> Option<&'static digest::Algorithm> {
        use SigningAlgorithm::*;
        match self {
            RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 => Some(&digest::SHA256),
            RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => Some(&digest::SHA384),
            RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519Sha512
            | Ed25519PhSha512 => Some(&digest::SHA512),
            MlDsaShake256 => None,
        }
    }

    /// Length in bytes of a `MessageType::Digest` message for this algorithm; `None` for
    /// ML-DSA, which takes none.
    pub fn digest_len(self) -> Option<usize> {
        self.digest_alg().map(|a| a.output_len())
    }

    /// Whether AWS KMS allows this algorithm with `spec` (the key spec's SigningAlgorithms).
    pub fn compatible_with(self, spec: AsymSpec) -> bool {
        use SigningAlgorithm::*;
        match spec {
            AsymSpec::Rsa2048 | AsymSpec::Rsa3072 | AsymSpec::Rsa4096 => matches!(
                self,
                RsassaPssSha256
                    | RsassaPssSha384
                    | RsassaPssSha512
                    | RsassaPkcs1V15Sha256
                    | RsassaPkcs1V15Sha384
                    | RsassaPkcs1V15Sha512
            ),
            AsymSpec::EccNistP256 | AsymSpec::EccSecgP256k1 => self == EcdsaSha256,
            AsymSpec::EccNistP384 => self == EcdsaSha384,
            AsymSpec::EccNistP521 => self == EcdsaSha512,
            AsymSpec::EccNistEd25519 => matches!(self, Ed25519Sha512 | Ed25519PhSha512),
            AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => self == MlDsaShake256,
        }
    }
}

/// The message as the primitive will consume it.
enum Input<'a> {
    Raw(&'a [u8]),
    Digest(Digest),
}

/// Applies the AWS rules tying an algorithm to a message type, before any key is touched.
fn prepare<'a>(
    spec: AsymSpec,
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &'a [u8],
) -> Result<Input<'a>, CryptoError> {
    if !alg.compatible_with(spec) {
        return Err(CryptoError::IncompatibleAlgorithm);
    }
    match (alg, message_type) {
        (SigningAlgorithm::Ed25519Sha512, MessageType::Digest) => Err(CryptoError::InvalidInput(
            "ED25519_SHA_512 requires MessageType RAW",
        )),
        // AWS: ED25519_PH_SHA_512 takes only a precomputed SHA-512 digest.
        (SigningAlgorithm::Ed25519PhSha512, MessageType::Raw) => Err(CryptoError::InvalidInput(
            "ED25519_PH_SHA_512 requires MessageType DIGEST",
        )),
        (_, MessageType::Raw) => Ok(Input::Raw(message)),
        (_, MessageType::Digest) => {
            let hash = alg.digest_alg().ok_or(CryptoError::InvalidInput(
                "ML_DSA_SHAKE_256 requires MessageType RAW",
            ))?;
            Digest::import_less_safe(message, hash)
                .map(Input::Digest)
                .map_err(|_| {
                    CryptoError::InvalidInput("digest length does not match the signing algorithm")
                })
        }
    }
}

fn rsa_encoding(alg: SigningAlgorithm) -> Option<&'static dyn RsaEncoding> {
    use SigningAlgorithm::*;
    match alg {
        RsassaPssSha256 => Some(&signature::RSA_PSS_SHA256),
        RsassaPssSha384 => Some(&signature::RSA_PSS_SHA384),
        RsassaPssSha512 => Some(&signature::RSA_PSS_SHA512),
        RsassaPkcs1V15Sha256 => Some(&signature::RSA_PKCS1_SHA256),
        RsassaPkcs1V15Sha384 => Some(&signature::RSA_PKCS1_SHA384),
        RsassaPkcs1V15Sha512 => Some(&signature::RSA_PKCS1_SHA512),
        _ => None,
    }
}

/// Signs `message` with the private key `pkcs8` of `spec`.
pub fn sign(
    spec: AsymSpec,
    pkcs8: &[u8],
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let input = prepare(spec, alg, message_type, message)?;
    match parse_private_key(spec, pkcs8)? {
        PrivateKey::Rsa(key) => sign_rsa(&key, alg, &input),
        PrivateKey::Ecdsa(key) => {
            let sig = match &input {
                Input::Raw(m) => key.sign(&SystemRandom::new(), m),
                Input::Digest(d) => key.sign_digest(d),
            };
            to_vec(sig)
        }
        // prepare() lets only RAW through for pure Ed25519, only DIGEST for Ed25519ph.
        PrivateKey::Ed25519(key) => match input {
            Input::Raw(m) => to_vec(key.try_sign(m)),
            Input::Digest(d) => crate::ed25519ph::sign(&key, d.as_ref()),
        },
        // prepare() lets only RAW through for ML-DSA.
        PrivateKey::MlDsa(key) => match input {
            Input::Raw(m) => {
                let mut sig = vec![0u8; key.algorithm().signature_len()];
                let n = key.sign(m, &mut sig).map_err(|_| CryptoError::Internal)?;
                sig.truncate(n);
                Ok(sig)
            }
            Input::Digest(_) => Err(CryptoError::IncompatibleAlgorithm),
        },
    }
}

fn to_vec(sig: Result<Signature, aws_lc_rs::error::Unspecified>) -> Result<Vec<u8>, CryptoError> {
    sig.map(|s| s.as_ref().to_vec())
        .map_err(|_| CryptoError::Internal)
}

fn sign_rsa(
    key: &RsaKeyPair,
    alg: SigningAlgorithm,
    input: &Input<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let encoding = rsa_encoding(alg).ok_or(CryptoError::IncompatibleAlgorithm)?;
    let mut sig = vec![0u8; key.public_modulus_len()];
    match input {
        Input::Raw(m) => key.sign(encoding, &SystemRandom::new(), m, &mut sig),
        Input::Digest(d) => key.sign_digest(encoding, d, &mut sig),
    }
    .map_err(|_| CryptoError::Internal)?;
    Ok(sig)
}

fn verification_alg(spec: AsymSpec, alg: SigningAlgorithm) -> &'static dyn VerificationAlgorithm {
    use SigningAlgorithm::*;
    match (spec, alg) {
        (_, RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, RsassaPkcs1V15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, RsassaPkcs1V15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, RsassaPkcs1V15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (AsymSpec::EccSecgP256k1, _) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (_, EcdsaSha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (_, EcdsaSha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (_, EcdsaSha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (_, Ed25519Sha512 | Ed25519PhSha512) => &signature::ED25519,
        (AsymSpec::MlDsa44, MlDsaShake256) => &signature::ML_DSA_44,
        (AsymSpec::MlDsa87, MlDsaShake256) => &signature::ML_DSA_87,
        (_, MlDsaShake256) => &signature::ML_DSA_65,
    }
}

/// Parses `spki_der` as the public key of a `spec` key. Only canonical DER SPKI is
/// accepted: aws-lc would also take bare RSAPublicKey, EC points or raw Ed25519 keys.
fn parse_spki(
    spec: AsymSpec,
    alg: SigningAlgorithm,
    spki_der: &[u8],
) -> Result<ParsedPublicKey, CryptoError> {
    let key = ParsedPublicKey::new(verification_alg(spec, alg), spki_der)
        .map_err(|_| CryptoError::InvalidKey)?;
    let canonical: PublicKeyX509Der<'static> = key.as_der().map_err(|_| CryptoError::InvalidKey)?;
    if canonical.as_ref() != spki_der {
        return Err(CryptoError::InvalidKey);
    }
    if let Some(bits) = spec.rsa_bits()
        && rsa_spki_bits(spki_der)? != bits
    {
        return Err(CryptoError::InvalidKey);
    }
    Ok(key)
}

/// Verifies `signature` over `message` with the public key `spki_der` of a `spec` key.
/// A signature that does not verify (including a malformed one) is `Ok(false)`; errors
/// are reserved for unusable keys, algorithms or message lengths.
pub fn verify(
    spec: AsymSpec,
    spki_der: &[u8],
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let input = prepare(spec, alg, message_type, message)?;
    let key = parse_spki(spec, alg, spki_der)?;
    let verified = match &input {
        Input::Digest(d) if alg == SigningAlgorithm::Ed25519PhSha512 => {
            return crate::ed25519ph::verify(spki_der, d.as_ref(), signature);
        }
        Input::Raw(m) => key.verify_sig(m, signature),
        Input::Digest(d) => key.verify_digest_sig(d, signature),
    };
    Ok(verified.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asym::public_key_spki;
    use crate::asym::tests::test_key;

    fn cases() -> impl Iterator<Item = (AsymSpec, SigningAlgorithm)> {
        AsymSpec::ALL.into_iter().flat_map(|spec| {
            SigningAlgorithm::ALL
                .into_iter()
                // Ed25519ph signs digests only: see ed25519_message_type_rules_and_prehash.
                .filter(move |a| a.compatible_with(spec) && *a != SigningAlgorithm::Ed25519PhSha512)
                .map(move |a| (spec, a))
        })
    }

    fn digest_of(alg: SigningAlgorithm, msg: &[u8]) -> Vec<u8> {
        digest::digest(alg.digest_alg().unwrap(), msg)
            .as_ref()
            .to_vec()
    }

    #[test]
    fn kms_compatibility_table() {
        let count = |spec| {
            SigningAlgorithm::ALL
                .into_iter()
                .filter(|a| a.compatible_with(spec))
                .count()
        };
        assert_eq!(count(AsymSpec::Rsa2048), 6);
        assert_eq!(count(AsymSpec::Rsa4096), 6);
        assert_eq!(count(AsymSpec::EccNistP256), 1);
        assert_eq!(count(AsymSpec::EccNistEd25519), 2);
        assert!(SigningAlgorithm::EcdsaSha256.compatible_with(AsymSpec::EccSecgP256k1));
        assert!(SigningAlgorithm::EcdsaSha512.compatible_with(AsymSpec::EccNistP521));
        assert!(!SigningAlgorithm::EcdsaSha256.compatible_with(AsymSpec::EccNistP384));
        assert_eq!(count(AsymSpec::MlDsa65), 1);
        assert!(!SigningAlgorithm::MlDsaShake256.compatible_with(AsymSpec::EccNistP256));
        // Six algorithms for each RSA spec, one per ECDSA curve, pure Ed25519, and ML-DSA
        // for each of its three parameter sets.
        assert_eq!(cases().count(), 3 * 6 + 4 + 1 + 3);
    }

    #[test]
    fn raw_and_digest_round_trip_and_cross_verify() {
        let msg = b"the quick brown fox";
        for (spec, alg) in cases() {
            let key = test_key(spec);
            let spki = public_key_spki(spec, &key).unwrap();
            let raw_sig = sign(spec, &key, alg, MessageType::Raw, msg).unwrap();
            assert!(verify(spec, &spki, alg, MessageType::Raw, msg, &raw_sig).unwrap());
            // Pure Ed25519 and ML-DSA sign only RAW messages.
            if matches!(
                alg,
                SigningAlgorithm::Ed25519Sha512 | SigningAlgorithm::MlDsaShake256
            ) {
                continue;
            }
            let d = digest_of(alg, msg);
            let digest_sig = sign(spec, &key, alg, MessageType::Digest, &d).unwrap();
            assert!(verify(spec, &spki, alg, MessageType::Digest, &d, &digest_sig).unwrap());
            // DIGEST signs exactly what RAW hashes to: each verifies under the other mode.
            assert!(verify(spec, &spki, alg, MessageType::Raw, msg, &digest_sig).unwrap());
            assert!(verify(spec, &spki, alg, MessageType::Digest, &d, &raw_sig).unwrap());
            // Signing a digest as RAW hashes it twice, so it does not verify as DIGEST.
            let twice = sign(spec, &key, alg, MessageType::Raw, &d).unwrap();
            assert!(!verify(spec, &spki, alg, MessageType::Digest, &d, &twice).unwrap());
        }
    }

    #[test]
    fn tampering_verifies_false() {
        let msg = b"pay alice 10";
        for (spec, alg) in cases() {
            let key = test_key(spec);
            let spki = public_key_spki(spec, &key).unwrap();
            let sig = sign(spec, &key, alg, MessageType::Raw, msg).unwrap();
            let other = b"pay alice 99";
            assert!(!verify(spec, &spki, alg, MessageType::Raw, other, &sig).unwrap());
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x01;
            assert!(!verify(spec, &spki, alg, MessageType::Raw, msg, &bad).unwrap());
            assert!(!verify(spec, &spki, alg, MessageType::Raw, msg, &sig[..5]).unwrap());
            assert!(!verify(spec, &spki, alg, MessageType::Raw, msg, b"").unwrap());
        }
    }

    #[test]
    fn pss_uses_digest_length_salt_and_is_randomized() {
        let key = test_key(AsymSpec::Rsa2048);
        let alg = SigningAlgorithm::RsassaPssSha256;
        let a = sign(AsymSpec::Rsa2048, &key, alg, MessageType::Raw, b"m").unwrap();
        let b = sign(AsymSpec::Rsa2048, &key, alg, MessageType::Raw, b"m").unwrap();
        assert_eq!(a.len(), 256);
        assert_ne!(a, b);
        // A verifier that insists on the maximum salt length rejects it.
        let spki = public_key_spki(AsymSpec::Rsa2048, &key).unwrap();
        const MAX_SALT: signature::RsaParameters = signature::RSA_PSS_2048_8192_SHA256
            .with_pss_salt_length(signature::RsaPssSaltLength::Max);
        let max = signature::UnparsedPublicKey::new(&MAX_SALT, &spki);
        assert!(max.verify(b"m", &a).is_err());
        let digest_len =
            signature::UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, &spki);
        assert!(digest_len.verify(b"m", &a).is_ok());
    }

    #[test]
    fn ecdsa_signatures_are_der() {
        for spec in [AsymSpec::EccNistP256, AsymSpec::EccNistP521] {
            let key = test_key(spec);
            let alg = SigningAlgorithm::ALL
                .into_iter()
                .find(|a| a.compatible_with(spec))
                .unwrap();
            let sig = sign(spec, &key, alg, MessageType::Raw, b"m").unwrap();
            assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        }
    }

    #[test]
    fn wrong_digest_length_is_an_error() {
        let digest_modes = cases().filter(|(_, a)| {
            !matches!(
                a,
                SigningAlgorithm::Ed25519Sha512 | SigningAlgorithm::MlDsaShake256
            )
        });
        for (spec, alg) in digest_modes {
            let key = test_key(spec);
            let spki = public_key_spki(spec, &key).unwrap();
            let n = alg.digest_len().unwrap();
            for len in [0, n - 1, n + 1] {
                let d = vec![7u8; len];
                let e =
                    CryptoError::InvalidInput("digest length does not match the signing algorithm");
                assert_eq!(sign(spec, &key, alg, MessageType::Digest, &d), Err(e));
                assert_eq!(
                    verify(spec, &spki, alg, MessageType::Digest, &d, b"x"),
                    Err(e)
                );
            }
        }
    }

    #[test]
    fn ed25519_message_type_rules_and_prehash() {
        let spec = AsymSpec::EccNistEd25519;
        let key = test_key(spec);
        let spki = public_key_spki(spec, &key).unwrap();
        let pure = SigningAlgorithm::Ed25519Sha512;
        let ph = SigningAlgorithm::Ed25519PhSha512;
        assert!(matches!(
            sign(spec, &key, pure, MessageType::Digest, &[0; 64]),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            sign(spec, &key, ph, MessageType::Raw, b"m"),
            Err(CryptoError::InvalidInput(_))
        ));
        assert!(matches!(
            sign(spec, &key, ph, MessageType::Digest, &[0; 32]),
            Err(CryptoError::InvalidInput(_))
        ));
        // Both are deterministic, and neither verifies as the other: Ed25519ph's domain
        // prefix keeps the two signature spaces apart.
        let msg = b"m";
        let d = digest_of(ph, msg);
        let a = sign(spec, &key, pure, MessageType::Raw, msg).unwrap();
        assert_eq!(a, sign(spec, &key, pure, MessageType::Raw, msg).unwrap());
        assert_eq!(a.len(), 64);
        let p = sign(spec, &key, ph, MessageType::Digest, &d).unwrap();
        assert_eq!(p, sign(spec, &key, ph, MessageType::Digest, &d).unwrap());
        assert_eq!(p.len(), 64);
        assert!(verify(spec, &spki, ph, MessageType::Digest, &d, &p).unwrap());
        assert!(!verify(spec, &spki, ph, MessageType::Digest, &d, &a).unwrap());
        assert!(!verify(spec, &spki, pure, MessageType::Raw, msg, &p).unwrap());
        let other = digest_of(ph, b"n");
        assert!(!verify(spec, &spki, ph, MessageType::Digest, &other, &p).unwrap());
    }

    #[test]
    fn incompatible_algorithms_and_keys_are_errors() {
        let p256 = test_key(AsymSpec::EccNistP256);
        let p384 = test_key(AsymSpec::EccNistP384);
        let rsa = test_key(AsymSpec::Rsa2048);
        let e = Err(CryptoError::IncompatibleAlgorithm);
        let ecdsa384 = SigningAlgorithm::EcdsaSha384;
        assert_eq!(
            sign(
                AsymSpec::EccNistP256,
                &p256,
                ecdsa384,
                MessageType::Raw,
                b"m"
            ),
            e
        );
        let pss = SigningAlgorithm::RsassaPssSha256;
        assert_eq!(
            sign(AsymSpec::EccNistP256, &p256, pss, MessageType::Raw, b"m"),
            e
        );
        // Key bytes of another spec are an invalid key, for signing and verifying.
        let ecdsa256 = SigningAlgorithm::EcdsaSha256;
        assert_eq!(
            sign(
                AsymSpec::EccNistP256,
                &p384,
                ecdsa256,
                MessageType::Raw,
                b"m"
            ),
            Err(CryptoError::InvalidKey)
        );
        let spki384 = public_key_spki(AsymSpec::EccNistP384, &p384).unwrap();
        assert_eq!(
            verify(
                AsymSpec::EccNistP256,
                &spki384,
                ecdsa256,
                MessageType::Raw,
                b"m",
                b"s"
            ),
            Err(CryptoError::InvalidKey)
        );
        let spki_rsa = public_key_spki(AsymSpec::Rsa2048, &rsa).unwrap();
        assert_eq!(
            verify(
                AsymSpec::Rsa3072,
                &spki_rsa,
                pss,
                MessageType::Raw,
                b"m",
                b"s"
            ),
            Err(CryptoError::InvalidKey)
        );
    }

    #[test]
    fn verify_requires_der_spki() {
        let spec = AsymSpec::EccNistEd25519;
        let key = test_key(spec);
        let spki = public_key_spki(spec, &key).unwrap();
        let alg = SigningAlgorithm::Ed25519Sha512;
        let sig = sign(spec, &key, alg, MessageType::Raw, b"m").unwrap();
        // The raw 32-byte key (the SPKI's tail) is not accepted, nor trailing bytes.
        let raw = &spki[spki.len() - 32..];
        assert_eq!(
            verify(spec, raw, alg, MessageType::Raw, b"m", &sig),
            Err(CryptoError::InvalidKey)
        );
        let mut padded = spki.clone();
        padded.push(0);
        assert_eq!(
            verify(spec, &padded, alg, MessageType::Raw, b"m", &sig),
            Err(CryptoError::InvalidKey)
        );
    }

    #[test]
    fn ml_dsa_signs_raw_messages_only_and_each_key_verifies_its_own() {
        let msg = b"post-quantum";
        for spec in [AsymSpec::MlDsa44, AsymSpec::MlDsa65, AsymSpec::MlDsa87] {
            let key = test_key(spec);
            let spki = public_key_spki(spec, &key).unwrap();
            let alg = SigningAlgorithm::MlDsaShake256;
            let sig = sign(spec, &key, alg, MessageType::Raw, msg).unwrap();
            let len = match spec {
                AsymSpec::MlDsa44 => 2420,
                AsymSpec::MlDsa65 => 3309,
                _ => 4627,
            };
            assert_eq!(sig.len(), len, "{spec:?}: FIPS 204 signature size");
            assert!(verify(spec, &spki, alg, MessageType::Raw, msg, &sig).unwrap());
            let e = CryptoError::InvalidInput("ML_DSA_SHAKE_256 requires MessageType RAW");
            assert_eq!(sign(spec, &key, alg, MessageType::Digest, &[0; 64]), Err(e));
            // Another parameter set's key material is not this spec's.
            let other = if spec == AsymSpec::MlDsa65 {
                AsymSpec::MlDsa44
            } else {
                AsymSpec::MlDsa65
            };
            assert_eq!(
                crate::asym::validate_private_key(other, &key),
                Err(CryptoError::InvalidKey)
            );
        }
    }
}
