//! Secrets Manager through `aws-sdk-secretsmanager`: versions and staging labels, name
//! resolution, deletion windows, resource policies, replication, passwords, rotation
//! through a webhook, and AWS's errors for bad input.

use crate::authz::user_with_policy;
use crate::kit::{Creds, REGION, TestServer, code};
use crate::kms_matrix::{OTHER_ACCOUNT, create_other_account};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, ReplicaRegionType, Tag};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

const DAY: u64 = 86_400;

pub(crate) fn sm(s: &TestServer, c: &Creds) -> Client {
    sm_in(s, c, REGION)
}

pub(crate) fn sm_in(s: &TestServer, c: &Creds, region: &str) -> Client {
    let creds = aws_credential_types::Credentials::new(
        &c.akid,
        &c.secret,
        c.token.clone(),
        None,
        "coffer-test",
    );
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new(
            region.to_owned(),
        ))
        .endpoint_url(&s.endpoint)
        .credentials_provider(creds)
        .build();
    Client::from_conf(conf)
}

fn msg<E: aws_sdk_secretsmanager::error::ProvideErrorMetadata>(e: &E) -> String {
    e.message().unwrap_or("").to_owned()
}

async fn current(c: &Client, id: &str) -> String {
    c.get_secret_value()
        .secret_id(id)
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_owned()
}

const T1: &str = "11111111-1111-1111-1111-111111111111";
const T2: &str = "22222222-2222-2222-2222-222222222222";
const T3: &str = "33333333-3333-3333-3333-333333333333";

#[tokio::test]
async fn versions_labels_and_idempotency() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let out = c
        .create_secret()
        .name("app/db")
        .secret_string("v1")
        .client_request_token(T1)
        .send()
        .await
        .unwrap();
    let arn = out.arn().unwrap().to_owned();
    assert_eq!(out.version_id(), Some(T1));
    let prefix = format!(
        "arn:aws:secretsmanager:{REGION}:{}:secret:app/db-",
        s.account
    );
    assert!(arn.starts_with(&prefix), "{arn}");
    assert_eq!(arn.len(), prefix.len() + 6);
    // A retried CreateSecret (same token and value) answers as the first did.
    let again = c
        .create_secret()
        .name("app/db")
        .secret_string("v1")
        .client_request_token(T1)
        .send()
        .await
        .unwrap();
    assert_eq!(again.arn(), Some(arn.as_str()));
    let e = c
        .create_secret()
        .name("app/db")
        .secret_string("other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceExistsException");
    assert_eq!(
        msg(&e),
        "The operation failed because the secret app/db already exists."
    );

    let put = c
        .put_secret_value()
        .secret_id("app/db")
        .secret_string("v2")
        .client_request_token(T2)
        .send()
        .await
        .unwrap();
    assert_eq!(put.version_stages(), ["AWSCURRENT"]);
    assert_eq!(current(&c, "app/db").await, "v2");
    let prev = c
        .get_secret_value()
        .secret_id("app/db")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.secret_string(), Some("v1"));
    assert_eq!(prev.version_id(), Some(T1));
    let by_id = c
        .get_secret_value()
        .secret_id("app/db")
        .version_id(T2)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.secret_string(), Some("v2"));
    assert_eq!(by_id.version_stages(), ["AWSCURRENT"]);

    // Same token, same value: nothing changes. Same token, other value: refused.
    c.put_secret_value()
        .secret_id("app/db")
        .secret_string("v2")
        .client_request_token(T2)
        .send()
        .await
        .unwrap();
    let e = c
        .put_secret_value()
        .secret_id("app/db")
        .secret_string("v2-changed")
        .client_request_token(T2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceExistsException");
    assert_eq!(
        msg(&e),
        "You can't modify an existing version, you can only create a new version."
    );
    assert_eq!(current(&c, "app/db").await, "v2");

    // A third version: v1 loses AWSPREVIOUS and becomes deprecated (hidden by default).
    c.put_secret_value()
        .secret_id("app/db")
        .secret_string("v3")
        .client_request_token(T3)
        .send()
        .await
        .unwrap();
    let ids = c
        .list_secret_version_ids()
        .secret_id("app/db")
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = ids
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(listed, [T3, T2]);
    let all = c
        .list_secret_version_ids()
        .secret_id("app/db")
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), 3);
    let dep = all
        .versions()
        .iter()
        .find(|v| v.version_id() == Some(T1))
        .unwrap();
    assert!(dep.version_stages().is_empty());
    // A deprecated version stays readable by id.
    let old = c
        .get_secret_value()
        .secret_id("app/db")
        .version_id(T1)
        .send()
        .await
        .unwrap();
    assert_eq!(old.secret_string(), Some("v1"));
    // A label nobody carries, and a version id that does not exist.
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .version_stage("AWSPENDING")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .version_id("99999999-9999-9999-9999-999999999999")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .version_id(T1)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");

    // Describe shows only labelled versions.
    let d = c
        .describe_secret()
        .secret_id("app/db")
        .send()
        .await
        .unwrap();
    let stages = d.version_ids_to_stages().unwrap();
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[T3], ["AWSCURRENT"]);
    assert_eq!(stages[T2], ["AWSPREVIOUS"]);
}

