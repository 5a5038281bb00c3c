//! The bare HTTP floor: the fastest an HTTP/1.1 exchange of this size can be on the
//! machine, with no auth, parsing or logging.

use crate::BenchError;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// The floor's answer: an STS GetCallerIdentity response, so its size matches the
/// `sts-get-caller-identity` scenario's.
pub const FLOOR_BODY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::000000000000:user/bench</Arn>
    <UserId>AIDAFLOORFLOORFLOOR00</UserId>
    <Account>000000000000</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>00000000-0000-0000-0000-000000000000</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#;

/// Binds `addr` and serves the floor until the task is dropped.
pub async fn serve_floor(addr: SocketAddr) -> Result<Infallible, BenchError> {
    serve_floor_on(TcpListener::bind(addr).await?).await
}

/// Serves the floor on an already bound listener (tests bind port 0 and read the address).
pub async fn serve_floor_on(listener: TcpListener) -> Result<Infallible, BenchError> {
    let body = Bytes::from_static(FLOOR_BODY.as_bytes());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or a connection reset before accept: keep serving.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body, as a real server must, then answer.
                    let _ = req.into_body().collect().await;
                    let mut resp = Response::new(Full::new(body));
                    resp.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
