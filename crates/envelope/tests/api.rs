//! Behaviour of the public API: suites and policies, frames, contexts, CMMs, keyrings
//! (raw AES, raw RSA, multi, KMS over a fake client), limits and streaming modes.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use coffer_envelope::keyring::DiscoveryFilter;
use coffer_envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, CryptoMaterialsManager, DecryptOptions, DefaultCmm,
    EncryptionContext, Error, Keyring, KmsDiscoveryKeyring, KmsKeyring, MultiKeyring,
    RequiredEncryptionContextCmm, RsaPadding, parse_header,
};
use common::{FakeKms, aes, ec, rsa};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::Arc;

fn allow_all() -> Client {
    Client::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

/// The client that may encrypt with `suite`.
fn client_for(suite: AlgorithmSuite) -> Client {
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    Client::new()
        .with_commitment_policy(policy)
        .with_suite(suite)
}

#[test]
fn every_suite_round_trips_with_context_and_reports_it() {
    let kr = aes("k", 32);
    let ctx = ec(&[("tenant", "a"), ("purpose", "test")]);
    for suite in AlgorithmSuite::ALL {
        let client = client_for(suite).with_frame_length(100).unwrap();
        let pt: Vec<u8> = (0..1234u32).map(|i| i as u8).collect();
        let msg = client.encrypt(kr.as_ref(), &pt, &ctx).unwrap();
        let h = parse_header(&msg).unwrap();
        assert_eq!(h.suite, suite);
        assert_eq!(h.version(), suite.message_version());
        assert_eq!(h.frame_length, 100);
        assert_eq!(
            h.encryption_context.contains_key("aws-crypto-public-key"),
            suite.signature().is_some()
        );
        let out = client
            .decrypt(kr.as_ref(), &msg, &DecryptOptions::default())
            .unwrap();
        assert_eq!(out.plaintext, pt, "{suite:?}");
        assert_eq!(out.info.suite, suite);
        assert_eq!(out.info.encryption_context["tenant"], "a");
    }
}

#[test]
fn default_suite_is_0578_and_policies_are_enforced() {
    let kr = aes("k", 32);
    let msg = coffer_envelope::encrypt(kr.as_ref(), b"x", &EncryptionContext::new()).unwrap();
    assert_eq!(parse_header(&msg).unwrap().suite.id(), 0x0578);
    // Forbid: the default becomes 0x0378; committing suites are refused for encryption.
    let forbid = Client::new().with_commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt);
    let legacy = forbid
        .encrypt(kr.as_ref(), b"x", &EncryptionContext::new())
        .unwrap();
    assert_eq!(parse_header(&legacy).unwrap().suite.id(), 0x0378);
    let err = forbid
        .clone()
        .with_suite(AlgorithmSuite::Aes256GcmHkdfSha512Commit)
        .encrypt(kr.as_ref(), b"x", &EncryptionContext::new());
    assert!(matches!(err, Err(Error::CommitmentPolicy { .. })));
    // Require-encrypt policies refuse non-committing suites for encryption.
    let err = allow_all()
        .with_suite(AlgorithmSuite::Aes256GcmHkdfSha256)
        .encrypt(kr.as_ref(), b"x", &EncryptionContext::new());
    assert!(matches!(err, Err(Error::CommitmentPolicy { .. })));
    // Decrypting the legacy message: refused by default, allowed by the looser policies.
    let err = coffer_envelope::decrypt(kr.as_ref(), &legacy);
    assert!(matches!(err, Err(Error::CommitmentPolicy { .. })));
    assert!(
        allow_all()
            .decrypt(kr.as_ref(), &legacy, &DecryptOptions::default())
            .is_ok()
    );
    assert!(
        forbid
            .decrypt(kr.as_ref(), &legacy, &DecryptOptions::default())
            .is_ok()
    );
}