#[tokio::test]
async fn values_binary_limits_and_bad_input() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let bytes: Vec<u8> = (0..=255u8).collect();
    c.create_secret()
        .name("bin")
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let v = c.get_secret_value().secret_id("bin").send().await.unwrap();
    assert_eq!(v.secret_binary().unwrap().as_ref(), bytes.as_slice());
    assert!(v.secret_string().is_none());

    let e = c
        .create_secret()
        .name("both")
        .secret_string("a")
        .secret_binary(Blob::new(b"b".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c
        .create_secret()
        .name("bad name!")
        .secret_string("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    // 65,536 bytes is the limit.
    c.create_secret()
        .name("big")
        .secret_string("x".repeat(65_536))
        .send()
        .await
        .unwrap();
    let e = c
        .put_secret_value()
        .secret_id("big")
        .secret_string("x".repeat(65_537))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = c
        .create_secret()
        .name("x".repeat(513))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = c
        .get_secret_value()
        .secret_id("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(msg(&e), "Secrets Manager can't find the specified secret.");
    // A secret without a value has no AWSCURRENT yet.
    c.create_secret().name("empty").send().await.unwrap();
    let e = c
        .get_secret_value()
        .secret_id("empty")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = c
        .put_secret_value()
        .secret_id("empty")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c
        .create_secret()
        .name("tagged")
        .tags(Tag::builder().key("aws:reserved").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
}

#[tokio::test]
async fn names_resolve_by_name_full_and_partial_arn() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let arn = c
        .create_secret()
        .name("svc/key-ab")
        .secret_string("x")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let partial = arn[..arn.len() - 7].to_owned();
    for id in ["svc/key-ab", arn.as_str(), partial.as_str()] {
        assert_eq!(current(&c, id).await, "x", "{id}");
    }
    // Deleted and re-created: the old full ARN names nothing, the name the new secret.
    c.delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let arn2 = c
        .create_secret()
        .name("svc/key-ab")
        .secret_string("y")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert_ne!(arn, arn2);
    let e = c
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(current(&c, "svc/key-ab").await, "y");
    assert_eq!(current(&c, &arn2).await, "y");
    // An ARN that names no secret: another service's, or this secret's without its
    // partition. Both read as "no such secret", not as a name.
    let kms_arn = arn2.replacen(":secretsmanager:", ":kms:", 1);
    let no_partition = arn2.replacen("arn:aws:", "arn::", 1);
    for id in [kms_arn.as_str(), no_partition.as_str()] {
        let e = c.get_secret_value().secret_id(id).send().await.unwrap_err();
        assert_eq!(code(&e), "ResourceNotFoundException", "{id}");
    }
}

#[tokio::test]
async fn staging_labels_compare_and_swap() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("l")
        .secret_string("a")
        .client_request_token(T1)
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id("l")
        .secret_string("b")
        .client_request_token(T2)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(current(&c, "l").await, "a");
    // AWSCURRENT is on T1: moving it needs RemoveFromVersionId = T1.
    let e = c
        .update_secret_version_stage()
        .secret_id("l")
        .version_stage("AWSCURRENT")
        .move_to_version_id(T2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c
        .update_secret_version_stage()
        .secret_id("l")
        .version_stage("AWSCURRENT")
        .move_to_version_id(T2)
        .remove_from_version_id(T2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    c.update_secret_version_stage()
        .secret_id("l")
        .version_stage("AWSCURRENT")
        .move_to_version_id(T2)
        .remove_from_version_id(T1)
        .send()
        .await
        .unwrap();
    assert_eq!(current(&c, "l").await, "b");
    let prev = c
        .get_secret_value()
        .secret_id("l")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.version_id(), Some(T1));
    // Custom labels move and can be removed; AWSCURRENT cannot be removed.
    c.update_secret_version_stage()
        .secret_id("l")
        .version_stage("blue")
        .move_to_version_id(T1)
        .send()
        .await
        .unwrap();
    let blue = c
        .get_secret_value()
        .secret_id("l")
        .version_stage("blue")
        .send()
        .await
        .unwrap();
    assert_eq!(blue.secret_string(), Some("a"));
    c.update_secret_version_stage()
        .secret_id("l")
        .version_stage("blue")
        .remove_from_version_id(T1)
        .send()
        .await
        .unwrap();
    let e = c
        .get_secret_value()
        .secret_id("l")
        .version_stage("blue")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = c
        .update_secret_version_stage()
        .secret_id("l")
        .version_stage("AWSCURRENT")
        .remove_from_version_id(T2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    assert_eq!(current(&c, "l").await, "b");
}

#[tokio::test]
async fn deletion_windows_restore_and_purge() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("d")
        .secret_string("x")
        .send()
        .await
        .unwrap();
    for (days, ok) in [(6, false), (31, false)] {
        let e = c
            .delete_secret()
            .secret_id("d")
            .recovery_window_in_days(days)
            .send()
            .await;
        assert_eq!(e.is_ok(), ok);
        assert_eq!(code(&e.unwrap_err()), "InvalidParameterException");
    }
    let e = c
        .delete_secret()
        .secret_id("d")
        .recovery_window_in_days(7)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let out = c.delete_secret().secret_id("d").send().await.unwrap();
    let when = out.deletion_date().unwrap().secs();
    let now = s.now().unix_timestamp();
    assert!(
        (when - now - 30 * DAY as i64).abs() < 120,
        "default window is 30 days"
    );
    let e = c
        .get_secret_value()
        .secret_id("d")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    assert_eq!(
        msg(&e),
        "You can't perform this operation on the secret because it was marked for deletion."
    );
    let e = c
        .put_secret_value()
        .secret_id("d")
        .secret_string("y")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .create_secret()
        .name("d")
        .secret_string("z")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c.delete_secret().secret_id("d").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    // Describe still works and shows DeletedDate; ListSecrets hides it unless asked.
    let d = c.describe_secret().secret_id("d").send().await.unwrap();
    assert!(d.deleted_date().is_some());
    let l = c.list_secrets().send().await.unwrap();
    assert!(l.secret_list().is_empty());
    let l = c
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    assert_eq!(l.secret_list().len(), 1);
    c.restore_secret().secret_id("d").send().await.unwrap();
    assert_eq!(current(&c, "d").await, "x");

    // A 7-day window ends: the scheduler purges record and versions.
    c.delete_secret()
        .secret_id("d")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    s.advance(7 * DAY + 120).await;
    let mut gone = false;
    for _ in 0..100 {
        let e = c.describe_secret().secret_id("d").send().await;
        if let Err(e) = e {
            assert_eq!(code(&e), "ResourceNotFoundException");
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(gone, "secret not purged after its recovery window");
    // The name is free again.
    c.create_secret()
        .name("d")
        .secret_string("new")
        .send()
        .await
        .unwrap();
    assert_eq!(current(&c, "d").await, "new");
}

#[tokio::test]
async fn list_filters_sort_and_paging() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    for (name, desc, tag) in [
        ("prod/db", "Production DB", "prod"),
        ("prod/api", "production API key", "prod"),
        ("dev/db", "dev database", "dev"),
    ] {
        c.create_secret()
            .name(name)
            .description(desc)
            .tags(Tag::builder().key("env").value(tag).build())
            .secret_string("v")
            .send()
            .await
            .unwrap();
    }
    let names = |l: &aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput| {
        l.secret_list()
            .iter()
            .map(|e| e.name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let f = |k: FilterNameStringType, v: &str| Filter::builder().key(k).values(v).build();
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, "prod/"))
        .sort_by(aws_sdk_secretsmanager::types::SortByType::Name)
        .sort_order(aws_sdk_secretsmanager::types::SortOrderType::Asc)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&l), ["prod/api", "prod/db"]);
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, "!prod/"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&l), ["dev/db"]);
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::Description, "PRODUCTION"))
        .filters(f(FilterNameStringType::Name, "!prod/api"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&l), ["prod/db"]);
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::TagValue, "dev"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&l), ["dev/db"]);
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::TagKey, "env"))
        .filters(f(FilterNameStringType::All, "database"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&l), ["dev/db"]);
    let l = c
        .list_secrets()
        .filters(f(FilterNameStringType::PrimaryRegion, REGION))
        .send()
        .await
        .unwrap();
    assert_eq!(l.secret_list().len(), 3);
    // Default order: newest first; pages of two.
    let p1 = c.list_secrets().max_results(2).send().await.unwrap();
    assert_eq!(names(&p1), ["dev/db", "prod/api"]);
    let p2 = c
        .list_secrets()
        .max_results(2)
        .next_token(p1.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(&p2), ["prod/db"]);
    assert!(p2.next_token().is_none());
    let e = c
        .list_secrets()
        .next_token("bogus")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidNextTokenException");
    let e = c.list_secrets().max_results(101).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");

    // BatchGetSecretValue by list (a missing one is an entry in Errors) and by filter.
    let b = c
        .batch_get_secret_value()
        .secret_id_list("prod/db")
        .secret_id_list("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(b.secret_values().len(), 1);
    assert_eq!(b.secret_values()[0].name(), Some("prod/db"));
    assert_eq!(
        b.errors()[0].error_code(),
        Some("ResourceNotFoundException")
    );
    let b = c
        .batch_get_secret_value()
        .filters(f(FilterNameStringType::Name, "prod/"))
        .send()
        .await
        .unwrap();
    assert_eq!(b.secret_values().len(), 2);
    let e = c.batch_get_secret_value().send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");

    // Tags and descriptions change through TagResource / UntagResource / UpdateSecret.
    c.tag_resource()
        .secret_id("dev/db")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .secret_id("dev/db")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    c.update_secret()
        .secret_id("dev/db")
        .description("changed")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_secret()
        .secret_id("dev/db")
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags, [("team", "core")]);
    assert_eq!(d.description(), Some("changed"));
}

