//! Cross-checks with independent TLS stacks: the `openssl` and `curl` command-line tools.
//! Each test skips (passes with a note) when its tool is not installed.
// Helpers outside #[test] fns are test code too; the workspace allows these in tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Stdio;

use coffer_tls::{PlainHttpPolicy, TlsMaterial};
use common::{TestSealer, curl_available, now, openssl_available, spawn_server};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// External tools check validity against the real clock, so these certificates must be
/// issued at the real time; this is the only place the tests read it.
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn live_material(dir: &Path) -> TlsMaterial {
    coffer_tls::load_or_generate(dir, &[], wall_clock(), &TestSealer::new()).unwrap()
}

#[test]
fn openssl_verifies_server_cert_against_ca_pem() {
    if !openssl_available() {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::generate(dir.path());
    let at = now().unix_timestamp().to_string();
    let out = std::process::Command::new("openssl")
        .args([
            "verify",
            "-attime",
            &at,
            "-purpose",
            "sslserver",
            "-CAfile",
            "ca.pem",
            "server.pem",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("server.pem: OK"), "{stdout}");

    // The CA really is a CA, with the promised name, and ca.pem holds only a certificate.
    let out = std::process::Command::new("openssl")
        .args([
            "x509",
            "-in",
            "ca.pem",
            "-noout",
            "-subject",
            "-ext",
            "basicConstraints",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CN=coffer local CA") || text.contains("CN = coffer local CA"),
        "{text}"
    );
    assert!(text.contains("CA:TRUE"), "{text}");

    let out = std::process::Command::new("openssl")
        .args([
            "x509",
            "-in",
            "server.pem",
            "-noout",
            "-ext",
            "subjectAltName,extendedKeyUsage",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "IP Address:0:0:0:0:0:0:0:1",
        "TLS Web Server Authentication",
    ] {
        assert!(text.contains(want), "missing {want}: {text}");
    }
}

#[test]
fn openssl_sees_server_cert_validity_capped_by_the_ca() {
    if !openssl_available() {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::generate(dir.path());
    // With about six months of CA validity left, a new server cert ends when the CA does.
    let at = now() + time::Duration::days(3470);
    coffer_tls::load_or_generate(dir.path(), &[], at, &TestSealer::new()).unwrap();
    let end = |file: &str| {
        let out = std::process::Command::new("openssl")
            .args(["x509", "-in", file, "-noout", "-enddate"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(end("server.pem"), end("ca.pem"));
}

async fn s_client(port: u16, extra: &[&str], ca: &Path) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-ign_eof",
        ])
        .arg("-CAfile")
        .arg(ca)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn openssl_s_client_handshakes_and_verifies() {
    if !openssl_available() {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = live_material(dir.path());
    let ca = dir.path().join("ca.pem");
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "-tls1_3",
                "-servername",
                "localhost",
                "-verify_hostname",
                "localhost",
            ],
            "TLSv1.3",
        ),
        (
            &[
                "-tls1_2",
                "-servername",
                "localhost",
                "-verify_hostname",
                "localhost",
            ],
            "TLSv1.2",
        ),
        (&["-tls1_3", "-verify_ip", "127.0.0.1"], "TLSv1.3"),
    ];
    for (args, version) in cases {
        let mut all = vec!["-verify_return_error"];
        all.extend_from_slice(args);
        let (ok, text) = s_client(addr.port(), &all, &ca).await;
        assert!(ok, "{args:?}: {text}");
        assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        assert!(text.contains("HTTP/1.1 200 OK"), "{text}");
        let seen = rx.recv().await.unwrap().unwrap();
        assert_eq!(seen.version, Some(version));
    }
}

#[tokio::test]
async fn openssl_s_client_tls11_is_refused_by_the_server() {
    if !openssl_available() {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = live_material(dir.path());
    let (addr, mut rx) = spawn_server(&m, PlainHttpPolicy::Allow).await;
    // SECLEVEL=0 so the client itself is willing to offer TLS 1.1; the refusal must be ours.
    let args = ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"];
    let (ok, text) = s_client(addr.port(), &args, &dir.path().join("ca.pem")).await;
    assert!(!ok || !text.contains("HTTP/1.1 200 OK"), "{text}");
    match rx.recv().await.unwrap() {
        Err(e) if e.contains("TLS handshake") => {}
        Err(e) if e.contains("closed before") => {
            eprintln!("skipped: this openssl cannot offer TLS 1.1")
        }
        other => panic!("TLS 1.1 was not refused: {other:?}"),
    }
}

async fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--max-time", "20"])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn curl_with_cacert_over_https_and_plain_http_on_one_port() {
    if !curl_available() {
        eprintln!("skipped: curl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = live_material(dir.path());
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    let (addr, _rx) = spawn_server(&m, PlainHttpPolicy::LoopbackOnly).await;
    let port = addr.port();
    for url in [
        format!("https://localhost:{port}/h"),
        format!("https://127.0.0.1:{port}/h"),
    ] {
        let (ok, text) = curl(&["--cacert", ca, &url]).await;
        assert!(ok, "{url}: {text}");
        assert!(text.contains("tls=true"), "{url}: {text}");
    }
    let (ok, text) = curl(&[&format!("http://127.0.0.1:{port}/h")]).await;
    assert!(ok && text.contains("tls=false"), "{text}");
    // Without the CA, curl must refuse the certificate.
    let (ok, text) = curl(&[&format!("https://localhost:{port}/h")]).await;
    assert!(!ok, "{text}");
}
