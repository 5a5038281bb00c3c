//! Pins: behaviours AWS clients depend on that no other test asserted. The HTTP status
//! that comes with each error code (the SDKs' retry and error handling read it), the
//! messages AWS documents, both sides of documented limits, the response members clients
//! read, the AWS managed keys that Secrets Manager and Parameter Store create on first use,
//! `kms:ViaService`, and the KMS records (`invokedBy`) a service's calls leave in the trail.
//!
//! Every client here has retries off, so each refusal is asserted on the first answer
//! (the SDKs retry `LimitExceededException` and 5xx answers by themselves).

use crate::kit::{Creds, REGION, TestServer};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeyManagerType, KeyState};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType};
use serde_json::Value;

fn sm(s: &TestServer, c: &Creds) -> aws_sdk_secretsmanager::Client {
    let conf = crate::secrets::sm(s, c)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

fn ssm(s: &TestServer, c: &Creds) -> aws_sdk_ssm::Client {
    let conf = s
        .ssm(c)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_ssm::Client::from_conf(conf)
}

fn kms(s: &TestServer, c: &Creds) -> aws_sdk_kms::Client {
    let conf = s
        .kms(c)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}

/// The error code, HTTP status and message of a call that must fail.
fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    r: Result<T, SdkError<E>>,
) -> (String, u16, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            let code = e.code().unwrap_or("<none>").to_owned();
            (code, status, e.message().unwrap_or("").to_owned())
        }
    }
}

/// The error code and HTTP status of a call that must fail.
fn refused_as<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    r: Result<T, SdkError<E>>,
) -> (String, u16) {
    let (code, status, _) = refused(r);
    (code, status)
}

fn pair(code: &str) -> (String, u16) {
    (code.to_owned(), 400)
}

// ---------------------------------------------------------------------------------------
// Secrets Manager
// ---------------------------------------------------------------------------------------

/// Every Secrets Manager client error is an HTTP 400 (AWS's Common Errors and each
/// operation's Errors list say so), with the documented message where AWS gives one.
#[tokio::test]
async fn secrets_manager_errors_are_400_with_their_documented_messages() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let k = kms(&s, &s.admin);
    c.create_secret()
        .name("p")
        .secret_string("v")
        .send()
        .await
        .unwrap();

    let got = refused(c.get_secret_value().secret_id("missing").send().await);
    assert_eq!(
        got,
        (
            "ResourceNotFoundException".into(),
            400,
            "Secrets Manager can't find the specified secret.".into()
        )
    );
    let got = refused(
        c.create_secret()
            .name("p")
            .secret_string("again")
            .send()
            .await,
    );
    assert_eq!(
        got,
        (
            "ResourceExistsException".into(),
            400,
            "The operation failed because the secret p already exists.".into()
        )
    );
    let got = refused_as(
        c.create_secret()
            .name("both")
            .secret_string("a")
            .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(b"b".to_vec()))
            .send()
            .await,
    );
    assert_eq!(got, pair("InvalidParameterException"));
    let got = refused(c.list_secrets().next_token("bogus").send().await);
    assert_eq!(
        got,
        (
            "InvalidNextTokenException".into(),
            400,
            "The NextToken value is invalid.".into()
        )
    );
    let got = refused_as(
        c.put_resource_policy()
            .secret_id("p")
            .resource_policy("{not json")
            .send()
            .await,
    );
    assert_eq!(got, pair("MalformedPolicyDocumentException"));
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let got = refused_as(
        c.put_resource_policy()
            .secret_id("p")
            .resource_policy(public)
            .block_public_policy(true)
            .send()
            .await,
    );
    assert_eq!(got, pair("PublicPolicyException"));
    let got = refused_as(c.create_secret().name("x".repeat(513)).send().await);
    assert_eq!(got, pair("ValidationException"));

    // Refused for lack of permission: 400 as well, not 403.
    let (reader, _) = crate::authz::user_with_policy(&s, "reader", None).await;
    let got = refused_as(
        sm(&s, &reader)
            .get_secret_value()
            .secret_id("p")
            .send()
            .await,
    );
    assert_eq!(got, pair("AccessDeniedException"));

    // KMS failures as Secrets Manager reports them.
    let key = crate::kms::symmetric(&k).await;
    c.create_secret()
        .name("k")
        .kms_key_id(&key)
        .secret_string("a")
        .send()
        .await
        .unwrap();
    k.disable_key().key_id(&key).send().await.unwrap();
    let got = refused(c.get_secret_value().secret_id("k").send().await);
    assert_eq!(
        got,
        (
            "DecryptionFailure".into(),
            400,
            "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
                .into()
        )
    );
    let got = refused_as(
        c.put_secret_value()
            .secret_id("k")
            .secret_string("b")
            .send()
            .await,
    );
    assert_eq!(got, pair("KMSInvalidStateException"));
    let got = refused_as(
        c.create_secret()
            .name("nokey")
            .kms_key_id("alias/does-not-exist")
            .secret_string("x")
            .send()
            .await,
    );
    assert_eq!(got, pair("EncryptionFailure"));

    // A secret scheduled for deletion.
    c.delete_secret().secret_id("p").send().await.unwrap();
    let got = refused(c.get_secret_value().secret_id("p").send().await);
    assert_eq!(
        got,
        (
            "InvalidRequestException".into(),
            400,
            "You can't perform this operation on the secret because it was marked for deletion."
                .into()
        )
    );
}

