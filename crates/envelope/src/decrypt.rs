//! Streaming decryption: [`Decryptor`] implements `Read`.
//!
//! The header is read and authenticated when the decryptor is created. Regular frames are
//! read in batches (see `frames`) into one reused buffer that grows only as bytes arrive (so
//! a forged frame length cannot force a large allocation), hashed for the signature in
//! order, authenticated and decrypted in place (across threads for a large batch), and only
//! then released, in order, up to the first frame that failed; the error comes after them,
//! exactly where a frame-by-frame reader would have met it. Memory is bounded by a batch
//! (or one frame, if frames are larger); non-framed bodies are one block and are held whole.
//!
//! Signed suites: the signature covers the whole message, so a streaming reader releases
//! frames before it can be checked (the ESDK's streaming caveat: a reader must treat the
//! plaintext as unverified until `read` returns `Ok(0)`). The final frame is held back until
//! the signature verifies. With [`DecryptOptions::buffer_signed`] nothing at all is released
//! before the signature verifies (memory then grows with the plaintext); with
//! [`DecryptOptions::unsigned_only`] signed messages are refused.

use crate::body::{FINAL_FRAME, FINAL_MARKER, MAX_NON_FRAMED, SINGLE_BLOCK, body_aad};
use crate::client::Client;
use crate::cmm::{CryptoMaterialsManager, DecryptionRequest};
use crate::context::EncryptionContext;
use crate::derive::{check_commitment, derive, header_aad, verify_header_tag};
use crate::frames::{CONTENT_AT, Frames};
use crate::header::{ContentType, read_header};
use crate::materials::EncryptedDataKey;
use crate::suite::AlgorithmSuite;
use crate::wire::{read_at, read_exact, read_into};
use crate::{Error, Result};
use coffer_crypto::{EcdsaVerifier, GCM_IV_LEN, GCM_TAG_LEN, GcmKey};
use std::io::{self, Read};
use zeroize::Zeroizing;

/// How to decrypt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecryptOptions {
    /// The encryption context the caller expects. Pairs stored in the message must match;
    /// pairs not stored must be the message's authenticate-only pairs.
    pub reproduced_context: Option<EncryptionContext>,
    /// Refuse signed suites (for callers that stream and cannot wait for a signature).
    pub unsigned_only: bool,
    /// For signed suites, release no plaintext until the signature verifies.
    pub buffer_signed: bool,
}

impl DecryptOptions {
    pub fn with_reproduced_context(mut self, ec: EncryptionContext) -> Self {
        self.reproduced_context = Some(ec);
        self
    }
}

/// What the header of a decrypted message said (after authentication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub suite: AlgorithmSuite,
    pub message_id: Vec<u8>,
    /// The authenticated context: stored pairs and reproduced authenticate-only pairs.
    pub encryption_context: EncryptionContext,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// Frame length; 0 for a non-framed body.
    pub frame_length: u32,
}

/// Decrypts a message read from `R`; `read` yields authenticated plaintext.
///
/// ```
/// use coffer_envelope::{Client, DecryptOptions, EncryptionContext, RawAesKeyring};
/// use std::io::Read;
///
/// let keyring = RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = Client::new().with_frame_length(1024)?;
/// let message = client.encrypt(&keyring, &[42u8; 5000], &EncryptionContext::new())?;
/// let mut dec = client.decryptor(&keyring, &message[..], &DecryptOptions::default())?;
/// let mut out = Vec::new();
/// dec.read_to_end(&mut out)?;
/// assert_eq!(out, vec![42u8; 5000]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Decryptor<R: Read> {
    src: R,
    info: MessageInfo,
    key: GcmKey,
    verifier: Option<EcdsaVerifier>,
    framed: bool,
    /// The sequence number the next regular frame read must have.
    seq: u32,
    threads: usize,
    /// Regular frames as received, then decrypted in place: the first `ready` verified and
    /// are released from frame `next`, byte `off` of its content.
    batch: Zeroizing<Vec<u8>>,
    ready: usize,
    next: usize,
    off: usize,
    /// The final frame, the non-framed block, or (buffer mode) the whole plaintext:
    /// released from `buf[out_start..out_end]`.
    buf: Zeroizing<Vec<u8>>,
    out_start: usize,
    out_end: usize,
    /// An error met after frames that verified: raised once they are released.
    deferred: Option<Error>,
    /// The final frame's marker has been read.
    at_final: bool,
    buffer_all: bool,
    finished: bool,
    failed: bool,
}

