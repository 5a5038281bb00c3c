//! The request pipeline:
//! read body -> route (service, protocol, typed input) -> authenticate (SigV4) -> service
//! (authorize + run) -> audit (durable) -> encode.
//!
//! Everything runs on the runtime worker that read the request; see `crate::blocking` for
//! how storage and file I/O keep from stalling it.
//!
//! Every request that reaches routing produces exactly one audit record, refused ones
//! included, and its response is sent only after that record is durable.

use crate::State;
use crate::api::{ApiInput, AuditInfo, Call, Outcome, Reply, Service};
use crate::credential_cache::CachedCredential;
use crate::identity::{self, IdentityError, KeyOwner, KeyRecord};
use crate::record::{self, Caller};
use bytes::Bytes;
use coffer_types::{Region, RequestContext};
use coffer_wire::query::QueryRequest;
use coffer_wire::sigv4::{self, SigV4Error};
use coffer_wire::{Protocol, WireError};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub type Body = Full<Bytes>;

/// What the listener knows about the connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub tls: bool,
}

/// A request whose service and protocol are known.
struct Routed {
    service: Arc<dyn Service>,
    decoded: Decoded,
    /// The SigV4 claim, when routing already had to parse it (query protocol).
    sigv4: Option<sigv4::Parsed>,
}

enum Decoded {
    Json { operation: String },
    Query(QueryRequest),
}

impl Decoded {
    fn input<'a>(&'a self, body: &'a [u8]) -> ApiInput<'a> {
        match self {
            Decoded::Json { operation } => ApiInput::Json { operation, body },
            Decoded::Query(q) => ApiInput::Query(q),
        }
    }
}

pub async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
    conn: ConnInfo,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = coffer_audit::random_uuid();
    if let Some(resp) = crate::server::internal_endpoint(&state, &req, conn) {
        return with_request_id(resp, &request_id);
    }
    let (parts, body) = req.into_parts();
    let protocol = guess_protocol(&parts);
    let body = match Limited::new(body, state.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = WireError::sender(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "Request body too large.",
            );
            return encode_error(&e, protocol, "", &request_id);
        }
    };
    let routed = match route(&state, &parts, &body) {
        Ok(r) => r,
        Err(e) => return encode_error(&e, protocol, "", &request_id),
    };
    let resp = serve(
        state,
        parts,
        body,
        routed,
        conn,
        request_id.clone(),
        started,
    )
    .await;
    with_request_id(resp, &request_id)
}

async fn serve(
    state: Arc<State>,
    parts: http::request::Parts,
    body: Bytes,
    routed: Routed,
    conn: ConnInfo,
    request_id: String,
    started: Instant,
) -> Response<Body> {
    let service = routed.service.clone();
    // Tells the audit writer a record is on its way, so a group commit waits for it.
    let underway = state.audit.underway();
    // Inline on this worker: storage (and other blocking work) steps off the worker by
    // itself (`crate::blocking`), and most calls never block. A panicking service still
    // gets its client a 500 rather than a dropped connection.
    let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        authenticate_and_call(&state, &parts, &body, &routed, conn, &request_id)
    }));
    // The headers and a small body are slices of hyper's read buffer. Holding them while
    // the audit append is awaited made hyper, which reads ahead on the connection
    // meanwhile, allocate a fresh 8 KiB buffer for every request.
    drop(parts);
    drop(body);
    let (mut outcome, caller) = match joined {
        Ok(v) => v,
        Err(_) => return internal_error(service.as_ref(), &request_id),
    };
    let event = record::build(&state, service.as_ref(), &caller, &mut outcome, &request_id);
    let events = if outcome.audit.invoked.is_empty() {
        vec![event]
    } else {
        let mut events = record::build_invoked(&caller, &mut outcome);
        events.push(event);
        events
    };
    let appended = state.audit.append_all_underway(events, underway).await;
    if let Err(e) = appended {
        // Fail closed: an action that cannot be recorded is not acknowledged.
        tracing::error!(error = %e, "audit append failed; refusing the request");
        state.metrics.audit_failure();
        return internal_error(service.as_ref(), &request_id);
    }
    let resp = match outcome.result {
        // `to_vec` writes bytes straight into the buffer; `to_string` would go through
        // `fmt::Display` and its per-fragment formatter calls.
        Ok(Reply::Json(v)) => match serde_json::to_vec(&v) {
            Ok(body) => ok(Bytes::from(body), JSON),
            Err(_) => internal_error(service.as_ref(), &request_id),
        },
        Ok(Reply::SecretJson(mut v)) => {
            let body = coffer_wire::wiped::to_json(&v);
            coffer_wire::wiped::wipe(&mut v);
            match body {
                // Zeroized when hyper drops the body, once it is written.
                Ok(body) => ok(Bytes::from_owner(body), JSON),
                Err(_) => internal_error(service.as_ref(), &request_id),
            }
        }
        Ok(Reply::Xml(x)) => ok(Bytes::from(x), "text/xml"),
        Ok(Reply::SecretXml(x)) => ok(Bytes::from_owner(x), "text/xml"),
        Err(e) => encode_error(&e, service.protocol(), service.xml_namespace(), &request_id),
    };
    state.metrics.observe(
        service.signing_name(),
        &outcome.audit.event_name,
        resp.status().as_str(),
        started.elapsed(),
    );
    resp
}

