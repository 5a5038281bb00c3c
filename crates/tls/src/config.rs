//! The rustls server configuration coffer uses for every TLS listener, and the client
//! configuration of its own outgoing connections (event webhooks).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::material::provider;
use crate::{TlsError, TlsMaterial};

/// ALPN protocols offered. Only HTTP/1.1: the listener serves HTTP/1.1, and advertising h2
/// without serving it would break clients that prefer it.
pub const ALPN_PROTOCOLS: &[&[u8]] = &[b"http/1.1"];

/// A server config with TLS 1.2 and 1.3 only (listed explicitly, so a future rustls default
/// cannot widen it), the aws-lc-rs provider and ALPN `http/1.1`.
pub fn server_config(m: &TlsMaterial) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13, &TLS12])?
        .with_no_client_auth()
        .with_single_cert(m.chain().to_vec(), m.key().clone_key())?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A client config trusting exactly the certificates in the PEM file `ca_file` (TLS 1.2 and
/// 1.3, the aws-lc-rs provider), for coffer's outgoing connections such as event webhooks.
pub fn client_config(ca_file: &std::path::Path) -> Result<Arc<ClientConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> =
        crate::material::parse_certs(ca_file, &crate::fsio::read(ca_file)?)?;
    let mut roots = RootCertStore::empty();
    for c in certs {
        roots.add(c)?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13, &TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