/// Both sides of the documented limits: value 65,536 bytes (string and binary), name 512
/// characters, description 2,048, recovery window 7 to 30 days, MaxResults ranges,
/// BatchGetSecretValue's 20 ids, GetRandomPassword's 4,096 characters.
#[tokio::test]
async fn secrets_manager_limits_on_both_sides() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let bad = pair("ValidationException");
    let name512 = "n".repeat(512);
    c.create_secret()
        .name(&name512)
        .description("d".repeat(2048))
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_secret()
        .secret_id(&name512)
        .send()
        .await
        .unwrap();
    assert_eq!(d.name(), Some(name512.as_str()));
    assert_eq!(
        refused_as(
            c.update_secret()
                .secret_id(&name512)
                .description("d".repeat(2049))
                .send()
                .await
        ),
        bad
    );
    let blob = |n: usize| aws_sdk_secretsmanager::primitives::Blob::new(vec![7u8; n]);
    c.create_secret()
        .name("bin")
        .secret_binary(blob(65_536))
        .send()
        .await
        .unwrap();
    let v = c.get_secret_value().secret_id("bin").send().await.unwrap();
    assert_eq!(v.secret_binary().unwrap().as_ref().len(), 65_536);
    assert_eq!(
        refused_as(
            c.put_secret_value()
                .secret_id("bin")
                .secret_binary(blob(65_537))
                .send()
                .await
        ),
        bad
    );
    assert_eq!(
        refused_as(
            c.create_secret()
                .name("big")
                .secret_string("x".repeat(65_537))
                .send()
                .await
        ),
        bad
    );
    assert_eq!(
        refused_as(c.describe_secret().secret_id("big").send().await),
        pair("ResourceNotFoundException"),
        "a refused create stores nothing"
    );

    // Recovery window: 7 and 30 are accepted, with a DeletionDate that far ahead.
    for (name, days) in [("w7", 7i64), ("w30", 30)] {
        c.create_secret()
            .name(name)
            .secret_string("v")
            .send()
            .await
            .unwrap();
        let out = c
            .delete_secret()
            .secret_id(name)
            .recovery_window_in_days(days)
            .send()
            .await
            .unwrap();
        assert_eq!(out.name(), Some(name));
        assert!(out.arn().unwrap().contains(&format!(":secret:{name}-")));
        let ahead = out.deletion_date().unwrap().secs() - s.now().unix_timestamp();
        assert!((ahead - days * 86_400).abs() < 120, "{name}: {ahead}");
        let r = c.restore_secret().secret_id(name).send().await.unwrap();
        assert_eq!(r.name(), Some(name));
        assert_eq!(r.arn(), out.arn());
    }
    for days in [6, 31] {
        let got = refused(
            c.delete_secret()
                .secret_id("w7")
                .recovery_window_in_days(days)
                .send()
                .await,
        );
        assert_eq!(
            got,
            (
                "InvalidParameterException".into(),
                400,
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into()
            ),
            "{days}"
        );
    }

    // MaxResults ranges of the model.
    c.list_secrets().max_results(100).send().await.unwrap();
    assert_eq!(
        refused_as(c.list_secrets().max_results(0).send().await),
        bad
    );
    c.list_secret_version_ids()
        .secret_id("w7")
        .max_results(100)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused_as(
            c.list_secret_version_ids()
                .secret_id("w7")
                .max_results(101)
                .send()
                .await
        ),
        bad
    );
    let by_name = Filter::builder()
        .key(FilterNameStringType::Name)
        .values("w")
        .build();
    let b = c
        .batch_get_secret_value()
        .filters(by_name.clone())
        .max_results(20)
        .send()
        .await
        .unwrap();
    assert_eq!(b.secret_values().len(), 2);
    assert_eq!(
        refused_as(
            c.batch_get_secret_value()
                .filters(by_name)
                .max_results(21)
                .send()
                .await
        ),
        bad
    );
    let mut twenty_one = c.batch_get_secret_value();
    for i in 0..21 {
        twenty_one = twenty_one.secret_id_list(format!("id{i}"));
    }
    assert_eq!(refused_as(twenty_one.send().await), bad);

    let p = c
        .get_random_password()
        .password_length(4096)
        .send()
        .await
        .unwrap();
    assert_eq!(p.random_password().unwrap().len(), 4096);
    assert_eq!(
        refused_as(c.get_random_password().password_length(4097).send().await),
        bad
    );
}

