//! The certificate chain and key the server presents, from either source: the local CA
//! ([`crate::load_or_generate`]) or operator-supplied PEM files ([`load_pem`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{Error as RustlsError, InconsistentKeys};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::{Zeroize, Zeroizing};

use crate::{TlsError, fsio};

/// Where a [`TlsMaterial`] came from, so the server can say so at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A new local CA and server certificate were generated (clients must trust the new CA).
    Generated,
    /// The stored CA issued a new server certificate (expiring, or names changed).
    Reissued,
    /// The stored CA and server certificate were reused as they were.
    Reused,
    /// Operator-supplied files (`--tls-cert` / `--tls-key`).
    Provided,
}

/// A server certificate chain (end-entity first) and its private key.
///
/// The key is zeroized when this is dropped; `Debug` never prints it.
pub struct TlsMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca_cert_path: Option<PathBuf>,
    origin: Origin,
}

impl TlsMaterial {
    pub(crate) fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        ca_cert_path: Option<PathBuf>,
        origin: Origin,
    ) -> Self {
        Self {
            chain,
            key,
            ca_cert_path,
            origin,
        }
    }

    /// The chain to present, end-entity certificate first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// `<dir>/ca.pem` for a locally generated CA: the file to print and to use as
    /// `AWS_CA_BUNDLE`. `None` for operator-supplied certificates.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert_path.as_deref()
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }
}

impl Clone for TlsMaterial {
    fn clone(&self) -> Self {
        Self::new(
            self.chain.clone(),
            self.key.clone_key(),
            self.ca_cert_path.clone(),
            self.origin,
        )
    }
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .field("ca_cert_path", &self.ca_cert_path)
            .field("origin", &self.origin)
            .finish()
    }
}

impl Drop for TlsMaterial {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Loads an operator-supplied certificate chain and key (`--tls-cert` / `--tls-key`).
///
/// The key may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM. The key is checked against the
/// certificate here so a mismatch is reported at startup, naming both files, rather than as
/// a handshake failure on the first client.
pub fn load_pem(cert_path: &Path, key_path: &Path) -> Result<TlsMaterial, TlsError> {
    let chain = parse_certs(cert_path, &fsio::read(cert_path)?)?;
    let key_pem = Zeroizing::new(fsio::read(key_path)?);
    let key = parse_key(key_path, &key_pem)?;
    check_pair(&chain, &key, cert_path, key_path)?;
    Ok(TlsMaterial::new(chain, key, None, Origin::Provided))
}

/// All CERTIFICATE blocks in a PEM file, in order; other block types are ignored.
pub(crate) fn parse_certs(
    path: &Path,
    pem_bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(path, &e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first private key block (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub(crate) fn parse_key(path: &Path, pem_bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: path.to_path_buf(),
        },
        other => pem_err(path, &other),
    })
}

fn pem_err(path: &Path, e: &pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The provider coffer uses everywhere: aws-lc-rs, never whatever happens to be installed
/// as the process default.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Confirms the key is usable for TLS signing and belongs to the end-entity certificate.
pub(crate) fn check_pair(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(), TlsError> {
    let signer = provider()
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| TlsError::UnusableKey {
            key: key_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    match CertifiedKey::new(chain.to_vec(), signer).keys_match() {
        Ok(()) => Ok(()),
        Err(RustlsError::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert: cert_path.to_path_buf(),
                key: key_path.to_path_buf(),
            })
        }
        // The aws-lc-rs provider always knows a key's public half; if some key type does not,
        // the handshake is the only possible check, so do not refuse it here.
        Err(RustlsError::InconsistentKeys(_)) => Ok(()),
        Err(e) => Err(TlsError::BadCertificate {
            path: cert_path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}
