//! The listener: one port for TLS and plain HTTP, HTTP/1.1 keep-alive, graceful shutdown,
//! and the few endpoints that are not AWS APIs (health, metrics, the test clock).

use crate::State;
use crate::pipeline::{self, Body, ConnInfo};
use bytes::Bytes;
use coffer_tls::PlainHttpPolicy;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A started server: its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops by itself (it does not, unless the listener fails).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    pub fn stopper(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Binds the configured address and serves until stopped.
pub async fn run(state: Arc<State>, tls: Arc<rustls::ServerConfig>) -> std::io::Result<Running> {
    let listener = TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let plain = match state.config.plain_http {
        crate::config::PlainHttp::Allow => PlainHttpPolicy::Allow,
        crate::config::PlainHttp::LoopbackOnly => PlainHttpPolicy::LoopbackOnly,
    };
    crate::events::start(state.clone());
    let task = tokio::spawn(accept_loop(listener, state, acceptor, plain, rx));
    Ok(Running {
        addr,
        shutdown: tx,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    acceptor: tokio_rustls::TlsAcceptor,
    plain: PlainHttpPolicy,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_conn(stream, peer, state.clone(), acceptor.clone(), plain, stop.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Drain: connections see the stop signal and finish their current request.
    while conns.join_next().await.is_some() {}
}

async fn serve_conn(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    acceptor: tokio_rustls::TlsAcceptor,
    plain: PlainHttpPolicy,
    mut stop: watch::Receiver<bool>,
) {
    let conn = match coffer_tls::accept(stream, peer, &acceptor, plain).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "connection refused at accept");
            return;
        }
    };
    let info = ConnInfo {
        peer,
        tls: conn.is_tls(),
    };
    let svc = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(pipeline::handle(state, req, info).await) }
    });
    // Half-close support also stops hyper from reading ahead on the socket while a request
    // is being served (to notice a client hanging up mid-request): that read needed a
    // fresh 8 KiB buffer per request, because the request's headers still borrow the
    // current one. Every request runs to its audit record anyway.
    let http = hyper::server::conn::http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(conn), svc);
    tokio::pin!(http);
    tokio::select! {
        r = http.as_mut() => if let Err(e) = r { tracing::debug!(%peer, error = %e, "connection ended with error") },
        _ = stop.changed() => {
            http.as_mut().graceful_shutdown();
            let _ = http.await;
        }
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}

/// Health, metrics and (only with `--test-clock`, only from loopback) the clock control.
pub fn internal_endpoint(
    state: &State,
    req: &Request<hyper::body::Incoming>,
    conn: ConnInfo,
) -> Option<Response<Body>> {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::GET, "/health") => Some(text(
            StatusCode::OK,
            "application/json",
            "{\"status\":\"ok\"}".into(),
        )),
        (&Method::GET, "/metrics") => Some(text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(&state.audit.commit_stats()),
        )),
        (&Method::POST, "/_coffer/clock/advance") => Some(advance_clock(state, req, conn)),
        _ => None,
    }
}

fn advance_clock(
    state: &State,
    req: &Request<hyper::body::Incoming>,
    conn: ConnInfo,
) -> Response<Body> {
    let (Some(clock), true) = (&state.test_clock, conn.peer.ip().is_loopback()) else {
        return text(StatusCode::NOT_FOUND, "text/plain", "not found".into());
    };
    let secs = req
        .uri()
        .query()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "seconds"))
        .and_then(|(_, v)| v.parse::<u64>().ok());
    match secs {
        Some(s) => {
            clock.advance(std::time::Duration::from_secs(s));
            let now = crate::services::iso8601(state.clock.now());
            text(
                StatusCode::OK,
                "application/json",
                format!("{{\"now\":\"{now}\"}}"),
            )
        }
        None => text(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "expected ?seconds=N".into(),
        ),
    }
}
