//! SigV4 authentication through the real SDK and raw signed requests.

use crate::kit::{Creds, REGION, TestServer, code, raw};
use bytes::Bytes;
use coffer_wire::sigv4;
use http_body_util::Full;

#[tokio::test]
async fn valid_credentials_are_accepted() {
    let s = TestServer::start();
    let out = s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    assert_eq!(out.account(), Some(s.account.as_str()));
    assert_eq!(
        out.arn(),
        Some(format!("arn:aws:iam::{}:root", s.account).as_str())
    );
    assert_eq!(out.user_id(), Some(s.account.as_str()));
}

#[tokio::test]
async fn wrong_secret_is_refused_with_the_protocol_error() {
    let s = TestServer::start();
    let bad = Creds::new(&s.admin.akid, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let e = s.sts(&bad).get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    let raw = e.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 403);
    assert!(raw.headers().get("x-amzn-requestid").is_some());
    // The awsJson1.1 protocol names the same failure differently.
    let e = s.cloudtrail(&bad).lookup_events().send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_access_key_is_refused() {
    let s = TestServer::start();
    let nobody = Creds::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    let e = s
        .sts(&nobody)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidClientTokenId");
    let e = s
        .cloudtrail(&nobody)
        .lookup_events()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnrecognizedClientException");
}

#[tokio::test]
async fn missing_authentication_is_refused() {
    let s = TestServer::start();
    let req = http::Request::post(format!("{}/", s.endpoint))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(
            "Action=GetCallerIdentity&Version=2011-06-15",
        )))
        .unwrap();
    let (status, headers, body) = raw(req).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    assert!(headers.get("x-amzn-requestid").is_some());
    let req = http::Request::post(format!("{}/", s.endpoint))
        .header(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let (_, _, body) = raw(req).await;
    assert!(
        body.contains("MissingAuthenticationTokenException"),
        "{body}"
    );
}

/// Replies carry their protocol's content type, whether or not they hold a secret (those
/// take another path through the server, to be zeroized once sent).
#[tokio::test]
async fn replies_carry_their_protocols_content_type() {
    let s = TestServer::start();
    let json = "application/x-amz-json-1.1";
    for (target, body, member) in [
        ("TrentService.ListKeys", "{}", "Keys"),
        (
            "TrentService.GenerateRandom",
            r#"{"NumberOfBytes":32}"#,
            "Plaintext",
        ),
    ] {
        let (status, headers, text) = s.signed_json(&s.admin, "kms", target, body).await;
        assert_eq!(status, 200, "{target}: {text}");
        assert_eq!(headers["content-type"], json, "{target}");
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(reply.get(member).is_some(), "{target}: {text}");
    }
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, headers, text) = s.signed_query(&s.admin, "sts", body, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/xml");
}

#[tokio::test]
async fn tampered_body_is_refused() {
    let s = TestServer::start();
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, _, text) = s.signed_query(&s.admin, "sts", body, None).await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = s
        .signed_query(
            &s.admin,
            "sts",
            body,
            Some("Action=GetCallerIdentity&Version=2011-06-16"),
        )
        .await;
    assert_eq!(status, 403);
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    let s = TestServer::start();
    let query = "Action=GetCallerIdentity&Version=2011-06-15";
    let host = format!("127.0.0.1:{}", s.port);
    let uri = format!("/?{query}");
    let input = sigv4::SignInput::new(
        "GET",
        &uri,
        vec![("host".into(), host)],
        sigv4::PayloadHash::Bytes(b""),
    );
    let url = sigv4::presign(&input, &s.admin.signer(), REGION, "sts", s.now(), 60);
    let get = || {
        http::Request::get(format!("{}{}", s.endpoint, url))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let (status, _, body) = raw(get()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&s.account));
    s.advance(120).await;
    let (status, _, body) = raw(get()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>AccessDenied</Code>") || body.contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn expired_session_token_is_refused() {
    let s = TestServer::start();
    let (_, session) = crate::authz::role_session(&s, "alice", "s1", 900).await;
    let who = s.sts(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{}:assumed-role/r/s1", s.account).as_str())
    );
    // Without its token the session key is not a credential at all.
    let tokenless = Creds {
        token: None,
        ..session.clone()
    };
    let e = s
        .sts(&tokenless)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidClientTokenId");
    s.advance(901).await;
    let e = s
        .sts(&session)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ExpiredToken");
}

#[tokio::test]
async fn dev_mode_accepts_the_well_known_credentials() {
    let s = TestServer::start_with(&["--dev"]);
    let out = s
        .sts(&Creds::new("test", "test"))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(out.account(), Some("000000000000"));
}

#[tokio::test]
async fn health_and_metrics() {
    let s = TestServer::start();
    let get = |p: &str| {
        http::Request::get(format!("{}{p}", s.endpoint))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let (status, _, body) = raw(get("/health")).await;
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    let (status, _, body) = raw(get("/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(
            "coffer_requests_total{service=\"sts\",operation=\"GetCallerIdentity\",code=\"200\"} 1"
        ),
        "{body}"
    );
    // The call's record was committed durably before the answer, in some group.
    let value = |name: &str| -> f64 {
        let line = body.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..].trim().parse().unwrap()
    };
    let groups = value("coffer_audit_group_records_count ");
    assert!(groups >= 1.0, "{body}");
    assert!(value("coffer_audit_group_records_sum ") >= 1.0, "{body}");
    assert_eq!(value("coffer_audit_group_sync_seconds_count "), groups);
    assert_eq!(value("coffer_audit_group_wait_seconds_count "), groups);
}

#[tokio::test]
async fn unknown_operations_and_bad_input_get_the_protocol_error() {
    let s = TestServer::start();
    // Query protocol: an action STS does not have.
    let (status, headers, body) = s
        .signed_query(
            &s.admin,
            "sts",
            "Action=GetFederationTokenX&Version=2011-06-15",
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(headers.get("x-amzn-requestid").is_some());
    // awsJson1.1: a target whose prefix no service owns.
    let req = http::Request::post(format!("{}/", s.endpoint))
        .header("x-amz-target", "NoSuchService_20200101.DoThing")
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let (status, _, body) = raw(req).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("UnknownOperationException"), "{body}");
    // A parameter outside its documented range.
    let e = s
        .sts(&s.admin)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/anything", s.account))
        .role_session_name("ok-name")
        .duration_seconds(60)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError", "{e:?}");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
}

/// The form of a request id as AWS returns it: a version-4 UUID, RFC 4122 variant,
/// lower-case and hyphenated.
fn is_aws_request_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

#[tokio::test]
async fn request_ids_reach_the_sdk_in_aws_form_and_differ_per_call() {
    use aws_sdk_sts::operation::RequestId;
    let s = TestServer::start();
    let first = s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    let second = s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    let (a, b) = (first.request_id().unwrap(), second.request_id().unwrap());
    assert!(is_aws_request_id(a), "{a}");
    assert!(is_aws_request_id(b), "{b}");
    assert_ne!(a, b);
    // A refused call carries one too.
    let bad = Creds::new(&s.admin.akid, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let e = s.sts(&bad).get_caller_identity().send().await.unwrap_err();
    let id = e
        .raw_response()
        .unwrap()
        .headers()
        .get("x-amzn-requestid")
        .unwrap();
    assert!(is_aws_request_id(id), "{id}");
}
