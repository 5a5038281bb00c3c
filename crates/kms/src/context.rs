//! Encryption context: the canonical byte encoding that ciphertext blobs authenticate.
//!
//! The encoding is frozen (blobs written today must decrypt forever):
//! `count (u32 BE)` then, for each pair in ascending byte order of the key,
//! `key length (u32 BE) || key || value length (u32 BE) || value`.
//! Every field is length-prefixed, so `{"ab":"c"}` and `{"a":"bc"}` encode differently,
//! and ordering is canonical, so the order a client sends pairs in does not matter.

use std::collections::BTreeMap;

/// An encryption context. A `BTreeMap` keeps keys in byte order, which is the canonical order.
pub type EncryptionContext = BTreeMap<String, String>;

/// The canonical encoding of `ctx` (an empty context encodes as four zero bytes).
pub fn canonical(ctx: &EncryptionContext) -> Vec<u8> {
    let size = 4 + ctx
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    push_len(&mut out, ctx.len());
    for (k, v) in ctx {
        push_len(&mut out, k.len());
        out.extend_from_slice(k.as_bytes());
        push_len(&mut out, v.len());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// Lengths are bounded by the request size limit, far below `u32::MAX`; saturating keeps
/// the function total without a failure path that could never be taken.
fn push_len(out: &mut Vec<u8>, n: usize) {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn empty_context_is_a_zero_count() {
        assert_eq!(canonical(&EncryptionContext::new()), vec![0, 0, 0, 0]);
    }

    #[test]
    fn boundaries_are_part_of_the_encoding() {
        assert_ne!(
            canonical(&ctx(&[("ab", "c")])),
            canonical(&ctx(&[("a", "bc")]))
        );
        assert_ne!(
            canonical(&ctx(&[("a", "b"), ("c", "d")])),
            canonical(&ctx(&[("a", "b\0\0\0\x01c")]))
        );
    }

    #[test]
    fn known_encoding() {
        let got = canonical(&ctx(&[("b", "2"), ("a", "1")]));
        let want = [
            0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'1', 0, 0, 0, 1, b'b', 0, 0, 0, 1, b'2',
        ];
        assert_eq!(got, want);
    }

    proptest! {
        #[test]
        fn distinct_contexts_encode_distinctly(
            a in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..4),
            b in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..4),
        ) {
            prop_assert_eq!(a == b, canonical(&a) == canonical(&b));
        }
    }
}
