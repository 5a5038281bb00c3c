//! Encryption context: the authenticated, unencrypted key-value pairs of a message.
//!
//! Serialization (ESDK "structures"): empty context -> no bytes at all; otherwise a 2-byte
//! pair count (> 0), then for each pair, sorted ascending by the key's UTF-8 bytes,
//! `key length (2) | key | value length (2) | value`. `BTreeMap<String, String>` iterates
//! in exactly that order.

use crate::{Error, Result};
use std::collections::BTreeMap;

/// The encryption context. Keys and values are UTF-8 strings.
pub type EncryptionContext = BTreeMap<String, String>;

/// Keys with this prefix are reserved for the library (e.g. `aws-crypto-public-key`).
pub const RESERVED_PREFIX: &str = "aws-crypto-";
/// The context key holding the base64 compressed ECDSA public key of signing suites.
pub const PUBLIC_KEY_FIELD: &str = "aws-crypto-public-key";

fn u16_len(n: usize, what: &str) -> Result<u16> {
    u16::try_from(n).map_err(|_| Error::EncryptionContext(format!("{what} exceeds 65535 bytes")))
}

/// Serializes `ec` (sorted; empty -> empty).
pub fn serialize(ec: &EncryptionContext) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    serialize_pairs(ec.iter(), ec.len(), &mut out)?;
    Ok(out)
}

/// Serializes only the pairs whose keys are in `keys` (the context to only authenticate).
pub(crate) fn serialize_subset<'a>(
    ec: &'a EncryptionContext,
    keys: impl Fn(&str) -> bool,
) -> Result<Vec<u8>> {
    let pairs: Vec<(&'a String, &'a String)> = ec.iter().filter(|(k, _)| keys(k)).collect();
    let mut out = Vec::new();
    serialize_pairs(pairs.iter().copied(), pairs.len(), &mut out)?;
    Ok(out)
}

fn serialize_pairs<'a>(
    pairs: impl Iterator<Item = (&'a String, &'a String)>,
    count: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    if count == 0 {
        return Ok(());
    }
    out.extend_from_slice(&u16_len(count, "pair count")?.to_be_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&u16_len(k.len(), "a key")?.to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&u16_len(v.len(), "a value")?.to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    u16_len(out.len(), "the serialized encryption context")?;
    Ok(())
}

/// Parses a serialized context; rejects a zero count, duplicate keys, invalid UTF-8 and
/// bytes left over.
pub fn parse(bytes: &[u8]) -> Result<EncryptionContext> {
    let mut ec = EncryptionContext::new();
    if bytes.is_empty() {
        return Ok(ec);
    }
    let mut cur = crate::wire::Cursor::new(bytes);
    let count = cur.u16()?;
    if count == 0 {
        return Err(Error::Malformed("encryption context pair count is zero"));
    }
    for _ in 0..count {
        let k = utf8(cur.take_u16_prefixed()?)?;
        let v = utf8(cur.take_u16_prefixed()?)?;
        if ec.insert(k, v).is_some() {
            return Err(Error::Malformed("duplicate encryption context key"));
        }
    }
    if !cur.is_empty() {
        return Err(Error::Malformed("bytes left after the encryption context"));
    }
    Ok(ec)
}

fn utf8(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| Error::Malformed("encryption context is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn serialization_is_sorted_and_round_trips() {
        let c = ec(&[("b", "2"), ("a", "1"), ("é", "x")]);
        let s = serialize(&c).unwrap();
        let mut want = vec![0, 3, 0, 1, b'a', 0, 1, b'1', 0, 1, b'b', 0, 1, b'2', 0, 2];
        want.extend_from_slice("é".as_bytes());
        want.extend_from_slice(&[0, 1, b'x']);
        assert_eq!(s, want);
        assert_eq!(parse(&s).unwrap(), c);
        assert!(serialize(&EncryptionContext::new()).unwrap().is_empty());
        assert!(parse(&[]).unwrap().is_empty());
        let sub = serialize_subset(&c, |k| k == "b").unwrap();
        assert_eq!(sub, [0, 1, 0, 1, b'b', 0, 1, b'2']);
        assert!(serialize_subset(&c, |_| false).unwrap().is_empty());
    }

    #[test]
    fn parse_rejects_malformed() {
        assert!(parse(&[0, 0]).is_err());
        assert!(parse(&[0, 1, 0, 1, b'a']).is_err());
        assert!(parse(&[0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0]).is_err());
        assert!(parse(&[0, 1, 0, 1, 0xff, 0, 0]).is_err());
        assert!(parse(&[0, 1, 0, 1, b'a', 0, 0, 9]).is_err());
    }

    #[test]
    fn oversized_context_is_rejected() {
        let c = ec(&[("k", &"v".repeat(70_000))]);
        assert!(serialize(&c).is_err());
    }
}
