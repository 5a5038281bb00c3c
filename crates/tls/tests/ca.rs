//! Local CA generation, reuse, renewal and at-rest protection.
// Helpers outside #[test] fns are test code too; the workspace allows these in tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use coffer_tls::{Origin, TlsError, load_or_generate};
use common::{TestSealer, generate, now};
use rustls_pki_types::PrivateKeyDer;
use time::Duration;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn first_call_generates_all_four_files() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    assert_eq!(m.origin(), Origin::Generated);
    assert_eq!(m.ca_cert_path(), Some(dir.path().join("ca.pem").as_path()));
    for f in ["ca.pem", "server.pem", "ca-key.sealed", "server-key.sealed"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let ca_pem = String::from_utf8(read(dir.path(), "ca.pem")).unwrap();
    assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(
        ca_pem.matches("BEGIN").count(),
        1,
        "ca.pem is exactly one certificate"
    );
    assert_eq!(m.chain().len(), 2, "server cert then CA");
    let server_pem = String::from_utf8(read(dir.path(), "server.pem")).unwrap();
    assert_eq!(server_pem.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(server_pem.ends_with(&ca_pem));
    // No temp files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[cfg(unix)]
#[test]
fn file_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    for (f, mode) in [
        ("ca.pem", 0o644),
        ("server.pem", 0o644),
        ("ca-key.sealed", 0o600),
        ("server-key.sealed", 0o600),
    ] {
        let got = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(got, mode, "{f}: {got:o}");
    }
}

#[test]
fn reload_reuses_ca_and_server_cert() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    let later = now() + Duration::days(100);
    let second = load_or_generate(dir.path(), &[], later, &TestSealer::new()).unwrap();
    assert_eq!(second.origin(), Origin::Reused);
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem);
    assert_eq!(second.chain(), first.chain());
    assert_eq!(second.key().secret_der(), first.key().secret_der());
}

#[test]
fn private_keys_are_never_on_disk_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    // Re-issue too, so both generations of the server key are checked.
    let m2 = load_or_generate(
        dir.path(),
        &["example.test".into()],
        now(),
        &TestSealer::new(),
    )
    .unwrap();
    let ca_key = ca_key_der(dir.path());
    let files: Vec<Vec<u8>> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    for key in [m.key().secret_der(), m2.key().secret_der(), &ca_key] {
        let scalar = ec_private_scalar(key);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key);
        for file in &files {
            assert!(!contains(file, key), "PKCS#8 DER found on disk");
            assert!(!contains(file, &scalar), "private scalar found on disk");
            assert!(
                !contains(file, &b64.as_bytes()[..40]),
                "PEM-encoded key found on disk"
            );
            assert!(!contains(file, b"PRIVATE KEY"));
        }
    }
}

/// The CA key, recovered the way only the sealer's holder can.
fn ca_key_der(dir: &Path) -> Vec<u8> {
    use coffer_tls::KeySealer;
    let blob = TestSealer::new()
        .open("coffer-tls/ca", &read(dir, "ca-key.sealed"))
        .unwrap();
    let cert_len = u32::from_be_bytes(blob[1..5].try_into().unwrap()) as usize;
    blob[5 + cert_len..].to_vec()
}

/// The 32-byte private scalar inside a P-256 PKCS#8 key (ECPrivateKey: version 1, then the
/// key as a 32-byte OCTET STRING).
fn ec_private_scalar(pkcs8: &[u8]) -> Vec<u8> {
    let marker = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = pkcs8.windows(5).position(|w| w == marker).unwrap() + 5;
    pkcs8[at..at + 32].to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn wrong_sealer_cannot_open_and_says_which_file() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let err = load_or_generate(dir.path(), &[], now(), &TestSealer::other()).unwrap_err();
    assert!(matches!(err, TlsError::Unseal { .. }), "{err:?}");
    assert!(err.to_string().contains("ca-key.sealed"), "{err}");
}

#[test]
fn swapped_sealed_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    std::fs::copy(
        dir.path().join("server-key.sealed"),
        dir.path().join("ca-key.sealed"),
    )
    .unwrap();
    let err = load_or_generate(dir.path(), &[], now(), &TestSealer::new()).unwrap_err();
    assert!(matches!(err, TlsError::Unseal { .. }), "{err:?}");
}

