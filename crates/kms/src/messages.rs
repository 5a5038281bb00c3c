//! AWS KMS error codes and the exact messages AWS returns with them.
//!
//! Every builder names its source in its documentation:
//! - "recorded": the response AWS gave, as recorded in LocalStack's AWS-validated snapshot
//!   tests (`tests/aws/services/kms/test_kms.snapshot.json`) or in another project's test
//!   fixture taken from AWS (named);
//! - "developer guide": the table footnote or example of the named page;
//! - "observed": an AWS error quoted in a user's log or issue (named);
//! - "derived": built from an established pattern with values from the API reference;
//! - "coffer": AWS's wording is not established; the text is coffer's own.
//!
//! The builders take ARNs as strings: callers format them (`arn:aws:kms:REGION:ACCOUNT:key/ID`).

use crate::ops::{Operation, StateError};
use crate::spec::{EncryptionAlgorithm, KeySpec, KeyUsage, Origin, limits};
use crate::wire_enum::wire_enum;

wire_enum! {
    /// The error codes (exception shape names) KMS answers with: every exception of the
    /// botocore model, plus the generic `ValidationException`, `AccessDeniedException` and
    /// `NotAuthorizedException` that AWS returns although the model does not list them.
    pub enum ErrorCode {
        /// AlreadyExistsException.
        AlreadyExistsException = "AlreadyExistsException",
        /// CloudHsmClusterInUseException.
        CloudHsmClusterInUseException = "CloudHsmClusterInUseException",
        /// CloudHsmClusterInvalidConfigurationException.
        CloudHsmClusterInvalidConfigurationException = "CloudHsmClusterInvalidConfigurationException",
        /// CloudHsmClusterNotActiveException.
        CloudHsmClusterNotActiveException = "CloudHsmClusterNotActiveException",
        /// CloudHsmClusterNotFoundException.
        CloudHsmClusterNotFoundException = "CloudHsmClusterNotFoundException",
        /// CloudHsmClusterNotRelatedException.
        CloudHsmClusterNotRelatedException = "CloudHsmClusterNotRelatedException",
        /// ConflictException.
        ConflictException = "ConflictException",
        /// CustomKeyStoreHasCMKsException.
        CustomKeyStoreHasCmksException = "CustomKeyStoreHasCMKsException",
        /// CustomKeyStoreInvalidStateException.
        CustomKeyStoreInvalidStateException = "CustomKeyStoreInvalidStateException",
        /// CustomKeyStoreNameInUseException.
        CustomKeyStoreNameInUseException = "CustomKeyStoreNameInUseException",
        /// CustomKeyStoreNotFoundException.
        CustomKeyStoreNotFoundException = "CustomKeyStoreNotFoundException",
        /// DependencyTimeoutException.
        DependencyTimeoutException = "DependencyTimeoutException",
        /// DisabledException.
        DisabledException = "DisabledException",
        /// DryRunOperationException.
        DryRunOperationException = "DryRunOperationException",
        /// ExpiredImportTokenException.
        ExpiredImportTokenException = "ExpiredImportTokenException",
        /// IncorrectKeyException.
        IncorrectKeyException = "IncorrectKeyException",
        /// IncorrectKeyMaterialException.
        IncorrectKeyMaterialException = "IncorrectKeyMaterialException",
        /// IncorrectTrustAnchorException.
        IncorrectTrustAnchorException = "IncorrectTrustAnchorException",
        /// InvalidAliasNameException.
        InvalidAliasNameException = "InvalidAliasNameException",
        /// InvalidArnException.
        InvalidArnException = "InvalidArnException",
        /// InvalidCiphertextException.
        InvalidCiphertextException = "InvalidCiphertextException",
        /// InvalidGrantIdException.
        InvalidGrantIdException = "InvalidGrantIdException",
        /// InvalidGrantTokenException.
        InvalidGrantTokenException = "InvalidGrantTokenException",
        /// InvalidImportTokenException.
        InvalidImportTokenException = "InvalidImportTokenException",
        /// InvalidKeyUsageException.
        InvalidKeyUsageException = "InvalidKeyUsageException",
        /// InvalidMarkerException.
        InvalidMarkerException = "InvalidMarkerException",
        /// KMSInternalException.
        KmsInternalException = "KMSInternalException",
        /// KMSInvalidMacException.
        KmsInvalidMacException = "KMSInvalidMacException",
        /// KMSInvalidSignatureException.
        KmsInvalidSignatureException = "KMSInvalidSignatureException",
        /// KMSInvalidStateException.
        KmsInvalidStateException = "KMSInvalidStateException",
        /// KeyUnavailableException.
        KeyUnavailableException = "KeyUnavailableException",
        /// LimitExceededException.
        LimitExceededException = "LimitExceededException",
        /// MalformedPolicyDocumentException.
        MalformedPolicyDocumentException = "MalformedPolicyDocumentException",
        /// NotFoundException.
        NotFoundException = "NotFoundException",
        /// TagException.
        TagException = "TagException",
        /// UnsupportedOperationException.
        UnsupportedOperationException = "UnsupportedOperationException",
        /// XksKeyAlreadyInUseException.
        XksKeyAlreadyInUseException = "XksKeyAlreadyInUseException",
        /// XksKeyInvalidConfigurationException.
        XksKeyInvalidConfigurationException = "XksKeyInvalidConfigurationException",
        /// XksKeyNotFoundException.
        XksKeyNotFoundException = "XksKeyNotFoundException",
        /// XksProxyIncorrectAuthenticationCredentialException.
        XksProxyIncorrectAuthenticationCredentialException = "XksProxyIncorrectAuthenticationCredentialException",
        /// XksProxyInvalidConfigurationException.
        XksProxyInvalidConfigurationException = "XksProxyInvalidConfigurationException",
        /// XksProxyInvalidResponseException.
        XksProxyInvalidResponseException = "XksProxyInvalidResponseException",
        /// XksProxyUriEndpointInUseException.
        XksProxyUriEndpointInUseException = "XksProxyUriEndpointInUseException",
        /// XksProxyUriInUseException.
        XksProxyUriInUseException = "XksProxyUriInUseException",
        /// XksProxyUriUnreachableException.
        XksProxyUriUnreachableException = "XksProxyUriUnreachableException",
        /// XksProxyVpcEndpointServiceInUseException.
        XksProxyVpcEndpointServiceInUseException = "XksProxyVpcEndpointServiceInUseException",
        /// XksProxyVpcEndpointServiceInvalidConfigurationException.
        XksProxyVpcEndpointServiceInvalidConfigurationException = "XksProxyVpcEndpointServiceInvalidConfigurationException",
        /// XksProxyVpcEndpointServiceNotFoundException.
        XksProxyVpcEndpointServiceNotFoundException = "XksProxyVpcEndpointServiceNotFoundException",
        /// ValidationException (request validation; not a model shape).
        ValidationException = "ValidationException",
        /// AccessDeniedException (authorization; not a model shape).
        AccessDeniedException = "AccessDeniedException",
        /// NotAuthorizedException (reserved alias names; not a model shape).
        NotAuthorizedException = "NotAuthorizedException",
    }
    unsupported {}
}

