//! Operator-supplied certificates and keys (`--tls-cert` / `--tls-key`).
// Helpers outside #[test] fns are test code too; the workspace allows these in tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use base64::Engine as _;
use coffer_tls::{Origin, TlsError, load_pem};
use common::{generate, openssl_available};

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn pkcs8_pair_loads_and_builds_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&dir.path().join("ca"));
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::copy(dir.path().join("ca/server.pem"), &cert).unwrap();
    std::fs::write(&key, pem("PRIVATE KEY", m.key().secret_der())).unwrap();
    let loaded = load_pem(&cert, &key).unwrap();
    assert_eq!(loaded.origin(), Origin::Provided);
    assert_eq!(loaded.ca_cert_path(), None);
    assert_eq!(loaded.chain(), m.chain());
    coffer_tls::server_config(&loaded).unwrap();
}

#[test]
fn mismatched_key_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    generate(&dir.path().join("a"));
    let other = generate(&dir.path().join("b"));
    let cert = dir.path().join("a/server.pem");
    let key = dir.path().join("other-key.pem");
    std::fs::write(&key, pem("PRIVATE KEY", other.key().secret_der())).unwrap();
    let err = load_pem(&cert, &key).unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("other-key.pem") && msg.contains("server.pem"),
        "{msg}"
    );
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    generate(&dir.path().join("ca"));
    let cert = dir.path().join("ca/server.pem");
    let missing = dir.path().join("nope.pem");
    let err = load_pem(&missing, &cert).unwrap_err();
    assert!(
        matches!(err, TlsError::Io { .. }) && err.to_string().contains("nope.pem"),
        "{err}"
    );

    // A certificate file given as the key.
    let err = load_pem(&cert, &cert).unwrap_err();
    assert!(matches!(err, TlsError::NoPrivateKey { .. }), "{err:?}");
    assert!(err.to_string().contains("server.pem"), "{err}");

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "nothing here\n").unwrap();
    let err = load_pem(&empty, &cert).unwrap_err();
    assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
    assert!(err.to_string().contains("empty.pem"), "{err}");

    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = load_pem(&broken, &cert).unwrap_err();
    assert!(matches!(err, TlsError::Pem { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.pem"), "{err}");

    let garbage_key = dir.path().join("garbage-key.pem");
    std::fs::write(&garbage_key, pem("PRIVATE KEY", b"not a key")).unwrap();
    let err = load_pem(&cert, &garbage_key).unwrap_err();
    assert!(matches!(err, TlsError::UnusableKey { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage-key.pem"), "{err}");
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes `key.pem` with `keygen`, then a self-signed `cert.pem` for it.
fn openssl_pair(dir: &Path, keygen: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    openssl(dir, keygen);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
            "-out",
            "cert.pem",
        ],
    );
    (dir.join("cert.pem"), dir.join("key.pem"))
}

#[test]
fn pkcs1_rsa_and_sec1_ec_keys_load() {
    if !openssl_available() {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let cases: [(&str, &[&str]); 3] = [
        (
            "RSA PRIVATE KEY",
            &["genrsa", "-traditional", "-out", "key.pem", "2048"],
        ),
        (
            "EC PRIVATE KEY",
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "key.pem",
            ],
        ),
        (
            "BEGIN PRIVATE KEY",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "key.pem",
            ],
        ),
    ];
    for (label, keygen) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = openssl_pair(dir.path(), keygen);
        let text = std::fs::read_to_string(&key).unwrap();
        assert!(text.contains(label), "expected {label}: {text}");
        let m = load_pem(&cert, &key).unwrap_or_else(|e| panic!("{label}: {e}"));
        coffer_tls::server_config(&m).unwrap();
    }
}
