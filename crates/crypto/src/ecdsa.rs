//! ECDSA over a streamed message with an ephemeral key (P-256/SHA-256, P-384/SHA-384),
//! public keys in SEC 1 compressed form, signatures DER-encoded: what the AWS Encryption
//! SDK's signing algorithm suites use for the message footer.
//!
//! The message is fed incrementally ([`EcdsaSigner::update`]), so a signer never holds the
//! message; only its running digest.

use crate::CryptoError;
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, ParsedPublicKey,
    VerificationAlgorithm,
};
use zeroize::Zeroizing;

/// The curve, which also fixes the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaCurve {
    /// NIST P-256 with SHA-256.
    P256,
    /// NIST P-384 with SHA-384.
    P384,
}

impl EcdsaCurve {
    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            EcdsaCurve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            EcdsaCurve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            EcdsaCurve::P256 => &ECDSA_P256_SHA256_ASN1,
            EcdsaCurve::P384 => &ECDSA_P384_SHA384_ASN1,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            EcdsaCurve::P256 => &digest::SHA256,
            EcdsaCurve::P384 => &digest::SHA384,
        }
    }

    /// Length of a compressed public point: 1 + field size.
    pub fn compressed_point_len(self) -> usize {
        match self {
            EcdsaCurve::P256 => 33,
            EcdsaCurve::P384 => 49,
        }
    }

    /// Largest DER signature: SEQUENCE of two INTEGERs of field size + 1.
    pub fn max_signature_len(self) -> usize {
        match self {
            EcdsaCurve::P256 => 72,
            EcdsaCurve::P384 => 104,
        }
    }
}

/// A freshly generated signing key and the running digest of the message it will sign.
pub struct EcdsaSigner {
    key: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    ctx: digest::Context,
    curve: EcdsaCurve,
}

impl std::fmt::Debug for EcdsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcdsaSigner({:?})", self.curve)
    }
}

impl EcdsaSigner {
    /// Generates an ephemeral key pair on `curve`.
    pub fn generate(curve: EcdsaCurve) -> Result<Self, CryptoError> {
        let doc = EcdsaKeyPair::generate_pkcs8(curve.signing(), &SystemRandom::new())
            .map_err(|_| CryptoError::Internal)?;
        Self::from_pkcs8(curve, Zeroizing::new(doc.as_ref().to_vec()))
    }

    fn from_pkcs8(curve: EcdsaCurve, pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, CryptoError> {
        let key =
            EcdsaKeyPair::from_pkcs8(curve.signing(), &pkcs8).map_err(|_| CryptoError::Internal)?;
        Ok(Self {
            key,
            pkcs8,
            ctx: digest::Context::new(curve.digest()),
            curve,
        })
    }

    /// The same key with a fresh, empty digest: for signing another message with it (the
    /// ESDK's data-key caching reuses signing keys with cached materials).
    pub fn fresh_copy(&self) -> Result<Self, CryptoError> {
        Self::from_pkcs8(self.curve, self.pkcs8.clone())
    }

    /// The public key as a SEC 1 compressed point.
    pub fn public_key_compressed(&self) -> Result<Vec<u8>, CryptoError> {
        let point: EcPublicKeyCompressedBin<'_> = self
            .key
            .public_key()
            .as_be_bytes()
            .map_err(|_| CryptoError::Internal)?;
        Ok(point.as_ref().to_vec())
    }

    /// Feeds the next bytes of the message.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// Signs the digest of everything fed so far; DER-encoded.
    pub fn sign(self) -> Result<Vec<u8>, CryptoError> {
        let d = self.ctx.finish();
        self.key
            .sign_digest(&d)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| CryptoError::Internal)
    }
}

/// A public key and the running digest of the message whose signature it will check.
pub struct EcdsaVerifier {
    key: ParsedPublicKey,
    ctx: digest::Context,
}

impl std::fmt::Debug for EcdsaVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcdsaVerifier(..)")
    }
}

impl EcdsaVerifier {
    /// `public_key` must be a compressed point on `curve` (what the ESDK stores).
    pub fn new(curve: EcdsaCurve, public_key: &[u8]) -> Result<Self, CryptoError> {
        let compressed = matches!(public_key.first(), Some(2 | 3));
        if public_key.len() != curve.compressed_point_len() || !compressed {
            return Err(CryptoError::InvalidKey);
        }
        let key = ParsedPublicKey::new(curve.verification(), public_key)
            .map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self {
            key,
            ctx: digest::Context::new(curve.digest()),
        })
    }

    /// Feeds the next bytes of the message.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// Checks a DER signature over everything fed so far.
    pub fn verify(self, signature: &[u8]) -> Result<(), CryptoError> {
        let d = self.ctx.finish();
        self.key
            .verify_digest_sig(&d, signature)
            .map_err(|_| CryptoError::DecryptFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_streamed_in_pieces() {
        for curve in [EcdsaCurve::P256, EcdsaCurve::P384] {
            let mut s = EcdsaSigner::generate(curve).unwrap();
            let pk = s.public_key_compressed().unwrap();
            assert_eq!(pk.len(), curve.compressed_point_len());
            assert!(matches!(pk[0], 2 | 3));
            s.update(b"header");
            s.update(b"body");
            let sig = s.sign().unwrap();
            assert!(sig.len() <= curve.max_signature_len());
            // Split differently: the digest is of the concatenation.
            let mut v = EcdsaVerifier::new(curve, &pk).unwrap();
            v.update(b"head");
            v.update(b"erbody");
            v.verify(&sig).unwrap();
            let mut v = EcdsaVerifier::new(curve, &pk).unwrap();
            v.update(b"headerbodY");
            assert_eq!(v.verify(&sig), Err(CryptoError::DecryptFailed));
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            let mut v = EcdsaVerifier::new(curve, &pk).unwrap();
            v.update(b"headerbody");
            assert!(v.verify(&bad).is_err());
        }
    }

    #[test]
    fn fresh_copies_share_the_key_but_not_the_digest() {
        let mut s = EcdsaSigner::generate(EcdsaCurve::P384).unwrap();
        s.update(b"first message");
        let mut c = s.fresh_copy().unwrap();
        assert_eq!(
            c.public_key_compressed().unwrap(),
            s.public_key_compressed().unwrap()
        );
        c.update(b"second");
        let pk = c.public_key_compressed().unwrap();
        let sig = c.sign().unwrap();
        let mut v = EcdsaVerifier::new(EcdsaCurve::P384, &pk).unwrap();
        v.update(b"second");
        v.verify(&sig).unwrap();
    }

    #[test]
    fn rejects_malformed_or_foreign_keys() {
        let s = EcdsaSigner::generate(EcdsaCurve::P384).unwrap();
        let pk = s.public_key_compressed().unwrap();
        assert!(EcdsaVerifier::new(EcdsaCurve::P256, &pk).is_err());
        assert!(EcdsaVerifier::new(EcdsaCurve::P384, &pk[..48]).is_err());
        let mut un = pk.clone();
        un[0] = 4;
        assert!(EcdsaVerifier::new(EcdsaCurve::P384, &un).is_err());
        // x = all 0xff is not a field element: no point.
        let mut junk = vec![0xffu8; 49];
        junk[0] = 2;
        assert!(EcdsaVerifier::new(EcdsaCurve::P384, &junk).is_err());
    }
}
