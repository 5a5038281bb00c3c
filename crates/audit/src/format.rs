//! Byte-exact encoding of record and digest lines (see the crate docs for the format).
//!
//! Records are parsed positionally rather than as JSON so that the hash covers the bytes
//! as written: any change to any byte of a record, even one that would re-serialize to the
//! same JSON value, is detected at that record.

use coffer_crypto::SecretKey;
use coffer_crypto::{constant_time_eq, hmac_sha256, sha256};
use serde::{Deserialize, Serialize};

pub(crate) const ZERO_HASH: [u8; 32] = [0; 32];
pub(crate) const DIGEST_FILE: &str = "digests.jsonl";
pub(crate) const LOCK_FILE: &str = "LOCK";

const SEQ_OPEN: &[u8] = br#"{"seq":"#;
const PREV_OPEN: &[u8] = br#","prev":""#;
const EVENT_OPEN: &[u8] = br#"","event":"#;
const HASH_OPEN: &[u8] = br#","hash":""#;
const CLOSE: &[u8] = br#""}"#;
const SUFFIX_LEN: usize = HASH_OPEN.len() + 64 + CLOSE.len();
const DIGEST_MAC_DOMAIN: &str = "coffer-audit-digest-v1";

/// A record line, borrowed from the bytes it was parsed from.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub seq: u64,
    pub prev: [u8; 32],
    pub hash: [u8; 32],
    pub event: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineError {
    Malformed(&'static str),
    HashMismatch,
}

/// Encodes record `seq` linked to `prev`; returns the line (with `\n`) and its hash.
#[cfg(test)]
pub(crate) fn encode_record(seq: u64, prev: &[u8; 32], event_json: &str) -> (Vec<u8>, [u8; 32]) {
    let mut line = Vec::with_capacity(record_len(seq, event_json.len()));
    let hash = append_record(&mut line, seq, prev, event_json.as_bytes());
    (line, hash)
}

/// The length of record `seq`'s line (with `\n`) for an event of `event_len` bytes.
pub(crate) fn record_len(seq: u64, event_len: usize) -> usize {
    SEQ_OPEN.len()
        + decimal_len(seq)
        + PREV_OPEN.len()
        + 64
        + EVENT_OPEN.len()
        + event_len
        + SUFFIX_LEN
        + 1
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// Appends record `seq`'s line (with `\n`) to `out` and returns its hash. The group
/// commit writes a whole batch from one buffer, so no record gets a buffer of its own.
pub(crate) fn append_record(
    out: &mut Vec<u8>,
    seq: u64,
    prev: &[u8; 32],
    event_json: &[u8],
) -> [u8; 32] {
    let start = out.len();
    out.reserve(record_len(seq, event_json.len()));
    out.extend_from_slice(SEQ_OPEN);
    push_decimal(out, seq);
    out.extend_from_slice(PREV_OPEN);
    push_hex(out, prev);
    out.extend_from_slice(EVENT_OPEN);
    out.extend_from_slice(event_json);
    let hash = sha256(&out[start..]);
    out.extend_from_slice(HASH_OPEN);
    push_hex(out, &hash);
    out.extend_from_slice(CLOSE);
    out.push(b'\n');
    hash
}

fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX_DIGITS[usize::from(b >> 4)]);
        out.push(HEX_DIGITS[usize::from(b & 0x0f)]);
    }
}

/// Parses and authenticates one record line (without its `\n`).
pub(crate) fn parse_record(line: &[u8]) -> Result<Record<'_>, LineError> {
    let rest = line
        .strip_prefix(SEQ_OPEN)
        .ok_or(LineError::Malformed("line does not start with {\"seq\":"))?;
    let (seq, rest) = parse_seq(rest)?;
    let rest = rest
        .strip_prefix(PREV_OPEN)
        .ok_or(LineError::Malformed("missing \"prev\""))?;
    let (prev_hex, rest) = rest
        .split_at_checked(64)
        .ok_or(LineError::Malformed("truncated \"prev\""))?;
    let prev = unhex(prev_hex).ok_or(LineError::Malformed(
        "\"prev\" is not 64 lower-case hex digits",
    ))?;
    let rest = rest
        .strip_prefix(EVENT_OPEN)
        .ok_or(LineError::Malformed("missing \"event\""))?;
    let split = rest
        .len()
        .checked_sub(SUFFIX_LEN)
        .ok_or(LineError::Malformed("missing \"hash\""))?;
    let (event, suffix) = rest.split_at(split);
    let hash = parse_suffix(suffix)?;
    let body = &line[..line.len() - SUFFIX_LEN];
    if !constant_time_eq(&sha256(body), &hash) {
        return Err(LineError::HashMismatch);
    }
    check_event_json(event)?;
    Ok(Record {
        seq,
        prev,
        hash,
        event,
    })
}

/// Reads only the sequence number; used to tell a reordering from a removal.
pub(crate) fn peek_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(SEQ_OPEN)?;
    parse_seq(rest).ok().map(|(seq, _)| seq)
}

/// Sequence numbers are canonical decimals: no sign, no leading zero.
fn parse_seq(rest: &[u8]) -> Result<(u64, &[u8]), LineError> {
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let bad = LineError::Malformed("\"seq\" is not a canonical number");
    if digits == 0 || (digits > 1 && rest[0] == b'0') {
        return Err(bad);
    }
    let text = std::str::from_utf8(&rest[..digits]).map_err(|_| bad.clone())?;
    let seq = text.parse::<u64>().map_err(|_| bad)?;
    Ok((seq, &rest[digits..]))
}