/// An AWS error: the code and the exact message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The exception name.
    pub code: ErrorCode,
    /// The message, exactly as AWS words it (may be empty).
    pub message: String,
}

impl AwsError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// NotFoundException for a key ID or key ARN naming no key: `Key '<key ARN>' does not exist`
/// (recorded; the ARN is built from the caller's account and Region even when a bare key ID
/// was given, and there is no final period).
pub fn key_not_found(key_arn: &str) -> AwsError {
    AwsError::new(
        ErrorCode::NotFoundException,
        format!("Key '{key_arn}' does not exist"),
    )
}

/// NotFoundException for a `KeyId` that is neither a key ID, key ARN, alias name nor alias
/// ARN: `Invalid keyId '<input>'` (recorded, e.g. `Invalid keyId 'fake-key-id'`).
pub fn invalid_key_id(key_id: &str) -> AwsError {
    AwsError::new(
        ErrorCode::NotFoundException,
        format!("Invalid keyId '{key_id}'"),
    )
}

/// NotFoundException for a key ARN whose Region is not the endpoint's: `Invalid arn <region>`
/// (recorded: DescribeKey with an ap-southeast-1 ARN elsewhere).
pub fn invalid_arn_region(arn_region: &str) -> AwsError {
    AwsError::new(
        ErrorCode::NotFoundException,
        format!("Invalid arn {arn_region}"),
    )
}

