//! Integration tests: helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use coffer_bench::{
    BenchConfig, BenchError, Credentials, LevelReport, RequestTemplate, Scenario, format_json,
    format_markdown, format_table, scenario, serve_floor_on,
};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

async fn floor() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_floor_on(listener));
    addr
}

/// A test server answering with `handler(headers, body)`.
async fn server<F>(handler: F) -> SocketAddr
where
    F: Fn(&http::request::Parts, &[u8]) -> (StatusCode, String) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let (status, text) = handler(&parts, &body);
                        let mut resp = Response::new(Full::new(Bytes::from(text)));
                        *resp.status_mut() = status;
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn config(addr: SocketAddr, scenario: Scenario) -> BenchConfig {
    let mut c = BenchConfig::new(
        format!("http://{addr}").parse().unwrap(),
        scenario,
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    );
    c.concurrency = vec![1, 4];
    c.duration = Some(Duration::from_millis(300));
    c.warmup = Duration::from_millis(50);
    c
}

fn assert_sane(r: &LevelReport) {
    assert!(r.requests > 0, "{r:?}");
    assert!(r.p50_ms > 0.0, "{r:?}");
    assert!(
        r.p50_ms <= r.p90_ms && r.p90_ms <= r.p99_ms && r.p99_ms <= r.max_ms,
        "{r:?}"
    );
    assert!(r.throughput_rps > 0.0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floor_has_no_errors_and_ordered_percentiles() {
    let addr = floor().await;
    let reports = coffer_bench::run(&config(addr, scenario("floor").unwrap()))
        .await
        .unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].concurrency, 1);
    assert_eq!(reports[1].concurrency, 4);
    for r in &reports {
        assert_sane(r);
        assert_eq!(r.errors, 0, "{r:?}");
        assert_eq!(r.reconnects, 0, "keep-alive must hold: {r:?}");
        assert!(r.first_error.is_none());
    }
    let table = format_table(&reports);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert_eq!(format_markdown(&reports, false).lines().count(), 2);
    let json: serde_json::Value = serde_json::from_str(&format_json(&reports).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_other_500_is_counted_as_an_error() {
    let n = Arc::new(AtomicU64::new(0));
    let addr = server(move |_, _| {
        if n.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            (StatusCode::OK, "ok".into())
        } else {
            (StatusCode::INTERNAL_SERVER_ERROR, "boom: internal".into())
        }
    })
    .await;
    let mut c = config(addr, scenario("floor").unwrap());
    c.concurrency = vec![1];
    let reports = coffer_bench::run(&c).await.unwrap();
    let r = &reports[0];
    assert_sane(r);
    assert!(r.errors > 0 && r.errors < r.requests, "{r:?}");
    let diff = (r.requests - r.errors).abs_diff(r.errors);
    assert!(diff <= 1, "one of every two fails: {r:?}");
    let e = r.first_error.as_deref().unwrap();
    assert!(e.contains("500") && e.contains("boom: internal"), "{e}");
    assert!(format_table(&reports).contains("boom: internal"));
}

#[tokio::test]
async fn requests_carry_a_fresh_sigv4_signature() {
    let addr = server(|parts, body| {
        let headers = &parts.headers;
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ok = auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/sts/aws4_request")
            && auth.contains("SignedHeaders=content-type;host;x-amz-date")
            && auth.contains("Signature=")
            && headers.contains_key("x-amz-date")
            && headers
                .get("x-amz-security-token")
                .is_some_and(|t| t == "tok")
            && headers
                .get("content-type")
                .is_some_and(|t| t == "application/x-www-form-urlencoded; charset=utf-8")
            && body == b"Action=GetCallerIdentity&Version=2011-06-15";
        if ok {
            (StatusCode::OK, "<ok/>".into())
        } else {
            (StatusCode::FORBIDDEN, format!("bad request: {auth}"))
        }
    })
    .await;
    let mut c = config(addr, scenario("sts-get-caller-identity").unwrap());
    c.region = "eu-west-1".into();
    c.credentials.session_token = Some("tok".into());
    let reports = coffer_bench::run(&c).await.unwrap();
    for r in &reports {
        assert_sane(r);
        assert_eq!(r.errors, 0, "{r:?}");
    }
}

#[tokio::test]
async fn a_request_budget_ends_the_level_exactly() {
    let addr = floor().await;
    let mut c = config(addr, scenario("floor").unwrap());
    c.duration = None;
    c.requests = Some(57);
    c.concurrency = vec![1, 3];
    let reports = coffer_bench::run(&c).await.unwrap();
    for r in &reports {
        assert_eq!(r.requests, 57, "{r:?}");
        assert_eq!(r.errors, 0);
    }
}

#[tokio::test]
async fn a_setup_step_captures_values_for_the_load() {
    // A fake KMS: CreateKey answers a key id; Encrypt succeeds only with that id.
    let addr = server(|parts, body| {
        let headers = &parts.headers;
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = String::from_utf8_lossy(body);
        match target {
            "TrentService.CreateKey" => (
                StatusCode::OK,
                r#"{"KeyMetadata":{"KeyId":"key-from-setup"}}"#.into(),
            ),
            "TrentService.Encrypt" if body.contains("\"key-from-setup\"") => {
                (StatusCode::OK, r#"{"CiphertextBlob":"AAAA"}"#.into())
            }
            _ => (
                StatusCode::BAD_REQUEST,
                format!("unexpected {target} {body}"),
            ),
        }
    })
    .await;
    let mut c = config(addr, scenario("kms-encrypt").unwrap());
    c.concurrency = vec![2];
    assert_eq!(c.service, "kms");
    let reports = coffer_bench::run(&c).await.unwrap();
    assert_sane(&reports[0]);
    assert_eq!(reports[0].errors, 0, "{reports:?}");
}

/// With a setup endpoint, setup calls go there and the load, the captured request
/// signed for its own host, goes to the endpoint.
#[tokio::test]
async fn setup_can_run_at_another_endpoint() {
    let setup_calls = Arc::new(AtomicU64::new(0));
    let seen = setup_calls.clone();
    let setup = server(move |parts, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        match parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
        {
            Some("TrentService.CreateKey") => (
                StatusCode::OK,
                r#"{"KeyMetadata":{"KeyId":"key-from-setup"}}"#.into(),
            ),
            other => (StatusCode::BAD_REQUEST, format!("unexpected {other:?}")),
        }
    })
    .await;
    let setup_host = setup.to_string();
    let load = server(move |parts, body| {
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok());
        let signed = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        let host = parts.headers.get("host").and_then(|v| v.to_str().ok());
        let ok = target == Some("TrentService.Encrypt")
            && signed
            && host.is_some_and(|h| h != setup_host)
            && String::from_utf8_lossy(body).contains("\"key-from-setup\"");
        if ok {
            (StatusCode::OK, "{}".into())
        } else {
            (StatusCode::BAD_REQUEST, format!("unexpected {target:?}"))
        }
    })
    .await;
    let mut c = config(load, scenario("kms-encrypt").unwrap());
    c.concurrency = vec![2];
    c.setup_endpoint = Some(format!("http://{setup}").parse().unwrap());
    let reports = coffer_bench::run(&c).await.unwrap();
    assert_sane(&reports[0]);
    assert_eq!(reports[0].errors, 0, "{reports:?}");
    assert_eq!(
        setup_calls.load(Ordering::SeqCst),
        1,
        "only CreateKey went to setup"
    );
}