/// The members clients read from Secrets Manager's answers.
#[tokio::test]
async fn secrets_manager_response_members() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let created = c
        .create_secret()
        .name("m")
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_owned();
    assert_eq!(created.name(), Some("m"));
    let v1 = created.version_id().unwrap().to_owned();
    assert_eq!(v1.len(), 36, "a UUID: {v1}");

    let got = c.get_secret_value().secret_id("m").send().await.unwrap();
    assert_eq!(got.arn(), Some(arn.as_str()));
    assert_eq!(got.name(), Some("m"));
    assert_eq!(got.version_id(), Some(v1.as_str()));
    assert_eq!(got.version_stages(), ["AWSCURRENT"]);
    assert!(got.created_date().is_some());

    let put = c
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(put.arn(), Some(arn.as_str()));
    assert_eq!(put.name(), Some("m"));
    let v2 = put.version_id().unwrap().to_owned();

    // Under the AWS managed key DescribeSecret has no KmsKeyId; the dates are there.
    let d = c.describe_secret().secret_id("m").send().await.unwrap();
    assert_eq!(d.arn(), Some(arn.as_str()));
    assert!(d.kms_key_id().is_none(), "{:?}", d.kms_key_id());
    assert!(d.created_date().is_some());
    assert!(d.last_changed_date().is_some());
    assert!(d.deleted_date().is_none());
    let stages = d.version_ids_to_stages().unwrap();
    assert_eq!(stages[&v2], ["AWSCURRENT"]);
    assert_eq!(stages[&v1], ["AWSPREVIOUS"]);

    // Each listed version names the key ARN that encrypted it and when it was made.
    let ids = c
        .list_secret_version_ids()
        .secret_id("m")
        .send()
        .await
        .unwrap();
    assert_eq!(ids.arn(), Some(arn.as_str()));
    assert_eq!(ids.name(), Some("m"));
    assert_eq!(ids.versions().len(), 2);
    for v in ids.versions() {
        assert!(v.created_date().is_some());
        let keys = v.kms_key_ids();
        assert_eq!(keys.len(), 1);
        assert!(
            keys[0].starts_with(&format!("arn:aws:kms:{REGION}:{}:key/", s.account)),
            "{keys:?}"
        );
    }

    let moved = c
        .update_secret_version_stage()
        .secret_id("m")
        .version_stage("blue")
        .move_to_version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.arn(), Some(arn.as_str()));
    assert_eq!(moved.name(), Some("m"));
    let listed = c.list_secrets().send().await.unwrap();
    let entry = &listed.secret_list()[0];
    assert_eq!(entry.arn(), Some(arn.as_str()));
    let mut v1_stages = entry.secret_versions_to_stages().unwrap()[&v1].clone();
    v1_stages.sort();
    assert_eq!(v1_stages, ["AWSPREVIOUS", "blue"]);

    // A secret the caller made has no OwningService, so the SDK's `owning-service` filter
    // matches it only negated.
    assert!(d.owning_service().is_none(), "{:?}", d.owning_service());
    for (value, expected) in [("rds", 0), ("!rds", 1)] {
        let listed = c
            .list_secrets()
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::OwningService)
                    .values(value)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            listed.secret_list().len(),
            expected,
            "owning-service {value}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Parameter Store
