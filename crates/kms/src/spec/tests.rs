use super::*;
use crate::wire_enum::testing::assert_matches_model;
use proptest::prelude::*;

// Enum value lists copied from botocore's kms/2014-11-01/service-2.json, in its order.
const MODEL_KEYSPEC: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
];
const MODEL_KEYUSAGETYPE: &[&str] = &[
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
];
const MODEL_ENCRYPTIONALGORITHMSPEC: &[&str] = &[
    "SYMMETRIC_DEFAULT",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "SM2PKE",
];
const MODEL_SIGNINGALGORITHMSPEC: &[&str] = &[
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "SM2DSA",
    "ML_DSA_SHAKE_256",
    "ED25519_SHA_512",
    "ED25519_PH_SHA_512",
];
const MODEL_MACALGORITHMSPEC: &[&str] = &[
    "HMAC_SHA_224",
    "HMAC_SHA_256",
    "HMAC_SHA_384",
    "HMAC_SHA_512",
];
const MODEL_KEYAGREEMENTALGORITHMSPEC: &[&str] = &["ECDH"];
const MODEL_DATAKEYSPEC: &[&str] = &["AES_256", "AES_128"];
const MODEL_DATAKEYPAIRSPEC: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ECC_NIST_EDWARDS25519",
];
const MODEL_ORIGINTYPE: &[&str] = &["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];
const MODEL_KEYMANAGERTYPE: &[&str] = &["AWS", "CUSTOMER"];
const MODEL_MESSAGETYPE: &[&str] = &["RAW", "DIGEST", "EXTERNAL_MU"];
const MODEL_WRAPPINGKEYSPEC: &[&str] = &["RSA_2048", "RSA_3072", "RSA_4096", "SM2"];
const MODEL_ALGORITHMSPEC: &[&str] = &[
    "RSAES_PKCS1_V1_5",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
    "SM2PKE",
];
const MODEL_MULTIREGIONKEYTYPE: &[&str] = &["PRIMARY", "REPLICA"];
const MODEL_EXPIRATIONMODELTYPE: &[&str] =
    &["KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"];
const MODEL_GRANTOPERATION: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];
const MODEL_KEYSTATE: &[&str] = &[
    "Creating",
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Updating",
];
const MODEL_ROTATIONTYPE: &[&str] = &["AUTOMATIC", "ON_DEMAND"];
const MODEL_IMPORTTYPE: &[&str] = &["NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"];
const MODEL_IMPORTSTATE: &[&str] = &["IMPORTED", "PENDING_IMPORT"];
const MODEL_KEYMATERIALSTATE: &[&str] = &[
    "NON_CURRENT",
    "CURRENT",
    "PENDING_ROTATION",
    "PENDING_MULTI_REGION_IMPORT_AND_ROTATION",
];
const MODEL_INCLUDEKEYMATERIAL: &[&str] = &["ALL_KEY_MATERIAL", "ROTATIONS_ONLY"];

#[test]
fn every_enum_matches_the_model() {
    assert_matches_model::<KeySpec>(MODEL_KEYSPEC);
    assert_matches_model::<KeyUsage>(MODEL_KEYUSAGETYPE);
    assert_matches_model::<EncryptionAlgorithm>(MODEL_ENCRYPTIONALGORITHMSPEC);
    assert_matches_model::<SigningAlgorithm>(MODEL_SIGNINGALGORITHMSPEC);
    assert_matches_model::<MacAlgorithm>(MODEL_MACALGORITHMSPEC);
    assert_matches_model::<KeyAgreementAlgorithm>(MODEL_KEYAGREEMENTALGORITHMSPEC);
    assert_matches_model::<DataKeySpec>(MODEL_DATAKEYSPEC);
    assert_matches_model::<DataKeyPairSpec>(MODEL_DATAKEYPAIRSPEC);
    assert_matches_model::<Origin>(MODEL_ORIGINTYPE);
    assert_matches_model::<KeyManager>(MODEL_KEYMANAGERTYPE);
    assert_matches_model::<MessageType>(MODEL_MESSAGETYPE);
    assert_matches_model::<WrappingKeySpec>(MODEL_WRAPPINGKEYSPEC);
    assert_matches_model::<AlgorithmSpec>(MODEL_ALGORITHMSPEC);
    assert_matches_model::<MultiRegionKeyType>(MODEL_MULTIREGIONKEYTYPE);
    assert_matches_model::<ExpirationModel>(MODEL_EXPIRATIONMODELTYPE);
    assert_matches_model::<GrantOperation>(MODEL_GRANTOPERATION);
    assert_matches_model::<KeyState>(MODEL_KEYSTATE);
    assert_matches_model::<RotationType>(MODEL_ROTATIONTYPE);
    assert_matches_model::<ImportType>(MODEL_IMPORTTYPE);
    assert_matches_model::<ImportState>(MODEL_IMPORTSTATE);
    assert_matches_model::<KeyMaterialState>(MODEL_KEYMATERIALSTATE);
    assert_matches_model::<IncludeKeyMaterial>(MODEL_INCLUDEKEYMATERIAL);
}

