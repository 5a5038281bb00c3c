//! The KMS matrix through `aws-sdk-kms`, table-driven: every key spec with every algorithm it
//! supports (checked against local cryptography where the result is computable), the
//! key-state table for a representative set of operations, every documented error coffer
//! raises, grants and key policies with their conditions, cross-account use, and paging.
//! `kms.rs` covers the main flows; this file covers the rest.

use crate::authz::user_created_by;
use crate::kit::{Creds, TestServer, bin};
use crate::kms::{key, symmetric};
use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    AlgorithmSpec, EncryptionAlgorithmSpec, ExpirationModelType, GrantConstraints, GrantOperation,
    IncludeKeyMaterial, KeyAgreementAlgorithmSpec, KeySpec, KeyState, KeyUsageType,
    MacAlgorithmSpec, MessageType, OriginType, SigningAlgorithmSpec, Tag, WrappingKeySpec,
};
use coffer_crypto::AsymSpec;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

pub(crate) const OTHER_ACCOUNT: &str = "222233334444";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A KMS client that does not retry: every refusal below is asserted on the first answer.
fn client(s: &TestServer, c: &Creds) -> Client {
    let conf = s
        .kms(c)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// The error code of a call that must fail.
fn fails<T: std::fmt::Debug, E: ProvideErrorMetadata>(r: Result<T, E>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().unwrap_or("<none>").to_owned(),
    }
}

/// The error code and HTTP status of a call that must fail.
fn fails_with_status<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    r: Result<T, SdkError<E>>,
) -> (String, u16) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            (e.code().unwrap_or("<none>").to_owned(), status)
        }
    }
}

