//! The client: configuration shared by encrypt and decrypt, and the one-shot operations.

use crate::body::DEFAULT_FRAME_LENGTH;
use crate::cmm::CryptoMaterialsManager;
use crate::context::EncryptionContext;
use crate::decrypt::{DecryptOptions, Decryptor, MessageInfo};
use crate::encrypt::Encryptor;
use crate::suite::{AlgorithmSuite, CommitmentPolicy};
use crate::{Error, Result};
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// Settings for encrypting and decrypting; cheap to clone.
///
/// Defaults: commitment policy `RequireEncryptRequireDecrypt`, suite 0x0578, frames of
/// 4096 bytes, no limit on encrypted data keys, frames sealed and opened on as many threads
/// as there are cores (for large messages; the bytes do not depend on the thread count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub(crate) commitment_policy: CommitmentPolicy,
    pub(crate) max_encrypted_data_keys: Option<usize>,
    pub(crate) frame_length: u32,
    pub(crate) suite: Option<AlgorithmSuite>,
    pub(crate) threads: usize,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: None,
            frame_length: DEFAULT_FRAME_LENGTH,
            suite: None,
            threads: crate::frames::default_threads(),
        }
    }
}

/// A decrypted message: the plaintext and what the header said.
pub struct Decrypted {
    pub plaintext: Vec<u8>,
    pub info: MessageInfo,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext_len", &self.plaintext.len())
            .field("info", &self.info)
            .finish()
    }
}

impl Client {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_commitment_policy(mut self, policy: CommitmentPolicy) -> Self {
        self.commitment_policy = policy;
        self
    }

    /// Encrypting with more, or decrypting a message with more, encrypted data keys fails.
    pub fn with_max_encrypted_data_keys(mut self, max: usize) -> Result<Self> {
        if max == 0 {
            return Err(Error::Config(
                "the maximum number of encrypted data keys must be > 0".into(),
            ));
        }
        self.max_encrypted_data_keys = Some(max);
        Ok(self)
    }

    /// Plaintext bytes per frame (1 ..= 2^32 - 1).
    pub fn with_frame_length(mut self, frame_length: u32) -> Result<Self> {
        if frame_length == 0 {
            return Err(Error::Config("frame length must be greater than 0".into()));
        }
        self.frame_length = frame_length;
        Ok(self)
    }

    /// The suite to encrypt with; it must be allowed by the commitment policy.
    pub fn with_suite(mut self, suite: AlgorithmSuite) -> Self {
        self.suite = Some(suite);
        self
    }

    /// Most threads sealing or opening frames (at least 1; 1 keeps everything on the
    /// calling thread). Messages below a few hundred KiB use one thread whatever this says.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    pub fn commitment_policy(&self) -> CommitmentPolicy {
        self.commitment_policy
    }

    /// Encrypts `plaintext` into a complete message.
    pub fn encrypt<M: CryptoMaterialsManager + ?Sized>(
        &self,
        cmm: &M,
        plaintext: &[u8],
        encryption_context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        let frames = plaintext.len() / self.frame_length as usize + 1;
        let capacity = plaintext.len() + frames * 40 + 1024;
        let mut enc = self.encryptor(
            cmm,
            encryption_context,
            Vec::with_capacity(capacity),
            Some(plaintext.len() as u64),
        )?;
        enc.write_all(plaintext)?;
        enc.finish()
    }

    /// Decrypts a complete message. Nothing is returned unless the whole message, including
    /// its signature, verified.
    pub fn decrypt<M: CryptoMaterialsManager + ?Sized>(
        &self,
        cmm: &M,
        message: &[u8],
        options: &DecryptOptions,
    ) -> Result<Decrypted> {
        let mut dec = self.decryptor(cmm, message, options)?;
        let mut out = Zeroizing::new(Vec::with_capacity(message.len()));
        dec.read_to_end(&mut out)?;
        let info = dec.info().clone();
        Ok(Decrypted {
            plaintext: std::mem::take(&mut *out),
            info,
        })
    }

    /// Starts a streaming encryption into `sink`; the header is written now. `plaintext_len`
    /// is a bound: writing more fails.
    pub fn encryptor<W: Write, M: CryptoMaterialsManager + ?Sized>(
        &self,
        cmm: &M,
        encryption_context: &EncryptionContext,
        sink: W,
        plaintext_len: Option<u64>,
    ) -> Result<Encryptor<W>> {
        Encryptor::start(self, cmm, encryption_context, sink, plaintext_len)
    }

    /// Starts a streaming decryption of `source`; the header is read and authenticated now.
    pub fn decryptor<R: Read, M: CryptoMaterialsManager + ?Sized>(
        &self,
        cmm: &M,
        source: R,
        options: &DecryptOptions,
    ) -> Result<Decryptor<R>> {
        Decryptor::start(self, cmm, source, options)
    }
}
