//! What to send: request templates for the two protocols the server speaks, and named
//! scenarios, some with a setup step that makes signed calls before the load.

use crate::conn::{Connector, Prepared, Sender, round_trip};
use crate::{BenchConfig, BenchError};
use bytes::Bytes;
use coffer_wire::sigv4::SigningKeyCache;
use http::Method;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One request, repeated by every worker. Headers here are signed along with `host`;
/// the signer adds `x-amz-date`, `authorization` and, with a session token,
/// `x-amz-security-token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTemplate {
    pub method: Method,
    /// Path and query exactly as sent (already percent-encoded).
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Sign with SigV4. Off only for targets that ignore auth (the floor).
    pub sign: bool,
}

pub(crate) const AWS_JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub(crate) const QUERY_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

impl RequestTemplate {
    /// awsJson1.1: `POST /` with `X-Amz-Target: <target>` (e.g. `TrentService.Encrypt`).
    pub fn aws_json(target: &str, body: impl Into<Bytes>) -> Self {
        Self {
            method: Method::POST,
            path: "/".to_owned(),
            headers: vec![
                ("content-type".to_owned(), AWS_JSON_CONTENT_TYPE.to_owned()),
                ("x-amz-target".to_owned(), target.to_owned()),
            ],
            body: body.into(),
            sign: true,
        }
    }

    /// The query protocol: `POST /` with a form body `Action=...&Version=...&k=v...`.
    pub fn query(action: &str, version: &str, params: &[(&str, &str)]) -> Self {
        let mut form = form_encode(&[("Action", action), ("Version", version)]);
        if !params.is_empty() {
            form.push('&');
            form.push_str(&form_encode(params));
        }
        Self {
            method: Method::POST,
            path: "/".to_owned(),
            headers: vec![("content-type".to_owned(), QUERY_CONTENT_TYPE.to_owned())],
            body: Bytes::from(form),
            sign: true,
        }
    }

    /// A plain signed `GET` of `path`.
    pub fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            sign: true,
        }
    }
}

/// `application/x-www-form-urlencoded` with the SigV4-safe set (space as `%20`).
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The future a setup step returns: the template the load will repeat.
pub type SetupFuture = Pin<Box<dyn Future<Output = Result<RequestTemplate, BenchError>> + Send>>;

/// A setup step: makes signed calls through the client (create a key, encrypt once, ...)
/// and returns the template to load, built from what it captured.
pub type SetupFn = Arc<dyn Fn(SetupClient) -> SetupFuture + Send + Sync>;

/// What a benchmark repeats.
#[derive(Clone)]
pub struct Scenario {
    pub name: String,
    /// Default service of the signing scope.
    pub service: String,
    /// The request to repeat; replaced by the setup step's result when there is one.
    pub template: RequestTemplate,
    pub setup: Option<SetupFn>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("service", &self.service)
            .field("template", &self.template)
            .field("setup", &self.setup.is_some())
            .finish()
    }
}

impl Scenario {
    /// A fixed request, no setup.
    pub fn fixed(name: &str, service: &str, template: RequestTemplate) -> Self {
        Self {
            name: name.to_owned(),
            service: service.to_owned(),
            template,
            setup: None,
        }
    }

    /// The generic awsJson1.1 form: `--target TrentService.Encrypt --body '{...}' --service kms`.
    pub fn aws_json(service: &str, target: &str, body: impl Into<Bytes>) -> Self {
        Self::fixed(target, service, RequestTemplate::aws_json(target, body))
    }

    /// A scenario whose template comes from a setup step.
    pub fn with_setup(
        name: &str,
        service: &str,
        setup: impl Fn(SetupClient) -> SetupFuture + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.to_owned(),
            service: service.to_owned(),
            template: RequestTemplate::get("/"),
            setup: Some(Arc::new(setup)),
        }
    }

    /// Runs the setup step, if any, and returns the template to load.
    pub(crate) async fn resolve(
        &self,
        config: &BenchConfig,
        connector: &Connector,
    ) -> Result<RequestTemplate, BenchError> {
        match &self.setup {
            None => Ok(self.template.clone()),
            Some(setup) => {
                let client = SetupClient {
                    config: config.clone(),
                    connector: connector.clone(),
                    sender: None,
                };
                setup(client).await
            }
        }
    }
}

