/// Failures of the asymmetric, MAC and key-import operations.
///
/// Every message is a fixed string: nothing derived from keys, plaintexts or
/// signatures can reach a log through this type.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// Key bytes are malformed, of another type, or of another size than the key spec says.
    #[error("key material is malformed or does not match the key spec")]
    InvalidKey,
    /// A caller-supplied value (message, digest, peer key, plaintext) is unacceptable.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The algorithm cannot be used with this key spec (AWS: InvalidKeyUsage).
    #[error("the algorithm is not compatible with the key spec")]
    IncompatibleAlgorithm,
    /// A ciphertext or wrapped key did not decrypt. Causes are deliberately undistinguished.
    #[error("decryption failed")]
    DecryptFailed,
    /// The library failed where it should not (e.g. key generation); not caused by input.
    #[error("the cryptography library reported an internal failure")]
    Internal,
}
