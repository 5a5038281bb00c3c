//! The seam through which private keys are protected at rest.

use zeroize::Zeroizing;

use crate::SealError;

/// Encrypts private keys before they touch the disk, and decrypts them on load.
///
/// coffer's server implements this with its root key (the barrier), so TLS keys are protected
/// by the same key hierarchy as everything else and never exist in plaintext on disk.
/// `purpose` names the key being sealed (e.g. `"coffer-tls/ca-key"`); implementations must
/// bind it (e.g. as AEAD associated data) so one sealed file cannot be swapped for another.
pub trait KeySealer: Send + Sync {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8>;
    fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError>;
}
