//! SSM Parameter Store through aws-sdk-ssm: every operation, its errors, SecureString
//! encryption through KMS, policies by the injected clock, and signed webhook events.

use crate::kit::{Creds, TestServer};
use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{
    ParameterStringFilter, ParameterTier, ParameterType, ParametersFilter, ParametersFilterKey,
    ResourceTypeForTagging, Tag,
};

/// The error code and message of a failed call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should have failed");
    (
        e.code().unwrap_or("<none>").to_string(),
        e.message().unwrap_or("").to_string(),
    )
}

async fn put(ssm: &Client, name: &str, value: &str, kind: ParameterType) -> i64 {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .send()
        .await
        .unwrap()
        .version()
}

async fn overwrite(ssm: &Client, name: &str, value: &str) -> i64 {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap()
        .version()
}

async fn value(ssm: &Client, name: &str, decrypt: bool) -> String {
    ssm.get_parameter()
        .name(name)
        .with_decryption(decrypt)
        .send()
        .await
        .unwrap()
        .parameter()
        .unwrap()
        .value()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn put_get_overwrite_versions_and_history() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    let r = ssm
        .put_parameter()
        .name("/app/db/host")
        .value("db1.internal")
        .r#type(ParameterType::String)
        .description("database host")
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), 1);
    assert_eq!(r.tier(), Some(&ParameterTier::Standard));
    let p = ssm
        .get_parameter()
        .name("/app/db/host")
        .send()
        .await
        .unwrap();
    let p = p.parameter().unwrap();
    assert_eq!(p.value(), Some("db1.internal"));
    assert_eq!(p.r#type(), Some(&ParameterType::String));
    assert_eq!(p.version(), 1);
    assert_eq!(p.data_type(), Some("text"));
    assert_eq!(
        p.arn(),
        Some(format!("arn:aws:ssm:us-east-1:{}:parameter/app/db/host", s.account).as_str())
    );
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/app/db/host")
        .value("db2")
        .r#type(ParameterType::String)
        .send()
        .await);
    assert_eq!(code, "ParameterAlreadyExists");
    assert!(msg.contains("set the overwrite option"), "{msg}");
    assert_eq!(overwrite(&ssm, "/app/db/host", "db2.internal").await, 2);
    assert_eq!(value(&ssm, "/app/db/host", false).await, "db2.internal");
    assert_eq!(value(&ssm, "/app/db/host:1", false).await, "db1.internal");
    let sel = ssm
        .get_parameter()
        .name("/app/db/host:1")
        .send()
        .await
        .unwrap();
    assert_eq!(sel.parameter().unwrap().selector(), Some(":1"));
    assert_eq!(sel.parameter().unwrap().name(), Some("/app/db/host"));
    let (code, msg) = err(ssm.get_parameter().name("/app/db/host:7").send().await);
    assert_eq!(code, "ParameterVersionNotFound");
    assert!(msg.contains("version 7 of /app/db/host"), "{msg}");
    assert_eq!(
        err(ssm.get_parameter().name("/app/nope").send().await).0,
        "ParameterNotFound"
    );
    // By ARN, with a selector too; another account's ARN names nothing here.
    let arn = format!("arn:aws:ssm:us-east-1:{}:parameter/app/db/host", s.account);
    assert_eq!(value(&ssm, &arn, false).await, "db2.internal");
    assert_eq!(
        value(&ssm, &format!("{arn}:1"), false).await,
        "db1.internal"
    );
    let by_arn = ssm.get_parameter_history().name(&arn).send().await.unwrap();
    assert_eq!(by_arn.parameters().len(), 2);
    let other = "arn:aws:ssm:us-east-1:999999999999:parameter/app/db/host";
    assert_eq!(
        err(ssm.get_parameter().name(other).send().await).0,
        "ParameterNotFound"
    );
    // GetParameters lists its results alphabetically.
    put(&ssm, "/app/a", "first", ParameterType::String).await;
    let g = ssm
        .get_parameters()
        .names("/app/db/host")
        .names("/app/a")
        .send()
        .await
        .unwrap();
    let order: Vec<&str> = g.parameters().iter().map(|p| p.name().unwrap()).collect();
    assert_eq!(order, ["/app/a", "/app/db/host"]);
    // Tags cannot come with an overwrite; a type is needed to create.
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/app/db/host")
        .value("x")
        .overwrite(true)
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(
        msg.contains("tags and overwrite can't be used together"),
        "{msg}"
    );
    assert_eq!(
        err(ssm.put_parameter().name("/new").value("x").send().await).0,
        "ValidationException"
    );
    // History: both versions, the description kept across the overwrite.
    let h = ssm
        .get_parameter_history()
        .name("/app/db/host")
        .send()
        .await
        .unwrap();
    let versions: Vec<(i64, &str)> = h
        .parameters()
        .iter()
        .map(|v| (v.version(), v.value().unwrap()))
        .collect();
    assert_eq!(versions, vec![(1, "db1.internal"), (2, "db2.internal")]);
    assert_eq!(h.parameters()[1].description(), Some("database host"));
    let page = ssm
        .get_parameter_history()
        .name("/app/db/host")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.parameters().len(), 1);
    let next = ssm
        .get_parameter_history()
        .name("/app/db/host")
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.parameters()[0].version(), 2);
    assert!(next.next_token().is_none());
    // StringList values are kept as given.
    put(&ssm, "/app/hosts", "a,b,c", ParameterType::StringList).await;
    assert_eq!(value(&ssm, "/app/hosts", false).await, "a,b,c");
    // Delete.
    ssm.delete_parameter()
        .name("/app/hosts")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err(ssm.delete_parameter().name("/app/hosts").send().await).0,
        "ParameterNotFound"
    );
    assert_eq!(
        err(ssm.get_parameter().name("/app/hosts").send().await).0,
        "ParameterNotFound"
    );
}

