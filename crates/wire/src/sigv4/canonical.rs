//! The canonical request and string to sign, shared by the signer and the verifier so the
//! two can never disagree about a byte.

use coffer_crypto::{hex_lower, hmac_sha256, sha256_hex};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use time::{OffsetDateTime, UtcOffset};

/// The only algorithm coffer speaks.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload-hash claim clients send when they do not hash the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// RFC 3986 unreserved characters stay literal; SigV4 encodes everything else.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Like [`UNRESERVED`] but keeps the path separator, used for canonical URIs.
const UNRESERVED_PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// URI-encodes `s` the SigV4 way (uppercase hex, unreserved set literal, space as `%20`).
pub fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes percent escapes, keeping `+` literal: SigV4 never treats `+` as a space.
fn uri_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The canonical URI of a wire path (already percent-encoded as sent).
///
/// Non-S3 services encode the wire path a second time (`%` becomes `%25`); S3 signs the
/// path encoded exactly once, so it is decoded and re-encoded to normalise escapes.
#[cfg(test)]
pub fn canonical_uri(wire_path: &str, double_encode: bool) -> String {
    let mut out = String::new();
    push_canonical_uri(&mut out, wire_path, double_encode);
    out
}

fn push_canonical_uri(out: &mut String, wire_path: &str, double_encode: bool) {
    let path = if wire_path.is_empty() { "/" } else { wire_path };
    if double_encode {
        out.extend(utf8_percent_encode(path, UNRESERVED_PATH));
    } else {
        out.extend(utf8_percent_encode(&uri_decode(path), UNRESERVED_PATH));
    }
}

/// The canonical query string: every pair decoded then re-encoded, sorted by name then
/// value. `X-Amz-Signature` is left out when `presigned`, since it cannot sign itself.
pub fn canonical_query(wire_query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = wire_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&uri_decode(k)), uri_encode(&uri_decode(v)))
        })
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    let parts: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join("&")
}

/// Trims a header value and collapses runs of whitespace to one space, as AWS requires.
pub fn canonical_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_canonical_header_value(&mut out, value);
    out
}

/// Appends [`canonical_header_value`]`(value)` to `out`.
pub fn push_canonical_header_value(out: &mut String, value: &str) {
    for (i, word) in value.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Folds raw `(name, value)` pairs into sorted `(lowercase name, canonical value)` entries,
/// joining repeated names with `,` in the order they appeared.
pub fn fold_headers<'a>(
    raw: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in raw {
        let name = name.to_ascii_lowercase();
        let value = canonical_header_value(value);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A header value as text. Values are almost always visible ASCII, which
/// `HeaderValue::to_str` checks faster than a UTF-8 decode; any other bytes are decoded
/// lossily, as a signer that saw them as text would have.
pub(crate) fn header_text(v: &http::HeaderValue) -> std::borrow::Cow<'_, str> {
    match v.to_str() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(v.as_bytes()),
    }
}

/// Everything the canonical request is built from. Header names are owned (`String`) where
/// a signer builds them and borrowed (`&str`) where a verifier reads them from the request.
pub struct CanonicalParts<'a, N: AsRef<str> = String> {
    pub method: &'a str,
    pub wire_path: &'a str,
    pub wire_query: &'a str,
    /// Sorted, folded, only the signed ones (see [`fold_headers`]).
    pub headers: &'a [(N, String)],
    pub payload_hash: &'a str,
    pub double_encode_path: bool,
    pub presigned: bool,
}

/// `method \n uri \n query \n headers \n signed-headers \n payload-hash`.
/// Built in one buffer: it is on every request's path.
pub fn canonical_request<N: AsRef<str>>(p: &CanonicalParts<'_, N>) -> String {
    let headers_len: usize = p
        .headers
        .iter()
        .map(|(n, v)| 2 * n.as_ref().len() + v.len() + 3)
        .sum();
    let mut out = String::with_capacity(
        p.method.len() + 2 * p.wire_path.len() + 2 * p.wire_query.len() + headers_len + 80,
    );
    out.push_str(p.method);
    out.push('\n');
    push_canonical_uri(&mut out, p.wire_path, p.double_encode_path);
    out.push('\n');
    out.push_str(&canonical_query(p.wire_query, p.presigned));
    out.push('\n');
    for (n, v) in p.headers {
        out.push_str(n.as_ref());
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }
    out.push('\n');
    push_signed_headers_list(&mut out, p.headers);
    out.push('\n');
    out.push_str(p.payload_hash);
    out
}

