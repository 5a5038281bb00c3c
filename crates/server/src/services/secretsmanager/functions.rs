//! Rotation functions: webhooks configured by name, invoked once per rotation step.
//!
//! The body is the event a rotation Lambda receives: `{"Step", "SecretId",
//! "ClientRequestToken"}`. Headers `X-Coffer-Timestamp` (Unix seconds) and
//! `X-Coffer-Signature` (`v1=` + hex HMAC-SHA256 over `<timestamp>.<body>` under the
//! function's signing secret) let the receiver check that coffer sent it and when.
//! A 2xx answer means the step succeeded. `https://` webhooks are verified against the
//! system's CAs plus `[secretsmanager] ca-file` (through `crate::outbound`, the client event
//! webhooks use too); an untrusted certificate fails the step before anything is sent.

use super::error::{SmError, invalid_param};
use crate::State;
use crate::config::RotationWebhook;
use bytes::Bytes;
use coffer_types::ArnParts;
use http_body_util::Full;
use std::time::Duration;
use zeroize::Zeroizing;

/// Function names reserved for built-in database rotators (configuration refuses every
/// `coffer-*` name for webhooks).
pub const BUILT_IN: &[&str] = &[
    "coffer-postgresql-single-user",
    "coffer-postgresql-multi-user",
    "coffer-mysql-single-user",
    "coffer-mysql-multi-user",
];

/// How long one step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks the shape of a `RotationLambdaARN`.
pub fn check_arn(arn: &str) -> Result<(), SmError> {
    match function_name(arn) {
        Some(_) => Ok(()),
        None => Err(invalid_param(format!(
            "Invalid RotationLambdaARN: {arn}. Expected arn:aws:lambda:<region>:<account>:function:<name>."
        ))),
    }
}

/// The function's name: the ARN's resource is `function:<name>`, perhaps with a
/// `:<qualifier>`.
fn function_name(arn: &str) -> Option<&str> {
    let arn = ArnParts::parse(arn).ok()?;
    if arn.partition != "aws" || arn.service != "lambda" {
        return None;
    }
    let mut resource = arn.resource.split(':');
    let (kind, name) = (resource.next()?, resource.next()?);
    (kind == "function" && !name.is_empty()).then_some(name)
}

/// A rotation function: a configured webhook or a built-in rotator.
pub enum Function {
    Webhook(RotationWebhook),
    BuiltIn((super::builtin::Engine, super::builtin::Strategy)),
}

/// The function an ARN names.
pub fn resolve(state: &State, arn: &str) -> Result<Function, String> {
    let name = function_name(arn).ok_or_else(|| format!("invalid function ARN {arn}"))?;
    if let Some(s) = super::builtin::strategy(name) {
        return Ok(Function::BuiltIn(s));
    }
    if BUILT_IN.contains(&name) {
        return Err(format!("the built-in rotator {name} is not available yet"));
    }
    state
        .config
        .secretsmanager
        .rotation_functions
        .get(name)
        .cloned()
        .map(Function::Webhook)
        .ok_or_else(|| format!("no rotation function named {name} is configured"))
}

/// The signature header value for `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut msg = format!("{timestamp}.").into_bytes();
    msg.extend_from_slice(body);
    format!(
        "v1={}",
        hex::encode(coffer_crypto::hmac_sha256(secret, &msg))
    )
}

/// POSTs one step to the webhook; network I/O runs off the runtime workers' queues.
pub fn invoke(
    state: &State,
    f: &RotationWebhook,
    step: &str,
    secret_arn: &str,
    token: &str,
) -> Result<(), String> {
    let secret = crate::blocking::run(|| std::fs::read(&f.signing_secret_file))
        .map(Zeroizing::new)
        .map_err(|e| format!("cannot read the signing secret file: {e}"))?;
    let body = serde_json::json!({
        "Step": step,
        "SecretId": secret_arn,
        "ClientRequestToken": token,
    })
    .to_string();
    let ts = state.clock.now().unix_timestamp();
    let req = http::Request::post(f.url.as_str())
        .header("content-type", "application/json")
        .header("x-coffer-timestamp", ts.to_string())
        .header(
            "x-coffer-signature",
            signature(&secret, ts, body.as_bytes()),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("bad webhook request: {e}"))?;
    let tls = crate::outbound::tls_for(&f.url, state.config.secretsmanager.ca_file.as_deref())?;
    let handle = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
    let status =
        crate::blocking::run(|| handle.block_on(crate::outbound::send(req, tls, STEP_TIMEOUT)))
            .map_err(|e| format!("{step}: the rotation function is unreachable: {e}"))?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{step} failed: the rotation function answered {status}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111122223333:function:rotate-db"),
            Some("rotate-db")
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111122223333:function:rotate-db:$LATEST"),
            Some("rotate-db")
        );
        assert_eq!(function_name("arn:aws:s3:::bucket"), None);
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111122223333:function:"),
            None
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111122223333:layer:rotate-db"),
            None
        );
        assert!(check_arn("rotate-db").is_err());
    }

    #[test]
    fn signatures_bind_time_and_body() {
        let a = signature(b"k", 1, b"{}");
        assert!(a.starts_with("v1="));
        assert_ne!(a, signature(b"k", 2, b"{}"));
        assert_ne!(a, signature(b"k", 1, b"{ }"));
        assert_ne!(a, signature(b"j", 1, b"{}"));
    }
}
