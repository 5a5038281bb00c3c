//! The one place where service errors become wire errors: every variant of every service's
//! error enum is matched here, so the compiler proves the mapping total.
//!
//! Internal failures never leak detail to the caller: they answer a generic 500 and the
//! detail goes to the log and the audit record.

use super::{AuditInfo, Outcome};
use crate::services::cloudtrail::CloudTrailError;
use crate::services::iam::IamError;
use crate::services::kms::KmsError;
use crate::services::secretsmanager::SmError;
use crate::services::sts::StsError;
use coffer_wire::WireError;
use http::StatusCode;

/// What the shared awsJson call path ([`super::json_call`]) needs from a service's error
/// enum. `to_wire` delegates to the enum's mapper in this module.
pub trait ServiceError: From<WireError> {
    /// The wire error this error becomes.
    fn to_wire(&self) -> WireError;
    /// The internal detail to put in the audit record, when the wire message hides it.
    fn audit_detail(&self) -> Option<String>;
}

/// The conversions every awsJson service's error enum has, written once. The enum must
/// have `AccessDenied(String)`, `Internal(String)` and `Wire(WireError)` variants: a policy
/// refusal keeps the policy engine's message, an identity or storage failure is internal
/// (its detail reaches only the log and the audit record), a wire error passes through.
macro_rules! service_error_conversions {
    ($error:ty) => {
        impl From<$crate::authz::AuthzError> for $error {
            fn from(e: $crate::authz::AuthzError) -> Self {
                match e {
                    $crate::authz::AuthzError::Denied(d) => Self::AccessDenied(d.message),
                    $crate::authz::AuthzError::Identity(i) => Self::Internal(i.to_string()),
                }
            }
        }

        impl From<::coffer_storage::StorageError> for $error {
            fn from(e: ::coffer_storage::StorageError) -> Self {
                Self::Internal(e.to_string())
            }
        }

        impl From<::coffer_wire::WireError> for $error {
            fn from(e: ::coffer_wire::WireError) -> Self {
                Self::Wire(e)
            }
        }

        /// A record that will not decode is damaged storage: internal, like a failing store.
        impl From<$crate::records::RecordFault> for $error {
            fn from(f: $crate::records::RecordFault) -> Self {
                Self::Internal(f.to_string())
            }
        }
    };
}
pub(crate) use service_error_conversions;

fn wire(status: StatusCode, code: &'static str, message: String) -> WireError {
    WireError::sender(status, code, message)
}

/// The query protocol's generic server-side failure (IAM and STS call it `ServiceFailure`).
fn query_internal() -> WireError {
    WireError::receiver(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServiceFailure",
        "An internal error occurred.",
    )
}

/// The JSON protocol's generic server-side failure.
pub fn json_internal() -> WireError {
    WireError::internal(coffer_wire::Protocol::AwsJson11)
}

/// The generic server-side failure of a protocol.
pub fn internal(protocol: coffer_wire::Protocol) -> WireError {
    match protocol {
        coffer_wire::Protocol::Query => query_internal(),
        p => WireError::internal(p),
    }
}

pub fn sts(e: &StsError) -> WireError {
    let msg = e.to_string();
    match e {
        StsError::Validation(_) => wire(StatusCode::BAD_REQUEST, "ValidationError", msg),
        StsError::AccessDenied(_) => wire(StatusCode::FORBIDDEN, "AccessDenied", msg),
        StsError::MalformedPolicyDocument(_) => {
            wire(StatusCode::BAD_REQUEST, "MalformedPolicyDocument", msg)
        }
        StsError::InvalidAction(_) => wire(StatusCode::BAD_REQUEST, "InvalidAction", msg),
        StsError::Internal(i) => {
            tracing::error!(error = %i, "sts internal error");
            query_internal()
        }
    }
}