#[tokio::test]
async fn names_and_hierarchies() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    for bad in ["/aws/x", "awsthing", "/SSM/x", "/a b", "/a//b", "/a/b$"] {
        let (code, msg) = err(ssm
            .put_parameter()
            .name(bad)
            .value("v")
            .r#type(ParameterType::String)
            .send()
            .await);
        assert_eq!(code, "ValidationException", "{bad}");
        assert!(msg.contains("can't be prefixed with"), "{bad}: {msg}");
    }
    let (code, msg) = err(ssm
        .put_parameter()
        .name("a/b")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ValidationException",
            "Parameter name must be a fully qualified name."
        )
    );
    let deep = "/l".repeat(16);
    assert_eq!(
        err(ssm
            .put_parameter()
            .name(&deep)
            .value("v")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "HierarchyLevelLimitExceededException"
    );
    put(&ssm, &"/l".repeat(15), "v", ParameterType::String).await;
    // Spaces around a name are removed.
    put(&ssm, " /trim/me ", "v", ParameterType::String).await;
    assert_eq!(value(&ssm, "/trim/me", false).await, "v");
    // The model's checks come first.
    assert_eq!(
        err(ssm.get_parameter().name("").send().await).0,
        "ValidationException"
    );
}

#[tokio::test]
async fn secure_strings_encrypt_through_kms() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    let kms = s.kms(&s.admin);
    put(
        &ssm,
        "/sec/default",
        "hunter2-secret",
        ParameterType::SecureString,
    )
    .await;
    let opaque = value(&ssm, "/sec/default", false).await;
    assert_ne!(opaque, "hunter2-secret");
    assert!(!opaque.contains("hunter2"));
    assert_eq!(value(&ssm, "/sec/default", true).await, "hunter2-secret");
    // The AWS managed key was created and is what DescribeParameters reports.
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(
        aliases
            .aliases()
            .iter()
            .any(|a| a.alias_name() == Some("alias/aws/ssm"))
    );
    let d = ssm.describe_parameters().send().await.unwrap();
    assert_eq!(d.parameters()[0].key_id(), Some("alias/aws/ssm"));
    // A customer key by alias, then by ARN; the advanced tier uses envelope encryption.
    let key = kms.create_key().send().await.unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    kms.create_alias()
        .alias_name("alias/params")
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    ssm.put_parameter()
        .name("/sec/custom")
        .value("custom-secret")
        .r#type(ParameterType::SecureString)
        .key_id("alias/params")
        .send()
        .await
        .unwrap();
    assert_eq!(value(&ssm, "/sec/custom", true).await, "custom-secret");
    let big = "s".repeat(6000);
    let r = ssm
        .put_parameter()
        .name("/sec/big")
        .value(&big)
        .r#type(ParameterType::SecureString)
        .key_id(&key_arn)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(value(&ssm, "/sec/big", true).await, big);
    assert_ne!(value(&ssm, "/sec/big", false).await, big);
    // 4 KB of UTF-8 fits the standard tier, and KMS Encrypt's limit with it.
    let wide = "é".repeat(2048);
    put(&ssm, "/wide", &wide, ParameterType::SecureString).await;
    assert_eq!(value(&ssm, "/wide", true).await, wide);
    assert_eq!(
        err(ssm
            .put_parameter()
            .name("/wider")
            .value("é".repeat(2049))
            .r#type(ParameterType::SecureString)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    // GetParametersByPath decrypts too.
    let by = ssm
        .get_parameters_by_path()
        .path("/sec")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let mut vals: Vec<&str> = by.parameters().iter().map(|p| p.value().unwrap()).collect();
    vals.sort();
    assert_eq!(vals, vec!["custom-secret", "hunter2-secret", big.as_str()]);
    // A key that does not exist, and a KeyId on a plain String.
    let (code, _) = err(ssm
        .put_parameter()
        .name("/sec/bad")
        .value("x")
        .r#type(ParameterType::SecureString)
        .key_id("alias/missing")
        .send()
        .await);
    assert_eq!(code, "InvalidKeyId");
    assert_eq!(
        err(ssm.get_parameter().name("/sec/bad").send().await).0,
        "ParameterNotFound",
        "a failed put stores nothing"
    );
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/plain")
        .value("x")
        .r#type(ParameterType::String)
        .key_id("alias/params")
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("SecureString"), "{msg}");
    // A disabled key stops decryption, not the opaque read.
    kms.disable_key().key_id(&key_id).send().await.unwrap();
    let (code, _) = err(ssm
        .get_parameter()
        .name("/sec/custom")
        .with_decryption(true)
        .send()
        .await);
    assert_eq!(code, "InvalidKeyId");
    ssm.get_parameter()
        .name("/sec/custom")
        .send()
        .await
        .unwrap();
    // Each KMS call was recorded, invoked by SSM.
    let ct = s.cloudtrail(&s.admin);
    let events = ct.lookup_events().send().await.unwrap();
    let invoked: Vec<&str> = events
        .events()
        .iter()
        .filter(|e| {
            e.cloud_trail_event()
                .unwrap_or("")
                .contains("\"invokedBy\":\"ssm.amazonaws.com\"")
        })
        .map(|e| e.event_name().unwrap_or(""))
        .collect();
    assert!(invoked.contains(&"Encrypt"), "{invoked:?}");
    assert!(invoked.contains(&"Decrypt"), "{invoked:?}");
    assert!(invoked.contains(&"GenerateDataKey"), "{invoked:?}");
    let trail: String = events
        .events()
        .iter()
        .map(|e| e.cloud_trail_event().unwrap_or(""))
        .collect();
    assert!(!trail.contains("hunter2-secret") && !trail.contains("custom-secret"));
}