#[tokio::test]
async fn random_passwords() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let p = c.get_random_password().send().await.unwrap();
    let p = p.random_password().unwrap();
    assert_eq!(p.len(), 32);
    assert!(!p.contains(' '));
    let q = c.get_random_password().send().await.unwrap();
    assert_ne!(Some(p), q.random_password());
    let p = c
        .get_random_password()
        .password_length(50)
        .exclude_punctuation(true)
        .exclude_characters("abcdef")
        .include_space(true)
        .send()
        .await
        .unwrap();
    let p = p.random_password().unwrap();
    assert_eq!(p.len(), 50);
    assert!(p.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == ' '));
    assert!(!p.chars().any(|ch| "abcdef".contains(ch)));
    let e = c
        .get_random_password()
        .exclude_lowercase(true)
        .exclude_uppercase(true)
        .exclude_numbers(true)
        .exclude_punctuation(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c
        .get_random_password()
        .password_length(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn resource_policies_and_identity_policies() {
    let mut s = TestServer::start();
    let other = create_other_account(&mut s);
    let c = sm(&s, &s.admin);
    // The reader may use KMS keys (as AWS requires for reading a secret under a customer
    // key) but has no Secrets Manager permission of its own.
    let kms_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#;
    let (reader, reader_arn) = user_with_policy(&s, "reader", Some(kms_only)).await;
    let r = sm(&s, &reader);
    let kms = s.kms(&s.admin);
    let key = crate::kms::symmetric(&kms).await;
    let arn = c
        .create_secret()
        .name("shared")
        .kms_key_id(&key)
        .secret_string("s3cr3t")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    c.create_secret()
        .name("managed")
        .secret_string("m")
        .send()
        .await
        .unwrap();
    // No identity policy, no resource policy: denied.
    let e = r
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // A resource policy naming the user is enough within the account.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{reader_arn}"}},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}]}}"#
    );
    c.put_resource_policy()
        .secret_id("shared")
        .resource_policy(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(current(&r, &arn).await, "s3cr3t");
    let got = c
        .get_resource_policy()
        .secret_id("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(got.resource_policy(), Some(policy.as_str()));
    // An explicit deny wins.
    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{reader_arn}"}},"Action":"secretsmanager:GetSecretValue","Resource":"*"}},{{"Effect":"Deny","Principal":{{"AWS":"{reader_arn}"}},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}]}}"#
    );
    c.put_resource_policy()
        .secret_id("shared")
        .resource_policy(&deny)
        .send()
        .await
        .unwrap();
    let e = r
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // Public policies are refused by default (BlockPublicPolicy) and reported by Validate.
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let e = c
        .put_resource_policy()
        .secret_id("shared")
        .resource_policy(public)
        .block_public_policy(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PublicPolicyException");
    let v = c
        .validate_resource_policy()
        .resource_policy(public)
        .send()
        .await
        .unwrap();
    assert!(!v.policy_validation_passed());
    let v = c
        .validate_resource_policy()
        .resource_policy(&policy)
        .send()
        .await
        .unwrap();
    assert!(v.policy_validation_passed());
    let e = c
        .put_resource_policy()
        .secret_id("shared")
        .resource_policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedPolicyDocumentException");

    // Cross-account: the resource policy must allow the other account, and the other
    // account's caller needs the KMS key too; the AWS managed key never works across.
    let o = sm(&s, &other);
    let cross = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}]}}"#
    );
    let e = o
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    c.put_resource_policy()
        .secret_id("shared")
        .resource_policy(&cross)
        .send()
        .await
        .unwrap();
    // Allowed by the secret, but the key policy does not let the other account decrypt.
    let e = o
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    assert_eq!(msg(&e), "Access to KMS is not allowed");
    let key_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"kms:*","Resource":"*"}},{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":"kms:Decrypt","Resource":"*"}}]}}"#,
        s.account
    );
    kms.put_key_policy()
        .key_id(&key)
        .policy(key_policy)
        .send()
        .await
        .unwrap();
    assert_eq!(current(&o, &arn).await, "s3cr3t");
    let managed_arn = c
        .describe_secret()
        .secret_id("managed")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    c.put_resource_policy()
        .secret_id("managed")
        .resource_policy(&cross)
        .send()
        .await
        .unwrap();
    let e = o
        .get_secret_value()
        .secret_id(&managed_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    c.delete_resource_policy()
        .secret_id("shared")
        .send()
        .await
        .unwrap();
    let e = o
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    assert!(
        c.get_resource_policy()
            .secret_id("shared")
            .send()
            .await
            .unwrap()
            .resource_policy()
            .is_none()
    );
}

#[tokio::test]
async fn kms_keys_disabled_keys_and_reencryption() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let kms = s.kms(&s.admin);
    let k1 = crate::kms::symmetric(&kms).await;
    let k2 = crate::kms::symmetric(&kms).await;
    c.create_secret()
        .name("k")
        .kms_key_id(&k1)
        .secret_string("a")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id("k")
        .secret_string("b")
        .send()
        .await
        .unwrap();
    kms.disable_key().key_id(&k1).send().await.unwrap();
    let e = c
        .get_secret_value()
        .secret_id("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DecryptionFailure");
    let e = c
        .put_secret_value()
        .secret_id("k")
        .secret_string("c")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KMSInvalidStateException");
    kms.enable_key().key_id(&k1).send().await.unwrap();
    // A new key: labelled versions are re-encrypted under it, so they no longer need k1.
    c.update_secret()
        .secret_id("k")
        .kms_key_id(&k2)
        .send()
        .await
        .unwrap();
    kms.disable_key().key_id(&k1).send().await.unwrap();
    assert_eq!(current(&c, "k").await, "b");
    let prev = c
        .get_secret_value()
        .secret_id("k")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.secret_string(), Some("a"));
    let ids = c
        .list_secret_version_ids()
        .secret_id("k")
        .send()
        .await
        .unwrap();
    let k2_arn = format!("arn:aws:kms:{REGION}:{}:key/{k2}", s.account);
    for v in ids.versions() {
        assert_eq!(v.kms_key_ids(), std::slice::from_ref(&k2_arn));
    }
    let e = c
        .create_secret()
        .name("nokey")
        .kms_key_id("alias/does-not-exist")
        .secret_string("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EncryptionFailure");
}