pub fn iam(e: &IamError) -> WireError {
    let msg = e.to_string();
    match e {
        IamError::NoSuchEntity(_) => wire(StatusCode::NOT_FOUND, "NoSuchEntity", msg),
        IamError::EntityAlreadyExists(_) => wire(StatusCode::CONFLICT, "EntityAlreadyExists", msg),
        IamError::LimitExceeded(_) => wire(StatusCode::CONFLICT, "LimitExceeded", msg),
        IamError::DeleteConflict(_) => wire(StatusCode::CONFLICT, "DeleteConflict", msg),
        IamError::MalformedPolicyDocument(_) => {
            wire(StatusCode::BAD_REQUEST, "MalformedPolicyDocument", msg)
        }
        IamError::Validation(_) => wire(StatusCode::BAD_REQUEST, "ValidationError", msg),
        IamError::AccessDenied(_) => wire(StatusCode::FORBIDDEN, "AccessDenied", msg),
        IamError::InvalidAction(_) => wire(StatusCode::BAD_REQUEST, "InvalidAction", msg),
        IamError::Internal(i) => {
            tracing::error!(error = %i, "iam internal error");
            query_internal()
        }
    }
}

pub fn cloudtrail(e: &CloudTrailError) -> WireError {
    let msg = e.to_string();
    let bad = StatusCode::BAD_REQUEST;
    match e {
        CloudTrailError::InvalidLookupAttributes(_) => {
            wire(bad, "InvalidLookupAttributesException", msg)
        }
        CloudTrailError::InvalidTimeRange => wire(bad, "InvalidTimeRangeException", msg),
        CloudTrailError::InvalidMaxResults => wire(bad, "InvalidMaxResultsException", msg),
        CloudTrailError::InvalidNextToken => wire(bad, "InvalidNextTokenException", msg),
        CloudTrailError::InvalidEventCategory(_) => wire(bad, "InvalidEventCategoryException", msg),
        CloudTrailError::AccessDenied(_) => wire(bad, "AccessDeniedException", msg),
        CloudTrailError::Wire(w) => w.clone(),
        CloudTrailError::Internal(i) => {
            tracing::error!(error = %i, "cloudtrail internal error");
            json_internal()
        }
    }
}

pub fn kms(e: &KmsError) -> WireError {
    let msg = e.to_string();
    let bad = StatusCode::BAD_REQUEST;
    let code = match e {
        KmsError::NotFound(_) => "NotFoundException",
        KmsError::Disabled(_) => "DisabledException",
        KmsError::InvalidState(_) => "KMSInvalidStateException",
        KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
        KmsError::IncorrectKey(_) => "IncorrectKeyException",
        KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
        KmsError::InvalidArn(_) => "InvalidArnException",
        KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
        KmsError::AlreadyExists(_) => "AlreadyExistsException",
        KmsError::Validation(_) => "ValidationException",
        KmsError::LimitExceeded(_) => "LimitExceededException",
        KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
        KmsError::AccessDenied(_) => "AccessDeniedException",
        KmsError::InvalidMarker(_) => "InvalidMarkerException",
        KmsError::InvalidGrantId(_) => "InvalidGrantIdException",
        KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
        KmsError::InvalidSignature => "KMSInvalidSignatureException",
        KmsError::InvalidMac => "KMSInvalidMacException",
        KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
        KmsError::Tag(_) => "TagException",
        KmsError::DryRun => {
            return wire(
                StatusCode::PRECONDITION_FAILED,
                "DryRunOperationException",
                msg,
            );
        }
        KmsError::CustomKeyStoreNotFound(_) => "CustomKeyStoreNotFoundException",
        KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
        KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
        KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
        KmsError::Aws(a) => return kms_researched(a),
        KmsError::Wire(w) => return w.clone(),
        KmsError::Internal(i) => {
            tracing::error!(error = %i, "kms internal error");
            return WireError::receiver(
                StatusCode::INTERNAL_SERVER_ERROR,
                "KMSInternalException",
                "An internal error occurred.",
            );
        }
    };
    wire(bad, code, msg)
}

/// Errors built by `coffer_kms::messages` carry their AWS code; statuses follow AWS (every
/// KMS client error is a 400 except DryRunOperationException, 412).
fn kms_researched(a: &coffer_kms::messages::AwsError) -> WireError {
    use coffer_kms::messages::ErrorCode;
    match a.code {
        ErrorCode::KmsInternalException => WireError::receiver(
            StatusCode::INTERNAL_SERVER_ERROR,
            a.code.as_str(),
            a.message.clone(),
        ),
        ErrorCode::DryRunOperationException => wire(
            StatusCode::PRECONDITION_FAILED,
            a.code.as_str(),
            a.message.clone(),
        ),
        _ => wire(StatusCode::BAD_REQUEST, a.code.as_str(), a.message.clone()),
    }
}

