//! Secrets Manager's error enum, one variant per AWS exception it becomes.
//! `api::errors::secretsmanager` is the only place that turns these into wire errors.

use crate::api::errors::ServiceError;
use crate::services::kms::KmsError;
use coffer_wire::WireError;

#[derive(Debug, thiserror::Error)]
pub enum SmError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    ResourceExists(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    PublicPolicy(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    EncryptionFailure(String),
    #[error("{0}")]
    DecryptionFailure(String),
    /// KMS refused a write because of the key's state (disabled, pending deletion).
    #[error("{0}")]
    KmsInvalidState(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Wire(WireError),
    #[error("internal error: {0}")]
    Internal(String),
}

crate::api::errors::service_error_conversions!(SmError);

impl ServiceError for SmError {
    fn to_wire(&self) -> WireError {
        crate::api::errors::secretsmanager(self)
    }
    fn audit_detail(&self) -> Option<String> {
        match self {
            Self::Internal(d) => Some(d.clone()),
            _ => None,
        }
    }
}

impl SmError {
    /// A KMS failure while reading a secret value, as Secrets Manager reports it.
    pub fn from_kms_read(e: KmsError) -> Self {
        match e {
            KmsError::AccessDenied(_) => Self::AccessDenied(KMS_DENIED.into()),
            KmsError::Internal(i) => Self::Internal(i),
            _ => Self::DecryptionFailure(
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
                    .into(),
            ),
        }
    }

    /// A KMS failure while encrypting a new secret value.
    pub fn from_kms_write(e: KmsError) -> Self {
        match e {
            KmsError::AccessDenied(_) => Self::AccessDenied(KMS_DENIED.into()),
            KmsError::Disabled(m) | KmsError::InvalidState(m) => Self::KmsInvalidState(m),
            KmsError::Aws(a)
                if a.code.as_str() == "KMSInvalidStateException"
                    || a.code.as_str() == "DisabledException" =>
            {
                Self::KmsInvalidState(a.message)
            }
            KmsError::Internal(i) => Self::Internal(i),
            other => Self::EncryptionFailure(format!(
                "Secrets Manager can't encrypt the secret value with the specified KMS key: {other}"
            )),
        }
    }
}

/// AWS's message when KMS refuses the caller on a secret's behalf.
pub const KMS_DENIED: &str = "Access to KMS is not allowed";

pub fn not_found() -> SmError {
    SmError::ResourceNotFound("Secrets Manager can't find the specified secret.".into())
}

pub fn marked_deleted() -> SmError {
    SmError::InvalidRequest(
        "You can't perform this operation on the secret because it was marked for deletion.".into(),
    )
}

pub fn invalid_param(m: impl Into<String>) -> SmError {
    SmError::InvalidParameter(m.into())
}

pub fn invalid_request(m: impl Into<String>) -> SmError {
    SmError::InvalidRequest(m.into())
}
