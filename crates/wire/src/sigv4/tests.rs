//! Sign-then-verify round trips and every failure path.

use super::*;
use crate::error::Protocol;
use coffer_crypto::sha256_hex;
use http::StatusCode;
use http::request::Parts;
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn t0() -> OffsetDateTime {
    datetime!(2026-01-01 00:00:00 UTC)
}

fn creds() -> Credentials {
    Credentials::new("AKIDEXAMPLE", SECRET)
}

fn parts(method: &str, uri: &str, headers: &[(String, String)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        b = b.header(n.as_str(), v.as_str());
    }
    b.body(()).unwrap().into_parts().0
}

/// A signed KMS-style POST and its body.
fn signed_post(body: &[u8], c: &Credentials) -> (Parts, String) {
    let headers = vec![
        ("host".to_owned(), "kms.us-east-1.amazonaws.com".to_owned()),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            "TrentService.ListKeys".to_owned(),
        ),
    ];
    let input = SignInput::new("POST", "/", headers.clone(), PayloadHash::Bytes(body));
    let out = sign(&input, c, "us-east-1", "kms", t0());
    let mut all = headers;
    all.extend(out.headers);
    (parts("POST", "/", &all), sha256_hex(body))
}

fn check(p: &Parts, body_hash: &str, secret: &str, now: OffsetDateTime) -> Result<(), SigV4Error> {
    let parsed = parse(p)?;
    verify(
        &parsed,
        p,
        body_hash,
        secret,
        now,
        &VerifyOptions::default(),
    )
}

