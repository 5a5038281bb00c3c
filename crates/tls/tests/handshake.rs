//! Real handshakes against `coffer_tls::accept`: TLS and plain HTTP on one listener.
// Helpers outside #[test] fns are test code too; the workspace allows these in tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use coffer_tls::{PlainHttpPolicy, TlsError};
use common::{Outcome, client_config, generate, spawn_server};
use rustls::version::{TLS12, TLS13};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_rustls::TlsConnector;

const REQUEST: &[u8] = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";

async fn next(rx: &mut UnboundedReceiver<Outcome>) -> Outcome {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap()
}

/// Connects with a client trusting only ca.pem, sends one request, returns the response.
async fn tls_request(
    addr: SocketAddr,
    config: std::sync::Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = TlsConnector::from(config).connect(name, tcp).await?;
    tls.write_all(REQUEST).await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test]
async fn tls13_handshake_validates_localhost_and_loopback_ip() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let config = client_config(&dir.path().join("ca.pem"), &[&TLS13]);
    for name in ["localhost", "127.0.0.1", "::1"] {
        let name = ServerName::try_from(name).unwrap();
        let response = tls_request(addr, config.clone(), name.clone())
            .await
            .unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        let seen = next(&mut rx).await.unwrap();
        assert!(seen.tls);
        assert_eq!(seen.version, Some("TLSv1.3"));
        assert!(
            seen.suite.unwrap().starts_with("TLS_AES_"),
            "{:?}",
            seen.suite
        );
        assert_eq!(
            seen.alpn.as_deref(),
            Some(&b"http/1.1"[..]),
            "h2 is not offered"
        );
        assert!(seen.request_head.starts_with("GET /health"));
        let expect_sni = matches!(name, ServerName::DnsName(_)).then(|| "localhost".to_string());
        assert_eq!(seen.sni, expect_sni);
    }
}

#[tokio::test]
async fn tls12_is_accepted_with_an_ecdhe_ecdsa_suite() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let config = client_config(&dir.path().join("ca.pem"), &[&TLS12]);
    let name = ServerName::try_from("localhost").unwrap();
    tls_request(addr, config, name).await.unwrap();
    let seen = next(&mut rx).await.unwrap();
    assert_eq!(seen.version, Some("TLSv1.2"));
    assert!(
        seen.suite.unwrap().starts_with("ECDHE-ECDSA-"),
        "{:?}",
        seen.suite
    );
}

#[tokio::test]
async fn unlisted_name_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let (addr, _rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let config = client_config(&dir.path().join("ca.pem"), &[&TLS13]);
    let name = ServerName::try_from("coffer.example").unwrap();
    let err = tls_request(addr, config, name).await.unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[tokio::test]
async fn extra_names_validate_after_reissue() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let names = vec!["coffer.example".to_string()];
    let m = coffer_tls::load_or_generate(
        dir.path(),
        &names,
        common::now(),
        &common::TestSealer::new(),
    )
    .unwrap();
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let config = client_config(&dir.path().join("ca.pem"), &[&TLS13]);
    let name = ServerName::try_from("coffer.example").unwrap();
    tls_request(addr, config, name).await.unwrap();
    assert!(next(&mut rx).await.unwrap().tls);
}

/// A TLS 1.1 ClientHello (legacy_version 0x0302, no supported_versions extension), since no
/// client library coffer links can still speak TLS 1.1.
fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x09, 0xc0, 0x13]); // ECDHE-*-AES128-SHA
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&(body.len() as u16).to_be_bytes());
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x02];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls11_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::Allow).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&tls11_client_hello()).await.unwrap();
    let mut reply = Vec::new();
    tcp.read_to_end(&mut reply).await.unwrap();
    // Either a fatal alert record (0x15) or a bare close; never a ServerHello (0x16).
    assert!(reply.first().is_none_or(|&b| b == 0x15), "{reply:02x?}");
    let err = next(&mut rx).await.unwrap_err();
    assert!(err.contains("TLS handshake"), "{err}");
}

