//! JSON output for audit records, byte for byte what `serde_json` writes, but faster on
//! strings: a record is mostly string values, and `serde_json` looks up every byte of
//! them in a table, while text that needs no escaping (nearly all of it) is skipped here
//! eight bytes at a time.

use serde_json::Value;

/// The short escape JSON has for `b`, if any; other bytes below 0x20 are written as
/// `\u00XX` (lower-case hex), as `serde_json` writes them.
fn short_escape(b: u8) -> Option<&'static [u8]> {
    Some(match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0C => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        _ => return None,
    })
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes in `w` is below 0x20, `"` or `\`. Each test is the
/// classic "has a zero byte" bit trick (exact as a yes/no answer, which is all we use).
fn any_to_escape(w: u64) -> bool {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let backslash = s.wrapping_sub(ONES) & !s;
    (below_space | quote | backslash) & HIGHS != 0
}

fn must_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The index of the first byte at or after `from` that must be escaped.
fn next_to_escape(bytes: &[u8], mut from: usize) -> Option<usize> {
    while let Some(word) = bytes.get(from..).and_then(|rest| rest.first_chunk::<8>()) {
        if any_to_escape(u64::from_le_bytes(*word)) {
            break;
        }
        from += 8;
    }
    let rest = bytes.get(from..)?;
    rest.iter()
        .position(|&b| must_escape(b))
        .map(|at| from + at)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `text` as a JSON string, quotes included.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut plain = 0;
    // Most strings hold nothing to escape and are copied in one piece.
    while let Some(at) = next_to_escape(bytes, plain) {
        out.extend_from_slice(&bytes[plain..at]);
        let b = bytes[at];
        match short_escape(b) {
            Some(short) => out.extend_from_slice(short),
            None => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ]),
        }
        plain = at + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

/// `v` as compact JSON.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &Value) -> Result<(), serde_json::Error> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Rare in records; serde_json's own digits (itoa, ryu) keep the output identical.
        Value::Number(n) => serde_json::to_writer(&mut *out, n)?,
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut obj = Object::open(out);
            for (name, member) in members {
                write_value(obj.escaped_name(name), member)?;
            }
            obj.close();
        }
    }
    Ok(())
}

/// Writes an object's members, commas and all. Member names given as `&'static str` are
/// the record format's own, plain ASCII that needs no escaping, and are copied as they
/// are: with a record's values mostly short, scanning the names would cost as much again.
pub(crate) struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    pub(crate) fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Starts a member: `"name":`. The caller writes its value next.
    pub(crate) fn name(&mut self, name: &'static str) -> &mut Vec<u8> {
        debug_assert!(!name.bytes().any(must_escape));
        self.out.reserve(name.len() + 4);
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A member whose name comes from data, escaped like any string.
    fn escaped_name(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, name);
        self.out.push(b':');
        self.out
    }

    pub(crate) fn str(&mut self, name: &'static str, text: &str) {
        let out = self.name(name);
        write_str(out, text);
    }

    pub(crate) fn opt_str(&mut self, name: &'static str, text: Option<&str>) {
        if let Some(t) = text {
            self.str(name, t);
        }
    }

    pub(crate) fn bool(&mut self, name: &'static str, b: bool) {
        let out = self.name(name);
        out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    pub(crate) fn value(&mut self, name: &'static str, v: &Value) -> Result<(), serde_json::Error> {
        let out = self.name(name);
        write_value(out, v)
    }

    pub(crate) fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn ours(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn every_byte_below_0x80_escapes_as_serde_json_escapes_it() {
        for b in 0u8..0x80 {
            let text = format!("ab{}cdefghij{}", char::from(b), char::from(b));
            let v = Value::String(text);
            assert_eq!(ours(&v), serde_json::to_vec(&v).unwrap(), "byte {b:#04x}");
        }
    }

    #[test]
    fn values_of_every_kind() {
        let v = json!({
            "s": "x\"y\\z\u{1}\u{7f}é😀",
            "n": [0, -1, 1.5, u64::MAX, i64::MIN, 1e300],
            "b": [true, false, null],
            "o": {"": {}, "a": []},
        });
        assert_eq!(ours(&v), serde_json::to_vec(&v).unwrap());
    }

    proptest! {
        #[test]
        fn strings_match_serde_json(text in "(\\PC|[\u{0}-\u{1f}\"\\\\]){0,80}") {
            let v = Value::String(text);
            prop_assert_eq!(ours(&v), serde_json::to_vec(&v).unwrap());
        }

        #[test]
        fn word_test_agrees_with_the_byte_test(word in any::<[u8; 8]>()) {
            prop_assert_eq!(
                any_to_escape(u64::from_le_bytes(word)),
                word.iter().any(|&b| must_escape(b))
            );
        }
    }
}