#[test]
fn sm_family_is_china_regions_only_and_external_mu_not_implemented() {
    assert_eq!(
        "SM2".parse::<KeySpec>(),
        Err(ParseEnumError::ChinaRegionsOnly {
            type_name: "KeySpec",
            value: "SM2"
        })
    );
    assert_eq!(
        "SM2PKE".parse::<EncryptionAlgorithm>(),
        Err(ParseEnumError::ChinaRegionsOnly {
            type_name: "EncryptionAlgorithm",
            value: "SM2PKE"
        })
    );
    assert_eq!(
        "SM2DSA".parse::<SigningAlgorithm>(),
        Err(ParseEnumError::ChinaRegionsOnly {
            type_name: "SigningAlgorithm",
            value: "SM2DSA"
        })
    );
    assert_eq!("ML_DSA_65".parse::<KeySpec>(), Ok(KeySpec::MlDsa65));
    assert_eq!(
        "ML_DSA_SHAKE_256".parse::<SigningAlgorithm>(),
        Ok(SigningAlgorithm::MlDsaShake256)
    );
    assert_eq!(
        "EXTERNAL_MU".parse::<MessageType>(),
        Err(ParseEnumError::NotImplemented {
            type_name: "MessageType",
            value: "EXTERNAL_MU"
        })
    );
    assert!(serde_json::from_str::<KeySpec>("\"SM2\"").is_err());
}

proptest! {
    #[test]
    fn parsing_is_exact(text in "[A-Za-z0-9_]{0,24}") {
        if let Ok(spec) = text.parse::<KeySpec>() {
            prop_assert_eq!(spec.as_str(), text.as_str());
        }
        if let Ok(algorithm) = text.parse::<SigningAlgorithm>() {
            prop_assert_eq!(algorithm.as_str(), text.as_str());
        }
    }
}

#[test]
fn permitted_usages_follow_create_key() {
    use KeySpec::*;
    use KeyUsage::*;
    let expected: &[(KeySpec, &[KeyUsage])] = &[
        (Rsa2048, &[EncryptDecrypt, SignVerify]),
        (Rsa3072, &[EncryptDecrypt, SignVerify]),
        (Rsa4096, &[EncryptDecrypt, SignVerify]),
        (EccNistP256, &[SignVerify, KeyAgreement]),
        (EccNistP384, &[SignVerify, KeyAgreement]),
        (EccNistP521, &[SignVerify, KeyAgreement]),
        (EccSecgP256k1, &[SignVerify]),
        (SymmetricDefault, &[EncryptDecrypt]),
        (Hmac224, &[GenerateVerifyMac]),
        (Hmac256, &[GenerateVerifyMac]),
        (Hmac384, &[GenerateVerifyMac]),
        (Hmac512, &[GenerateVerifyMac]),
        (MlDsa44, &[SignVerify]),
        (MlDsa65, &[SignVerify]),
        (MlDsa87, &[SignVerify]),
        (EccNistEdwards25519, &[SignVerify]),
    ];
    assert_eq!(expected.len(), KeySpec::ALL.len());
    for (spec, usages) in expected {
        assert_eq!(spec.permitted_usages(), *usages, "{spec}");
    }
}