// ---------------------------------------------------------------------------------------

/// Every Parameter Store client error is an HTTP 400, IncompatiblePolicyException with the
/// message AWS documents for it.
#[tokio::test]
async fn parameter_store_errors_are_400() {
    let s = TestServer::start();
    let p = ssm(&s, &s.admin);
    p.put_parameter()
        .name("/e")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    let put = |name: &str, value: &str| {
        p.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .send()
    };
    assert_eq!(
        refused_as(p.get_parameter().name("/missing").send().await),
        pair("ParameterNotFound")
    );
    assert_eq!(
        refused_as(put("/e", "again").await),
        pair("ParameterAlreadyExists")
    );
    assert_eq!(
        refused_as(p.get_parameter().name("/e:9").send().await),
        pair("ParameterVersionNotFound")
    );
    assert_eq!(
        refused_as(put("/a b", "v").await),
        pair("ValidationException")
    );
    assert_eq!(
        refused_as(put(&"/l".repeat(16), "v").await),
        pair("HierarchyLevelLimitExceededException")
    );
    // Eleven labels in one call break the model's limit; ten more on a labelled version
    // break the service's.
    let labels = |n: usize| {
        let mut req = p.label_parameter_version().name("/e").parameter_version(1);
        for i in 0..n {
            req = req.labels(format!("l{i}"));
        }
        req.send()
    };
    assert_eq!(refused_as(labels(11).await), pair("ValidationException"));
    p.label_parameter_version()
        .name("/e")
        .parameter_version(1)
        .labels("first")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused_as(labels(10).await),
        pair("ParameterVersionLabelLimitExceeded")
    );
    assert_eq!(
        refused_as(
            p.put_parameter()
                .name("/sec")
                .value("v")
                .r#type(ParameterType::SecureString)
                .key_id("alias/missing")
                .send()
                .await
        ),
        pair("InvalidKeyId")
    );
    let filter = |k: &str| {
        ParameterStringFilter::builder()
            .key(k)
            .values("x")
            .build()
            .unwrap()
    };
    assert_eq!(
        refused_as(
            p.describe_parameters()
                .parameter_filters(filter("Label"))
                .send()
                .await
        ),
        pair("InvalidFilterKey")
    );
    assert_eq!(
        refused_as(
            p.get_parameters_by_path()
                .path("/")
                .next_token("%%%")
                .send()
                .await
        ),
        pair("InvalidNextToken")
    );
    assert_eq!(
        refused_as(p.get_service_setting().setting_id("/ssm/nope").send().await),
        pair("ServiceSettingNotFound")
    );
    assert_eq!(
        refused_as(
            p.put_parameter()
                .name("/port")
                .value("http")
                .r#type(ParameterType::String)
                .allowed_pattern("^\\d+$")
                .send()
                .await
        ),
        pair("ParameterPatternMismatchException")
    );
    assert_eq!(
        refused_as(
            p.put_parameter()
                .name("/re")
                .value("x")
                .r#type(ParameterType::String)
                .allowed_pattern("(")
                .send()
                .await
        ),
        pair("InvalidAllowedPatternException")
    );

    // Policies: a type AWS does not have, two of one type, a notification with nothing to
    // notify about.
    let with_policies = |policies: &str| {
        p.put_parameter()
            .name("/pol")
            .value("v")
            .r#type(ParameterType::String)
            .tier(ParameterTier::Advanced)
            .policies(policies)
            .send()
    };
    assert_eq!(
        refused_as(with_policies(r#"[{"Type":"Explode","Version":"1.0","Attributes":{}}]"#).await),
        pair("InvalidPolicyTypeException")
    );
    let expiration = r#"{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2099-01-01T00:00:00Z"}}"#;
    let got = refused(with_policies(&format!("[{expiration},{expiration}]")).await);
    assert_eq!(
        got,
        (
            "IncompatiblePolicyException".into(),
            400,
            "There is a conflict in the policies specified for this parameter. You can't, for example, specify two Expiration policies for a parameter. Review your policies, and try again.".into()
        )
    );
    let notification = r#"[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}}]"#;
    assert_eq!(
        refused_as(with_policies(notification).await),
        pair("IncompatiblePolicyException")
    );
    assert_eq!(
        refused_as(p.get_parameter().name("/pol").send().await),
        pair("ParameterNotFound"),
        "refused policies store nothing"
    );
    with_policies(&format!("[{expiration}]")).await.unwrap();

    let (nobody, _) = crate::authz::user_with_policy(&s, "nobody", None).await;
    assert_eq!(
        refused_as(ssm(&s, &nobody).get_parameter().name("/e").send().await),
        pair("AccessDeniedException")
    );
}

/// Both sides of the documented limits: name 1,011 characters counted with the ARN before
/// it (`arn:aws:ssm:<region>:<account>:parameter`), advanced values 8 KB,
/// MaxResults of GetParametersByPath (10), GetParameterHistory and DescribeParameters
/// (50), and GetParameters' ten names.
#[tokio::test]
async fn parameter_store_limits_on_both_sides() {
    let s = TestServer::start();
    let p = ssm(&s, &s.admin);
    let bad = pair("ValidationException");
    let arn_prefix = format!("arn:aws:ssm:{REGION}:{}:parameter", s.account);
    let long = format!("/{}", "n".repeat(1011 - arn_prefix.len() - 1));
    let r = p
        .put_parameter()
        .name(&long)
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), 1);
    let got = p.get_parameter().name(&long).send().await.unwrap();
    assert_eq!(got.parameter().unwrap().name(), Some(long.as_str()));
    let too_long = format!("{long}n");
    assert_eq!(
        refused_as(
            p.put_parameter()
                .name(&too_long)
                .value("v")
                .r#type(ParameterType::String)
                .send()
                .await
        ),
        bad
    );

    let r = p
        .put_parameter()
        .name("/adv")
        .value("x".repeat(8192))
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    let got = p.get_parameter().name("/adv").send().await.unwrap();
    assert_eq!(got.parameter().unwrap().value().unwrap().len(), 8192);

    p.get_parameters_by_path()
        .path("/")
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused_as(
            p.get_parameters_by_path()
                .path("/")
                .max_results(11)
                .send()
                .await
        ),
        bad
    );
    p.get_parameter_history()
        .name("/adv")
        .max_results(50)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused_as(
            p.get_parameter_history()
                .name("/adv")
                .max_results(51)
                .send()
                .await
        ),
        bad
    );
    p.describe_parameters()
        .max_results(50)
        .send()
        .await
        .unwrap();
    let mut ten = p.get_parameters();
    for i in 0..10 {
        ten = ten.names(format!("/n{i}"));
    }
    assert_eq!(ten.send().await.unwrap().invalid_parameters().len(), 10);
    let mut eleven = p.get_parameters();
    for i in 0..11 {
        eleven = eleven.names(format!("/n{i}"));
    }
    assert_eq!(refused_as(eleven.send().await), bad);
}