#[tokio::test]
async fn replication_to_other_regions() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let west = sm_in(&s, &s.admin, "eu-west-1");
    let out = c
        .create_secret()
        .name("rep")
        .secret_string("one")
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap();
    let st = out.replication_status();
    assert_eq!(st[0].region(), Some("eu-west-1"));
    assert_eq!(st[0].status().map(|s| s.as_str()), Some("InSync"));
    assert_eq!(current(&west, "rep").await, "one");
    let d = west
        .describe_secret()
        .secret_id("rep")
        .send()
        .await
        .unwrap();
    assert_eq!(d.primary_region(), Some(REGION));
    assert!(d.arn().unwrap().contains(":eu-west-1:"));
    // Writes go to the primary and reach the replica; the replica refuses writes.
    c.put_secret_value()
        .secret_id("rep")
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(current(&west, "rep").await, "two");
    let e = west
        .put_secret_value()
        .secret_id("rep")
        .secret_string("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c.delete_secret().secret_id("rep").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .replicate_secret_to_regions()
        .secret_id("rep")
        .add_replica_regions(ReplicaRegionType::builder().region(REGION).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    // A second replica, then remove it; then promote the first.
    c.replicate_secret_to_regions()
        .secret_id("rep")
        .add_replica_regions(ReplicaRegionType::builder().region("ap-south-1").build())
        .send()
        .await
        .unwrap();
    let south = sm_in(&s, &s.admin, "ap-south-1");
    assert_eq!(current(&south, "rep").await, "two");
    c.remove_regions_from_replication()
        .secret_id("rep")
        .remove_replica_regions("ap-south-1")
        .send()
        .await
        .unwrap();
    let e = south
        .get_secret_value()
        .secret_id("rep")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    west.stop_replication_to_replica()
        .secret_id("rep")
        .send()
        .await
        .unwrap();
    west.put_secret_value()
        .secret_id("rep")
        .secret_string("west-own")
        .send()
        .await
        .unwrap();
    assert_eq!(current(&west, "rep").await, "west-own");
    assert_eq!(current(&c, "rep").await, "two");
    let d = c.describe_secret().secret_id("rep").send().await.unwrap();
    assert!(d.replication_status().is_empty());
    c.delete_secret()
        .secret_id("rep")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
}

/// A webhook rotation function served by the test: records each step it is sent after
/// checking the signature, and does what a rotation Lambda does through the SDK.
struct Hook {
    steps: Arc<Mutex<Vec<String>>>,
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    coffer_crypto::hmac_sha256(key, msg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A free local port (bound and released; the hook binds it again).
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

async fn serve_hook(
    port: u16,
    client: Client,
    secret: Vec<u8>,
    fail_step: Option<&'static str>,
) -> Hook {
    serve_hook_tls(port, client, secret, fail_step, None).await
}

trait HookStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> HookStream for T {}

/// `serve_hook`, over TLS when `tls` is given; a client that refuses the certificate is
/// recorded as the step `TLS-REFUSED`.
async fn serve_hook_tls(
    port: u16,
    client: Client,
    secret: Vec<u8>,
    fail_step: Option<&'static str>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Hook {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let steps = Arc::new(Mutex::new(Vec::new()));
    let seen = steps.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut sock: Box<dyn HookStream> = match &tls {
                None => Box::new(tcp),
                Some(cfg) => {
                    match tokio_rustls::TlsAcceptor::from(cfg.clone())
                        .accept(tcp)
                        .await
                    {
                        Ok(t) => Box::new(t),
                        Err(_) => {
                            seen.lock().unwrap().push("TLS-REFUSED".to_owned());
                            continue;
                        }
                    }
                }
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let head = text[..i].to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if buf.len() >= i + 4 + len {
                        break (head, buf[i + 4..i + 4 + len].to_vec());
                    }
                }
            };
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            };
            let ts = header("x-coffer-timestamp");
            let mut signed = format!("{ts}.").into_bytes();
            signed.extend_from_slice(&body);
            let good = header("x-coffer-signature") == format!("v1={}", hmac_hex(&secret, &signed));
            let ev: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let step = ev["Step"].as_str().unwrap().to_owned();
            let id = ev["SecretId"].as_str().unwrap().to_owned();
            let token = ev["ClientRequestToken"].as_str().unwrap().to_owned();
            seen.lock().unwrap().push(if good {
                step.clone()
            } else {
                format!("BAD-SIG {step}")
            });
            let ok = good
                && Some(step.as_str()) != fail_step
                && match step.as_str() {
                    "createSecret" => client
                        .put_secret_value()
                        .secret_id(&id)
                        .client_request_token(&token)
                        .secret_string(format!("rotated-{token}"))
                        .version_stages("AWSPENDING")
                        .send()
                        .await
                        .is_ok(),
                    "finishSecret" => {
                        let d = client
                            .describe_secret()
                            .secret_id(&id)
                            .send()
                            .await
                            .unwrap();
                        let cur = d
                            .version_ids_to_stages()
                            .unwrap()
                            .iter()
                            .find(|(_, st)| st.iter().any(|x| x == "AWSCURRENT"))
                            .map(|(v, _)| v.clone())
                            .unwrap();
                        client
                            .update_secret_version_stage()
                            .secret_id(&id)
                            .version_stage("AWSCURRENT")
                            .move_to_version_id(&token)
                            .remove_from_version_id(cur)
                            .send()
                            .await
                            .is_ok()
                    }
                    _ => true,
                };
            let status = if ok {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let resp =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    Hook { steps }
}

/// A server whose config names the webhook `hook` on `port`.
fn server_with_hook(dir: &std::path::Path, port: u16, secret: &[u8]) -> TestServer {
    let secret_file = dir.join("hook.secret");
    std::fs::write(&secret_file, secret).unwrap();
    let config = dir.join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[secretsmanager.rotation-functions.hook]\nurl = \"http://127.0.0.1:{port}/\"\nsigning-secret-file = \"{}\"\n",
            secret_file.display()
        ),
    )
    .unwrap();
    TestServer::start_with(&["--config", config.to_str().unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_through_a_webhook() {
    let tmp = tempfile::tempdir().unwrap();
    // The hook needs the server's credentials and the server the hook's port.
    let port = free_port();
    let secret = b"hook-signing-secret".to_vec();
    let s = server_with_hook(tmp.path(), port, &secret);
    let c = sm(&s, &s.admin);
    let hook = serve_hook(port, c.clone(), secret.clone(), None).await;
    let lambda = format!("arn:aws:lambda:{REGION}:{}:function:hook", s.account);
    c.create_secret()
        .name("rot")
        .secret_string("original")
        .client_request_token(T1)
        .send()
        .await
        .unwrap();
    let e = c.rotate_secret().secret_id("rot").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .rotate_secret()
        .secret_id("rot")
        .rotation_lambda_arn(&lambda)
        .rotation_rules(
            aws_sdk_secretsmanager::types::RotationRulesType::builder()
                .schedule_expression("rate(2 hours)")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let out = c
        .rotate_secret()
        .secret_id("rot")
        .rotation_lambda_arn(&lambda)
        .client_request_token(T2)
        .rotation_rules(
            aws_sdk_secretsmanager::types::RotationRulesType::builder()
                .automatically_after_days(10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some(T2));
    assert_eq!(
        *hook.steps.lock().unwrap(),
        ["createSecret", "setSecret", "testSecret", "finishSecret"]
    );
    assert_eq!(current(&c, "rot").await, format!("rotated-{T2}"));
    let prev = c
        .get_secret_value()
        .secret_id("rot")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.secret_string(), Some("original"));
    let d = c.describe_secret().secret_id("rot").send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_lambda_arn(), Some(lambda.as_str()));
    assert!(d.last_rotated_date().is_some());
    assert!(d.next_rotation_date().is_some());
    assert_eq!(d.version_ids_to_stages().unwrap()[T2], ["AWSCURRENT"]);

    // The schedule: AWS rotates at some time in the window of the day ten days on
    // (midnight to midnight UTC); NextRotationDate is the second coffer drew, and the
    // scheduler rotates by itself once the clock reaches it.
    let last = d.last_rotated_date().unwrap().secs();
    let next = d.next_rotation_date().unwrap().secs();
    let window_start = (last / DAY as i64 + 10) * DAY as i64;
    assert!(
        (window_start..window_start + DAY as i64).contains(&next),
        "{next} is not in the window opening at {window_start}"
    );
    hook.steps.lock().unwrap().clear();
    s.advance((next - last) as u64 - 120).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        hook.steps.lock().unwrap().is_empty(),
        "rotated before NextRotationDate"
    );
    s.advance(240).await;
    let mut rotated = false;
    for _ in 0..100 {
        if hook.steps.lock().unwrap().len() == 4
            && current(&c, "rot").await != format!("rotated-{T2}")
        {
            rotated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        rotated,
        "scheduled rotation did not run: {:?}",
        hook.steps.lock().unwrap()
    );

    // Both rotations are in the audit trail as service events.
    let ev = s
        .cloudtrail(&s.admin)
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("RotationSucceeded")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ev.events().len(), 2);
    let raw = ev.events()[0].cloud_trail_event().unwrap();
    assert!(raw.contains("\"eventType\":\"AwsServiceEvent\""), "{raw}");

    // CancelRotateSecret turns it off.
    c.cancel_rotate_secret()
        .secret_id("rot")
        .send()
        .await
        .unwrap();
    let d = c.describe_secret().secret_id("rot").send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_rotation_leaves_current_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = b"another-secret".to_vec();
    // A hook that fails testSecret.
    let port = free_port();
    let s = server_with_hook(tmp.path(), port, &secret);
    let c = sm(&s, &s.admin);
    let hook = serve_hook(port, c.clone(), secret, Some("testSecret")).await;
    c.create_secret()
        .name("f")
        .secret_string("keep")
        .send()
        .await
        .unwrap();
    let lambda = format!("arn:aws:lambda:{REGION}:{}:function:hook", s.account);
    c.rotate_secret()
        .secret_id("f")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    assert_eq!(current(&c, "f").await, "keep");
    assert_eq!(
        *hook.steps.lock().unwrap(),
        ["createSecret", "setSecret", "testSecret"]
    );
    // The unfinished rotation blocks a new one with another token.
    let e = c.rotate_secret().secret_id("f").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    // And the failure is in the audit trail as a service event.
    let ct = s.cloudtrail(&s.admin);
    let mut found = false;
    for _ in 0..50 {
        let ev = ct
            .lookup_events()
            .lookup_attributes(
                aws_sdk_cloudtrail::types::LookupAttribute::builder()
                    .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                    .attribute_value("RotationFailed")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        if !ev.events().is_empty() {
            let raw = ev.events()[0].cloud_trail_event().unwrap();
            assert!(raw.contains("AwsServiceEvent"), "{raw}");
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "no RotationFailed event");
}

/// Keys in the clear: the test's certificates protect nothing.
struct NoSeal;
impl coffer_tls::KeySealer for NoSeal {
    fn seal(&self, _purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        plaintext.to_vec()
    }
    fn open(
        &self,
        _purpose: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, coffer_tls::SealError> {
        Ok(zeroize::Zeroizing::new(sealed.to_vec()))
    }
}

/// A local CA (coffer_tls) in `dir`: the hook's server configuration and the CA file.
fn hook_ca(dir: &std::path::Path) -> (Arc<rustls::ServerConfig>, std::path::PathBuf) {
    let now = time::macros::datetime!(2026-01-01 0:00 UTC);
    let m = coffer_tls::load_or_generate(dir, &[], now, &NoSeal).unwrap();
    (
        coffer_tls::server_config(&m).unwrap(),
        m.ca_cert_path().unwrap().to_path_buf(),
    )
}

/// A server whose `hook` function is `https://127.0.0.1:<port>/`, trusting `ca_file`.
fn server_with_https_hook(
    dir: &std::path::Path,
    port: u16,
    secret: &[u8],
    ca_file: &std::path::Path,
) -> TestServer {
    let secret_file = dir.join("hook.secret");
    std::fs::write(&secret_file, secret).unwrap();
    let config = dir.join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[secretsmanager]\nca-file = \"{}\"\n[secretsmanager.rotation-functions.hook]\nurl = \"https://127.0.0.1:{port}/\"\nsigning-secret-file = \"{}\"\n",
            ca_file.display(),
            secret_file.display()
        ),
    )
    .unwrap();
    TestServer::start_with(&["--config", config.to_str().unwrap()])
}

/// An https:// rotation webhook whose certificate chains to `[secretsmanager] ca-file`
/// rotates; one whose certificate comes from another CA is refused at the handshake
/// (nothing is sent), the rotation fails with that reason and AWSCURRENT stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_through_an_https_webhook() {
    let tmp = tempfile::tempdir().unwrap();
    let (hook_tls, ca) = hook_ca(&tmp.path().join("hook-ca"));
    let secret = b"https-hook-secret".to_vec();
    let port = free_port();
    let s = server_with_https_hook(tmp.path(), port, &secret, &ca);
    let c = sm(&s, &s.admin);
    let hook = serve_hook_tls(port, c.clone(), secret.clone(), None, Some(hook_tls)).await;
    let lambda = format!("arn:aws:lambda:{REGION}:{}:function:hook", s.account);
    c.create_secret()
        .name("tls")
        .secret_string("original")
        .send()
        .await
        .unwrap();
    c.rotate_secret()
        .secret_id("tls")
        .rotation_lambda_arn(&lambda)
        .client_request_token(T2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        *hook.steps.lock().unwrap(),
        ["createSecret", "setSecret", "testSecret", "finishSecret"]
    );
    assert_eq!(current(&c, "tls").await, format!("rotated-{T2}"));

    // The same hook behind a certificate of a CA coffer does not trust.
    let tmp2 = tempfile::tempdir().unwrap();
    let (_, other_ca) = hook_ca(&tmp2.path().join("other-ca"));
    let (hook_tls, _) = hook_ca(&tmp.path().join("hook-ca"));
    let port2 = free_port();
    let s2 = server_with_https_hook(tmp2.path(), port2, &secret, &other_ca);
    let c2 = sm(&s2, &s2.admin);
    let hook2 = serve_hook_tls(port2, c2.clone(), secret, None, Some(hook_tls)).await;
    c2.create_secret()
        .name("tls")
        .secret_string("keep")
        .send()
        .await
        .unwrap();
    c2.rotate_secret()
        .secret_id("tls")
        .rotation_lambda_arn(lambda.replace(&s.account.to_string(), &s2.account.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(*hook2.steps.lock().unwrap(), ["TLS-REFUSED"]);
    assert_eq!(current(&c2, "tls").await, "keep");
    let reason = rotation_failure(&s2).await;
    assert!(
        reason.contains("createSecret") && reason.contains("certificate"),
        "{reason}"
    );
}

/// A rotation function that accepts connections and never answers; counts them.
async fn serve_hung_hook(port: u16) -> Arc<std::sync::atomic::AtomicUsize> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(sock);
        }
    });
    seen
}