/// Frame count, final-frame length and total size follow the format exactly.
#[test]
fn frame_layout_empty_exact_multiple_and_partial() {
    let kr = aes("k", 32);
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512Commit; // unsigned: no footer
    let f = 64usize;
    let client = client_for(suite).with_frame_length(f as u32).unwrap();
    for (len, regular, last) in [
        (0, 0, 0),
        (1, 0, 1),
        (63, 0, 63),
        (64, 1, 0),
        (65, 1, 1),
        (128, 2, 0),
    ] {
        let msg = client
            .encrypt(kr.as_ref(), &vec![5u8; len], &EncryptionContext::new())
            .unwrap();
        let h = parse_header(&msg).unwrap().serialized_len();
        assert_eq!(
            msg.len(),
            h + regular * (4 + 12 + f + 16) + (4 + 4 + 12 + 4 + last + 16),
            "len {len}"
        );
        let final_at = h + regular * (4 + 12 + f + 16);
        assert_eq!(msg[final_at..final_at + 4], [0xff; 4]);
        assert_eq!(
            u32::from_be_bytes(msg[final_at + 4..final_at + 8].try_into().unwrap()) as usize,
            regular + 1
        );
        let out = client
            .decrypt(kr.as_ref(), &msg, &DecryptOptions::default())
            .unwrap();
        assert_eq!(out.plaintext.len(), len);
    }
}

#[test]
fn streaming_in_odd_chunks_matches_one_shot() {
    let kr = aes("k", 16);
    let client = Client::new().with_frame_length(1000).unwrap();
    let pt: Vec<u8> = (0..25_000u32).map(|i| (i * 7) as u8).collect();
    let mut enc = client
        .encryptor(kr.as_ref(), &ec(&[("a", "b")]), Vec::new(), None)
        .unwrap();
    for chunk in pt.chunks(777) {
        enc.write_all(chunk).unwrap();
    }
    let msg = enc.finish().unwrap();
    let mut dec = client
        .decryptor(kr.as_ref(), &msg[..], &DecryptOptions::default())
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 333];
    loop {
        let n = dec.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, pt);
    assert_eq!(dec.info().frame_length, 1000);
}

#[test]
fn declared_plaintext_length_is_enforced() {
    let kr = aes("k", 32);
    let client = Client::new();
    let mut enc = client
        .encryptor(kr.as_ref(), &EncryptionContext::new(), Vec::new(), Some(3))
        .unwrap();
    assert!(enc.write_all(b"four").is_err());
    assert!(enc.write_all(b"x").is_err(), "poisoned after an error");
    let mut enc = client
        .encryptor(kr.as_ref(), &EncryptionContext::new(), Vec::new(), Some(3))
        .unwrap();
    enc.write_all(b"ab").unwrap();
    assert!(enc.finish().is_err());
}

#[test]
fn reserved_and_mismatched_context() {
    let kr = aes("k", 32);
    let err = coffer_envelope::encrypt(kr.as_ref(), b"x", &ec(&[("aws-crypto-x", "1")]));
    assert!(matches!(err, Err(Error::EncryptionContext(_))));
    let msg = coffer_envelope::encrypt(kr.as_ref(), b"x", &ec(&[("a", "1")])).unwrap();
    let opts = DecryptOptions::default().with_reproduced_context(ec(&[("a", "2")]));
    assert!(matches!(
        Client::new().decrypt(kr.as_ref(), &msg, &opts),
        Err(Error::EncryptionContext(_))
    ));
    let opts = DecryptOptions::default().with_reproduced_context(ec(&[("a", "1")]));
    assert!(Client::new().decrypt(kr.as_ref(), &msg, &opts).is_ok());
    // A reproduced pair the message never had cannot authenticate: the AES keyring binds
    // the context to the data key, and with a keyring that does not (RSA) the header tag
    // catches it.
    let opts = DecryptOptions::default().with_reproduced_context(ec(&[("a", "1"), ("b", "2")]));
    assert!(matches!(
        Client::new().decrypt(kr.as_ref(), &msg, &opts),
        Err(Error::NoDecryptableDataKey(_))
    ));
    let r = rsa(RsaPadding::OaepSha256);
    let msg = coffer_envelope::encrypt(r.as_ref(), b"x", &ec(&[("a", "1")])).unwrap();
    assert!(matches!(
        Client::new().decrypt(r.as_ref(), &msg, &opts),
        Err(Error::HeaderAuthentication)
    ));
}

