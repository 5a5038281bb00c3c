//! The message header (versions 1 and 2): parsing from a stream and serialization.
//!
//! ```text
//! v1: version(1)=1 type(1)=0x80 suite(2) message-id(16) aad-len(2) aad ekd-count(2) edks
//!     content-type(1) reserved(4)=0 iv-len(1)=12 frame-len(4) | iv(12) tag(16)
//! v2: version(1)=2 suite(2) message-id(32) aad-len(2) aad edk-count(2) edks
//!     content-type(1) frame-len(4) commitment(32) | tag(16)
//! edk: provider-id-len(2) provider-id provider-info-len(2) provider-info ct-len(2) ct
//! ```
//! The part before `|` is the header body; the tag authenticates it (plus any context the
//! caller must reproduce). All integers are big-endian.

use crate::context::{self, EncryptionContext};
use crate::materials::EncryptedDataKey;
use crate::suite::AlgorithmSuite;
use crate::wire::Recorder;
use crate::{Error, Result};
use coffer_crypto::{GCM_IV_LEN, GCM_TAG_LEN};
use std::io::Read;

/// Whether the body is framed (the only kind written) or a single block (read only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    NonFramed,
    Framed,
}

/// Length of the commitment key stored in v2 headers.
pub const COMMITMENT_LEN: usize = 32;
const V1_TYPE_CUSTOMER_AED: u8 = 0x80;

/// A parsed (or about to be written) message header.
#[derive(Debug, Clone)]
pub struct Header {
    pub suite: AlgorithmSuite,
    pub message_id: Vec<u8>,
    /// The encryption context stored in the message (without authenticate-only pairs).
    pub encryption_context: EncryptionContext,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    pub content_type: ContentType,
    /// Frame length in bytes (0 for non-framed bodies).
    pub frame_length: u32,
    /// The key commitment of v2 headers.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
    /// The serialized header body exactly as read or written.
    pub(crate) body: Vec<u8>,
    pub(crate) auth_iv: [u8; GCM_IV_LEN],
    pub(crate) auth_tag: [u8; GCM_TAG_LEN],
}

impl Header {
    /// The message format version (1 or 2).
    pub fn version(&self) -> u8 {
        self.suite.message_version()
    }

    /// Length in bytes of the whole header (body and authentication) in the message.
    pub fn serialized_len(&self) -> usize {
        self.body.len() + self.auth_bytes().len()
    }

    /// The header authentication bytes as serialized after the body.
    pub(crate) fn auth_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(GCM_IV_LEN + GCM_TAG_LEN);
        if self.version() == 1 {
            out.extend_from_slice(&self.auth_iv);
        }
        out.extend_from_slice(&self.auth_tag);
        out
    }
}

/// Reads a header (body and authentication) from `src`. `max_edks` bounds the number of
/// encrypted data keys before any of them is read.
pub fn read_header<R: Read>(src: &mut R, max_edks: Option<usize>) -> Result<Header> {
    let mut r = Recorder {
        src,
        record: Vec::with_capacity(512),
    };
    let version = r.u8()?;
    if version == 1 {
        if r.u8()? != V1_TYPE_CUSTOMER_AED {
            return Err(Error::Malformed("unknown message type"));
        }
    } else if version != 2 {
        return Err(Error::Unsupported("message format version"));
    }
    let suite = AlgorithmSuite::from_id(r.u16()?).ok_or(Error::Unsupported("algorithm suite"))?;
    if suite.message_version() != version {
        return Err(Error::Malformed(
            "algorithm suite does not match the message version",
        ));
    }
    let message_id = r.bytes(suite.message_id_len())?.to_vec();
    let aad = r.u16_prefixed()?;
    let encryption_context = context::parse(&aad)?;
    let encrypted_data_keys = read_edks(&mut r, max_edks)?;
    let content_type = match r.u8()? {
        1 => ContentType::NonFramed,
        2 => ContentType::Framed,
        _ => return Err(Error::Unsupported("content type")),
    };
    if version == 1 {
        if r.u32()? != 0 {
            return Err(Error::Malformed("reserved header field is not zero"));
        }
        if usize::from(r.u8()?) != GCM_IV_LEN {
            return Err(Error::Malformed(
                "IV length does not match the algorithm suite",
            ));
        }
    }
    let frame_length = r.u32()?;
    match (content_type, frame_length) {
        (ContentType::NonFramed, 0) => {}
        (ContentType::NonFramed, _) => {
            return Err(Error::Malformed("non-framed content with a frame length"));
        }
        (ContentType::Framed, 0) => return Err(Error::Malformed("frame length is zero")),
        (ContentType::Framed, _) => {}
    }
    let commitment = if version == 2 {
        let mut c = [0u8; COMMITMENT_LEN];
        c.copy_from_slice(r.bytes(COMMITMENT_LEN)?);
        Some(c)
    } else {
        None
    };
    let body = std::mem::take(&mut r.record);
    let mut auth_iv = [0u8; GCM_IV_LEN];
    if version == 1 {
        auth_iv.copy_from_slice(r.bytes(GCM_IV_LEN)?);
    }
    let mut auth_tag = [0u8; GCM_TAG_LEN];
    auth_tag.copy_from_slice(r.bytes(GCM_TAG_LEN)?);
    Ok(Header {
        suite,
        message_id,
        encryption_context,
        encrypted_data_keys,
        content_type,
        frame_length,
        commitment,
        body,
        auth_iv,
        auth_tag,
    })
}

