//! Freezes ciphertext blob format v1: blobs written by earlier versions must decrypt, and
//! encrypting with the recorded randomness must reproduce them byte for byte. If this test
//! fails, the change broke every stored ciphertext: add a new format version instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_kms::blob::{self, BlobHeader, BlobRandom};
use coffer_kms::context::EncryptionContext;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    account: String,
    key_id: String,
    version: u32,
    material: String,
    context: EncryptionContext,
    plaintext: String,
    salt: String,
    nonce: String,
    blob: String,
}

fn fixtures() -> Vec<Fixture> {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/blob-v1.json"
    ))
    .unwrap();
    serde_json::from_str(&raw).unwrap()
}

#[test]
fn v1_fixtures_still_decrypt() {
    let all = fixtures();
    assert_eq!(all.len(), 3);
    for f in all {
        let bytes = hex::decode(&f.blob).unwrap();
        let parsed = blob::parse(&bytes).unwrap();
        assert_eq!(parsed.header.account, f.account);
        assert_eq!(parsed.header.key_id, f.key_id);
        assert_eq!(parsed.header.version, f.version);
        let material = hex::decode(&f.material).unwrap();
        let plain = blob::decrypt(&parsed, &material, &f.context).unwrap();
        assert_eq!(hex::encode(plain.as_slice()), f.plaintext);
    }
}

#[test]
fn v1_encoding_is_reproducible() {
    for f in fixtures() {
        let header = BlobHeader {
            account: f.account.clone(),
            key_id: f.key_id.clone(),
            version: f.version,
        };
        let random = BlobRandom {
            salt: hex::decode(&f.salt).unwrap().try_into().unwrap(),
            nonce: hex::decode(&f.nonce).unwrap().try_into().unwrap(),
        };
        let material = hex::decode(&f.material).unwrap();
        let plaintext = hex::decode(&f.plaintext).unwrap();
        let out = blob::encrypt(&header, &material, &f.context, &plaintext, random).unwrap();
        assert_eq!(hex::encode(out), f.blob, "key {}", f.key_id);
    }
}