/// Names accepted by [`scenario`].
pub const SCENARIO_NAMES: &[&str] = &[
    "sts-get-caller-identity",
    "floor",
    "kms-encrypt",
    "kms-decrypt",
    "kms-generate-data-key",
    "secrets-get",
    "ssm-get-parameter",
];

/// A built-in scenario by name.
pub fn scenario(name: &str) -> Result<Scenario, BenchError> {
    Ok(match name {
        "sts-get-caller-identity" => sts_get_caller_identity(),
        "floor" => floor(),
        "kms-encrypt" => kms_encrypt(),
        "kms-decrypt" => kms_decrypt(),
        "kms-generate-data-key" => kms_generate_data_key(),
        "secrets-get" => secrets_get(),
        "ssm-get-parameter" => ssm_get_parameter(),
        other => return Err(BenchError::UnknownScenario(other.to_owned())),
    })
}

fn sts_get_caller_identity() -> Scenario {
    Scenario::fixed(
        "sts-get-caller-identity",
        "sts",
        RequestTemplate::query("GetCallerIdentity", "2011-06-15", &[]),
    )
}

/// A plain `GET /`, for the floor server (or any endpoint, as an HTTP baseline).
fn floor() -> Scenario {
    let mut t = RequestTemplate::get("/");
    t.sign = false;
    Scenario::fixed("floor", "sts", t)
}

/// "hello coffer", base64.
const PLAINTEXT_B64: &str = "aGVsbG8gY29mZmVy";

fn kms_encrypt() -> Scenario {
    Scenario::with_setup("kms-encrypt", "kms", |mut c| {
        Box::pin(async move {
            let key_id = c.create_kms_key().await?;
            let body = serde_json::json!({ "KeyId": key_id, "Plaintext": PLAINTEXT_B64 });
            Ok(RequestTemplate::aws_json(
                "TrentService.Encrypt",
                body.to_string(),
            ))
        })
    })
}

fn kms_decrypt() -> Scenario {
    Scenario::with_setup("kms-decrypt", "kms", |mut c| {
        Box::pin(async move {
            let key_id = c.create_kms_key().await?;
            let body = serde_json::json!({ "KeyId": key_id, "Plaintext": PLAINTEXT_B64 });
            let enc = c
                .call_json("TrentService.Encrypt", &body.to_string())
                .await?;
            let blob = c.field(&enc, &["CiphertextBlob"])?;
            let body = serde_json::json!({ "CiphertextBlob": blob, "KeyId": key_id });
            Ok(RequestTemplate::aws_json(
                "TrentService.Decrypt",
                body.to_string(),
            ))
        })
    })
}

fn kms_generate_data_key() -> Scenario {
    Scenario::with_setup("kms-generate-data-key", "kms", |mut c| {
        Box::pin(async move {
            let key_id = c.create_kms_key().await?;
            let body = serde_json::json!({ "KeyId": key_id, "KeySpec": "AES_256" });
            Ok(RequestTemplate::aws_json(
                "TrentService.GenerateDataKey",
                body.to_string(),
            ))
        })
    })
}

fn secrets_get() -> Scenario {
    Scenario::with_setup("secrets-get", "secretsmanager", |mut c| {
        Box::pin(async move {
            // Unique per run so reruns against the same server do not collide.
            let name = format!(
                "coffer-bench-{}",
                c.config.clock.now().unix_timestamp_nanos()
            );
            let body = serde_json::json!({ "Name": name, "SecretString": "bench-secret-value" });
            let created = c
                .call_json("secretsmanager.CreateSecret", &body.to_string())
                .await?;
            let arn = c.field(&created, &["ARN"])?;
            let body = serde_json::json!({ "SecretId": arn });
            Ok(RequestTemplate::aws_json(
                "secretsmanager.GetSecretValue",
                body.to_string(),
            ))
        })
    })
}