#[tokio::test]
async fn a_failing_setup_stops_the_run() {
    let addr = server(|_, _| (StatusCode::BAD_REQUEST, "no such thing".into())).await;
    let c = config(addr, scenario("kms-decrypt").unwrap());
    let err = coffer_bench::run(&c).await.unwrap_err();
    assert!(matches!(err, BenchError::Setup { .. }), "{err}");
    assert!(err.to_string().contains("no such thing"), "{err}");
}

#[tokio::test]
async fn generic_aws_json_target() {
    let addr = server(|parts, body| {
        let headers = &parts.headers;
        let good = headers
            .get("x-amz-target")
            .is_some_and(|v| v == "TrentService.Encrypt")
            && headers
                .get("content-type")
                .is_some_and(|v| v == "application/x-amz-json-1.1")
            && body == br#"{"KeyId":"k","Plaintext":"AA=="}"#;
        if good {
            (StatusCode::OK, "{}".into())
        } else {
            (StatusCode::BAD_REQUEST, "bad".into())
        }
    })
    .await;
    let s = Scenario::aws_json(
        "kms",
        "TrentService.Encrypt",
        r#"{"KeyId":"k","Plaintext":"AA=="}"#,
    );
    let reports = coffer_bench::run(&config(addr, s)).await.unwrap();
    assert_eq!(reports[0].errors, 0, "{reports:?}");
}

#[tokio::test]
async fn unreachable_endpoint_and_bad_config_are_errors() {
    // Bind then drop, so nothing listens on the port.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = coffer_bench::run(&config(addr, scenario("floor").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, BenchError::Connect { .. }), "{err}");

    let mut c = config(addr, scenario("floor").unwrap());
    c.concurrency = vec![0];
    assert!(matches!(
        coffer_bench::run(&c).await,
        Err(BenchError::Config(_))
    ));
    let mut c = config(addr, scenario("floor").unwrap());
    c.endpoint = "https://localhost:1/".parse().unwrap();
    assert!(matches!(
        coffer_bench::run(&c).await,
        Err(BenchError::Config(_))
    ));
    let mut c = config(addr, scenario("floor").unwrap());
    c.scenario.template = RequestTemplate::get("/x");
    c.scenario.template.body = Bytes::from_static(b"no content type");
    assert!(matches!(
        coffer_bench::run(&c).await,
        Err(BenchError::Request(_))
    ));
}

#[tokio::test]
async fn signatures_verify_with_the_servers_verifier() {
    use coffer_types::{Clock, SystemClock};
    use coffer_wire::sigv4::{VerifyOptions, parse, verify};
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let addr = server(move |parts, body| {
        let checked = parse(parts).and_then(|parsed| {
            verify(
                &parsed,
                parts,
                &coffer_crypto::sha256_hex(body),
                secret,
                SystemClock.now(),
                &VerifyOptions::default(),
            )
        });
        match checked {
            Ok(()) => (StatusCode::OK, "{}".into()),
            Err(e) => (StatusCode::FORBIDDEN, e.to_string()),
        }
    })
    .await;
    for name in ["sts-get-caller-identity", "floor"] {
        let mut s = scenario(name).unwrap();
        s.template.sign = true;
        let mut c = config(addr, s);
        c.concurrency = vec![2];
        c.duration = Some(Duration::from_millis(150));
        let reports = coffer_bench::run(&c).await.unwrap();
        assert_eq!(reports[0].errors, 0, "{reports:?}");
    }
    let s = Scenario::aws_json("kms", "TrentService.Encrypt", r#"{"KeyId":"k"}"#);
    let reports = coffer_bench::run(&config(addr, s)).await.unwrap();
    assert_eq!(reports[0].errors, 0, "{reports:?}");
}
