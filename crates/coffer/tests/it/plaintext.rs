//! Nothing secret on disk: known secrets go in through the API, then every file of the data
//! directory (and every PostgreSQL row) is searched for them.

use crate::kit::TestServer;
use std::path::Path;
use std::process::Command;

/// Secrets minted through the API: an IAM user's secret key, an STS session's secret key
/// and token, a KMS plaintext, data key and data-key-pair private key, a secret
/// imported as key material, and every version of Secrets Manager secrets (string and
/// binary, current, previous, deprecated, custom-labelled, replicated, under a customer key).
async fn mint_secrets(s: &TestServer) -> Vec<Vec<u8>> {
    let (user, session) = crate::authz::role_session(s, "holder", "x1", 3600).await;
    // Use them, so that any caching or logging path is exercised too.
    s.sts(&user).get_caller_identity().send().await.unwrap();
    s.sts(&session).get_caller_identity().send().await.unwrap();
    let mut out: Vec<Vec<u8>> = [user.secret, session.secret, session.token.unwrap()]
        .into_iter()
        .map(String::into_bytes)
        .collect();
    out.extend(kms_secrets(s).await);
    out.extend(secrets_manager_values(s).await);
    out.extend(parameter_secrets(s).await);
    out
}

/// SecureString parameters, every version of them: standard tier (KMS Encrypt) and
/// advanced tier (envelope encryption), with the default key and a customer key.
async fn parameter_secrets(s: &TestServer) -> Vec<Vec<u8>> {
    use aws_sdk_ssm::types::{ParameterTier, ParameterType};
    let ssm = s.ssm(&s.admin);
    let mut out = Vec::new();
    for (name, tier) in [
        ("/pt/standard", ParameterTier::Standard),
        ("/pt/advanced", ParameterTier::Advanced),
    ] {
        for v in 0..3 {
            let secret = format!("ssm-secure-{name}-v{v}-4c8e1a9d2f6b3075");
            ssm.put_parameter()
                .name(name)
                .value(&secret)
                .r#type(ParameterType::SecureString)
                .tier(tier.clone())
                .overwrite(v > 0)
                .send()
                .await
                .unwrap();
            out.push(secret.into_bytes());
        }
        let h = ssm
            .get_parameter_history()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        assert_eq!(h.parameters().len(), 3);
    }
    out
}

async fn kms_secrets(s: &TestServer) -> Vec<Vec<u8>> {
    use aws_sdk_kms::primitives::Blob;
    let kms = s.kms(&s.admin);
    let key = kms.create_key().send().await.unwrap();
    let id = key.key_metadata().unwrap().key_id().to_string();
    let plaintext = "kms-plaintext-7f3a9c1e5b2d4086";
    let ct = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(plaintext.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    kms.decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    let dk = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let pair = kms
        .generate_data_key_pair()
        .key_id(&id)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    vec![
        plaintext.as_bytes().to_vec(),
        dk.plaintext().unwrap().as_ref().to_vec(),
        pair.private_key_plaintext().unwrap().as_ref().to_vec(),
    ]
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Each secret as raw bytes, hex and base64: the forms it could be written in.
fn needles(secrets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    secrets
        .iter()
        .flat_map(|s| [s.clone(), hex(s).into_bytes(), b64(s).into_bytes()])
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn search_dir(dir: &Path, needles: &[Vec<u8>], found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            search_dir(&path, needles, found);
        } else if let Ok(bytes) = std::fs::read(&path) {
            for n in needles {
                if contains(&bytes, n) {
                    found.push(format!("{} contains a secret", path.display()));
                }
            }
        }
    }
}

#[tokio::test]
async fn no_secret_is_on_disk_embedded() {
    let mut s = TestServer::start();
    let secrets = mint_secrets(&s).await;
    s.kill9();
    let mut found = Vec::new();
    search_dir(&s.data_dir, &needles(&secrets), &mut found);
    assert!(found.is_empty(), "{found:?}");
    // The search itself works: the admin credentials file (written on purpose, mode 0600)
    // is found when its secret is searched for.
    let mut control = Vec::new();
    search_dir(
        &s.data_dir,
        &needles(&[s.admin.secret.clone().into_bytes()]),
        &mut control,
    );
    assert_eq!(control.len(), 1, "{control:?}");
}

pub(crate) fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-At",
            "-c",
            sql,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn no_secret_is_on_disk_postgres() {
    let db = format!("coffer_it_{}", std::process::id());
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
    let mut s = TestServer::start_with(&["--storage", &url]);
    let secrets = mint_secrets(&s).await;
    s.kill9();
    let dump = Command::new("pg_dump")
        .args(["-h", "127.0.0.1", "-U", "postgres", "--data-only", &db])
        .output()
        .expect("pg_dump");
    assert!(dump.status.success());
    assert!(
        dump.stdout.len() > 1000,
        "the dump should hold the stored records"
    );
    let mut found = Vec::new();
    for n in needles(&secrets) {
        if contains(&dump.stdout, &n) {
            found.push(String::from_utf8_lossy(&n).into_owned());
        }
    }
    let mut files = Vec::new();
    search_dir(&s.data_dir, &needles(&secrets), &mut files);
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    assert!(found.is_empty(), "secrets in PostgreSQL rows: {found:?}");
    assert!(files.is_empty(), "{files:?}");
}

/// Secrets Manager values: several versions of one secret (each created by a different
/// operation), a binary secret, a secret under a customer key, and a replica.
async fn secrets_manager_values(s: &TestServer) -> Vec<Vec<u8>> {
    use aws_sdk_secretsmanager::primitives::Blob;
    use aws_sdk_secretsmanager::types::ReplicaRegionType;
    let c = crate::secrets::sm(s, &s.admin);
    let values: Vec<String> = (0..4)
        .map(|i| format!("sm-value-{i}-4b1d93e07c2a5f68"))
        .collect();
    c.create_secret()
        .name("plain/one")
        .secret_string(&values[0])
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id("plain/one")
        .secret_string(&values[1])
        .send()
        .await
        .unwrap();
    c.update_secret()
        .secret_id("plain/one")
        .secret_string(&values[2])
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id("plain/one")
        .secret_string(&values[3])
        .version_stages("custom")
        .send()
        .await
        .unwrap();
    let binary = b"sm-binary-\x00\x01-93c4e8a1f0b2d7".to_vec();
    c.create_secret()
        .name("plain/bin")
        .secret_binary(Blob::new(binary.clone()))
        .send()
        .await
        .unwrap();
    let kms = s.kms(&s.admin);
    let key = kms.create_key().send().await.unwrap();
    let cmk_value = "sm-cmk-value-0e7d5a3c9b1f2486";
    c.create_secret()
        .name("plain/cmk")
        .kms_key_id(key.key_metadata().unwrap().key_id())
        .secret_string(cmk_value)
        .send()
        .await
        .unwrap();
    // Read them back, so every read path runs too.
    for id in ["plain/one", "plain/bin", "plain/cmk"] {
        c.get_secret_value().secret_id(id).send().await.unwrap();
    }
    crate::secrets::sm_in(s, &s.admin, "eu-west-1")
        .get_secret_value()
        .secret_id("plain/one")
        .send()
        .await
        .unwrap();
    let mut out: Vec<Vec<u8>> = values.into_iter().map(String::into_bytes).collect();
    out.push(binary);
    out.push(cmk_value.as_bytes().to_vec());
    out
}
