//! AES-256-GCM sealing with a random 96-bit nonce.
//!
//! Sealed format (frozen: stored records depend on it): `nonce (12) || ciphertext || tag (16)`.

use crate::{SecretKey, fill_unique};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

/// Bytes added to the plaintext by [`seal`].
pub const SEAL_OVERHEAD: usize = NONCE_LEN + 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AeadError {
    /// Wrong key, wrong associated data, or tampered bytes. Deliberately undistinguished.
    #[error("ciphertext did not authenticate")]
    Unauthentic,
}

fn key(k: &SecretKey) -> LessSafeKey {
    // A 32-byte key is always valid for AES-256-GCM.
    match UnboundKey::new(&AES_256_GCM, k.expose()) {
        Ok(u) => LessSafeKey::new(u),
        Err(_) => std::process::abort(),
    }
}

/// Encrypts and authenticates `plaintext`, binding `aad` (which is not stored).
pub fn seal(k: &SecretKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_unique(&mut nonce);
    seal_with_nonce(k, nonce, aad, plaintext)
}

/// [`seal`] with a caller-supplied nonce, for formats whose randomness is injected (so
/// fixtures are reproducible). The nonce must never repeat under one key.
pub fn seal_with_nonce(
    k: &SecretKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(NONCE_LEN);
    if key(k)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .is_err()
    {
        // Only fails for inputs beyond GCM's 64 GiB limit, which nothing here produces.
        std::process::abort();
    }
    out.extend_from_slice(&body);
    out
}

/// Reverses [`seal`]. Any failure is reported as [`AeadError::Unauthentic`].
pub fn open(k: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, AeadError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(AeadError::Unauthentic);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| AeadError::Unauthentic)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key(k)
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| AeadError::Unauthentic)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let k = SecretKey::generate();
        let s = seal(&k, b"ctx", b"hello");
        assert_eq!(s.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(open(&k, b"ctx", &s).unwrap().as_slice(), b"hello");
        assert_eq!(open(&k, b"other", &s), Err(AeadError::Unauthentic));
        let mut t = s.clone();
        t[13] ^= 1;
        assert_eq!(open(&k, b"ctx", &t), Err(AeadError::Unauthentic));
        assert_eq!(
            open(&SecretKey::generate(), b"ctx", &s),
            Err(AeadError::Unauthentic)
        );
        assert_eq!(open(&k, b"ctx", &s[..10]), Err(AeadError::Unauthentic));
    }
}
