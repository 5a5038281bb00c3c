//! Streaming encryption: [`Encryptor`] implements `Write`.
//!
//! Memory: one buffer of `frame length + 40` bytes, allocated once. Plaintext is copied into
//! it once, encrypted in place, and the frame (header fields, ciphertext, tag) written from
//! it in one `write_all`. A regular frame is written as soon as a full frame of plaintext
//! has arrived, so a plaintext that is an exact multiple of the frame length ends with an
//! empty final frame (as the ESDK's streaming encryptors do).

use crate::body::{FINAL_FRAME, FINAL_MARKER, FRAME, MAX_SEQ, body_aad, frame_iv};
use crate::client::Client;
use crate::cmm::{CryptoMaterialsManager, EncryptionRequest};
use crate::context::{EncryptionContext, RESERVED_PREFIX};
use crate::decrypt::MessageInfo;
use crate::derive::{derive, header_aad, header_tag};
use crate::header::serialize_body;
use crate::{Error, Result};
use coffer_crypto::{EcdsaSigner, GCM_IV_LEN, GCM_TAG_LEN, GcmKey, random_bytes};
use std::io::{self, Write};
use zeroize::Zeroizing;

/// Room before the plaintext for the longest frame header (final frame: 4 + 4 + 12 + 4).
const PREFIX: usize = 24;
/// Where a regular frame's header (seq 4 + IV 12) starts inside the prefix.
const REGULAR_START: usize = PREFIX - 4 - GCM_IV_LEN;

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
    seq: u32,
    /// `PREFIX` bytes, then up to a frame length of plaintext, then the tag.
    buf: Zeroizing<Vec<u8>>,
    pending: usize,
    aad: Vec<u8>,
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
        mut sink: W,
        bound: Option<u64>,
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
        let message_id = random_bytes(suite.message_id_len());
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
        Ok(Self {
            info,
            sink,
            key: mk.gcm,
            seq: 1,
            buf: Zeroizing::new(vec![
                0u8;
                PREFIX + client.frame_length as usize + GCM_TAG_LEN
            ]),
            pending: 0,
            aad: Vec::with_capacity(64 + 36),
            signer,
            written: 0,
            bound,
            failed: false,
        })
    }

    /// What the header says: suite, message ID, full context, encrypted data keys.
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    /// Encrypts the pending plaintext as the next frame and writes it.
    fn emit(&mut self, last: bool) -> Result<()> {
        let n = self.pending;
        let seq = self.seq;
        if seq > MAX_SEQ {
            return Err(Error::Config("too many frames for one message".into()));
        }
        let kind = if last { FINAL_FRAME } else { FRAME };
        body_aad(&mut self.aad, &self.info.message_id, kind, seq, n as u64);
        let iv = frame_iv(seq);
        let content = &mut self.buf[PREFIX..PREFIX + n];
        let tag = self
            .key
            .seal_in_place(&iv, &self.aad, content)
            .map_err(|_| Error::Config("frame encryption failed".into()))?;
        self.buf[PREFIX + n..PREFIX + n + GCM_TAG_LEN].copy_from_slice(&tag);
        let start = if last {
            self.buf[0..4].copy_from_slice(&FINAL_MARKER.to_be_bytes());
            self.buf[4..8].copy_from_slice(&seq.to_be_bytes());
            self.buf[8..20].copy_from_slice(&iv);
            // n <= frame length <= u32::MAX
            self.buf[20..24].copy_from_slice(&(n as u32).to_be_bytes());
            0
        } else {
            self.buf[REGULAR_START..REGULAR_START + 4].copy_from_slice(&seq.to_be_bytes());
            self.buf[REGULAR_START + 4..PREFIX].copy_from_slice(&iv);
            REGULAR_START
        };
        let frame = &self.buf[start..PREFIX + n + GCM_TAG_LEN];
        if let Some(s) = self.signer.as_mut() {
            s.update(frame);
        }
        self.sink.write_all(frame)?;
        self.seq = seq.wrapping_add(1);
        self.pending = 0;
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
        while !data.is_empty() {
            let take = (frame_len - self.pending).min(data.len());
            let (head, rest) = data.split_at(take);
            self.buf[PREFIX + self.pending..PREFIX + self.pending + take].copy_from_slice(head);
            self.pending += take;
            data = rest;
            if self.pending == frame_len {
                self.emit(false)?;
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
        self.emit(true)?;
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

    /// Flushes the sink; buffered plaintext stays until its frame is full (or `finish`).
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}
