//! The one place in coffer that calls a cryptography library.
//!
//! Everything here is a thin, typed wrapper over aws-lc-rs (plus two crates for what
//! aws-lc-rs does not offer: RustCrypto's `argon2` for passphrase stretching, and
//! `ed25519-dalek` for Ed25519ph signatures). No primitive is implemented here. Key
//! material lives in [`SecretKey`] or `Zeroizing` buffers, which zeroize on drop.
//!
//! Beyond AES-GCM sealing, the modules cover what AWS KMS needs: asymmetric key specs
//! ([`AsymSpec`]), signatures ([`sign`], [`verify`]), RSA-OAEP, ECDH, HMAC and the
//! unwrapping of imported key material. For client-side envelope encryption (the AWS
//! Encryption SDK message format) it adds AES-GCM with explicit IVs ([`GcmKey`]), HKDF
//! with SHA-256/384/512 ([`hkdf`]), streamed ECDSA with compressed public keys
//! ([`EcdsaSigner`], [`EcdsaVerifier`]) and RSA wrapping of data keys ([`RsaPublicKey`]).

mod aead;
mod asym;
mod digest;
mod ecdh;
mod ecdsa;
mod ed25519ph;
mod error;
mod gcm;
mod kdf;
mod mac;
mod rsa_oaep;
mod rsa_wrap;
mod sign;
mod wrap;

pub use aead::{AeadError, SEAL_OVERHEAD, open, seal, seal_with_nonce};
pub use asym::{AsymSpec, generate_private_key, public_key_spki, validate_private_key};
pub use digest::{
    Sha256, constant_time_eq, hex_lower, hmac_sha256, sha1_legacy, sha256, sha256_hex, sha512,
};
pub use ecdh::ecdh_shared_secret;
pub use ecdsa::{EcdsaCurve, EcdsaSigner, EcdsaVerifier};
pub use error::CryptoError;
pub use gcm::{GCM_IV_LEN, GCM_TAG_LEN, GcmKey};
pub use kdf::{Argon2Params, HkdfHash, KdfError, argon2id, hkdf, hkdf_sha256};
pub use mac::{MacAlgorithm, generate_hmac_key, hmac, hmac_key_len, hmac_verify};
pub use rsa_oaep::{OaepHash, rsa_oaep_decrypt, rsa_oaep_encrypt, rsa_oaep_max_plaintext};
pub use rsa_wrap::{RsaPadding, RsaPrivateKey, RsaPublicKey};
pub use sign::{MessageType, SigningAlgorithm, sign, verify};
pub use wrap::{
    WrappingAlgorithm, aes_kwp_unwrap, aes_kwp_wrap, unwrap_imported_material, wrap_for_import,
};

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit symmetric key. Zeroized when dropped; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        fill_random(&mut k);
        Self(k)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Fills `buf` from the CSPRNG. A failure of the system RNG is unrecoverable: continuing
/// would risk predictable keys, so the process aborts rather than returning.
pub fn fill_random(buf: &mut [u8]) {
    if aws_lc_rs::rand::fill(buf).is_err() {
        std::process::abort();
    }
}

/// Bytes the per-thread pool of [`fill_unique`] draws from the CSPRNG at a time.
const UNIQUE_POOL: usize = 512;

/// A thread's unused CSPRNG output for [`fill_unique`]. Bytes are zeroed as they are handed
/// out, and the rest when the thread ends.
struct UniquePool {
    bytes: zeroize::Zeroizing<[u8; UNIQUE_POOL]>,
    next: usize,
}

thread_local! {
    static UNIQUE: std::cell::RefCell<UniquePool> = std::cell::RefCell::new(UniquePool {
        bytes: zeroize::Zeroizing::new([0; UNIQUE_POOL]),
        next: UNIQUE_POOL,
    });
}

/// Fills `buf` with CSPRNG output for values that must be unpredictable and never repeat
/// but are not keys: request and event ids, nonces, salts. Every request needs several of
/// these, and one `RAND_bytes` call costs about the same for 12 bytes as for 512 (a fork
/// check, a lock and a DRBG update), so each thread takes the output 512 bytes at a time
/// and hands it out in order. Every byte is still fresh CSPRNG output used once. Keys use
/// [`fill_random`], so no key material waits in a pool. coffer never forks without exec,
/// which is what would let two processes hand out the same pooled bytes.
pub fn fill_unique(buf: &mut [u8]) {
    use zeroize::Zeroize;
    if buf.len() > UNIQUE_POOL / 4 {
        fill_random(buf);
        return;
    }
    UNIQUE.with_borrow_mut(|pool| {
        if UNIQUE_POOL - pool.next < buf.len() {
            fill_random(pool.bytes.as_mut_slice());
            pool.next = 0;
        }
        let taken = &mut pool.bytes[pool.next..pool.next + buf.len()];
        buf.copy_from_slice(taken);
        taken.zeroize();
        pool.next += buf.len();
    });
}

/// `n` random bytes from the CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    fill_random(&mut v);
    v
}

#[cfg(test)]
pub(crate) mod testing {
    /// Bytes from a hex string of known-answer test vectors.
    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}

#[cfg(test)]
mod unique_tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_values_never_repeat_across_pool_refills() {
        // 12-byte nonces: 42 of them use up a pool, so this crosses about 240 refills.
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let mut n = [0u8; 12];
            fill_unique(&mut n);
            assert!(seen.insert(n), "a nonce repeated");
        }
    }

    #[test]
    fn handed_out_bytes_are_wiped_from_the_pool() {
        let mut id = [0u8; 16];
        fill_unique(&mut id);
        assert_ne!(id, [0u8; 16]);
        UNIQUE.with_borrow(|pool| {
            assert!(pool.next >= id.len());
            assert!(pool.bytes[..pool.next].iter().all(|&b| b == 0));
            assert!(pool.bytes[pool.next..].iter().any(|&b| b != 0));
        });
    }

    #[test]
    fn large_requests_bypass_the_pool() {
        let before = UNIQUE.with_borrow(|pool| pool.next);
        let mut big = [0u8; UNIQUE_POOL];
        fill_unique(&mut big);
        assert!(big.iter().any(|&b| b != 0));
        assert_eq!(UNIQUE.with_borrow(|pool| pool.next), before);
    }
}
