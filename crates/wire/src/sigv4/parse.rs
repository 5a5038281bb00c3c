//! Step one of verification: pull the claimed identity and signature out of a request,
//! without any secret, so the server can look the secret up by access key id.

use super::canonical::{ALGORITHM, header_text, parse_amz_date};
use super::error::SigV4Error;
use http::request::Parts;
use std::ops::Range;
use time::OffsetDateTime;

/// What a request claims about its signature.
///
/// The credential and the signed-header list are kept as sent, in one string each, and
/// read through the methods below: this runs on every request, and splitting them into
/// owned parts cost a dozen allocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `keyid/yyyymmdd/region/service/aws4_request`.
    credential: String,
    /// Where the key id, date, region and service lie in `credential`.
    parts: [Range<usize>; 4],
    /// The `SignedHeaders` list, lower-cased.
    signed_headers: String,
    pub signature: String,
    /// The request time as sent (`x-amz-date`, `X-Amz-Date`, or the `date` header).
    pub amz_date: String,
    pub request_time: OffsetDateTime,
    pub session_token: Option<String>,
    /// `X-Amz-Expires` seconds (presigned only; validated by `verify`).
    pub expires: Option<String>,
    pub is_presigned: bool,
}

impl Parsed {
    pub fn access_key_id(&self) -> &str {
        &self.credential[self.parts[0].clone()]
    }

    /// `yyyymmdd` from the credential scope.
    pub fn scope_date(&self) -> &str {
        &self.credential[self.parts[1].clone()]
    }

    pub fn region(&self) -> &str {
        &self.credential[self.parts[2].clone()]
    }

    pub fn service(&self) -> &str {
        &self.credential[self.parts[3].clone()]
    }

    /// `yyyymmdd/region/service/aws4_request`: the credential after the key id.
    pub fn credential_scope(&self) -> &str {
        &self.credential[self.parts[1].start..]
    }

    /// The signed header names, lower-case, in the order sent.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> {
        self.signed_headers
            .split(';')
            .filter(|h| !h.is_empty())
            .map(str::trim)
    }
}

/// Finds SigV4 authentication in the `Authorization` header or, failing that, in
/// presigned query parameters.
pub fn parse(req: &Parts) -> Result<Parsed, SigV4Error> {
    if let Some(value) = req.headers.get(http::header::AUTHORIZATION) {
        return parse_header(req, &header_text(value));
    }
    let params = query_params(req);
    let presigned = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"];
    if presigned.iter().any(|name| has(&params, name)) {
        return parse_query(req, &params);
    }
    Err(SigV4Error::Missing)
}

fn has(params: &[(String, String)], name: &str) -> bool {
    params.iter().any(|(k, _)| k == name)
}

fn query_params(req: &Parts) -> Vec<(String, String)> {
    let q = req.uri.query().unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn header_str(req: &Parts, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .map(|v| header_text(v).trim().to_owned())
}

struct Fields {
    credential: Option<String>,
    signed_headers: Option<String>,
    signature: Option<String>,
}

fn parse_header(req: &Parts, value: &str) -> Result<Parsed, SigV4Error> {
    let (algorithm, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let fields = if algorithm == ALGORITHM {
        header_fields(rest, value)?
    } else {
        Fields {
            credential: None,
            signed_headers: None,
            signature: None,
        }
    };
    let date = header_str(req, "x-amz-date").or_else(|| header_str(req, "date"));
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", fields.credential.is_some()),
        ("Signature", fields.signature.is_some()),
        ("SignedHeaders", fields.signed_headers.is_some()),
    ] {
        if !present {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    match (fields, date) {
        (
            Fields {
                credential: Some(c),
                signed_headers: Some(h),
                signature: Some(s),
            },
            Some(d),
        ) if missing.is_empty() => {
            let token = header_str(req, "x-amz-security-token");
            build(c, h, s, d, token, None, false)
        }
        _ => Err(SigV4Error::Incomplete(format!(
            "{missing}Authorization={value}"
        ))),
    }
}

/// Splits `Credential=..., SignedHeaders=..., Signature=...` into its three fields.
fn header_fields(rest: &str, whole: &str) -> Result<Fields, SigV4Error> {
    let mut f = Fields {
        credential: None,
        signed_headers: None,
        signature: None,
    };
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(SigV4Error::Incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{whole}'."
            )));
        };
        let slot = match k.trim() {
            "Credential" => &mut f.credential,
            "SignedHeaders" => &mut f.signed_headers,
            "Signature" => &mut f.signature,
            _ => continue,
        };
        *slot = Some(v.trim().to_owned());
    }
    Ok(f)
}

fn parse_query(req: &Parts, params: &[(String, String)]) -> Result<Parsed, SigV4Error> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let require = |name: &str| {
        get(name).ok_or_else(|| {
            SigV4Error::Incomplete(format!(
                "AWS query-string parameters must include '{name}'. Re-examine the \
                 query-string parameters."
            ))
        })
    };
    let algorithm = require("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\", not \"{algorithm}\"."
        )));
    }
    let credential = require("X-Amz-Credential")?;
    let signed = require("X-Amz-SignedHeaders")?;
    let signature = require("X-Amz-Signature")?;
    let date = require("X-Amz-Date")?;
    let token = get("X-Amz-Security-Token").or_else(|| header_str(req, "x-amz-security-token"));
    let expires = get("X-Amz-Expires");
    build(credential, signed, signature, date, token, expires, true)
}

pub(super) fn build(
    credential: String,
    mut signed_headers: String,
    signature: String,
    amz_date: String,
    session_token: Option<String>,
    expires: Option<String>,
    is_presigned: bool,
) -> Result<Parsed, SigV4Error> {
    let Some(parts) = credential_parts(&credential) else {
        return Err(SigV4Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let term = &credential[parts[3].end + 1..];
    if term != "aws4_request" {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{term}'. "
        )));
    }
    let request_time = parse_request_time(&amz_date)?;
    signed_headers.make_ascii_lowercase();
    Ok(Parsed {
        credential,
        parts,
        signed_headers,
        signature,
        amz_date,
        request_time,
        session_token,
        expires,
        is_presigned,
    })
}

/// The ranges of the first four of exactly five `/`-separated elements.
fn credential_parts(credential: &str) -> Option<[Range<usize>; 4]> {
    let mut ranges = [0..0, 0..0, 0..0, 0..0];
    let mut start = 0;
    let mut slashes = credential.match_indices('/').map(|(i, _)| i);
    for range in &mut ranges {
        let end = slashes.next()?;
        *range = start..end;
        start = end + 1;
    }
    slashes.next().is_none().then_some(ranges)
}

/// `yyyymmddThhmmssZ`, or an RFC 1123 `Date` header as older clients send.
fn parse_request_time(value: &str) -> Result<OffsetDateTime, SigV4Error> {
    parse_amz_date(value)
        .or_else(|| {
            OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()
        })
        .ok_or_else(|| {
            SigV4Error::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })
}
