//! Shared test fixtures: a sealer over coffer-crypto with a fixed key, and a test server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use coffer_crypto::SecretKey;
use coffer_tls::{Conn, KeySealer, PlainHttpPolicy, SealError, TlsMaterial};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

/// Seals with AES-GCM under a fixed key, binding the purpose as associated data, the way the
/// server's barrier does with its root key.
pub struct TestSealer(pub SecretKey);

impl TestSealer {
    pub fn new() -> Self {
        Self(SecretKey::from_bytes([7; 32]))
    }
    pub fn other() -> Self {
        Self(SecretKey::from_bytes([9; 32]))
    }
}

impl KeySealer for TestSealer {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        coffer_crypto::seal(&self.0, purpose.as_bytes(), plaintext)
    }
    fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        coffer_crypto::open(&self.0, purpose.as_bytes(), sealed)
            .map_err(|e| SealError::new(e.to_string()))
    }
}

pub fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-01-15 12:00 UTC)
}

pub fn generate(dir: &Path) -> TlsMaterial {
    coffer_tls::load_or_generate(dir, &[], now(), &TestSealer::new()).unwrap()
}

/// What the server side saw for one connection.
#[derive(Debug)]
pub struct Seen {
    pub tls: bool,
    pub version: Option<&'static str>,
    pub suite: Option<&'static str>,
    pub sni: Option<String>,
    pub alpn: Option<Vec<u8>>,
    pub request_head: String,
}

pub type Outcome = Result<Seen, String>;

/// Listens on 127.0.0.1, runs every connection through `coffer_tls::accept`, answers one
/// HTTP request with a small body, and reports what it saw on the channel.
pub async fn spawn_server(
    material: &TlsMaterial,
    plain: PlainHttpPolicy,
) -> (SocketAddr, mpsc::UnboundedReceiver<Outcome>) {
    let config = coffer_tls::server_config(material).unwrap();
    let acceptor = TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let outcome = serve_one(stream, peer, &acceptor, plain).await;
                let _ = tx.send(outcome);
            });
        }
    });
    (addr, rx)
}

async fn serve_one(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: &TlsAcceptor,
    plain: PlainHttpPolicy,
) -> Outcome {
    let mut conn = coffer_tls::accept(stream, peer, acceptor, plain)
        .await
        .map_err(|e| e.to_string())?;
    let head = read_head(&mut conn).await?;
    let seen = Seen {
        tls: conn.is_tls(),
        version: conn.tls_version(),
        suite: conn.cipher_suite(),
        sni: conn.sni().map(str::to_string),
        alpn: conn.alpn().map(<[u8]>::to_vec),
        request_head: head,
    };
    let body = format!("tls={} version={:?}\n", seen.tls, seen.version);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(response.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    conn.shutdown().await.map_err(|e| e.to_string())?;
    Ok(seen)
}

async fn read_head(conn: &mut Conn) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("eof before end of request head".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A rustls client config trusting only `ca_pem`.
pub fn client_config(
    ca_pem: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

pub fn openssl_available() -> bool {
    tool_available("openssl", &["version"])
}

pub fn curl_available() -> bool {
    tool_available("curl", &["--version"])
}

fn tool_available(tool: &str, args: &[&str]) -> bool {
    std::process::Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}