async fn external(kms: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .origin(OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned()
}

async fn metadata(kms: &Client, id: &str) -> aws_sdk_kms::types::KeyMetadata {
    kms.describe_key()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .clone()
}

async fn state(kms: &Client, id: &str) -> KeyState {
    metadata(kms, id).await.key_state().unwrap().clone()
}

async fn arn(kms: &Client, id: &str) -> String {
    metadata(kms, id).await.arn().unwrap().to_owned()
}

/// What [`encrypt`] encrypts.
pub(crate) const PLAINTEXT: &[u8] = b"matrix";

/// Encrypts [`PLAINTEXT`] under `id` with the context `ctx`.
pub(crate) async fn encrypt(kms: &Client, id: &str, ctx: &[(&str, &str)]) -> Blob {
    let mut req = kms
        .encrypt()
        .key_id(id)
        .plaintext(Blob::new(PLAINTEXT.to_vec()));
    for (k, v) in ctx {
        req = req.encryption_context(*k, *v);
    }
    req.send().await.unwrap().ciphertext_blob().unwrap().clone()
}

/// Wraps `material` with fresh import parameters and imports it (no expiry).
async fn import_material(kms: &Client, id: &str, material: &[u8]) {
    try_import_material(kms, id, material).await.unwrap();
}

/// [`import_material`], returning ImportKeyMaterial's answer. Material that RSA-2048 OAEP
/// can carry (symmetric and HMAC keys) is wrapped with RSAES_OAEP_SHA_256; a private key
/// is too long for it and goes with RSA_AES_KEY_WRAP_SHA_256 under RSA-3072, as AWS's
/// import guide pairs them.
async fn try_import_material(
    kms: &Client,
    id: &str,
    material: &[u8],
) -> Result<(), SdkError<aws_sdk_kms::operation::import_key_material::ImportKeyMaterialError>> {
    let (alg, spec, local) = if material.len() <= 190 {
        (
            AlgorithmSpec::RsaesOaepSha256,
            WrappingKeySpec::Rsa2048,
            coffer_crypto::WrappingAlgorithm::RsaesOaepSha256,
        )
    } else {
        (
            AlgorithmSpec::RsaAesKeyWrapSha256,
            WrappingKeySpec::Rsa3072,
            coffer_crypto::WrappingAlgorithm::RsaAesKeyWrapSha256,
        )
    };
    let p = kms
        .get_parameters_for_import()
        .key_id(id)
        .wrapping_algorithm(alg)
        .wrapping_key_spec(spec)
        .send()
        .await
        .unwrap();
    let wrapped =
        coffer_crypto::wrap_for_import(p.public_key().unwrap().as_ref(), local, material).unwrap();
    kms.import_key_material()
        .key_id(id)
        .import_token(p.import_token().unwrap().clone())
        .encrypted_key_material(Blob::new(wrapped))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .map(|_| ())
}

fn identity_policy_allowing(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}

/// A key policy: the account delegates to IAM, plus `extra` statements (JSON objects).
fn key_policy(account: &str, extra: &[String]) -> String {
    let mut stmts = vec![format!(
        r#"{{"Sid":"root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}"#
    )];
    stmts.extend(extra.iter().cloned());
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    )
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

fn names<T: AsRef<str>>(v: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    v.into_iter().map(|x| x.as_ref().to_owned()).collect()
}

fn asym(spec: &KeySpec) -> AsymSpec {
    match spec {
        KeySpec::Rsa2048 => AsymSpec::Rsa2048,
        KeySpec::Rsa3072 => AsymSpec::Rsa3072,
        KeySpec::Rsa4096 => AsymSpec::Rsa4096,
        KeySpec::EccNistP256 => AsymSpec::EccNistP256,
        KeySpec::EccNistP384 => AsymSpec::EccNistP384,
        KeySpec::EccNistP521 => AsymSpec::EccNistP521,
        KeySpec::EccSecgP256K1 => AsymSpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519 => AsymSpec::EccNistEd25519,
        other => panic!("not an asymmetric spec: {other:?}"),
    }
}

fn crypto_alg(a: &SigningAlgorithmSpec) -> coffer_crypto::SigningAlgorithm {
    use SigningAlgorithmSpec as S;
    use coffer_crypto::SigningAlgorithm as C;
    match a {
        S::RsassaPssSha256 => C::RsassaPssSha256,
        S::RsassaPssSha384 => C::RsassaPssSha384,
        S::RsassaPssSha512 => C::RsassaPssSha512,
        S::RsassaPkcs1V15Sha256 => C::RsassaPkcs1V15Sha256,
        S::RsassaPkcs1V15Sha384 => C::RsassaPkcs1V15Sha384,
        S::RsassaPkcs1V15Sha512 => C::RsassaPkcs1V15Sha512,
        S::EcdsaSha256 => C::EcdsaSha256,
        S::EcdsaSha384 => C::EcdsaSha384,
        S::EcdsaSha512 => C::EcdsaSha512,
        S::Ed25519Sha512 => C::Ed25519Sha512,
        S::Ed25519PhSha512 => C::Ed25519PhSha512,
        other => panic!("unexpected algorithm {other:?}"),
    }
}

/// SHA-384 and SHA-512 through the `openssl` CLI: coffer-crypto exposes only SHA-256, and
/// this test crate may not add a digest dependency.
fn openssl_digest(name: &str, msg: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", &format!("-{name}"), "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the openssl CLI computes SHA-384/512 digests for DIGEST signing");
    child.stdin.take().unwrap().write_all(msg).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl dgst -{name} failed");
    out.stdout
}

/// The digest a DIGEST-type message must be for `alg`.
fn digest_for(alg: &SigningAlgorithmSpec, msg: &[u8]) -> Vec<u8> {
    let s = alg.as_str();
    let d = if s.ends_with("SHA_256") {
        coffer_crypto::sha256(msg).to_vec()
    } else if s.ends_with("SHA_384") {
        openssl_digest("sha384", msg)
    } else {
        openssl_digest("sha512", msg)
    };
    assert_eq!(
        Some(d.len()),
        coffer_crypto::SigningAlgorithm::digest_len(crypto_alg(alg))
    );
    d
}

async fn sign(
    kms: &Client,
    id: &str,
    alg: &SigningAlgorithmSpec,
    mt: MessageType,
    msg: &[u8],
) -> Result<Vec<u8>, String> {
    kms.sign()
        .key_id(id)
        .message(Blob::new(msg.to_vec()))
        .message_type(mt)
        .signing_algorithm(alg.clone())
        .send()
        .await
        .map(|o| {
            assert_eq!(o.signing_algorithm(), Some(alg));
            o.signature().unwrap().as_ref().to_vec()
        })
        .map_err(|e| e.code().unwrap_or("<none>").to_owned())
}

async fn verify(
    kms: &Client,
    id: &str,
    alg: &SigningAlgorithmSpec,
    mt: MessageType,
    msg: &[u8],
    sig: &[u8],
) -> Result<bool, String> {
    kms.verify()
        .key_id(id)
        .message(Blob::new(msg.to_vec()))
        .message_type(mt)
        .signature(Blob::new(sig.to_vec()))
        .signing_algorithm(alg.clone())
        .send()
        .await
        .map(|o| o.signature_valid())
        .map_err(|e| e.code().unwrap_or("<none>").to_owned())
}

// ---------------------------------------------------------------------------------------
// 1. Signing: every key spec x every algorithm it supports, RAW and DIGEST
// ---------------------------------------------------------------------------------------

/// Sign and Verify with one algorithm, RAW and DIGEST, cross-checked with coffer-crypto's
/// verification against GetPublicKey's key.
async fn check_signing_algorithm(
    kms: &Client,
    id: &str,
    spec: &KeySpec,
    alg: &SigningAlgorithmSpec,
    spki: &[u8],
) {
    let msg = format!("message for {} with {}", spec.as_str(), alg.as_str()).into_bytes();
    let digest = digest_for(alg, &msg);
    let ctx = format!("{spec:?} {alg:?}");
    let raw_sig = sign(kms, id, alg, MessageType::Raw, &msg)
        .await
        .expect(&ctx);
    let local = |m: &[u8], mt, sig: &[u8]| {
        coffer_crypto::verify(asym(spec), spki, crypto_alg(alg), mt, m, sig).unwrap()
    };
    assert!(
        local(&msg, coffer_crypto::MessageType::Raw, &raw_sig),
        "{ctx}: local RAW"
    );
    assert_eq!(
        verify(kms, id, alg, MessageType::Raw, &msg, &raw_sig).await,
        Ok(true),
        "{ctx}"
    );
    // RAW signs the hash of the message, so the same signature verifies as a DIGEST.
    assert_eq!(
        verify(kms, id, alg, MessageType::Digest, &digest, &raw_sig).await,
        Ok(true),
        "{ctx}: RAW signature as DIGEST"
    );
    let digest_sig = sign(kms, id, alg, MessageType::Digest, &digest)
        .await
        .expect(&ctx);
    assert!(
        local(&msg, coffer_crypto::MessageType::Raw, &digest_sig),
        "{ctx}: local DIGEST"
    );
    assert_eq!(
        verify(kms, id, alg, MessageType::Raw, &msg, &digest_sig).await,
        Ok(true),
        "{ctx}"
    );
    // A digest of the wrong length.
    let short = &digest[..digest.len() - 1];
    assert_eq!(
        sign(kms, id, alg, MessageType::Digest, short).await,
        Err("ValidationException".into()),
        "{ctx}: short digest"
    );
    assert_eq!(
        verify(kms, id, alg, MessageType::Digest, short, &digest_sig).await,
        Err("ValidationException".into()),
        "{ctx}: short digest"
    );
}

#[tokio::test]
async fn signing_every_spec_and_algorithm() {
    use SigningAlgorithmSpec as S;
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let rsa = vec![
        S::RsassaPkcs1V15Sha256,
        S::RsassaPkcs1V15Sha384,
        S::RsassaPkcs1V15Sha512,
        S::RsassaPssSha256,
        S::RsassaPssSha384,
        S::RsassaPssSha512,
    ];
    // Spec, the algorithms DescribeKey lists, one algorithm the spec does not support.
    let table = [
        (KeySpec::Rsa2048, rsa.clone(), S::EcdsaSha256),
        (KeySpec::Rsa3072, rsa.clone(), S::Ed25519Sha512),
        (KeySpec::Rsa4096, rsa, S::EcdsaSha512),
        (KeySpec::EccNistP256, vec![S::EcdsaSha256], S::EcdsaSha384),
        (KeySpec::EccNistP384, vec![S::EcdsaSha384], S::EcdsaSha256),
        (
            KeySpec::EccNistP521,
            vec![S::EcdsaSha512],
            S::RsassaPssSha512,
        ),
        (KeySpec::EccSecgP256K1, vec![S::EcdsaSha256], S::EcdsaSha512),
        (
            KeySpec::EccNistEdwards25519,
            vec![S::Ed25519Sha512, S::Ed25519PhSha512],
            S::EcdsaSha512,
        ),
    ];
    for (spec, algs, wrong) in &table {
        let id = key(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let md = metadata(&kms, &id).await;
        assert_eq!(md.key_spec(), Some(spec));
        assert_eq!(names(md.signing_algorithms()), names(algs), "{spec:?}");
        assert!(md.encryption_algorithms().is_empty(), "{spec:?}");
        let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(names(pk.signing_algorithms()), names(algs), "{spec:?}");
        assert_eq!(pk.key_usage(), Some(&KeyUsageType::SignVerify));
        let spki = pk.public_key().unwrap().as_ref().to_vec();
        for alg in algs.iter().filter(|a| !a.as_str().starts_with("ED25519")) {
            check_signing_algorithm(&kms, &id, spec, alg, &spki).await;
        }
        let m = b"wrong algorithm";
        assert_eq!(
            sign(&kms, &id, wrong, MessageType::Raw, m).await,
            Err("InvalidKeyUsageException".into()),
            "{spec:?} with {wrong:?}"
        );
        assert_eq!(
            verify(&kms, &id, wrong, MessageType::Raw, m, &[0u8; 64]).await,
            Err("InvalidKeyUsageException".into()),
            "{spec:?} with {wrong:?}"
        );
    }
}

#[tokio::test]
async fn ed25519_message_types() {
    use SigningAlgorithmSpec as S;
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let id = key(&kms, KeySpec::EccNistEdwards25519, KeyUsageType::SignVerify).await;
    let spki = kms
        .get_public_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .public_key()
        .unwrap()
        .as_ref()
        .to_vec();
    // Verification outside the server, against GetPublicKey's key.
    let verify_locally = |alg, mt, m: &[u8], sig: &[u8]| {
        coffer_crypto::verify(AsymSpec::EccNistEd25519, &spki, alg, mt, m, sig).unwrap()
    };
    let msg = b"pure ed25519".to_vec();
    let sig = sign(&kms, &id, &S::Ed25519Sha512, MessageType::Raw, &msg)
        .await
        .unwrap();
    assert_eq!(sig.len(), 64);
    assert!(verify_locally(
        coffer_crypto::SigningAlgorithm::Ed25519Sha512,
        coffer_crypto::MessageType::Raw,
        &msg,
        &sig
    ));
    assert_eq!(
        verify(&kms, &id, &S::Ed25519Sha512, MessageType::Raw, &msg, &sig).await,
        Ok(true)
    );
    // ED25519_SHA_512 requires MessageType RAW; ED25519_PH_SHA_512 requires DIGEST (Sign,
    // MessageType member documentation).
    let digest = digest_for(&S::Ed25519PhSha512, &msg);
    assert_eq!(
        sign(&kms, &id, &S::Ed25519Sha512, MessageType::Digest, &digest).await,
        Err("ValidationException".into())
    );
    assert_eq!(
        sign(&kms, &id, &S::Ed25519PhSha512, MessageType::Raw, &msg).await,
        Err("ValidationException".into())
    );
    // A DIGEST must be exactly SHA-512's 64 bytes.
    assert_eq!(
        sign(
            &kms,
            &id,
            &S::Ed25519PhSha512,
            MessageType::Digest,
            &digest[..32]
        )
        .await,
        Err("ValidationException".into())
    );
    // Ed25519ph over the SHA-512 digest: deterministic, verified by Verify and by
    // coffer-crypto against GetPublicKey's key, and not interchangeable with pure Ed25519.
    let ph = sign(&kms, &id, &S::Ed25519PhSha512, MessageType::Digest, &digest)
        .await
        .unwrap();
    assert_eq!(ph.len(), 64);
    assert_ne!(ph, sig);
    assert_eq!(
        sign(&kms, &id, &S::Ed25519PhSha512, MessageType::Digest, &digest).await,
        Ok(ph.clone())
    );
    assert!(verify_locally(
        coffer_crypto::SigningAlgorithm::Ed25519PhSha512,
        coffer_crypto::MessageType::Digest,
        &digest,
        &ph
    ));
    // Verify with ED25519_PH_SHA_512 over (digest, signature): only the right pair holds;
    // a failed check is KMSInvalidSignatureException, as AWS answers it.
    let other = digest_for(&S::Ed25519PhSha512, b"another message");
    let invalid = Err("KMSInvalidSignatureException".to_owned());
    for (d, signature, want) in [
        (&digest, &ph, Ok(true)),
        (&other, &ph, invalid.clone()),
        (&digest, &sig, invalid.clone()),
    ] {
        let got = verify(
            &kms,
            &id,
            &S::Ed25519PhSha512,
            MessageType::Digest,
            d,
            signature,
        );
        assert_eq!(got.await, want);
    }
    // Nor does the Ed25519ph signature pass as a pure Ed25519 one.
    assert_eq!(
        verify(&kms, &id, &S::Ed25519Sha512, MessageType::Raw, &msg, &ph).await,
        invalid
    );
}

// ---------------------------------------------------------------------------------------
// 2. RSA encryption limits and the algorithm lists
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rsa_encryption_limits_and_algorithm_lists() {
    use EncryptionAlgorithmSpec as E;
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let table = [
        (KeySpec::Rsa2048, 214, 190),
        (KeySpec::Rsa3072, 342, 318),
        (KeySpec::Rsa4096, 470, 446),
    ];
    for (spec, max_sha1, max_sha256) in table {
        let id = key(&kms, spec.clone(), KeyUsageType::EncryptDecrypt).await;
        let md = metadata(&kms, &id).await;
        let want = names([E::RsaesOaepSha1, E::RsaesOaepSha256]);
        assert_eq!(names(md.encryption_algorithms()), want, "{spec:?}");
        assert!(md.signing_algorithms().is_empty(), "{spec:?}");
        assert!(md.mac_algorithms().is_empty(), "{spec:?}");
        let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(names(pk.encryption_algorithms()), want, "{spec:?}");
        let spki = pk.public_key().unwrap().as_ref().to_vec();
        for (alg, max, hash) in [
            (E::RsaesOaepSha1, max_sha1, coffer_crypto::OaepHash::Sha1),
            (
                E::RsaesOaepSha256,
                max_sha256,
                coffer_crypto::OaepHash::Sha256,
            ),
        ] {
            let ctx = format!("{spec:?} {alg:?}");
            let plain: Vec<u8> = (0..max).map(|i| (i % 251) as u8).collect();
            let ct = kms
                .encrypt()
                .key_id(&id)
                .plaintext(Blob::new(plain.clone()))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect(&ctx);
            assert_eq!(ct.encryption_algorithm(), Some(&alg));
            let back = kms
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect(&ctx);
            assert_eq!(
                back.plaintext().unwrap().as_ref(),
                plain.as_slice(),
                "{ctx}"
            );
            // Encrypted locally to the public key, decrypted by KMS.
            let local = coffer_crypto::rsa_oaep_encrypt(&spki, hash, &plain).unwrap();
            let back = kms
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(Blob::new(local))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect(&ctx);
            assert_eq!(
                back.plaintext().unwrap().as_ref(),
                plain.as_slice(),
                "{ctx}"
            );
            let over = vec![1u8; max + 1];
            let e = kms
                .encrypt()
                .key_id(&id)
                .plaintext(Blob::new(over))
                .encryption_algorithm(alg.clone())
                .send()
                .await;
            assert_eq!(fails(e), "ValidationException", "{ctx}: one byte over");
        }
        // SYMMETRIC_DEFAULT is not an algorithm of an RSA key.
        let e = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_algorithm(E::SymmetricDefault)
            .send()
            .await;
        assert_eq!(fails(e), "InvalidKeyUsageException", "{spec:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 3. HMAC: every spec with its algorithm
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn hmac_every_spec() {
    use MacAlgorithmSpec as M;
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let table = [
        (
            KeySpec::Hmac224,
            M::HmacSha224,
            coffer_crypto::MacAlgorithm::HmacSha224,
            28,
        ),
        (
            KeySpec::Hmac256,
            M::HmacSha256,
            coffer_crypto::MacAlgorithm::HmacSha256,
            32,
        ),
        (
            KeySpec::Hmac384,
            M::HmacSha384,
            coffer_crypto::MacAlgorithm::HmacSha384,
            48,
        ),
        (
            KeySpec::Hmac512,
            M::HmacSha512,
            coffer_crypto::MacAlgorithm::HmacSha512,
            64,
        ),
    ];
    let all = [M::HmacSha224, M::HmacSha256, M::HmacSha384, M::HmacSha512];
    let msg = b"mac me".to_vec();
    for (spec, alg, local_alg, len) in table {
        let ctx = format!("{spec:?}");
        // A generated key: the lists, the tag length, VerifyMac, and the wrong algorithms.
        let id = key(&kms, spec.clone(), KeyUsageType::GenerateVerifyMac).await;
        let md = metadata(&kms, &id).await;
        assert_eq!(md.mac_algorithms(), std::slice::from_ref(&alg), "{ctx}");
        assert!(md.encryption_algorithms().is_empty() && md.signing_algorithms().is_empty());
        let mac = kms
            .generate_mac()
            .key_id(&id)
            .message(Blob::new(msg.clone()))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect(&ctx);
        assert_eq!(mac.mac_algorithm(), Some(&alg));
        let tag = mac.mac().unwrap().as_ref().to_vec();
        assert_eq!(tag.len(), len, "{ctx}");
        let ok = kms
            .verify_mac()
            .key_id(&id)
            .message(Blob::new(msg.clone()))
            .mac(Blob::new(tag.clone()))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect(&ctx);
        assert!(ok.mac_valid());
        for other in all.iter().filter(|a| **a != alg) {
            let e = kms
                .generate_mac()
                .key_id(&id)
                .message(Blob::new(msg.clone()))
                .mac_algorithm(other.clone())
                .send()
                .await;
            assert_eq!(fails(e), "InvalidKeyUsageException", "{ctx} {other:?}");
            let e = kms
                .verify_mac()
                .key_id(&id)
                .message(Blob::new(msg.clone()))
                .mac(Blob::new(tag.clone()))
                .mac_algorithm(other.clone())
                .send()
                .await;
            assert_eq!(fails(e), "InvalidKeyUsageException", "{ctx} {other:?}");
        }
        // Imported material of the spec's length: the MAC is exactly HMAC(material, msg).
        let ext = external(&kms, spec.clone(), KeyUsageType::GenerateVerifyMac).await;
        let material: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        import_material(&kms, &ext, &material).await;
        let mac = kms
            .generate_mac()
            .key_id(&ext)
            .message(Blob::new(msg.clone()))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect(&ctx);
        let want = coffer_crypto::hmac(local_alg, &material, &msg);
        assert_eq!(
            mac.mac().unwrap().as_ref(),
            want.as_slice(),
            "{ctx}: imported"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 4. Key agreement
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn ecdh_key_agreement() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let table = [
        (
            KeySpec::EccNistP256,
            AsymSpec::EccNistP256,
            AsymSpec::EccNistP384,
        ),
        (
            KeySpec::EccNistP384,
            AsymSpec::EccNistP384,
            AsymSpec::EccNistP521,
        ),
        (
            KeySpec::EccNistP521,
            AsymSpec::EccNistP521,
            AsymSpec::EccNistP256,
        ),
    ];
    for (spec, curve, other_curve) in table {
        let ctx = format!("{spec:?}");
        let id = key(&kms, spec.clone(), KeyUsageType::KeyAgreement).await;
        let key_arn = arn(&kms, &id).await;
        let md = metadata(&kms, &id).await;
        assert_eq!(
            md.key_agreement_algorithms(),
            &[KeyAgreementAlgorithmSpec::Ecdh]
        );
        assert!(md.signing_algorithms().is_empty(), "{ctx}");
        let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(
            pk.key_agreement_algorithms(),
            &[KeyAgreementAlgorithmSpec::Ecdh]
        );
        assert_eq!(pk.key_usage(), Some(&KeyUsageType::KeyAgreement));
        let peer = coffer_crypto::generate_private_key(curve).unwrap();
        let peer_pub = coffer_crypto::public_key_spki(curve, &peer).unwrap();
        let want =
            coffer_crypto::ecdh_shared_secret(curve, &peer, pk.public_key().unwrap().as_ref())
                .unwrap();
        let out = kms
            .derive_shared_secret()
            .key_id(&id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(peer_pub))
            .send()
            .await
            .expect(&ctx);
        assert_eq!(
            out.shared_secret().unwrap().as_ref(),
            want.as_slice(),
            "{ctx}"
        );
        assert_eq!(out.key_id(), Some(key_arn.as_str()));
        assert_eq!(
            out.key_agreement_algorithm(),
            Some(&KeyAgreementAlgorithmSpec::Ecdh)
        );
        assert_eq!(out.key_origin(), Some(&OriginType::AwsKms));
        // A peer key on another curve, and bytes that are no key at all.
        let wrong = coffer_crypto::generate_private_key(other_curve).unwrap();
        let wrong_pub = coffer_crypto::public_key_spki(other_curve, &wrong).unwrap();
        for bad in [wrong_pub, b"not a key".to_vec()] {
            let e = kms
                .derive_shared_secret()
                .key_id(&id)
                .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
                .public_key(Blob::new(bad))
                .send()
                .await;
            assert_eq!(fails(e), "ValidationException", "{ctx}");
        }
        // A key-agreement key does not sign.
        let e = sign(
            &kms,
            &id,
            &SigningAlgorithmSpec::EcdsaSha256,
            MessageType::Raw,
            b"m",
        )
        .await;
        assert_eq!(e, Err("InvalidKeyUsageException".into()), "{ctx}");
    }
    // A signing key does not agree; secp256k1 has no KEY_AGREEMENT usage.
    let signer = key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let peer = coffer_crypto::generate_private_key(AsymSpec::EccNistP256).unwrap();
    let e = kms
        .derive_shared_secret()
        .key_id(&signer)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(Blob::new(
            coffer_crypto::public_key_spki(AsymSpec::EccNistP256, &peer).unwrap(),
        ))
        .send()
        .await;
    assert_eq!(fails(e), "InvalidKeyUsageException");
    let e = kms
        .create_key()
        .key_spec(KeySpec::EccSecgP256K1)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await;
    assert_eq!(fails(e), "ValidationException");
}

// ---------------------------------------------------------------------------------------
// 5. The key-state table
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum St {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

const STATES: [St; 4] = [
    St::Enabled,
    St::Disabled,
    St::PendingDeletion,
    St::PendingImport,
];

/// A fresh symmetric key in `st`, with a ciphertext made under it. The PendingImport key is
/// an EXTERNAL key whose material was imported, used, then deleted.
async fn key_in(kms: &Client, st: St) -> (String, Blob) {
    if st == St::PendingImport {
        let id = external(kms, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
        assert_eq!(state(kms, &id).await, KeyState::PendingImport);
        import_material(kms, &id, &[9u8; 32]).await;
        let ct = encrypt(kms, &id, &[]).await;
        kms.delete_imported_key_material()
            .key_id(&id)
            .send()
            .await
            .unwrap();
        assert_eq!(state(kms, &id).await, KeyState::PendingImport);
        return (id, ct);
    }
    let id = symmetric(kms).await;
    let ct = encrypt(kms, &id, &[]).await;
    match st {
        St::Disabled => {
            kms.disable_key().key_id(&id).send().await.unwrap();
        }
        St::PendingDeletion => {
            kms.schedule_key_deletion()
                .key_id(&id)
                .pending_window_in_days(7)
                .send()
                .await
                .unwrap();
        }
        _ => {}
    }
    (id, ct)
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Encrypt,
    Decrypt,
    GenerateDataKey,
    DescribeKey,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    CreateAlias,
    CreateGrant,
    GetKeyPolicy,
    EnableKeyRotation,
}

/// Runs `op` on `id`; `Ok` or the error code.
async fn run(
    kms: &Client,
    op: Op,
    id: &str,
    ct: &Blob,
    grantee: &str,
    n: usize,
) -> Result<(), String> {
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("<none>").to_owned();
    match op {
        Op::Encrypt => kms
            .encrypt()
            .key_id(id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::Decrypt => kms
            .decrypt()
            .ciphertext_blob(ct.clone())
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::GenerateDataKey => kms
            .generate_data_key()
            .key_id(id)
            .number_of_bytes(32)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::DescribeKey => kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::EnableKey => kms
            .enable_key()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::DisableKey => kms
            .disable_key()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::ScheduleKeyDeletion => kms
            .schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(7)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::CancelKeyDeletion => kms
            .cancel_key_deletion()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::CreateAlias => kms
            .create_alias()
            .alias_name(format!("alias/matrix-{n}"))
            .target_key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::CreateGrant => kms
            .create_grant()
            .key_id(id)
            .grantee_principal(grantee)
            .operations(GrantOperation::Decrypt)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::GetKeyPolicy => kms
            .get_key_policy()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
        Op::EnableKeyRotation => kms
            .enable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
    }
}

#[tokio::test]
async fn key_state_table() {
    const OK: Option<&str> = None;
    const DIS: Option<&str> = Some("DisabledException");
    const INV: Option<&str> = Some("KMSInvalidStateException");
    const UNS: Option<&str> = Some("UnsupportedOperationException");
    // Columns: Enabled, Disabled, PendingDeletion, PendingImport (the developer guide's
    // "Key states of AWS KMS keys" table, as encoded in coffer_kms::ops).
    let table: [(Op, [Option<&str>; 4]); 12] = [
        (Op::Encrypt, [OK, DIS, INV, INV]),
        (Op::Decrypt, [OK, DIS, INV, INV]),
        (Op::GenerateDataKey, [OK, DIS, INV, INV]),
        (Op::DescribeKey, [OK, OK, OK, OK]),
        (Op::EnableKey, [OK, OK, INV, INV]),
        (Op::DisableKey, [OK, OK, INV, INV]),
        (Op::ScheduleKeyDeletion, [OK, OK, INV, OK]),
        (Op::CancelKeyDeletion, [INV, INV, OK, INV]),
        (Op::CreateAlias, [OK, OK, INV, OK]),
        (Op::CreateGrant, [OK, DIS, INV, INV]),
        (Op::GetKeyPolicy, [OK, OK, OK, OK]),
        // [7]: an EXTERNAL key does not rotate automatically whatever its state.
        (Op::EnableKeyRotation, [OK, DIS, INV, UNS]),
    ];
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let (_, grantee) = user_created_by(&s, &s.admin, "grantee", None).await;
    let mut failures = Vec::new();
    let mut n = 0;
    for (op, row) in table {
        for (st, want) in STATES.iter().zip(row) {
            n += 1;
            let (id, ct) = key_in(&kms, *st).await;
            let got = run(&kms, op, &id, &ct, &grantee, n).await;
            if got.as_ref().err().map(String::as_str) != want {
                failures.push(format!("{op:?} in {st:?}: want {want:?}, got {got:?}"));
                continue;
            }
            // Successful state changes land in the documented state.
            let after = match (op, got.is_ok()) {
                (Op::EnableKey, true) => Some(KeyState::Enabled),
                (Op::DisableKey, true) => Some(KeyState::Disabled),
                (Op::ScheduleKeyDeletion, true) => Some(KeyState::PendingDeletion),
                (Op::CancelKeyDeletion, true) => Some(KeyState::Disabled),
                _ => None,
            };
            if let Some(after) = after {
                assert_eq!(state(&kms, &id).await, after, "{op:?} from {st:?}");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "key-state table mismatches:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 6. The named errors
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn not_found_and_incorrect_key() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let acct = &s.account;
    let id = symmetric(&kms).await;
    let missing = "0b0b0b0b-1111-2222-3333-444455556666";
    let refs = [
        missing.to_owned(),
        format!("arn:aws:kms:us-east-1:{acct}:key/{missing}"),
        "alias/does-not-exist".to_owned(),
        format!("arn:aws:kms:us-east-1:{acct}:alias/does-not-exist"),
        // Malformed: AWS answers "Invalid keyId" with NotFoundException.
        "not-a-key-id".to_owned(),
        // An existing key named by an ARN of another Region.
        format!("arn:aws:kms:eu-west-1:{acct}:key/{id}"),
    ];
    for r in &refs {
        assert_eq!(
            fails(kms.describe_key().key_id(r).send().await),
            "NotFoundException",
            "{r}"
        );
        let e = kms
            .encrypt()
            .key_id(r)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await;
        assert_eq!(fails(e), "NotFoundException", "{r}");
    }
    // IncorrectKeyException: the blob is not the named key's.
    let ct = encrypt(&kms, &id, &[]).await;
    let second = symmetric(&kms).await;
    let e = kms
        .decrypt()
        .key_id(&second)
        .ciphertext_blob(ct.clone())
        .send()
        .await;
    assert_eq!(fails(e), "IncorrectKeyException");
    let e = kms
        .re_encrypt()
        .ciphertext_blob(ct)
        .source_key_id(&second)
        .destination_key_id(&id)
        .send()
        .await;
    assert_eq!(fails(e), "IncorrectKeyException");
}

/// A ciphertext blob made by another coffer server names a key this server never had: the
/// ciphertext is invalid here (InvalidCiphertextException, Decrypt's exception for a
/// ciphertext that is "corrupted, missing, or otherwise invalid").
#[tokio::test]
async fn ciphertext_from_another_server() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let other = TestServer::start();
    let okms = client(&other, &other.admin);
    let oid = symmetric(&okms).await;
    let foreign = encrypt(&okms, &oid, &[]).await;
    drop(other);
    let e = kms.decrypt().ciphertext_blob(foreign).send().await;
    assert_eq!(
        fails(e),
        "InvalidCiphertextException",
        "blob from another server"
    );
}

#[tokio::test]
async fn key_usage_dry_run_and_token_errors() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let sym = symmetric(&kms).await;
    let rsa = key(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let ecc = key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let hmac = key(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    // InvalidKeyUsageException.
    let e = kms
        .generate_data_key()
        .key_id(&rsa)
        .number_of_bytes(32)
        .send()
        .await;
    assert_eq!(
        fails(e),
        "InvalidKeyUsageException",
        "GenerateDataKey on RSA"
    );
    let e = kms
        .generate_data_key_pair()
        .key_id(&ecc)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await;
    assert_eq!(
        fails(e),
        "InvalidKeyUsageException",
        "GenerateDataKeyPair on ECC"
    );
    for key in [&sym, &rsa] {
        let e = sign(
            &kms,
            key,
            &SigningAlgorithmSpec::RsassaPssSha256,
            MessageType::Raw,
            b"m",
        )
        .await;
        assert_eq!(
            e,
            Err("InvalidKeyUsageException".into()),
            "Sign on an encryption key"
        );
    }
    let e = kms
        .generate_mac()
        .key_id(&sym)
        .message(Blob::new(b"m".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await;
    assert_eq!(
        fails(e),
        "InvalidKeyUsageException",
        "GenerateMac on symmetric"
    );
    let e = kms
        .encrypt()
        .key_id(&hmac)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(fails(e), "InvalidKeyUsageException", "Encrypt on HMAC");
    // DryRun: DryRunOperationException with HTTP 412, and no effect.
    let ct = encrypt(&kms, &sym, &[]).await;
    let (_, grantee) = user_created_by(&s, &s.admin, "dry", None).await;
    let dry = [
        (
            "Encrypt",
            fails_with_status(
                kms.encrypt()
                    .key_id(&sym)
                    .plaintext(Blob::new(b"x".to_vec()))
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "Decrypt",
            fails_with_status(
                kms.decrypt()
                    .ciphertext_blob(ct.clone())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "GenerateDataKey",
            fails_with_status(
                kms.generate_data_key()
                    .key_id(&sym)
                    .number_of_bytes(16)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "Sign",
            fails_with_status(
                kms.sign()
                    .key_id(&ecc)
                    .message(Blob::new(b"m".to_vec()))
                    .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateGrant",
            fails_with_status(
                kms.create_grant()
                    .key_id(&sym)
                    .grantee_principal(&grantee)
                    .operations(GrantOperation::Encrypt)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
    ];
    for (op, got) in dry {
        assert_eq!(got, ("DryRunOperationException".to_owned(), 412), "{op}");
    }
    let grants = kms.list_grants().key_id(&sym).send().await.unwrap();
    assert!(
        grants.grants().is_empty(),
        "a dry-run CreateGrant created a grant"
    );
    // Grant tokens: a real one is accepted, a malformed one refused.
    let g = kms
        .create_grant()
        .key_id(&sym)
        .grantee_principal(&grantee)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    kms.encrypt()
        .key_id(&sym)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens(g.grant_token().unwrap())
        .send()
        .await
        .unwrap();
    let e = kms
        .encrypt()
        .key_id(&sym)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens("not-a-grant-token")
        .send()
        .await;
    assert_eq!(fails(e), "InvalidGrantTokenException");
    let e = kms
        .retire_grant()
        .grant_token("not-a-grant-token")
        .send()
        .await;
    assert_eq!(fails(e), "InvalidGrantTokenException");
}

#[tokio::test]
async fn limit_tag_policy_and_validation_errors() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let id = symmetric(&kms).await;
    let hmac = key(&kms, KeySpec::Hmac384, KeyUsageType::GenerateVerifyMac).await;
    // InvalidMarkerException on every paged list that takes a marker.
    let bad = "!!not-a-marker!!";
    let (_, grantee) = user_created_by(&s, &s.admin, "m", None).await;
    let markers = [
        ("ListKeys", fails(kms.list_keys().marker(bad).send().await)),
        (
            "ListAliases",
            fails(kms.list_aliases().marker(bad).send().await),
        ),
        (
            "ListGrants",
            fails(kms.list_grants().key_id(&id).marker(bad).send().await),
        ),
        (
            "ListRetirableGrants",
            fails(
                kms.list_retirable_grants()
                    .retiring_principal(&grantee)
                    .marker(bad)
                    .send()
                    .await,
            ),
        ),
        (
            "ListResourceTags",
            fails(
                kms.list_resource_tags()
                    .key_id(&id)
                    .marker(bad)
                    .send()
                    .await,
            ),
        ),
        (
            "ListKeyRotations",
            fails(
                kms.list_key_rotations()
                    .key_id(&id)
                    .marker(bad)
                    .send()
                    .await,
            ),
        ),
    ];
    for (op, got) in markers {
        assert_eq!(got, "InvalidMarkerException", "{op}");
    }
    // LimitExceededException: 25 on-demand rotations per key.
    for i in 0..25 {
        kms.rotate_key_on_demand()
            .key_id(&id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("rotation {i}: {e:?}"));
    }
    let e = kms.rotate_key_on_demand().key_id(&id).send().await;
    assert_eq!(
        fails(e),
        "LimitExceededException",
        "26th on-demand rotation"
    );
    // AlreadyExistsException.
    kms.create_alias()
        .alias_name("alias/dup")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let e = kms
        .create_alias()
        .alias_name("alias/dup")
        .target_key_id(&id)
        .send()
        .await;
    assert_eq!(fails(e), "AlreadyExistsException");
    // TagException: aws: is reserved.
    let e = kms.create_key().tags(tag("aws:owner", "me")).send().await;
    assert_eq!(fails(e), "TagException", "CreateKey");
    let e = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:owner", "me"))
        .send()
        .await;
    assert_eq!(fails(e), "TagException", "TagResource");
    let e = kms
        .untag_resource()
        .key_id(&id)
        .tag_keys("aws:owner")
        .send()
        .await;
    assert_eq!(fails(e), "TagException", "UntagResource");
    // UnsupportedOperationException.
    let e = kms.get_public_key().key_id(&id).send().await;
    assert_eq!(
        fails(e),
        "UnsupportedOperationException",
        "GetPublicKey on symmetric"
    );
    let e = kms.get_public_key().key_id(&hmac).send().await;
    assert_eq!(
        fails(e),
        "UnsupportedOperationException",
        "GetPublicKey on HMAC"
    );
    let e = kms.enable_key_rotation().key_id(&hmac).send().await;
    assert_eq!(
        fails(e),
        "UnsupportedOperationException",
        "EnableKeyRotation on HMAC"
    );
    let e = kms.rotate_key_on_demand().key_id(&hmac).send().await;
    assert_eq!(
        fails(e),
        "UnsupportedOperationException",
        "RotateKeyOnDemand on HMAC"
    );
    let e = kms.get_key_rotation_status().key_id(&hmac).send().await;
    assert_eq!(
        fails(e),
        "UnsupportedOperationException",
        "GetKeyRotationStatus on HMAC"
    );
    // MalformedPolicyDocumentException.
    let lockout = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:user/nobody"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#,
        s.account
    );
    let bad_effect = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Perhaps","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        s.account
    );
    for p in ["{not json", bad_effect.as_str(), lockout.as_str()] {
        assert_eq!(
            fails(kms.create_key().policy(p).send().await),
            "MalformedPolicyDocumentException",
            "CreateKey {p}"
        );
        assert_eq!(
            fails(kms.put_key_policy().key_id(&id).policy(p).send().await),
            "MalformedPolicyDocumentException",
            "PutKeyPolicy {p}"
        );
    }
    // ValidationException: out-of-range numbers.
    for days in [6, 31] {
        let e = kms
            .schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(days)
            .send()
            .await;
        assert_eq!(
            fails(e),
            "ValidationException",
            "PendingWindowInDays {days}"
        );
    }
    for days in [89, 2561] {
        let e = kms
            .enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(days)
            .send()
            .await;
        assert_eq!(
            fails(e),
            "ValidationException",
            "RotationPeriodInDays {days}"
        );
    }
    for n in [0, 1025] {
        let e = kms
            .generate_data_key()
            .key_id(&id)
            .number_of_bytes(n)
            .send()
            .await;
        assert_eq!(
            fails(e),
            "ValidationException",
            "GenerateDataKey NumberOfBytes {n}"
        );
        let e = kms
            .generate_data_key_without_plaintext()
            .key_id(&id)
            .number_of_bytes(n)
            .send()
            .await;
        assert_eq!(
            fails(e),
            "ValidationException",
            "GenerateDataKeyWithoutPlaintext {n}"
        );
        let e = kms.generate_random().number_of_bytes(n).send().await;
        assert_eq!(fails(e), "ValidationException", "GenerateRandom {n}");
    }
    let r = kms
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap();
    assert_eq!(r.plaintext().unwrap().as_ref().len(), 1024);
    // The window bounds themselves are accepted.
    for days in [7, 30] {
        let k = symmetric(&kms).await;
        let out = kms
            .schedule_key_deletion()
            .key_id(&k)
            .pending_window_in_days(days)
            .send()
            .await
            .unwrap();
        assert_eq!(out.pending_window_in_days(), Some(days));
    }
    for days in [90, 2560] {
        kms.enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(days)
            .send()
            .await
            .unwrap();
    }
}

/// The operations kms.rs does not call, so that every operation of the API is exercised.
#[tokio::test]
async fn remaining_operations() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let id = symmetric(&kms).await;
    kms.update_key_description()
        .key_id(&id)
        .description("renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(metadata(&kms, &id).await.description(), Some("renamed"));
    let pair = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&id)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP384)
        .send()
        .await
        .unwrap();
    let private = kms
        .decrypt()
        .ciphertext_blob(pair.private_key_ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    let derived = coffer_crypto::public_key_spki(
        AsymSpec::EccNistP384,
        private.plaintext().unwrap().as_ref(),
    )
    .unwrap();
    assert_eq!(derived.as_slice(), pair.public_key().unwrap().as_ref());
    // Custom key stores: none exist, so every store id is unknown.
    let unknown = "cks-1234567890abcdef0";
    let e = kms
        .delete_custom_key_store()
        .custom_key_store_id(unknown)
        .send()
        .await;
    assert_eq!(fails(e), "CustomKeyStoreNotFoundException");
    let e = kms
        .disconnect_custom_key_store()
        .custom_key_store_id(unknown)
        .send()
        .await;
    assert_eq!(fails(e), "CustomKeyStoreNotFoundException");
    let e = kms
        .update_custom_key_store()
        .custom_key_store_id(unknown)
        .new_custom_key_store_name("n")
        .send()
        .await;
    assert_eq!(fails(e), "CustomKeyStoreNotFoundException");
    // No CloudHSM cluster exists, so AWS's answer for one named is that it is not found.
    let e = kms
        .create_custom_key_store()
        .custom_key_store_name("store")
        .cloud_hsm_cluster_id("cluster-234567abcdef")
        .trust_anchor_certificate("cert")
        .key_store_password("password1")
        .send()
        .await;
    assert_eq!(fails(e), "CloudHsmClusterNotFoundException");
}

// ---------------------------------------------------------------------------------------
// 7. Grants
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn grant_constraints_names_filters_and_retirement() {
    let s = TestServer::start();
    let admin = client(&s, &s.admin);
    let (alice_c, alice) = user_created_by(&s, &s.admin, "alice", None).await;
    let (bob_c, bob) = user_created_by(&s, &s.admin, "bob", None).await;
    let as_alice = client(&s, &alice_c);
    let as_bob = client(&s, &bob_c);
    let enc = |kms: &Client, id: &str, ctx: &[(&str, &str)]| {
        let mut r = kms.encrypt().key_id(id).plaintext(Blob::new(b"g".to_vec()));
        for (k, v) in ctx {
            r = r.encryption_context(*k, *v);
        }
        r.send()
    };
    // EncryptionContextSubset: the listed pairs must be present, others may be added.
    let sub = symmetric(&admin).await;
    admin
        .create_grant()
        .key_id(&sub)
        .grantee_principal(&alice)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("app", "x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ct = enc(&as_alice, &sub, &[("app", "x"), ("extra", "y")])
        .await
        .unwrap();
    as_alice
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .encryption_context("app", "x")
        .encryption_context("extra", "y")
        .send()
        .await
        .unwrap();
    for ctx in [&[("app", "y")][..], &[][..], &[("other", "x")][..]] {
        assert_eq!(
            fails(enc(&as_alice, &sub, ctx).await),
            "AccessDeniedException",
            "subset {ctx:?}"
        );
    }
    // EncryptionContextEquals: exactly the listed pairs.
    let eq = symmetric(&admin).await;
    admin
        .create_grant()
        .key_id(&eq)
        .grantee_principal(&alice)
        .operations(GrantOperation::Encrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_equals("app", "x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    enc(&as_alice, &eq, &[("app", "x")]).await.unwrap();
    for ctx in [
        &[("app", "x"), ("extra", "y")][..],
        &[][..],
        &[("app", "y")][..],
    ] {
        assert_eq!(
            fails(enc(&as_alice, &eq, ctx).await),
            "AccessDeniedException",
            "equals {ctx:?}"
        );
    }
    // Name makes CreateGrant idempotent: same name and parameters, same GrantId, new token.
    let k = symmetric(&admin).await;
    let k_arn = arn(&admin, &k).await;
    let named = || {
        admin
            .create_grant()
            .key_id(&k)
            .grantee_principal(&alice)
            .retiring_principal(&bob)
            .operations(GrantOperation::Encrypt)
            .name("nightly")
            .send()
    };
    let g1 = named().await.unwrap();
    let g2 = named().await.unwrap();
    assert_eq!(g1.grant_id(), g2.grant_id());
    assert_ne!(g1.grant_token(), g2.grant_token());
    let gb = admin
        .create_grant()
        .key_id(&k)
        .grantee_principal(&bob)
        .retiring_principal(&bob)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    // ListGrants filters.
    let all = admin.list_grants().key_id(&k).send().await.unwrap();
    assert_eq!(all.grants().len(), 2);
    let by_grantee = admin
        .list_grants()
        .key_id(&k)
        .grantee_principal(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(by_grantee.grants().len(), 1);
    let entry = &by_grantee.grants()[0];
    assert_eq!(entry.grant_id(), g1.grant_id());
    assert_eq!(entry.name(), Some("nightly"));
    assert_eq!(entry.retiring_principal(), Some(bob.as_str()));
    assert_eq!(entry.operations(), &[GrantOperation::Encrypt]);
    let by_id = admin
        .list_grants()
        .key_id(&k)
        .grant_id(gb.grant_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.grants().len(), 1);
    assert_eq!(by_id.grants()[0].grantee_principal(), Some(bob.as_str()));
    let sub_list = admin.list_grants().key_id(&sub).send().await.unwrap();
    let c = sub_list.grants()[0].constraints().unwrap();
    assert_eq!(
        c.encryption_context_subset()
            .unwrap()
            .get("app")
            .map(String::as_str),
        Some("x")
    );
    // ListRetirableGrants names the grants bob may retire.
    let retirable = admin
        .list_retirable_grants()
        .retiring_principal(&bob)
        .send()
        .await
        .unwrap();
    let ids = names(retirable.grants().iter().filter_map(|g| g.grant_id()));
    assert_eq!(ids, names([g1.grant_id().unwrap(), gb.grant_id().unwrap()]));
    // The retiring principal retires by token, and by key ARN + grant id.
    enc(&as_alice, &k, &[]).await.unwrap();
    as_bob
        .retire_grant()
        .grant_token(g1.grant_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        fails(enc(&as_alice, &k, &[]).await),
        "AccessDeniedException"
    );
    as_bob
        .retire_grant()
        .key_id(&k_arn)
        .grant_id(gb.grant_id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        admin
            .list_grants()
            .key_id(&k)
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
    // The grantee may retire only when the grant lists RetireGrant; others not at all.
    let plain = admin
        .create_grant()
        .key_id(&k)
        .grantee_principal(&alice)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    let e = as_alice
        .retire_grant()
        .grant_token(plain.grant_token().unwrap())
        .send()
        .await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "grantee without RetireGrant"
    );
    let e = as_bob
        .retire_grant()
        .key_id(&k_arn)
        .grant_id(plain.grant_id().unwrap())
        .send()
        .await;
    assert_eq!(fails(e), "AccessDeniedException", "unrelated principal");
    let self_retiring = admin
        .create_grant()
        .key_id(&k)
        .grantee_principal(&alice)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::RetireGrant)
        .send()
        .await
        .unwrap();
    as_alice
        .retire_grant()
        .key_id(&k_arn)
        .grant_id(self_retiring.grant_id().unwrap())
        .send()
        .await
        .unwrap();
    let left = admin.list_grants().key_id(&k).send().await.unwrap();
    assert_eq!(
        names(left.grants().iter().filter_map(|g| g.grant_id())),
        names([plain.grant_id().unwrap()])
    );
    // A grant cannot give an HMAC key an operation it does not support.
    let hmac = key(&admin, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let e = admin
        .create_grant()
        .key_id(&hmac)
        .grantee_principal(&alice)
        .operations(GrantOperation::Encrypt)
        .send()
        .await;
    assert_eq!(
        fails(e),
        "ValidationException",
        "Encrypt grant on an HMAC key"
    );
    admin
        .create_grant()
        .key_id(&hmac)
        .grantee_principal(&alice)
        .operations(GrantOperation::GenerateMac)
        .send()
        .await
        .unwrap();
}

/// CreateGrant's Name documentation: "the returned grant token is unique with every
/// CreateGrant request, even when a duplicate GrantId is returned. All grant tokens for the
/// same grant ID can be used interchangeably."
#[tokio::test]
async fn tokens_of_a_repeated_named_grant_are_interchangeable() {
    let s = TestServer::start();
    let admin = client(&s, &s.admin);
    let (_, alice) = user_created_by(&s, &s.admin, "alice", None).await;
    let (bob_c, bob) = user_created_by(&s, &s.admin, "bob", None).await;
    let k = symmetric(&admin).await;
    let named = || {
        admin
            .create_grant()
            .key_id(&k)
            .grantee_principal(&alice)
            .retiring_principal(&bob)
            .operations(GrantOperation::Encrypt)
            .name("retry")
            .send()
    };
    let first = named().await.unwrap();
    let retry = named().await.unwrap();
    assert_eq!(first.grant_id(), retry.grant_id());
    assert_ne!(first.grant_token(), retry.grant_token());
    client(&s, &bob_c)
        .retire_grant()
        .grant_token(retry.grant_token().unwrap())
        .send()
        .await
        .expect("the retried request's token retires the grant");
    assert!(
        admin
            .list_grants()
            .key_id(&k)
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// 8. Key policies and KMS condition keys
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn key_policy_conditions_denies_and_delegation() {
    let s = TestServer::start();
    let acct = s.account.clone();
    let admin = client(&s, &s.admin);
    let (alice_c, alice) = user_created_by(&s, &s.admin, "alice", None).await;
    let as_alice = client(&s, &alice_c);
    // kms:EncryptionContext:app must equal "x" for alice's Decrypt.
    let cond = key_policy(
        &acct,
        &[format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{alice}"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:EncryptionContext:app":"x"}}}}}}"#
        )],
    );
    let k = admin.create_key().policy(&cond).send().await.unwrap();
    let k = k.key_metadata().unwrap().key_id().to_owned();
    let ct_x = encrypt(&admin, &k, &[("app", "x")]).await;
    let ct_y = encrypt(&admin, &k, &[("app", "y")]).await;
    let ct_none = encrypt(&admin, &k, &[]).await;
    as_alice
        .decrypt()
        .ciphertext_blob(ct_x)
        .encryption_context("app", "x")
        .send()
        .await
        .unwrap();
    let e = as_alice
        .decrypt()
        .ciphertext_blob(ct_y)
        .encryption_context("app", "y")
        .send()
        .await;
    assert_eq!(fails(e), "AccessDeniedException", "app=y");
    let e = as_alice.decrypt().ciphertext_blob(ct_none).send().await;
    assert_eq!(fails(e), "AccessDeniedException", "no context");
    let e = as_alice
        .encrypt()
        .key_id(&k)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("app", "x")
        .send()
        .await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "Encrypt is not in the statement"
    );
    // An AWS-managed-style policy: use only through a service (kms:ViaService), the
    // account may only read metadata. A direct call has no kms:ViaService and is refused,
    // even for a user whose IAM policy allows everything.
    let (carol_c, _) = user_created_by(
        &s,
        &s.admin,
        "carol",
        Some(&identity_policy_allowing("kms:*")),
    )
    .await;
    let as_carol = client(&s, &carol_c);
    let managed = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*",
            "Condition":{{"StringEquals":{{"kms:CallerAccount":"{acct}","kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}}}},
          {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}}]}}"#
    );
    let m = admin
        .create_key()
        .policy(&managed)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    let m = m.key_metadata().unwrap().key_id().to_owned();
    for (who, kms) in [("carol", &as_carol), ("admin", &admin)] {
        let e = kms
            .encrypt()
            .key_id(&m)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await;
        assert_eq!(
            fails(e),
            "AccessDeniedException",
            "{who}: Encrypt without kms:ViaService"
        );
        let e = kms
            .generate_data_key()
            .key_id(&m)
            .number_of_bytes(32)
            .send()
            .await;
        assert_eq!(
            fails(e),
            "AccessDeniedException",
            "{who}: GenerateDataKey without kms:ViaService"
        );
    }
    as_carol.describe_key().key_id(&m).send().await.unwrap();
    // An explicit Deny in the key policy beats a grant.
    let denied = key_policy(
        &acct,
        &[format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{alice}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
        )],
    );
    let d = admin.create_key().policy(&denied).send().await.unwrap();
    let d = d.key_metadata().unwrap().key_id().to_owned();
    let free = symmetric(&admin).await;
    for key in [&d, &free] {
        admin
            .create_grant()
            .key_id(key)
            .grantee_principal(&alice)
            .operations(GrantOperation::Encrypt)
            .send()
            .await
            .unwrap();
    }
    as_alice
        .encrypt()
        .key_id(&free)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let e = as_alice
        .encrypt()
        .key_id(&d)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(fails(e), "AccessDeniedException", "Deny beats a grant");
    // IAM policies count only when the key policy delegates to the account.
    let (dave_c, _) = user_created_by(
        &s,
        &s.admin,
        "dave",
        Some(&identity_policy_allowing("kms:Encrypt")),
    )
    .await;
    let (erin_c, erin) = user_created_by(&s, &s.admin, "erin", None).await;
    let as_dave = client(&s, &dave_c);
    let delegating = symmetric(&admin).await;
    as_dave
        .encrypt()
        .key_id(&delegating)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let e = as_dave.describe_key().key_id(&delegating).send().await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "identity policy allows only Encrypt"
    );
    let erin_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{erin}"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let nd = admin
        .create_key()
        .policy(&erin_only)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    let nd = nd.key_metadata().unwrap().key_id().to_owned();
    let e = as_dave
        .encrypt()
        .key_id(&nd)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "no delegation to the account"
    );
    // The principal the key policy names needs no IAM policy in the key's own account.
    client(&s, &erin_c)
        .encrypt()
        .key_id(&nd)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
}

/// Every KMS condition key a key policy can read about the key or the request reaches it:
/// the server builds only the keys the policies in play read, so each one is pinned here
/// by a Deny that must fire on its value and only on it.
#[tokio::test]
async fn key_policy_reads_each_kms_condition_key() {
    let s = TestServer::start();
    let admin = client(&s, &s.admin);
    let deny = |action: &str, condition: &str| {
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"{action}","Resource":"*","Condition":{condition}}}"#
        )
    };
    let policy = key_policy(
        &s.account,
        &[
            deny(
                "kms:Encrypt",
                r#"{"StringEquals":{"kms:RequestAlias":"alias/blocked"}}"#,
            ),
            deny(
                "kms:Encrypt",
                r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"forbidden"}}"#,
            ),
            deny(
                "kms:Encrypt",
                r#"{"StringEquals":{"aws:ResourceTag/stage":"frozen"}}"#,
            ),
            deny(
                "kms:GenerateDataKey",
                r#"{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT","kms:KeyUsage":"ENCRYPT_DECRYPT","kms:KeyOrigin":"AWS_KMS"},"Bool":{"kms:MultiRegion":"false"}}"#,
            ),
            deny(
                "kms:Decrypt",
                r#"{"StringEquals":{"kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT","kms:EncryptionContext:guard":"on"}}"#,
            ),
        ],
    );
    let create = |multi_region: bool| {
        admin
            .create_key()
            .policy(&policy)
            .multi_region(multi_region)
            .send()
    };
    let k = create(false).await.unwrap();
    let k = k.key_metadata().unwrap().key_id().to_owned();
    let encrypt_with = |key_id: &str, ctx: &[(&str, &str)]| {
        let mut req = admin
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(b"x".to_vec()));
        for (name, value) in ctx {
            req = req.encryption_context(*name, *value);
        }
        req.send()
    };
    // kms:RequestAlias: the alias the caller named, not every alias of the key.
    for alias in ["alias/blocked", "alias/open"] {
        admin
            .create_alias()
            .alias_name(alias)
            .target_key_id(&k)
            .send()
            .await
            .unwrap();
    }
    let e = encrypt_with("alias/blocked", &[]).await;
    assert_eq!(fails(e), "AccessDeniedException", "kms:RequestAlias");
    encrypt_with("alias/open", &[]).await.unwrap();
    encrypt_with(&k, &[]).await.unwrap();
    // kms:EncryptionContextKeys.
    let e = encrypt_with(&k, &[("forbidden", "1"), ("app", "x")]).await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "kms:EncryptionContextKeys"
    );
    encrypt_with(&k, &[("app", "x")]).await.unwrap();
    // aws:ResourceTag/*, read afresh after each tag change.
    admin
        .tag_resource()
        .key_id(&k)
        .tags(tag("stage", "frozen"))
        .send()
        .await
        .unwrap();
    let e = encrypt_with(&k, &[]).await;
    assert_eq!(fails(e), "AccessDeniedException", "aws:ResourceTag/stage");
    admin
        .untag_resource()
        .key_id(&k)
        .tag_keys("stage")
        .send()
        .await
        .unwrap();
    encrypt_with(&k, &[]).await.unwrap();
    // kms:KeySpec, kms:KeyUsage, kms:KeyOrigin and kms:MultiRegion together: the
    // multi-Region key under the same policy differs only in the last.
    let gdk = |key_id: String| {
        admin
            .generate_data_key()
            .key_id(key_id)
            .number_of_bytes(32)
            .send()
    };
    let e = gdk(k.clone()).await;
    assert_eq!(fails(e), "AccessDeniedException", "key spec, usage, origin");
    let mrk = create(true).await.unwrap();
    gdk(mrk.key_metadata().unwrap().key_id().to_owned())
        .await
        .unwrap();
    // kms:EncryptionAlgorithm with a kms:EncryptionContext:* key.
    let decrypt = |ct: Blob, guard: &str| {
        admin
            .decrypt()
            .ciphertext_blob(ct)
            .encryption_context("guard", guard)
            .send()
    };
    let on = encrypt(&admin, &k, &[("guard", "on")]).await;
    let off = encrypt(&admin, &k, &[("guard", "off")]).await;
    let e = decrypt(on, "on").await;
    assert_eq!(fails(e), "AccessDeniedException", "kms:EncryptionAlgorithm");
    decrypt(off, "off").await.unwrap();
}

// ---------------------------------------------------------------------------------------
// 9. Cross-account use
// ---------------------------------------------------------------------------------------

/// Stops the server, creates account 222233334444 offline, restarts; its root credentials.
pub(crate) fn create_other_account(s: &mut TestServer) -> Creds {
    s.kill9();
    let out = Command::new(bin())
        .args(["admin", "create-account", "--data-dir"])
        .arg(&s.data_dir)
        .args(["--account-id", OTHER_ACCOUNT, "--profile", "other"])
        .env_remove("COFFER_CONFIG")
        .output()
        .expect("run coffer admin create-account");
    assert!(
        out.status.success(),
        "create-account failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|r| r.trim_start_matches([' ', '=']).trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{k} missing in create-account output"))
    };
    let creds = Creds::new(&get("aws_access_key_id"), &get("aws_secret_access_key"));
    s.restart();
    creds
}

#[tokio::test]
async fn cross_account_needs_key_policy_and_identity_policy() {
    let mut s = TestServer::start();
    let other = create_other_account(&mut s);
    let acct = s.account.clone();
    let admin = client(&s, &s.admin);
    let key = symmetric(&admin).await;
    let key_arn = arn(&admin, &key).await;
    let allow_key = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:Encrypt","Resource":"{key_arn}"}}]}}"#
    );
    let as_other = client(&s, &other);
    let (x_c, _) = user_created_by(&s, &other, "x", Some(&allow_key)).await;
    let (y_c, y) = user_created_by(&s, &other, "y", None).await;
    assert!(y.contains(OTHER_ACCOUNT), "{y}");
    let as_x = client(&s, &x_c);
    let as_y = client(&s, &y_c);
    let enc = |kms: &Client, k: &str| {
        kms.encrypt()
            .key_id(k)
            .plaintext(Blob::new(b"shared".to_vec()))
            .send()
    };
    // The default key policy trusts only its own account.
    for (who, kms) in [("other root", &as_other), ("x", &as_x), ("y", &as_y)] {
        assert_eq!(
            fails(enc(kms, &key_arn).await),
            "AccessDeniedException",
            "{who} before sharing"
        );
    }
    // A bare key id names a key of the caller's own account.
    assert_eq!(fails(enc(&as_other, &key).await), "NotFoundException");
    // The key policy names the other account (and user y directly).
    let shared = key_policy(
        &acct,
        &[
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}}"#
            ),
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"{y}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
            ),
        ],
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(&shared)
        .send()
        .await
        .unwrap();
    let ct = enc(&as_other, &key_arn).await.unwrap();
    assert_eq!(ct.key_id(), Some(key_arn.as_str()));
    let back = as_other
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(back.plaintext().unwrap().as_ref(), b"shared");
    // The other account's IAM users also need their own identity policy.
    enc(&as_x, &key_arn).await.unwrap();
    assert_eq!(
        fails(enc(&as_y, &key_arn).await),
        "AccessDeniedException",
        "y has no identity policy"
    );
    // The key policy lists Encrypt and Decrypt only.
    let e = as_other.describe_key().key_id(&key_arn).send().await;
    assert_eq!(fails(e), "AccessDeniedException");
    let e = as_x
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await;
    assert_eq!(
        fails(e),
        "AccessDeniedException",
        "x's identity policy allows only Encrypt"
    );
}

