//! AES-GCM (128/192/256-bit keys) with caller-chosen IVs and detached tags.
//!
//! For message formats that fix their own IV layout and place the tag themselves (the AWS
//! Encryption SDK message: deterministic per-frame IVs, header tags over an empty
//! plaintext). The key schedule is computed once per [`GcmKey`], so encrypting many frames
//! under one data key does not re-expand it.

use crate::CryptoError;
use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// IV length of every GCM use here (96 bits).
pub const GCM_IV_LEN: usize = 12;
/// Authentication tag length (128 bits).
pub const GCM_TAG_LEN: usize = 16;

/// A prepared AES-GCM key.
pub struct GcmKey(LessSafeKey);

impl std::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcmKey(..)")
    }
}

impl GcmKey {
    /// A key of 16, 24 or 32 bytes (AES-128, -192, -256).
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let alg = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            _ => return Err(CryptoError::InvalidKey),
        };
        let unbound = UnboundKey::new(alg, key).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// Encrypts `buf` in place and returns the tag. The IV must never repeat under one key.
    pub fn seal_in_place(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN], CryptoError> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), buf)
            // Only inputs beyond GCM's 64 GiB per-IV limit fail.
            .map_err(|_| CryptoError::InvalidInput("plaintext too long for AES-GCM"))?;
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts `buf` in place after checking `tag`. On failure `buf` holds no plaintext
    /// the caller may use (it is zeroed here, so nothing unauthenticated can leak).
    pub fn open_in_place(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        if tag.len() != GCM_TAG_LEN {
            return Err(CryptoError::DecryptFailed);
        }
        let nonce = Nonce::assume_unique_for_key(*iv);
        match self
            .0
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf)
        {
            Ok(_) => Ok(()),
            Err(_) => {
                buf.fill(0);
                Err(CryptoError::DecryptFailed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::unhex;

    #[test]
    fn known_answer_gcm_spec_test_case_3_and_4() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3 and 4.
        let key = GcmKey::new(&unhex("feffe9928665731c6d6a8f9467308308")).unwrap();
        let iv: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
        let pt = unhex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let mut buf = pt.clone();
        let tag = key.seal_in_place(&iv, &aad, &mut buf).unwrap();
        assert_eq!(
            buf,
            unhex(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
            )
        );
        assert_eq!(tag.to_vec(), unhex("5bc94fbc3221a5db94fae95ae7121a47"));
        key.open_in_place(&iv, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, pt);
    }

    #[test]
    fn all_key_sizes_round_trip_and_reject_tampering() {
        for len in [16, 24, 32] {
            let key = GcmKey::new(&vec![7u8; len]).unwrap();
            let iv = [1u8; 12];
            let mut buf = b"frame".to_vec();
            let tag = key.seal_in_place(&iv, b"aad", &mut buf).unwrap();
            let ct = buf.clone();
            key.open_in_place(&iv, b"aad", &mut buf, &tag).unwrap();
            assert_eq!(buf, b"frame");
            let mut bad = ct.clone();
            assert!(key.open_in_place(&iv, b"aaX", &mut bad, &tag).is_err());
            assert_eq!(
                bad,
                vec![0u8; 5],
                "no unauthenticated plaintext left behind"
            );
            let mut bad = ct.clone();
            assert!(
                key.open_in_place(&[2u8; 12], b"aad", &mut bad, &tag)
                    .is_err()
            );
            let mut bad = ct.clone();
            assert!(
                key.open_in_place(&iv, b"aad", &mut bad, &tag[..15])
                    .is_err()
            );
            // Empty plaintext: a bare tag authenticates the AAD (ESDK header tags).
            let t = key.seal_in_place(&iv, b"header", &mut []).unwrap();
            assert!(key.open_in_place(&iv, b"header", &mut [], &t).is_ok());
            assert!(key.open_in_place(&iv, b"headeR", &mut [], &t).is_err());
        }
        assert_eq!(
            GcmKey::new(&[0u8; 31]).unwrap_err(),
            CryptoError::InvalidKey
        );
    }
}