#[tokio::test]
async fn plain_http_reaches_the_plain_path_on_the_same_port() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(REQUEST).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("tls=false"));
    let seen = next(&mut rx).await.unwrap();
    assert!(!seen.tls);
    assert_eq!(seen.version, None);
    assert_eq!(seen.suite, None);
    assert!(
        seen.request_head.starts_with("GET /health HTTP/1.1\r\n"),
        "first byte not lost"
    );
    // And TLS still works on the very same listener afterwards.
    let config = client_config(&dir.path().join("ca.pem"), &[&TLS13]);
    tls_request(addr, config, ServerName::try_from("localhost").unwrap())
        .await
        .unwrap();
    assert!(next(&mut rx).await.unwrap().tls);
}

#[test]
fn loopback_only_policy() {
    let p = PlainHttpPolicy::LoopbackOnly;
    for ok in [
        "127.0.0.1:1",
        "127.9.9.9:1",
        "[::1]:1",
        "[::ffff:127.0.0.1]:1",
    ] {
        assert!(p.permits(ok.parse().unwrap()), "{ok}");
    }
    for bad in [
        "10.0.0.5:1",
        "192.168.1.1:443",
        "[fd00::1]:1",
        "[::ffff:10.0.0.1]:1",
        "0.0.0.0:1",
    ] {
        assert!(!p.permits(bad.parse().unwrap()), "{bad}");
        assert!(PlainHttpPolicy::Allow.permits(bad.parse().unwrap()));
    }
}

/// Runs `accept` on a real loopback connection but tells it the peer is `claimed`, which is
/// how a non-loopback peer looks to it.
async fn accept_as(
    claimed: SocketAddr,
    client_bytes: &'static [u8],
    policy: PlainHttpPolicy,
) -> Result<coffer_tls::Conn, TlsError> {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let acceptor = tokio_rustls::TlsAcceptor::from(coffer_tls::server_config(&m).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(client_bytes).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let (stream, _) = listener.accept().await.unwrap();
    let result = coffer_tls::accept(stream, claimed, &acceptor, policy).await;
    client.abort();
    result
}

#[tokio::test]
async fn loopback_only_refuses_plain_http_from_a_remote_peer() {
    let remote: SocketAddr = "203.0.113.7:50000".parse().unwrap();
    let err = accept_as(remote, REQUEST, PlainHttpPolicy::LoopbackOnly)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TlsError::PlainHttpRefused { peer } if peer == remote),
        "{err:?}"
    );
    let conn = accept_as(remote, REQUEST, PlainHttpPolicy::Allow)
        .await
        .unwrap();
    assert!(!conn.is_tls());
}

#[tokio::test]
async fn silent_client_times_out_and_closed_client_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let acceptor = tokio_rustls::TlsAcceptor::from(coffer_tls::server_config(&m).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    let idle = TcpStream::connect(addr).await.unwrap();
    let (stream, peer) = listener.accept().await.unwrap();
    let short = Duration::from_millis(200);
    let err = coffer_tls::accept_with_timeouts(
        stream,
        peer,
        &acceptor,
        PlainHttpPolicy::Allow,
        short,
        short,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TlsError::Timeout { .. }), "{err:?}");
    drop(idle);

    // A client that starts a handshake and then stalls hits the handshake timeout.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let (stream, peer) = listener.accept().await.unwrap();
    let err = coffer_tls::accept_with_timeouts(
        stream,
        peer,
        &acceptor,
        PlainHttpPolicy::Allow,
        short,
        short,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Timeout {
                stage: "the TLS handshake",
                ..
            }
        ),
        "{err:?}"
    );

    let closed = TcpStream::connect(addr).await.unwrap();
    drop(closed);
    let (stream, peer) = listener.accept().await.unwrap();
    let err = coffer_tls::accept(stream, peer, &acceptor, PlainHttpPolicy::Allow)
        .await
        .unwrap_err();
    assert!(matches!(err, TlsError::ClosedEarly { .. }), "{err:?}");
}
