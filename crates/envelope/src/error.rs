use std::io;

/// Everything that can go wrong while encrypting or decrypting a message.
///
/// Messages are fixed strings or names chosen by the caller (key names, context keys): no
/// key material or plaintext is ever part of an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed message (or a field is out of its allowed range).
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message ended before its structure did.
    #[error("message is truncated")]
    Truncated,
    /// Bytes follow the end of the message.
    #[error("unexpected bytes after the end of the message")]
    TrailingData,
    /// A version, algorithm suite or content type this implementation does not know.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The header authentication tag did not verify (wrong data key, tampered header, or
    /// an encryption context that does not match the one the message was written with).
    #[error("message header did not authenticate")]
    HeaderAuthentication,
    /// The data key does not commit to this message (key-commitment suites).
    #[error("key commitment does not match the data key")]
    KeyCommitment,
    /// A frame's authentication tag did not verify.
    #[error("message body did not authenticate")]
    BodyAuthentication,
    /// Frames out of order, missing or repeated.
    #[error("frame sequence is invalid: {0}")]
    FrameSequence(&'static str),
    /// The footer signature did not verify.
    #[error("message signature did not verify")]
    Signature,
    /// The commitment policy does not allow this algorithm suite.
    #[error("commitment policy {policy} does not allow algorithm suite {suite:#06x} for {op}")]
    CommitmentPolicy {
        policy: &'static str,
        suite: u16,
        op: &'static str,
    },
    /// A signed message given to a decryptor that only accepts unsigned suites.
    #[error("signed algorithm suite refused by an unsigned-only decryptor")]
    SignedSuiteRefused,
    /// More encrypted data keys than the configured maximum.
    #[error("{count} encrypted data keys exceed the configured maximum of {max}")]
    TooManyEncryptedDataKeys { count: usize, max: usize },
    /// An encryption context that is invalid or does not match what is required.
    #[error("encryption context: {0}")]
    EncryptionContext(String),
    /// No keyring could decrypt any of the message's encrypted data keys.
    #[error("no keyring could decrypt a data key: {0}")]
    NoDecryptableDataKey(String),
    /// A keyring failed while encrypting (or is misconfigured).
    #[error("keyring: {0}")]
    Keyring(String),
    /// A KMS call failed.
    #[error("KMS: {0}")]
    Kms(String),
    /// An invalid configuration value (frame length, suite, key name...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The encryptor or decryptor was used after it failed or finished.
    #[error("stream is no longer usable after an earlier error or finish")]
    Poisoned,
    /// A thread sealing or opening frames stopped without finishing its frames.
    #[error("a frame worker thread failed")]
    Worker,
    /// Reading or writing the underlying stream failed.
    #[error("I/O: {0}")]
    Io(io::Error),
}

impl From<io::Error> for Error {
    /// A short read is a truncated message; an `io::Error` that carries one of ours (from a
    /// nested encryptor/decryptor) is unwrapped back.
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return Error::Truncated;
        }
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(Ok(ours)) = e.into_inner().map(|i| i.downcast::<Error>()) {
                return *ours;
            }
            return Error::Poisoned;
        }
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    /// For the `Read`/`Write` impls: our errors travel inside `io::Error` (kind
    /// `InvalidData`, or the original kind for I/O failures) and convert back losslessly.
    fn from(e: Error) -> Self {
        match e {
            Error::Io(io) => io,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