#[tokio::test]
async fn tiers_sizes_and_the_default_tier_setting() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/big")
        .value("x".repeat(4097))
        .r#type(ParameterType::String)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("maximum parameter value of 4096"), "{msg}");
    put(&ssm, "/fits", &"x".repeat(4096), ParameterType::String).await;
    let r = ssm
        .put_parameter()
        .name("/big")
        .value("x".repeat(5000))
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    let r = ssm
        .put_parameter()
        .name("/small")
        .value("x")
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Standard));
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/big")
        .value("y")
        .overwrite(true)
        .tier(ParameterTier::Standard)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("can't downgrade"), "{msg}");
    // Without a tier, an advanced parameter stays advanced.
    let r = ssm
        .put_parameter()
        .name("/big")
        .value("short now")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(
        err(ssm
            .put_parameter()
            .name("/huge")
            .value("x".repeat(8193))
            .r#type(ParameterType::String)
            .tier(ParameterTier::Advanced)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    // The default tier setting.
    let id = "/ssm/parameter-store/default-parameter-tier";
    let g = ssm
        .get_service_setting()
        .setting_id(id)
        .send()
        .await
        .unwrap();
    let st = g.service_setting().unwrap();
    assert_eq!(st.setting_value(), Some("Standard"));
    assert_eq!(st.status(), Some("Default"));
    ssm.update_service_setting()
        .setting_id(id)
        .setting_value("Advanced")
        .send()
        .await
        .unwrap();
    let g = ssm
        .get_service_setting()
        .setting_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(g.service_setting().unwrap().status(), Some("Customized"));
    let r = ssm
        .put_parameter()
        .name("/adv-default")
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(
        err(ssm
            .update_service_setting()
            .setting_id(id)
            .setting_value("Premium")
            .send()
            .await)
        .0,
        "ValidationException"
    );
    let reset = ssm
        .reset_service_setting()
        .setting_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        reset.service_setting().unwrap().setting_value(),
        Some("Standard")
    );
    let ht = "/ssm/parameter-store/high-throughput-enabled";
    let g = ssm
        .get_service_setting()
        .setting_id(ht)
        .send()
        .await
        .unwrap();
    assert_eq!(g.service_setting().unwrap().setting_value(), Some("false"));
    assert_eq!(
        err(ssm
            .get_service_setting()
            .setting_id("/ssm/nope")
            .send()
            .await)
        .0,
        "ServiceSettingNotFound"
    );
}

#[tokio::test]
async fn allowed_pattern_and_data_types() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    ssm.put_parameter()
        .name("/port")
        .value("8080")
        .r#type(ParameterType::String)
        .allowed_pattern("^\\d+$")
        .send()
        .await
        .unwrap();
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/port")
        .value("http")
        .overwrite(true)
        .send()
        .await);
    assert_eq!(code, "ParameterPatternMismatchException");
    assert!(msg.contains("^\\d+$"), "{msg}");
    assert_eq!(value(&ssm, "/port", false).await, "8080", "nothing changed");
    assert_eq!(
        err(ssm
            .put_parameter()
            .name("/re")
            .value("x")
            .r#type(ParameterType::String)
            .allowed_pattern("(")
            .send()
            .await)
        .0,
        "InvalidAllowedPatternException"
    );
    ssm.put_parameter()
        .name("/ami")
        .value("ami-1234567890abcdef0")
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .send()
        .await
        .unwrap();
    let p = ssm.get_parameter().name("/ami").send().await.unwrap();
    assert_eq!(p.parameter().unwrap().data_type(), Some("aws:ec2:image"));
    for (v, dt) in [("ami-xyz", "aws:ec2:image"), ("x", "Text"), ("x", "json")] {
        assert_eq!(
            err(ssm
                .put_parameter()
                .name("/dt")
                .value(v)
                .r#type(ParameterType::String)
                .data_type(dt)
                .send()
                .await)
            .0,
            "ValidationException",
            "{v} {dt}"
        );
    }
}

