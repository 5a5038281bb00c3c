//! One error type for the crate. Variants that concern a file carry its path, because the
//! operator who reads "bad PEM" needs to know which of four files to look at.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Returned by a [`crate::KeySealer`] that cannot open a sealed key (wrong root key, corrupted
/// file, wrong purpose). The sealer decides the wording; it must not include key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SealError {
    reason: String,
}

impl SealError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid PEM: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("{path}: no CERTIFICATE block found")]
    NoCertificate { path: PathBuf },
    #[error(
        "{path}: no private key found (expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)"
    )]
    NoPrivateKey { path: PathBuf },
    #[error("{key}: private key is unusable: {reason}")]
    UnusableKey { key: PathBuf, reason: String },
    #[error("{key}: private key does not match the certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("{path}: cannot unseal private key: {source}")]
    Unseal {
        path: PathBuf,
        #[source]
        source: SealError,
    },
    #[error("{path}: certificate is not parseable: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("invalid server name {name:?}: expected a DNS name or an IP address")]
    InvalidName { name: String },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("freshly issued certificate does not verify against {path}: {reason}")]
    SelfCheck { path: PathBuf, reason: String },
    #[error("time {0} is outside the range certificates can express")]
    TimeOutOfRange(time::OffsetDateTime),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("peer {peer}: connection closed before sending a byte")]
    ClosedEarly { peer: SocketAddr },
    #[error("peer {peer}: timed out waiting for {stage}")]
    Timeout {
        peer: SocketAddr,
        stage: &'static str,
    },
    #[error("peer {peer}: plain HTTP is only accepted from loopback; use HTTPS")]
    PlainHttpRefused { peer: SocketAddr },
    #[error("peer {peer}: {stage}: {source}")]
    Connection {
        peer: SocketAddr,
        stage: &'static str,
        #[source]
        source: std::io::Error,
    },
}
