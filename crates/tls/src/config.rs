//! The rustls server configuration coffer uses for every TLS listener, and the client
//! configurations of its own outgoing connections (event webhooks, rotation webhooks,
//! databases reached by the built-in rotators).

use std::sync::{Arc, OnceLock};

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
    let mut roots = RootCertStore::empty();
    add_pem_file(&mut roots, ca_file)?;
    client_config_trusting(roots)
}

/// Adds every certificate of the PEM file at `path` to `roots`.
fn add_pem_file(roots: &mut RootCertStore, path: &std::path::Path) -> Result<(), TlsError> {
    for c in crate::material::parse_certs(path, &crate::fsio::read(path)?)? {
        roots.add(c)?;
    }
    Ok(())
}

/// TLS 1.2 and 1.3 with the aws-lc-rs provider, trusting `roots`.
fn client_config_trusting(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13, &TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The operating system's trusted CAs (rustls-native-certs: `SSL_CERT_FILE` /
/// `SSL_CERT_DIR`, else the platform's bundle), read once per process. Certificates the
/// system store holds but webpki cannot use are skipped; an unreadable store is empty.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// A client config trusting the system's CAs plus, when given, the certificates of the PEM
/// file `extra_ca` (TLS 1.2 and 1.3, the aws-lc-rs provider). For coffer's outgoing
/// connections to endpoints that may use a public or a private CA (rotation webhooks,
/// databases); the extra file is how an operator adds a private CA.
pub fn client_config_with_system_roots(
    extra_ca: Option<&std::path::Path>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    // Some system bundles carry certificates webpki refuses (old v1 roots); skip those.
    roots.add_parsable_certificates(system_roots().iter().cloned());
    if let Some(path) = extra_ca {
        add_pem_file(&mut roots, path)?;
    }
    client_config_trusting(roots)
}