/// The members clients read from Parameter Store's answers.
#[tokio::test]
async fn parameter_store_response_members() {
    let s = TestServer::start();
    let p = ssm(&s, &s.admin);
    p.put_parameter()
        .name("/r/one")
        .value("v")
        .r#type(ParameterType::String)
        .description("first")
        .send()
        .await
        .unwrap();
    let got = p.get_parameter().name("/r/one").send().await.unwrap();
    let got = got.parameter().unwrap();
    assert!(got.last_modified_date().is_some());
    let d = p.describe_parameters().send().await.unwrap();
    let meta = &d.parameters()[0];
    assert_eq!(meta.name(), Some("/r/one"));
    assert_eq!(meta.r#type(), Some(&ParameterType::String));
    assert_eq!(meta.version(), 1);
    assert_eq!(meta.tier(), Some(&ParameterTier::Standard));
    assert_eq!(meta.description(), Some("first"));
    assert_eq!(meta.data_type(), Some("text"));
    assert!(meta.last_modified_date().is_some());
    assert_eq!(
        meta.arn(),
        Some(format!("arn:aws:ssm:{REGION}:{}:parameter/r/one", s.account).as_str())
    );
    // LastModifiedUser is the ARN of the caller that made the change.
    let me = s
        .sts(&s.admin)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert_eq!(meta.last_modified_user(), Some(me.as_str()));
    let h = p
        .get_parameter_history()
        .name("/r/one")
        .send()
        .await
        .unwrap();
    assert_eq!(h.parameters()[0].last_modified_user(), Some(me.as_str()));
}

// ---------------------------------------------------------------------------------------
// KMS on the services' behalf
// ---------------------------------------------------------------------------------------

/// The target of an alias in ListAliases, or `None` while it has none.
async fn alias_target(s: &TestServer, k: &aws_sdk_kms::Client, alias: &str) -> Option<String> {
    let l = k.list_aliases().send().await.unwrap();
    let a = l
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(alias))
        .unwrap_or_else(|| panic!("{alias} is not listed"));
    let arn = format!("arn:aws:kms:{REGION}:{}:{alias}", s.account);
    assert_eq!(a.alias_arn(), Some(arn.as_str()));
    a.target_key_id().map(str::to_owned)
}

