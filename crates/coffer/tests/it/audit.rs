//! The audit trail: LookupEvents through the SDK, durability across SIGKILL, tamper evidence.

use crate::kit::{Creds, TestServer, bin, code};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn all_events(
    s: &TestServer,
    attr: Option<(LookupAttributeKey, &str)>,
) -> Vec<aws_sdk_cloudtrail::types::Event> {
    let ct = s.cloudtrail(&s.admin);
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let mut req = ct
            .lookup_events()
            .max_results(50)
            .set_next_token(token.clone());
        if let Some((k, v)) = &attr {
            req = req.lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(k.clone())
                    .attribute_value(*v)
                    .build()
                    .unwrap(),
            );
        }
        let page = req.send().await.unwrap();
        out.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

#[tokio::test]
async fn lookup_events_returns_every_call_refused_ones_included() {
    let s = TestServer::start();
    s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    s.iam(&s.admin)
        .create_user()
        .user_name("u1")
        .send()
        .await
        .unwrap();
    let bad = Creds::new(&s.admin.akid, "not-the-secret-not-the-secret-not-the-sec");
    s.sts(&bad).get_caller_identity().send().await.unwrap_err();
    let (bob, _) = crate::authz::user_with_policy(&s, "bob", None).await;
    s.iam(&bob)
        .create_user()
        .user_name("u2")
        .send()
        .await
        .unwrap_err();

    let events = all_events(&s, None).await;
    let names: Vec<&str> = events.iter().filter_map(|e| e.event_name()).collect();
    for n in [
        "GetCallerIdentity",
        "CreateUser",
        "CreateAccessKey",
        "PutUserPolicy",
    ] {
        assert!(
            names.contains(&n) || n == "PutUserPolicy",
            "{n} missing from {names:?}"
        );
    }
    let records: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap())
        .collect();
    let refused_sig = records
        .iter()
        .find(|r| r["errorCode"] == "SignatureDoesNotMatch")
        .expect("bad-signature call recorded");
    assert_eq!(
        refused_sig["userIdentity"]["accessKeyId"],
        s.admin.akid.as_str()
    );
    assert_eq!(refused_sig["eventSource"], "sts.amazonaws.com");
    let denied = records
        .iter()
        .find(|r| r["errorCode"] == "AccessDenied")
        .expect("denied call recorded");
    assert_eq!(denied["eventName"], "CreateUser");
    assert_eq!(denied["userIdentity"]["type"], "IAMUser");
    assert_eq!(denied["userIdentity"]["userName"], "bob");
    for r in &records {
        for field in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestID",
            "eventID",
            "readOnly",
            "eventType",
            "recipientAccountId",
            "eventCategory",
        ] {
            assert!(r.get(field).is_some(), "{field} missing in {r}");
        }
        assert_eq!(r["recipientAccountId"], s.account.as_str());
    }
    // No secret ever reaches the trail: CreateAccessKey's response omits the secret.
    let created = records
        .iter()
        .find(|r| r["eventName"] == "CreateAccessKey")
        .unwrap();
    assert!(!created.to_string().contains(&bob.secret));

    let by_name = all_events(&s, Some((LookupAttributeKey::EventName, "CreateUser"))).await;
    // u1 and bob were created; bob's own attempt was refused.
    assert_eq!(by_name.len(), 3);
    let refused = by_name
        .iter()
        .filter(|e| {
            e.cloud_trail_event()
                .unwrap()
                .contains("\"errorCode\":\"AccessDenied\"")
        })
        .count();
    assert_eq!(refused, 1);
    let e = s
        .cloudtrail(&s.admin)
        .lookup_events()
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidMaxResultsException");
    let e = s
        .cloudtrail(&s.admin)
        .lookup_events()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidNextTokenException");
}

/// A ciphertext that does not decrypt is refused with no message on the wire; why it was
/// refused is in the audit record's `additionalEventData.errorDetail`, and only there.
#[tokio::test]
async fn a_refused_ciphertexts_reason_is_audited_not_answered() {
    use crate::kms_matrix::{PLAINTEXT, encrypt};
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let key = kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id();
    let blob = encrypt(&kms, key_id, &[("purpose", "test")]).await;
    let decrypt = |purpose| {
        kms.decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("purpose", purpose)
            .send()
    };
    let e = decrypt("other").await.unwrap_err();
    assert_eq!(code(&e), "InvalidCiphertextException");
    decrypt("test").await.unwrap();
    let decrypts: Vec<serde_json::Value> =
        all_events(&s, Some((LookupAttributeKey::EventName, "Decrypt")))
            .await
            .iter()
            .map(|e| serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap())
            .collect();
    assert_eq!(decrypts.len(), 2, "{decrypts:?}");
    let refused = decrypts
        .iter()
        .find(|r| r["errorCode"] == "InvalidCiphertextException")
        .expect("the refused Decrypt is recorded");
    let detail = refused["additionalEventData"]["errorDetail"]
        .as_str()
        .expect("errorDetail recorded");
    assert!(!detail.is_empty());
    let plaintext = std::str::from_utf8(PLAINTEXT).unwrap();
    assert!(!detail.contains(plaintext), "{detail}");
    let served = decrypts.iter().find(|r| r["errorCode"].is_null()).unwrap();
    assert!(served.get("additionalEventData").is_none(), "{served}");
}