#[test]
fn required_encryption_context_is_authenticated_but_not_stored() {
    let kr = aes("k", 32);
    let required: BTreeSet<String> = ["secret-tag".to_string()].into();
    let cmm =
        RequiredEncryptionContextCmm::new(Arc::new(DefaultCmm::new(kr.clone())), required).unwrap();
    let ctx = ec(&[("secret-tag", "v1"), ("public", "p")]);
    assert!(matches!(
        Client::new().encrypt(&cmm, b"data", &ec(&[("public", "p")])),
        Err(Error::EncryptionContext(_))
    ));
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384,
        AlgorithmSuite::Aes128GcmNoKdf,
    ] {
        let client = client_for(suite);
        let msg = client.encrypt(&cmm, b"data", &ctx).unwrap();
        let stored = parse_header(&msg).unwrap().encryption_context;
        assert!(!stored.contains_key("secret-tag") && stored.contains_key("public"));
        let no = DecryptOptions::default();
        assert!(matches!(
            client.decrypt(&cmm, &msg, &no),
            Err(Error::EncryptionContext(_))
        ));
        // The default CMM without the pair: nothing authenticates (keyring or header).
        assert!(client.decrypt(kr.as_ref(), &msg, &no).is_err());
        let wrong = no
            .clone()
            .with_reproduced_context(ec(&[("secret-tag", "v2")]));
        assert!(client.decrypt(&cmm, &msg, &wrong).is_err());
        let right = no
            .clone()
            .with_reproduced_context(ec(&[("secret-tag", "v1")]));
        let out = client.decrypt(&cmm, &msg, &right).unwrap();
        assert_eq!(out.plaintext, b"data");
        assert_eq!(out.info.encryption_context["secret-tag"], "v1");
        // The default CMM reproduces it too.
        assert_eq!(
            client.decrypt(kr.as_ref(), &msg, &right).unwrap().plaintext,
            b"data"
        );
    }
}

#[test]
fn rsa_keyring_every_padding_and_public_only_cannot_decrypt() {
    for p in [
        RsaPadding::Pkcs1,
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha256,
        RsaPadding::OaepSha384,
        RsaPadding::OaepSha512,
    ] {
        let kr = rsa(p);
        let msg = coffer_envelope::encrypt(kr.as_ref(), b"rsa", &EncryptionContext::new()).unwrap();
        assert_eq!(
            coffer_envelope::decrypt(kr.as_ref(), &msg)
                .unwrap()
                .plaintext,
            b"rsa"
        );
        let other = if p == RsaPadding::Pkcs1 {
            RsaPadding::OaepSha1
        } else {
            RsaPadding::Pkcs1
        };
        assert!(
            coffer_envelope::decrypt(rsa(other).as_ref(), &msg).is_err(),
            "{p:?}"
        );
    }
    let private = coffer_crypto::RsaPrivateKey::from_pkcs8_der(common::rsa_pkcs8()).unwrap();
    let _ = private;
    let spki =
        coffer_crypto::public_key_spki(coffer_crypto::AsymSpec::Rsa2048, common::rsa_pkcs8())
            .unwrap();
    let public_only = coffer_envelope::RawRsaKeyring::with_public_key(
        "rsa-ns",
        "rsa-key",
        RsaPadding::OaepSha256,
        &spki,
    )
    .unwrap();
    let msg =
        coffer_envelope::encrypt(&public_only, b"to private", &EncryptionContext::new()).unwrap();
    assert!(matches!(
        coffer_envelope::decrypt(&public_only, &msg),
        Err(Error::NoDecryptableDataKey(_))
    ));
    let out = coffer_envelope::decrypt(rsa(RsaPadding::OaepSha256).as_ref(), &msg).unwrap();
    assert_eq!(out.plaintext, b"to private");
}

#[test]
fn multi_keyring_any_one_decrypts_and_edk_limit() {
    let (a, b, c) = (aes("a", 32), rsa(RsaPadding::OaepSha256), aes("c", 24));
    let multi = MultiKeyring::new(Some(a.clone()), vec![b.clone(), c.clone()]).unwrap();
    let msg = coffer_envelope::encrypt(&multi, b"m", &EncryptionContext::new()).unwrap();
    assert_eq!(parse_header(&msg).unwrap().encrypted_data_keys.len(), 3);
    for k in [&a, &b, &c] {
        assert_eq!(
            coffer_envelope::decrypt(k.as_ref(), &msg)
                .unwrap()
                .plaintext,
            b"m"
        );
    }
    assert!(matches!(
        coffer_envelope::decrypt(aes("z", 32).as_ref(), &msg),
        Err(Error::NoDecryptableDataKey(_))
    ));
    let limited = Client::new().with_max_encrypted_data_keys(2).unwrap();
    assert!(matches!(
        limited.encrypt(&multi, b"m", &EncryptionContext::new()),
        Err(Error::TooManyEncryptedDataKeys { count: 3, max: 2 })
    ));
    assert!(matches!(
        limited.decrypt(a.as_ref(), &msg, &DecryptOptions::default()),
        Err(Error::TooManyEncryptedDataKeys { count: 3, max: 2 })
    ));
    let three = Client::new().with_max_encrypted_data_keys(3).unwrap();
    assert!(
        three
            .decrypt(c.as_ref(), &msg, &DecryptOptions::default())
            .is_ok()
    );
}

