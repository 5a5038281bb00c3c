//! Step two of verification: recompute the signature with the secret the server looked up.

use super::canonical::{
    CanonicalParts, UNSIGNED_PAYLOAD, amz_date, canonical_request, header_text,
    push_canonical_header_value, signature_with_key, signing_key, string_to_sign,
};
use super::error::SigV4Error;
use super::parse::Parsed;
use coffer_crypto::constant_time_eq;
use http::request::Parts;
use time::{Duration, OffsetDateTime};

/// The longest a presigned URL may live: seven days, as AWS allows.
pub const MAX_PRESIGN_EXPIRES: u64 = 604_800;

/// Per-service verification rules.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Encode the path a second time (every service except S3).
    pub double_encode_path: bool,
    /// How far the request time may be from `now` for header auth.
    pub max_skew: Duration,
    /// A presigned request without `x-amz-content-sha256` signs `UNSIGNED-PAYLOAD` (S3)
    /// rather than the body hash (everything else).
    pub presigned_payload_unsigned: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            double_encode_path: true,
            max_skew: Duration::minutes(15),
            presigned_payload_unsigned: false,
        }
    }
}

impl VerifyOptions {
    /// S3's rules: single-encoded path, unsigned presigned payloads.
    pub fn s3() -> Self {
        Self {
            double_encode_path: false,
            presigned_payload_unsigned: true,
            ..Self::default()
        }
    }
}

/// Checks a parsed signature against the request, the body's hash and the secret.
/// Cheap structural checks run first so a bad request never costs an HMAC chain.
pub fn verify(
    parsed: &Parsed,
    parts: &Parts,
    body_sha256_hex: &str,
    secret_access_key: &str,
    now: OffsetDateTime,
    opts: &VerifyOptions,
) -> Result<(), SigV4Error> {
    verify_with(parsed, parts, body_sha256_hex, now, opts, |scope| {
        signing_key(secret_access_key, scope.date, scope.region, scope.service)
    })
}

/// The credential scope a signing key is derived for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// Like [`verify`], but takes the derived signing key from `key_for` rather than running
/// the four-HMAC derivation itself, so a server can reuse the key of a (secret, date,
/// region, service) it has seen. `key_for` must return
/// [`signing_key`]`(secret, scope.date, scope.region, scope.service)` for the caller's
/// secret; it is only called once the cheap structural checks have passed.
pub fn verify_with(
    parsed: &Parsed,
    parts: &Parts,
    body_sha256_hex: &str,
    now: OffsetDateTime,
    opts: &VerifyOptions,
    key_for: impl FnOnce(Scope<'_>) -> [u8; 32],
) -> Result<(), SigV4Error> {
    let request_date = amz_date(parsed.request_time);
    check_scope(parsed, &request_date)?;
    check_time(parsed, now, opts)?;
    let payload = payload_hash(parsed, parts, body_sha256_hex, opts)?;
    let headers = signed_header_values(parsed, parts);
    let wire_query = parts.uri.query().unwrap_or("");
    let creq = canonical_request(&CanonicalParts {
        method: parts.method.as_str(),
        wire_path: parts.uri.path(),
        wire_query,
        headers: &headers,
        payload_hash: payload,
        double_encode_path: opts.double_encode_path,
        presigned: parsed.is_presigned,
    });
    let sts = string_to_sign(&request_date, parsed.credential_scope(), &creq);
    let key = key_for(Scope {
        date: parsed.scope_date(),
        region: parsed.region(),
        service: parsed.service(),
    });
    let expected = signature_with_key(&key, &sts);
    if constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

/// `request_date` is the request time in the signed format (`yyyymmddThhmmssZ`).
fn check_scope(parsed: &Parsed, request_date: &str) -> Result<(), SigV4Error> {
    if !parsed.signed_headers().any(|h| h == "host") {
        return Err(SigV4Error::HostNotSigned);
    }
    if request_date.get(..8) != Some(parsed.scope_date()) {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: parsed.scope_date().to_owned(),
            amz_date: request_date.to_owned(),
        });
    }
    Ok(())
}

fn check_time(
    parsed: &Parsed,
    now: OffsetDateTime,
    opts: &VerifyOptions,
) -> Result<(), SigV4Error> {
    let skewed = |future: bool, limit: OffsetDateTime| SigV4Error::Skewed {
        request: amz_date(parsed.request_time),
        now: amz_date(now),
        limit: amz_date(limit),
        minutes: opts.max_skew.whole_minutes(),
        future,
    };
    // Checked arithmetic: dates near year 9999 must fail closed, not overflow.
    let latest = now.checked_add(opts.max_skew);
    if latest.is_some_and(|l| parsed.request_time > l) {
        return Err(skewed(true, latest.unwrap_or(now)));
    }
    if parsed.is_presigned {
        let expires = presign_expires(parsed.expires.as_deref())?;
        let deadline = parsed.request_time.checked_add(Duration::seconds(expires));
        return match deadline {
            Some(d) if now <= d => Ok(()),
            _ => Err(SigV4Error::PresignedExpired),
        };
    }
    let earliest = now.checked_sub(opts.max_skew).unwrap_or(now);
    if parsed.request_time < earliest {
        return Err(skewed(false, earliest));
    }
    Ok(())
}

