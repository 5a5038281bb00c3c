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

fn err(code: &str, message: impl Into<String>) -> KmsError {
    KmsError {
        code: code.into(),
        message: message.into(),
    }
}

impl HttpKms {
    pub fn new(config: AwsConfig) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            // A malformed system certificate is skipped, as browsers do.
            let _ = roots.add(cert);
        }
        if let Some(path) = &config.ca_bundle {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                roots
                    .add(cert.context("CA bundle")?)
                    .context("CA bundle certificate")?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS configuration")?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the I/O runtime")?;
        Ok(Self {
            config,
            tls: Arc::new(tls),
            runtime,
        })
    }

    /// One awsJson1.1 call; the parsed response or the AWS error.
    fn call(&self, key_id: &str, op: &str, body: Value) -> Result<Value, KmsError> {
        let region = self
            .config
            .region_for(key_id)
            .map_err(|e| err("ConfigurationError", format!("{e:#}")))?;
        let endpoint = self.config.endpoint_for(&region);
        let body =
            serde_json::to_vec(&body).map_err(|e| err("SerializationError", e.to_string()))?;
        self.runtime
            .block_on(self.send(&endpoint, &region, op, body))
            .map_err(|e| err("RequestError", format!("{endpoint}: {e:#}")))?
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
        let host = uri.host().context("endpoint host")?.to_string();
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