/// NotFoundException for an alias name or alias ARN naming no alias: `Alias <alias ARN> is
/// not found.` (observed: jsign's AWS KMS test fixture and users' Terraform logs,
/// e.g. `Alias arn:aws:kms:eu-west-3:829022948260:alias/jsign-rsa-2048 is not found.`).
pub fn alias_not_found(alias_arn: &str) -> AwsError {
    AwsError::new(
        ErrorCode::NotFoundException,
        format!("Alias {alias_arn} is not found."),
    )
}

/// AlreadyExistsException from CreateAlias: `An alias with the name <alias ARN> already
/// exists` (observed in users' Terraform logs, no final period).
pub fn alias_already_exists(alias_arn: &str) -> AwsError {
    AwsError::new(
        ErrorCode::AlreadyExistsException,
        format!("An alias with the name {alias_arn} already exists"),
    )
}

/// ValidationException for an alias name without the `alias/` prefix (recorded).
pub fn alias_missing_prefix() -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
    )
}

/// The refusal of an alias name under the reserved `alias/aws/` prefix ("The alias/aws/ prefix
/// is reserved for Amazon Web Services managed keys", CreateAlias): `NotAuthorizedException`
/// with an empty message, as moto and local-kms answer (both built against AWS); the model
/// lists no error for it.
pub fn alias_reserved_prefix() -> AwsError {
    AwsError::new(ErrorCode::NotAuthorizedException, "")
}

/// Whether an alias name uses the prefix reserved for AWS managed keys.
pub fn is_reserved_alias(alias_name: &str) -> bool {
    alias_name.starts_with("alias/aws/")
}

/// ValidationException when an alias's target is itself an alias: `Aliases must refer to
/// keys. Not aliases` (observed in moto's KMS responses, which mirror AWS).
pub fn alias_target_is_alias() -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        "Aliases must refer to keys. Not aliases",
    )
}

/// The error for a key-state refusal (developer guide "Key states of AWS KMS keys",
/// footnotes \[1\]-\[15\]; \[1\], \[3\] and \[5\] also recorded/observed verbatim, e.g.
/// `arn:aws:kms:...:key/... is pending import.`). PendingReplicaDeletion's text is derived
/// from footnote \[3\]'s "(or pending replica deletion)"; the custom-key-store text is coffer's.
pub fn state_error(error: StateError, key_arn: &str) -> AwsError {
    let message = match error {
        StateError::Disabled => format!("{key_arn} is disabled."),
        StateError::PendingDeletion => format!("{key_arn} is pending deletion."),
        StateError::PendingReplicaDeletion => format!("{key_arn} is pending replica deletion."),
        StateError::NotPendingDeletion => format!("{key_arn} is not pending deletion."),
        StateError::PendingImport => format!("{key_arn} is pending import."),
        StateError::OriginExternal => return origin_not_valid(key_arn, Origin::External),
        StateError::CustomKeyStore => {
            format!("{key_arn} is in a custom key store, which is not valid for this operation.")
        }
        StateError::Unavailable => format!("{key_arn} is unavailable."),
        StateError::Creating => format!("{key_arn} is creating."),
        StateError::Updating => format!("{key_arn} is updating."),
    };
    AwsError::new(error.code(), message)
}

