//! TLS for coffer: local CA and certificate generation, rustls config, TLS and plain HTTP on
//! one port.
//!
//! - [`load_or_generate`]: a local CA and server certificate in a directory, keys sealed
//!   through a [`KeySealer`] (never plaintext on disk), renewed from the stored CA as needed.
//! - [`load_pem`]: operator-supplied certificate and key (`--tls-cert` / `--tls-key`).
//! - [`server_config`]: TLS 1.2/1.3, aws-lc-rs, ALPN `http/1.1`.
//! - [`accept`]: one port for both TLS and plain HTTP, told apart by the first byte.
//!
//! Nothing here reads the clock: certificate validity is computed from the `now` passed in.

mod accept;
mod ca;
mod config;
mod der;
mod error;
mod fsio;
mod material;
mod sealer;

pub use accept::{
    Conn, FIRST_BYTE_TIMEOUT, HANDSHAKE_TIMEOUT, PlainHttpPolicy, accept, accept_with_timeouts,
};
pub use ca::load_or_generate;
pub use config::{ALPN_PROTOCOLS, client_config, client_config_with_system_roots, server_config};
pub use error::{SealError, TlsError};
pub use material::{Origin, TlsMaterial, load_pem};
pub use sealer::KeySealer;

/// Re-exported so callers (e.g. a `tokio_rustls::TlsAcceptor`) use the same versions.
pub use rustls;
pub use tokio_rustls;
