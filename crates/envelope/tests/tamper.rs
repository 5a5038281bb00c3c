//! Tampered messages fail cleanly: every flipped byte of header, body and footer, every
//! truncation, reordered, dropped or repeated frames, spliced bodies, trailing bytes.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use coffer_envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, Error, Keyring, parse_header,
};
use common::{aes, ec};
use std::io::Read;
use std::sync::Arc;

const FRAME: usize = 64;
const PLAINTEXT_LEN: usize = 3 * FRAME + 8;

fn plaintext() -> Vec<u8> {
    (0..PLAINTEXT_LEN as u32).map(|i| (i * 31) as u8).collect()
}

fn setup(suite: AlgorithmSuite) -> (Arc<dyn Keyring>, Client, Vec<u8>) {
    let kr = aes("tamper", 32);
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptAllowDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let client = Client::new()
        .with_commitment_policy(policy)
        .with_suite(suite)
        .with_frame_length(FRAME as u32)
        .unwrap();
    let msg = client
        .encrypt(kr.as_ref(), &plaintext(), &ec(&[("k", "v")]))
        .unwrap();
    (kr, client, msg)
}

const SUITES: [AlgorithmSuite; 4] = [
    AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384, // v2, signed
    AlgorithmSuite::Aes256GcmHkdfSha512Commit,          // v2, unsigned
    AlgorithmSuite::Aes256GcmHkdfSha384EcdsaP384,       // v1, signed
    AlgorithmSuite::Aes128GcmNoKdf,                     // v1, unsigned, no KDF
];

/// Where each frame starts: (header length, regular frame length).
fn layout(msg: &[u8]) -> (usize, usize) {
    (
        parse_header(msg).unwrap().serialized_len(),
        4 + 12 + FRAME + 16,
    )
}

#[test]
fn every_flipped_byte_fails() {
    for suite in SUITES {
        let (kr, client, msg) = setup(suite);
        assert_eq!(
            client
                .decrypt(kr.as_ref(), &msg, &DecryptOptions::default())
                .unwrap()
                .plaintext,
            plaintext()
        );
        for i in 0..msg.len() {
            for mask in [0x01u8, 0x80] {
                let mut bad = msg.clone();
                bad[i] ^= mask;
                let r = client.decrypt(kr.as_ref(), &bad, &DecryptOptions::default());
                assert!(
                    r.is_err(),
                    "{suite:?}: flipping byte {i} (of {}) went unnoticed",
                    msg.len()
                );
            }
        }
    }
}

#[test]
fn every_truncation_fails() {
    for suite in SUITES {
        let (kr, client, msg) = setup(suite);
        for n in 0..msg.len() {
            let r = client.decrypt(kr.as_ref(), &msg[..n], &DecryptOptions::default());
            assert!(
                r.is_err(),
                "{suite:?}: truncation to {n} bytes went unnoticed"
            );
        }
        let mut long = msg.clone();
        long.push(0);
        assert!(matches!(
            client.decrypt(kr.as_ref(), &long, &DecryptOptions::default()),
            Err(Error::TrailingData)
        ));
    }
}

#[test]
fn reordered_dropped_and_repeated_frames_fail() {
    for suite in SUITES {
        let (kr, client, msg) = setup(suite);
        let (h, f) = layout(&msg);
        let frame = |i: usize| msg[h + i * f..h + (i + 1) * f].to_vec();
        let rest = msg[h + 3 * f..].to_vec();
        let build = |order: &[usize]| {
            let mut m = msg[..h].to_vec();
            for i in order {
                m.extend_from_slice(&frame(*i));
            }
            m.extend_from_slice(&rest);
            m
        };
        assert_eq!(build(&[0, 1, 2]), msg);
        for order in [
            &[1, 0, 2][..],
            &[0, 2, 1],
            &[0, 2],
            &[0, 1, 1, 2],
            &[0, 0, 1, 2],
            &[0, 1],
        ] {
            let r = client.decrypt(kr.as_ref(), &build(order), &DecryptOptions::default());
            assert!(
                matches!(
                    r,
                    Err(Error::FrameSequence(_)) | Err(Error::BodyAuthentication)
                ),
                "{suite:?} {order:?}: {r:?}"
            );
        }
    }
}

#[test]
fn bodies_and_signatures_of_other_messages_do_not_fit() {
    for suite in SUITES {
        let (kr, client, a) = setup(suite);
        let b = client
            .encrypt(kr.as_ref(), &plaintext(), &ec(&[("k", "v")]))
            .unwrap();
        let (ha, hb) = (layout(&a).0, layout(&b).0);
        let mut spliced = a[..ha].to_vec();
        spliced.extend_from_slice(&b[hb..]);
        let r = client.decrypt(kr.as_ref(), &spliced, &DecryptOptions::default());
        assert!(
            matches!(r, Err(Error::BodyAuthentication)),
            "{suite:?}: {r:?}"
        );
        if suite.signature().is_some() {
            // The footer follows the final frame (which holds the last 8 bytes).
            let footer = |m: &[u8]| layout(m).0 + 3 * layout(m).1 + 4 + 4 + 12 + 4 + 8 + 16;
            let mut forged = a[..footer(&a)].to_vec();
            forged.extend_from_slice(&b[footer(&b)..]);
            let r = client.decrypt(kr.as_ref(), &forged, &DecryptOptions::default());
            assert!(matches!(r, Err(Error::Signature)), "{suite:?}: {r:?}");
        }
    }
}

/// A streaming reader of an unsigned message sees the verified frames before the damaged
/// one, never bytes of the damaged frame, then the error.
#[test]
fn streaming_releases_only_verified_frames() {
    let (kr, client, msg) = setup(AlgorithmSuite::Aes256GcmHkdfSha512Commit);
    let (h, f) = layout(&msg);
    let mut bad = msg.clone();
    bad[h + 2 * f + 20] ^= 1; // inside frame 3's ciphertext
    let mut dec = client
        .decryptor(kr.as_ref(), &bad[..], &DecryptOptions::default())
        .unwrap();
    let mut out = Vec::new();
    let err = dec.read_to_end(&mut out).unwrap_err();
    assert_eq!(out, plaintext()[..2 * FRAME]);
    assert!(matches!(Error::from(err), Error::BodyAuthentication));
    let mut more = [0u8; 10];
    assert!(
        dec.read(&mut more).is_err(),
        "a failed decryptor stays failed"
    );
}