fn presign_expires(value: Option<&str>) -> Result<i64, SigV4Error> {
    let Some(value) = value else {
        return Err(SigV4Error::InvalidExpires(
            "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the \
             query-string parameters."
                .into(),
        ));
    };
    match value.parse::<u64>() {
        Ok(n) if (1..=MAX_PRESIGN_EXPIRES).contains(&n) => i64::try_from(n)
            .map_err(|_| SigV4Error::InvalidExpires(format!("Invalid X-Amz-Expires '{value}'"))),
        Ok(0) => Err(SigV4Error::InvalidExpires(
            "X-Amz-Expires must be non-negative".into(),
        )),
        Ok(_) => Err(SigV4Error::InvalidExpires(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800".into(),
        )),
        Err(_) => Err(SigV4Error::InvalidExpires(
            "X-Amz-Expires should be a number".into(),
        )),
    }
}

/// The payload hash that was signed: the `x-amz-content-sha256` claim when present
/// (which must then be honest unless it declares the body unsigned or streamed).
fn payload_hash<'a>(
    parsed: &Parsed,
    parts: &'a Parts,
    body_sha256_hex: &'a str,
    opts: &VerifyOptions,
) -> Result<&'a str, SigV4Error> {
    // A claim that is not visible ASCII can be neither a hash nor a known marker.
    let claim = parts
        .headers
        .get("x-amz-content-sha256")
        .map(|v| v.to_str().map(str::trim));
    match claim {
        Some(Ok(c)) if c == UNSIGNED_PAYLOAD || c.starts_with("STREAMING-") => Ok(c),
        Some(Ok(c)) if c.eq_ignore_ascii_case(body_sha256_hex) => Ok(c),
        Some(_) => Err(SigV4Error::ContentSha256Mismatch),
        None if parsed.is_presigned && opts.presigned_payload_unsigned => Ok(UNSIGNED_PAYLOAD),
        None => Ok(body_sha256_hex),
    }
}

/// The signed headers' values from the request, folded and sorted as [`fold_headers`]
/// would (repeated values joined with `,`, whitespace collapsed), built without the
/// intermediate copies. `host` falls back to the URI authority because HTTP/2 carries it
/// as `:authority` rather than a header.
fn signed_header_values<'a>(parsed: &'a Parsed, parts: &Parts) -> Vec<(&'a str, String)> {
    let mut out: Vec<(&str, String)> = Vec::with_capacity(parsed.signed_headers().count());
    for name in parsed.signed_headers() {
        let all = parts.headers.get_all(name);
        let mut value = String::with_capacity(all.iter().map(|v| v.len() + 1).sum());
        let mut values = all.iter().peekable();
        if values.peek().is_none() && name == "host" {
            let authority = parts.uri.authority().map_or("", |a| a.as_str());
            push_canonical_header_value(&mut value, authority);
        }
        for (i, v) in values.enumerate() {
            if i > 0 {
                value.push(',');
            }
            push_canonical_header_value(&mut value, &header_text(v));
        }
        // Parsing lower-cased the names; one named twice folds into one entry.
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::canonical::fold_headers;

    /// The direct construction must agree with the reference folding for repeated,
    /// missing, padded and doubly-signed headers.
    #[test]
    fn signed_header_values_match_fold_headers() {
        let req = http::Request::builder()
            .uri("http://example.com:8080/p")
            .header("x-b", "  two   words ")
            .header("x-a", "1")
            .header("x-a", " 2 ")
            .header("x-empty", "")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let names = ["x-b", "host", "x-a", "x-missing", "x-empty", "x-b"];
        let parsed = crate::sigv4::parse::build(
            "AKID/20260101/us-east-1/sts/aws4_request".into(),
            names.join(";"),
            String::new(),
            "20260101T000000Z".into(),
            None,
            None,
            false,
        )
        .unwrap();
        let mut raw: Vec<(String, String)> = Vec::new();
        for name in names {
            let values: Vec<String> = parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            if values.is_empty() {
                let host = (name == "host").then(|| "example.com:8080".to_owned());
                raw.push((name.to_owned(), host.unwrap_or_default()));
            }
            raw.extend(values.into_iter().map(|v| (name.to_owned(), v)));
        }
        let reference = fold_headers(raw.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let direct: Vec<(String, String)> = signed_header_values(&parsed, &parts)
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        assert_eq!(direct, reference);
        assert_eq!(
            reference,
            [
                ("host".to_owned(), "example.com:8080".to_owned()),
                ("x-a".to_owned(), "1,2".to_owned()),
                ("x-b".to_owned(), "two words,two words".to_owned()),
                ("x-empty".to_owned(), String::new()),
                ("x-missing".to_owned(), String::new()),
            ]
        );
    }
}
