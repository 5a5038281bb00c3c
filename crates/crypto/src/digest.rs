use aws_lc_rs::{digest, hmac};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    fixed(digest::digest(&digest::SHA256, data).as_ref())
}

/// SHA-1, only for protocols that still require it (MySQL's `mysql_native_password`
/// login scramble); never for anything coffer designs itself.
pub fn sha1_legacy(data: &[u8]) -> [u8; 20] {
    fixed(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref())
}

pub fn sha512(data: &[u8]) -> [u8; 64] {
    fixed(digest::digest(&digest::SHA512, data).as_ref())
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&sha256(data))
}

/// Incremental SHA-256, for hashing request bodies as they stream.
pub struct Sha256(digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }
}

impl Sha256 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; 32] {
        fixed(self.0.finish().as_ref())
    }
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    fixed(hmac::sign(&k, data).as_ref())
}

/// A digest or tag as an array; `N` is the algorithm's output length, fixed by the caller's
/// return type.
fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    #[allow(deprecated)]
    // the replacement is the same function under another path in newer releases
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Lower-case hex, as SigV4 writes digests and signatures.
pub fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_answer() {
        // FIPS 180 "abc".
        assert_eq!(
            hex_lower(&sha1_legacy(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_lower(&sha512(b"abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        // RFC 4231 test case 2
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex_lower(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