impl<R: Read> std::fmt::Debug for Decryptor<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("info", &self.info)
            .field("seq", &self.seq)
            .finish()
    }
}

impl<R: Read> Decryptor<R> {
    pub(crate) fn start<M: CryptoMaterialsManager + ?Sized>(
        client: &Client,
        cmm: &M,
        mut src: R,
        opts: &DecryptOptions,
    ) -> Result<Self> {
        let header = read_header(&mut src, client.max_encrypted_data_keys)?;
        let suite = header.suite;
        if opts.unsigned_only && suite.signature().is_some() {
            return Err(Error::SignedSuiteRefused);
        }
        client.commitment_policy.check(suite, false)?;
        let req = DecryptionRequest {
            suite,
            commitment_policy: client.commitment_policy,
            encrypted_data_keys: &header.encrypted_data_keys,
            encryption_context: &header.encryption_context,
            reproduced_encryption_context: opts.reproduced_context.as_ref(),
        };
        let m = cmm.decrypt_materials(&req)?;
        check_materials(suite, &m, opts.reproduced_context.as_ref())?;
        let data_key = m
            .data_key
            .as_ref()
            .ok_or_else(|| Error::NoDecryptableDataKey("no data key".into()))?;
        let mk = derive(suite, data_key, &header.message_id)?;
        check_commitment(mk.commitment.as_ref(), header.commitment.as_ref())?;
        let aad = header_aad(
            &header.body,
            &m.encryption_context,
            &m.required_context_keys,
        )?;
        let iv = if header.version() == 1 {
            header.auth_iv
        } else {
            [0u8; GCM_IV_LEN]
        };
        verify_header_tag(&mk.gcm, &iv, &aad, &header.auth_tag)?;
        let verifier = match (suite.signature(), &m.verification_key) {
            (Some(curve), Some(pk)) => {
                let mut v = EcdsaVerifier::new(curve, pk)
                    .map_err(|_| Error::Malformed("aws-crypto-public-key is not a valid key"))?;
                v.update(&header.body);
                v.update(&header.auth_bytes());
                Some(v)
            }
            (Some(_), None) => return Err(Error::Malformed("signed message without a public key")),
            _ => None,
        };
        let buffer_all = opts.buffer_signed && verifier.is_some();
        let frame_len = header.frame_length as usize;
        Ok(Self {
            src,
            key: mk.gcm,
            verifier,
            framed: header.content_type == ContentType::Framed,
            seq: 1,
            threads: client.threads,
            batch: Zeroizing::new(Vec::new()),
            ready: 0,
            next: 0,
            off: 0,
            buf: Zeroizing::new(Vec::with_capacity(frame_len.min(1 << 20) + GCM_TAG_LEN)),
            out_start: 0,
            out_end: 0,
            deferred: None,
            at_final: false,
            buffer_all,
            finished: false,
            failed: false,
            info: MessageInfo {
                suite,
                message_id: header.message_id,
                encryption_context: m.encryption_context,
                encrypted_data_keys: header.encrypted_data_keys,
                frame_length: header.frame_length,
            },
        })
    }

    /// The authenticated header information.
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    fn hash(&mut self, data: &[u8]) {
        if let Some(v) = self.verifier.as_mut() {
            v.update(data);
        }
    }

