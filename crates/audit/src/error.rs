use crate::verify::VerifyFailure;
use std::path::PathBuf;

/// Why an audit operation failed. Every append error means the record is not known to be
/// durable, so the caller must fail the request it was auditing.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log I/O error while {context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log is corrupt at {0}")]
    Corrupt(Box<VerifyFailure>),
    #[error("audit log directory {0} is in use by another process")]
    Locked(PathBuf),
    /// This append's batch could not be written or synced.
    #[error("audit record could not be made durable: {0}")]
    WriteFailed(String),
    /// An earlier write or sync failed; the file state is unknown until reopened.
    #[error("audit log has failed and refuses appends until it is reopened")]
    Failed,
    #[error("audit log is closed")]
    Closed,
    #[error("audit event could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("audit event of {0} bytes exceeds the size limit")]
    EventTooLarge(usize),
    /// CloudTrail's `InvalidNextTokenException`.
    #[error("invalid next token")]
    InvalidNextToken,
    /// CloudTrail's `InvalidMaxResultsException`.
    #[error("MaxResults must be between 1 and 50")]
    InvalidMaxResults,
    /// CloudTrail's `InvalidTimeRangeException`.
    #[error("StartTime must not be after EndTime")]
    InvalidTimeRange,
    /// CloudTrail's `InvalidLookupAttributesException`.
    #[error("invalid lookup attribute: {0}")]
    InvalidLookupAttributes(String),
}

impl AuditError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> AuditError {
        move |source| AuditError::Io { context, source }
    }
}