/// GetParameter of a SecureString with decryption: the read path that decrypts through KMS.
fn ssm_get_parameter() -> Scenario {
    Scenario::with_setup("ssm-get-parameter", "ssm", |mut c| {
        Box::pin(async move {
            let name = format!(
                "/coffer-bench/{}",
                c.config.clock.now().unix_timestamp_nanos()
            );
            let body = serde_json::json!({
                "Name": name,
                "Value": "bench-parameter-value",
                "Type": "SecureString",
            });
            c.call_json("AmazonSSM.PutParameter", &body.to_string())
                .await?;
            let body = serde_json::json!({ "Name": name, "WithDecryption": true });
            Ok(RequestTemplate::aws_json(
                "AmazonSSM.GetParameter",
                body.to_string(),
            ))
        })
    })
}

/// Signed calls for a setup step, on one connection to the benchmark's endpoint with its
/// region, service and credentials.
pub struct SetupClient {
    config: BenchConfig,
    connector: Connector,
    sender: Option<Sender>,
}

impl SetupClient {
    fn err(&self, reason: String) -> BenchError {
        BenchError::Setup {
            scenario: self.config.scenario.name.clone(),
            reason,
        }
    }

    /// Sends one signed request; a non-2xx answer is an error carrying its body.
    pub async fn call(&mut self, template: &RequestTemplate) -> Result<Bytes, BenchError> {
        let prepared = Prepared::new(&self.config, template)?;
        let mut reconnects = 0;
        let (status, body) = round_trip(
            &self.connector,
            &prepared,
            &mut self.sender,
            &mut reconnects,
            &mut SigningKeyCache::default(),
            self.config.request_timeout.max(Duration::from_secs(1)),
        )
        .await
        .map_err(|e| self.err(e))?;
        if !status.is_success() {
            return Err(self.err(format!(
                "{} {}: HTTP {status}: {}",
                template.method,
                template_target(template),
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(body)
    }

    /// An awsJson1.1 call, its answer parsed.
    pub async fn call_json(&mut self, target: &str, body: &str) -> Result<Value, BenchError> {
        let bytes = self
            .call(&RequestTemplate::aws_json(target, body.to_owned()))
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| self.err(format!("{target}: answer is not JSON: {e}")))
    }

    /// A string at `path` in a JSON answer.
    pub fn field(&self, value: &Value, path: &[&str]) -> Result<String, BenchError> {
        let mut v = value;
        for key in path {
            v = v
                .get(key)
                .ok_or_else(|| self.err(format!("answer has no {}", path.join("."))))?;
        }
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.err(format!("{} is not a string", path.join("."))))
    }

    /// Creates a symmetric KMS key and returns its id.
    pub async fn create_kms_key(&mut self) -> Result<String, BenchError> {
        let answer = self
            .call_json(
                "TrentService.CreateKey",
                r#"{"Description":"coffer bench","KeyUsage":"ENCRYPT_DECRYPT"}"#,
            )
            .await?;
        self.field(&answer, &["KeyMetadata", "KeyId"])
    }

    /// The benchmark's configuration (region, service, clock, ...).
    pub fn config(&self) -> &BenchConfig {
        &self.config
    }
}

fn template_target(t: &RequestTemplate) -> &str {
    t.headers
        .iter()
        .find(|(n, _)| n == "x-amz-target")
        .map(|(_, v)| v.as_str())
        .unwrap_or(t.path.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_body_is_form_encoded() {
        let t = RequestTemplate::query("GetCallerIdentity", "2011-06-15", &[]);
        assert_eq!(&t.body[..], b"Action=GetCallerIdentity&Version=2011-06-15");
        let t = RequestTemplate::query("X", "1", &[("Name", "a b/c")]);
        assert_eq!(&t.body[..], b"Action=X&Version=1&Name=a%20b%2Fc");
    }

    #[test]
    fn every_named_scenario_resolves() {
        for name in SCENARIO_NAMES {
            assert_eq!(scenario(name).unwrap().name, *name);
        }
        assert!(matches!(
            scenario("nope"),
            Err(BenchError::UnknownScenario(_))
        ));
    }
}
