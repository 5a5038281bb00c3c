//! Arbitrary bytes as a KMS ciphertext blob: parsing and authentication must never panic,
//! and nothing but a blob made with the key authenticates.
#![no_main]

use coffer_kms::blob;
use coffer_kms::context::EncryptionContext;
use libfuzzer_sys::fuzz_target;

const MATERIAL: [u8; 32] = [0x5a; 32];

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = blob::parse(data) {
        let _ = &parsed.header;
        // A forged blob must never authenticate under a key the fuzzer cannot know.
        assert!(blob::decrypt(&parsed, &MATERIAL, &EncryptionContext::new()).is_err());
    }
});