#[test]
fn reissues_when_names_are_not_covered() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    let names = vec!["coffer.internal".to_string(), "10.1.2.3".to_string()];
    let second = load_or_generate(dir.path(), &names, now(), &TestSealer::new()).unwrap();
    assert_eq!(second.origin(), Origin::Reissued);
    assert_ne!(second.chain()[0], first.chain()[0]);
    assert_ne!(second.key().secret_der(), first.key().secret_der());
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem, "CA is kept");
    // A subset (or different spelling) of covered names needs nothing new.
    let subset = vec!["COFFER.internal".to_string()];
    let third = load_or_generate(dir.path(), &subset, now(), &TestSealer::new()).unwrap();
    assert_eq!(third.origin(), Origin::Reused);
    assert_eq!(third.chain(), second.chain());
}

#[test]
fn reissues_near_expiry_but_keeps_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    let sealer = TestSealer::new();
    let still_fine =
        load_or_generate(dir.path(), &[], now() + Duration::days(330), &sealer).unwrap();
    assert_eq!(still_fine.origin(), Origin::Reused);
    let near_expiry = now() + Duration::days(340);
    let renewed = load_or_generate(dir.path(), &[], near_expiry, &sealer).unwrap();
    assert_eq!(renewed.origin(), Origin::Reissued);
    assert_ne!(renewed.chain()[0], first.chain()[0]);
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem);
    let expired =
        load_or_generate(dir.path(), &[], near_expiry + Duration::days(400), &sealer).unwrap();
    assert_eq!(expired.origin(), Origin::Reissued);
}

#[test]
fn ca_is_replaced_only_near_its_own_expiry() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    let sealer = TestSealer::new();
    let nine_years =
        load_or_generate(dir.path(), &[], now() + Duration::days(9 * 365), &sealer).unwrap();
    assert_eq!(nine_years.origin(), Origin::Reissued);
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem);
    let ten_years =
        load_or_generate(dir.path(), &[], now() + Duration::days(3640), &sealer).unwrap();
    assert_eq!(ten_years.origin(), Origin::Generated);
    assert_ne!(read(dir.path(), "ca.pem"), ca_pem);
}

#[test]
fn server_cert_never_outlives_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    // 9.5 years in: the CA has ~6 months left, the new server cert must stop with it.
    let at = now() + Duration::days(3470);
    let m = load_or_generate(dir.path(), &[], at, &TestSealer::new()).unwrap();
    assert_eq!(m.origin(), Origin::Reissued);
    let m2 = load_or_generate(
        dir.path(),
        &[],
        at + Duration::days(170),
        &TestSealer::new(),
    )
    .unwrap();
    // 170 days later the CA is within 30 days of expiry: a new CA, not a stale server cert.
    assert_eq!(m2.origin(), Origin::Generated);
}

#[test]
fn lost_or_damaged_server_files_are_reissued_from_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    std::fs::remove_file(dir.path().join("server.pem")).unwrap();
    let m = load_or_generate(dir.path(), &[], now(), &TestSealer::new()).unwrap();
    assert_eq!(m.origin(), Origin::Reissued);
    std::fs::write(dir.path().join("server.pem"), b"garbage").unwrap();
    let m = load_or_generate(dir.path(), &[], now(), &TestSealer::new()).unwrap();
    assert_eq!(m.origin(), Origin::Reissued);
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem);
}

#[test]
fn ca_pem_is_restored_from_the_sealed_copy() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let ca_pem = read(dir.path(), "ca.pem");
    std::fs::write(dir.path().join("ca.pem"), b"tampered").unwrap();
    let m = load_or_generate(dir.path(), &[], now(), &TestSealer::new()).unwrap();
    assert_eq!(m.origin(), Origin::Reused);
    assert_eq!(read(dir.path(), "ca.pem"), ca_pem);
}

#[test]
fn invalid_extra_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["*.example.com", "has space", ""] {
        let err =
            load_or_generate(dir.path(), &[bad.into()], now(), &TestSealer::new()).unwrap_err();
        assert!(
            matches!(err, TlsError::InvalidName { .. }),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn bracketed_ipv6_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["[fd00::1]".to_string(), "fd00::2".to_string()];
    let m = load_or_generate(dir.path(), &names, now(), &TestSealer::new()).unwrap();
    assert!(matches!(m.key(), PrivateKeyDer::Pkcs8(_)));
}

#[test]
fn debug_output_never_shows_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(dir.path());
    let shown = format!("{m:?}");
    assert!(shown.contains("redacted"));
}
