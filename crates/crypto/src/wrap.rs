//! Key material import (KMS GetParametersForImport / ImportKeyMaterial).
//!
//! The wrapping key is an RSA key pair generated with [`crate::generate_private_key`].
//! - `RSAES_OAEP_SHA_*`: the material is RSA-OAEP encrypted directly.
//! - `RSA_AES_KEY_WRAP_SHA_*`: an ephemeral AES key is RSA-OAEP encrypted, followed by the
//!   material wrapped under that key with AES Key Wrap with Padding (RFC 5649). This is
//!   what `openssl pkeyutl -encrypt` of the AES key concatenated with
//!   `openssl enc -id-aes256-wrap-pad` of the material produces.

use crate::CryptoError;
use crate::asym::AsymSpec;
use crate::fill_random;
use crate::rsa_oaep::{OaepHash, oaep_decrypt_with, oaep_private_key, rsa_oaep_encrypt};
use aws_lc_rs::key_wrap::{AES_128, AES_256, AesBlockCipher, AesKek, KeyWrapPadded};
use zeroize::Zeroizing;

/// AWS KMS `WrappingAlgorithm` values (the deprecated RSAES_PKCS1_V1_5 is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrappingAlgorithm {
    RsaesOaepSha1,
    RsaesOaepSha256,
    RsaAesKeyWrapSha1,
    RsaAesKeyWrapSha256,
}

impl WrappingAlgorithm {
    fn oaep_hash(self) -> OaepHash {
        match self {
            WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => {
                OaepHash::Sha1
            }
            WrappingAlgorithm::RsaesOaepSha256 | WrappingAlgorithm::RsaAesKeyWrapSha256 => {
                OaepHash::Sha256
            }
        }
    }

    fn uses_aes_key_wrap(self) -> bool {
        matches!(
            self,
            WrappingAlgorithm::RsaAesKeyWrapSha1 | WrappingAlgorithm::RsaAesKeyWrapSha256
        )
    }
}

fn kek(key: &[u8]) -> Result<AesKek, CryptoError> {
    let cipher: &'static AesBlockCipher = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => {
            return Err(CryptoError::InvalidInput(
                "AES key-wrap key must be 16 or 32 bytes",
            ));
        }
    };
    AesKek::new(cipher, key).map_err(|_| CryptoError::Internal)
}