/// `a;b;c` from folded headers.
pub fn signed_headers_list(headers: &[(String, String)]) -> String {
    let mut out = String::new();
    push_signed_headers_list(&mut out, headers);
    out
}

fn push_signed_headers_list<N: AsRef<str>>(out: &mut String, headers: &[(N, String)]) {
    for (i, (n, _)) in headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(n.as_ref());
    }
}

/// `yyyymmdd/region/service/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    [date, "/", region, "/", service, "/aws4_request"].concat()
}

/// The string that is HMACed: algorithm, timestamp, scope, hash of the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = sha256_hex(canonical_request.as_bytes());
    let mut out =
        String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + hash.len() + 3);
    for (i, part) in [ALGORITHM, amz_date, scope, &hash].into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(part);
    }
    out
}

/// The four-step HMAC chain from the secret to the per-day, per-service key.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Hex HMAC of the string to sign under the derived key.
pub fn signature(secret: &str, date: &str, region: &str, service: &str, sts: &str) -> String {
    signature_with_key(&signing_key(secret, date, region, service), sts)
}

/// Hex HMAC of the string to sign under an already derived signing key.
pub fn signature_with_key(key: &[u8; 32], sts: &str) -> String {
    hex_lower(&hmac_sha256(key, sts.as_bytes()))
}

/// `yyyymmddThhmmssZ` in UTC; written by hand because it cannot fail (and is on every
/// request's path, where `format!` would cost more than the rest of the date handling).
pub fn amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut s = String::with_capacity(16);
    // Years outside 0..=9999 cannot be written in four digits; `format!` pads, so do we.
    if !(0..=9999).contains(&t.year()) {
        return format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    push_digits(&mut s, t.year().unsigned_abs(), 4);
    push_digits(&mut s, u32::from(u8::from(t.month())), 2);
    push_digits(&mut s, u32::from(t.day()), 2);
    s.push('T');
    push_digits(&mut s, u32::from(t.hour()), 2);
    push_digits(&mut s, u32::from(t.minute()), 2);
    push_digits(&mut s, u32::from(t.second()), 2);
    s.push('Z');
    s
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(s: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        s.push(char::from_digit((n / 10u32.pow(i)) % 10, 10).unwrap_or('0'));
    }
}

/// Parses `yyyymmddThhmmssZ`; `None` for anything else.
pub fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let hms = time::Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(hms).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_paths_per_mode() {
        assert_eq!(canonical_uri("", true), "/");
        assert_eq!(canonical_uri("/a%20b/c", true), "/a%2520b/c");
        assert_eq!(canonical_uri("/a%20b/c", false), "/a%20b/c");
        assert_eq!(canonical_uri("/%e1%88%b4", false), "/%E1%88%B4");
        assert_eq!(canonical_uri("/-._~", true), "/-._~");
    }

    #[test]
    fn sorts_and_encodes_query() {
        assert_eq!(canonical_query("b=2&a=1&a=0", false), "a=0&a=1&b=2");
        assert_eq!(canonical_query("a&b=", false), "a=&b=");
        assert_eq!(canonical_query("x=a+b%2F", false), "x=a%2Bb%2F");
        assert_eq!(canonical_query("X-Amz-Signature=1&a=1", true), "a=1");
        assert_eq!(
            canonical_query("X-Amz-Signature=1&a=1", false),
            "X-Amz-Signature=1&a=1"
        );
    }

    #[test]
    fn folds_headers() {
        let h = fold_headers([("My-H", " a   b "), ("host", "x"), ("my-h", "c")]);
        assert_eq!(
            h,
            vec![("host".into(), "x".into()), ("my-h".into(), "a b,c".into())]
        );
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = time::macros::datetime!(2015-08-30 12:36:00 UTC);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(t));
        assert_eq!(parse_amz_date("20150830T123600"), None);
        assert_eq!(parse_amz_date("2015083OT123600Z"), None);
        assert_eq!(parse_amz_date("+0150830T123600Z"), None);
    }

    /// The signing-key example from AWS's SigV4 documentation (IAM, 20120215).
    #[test]
    fn signing_key_matches_aws_example() {
        let k = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex_lower(&k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
