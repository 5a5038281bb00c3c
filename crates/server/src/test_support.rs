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

/// A server state on a fresh data directory `dir` (embedded storage, audit log), with the
/// test clock, as `coffer server --test-clock` would open it.
pub fn state(dir: &Path) -> std::sync::Arc<crate::State> {
    let config = crate::config::Config::validate(crate::config::RawConfig {
        data_dir: Some(dir.to_path_buf()),
        test_clock: Some(true),
        ..Default::default()
    })
    .unwrap();
    crate::open_state(config).unwrap().state
}

/// A fresh local CA and server certificate in `dir`, valid at `now`.
pub fn tls_material(dir: &Path, now: OffsetDateTime) -> TlsMaterial {
    coffer_tls::load_or_generate(dir, &[], now, &NoSeal).unwrap()
}
