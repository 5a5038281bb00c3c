//! Every way authentication fails, and the exact AWS error each becomes per protocol.

use crate::error::{Protocol, WireError};
use http::StatusCode;

/// Why a request failed authentication. Variants are named by what happened; the AWS
/// names live only in [`SigV4Error::wire_error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("request carries no authentication")]
    Missing,
    /// Authentication is present but malformed; the message is AWS's wording.
    #[error("incomplete signature: {0}")]
    Incomplete(String),
    /// `host` is not among the signed headers, so the signature could be replayed elsewhere.
    #[error("host header is not signed")]
    HostNotSigned,
    /// The credential scope's date is not the request's date.
    #[error("credential scope date {scope_date} does not match request date {amz_date}")]
    ScopeDateMismatch {
        scope_date: String,
        amz_date: String,
    },
    /// The request time is outside the allowed skew window around `now`.
    #[error("request time {request} outside the skew window at {now}")]
    Skewed {
        request: String,
        now: String,
        /// The window edge that was crossed (`now - skew` or `now + skew`).
        limit: String,
        minutes: i64,
        /// The request is dated in the future rather than the past.
        future: bool,
    },
    /// `X-Amz-Expires` is missing, not a number, or outside 1..=604800.
    #[error("invalid X-Amz-Expires: {0}")]
    InvalidExpires(String),
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`.
    #[error("presigned request expired")]
    PresignedExpired,
    /// `x-amz-content-sha256` names a hash the body does not have.
    #[error("x-amz-content-sha256 does not match the body")]
    ContentSha256Mismatch,
    /// The signature the server computed differs from the one sent.
    #[error("signature does not match")]
    SignatureMismatch,
    /// The credential is scoped to a region or service this endpoint does not serve;
    /// the message is AWS's wording (see [`SigV4Error::wrong_region`]).
    #[error("{0}")]
    WrongScope(String),
    /// The server has no such access key (decided by the credential store).
    #[error("unknown access key id")]
    UnknownAccessKey,
    /// The session token is not valid for this access key (decided by the server).
    #[error("invalid session token")]
    InvalidToken,
    /// The temporary credentials have expired (decided by the server).
    #[error("session token expired")]
    ExpiredToken,
}

const SIG_MISMATCH: &str = "The request signature we calculated does not match the signature \
     you provided. Check your AWS Secret Access Key and signing method. Consult the service \
     documentation for details.";
const TOKEN_INVALID: &str = "The security token included in the request is invalid.";
const TOKEN_EXPIRED: &str = "The security token included in the request is expired";

/// The error's rendering for one protocol family: (code, status, message).
type Row = (&'static str, StatusCode, String);

impl SigV4Error {
    /// For a credential scoped to a region this endpoint does not serve.
    pub fn wrong_region(region: &str) -> Self {
        Self::WrongScope(format!(
            "Credential should be scoped to a valid region, not '{region}'. "
        ))
    }

    /// For a credential scoped to another service than the one addressed.
    pub fn wrong_service(expected: &str) -> Self {
        Self::WrongScope(format!(
            "Credential should be scoped to correct service: '{expected}'. "
        ))
    }

    /// The AWS error this failure becomes under `protocol`.
    pub fn wire_error(&self, protocol: Protocol) -> WireError {
        let (code, status, message) = match protocol {
            Protocol::AwsJson11 | Protocol::RestJson1 => self.json_row(),
            Protocol::Query => self.query_row(),
            Protocol::RestXml => self.s3_row(),
        };
        WireError::sender(status, code, message)
    }

    fn message(&self) -> String {
        match self {
            Self::Incomplete(m) | Self::WrongScope(m) => m.clone(),
            Self::HostNotSigned => {
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into()
            }
            Self::ScopeDateMismatch {
                scope_date,
                amz_date,
            } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                 date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
                amz_date.get(..8).unwrap_or(amz_date)
            ),
            Self::Skewed {
                request,
                now,
                limit,
                minutes,
                future: false,
            } => format!(
                "Signature expired: {request} is now earlier than {limit} ({now} - {minutes} min.)"
            ),
            Self::Skewed {
                request,
                now,
                limit,
                minutes,
                future: true,
            } => format!(
                "Signature not yet current: {request} is still later than {limit} \
                 ({now} + {minutes} min.)"
            ),
            Self::InvalidExpires(m) => m.clone(),
            Self::PresignedExpired => "Request has expired".into(),
            Self::ContentSha256Mismatch | Self::SignatureMismatch => SIG_MISMATCH.into(),
            Self::UnknownAccessKey | Self::InvalidToken => TOKEN_INVALID.into(),
            Self::ExpiredToken => TOKEN_EXPIRED.into(),
            Self::Missing => String::new(),
        }
    }

    /// awsJson1.1 services (KMS, Secrets Manager, SSM) answer auth failures with 400.
    fn json_row(&self) -> Row {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            Self::Missing => (
                "MissingAuthenticationTokenException",
                bad,
                "Missing Authentication Token".into(),
            ),
            Self::Incomplete(_) | Self::HostNotSigned | Self::InvalidExpires(_) => {
                ("IncompleteSignatureException", bad, self.message())
            }
            Self::ScopeDateMismatch { .. }
            | Self::Skewed { .. }
            | Self::ContentSha256Mismatch
            | Self::SignatureMismatch
            | Self::WrongScope(_) => ("InvalidSignatureException", bad, self.message()),
            Self::PresignedExpired => ("AccessDeniedException", bad, self.message()),
            Self::UnknownAccessKey | Self::InvalidToken => {
                ("UnrecognizedClientException", bad, self.message())
            }
            Self::ExpiredToken => ("ExpiredTokenException", bad, self.message()),
        }
    }

    /// The query protocol (IAM, STS) uses 403 for most auth failures.
    fn query_row(&self) -> Row {
        let (bad, denied) = (StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN);
        match self {
            Self::Missing => (
                "MissingAuthenticationToken",
                denied,
                "Request is missing Authentication Token".into(),
            ),
            Self::Incomplete(_) | Self::HostNotSigned | Self::InvalidExpires(_) => {
                ("IncompleteSignature", bad, self.message())
            }
            Self::ScopeDateMismatch { .. }
            | Self::Skewed { .. }
            | Self::ContentSha256Mismatch
            | Self::SignatureMismatch
            | Self::WrongScope(_) => ("SignatureDoesNotMatch", denied, self.message()),
            Self::PresignedExpired => ("AccessDenied", denied, self.message()),
            Self::UnknownAccessKey | Self::InvalidToken => {
                ("InvalidClientTokenId", denied, self.message())
            }
            Self::ExpiredToken => ("ExpiredToken", denied, self.message()),
        }
    }

    /// S3's own names (restXml), for when coffer serves S3.
    fn s3_row(&self) -> Row {
        let (bad, denied) = (StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN);
        match self {
            Self::Missing => ("AccessDenied", denied, "Access Denied".into()),
            Self::Incomplete(_) | Self::HostNotSigned | Self::ScopeDateMismatch { .. } => {
                ("AuthorizationHeaderMalformed", bad, self.message())
            }
            Self::InvalidExpires(_) => ("AuthorizationQueryParametersError", bad, self.message()),
            Self::WrongScope(_) => ("AuthorizationHeaderMalformed", bad, self.message()),
            Self::Skewed { .. } => (
                "RequestTimeTooSkewed",
                denied,
                "The difference between the request time and the current time is too large.".into(),
            ),
            Self::PresignedExpired => ("AccessDenied", denied, self.message()),
            Self::ContentSha256Mismatch => (
                "XAmzContentSHA256Mismatch",
                bad,
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ),
            Self::SignatureMismatch => (
                "SignatureDoesNotMatch",
                denied,
                "The request signature we calculated does not match the signature you \
                 provided. Check your key and signing method."
                    .into(),
            ),
            Self::UnknownAccessKey => (
                "InvalidAccessKeyId",
                denied,
                "The AWS Access Key Id you provided does not exist in our records.".into(),
            ),
            Self::InvalidToken => (
                "InvalidToken",
                bad,
                "The provided token is malformed or otherwise invalid.".into(),
            ),
            Self::ExpiredToken => (
                "ExpiredToken",
                bad,
                "The provided token has expired.".into(),
            ),
        }
    }
}