/// UnsupportedOperationException for an operation the key's origin does not allow: `<key ARN>
/// origin is <ORIGIN> which is not valid for this operation.` (recorded for
/// GetParametersForImport on an AWS_KMS key; footnote \[6\] for EXTERNAL).
pub fn origin_not_valid(key_arn: &str, origin: Origin) -> AwsError {
    AwsError::new(
        ErrorCode::UnsupportedOperationException,
        format!("{key_arn} origin is {origin} which is not valid for this operation."),
    )
}

/// InvalidKeyUsageException for a key whose usage does not fit the operation: `<key ARN> key
/// usage is <USAGE> which is not valid for <Operation>.` (recorded for GenerateMac, Sign,
/// Verify and Encrypt; observed in jwt-kms issue #4).
pub fn invalid_key_usage(key_arn: &str, usage: KeyUsage, op: Operation) -> AwsError {
    AwsError::new(
        ErrorCode::InvalidKeyUsageException,
        format!("{key_arn} key usage is {usage} which is not valid for {op}."),
    )
}

/// InvalidKeyUsageException for a key whose usage fits but whose spec does not (an RSA
/// ENCRYPT_DECRYPT key for GenerateDataKey): `<key ARN> key KeySpec is <SPEC> which is not
/// valid for <Operation>.` (observed in local-kms, which mirrors AWS; not recorded).
pub fn invalid_key_spec(key_arn: &str, spec: KeySpec, op: Operation) -> AwsError {
    AwsError::new(
        ErrorCode::InvalidKeyUsageException,
        format!("{key_arn} key KeySpec is {spec} which is not valid for {op}."),
    )
}

/// InvalidKeyUsageException for an algorithm the key spec does not support: `Algorithm
/// <ALGORITHM> is incompatible with key spec <SPEC>.` (recorded for MAC algorithms,
/// e.g. `Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.`; the same sentence
/// is used for signing and encryption algorithms).
pub fn algorithm_incompatible(algorithm: &str, spec: KeySpec) -> AwsError {
    AwsError::new(
        ErrorCode::InvalidKeyUsageException,
        format!("Algorithm {algorithm} is incompatible with key spec {spec}."),
    )
}

/// IncorrectKeyException when Decrypt/ReEncrypt name a key other than the one that encrypted
/// the ciphertext (recorded; developer guide CloudTrail example "Decrypt failure").
pub fn incorrect_key() -> AwsError {
    AwsError::new(
        ErrorCode::IncorrectKeyException,
        "The key ID in the request does not identify a CMK that can perform this operation.",
    )
}

/// InvalidCiphertextException: AWS sends an empty message (recorded).
pub fn invalid_ciphertext() -> AwsError {
    AwsError::new(ErrorCode::InvalidCiphertextException, "")
}

/// KMSInvalidSignatureException from Verify: empty message (recorded).
pub fn invalid_signature() -> AwsError {
    AwsError::new(ErrorCode::KmsInvalidSignatureException, "")
}

/// KMSInvalidMacException from VerifyMac: empty message (recorded).
pub fn invalid_mac() -> AwsError {
    AwsError::new(ErrorCode::KmsInvalidMacException, "")
}

/// ValidationException for RSA plaintext over the OAEP limit: `Algorithm <ALG> and key spec
/// <SPEC> cannot encrypt data larger than <N> bytes.` (recorded for all six RSA pairs).
pub fn rsa_plaintext_too_large(
    algorithm: EncryptionAlgorithm,
    spec: KeySpec,
    max: usize,
) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!(
            "Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {max} bytes."
        ),
    )
}

/// ValidationException for a DIGEST message of the wrong length: `Digest is invalid length
/// for algorithm <ALG>.` (recorded).
pub fn digest_invalid_length(algorithm: &str) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!("Digest is invalid length for algorithm {algorithm}."),
    )
}