/// Scheduled work runs concurrently: while one secret's rotation function hangs (a step
/// may take 60 s), another secret's scheduled rotation completes and the purge job removes
/// a secret whose recovery window ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_rotation_blocks_no_other_job() {
    use aws_sdk_secretsmanager::types::RotationRulesType;
    let tmp = tempfile::tempdir().unwrap();
    let secret = b"hook-secret".to_vec();
    let (good, hung) = (free_port(), free_port());
    let secret_file = tmp.path().join("hook.secret");
    std::fs::write(&secret_file, &secret).unwrap();
    let config = tmp.path().join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[secretsmanager.rotation-functions.hook]\nurl = \"http://127.0.0.1:{good}/\"\nsigning-secret-file = \"{f}\"\n\
             [secretsmanager.rotation-functions.hung]\nurl = \"http://127.0.0.1:{hung}/\"\nsigning-secret-file = \"{f}\"\n",
            f = secret_file.display()
        ),
    )
    .unwrap();
    let s = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    let c = sm(&s, &s.admin);
    let hook = serve_hook(good, c.clone(), secret, None).await;
    let hung_seen = serve_hung_hook(hung).await;
    let arn = |f: &str| format!("arn:aws:lambda:{REGION}:{}:function:{f}", s.account);
    // "a-stuck" sorts (and is scanned) before "b-fine".
    for (name, function) in [("a-stuck", "hung"), ("b-fine", "hook")] {
        c.create_secret()
            .name(name)
            .secret_string("v1")
            .send()
            .await
            .unwrap();
        c.rotate_secret()
            .secret_id(name)
            .rotation_lambda_arn(arn(function))
            .rotate_immediately(false)
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    c.create_secret()
        .name("c-gone")
        .secret_string("x")
        .send()
        .await
        .unwrap();
    c.delete_secret()
        .secret_id("c-gone")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();

    // Both rotations fall due: the hung one holds its createSecret, the other completes.
    s.advance(2 * DAY + 120).await;
    let mut rotated = false;
    for _ in 0..100 {
        if current(&c, "b-fine").await != "v1" {
            rotated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        rotated,
        "b-fine did not rotate: {:?}",
        hook.steps.lock().unwrap()
    );
    assert_eq!(hung_seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(current(&c, "a-stuck").await, "v1");

    // The recovery window ends while the hung step is still waiting: the purge runs.
    s.advance(6 * DAY).await;
    let mut purged = false;
    for _ in 0..100 {
        let r = c.describe_secret().secret_id("c-gone").send().await;
        if r.is_err_and(|e| code(&e) == "ResourceNotFoundException") {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(purged, "the purge job was held up");
    assert_eq!(
        hung_seen.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the hung rotation was not started twice"
    );
}

/// The error message of the first RotationFailed event in the trail.
async fn rotation_failure(s: &TestServer) -> String {
    let ct = s.cloudtrail(&s.admin);
    for _ in 0..50 {
        let ev = ct
            .lookup_events()
            .lookup_attributes(
                aws_sdk_cloudtrail::types::LookupAttribute::builder()
                    .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                    .attribute_value("RotationFailed")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        if let Some(e) = ev.events().first() {
            let raw: serde_json::Value =
                serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap();
            return raw["errorMessage"].as_str().unwrap_or_default().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no RotationFailed event");
}

// ---------------------------------------------------------------------------------------
// Built-in PostgreSQL rotators against the real server on 127.0.0.1:5432.
//
// That server trusts every TCP connection from 127.0.0.1 (pg_hba `trust`), so a login
// there proves nothing about a password. The tests therefore check what PostgreSQL
// stored: `password_encryption` is scram-sha-256, and a password is right exactly when
// its SCRAM StoredKey (PBKDF2-HMAC-SHA256 over the verifier's salt and iteration count,
// then HMAC "Client Key", then SHA-256) equals the one in `pg_authid.rolpassword`, which
// is what the server checks at a password login.
// ---------------------------------------------------------------------------------------

use crate::plaintext::psql;

fn scram_matches(role: &str, password: &str) -> bool {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let verifier = psql(
        "postgres",
        &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"),
    );
    let verifier = verifier.trim();
    let rest = verifier
        .strip_prefix("SCRAM-SHA-256$")
        .unwrap_or_else(|| panic!("{role} has no SCRAM verifier: {verifier}"));
    let (params, keys) = rest.split_once('$').unwrap();
    let (iters, salt) = params.split_once(':').unwrap();
    let (stored, _server) = keys.split_once(':').unwrap();
    let iters: u32 = iters.parse().unwrap();
    let salt = b64.decode(salt).unwrap();
    // PBKDF2-HMAC-SHA256, one 32-byte block.
    let mut block = salt.clone();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = coffer_crypto::hmac_sha256(password.as_bytes(), &block);
    let mut salted = u;
    for _ in 1..iters {
        u = coffer_crypto::hmac_sha256(password.as_bytes(), &u);
        for (a, b) in salted.iter_mut().zip(u.iter()) {
            *a ^= b;
        }
    }
    let client_key = coffer_crypto::hmac_sha256(&salted, b"Client Key");
    coffer_crypto::sha256(&client_key).as_slice() == b64.decode(stored).unwrap().as_slice()
}

fn db_secret(user: &str, password: &str, master: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "engine": "postgres", "host": "127.0.0.1", "port": 5432,
        "username": user, "password": password, "dbname": "postgres",
    });
    if let Some(m) = master {
        v["masterarn"] = serde_json::json!(m);
    }
    v.to_string()
}

async fn json_at(c: &Client, id: &str, stage: &str) -> serde_json::Value {
    let v = c
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await
        .unwrap();
    serde_json::from_str(v.secret_string().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_single_user_rotation() {
    psql(
        "postgres",
        "DROP ROLE IF EXISTS sm_single; CREATE ROLE sm_single LOGIN PASSWORD 'initial-Pw-1'",
    );
    assert!(scram_matches("sm_single", "initial-Pw-1"));
    assert!(!scram_matches("sm_single", "other"), "the check can fail");
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("pg/single")
        .secret_string(db_secret("sm_single", "initial-Pw-1", None))
        .send()
        .await
        .unwrap();
    let lambda = format!(
        "arn:aws:lambda:{REGION}:{}:function:coffer-postgresql-single-user",
        s.account
    );
    c.rotate_secret()
        .secret_id("pg/single")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    let cur = json_at(&c, "pg/single", "AWSCURRENT").await;
    let new_pw = cur["password"].as_str().unwrap();
    assert_ne!(new_pw, "initial-Pw-1");
    assert_eq!(cur["username"], "sm_single");
    assert_eq!(new_pw.len(), 32);
    assert!(scram_matches("sm_single", new_pw), "new password set");
    assert!(
        !scram_matches("sm_single", "initial-Pw-1"),
        "old password gone"
    );
    let prev = json_at(&c, "pg/single", "AWSPREVIOUS").await;
    assert_eq!(prev["password"], "initial-Pw-1");
    psql("postgres", "DROP ROLE IF EXISTS sm_single");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_alternating_users_rotation() {
    psql(
        "postgres",
        "DROP ROLE IF EXISTS sm_multi_clone; DROP ROLE IF EXISTS sm_multi; DROP ROLE IF EXISTS sm_admin; \
         CREATE ROLE sm_admin LOGIN SUPERUSER PASSWORD 'admin-Pw-1'; \
         CREATE ROLE sm_multi LOGIN PASSWORD 'multi-Pw-1'",
    );
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let master = c
        .create_secret()
        .name("pg/master")
        .secret_string(db_secret("sm_admin", "admin-Pw-1", None))
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    c.create_secret()
        .name("pg/app")
        .secret_string(db_secret("sm_multi", "multi-Pw-1", Some(&master)))
        .send()
        .await
        .unwrap();
    let lambda = format!(
        "arn:aws:lambda:{REGION}:{}:function:coffer-postgresql-multi-user",
        s.account
    );
    c.rotate_secret()
        .secret_id("pg/app")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    // First rotation: the clone is created and becomes current; the original keeps working.
    let cur = json_at(&c, "pg/app", "AWSCURRENT").await;
    assert_eq!(cur["username"], "sm_multi_clone");
    assert_eq!(cur["masterarn"], master.as_str());
    let clone_pw = cur["password"].as_str().unwrap().to_owned();
    assert!(scram_matches("sm_multi_clone", &clone_pw));
    assert!(
        scram_matches("sm_multi", "multi-Pw-1"),
        "previous user untouched"
    );
    let member = psql(
        "postgres",
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'sm_multi' AND u.rolname = 'sm_multi_clone'",
    );
    assert_eq!(
        member.trim(),
        "1",
        "the clone has the original's privileges"
    );
    assert_eq!(
        json_at(&c, "pg/app", "AWSPREVIOUS").await["username"],
        "sm_multi"
    );
    // Second rotation: back to the original user, with a new password; the clone keeps its.
    c.rotate_secret().secret_id("pg/app").send().await.unwrap();
    let cur = json_at(&c, "pg/app", "AWSCURRENT").await;
    assert_eq!(cur["username"], "sm_multi");
    let pw = cur["password"].as_str().unwrap();
    assert!(scram_matches("sm_multi", pw));
    assert!(!scram_matches("sm_multi", "multi-Pw-1"));
    assert!(scram_matches("sm_multi_clone", &clone_pw));
    let prev = json_at(&c, "pg/app", "AWSPREVIOUS").await;
    assert_eq!(prev["username"], "sm_multi_clone");
    assert_eq!(prev["password"], clone_pw.as_str());
    psql(
        "postgres",
        "DROP ROLE IF EXISTS sm_multi_clone; DROP ROLE IF EXISTS sm_multi; DROP ROLE IF EXISTS sm_admin",
    );
}

// ---------------------------------------------------------------------------------------
// Built-in MariaDB rotators against the real server on 127.0.0.1:3306 (root without a
// password creates the users; MariaDB checks passwords, so logins prove them).
// ---------------------------------------------------------------------------------------

fn mariadb_root(sql: &str) {
    let out = std::process::Command::new("mysql")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", sql])
        .output()
        .expect("mysql client");
    assert!(
        out.status.success(),
        "mysql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `user` logs in with `password`, and what it is granted (SHOW GRANTS).
fn mariadb_login(user: &str, password: &str) -> Option<String> {
    let out = std::process::Command::new("mysql")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", user])
        .arg(format!("-p{password}"))
        .args(["-N", "-e", "SHOW GRANTS"])
        .output()
        .expect("mysql client");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn mariadb_secret(user: &str, password: &str, master: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "username": user, "password": password,
    });
    if let Some(m) = master {
        v["masterarn"] = serde_json::json!(m);
    }
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_single_user_rotation() {
    mariadb_root(
        "DROP USER IF EXISTS 'sm_my'@'%'; CREATE USER 'sm_my'@'%' IDENTIFIED BY 'initial-Pw-1'",
    );
    assert!(mariadb_login("sm_my", "initial-Pw-1").is_some());
    assert!(
        mariadb_login("sm_my", "wrong").is_none(),
        "MariaDB checks passwords"
    );
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    c.create_secret()
        .name("my/single")
        .secret_string(mariadb_secret("sm_my", "initial-Pw-1", None))
        .send()
        .await
        .unwrap();
    let lambda = format!(
        "arn:aws:lambda:{REGION}:{}:function:coffer-mysql-single-user",
        s.account
    );
    c.rotate_secret()
        .secret_id("my/single")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    let cur = json_at(&c, "my/single", "AWSCURRENT").await;
    let pw = cur["password"].as_str().unwrap();
    assert_ne!(pw, "initial-Pw-1");
    assert!(mariadb_login("sm_my", pw).is_some(), "new password works");
    assert!(
        mariadb_login("sm_my", "initial-Pw-1").is_none(),
        "old one fails"
    );
    assert_eq!(
        json_at(&c, "my/single", "AWSPREVIOUS").await["password"],
        "initial-Pw-1"
    );
    mariadb_root("DROP USER IF EXISTS 'sm_my'@'%'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_alternating_users_rotation() {
    mariadb_root(
        "DROP USER IF EXISTS 'sm_myapp_clone'@'%'; DROP USER IF EXISTS 'sm_myapp'@'%'; \
         DROP USER IF EXISTS 'sm_myadmin'@'%'; CREATE DATABASE IF NOT EXISTS sm_testdb; \
         CREATE USER 'sm_myadmin'@'%' IDENTIFIED BY 'admin-Pw-1'; \
         GRANT ALL PRIVILEGES ON *.* TO 'sm_myadmin'@'%' WITH GRANT OPTION; \
         CREATE USER 'sm_myapp'@'%' IDENTIFIED BY 'app-Pw-1'; \
         GRANT SELECT ON sm_testdb.* TO 'sm_myapp'@'%'",
    );
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let master = c
        .create_secret()
        .name("my/master")
        .secret_string(mariadb_secret("sm_myadmin", "admin-Pw-1", None))
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    c.create_secret()
        .name("my/app")
        .secret_string(mariadb_secret("sm_myapp", "app-Pw-1", Some(&master)))
        .send()
        .await
        .unwrap();
    let lambda = format!(
        "arn:aws:lambda:{REGION}:{}:function:coffer-mysql-multi-user",
        s.account
    );
    c.rotate_secret()
        .secret_id("my/app")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap();
    let cur = json_at(&c, "my/app", "AWSCURRENT").await;
    assert_eq!(cur["username"], "sm_myapp_clone");
    let clone_pw = cur["password"].as_str().unwrap().to_owned();
    let grants = mariadb_login("sm_myapp_clone", &clone_pw).expect("clone logs in");
    assert!(
        grants.contains("`sm_testdb`"),
        "clone has the grants: {grants}"
    );
    assert!(
        mariadb_login("sm_myapp", "app-Pw-1").is_some(),
        "previous user untouched"
    );
    c.rotate_secret().secret_id("my/app").send().await.unwrap();
    let cur = json_at(&c, "my/app", "AWSCURRENT").await;
    assert_eq!(cur["username"], "sm_myapp");
    let pw = cur["password"].as_str().unwrap();
    assert!(mariadb_login("sm_myapp", pw).is_some());
    assert!(mariadb_login("sm_myapp", "app-Pw-1").is_none());
    assert!(mariadb_login("sm_myapp_clone", &clone_pw).is_some());
    let prev = json_at(&c, "my/app", "AWSPREVIOUS").await;
    assert_eq!(prev["username"], "sm_myapp_clone");
    mariadb_root(
        "DROP USER IF EXISTS 'sm_myapp_clone'@'%'; DROP USER IF EXISTS 'sm_myapp'@'%'; \
         DROP USER IF EXISTS 'sm_myadmin'@'%'; DROP DATABASE IF EXISTS sm_testdb",
    );
}

/// The audit trail records every Secrets Manager call with its parameters but never a
/// value, and each KMS call made for it as its own event, invoked by Secrets Manager.
#[tokio::test]
async fn audit_records_calls_without_values() {
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let value = "audit-hidden-value-51c0e2";
    c.create_secret()
        .name("audited")
        .secret_string(value)
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id("audited")
        .secret_string(format!("{value}-2"))
        .send()
        .await
        .unwrap();
    c.get_secret_value()
        .secret_id("audited")
        .send()
        .await
        .unwrap();
    let ct = s.cloudtrail(&s.admin);
    let events = |source: &'static str| {
        let ct = ct.clone();
        async move {
            let page = ct
                .lookup_events()
                .max_results(50)
                .lookup_attributes(
                    LookupAttribute::builder()
                        .attribute_key(LookupAttributeKey::EventSource)
                        .attribute_value(source)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
            page.events()
                .iter()
                .map(|e| {
                    serde_json::from_str::<serde_json::Value>(e.cloud_trail_event().unwrap())
                        .unwrap()
                })
                .collect::<Vec<_>>()
        }
    };
    let sm_events = events("secretsmanager.amazonaws.com").await;
    let names: HashSet<&str> = sm_events
        .iter()
        .filter_map(|e| e["eventName"].as_str())
        .collect();
    for n in ["CreateSecret", "PutSecretValue", "GetSecretValue"] {
        assert!(names.contains(n), "{n} missing: {names:?}");
    }
    let put = sm_events
        .iter()
        .find(|e| e["eventName"] == "PutSecretValue")
        .unwrap();
    assert_eq!(put["requestParameters"]["secretId"], "audited");
    assert!(put["requestParameters"].get("secretString").is_none());
    assert_eq!(put["resources"][0]["type"], "AWS::SecretsManager::Secret");
    for e in &sm_events {
        assert!(
            !e.to_string().contains(value),
            "a value in the audit trail: {e}"
        );
    }
    let kms_events = events("kms.amazonaws.com").await;
    let via: Vec<&serde_json::Value> = kms_events
        .iter()
        .filter(|e| e["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com")
        .collect();
    let kms_names: HashSet<&str> = via.iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert!(kms_names.contains("GenerateDataKey"), "{kms_names:?}");
    assert!(kms_names.contains("Decrypt"), "{kms_names:?}");
    let dk = via
        .iter()
        .find(|e| e["eventName"] == "GenerateDataKey")
        .unwrap();
    let ctx = &dk["requestParameters"]["encryptionContext"];
    assert!(
        ctx["SecretARN"]
            .as_str()
            .unwrap()
            .contains(":secret:audited-")
    );
    assert!(ctx["SecretVersionId"].is_string());
}

/// More refusals, each leaving the secret as it was.
#[tokio::test]
async fn more_error_cases() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);
    let west = sm_in(&s, &s.admin, "eu-west-1");
    let arn = c
        .create_secret()
        .name("e")
        .secret_string("v")
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    // An ARN of this secret's replica region is not a secret of this regional endpoint.
    let west_arn = arn.replace(":us-east-1:", ":eu-west-1:");
    let e = c
        .get_secret_value()
        .secret_id(&west_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(current(&west, &west_arn).await, "v");
    // Replicas refuse writes of every kind; a primary cannot be "stopped".
    let e = west
        .update_secret()
        .secret_id("e")
        .description("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = west
        .tag_resource()
        .secret_id("e")
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .stop_replication_to_replica()
        .secret_id("e")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .remove_regions_from_replication()
        .secret_id("e")
        .remove_replica_regions("ap-south-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let e = c
        .replicate_secret_to_regions()
        .secret_id("e")
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    // Model limits: description length, client token length, version stages.
    let e = c
        .update_secret()
        .secret_id("e")
        .description("d".repeat(2049))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = c
        .put_secret_value()
        .secret_id("e")
        .secret_string("w")
        .client_request_token("short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // Fifty tags at most.
    let mut req = c.tag_resource().secret_id("e");
    for i in 0..51 {
        req = req.tags(Tag::builder().key(format!("k{i}")).value("v").build());
    }
    let e = req.send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let d = c.describe_secret().secret_id("e").send().await.unwrap();
    assert!(d.tags().is_empty());
    // BatchGetSecretValue: MaxResults belongs to the filtered form.
    let e = c
        .batch_get_secret_value()
        .secret_id_list("e")
        .max_results(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    // Version listing pages.
    for i in 0..3 {
        c.put_secret_value()
            .secret_id("e")
            .secret_string(format!("v{i}"))
            .version_stages(format!("l{i}"))
            .send()
            .await
            .unwrap();
    }
    let p1 = c
        .list_secret_version_ids()
        .secret_id("e")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(p1.versions().len(), 2);
    let p2 = c
        .list_secret_version_ids()
        .secret_id("e")
        .max_results(2)
        .next_token(p1.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(p2.versions().len(), 2);
    assert!(p2.next_token().is_none());
    // RotateImmediately=false only schedules; rotation rules need a function.
    let e = c
        .rotate_secret()
        .secret_id("e")
        .rotation_rules(
            aws_sdk_secretsmanager::types::RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let lambda = format!("arn:aws:lambda:{REGION}:{}:function:hook", s.account);
    let out = c
        .rotate_secret()
        .secret_id("e")
        .rotation_lambda_arn(&lambda)
        .rotate_immediately(false)
        .rotation_rules(
            aws_sdk_secretsmanager::types::RotationRulesType::builder()
                .schedule_expression("cron(0 12 ? * MON *)")
                .duration("3h")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.version_id().is_none());
    let d = c.describe_secret().secret_id("e").send().await.unwrap();
    let rules = d.rotation_rules().unwrap();
    assert_eq!(rules.schedule_expression(), Some("cron(0 12 ? * MON *)"));
    assert_eq!(rules.duration(), Some("3h"));
    assert!(d.next_rotation_date().is_some());
    assert_eq!(current(&c, "e").await, "v");
    for (expr, dur) in [
        ("cron(0 */1 * * ? *)", None),
        ("rate(5 days)", Some("25h")),
        ("rate(2 days)", Some("0h")),
    ] {
        let mut rules =
            aws_sdk_secretsmanager::types::RotationRulesType::builder().schedule_expression(expr);
        if let Some(d) = dur {
            rules = rules.duration(d);
        }
        let e = c
            .rotate_secret()
            .secret_id("e")
            .rotation_rules(rules.build())
            .send()
            .await
            .unwrap_err();
        assert!(
            ["InvalidParameterException", "ValidationException"].contains(&code(&e).as_str()),
            "{expr} {dur:?}: {}",
            code(&e)
        );
    }
}

/// Behaviours AWS's API reference and user guide spell out: a secret's first version is
/// AWSCURRENT whatever labels PutSecretValue names; public resource policies are blocked
/// only when asked; CancelRotateSecret leaves the unfinished version's AWSPENDING label for
/// the caller to clear; the `all` filter searches any word of its value.
#[tokio::test]
async fn first_version_public_policy_cancelled_rotation_and_word_search() {
    let s = TestServer::start();
    let c = sm(&s, &s.admin);

    c.create_secret().name("prod/DbCreds").send().await.unwrap();
    let put = c
        .put_secret_value()
        .secret_id("prod/DbCreds")
        .secret_string("v1")
        .client_request_token(T1)
        .version_stages("X")
        .send()
        .await
        .unwrap();
    let stages: HashSet<&str> = put.version_stages().iter().map(String::as_str).collect();
    assert_eq!(stages, HashSet::from(["X", "AWSCURRENT"]));
    assert_eq!(current(&c, "prod/DbCreds").await, "v1");
    // The second version gets only what it asks for.
    let put = c
        .put_secret_value()
        .secret_id("prod/DbCreds")
        .secret_string("v2")
        .client_request_token(T2)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(put.version_stages(), ["AWSPENDING"]);
    assert_eq!(current(&c, "prod/DbCreds").await, "v1");

    // T2 holds AWSPENDING as a rotation would have left it: cancelling keeps the label,
    // RotateSecret then refuses to start (and writes nothing), and the caller clears it.
    let c2 = c
        .cancel_rotate_secret()
        .secret_id("prod/DbCreds")
        .send()
        .await
        .unwrap();
    assert_eq!(c2.version_id(), Some(T2));
    let d = c
        .describe_secret()
        .secret_id("prod/DbCreds")
        .send()
        .await
        .unwrap();
    let labels = d.version_ids_to_stages().unwrap();
    assert_eq!(labels[T2], ["AWSPENDING"]);
    let lambda = format!("arn:aws:lambda:{REGION}:{}:function:rotate", s.account);
    let e = c
        .rotate_secret()
        .secret_id("prod/DbCreds")
        .rotation_lambda_arn(&lambda)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    assert_eq!(
        msg(&e),
        "A previous rotation isn't complete. That rotation will be reattempted."
    );
    // The refused call changed nothing.
    let d = c
        .describe_secret()
        .secret_id("prod/DbCreds")
        .send()
        .await
        .unwrap();
    assert_eq!(d.rotation_enabled(), None);
    assert_eq!(d.rotation_lambda_arn(), None);
    c.update_secret_version_stage()
        .secret_id("prod/DbCreds")
        .version_stage("AWSPENDING")
        .remove_from_version_id(T2)
        .send()
        .await
        .unwrap();

    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let e = c
        .put_resource_policy()
        .secret_id("prod/DbCreds")
        .resource_policy(public)
        .block_public_policy(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PublicPolicyException");
    c.put_resource_policy()
        .secret_id("prod/DbCreds")
        .resource_policy(public)
        .send()
        .await
        .unwrap();

    c.create_secret()
        .name("billing")
        .description("Invoices API key")
        .secret_string("x")
        .send()
        .await
        .unwrap();
    let names = |search: &'static str| {
        let c = c.clone();
        async move {
            let filter = Filter::builder()
                .key(FilterNameStringType::All)
                .values(search)
                .build();
            let r = c.list_secrets().filters(filter).send().await.unwrap();
            let mut n: Vec<String> = r
                .secret_list()
                .iter()
                .map(|e| e.name().unwrap().to_owned())
                .collect();
            n.sort();
            n
        }
    };
    assert_eq!(names("prod/DbCreds").await, ["prod/DbCreds"]);
    assert_eq!(names("db_invoices").await, ["billing", "prod/DbCreds"]);
    assert_eq!(names("INVOICE").await, ["billing"]);
    assert!(names("staging secret").await.is_empty());
}