fn parse_suffix(suffix: &[u8]) -> Result<[u8; 32], LineError> {
    let inner = suffix
        .strip_prefix(HASH_OPEN)
        .and_then(|s| s.strip_suffix(CLOSE))
        .ok_or(LineError::Malformed(
            "line does not end with ,\"hash\":\"...\"}",
        ))?;
    unhex(inner).ok_or(LineError::Malformed(
        "\"hash\" is not 64 lower-case hex digits",
    ))
}

/// The event must be one JSON object; syntax is checked without building a tree.
fn check_event_json(event: &[u8]) -> Result<(), LineError> {
    if event.first() != Some(&b'{') {
        return Err(LineError::Malformed("\"event\" is not a JSON object"));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(event)
        .map(|_| ())
        .map_err(|_| LineError::Malformed("\"event\" is not valid JSON"))
}

/// A signed statement of the chain head: "record `head_seq` has hash `head_hash`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Digest {
    pub digest_seq: u64,
    pub head_seq: u64,
    pub head_hash: String,
    pub segment: String,
    pub time: String,
    pub prev_digest: String,
    pub mac: Option<String>,
}

impl Digest {
    /// Fields joined by newlines behind a domain label: unambiguous, and independent of
    /// how a JSON library orders or escapes them.
    fn mac_input(&self) -> String {
        let d = self;
        format!(
            "{DIGEST_MAC_DOMAIN}\n{}\n{}\n{}\n{}\n{}\n{}",
            d.digest_seq, d.head_seq, d.head_hash, d.segment, d.time, d.prev_digest
        )
    }

    pub fn sign(&mut self, key: &SecretKey) {
        self.mac = Some(hex(&hmac_sha256(key.expose(), self.mac_input().as_bytes())));
    }

    pub fn mac_valid(&self, key: &SecretKey) -> bool {
        let want = hmac_sha256(key.expose(), self.mac_input().as_bytes());
        match self.mac.as_deref().and_then(|m| unhex::<32>(m.as_bytes())) {
            Some(got) => constant_time_eq(&got, &want),
            None => false,
        }
    }

    pub fn head_hash_bytes(&self) -> Option<[u8; 32]> {
        unhex(self.head_hash.as_bytes())
    }

    /// The line as written, with its `\n`.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut line = serde_json::to_vec(self)?;
        line.push(b'\n');
        Ok(line)
    }
}

pub(crate) fn segment_name(first_seq: u64) -> String {
    format!("segment-{first_seq:020}.jsonl")
}

pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".jsonl")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

pub(crate) use coffer_crypto::hex_lower as hex;

/// Decodes exactly `N` bytes of lower-case hex; anything else is rejected so that each
/// hash has one spelling.
pub(crate) fn unhex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let (line, hash) = encode_record(7, &[1; 32], r#"{"a":"b"}"#);
        assert!(line.ends_with(b"\"}\n"));
        let text = std::str::from_utf8(&line).unwrap();
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["event"]["a"], "b");
        let r = parse_record(&line[..line.len() - 1]).unwrap();
        assert_eq!(
            (r.seq, r.prev, r.hash, r.event),
            (7, [1; 32], hash, &br#"{"a":"b"}"#[..])
        );
        assert_eq!(peek_seq(&line), Some(7));
    }

    #[test]
    fn appended_records_match_and_lengths_are_exact() {
        let mut buf = b"previous".to_vec();
        for seq in [1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let (line, hash) = encode_record(seq, &[3; 32], r#"{"a":"b"}"#);
            assert_eq!(line.len(), record_len(seq, 9), "seq {seq}");
            let start = buf.len();
            assert_eq!(
                append_record(&mut buf, seq, &[3; 32], br#"{"a":"b"}"#),
                hash
            );
            assert_eq!(&buf[start..], line.as_slice());
            let text = std::str::from_utf8(&line).unwrap();
            assert!(text.starts_with(&format!("{{\"seq\":{seq},")), "{text}");
        }
    }

    #[test]
    fn rejects_noncanonical_lines() {
        let (line, _) = encode_record(7, &[1; 32], r#"{"a":"b"}"#);
        let body = &line[..line.len() - 1];
        let mut upper = body.to_vec();
        let letter = upper
            .iter()
            .rposition(|b| (b'a'..=b'f').contains(b))
            .unwrap();
        upper[letter] = upper[letter].to_ascii_uppercase();
        assert!(parse_record(&upper).is_err());
        let leading_zero =
            String::from_utf8(body.to_vec())
                .unwrap()
                .replacen("\"seq\":7", "\"seq\":07", 1);
        assert!(parse_record(leading_zero.as_bytes()).is_err());
        let (not_json, _) = encode_record(1, &ZERO_HASH, "{nope");
        assert_eq!(
            parse_record(&not_json[..not_json.len() - 1]).unwrap_err(),
            LineError::Malformed("\"event\" is not valid JSON")
        );
    }

    #[test]
    fn digest_mac() {
        let key = SecretKey::from_bytes([9; 32]);
        let mut d = Digest {
            digest_seq: 1,
            head_seq: 10,
            head_hash: hex(&[2; 32]),
            segment: segment_name(1),
            time: "2026-01-01T00:00:00Z".into(),
            prev_digest: hex(&ZERO_HASH),
            mac: None,
        };
        assert!(!d.mac_valid(&key));
        d.sign(&key);
        assert!(d.mac_valid(&key));
        assert!(!d.mac_valid(&SecretKey::from_bytes([8; 32])));
        d.head_seq = 11;
        assert!(!d.mac_valid(&key));
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("segment-1.jsonl"), None);
    }
}
