//! Authorization: identity policies, trust policies, explicit deny.

use crate::kit::{Creds, TestServer, code};

/// Creates an IAM user with an access key and (optionally) an inline policy.
pub async fn user_with_policy(s: &TestServer, name: &str, policy: Option<&str>) -> (Creds, String) {
    user_created_by(s, &s.admin, name, policy).await
}

/// An IAM user created by `creator` (so in that principal's account), with an access key
/// and an optional inline policy.
pub async fn user_created_by(
    s: &TestServer,
    creator: &Creds,
    name: &str,
    policy: Option<&str>,
) -> (Creds, String) {
    let iam = s.iam(creator);
    let u = iam.create_user().user_name(name).send().await.unwrap();
    let arn = u.user().unwrap().arn().to_string();
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    if let Some(p) = policy {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("p")
            .policy_document(p)
            .send()
            .await
            .unwrap();
    }
    (Creds::new(k.access_key_id(), k.secret_access_key()), arn)
}

/// A user allowed to assume role `r`, which trusts it, and a session of that role
/// (`session` as its name, `seconds` long).
pub async fn role_session(
    s: &TestServer,
    user: &str,
    session: &str,
    seconds: i32,
) -> (Creds, Creds) {
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let (creds, arn) = user_with_policy(s, user, Some(allow)).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    s.iam(&s.admin)
        .create_role()
        .role_name("r")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let out = s
        .sts(&creds)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/r", s.account))
        .role_session_name(session)
        .duration_seconds(seconds)
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let token = Some(c.session_token().to_string());
    (
        creds,
        Creds {
            akid: c.access_key_id().into(),
            secret: c.secret_access_key().into(),
            token,
        },
    )
}

const ALLOW_CREATE_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}]}"#;

#[tokio::test]
async fn a_user_is_denied_until_a_policy_allows() {
    let s = TestServer::start();
    let (bob, bob_arn) = user_with_policy(&s, "bob", None).await;
    // A fresh user can still ask who it is (AWS never denies GetCallerIdentity).
    let who = s.sts(&bob).get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(bob_arn.as_str()));
    let e = s
        .iam(&bob)
        .create_user()
        .user_name("carol")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    assert!(
        e.to_string().contains("") && format!("{e:?}").contains("iam:CreateUser"),
        "{e:?}"
    );
    let e = s.cloudtrail(&bob).lookup_events().send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // The refused call changed nothing.
    let e = s
        .iam(&s.admin)
        .get_user()
        .user_name("carol")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");

    s.iam(&s.admin)
        .put_user_policy()
        .user_name("bob")
        .policy_name("p")
        .policy_document(ALLOW_CREATE_USER)
        .send()
        .await
        .unwrap();
    s.iam(&bob)
        .create_user()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    // Still nothing else.
    let e = s
        .iam(&bob)
        .create_role()
        .role_name("x")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap_err();
    assert!(["AccessDenied", "MalformedPolicyDocument"].contains(&code(&e).as_str()));
}

