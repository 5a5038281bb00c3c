//! Parameter Store's error enum, one variant per AWS exception it becomes.
//! `api::errors::ssm` is the only place that turns these into wire errors.

use crate::api::errors::ServiceError;
use crate::services::kms::KmsError;
use coffer_wire::WireError;

#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ParameterNotFound(String),
    #[error("{0}")]
    ParameterAlreadyExists(String),
    #[error("{0}")]
    ParameterVersionNotFound(String),
    #[error("{0}")]
    ParameterLimitExceeded(String),
    #[error("{0}")]
    ParameterMaxVersionLimitExceeded(String),
    #[error("{0}")]
    ParameterVersionLabelLimitExceeded(String),
    #[error("{0}")]
    ParameterPatternMismatch(String),
    #[error("{0}")]
    InvalidAllowedPattern(String),
    #[error("{0}")]
    HierarchyLevelLimitExceeded(String),
    #[error("{0}")]
    InvalidKeyId(String),
    #[error("{0}")]
    InvalidFilterKey(String),
    #[error("{0}")]
    InvalidFilterOption(String),
    #[error("{0}")]
    InvalidFilterValue(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    InvalidResourceId(String),
    #[error("{0}")]
    InvalidResourceType(String),
    #[error("{0}")]
    TooManyTags(String),
    #[error("{0}")]
    ServiceSettingNotFound(String),
    #[error("{0}")]
    InvalidPolicyType(String),
    #[error("{0}")]
    InvalidPolicyAttribute(String),
    #[error("{0}")]
    PoliciesLimitExceeded(String),
    #[error("{0}")]
    IncompatiblePolicy(String),
    #[error("{0}")]
    TooManyUpdates(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Wire(WireError),
    #[error("internal error: {0}")]
    Internal(String),
}

crate::api::errors::service_error_conversions!(SsmError);

/// KMS failures as Parameter Store reports them: a key that cannot be used is
/// `InvalidKeyId` with KMS's explanation, a refusal stays an access denial.
impl From<KmsError> for SsmError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::AccessDenied(m) => Self::AccessDenied(m),
            KmsError::NotFound(m)
            | KmsError::Disabled(m)
            | KmsError::InvalidState(m)
            | KmsError::InvalidKeyUsage(m)
            | KmsError::IncorrectKey(m)
            | KmsError::InvalidArn(m)
            | KmsError::Validation(m) => Self::InvalidKeyId(m),
            KmsError::Aws(a) => Self::InvalidKeyId(a.message),
            other => Self::Internal(format!("kms: {other}")),
        }
    }
}

impl ServiceError for SsmError {
    fn to_wire(&self) -> WireError {
        crate::api::errors::ssm(self)
    }
    fn audit_detail(&self) -> Option<String> {
        match self {
            Self::Internal(d) => Some(d.clone()),
            _ => None,
        }
    }
}