/// Secrets Manager: every client error is a 400; InternalServiceError is a 500.
pub fn secretsmanager(e: &SmError) -> WireError {
    let msg = e.to_string();
    let code = match e {
        SmError::ResourceNotFound(_) => "ResourceNotFoundException",
        SmError::InvalidParameter(_) => "InvalidParameterException",
        SmError::InvalidRequest(_) => "InvalidRequestException",
        SmError::ResourceExists(_) => "ResourceExistsException",
        SmError::LimitExceeded(_) => "LimitExceededException",
        SmError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
        SmError::PublicPolicy(_) => "PublicPolicyException",
        SmError::InvalidNextToken(_) => "InvalidNextTokenException",
        SmError::EncryptionFailure(_) => "EncryptionFailure",
        SmError::DecryptionFailure(_) => "DecryptionFailure",
        SmError::KmsInvalidState(_) => "KMSInvalidStateException",
        SmError::AccessDenied(_) => "AccessDeniedException",
        SmError::Wire(w) => return w.clone(),
        SmError::Internal(i) => {
            tracing::error!(error = %i, "secretsmanager internal error");
            return WireError::receiver(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServiceError",
                "An error occurred on the server side.",
            );
        }
    };
    wire(StatusCode::BAD_REQUEST, code, msg)
}

/// A query service reached with a JSON request or the reverse: the router prevents it,
/// so reaching this is a server bug, reported as an internal error.
pub fn protocol_mismatch(service: &str) -> Outcome {
    tracing::error!(
        service,
        "request routed to a service with the wrong protocol"
    );
    Outcome {
        result: Err(json_internal()),
        audit: AuditInfo {
            detail: Some("protocol mismatch".into()),
            ..Default::default()
        },
    }
}

/// Parameter Store: every client error is a 400 (AWS's SSM answers 400 for all of them).
pub fn ssm(e: &crate::services::ssm::SsmError) -> WireError {
    use crate::services::ssm::SsmError as E;
    let msg = e.to_string();
    let code = match e {
        E::Validation(_) => "ValidationException",
        E::ParameterNotFound(_) => "ParameterNotFound",
        E::ParameterAlreadyExists(_) => "ParameterAlreadyExists",
        E::ParameterVersionNotFound(_) => "ParameterVersionNotFound",
        E::ParameterLimitExceeded(_) => "ParameterLimitExceeded",
        E::ParameterMaxVersionLimitExceeded(_) => "ParameterMaxVersionLimitExceeded",
        E::ParameterVersionLabelLimitExceeded(_) => "ParameterVersionLabelLimitExceeded",
        E::ParameterPatternMismatch(_) => "ParameterPatternMismatchException",
        E::InvalidAllowedPattern(_) => "InvalidAllowedPatternException",
        E::HierarchyLevelLimitExceeded(_) => "HierarchyLevelLimitExceededException",
        E::InvalidKeyId(_) => "InvalidKeyId",
        E::InvalidFilterKey(_) => "InvalidFilterKey",
        E::InvalidFilterOption(_) => "InvalidFilterOption",
        E::InvalidFilterValue(_) => "InvalidFilterValue",
        E::InvalidNextToken(_) => "InvalidNextToken",
        E::InvalidResourceId(_) => "InvalidResourceId",
        E::InvalidResourceType(_) => "InvalidResourceType",
        E::TooManyTags(_) => "TooManyTagsError",
        E::ServiceSettingNotFound(_) => "ServiceSettingNotFound",
        E::InvalidPolicyType(_) => "InvalidPolicyTypeException",
        E::InvalidPolicyAttribute(_) => "InvalidPolicyAttributeException",
        E::PoliciesLimitExceeded(_) => "PoliciesLimitExceededException",
        E::IncompatiblePolicy(_) => "IncompatiblePolicyException",
        E::TooManyUpdates(_) => "TooManyUpdates",
        E::AccessDenied(_) => "AccessDeniedException",
        E::Wire(w) => return w.clone(),
        E::Internal(i) => {
            tracing::error!(error = %i, "ssm internal error");
            return WireError::receiver(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal error occurred.",
            );
        }
    };
    wire(StatusCode::BAD_REQUEST, code, msg)
}
