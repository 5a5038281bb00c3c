//! KMS through `aws-sdk-kms`: key lifecycle, cryptography with every key type, aliases,
//! key policies, grants, rotation, deletion windows and imported material.

use crate::authz::user_with_policy;
use crate::kit::{TestServer, assert_error, code};
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeySpec, EncryptionAlgorithmSpec, GrantOperation, KeySpec, KeyState, KeyUsageType,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};

const DAY: u64 = 86_400;

/// A new symmetric encryption key; its id.
pub(crate) async fn symmetric(kms: &Client) -> String {
    kms.create_key()
        .description("test key")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string()
}

/// A new key of `spec` and `usage`; its id.
pub(crate) async fn key(kms: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string()
}

#[tokio::test]
async fn create_describe_and_list_keys() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let md = kms
        .create_key()
        .description("first")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .clone();
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    assert_eq!(md.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(md.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(md.aws_account_id(), Some(s.account.as_str()));
    assert_eq!(
        md.arn().unwrap(),
        format!("arn:aws:kms:us-east-1:{}:key/{}", s.account, md.key_id())
    );
    assert_eq!(
        md.encryption_algorithms(),
        &[EncryptionAlgorithmSpec::SymmetricDefault]
    );
    assert!(md.enabled());
    let d = kms
        .describe_key()
        .key_id(md.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.key_metadata().unwrap().description(), Some("first"));
    for _ in 0..3 {
        symmetric(&kms).await;
    }
    let page1 = kms.list_keys().limit(2).send().await.unwrap();
    assert_eq!(page1.keys().len(), 2);
    assert!(page1.truncated());
    let page2 = kms
        .list_keys()
        .limit(2)
        .marker(page1.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page2.keys().len(), 2);
    assert!(!page2.truncated());
    let e = kms
        .describe_key()
        .key_id("nonsense")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    let missing = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let e = kms.describe_key().key_id(missing).send().await.unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    let e = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn symmetric_encrypt_decrypt_with_context() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    let out = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"attack at dawn".to_vec()))
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:kms:us-east-1:{}:key/{id}", s.account);
    assert_eq!(out.key_id(), Some(arn.as_str()));
    let blob = out.ciphertext_blob().unwrap().clone();
    let plain = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext().unwrap().as_ref(), b"attack at dawn");
    assert_eq!(plain.key_id(), Some(arn.as_str()));
    // A wrong context, a tampered blob and a foreign blob all fail the same way.
    let e = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidCiphertextException");
    // No detail on the wire: why a ciphertext failed goes to the audit record only.
    assert!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&e).is_none_or(str::is_empty),
        "{e:?}"
    );
    let mut tampered = blob.as_ref().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(tampered))
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidCiphertextException");
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![1, 2, 2, 0, 120, 9, 9, 9]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidCiphertextException");
    // The wrong KeyId for the blob.
    let other = symmetric(&kms).await;
    let e = kms
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "IncorrectKeyException");
    // 4096 bytes is the limit.
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![7u8; 4096]))
        .send()
        .await
        .unwrap();
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![7u8; 4097]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // The model marks Plaintext sensitive: its value is never echoed.
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&e),
        Some(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
             Member must have length less than or equal to 4096"
        )
    );
    // ReEncrypt to another key, without naming the source key.
    let re = kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("purpose", "test")
        .destination_key_id(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(re.source_key_id(), Some(arn.as_str()));
    let back = kms
        .decrypt()
        .ciphertext_blob(re.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(back.plaintext().unwrap().as_ref(), b"attack at dawn");
}

#[tokio::test]
async fn data_keys_and_random() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    let dk = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(dk.plaintext().unwrap().as_ref().len(), 32);
    let again = kms
        .decrypt()
        .ciphertext_blob(dk.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.plaintext().unwrap().as_ref(),
        dk.plaintext().unwrap().as_ref()
    );
    let n = kms
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap();
    let opened = kms
        .decrypt()
        .ciphertext_blob(n.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref().len(), 1024);
    for bad in [0, 1025] {
        let e = kms
            .generate_data_key()
            .key_id(&id)
            .number_of_bytes(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "ValidationException", "{bad}");
    }
    let e = kms
        .generate_data_key()
        .key_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = kms.generate_random().send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let r = kms
        .generate_random()
        .number_of_bytes(77)
        .send()
        .await
        .unwrap();
    assert_eq!(r.plaintext().unwrap().as_ref().len(), 77);
    let pair = kms
        .generate_data_key_pair()
        .key_id(&id)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    let private = kms
        .decrypt()
        .ciphertext_blob(pair.private_key_ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        private.plaintext().unwrap().as_ref(),
        pair.private_key_plaintext().unwrap().as_ref()
    );
    assert!(!pair.public_key().unwrap().as_ref().is_empty());
}

