//! Arbitrary bytes as the body of a KMS `Decrypt` request, through the same steps the
//! server takes before touching a key: JSON decoding, validation against the KMS model,
//! base64 decoding of the blob, the encryption context, and the blob parser. Nothing may
//! panic, and no forged blob may authenticate.
#![no_main]

use base64::Engine;
use coffer_kms::blob;
use coffer_kms::context::EncryptionContext;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const MATERIAL: [u8; 32] = [0xa5; 32];

fuzz_target!(|data: &[u8]| {
    let Ok(v) = coffer_wire::json::json_input::<Value>(data) else {
        return;
    };
    if coffer_wire::model::kms().validate("Decrypt", &v).is_err() {
        return;
    }
    let Some(b64) = v.get("CiphertextBlob").and_then(Value::as_str) else {
        return;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return;
    };
    let ctx: EncryptionContext = v
        .get("EncryptionContext")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    if let Ok(parsed) = blob::parse(&bytes) {
        assert!(blob::decrypt(&parsed, &MATERIAL, &ctx).is_err());
    }
});
