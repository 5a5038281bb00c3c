//! Ed25519ph (RFC 8032 §5.1, HashEdDSA over edwards25519 with SHA-512 and an empty context):
//! KMS's `ED25519_PH_SHA_512`, which signs a SHA-512 digest the caller computed.
//!
//! aws-lc implements it but aws-lc-rs does not expose it, so this one algorithm runs on
//! ed25519-dalek. The key is the same Ed25519 key aws-lc-rs generated and parsed: its
//! 32-byte seed, taken from the parsed key pair, is all ed25519-dalek needs.

use crate::CryptoError;
use ::digest::consts::U64;
use ::digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::Ed25519KeyPair;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// Length of an Ed25519 SubjectPublicKeyInfo: a fixed 12-byte header, then the key.
const SPKI_LEN: usize = 44;
const SPKI_HEADER: usize = SPKI_LEN - 32;

/// A SHA-512 digest computed elsewhere, handed to ed25519-dalek's prehashed API.
///
/// That API takes a hasher already fed with the message and only finalizes it; KMS
/// receives the finished digest instead. This type finalizes to that digest. It is never
/// fed (`update` ignores input), and it is private to this module so nothing else can.
struct KnownDigest([u8; 64]);

/// Required by the `Digest` trait; ed25519-dalek never makes one this way.
impl Default for KnownDigest {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl HashMarker for KnownDigest {}

impl OutputSizeUser for KnownDigest {
    type OutputSize = U64;
}

impl Update for KnownDigest {
    fn update(&mut self, _data: &[u8]) {}
}

impl FixedOutput for KnownDigest {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&self.0);
    }
}

fn known(digest: &[u8]) -> Result<KnownDigest, CryptoError> {
    digest.try_into().map(KnownDigest).map_err(|_| {
        CryptoError::InvalidInput("digest length does not match the signing algorithm")
    })
}

/// Signs the SHA-512 `digest` of a message with `key`.
pub(crate) fn sign(key: &Ed25519KeyPair, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let seed = key
        .seed()
        .and_then(|s| s.as_be_bytes())
        .map_err(|_| CryptoError::Internal)?;
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        seed.as_ref()
            .try_into()
            .map_err(|_| CryptoError::Internal)?,
    );
    // SigningKey zeroizes itself when dropped.
    let signing = SigningKey::from_bytes(&seed);
    signing
        .sign_prehashed(known(digest)?, None)
        .map(|s| s.to_bytes().to_vec())
        .map_err(|_| CryptoError::Internal)
}

/// Whether `signature` is a valid Ed25519ph signature of the SHA-512 `digest` under the
/// key in `spki_der`, which the caller has already checked is a canonical Ed25519 SPKI.
/// Strict verification: a signature with a small-order component is refused, as no honest
/// signer produces one.
pub(crate) fn verify(
    spki_der: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    if spki_der.len() != SPKI_LEN {
        return Err(CryptoError::InvalidKey);
    }
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&spki_der[SPKI_HEADER..]);
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| CryptoError::InvalidKey)?;
    let Ok(signature) = Signature::from_slice(signature) else {
        return Ok(false);
    };
    Ok(key
        .verify_prehashed_strict(known(digest)?, None, &signature)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn sha512(m: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, m)
            .as_ref()
            .to_vec()
    }

    /// RFC 8032 §7.3, test vector "TEST abc" for Ed25519ph: the key comes in through
    /// aws-lc-rs exactly as a KMS key does, and the signature must match byte for byte.
    #[test]
    fn rfc8032_test_vector() {
        let seed = unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let public = unhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        let expected = unhex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        let key = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).unwrap();
        let digest = sha512(b"abc");
        let sig = sign(&key, &digest).unwrap();
        assert_eq!(sig, expected);
        let spki = key.public_key().as_der().unwrap();
        assert!(verify(spki.as_ref(), &digest, &sig).unwrap());
    }

    #[test]
    fn a_changed_digest_or_signature_does_not_verify() {
        let key = Ed25519KeyPair::generate().unwrap();
        let spki = key.public_key().as_der().unwrap();
        let digest = sha512(b"pay alice 10");
        let sig = sign(&key, &digest).unwrap();
        assert!(verify(spki.as_ref(), &digest, &sig).unwrap());
        assert!(!verify(spki.as_ref(), &sha512(b"pay alice 99"), &sig).unwrap());
        let mut bad = sig.clone();
        bad[5] ^= 1;
        assert!(!verify(spki.as_ref(), &digest, &bad).unwrap());
        assert!(!verify(spki.as_ref(), &digest, &sig[..63]).unwrap());
        assert!(matches!(
            sign(&key, &digest[..32]),
            Err(CryptoError::InvalidInput(_))
        ));
    }
}
