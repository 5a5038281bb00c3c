//! The rustls server configuration coffer uses for every TLS listener.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::version::{TLS12, TLS13};

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
