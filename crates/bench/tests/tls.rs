//! Integration tests: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use coffer_bench::{BenchConfig, BenchError, Credentials, FLOOR_BODY, scenario};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[tokio::test]
async fn https_endpoint_with_a_ca_bundle() {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("coffer-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, cert.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        FLOOR_BODY.as_bytes(),
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });

    let mut c = BenchConfig::new(
        format!("https://localhost:{port}").parse().unwrap(),
        scenario("sts-get-caller-identity").unwrap(),
        Credentials::new("AKID", "secret"),
    );
    c.concurrency = vec![2];
    c.duration = Some(Duration::from_millis(200));
    c.warmup = Duration::from_millis(20);
    c.ca_bundle = Some(ca.clone());
    let reports = coffer_bench::run(&c).await.unwrap();
    assert!(reports[0].requests > 0);
    assert_eq!(reports[0].errors, 0, "{reports:?}");

    // Without trusting the certificate the handshake fails before the load.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong = dir.join("wrong.pem");
    std::fs::write(&wrong, other.cert.pem()).unwrap();
    c.ca_bundle = Some(wrong);
    let err = coffer_bench::run(&c).await.unwrap_err();
    assert!(matches!(err, BenchError::Connect { .. }), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
