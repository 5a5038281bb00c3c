//! Arbitrary bytes as an AWS Encryption SDK message: header parsing and full decryption
//! (with the public raw AES test key of the ESDK vectors, so seeds made from the vectors
//! reach the frames and the footer) must never panic, and never yield more plaintext than
//! the message had bytes.
#![no_main]

use coffer_envelope::{Client, CommitmentPolicy, DecryptOptions, RawAesKeyring, parse_header};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The ESDK test vectors' `aes-256` key: bytes 00..09 10..19 20..29 30 31.
const KEY: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x30, 0x31,
];

fn keyring() -> Option<&'static RawAesKeyring> {
    static K: OnceLock<Option<RawAesKeyring>> = OnceLock::new();
    K.get_or_init(|| RawAesKeyring::new("aws-raw-vectors-persistant", "aes-256", &KEY).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_header(data);
    let Some(kr) = keyring() else { return };
    let client = Client::new()
        .with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .with_max_encrypted_data_keys(16);
    let Ok(client) = client else { return };
    let opts = DecryptOptions { buffer_signed: data.first() == Some(&2), ..Default::default() };
    if let Ok(out) = client.decrypt(kr, data, &opts) {
        assert!(out.plaintext.len() < data.len());
    }
});