#[tokio::test]
async fn key_states_gate_operations() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    let blob = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    kms.disable_key().key_id(&id).send().await.unwrap();
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DisabledException");
    let e = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DisabledException");
    kms.enable_key().key_id(&id).send().await.unwrap();
    let sched = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(sched.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(sched.pending_window_in_days(), Some(7));
    let e = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KMSInvalidStateException");
    let e = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(6)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    kms.cancel_key_deletion().key_id(&id).send().await.unwrap();
    let md = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        md.key_metadata().unwrap().key_state(),
        Some(&KeyState::Disabled)
    );
    kms.enable_key().key_id(&id).send().await.unwrap();
    kms.decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap();
    // The deletion window ends: the key and its material are gone.
    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    s.advance(7 * DAY + 60).await;
    let mut gone = false;
    for _ in 0..50 {
        let e = kms.describe_key().key_id(&id).send().await;
        if let Err(e) = e {
            assert_eq!(code(&e), "NotFoundException");
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(gone, "key not destroyed after its deletion window");
    let e = kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap_err();
    // The blob names a key that no longer exists: it is simply invalid now.
    assert_eq!(code(&e), "InvalidCiphertextException");
}

#[tokio::test]
async fn rotation_keeps_old_ciphertext_decryptable() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    let old = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"before".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    kms.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    let rotations = kms.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(rotations.rotations().len(), 1);
    let new = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"after".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    for (blob, want) in [(old, &b"before"[..]), (new, &b"after"[..])] {
        let p = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
        assert_eq!(p.plaintext().unwrap().as_ref(), want);
    }
    kms.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(90));
    let e = kms
        .enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(89)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // The scheduler rotates when the period has passed.
    s.advance(91 * DAY).await;
    let mut rotated = false;
    for _ in 0..50 {
        let r = kms.list_key_rotations().key_id(&id).send().await.unwrap();
        if r.rotations().len() == 2 {
            rotated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(rotated, "automatic rotation did not happen");
    // Asymmetric keys cannot be rotated.
    let rsa = key(&kms, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let e = kms
        .enable_key_rotation()
        .key_id(&rsa)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnsupportedOperationException");
}

#[tokio::test]
async fn aliases_name_keys() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let a = symmetric(&kms).await;
    let b = symmetric(&kms).await;
    // UpdateAlias and DeleteAlias of an alias that does not exist: AWS's NotFoundException.
    let missing = format!(
        "Alias arn:aws:kms:us-east-1:{}:alias/none is not found.",
        s.account
    );
    let e = kms
        .update_alias()
        .alias_name("alias/none")
        .target_key_id(&a)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    assert_eq!(
        e.as_service_error().and_then(|e| e.meta().message()),
        Some(missing.as_str())
    );
    let e = kms
        .delete_alias()
        .alias_name("alias/none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    assert_eq!(
        e.as_service_error().and_then(|e| e.meta().message()),
        Some(missing.as_str())
    );
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&a)
        .send()
        .await
        .unwrap();
    let e = kms
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AlreadyExistsException");
    let e = kms
        .create_alias()
        .alias_name("alias/aws/mine")
        .target_key_id(&b)
        .send()
        .await
        .unwrap_err();
    assert!(!code(&e).is_empty());
    let ct = kms
        .encrypt()
        .key_id("alias/app")
        .plaintext(Blob::new(b"hi".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(ct.key_id().unwrap().ends_with(&a));
    let alias_arn = format!("arn:aws:kms:us-east-1:{}:alias/app", s.account);
    let d = kms.describe_key().key_id(&alias_arn).send().await.unwrap();
    assert_eq!(d.key_metadata().unwrap().key_id(), a);
    kms.update_alias()
        .alias_name("alias/app")
        .target_key_id(&b)
        .send()
        .await
        .unwrap();
    let d = kms.describe_key().key_id("alias/app").send().await.unwrap();
    assert_eq!(d.key_metadata().unwrap().key_id(), b);
    // An alias cannot move to a key of another type.
    let hmac = key(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    assert!(
        kms.update_alias()
            .alias_name("alias/app")
            .target_key_id(&hmac)
            .send()
            .await
            .is_err()
    );
    let list = kms.list_aliases().send().await.unwrap();
    let names: Vec<&str> = list
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert!(names.contains(&"alias/app"));
    assert!(names.contains(&"alias/aws/secretsmanager"));
    let mine = kms.list_aliases().key_id(&b).send().await.unwrap();
    assert_eq!(mine.aliases().len(), 1);
    kms.delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .unwrap();
    let e = kms
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
}

#[tokio::test]
async fn asymmetric_sign_verify_and_rsa_encryption() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let cases = [
        (KeySpec::Rsa2048, SigningAlgorithmSpec::RsassaPssSha256),
        (KeySpec::Rsa3072, SigningAlgorithmSpec::RsassaPkcs1V15Sha384),
        (KeySpec::EccNistP256, SigningAlgorithmSpec::EcdsaSha256),
        (KeySpec::EccNistP384, SigningAlgorithmSpec::EcdsaSha384),
        (KeySpec::EccNistP521, SigningAlgorithmSpec::EcdsaSha512),
        (KeySpec::EccSecgP256K1, SigningAlgorithmSpec::EcdsaSha256),
        (
            KeySpec::EccNistEdwards25519,
            SigningAlgorithmSpec::Ed25519Sha512,
        ),
    ];
    for (spec, alg) in cases {
        let id = key(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let sig = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(b"message".to_vec()))
            .message_type(MessageType::Raw)
            .signing_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        let v = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(b"message".to_vec()))
            .signature(sig.signature().unwrap().clone())
            .signing_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        assert!(v.signature_valid(), "{spec:?}");
        let e = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(b"messagf".to_vec()))
            .signature(sig.signature().unwrap().clone())
            .signing_algorithm(alg)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "KMSInvalidSignatureException", "{spec:?}");
        let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
        assert!(!pk.public_key().unwrap().as_ref().is_empty());
        let e = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidKeyUsageException", "{spec:?}");
    }
    let rsa = key(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    for alg in [
        EncryptionAlgorithmSpec::RsaesOaepSha1,
        EncryptionAlgorithmSpec::RsaesOaepSha256,
    ] {
        let ct = kms
            .encrypt()
            .key_id(&rsa)
            .plaintext(Blob::new(b"rsa secret".to_vec()))
            .encryption_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        let pt = kms
            .decrypt()
            .key_id(&rsa)
            .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
            .encryption_algorithm(alg)
            .send()
            .await
            .unwrap();
        assert_eq!(pt.plaintext().unwrap().as_ref(), b"rsa secret");
    }
    let e = kms
        .encrypt()
        .key_id(&rsa)
        .plaintext(Blob::new(vec![1; 191]))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn hmac_keys() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = key(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let mac = kms
        .generate_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(mac.mac().unwrap().as_ref().len(), 32);
    let ok = kms
        .verify_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac(mac.mac().unwrap().clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap();
    assert!(ok.mac_valid());
    let e = kms
        .verify_mac()
        .key_id(&id)
        .message(Blob::new(b"msh".to_vec()))
        .mac(mac.mac().unwrap().clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KMSInvalidMacException");
    let e = kms
        .generate_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha512)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidKeyUsageException");
}

#[tokio::test]
async fn key_policy_and_grants_authorize() {
    let s = TestServer::start();
    let admin = s.kms(&s.admin);
    let id = symmetric(&admin).await;
    let (alice, alice_arn) = user_with_policy(&s, "alice", None).await;
    let kms = s.kms(&alice);
    let enc = || {
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };
    let e = enc().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    // A grant lets alice encrypt, and only encrypt.
    let g = admin
        .create_grant()
        .key_id(&id)
        .grantee_principal(&alice_arn)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    enc().await.unwrap();
    let e = kms.describe_key().key_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let grants = admin.list_grants().key_id(&id).send().await.unwrap();
    assert_eq!(grants.grants().len(), 1);
    admin
        .revoke_grant()
        .key_id(&id)
        .grant_id(g.grant_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(code(&enc().await.unwrap_err()), "AccessDeniedException");
    // A key policy naming alice directly allows her.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"kms:*","Resource":"*"}},
          {{"Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#,
        acct = s.account
    );
    admin
        .put_key_policy()
        .key_id(&id)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    enc().await.unwrap();
    let got = admin.get_key_policy().key_id(&id).send().await.unwrap();
    assert_eq!(got.policy(), Some(policy.as_str()));
    // The lockout safety check refuses a policy that would lock the caller out.
    let lockout = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    let e = admin
        .put_key_policy()
        .key_id(&id)
        .policy(&lockout)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedPolicyDocumentException");
    let e = admin
        .put_key_policy()
        .key_id(&id)
        .policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedPolicyDocumentException");
    // Taking alice out of the policy refuses her next call at once: the key she just used
    // is cached, and the policy write must drop it.
    enc().await.unwrap();
    let without_alice = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        acct = s.account
    );
    admin
        .put_key_policy()
        .key_id(&id)
        .policy(&without_alice)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&enc().await.unwrap_err()), "AccessDeniedException");
}

#[tokio::test]
async fn tags() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    let tag = |k: &str, v: &str| {
        aws_sdk_kms::types::Tag::builder()
            .tag_key(k)
            .tag_value(v)
            .build()
            .unwrap()
    };
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("env", "prod"))
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(t.tags().len(), 2);
    kms.untag_resource()
        .key_id(&id)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let t = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(t.tags().len(), 1);
    let e = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:x", "y"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TagException");
    // aws:RequestTag and aws:TagKeys reach the policy: this user may set only team=blue and
    // remove only the team tag.
    let (tagger, _) = user_with_policy(
        &s,
        "tagger",
        Some(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"kms:TagResource","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}},
              {"Effect":"Allow","Action":"kms:UntagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}"#,
        ),
    )
    .await;
    let as_tagger = s.kms(&tagger);
    let e = as_tagger
        .tag_resource()
        .key_id(&id)
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    as_tagger
        .tag_resource()
        .key_id(&id)
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let e = as_tagger
        .untag_resource()
        .key_id(&id)
        .tag_keys("env")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    as_tagger
        .untag_resource()
        .key_id(&id)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn multi_region_replicas_share_material() {
    let s = TestServer::start();
    let east = s.kms(&s.admin);
    let west = s.kms_in(&s.admin, "us-west-2");
    let md = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .clone();
    let id = md.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    let ct = east
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"everywhere".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let e = west
        .decrypt()
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidCiphertextException");
    let rep = east
        .replicate_key()
        .key_id(&id)
        .replica_region("us-west-2")
        .send()
        .await
        .unwrap();
    let rmd = rep.replica_key_metadata().unwrap();
    assert_eq!(
        rmd.arn().unwrap(),
        format!("arn:aws:kms:us-west-2:{}:key/{id}", s.account)
    );
    let p = west.decrypt().ciphertext_blob(ct).send().await.unwrap();
    assert_eq!(p.plaintext().unwrap().as_ref(), b"everywhere");
    let e = east
        .replicate_key()
        .key_id(&id)
        .replica_region("us-west-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AlreadyExistsException");
    // The primary's rotation reaches the replica.
    east.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let ct2 = east
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"rotated".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let p = west.decrypt().ciphertext_blob(ct2).send().await.unwrap();
    assert_eq!(p.plaintext().unwrap().as_ref(), b"rotated");
    west.update_primary_region()
        .key_id(format!("arn:aws:kms:us-east-1:{}:key/{id}", s.account))
        .primary_region("us-west-2")
        .send()
        .await
        .unwrap_err();
    east.update_primary_region()
        .key_id(&id)
        .primary_region("us-west-2")
        .send()
        .await
        .unwrap();
    let d = west.describe_key().key_id(&id).send().await.unwrap();
    let cfg = d
        .key_metadata()
        .unwrap()
        .multi_region_configuration()
        .unwrap();
    assert_eq!(
        cfg.multi_region_key_type(),
        Some(&aws_sdk_kms::types::MultiRegionKeyType::Primary)
    );
    let single = symmetric(&east).await;
    let e = east
        .replicate_key()
        .key_id(&single)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnsupportedOperationException");
}

#[tokio::test]
async fn imported_material_expires() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = kms
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let md = kms.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        md.key_metadata().unwrap().key_state(),
        Some(&KeyState::PendingImport)
    );
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KMSInvalidStateException");
    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(aws_sdk_kms::types::AlgorithmSpec::RsaAesKeyWrapSha256)
        .wrapping_key_spec(aws_sdk_kms::types::WrappingKeySpec::Rsa3072)
        .send()
        .await
        .unwrap();
    let material = [42u8; 32];
    let wrapped = coffer_crypto::wrap_for_import(
        params.public_key().unwrap().as_ref(),
        coffer_crypto::WrappingAlgorithm::RsaAesKeyWrapSha256,
        &material,
    )
    .unwrap();
    let bad = kms
        .import_key_material()
        .key_id(&id)
        .import_token(Blob::new(b"not the token".to_vec()))
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .expiration_model(aws_sdk_kms::types::ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "InvalidImportTokenException");
    let valid_to = aws_smithy_types::DateTime::from_secs(
        time::OffsetDateTime::now_utc().unix_timestamp() + 2 * DAY as i64,
    );
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().unwrap().clone())
        .encrypted_key_material(Blob::new(wrapped))
        .expiration_model(aws_sdk_kms::types::ExpirationModelType::KeyMaterialExpires)
        .valid_to(valid_to)
        .send()
        .await
        .unwrap();
    let ct = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"imported".to_vec()))
        .send()
        .await
        .unwrap();
    let p = kms
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(p.plaintext().unwrap().as_ref(), b"imported");
    s.advance(3 * DAY).await;
    let mut expired = false;
    for _ in 0..50 {
        let md = kms.describe_key().key_id(&id).send().await.unwrap();
        if md.key_metadata().unwrap().key_state() == Some(&KeyState::PendingImport) {
            expired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(expired, "imported material did not expire");
}

#[tokio::test]
async fn unknown_operation_and_custom_key_stores() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let stores = kms.describe_custom_key_stores().send().await.unwrap();
    assert!(stores.custom_key_stores().is_empty());
    let e = kms
        .connect_custom_key_store()
        .custom_key_store_id("cks-1234567890abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "CustomKeyStoreNotFoundException");
    let usage = kms
        .get_key_last_usage()
        .key_id(symmetric(&kms).await)
        .send()
        .await;
    let usage = usage.unwrap();
    assert!(usage.key_last_usage().is_none());
}

#[tokio::test]
async fn key_last_usage_comes_from_the_audit_trail() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let id = symmetric(&kms).await;
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let u = kms.get_key_last_usage().key_id(&id).send().await.unwrap();
    let last = u.key_last_usage().unwrap();
    assert_eq!(last.operation().map(|o| o.as_str()), Some("Encrypt"));
    assert!(last.cloud_trail_event_id().is_some());
}