/// A 500 in the service's protocol: the call cannot be answered or acknowledged.
fn internal_error(service: &dyn Service, request_id: &str) -> Response<Body> {
    encode_error(
        &crate::api::errors::internal(service.protocol()),
        service.protocol(),
        service.xml_namespace(),
        request_id,
    )
}

const JSON: &str = "application/x-amz-json-1.1";

fn ok(body: Bytes, content_type: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    r
}

pub fn encode_error(
    e: &WireError,
    protocol: Protocol,
    xmlns: &str,
    request_id: &str,
) -> Response<Body> {
    let (status, headers, body) = coffer_wire::render_with_xmlns(e, protocol, request_id, xmlns);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    with_request_id(r, request_id)
}

fn with_request_id(mut r: Response<Body>, request_id: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

/// Before routing succeeds we still owe the client an error in its own protocol.
fn guess_protocol(parts: &http::request::Parts) -> Protocol {
    if parts.headers.contains_key("x-amz-target") {
        Protocol::AwsJson11
    } else {
        Protocol::Query
    }
}

fn route(state: &State, parts: &http::request::Parts, body: &[u8]) -> Result<Routed, WireError> {
    if let Some(target) = parts.headers.get("x-amz-target") {
        let target = target.to_str().map_err(|_| unknown_operation())?;
        let (prefix, op) = coffer_wire::json::parse_target(target).ok_or_else(unknown_operation)?;
        let service = state
            .services
            .iter()
            .find(|s| s.json_target_prefixes().contains(&prefix))
            .ok_or_else(unknown_operation)?;
        return Ok(Routed {
            service: service.clone(),
            decoded: Decoded::Json {
                operation: op.to_owned(),
            },
            sigv4: None,
        });
    }
    let query = parse_query(parts, body)?;
    // Query services are told apart by the SigV4 scope; without one, authentication fails.
    let parsed = sigv4::parse(parts).map_err(|e| e.wire_error(Protocol::Query))?;
    let service = state
        .services
        .iter()
        .find(|s| s.protocol() == Protocol::Query && s.signing_name() == parsed.service())
        .ok_or_else(|| {
            coffer_wire::query::invalid_action(&query.action, query.version.as_deref())
        })?;
    Ok(Routed {
        service: service.clone(),
        decoded: Decoded::Query(query),
        sigv4: Some(parsed),
    })
}

fn parse_query(parts: &http::request::Parts, body: &[u8]) -> Result<QueryRequest, WireError> {
    QueryRequest::from_request(parts, body)
}

fn unknown_operation() -> WireError {
    coffer_wire::json::unknown_operation()
}

/// Authentication failures, with what we learnt about the caller for the audit record.
struct AuthFailure {
    error: WireError,
    caller: Caller,
}

fn authenticate_and_call(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
    routed: &Routed,
    conn: ConnInfo,
    request_id: &str,
) -> (Outcome, Caller) {
    let service = routed.service.as_ref();
    let input = routed.decoded.input(body);
    match authenticate(
        state,
        parts,
        body,
        service,
        routed.sigv4.as_ref(),
        conn,
        request_id,
    ) {
        Err(f) => {
            let audit = AuditInfo {
                event_name: service.operation_name(&input),
                ..Default::default()
            };
            (
                Outcome {
                    result: Err(f.error),
                    audit,
                },
                f.caller,
            )
        }
        Ok((ctx, cred)) => {
            let outcome = service.call(
                &Call {
                    state,
                    ctx: &ctx,
                    key: &cred.record,
                    via_service: None,
                },
                input,
            );
            (outcome, Caller::Authenticated(Box::new(ctx)))
        }
    }
}

fn authenticate(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
    service: &dyn Service,
    routed_sigv4: Option<&sigv4::Parsed>,
    conn: ConnInfo,
    request_id: &str,
) -> Result<(RequestContext, Arc<CachedCredential>), Box<AuthFailure>> {
    let protocol = service.protocol();
    let now = state.clock.now();
    let anon = |e: WireError| {
        Box::new(AuthFailure {
            error: e,
            caller: Caller::anonymous(conn, parts),
        })
    };
    let parsed_here;
    let parsed = match routed_sigv4 {
        Some(p) => p,
        None => {
            parsed_here = sigv4::parse(parts).map_err(|e| anon(e.wire_error(protocol)))?;
            &parsed_here
        }
    };
    if parsed.service() != service.signing_name() {
        return Err(anon(
            SigV4Error::wrong_service(service.signing_name()).wire_error(protocol),
        ));
    }
    let region: Region = parsed
        .region()
        .parse()
        .map_err(|_| anon(SigV4Error::wrong_region(parsed.region()).wire_error(protocol)))?;
    let akid = parsed.access_key_id();
    let partial = |e: WireError, account| {
        Box::new(AuthFailure {
            error: e,
            caller: Caller::partial(conn, parts, akid, account),
        })
    };
    let cred = lookup_credential(state, akid, now)
        .map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            partial(crate::api::errors::internal(protocol), None)
        })?
        .filter(|c| c.record.active)
        .ok_or_else(|| partial(SigV4Error::UnknownAccessKey.wire_error(protocol), None))?;
    let account = Some(cred.record.account);
    check_session(&cred.record, parsed, now)
        .map_err(|e| partial(e.wire_error(protocol), account))?;
    let body_hash = coffer_crypto::sha256_hex(body);
    let max_skew =
        time::Duration::try_from(state.config.clock_skew).unwrap_or(time::Duration::minutes(15));
    let opts = sigv4::VerifyOptions {
        max_skew,
        ..Default::default()
    };
    let verify_at = |at| {
        sigv4::verify_with(parsed, parts, &body_hash, at, &opts, |scope| {
            cred.signing_key(scope)
        })
    };
    let verified = match verify_at(now) {
        // With --test-clock the server's time runs ahead of its clients' clocks. Freshness
        // of a header signature is then also accepted against the wall clock, so clients
        // need not sign from the simulated future; expiry of sessions and presigned URLs
        // still follows the simulated time.
        Err(SigV4Error::Skewed { .. }) if state.test_clock.is_some() => {
            let offset = state
                .test_clock
                .as_ref()
                .map(|c| c.offset())
                .unwrap_or_default();
            verify_at(now - time::Duration::try_from(offset).unwrap_or_default())
        }
        other => other,
    };
    verified.map_err(|e| partial(e.wire_error(protocol), account))?;
    let ctx = RequestContext {
        request_id: request_id.to_owned(),
        principal: cred.principal.clone(),
        region,
        source_ip: conn.peer.ip(),
        user_agent: header(parts, "user-agent"),
        secure_transport: conn.tls,
        time: now,
    };
    Ok((ctx, cred))
}