/// AWS managed keys: ListAliases shows `alias/aws/secretsmanager` and `alias/aws/ssm` with
/// no TargetKeyId until a service first uses them; then each is a key of its own with
/// KeyManager AWS, rotated yearly, usable only through its service, and its key policy
/// keeps the account from disabling, deleting or re-policing it.
#[tokio::test]
async fn aws_managed_keys_are_created_on_first_use() {
    let s = TestServer::start();
    let k = kms(&s, &s.admin);
    assert_eq!(alias_target(&s, &k, "alias/aws/secretsmanager").await, None);
    assert_eq!(alias_target(&s, &k, "alias/aws/ssm").await, None);

    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("one")
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let sm_key = alias_target(&s, &k, "alias/aws/secretsmanager")
        .await
        .expect("created by the first secret");
    assert_eq!(alias_target(&s, &k, "alias/aws/ssm").await, None);
    c.create_secret()
        .name("two")
        .secret_string("v")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alias_target(&s, &k, "alias/aws/secretsmanager")
            .await
            .as_deref(),
        Some(sm_key.as_str()),
        "one managed key per service"
    );
    ssm(&s, &s.admin)
        .put_parameter()
        .name("/s")
        .value("v")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let ssm_key = alias_target(&s, &k, "alias/aws/ssm")
        .await
        .expect("created");
    assert_ne!(ssm_key, sm_key);

    let md = k
        .describe_key()
        .key_id("alias/aws/secretsmanager")
        .send()
        .await
        .unwrap();
    let md = md.key_metadata().unwrap();
    assert_eq!(md.key_id(), sm_key);
    assert_eq!(md.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        md.key_spec(),
        Some(&aws_sdk_kms::types::KeySpec::SymmetricDefault)
    );
    let rot = k
        .get_key_rotation_status()
        .key_id(&sm_key)
        .send()
        .await
        .unwrap();
    assert!(rot.key_rotation_enabled());
    assert_eq!(rot.rotation_period_in_days(), Some(365));

    // Direct use is refused: the policy allows it only with kms:ViaService.
    let direct = k
        .encrypt()
        .key_id("alias/aws/secretsmanager")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(refused_as(direct), pair("AccessDeniedException"));
    assert_eq!(
        refused_as(k.disable_key().key_id(&sm_key).send().await),
        pair("AccessDeniedException")
    );
    assert_eq!(
        refused_as(
            k.schedule_key_deletion()
                .key_id(&sm_key)
                .pending_window_in_days(7)
                .send()
                .await
        ),
        pair("AccessDeniedException")
    );
    assert_eq!(
        refused_as(
            k.put_key_policy()
                .key_id(&sm_key)
                .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
                .send()
                .await
        ),
        pair("AccessDeniedException")
    );
    let md = k.describe_key().key_id(&sm_key).send().await.unwrap();
    assert_eq!(
        md.key_metadata().unwrap().key_state(),
        Some(&KeyState::Enabled)
    );
    // And the secrets still read.
    let v = c.get_secret_value().secret_id("two").send().await.unwrap();
    assert_eq!(v.secret_string(), Some("v"));
}

