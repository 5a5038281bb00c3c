//! The client half of SigV4: used by the load tool, tests, and anything coffer calls out to.

use super::canonical::{
    ALGORITHM, CanonicalParts, UNSIGNED_PAYLOAD, amz_date, canonical_request, fold_headers, scope,
    signature, signature_with_key, signed_headers_list, signing_key, string_to_sign, uri_encode,
};
use coffer_crypto::sha256_hex;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// An access key pair, optionally with the session token of temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }
}

impl std::fmt::Debug for Credentials {
    /// Never prints the secret or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// How the body takes part in the signature.
#[derive(Debug, Clone)]
pub enum PayloadHash<'a> {
    /// Hash these bytes.
    Bytes(&'a [u8]),
    /// The hex SHA-256 (or a literal claim such as `STREAMING-...`) is already known.
    Precomputed(String),
    /// Sign the literal `UNSIGNED-PAYLOAD` (S3 and presigned URLs).
    Unsigned,
}

impl PayloadHash<'_> {
    fn value(&self) -> String {
        match self {
            Self::Bytes(b) => sha256_hex(b),
            Self::Precomputed(s) => s.clone(),
            Self::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
        }
    }
}

/// A request to sign. `uri` is the path and query exactly as they go on the wire
/// (already percent-encoded); `headers` must include `host`.
#[derive(Debug, Clone)]
pub struct SignInput<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub headers: Vec<(String, String)>,
    pub payload: PayloadHash<'a>,
    /// Encode the path a second time; true for every service except S3.
    pub double_encode_path: bool,
    /// Add and sign `x-amz-content-sha256` (S3 requires it; other services ignore it).
    pub content_sha256_header: bool,
}

impl<'a> SignInput<'a> {
    /// A non-S3 request: path double-encoded, no `x-amz-content-sha256`.
    pub fn new(
        method: &'a str,
        uri: &'a str,
        headers: Vec<(String, String)>,
        payload: PayloadHash<'a>,
    ) -> Self {
        Self {
            method,
            uri,
            headers,
            payload,
            double_encode_path: true,
            content_sha256_header: false,
        }
    }
}