/// The caller's credential from the cache, or from storage (then cached). Unknown keys are
/// not cached, so every request naming one reads storage.
fn lookup_credential(
    state: &State,
    akid: &str,
    now: time::OffsetDateTime,
) -> Result<Option<Arc<CachedCredential>>, IdentityError> {
    state.credentials.get_or_load(akid, now, || {
        let found = coffer_storage::read(state.store.as_ref(), |t| {
            identity::resolve(t, &state.barrier, akid)
        })?;
        Ok(found.map(CachedCredential::new))
    })
}

/// Temporary credentials need their session token, and stop working when they expire.
fn check_session(
    record: &KeyRecord,
    parsed: &sigv4::Parsed,
    now: time::OffsetDateTime,
) -> Result<(), SigV4Error> {
    let KeyOwner::Session(s) = &record.owner else {
        return Ok(());
    };
    let token = parsed
        .session_token
        .as_deref()
        .ok_or(SigV4Error::InvalidToken)?;
    let given = coffer_crypto::sha256_hex(token.as_bytes());
    if !coffer_crypto::constant_time_eq(given.as_bytes(), s.token_sha256.as_bytes()) {
        return Err(SigV4Error::InvalidToken);
    }
    if now >= s.expires {
        return Err(SigV4Error::ExpiredToken);
    }
    Ok(())
}