// ---------------------------------------------------------------------------------------
// 10. Paging, rotation status and key policies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn paging_through_every_list() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let (_, grantee) = user_created_by(&s, &s.admin, "pager", None).await;
    let mut created = BTreeSet::new();
    for _ in 0..5 {
        created.insert(symmetric(&kms).await);
    }
    let key = created.iter().next().unwrap().clone();
    // ListKeys.
    let pages = kms
        .list_keys()
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.keys())
        .filter_map(|k| k.key_id().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), names(&ids).len(), "ListKeys repeated a key");
    assert!(created.is_subset(&names(&ids)));
    assert!(pages.len() >= 3 && pages.iter().all(|p| p.keys().len() <= 2));
    assert!(
        pages.iter().rev().skip(1).all(|p| p.truncated()) && !pages.last().unwrap().truncated()
    );
    // ListAliases (the AWS managed aliases are listed too).
    for i in 0..5 {
        kms.create_alias()
            .alias_name(format!("alias/page-{i}"))
            .target_key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let pages = kms
        .list_aliases()
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let aliases: Vec<String> = pages
        .iter()
        .flat_map(|p| p.aliases())
        .filter_map(|a| a.alias_name().map(str::to_owned))
        .collect();
    assert_eq!(
        aliases.len(),
        names(&aliases).len(),
        "ListAliases repeated an alias"
    );
    for i in 0..5 {
        assert!(aliases.contains(&format!("alias/page-{i}")), "{aliases:?}");
    }
    assert!(aliases.contains(&"alias/aws/secretsmanager".to_owned()));
    assert!(pages.iter().all(|p| p.aliases().len() <= 2));
    let for_key = kms
        .list_aliases()
        .key_id(&key)
        .limit(2)
        .into_paginator()
        .items()
        .send();
    assert_eq!(
        for_key.collect::<Result<Vec<_>, _>>().await.unwrap().len(),
        5
    );
    // ListGrants and ListRetirableGrants.
    let mut grant_ids = BTreeSet::new();
    for _ in 0..5 {
        let g = kms
            .create_grant()
            .key_id(&key)
            .grantee_principal(&grantee)
            .retiring_principal(&grantee)
            .operations(GrantOperation::Encrypt)
            .send()
            .await
            .unwrap();
        grant_ids.insert(g.grant_id().unwrap().to_owned());
    }
    let pages = kms
        .list_grants()
        .key_id(&key)
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p.grants())
        .filter_map(|g| g.grant_id().map(str::to_owned))
        .collect();
    assert_eq!(listed.len(), 5);
    assert_eq!(names(&listed), grant_ids);
    let retirable = kms
        .list_retirable_grants()
        .retiring_principal(&grantee)
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        names(retirable.iter().filter_map(|g| g.grant_id())),
        grant_ids
    );
    // ListResourceTags.
    let mut req = kms.tag_resource().key_id(&key);
    for i in 0..5 {
        req = req.tags(tag(&format!("k{i}"), &format!("v{i}")));
    }
    req.send().await.unwrap();
    let pages = kms
        .list_resource_tags()
        .key_id(&key)
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let tags: Vec<String> = pages
        .iter()
        .flat_map(|p| p.tags())
        .map(|t| format!("{}={}", t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(names(&tags), names((0..5).map(|i| format!("k{i}=v{i}"))));
    // ListKeyRotations.
    for _ in 0..5 {
        kms.rotate_key_on_demand()
            .key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let pages = kms
        .list_key_rotations()
        .key_id(&key)
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let rotations: Vec<_> = pages.iter().flat_map(|p| p.rotations()).collect();
    assert_eq!(rotations.len(), 5);
    assert!(
        rotations
            .iter()
            .all(|r| r.rotation_type() == Some(&aws_sdk_kms::types::RotationType::OnDemand))
    );
    let all_material = kms
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .limit(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        all_material.len(),
        6,
        "the original material and five rotations"
    );
    let current = all_material
        .iter()
        .filter(|r| r.key_material_state() == Some(&aws_sdk_kms::types::KeyMaterialState::Current))
        .count();
    assert_eq!(current, 1);
    // ListKeyPolicies.
    let policies = kms
        .list_key_policies()
        .key_id(&key)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(policies, vec!["default".to_owned()]);
}

#[tokio::test]
async fn rotation_status_and_key_policy_names() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let id = symmetric(&kms).await;
    let key_arn = arn(&kms, &id).await;
    let st = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    assert_eq!(st.key_id(), Some(key_arn.as_str()));
    assert!(st.next_rotation_date().is_none());
    let before = s.now().unix_timestamp();
    kms.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(180)
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
    assert_eq!(st.rotation_period_in_days(), Some(180));
    let next = st.next_rotation_date().expect("NextRotationDate").secs();
    let due = before + 180 * 86_400;
    assert!(
        (due - 60..=due + 3_600).contains(&next),
        "next rotation {next}, expected about {due}"
    );
    // An on-demand rotation does not move the automatic schedule.
    kms.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    let st2 = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(st2.next_rotation_date().map(|d| d.secs()), Some(next));
    kms.disable_key_rotation().key_id(&id).send().await.unwrap();
    let st = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    assert!(st.next_rotation_date().is_none());
    // GetKeyPolicy: "default" is the only policy name.
    let unnamed = kms.get_key_policy().key_id(&id).send().await.unwrap();
    let named = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(named.policy(), unnamed.policy());
    assert_eq!(named.policy_name(), Some("default"));
    assert!(
        named
            .policy()
            .unwrap()
            .contains(&format!("arn:aws:iam::{}:root", s.account))
    );
    let e = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("other")
        .send()
        .await;
    assert_eq!(fails(e), "NotFoundException");
    let listed = kms.list_key_policies().key_id(&id).send().await.unwrap();
    assert_eq!(listed.policy_names(), &["default".to_owned()]);
    assert!(!listed.truncated());
}

/// ML-DSA key material imported into an EXTERNAL key: GetPublicKey returns the imported
/// key's public half and KMS's signatures verify under it; material of another parameter
/// set is IncorrectKeyMaterialException and leaves the key waiting for its import.
#[tokio::test]
async fn ml_dsa_key_material_imports() {
    let s = TestServer::start();
    let kms = client(&s, &s.admin);
    let id = external(&kms, KeySpec::MlDsa65, KeyUsageType::SignVerify).await;
    let wrong = coffer_crypto::generate_private_key(AsymSpec::MlDsa44).unwrap();
    let e = try_import_material(&kms, &id, &wrong).await.unwrap_err();
    assert_eq!(e.code(), Some("IncorrectKeyMaterialException"));
    assert_eq!(
        metadata(&kms, &id).await.key_state(),
        Some(&KeyState::PendingImport)
    );

    let material = coffer_crypto::generate_private_key(AsymSpec::MlDsa65).unwrap();
    import_material(&kms, &id, &material).await;
    let spki = coffer_crypto::public_key_spki(AsymSpec::MlDsa65, &material).unwrap();
    let pk = kms.get_public_key().key_id(&id).send().await.unwrap();
    assert_eq!(pk.public_key().unwrap().as_ref(), spki.as_slice());
    let msg = b"signed with imported ML-DSA material";
    let sig = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(msg.to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
        .send()
        .await
        .unwrap();
    assert!(
        coffer_crypto::verify(
            AsymSpec::MlDsa65,
            &spki,
            coffer_crypto::SigningAlgorithm::MlDsaShake256,
            coffer_crypto::MessageType::Raw,
            msg,
            sig.signature().unwrap().as_ref(),
        )
        .unwrap()
    );
}
