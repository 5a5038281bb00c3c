//! KMS's error enum, one variant per AWS exception it becomes. `api::errors::kms` is the
//! only place that turns these into wire errors.

use crate::api::errors::ServiceError;
use coffer_wire::WireError;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    IncorrectKey(String),
    /// The detail is for the audit record only: the wire carries no message.
    #[error("")]
    InvalidCiphertext(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    InvalidGrantId(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("")]
    InvalidSignature,
    #[error("")]
    InvalidMac,
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    Tag(String),
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    #[error("{0}")]
    ExpiredImportToken(String),
    #[error("{0}")]
    InvalidImportToken(String),
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    /// An error whose code and exact message come from `coffer_kms::messages`.
    #[error("{}", .0.message)]
    Aws(coffer_kms::messages::AwsError),
    #[error("{0}")]
    Wire(WireError),
    #[error("internal error: {0}")]
    Internal(String),
}

crate::api::errors::service_error_conversions!(KmsError);

impl From<coffer_kms::messages::AwsError> for KmsError {
    fn from(e: coffer_kms::messages::AwsError) -> Self {
        Self::Aws(e)
    }
}

impl ServiceError for KmsError {
    fn to_wire(&self) -> WireError {
        crate::api::errors::kms(self)
    }
    fn audit_detail(&self) -> Option<String> {
        match self {
            Self::InvalidCiphertext(d) | Self::Internal(d) => Some(d.clone()),
            _ => None,
        }
    }
}

/// A `ValidationException` in AWS's one-violation wording.
pub fn validation(field: &str, value: impl std::fmt::Display, constraint: &str) -> KmsError {
    KmsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}
