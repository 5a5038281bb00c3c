//! Buffers for replies that carry secrets: a secret value, a data key, credentials.
//!
//! A `Vec` or `String` that grows moves its bytes to a larger allocation and frees the old
//! one as it was, so a reply built by appending would leave copies of its secret in freed
//! memory. These helpers grow by copying into a new allocation and zeroizing the old one,
//! and a serialized reply is handed over as [`WipedBytes`], so its bytes are wiped once it
//! has been sent. Beyond their reach: the kernel's socket buffers and, over TLS, the TLS
//! library's plaintext staging hold the bytes on their way out.

use serde_json::Value;
use zeroize::Zeroize;

/// Bytes to start a serialized reply with: most replies fit, so most never grow.
const INITIAL_CAPACITY: usize = 1024;

/// Makes room for `extra` more bytes in `buf` without leaving a copy behind: when the
/// capacity falls short, the bytes move to a new allocation (at least twice the old
/// capacity) and the old allocation is zeroized.
fn reserve(buf: &mut Vec<u8>, extra: usize) {
    if buf.capacity() - buf.len() >= extra {
        return;
    }
    drop(regrow(buf, extra));
}

/// Moves `buf`'s bytes to a larger allocation and returns the old one, zeroized.
fn regrow(buf: &mut Vec<u8>, extra: usize) -> Vec<u8> {
    let mut bigger = Vec::with_capacity(grown(buf.len(), buf.capacity(), extra));
    bigger.extend_from_slice(buf);
    let mut old = std::mem::replace(buf, bigger);
    // Only the bytes written: the spare capacity never held any.
    old.as_mut_slice().zeroize();
    old
}

/// Makes room for `extra` more bytes in `buf` as `reserve` does for a byte buffer: moving to
/// a larger allocation zeroizes the old one.
pub fn reserve_str(buf: &mut String, extra: usize) {
    if buf.capacity() - buf.len() >= extra {
        return;
    }
    let mut bigger = String::with_capacity(grown(buf.len(), buf.capacity(), extra));
    bigger.push_str(buf);
    let mut old = std::mem::replace(buf, bigger).into_bytes();
    old.as_mut_slice().zeroize();
}

fn grown(len: usize, capacity: usize, extra: usize) -> usize {
    len.saturating_add(extra).max(capacity.saturating_mul(2))
}

/// Bytes that are zeroized when dropped. Unlike `Zeroizing<Vec<u8>>`, which also clears
/// the spare capacity, only the bytes written are cleared: a buffer grown by this module
/// never held anything beyond them, and a reply's buffer is mostly spare capacity.
pub struct WipedBytes(Vec<u8>);

impl WipedBytes {
    /// Takes a buffer whose spare capacity never held data (one built by appending, such
    /// as an [`crate::XmlWriter`]'s, not one truncated after writing).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for WipedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for WipedBytes {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl std::fmt::Debug for WipedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WipedBytes({} bytes)", self.0.len())
    }
}

/// An `io::Write` into a buffer that leaves no copy behind as it grows.
struct Writer(WipedBytes);

impl std::io::Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        reserve(&mut self.0.0, bytes.len());
        self.0.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `v` as JSON, in a buffer that left no copies behind while it grew and is zeroized when
/// dropped.
pub fn to_json(v: &Value) -> Result<WipedBytes, serde_json::Error> {
    let mut w = Writer(WipedBytes(Vec::with_capacity(INITIAL_CAPACITY)));
    serde_json::to_writer(&mut w, v)?;
    Ok(w.0)
}

/// Zeroizes every string value in `v`, at any depth. Member names are left alone: they
/// are the protocol's, never a secret.
pub fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(members) => members.values_mut().for_each(wipe),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn reserve_keeps_the_bytes_and_makes_the_room() {
        let mut buf = Vec::with_capacity(4);
        buf.extend_from_slice(b"abcd");
        reserve(&mut buf, 1);
        assert_eq!(buf, b"abcd");
        assert!(buf.capacity() >= 8, "at least doubled: {}", buf.capacity());
        let cap = buf.capacity();
        reserve(&mut buf, cap - 4);
        assert_eq!(buf.capacity(), cap, "room enough: no move");
        reserve(&mut buf, 1000);
        assert_eq!(buf, b"abcd");
        assert!(buf.capacity() >= 1004);
    }

    #[test]
    fn the_allocation_left_behind_is_zeroized() {
        let mut buf = b"a data key".to_vec();
        buf.shrink_to_fit();
        let old = regrow(&mut buf, 100);
        assert_eq!(buf, b"a data key");
        assert_eq!(old.len(), 10);
        assert!(old.iter().all(|&b| b == 0), "{old:?}");
    }

    #[test]
    fn wiped_bytes_read_as_the_bytes() {
        let w = WipedBytes::new(b"{}".to_vec());
        assert_eq!(&w.0[..], b"{}");
        assert_eq!(w.as_ref(), b"{}");
    }

    #[test]
    fn reserve_str_keeps_the_text() {
        let mut s = String::new();
        for part in ["<a>", "secret", "</a>"] {
            reserve_str(&mut s, part.len());
            s.push_str(part);
        }
        assert_eq!(s, "<a>secret</a>");
    }

    #[test]
    fn wipe_empties_every_string_value() {
        let mut v = json!({
            "SecretString": "hunter2",
            "Versions": [{"Id": "v1", "Stages": ["AWSCURRENT"]}, 7, null, true],
        });
        wipe(&mut v);
        assert_eq!(
            v,
            json!({"SecretString": "", "Versions": [{"Id": "", "Stages": [""]}, 7, null, true]})
        );
    }

    proptest! {
        /// The zeroizing encoder writes exactly what serde_json writes.
        #[test]
        fn to_json_matches_serde_json(
            strings in proptest::collection::vec(".{0,700}", 0..6),
            n in any::<i64>(),
        ) {
            let v = json!({"Strings": strings, "N": n, "Nested": {"S": strings.concat()}});
            let ours = to_json(&v).unwrap();
            let theirs = serde_json::to_vec(&v).unwrap();
            prop_assert_eq!(ours.as_ref(), theirs.as_slice());
        }
    }
}