#[test]
fn only_symmetric_keys_default_their_usage() {
    for spec in KeySpec::ALL {
        let expected = (*spec == KeySpec::SymmetricDefault).then_some(KeyUsage::EncryptDecrypt);
        assert_eq!(spec.default_usage(), expected, "{spec}");
    }
    assert_eq!(
        resolve_key_usage(KeySpec::SymmetricDefault, None),
        Ok(KeyUsage::EncryptDecrypt)
    );
    assert_eq!(
        resolve_key_usage(KeySpec::Hmac256, None),
        Err(KeyUsageError::Missing(KeySpec::Hmac256))
    );
    assert_eq!(
        resolve_key_usage(KeySpec::Rsa2048, Some(KeyUsage::SignVerify)),
        Ok(KeyUsage::SignVerify)
    );
    assert_eq!(
        resolve_key_usage(KeySpec::SymmetricDefault, Some(KeyUsage::SignVerify)),
        Err(KeyUsageError::Incompatible {
            spec: KeySpec::SymmetricDefault,
            usage: KeyUsage::SignVerify
        })
    );
    assert_eq!(
        resolve_key_usage(KeySpec::EccSecgP256k1, Some(KeyUsage::KeyAgreement)),
        Err(KeyUsageError::Incompatible {
            spec: KeySpec::EccSecgP256k1,
            usage: KeyUsage::KeyAgreement
        })
    );
}

#[test]
fn spec_classes_partition_the_specs() {
    for spec in KeySpec::ALL {
        let classes = [
            spec.is_symmetric_encryption(),
            spec.is_hmac(),
            spec.is_asymmetric(),
        ];
        assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{spec}");
        assert_eq!(spec.is_hmac(), spec.hmac_key_bits().is_some());
        assert_eq!(spec.is_hmac(), spec.mac_algorithm().is_some());
    }
}

/// Exactly one DescribeKey algorithm list is non-empty for a permitted (spec, usage), and all
/// are empty for a combination the spec does not permit.
#[test]
fn describe_key_lists_one_algorithm_family_per_key() {
    for spec in KeySpec::ALL {
        for usage in KeyUsage::ALL {
            let lists = [
                !encryption_algorithms(*spec, *usage).is_empty(),
                !signing_algorithms(*spec, *usage).is_empty(),
                !mac_algorithms(*spec, *usage).is_empty(),
                !key_agreement_algorithms(*spec, *usage).is_empty(),
            ];
            let non_empty = lists.iter().filter(|l| **l).count();
            let expected = usize::from(spec.permits(*usage));
            assert_eq!(non_empty, expected, "{spec} {usage}");
        }
    }
}

#[test]
fn describe_key_algorithm_lists_match_aws_examples() {
    use KeyUsage::*;
    assert_eq!(
        encryption_algorithms(KeySpec::SymmetricDefault, EncryptDecrypt),
        &[EncryptionAlgorithm::SymmetricDefault]
    );
    let names = |list: &[EncryptionAlgorithm]| list.iter().map(|a| a.as_str()).collect::<Vec<_>>();
    assert_eq!(
        names(encryption_algorithms(KeySpec::Rsa4096, EncryptDecrypt)),
        ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    );
    let signing = signing_algorithms(KeySpec::Rsa2048, SignVerify)
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>();
    assert_eq!(
        signing,
        [
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512"
        ]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP256, SignVerify),
        &[SigningAlgorithm::EcdsaSha256]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP384, SignVerify),
        &[SigningAlgorithm::EcdsaSha384]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP521, SignVerify),
        &[SigningAlgorithm::EcdsaSha512]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccSecgP256k1, SignVerify),
        &[SigningAlgorithm::EcdsaSha256]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistEdwards25519, SignVerify),
        &[
            SigningAlgorithm::Ed25519Sha512,
            SigningAlgorithm::Ed25519PhSha512
        ]
    );
    assert_eq!(
        mac_algorithms(KeySpec::Hmac384, GenerateVerifyMac),
        &[MacAlgorithm::HmacSha384]
    );
    assert_eq!(
        key_agreement_algorithms(KeySpec::EccNistP521, KeyAgreement),
        &[KeyAgreementAlgorithm::Ecdh]
    );
    assert!(key_agreement_algorithms(KeySpec::EccNistP521, SignVerify).is_empty());
}

#[test]
fn hmac_specs_use_their_own_mac_algorithm() {
    for spec in KeySpec::ALL.iter().filter(|s| s.is_hmac()) {
        let algorithm = mac_algorithms(*spec, KeyUsage::GenerateVerifyMac);
        assert_eq!(algorithm.len(), 1);
        let bits = spec.hmac_key_bits().unwrap_or(0);
        assert_eq!(algorithm[0].as_str(), format!("HMAC_SHA_{bits}"));
        assert_eq!(hmac_key_len(*spec), Some(bits as usize / 8));
        let (min, max) = hmac_import_len(*spec).unwrap();
        assert_eq!(min, bits as usize / 8, "import minimum is the key length");
        assert!(max >= min);
    }
    assert_eq!(hmac_import_len(KeySpec::Hmac224), Some((28, 64)));
    assert_eq!(hmac_import_len(KeySpec::Hmac512), Some((64, 128)));
    assert_eq!(hmac_key_len(KeySpec::SymmetricDefault), None);
}