const EAST: &str = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234";
const WEST: &str = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234";
const PLAIN: &str = "arn:aws:kms:us-east-1:111122223333:key/0000-plain";
const OTHER_ACCT: &str = "arn:aws:kms:us-east-1:444455556666:key/abcd";

#[test]
fn kms_keyring_generates_wraps_and_decrypts_by_arn() {
    let kms = Arc::new(FakeKms::new(&[EAST, WEST, PLAIN, OTHER_ACCT]));
    let gen_kr: Arc<dyn Keyring> = Arc::new(KmsKeyring::new(kms.clone(), "0000-plain").unwrap());
    let child: Arc<dyn Keyring> = Arc::new(KmsKeyring::new(kms.clone(), OTHER_ACCT).unwrap());
    let multi = MultiKeyring::new(Some(gen_kr), vec![child]).unwrap();
    let ctx = ec(&[("k", "v")]);
    let msg = coffer_envelope::encrypt(&multi, b"kms", &ctx).unwrap();
    let edks = parse_header(&msg).unwrap().encrypted_data_keys;
    assert_eq!(edks.len(), 2);
    assert!(edks.iter().all(|e| e.provider_id == "aws-kms"));
    assert_eq!(
        edks[0].provider_info,
        PLAIN.as_bytes(),
        "provider info is the key ARN KMS returned"
    );
    assert_eq!(
        kms.calls.lock().unwrap()[..2],
        [
            "GenerateDataKey 0000-plain".to_string(),
            format!("Encrypt {OTHER_ACCT}")
        ]
    );
    // Decrypt needs the ARN; each key alone suffices.
    for arn in [PLAIN, OTHER_ACCT] {
        let kr = KmsKeyring::new(kms.clone(), arn).unwrap();
        assert_eq!(
            coffer_envelope::decrypt(&kr, &msg).unwrap().plaintext,
            b"kms"
        );
    }
    let unrelated = KmsKeyring::new(kms.clone(), EAST).unwrap();
    assert!(matches!(
        coffer_envelope::decrypt(&unrelated, &msg),
        Err(Error::NoDecryptableDataKey(_))
    ));
}

#[test]
fn kms_multi_region_keys_and_discovery_filters() {
    let kms = Arc::new(FakeKms::new(&[EAST, WEST, PLAIN, OTHER_ACCT]));
    let east = KmsKeyring::new(kms.clone(), EAST).unwrap();
    let msg = coffer_envelope::encrypt(&east, b"mrk", &EncryptionContext::new()).unwrap();
    // The replica in another Region decrypts (MRK-aware match on the provider info).
    let west = KmsKeyring::new(kms.clone(), WEST).unwrap();
    assert_eq!(
        coffer_envelope::decrypt(&west, &msg).unwrap().plaintext,
        b"mrk"
    );
    assert_eq!(
        kms.calls.lock().unwrap().last().unwrap(),
        &format!("Decrypt {WEST}")
    );
    // Discovery in eu-west-1 rewrites the MRK ARN to its own Region.
    let disc = KmsDiscoveryKeyring::new(kms.clone(), None, Some("eu-west-1")).unwrap();
    assert!(coffer_envelope::decrypt(&disc, &msg).is_ok());
    assert_eq!(
        kms.calls.lock().unwrap().last().unwrap(),
        &format!("Decrypt {WEST}")
    );
    // A Region-bound discovery keyring skips single-Region keys of other Regions.
    let plain = KmsKeyring::new(kms.clone(), PLAIN).unwrap();
    let plain_msg = coffer_envelope::encrypt(&plain, b"p", &EncryptionContext::new()).unwrap();
    let calls = kms.calls.lock().unwrap().len();
    assert!(matches!(
        coffer_envelope::decrypt(&disc, &plain_msg),
        Err(Error::NoDecryptableDataKey(_))
    ));
    assert_eq!(kms.calls.lock().unwrap().len(), calls);
    let east_disc = KmsDiscoveryKeyring::new(kms.clone(), None, Some("us-east-1")).unwrap();
    assert!(coffer_envelope::decrypt(&east_disc, &plain_msg).is_ok());
    // Account/partition filter.
    let filter = |p: &str, a: &str| {
        Some(DiscoveryFilter {
            partition: p.into(),
            account_ids: vec![a.into()],
        })
    };
    let ok = KmsDiscoveryKeyring::new(kms.clone(), filter("aws", "111122223333"), None).unwrap();
    assert!(coffer_envelope::decrypt(&ok, &msg).is_ok());
    for (p, a) in [("aws", "444455556666"), ("aws-cn", "111122223333")] {
        let calls = kms.calls.lock().unwrap().len();
        let no = KmsDiscoveryKeyring::new(kms.clone(), filter(p, a), None).unwrap();
        assert!(matches!(
            coffer_envelope::decrypt(&no, &msg),
            Err(Error::NoDecryptableDataKey(_))
        ));
        assert_eq!(
            kms.calls.lock().unwrap().len(),
            calls,
            "a filtered key is never sent to KMS"
        );
    }
    assert!(KmsDiscoveryKeyring::new(kms.clone(), filter("aws", ""), None).is_err());
    // A discovery keyring cannot encrypt; a non-MRK key does not match across Regions.
    assert!(coffer_envelope::encrypt(&disc, b"x", &EncryptionContext::new()).is_err());
    assert!(!coffer_envelope::keyring::mrk_match(
        PLAIN,
        &PLAIN.replace("us-east-1", "eu-west-1")
    ));
    assert!(coffer_envelope::keyring::mrk_match(EAST, WEST));
    assert!(!coffer_envelope::keyring::mrk_match(
        EAST,
        &WEST.replace("111122223333", "444455556666")
    ));
}

