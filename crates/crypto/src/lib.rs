//! The one place in coffer that calls a cryptography library.
//!
//! Everything here is a thin, typed wrapper over aws-lc-rs (and the RustCrypto `argon2`
//! crate for passphrase stretching, which aws-lc-rs does not offer). No primitive is
//! implemented here. Key material lives in [`SecretKey`] or `Zeroizing` buffers, which
//! zeroize on drop.
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
pub use digest::{Sha256, constant_time_eq, hmac_sha256, sha1_legacy, sha256, sha256_hex, sha512};
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
