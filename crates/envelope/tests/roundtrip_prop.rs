//! Property: any plaintext, frame length, encryption context, suite and keyring round-trips,
//! whatever the write and read chunk sizes.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use coffer_envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptionContext, Keyring,
    MultiKeyring, RsaPadding, parse_header,
};
use common::{aes, rsa};
use proptest::prelude::*;
use std::io::{Read, Write};
use std::sync::Arc;

fn keyring(i: usize) -> Arc<dyn Keyring> {
    match i {
        0 => aes("p128", 16),
        1 => aes("p192", 24),
        2 => aes("p256", 32),
        3 => rsa(RsaPadding::OaepSha256),
        _ => Arc::new(MultiKeyring::new(Some(aes("g", 32)), vec![rsa(RsaPadding::Pkcs1)]).unwrap()),
    }
}

fn context() -> impl Strategy<Value = EncryptionContext> {
    prop::collection::btree_map("[a-z][a-z0-9-]{0,8}", "\\PC{0,12}", 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn round_trip(
        pt in prop::collection::vec(any::<u8>(), 0..6000),
        frame in 1u32..700,
        ec in context(),
        suite_i in 0usize..11,
        kr_i in 0usize..5,
        wchunk in 1usize..2000,
        rchunk in 1usize..2000,
    ) {
        let suite = AlgorithmSuite::ALL[suite_i];
        let policy = if suite.is_committing() {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        let client = Client::new()
            .with_commitment_policy(policy)
            .with_suite(suite)
            .with_frame_length(frame)
            .unwrap();
        let kr = keyring(kr_i);
        let mut enc = client.encryptor(kr.as_ref(), &ec, Vec::new(), None).unwrap();
        for c in pt.chunks(wchunk) {
            enc.write_all(c).unwrap();
        }
        let msg = enc.finish().unwrap();
        let h = parse_header(&msg).unwrap();
        prop_assert_eq!(h.suite, suite);
        prop_assert_eq!(h.frame_length, frame);
        let out = client.decrypt(kr.as_ref(), &msg, &DecryptOptions::default()).unwrap();
        prop_assert_eq!(&out.plaintext, &pt);
        for (k, v) in &ec {
            prop_assert_eq!(out.info.encryption_context.get(k), Some(v));
        }
        let opts = DecryptOptions { buffer_signed: rchunk % 2 == 0, ..Default::default() };
        let mut dec = client.decryptor(kr.as_ref(), &msg[..], &opts).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; rchunk];
        loop {
            let n = dec.read(&mut buf).unwrap();
            if n == 0 { break; }
            got.extend_from_slice(&buf[..n]);
        }
        prop_assert_eq!(got, pt);
    }
}