#[test]
fn each_signing_algorithm_belongs_to_its_specs() {
    use SigningAlgorithm::*;
    for algorithm in SigningAlgorithm::ALL {
        let specs: Vec<KeySpec> = KeySpec::ALL
            .iter()
            .copied()
            .filter(|spec| signing_algorithm_valid(*spec, *algorithm))
            .collect();
        let expected: &[KeySpec] = match algorithm {
            RsassaPssSha256 | RsassaPssSha384 | RsassaPssSha512 | RsassaPkcs1V15Sha256
            | RsassaPkcs1V15Sha384 | RsassaPkcs1V15Sha512 => {
                &[KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096]
            }
            EcdsaSha256 => &[KeySpec::EccNistP256, KeySpec::EccSecgP256k1],
            EcdsaSha384 => &[KeySpec::EccNistP384],
            EcdsaSha512 => &[KeySpec::EccNistP521],
            Ed25519Sha512 | Ed25519PhSha512 => &[KeySpec::EccNistEdwards25519],
            MlDsaShake256 => &[KeySpec::MlDsa44, KeySpec::MlDsa65, KeySpec::MlDsa87],
        };
        assert_eq!(specs, expected, "{algorithm}");
    }
    assert!(encryption_algorithm_valid(
        KeySpec::Rsa3072,
        EncryptionAlgorithm::RsaesOaepSha1
    ));
    assert!(!encryption_algorithm_valid(
        KeySpec::Rsa3072,
        EncryptionAlgorithm::SymmetricDefault
    ));
    assert!(!encryption_algorithm_valid(
        KeySpec::EccNistP256,
        EncryptionAlgorithm::RsaesOaepSha256
    ));
}

#[test]
fn message_types_and_digest_lengths() {
    use SigningAlgorithm::*;
    assert!(Ed25519Sha512.accepts_message_type(MessageType::Raw));
    assert!(!Ed25519Sha512.accepts_message_type(MessageType::Digest));
    assert!(Ed25519PhSha512.accepts_message_type(MessageType::Digest));
    assert!(!Ed25519PhSha512.accepts_message_type(MessageType::Raw));
    for algorithm in [RsassaPssSha256, RsassaPkcs1V15Sha384, EcdsaSha512] {
        assert!(algorithm.accepts_message_type(MessageType::Raw));
        assert!(algorithm.accepts_message_type(MessageType::Digest));
    }
    for algorithm in SigningAlgorithm::ALL {
        let suffix_bits = [("_SHA_256", 32), ("_SHA_384", 48), ("_SHA_512", 64)];
        let expected = suffix_bits
            .iter()
            .find(|(suffix, _)| algorithm.as_str().ends_with(suffix))
            .map(|(_, len)| *len);
        let expected = if *algorithm == Ed25519Sha512 {
            None
        } else {
            expected
        };
        assert_eq!(algorithm.digest_len(), expected, "{algorithm}");
    }
}

#[test]
fn rsa_plaintext_limits_are_the_oaep_bound() {
    // The Encrypt documentation's figures, and RFC 8017's k - 2*hLen - 2.
    let documented = [
        (KeySpec::Rsa2048, EncryptionAlgorithm::RsaesOaepSha1, 214),
        (KeySpec::Rsa2048, EncryptionAlgorithm::RsaesOaepSha256, 190),
        (KeySpec::Rsa3072, EncryptionAlgorithm::RsaesOaepSha1, 342),
        (KeySpec::Rsa3072, EncryptionAlgorithm::RsaesOaepSha256, 318),
        (KeySpec::Rsa4096, EncryptionAlgorithm::RsaesOaepSha1, 470),
        (KeySpec::Rsa4096, EncryptionAlgorithm::RsaesOaepSha256, 446),
    ];
    for (spec, algorithm, max) in documented {
        assert_eq!(max_plaintext_len(spec, algorithm), Some(max));
        let modulus_bytes = spec.rsa_bits().unwrap_or(0) as usize / 8;
        let hash_bytes = if algorithm == EncryptionAlgorithm::RsaesOaepSha1 {
            20
        } else {
            32
        };
        assert_eq!(max, modulus_bytes - 2 * hash_bytes - 2);
    }
    assert_eq!(
        max_plaintext_len(
            KeySpec::SymmetricDefault,
            EncryptionAlgorithm::SymmetricDefault
        ),
        Some(4096)
    );
    assert_eq!(
        max_plaintext_len(
            KeySpec::SymmetricDefault,
            EncryptionAlgorithm::RsaesOaepSha1
        ),
        None
    );
    assert_eq!(
        max_plaintext_len(KeySpec::EccNistP256, EncryptionAlgorithm::RsaesOaepSha256),
        None
    );
    for spec in KeySpec::ALL {
        for algorithm in EncryptionAlgorithm::ALL {
            assert_eq!(
                max_plaintext_len(*spec, *algorithm).is_some(),
                encryption_algorithm_valid(*spec, *algorithm),
                "{spec} {algorithm}"
            );
        }
    }
}

