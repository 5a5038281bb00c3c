use super::*;
use crate::wire_enum::testing::assert_matches_model;

// The exception shapes of botocore's kms/2014-11-01/service-2.json, then the three generic
// codes coffer adds.
const MODEL_EXCEPTIONS: &[&str] = &[
    "AlreadyExistsException",
    "CloudHsmClusterInUseException",
    "CloudHsmClusterInvalidConfigurationException",
    "CloudHsmClusterNotActiveException",
    "CloudHsmClusterNotFoundException",
    "CloudHsmClusterNotRelatedException",
    "ConflictException",
    "CustomKeyStoreHasCMKsException",
    "CustomKeyStoreInvalidStateException",
    "CustomKeyStoreNameInUseException",
    "CustomKeyStoreNotFoundException",
    "DependencyTimeoutException",
    "DisabledException",
    "DryRunOperationException",
    "ExpiredImportTokenException",
    "IncorrectKeyException",
    "IncorrectKeyMaterialException",
    "IncorrectTrustAnchorException",
    "InvalidAliasNameException",
    "InvalidArnException",
    "InvalidCiphertextException",
    "InvalidGrantIdException",
    "InvalidGrantTokenException",
    "InvalidImportTokenException",
    "InvalidKeyUsageException",
    "InvalidMarkerException",
    "KMSInternalException",
    "KMSInvalidMacException",
    "KMSInvalidSignatureException",
    "KMSInvalidStateException",
    "KeyUnavailableException",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
    "NotFoundException",
    "TagException",
    "UnsupportedOperationException",
    "XksKeyAlreadyInUseException",
    "XksKeyInvalidConfigurationException",
    "XksKeyNotFoundException",
    "XksProxyIncorrectAuthenticationCredentialException",
    "XksProxyInvalidConfigurationException",
    "XksProxyInvalidResponseException",
    "XksProxyUriEndpointInUseException",
    "XksProxyUriInUseException",
    "XksProxyUriUnreachableException",
    "XksProxyVpcEndpointServiceInUseException",
    "XksProxyVpcEndpointServiceInvalidConfigurationException",
    "XksProxyVpcEndpointServiceNotFoundException",
];

const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALIAS_ARN: &str = "arn:aws:kms:us-east-1:111122223333:alias/app";

fn assert_error(error: AwsError, code: ErrorCode, message: &str) {
    assert_eq!(error.code, code);
    assert_eq!(error.message, message);
}

#[test]
fn error_codes_cover_the_model() {
    let mut all: Vec<&str> = MODEL_EXCEPTIONS.to_vec();
    all.extend([
        "ValidationException",
        "AccessDeniedException",
        "NotAuthorizedException",
    ]);
    assert_matches_model::<ErrorCode>(&all);
}

#[test]
fn not_found_messages() {
    assert_error(
        key_not_found(KEY_ARN),
        ErrorCode::NotFoundException,
        "Key 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist",
    );
    assert_error(
        invalid_key_id("fake-key-id"),
        ErrorCode::NotFoundException,
        "Invalid keyId 'fake-key-id'",
    );
    assert_error(
        invalid_arn_region("ap-southeast-1"),
        ErrorCode::NotFoundException,
        "Invalid arn ap-southeast-1",
    );
    assert_error(
        alias_not_found(ALIAS_ARN),
        ErrorCode::NotFoundException,
        "Alias arn:aws:kms:us-east-1:111122223333:alias/app is not found.",
    );
}

#[test]
fn alias_messages() {
    assert_error(
        alias_already_exists(ALIAS_ARN),
        ErrorCode::AlreadyExistsException,
        "An alias with the name arn:aws:kms:us-east-1:111122223333:alias/app already exists",
    );
    assert_error(
        alias_missing_prefix(),
        ErrorCode::ValidationException,
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
    );
    assert_error(
        alias_reserved_prefix(),
        ErrorCode::NotAuthorizedException,
        "",
    );
    assert_error(
        alias_target_is_alias(),
        ErrorCode::ValidationException,
        "Aliases must refer to keys. Not aliases",
    );
    assert!(is_reserved_alias("alias/aws/s3"));
    assert!(!is_reserved_alias("alias/awsome"));
    assert!(!is_reserved_alias("alias/app/aws/x"));
}

#[test]
fn key_state_messages() {
    let cases = [
        (
            StateError::Disabled,
            ErrorCode::DisabledException,
            " is disabled.",
        ),
        (
            StateError::PendingDeletion,
            ErrorCode::KmsInvalidStateException,
            " is pending deletion.",
        ),
        (
            StateError::PendingReplicaDeletion,
            ErrorCode::KmsInvalidStateException,
            " is pending replica deletion.",
        ),
        (
            StateError::NotPendingDeletion,
            ErrorCode::KmsInvalidStateException,
            " is not pending deletion.",
        ),
        (
            StateError::PendingImport,
            ErrorCode::KmsInvalidStateException,
            " is pending import.",
        ),
        (
            StateError::Unavailable,
            ErrorCode::KmsInvalidStateException,
            " is unavailable.",
        ),
        (
            StateError::Creating,
            ErrorCode::KmsInvalidStateException,
            " is creating.",
        ),
        (
            StateError::Updating,
            ErrorCode::KmsInvalidStateException,
            " is updating.",
        ),
        (
            StateError::OriginExternal,
            ErrorCode::UnsupportedOperationException,
            " origin is EXTERNAL which is not valid for this operation.",
        ),
        (
            StateError::CustomKeyStore,
            ErrorCode::UnsupportedOperationException,
            " is in a custom key store, which is not valid for this operation.",
        ),
    ];
    for (error, code, suffix) in cases {
        assert_error(
            state_error(error, KEY_ARN),
            code,
            &format!("{KEY_ARN}{suffix}"),
        );
    }
}

