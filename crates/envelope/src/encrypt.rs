//! Streaming encryption: [`Encryptor`] implements `Write`.
//!
//! Plaintext is copied once, into a batch of regular frames laid out as on the wire (see
//! `frames`); when the batch is full the frames are sealed in place (across threads for a
//! large batch), hashed for the signature and written with one `write_all`. The batch starts
//! at the size the declared plaintext length needs (one frame when unknown), doubles as
//! plaintext arrives, and stops at `frames::BATCH_BYTES`, so small messages stay small and
//! memory is bounded whatever the length. A regular frame is complete as soon as a full
//! frame of plaintext has arrived, so a plaintext that is an exact multiple of the frame
//! length ends with an empty final frame (as the ESDK's streaming encryptors do).

use crate::body::{FINAL_FRAME, FINAL_MARKER, MAX_SEQ, body_aad, frame_iv};
use crate::client::Client;
use crate::cmm::{CryptoMaterialsManager, EncryptionRequest};
use crate::context::{EncryptionContext, RESERVED_PREFIX};
use crate::decrypt::MessageInfo;
use crate::derive::{derive, header_aad, header_tag};
use crate::frames::{CONTENT_AT, Frames, OVERHEAD};
use crate::header::serialize_body;
use crate::{Error, Result};
use coffer_crypto::{EcdsaSigner, GCM_IV_LEN, GCM_TAG_LEN, GcmKey, random_bytes};
use std::io::{self, Write};
use zeroize::Zeroizing;

/// A final frame's fields before its content: marker(4) seq(4) iv(12) content length(4).
const FINAL_HEAD: usize = 4 + 4 + GCM_IV_LEN + 4;

/// Encrypts everything written to it into `W`. Call [`Encryptor::finish`] at the end: a
/// message without its final frame (and signature) does not decrypt.
///
/// ```
/// use coffer_envelope::{Client, EncryptionContext, RawAesKeyring};
/// use std::io::Write;
///
/// let keyring = RawAesKeyring::new("my-namespace", "my-key", &[7u8; 32])?;
/// let client = Client::new();
/// let mut enc = client.encryptor(&keyring, &EncryptionContext::new(), Vec::new(), None)?;
/// enc.write_all(b"streamed ")?;
/// enc.write_all(b"plaintext")?;
/// let message = enc.finish()?;
/// let out = client.decrypt(&keyring, &message, &Default::default())?;
/// assert_eq!(out.plaintext, b"streamed plaintext");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encryptor<W: Write> {
    info: MessageInfo,
    sink: W,
    key: GcmKey,
    /// The sequence number of the first frame in `buf`.
    seq: u32,
    /// Regular-frame slots: `filled` whole frames of plaintext, then `pending` bytes of the
    /// next frame in the slot after them.
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
    pending: usize,
    /// With several threads: the previous batch, sealed, waiting to be hashed and written
    /// while the next one is sealed (its first `sealed_len` bytes).
    sealed: Zeroizing<Vec<u8>>,
    sealed_len: usize,
    threads: usize,
    signer: Option<EcdsaSigner>,
    written: u64,
    bound: Option<u64>,
    failed: bool,
}

impl<W: Write> std::fmt::Debug for Encryptor<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("frame_length", &self.info.frame_length)
            .field("seq", &self.seq)
            .finish()
    }
}

impl<W: Write> Encryptor<W> {
    pub(crate) fn start<M: CryptoMaterialsManager + ?Sized>(
        client: &Client,
        cmm: &M,
        ec: &EncryptionContext,
        sink: W,
        bound: Option<u64>,
    ) -> Result<Self> {
        Self::start_with_id(client, cmm, ec, sink, bound, random_bytes)
    }