/// Headers the signer adds, plus the intermediate strings for debugging.
#[derive(Debug, Clone)]
pub struct SignOutput {
    /// `authorization`, `x-amz-date`, and when applicable `x-amz-content-sha256` and
    /// `x-amz-security-token`; names lower-case.
    pub headers: Vec<(String, String)>,
    pub signature: String,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Headers that proxies and clients rewrite freely, so signing them would break requests.
const NEVER_SIGNED: &[&str] = &[
    "authorization",
    "user-agent",
    "expect",
    "x-amzn-trace-id",
    "connection",
];

/// Headers the signer owns; caller-supplied copies are replaced.
const SIGNER_OWNED: &[&str] = &["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/// The `yyyymmdd` prefix of an amz-date.
fn day(amz_date: &str) -> &str {
    amz_date.get(..8).unwrap_or(amz_date)
}

fn split_uri(uri: &str) -> (&str, &str) {
    uri.split_once('?').unwrap_or((uri, ""))
}

fn caller_headers(input: &SignInput<'_>) -> Vec<(String, String)> {
    input
        .headers
        .iter()
        .filter(|(n, _)| {
            let n = n.to_ascii_lowercase();
            !NEVER_SIGNED.contains(&n.as_str()) && !SIGNER_OWNED.contains(&n.as_str())
        })
        .cloned()
        .collect()
}

/// Signs with the `Authorization` header. The caller adds every returned header.
pub fn sign(
    req: &SignInput<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    time: OffsetDateTime,
) -> SignOutput {
    sign_cached(
        req,
        creds,
        region,
        service,
        time,
        &mut SigningKeyCache::default(),
    )
}

/// The derived signing key of the last day, region and service signed or verified for. The
/// SDKs derive it once per day rather than per request (it is four HMACs, more than the
/// rest of the signature); a long-lived signer keeps one of these per credential, and so
/// does the server for each caller it has seen. The key is zeroized when replaced or
/// dropped.
#[derive(Default)]
pub struct SigningKeyCache {
    /// The scope's day, region and service, with the key derived for them.
    entry: Option<(String, String, String, Zeroizing<[u8; 32]>)>,
}

impl SigningKeyCache {
    /// The signing key of `secret` for this scope: derived when the scope differs from the
    /// last one asked for, else the kept key. The cache must only ever see one secret.
    pub fn key(&mut self, secret: &str, day: &str, region: &str, service: &str) -> &[u8; 32] {
        let kept = self
            .entry
            .as_ref()
            .is_some_and(|(d, r, s, _)| d == day && r == region && s == service);
        if !kept {
            self.entry = None;
        }
        let (_, _, _, key) = self.entry.get_or_insert_with(|| {
            let key = Zeroizing::new(signing_key(secret, day, region, service));
            (day.to_owned(), region.to_owned(), service.to_owned(), key)
        });
        key
    }
}

impl std::fmt::Debug for SigningKeyCache {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache").finish_non_exhaustive()
    }
}

/// [`sign`] with the signing key taken from, or derived into, `cache`. `cache` must only
/// ever be used with the same `creds`.
pub fn sign_cached(
    req: &SignInput<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    time: OffsetDateTime,
    cache: &mut SigningKeyCache,
) -> SignOutput {
    let date = amz_date(time);
    let payload = req.payload.value();
    let mut added: Vec<(String, String)> = vec![("x-amz-date".into(), date.clone())];
    if req.content_sha256_header {
        added.push(("x-amz-content-sha256".into(), payload.clone()));
    }
    if let Some(tok) = &creds.session_token {
        added.push(("x-amz-security-token".into(), tok.clone()));
    }
    let mut all = caller_headers(req);
    all.extend(added.iter().cloned());
    let folded = fold_headers(all.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let (path, query) = split_uri(req.uri);
    let creq = canonical_request(&CanonicalParts {
        method: req.method,
        wire_path: path,
        wire_query: query,
        headers: &folded,
        payload_hash: &payload,
        double_encode_path: req.double_encode_path,
        presigned: false,
    });
    let scope = scope(day(&date), region, service);
    let sts = string_to_sign(&date, &scope, &creq);
    let key = cache.key(&creds.secret_access_key, day(&date), region, service);
    let sig = signature_with_key(key, &sts);
    let auth = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        creds.access_key_id,
        signed_headers_list(&folded)
    );
    added.insert(0, ("authorization".into(), auth));
    SignOutput {
        headers: added,
        signature: sig,
        canonical_request: creq,
        string_to_sign: sts,
    }
}

/// Signs with query parameters (a presigned URL valid for `expires_secs`), returning the
/// new path and query. Headers in `req` are signed too; the holder must send them.
pub fn presign(
    req: &SignInput<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    time: OffsetDateTime,
    expires_secs: u64,
) -> String {
    let date = amz_date(time);
    let scope = scope(day(&date), region, service);
    let folded = {
        let all = caller_headers(req);
        fold_headers(all.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    };
    let (path, query) = split_uri(req.uri);
    let mut params = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", creds.access_key_id),
        ),
        ("X-Amz-Date", date.clone()),
        ("X-Amz-Expires", expires_secs.to_string()),
        ("X-Amz-SignedHeaders", signed_headers_list(&folded)),
    ];
    if let Some(tok) = &creds.session_token {
        params.push(("X-Amz-Security-Token", tok.clone()));
    }
    let mut q = query.to_owned();
    for (k, v) in &params {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!("{k}={}", uri_encode(v)));
    }
    let creq = canonical_request(&CanonicalParts {
        method: req.method,
        wire_path: path,
        wire_query: &q,
        headers: &folded,
        payload_hash: &req.payload.value(),
        double_encode_path: req.double_encode_path,
        presigned: true,
    });
    let sts = string_to_sign(&date, &scope, &creq);
    let sig = signature(&creds.secret_access_key, day(&date), region, service, &sts);
    format!("{path}?{q}&X-Amz-Signature={sig}")
}
