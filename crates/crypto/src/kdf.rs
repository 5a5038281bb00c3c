use crate::SecretKey;
use aws_lc_rs::hkdf;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KdfError {
    #[error("invalid Argon2id parameters: {0}")]
    Params(String),
}

/// HKDF-SHA256 (RFC 5869) expanding `ikm` into a 256-bit key for the purpose named by `info`.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> SecretKey {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let mut out = [0u8; 32];
    let info = [info];
    // Expanding to 32 bytes is always within HKDF's 255*HashLen limit.
    match prk.expand(&info, Len32).and_then(|okm| okm.fill(&mut out)) {
        Ok(()) => SecretKey::from_bytes(out),
        Err(_) => std::process::abort(),
    }
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
    let mut out = [0u8; 32];
    a.hash_password_into(passphrase, salt, &mut out)
        .map_err(|e| KdfError::Params(e.to_string()))?;
    Ok(SecretKey::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn hkdf_separates_purposes() {
        assert_ne!(hkdf_sha256(b"k", b"", b"a"), hkdf_sha256(b"k", b"", b"b"));
    }
}
