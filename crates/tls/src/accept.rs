//! TLS and plain HTTP on one port: the first byte a client sends tells which it speaks.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::{CipherSuite, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::TlsError;

/// First byte of a TLS record carrying a handshake message (a ClientHello). No HTTP method
/// starts with it, so one byte is enough to tell the two apart.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// How long a client may take to send its first byte, and then to finish the handshake, so
/// idle or slow connections cannot pin tasks.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who may speak plain HTTP on the shared port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttpPolicy {
    /// Anyone (e.g. behind a TLS-terminating load balancer, or `--dev`).
    Allow,
    /// Only loopback peers: credentials and SSE-C keys must not cross a network in clear.
    LoopbackOnly,
}

impl PlainHttpPolicy {
    /// Whether `peer` may use plain HTTP. IPv4-mapped IPv6 loopback (`::ffff:127.0.0.1`, as
    /// seen on dual-stack sockets) counts as loopback.
    pub fn permits(self, peer: SocketAddr) -> bool {
        match self {
            Self::Allow => true,
            Self::LoopbackOnly => peer.ip().to_canonical().is_loopback(),
        }
    }
}

/// An accepted connection, TLS or plain; reads and writes application bytes either way.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    /// Boxed: a TLS stream is much larger than a TCP stream.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Accepts one connection on the shared port: waits (bounded) for the first byte, then
/// completes a TLS handshake if it starts one, or applies `plain` to a plain HTTP peer.
pub async fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: &TlsAcceptor,
    plain: PlainHttpPolicy,
) -> Result<Conn, TlsError> {
    accept_with_timeouts(
        stream,
        peer,
        acceptor,
        plain,
        FIRST_BYTE_TIMEOUT,
        HANDSHAKE_TIMEOUT,
    )
    .await
}

/// [`accept`] with explicit timeouts (for tests and tuning).
pub async fn accept_with_timeouts(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: &TlsAcceptor,
    plain: PlainHttpPolicy,
    first_byte: Duration,
    handshake: Duration,
) -> Result<Conn, TlsError> {
    if peek_first_byte(&stream, peer, first_byte).await? == TLS_HANDSHAKE_RECORD {
        let tls = tokio::time::timeout(handshake, acceptor.accept(stream))
            .await
            .map_err(|_| timeout(peer, "the TLS handshake"))?
            .map_err(|source| connection(peer, "TLS handshake", source))?;
        return Ok(Conn::Tls(Box::new(tls)));
    }
    if plain.permits(peer) {
        Ok(Conn::Plain(stream))
    } else {
        Err(TlsError::PlainHttpRefused { peer })
    }
}

/// Looks at the first byte without consuming it, so the TLS or HTTP parser sees it again.
async fn peek_first_byte(
    stream: &TcpStream,
    peer: SocketAddr,
    limit: Duration,
) -> Result<u8, TlsError> {
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(limit, stream.peek(&mut byte))
        .await
        .map_err(|_| timeout(peer, "the first byte"))?
        .map_err(|source| connection(peer, "reading the first byte", source))?;
    if n == 0 {
        return Err(TlsError::ClosedEarly { peer });
    }
    Ok(byte[0])
}

fn timeout(peer: SocketAddr, stage: &'static str) -> TlsError {
    TlsError::Timeout { peer, stage }
}

fn connection(peer: SocketAddr, stage: &'static str, source: io::Error) -> TlsError {
    TlsError::Connection {
        peer,
        stage,
        source,
    }
}

impl Conn {
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    fn tls_state(&self) -> Option<&rustls::ServerConnection> {
        match self {
            Self::Plain(_) => None,
            Self::Tls(s) => Some(s.get_ref().1),
        }
    }

    /// Negotiated protocol as CloudTrail's `tlsDetails.tlsVersion` spells it ("TLSv1.3").
    pub fn tls_version(&self) -> Option<&'static str> {
        self.tls_state()?.protocol_version().map(version_name)
    }

    /// Negotiated suite as CloudTrail's `tlsDetails.cipherSuite` spells it: OpenSSL names,
    /// e.g. "TLS_AES_128_GCM_SHA256" or "ECDHE-ECDSA-AES128-GCM-SHA256".
    pub fn cipher_suite(&self) -> Option<&'static str> {
        let suite = self.tls_state()?.negotiated_cipher_suite()?.suite();
        Some(suite_name(suite))
    }

    /// Server name the client sent in SNI, if any (the Host header is the request's business).
    pub fn sni(&self) -> Option<&str> {
        self.tls_state()?.server_name()
    }

    /// Negotiated ALPN protocol, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.tls_state()?.alpn_protocol()
    }
}

fn version_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        _ => "unknown",
    }
}

/// OpenSSL-style names for the suites the aws-lc-rs provider offers; rustls's own name
/// (or "unknown") for anything else.
fn suite_name(s: CipherSuite) -> &'static str {
    match s {
        CipherSuite::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            "ECDHE-ECDSA-CHACHA20-POLY1305"
        }
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        other => other.as_str().unwrap_or("unknown"),
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_names_match_cloudtrail_spelling() {
        assert_eq!(version_name(ProtocolVersion::TLSv1_3), "TLSv1.3");
        assert_eq!(version_name(ProtocolVersion::TLSv1_2), "TLSv1.2");
        assert_eq!(
            suite_name(CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            suite_name(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            "ECDHE-RSA-AES128-GCM-SHA256"
        );
    }

    #[test]
    fn every_offered_suite_has_an_openssl_name() {
        for s in rustls::crypto::aws_lc_rs::default_provider().cipher_suites {
            let name = suite_name(s.suite());
            assert!(
                !name.contains("TLS13_") && !name.contains("_WITH_"),
                "{name}"
            );
        }
    }
}