    /// `start`, with the message ID from `make_id(length)` (tests fix it to compare
    /// messages byte for byte).
    fn start_with_id<M: CryptoMaterialsManager + ?Sized>(
        client: &Client,
        cmm: &M,
        ec: &EncryptionContext,
        mut sink: W,
        bound: Option<u64>,
        make_id: impl FnOnce(usize) -> Vec<u8>,
    ) -> Result<Self> {
        if let Some(k) = ec.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
            return Err(Error::EncryptionContext(format!("the key {k} is reserved")));
        }
        let req = EncryptionRequest {
            encryption_context: ec,
            commitment_policy: client.commitment_policy,
            suite: client.suite,
            max_plaintext_length: bound,
        };
        let mut m = cmm.get_encryption_materials(&req)?;
        let suite = m.suite;
        client.commitment_policy.check(suite, true)?;
        if let Some(s) = client.suite.filter(|s| *s != suite) {
            return Err(Error::Config(format!(
                "materials use suite {:#06x}, not the requested {:#06x}",
                suite.id(),
                s.id()
            )));
        }
        let count = m.encrypted_data_keys.len();
        if let Some(max) = client.max_encrypted_data_keys.filter(|max| count > *max) {
            return Err(Error::TooManyEncryptedDataKeys { count, max });
        }
        if count == 0 || suite.signature().is_some() != m.signing_key.is_some() {
            return Err(Error::Keyring("incomplete encryption materials".into()));
        }
        let data_key = m
            .data_key
            .take()
            .ok_or_else(|| Error::Keyring("no data key".into()))?;
        let message_id = make_id(suite.message_id_len());
        let mk = derive(suite, &data_key, &message_id)?;
        let stored: EncryptionContext = m
            .encryption_context
            .iter()
            .filter(|(k, _)| !m.required_context_keys.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let body = serialize_body(
            suite,
            &message_id,
            &stored,
            &m.encrypted_data_keys,
            client.frame_length,
            mk.commitment.as_ref(),
        )?;
        let aad = header_aad(&body, &m.encryption_context, &m.required_context_keys)?;
        let tag = header_tag(&mk.gcm, &aad)?;
        let mut signer = m.signing_key.take();
        let mut header = body;
        if suite.message_version() == 1 {
            header.extend_from_slice(&[0u8; GCM_IV_LEN]);
        }
        header.extend_from_slice(&tag);
        if let Some(s) = signer.as_mut() {
            s.update(&header);
        }
        sink.write_all(&header)?;
        let info = MessageInfo {
            suite,
            message_id,
            encryption_context: m.encryption_context,
            encrypted_data_keys: m.encrypted_data_keys,
            frame_length: client.frame_length,
        };
        let mut enc = Self {
            info,
            sink,
            key: mk.gcm,
            seq: 1,
            buf: Zeroizing::new(Vec::new()),
            filled: 0,
            pending: 0,
            sealed: Zeroizing::new(Vec::new()),
            sealed_len: 0,
            threads: client.threads,
            signer,
            written: 0,
            bound,
            failed: false,
        };
        // Room for the whole declared plaintext (its partial last frame included), up to
        // a batch.
        let frames = bound.map_or(1, |b| b / u64::from(client.frame_length) + 1);
        let batch = enc.frames().batch_frames();
        enc.grow(usize::try_from(frames).map_or(batch, |f| f.min(batch)));
        Ok(enc)
    }