/// A customer key whose policy allows use only through Secrets Manager in this region
/// (`kms:ViaService`): Secrets Manager can use it, Parameter Store and direct calls cannot.
#[tokio::test]
async fn via_service_lets_only_the_named_service_use_a_key() {
    let s = TestServer::start();
    let k = kms(&s, &s.admin);
    let acct = &s.account;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
            "Condition":{{"StringEquals":{{"kms:CallerAccount":"{acct}","kms:ViaService":"secretsmanager.{REGION}.amazonaws.com"}}}}}},
          {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}}]}}"#
    );
    let key = k
        .create_key()
        .policy(&policy)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("via")
        .kms_key_id(&key)
        .secret_string("through-sm")
        .send()
        .await
        .unwrap();
    let v = c.get_secret_value().secret_id("via").send().await.unwrap();
    assert_eq!(v.secret_string(), Some("through-sm"));

    let p = ssm(&s, &s.admin);
    let got = refused_as(
        p.put_parameter()
            .name("/via")
            .value("v")
            .r#type(ParameterType::SecureString)
            .key_id(&key)
            .send()
            .await,
    );
    assert_eq!(got, pair("AccessDeniedException"));
    assert_eq!(
        refused_as(p.get_parameter().name("/via").send().await),
        pair("ParameterNotFound")
    );
    let direct = k
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(refused_as(direct), pair("AccessDeniedException"));
}

/// DescribeKey on a predefined AWS alias with no key yet creates the AWS managed key and
/// points the alias at it (AWS's DescribeKey reference says so; AWS services and tools such
/// as Terraform's `aws_kms_key` data source rely on it); the service then uses that key.
#[tokio::test]
async fn describe_key_on_a_predefined_alias_creates_the_managed_key() {
    let s = TestServer::start();
    let k = kms(&s, &s.admin);
    assert_eq!(alias_target(&s, &k, "alias/aws/secretsmanager").await, None);
    let alias_arn = format!(
        "arn:aws:kms:{REGION}:{}:alias/aws/secretsmanager",
        s.account
    );
    let md = k.describe_key().key_id(&alias_arn).send().await.unwrap();
    let md = md.key_metadata().unwrap();
    assert_eq!(md.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    let created = md.key_id().to_owned();
    assert_eq!(
        alias_target(&s, &k, "alias/aws/secretsmanager").await,
        Some(created.clone())
    );
    let again = k
        .describe_key()
        .key_id("alias/aws/secretsmanager")
        .send()
        .await
        .unwrap();
    assert_eq!(again.key_metadata().unwrap().key_id(), created);
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("uses-it")
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let ids = c
        .list_secret_version_ids()
        .secret_id("uses-it")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ids.versions()[0].kms_key_ids(),
        [format!("arn:aws:kms:{REGION}:{}:key/{created}", s.account)]
    );
    // Only the predefined aliases: any other alias/aws/ name is simply not found.
    assert_eq!(
        refused_as(k.describe_key().key_id("alias/aws/nothing").send().await),
        pair("NotFoundException")
    );
    let listed = k.list_aliases().send().await.unwrap();
    assert!(
        listed
            .aliases()
            .iter()
            .all(|a| a.alias_name() != Some("alias/aws/nothing"))
    );
}

/// The KMS events of one source, parsed, oldest first.
async fn kms_records(s: &TestServer) -> Vec<Value> {
    let ct = s.cloudtrail(&s.admin);
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = ct
            .lookup_events()
            .max_results(50)
            .set_next_token(token)
            .lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::EventSource)
                    .attribute_value("kms.amazonaws.com")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        for e in page.events() {
            out.push(serde_json::from_str::<Value>(e.cloud_trail_event().unwrap()).unwrap());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            out.reverse();
            return out;
        }
    }
}