/// ValidationException for a message type the signing algorithm does not take (pure
/// Ed25519 and ML-DSA take no DIGEST, Ed25519ph only a DIGEST; see
/// [`crate::spec::SigningAlgorithm::accepts_message_type`]); coffer's wording.
pub fn message_type_not_accepted(
    algorithm: crate::spec::SigningAlgorithm,
    message_type: crate::spec::MessageType,
) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!("The {algorithm} signing algorithm does not accept MessageType {message_type}."),
    )
}

/// ValidationException from CreateKey without `KeyUsage` for a non-symmetric spec (recorded).
pub fn key_usage_required() -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
    )
}

/// ValidationException from CreateKey when the spec does not permit the usage (coffer: AWS
/// answers ValidationException, its wording is not established).
pub fn key_usage_incompatible(spec: KeySpec, usage: KeyUsage) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!("KeyUsage {usage} is not compatible with KeySpec {spec}."),
    )
}

/// UnsupportedOperationException for a China-Regions-only value used elsewhere: `<Member>
/// <VALUE> is not supported in this Region` (observed: real KMS in us-east-1 answering CreateKey
/// with `KeySpec SM2`, quoted in floci issue #3026).
pub fn not_supported_in_region(member: &str, value: &str) -> AwsError {
    AwsError::new(
        ErrorCode::UnsupportedOperationException,
        format!("{member} {value} is not supported in this Region"),
    )
}

/// ValidationException for a request with `Recipient` (a Nitro Enclaves attestation
/// document), which coffer cannot verify; coffer's wording.
pub fn recipient_not_supported() -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        "The Recipient parameter is not supported: coffer cannot verify Nitro Enclaves attestation documents.",
    )
}

/// UnsupportedOperationException for a value AWS offers and coffer does not implement
/// (ML-DSA's `EXTERNAL_MU` message type): `<Member> <VALUE> is not supported by coffer`
/// (coffer's wording).
pub fn not_implemented(member: &str, value: &str) -> AwsError {
    AwsError::new(
        ErrorCode::UnsupportedOperationException,
        format!("{member} {value} is not supported by coffer"),
    )
}

/// The answer for a model value coffer refuses (see [`crate::spec::refused_value`]), or
/// `None` for an unknown value, which model validation reports instead.
pub fn refused(member: &str, e: &crate::ParseEnumError) -> Option<AwsError> {
    match e {
        crate::ParseEnumError::ChinaRegionsOnly { value, .. } => {
            Some(not_supported_in_region(member, value))
        }
        crate::ParseEnumError::NotImplemented { value, .. } => Some(not_implemented(member, value)),
        crate::ParseEnumError::Unknown { .. } => None,
    }
}

/// ValidationException from GenerateRandom without `NumberOfBytes` (recorded).
pub fn number_of_bytes_required() -> AwsError {
    AwsError::new(ErrorCode::ValidationException, "NumberOfBytes is required.")
}

/// ValidationException from ImportKeyMaterial with KEY_MATERIAL_EXPIRES and no `ValidTo`
/// (recorded).
pub fn valid_to_required() -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
    )
}

/// The model-validation message for a number below its minimum: `1 validation error
/// detected: Value '<v>' at '<member>' failed to satisfy constraint: Member must have value
/// greater than or equal to <min>` (recorded for `numberOfBytes`; `member` is the
/// lower-camel-case member name).
pub fn value_below_min(value: i64, member: &str, min: i64) -> AwsError {
    validation_one(&format!(
        "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
    ))
}

/// As [`value_below_min`] for a number above its maximum (`... less than or equal to <max>`,
/// recorded for `numberOfBytes`).
pub fn value_above_max(value: i64, member: &str, max: i64) -> AwsError {
    validation_one(&format!(
        "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
    ))
}