/// What a review against AWS's references found: grant constraints compare keys without
/// regard to case and have size limits, `Recipient` (an enclave's attestation, which coffer
/// cannot verify) is refused rather than ignored, and two validation messages use AWS's
/// wording.
#[tokio::test]
async fn grant_constraints_recipient_and_aws_wording() {
    use aws_sdk_kms::types::{GrantConstraints, KeyEncryptionMechanism, RecipientInfo};
    let s = TestServer::start();
    let admin = s.kms(&s.admin);
    let id = symmetric(&admin).await;
    let (alice, alice_arn) = user_with_policy(&s, "alice", None).await;
    let kms = s.kms(&alice);
    let subset = GrantConstraints::builder()
        .encryption_context_subset("PURPOSE", "test")
        .build();
    admin
        .create_grant()
        .key_id(&id)
        .grantee_principal(&alice_arn)
        .operations(GrantOperation::Encrypt)
        .constraints(subset)
        .send()
        .await
        .unwrap();
    let enc = |k: &str, v: &str| {
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_context(k, v)
            .encryption_context("other", "y")
            .send()
    };
    enc("Purpose", "test").await.unwrap();
    let e = enc("Purpose", "TEST").await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");

    let mut nine = GrantConstraints::builder();
    for i in 0..9 {
        nine = nine.encryption_context_equals(format!("k{i}"), "v");
    }
    let long = GrantConstraints::builder()
        .encryption_context_subset("k", "v".repeat(385))
        .build();
    for c in [nine.build(), long] {
        let e = admin
            .create_grant()
            .key_id(&id)
            .grantee_principal(&alice_arn)
            .operations(GrantOperation::Encrypt)
            .constraints(c)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "ValidationException");
    }

    let recipient = RecipientInfo::builder()
        .key_encryption_algorithm(KeyEncryptionMechanism::RsaesOaepSha256)
        .attestation_document(Blob::new(b"not a document".to_vec()))
        .build();
    let ct = admin
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"secret".to_vec()))
        .send()
        .await
        .unwrap();
    let e = admin
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .recipient(recipient.clone())
        .send()
        .await
        .unwrap_err();
    assert_error(
        &e,
        "ValidationException",
        "The Recipient parameter is not supported: coffer cannot verify Nitro Enclaves attestation documents.",
    );
    let e = admin
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .recipient(recipient.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = admin
        .generate_data_key_pair()
        .key_id(&id)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .recipient(recipient.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = admin
        .generate_random()
        .number_of_bytes(8)
        .recipient(recipient.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let ecdh = key(&admin, KeySpec::EccNistP256, KeyUsageType::KeyAgreement).await;
    let peer = admin.get_public_key().key_id(&ecdh).send().await.unwrap();
    let e = admin
        .derive_shared_secret()
        .key_id(&ecdh)
        .key_agreement_algorithm(aws_sdk_kms::types::KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(peer.public_key().unwrap().clone())
        .recipient(recipient)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");

    let rsa = key(&admin, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let e = admin
        .encrypt()
        .key_id(&rsa)
        .plaintext(Blob::new(vec![1; 191]))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&e),
        Some(
            "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes."
        )
    );
    let signer = key(&admin, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let e = admin
        .sign()
        .key_id(&signer)
        .message(Blob::new(vec![7; 31]))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&e),
        Some("Digest is invalid length for algorithm ECDSA_SHA_256.")
    );
    let e = admin
        .verify()
        .key_id(&signer)
        .message(Blob::new(vec![7; 33]))
        .message_type(MessageType::Digest)
        .signature(Blob::new(vec![1; 64]))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&e),
        Some("Digest is invalid length for algorithm ECDSA_SHA_256.")
    );
}