    /// What the header says: suite, message ID, full context, encrypted data keys.
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    fn frames(&self) -> Frames<'_> {
        Frames {
            key: &self.key,
            message_id: &self.info.message_id,
            frame_len: self.info.frame_length as usize,
            threads: self.threads,
        }
    }

    fn slots(&self) -> usize {
        self.buf.len() / self.frames().stride()
    }

    /// Replaces the batch with one of `slots` frames holding the same bytes; the old
    /// buffer is zeroized as it drops (a `Vec` growing in place would leave plaintext in
    /// the memory it gives back).
    fn grow(&mut self, slots: usize) {
        let mut bigger = Zeroizing::new(vec![0u8; slots * self.frames().stride()]);
        bigger[..self.buf.len()].copy_from_slice(&self.buf);
        self.buf = bigger;
    }

    /// Called when every slot holds a whole frame: a bigger batch, or seal and write it.
    fn make_room(&mut self) -> Result<()> {
        let (slots, max) = (self.slots(), self.frames().batch_frames());
        if slots < max {
            self.grow((slots * 2).min(max));
            return Ok(());
        }
        self.seal_batch()
    }

    /// Seals the whole frames of the batch and moves the pending partial frame to the
    /// first slot. One thread: the batch is hashed and written now. Several: it becomes
    /// the `sealed` batch, hashed and written while the next batch is sealed (the hash is
    /// serial, so this keeps it from waiting for AES) or by `drain`.
    fn seal_batch(&mut self) -> Result<()> {
        let n = self.filled;
        if n == 0 {
            return Ok(());
        }
        let next = u64::from(self.seq) + n as u64;
        if next - 1 > u64::from(MAX_SEQ) {
            return Err(Error::Config("too many frames for one message".into()));
        }
        let stride = self.frames().stride();
        let Self {
            key,
            info,
            buf,
            sealed,
            sealed_len,
            signer,
            sink,
            threads,
            seq,
            ..
        } = self;
        let frames = Frames {
            key,
            message_id: &info.message_id,
            frame_len: info.frame_length as usize,
            threads: *threads,
        };
        if *threads == 1 {
            let batch = &mut buf[..n * stride];
            frames.seal(batch, *seq)?;
            output(signer, sink, batch)?;
        } else {
            if sealed.len() < buf.len() {
                let mut bigger = Zeroizing::new(vec![0u8; buf.len()]);
                bigger[..*sealed_len].copy_from_slice(&sealed[..*sealed_len]);
                *sealed = bigger;
            }
            let previous = &sealed[..*sealed_len];
            let mut write_previous = || output(signer, sink, previous);
            frames.seal_while(&mut buf[..n * stride], *seq, Some(&mut write_previous))?;
            std::mem::swap(buf, sealed);
            *sealed_len = n * stride;
        }
        // next <= MAX_SEQ + 1 = FINAL_MARKER, which fits; finish checks it again.
        self.seq = u32::try_from(next).unwrap_or(FINAL_MARKER);
        self.filled = 0;
        if self.pending > 0 {
            // Only when flushed or finished mid-frame; a full batch has no partial frame.
            let from = n * stride + CONTENT_AT;
            let to = CONTENT_AT..CONTENT_AT + self.pending;
            if self.threads == 1 {
                self.buf.copy_within(from..from + self.pending, CONTENT_AT);
            } else {
                self.buf[to].copy_from_slice(&self.sealed[from..from + self.pending]);
                self.sealed[from..from + self.pending].fill(0);
            }
        }
        Ok(())
    }

    /// Hashes and writes the sealed batch waiting to be written, if any.
    fn drain(&mut self) -> Result<()> {
        let len = std::mem::take(&mut self.sealed_len);
        output(&mut self.signer, &mut self.sink, &self.sealed[..len])
    }

    /// Seals the pending plaintext (in the first slot, after `seal_batch`) as the final
    /// frame and writes it.
    fn emit_final(&mut self) -> Result<()> {
        let (seq, n) = (self.seq, self.pending);
        if seq > MAX_SEQ {
            return Err(Error::Config("too many frames for one message".into()));
        }
        let mut aad = Vec::new();
        body_aad(&mut aad, &self.info.message_id, FINAL_FRAME, seq, n as u64);
        let iv = frame_iv(seq);
        let tag = self
            .key
            .seal_in_place(&iv, &aad, &mut self.buf[CONTENT_AT..CONTENT_AT + n])
            .map_err(|_| Error::Config("frame encryption failed".into()))?;
        // A slot has a tag's room after a whole frame, so after a partial one too.
        self.buf[CONTENT_AT + n..CONTENT_AT + n + GCM_TAG_LEN].copy_from_slice(&tag);
        let mut head = [0u8; FINAL_HEAD];
        head[..4].copy_from_slice(&FINAL_MARKER.to_be_bytes());
        head[4..8].copy_from_slice(&seq.to_be_bytes());
        head[8..20].copy_from_slice(&iv);
        // n < frame length <= u32::MAX
        head[20..].copy_from_slice(&(n as u32).to_be_bytes());
        let body = &self.buf[CONTENT_AT..CONTENT_AT + n + GCM_TAG_LEN];
        if let Some(s) = self.signer.as_mut() {
            s.update(&head);
            s.update(body);
        }
        self.sink.write_all(&head)?;
        self.sink.write_all(body)?;
        Ok(())
    }

    fn write_plaintext(&mut self, mut data: &[u8]) -> Result<()> {
        let frame_len = self.info.frame_length as usize;
        self.written = self.written.saturating_add(data.len() as u64);
        if self.bound.is_some_and(|b| self.written > b) {
            return Err(Error::Config(
                "more plaintext than the declared length".into(),
            ));
        }
        let stride = frame_len + OVERHEAD;
        while !data.is_empty() {
            let take = (frame_len - self.pending).min(data.len());
            let (head, rest) = data.split_at(take);
            let at = self.filled * stride + CONTENT_AT + self.pending;
            self.buf[at..at + take].copy_from_slice(head);
            self.pending += take;
            data = rest;
            if self.pending == frame_len {
                self.filled += 1;
                self.pending = 0;
                if self.filled == self.slots() {
                    self.make_room()?;
                }
            }
        }
        Ok(())
    }

    /// Writes the final frame and the signature; returns the sink (flushed).
    pub fn finish(mut self) -> Result<W> {
        if self.failed {
            return Err(Error::Poisoned);
        }
        if self.bound.is_some_and(|b| self.written != b) {
            return Err(Error::Config(
                "less plaintext than the declared length".into(),
            ));
        }
        self.seal_batch()?;
        self.drain()?;
        self.emit_final()?;
        // The frame buffer is zeroized when the rest of `self` drops here.
        let Self {
            mut sink, signer, ..
        } = self;
        if let Some(s) = signer {
            let sig = s
                .sign()
                .map_err(|_| Error::Config("signing the message failed".into()))?;
            // A DER ECDSA signature is at most 104 bytes.
            sink.write_all(&(sig.len() as u16).to_be_bytes())?;
            sink.write_all(&sig)?;
        }
        sink.flush()?;
        Ok(sink)
    }
}

