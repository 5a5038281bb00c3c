//! A KMS client over HTTP (awsJson1.1, SigV4) for the envelope keyrings: GenerateDataKey,
//! Encrypt and Decrypt, to coffer or any AWS-compatible endpoint, plain HTTP or TLS.

use crate::aws_config::AwsConfig;
use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use coffer_envelope::EncryptionContext;
use coffer_envelope::keyring::{
    KmsClient, KmsDecryptOutput, KmsEncryptOutput, KmsError, KmsGenerateDataKeyOutput,
};
use coffer_types::{Clock, SystemClock};
use coffer_wire::sigv4::{PayloadHash, SignInput, sign};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Sends KMS calls; one connection per call (the envelope commands make few calls).
pub struct HttpKms {
    config: AwsConfig,
    tls: Arc<rustls::ClientConfig>,
    runtime: tokio::runtime::Runtime,
}

const MAX_ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Error codes the AWS SDKs retry (throttling and transient server-side failures).
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "InternalFailure",
    "ServiceUnavailable",
];

/// Full-jitter exponential backoff: a random delay below 50 ms * 2^attempt.
fn backoff(attempt: u32) -> std::time::Duration {
    let cap = 50u64 << attempt.min(8);
    let mut r = [0u8; 8];
    coffer_crypto::fill_random(&mut r);
    std::time::Duration::from_millis(u64::from_le_bytes(r) % cap)
}

fn err(code: &str, message: impl Into<String>) -> KmsError {
    KmsError {
        code: code.into(),
        message: message.into(),
    }
}

impl HttpKms {
    pub fn new(config: AwsConfig) -> Result<Self> {
        // The system's CAs plus the AWS_CA_BUNDLE / ca_bundle file, as the server's own
        // outgoing connections trust them.
        let tls = coffer_tls::client_config_with_system_roots(config.ca_bundle.as_deref())
            .context("TLS configuration (CA bundle)")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the I/O runtime")?;
        Ok(Self {
            config,
            tls,
            runtime,
        })
    }

    /// One awsJson1.1 call; the parsed response or the AWS error. Like the AWS SDKs'
    /// standard retry mode: up to 3 attempts with jittered exponential backoff for
    /// throttling, server errors and failed connections; each attempt bounded in time.
    fn call(&self, key_id: &str, op: &str, body: Value) -> Result<Value, KmsError> {
        let region = self
            .config
            .region_for(key_id)
            .map_err(|e| err("ConfigurationError", format!("{e:#}")))?;
        let endpoint = self.config.endpoint_for(&region);
        let body =
            serde_json::to_vec(&body).map_err(|e| err("SerializationError", e.to_string()))?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let send = self.send(&endpoint, &region, op, body.clone());
            let sent = self.runtime.block_on(async {
                tokio::time::timeout(ATTEMPT_TIMEOUT, send)
                    .await
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!("no answer within {ATTEMPT_TIMEOUT:?}"))
                    })
            });
            let result = sent.map_err(|e| err("RequestError", format!("{endpoint}: {e:#}")));
            let retry = match &result {
                Err(e) => e.code == "RequestError",
                Ok(Err(e)) => RETRYABLE.contains(&e.code.as_str()) || e.code.starts_with("HTTP 5"),
                Ok(Ok(_)) => false,
            };
            if !retry || attempt >= MAX_ATTEMPTS {
                return result?;
            }
            std::thread::sleep(backoff(attempt));
        }
    }

    async fn send(
        &self,
        endpoint: &str,
        region: &str,
        op: &str,
        body: Vec<u8>,
    ) -> Result<Result<Value, KmsError>> {
        let uri: http::Uri = endpoint.parse().context("endpoint URL")?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => anyhow::bail!("endpoint must be http:// or https://"),
        };
        // `Uri::host` keeps the brackets of an IPv6 literal; sockets and SNI want it bare.
        let host = uri
            .host()
            .context("endpoint host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri.authority().context("endpoint host")?.to_string();
        let path = match uri.path() {
            "" => "/",
            p => p,
        };
        let headers = vec![
            ("host".to_string(), authority.clone()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            ("x-amz-target".to_string(), format!("TrentService.{op}")),
        ];
        let signed = sign(
            &SignInput::new("POST", path, headers.clone(), PayloadHash::Bytes(&body)),
            &self.config.credentials,
            region,
            "kms",
            SystemClock.now(),
        );
        let mut req = http::Request::builder().method("POST").uri(path);
        for (k, v) in headers.iter().chain(signed.headers.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .with_context(|| format!("connecting to {host}:{port}"))?;
        let (status, bytes) = if https {
            let name = rustls::pki_types::ServerName::try_from(host.clone())?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .context("TLS handshake")?;
            exchange(TokioIo::new(tls), req).await?
        } else {
            exchange(TokioIo::new(tcp), req).await?
        };
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 200 {
            return Ok(Ok(v));
        }
        let code = v["__type"]
            .as_str()
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("HTTP {status}"));
        let message = v["message"]
            .as_str()
            .or_else(|| v["Message"].as_str())
            .unwrap_or("")
            .to_string();
        Ok(Err(err(&code, message)))
    }
}

async fn exchange<I>(io: I, req: http::Request<Full<Bytes>>) -> Result<(u16, Bytes)>
where
    I: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(conn);
    let resp = send.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    driver.abort();
    Ok((status, bytes))
}

fn blob(v: &Value, field: &str) -> Result<Vec<u8>, KmsError> {
    v[field]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| err("InvalidResponse", format!("KMS response lacks {field}")))
}

