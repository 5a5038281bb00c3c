//! Server configuration: defaults, then a TOML file, then environment, then flags.
//!
//! The binary turns its flags and environment into a [`RawConfig`] and calls
//! [`Config::resolve`]; every value is validated here, once, with a message that names
//! the setting and what is wrong with it.

use crate::barrier::UnsealSource;
use coffer_types::Region;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// Every setting, each optional, as it comes from one source. Later sources override
/// earlier ones field by field.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// `embedded` (default) or a `postgres://` URL.
    pub storage: Option<String>,
    pub region: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Extra DNS names or IPs for the generated server certificate.
    pub tls_names: Option<Vec<String>>,
    /// `allow` (default) or `loopback-only`.
    pub plain_http: Option<String>,
    /// Name of an environment variable holding the unseal passphrase.
    pub unseal_passphrase_env: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub clock_skew_seconds: Option<u64>,
    pub dev: Option<bool>,
    /// Enables `POST /_coffer/clock/advance` so tests can move time. Never in production.
    pub test_clock: Option<bool>,
    pub log: Option<String>,
    /// `[secretsmanager]`: rotation functions (webhooks) by name.
    pub secretsmanager: Option<SecretsManagerSettings>,
    /// Event delivery targets (`[[events.webhooks]]`).
    pub events: Option<crate::events::EventsConfig>,
}

/// Secrets Manager settings. A rotation function named in a secret's
/// `RotationLambdaARN` (`arn:aws:lambda:<region>:<account>:function:<name>`) is looked up
/// here by `<name>`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsManagerSettings {
    #[serde(default)]
    pub rotation_functions: std::collections::BTreeMap<String, RotationWebhook>,
    /// A PEM file of CAs trusted, in addition to the system's, by rotation: `https://`
    /// rotation webhooks and the databases the built-in rotators reach over TLS.
    pub ca_file: Option<PathBuf>,
}

/// A rotation function served over HTTP: each step is POSTed to `url`, signed with
/// HMAC-SHA256 under the secret read from `signing-secret-file` (kept out of this file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RotationWebhook {
    pub url: String,
    pub signing_secret_file: PathBuf,
}

