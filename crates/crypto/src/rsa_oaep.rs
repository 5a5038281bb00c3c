//! RSAES-OAEP encryption (KMS `RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`): OAEP with the
//! named hash for both the label hash and MGF1, and an empty label.

use crate::CryptoError;
use crate::asym::AsymSpec;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use zeroize::Zeroizing;

/// The OAEP hash (and MGF1 hash) of a KMS RSAES_OAEP algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OaepHash {
    Sha1,
    Sha256,
}

impl OaepHash {
    fn algorithm(self) -> &'static OaepAlgorithm {
        match self {
            OaepHash::Sha1 => &OAEP_SHA1_MGF1SHA1,
            OaepHash::Sha256 => &OAEP_SHA256_MGF1SHA256,
        }
    }

    fn len(self) -> usize {
        match self {
            OaepHash::Sha1 => 20,
            OaepHash::Sha256 => 32,
        }
    }
}

/// RFC 8017 §7.1.1: a k-byte modulus carries at most k - 2·hLen - 2 bytes.
fn max_plaintext(modulus_bytes: usize, hash: OaepHash) -> usize {
    modulus_bytes.saturating_sub(2 * hash.len() + 2)
}

/// The largest plaintext KMS Encrypt accepts for an RSA `spec` (e.g. RSA_2048: 214 bytes
/// with SHA-1, 190 with SHA-256). Zero for specs that cannot encrypt.
pub fn rsa_oaep_max_plaintext(spec: AsymSpec, hash: OaepHash) -> usize {
    spec.rsa_bits()
        .map_or(0, |bits| max_plaintext(bits / 8, hash))
}

/// Encrypts `plaintext` to the RSA public key `spki_der` (DER SubjectPublicKeyInfo).
pub fn rsa_oaep_encrypt(
    spki_der: &[u8],
    hash: OaepHash,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let public = PublicEncryptingKey::from_der(spki_der).map_err(|_| CryptoError::InvalidKey)?;
    let key = OaepPublicEncryptingKey::new(public).map_err(|_| CryptoError::InvalidKey)?;
    if plaintext.len() > key.max_plaintext_size(hash.algorithm()) {
        return Err(CryptoError::InvalidInput(
            "plaintext is too long for this RSA key and OAEP hash",
        ));
    }
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(hash.algorithm(), plaintext, &mut out, None)
        .map_err(|_| CryptoError::Internal)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Loads an RSA private key of exactly `spec`'s size for decryption.
pub(crate) fn oaep_private_key(
    spec: AsymSpec,
    pkcs8: &[u8],
) -> Result<OaepPrivateDecryptingKey, CryptoError> {
    let bits = spec.rsa_bits().ok_or(CryptoError::IncompatibleAlgorithm)?;
    let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| CryptoError::InvalidKey)?;
    if private.key_size_bits() != bits {
        return Err(CryptoError::InvalidKey);
    }
    OaepPrivateDecryptingKey::new(private).map_err(|_| CryptoError::InvalidKey)
}

/// Decrypts with an already loaded key. Every failure, including a ciphertext of the wrong
/// length, is [`CryptoError::DecryptFailed`] so padding errors cannot be told apart.
pub(crate) fn oaep_decrypt_with(
    key: &OaepPrivateDecryptingKey,
    hash: OaepHash,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if ciphertext.len() != key.key_size_bytes() {
        return Err(CryptoError::DecryptFailed);
    }
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(hash.algorithm(), ciphertext, &mut out, None)
        .map_err(|_| CryptoError::DecryptFailed)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Decrypts `ciphertext` with the RSA private key `pkcs8` of `spec`.
pub fn rsa_oaep_decrypt(
    spec: AsymSpec,
    pkcs8: &[u8],
    hash: OaepHash,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let key = oaep_private_key(spec, pkcs8)?;
    oaep_decrypt_with(&key, hash, ciphertext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asym::public_key_spki;
    use crate::asym::tests::test_key;

    const RSA: [AsymSpec; 3] = [AsymSpec::Rsa2048, AsymSpec::Rsa3072, AsymSpec::Rsa4096];
    const HASHES: [OaepHash; 2] = [OaepHash::Sha1, OaepHash::Sha256];

    #[test]
    fn limits_match_aws() {
        let limits: Vec<usize> = RSA
            .iter()
            .flat_map(|s| HASHES.iter().map(|h| rsa_oaep_max_plaintext(*s, *h)))
            .collect();
        assert_eq!(limits, [214, 190, 342, 318, 470, 446]);
        assert_eq!(
            rsa_oaep_max_plaintext(AsymSpec::EccNistP256, OaepHash::Sha1),
            0
        );
    }

    #[test]
    fn round_trip_at_the_limit_and_one_over_fails() {
        for spec in RSA {
            let key = test_key(spec);
            let spki = public_key_spki(spec, &key).unwrap();
            for hash in HASHES {
                let max = rsa_oaep_max_plaintext(spec, hash);
                let pt: Vec<u8> = (0..max).map(|i| i as u8).collect();
                let ct = rsa_oaep_encrypt(&spki, hash, &pt).unwrap();
                assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
                assert_eq!(
                    rsa_oaep_decrypt(spec, &key, hash, &ct).unwrap().as_slice(),
                    pt
                );
                let over = vec![1u8; max + 1];
                assert!(matches!(
                    rsa_oaep_encrypt(&spki, hash, &over),
                    Err(CryptoError::InvalidInput(_))
                ));
            }
        }
    }

    #[test]
    fn empty_plaintext_and_randomization() {
        let spec = AsymSpec::Rsa2048;
        let key = test_key(spec);
        let spki = public_key_spki(spec, &key).unwrap();
        let a = rsa_oaep_encrypt(&spki, OaepHash::Sha256, b"").unwrap();
        let b = rsa_oaep_encrypt(&spki, OaepHash::Sha256, b"").unwrap();
        assert_ne!(a, b);
        assert!(
            rsa_oaep_decrypt(spec, &key, OaepHash::Sha256, &a)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn wrong_hash_key_or_tampering_fails() {
        let spec = AsymSpec::Rsa2048;
        let key = test_key(spec);
        let spki = public_key_spki(spec, &key).unwrap();
        let ct = rsa_oaep_encrypt(&spki, OaepHash::Sha256, b"secret").unwrap();
        let fail = Err(CryptoError::DecryptFailed);
        assert_eq!(rsa_oaep_decrypt(spec, &key, OaepHash::Sha1, &ct), fail);
        let mut bad = ct.clone();
        bad[10] ^= 1;
        assert_eq!(rsa_oaep_decrypt(spec, &key, OaepHash::Sha256, &bad), fail);
        assert_eq!(
            rsa_oaep_decrypt(spec, &key, OaepHash::Sha256, &ct[1..]),
            fail
        );
        let other = test_key(AsymSpec::Rsa3072);
        assert_eq!(
            rsa_oaep_decrypt(spec, &other, OaepHash::Sha256, &ct),
            Err(CryptoError::InvalidKey)
        );
        assert_eq!(
            rsa_oaep_decrypt(AsymSpec::EccNistP256, &key, OaepHash::Sha256, &ct),
            Err(CryptoError::IncompatibleAlgorithm)
        );
        let ec_spki = public_key_spki(AsymSpec::EccNistP256, &test_key(AsymSpec::EccNistP256));
        assert_eq!(
            rsa_oaep_encrypt(&ec_spki.unwrap(), OaepHash::Sha1, b"x"),
            Err(CryptoError::InvalidKey)
        );
    }
}