/// Values the KMS model lists that coffer refuses: the SM family (China Regions only) and
/// ML-DSA's EXTERNAL_MU message type fail with UnsupportedOperationException, not as a
/// malformed body, and create nothing; a value outside the model stays a
/// ValidationException.
#[tokio::test]
async fn refused_model_values_are_unsupported_operations() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let keys_before = kms.list_keys().send().await.unwrap().keys().len();
    let e = kms
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap_err();
    assert_error(
        &e,
        "UnsupportedOperationException",
        "KeySpec SM2 is not supported in this Region",
    );
    assert_eq!(
        kms.list_keys().send().await.unwrap().keys().len(),
        keys_before,
        "a refused CreateKey creates nothing"
    );
    let id = symmetric(&kms).await;
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await
        .unwrap_err();
    assert_error(
        &e,
        "UnsupportedOperationException",
        "EncryptionAlgorithm SM2PKE is not supported in this Region",
    );
    let ml = key(&kms, KeySpec::MlDsa65, KeyUsageType::SignVerify).await;
    let e = kms
        .sign()
        .key_id(&ml)
        .message(Blob::new(vec![0u8; 64]))
        .message_type(MessageType::ExternalMu)
        .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
        .send()
        .await
        .unwrap_err();
    assert_error(
        &e,
        "UnsupportedOperationException",
        "MessageType EXTERNAL_MU is not supported by coffer",
    );
    let e = kms
        .create_key()
        .key_spec(KeySpec::from("RSA_1024"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

/// ML-DSA keys (FIPS 204) of all three parameter sets: DescribeKey lists ML_DSA_SHAKE_256,
/// Sign takes RAW messages and Verify checks them, a changed message or signature is
/// KMSInvalidSignatureException, DIGEST is refused, and GetPublicKey returns the key as DER
/// SubjectPublicKeyInfo. (Python's `cryptography` verifies the signatures against those
/// public keys in `scripts/smoke-kms.sh`.)
#[tokio::test]
async fn ml_dsa_keys_sign_and_verify() {
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let msg = b"a post-quantum signature".to_vec();
    for (spec, sig_len) in [
        (KeySpec::MlDsa44, 2420),
        (KeySpec::MlDsa65, 3309),
        (KeySpec::MlDsa87, 4627),
    ] {
        let id = key(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let md = kms.describe_key().key_id(&id).send().await.unwrap();
        let md = md.key_metadata().unwrap();
        assert_eq!(md.key_spec(), Some(&spec));
        assert_eq!(
            md.signing_algorithms(),
            &[SigningAlgorithmSpec::MlDsaShake256]
        );
        let sign = |m: Vec<u8>, mt: MessageType| {
            kms.sign()
                .key_id(&id)
                .message(Blob::new(m))
                .message_type(mt)
                .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
                .send()
        };
        let sig = sign(msg.clone(), MessageType::Raw).await.unwrap();
        let sig = sig.signature().unwrap().as_ref().to_vec();
        assert_eq!(sig.len(), sig_len, "{spec:?}");
        let verify = |m: Vec<u8>, sig: Vec<u8>| {
            kms.verify()
                .key_id(&id)
                .message(Blob::new(m))
                .message_type(MessageType::Raw)
                .signature(Blob::new(sig))
                .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
                .send()
        };
        assert!(
            verify(msg.clone(), sig.clone())
                .await
                .unwrap()
                .signature_valid()
        );
        let e = verify(b"another message".to_vec(), sig.clone())
            .await
            .unwrap_err();
        assert_eq!(code(&e), "KMSInvalidSignatureException");
        let mut bad = sig.clone();
        bad[10] ^= 1;
        let e = verify(msg.clone(), bad).await.unwrap_err();
        assert_eq!(code(&e), "KMSInvalidSignatureException");
        let e = sign(vec![0u8; 64], MessageType::Digest).await.unwrap_err();
        assert_error(
            &e,
            "ValidationException",
            "The ML_DSA_SHAKE_256 signing algorithm does not accept MessageType DIGEST.",
        );
        let e = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(msg.clone()))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidKeyUsageException");
        let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(pk.key_spec(), Some(&spec));
        assert_eq!(
            pk.signing_algorithms(),
            &[SigningAlgorithmSpec::MlDsaShake256]
        );
        // A DER SEQUENCE whose BIT STRING carries the FIPS 204 public key.
        let der = pk.public_key().unwrap().as_ref();
        assert_eq!(der[0], 0x30);
        let raw_len = match spec {
            KeySpec::MlDsa44 => 1312,
            KeySpec::MlDsa65 => 1952,
            _ => 2592,
        };
        assert!(
            der.len() > raw_len && der.len() < raw_len + 32,
            "{}",
            der.len()
        );
    }
}

/// A tag key given twice in one request is refused with TagException, as AWS does, and the
/// refused call changes nothing; a key already on the KMS key is simply overwritten.
#[tokio::test]
async fn duplicate_tag_keys_in_one_request_are_refused() {
    let tag = |k: &str, v: &str| {
        aws_sdk_kms::types::Tag::builder()
            .tag_key(k)
            .tag_value(v)
            .build()
            .unwrap()
    };
    let s = TestServer::start();
    let kms = s.kms(&s.admin);
    let keys_before = kms.list_keys().send().await.unwrap().keys().len();
    let e = kms
        .create_key()
        .tags(tag("team", "a"))
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap_err();
    assert_error(&e, "TagException", "Duplicate tag keys");
    assert_eq!(
        kms.list_keys().send().await.unwrap().keys().len(),
        keys_before
    );

    let id = symmetric(&kms).await;
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap();
    let e = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("env", "x"))
        .tags(tag("env", "y"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TagException");
    let tags = |kms: Client, id: String| async move {
        kms.list_resource_tags()
            .key_id(id)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tags(kms.clone(), id.clone()).await,
        vec![("team".to_owned(), "a".to_owned())]
    );
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(kms.clone(), id.clone()).await,
        vec![("team".to_owned(), "b".to_owned())]
    );
}
