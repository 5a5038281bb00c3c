//! Fixtures shared by the server's unit tests.

use coffer_tls::{KeySealer, SealError, TlsMaterial};
use std::path::Path;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Keys in the clear: a test's certificates protect nothing.
struct NoSeal;

impl KeySealer for NoSeal {
    fn seal(&self, _purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        plaintext.to_vec()
    }
    fn open(&self, _purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        Ok(Zeroizing::new(sealed.to_vec()))
    }
}

/// A fresh local CA and server certificate in `dir`, valid at `now`.
pub fn tls_material(dir: &Path, now: OffsetDateTime) -> TlsMaterial {
    coffer_tls::load_or_generate(dir, &[], now, &NoSeal).unwrap()
}