    fn frames(&self) -> Frames<'_> {
        Frames {
            key: &self.key,
            message_id: &self.info.message_id,
            frame_len: self.info.frame_length as usize,
            threads: self.threads,
        }
    }

    /// Reads the next batch of regular frames and decrypts it: `ready` frames verified,
    /// any error after them deferred.
    fn next_batch(&mut self) -> Result<()> {
        let first_seq = self.seq;
        let (count, read_err) = self.read_batch();
        let stride = self.frames().stride();
        let frames = Frames {
            key: &self.key,
            message_id: &self.info.message_id,
            frame_len: self.info.frame_length as usize,
            threads: self.threads,
        };
        let ready = frames.open(&mut self.batch[..count * stride], first_seq)?;
        self.ready = ready;
        self.next = 0;
        self.off = 0;
        // A frame that fails comes before anything that went wrong reading later ones.
        self.deferred = if ready < count {
            Some(Error::BodyAuthentication)
        } else {
            read_err
        };
        Ok(())
    }

    /// Reads regular frames into the batch until it is full or the final frame's marker
    /// comes. A read error is returned beside the count of whole frames read before it, so
    /// those are still released first.
    fn read_batch(&mut self) -> (usize, Option<Error>) {
        let (max, stride) = (self.frames().batch_frames(), self.frames().stride());
        let mut count = 0;
        while count < max {
            match self.read_regular(count * stride) {
                Ok(true) => count += 1,
                Ok(false) => {
                    self.at_final = true;
                    break;
                }
                Err(e) => return (count, Some(e)),
            }
        }
        (count, None)
    }

    /// Reads one regular frame into the batch at `at` and hashes it; `false` when the
    /// final frame's marker came instead.
    fn read_regular(&mut self, at: usize) -> Result<bool> {
        let stride = self.frames().stride();
        read_at(&mut self.src, &mut self.batch, at, 4)?;
        let mut first = [0u8; 4];
        first.copy_from_slice(&self.batch[at..at + 4]);
        if let Some(v) = self.verifier.as_mut() {
            v.update(&first);
        }
        let word = u32::from_be_bytes(first);
        if word == FINAL_MARKER {
            return Ok(false);
        }
        if word != self.seq {
            return Err(Error::FrameSequence("frame out of order"));
        }
        read_at(&mut self.src, &mut self.batch, at + 4, stride - 4)?;
        if let Some(v) = self.verifier.as_mut() {
            v.update(&self.batch[at + 4..at + stride]);
        }
        self.seq = self
            .seq
            .checked_add(1)
            .filter(|s| *s != FINAL_MARKER)
            .ok_or(Error::FrameSequence("too many frames"))?;
        Ok(true)
    }

    /// Reads, authenticates and decrypts the final frame (its marker already read) or the
    /// non-framed block into `self.buf[..n]`. Returns `n`.
    fn last_block(&mut self) -> Result<usize> {
        let (seq, iv, len, kind) = if self.framed {
            self.final_header()?
        } else {
            self.block_header()?
        };
        read_into(&mut self.src, &mut self.buf, len + GCM_TAG_LEN)?;
        if let Some(v) = self.verifier.as_mut() {
            v.update(&self.buf);
        }
        let mut aad = Vec::new();
        body_aad(&mut aad, &self.info.message_id, kind, seq, len as u64);
        let (content, tag) = self.buf.split_at_mut(len);
        self.key
            .open_in_place(&iv, &aad, content, tag)
            .map_err(|_| Error::BodyAuthentication)?;
        Ok(len)
    }

    /// The final frame's fields after its marker: (sequence number, IV, content length,
    /// AAD kind).
    fn final_header(&mut self) -> Result<(u32, [u8; GCM_IV_LEN], usize, &'static [u8])> {
        let mut s = [0u8; 4];
        read_exact(&mut self.src, &mut s)?;
        self.hash(&s);
        let seq = u32::from_be_bytes(s);
        if seq != self.seq {
            return Err(Error::FrameSequence("frame out of order"));
        }
        let mut iv = [0u8; GCM_IV_LEN];
        read_exact(&mut self.src, &mut iv)?;
        self.hash(&iv);
        let mut l = [0u8; 4];
        read_exact(&mut self.src, &mut l)?;
        self.hash(&l);
        let len = u32::from_be_bytes(l) as usize;
        if len > self.info.frame_length as usize {
            return Err(Error::Malformed(
                "final frame is longer than the frame length",
            ));
        }
        Ok((seq, iv, len, FINAL_FRAME))
    }

    /// The single block of a non-framed body.
    fn block_header(&mut self) -> Result<(u32, [u8; GCM_IV_LEN], usize, &'static [u8])> {
        let mut iv = [0u8; GCM_IV_LEN];
        read_exact(&mut self.src, &mut iv)?;
        self.hash(&iv);
        let mut l = [0u8; 8];
        read_exact(&mut self.src, &mut l)?;
        self.hash(&l);
        let len = u64::from_be_bytes(l);
        if len > MAX_NON_FRAMED {
            return Err(Error::Malformed("non-framed content is too long"));
        }
        let len = usize::try_from(len).map_err(|_| Error::Malformed("content too long"))?;
        Ok((1, iv, len, SINGLE_BLOCK))
    }

    /// After the final frame: the signature, then nothing.
    fn finish_message(&mut self) -> Result<()> {
        if let Some(v) = self.verifier.take() {
            let mut l = [0u8; 2];
            read_exact(&mut self.src, &mut l)?;
            let mut sig = vec![0u8; usize::from(u16::from_be_bytes(l))];
            read_exact(&mut self.src, &mut sig)?;
            v.verify(&sig).map_err(|_| Error::Signature)?;
        }
        let mut probe = [0u8; 1];
        loop {
            match self.src.read(&mut probe) {
                Ok(0) => return Ok(()),
                Ok(_) => return Err(Error::TrailingData),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Makes the next plaintext available (in the batch or in `buf`), or fails.
    fn advance(&mut self) -> Result<()> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        if self.buffer_all {
            return self.advance_buffered();
        }
        if self.framed && !self.at_final {
            return self.next_batch();
        }
        // Hold the final frame back until the signature (if any) and the end verify.
        let n = self.last_block()?;
        self.finish_message()?;
        self.finished = true;
        self.out_start = 0;
        self.out_end = n;
        Ok(())
    }

    /// Buffer mode: decrypt the whole body, verify, then release everything.
    fn advance_buffered(&mut self) -> Result<()> {
        let mut all = Zeroizing::new(Vec::new());
        while self.framed && !self.at_final {
            self.next_batch()?;
            if let Some(e) = self.deferred.take() {
                return Err(e);
            }
            let f = self.info.frame_length as usize;
            for frame in self
                .batch
                .chunks_exact(f + crate::frames::OVERHEAD)
                .take(self.ready)
            {
                extend_zeroizing(&mut all, &frame[CONTENT_AT..CONTENT_AT + f]);
            }
            self.ready = 0;
        }
        let n = self.last_block()?;
        extend_zeroizing(&mut all, &self.buf[..n]);
        self.finish_message()?;
        self.finished = true;
        self.out_start = 0;
        self.out_end = all.len();
        self.buf = all;
        Ok(())
    }

    /// Copies released plaintext into `out`: verified batch frames first (as many as fit,
    /// so a large read is one call, not one per frame), then `buf`.
    fn release(&mut self, out: &mut [u8]) -> usize {
        let (f, stride) = (self.info.frame_length as usize, self.frames().stride());
        let mut done = 0;
        while self.next < self.ready && done < out.len() {
            let at = self.next * stride + CONTENT_AT + self.off;
            let n = (f - self.off).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.batch[at..at + n]);
            done += n;
            self.off += n;
            if self.off == f {
                self.next += 1;
                self.off = 0;
            }
        }
        if done > 0 {
            return done;
        }
        let n = (self.out_end - self.out_start).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.out_start..self.out_start + n]);
        self.out_start += n;
        n
    }

    fn fail(&mut self) {
        self.failed = true;
        self.batch.fill(0);
        self.buf.fill(0);
        (self.ready, self.out_start, self.out_end) = (0, 0, 0);
    }
}