fn read_edks<R: Read>(
    r: &mut Recorder<'_, R>,
    max: Option<usize>,
) -> Result<Vec<EncryptedDataKey>> {
    let count = usize::from(r.u16()?);
    if count == 0 {
        return Err(Error::Malformed("no encrypted data keys"));
    }
    if let Some(max) = max.filter(|m| count > *m) {
        return Err(Error::TooManyEncryptedDataKeys { count, max });
    }
    let mut edks = Vec::with_capacity(count);
    for _ in 0..count {
        let provider_id = String::from_utf8(r.u16_prefixed()?)
            .map_err(|_| Error::Malformed("provider ID is not UTF-8"))?;
        let provider_info = r.u16_prefixed()?;
        let ciphertext = r.u16_prefixed()?;
        edks.push(EncryptedDataKey {
            provider_id,
            provider_info,
            ciphertext,
        });
    }
    Ok(edks)
}

fn put_u16_prefixed(out: &mut Vec<u8>, b: &[u8], what: &'static str) -> Result<()> {
    let n =
        u16::try_from(b.len()).map_err(|_| Error::Config(format!("{what} exceeds 65535 bytes")))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// Serializes a header body. `stored_context` must already exclude authenticate-only pairs.
pub(crate) fn serialize_body(
    suite: AlgorithmSuite,
    message_id: &[u8],
    stored_context: &EncryptionContext,
    edks: &[EncryptedDataKey],
    frame_length: u32,
    commitment: Option<&[u8; COMMITMENT_LEN]>,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    let v = suite.message_version();
    out.push(v);
    if v == 1 {
        out.push(V1_TYPE_CUSTOMER_AED);
    }
    out.extend_from_slice(&suite.id().to_be_bytes());
    out.extend_from_slice(message_id);
    put_u16_prefixed(
        &mut out,
        &context::serialize(stored_context)?,
        "encryption context",
    )?;
    let count = u16::try_from(edks.len())
        .map_err(|_| Error::Config("more than 65535 encrypted data keys".into()))?;
    out.extend_from_slice(&count.to_be_bytes());
    for e in edks {
        put_u16_prefixed(&mut out, e.provider_id.as_bytes(), "provider ID")?;
        put_u16_prefixed(&mut out, &e.provider_info, "provider info")?;
        put_u16_prefixed(&mut out, &e.ciphertext, "encrypted data key")?;
    }
    out.push(2); // framed
    if v == 1 {
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.push(GCM_IV_LEN as u8);
    }
    out.extend_from_slice(&frame_length.to_be_bytes());
    if let Some(c) = commitment {
        out.extend_from_slice(c);
    }
    Ok(out)
}

/// Parses just the header of `message` (for inspection; nothing is authenticated).
pub fn parse_header(message: &[u8]) -> Result<Header> {
    let mut src = message;
    read_header(&mut src, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edk(i: u8) -> EncryptedDataKey {
        EncryptedDataKey {
            provider_id: format!("p{i}"),
            provider_info: vec![i; 3],
            ciphertext: vec![i; 40],
        }
    }

    #[test]
    fn serialized_headers_parse_back() {
        let ec: EncryptionContext = [("a".to_string(), "b".to_string())].into();
        for suite in [
            AlgorithmSuite::Aes128GcmNoKdf,
            AlgorithmSuite::Aes256GcmHkdfSha512Commit,
        ] {
            let mid = vec![9u8; suite.message_id_len()];
            let commit = suite.is_committing().then_some([4u8; 32]);
            let body =
                serialize_body(suite, &mid, &ec, &[edk(1), edk(2)], 4096, commit.as_ref()).unwrap();
            let mut msg = body.clone();
            msg.extend_from_slice(&vec![0u8; if suite.is_committing() { 16 } else { 28 }]);
            let h = parse_header(&msg).unwrap();
            assert_eq!(h.body, body);
            assert_eq!(h.serialized_len(), msg.len());
            assert_eq!(h.suite, suite);
            assert_eq!(h.message_id, mid);
            assert_eq!(h.encryption_context, ec);
            assert_eq!(h.encrypted_data_keys, [edk(1), edk(2)]);
            assert_eq!(h.frame_length, 4096);
            assert_eq!(h.commitment, commit);
            // Every strict prefix is truncated.
            for n in 0..msg.len() {
                assert!(parse_header(&msg[..n]).is_err());
            }
            // The EDK limit applies before the keys are read.
            let mut src = &msg[..];
            assert!(matches!(
                read_header(&mut src, Some(1)),
                Err(Error::TooManyEncryptedDataKeys { count: 2, max: 1 })
            ));
        }
    }

    #[test]
    fn malformed_fields_are_rejected() {
        let suite = AlgorithmSuite::Aes256GcmNoKdf;
        let body = serialize_body(
            suite,
            &[1; 16],
            &EncryptionContext::new(),
            &[edk(1)],
            64,
            None,
        )
        .unwrap();
        let mut msg = body.clone();
        msg.extend_from_slice(&[0u8; 28]);
        let n = body.len();
        let bad = |i: usize, v: u8| {
            let mut m = msg.clone();
            m[i] = v;
            parse_header(&m).map(|_| ())
        };
        assert!(matches!(bad(0, 3), Err(Error::Unsupported(_))));
        assert!(bad(1, 0x81).is_err()); // message type
        assert!(matches!(bad(3, 0x79), Err(Error::Unsupported(_)))); // unknown suite
        assert!(bad(3, 0x78).is_ok());
        assert!(bad(n - 10, 3).is_err()); // content type
        assert!(bad(n - 9, 1).is_err()); // reserved
        assert!(bad(n - 5, 16).is_err()); // IV length
        // Frame length 0 while framed; non-framed with a frame length.
        let mut m = msg.clone();
        m[n - 4..n].copy_from_slice(&[0; 4]);
        assert!(parse_header(&m).is_err());
        assert!(bad(n - 10, 1).is_err());
        // A v1 suite in a v2 header.
        assert!(bad(0, 2).is_err());
    }
}