impl RawConfig {
    /// `other`'s set fields win.
    pub fn overlay(self, other: RawConfig) -> RawConfig {
        RawConfig {
            listen: other.listen.or(self.listen),
            data_dir: other.data_dir.or(self.data_dir),
            storage: other.storage.or(self.storage),
            region: other.region.or(self.region),
            tls_cert: other.tls_cert.or(self.tls_cert),
            tls_key: other.tls_key.or(self.tls_key),
            tls_names: other.tls_names.or(self.tls_names),
            plain_http: other.plain_http.or(self.plain_http),
            unseal_passphrase_env: other.unseal_passphrase_env.or(self.unseal_passphrase_env),
            max_body_bytes: other.max_body_bytes.or(self.max_body_bytes),
            clock_skew_seconds: other.clock_skew_seconds.or(self.clock_skew_seconds),
            dev: other.dev.or(self.dev),
            test_clock: other.test_clock.or(self.test_clock),
            log: other.log.or(self.log),
            secretsmanager: other.secretsmanager.or(self.secretsmanager),
            events: other.events.or(self.events),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageLocation {
    Embedded(PathBuf),
    Postgres(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A local CA and server certificate kept in `<data-dir>/tls`.
    Generated {
        extra_names: Vec<String>,
    },
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    Allow,
    LoopbackOnly,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub storage: StorageLocation,
    pub region: Region,
    pub tls: TlsSource,
    pub plain_http: PlainHttp,
    pub unseal: UnsealSource,
    pub dev: bool,
    pub max_body_bytes: usize,
    pub clock_skew: Duration,
    pub test_clock: bool,
    pub log: String,
    pub secretsmanager: SecretsManagerSettings,
    pub events: crate::events::EventsConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting `{setting}` = {value:?}: {why}")]
    Invalid {
        setting: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("`tls-cert` and `tls-key` must be given together")]
    TlsPair,
    #[error("environment variable {0} (named by `unseal-passphrase-env`) is not set or empty")]
    PassphraseMissing(String),
    #[error("no data directory: set `data-dir` (or HOME for the default)")]
    NoDataDir,
}

impl Config {
    /// Reads `file` (if given), overlays `overrides` (env and flags), validates.
    pub fn resolve(file: Option<&Path>, overrides: RawConfig) -> Result<Config, ConfigError> {
        let base = match file {
            Some(p) => read_file(p)?,
            None => RawConfig::default(),
        };
        Self::validate(base.overlay(overrides))
    }

    pub fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        let dev = raw.dev.unwrap_or(false);
        let data_dir = data_dir(raw.data_dir, dev)?;
        Ok(Config {
            listen: parse_listen(raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?,
            storage: storage(raw.storage.as_deref(), &data_dir)?,
            region: parse_region(raw.region.as_deref().unwrap_or(DEFAULT_REGION))?,
            tls: tls(raw.tls_cert, raw.tls_key, raw.tls_names.unwrap_or_default())?,
            plain_http: plain_http(raw.plain_http.as_deref().unwrap_or("allow"))?,
            unseal: unseal(raw.unseal_passphrase_env, &data_dir)?,
            max_body_bytes: max_body(raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY))?,
            clock_skew: skew(raw.clock_skew_seconds.unwrap_or(900))?,
            test_clock: raw.test_clock.unwrap_or(false),
            log: raw.log.unwrap_or_else(|| "info".into()),
            secretsmanager: secretsmanager(raw.secretsmanager.unwrap_or_default())?,
            events: events(raw.events.unwrap_or_default())?,
            dev,
            data_dir,
        })
    }
}

/// Webhooks take `http://` or `https://` URLs (an https one needs a usable CA file, checked
/// here so a mistake shows at start); the secret signs every delivery, so it cannot be empty.
fn events(e: crate::events::EventsConfig) -> Result<crate::events::EventsConfig, ConfigError> {
    for h in &e.webhooks {
        let scheme_ok = h.url.starts_with("http://") || h.url.starts_with("https://");
        if !scheme_ok || h.url.parse::<http::Uri>().is_err() {
            return Err(invalid(
                "events.webhooks.url",
                h.url.clone(),
                "expected an http:// or https:// URL",
            ));
        }
        if h.tls().is_err() {
            return Err(invalid(
                "events.webhooks.ca-file",
                h.ca_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                "an https:// webhook needs a readable PEM file of CA certificates",
            ));
        }
        if h.secret.is_empty() {
            return Err(invalid(
                "events.webhooks.secret",
                "",
                "a webhook needs a signing secret",
            ));
        }
    }
    Ok(e)
}

fn read_file(p: &Path) -> Result<RawConfig, ConfigError> {
    let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
        path: p.into(),
        source: e,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: p.into(),
        message: e.to_string(),
    })
}

fn invalid(setting: &'static str, value: impl Into<String>, why: &'static str) -> ConfigError {
    ConfigError::Invalid {
        setting,
        value: value.into(),
        why,
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, ConfigError> {
    s.parse().map_err(|_| {
        invalid(
            "listen",
            s,
            "expected an IP address and port, e.g. 127.0.0.1:4566",
        )
    })
}

fn secretsmanager(s: SecretsManagerSettings) -> Result<SecretsManagerSettings, ConfigError> {
    for (name, f) in &s.rotation_functions {
        // `coffer-*` names are reserved for built-in rotators.
        if name.starts_with("coffer-") {
            return Err(invalid(
                "secretsmanager.rotation-functions",
                name,
                "names starting with coffer- are reserved for built-in rotators",
            ));
        }
        let scheme_ok = f.url.starts_with("http://") || f.url.starts_with("https://");
        if !scheme_ok || f.url.parse::<http::Uri>().is_err() {
            return Err(invalid(
                "secretsmanager.rotation-functions.url",
                &f.url,
                "expected an http:// or https:// URL",
            ));
        }
    }
    // Checked here so a mistake shows at start rather than at the first rotation.
    if let Some(ca) = &s.ca_file
        && coffer_tls::client_config_with_system_roots(Some(ca)).is_err()
    {
        return Err(invalid(
            "secretsmanager.ca-file",
            ca.display().to_string(),
            "expected a readable PEM file of CA certificates",
        ));
    }
    Ok(s)
}

fn parse_region(s: &str) -> Result<Region, ConfigError> {
    s.parse()
        .map_err(|_| invalid("region", s, "expected a region name such as us-east-1"))
}

/// `--dev` state lives in a fresh temporary directory unless one is named.
fn data_dir(given: Option<PathBuf>, dev: bool) -> Result<PathBuf, ConfigError> {
    if let Some(d) = given {
        return Ok(d);
    }
    if dev {
        let unique = format!("coffer-dev-{}", std::process::id());
        return Ok(std::env::temp_dir().join(unique));
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("coffer"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::NoDataDir)?;
    Ok(PathBuf::from(home).join(".local/share/coffer"))
}

fn storage(s: Option<&str>, data_dir: &Path) -> Result<StorageLocation, ConfigError> {
    match s {
        None | Some("embedded") => Ok(StorageLocation::Embedded(data_dir.join("coffer.redb"))),
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Ok(StorageLocation::Postgres(u.into()))
        }
        Some(other) => Err(invalid(
            "storage",
            other,
            "expected `embedded` or a postgres:// URL",
        )),
    }
}

fn tls(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    names: Vec<String>,
) -> Result<TlsSource, ConfigError> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(TlsSource::Files { cert, key }),
        (None, None) => Ok(TlsSource::Generated { extra_names: names }),
        _ => Err(ConfigError::TlsPair),
    }
}

fn plain_http(s: &str) -> Result<PlainHttp, ConfigError> {
    match s {
        "allow" => Ok(PlainHttp::Allow),
        "loopback-only" => Ok(PlainHttp::LoopbackOnly),
        _ => Err(invalid(
            "plain-http",
            s,
            "expected `allow` or `loopback-only`",
        )),
    }
}

fn unseal(env: Option<String>, data_dir: &Path) -> Result<UnsealSource, ConfigError> {
    let Some(var) = env else {
        return Ok(UnsealSource::KeyFile(data_dir.join("unseal.key")));
    };
    match std::env::var(&var) {
        Ok(v) if !v.is_empty() => Ok(UnsealSource::Passphrase(Zeroizing::new(v))),
        _ => Err(ConfigError::PassphraseMissing(var)),
    }
}

fn max_body(n: usize) -> Result<usize, ConfigError> {
    if (1024..=1 << 30).contains(&n) {
        Ok(n)
    } else {
        Err(invalid(
            "max-body-bytes",
            n.to_string(),
            "must be between 1024 and 1073741824",
        ))
    }
}

fn skew(secs: u64) -> Result<Duration, ConfigError> {
    if (1..=3600).contains(&secs) {
        Ok(Duration::from_secs(secs))
    } else {
        Err(invalid(
            "clock-skew-seconds",
            secs.to_string(),
            "must be between 1 and 3600",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig {
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        }
    }

    #[test]
    fn webhooks_from_toml() {
        let file: RawConfig = toml::from_str(
            "[[events.webhooks]]\nurl = \"http://127.0.0.1:9000/h\"\nsecret = \"s\"\nsource = \"aws.ssm\"\n",
        )
        .unwrap();
        let c = Config::validate(file.overlay(raw())).unwrap();
        assert_eq!(c.events.webhooks.len(), 1);
        assert_eq!(c.events.webhooks[0].source.as_deref(), Some("aws.ssm"));
        let bad: RawConfig =
            toml::from_str("[[events.webhooks]]\nurl = \"ftp://x\"\nsecret = \"s\"\n").unwrap();
        assert!(Config::validate(bad.overlay(raw())).is_err());
        let no_ca: RawConfig = toml::from_str(
            "[[events.webhooks]]\nurl = \"https://x/\"\nsecret = \"s\"\nca-file = \"/nonexistent.pem\"\n",
        )
        .unwrap();
        assert!(Config::validate(no_ca.overlay(raw())).is_err());
        let empty: RawConfig =
            toml::from_str("[[events.webhooks]]\nurl = \"http://x/\"\nsecret = \"\"\n").unwrap();
        assert!(Config::validate(empty.overlay(raw())).is_err());
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::validate(raw()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            c.storage,
            StorageLocation::Embedded("/tmp/x/coffer.redb".into())
        );
        assert_eq!(c.plain_http, PlainHttp::Allow);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = Config::validate(RawConfig {
            listen: Some("nope".into()),
            ..raw()
        })
        .unwrap_err();
        assert!(e.to_string().contains("`listen`"), "{e}");
        let e = Config::validate(RawConfig {
            storage: Some("mysql://x".into()),
            ..raw()
        })
        .unwrap_err();
        assert!(e.to_string().contains("`storage`"), "{e}");
        let e = Config::validate(RawConfig {
            tls_cert: Some("a".into()),
            ..raw()
        })
        .unwrap_err();
        assert!(matches!(e, ConfigError::TlsPair));
        let e = Config::validate(RawConfig {
            unseal_passphrase_env: Some("COFFER_TEST_SURELY_UNSET".into()),
            ..raw()
        })
        .unwrap_err();
        assert!(matches!(e, ConfigError::PassphraseMissing(_)));
    }

    #[test]
    fn later_sources_win() {
        let file = RawConfig {
            listen: Some("127.0.0.1:1".into()),
            region: Some("eu-west-1".into()),
            ..raw()
        };
        let flags = RawConfig {
            listen: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let c = Config::validate(file.overlay(flags)).unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.region.as_str(), "eu-west-1");
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        let e = toml::from_str::<RawConfig>("listne = \"x\"").unwrap_err();
        assert!(e.to_string().contains("listne"));
    }

    #[test]
    fn rotation_functions_from_toml() {
        let text = "[secretsmanager.rotation-functions.hook]\nurl = \"http://127.0.0.1:9/\"\nsigning-secret-file = \"/s\"\n";
        let parsed: RawConfig = toml::from_str(text).unwrap();
        let c = Config::validate(RawConfig {
            secretsmanager: parsed.secretsmanager.clone(),
            ..raw()
        })
        .unwrap();
        assert_eq!(
            c.secretsmanager.rotation_functions["hook"].url,
            "http://127.0.0.1:9/"
        );
        let bad = |t: &str| {
            let parsed: RawConfig = toml::from_str(t).unwrap();
            Config::validate(RawConfig {
                secretsmanager: parsed.secretsmanager,
                ..raw()
            })
            .is_err()
        };
        assert!(bad(&text.replace("http://", "ftp://")));
        assert!(bad(&text.replace(
            "functions.hook",
            "functions.coffer-mysql-single-user"
        )));
        assert!(toml::from_str::<RawConfig>(&text.replace("url", "uri")).is_err());
        // https:// webhooks are accepted; a CA file must be readable PEM.
        assert!(!bad(&text.replace("http://", "https://")));
        assert!(bad(&format!(
            "[secretsmanager]\nca-file = \"/nonexistent.pem\"\n{text}"
        )));
    }
}