/// Appends to a plaintext buffer without leaving copies behind: when it must grow, the
/// contents move to a new allocation and the old one is zeroized as it drops.
fn extend_zeroizing(all: &mut Zeroizing<Vec<u8>>, data: &[u8]) {
    let need = all.len() + data.len();
    if need > all.capacity() {
        let mut bigger = Zeroizing::new(Vec::with_capacity(need.max(all.capacity() * 2)));
        bigger.extend_from_slice(all);
        *all = bigger;
    }
    all.extend_from_slice(data);
}

/// Holds any materials manager to what was asked: the message's suite, and every reproduced
/// pair present with its value.
fn check_materials(
    suite: AlgorithmSuite,
    m: &crate::materials::DecryptionMaterials,
    reproduced: Option<&EncryptionContext>,
) -> Result<()> {
    if m.suite != suite {
        return Err(Error::Keyring(
            "materials are for another algorithm suite".into(),
        ));
    }
    for (k, v) in reproduced.into_iter().flatten() {
        if m.encryption_context.get(k) != Some(v) {
            return Err(Error::EncryptionContext(format!(
                "the value of {k} does not match the message"
            )));
        }
    }
    Ok(())
}

impl<R: Read> Read for Decryptor<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.failed {
                return Err(Error::Poisoned.into());
            }
            let n = self.release(out);
            if n > 0 || self.finished || out.is_empty() {
                return Ok(n);
            }
            if let Err(e) = self.advance() {
                self.fail();
                return Err(e.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Non-framed bodies are never written, so these tests build them by hand.
    use super::*;
    use crate::body::SINGLE_BLOCK;
    use crate::cmm::EncryptionRequest;
    use crate::derive::header_tag;
    use crate::header::serialize_body;
    use crate::keyring::RawAesKeyring;
    use crate::suite::CommitmentPolicy;
    use std::collections::BTreeSet;

    fn policy(suite: AlgorithmSuite) -> CommitmentPolicy {
        if suite.is_committing() {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        }
    }

    fn non_framed(suite: AlgorithmSuite, kr: &RawAesKeyring, pt: &[u8]) -> Vec<u8> {
        let ec: EncryptionContext = [("k".to_string(), "v".to_string())].into();
        let req = EncryptionRequest {
            encryption_context: &ec,
            commitment_policy: policy(suite),
            suite: Some(suite),
            max_plaintext_length: None,
        };
        let mut m = kr.get_encryption_materials(&req).unwrap();
        let dk = m.data_key.take().unwrap();
        let mid = coffer_crypto::random_bytes(suite.message_id_len());
        let mk = derive(suite, &dk, &mid).unwrap();
        let edks = &m.encrypted_data_keys;
        let mut body = serialize_body(
            suite,
            &mid,
            &m.encryption_context,
            edks,
            0,
            mk.commitment.as_ref(),
        )
        .unwrap();
        // Content type: before reserved(4) iv-len(1) frame-len(4) in v1, before
        // frame-len(4) commitment(32) in v2.
        let at = body.len() - if suite.message_version() == 1 { 10 } else { 37 };
        assert_eq!(body[at], 2);
        body[at] = 1;
        let aad = header_aad(&body, &m.encryption_context, &BTreeSet::new()).unwrap();
        let mut msg = body;
        if suite.message_version() == 1 {
            msg.extend_from_slice(&[0u8; GCM_IV_LEN]);
        }
        msg.extend_from_slice(&header_tag(&mk.gcm, &aad).unwrap());
        let iv = [7u8; GCM_IV_LEN];
        let mut a = Vec::new();
        body_aad(&mut a, &mid, SINGLE_BLOCK, 1, pt.len() as u64);
        let mut ct = pt.to_vec();
        let tag = mk.gcm.seal_in_place(&iv, &a, &mut ct).unwrap();
        msg.extend_from_slice(&iv);
        msg.extend_from_slice(&(pt.len() as u64).to_be_bytes());
        msg.extend_from_slice(&ct);
        msg.extend_from_slice(&tag);
        if let Some(mut s) = m.signing_key.take() {
            s.update(&msg);
            let sig = s.sign().unwrap();
            msg.extend_from_slice(&(sig.len() as u16).to_be_bytes());
            msg.extend_from_slice(&sig);
        }
        msg
    }

    #[test]
    fn non_framed_bodies_decrypt_and_are_authenticated() {
        let kr = RawAesKeyring::new("ns", "nf", &[3u8; 32]).unwrap();
        let pt: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        for suite in AlgorithmSuite::ALL {
            let client = Client::new().with_commitment_policy(policy(suite));
            let msg = non_framed(suite, &kr, &pt);
            let h = crate::header::parse_header(&msg).unwrap();
            assert_eq!(h.content_type, ContentType::NonFramed);
            let out = client
                .decrypt(&kr, &msg, &DecryptOptions::default())
                .unwrap();
            assert_eq!(out.plaintext, pt, "{suite:?}");
            assert_eq!(out.info.frame_length, 0);
            let at = h.serialized_len() + 12 + 8 + 5000;
            let mut bad = msg.clone();
            bad[at] ^= 1;
            let r = client.decrypt(&kr, &bad, &DecryptOptions::default());
            assert!(matches!(r, Err(Error::BodyAuthentication)), "{suite:?}");
            let r = client.decrypt(&kr, &msg[..msg.len() - 1], &DecryptOptions::default());
            assert!(r.is_err());
            let empty = non_framed(suite, &kr, b"");
            let out = client
                .decrypt(&kr, &empty, &DecryptOptions::default())
                .unwrap();
            assert!(out.plaintext.is_empty());
        }
    }

    #[test]
    fn forged_lengths_do_not_allocate_or_panic() {
        let kr = RawAesKeyring::new("ns", "nf", &[3u8; 32]).unwrap();
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512Commit;
        let client = Client::new();
        let msg = non_framed(suite, &kr, b"abc");
        let h = crate::header::parse_header(&msg).unwrap().serialized_len();
        let mut bad = msg.clone();
        // Content length 2^36 - 32: allowed by the format, but the bytes are not there.
        bad[h + 12..h + 20].copy_from_slice(&((1u64 << 36) - 32).to_be_bytes());
        let r = client.decrypt(&kr, &bad, &DecryptOptions::default());
        assert!(matches!(r, Err(Error::Truncated)));
        bad[h + 12..h + 20].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let r = client.decrypt(&kr, &bad, &DecryptOptions::default());
        assert!(matches!(r, Err(Error::Malformed(_))));
    }
}