#[test]
fn key_usage_and_algorithm_messages() {
    assert_error(
        invalid_key_usage(KEY_ARN, KeyUsage::SignVerify, Operation::Encrypt),
        ErrorCode::InvalidKeyUsageException,
        &format!("{KEY_ARN} key usage is SIGN_VERIFY which is not valid for Encrypt."),
    );
    assert_error(
        invalid_key_spec(KEY_ARN, KeySpec::Rsa2048, Operation::GenerateDataKey),
        ErrorCode::InvalidKeyUsageException,
        &format!("{KEY_ARN} key KeySpec is RSA_2048 which is not valid for GenerateDataKey."),
    );
    assert_error(
        algorithm_incompatible("HMAC_SHA_256", KeySpec::Hmac224),
        ErrorCode::InvalidKeyUsageException,
        "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.",
    );
    assert_error(
        origin_not_valid(KEY_ARN, Origin::AwsKms),
        ErrorCode::UnsupportedOperationException,
        &format!("{KEY_ARN} origin is AWS_KMS which is not valid for this operation."),
    );
    assert_error(
        incorrect_key(),
        ErrorCode::IncorrectKeyException,
        "The key ID in the request does not identify a CMK that can perform this operation.",
    );
    assert_error(
        rsa_plaintext_too_large(EncryptionAlgorithm::RsaesOaepSha1, KeySpec::Rsa2048, 214),
        ErrorCode::ValidationException,
        "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes.",
    );
    assert_error(
        digest_invalid_length("ECDSA_SHA_256"),
        ErrorCode::ValidationException,
        "Digest is invalid length for algorithm ECDSA_SHA_256.",
    );
    assert_error(
        not_supported_in_region("KeySpec", "SM2"),
        ErrorCode::UnsupportedOperationException,
        "KeySpec SM2 is not supported in this Region",
    );
}

#[test]
fn empty_message_errors() {
    assert_error(
        invalid_ciphertext(),
        ErrorCode::InvalidCiphertextException,
        "",
    );
    assert_error(
        invalid_signature(),
        ErrorCode::KmsInvalidSignatureException,
        "",
    );
    assert_error(invalid_mac(), ErrorCode::KmsInvalidMacException, "");
}

#[test]
fn validation_messages() {
    assert_error(
        key_usage_required(),
        ErrorCode::ValidationException,
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
    );
    assert_error(
        number_of_bytes_required(),
        ErrorCode::ValidationException,
        "NumberOfBytes is required.",
    );
    assert_error(
        valid_to_required(),
        ErrorCode::ValidationException,
        "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
    );
    assert_error(
        length_above_max("plaintext", 4096),
        ErrorCode::ValidationException,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
    assert_error(
        enum_value_invalid("RANDOM", "keyUsage", &["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
        ErrorCode::ValidationException,
        "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY]",
    );
}

#[test]
fn range_checks_use_the_model_validation_form() {
    assert_eq!(check_number_of_bytes(1), Ok(()));
    assert_eq!(check_number_of_bytes(1024), Ok(()));
    assert_error(
        check_number_of_bytes(0).unwrap_err(),
        ErrorCode::ValidationException,
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    assert_error(
        check_number_of_bytes(1025).unwrap_err(),
        ErrorCode::ValidationException,
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
    assert_eq!(check_rotation_period(90), Ok(()));
    assert_eq!(check_rotation_period(2560), Ok(()));
    assert!(
        check_rotation_period(89)
            .unwrap_err()
            .message
            .ends_with("greater than or equal to 90")
    );
    assert!(
        check_rotation_period(2561)
            .unwrap_err()
            .message
            .ends_with("less than or equal to 2560")
    );
    assert_eq!(check_pending_window(7), Ok(()));
    assert_eq!(check_pending_window(30), Ok(()));
    assert!(
        check_pending_window(6)
            .unwrap_err()
            .message
            .contains("Value '6' at 'pendingWindowInDays'")
    );
    assert!(
        check_pending_window(31)
            .unwrap_err()
            .message
            .ends_with("less than or equal to 30")
    );
}

#[test]
fn coffer_worded_errors_keep_aws_codes() {
    assert_eq!(
        on_demand_rotation_limit(KEY_ARN).code,
        ErrorCode::LimitExceededException
    );
    assert!(on_demand_rotation_limit(KEY_ARN).message.contains("25"));
    assert_eq!(
        rotation_not_supported(KEY_ARN, KeySpec::Hmac256).code,
        ErrorCode::UnsupportedOperationException
    );
    assert_eq!(
        grant_operation_not_supported("Sign", KEY_ARN).code,
        ErrorCode::ValidationException
    );
    assert_eq!(
        key_usage_incompatible(KeySpec::SymmetricDefault, KeyUsage::SignVerify).code,
        ErrorCode::ValidationException
    );
    assert_eq!(dry_run().code, ErrorCode::DryRunOperationException);
}