#[tokio::test]
async fn labels_move_limit_and_select() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    put(&ssm, "/svc/url", "v1", ParameterType::String).await;
    overwrite(&ssm, "/svc/url", "v2").await;
    let r = ssm
        .label_parameter_version()
        .name("/svc/url")
        .parameter_version(1)
        .labels("prod")
        .labels("1bad")
        .labels("awsx")
        .send()
        .await
        .unwrap();
    assert_eq!(r.parameter_version(), 1);
    assert_eq!(r.invalid_labels(), ["1bad", "awsx"]);
    assert_eq!(value(&ssm, "/svc/url:prod", false).await, "v1");
    let sel = ssm
        .get_parameter()
        .name("/svc/url:prod")
        .send()
        .await
        .unwrap();
    assert_eq!(sel.parameter().unwrap().selector(), Some(":prod"));
    // Labelling without a version labels the latest, moving the label.
    ssm.label_parameter_version()
        .name("/svc/url")
        .labels("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(value(&ssm, "/svc/url:prod", false).await, "v2");
    let h = ssm
        .get_parameter_history()
        .name("/svc/url")
        .send()
        .await
        .unwrap();
    assert!(h.parameters()[0].labels().is_empty());
    assert_eq!(h.parameters()[1].labels(), ["prod"]);
    // Ten labels per version at most.
    let mut req = ssm
        .label_parameter_version()
        .name("/svc/url")
        .parameter_version(2);
    for i in 0..10 {
        req = req.labels(format!("l{i}"));
    }
    let (code, _) = err(req.send().await);
    assert_eq!(code, "ParameterVersionLabelLimitExceeded");
    assert_eq!(
        err(ssm
            .label_parameter_version()
            .name("/svc/url")
            .parameter_version(9)
            .labels("x")
            .send()
            .await)
        .0,
        "ParameterVersionNotFound"
    );
    assert_eq!(
        err(ssm.get_parameter().name("/svc/url:nolabel").send().await).0,
        "ParameterNotFound"
    );
    // GetParameters with selectors and unknown names.
    let g = ssm
        .get_parameters()
        .names("/svc/url:prod")
        .names("/svc/url:1")
        .names("/missing")
        .names("/svc/url:5")
        .send()
        .await
        .unwrap();
    let got: Vec<&str> = g.parameters().iter().map(|p| p.value().unwrap()).collect();
    assert_eq!(got, vec!["v2", "v1"]);
    assert_eq!(g.invalid_parameters(), ["/missing", "/svc/url:5"]);
    // Unlabel.
    let u = ssm
        .unlabel_parameter_version()
        .name("/svc/url")
        .parameter_version(2)
        .labels("prod")
        .labels("never")
        .send()
        .await
        .unwrap();
    assert_eq!(u.removed_labels(), ["prod"]);
    assert_eq!(u.invalid_labels(), ["never"]);
    assert_eq!(
        err(ssm.get_parameter().name("/svc/url:prod").send().await).0,
        "ParameterNotFound"
    );
}

#[tokio::test]
async fn hundred_versions_and_the_labelled_oldest() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    put(&ssm, "/v", "0", ParameterType::String).await;
    for i in 1..100 {
        overwrite(&ssm, "/v", &i.to_string()).await;
    }
    ssm.label_parameter_version()
        .name("/v")
        .parameter_version(1)
        .labels("keep")
        .send()
        .await
        .unwrap();
    let (code, msg) = err(ssm
        .put_parameter()
        .name("/v")
        .value("100")
        .overwrite(true)
        .send()
        .await);
    assert_eq!(code, "ParameterMaxVersionLimitExceeded");
    assert!(msg.contains("Version 1, the oldest version"), "{msg}");
    ssm.label_parameter_version()
        .name("/v")
        .parameter_version(50)
        .labels("keep")
        .send()
        .await
        .unwrap();
    assert_eq!(overwrite(&ssm, "/v", "100").await, 101);
    assert_eq!(
        err(ssm.get_parameter().name("/v:1").send().await).0,
        "ParameterVersionNotFound"
    );
    assert_eq!(value(&ssm, "/v:2", false).await, "1");
    let mut n = 0;
    let mut token = None;
    loop {
        let h = ssm
            .get_parameter_history()
            .name("/v")
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        n += h.parameters().len();
        token = h.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(n, 100);
}