/// Feeds message bytes to the signature hash (signing suites) and the sink, in order.
fn output<W: Write>(signer: &mut Option<EcdsaSigner>, sink: &mut W, bytes: &[u8]) -> Result<()> {
    if let Some(s) = signer.as_mut() {
        s.update(bytes);
    }
    sink.write_all(bytes)?;
    Ok(())
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(Error::Poisoned.into());
        }
        match self.write_plaintext(data) {
            Ok(()) => Ok(data.len()),
            Err(e) => {
                self.failed = true;
                self.buf.fill(0);
                Err(e.into())
            }
        }
    }

    /// Writes every whole frame buffered so far and flushes the sink; the plaintext of a
    /// partial frame stays until the frame is full (or `finish`).
    fn flush(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(Error::Poisoned.into());
        }
        if let Err(e) = self.seal_batch().and_then(|()| self.drain()) {
            self.failed = true;
            self.buf.fill(0);
            return Err(e.into());
        }
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    //! The batched, threaded path against the one-thread path, byte for byte: same data
    //! key (a materials manager that hands out one set of materials) and message ID.
    use super::*;
    use crate::cmm::{DecryptionRequest, EncryptionRequest};
    use crate::decrypt::DecryptOptions;
    use crate::frames::BATCH_BYTES;
    use crate::keyring::RawAesKeyring;
    use crate::materials::{DecryptionMaterials, EncryptionMaterials};
    use crate::suite::AlgorithmSuite;

    struct Fixed {
        kr: RawAesKeyring,
        m: EncryptionMaterials,
    }

    impl CryptoMaterialsManager for Fixed {
        fn get_encryption_materials(
            &self,
            _: &EncryptionRequest<'_>,
        ) -> Result<EncryptionMaterials> {
            self.m.try_clone()
        }
        fn decrypt_materials(&self, req: &DecryptionRequest<'_>) -> Result<DecryptionMaterials> {
            self.kr.decrypt_materials(req)
        }
    }

    fn fixed(suite: AlgorithmSuite) -> Fixed {
        let kr = RawAesKeyring::new("ns", "fixed", &[4u8; 32]).unwrap();
        let ec = EncryptionContext::new();
        let req = EncryptionRequest {
            encryption_context: &ec,
            commitment_policy: Default::default(),
            suite: Some(suite),
            max_plaintext_length: None,
        };
        let m = kr.get_encryption_materials(&req).unwrap();
        Fixed { kr, m }
    }

    /// Encrypts `pt` written in `chunk`-byte pieces (flushing after every `flush_every`
    /// pieces, if not 0), declaring its length or not.
    fn encrypt(
        client: &Client,
        cmm: &Fixed,
        pt: &[u8],
        (chunk, flush_every): (usize, usize),
        declared: bool,
    ) -> Vec<u8> {
        let bound = declared.then_some(pt.len() as u64);
        let ec = EncryptionContext::new();
        let mut enc =
            Encryptor::start_with_id(client, cmm, &ec, Vec::new(), bound, |n| vec![0x5a; n])
                .unwrap();
        for (i, piece) in pt.chunks(chunk.max(1)).enumerate() {
            enc.write_all(piece).unwrap();
            if flush_every > 0 && i % flush_every == flush_every - 1 {
                enc.flush().unwrap();
            }
        }
        enc.finish().unwrap()
    }

    /// Sizes around frame and batch boundaries, for 4096-byte frames.
    fn sizes() -> Vec<usize> {
        let batch = BATCH_BYTES / (4096 + crate::frames::OVERHEAD) * 4096;
        vec![
            0,
            1,
            4095,
            4096,
            4097,
            3 * 4096,
            batch - 1,
            batch,
            batch + 1,
            2 * batch + 3 * 4096 + 17,
        ]
    }

    #[test]
    fn threads_make_the_same_message_byte_for_byte() {
        let cmm = fixed(AlgorithmSuite::Aes256GcmHkdfSha512Commit);
        let one = Client::new().with_threads(1);
        let pt: Vec<u8> = (0..sizes().iter().max().copied().unwrap_or(0) as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        for size in sizes() {
            let pt = &pt[..size];
            let reference = encrypt(&one, &cmm, pt, (size, 0), true);
            let cases = [
                (4, (size, 0), true),
                (3, (1000, 0), false),
                (2, (65536, 0), true),
                (2, (100_000, 7), false),
                (1, (100_000, 7), false),
            ];
            for (threads, chunk, declared) in cases {
                let many = Client::new().with_threads(threads);
                let msg = encrypt(&many, &cmm, pt, chunk, declared);
                assert!(
                    msg == reference,
                    "{size} bytes, {threads} threads, writes and flushes {chunk:?}"
                );
            }
            let out = one
                .decrypt(&cmm, &reference, &DecryptOptions::default())
                .unwrap();
            assert!(out.plaintext == pt, "{size} bytes");
        }
    }

    #[test]
    fn signed_messages_match_up_to_the_randomized_signature_and_verify() {
        let cmm = fixed(AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384);
        let size = 2 * BATCH_BYTES + 5;
        let pt = vec![3u8; size];
        let a = encrypt(&Client::new().with_threads(1), &cmm, &pt, (size, 0), true);
        let b = encrypt(
            &Client::new().with_threads(4),
            &cmm,
            &pt,
            (777_777, 3),
            false,
        );
        // Everything before the footer (signature length, then a randomized signature).
        let header = crate::header::parse_header(&a).unwrap().serialized_len();
        let body = size / 4096 * (4096 + crate::frames::OVERHEAD) + FINAL_HEAD + size % 4096 + 16;
        let signed = header + body;
        assert_eq!(a[..signed], b[..signed]);
        for m in [&a, &b] {
            let sig = usize::from(u16::from_be_bytes([m[signed], m[signed + 1]]));
            assert_eq!(m.len(), signed + 2 + sig);
        }
        for msg in [&a, &b] {
            for threads in [1, 4] {
                let c = Client::new().with_threads(threads);
                assert!(
                    c.decrypt(&cmm, msg, &DecryptOptions::default())
                        .unwrap()
                        .plaintext
                        == pt
                );
            }
        }
    }
}
