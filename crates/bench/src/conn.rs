//! Connections (plain or TLS, one hyper HTTP/1.1 connection each) and request signing.

use crate::{BenchConfig, BenchError, Credentials, RequestTemplate};
use bytes::Bytes;
use coffer_types::SharedClock;
use coffer_wire::sigv4::{PayloadHash, SignInput, SigningKeyCache, sign_cached};
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

pub(crate) type Sender = SendRequest<Full<Bytes>>;

/// Opens connections to the endpoint.
#[derive(Clone)]
pub(crate) struct Connector {
    host: String,
    port: u16,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
}

impl Connector {
    pub(crate) fn new(config: &BenchConfig) -> Result<Self, BenchError> {
        let uri = &config.endpoint;
        let https = uri.scheme_str() == Some("https");
        let raw_host = uri
            .host()
            .ok_or_else(|| BenchError::Config("the endpoint has no host".into()))?;
        // `Uri::host` keeps the brackets of an IPv6 literal.
        let host = raw_host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let path = config.ca_bundle.as_ref().ok_or_else(|| {
                BenchError::Config(
                    "an https endpoint needs a CA bundle (--ca-bundle); no system roots are built in"
                        .into(),
                )
            })?;
            let ca_err = |reason: String| BenchError::CaBundle {
                path: path.clone(),
                reason,
            };
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))?;
            for cert in certs {
                let cert = cert.map_err(|e| ca_err(e.to_string()))?;
                roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(ca_err("no certificates in the file".into()));
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| BenchError::Tls(e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            let name = ServerName::try_from(host.clone())
                .map_err(|e| BenchError::Tls(format!("server name {host:?}: {e}")))?;
            Some((tokio_rustls::TlsConnector::from(Arc::new(tls)), name))
        } else {
            None
        };
        Ok(Self { host, port, tls })
    }

    /// A fresh keep-alive HTTP/1.1 connection, its driver spawned on the runtime.
    pub(crate) async fn connect(&self) -> Result<Sender, String> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("connect {}:{}: {e}", self.host, self.port))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        match &self.tls {
            None => {
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .map_err(|e| format!("HTTP handshake: {e}"))?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(sender)
            }
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| format!("HTTP handshake: {e}"))?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(sender)
            }
        }
    }
}

/// A request template with everything that does not change between requests worked out
/// once: only the date, the signature and the header map copy are per-request.
pub(crate) struct Prepared {
    method: Method,
    uri: Uri,
    uri_str: String,
    headers: HeaderMap,
    /// The caller headers the signature covers (host, content-type, x-amz-target, ...).
    sign_headers: Vec<(String, String)>,
    body: Bytes,
    sign: bool,
    credentials: Credentials,
    region: String,
    service: String,
    clock: SharedClock,
}

impl Prepared {
    pub(crate) fn new(
        config: &BenchConfig,
        template: &RequestTemplate,
    ) -> Result<Self, BenchError> {
        let bad = |e: String| BenchError::Request(e);
        let authority = config
            .endpoint
            .authority()
            .ok_or_else(|| BenchError::Config("the endpoint has no host".into()))?
            .as_str()
            .to_owned();
        let uri: Uri = template
            .path
            .parse()
            .map_err(|e| bad(format!("path {:?}: {e}", template.path)))?;
        let mut headers = HeaderMap::with_capacity(template.headers.len() + 6);
        let mut sign_headers = Vec::with_capacity(template.headers.len() + 1);
        headers.insert(
            HOST,
            HeaderValue::from_str(&authority).map_err(|e| bad(e.to_string()))?,
        );
        sign_headers.push(("host".to_owned(), authority));
        for (name, value) in &template.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| bad(format!("header name {name:?}: {e}")))?;
            let v = HeaderValue::from_str(value).map_err(|e| bad(format!("header {name}: {e}")))?;
            headers.append(n.clone(), v);
            sign_headers.push((n.as_str().to_owned(), value.clone()));
        }
        if !template.body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
            return Err(bad("a request with a body needs a content-type".into()));
        }
        Ok(Self {
            method: template.method.clone(),
            uri,
            uri_str: template.path.clone(),
            headers,
            sign_headers,
            body: template.body.clone(),
            sign: template.sign,
            credentials: config.credentials.clone(),
            region: config.region.clone(),
            service: config.service.clone(),
            clock: config.clock.clone(),
        })
    }

    /// A freshly signed request. `keys` keeps the derived signing key for the day, as the
    /// SDKs do; each worker owns one, so signing takes no lock.
    pub(crate) fn build(&self, keys: &mut SigningKeyCache) -> Result<Request<Full<Bytes>>, String> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        let mut headers = self.headers.clone();
        if self.sign {
            let input = SignInput::new(
                self.method.as_str(),
                &self.uri_str,
                self.sign_headers.clone(),
                PayloadHash::Bytes(&self.body),
            );
            let out = sign_cached(
                &input,
                &self.credentials,
                &self.region,
                &self.service,
                self.clock.now(),
                keys,
            );
            for (name, value) in out.headers {
                let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
                let v = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
                headers.insert(n, v);
            }
        }
        *req.headers_mut() = headers;
        Ok(req)
    }
}

/// One round trip on a worker's connection, (re)connecting first when the connection is
/// missing or was closed by the server. Returns the status and the whole body.
pub(crate) async fn round_trip(
    connector: &Connector,
    prepared: &Prepared,
    sender: &mut Option<Sender>,
    reconnects: &mut u64,
    keys: &mut SigningKeyCache,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), String> {
    let fut = async {
        let mut s = match sender.take() {
            Some(s) if !s.is_closed() => s,
            previous => {
                if previous.is_some() {
                    *reconnects += 1;
                }
                connector.connect().await?
            }
        };
        if s.ready().await.is_err() {
            // The server closed the idle connection (e.g. no keep-alive): open another.
            *reconnects += 1;
            s = connector.connect().await?;
            s.ready()
                .await
                .map_err(|e| format!("connection not ready: {e}"))?;
        }
        let req = prepared.build(keys)?;
        let resp = s
            .send_request(req)
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the response body: {e}"))?
            .to_bytes();
        *sender = Some(s);
        Ok((status, body))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => {
            *sender = None;
            Err(format!("no response within {timeout:?}"))
        }
    }
}
