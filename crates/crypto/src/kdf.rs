use crate::SecretKey;
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KdfError {
    #[error("invalid Argon2id parameters: {0}")]
    Params(String),
}

/// HKDF-SHA256 (RFC 5869) expanding `ikm` into a 256-bit key for the purpose named by `info`.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> SecretKey {
    let mut out = Zeroizing::new([0u8; 32]);
    // Expanding to 32 bytes is always within HKDF's 255*HashLen limit.
    match hkdf(HkdfHash::Sha256, salt, ikm, info, out.as_mut_slice()) {
        Ok(()) => SecretKey::from_bytes(*out),
        Err(_) => std::process::abort(),
    }
}

/// The hash of an [`hkdf`] derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HkdfHash {
    Sha256,
    Sha384,
    Sha512,
}

/// HKDF (RFC 5869) with `hash`: extract with `salt` (empty means HashLen zero bytes, as the
/// RFC says), then expand with `info` into all of `out` (at most 255 * HashLen bytes).
pub fn hkdf(
    hash: HkdfHash,
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), KdfError> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let alg = match hash {
        HkdfHash::Sha256 => hkdf::HKDF_SHA256,
        HkdfHash::Sha384 => hkdf::HKDF_SHA384,
        HkdfHash::Sha512 => hkdf::HKDF_SHA512,
    };
    let prk = hkdf::Salt::new(alg, salt).extract(ikm);
    let info = [info];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| KdfError::Params("HKDF output length out of range".into()))
}

/// Argon2id cost parameters. Stored beside the salt so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// 64 MiB, 3 passes, 1 lane: above the OWASP minimum profile for Argon2id.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// Stretches a passphrase into a 256-bit key with Argon2id.
pub fn argon2id(passphrase: &[u8], salt: &[u8], p: Argon2Params) -> Result<SecretKey, KdfError> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| KdfError::Params(e.to_string()))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(passphrase, salt, out.as_mut_slice())
        .map_err(|e| KdfError::Params(e.to_string()))?;
    Ok(SecretKey::from_bytes(*out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::unhex;

    #[test]
    fn argon2_is_deterministic_and_salted() {
        let p = Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let a = argon2id(b"pw", b"saltsaltsalt", p).unwrap();
        let b = argon2id(b"pw", b"saltsaltsalt", p).unwrap();
        let c = argon2id(b"pw", b"othersaltsalt", p).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn hkdf_rfc5869_case_1_and_other_hashes() {
        let ikm = [0x0bu8; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        hkdf(HkdfHash::Sha256, &salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            unhex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
                 34007208d5b887185865"
            )
        );
        // The fixed-length form is the same derivation (T(1) is the first 32 bytes).
        assert_eq!(hkdf_sha256(&ikm, &salt, &info).expose(), &okm[..32]);
        // RFC 5869 case 3: empty salt and info.
        hkdf(HkdfHash::Sha256, &[], &ikm, &[], &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            unhex(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d\
                 9d201395faa4b61a96c8"
            )
        );
        let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        hkdf(HkdfHash::Sha256, b"s", b"k", b"i", &mut a).unwrap();
        hkdf(HkdfHash::Sha384, b"s", b"k", b"i", &mut b).unwrap();
        hkdf(HkdfHash::Sha512, b"s", b"k", b"i", &mut c).unwrap();
        assert!(a != b && b != c && a != c);
        assert!(hkdf(HkdfHash::Sha256, b"", b"k", b"", &mut [0u8; 255 * 32 + 1]).is_err());
    }

    #[test]
    fn hkdf_separates_purposes() {
        assert_ne!(hkdf_sha256(b"k", b"", b"a"), hkdf_sha256(b"k", b"", b"b"));
    }
}
