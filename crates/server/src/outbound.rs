//! coffer's outgoing HTTP requests: event webhooks (`events.rs`) and rotation webhooks
//! (`services/secretsmanager/functions.rs`) share this one client.
//!
//! `http://` URLs go over plain TCP; `https://` URLs over rustls (TLS 1.2+, aws-lc-rs)
//! verified against the system's CAs plus an optional operator CA file
//! (`coffer_tls::client_config_with_system_roots`). A certificate that does not chain to
//! one of them, or that names another host, fails the handshake: nothing is sent.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The TLS configuration for `url`: `None` for `http://`; for `https://`, the system CAs
/// plus the certificates in `extra_ca`.
pub fn tls_for(
    url: &str,
    extra_ca: Option<&Path>,
) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    if url.starts_with("http://") {
        return Ok(None);
    }
    if !url.starts_with("https://") {
        return Err(format!(
            "{url}: only http:// and https:// URLs are supported"
        ));
    }
    coffer_tls::client_config_with_system_roots(extra_ca)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Sends `req` (an absolute URI) over plain HTTP, or over TLS with `tls`, within
/// `timeout`; the response status. The body of the answer is read and dropped.
pub async fn send(
    mut req: http::Request<Full<Bytes>>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<http::StatusCode, String> {
    if !req.headers().contains_key(http::header::HOST)
        && let Some(a) = req.uri().authority()
        && let Ok(v) = http::HeaderValue::from_str(a.as_str())
    {
        req.headers_mut().insert(http::header::HOST, v);
    }
    let exchange = async {
        match tls {
            None => send_plain(req).await,
            Some(config) => send_tls(req, config).await,
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| "timed out".to_string())?
}

async fn send_plain(req: http::Request<Full<Bytes>>) -> Result<http::StatusCode, String> {
    use hyper_util::client::legacy::Client;
    let client: Client<_, Full<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

async fn send_tls(
    mut req: http::Request<Full<Bytes>>,
    config: Arc<rustls::ClientConfig>,
) -> Result<http::StatusCode, String> {
    let uri = req.uri().clone();
    let host = uri
        .host()
        .ok_or("no host in the URL")?
        .trim_matches(['[', ']']);
    let port = uri.port_u16().unwrap_or(443);
    let name =
        rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let stream = coffer_tls::tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {host}:{port} failed: {e}"))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    // On a connection of its own, the request names only the path.
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *req.uri_mut() = path.parse().map_err(|e| format!("{e}"))?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    Ok(status)
}