fn key_id(v: &Value) -> Result<String, KmsError> {
    v["KeyId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| err("InvalidResponse", "KMS response lacks KeyId"))
}

fn request(key_id: &str, ec: &EncryptionContext, grant_tokens: &[String]) -> Value {
    let mut body = json!({ "KeyId": key_id });
    if !ec.is_empty() {
        body["EncryptionContext"] = json!(ec);
    }
    if !grant_tokens.is_empty() {
        body["GrantTokens"] = json!(grant_tokens);
    }
    body
}

impl KmsClient for HttpKms {
    fn generate_data_key(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsGenerateDataKeyOutput, KmsError> {
        let mut body = request(key, ec, grant_tokens);
        body["NumberOfBytes"] = json!(number_of_bytes);
        let v = self.call(key, "GenerateDataKey", body)?;
        Ok(KmsGenerateDataKeyOutput {
            key_id: key_id(&v)?,
            plaintext: Zeroizing::new(blob(&v, "Plaintext")?),
            ciphertext_blob: blob(&v, "CiphertextBlob")?,
        })
    }

    fn encrypt(
        &self,
        key: &str,
        plaintext: &[u8],
        ec: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsEncryptOutput, KmsError> {
        let mut body = request(key, ec, grant_tokens);
        body["Plaintext"] = json!(Zeroizing::new(B64.encode(plaintext)).as_str());
        let v = self.call(key, "Encrypt", body)?;
        Ok(KmsEncryptOutput {
            key_id: key_id(&v)?,
            ciphertext_blob: blob(&v, "CiphertextBlob")?,
        })
    }

    fn decrypt(
        &self,
        key: &str,
        ciphertext_blob: &[u8],
        ec: &EncryptionContext,
        grant_tokens: &[String],
    ) -> Result<KmsDecryptOutput, KmsError> {
        let mut body = request(key, ec, grant_tokens);
        body["CiphertextBlob"] = json!(B64.encode(ciphertext_blob));
        let v = self.call(key, "Decrypt", body)?;
        Ok(KmsDecryptOutput {
            key_id: key_id(&v)?,
            plaintext: Zeroizing::new(blob(&v, "Plaintext")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::Mutex;

    /// A one-connection-per-request HTTP server answering with `replies` in order; records
    /// the X-Amz-Target and authorization of each request.
    fn serve(replies: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
        serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), replies)
    }

    fn serve_on(
        listener: TcpListener,
        replies: Vec<(u16, String)>,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (status, body) in replies {
                let (stream, _) = listener.accept().unwrap();
                let mut r = BufReader::new(stream);
                let (mut len, mut target, mut signed) = (0usize, String::new(), false);
                loop {
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    let l = line.trim_end().to_ascii_lowercase();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if let Some(v) = l.strip_prefix("x-amz-target:") {
                        target = v.trim().to_string();
                    }
                    signed |= l.starts_with("authorization: aws4-hmac-sha256 credential=akid/");
                }
                let mut req = vec![0u8; len];
                r.read_exact(&mut req).unwrap();
                log.lock()
                    .unwrap()
                    .push(format!("{target} signed={signed}"));
                let mut s = r.into_inner();
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(resp.as_bytes()).unwrap();
            }
        });
        (url, seen)
    }

    fn client(url: &str) -> HttpKms {
        HttpKms::new(AwsConfig {
            credentials: coffer_wire::sigv4::Credentials::new("akid", "secret"),
            region: Some("us-east-1".into()),
            endpoint: Some(url.into()),
            ca_bundle: None,
        })
        .unwrap()
    }

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/k";

    #[test]
    fn retries_transient_failures_then_succeeds() {
        let ok = format!(r#"{{"KeyId":"{ARN}","Plaintext":"AAECAw=="}}"#);
        let (url, seen) = serve(vec![
            (
                500,
                r#"{"__type":"KMSInternalException","message":"try again"}"#.into(),
            ),
            (
                400,
                r#"{"__type":"com.amazonaws.kms#ThrottlingException","message":"slow"}"#.into(),
            ),
            (200, ok),
        ]);
        let out = client(&url)
            .decrypt(ARN, b"blob", &EncryptionContext::new(), &[])
            .unwrap();
        assert_eq!(out.plaintext.as_slice(), [0, 1, 2, 3]);
        assert_eq!(out.key_id, ARN);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter().all(|s| s == "trentservice.decrypt signed=true"),
            "{seen:?}"
        );
    }

    #[test]
    fn ipv6_literal_endpoints_are_reached() {
        // A host without IPv6 loopback has nothing to test here.
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            return;
        };
        let ok = format!(r#"{{"KeyId":"{ARN}","Plaintext":"AAECAw=="}}"#);
        let (url, seen) = serve_on(listener, vec![(200, ok)]);
        assert!(url.starts_with("http://[::1]:"), "{url}");
        let out = client(&url)
            .decrypt(ARN, b"blob", &EncryptionContext::new(), &[])
            .unwrap();
        assert_eq!(out.plaintext.as_slice(), [0, 1, 2, 3]);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn client_errors_are_not_retried_and_keep_their_code() {
        let (url, seen) = serve(vec![(
            400,
            r#"{"__type":"AccessDeniedException","Message":"no"}"#.into(),
        )]);
        let e = client(&url)
            .generate_data_key(ARN, 32, &EncryptionContext::new(), &[])
            .err()
            .unwrap();
        assert_eq!(e.code, "AccessDeniedException");
        assert_eq!(e.message, "no");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}