/// The model-validation message for a blob or string over its maximum length (recorded for
/// `plaintext`: the value itself is not echoed).
pub fn length_above_max(member: &str, max: usize) -> AwsError {
    validation_one(&format!(
        "Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
    ))
}

/// The model-validation message for a value outside an enum (recorded for `keySpec`,
/// `keyUsage` and `macAlgorithm`). AWS lists the values the Region offers in an order of its
/// own; coffer lists `allowed` as given (use the enum's `ALL`).
pub fn enum_value_invalid(value: &str, member: &str, allowed: &[&str]) -> AwsError {
    validation_one(&format!(
        "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

fn validation_one(detail: &str) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!("1 validation error detected: {detail}"),
    )
}

/// Validates NumberOfBytes (GenerateDataKey, GenerateRandom): 1-1024 (recorded messages).
pub fn check_number_of_bytes(value: i64) -> Result<(), AwsError> {
    check_range(value, "numberOfBytes", limits::NUMBER_OF_BYTES)
}

/// Validates RotationPeriodInDays (EnableKeyRotation): 90-2560, in the model-validation form
/// (derived: the recorded `numberOfBytes` pattern with the model's bounds).
pub fn check_rotation_period(value: i64) -> Result<(), AwsError> {
    check_range(value, "rotationPeriodInDays", limits::ROTATION_PERIOD_DAYS)
}

/// Validates PendingWindowInDays (ScheduleKeyDeletion): 7-30, in the model-validation form with KMS's bounds (derived: AWS's exact text for 1-6 and
/// 31-365, which pass the model's 1-365, is not established).
pub fn check_pending_window(value: i64) -> Result<(), AwsError> {
    check_range(value, "pendingWindowInDays", limits::PENDING_WINDOW_DAYS)
}

fn check_range(
    value: i64,
    member: &str,
    range: core::ops::RangeInclusive<u32>,
) -> Result<(), AwsError> {
    let (min, max) = (i64::from(*range.start()), i64::from(*range.end()));
    if value < min {
        Err(value_below_min(value, member, min))
    } else if value > max {
        Err(value_above_max(value, member, max))
    } else {
        Ok(())
    }
}

/// LimitExceededException after the 25th on-demand rotation of a key (coffer: the exception is
/// documented by RotateKeyOnDemand, its message is not established).
pub fn on_demand_rotation_limit(key_arn: &str) -> AwsError {
    AwsError::new(
        ErrorCode::LimitExceededException,
        format!(
            "{key_arn} has reached the limit of {} on-demand rotations.",
            limits::ON_DEMAND_ROTATIONS_PER_KEY
        ),
    )
}

/// UnsupportedOperationException for a rotation request on a key spec that never rotates
/// (asymmetric and HMAC keys). coffer: AWS's wording is not established; keys with the wrong
/// origin get [`origin_not_valid`] instead, as footnote \[6\] shows.
pub fn rotation_not_supported(key_arn: &str, spec: KeySpec) -> AwsError {
    AwsError::new(
        ErrorCode::UnsupportedOperationException,
        format!("{key_arn} key spec is {spec} which is not valid for this operation."),
    )
}

/// ValidationException from CreateGrant listing an operation the key does not support
/// ("Grants in AWS KMS": "the CreateGrant request fails with a ValidationError exception").
/// coffer: AWS's wording is not established.
pub fn grant_operation_not_supported(operation: &str, key_arn: &str) -> AwsError {
    AwsError::new(
        ErrorCode::ValidationException,
        format!("Grant operation {operation} is not supported by {key_arn}."),
    )
}

/// DryRunOperationException: the model's description of the exception (coffer: the message
/// text AWS sends is not established).
pub fn dry_run() -> AwsError {
    AwsError::new(
        ErrorCode::DryRunOperationException,
        "The request was rejected because the DryRun parameter was specified.",
    )
}

#[cfg(test)]
mod tests;