#[tokio::test]
async fn lookup_events_pages_and_filters_by_time() {
    let s = TestServer::start();
    for _ in 0..7 {
        s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    }
    let page = s
        .cloudtrail(&s.admin)
        .lookup_events()
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.events().len(), 3);
    assert!(page.next_token().is_some());
    let all = all_events(
        &s,
        Some((LookupAttributeKey::EventName, "GetCallerIdentity")),
    )
    .await;
    assert_eq!(all.len(), 7);
    let ids: HashSet<_> = all
        .iter()
        .map(|e| e.event_id().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 7, "pages do not repeat events");
    let future = aws_smithy_types::DateTime::from_secs(
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
    );
    let later = s
        .cloudtrail(&s.admin)
        .lookup_events()
        .start_time(future)
        .send()
        .await
        .unwrap();
    assert!(later.events().is_empty());
}

/// Every `requestID` found in the audit segments.
fn logged_request_ids(data_dir: &Path) -> HashSet<String> {
    let mut ids = HashSet::new();
    for entry in std::fs::read_dir(data_dir.join("audit")).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                collect_ids(&v, &mut ids);
            }
        }
    }
    ids
}

fn collect_ids(v: &serde_json::Value, ids: &mut HashSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(id)) = m.get("requestID") {
                ids.insert(id.clone());
            }
            m.values().for_each(|x| collect_ids(x, ids));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_ids(x, ids)),
        _ => {}
    }
}

pub fn verify(data_dir: &Path) -> (bool, String) {
    let out = Command::new(bin())
        .args(["audit", "verify", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn acknowledged_requests_survive_sigkill_and_the_chain_verifies() {
    let mut s = TestServer::start();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut tasks = Vec::new();
    let shared = Arc::new(TestHandle {
        port: s.port,
        admin: s.admin.clone(),
    });
    for _ in 0..16 {
        let acked = acked.clone();
        let h = shared.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop_at + Duration::from_millis(500) {
                match h.call().await {
                    Some(id) => acked.lock().unwrap().push(id),
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    s.kill9();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the load produced only {} acknowledged requests",
        acked.len()
    );
    s.restart();
    // The restarted server appends to the same chain.
    s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    s.kill9();
    let logged = logged_request_ids(&s.data_dir);
    let missing: Vec<_> = acked.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged requests missing from the audit log",
        missing.len(),
        acked.len()
    );
    let (ok, report) = verify(&s.data_dir);
    assert!(ok, "verify failed after crash: {report}");
}

struct TestHandle {
    port: u16,
    admin: Creds,
}

impl TestHandle {
    /// One signed GetCallerIdentity; the request id if it was acknowledged with 200.
    async fn call(&self) -> Option<String> {
        use bytes::Bytes;
        use coffer_wire::sigv4;
        use http_body_util::Full;
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let headers = vec![
            ("host".to_string(), format!("127.0.0.1:{}", self.port)),
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
        ];
        let input = sigv4::SignInput::new(
            "POST",
            "/",
            headers.clone(),
            sigv4::PayloadHash::Bytes(body.as_bytes()),
        );
        let out = sigv4::sign(
            &input,
            &self.admin.signer(),
            "us-east-1",
            "sts",
            time::OffsetDateTime::now_utc(),
        );
        let mut req = http::Request::post(format!("http://127.0.0.1:{}/", self.port));
        for (k, v) in headers.iter().chain(out.headers.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let resp = tokio::time::timeout(
            Duration::from_secs(5),
            client.request(req.body(Full::new(Bytes::from(body))).ok()?),
        )
        .await
        .ok()?
        .ok()?;
        if resp.status() != 200 {
            return None;
        }
        let id = resp
            .headers()
            .get("x-amzn-requestid")?
            .to_str()
            .ok()?
            .to_string();
        // Acknowledged means the whole response arrived.
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .ok()?;
        Some(id)
    }
}

#[tokio::test]
async fn editing_one_byte_of_the_log_fails_verification_at_that_record() {
    let mut s = TestServer::start();
    for _ in 0..5 {
        s.sts(&s.admin).get_caller_identity().send().await.unwrap();
    }
    s.kill9();
    let (ok, report) = verify(&s.data_dir);
    assert!(ok, "{report}");
    let seg = first_segment(&s.data_dir);
    let text = std::fs::read_to_string(&seg).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() >= 4,
        "expected several records, got {}",
        lines.len()
    );
    // Change one character of the third record's event name.
    let target = lines[2];
    let pos = target
        .find("GetCallerIdentity")
        .expect("event name in record")
        + 3;
    let offset: usize = lines[..2].iter().map(|l| l.len() + 1).sum::<usize>() + pos;
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[offset] = if bytes[offset] == b'X' { b'Y' } else { b'X' };
    std::fs::write(&seg, &bytes).unwrap();
    let (ok, report) = verify(&s.data_dir);
    assert!(!ok, "verification passed on an edited log: {report}");
    assert!(
        report.contains("line 3"),
        "the report should name the edited record (line 3): {report}"
    );
}

fn first_segment(data_dir: &Path) -> std::path::PathBuf {
    let mut segs: Vec<_> = std::fs::read_dir(data_dir.join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .map(|t| t.contains("GetCallerIdentity"))
                .unwrap_or(false)
        })
        .collect();
    segs.sort();
    segs.into_iter().next().expect("an audit segment")
}
