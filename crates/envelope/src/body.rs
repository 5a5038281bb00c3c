//! Message body framing: body AAD, per-frame IVs and the limits of the format.
//!
//! ```text
//! regular frame: seq(4) iv(12) content(frame-len) tag(16)
//! final frame:   0xFFFFFFFF(4) seq(4) iv(12) content-len(4) content tag(16)
//! non-framed:    iv(12) content-len(8) content tag(16)
//! body AAD:      message-id | content-string | seq(4) | content-len(8)
//! ```
//! The IV of frame `n` is `n` big-endian, left-padded with zeros to 12 bytes.

use coffer_crypto::GCM_IV_LEN;

pub(crate) const FRAME: &[u8] = b"AWSKMSEncryptionClient Frame";
pub(crate) const FINAL_FRAME: &[u8] = b"AWSKMSEncryptionClient Final Frame";
pub(crate) const SINGLE_BLOCK: &[u8] = b"AWSKMSEncryptionClient Single Block";

/// Marks a final frame in place of a sequence number.
pub(crate) const FINAL_MARKER: u32 = 0xFFFF_FFFF;
/// The largest sequence number a frame may have.
pub(crate) const MAX_SEQ: u32 = 0xFFFF_FFFE;
/// Largest non-framed content: 2^36 - 32 bytes (the GCM limit per IV).
pub(crate) const MAX_NON_FRAMED: u64 = (1 << 36) - 32;
/// The default frame length.
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

pub(crate) fn frame_iv(seq: u32) -> [u8; GCM_IV_LEN] {
    let mut iv = [0u8; GCM_IV_LEN];
    iv[GCM_IV_LEN - 4..].copy_from_slice(&seq.to_be_bytes());
    iv
}

/// Writes the body AAD into `out` (cleared first; its capacity is reused).
pub(crate) fn body_aad(out: &mut Vec<u8>, message_id: &[u8], kind: &[u8], seq: u32, len: u64) {
    out.clear();
    out.extend_from_slice(message_id);
    out.extend_from_slice(kind);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iv_and_aad_layout() {
        assert_eq!(frame_iv(1), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(frame_iv(0x0102_0304)[8..], [1, 2, 3, 4]);
        let mut aad = Vec::new();
        body_aad(&mut aad, &[9; 16], FRAME, 2, 4096);
        assert_eq!(aad.len(), 16 + FRAME.len() + 4 + 8);
        assert_eq!(
            &aad[aad.len() - 12..],
            &[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x10, 0]
        );
    }
}
