//! The AWS Encryption SDK decrypt test vectors in `shared/esdk-vectors` (beside the
//! repository): every "must decrypt" test gives exactly the expected plaintext, every
//! "must fail" test fails and releases no plaintext. A missing vector directory is a
//! failure, not a skip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns
use base64::Engine;
use coffer_envelope::{
    Client, CommitmentPolicy, CryptoMaterialsManager, DecryptOptions, DefaultCmm,
    EncryptionContext, Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring,
    RequiredEncryptionContextCmm, RsaPadding,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn vectors_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/esdk-vectors");
    assert!(
        root.join("README.md").is_file(),
        "ESDK test vectors not found at {} (expected shared/esdk-vectors beside the repository)",
        root.display()
    );
    root
}

fn load_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn file_uri(dir: &Path, uri: &str) -> PathBuf {
    dir.join(uri.strip_prefix("file://").expect("file:// URI"))
}

fn padding(mk: &Value) -> RsaPadding {
    match (
        mk["padding-algorithm"].as_str(),
        mk["padding-hash"].as_str(),
    ) {
        (Some("pkcs1"), _) => RsaPadding::Pkcs1,
        (Some("oaep-mgf1"), Some("sha1")) => RsaPadding::OaepSha1,
        (Some("oaep-mgf1"), Some("sha256")) => RsaPadding::OaepSha256,
        (Some("oaep-mgf1"), Some("sha384")) => RsaPadding::OaepSha384,
        (Some("oaep-mgf1"), Some("sha512")) => RsaPadding::OaepSha512,
        other => panic!("unknown RSA padding {other:?}"),
    }
}

fn keyring(mk: &Value, keys: &Value) -> Arc<dyn Keyring> {
    assert_eq!(mk["type"], "raw", "only raw master keys are expected");
    let key = &keys["keys"][mk["key"].as_str().expect("key")];
    let ns = mk["provider-id"].as_str().expect("provider-id");
    let name = key["key-id"].as_str().expect("key-id");
    let material = key["material"].as_str().expect("material");
    match (mk["encryption-algorithm"].as_str(), key["type"].as_str()) {
        (Some("aes"), Some("symmetric")) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(material)
                .expect("base64 key");
            Arc::new(RawAesKeyring::new(ns, name, &bytes).expect("AES keyring"))
        }
        (Some("rsa"), Some("private")) => Arc::new(
            RawRsaKeyring::with_private_key(ns, name, padding(mk), material.as_bytes())
                .expect("RSA keyring"),
        ),
        (Some("rsa"), Some("public")) => Arc::new(
            RawRsaKeyring::with_public_key(ns, name, padding(mk), material.as_bytes())
                .expect("RSA keyring"),
        ),
        other => panic!("unknown master key {other:?}"),
    }
}

struct Case {
    cmm: Arc<dyn CryptoMaterialsManager>,
    opts: DecryptOptions,
    ciphertext: Vec<u8>,
    expected: Option<Vec<u8>>,
}

fn case(dir: &Path, keys: &Value, t: &Value) -> Case {
    let rings: Vec<Arc<dyn Keyring>> = t["master-keys"]
        .as_array()
        .expect("master-keys")
        .iter()
        .map(|mk| keyring(mk, keys))
        .collect();
    let kr: Arc<dyn Keyring> = Arc::new(MultiKeyring::new(None, rings).expect("multi"));
    let ec: Option<EncryptionContext> = t.get("encryption-context").map(|v| {
        v.as_object()
            .expect("context object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
            .collect()
    });
    let default: Arc<dyn CryptoMaterialsManager> = Arc::new(DefaultCmm::new(kr));
    let cmm = match t["cmm"].as_str() {
        None | Some("Default") => default,
        Some("RequiredEncryptionContext") => {
            let required: BTreeSet<String> = ec.iter().flatten().map(|(k, _)| k.clone()).collect();
            Arc::new(RequiredEncryptionContextCmm::new(default, required).expect("required CMM"))
        }
        Some(other) => panic!("unknown cmm {other}"),
    };
    let opts = DecryptOptions {
        reproduced_context: ec,
        unsigned_only: t["decryption-method"] == "streaming-unsigned-only",
        buffer_signed: true,
    };
    let ct_uri = t["ciphertext"].as_str().expect("ciphertext");
    let ciphertext = std::fs::read(file_uri(dir, ct_uri)).expect("ciphertext file");
    let expected = t["result"]["output"]["plaintext"]
        .as_str()
        .map(|uri| std::fs::read(file_uri(dir, uri)).expect("plaintext file"));
    assert!(
        expected.is_some() || t["result"].get("error").is_some(),
        "a test expects output or an error"
    );
    Case {
        cmm,
        opts,
        ciphertext,
        expected,
    }
}

/// Bytes a streaming decryptor released before it stopped, and how it stopped.
fn stream(client: &Client, c: &Case) -> (Vec<u8>, Result<(), String>) {
    let mut released = Vec::new();
    let mut dec = match client.decryptor(c.cmm.as_ref(), &c.ciphertext[..], &c.opts) {
        Ok(d) => d,
        Err(e) => return (released, Err(e.to_string())),
    };
    let mut chunk = [0u8; 1000];
    loop {
        match dec.read(&mut chunk) {
            Ok(0) => return (released, Ok(())),
            Ok(n) => released.extend_from_slice(&chunk[..n]),
            Err(e) => return (released, Err(e.to_string())),
        }
    }
}

/// Runs every test of one manifest; returns how many ran.
fn run_set(set: &str, must_succeed: bool) -> usize {
    let dir = vectors_root().join(set);
    let manifest = load_json(&dir.join("manifest.json"));
    assert_eq!(manifest["manifest"]["type"], "awses-decrypt");
    let keys_uri = manifest["keys"].as_str().expect("keys");
    let keys = load_json(&file_uri(&dir, keys_uri));
    let client = Client::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let tests = manifest["tests"].as_object().expect("tests");
    let mut failures = Vec::new();
    for (name, t) in tests {
        let c = case(&dir, &keys, t);
        assert_eq!(
            c.expected.is_some(),
            must_succeed,
            "{set}/{name}: unexpected result kind"
        );
        let one_shot = client.decrypt(c.cmm.as_ref(), &c.ciphertext, &c.opts);
        let (released, streamed) = stream(&client, &c);
        match (&c.expected, one_shot) {
            (Some(want), Ok(got)) => {
                if &got.plaintext != want {
                    failures.push(format!("{name}: wrong plaintext"));
                }
                if streamed.is_err() || &released != want {
                    failures.push(format!("{name}: streaming decrypt differs: {streamed:?}"));
                }
            }
            (Some(_), Err(e)) => failures.push(format!("{name}: failed: {e}")),
            (None, Ok(_)) => failures.push(format!("{name}: decrypted but must fail")),
            (None, Err(_)) => {
                if streamed.is_ok() || !released.is_empty() {
                    failures.push(format!(
                        "{name}: streaming released {} bytes, ended {streamed:?}",
                        released.len()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{set}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    tests.len()
}

#[test]
fn net_4_0_1_all_decrypt() {
    assert_eq!(run_set("net-4.0.1", true), 99);
}

#[test]
fn net_4_0_0_valid_all_decrypt() {
    assert_eq!(run_set("net-4.0.0-valid", true), 5);
}

#[test]
fn net_4_0_0_invalid_all_fail_without_plaintext() {
    assert_eq!(run_set("net-4.0.0-invalid", false), 28);
}
