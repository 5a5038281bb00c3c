//! Large messages, whose frames are sealed and opened in batches across threads: they
//! decrypt the same whatever the thread counts on either side, and a damaged frame inside a
//! batch releases exactly the frames before it, none of its own.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use coffer_envelope::{
    AlgorithmSuite, Client, DecryptOptions, EncryptionContext, Error, Keyring, parse_header,
};
use common::aes;
use std::io::Read;
use std::sync::Arc;

const FRAME: usize = 4096;
/// Frames per batch (4 MiB of frames on the wire, each 32 bytes over its content).
const BATCH: usize = (4 << 20) / (FRAME + 32);

fn plaintext(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn encrypt(suite: AlgorithmSuite, threads: usize, pt: &[u8]) -> (Arc<dyn Keyring>, Vec<u8>) {
    let kr = aes("parallel", 32);
    let client = Client::new().with_suite(suite).with_threads(threads);
    let msg = client
        .encrypt(kr.as_ref(), pt, &EncryptionContext::new())
        .unwrap();
    (kr, msg)
}

/// Reads a decryptor to the end in `chunk`-byte reads: what it released, and how it ended.
fn drain(
    kr: &dyn Keyring,
    msg: &[u8],
    threads: usize,
    opts: &DecryptOptions,
    chunk: usize,
) -> (Vec<u8>, Result<(), Error>) {
    let client = Client::new().with_threads(threads);
    let mut dec = client.decryptor(kr, msg, opts).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match dec.read(&mut buf) {
            Ok(0) => return (out, Ok(())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Err(Error::from(e))),
        }
    }
}

/// Where frame `i` (from 0) starts.
fn frame_at(msg: &[u8], i: usize) -> usize {
    parse_header(msg).unwrap().serialized_len() + i * (FRAME + 32)
}

#[test]
fn every_thread_count_on_either_side_decrypts() {
    // Two full batches, a third partial one, a partial final frame.
    let pt = plaintext(2 * BATCH * FRAME + 5 * FRAME + 123);
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384,
        AlgorithmSuite::Aes256GcmHkdfSha512Commit,
    ] {
        for enc_threads in [1, 4] {
            let (kr, msg) = encrypt(suite, enc_threads, &pt);
            for (threads, chunk) in [(1, 65536), (2, 4095), (5, 1 << 20)] {
                let (out, end) = drain(kr.as_ref(), &msg, threads, &Default::default(), chunk);
                assert!(end.is_ok(), "{suite:?} {enc_threads}->{threads}: {end:?}");
                assert!(out == pt, "{suite:?} {enc_threads}->{threads}");
            }
        }
    }
}

#[test]
fn exact_batch_multiples_and_empty_round_trip() {
    for len in [0, BATCH * FRAME, 2 * BATCH * FRAME] {
        let pt = plaintext(len);
        let (kr, msg) = encrypt(AlgorithmSuite::Aes256GcmHkdfSha512Commit, 3, &pt);
        let (out, end) = drain(kr.as_ref(), &msg, 3, &Default::default(), 10_000);
        assert!(end.is_ok() && out == pt, "{len} bytes");
    }
}

#[test]
fn a_damaged_frame_inside_a_batch_releases_only_the_frames_before_it() {
    let pt = plaintext(3 * BATCH * FRAME);
    let (kr, msg) = encrypt(AlgorithmSuite::Aes256GcmHkdfSha512Commit, 4, &pt);
    // First, middle (another thread's run) and last frame of the second batch.
    for bad in [BATCH, BATCH + BATCH / 2 + 7, 2 * BATCH - 1] {
        let mut m = msg.clone();
        m[frame_at(&msg, bad) + 16 + 1000] ^= 0x40;
        for threads in [1, 4] {
            let (out, end) = drain(kr.as_ref(), &m, threads, &Default::default(), 65536);
            assert!(matches!(end, Err(Error::BodyAuthentication)), "{end:?}");
            assert_eq!(out.len(), bad * FRAME, "frame {bad}, {threads} threads");
            assert!(out == pt[..bad * FRAME]);
        }
    }
}

#[test]
fn a_truncated_or_reordered_batch_releases_only_whole_verified_frames() {
    let pt = plaintext(2 * BATCH * FRAME + 10);
    let (kr, msg) = encrypt(AlgorithmSuite::Aes256GcmHkdfSha512Commit, 4, &pt);
    // Cut inside frame BATCH + 9.
    let cut = &msg[..frame_at(&msg, BATCH + 9) + 500];
    let (out, end) = drain(kr.as_ref(), cut, 4, &Default::default(), 65536);
    assert!(matches!(end, Err(Error::Truncated)), "{end:?}");
    assert!(out == pt[..(BATCH + 9) * FRAME]);
    // Frames BATCH + 3 and BATCH + 4 swapped.
    let (a, b) = (frame_at(&msg, BATCH + 3), frame_at(&msg, BATCH + 4));
    let mut swapped = msg.clone();
    swapped[a..b].copy_from_slice(&msg[b..b + (b - a)]);
    swapped[b..b + (b - a)].copy_from_slice(&msg[a..b]);
    let (out, end) = drain(kr.as_ref(), &swapped, 4, &Default::default(), 65536);
    assert!(matches!(end, Err(Error::FrameSequence(_))), "{end:?}");
    assert!(out == pt[..(BATCH + 3) * FRAME]);
}

#[test]
fn buffered_signed_messages_release_nothing_when_a_batch_frame_fails() {
    let pt = plaintext(2 * BATCH * FRAME + 99);
    let (kr, msg) = encrypt(AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384, 4, &pt);
    let buffered = DecryptOptions {
        buffer_signed: true,
        ..Default::default()
    };
    let (out, end) = drain(kr.as_ref(), &msg, 4, &buffered, 65536);
    assert!(end.is_ok() && out == pt);
    let mut m = msg.clone();
    m[frame_at(&msg, BATCH + 100) + 16] ^= 1;
    let (out, end) = drain(kr.as_ref(), &m, 4, &buffered, 65536);
    assert!(matches!(end, Err(Error::BodyAuthentication)), "{end:?}");
    assert!(out.is_empty());
    // A bad signature: every frame verified, still nothing released.
    let mut m = msg.clone();
    let last = m.len() - 1;
    m[last] ^= 1;
    let (out, end) = drain(kr.as_ref(), &m, 4, &buffered, 65536);
    assert!(matches!(end, Err(Error::Signature)), "{end:?}");
    assert!(out.is_empty());
}