/// Each KMS call a service makes for its caller is its own CloudTrail record, as AWS
/// writes them: eventSource kms.amazonaws.com, the caller's identity with `invokedBy` the
/// service, the service's DNS name as sourceIPAddress and userAgent, the key as resource,
/// the service's encryption context, and the error when the call failed.
#[tokio::test]
async fn invoked_kms_calls_are_recorded_as_aws_records_them() {
    let s = TestServer::start();
    let k = kms(&s, &s.admin);
    let me = s
        .sts(&s.admin)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let key = crate::kms::symmetric(&k).await;
    let key_arn = format!("arn:aws:kms:{REGION}:{}:key/{key}", s.account);
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("aud")
        .kms_key_id(&key)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    c.get_secret_value().secret_id("aud").send().await.unwrap();
    let p = ssm(&s, &s.admin);
    p.put_parameter()
        .name("/aud")
        .value("v")
        .r#type(ParameterType::SecureString)
        .key_id(&key)
        .send()
        .await
        .unwrap();
    p.get_parameter()
        .name("/aud")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    k.disable_key().key_id(&key).send().await.unwrap();
    refused_as(c.get_secret_value().secret_id("aud").send().await);

    let records = kms_records(&s).await;
    let invoked = |service: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["userIdentity"]["invokedBy"] == service)
            .collect()
    };
    let sm_calls = invoked("secretsmanager.amazonaws.com");
    let ssm_calls = invoked("ssm.amazonaws.com");
    assert!(!sm_calls.is_empty() && !ssm_calls.is_empty());
    for (service, calls) in [
        ("secretsmanager.amazonaws.com", &sm_calls),
        ("ssm.amazonaws.com", &ssm_calls),
    ] {
        for r in calls.iter() {
            assert_eq!(r["eventSource"], "kms.amazonaws.com", "{r}");
            assert_eq!(r["sourceIPAddress"], service, "{r}");
            assert_eq!(r["userAgent"], service, "{r}");
            assert_eq!(r["userIdentity"]["arn"], me.as_str(), "{r}");
            assert_eq!(r["awsRegion"], REGION, "{r}");
            assert_eq!(r["recipientAccountId"], s.account.as_str(), "{r}");
            assert_eq!(r["eventType"], "AwsApiCall", "{r}");
            assert_eq!(r["readOnly"], true, "{r}");
        }
    }
    let find = |calls: &[&Value], name: &str| -> Value {
        (*calls
            .iter()
            .find(|r| r["eventName"] == name && r.get("errorCode").is_none())
            .unwrap_or_else(|| panic!("no {name} in {calls:?}")))
        .clone()
    };
    let dk = find(&sm_calls, "GenerateDataKey");
    assert_eq!(dk["resources"][0]["ARN"], key_arn.as_str(), "{dk}");
    assert_eq!(dk["resources"][0]["type"], "AWS::KMS::Key", "{dk}");
    let ctx = &dk["requestParameters"]["encryptionContext"];
    assert!(
        ctx["SecretARN"].as_str().unwrap().contains(":secret:aud-"),
        "{dk}"
    );
    assert!(ctx["SecretVersionId"].is_string(), "{dk}");
    find(&sm_calls, "Decrypt");
    // Parameter Store's context is the parameter's ARN.
    let param_arn = format!("arn:aws:ssm:{REGION}:{}:parameter/aud", s.account);
    for name in ["Encrypt", "Decrypt"] {
        let r = find(&ssm_calls, name);
        assert_eq!(
            r["requestParameters"]["encryptionContext"]["PARAMETER_ARN"],
            param_arn.as_str(),
            "{r}"
        );
        assert_eq!(r["resources"][0]["ARN"], key_arn.as_str(), "{r}");
    }
    // The read under the disabled key: KMS's own refusal is in its record.
    let failed = sm_calls
        .iter()
        .find(|r| r.get("errorCode").is_some())
        .expect("the refused Decrypt is recorded");
    assert_eq!(failed["eventName"], "Decrypt");
    assert_eq!(failed["errorCode"], "DisabledException");
}

/// The KMS key cache: a state change is seen by the very next use of the key, directly and
/// through the services.
#[tokio::test]
async fn key_state_changes_apply_to_the_next_use_at_once() {
    let s = TestServer::start();
    let k = kms(&s, &s.admin);
    let key = crate::kms::symmetric(&k).await;
    let encrypt = || {
        k.encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("cached")
        .kms_key_id(&key)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    for _ in 0..3 {
        encrypt().await.unwrap();
        c.get_secret_value()
            .secret_id("cached")
            .send()
            .await
            .unwrap();
    }
    k.disable_key().key_id(&key).send().await.unwrap();
    assert_eq!(refused_as(encrypt().await), pair("DisabledException"));
    assert_eq!(
        refused_as(c.get_secret_value().secret_id("cached").send().await),
        pair("DecryptionFailure")
    );
    k.enable_key().key_id(&key).send().await.unwrap();
    encrypt().await.unwrap();
    c.get_secret_value()
        .secret_id("cached")
        .send()
        .await
        .unwrap();
    k.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused_as(encrypt().await),
        pair("KMSInvalidStateException")
    );
    assert_eq!(
        refused_as(
            c.put_secret_value()
                .secret_id("cached")
                .secret_string("w")
                .send()
                .await
        ),
        pair("KMSInvalidStateException")
    );
    k.cancel_key_deletion().key_id(&key).send().await.unwrap();
    // Cancelled deletion leaves the key disabled, as AWS does.
    assert_eq!(refused_as(encrypt().await), pair("DisabledException"));
}