#[tokio::test]
async fn by_path_describe_filters_and_paging() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    for n in ["/a/x", "/a/y", "/a/b/z", "/a/b/c/w", "/ab/q", "plain"] {
        put(&ssm, n, n, ParameterType::String).await;
    }
    put(&ssm, "/a/s", "secret", ParameterType::SecureString).await;
    let names = |ps: &[aws_sdk_ssm::types::Parameter]| {
        let mut v: Vec<String> = ps.iter().map(|p| p.name().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let one = ssm
        .get_parameters_by_path()
        .path("/a")
        .send()
        .await
        .unwrap();
    assert_eq!(names(one.parameters()), ["/a/s", "/a/x", "/a/y"]);
    let all = ssm
        .get_parameters_by_path()
        .path("/a/")
        .recursive(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(all.parameters()),
        ["/a/b/c/w", "/a/b/z", "/a/s", "/a/x", "/a/y"]
    );
    let secure = ssm
        .get_parameters_by_path()
        .path("/a")
        .recursive(true)
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Type")
                .values("SecureString")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(secure.parameters()), ["/a/s"]);
    assert_ne!(secure.parameters()[0].value(), Some("secret"));
    let (code, _) = err(ssm
        .get_parameters_by_path()
        .path("/a")
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Name")
                .values("x")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(code, "InvalidFilterKey");
    assert_eq!(
        err(ssm.get_parameters_by_path().path("a").send().await).0,
        "ValidationException"
    );
    // Paging: two at a time over five.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let r = ssm
            .get_parameters_by_path()
            .path("/a")
            .recursive(true)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(r.parameters().len() <= 2);
        seen.extend(names(r.parameters()));
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 5);
    assert_eq!(
        err(ssm
            .get_parameters_by_path()
            .path("/a")
            .next_token("%%%")
            .send()
            .await)
        .0,
        "InvalidNextToken"
    );
    // DescribeParameters: options, keys, legacy filters, paging.
    let filter = |k: &str, o: Option<&str>, v: &[&str]| {
        let mut b = ParameterStringFilter::builder()
            .key(k)
            .set_option(o.map(str::to_string));
        for x in v {
            b = b.values(*x);
        }
        b.build().unwrap()
    };
    let meta_names = |r: &aws_sdk_ssm::operation::describe_parameters::DescribeParametersOutput| {
        let mut v: Vec<String> = r
            .parameters()
            .iter()
            .map(|p| p.name().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let d = ssm
        .describe_parameters()
        .parameter_filters(filter("Name", Some("BeginsWith"), &["/a/b"]))
        .send()
        .await
        .unwrap();
    assert_eq!(meta_names(&d), ["/a/b/c/w", "/a/b/z"]);
    let d = ssm
        .describe_parameters()
        .parameter_filters(filter("Name", Some("Contains"), &["lai"]))
        .send()
        .await
        .unwrap();
    assert_eq!(meta_names(&d), ["plain"]);
    let d = ssm
        .describe_parameters()
        .parameter_filters(filter("Path", Some("Recursive"), &["/a/b"]))
        .send()
        .await
        .unwrap();
    assert_eq!(meta_names(&d), ["/a/b/c/w", "/a/b/z"]);
    let d = ssm
        .describe_parameters()
        .parameter_filters(filter("Type", None, &["SecureString"]))
        .send()
        .await
        .unwrap();
    assert_eq!(meta_names(&d), ["/a/s"]);
    assert_eq!(d.parameters()[0].key_id(), Some("alias/aws/ssm"));
    let d = ssm
        .describe_parameters()
        .parameter_filters(filter("Tier", None, &["Standard"]))
        .parameter_filters(filter("DataType", None, &["text"]))
        .send()
        .await
        .unwrap();
    assert_eq!(d.parameters().len(), 7);
    let d = ssm
        .describe_parameters()
        .filters(
            ParametersFilter::builder()
                .key(ParametersFilterKey::Name)
                .values("/ab")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(meta_names(&d), ["/ab/q"]);
    let errs = [
        (filter("Label", None, &["x"]), "InvalidFilterKey"),
        (
            filter("Type", Some("Contains"), &["String"]),
            "InvalidFilterOption",
        ),
        (filter("Type", None, &["Number"]), "InvalidFilterValue"),
        (filter("Path", Some("Deep"), &["/a"]), "InvalidFilterOption"),
    ];
    for (f, want) in errs {
        let (code, _) = err(ssm.describe_parameters().parameter_filters(f).send().await);
        assert_eq!(code, want);
    }
    let (code, msg) = err(ssm
        .describe_parameters()
        .parameter_filters(filter("Type", None, &["String"]))
        .filters(
            ParametersFilter::builder()
                .key(ParametersFilterKey::Type)
                .values("String")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("either Filters or ParameterFilters"), "{msg}");
    assert_eq!(
        err(ssm.describe_parameters().max_results(51).send().await).0,
        "ValidationException"
    );
    let shared = ssm.describe_parameters().shared(true).send().await.unwrap();
    assert!(
        shared.parameters().is_empty(),
        "nothing is shared with the caller"
    );
    let page = ssm
        .describe_parameters()
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.parameters().len(), 3);
    let rest = ssm
        .describe_parameters()
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.parameters().len(), 4);
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn tags_and_delete_parameters() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    ssm.put_parameter()
        .name("/t/one")
        .value("1")
        .r#type(ParameterType::String)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    put(&ssm, "/t/two", "2", ParameterType::String).await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    ssm.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t/one")
        .tags(tag("team", "core"))
        .tags(tag("env", "staging"))
        .send()
        .await
        .unwrap();
    let l = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t/one")
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(&str, &str)> = l.tag_list().iter().map(|t| (t.key(), t.value())).collect();
    tags.sort();
    assert_eq!(tags, [("env", "staging"), ("team", "core")]);
    let d = ssm
        .describe_parameters()
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("tag:team")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(d.parameters().len(), 1);
    ssm.remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t/one")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let l = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t/one")
        .send()
        .await
        .unwrap();
    assert_eq!(l.tag_list().len(), 1);
    let mut many = ssm
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t/two");
    for i in 0..51 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(err(many.send().await).0, "TooManyTagsError");
    assert_eq!(
        err(ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id("/t/none")
            .send()
            .await)
        .0,
        "InvalidResourceId"
    );
    assert_eq!(
        err(ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id("doc")
            .send()
            .await)
        .0,
        "InvalidResourceType"
    );
    let del = ssm
        .delete_parameters()
        .names("/t/one")
        .names("/t/missing")
        .names("/t/two")
        .send()
        .await
        .unwrap();
    assert_eq!(del.deleted_parameters(), ["/t/one", "/t/two"]);
    assert_eq!(del.invalid_parameters(), ["/t/missing"]);
    assert!(
        ssm.describe_parameters()
            .send()
            .await
            .unwrap()
            .parameters()
            .is_empty()
    );
}

#[tokio::test]
async fn identity_policies_authorize_each_parameter() {
    let s = TestServer::start();
    let admin = s.ssm(&s.admin);
    put(&admin, "/app/a", "a", ParameterType::String).await;
    put(&admin, "/other/b", "b", ParameterType::String).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:us-east-1:{}:parameter/app/*"}}]}}"#,
        s.account
    );
    let (reader, _): (Creds, String) =
        crate::authz::user_with_policy(&s, "reader", Some(&policy)).await;
    let ssm = s.ssm(&reader);
    assert_eq!(value(&ssm, "/app/a", false).await, "a");
    let (code, msg) = err(ssm.get_parameter().name("/other/b").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        msg.contains("ssm:GetParameter") && msg.contains("parameter/other/b"),
        "{msg}"
    );
    assert_eq!(
        err(ssm
            .put_parameter()
            .name("/app/new")
            .value("x")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "AccessDeniedException"
    );
    assert_eq!(
        err(ssm
            .get_parameters()
            .names("/app/a")
            .names("/other/b")
            .send()
            .await)
        .0,
        "AccessDeniedException"
    );
    assert_eq!(
        err(ssm.describe_parameters().send().await).0,
        "AccessDeniedException"
    );
    // DeleteParameters refused for one name deletes none.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ssm:DeleteParameters","Resource":"arn:aws:ssm:us-east-1:{}:parameter/app/*"}}]}}"#,
        s.account
    );
    let (deleter, _) = crate::authz::user_with_policy(&s, "deleter", Some(&policy)).await;
    let (code, _) = err(s
        .ssm(&deleter)
        .delete_parameters()
        .names("/app/a")
        .names("/other/b")
        .send()
        .await);
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        value(&admin, "/app/a", false).await,
        "a",
        "nothing was deleted"
    );
}

#[tokio::test]
async fn secrets_manager_references() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    let name = "/aws/reference/secretsmanager/app-secret";
    let (code, msg) = err(ssm.get_parameter().name(name).send().await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("WithDecryption"), "{msg}");
    let get = |n: &str| {
        ssm.get_parameter()
            .name(n.to_owned())
            .with_decryption(true)
            .send()
    };
    let (code, _) = err(get(name).await);
    assert_eq!(code, "ParameterNotFound");
    // A real secret, read through Parameter Store: current, by stage, by version id.
    let sm = crate::secrets::sm(&s, &s.admin);
    let created = sm
        .create_secret()
        .name("app-secret")
        .secret_string("v1-value")
        .send()
        .await
        .unwrap();
    let v1 = created.version_id().unwrap().to_owned();
    sm.put_secret_value()
        .secret_id("app-secret")
        .secret_string("v2-value")
        .send()
        .await
        .unwrap();
    let p = get(name).await.unwrap().parameter.unwrap();
    assert_eq!(p.value(), Some("v2-value"));
    assert_eq!(p.r#type(), Some(&ParameterType::SecureString));
    assert_eq!(p.arn(), created.arn());
    assert!(p.source_result().unwrap().contains("\"AWSCURRENT\""));
    let prev = get(&format!("{name}:AWSPREVIOUS")).await.unwrap();
    let prev = prev.parameter.unwrap();
    assert_eq!(prev.value(), Some("v1-value"));
    assert_eq!(prev.selector(), Some(":AWSPREVIOUS"));
    let by_id = get(&format!("{name}:{v1}")).await.unwrap();
    assert_eq!(by_id.parameter.unwrap().value(), Some("v1-value"));
    let (code, _) = err(get(&format!("{name}:NOSUCHSTAGE")).await);
    assert_eq!(code, "ParameterNotFound");
    // The secret's own authorization applies: a user without GetSecretValue is refused.
    let (reader, _) = crate::authz::user_with_policy(
        &s,
        "ssm-only",
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]}"#),
    )
    .await;
    let (code, _) = err(s
        .ssm(&reader)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await);
    assert_eq!(code, "AccessDeniedException");
}

/// A webhook receiver: every request's headers and body, answered with 200.
async fn receiver() -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<(http::HeaderMap, String)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-request");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut headers = http::HeaderMap::new();
                for line in head.lines().skip(1) {
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(
                            http::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                            v.trim().parse().unwrap(),
                        );
                    }
                }
                let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                sock.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await
                .unwrap();
                let _ = tx.send((headers, body));
            });
        }
    });
    (port, rx)
}

/// The next event the webhook receives, its signature checked against `secret`.
async fn next_event(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(http::HeaderMap, String)>,
    secret: &str,
) -> serde_json::Value {
    let (headers, body) = tokio::time::timeout(std::time::Duration::from_secs(15), rx.recv())
        .await
        .expect("no event delivered")
        .unwrap();
    let ts = headers["x-coffer-timestamp"].to_str().unwrap();
    let sig = headers["x-coffer-signature"].to_str().unwrap();
    let mut msg = ts.as_bytes().to_vec();
    msg.push(b'.');
    msg.extend_from_slice(body.as_bytes());
    let want = format!(
        "sha256={}",
        coffer_crypto::hmac_sha256(secret.as_bytes(), &msg)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(sig, want, "signature over timestamp.body");
    let forged = coffer_crypto::hmac_sha256(b"other", &msg);
    assert_ne!(sig.as_bytes(), forged.as_slice());
    serde_json::from_str(&body).unwrap()
}

async fn policy_statuses(ssm: &Client, name: &str) -> Vec<(String, String)> {
    let d = ssm
        .describe_parameters()
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Name")
                .values(name)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    match d.parameters().first() {
        Some(p) => p
            .policies()
            .iter()
            .map(|p| {
                (
                    p.policy_type().unwrap().to_string(),
                    p.policy_status().unwrap().to_string(),
                )
            })
            .collect(),
        None => Vec::new(),
    }
}

/// Polls until `f` holds (the scheduler runs on a one-second tick).
async fn eventually<F: AsyncFn() -> bool>(f: F) {
    for _ in 0..30 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("condition not reached");
}

#[tokio::test]
async fn policies_act_by_the_clock_and_events_reach_signed_webhooks() {
    let (port, mut rx) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("coffer.toml");
    // A second webhook nobody listens on: failed deliveries must not fail requests.
    std::fs::write(
        &config,
        format!(
            "[[events.webhooks]]\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"whsec-1\"\nsource = \"aws.ssm\"\n\n[[events.webhooks]]\nurl = \"http://127.0.0.1:9/dead\"\nsecret = \"x\"\n"
        ),
    )
    .unwrap();
    let s = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    let ssm = s.ssm(&s.admin);
    let fmt = |d: time::Duration| {
        (s.now() + d)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let policies = format!(
        r#"[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{}"}}}},
            {{"Type":"ExpirationNotification","Version":"1.0","Attributes":{{"Before":"2","Unit":"Days"}}}},
            {{"Type":"NoChangeNotification","Version":"1.0","Attributes":{{"After":"12","Unit":"Hours"}}}}]"#,
        fmt(time::Duration::days(3))
    );
    let r = ssm
        .put_parameter()
        .name("/exp/p")
        .value("short-lived")
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .policies(&policies)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.tier(),
        Some(&ParameterTier::Advanced),
        "policies need Advanced"
    );
    let ev = next_event(&mut rx, "whsec-1").await;
    assert_eq!(ev["detail-type"], "Parameter Store Change");
    assert_eq!(ev["source"], "aws.ssm");
    assert_eq!(ev["account"], s.account.as_str());
    assert_eq!(ev["region"], "us-east-1");
    assert_eq!(ev["detail"]["operation"], "Create");
    assert_eq!(ev["detail"]["name"], "/exp/p");
    assert_eq!(ev["detail"]["type"], "String");
    assert_eq!(
        ev["resources"][0],
        format!("arn:aws:ssm:us-east-1:{}:parameter/exp/p", s.account).as_str()
    );
    assert!(ev["detail"].to_string().find("short-lived").is_none());
    let statuses = policy_statuses(&ssm, "/exp/p").await;
    assert_eq!(statuses.len(), 3);
    assert!(
        statuses.iter().all(|(_, st)| st == "Pending"),
        "{statuses:?}"
    );

    s.advance(13 * 3600).await;
    let ev = next_event(&mut rx, "whsec-1").await;
    assert_eq!(ev["detail-type"], "Parameter Store Policy Action");
    assert_eq!(ev["detail"]["policy-type"], "NoChangeNotification");
    assert_eq!(ev["detail"]["parameter-name"], "/exp/p");
    eventually(async || {
        policy_statuses(&ssm, "/exp/p")
            .await
            .contains(&("NoChangeNotification".into(), "Finished".into()))
    })
    .await;

    s.advance(12 * 3600).await;
    let ev = next_event(&mut rx, "whsec-1").await;
    assert_eq!(ev["detail"]["policy-type"], "ExpirationNotification");
    assert_eq!(value(&ssm, "/exp/p", false).await, "short-lived");

    s.advance(2 * 86400).await;
    let ev = next_event(&mut rx, "whsec-1").await;
    assert_eq!(ev["detail"]["policy-type"], "Expiration");
    let ev = next_event(&mut rx, "whsec-1").await;
    assert_eq!(ev["detail-type"], "Parameter Store Change");
    assert_eq!(ev["detail"]["operation"], "Delete");
    assert_eq!(
        err(ssm.get_parameter().name("/exp/p").send().await).0,
        "ParameterNotFound"
    );

    // Labelling and deleting are events too.
    put(&ssm, "/ev/x", "1", ParameterType::String).await;
    assert_eq!(
        next_event(&mut rx, "whsec-1").await["detail"]["operation"],
        "Create"
    );
    overwrite(&ssm, "/ev/x", "2").await;
    assert_eq!(
        next_event(&mut rx, "whsec-1").await["detail"]["operation"],
        "Update"
    );
    ssm.label_parameter_version()
        .name("/ev/x")
        .labels("l")
        .send()
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut rx, "whsec-1").await["detail"]["operation"],
        "LabelParameterVersion"
    );
    ssm.delete_parameter().name("/ev/x").send().await.unwrap();
    assert_eq!(
        next_event(&mut rx, "whsec-1").await["detail"]["operation"],
        "Delete"
    );

    // The audit trail holds the service events too.
    let ct = s.cloudtrail(&s.admin);
    let events = ct.lookup_events().max_results(50).send().await.unwrap();
    assert!(
        events.events().iter().any(|e| e
            .cloud_trail_event()
            .unwrap_or("")
            .contains("\"eventType\":\"AwsServiceEvent\"")),
        "no AwsServiceEvent in the trail"
    );
    // Service events join the hash chain like every other record.
    let mut s = s;
    s.kill9();
    let (ok, report) = crate::audit::verify(&s.data_dir);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn policy_validation() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    let try_put = |policies: String, tier: ParameterTier| {
        ssm.put_parameter()
            .name("/pol")
            .value("v")
            .r#type(ParameterType::String)
            .tier(tier)
            .policies(policies)
            .send()
    };
    let cases = [
        (
            r#"[{"Type":"Explode","Version":"1.0","Attributes":{}}]"#.to_string(),
            "InvalidPolicyTypeException",
        ),
        (
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2001-01-01T00:00:00Z"}}]"#.to_string(),
            "InvalidPolicyAttributeException",
        ),
        (
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"x","Unit":"Days"}}]"#.to_string(),
            "InvalidPolicyAttributeException",
        ),
        (
            format!(
                "[{}]",
                [r#"{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Days"}}"#; 11].join(",")
            ),
            "PoliciesLimitExceededException",
        ),
    ];
    for (p, want) in cases {
        assert_eq!(err(try_put(p, ParameterTier::Advanced).await).0, want);
    }
    let ok = r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Days"}}]"#;
    assert_eq!(
        err(try_put(ok.into(), ParameterTier::Standard).await).0,
        "ValidationException"
    );
    try_put(ok.into(), ParameterTier::Advanced).await.unwrap();
    let statuses = policy_statuses(&ssm, "/pol").await;
    assert_eq!(
        statuses,
        [("NoChangeNotification".into(), "Pending".into())]
    );
}

/// The event queue is durable: an event whose webhook was down when the server was killed
/// (SIGKILL, nothing flushed on the way out) is delivered after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_events_survive_a_restart() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[[events.webhooks]]\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"whsec-2\"\nsource = \"aws.ssm\"\n"
        ),
    )
    .unwrap();
    let mut s = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    s.ssm(&s.admin)
        .put_parameter()
        .name("/durable/p")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    // Nobody listens on the webhook's port yet: the first attempt fails. Kill at once,
    // well before the retries (0.5 s, 1 s, 2 s apart) run out.
    s.kill9();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    s.restart();
    let request = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed mid-request");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(i) = text.find("\r\n\r\n") {
                let len: usize = text[..i]
                    .to_lowercase()
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= i + 4 + len {
                    sock.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await
                    .unwrap();
                    return text;
                }
            }
        }
    })
    .await
    .expect("the queued event was not delivered after the restart");
    assert!(
        request.to_lowercase().contains("x-coffer-event-id:"),
        "{request}"
    );
    assert!(request.contains("Parameter Store Change"), "{request}");
    assert!(request.contains("/durable/p"), "{request}");
}

/// Rules from AWS's references that a review against them found missing: the name limit
/// counts the ARN, reads refuse names with spaces inside, values may not nest parameters,
/// tags have one value per key and at most 50, and tag filters take BeginsWith.
#[tokio::test]
async fn reference_rules_for_names_values_and_tags() {
    let s = TestServer::start();
    let ssm = s.ssm(&s.admin);
    // `arn:aws:ssm:<region>:<account>:parameter` comes before the name and counts.
    let prefix = format!("arn:aws:ssm:{}:{}:parameter", crate::kit::REGION, s.account);
    let longest = format!("/{}", "n".repeat(1011 - prefix.len() - 1));
    put(&ssm, &longest, "v", ParameterType::String).await;
    let (code, _) = err(ssm
        .put_parameter()
        .name(format!("{longest}n"))
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await);
    assert_eq!(code, "ValidationException");

    for name in ["/sp/ a", "sp b"] {
        let (code, _) = err(ssm.get_parameter().name(name).send().await);
        assert_eq!(code, "ValidationException", "{name}");
        let (code, _) = err(ssm.get_parameters().names("/ok").names(name).send().await);
        assert_eq!(code, "ValidationException", "{name}");
        let (code, _) = err(ssm.get_parameter_history().name(name).send().await);
        assert_eq!(code, "ValidationException", "{name}");
        let (code, _) = err(ssm
            .label_parameter_version()
            .name(name)
            .labels("l")
            .send()
            .await);
        assert_eq!(code, "ValidationException", "{name}");
        let (code, _) = err(ssm
            .unlabel_parameter_version()
            .name(name)
            .parameter_version(1)
            .labels("l")
            .send()
            .await);
        assert_eq!(code, "ValidationException", "{name}");
    }
    let (code, _) = err(ssm.get_parameters_by_path().path("/sp/ a").send().await);
    assert_eq!(code, "ValidationException");

    for nested in ["{{ssm:/a}}", "x {{y}} z"] {
        let (code, msg) = err(ssm
            .put_parameter()
            .name("/nest")
            .value(nested)
            .r#type(ParameterType::SecureString)
            .send()
            .await);
        assert_eq!(code, "ValidationException");
        assert!(msg.contains("can't nest another parameter"), "{msg}");
    }
    put(&ssm, "/nest", "{ not nested }}", ParameterType::String).await;

    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    ssm.put_parameter()
        .name("/tagged")
        .value("v")
        .r#type(ParameterType::String)
        .tags(tag("env", "dev"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let listed = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/tagged")
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = listed
        .tag_list()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(pairs, [("env", "prod")]);
    let mut many = ssm
        .put_parameter()
        .name("/many")
        .value("v")
        .r#type(ParameterType::String);
    for i in 0..51 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(err(many.send().await).0, "TooManyTagsError");
    assert_eq!(
        err(ssm.get_parameter().name("/many").send().await).0,
        "ParameterNotFound"
    );

    let found = ssm
        .describe_parameters()
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("tag:env")
                .option("BeginsWith")
                .values("pr")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = found.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["/tagged"]);
}
