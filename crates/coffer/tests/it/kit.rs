//! Test kit: starts the real `coffer` binary on a free port with its own data directory and
//! hands out AWS SDK clients and a raw signed-HTTP client.

use aws_credential_types::Credentials;
use bytes::Bytes;
use coffer_wire::sigv4;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const REGION: &str = "us-east-1";

#[derive(Clone, Debug)]
pub struct Creds {
    pub akid: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Creds {
    pub fn new(akid: &str, secret: &str) -> Self {
        Self {
            akid: akid.into(),
            secret: secret.into(),
            token: None,
        }
    }
    fn sdk(&self) -> Credentials {
        Credentials::new(
            &self.akid,
            &self.secret,
            self.token.clone(),
            None,
            "coffer-test",
        )
    }
    pub fn signer(&self) -> sigv4::Credentials {
        let mut c = sigv4::Credentials::new(self.akid.clone(), self.secret.clone());
        c.session_token = self.token.clone();
        c
    }
}

pub struct TestServer {
    child: Option<Child>,
    pub endpoint: String,
    pub port: u16,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub admin: Creds,
    pub account: String,
    extra: Vec<String>,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coffer")
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra flags (`--test-clock` is always on in tests).
    pub fn start_with(extra: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, port) = spawn(&data_dir, 0, &extra);
        let (admin, account) = read_credentials(&data_dir.join("credentials"));
        Self {
            child: Some(child),
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            data_dir,
            _tmp: Some(tmp),
            admin,
            account,
            extra,
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same data directory and port.
    pub fn restart(&mut self) {
        self.kill9();
        let (child, _) = spawn(&self.data_dir, self.port, &self.extra);
        self.child = Some(child);
    }

    pub fn sts(&self, c: &Creds) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn iam(&self, c: &Creds) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn cloudtrail(&self, c: &Creds) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::Config::builder()
            .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudtrail::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    pub fn kms(&self, c: &Creds) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    pub fn ssm(&self, c: &Creds) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    /// A KMS client for another region of the same server.
    pub fn kms_in(&self, c: &Creds, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(c.sdk())
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// Moves the server's clock forward.
    pub async fn advance(&self, secs: u64) {
        let uri = format!("{}/_coffer/clock/advance?seconds={secs}", self.endpoint);
        let (status, _, _) = raw(http::Request::post(uri)
            .body(Full::new(Bytes::new()))
            .unwrap())
        .await;
        assert_eq!(status, 200, "clock advance refused");
    }

    /// The server's current time (system time plus what tests advanced).
    pub fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    /// Sends a query-protocol request signed by `c` for `service`, with the body optionally
    /// altered after signing.
    pub async fn signed_query(
        &self,
        c: &Creds,
        service: &str,
        body: &str,
        tamper: Option<&str>,
    ) -> (u16, http::HeaderMap, String) {
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        self.signed_post(c, service, &[("content-type", form)], body, tamper)
            .await
    }

    /// An awsJson1.1 call (`target` is the `X-Amz-Target` header), signed but sent raw, so
    /// that a test sees the response's headers as the server wrote them.
    pub async fn signed_json(
        &self,
        c: &Creds,
        service: &str,
        target: &str,
        body: &str,
    ) -> (u16, http::HeaderMap, String) {
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ];
        self.signed_post(c, service, &headers, body, None).await
    }

    /// POSTs `body` to `/` signed with `c`, sending `tamper` instead of it if given.
    async fn signed_post(
        &self,
        c: &Creds,
        service: &str,
        extra: &[(&str, &str)],
        body: &str,
        tamper: Option<&str>,
    ) -> (u16, http::HeaderMap, String) {
        let mut headers = vec![("host".to_string(), format!("127.0.0.1:{}", self.port))];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let input = sigv4::SignInput::new(
            "POST",
            "/",
            headers.clone(),
            sigv4::PayloadHash::Bytes(body.as_bytes()),
        );
        let out = sigv4::sign(&input, &c.signer(), REGION, service, self.now());
        let mut req = http::Request::post(format!("{}/", self.endpoint));
        for (k, v) in headers.iter().chain(out.headers.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        let sent = tamper.unwrap_or(body).to_owned();
        raw(req.body(Full::new(Bytes::from(sent))).unwrap()).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn spawn(data_dir: &Path, port: u16, extra: &[String]) -> (Child, u16) {
    let mut child = Command::new(bin())
        .args(["server", "--test-clock", "--log", "warn", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env_remove("COFFER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn coffer");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("read stdout");
        if let Some(rest) = line.strip_prefix("coffer listening on ") {
            let addr = rest.split_whitespace().next().unwrap();
            break addr.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

pub fn read_credentials(path: &Path) -> (Creds, String) {
    let text = std::fs::read_to_string(path).expect("credentials file");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|r| r.trim_start_matches([' ', '=']).trim().to_string())
            })
            .unwrap_or_else(|| panic!("{k} missing in credentials"))
    };
    let account = text
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(4)
        .unwrap()
        .to_string();
    (
        Creds::new(&get("aws_access_key_id"), &get("aws_secret_access_key")),
        account,
    )
}

/// Sends one request; returns status, headers and body.
pub async fn raw(req: http::Request<Full<Bytes>>) -> (u16, http::HeaderMap, String) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .expect("timeout")
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The error code of an SDK error.
pub fn code<E: aws_sdk_sts::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}

/// Asserts an SDK error's code and message.
#[track_caller]
pub fn assert_error<E: aws_sdk_sts::error::ProvideErrorMetadata>(e: &E, code: &str, message: &str) {
    assert_eq!((e.code(), e.message()), (Some(code), Some(message)));
}