#[test]
fn rotation_is_for_symmetric_encryption_keys_only() {
    for spec in KeySpec::ALL {
        for origin in Origin::ALL {
            let automatic = key_spec_supports_rotation(*spec, *origin, RotationType::Automatic);
            let on_demand = key_spec_supports_rotation(*spec, *origin, RotationType::OnDemand);
            let symmetric = *spec == KeySpec::SymmetricDefault;
            assert_eq!(
                automatic,
                symmetric && *origin == Origin::AwsKms,
                "{spec} {origin}"
            );
            assert_eq!(
                on_demand,
                symmetric && matches!(origin, Origin::AwsKms | Origin::External),
                "{spec} {origin}"
            );
        }
    }
}

#[test]
fn imports_and_origins() {
    for origin in Origin::ALL {
        assert_eq!(
            supports_imported_key_material(*origin),
            *origin == Origin::External
        );
        for spec in KeySpec::ALL {
            let custom_store = matches!(origin, Origin::AwsCloudhsm | Origin::ExternalKeyStore);
            assert_eq!(
                origin_permits_spec(*origin, *spec),
                !custom_store || spec.is_symmetric_encryption()
            );
        }
    }
    assert!(supports_new_key_material(KeySpec::SymmetricDefault));
    assert!(!supports_new_key_material(KeySpec::Hmac256));
    assert!(!supports_new_key_material(KeySpec::Rsa2048));
}

#[test]
fn wrapping_algorithms() {
    use AlgorithmSpec::*;
    assert!(!RsaesPkcs1V15.is_supported());
    assert!(
        AlgorithmSpec::ALL
            .iter()
            .filter(|a| **a != RsaesPkcs1V15)
            .all(|a| a.is_supported())
    );
    // RSA private keys need an RSA_AES wrapping algorithm.
    assert!(!RsaesOaepSha256.can_wrap(WrappingKeySpec::Rsa4096, KeySpec::Rsa2048));
    assert!(RsaAesKeyWrapSha256.can_wrap(WrappingKeySpec::Rsa2048, KeySpec::Rsa4096));
    // RSAES_OAEP under an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 material.
    assert!(!RsaesOaepSha1.can_wrap(WrappingKeySpec::Rsa2048, KeySpec::EccNistP521));
    assert!(RsaesOaepSha1.can_wrap(WrappingKeySpec::Rsa3072, KeySpec::EccNistP521));
    assert!(RsaesOaepSha256.can_wrap(WrappingKeySpec::Rsa2048, KeySpec::SymmetricDefault));
    assert!(!RsaesPkcs1V15.can_wrap(WrappingKeySpec::Rsa4096, KeySpec::SymmetricDefault));
    let bits: Vec<u32> = WrappingKeySpec::ALL.iter().map(|w| w.rsa_bits()).collect();
    assert_eq!(bits, [2048, 3072, 4096]);
}

#[test]
fn data_key_specs() {
    assert_eq!(DataKeySpec::Aes128.len_bytes(), 16);
    assert_eq!(DataKeySpec::Aes256.len_bytes(), 32);
    for spec in DataKeyPairSpec::ALL {
        let key_spec = spec.key_spec();
        assert_eq!(key_spec.as_str(), spec.as_str());
        assert!(key_spec.is_asymmetric());
    }
}