pub fn header(parts: &http::request::Parts, name: &str) -> String {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::AccountId;
    use coffer_wire::sigv4::{Credentials, PayloadHash, SignInput};

    fn start(dir: &std::path::Path) -> Arc<State> {
        crate::test_support::state(dir)
    }

    fn root_key(state: &State) -> (String, String) {
        let account: AccountId = "111122223333".parse().unwrap();
        let now = state.clock.now();
        let k = coffer_storage::write(state.store.as_ref(), |t| {
            identity::ensure_account(t, account, now)?;
            identity::create_key(t, &state.barrier, account, KeyOwner::Root, now)
        })
        .unwrap();
        (k.access_key_id, k.secret.to_string())
    }

    /// A signed query-protocol POST, through routing, authentication and the service.
    fn call(state: &State, service: &str, key: &(String, String), form: &str) -> Outcome {
        let headers = vec![
            ("host".to_owned(), "localhost".to_owned()),
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ];
        let input = SignInput::new(
            "POST",
            "/",
            headers.clone(),
            PayloadHash::Bytes(form.as_bytes()),
        );
        let creds = Credentials::new(key.0.clone(), key.1.clone());
        let signed = sigv4::sign(&input, &creds, "us-east-1", service, state.clock.now());
        let mut req = Request::builder().method("POST").uri("/");
        for (n, v) in headers.iter().chain(&signed.headers) {
            req = req.header(n.as_str(), v.as_str());
        }
        let (parts, ()) = req.body(()).unwrap().into_parts();
        let body = Bytes::from(form.to_owned());
        let routed = route(state, &parts, &body).map_err(|e| e.code).unwrap();
        let conn = ConnInfo {
            peer: "127.0.0.1:1".parse().unwrap(),
            tls: false,
        };
        authenticate_and_call(state, &parts, &body, &routed, conn, "req-1").0
    }

    fn error_code(o: &Outcome) -> Option<String> {
        o.result.as_ref().err().map(|e| e.code.to_string())
    }

    const WHO_AM_I: &str = "Action=GetCallerIdentity&Version=2011-06-15";

    #[test]
    fn a_deleted_access_key_is_refused_at_once_despite_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let state = start(dir.path());
        let admin = root_key(&state);
        let doomed = root_key(&state);
        assert_eq!(error_code(&call(&state, "sts", &doomed, WHO_AM_I)), None);
        assert!(
            state
                .credentials
                .get(&doomed.0, state.clock.now())
                .is_some()
        );
        let delete = format!(
            "Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId={}",
            doomed.0
        );
        assert_eq!(error_code(&call(&state, "iam", &admin, &delete)), None);
        assert_eq!(
            error_code(&call(&state, "sts", &doomed, WHO_AM_I)).as_deref(),
            Some("InvalidClientTokenId")
        );
        assert_eq!(error_code(&call(&state, "sts", &admin, WHO_AM_I)), None);
    }

    #[test]
    fn cached_credentials_are_reread_after_the_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let state = start(dir.path());
        let key = root_key(&state);
        assert_eq!(error_code(&call(&state, "sts", &key, WHO_AM_I)), None);
        let first = state.credentials.get(&key.0, state.clock.now()).unwrap();
        let clock = state.test_clock.clone().unwrap();
        clock.advance(crate::record_cache::CACHE_TTL);
        assert!(state.credentials.get(&key.0, state.clock.now()).is_none());
        assert_eq!(error_code(&call(&state, "sts", &key, WHO_AM_I)), None);
        let second = state.credentials.get(&key.0, state.clock.now()).unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "read from storage again");
    }

    #[test]
    fn a_wrong_secret_is_refused_even_for_a_cached_key() {
        let dir = tempfile::tempdir().unwrap();
        let state = start(dir.path());
        let key = root_key(&state);
        assert_eq!(error_code(&call(&state, "sts", &key, WHO_AM_I)), None);
        let forged = (key.0.clone(), "not-the-secret".to_owned());
        assert_eq!(
            error_code(&call(&state, "sts", &forged, WHO_AM_I)).as_deref(),
            Some("SignatureDoesNotMatch")
        );
    }
}