/// AES Key Wrap with Padding (RFC 5649 / NIST SP 800-38F KWP) under a 128- or 256-bit key.
pub fn aes_kwp_wrap(kek_bytes: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if plaintext.is_empty() {
        return Err(CryptoError::InvalidInput("nothing to wrap"));
    }
    // Output is the plaintext padded to 8 bytes plus the 8-byte integrity block.
    let mut out = vec![0u8; plaintext.len().div_ceil(8) * 8 + 8];
    let len = kek(kek_bytes)?
        .wrap_with_padding(plaintext, &mut out)
        .map_err(|_| CryptoError::InvalidInput("plaintext cannot be key-wrapped"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Reverses [`aes_kwp_wrap`]. Any integrity failure is [`CryptoError::DecryptFailed`].
pub fn aes_kwp_unwrap(kek_bytes: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek(kek_bytes)?
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| CryptoError::DecryptFailed)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Recovers imported key material wrapped to the RSA wrapping key `wrapping_pkcs8`.
pub fn unwrap_imported_material(
    wrapping_spec: AsymSpec,
    wrapping_pkcs8: &[u8],
    alg: WrappingAlgorithm,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let key = oaep_private_key(wrapping_spec, wrapping_pkcs8)?;
    if !alg.uses_aes_key_wrap() {
        return oaep_decrypt_with(&key, alg.oaep_hash(), wrapped);
    }
    // The RSA block comes first and is exactly one modulus long.
    if wrapped.len() <= key.key_size_bytes() {
        return Err(CryptoError::DecryptFailed);
    }
    let (encrypted_aes_key, wrapped_material) = wrapped.split_at(key.key_size_bytes());
    let aes_key = oaep_decrypt_with(&key, alg.oaep_hash(), encrypted_aes_key)?;
    // A decrypted AES key of the wrong size means the sender did something else.
    aes_kwp_unwrap(&aes_key, wrapped_material).map_err(|_| CryptoError::DecryptFailed)
}

/// The importer's side: wraps `material` to the wrapping public key `wrapping_spki_der` as
/// ImportKeyMaterial expects. `RSA_AES_KEY_WRAP_*` uses a fresh AES-256 key.
pub fn wrap_for_import(
    wrapping_spki_der: &[u8],
    alg: WrappingAlgorithm,
    material: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if !alg.uses_aes_key_wrap() {
        return rsa_oaep_encrypt(wrapping_spki_der, alg.oaep_hash(), material);
    }
    let mut aes_key = Zeroizing::new([0u8; 32]);
    fill_random(aes_key.as_mut_slice());
    let mut out = rsa_oaep_encrypt(wrapping_spki_der, alg.oaep_hash(), aes_key.as_slice())?;
    out.extend_from_slice(&aes_kwp_wrap(aes_key.as_slice(), material)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asym::tests::test_key;
    use crate::asym::{AsymSpec, public_key_spki};
    use crate::testing::unhex;

    const ALGS: [WrappingAlgorithm; 4] = [
        WrappingAlgorithm::RsaesOaepSha1,
        WrappingAlgorithm::RsaesOaepSha256,
        WrappingAlgorithm::RsaAesKeyWrapSha1,
        WrappingAlgorithm::RsaAesKeyWrapSha256,
    ];

    // RFC 5649's own examples use a 192-bit KEK, which aws-lc-rs does not offer; this is
    // the NIST SP 800-38F CAVP KWP_AD AES-256 vector with a 248-bit plaintext (the same
    // bytes come out of `openssl enc -id-aes256-wrap-pad`).
    const KEK: &str = "09ab4286a845c18bb481da91c39a58fd52ed78d54973fc41f25163a0c33f4727";
    const WRAPPED: &str =
        "0a180a84b01fc1e44b9f9301cc89af95de758219015abc86c3e48e764e7379246ae7209aaa4f889d";
    const PLAIN: &str = "4c1b6accb492c88b10a56a56eb9b6d6ed9797056a559fe3f0c7c0429a200af";

    #[test]
    fn kwp_known_answer() {
        let kek = unhex(KEK);
        assert_eq!(
            aes_kwp_unwrap(&kek, &unhex(WRAPPED)).unwrap().as_slice(),
            unhex(PLAIN)
        );
        assert_eq!(aes_kwp_wrap(&kek, &unhex(PLAIN)).unwrap(), unhex(WRAPPED));
    }

    #[test]
    fn kwp_rejects_tampering_and_bad_keys() {
        let kek = unhex(KEK);
        let mut bad = unhex(WRAPPED);
        bad[3] ^= 1;
        assert_eq!(aes_kwp_unwrap(&kek, &bad), Err(CryptoError::DecryptFailed));
        assert_eq!(
            aes_kwp_unwrap(&kek, &bad[..8]),
            Err(CryptoError::DecryptFailed)
        );
        assert!(matches!(
            aes_kwp_unwrap(&kek[..24], &unhex(WRAPPED)),
            Err(CryptoError::InvalidInput(_))
        ));
        // KWP pads to 8 bytes: lengths that are not multiples of 8 round-trip exactly.
        for len in [1, 7, 8, 9, 32, 1217] {
            let pt = vec![0x5a; len];
            let w = aes_kwp_wrap(&kek[..16], &pt).unwrap();
            assert_eq!(aes_kwp_unwrap(&kek[..16], &w).unwrap().as_slice(), pt);
        }
    }

    #[test]
    fn import_round_trips_for_every_algorithm() {
        let spec = AsymSpec::Rsa3072;
        let wrapping = test_key(spec);
        let spki = public_key_spki(spec, &wrapping).unwrap();
        let aes_material = [0x11u8; 32];
        // An RSA private key is too long for OAEP alone: it needs RSA_AES_KEY_WRAP.
        let rsa_material = test_key(AsymSpec::Rsa2048);
        for alg in ALGS {
            let w = wrap_for_import(&spki, alg, &aes_material).unwrap();
            let got = unwrap_imported_material(spec, &wrapping, alg, &w).unwrap();
            assert_eq!(got.as_slice(), aes_material);
            if alg.uses_aes_key_wrap() {
                let w = wrap_for_import(&spki, alg, &rsa_material).unwrap();
                let got = unwrap_imported_material(spec, &wrapping, alg, &w).unwrap();
                assert_eq!(got, rsa_material);
            } else {
                assert!(matches!(
                    wrap_for_import(&spki, alg, &rsa_material),
                    Err(CryptoError::InvalidInput(_))
                ));
            }
        }
    }

    #[test]
    fn unwrap_failures() {
        let spec = AsymSpec::Rsa2048;
        let wrapping = test_key(spec);
        let spki = public_key_spki(spec, &wrapping).unwrap();
        let fail = Err(CryptoError::DecryptFailed);
        let kw = WrappingAlgorithm::RsaAesKeyWrapSha256;
        let w = wrap_for_import(&spki, kw, &[7u8; 32]).unwrap();
        // Wrong hash, tampered AES part, tampered RSA part, RSA part only.
        let kw1 = WrappingAlgorithm::RsaAesKeyWrapSha1;
        assert_eq!(unwrap_imported_material(spec, &wrapping, kw1, &w), fail);
        let mut bad = w.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(unwrap_imported_material(spec, &wrapping, kw, &bad), fail);
        bad = w.clone();
        bad[0] ^= 1;
        assert_eq!(unwrap_imported_material(spec, &wrapping, kw, &bad), fail);
        assert_eq!(
            unwrap_imported_material(spec, &wrapping, kw, &w[..256]),
            fail
        );
        // Treating an RSA_AES blob as plain OAEP fails on its length.
        let oaep = WrappingAlgorithm::RsaesOaepSha256;
        assert_eq!(unwrap_imported_material(spec, &wrapping, oaep, &w), fail);
        // A 24-byte "AES key" is refused rather than guessed at.
        let mut odd = crate::rsa_oaep_encrypt(&spki, OaepHash::Sha256, &[1u8; 24]).unwrap();
        odd.extend_from_slice(&unhex(WRAPPED));
        assert_eq!(unwrap_imported_material(spec, &wrapping, kw, &odd), fail);
        // The wrapping key must be an RSA key of the stated size.
        assert_eq!(
            unwrap_imported_material(AsymSpec::Rsa4096, &wrapping, kw, &w),
            Err(CryptoError::InvalidKey)
        );
    }
}