fn signed_message() -> (Arc<dyn Keyring>, Client, Vec<u8>) {
    let kr = aes("k", 32);
    let client = Client::new().with_frame_length(64).unwrap();
    let msg = client
        .encrypt(kr.as_ref(), &[9u8; 1000], &EncryptionContext::new())
        .unwrap();
    (kr, client, msg)
}

fn drain<R: Read>(mut r: R) -> (usize, bool) {
    let mut n = 0;
    let mut buf = [0u8; 100];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (n, true),
            Ok(k) => n += k,
            Err(_) => return (n, false),
        }
    }
}

#[test]
fn buffer_mode_releases_nothing_before_the_signature_verifies() {
    let (kr, client, mut msg) = signed_message();
    let last = msg.len() - 1;
    msg[last] ^= 1; // inside the signature
    let buffered = DecryptOptions {
        buffer_signed: true,
        ..Default::default()
    };
    let (released, ok) = drain(client.decryptor(kr.as_ref(), &msg[..], &buffered).unwrap());
    assert!(!ok);
    assert_eq!(released, 0);
    // Streaming mode releases verified frames but holds back the final one.
    let (released, ok) = drain(
        client
            .decryptor(kr.as_ref(), &msg[..], &DecryptOptions::default())
            .unwrap(),
    );
    assert!(!ok);
    assert_eq!(released, 1000 / 64 * 64);
    assert!(matches!(
        client.decrypt(kr.as_ref(), &msg, &buffered),
        Err(Error::Signature)
    ));
}

#[test]
fn unsigned_only_refuses_signed_suites() {
    let (kr, client, msg) = signed_message();
    let opts = DecryptOptions {
        unsigned_only: true,
        ..Default::default()
    };
    assert!(matches!(
        client.decryptor(kr.as_ref(), &msg[..], &opts),
        Err(Error::SignedSuiteRefused)
    ));
    let unsigned = client.with_suite(AlgorithmSuite::Aes256GcmHkdfSha512Commit);
    let msg = unsigned
        .encrypt(kr.as_ref(), b"u", &EncryptionContext::new())
        .unwrap();
    assert_eq!(
        unsigned
            .decrypt(kr.as_ref(), &msg, &opts)
            .unwrap()
            .plaintext,
        b"u"
    );
}

#[test]
fn wrong_key_is_a_clean_error() {
    let msg =
        coffer_envelope::encrypt(aes("k", 32).as_ref(), b"x", &EncryptionContext::new()).unwrap();
    let same_name_other_key =
        coffer_envelope::RawAesKeyring::new("test-ns", "k", &[0u8; 32]).unwrap();
    assert!(matches!(
        coffer_envelope::decrypt(&same_name_other_key, &msg),
        Err(Error::NoDecryptableDataKey(_))
    ));
    let cmm: &dyn CryptoMaterialsManager = &same_name_other_key;
    assert!(
        Client::new()
            .decrypt(cmm, b"", &DecryptOptions::default())
            .is_err()
    );
}
