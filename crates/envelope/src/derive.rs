//! From the plaintext data key to the message's AES key (and commitment), and the header
//! authentication tag.
//!
//! - identity suites: the data key is the AES key;
//! - HKDF suites without commitment: HKDF(salt = none, ikm = data key,
//!   info = suite ID (2) || message ID (16));
//! - committing suites: HKDF-SHA512 with the 32-byte message ID as salt; the AES key with
//!   info = suite ID (2) || "DERIVEKEY", the commitment key (32 bytes, stored in the header)
//!   with info = "COMMITKEY".

use crate::context::{self, EncryptionContext};
use crate::suite::{AlgorithmSuite, Kdf};
use crate::{Error, Result};
use coffer_crypto::{GCM_IV_LEN, GCM_TAG_LEN, GcmKey, constant_time_eq, hkdf};
use std::collections::BTreeSet;
use zeroize::Zeroizing;

pub(crate) struct MessageKey {
    pub gcm: GcmKey,
    pub commitment: Option<[u8; 32]>,
}

fn kdf_failed<E>(_: E) -> Error {
    Error::Config("key derivation failed".into())
}

pub(crate) fn derive(
    suite: AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
) -> Result<MessageKey> {
    if data_key.len() != suite.key_len() || message_id.len() != suite.message_id_len() {
        return Err(Error::Config(
            "data key or message ID length does not match the suite".into(),
        ));
    }
    let hash = match suite.kdf() {
        Kdf::Identity => {
            let gcm = GcmKey::new(data_key).map_err(kdf_failed)?;
            return Ok(MessageKey {
                gcm,
                commitment: None,
            });
        }
        Kdf::Hkdf(h) => h,
    };
    let mut key = Zeroizing::new(vec![0u8; suite.key_len()]);
    if suite.is_committing() {
        let mut info = suite.id().to_be_bytes().to_vec();
        info.extend_from_slice(b"DERIVEKEY");
        hkdf(hash, message_id, data_key, &info, &mut key).map_err(kdf_failed)?;
        let mut commitment = [0u8; 32];
        hkdf(hash, message_id, data_key, b"COMMITKEY", &mut commitment).map_err(kdf_failed)?;
        let gcm = GcmKey::new(&key).map_err(kdf_failed)?;
        return Ok(MessageKey {
            gcm,
            commitment: Some(commitment),
        });
    }
    let mut info = suite.id().to_be_bytes().to_vec();
    info.extend_from_slice(message_id);
    hkdf(hash, &[], data_key, &info, &mut key).map_err(kdf_failed)?;
    let gcm = GcmKey::new(&key).map_err(kdf_failed)?;
    Ok(MessageKey {
        gcm,
        commitment: None,
    })
}

/// Compares the header's commitment with the derived one, in constant time.
pub(crate) fn check_commitment(
    derived: Option<&[u8; 32]>,
    stored: Option<&[u8; 32]>,
) -> Result<()> {
    match (derived, stored) {
        (None, None) => Ok(()),
        (Some(d), Some(s)) if constant_time_eq(d, s) => Ok(()),
        _ => Err(Error::KeyCommitment),
    }
}

/// The header tag's AAD: the header body, then the serialized authenticate-only pairs
/// (nothing at all when there are none).
pub(crate) fn header_aad(
    body: &[u8],
    ec: &EncryptionContext,
    required: &BTreeSet<String>,
) -> Result<Vec<u8>> {
    let extra = context::serialize_subset(ec, |k| required.contains(k))?;
    let mut aad = Vec::with_capacity(body.len() + extra.len());
    aad.extend_from_slice(body);
    aad.extend_from_slice(&extra);
    Ok(aad)
}

/// The header tag (IV all zero, empty plaintext).
pub(crate) fn header_tag(key: &GcmKey, aad: &[u8]) -> Result<[u8; GCM_TAG_LEN]> {
    key.seal_in_place(&[0u8; GCM_IV_LEN], aad, &mut [])
        .map_err(|_| Error::Config("header authentication failed to compute".into()))
}

pub(crate) fn verify_header_tag(
    key: &GcmKey,
    iv: &[u8; GCM_IV_LEN],
    aad: &[u8],
    tag: &[u8; GCM_TAG_LEN],
) -> Result<()> {
    key.open_in_place(iv, aad, &mut [], tag)
        .map_err(|_| Error::HeaderAuthentication)
}
