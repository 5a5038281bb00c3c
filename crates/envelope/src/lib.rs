//! Client-side envelope encryption in the AWS Encryption SDK (ESDK) message format.
//!
//! A fresh data key encrypts the data; keyrings wrap the data key (with KMS, or with local
//! AES or RSA keys) and the wrapped keys travel in the message header. Messages are
//! byte-compatible with the official ESDKs and the `aws-encryption-cli`: versions 1 and 2,
//! all eleven algorithm suites for decryption, the committing suites for encryption
//! (default 0x0578: AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384), framed bodies
//! (and non-framed ones for decryption).
//!
//! This crate does no I/O besides the `Read`/`Write` it is given and talks to KMS only
//! through the [`KmsClient`] trait.
//!
//! ```
//! use coffer_envelope::{decrypt, encrypt, EncryptionContext, RawAesKeyring};
//!
//! let keyring = RawAesKeyring::new("my-namespace", "my-key", &[7u8; 32])?;
//! let mut ec = EncryptionContext::new();
//! ec.insert("purpose".into(), "example".into());
//! let message = encrypt(&keyring, b"secret data", &ec)?;
//! let out = decrypt(&keyring, &message)?;
//! assert_eq!(out.plaintext, b"secret data");
//! assert_eq!(out.info.encryption_context["purpose"], "example");
//! # Ok::<(), coffer_envelope::Error>(())
//! ```

mod body;
mod caching;
mod client;
mod cmm;
mod context;
mod decrypt;
mod derive;
mod encrypt;
mod error;
mod frames;
mod header;
pub mod keyring;
mod materials;
mod pem;
mod suite;
mod wire;

pub use body::DEFAULT_FRAME_LENGTH;
pub use caching::{CacheLimits, CachingCmm};
pub use client::{Client, Decrypted};
pub use cmm::{
    CryptoMaterialsManager, DecryptionRequest, DefaultCmm, EncryptionRequest,
    RequiredEncryptionContextCmm,
};
pub use coffer_crypto::RsaPadding;
pub use context::{EncryptionContext, PUBLIC_KEY_FIELD, RESERVED_PREFIX};
pub use decrypt::{DecryptOptions, Decryptor, MessageInfo};
pub use encrypt::Encryptor;
pub use error::{Error, Result};
pub use header::{ContentType, Header, parse_header};
pub use keyring::{
    Keyring, KmsClient, KmsDiscoveryKeyring, KmsKeyring, MultiKeyring, RawAesKeyring, RawRsaKeyring,
};
pub use materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
pub use suite::{AlgorithmSuite, CommitmentPolicy, Kdf};

/// Encrypts `plaintext` with the default client (suite 0x0578, 4096-byte frames).
pub fn encrypt<M: CryptoMaterialsManager + ?Sized>(
    cmm: &M,
    plaintext: &[u8],
    encryption_context: &EncryptionContext,
) -> Result<Vec<u8>> {
    Client::new().encrypt(cmm, plaintext, encryption_context)
}

/// Decrypts a complete message with the default client (committing suites only). Returns
/// nothing unless the whole message verified.
pub fn decrypt<M: CryptoMaterialsManager + ?Sized>(cmm: &M, message: &[u8]) -> Result<Decrypted> {
    Client::new().decrypt(cmm, message, &DecryptOptions::default())
}