#[test]
fn grant_operations_follow_the_key_type() {
    use GrantOperation::*;
    let common = [CreateGrant, RetireGrant, DescribeKey];
    for spec in KeySpec::ALL {
        for usage in KeyUsage::ALL {
            let ops = grant_operations(*spec, *usage);
            for op in common {
                assert!(ops.contains(&op), "{spec} {usage} lacks {op}");
            }
            let in_model_order = GrantOperation::ALL
                .iter()
                .filter(|g| ops.contains(g))
                .count()
                == ops.len()
                && ops.windows(2).all(|w| w[0] < w[1]);
            assert!(in_model_order, "{spec} {usage}");
            let permitted = spec.permits(*usage);
            assert_eq!(
                ops.contains(&GetPublicKey),
                permitted && spec.is_asymmetric(),
                "{spec} {usage}"
            );
            let data_keys = [
                GenerateDataKey,
                GenerateDataKeyWithoutPlaintext,
                GenerateDataKeyPair,
                GenerateDataKeyPairWithoutPlaintext,
            ];
            for op in data_keys {
                assert_eq!(
                    ops.contains(&op),
                    permitted && spec.is_symmetric_encryption(),
                    "{spec} {usage} {op}"
                );
            }
            assert_eq!(
                ops.contains(&Encrypt),
                permitted && *usage == KeyUsage::EncryptDecrypt
            );
            assert_eq!(
                ops.contains(&Sign),
                permitted && *usage == KeyUsage::SignVerify
            );
            assert_eq!(
                ops.contains(&GenerateMac),
                permitted && *usage == KeyUsage::GenerateVerifyMac
            );
            assert_eq!(
                ops.contains(&DeriveSharedSecret),
                permitted && *usage == KeyUsage::KeyAgreement
            );
        }
    }
    assert!(grant_operation_valid(
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
        ReEncryptTo
    ));
    assert!(!grant_operation_valid(
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
        Sign
    ));
    assert!(!grant_operation_valid(
        KeySpec::Rsa2048,
        KeyUsage::EncryptDecrypt,
        GenerateDataKey
    ));
    assert_eq!(
        grant_operations(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
        &[
            CreateGrant,
            RetireGrant,
            DescribeKey,
            GenerateMac,
            VerifyMac
        ]
    );
}

#[test]
fn limits_match_the_model_and_documentation() {
    assert_eq!(limits::NUMBER_OF_BYTES, 1..=1024);
    assert_eq!(limits::PLAINTEXT_MAX, 4096);
    assert_eq!(limits::CIPHERTEXT_MAX, 6144);
    assert_eq!(limits::ROTATION_PERIOD_DAYS, 90..=2560);
    assert!(limits::ROTATION_PERIOD_DAYS.contains(&limits::ROTATION_PERIOD_DEFAULT_DAYS));
    assert_eq!(limits::PENDING_WINDOW_DAYS, 7..=30);
    assert_eq!(limits::PENDING_WINDOW_DEFAULT_DAYS, 30);
    assert!(limits::PENDING_WINDOW_MODEL_DAYS.contains(limits::PENDING_WINDOW_DAYS.start()));
    assert!(limits::PENDING_WINDOW_MODEL_DAYS.contains(limits::PENDING_WINDOW_DAYS.end()));
    assert_eq!(limits::ON_DEMAND_ROTATIONS_PER_KEY, 25);
    assert_eq!(limits::GRANT_TOKENS_MAX, 10);
    assert_eq!(limits::ALIAS_NAME_LEN, 1..=256);
    assert_eq!(limits::LIST_LIMIT, 1..=1000);
}

#[test]
fn refused_values_are_found_by_member() {
    let refused = |m, v| refused_value(m, v).map(|e| e.to_string());
    assert!(matches!(
        refused_value("KeySpec", "SM2"),
        Some(ParseEnumError::ChinaRegionsOnly { .. })
    ));
    assert!(matches!(
        refused_value("CustomerMasterKeySpec", "SM2"),
        Some(ParseEnumError::ChinaRegionsOnly { .. })
    ));
    assert_eq!(refused("KeySpec", "ML_DSA_87"), None);
    assert!(refused("SourceEncryptionAlgorithm", "SM2PKE").is_some());
    assert!(refused("SigningAlgorithm", "SM2DSA").is_some());
    assert!(refused("KeyPairSpec", "SM2").is_some());
    assert!(refused("MessageType", "EXTERNAL_MU").is_some());
    assert!(refused("WrappingKeySpec", "SM2").is_some());
    assert!(refused("WrappingAlgorithm", "SM2PKE").is_some());
    // Offered values, unknown values and members without such an enum pass.
    assert_eq!(refused("KeySpec", "RSA_2048"), None);
    assert_eq!(refused("KeySpec", "FOO"), None);
    assert_eq!(refused("Description", "SM2"), None);
}