#[tokio::test]
async fn explicit_deny_wins() {
    let s = TestServer::start();
    let both = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:CreateUser","Resource":"arn:aws:iam::*:user/forbidden*"}]}"#;
    let (dave, _) = user_with_policy(&s, "dave", Some(both)).await;
    s.iam(&dave)
        .create_user()
        .user_name("fine")
        .send()
        .await
        .unwrap();
    let e = s
        .iam(&dave)
        .create_user()
        .user_name("forbidden1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
}

#[tokio::test]
async fn malformed_policies_are_rejected_with_a_message() {
    let s = TestServer::start();
    let iam = s.iam(&s.admin);
    iam.create_user().user_name("erin").send().await.unwrap();
    for bad in [
        "not json",
        r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:*","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
    ] {
        let e = iam
            .put_user_policy()
            .user_name("erin")
            .policy_name("p")
            .policy_document(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "MalformedPolicyDocument", "{bad}");
        let msg = aws_sdk_iam::error::ProvideErrorMetadata::message(&e)
            .unwrap_or("")
            .to_string();
        assert!(!msg.is_empty(), "{bad}");
    }
    let e = iam
        .get_user_policy()
        .user_name("erin")
        .policy_name("p")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
}

#[tokio::test]
async fn iam_users_keys_and_policies_round_trip() {
    let s = TestServer::start();
    let iam = s.iam(&s.admin);
    let u = iam
        .create_user()
        .user_name("frank")
        .path("/team/")
        .send()
        .await
        .unwrap();
    let u = u.user().unwrap();
    assert_eq!(
        u.arn(),
        format!("arn:aws:iam::{}:user/team/frank", s.account)
    );
    assert!(u.user_id().starts_with("AIDA"));
    let e = iam
        .create_user()
        .user_name("FRANK")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityAlreadyExists");
    let e = iam
        .create_user()
        .user_name("bad name!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
    let k1 = iam
        .create_access_key()
        .user_name("frank")
        .send()
        .await
        .unwrap();
    let k1 = k1.access_key().unwrap().access_key_id().to_string();
    iam.create_access_key()
        .user_name("frank")
        .send()
        .await
        .unwrap();
    let e = iam
        .create_access_key()
        .user_name("frank")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "LimitExceeded");
    let keys = iam
        .list_access_keys()
        .user_name("frank")
        .send()
        .await
        .unwrap();
    assert_eq!(keys.access_key_metadata().len(), 2);
    iam.put_user_policy()
        .user_name("frank")
        .policy_name("p")
        .policy_document(ALLOW_CREATE_USER)
        .send()
        .await
        .unwrap();
    let p = iam
        .get_user_policy()
        .user_name("frank")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    let doc = percent_decode(p.policy_document());
    assert_eq!(doc, ALLOW_CREATE_USER);
    let e = iam
        .delete_user()
        .user_name("frank")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DeleteConflict");
    iam.delete_access_key()
        .user_name("frank")
        .access_key_id(&k1)
        .send()
        .await
        .unwrap();
    let e = iam
        .delete_access_key()
        .user_name("frank")
        .access_key_id(&k1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(
        iam.list_access_keys()
            .user_name("frank")
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .len(),
        1
    );
    iam.delete_user_policy()
        .user_name("frank")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    let e = iam
        .get_user_policy()
        .user_name("frank")
        .policy_name("p")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn assume_role_honours_the_trust_policy() {
    let s = TestServer::start();
    let allow_assume = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let (trusted, trusted_arn) = user_with_policy(&s, "trusted", Some(allow_assume)).await;
    let (stranger, _) = user_with_policy(&s, "stranger", Some(allow_assume)).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{trusted_arn}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"xyz"}}}}}}]}}"#
    );
    let role = s
        .iam(&s.admin)
        .create_role()
        .role_name("deployer")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let got = s
        .iam(&s.admin)
        .get_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert_eq!(got.role().unwrap().arn(), role_arn);
    s.iam(&s.admin)
        .put_role_policy()
        .role_name("deployer")
        .policy_name("p")
        .policy_document(ALLOW_CREATE_USER)
        .send()
        .await
        .unwrap();

    let assume = |c: &Creds, ext: Option<&str>| {
        let b = s
            .sts(c)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("ci");
        match ext {
            Some(e) => b.external_id(e),
            None => b,
        }
    };
    let e = assume(&stranger, Some("xyz")).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let e = assume(&trusted, None).send().await.unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDenied",
        "the condition on ExternalId must hold"
    );
    let e = assume(&s.admin, Some("xyz")).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDenied", "root may not assume roles");
    let out = assume(&trusted, Some("xyz")).send().await.unwrap();
    let c = out.credentials().unwrap();
    assert!(c.access_key_id().starts_with("ASIA"));
    let session = Creds {
        akid: c.access_key_id().into(),
        secret: c.secret_access_key().into(),
        token: Some(c.session_token().into()),
    };
    // The session has the role's permissions: CreateUser yes, CreateRole no.
    s.iam(&session)
        .create_user()
        .user_name("made-by-role")
        .send()
        .await
        .unwrap();
    let e = s
        .iam(&session)
        .get_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let e = s
        .sts(&trusted)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/nope", s.account))
        .role_session_name("ci")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "AccessDenied",
        "a missing role looks like a refused one"
    );
}