#[test]
fn header_round_trip() {
    let (p, h) = signed_post(b"{}", &creds());
    let parsed = parse(&p).unwrap();
    assert_eq!(parsed.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(parsed.scope_date(), "20260101");
    assert_eq!(parsed.region(), "us-east-1");
    assert_eq!(parsed.service(), "kms");
    assert_eq!(
        parsed.credential_scope(),
        "20260101/us-east-1/kms/aws4_request"
    );
    assert_eq!(parsed.request_time, t0());
    assert!(!parsed.is_presigned);
    assert_eq!(
        parsed.credential_scope(),
        "20260101/us-east-1/kms/aws4_request"
    );
    assert_eq!(check(&p, &h, SECRET, t0() + Duration::minutes(14)), Ok(()));
}

#[test]
fn session_token_is_parsed_and_signed() {
    let mut c = creds();
    c.session_token = Some("tok+/=".into());
    let (p, h) = signed_post(b"{}", &c);
    let parsed = parse(&p).unwrap();
    assert_eq!(parsed.session_token.as_deref(), Some("tok+/="));
    assert!(parsed.signed_headers().any(|h| h == "x-amz-security-token"));
    assert_eq!(check(&p, &h, SECRET, t0()), Ok(()));
}

#[test]
fn tampered_body_and_wrong_secret_fail() {
    let (p, _) = signed_post(b"{\"a\":1}", &creds());
    assert_eq!(
        check(&p, &sha256_hex(b"{\"a\":2}"), SECRET, t0()),
        Err(SigV4Error::SignatureMismatch)
    );
    let (p, h) = signed_post(b"{}", &creds());
    assert_eq!(
        check(&p, &h, "other", t0()),
        Err(SigV4Error::SignatureMismatch)
    );
}

/// A caller-supplied key is used for the parsed scope, only after the structural checks,
/// and a wrong key fails exactly like a wrong secret.
#[test]
fn verify_with_uses_the_derived_key_for_the_parsed_scope() {
    let (p, h) = signed_post(b"{}", &creds());
    let parsed = parse(&p).unwrap();
    let opts = VerifyOptions::default();
    let mut asked = None;
    let r = verify_with(&parsed, &p, &h, t0(), &opts, |scope| {
        asked = Some((
            scope.date.to_owned(),
            scope.region.to_owned(),
            scope.service.to_owned(),
        ));
        signing_key(SECRET, scope.date, scope.region, scope.service)
    });
    assert_eq!(r, Ok(()));
    assert_eq!(
        asked,
        Some(("20260101".into(), "us-east-1".into(), "kms".into()))
    );
    let wrong = verify_with(&parsed, &p, &h, t0(), &opts, |s| {
        signing_key("other", s.date, s.region, s.service)
    });
    assert_eq!(wrong, Err(SigV4Error::SignatureMismatch));
    let late = t0() + Duration::hours(1);
    let skewed = verify_with(&parsed, &p, &h, late, &opts, |_| {
        panic!("no key may be derived for a request that fails the time check")
    });
    assert!(matches!(skewed, Err(SigV4Error::Skewed { .. })));
}

#[test]
fn amz_date_pads_every_field() {
    assert_eq!(
        amz_date(datetime!(0987-02-03 04:05:06 UTC)),
        "09870203T040506Z"
    );
    assert_eq!(
        amz_date(datetime!(2026-12-31 23:59:59 UTC)),
        "20261231T235959Z"
    );
    let offset = datetime!(2026-01-01 00:30:00 +01:00);
    assert_eq!(amz_date(offset), "20251231T233000Z");
}

#[test]
fn tampered_header_fails() {
    let (mut p, h) = signed_post(b"{}", &creds());
    p.headers
        .insert("x-amz-target", "TrentService.Decrypt".parse().unwrap());
    assert_eq!(
        check(&p, &h, SECRET, t0()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn content_sha256_claim_must_match_body() {
    let headers = vec![("host".to_owned(), "h".to_owned())];
    let mut input = SignInput::new("PUT", "/b/k", headers.clone(), PayloadHash::Bytes(b"abc"));
    input.content_sha256_header = true;
    input.double_encode_path = false;
    let out = sign(&input, &creds(), "us-east-1", "s3", t0());
    let mut all = headers;
    all.extend(out.headers);
    let p = parts("PUT", "/b/k", &all);
    let parsed = parse(&p).unwrap();
    let opts = VerifyOptions::s3();
    assert_eq!(
        verify(&parsed, &p, &sha256_hex(b"abc"), SECRET, t0(), &opts),
        Ok(())
    );
    let err = verify(&parsed, &p, &sha256_hex(b"abd"), SECRET, t0(), &opts).unwrap_err();
    assert_eq!(err, SigV4Error::ContentSha256Mismatch);
    assert_eq!(
        err.wire_error(Protocol::RestXml).code,
        "XAmzContentSHA256Mismatch"
    );
    assert_eq!(
        err.wire_error(Protocol::AwsJson11).code,
        "InvalidSignatureException"
    );
    // A claim that is not visible ASCII is neither a hash nor a marker: refused as a
    // mismatch before any signature is computed, even behind a STREAMING- prefix.
    let mut p = p;
    let odd = http::HeaderValue::from_bytes(b"STREAMING-\xe9").unwrap();
    p.headers.insert("x-amz-content-sha256", odd);
    let err = verify(&parsed, &p, &sha256_hex(b"abc"), SECRET, t0(), &opts).unwrap_err();
    assert_eq!(err, SigV4Error::ContentSha256Mismatch);
}

#[test]
fn unsigned_payload_claim_skips_body_hash() {
    let headers = vec![("host".to_owned(), "h".to_owned())];
    let mut input = SignInput::new("PUT", "/b/k", headers.clone(), PayloadHash::Unsigned);
    input.content_sha256_header = true;
    let out = sign(&input, &creds(), "us-east-1", "s3", t0());
    let mut all = headers;
    all.extend(out.headers);
    let p = parts("PUT", "/b/k", &all);
    assert_eq!(check(&p, &sha256_hex(b"anything"), SECRET, t0()), Ok(()));
}

#[test]
fn skew_in_both_directions() {
    let (p, h) = signed_post(b"{}", &creds());
    let late = t0() + Duration::minutes(20);
    let err = check(&p, &h, SECRET, late).unwrap_err();
    assert_eq!(
        err.wire_error(Protocol::AwsJson11).message,
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z \
         (20260101T002000Z - 15 min.)"
    );
    let early = t0() - Duration::minutes(16);
    let err = check(&p, &h, SECRET, early).unwrap_err();
    assert!(matches!(err, SigV4Error::Skewed { future: true, .. }));
    let w = err.wire_error(Protocol::Query);
    assert_eq!(
        (w.code.as_ref(), w.status),
        ("SignatureDoesNotMatch", StatusCode::FORBIDDEN)
    );
    assert_eq!(
        w.message,
        "Signature not yet current: 20260101T000000Z is still later than 20251231T235900Z \
         (20251231T234400Z + 15 min.)"
    );
}

#[test]
fn host_must_be_signed_and_scope_date_must_match() {
    let auth = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/kms/aws4_request, \
                SignedHeaders=x-amz-date, Signature=00";
    let h = |a: &str, d: &str| {
        vec![
            ("authorization".to_owned(), a.to_owned()),
            ("x-amz-date".to_owned(), d.to_owned()),
        ]
    };
    let p = parts("GET", "/", &h(auth, "20260101T000000Z"));
    assert_eq!(check(&p, "", SECRET, t0()), Err(SigV4Error::HostNotSigned));
    let auth = auth.replace("x-amz-date", "host;x-amz-date");
    let p = parts("GET", "/", &h(&auth, "20260102T000000Z"));
    let err = check(&p, "", SECRET, t0()).unwrap_err();
    assert_eq!(
        err.wire_error(Protocol::AwsJson11).message,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20260101' != '20260102', from '20260102T000000Z'."
    );
}

#[test]
fn missing_authentication() {
    let p = parts("POST", "/", &[("host".into(), "h".into())]);
    assert_eq!(parse(&p), Err(SigV4Error::Missing));
    let j = SigV4Error::Missing.wire_error(Protocol::AwsJson11);
    assert_eq!(j.code, "MissingAuthenticationTokenException");
    assert_eq!(j.status, StatusCode::BAD_REQUEST);
    assert_eq!(j.message, "Missing Authentication Token");
    let q = SigV4Error::Missing.wire_error(Protocol::Query);
    assert_eq!(q.code, "MissingAuthenticationToken");
    assert_eq!(q.status, StatusCode::FORBIDDEN);
    assert_eq!(q.message, "Request is missing Authentication Token");
}

fn incomplete_message(auth: &str, date: bool) -> String {
    let mut h = vec![("authorization".to_owned(), auth.to_owned())];
    if date {
        h.push(("x-amz-date".to_owned(), "20260101T000000Z".to_owned()));
    }
    match parse(&parts("GET", "/", &h)) {
        Err(e @ SigV4Error::Incomplete(_)) => {
            let w = e.wire_error(Protocol::Query);
            assert_eq!(
                (w.code.as_ref(), w.status),
                ("IncompleteSignature", StatusCode::BAD_REQUEST)
            );
            assert_eq!(
                e.wire_error(Protocol::AwsJson11).code,
                "IncompleteSignatureException"
            );
            w.message
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

#[test]
fn malformed_authorization_headers() {
    assert_eq!(
        incomplete_message("AWS AKID:sig", false),
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS AKID:sig"
    );
    assert_eq!(
        incomplete_message(
            "AWS4-HMAC-SHA256 Credential=A/20260101/r/s/aws4_request",
            true
        ),
        "Authorization header requires 'Signature' parameter. Authorization header requires \
         'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 \
         Credential=A/20260101/r/s/aws4_request"
    );
    for credential in ["A/x", "A/20260101/r/s/aws4_request/extra", "A/20260101/r/s"] {
        let m = incomplete_message(
            &format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=1"),
            true,
        );
        assert!(
            m.starts_with("Credential must have exactly 5 slash-delimited"),
            "{credential}: {m}"
        );
    }
    let m = incomplete_message(
        "AWS4-HMAC-SHA256 Credential=A/20260101/r/s/aws4_request, SignedHeaders=host, oops",
        true,
    );
    assert!(
        m.starts_with("'oops' not a valid key=value pair (missing equal-sign)"),
        "{m}"
    );
    let m = incomplete_message(
        "AWS4-HMAC-SHA256 Credential=A/20260101/r/s/aws5_request, SignedHeaders=host, Signature=1",
        true,
    );
    assert!(
        m.contains("valid terminator: 'aws4_request', not 'aws5_request'"),
        "{m}"
    );
}

#[test]
fn date_header_is_accepted_when_x_amz_date_is_absent() {
    let h = vec![
        (
            "authorization".to_owned(),
            "AWS4-HMAC-SHA256 Credential=A/20110909/us-east-1/host/aws4_request, \
             SignedHeaders=date;host, Signature=00"
                .to_owned(),
        ),
        (
            "date".to_owned(),
            "Fri, 09 Sep 2011 23:36:00 GMT".to_owned(),
        ),
    ];
    let parsed = parse(&parts("GET", "/", &h)).unwrap();
    assert_eq!(parsed.request_time, datetime!(2011-09-09 23:36:00 UTC));
    let bad = vec![
        h[0].clone(),
        ("x-amz-date".to_owned(), "yesterday".to_owned()),
    ];
    assert!(
        matches!(parse(&parts("GET", "/", &bad)), Err(SigV4Error::Incomplete(m)) if m.contains("ISO-8601"))
    );
}

fn presigned(expires: u64, c: &Credentials) -> Parts {
    let headers = vec![("host".to_owned(), "sts.amazonaws.com".to_owned())];
    let input = SignInput::new(
        "GET",
        "/?Action=GetCallerIdentity&Version=2011-06-15",
        headers.clone(),
        PayloadHash::Bytes(b""),
    );
    let uri = presign(&input, c, "us-east-1", "sts", t0(), expires);
    parts("GET", &uri, &headers)
}

#[test]
fn presigned_round_trip_and_expiry() {
    let mut c = creds();
    c.session_token = Some("FQoG/x+y==".into());
    let p = presigned(900, &c);
    let parsed = parse(&p).unwrap();
    assert!(parsed.is_presigned);
    assert_eq!(parsed.session_token.as_deref(), Some("FQoG/x+y=="));
    assert_eq!(parsed.expires.as_deref(), Some("900"));
    let empty = sha256_hex(b"");
    // Still valid after the header skew window, until Expires.
    assert_eq!(
        check(&p, &empty, SECRET, t0() + Duration::seconds(900)),
        Ok(())
    );
    let err = check(&p, &empty, SECRET, t0() + Duration::seconds(901)).unwrap_err();
    assert_eq!(err, SigV4Error::PresignedExpired);
    let q = err.wire_error(Protocol::Query);
    assert_eq!(
        (q.code.as_ref(), q.status),
        ("AccessDenied", StatusCode::FORBIDDEN)
    );
    assert_eq!(
        check(&p, &empty, "nope", t0()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn presigned_expires_bounds() {
    let empty = sha256_hex(b"");
    assert_eq!(
        check(
            &presigned(MAX_PRESIGN_EXPIRES, &creds()),
            &empty,
            SECRET,
            t0()
        ),
        Ok(())
    );
    for n in [0, MAX_PRESIGN_EXPIRES + 1] {
        let err = check(&presigned(n, &creds()), &empty, SECRET, t0()).unwrap_err();
        assert!(matches!(err, SigV4Error::InvalidExpires(_)), "{n}: {err:?}");
    }
    let p = presigned(60, &creds());
    let uri = p
        .uri
        .to_string()
        .replace("X-Amz-Expires=60", "X-Amz-Expires=soon");
    let p2 = parts("GET", &uri, &[("host".into(), "sts.amazonaws.com".into())]);
    assert!(matches!(
        check(&p2, &empty, SECRET, t0()),
        Err(SigV4Error::InvalidExpires(_))
    ));
    let uri = p.uri.to_string().replace("X-Amz-Expires=60&", "");
    let p3 = parts("GET", &uri, &[("host".into(), "sts.amazonaws.com".into())]);
    assert!(matches!(
        check(&p3, &empty, SECRET, t0()),
        Err(SigV4Error::InvalidExpires(_))
    ));
}

#[test]
fn dates_at_the_end_of_time_do_not_overflow() {
    let end = datetime!(9999-12-31 23:59:59 UTC);
    let headers = vec![("host".to_owned(), "h".to_owned())];
    let input = SignInput::new("GET", "/", headers.clone(), PayloadHash::Bytes(b""));
    let uri = presign(&input, &creds(), "r", "s", end, MAX_PRESIGN_EXPIRES);
    let p = parts("GET", &uri, &headers);
    let empty = sha256_hex(b"");
    assert_eq!(
        check(&p, &empty, SECRET, end),
        Err(SigV4Error::PresignedExpired)
    );
    let out = sign(&input, &creds(), "r", "s", end);
    let mut all = headers;
    all.extend(out.headers);
    assert_eq!(check(&parts("GET", "/", &all), &empty, SECRET, end), Ok(()));
}

#[test]
fn presigned_missing_params_and_bad_algorithm() {
    let p = parts("GET", "/?X-Amz-Signature=abc", &[]);
    assert!(matches!(parse(&p), Err(SigV4Error::Incomplete(m)) if m.contains("'X-Amz-Algorithm'")));
    let p = parts("GET", "/?X-Amz-Algorithm=AWS4-HMAC-SHA1", &[]);
    assert!(matches!(parse(&p), Err(SigV4Error::Incomplete(m)) if m.contains("AWS4-HMAC-SHA1")));
}

#[test]
fn server_decided_errors_render_exactly() {
    let cases = [
        (
            SigV4Error::UnknownAccessKey,
            Protocol::AwsJson11,
            "UnrecognizedClientException",
            400,
            "The security token included in the request is invalid.",
        ),
        (
            SigV4Error::UnknownAccessKey,
            Protocol::Query,
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        ),
        (
            SigV4Error::InvalidToken,
            Protocol::Query,
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        ),
        (
            SigV4Error::ExpiredToken,
            Protocol::AwsJson11,
            "ExpiredTokenException",
            400,
            "The security token included in the request is expired",
        ),
        (
            SigV4Error::ExpiredToken,
            Protocol::Query,
            "ExpiredToken",
            403,
            "The security token included in the request is expired",
        ),
        (
            SigV4Error::SignatureMismatch,
            Protocol::AwsJson11,
            "InvalidSignatureException",
            400,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
        (
            SigV4Error::SignatureMismatch,
            Protocol::Query,
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
        (
            SigV4Error::HostNotSigned,
            Protocol::AwsJson11,
            "IncompleteSignatureException",
            400,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            SigV4Error::wrong_region("mars-1"),
            Protocol::Query,
            "SignatureDoesNotMatch",
            403,
            "Credential should be scoped to a valid region, not 'mars-1'. ",
        ),
        (
            SigV4Error::wrong_service("kms"),
            Protocol::AwsJson11,
            "InvalidSignatureException",
            400,
            "Credential should be scoped to correct service: 'kms'. ",
        ),
        (
            SigV4Error::PresignedExpired,
            Protocol::AwsJson11,
            "AccessDeniedException",
            400,
            "Request has expired",
        ),
        (
            SigV4Error::UnknownAccessKey,
            Protocol::RestXml,
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    ];
    for (err, proto, code, status, message) in cases {
        let w = err.wire_error(proto);
        assert_eq!(w.code, code, "{err:?} {proto:?}");
        assert_eq!(w.status.as_u16(), status, "{err:?} {proto:?}");
        assert_eq!(w.message, message, "{err:?} {proto:?}");
        assert!(w.sender_fault);
    }
}

fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._~%+=&/é-]{0,8}".prop_map(|s| uri_encode(&s))
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(
        ("[a-zA-Z0-9 _.~+=&é-]{1,6}", "[a-zA-Z0-9 _.~+=&/é-]{0,6}"),
        0..4,
    )
    .prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("x-t-[a-z0-9-]{0,6}", "[ -~]{0,12}"), 0..4)
}

proptest! {
    #[test]
    fn sign_then_verify(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
        segs in prop::collection::vec(segment(), 0..4),
        q in query(),
        extra in extra_headers(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        token in prop::option::of("[A-Za-z0-9+/=]{1,20}"),
        double in any::<bool>(),
        skew_secs in -899i64..899,
    ) {
        let path = format!("/{}", segs.join("/"));
        let uri = if q.is_empty() { path.clone() } else { format!("{path}?{q}") };
        let mut headers = vec![("host".to_owned(), "svc.example".to_owned())];
        headers.extend(extra);
        let mut c = creds();
        c.session_token = token;
        let mut input = SignInput::new(method, &uri, headers.clone(), PayloadHash::Bytes(&body));
        input.double_encode_path = double;
        let out = sign(&input, &c, "eu-west-1", "svc", t0());
        headers.extend(out.headers);
        let p = parts(method, &uri, &headers);
        let parsed = parse(&p).unwrap();
        let opts = VerifyOptions { double_encode_path: double, ..VerifyOptions::default() };
        let now = t0() + Duration::seconds(skew_secs);
        prop_assert_eq!(verify(&parsed, &p, &sha256_hex(&body), SECRET, now, &opts), Ok(()));
        let mut other = body.clone();
        other.push(0);
        prop_assert_eq!(
            verify(&parsed, &p, &sha256_hex(&other), SECRET, now, &opts),
            Err(SigV4Error::SignatureMismatch)
        );
    }

    #[test]
    fn presign_then_verify(
        segs in prop::collection::vec(segment(), 0..4),
        q in query(),
        expires in 1u64..=MAX_PRESIGN_EXPIRES,
        double in any::<bool>(),
    ) {
        let path = format!("/{}", segs.join("/"));
        let uri = if q.is_empty() { path.clone() } else { format!("{path}?{q}") };
        let headers = vec![("host".to_owned(), "svc.example".to_owned())];
        let mut input = SignInput::new("GET", &uri, headers.clone(), PayloadHash::Bytes(b""));
        input.double_encode_path = double;
        let signed = presign(&input, &creds(), "eu-west-1", "svc", t0(), expires);
        let p = parts("GET", &signed, &headers);
        let parsed = parse(&p).unwrap();
        let opts = VerifyOptions { double_encode_path: double, ..VerifyOptions::default() };
        let end = t0() + Duration::seconds(i64::try_from(expires).unwrap());
        prop_assert_eq!(verify(&parsed, &p, &sha256_hex(b""), SECRET, end, &opts), Ok(()));
        prop_assert_eq!(
            verify(&parsed, &p, &sha256_hex(b""), SECRET, end + Duration::seconds(1), &opts),
            Err(SigV4Error::PresignedExpired)
        );
    }

    #[test]
    fn parse_never_panics(auth in prop::collection::vec(any::<u8>(), 0..200), q in "[ -~]{0,200}", date in "[ -~]{0,40}") {
        let mut b = http::Request::builder().uri("/");
        if let Ok(v) = http::HeaderValue::from_bytes(&auth) {
            b = b.header("authorization", v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&date) {
            b = b.header("x-amz-date", v);
        }
        if let Ok(r) = b.body(()) {
            let (p, ()) = r.into_parts();
            if let Ok(parsed) = parse(&p) {
                let _ = verify(&parsed, &p, "", SECRET, t0(), &VerifyOptions::default());
            }
        }
        let uri = format!("/?{}", q.replace(' ', "%20").replace('#', "%23"));
        if let Ok(r) = http::Request::builder().uri(uri).body(()) {
            let (p, ()) = r.into_parts();
            if let Ok(parsed) = parse(&p) {
                let _ = verify(&parsed, &p, "", SECRET, t0(), &VerifyOptions::default());
            }
        }
    }
}

/// A reused key cache signs exactly as a fresh derivation does, across a change of day,
/// region and service (the cache must not hand yesterday's key to today's scope).
#[test]
fn cached_signing_key_signs_like_a_fresh_one() {
    let c = creds();
    let input = SignInput::new(
        "POST",
        "/",
        vec![("host".to_owned(), "localhost".to_owned())],
        PayloadHash::Bytes(b"{}"),
    );
    let mut cache = SigningKeyCache::default();
    let day2 = t0() + Duration::days(1);
    for (region, service, at) in [
        ("us-east-1", "kms", t0()),
        ("us-east-1", "kms", t0() + Duration::hours(3)),
        ("us-east-1", "kms", day2),
        ("eu-west-1", "kms", day2),
        ("eu-west-1", "sts", day2),
        ("us-east-1", "kms", t0()),
    ] {
        let fresh = sign(&input, &c, region, service, at);
        let cached = sign_cached(&input, &c, region, service, at, &mut cache);
        assert_eq!(cached.signature, fresh.signature, "{region} {service} {at}");
        assert_eq!(cached.headers, fresh.headers);
    }
}
