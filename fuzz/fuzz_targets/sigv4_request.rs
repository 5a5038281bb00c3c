//! Arbitrary bytes as an HTTP request (`METHOD URI` on the first line, `name: value` header
//! lines, a blank line, the body), through what the server does before it knows the caller:
//! the SigV4 parser, the verifier, and the query-protocol parameter parser. Nothing may
//! panic; no request the fuzzer writes may verify against a secret it does not know; and
//! whatever request the signer is given (odd paths, queries and header values included)
//! must verify after signing, so that signer and verifier canonicalize alike.
#![no_main]

use coffer_wire::query::QueryRequest;
use coffer_wire::sigv4::{
    self, Credentials, PayloadHash, SignInput, VerifyOptions, sign, verify,
};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz/secret/key/that/the/input/cannot/know";

struct Request<'a> {
    method: &'a str,
    uri: &'a str,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

fn split(data: &[u8]) -> Option<Request<'_>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let (method, uri) = lines.next()?.split_once(' ')?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Request {
        method,
        uri,
        headers,
        body,
    })
}

fn parts(r: &Request<'_>, extra: &[(String, String)]) -> Option<http::request::Parts> {
    let mut b = http::Request::builder().method(r.method).uri(r.uri);
    for (n, v) in r.headers.iter().chain(extra) {
        b = b.header(n.as_str(), v.as_str());
    }
    Some(b.body(()).ok()?.into_parts().0)
}

fuzz_target!(|data: &[u8]| {
    let Some(req) = split(data) else { return };
    let Some(p) = parts(&req, &[]) else { return };
    let body_hash = coffer_crypto::sha256_hex(req.body);
    let _ = QueryRequest::from_request(&p, req.body);
    if let Ok(parsed) = sigv4::parse(&p) {
        let now = parsed.request_time;
        let r = verify(&parsed, &p, &body_hash, SECRET, now, &VerifyOptions::default());
        assert!(r.is_err(), "a request verified without knowing the secret");
    }
    // Sign the request as a client would, then verify it.
    let mut headers = req.headers.clone();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        headers.push(("host".to_owned(), "kms.example".to_owned()));
    }
    // Headers the signer owns, and repeated names, are outside what a client sends.
    let owned = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];
    headers.retain(|(n, _)| !owned.contains(&n.to_ascii_lowercase().as_str()));
    let mut seen = std::collections::HashSet::new();
    headers.retain(|(n, _)| seen.insert(n.to_ascii_lowercase()));
    let signable = Request { headers, ..req };
    // A client signs the origin-form path and query exactly as it sends them.
    let sent = parts(&signable, &[]);
    let as_sent = sent.as_ref().and_then(|p| p.uri.path_and_query());
    if !signable.uri.starts_with('/') || as_sent.map(|pq| pq.as_str()) != Some(signable.uri) {
        return;
    }
    let input = SignInput::new(
        signable.method,
        signable.uri,
        signable.headers.clone(),
        PayloadHash::Bytes(signable.body),
    );
    let creds = Credentials::new("AKIDFUZZ", SECRET);
    let t = time::macros::datetime!(2026-01-01 0:00 UTC);
    let out = sign(&input, &creds, "us-east-1", "kms", t);
    let Some(signed) = parts(&signable, &out.headers) else {
        return;
    };
    let parsed = sigv4::parse(&signed).expect("a signed request parses");
    let r = verify(&parsed, &signed, &body_hash, SECRET, t, &VerifyOptions::default());
    assert_eq!(r, Ok(()), "a signed request failed to verify");
});
