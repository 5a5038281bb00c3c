//! Cases from AWS's published SigV4 test suite (credentials AKIDEXAMPLE, 2015-08-30
//! 12:36:00Z, us-east-1, service "service"). Expected signatures written in by hand.

use super::*;
use time::macros::datetime;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "example.amazonaws.com";

fn creds() -> Credentials {
    Credentials::new(AKID, SECRET)
}

fn when() -> time::OffsetDateTime {
    datetime!(2015-08-30 12:36:00 UTC)
}

fn headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut h = vec![("Host".to_owned(), HOST.to_owned())];
    h.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    h
}

fn sign_case(method: &str, uri: &str, extra: &[(&str, &str)], body: &[u8]) -> SignOutput {
    let mut input = SignInput::new(method, uri, headers(extra), PayloadHash::Bytes(body));
    // The suite's raw request lines are unencoded; its canonical forms encode them once.
    input.double_encode_path = false;
    sign(&input, &creds(), "us-east-1", "service", when())
}

fn authz(out: &SignOutput) -> &str {
    &out.headers[0].1
}

#[test]
fn get_vanilla() {
    let out = sign_case("GET", "/", &[], b"");
    assert_eq!(
        authz(&out),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    assert_eq!(
        out.headers[1],
        ("x-amz-date".into(), "20150830T123600Z".into())
    );
    assert_eq!(out.headers.len(), 2);
}

#[test]
fn get_vanilla_query_order_key_case() {
    let out = sign_case("GET", "/?Param2=value2&Param1=value1", &[], b"");
    assert_eq!(
        out.signature,
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    );
}

#[test]
fn get_vanilla_empty_query_key() {
    let out = sign_case("GET", "/?Param1=value1", &[], b"");
    assert_eq!(
        out.signature,
        "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"
    );
}

#[test]
fn get_vanilla_query_unreserved() {
    let u = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let out = sign_case("GET", &format!("/?{u}={u}"), &[], b"");
    assert_eq!(
        out.signature,
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"
    );
}

#[test]
fn get_vanilla_utf8_query() {
    let out = sign_case("GET", "/?%E1%88%B4=bar", &[], b"");
    assert_eq!(
        out.signature,
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
    );
}

#[test]
fn get_utf8() {
    let out = sign_case("GET", "/%E1%88%B4", &[], b"");
    assert!(out.canonical_request.starts_with("GET\n/%E1%88%B4\n"));
    assert_eq!(
        out.signature,
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
    );
}

#[test]
fn get_header_value_trim() {
    let out = sign_case(
        "GET",
        "/",
        &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
        b"",
    );
    assert!(out.canonical_request.contains("\nmy-header2:\"a b c\"\n"));
    assert_eq!(
        authz(&out),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;my-header1;my-header2;x-amz-date, \
         Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
    );
}

#[test]
fn get_header_key_duplicate() {
    let out = sign_case(
        "GET",
        "/",
        &[
            ("My-Header1", "value2"),
            ("My-Header1", "value2"),
            ("My-Header1", "value1"),
        ],
        b"",
    );
    assert!(
        out.canonical_request
            .contains("\nmy-header1:value2,value2,value1\n")
    );
    assert_eq!(
        out.signature,
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
    );
}

#[test]
fn post_x_www_form_urlencoded() {
    let out = sign_case(
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Param1=value1",
    );
    assert_eq!(
        authz(&out),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    );
}

#[test]
fn get_vanilla_with_session_token() {
    let mut c = creds();
    c.session_token =
        Some("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267".into());
    let input = SignInput::new("GET", "/", headers(&[]), PayloadHash::Bytes(b""));
    let out = sign(&input, &c, "us-east-1", "service", when());
    assert_eq!(
        authz(&out),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-security-token, \
         Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
    );
    assert!(out.headers.iter().any(|(n, _)| n == "x-amz-security-token"));
}

#[test]
fn presigned_get_vanilla_query_order_key_case() {
    let input = SignInput::new(
        "GET",
        "/?Param2=value2&Param1=value1",
        headers(&[]),
        PayloadHash::Bytes(b""),
    );
    let uri = presign(&input, &creds(), "us-east-1", "service", when(), 3600);
    assert_eq!(
        uri,
        "/?Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request\
         &X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"
    );
}

#[test]
fn content_sha256_header_is_added_and_signed() {
    let mut input = SignInput::new("PUT", "/b/k", headers(&[]), PayloadHash::Unsigned);
    input.content_sha256_header = true;
    let out = sign(&input, &creds(), "us-east-1", "s3", when());
    assert!(authz(&out).contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
    assert!(
        out.headers
            .contains(&("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()))
    );
    assert!(out.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

#[test]
fn never_signs_user_agent_or_stale_auth() {
    let out = sign_case(
        "GET",
        "/",
        &[
            ("User-Agent", "x"),
            ("Authorization", "old"),
            ("X-Amz-Date", "bogus"),
        ],
        b"",
    );
    assert_eq!(
        out.signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}
