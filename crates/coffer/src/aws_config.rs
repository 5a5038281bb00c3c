//! Where the AWS SDKs look for credentials, Region and endpoint, for the client-side
//! commands (`coffer encrypt` / `decrypt`).
//!
//! - Profile: `--profile`, else `AWS_PROFILE`, else `default`.
//! - Credentials: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else
//!   the profile in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
//!   `~/.aws/credentials`), else the profile in the config file (`AWS_CONFIG_FILE`, default
//!   `~/.aws/config`, sections `[default]` / `[profile NAME]`).
//! - Region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's
//!   `region`. A key ARN's own Region always wins for calls about that key.
//! - Endpoint: `--endpoint-url`, else `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`, else the
//!   profile's `endpoint_url` (all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`),
//!   else `https://kms.REGION.amazonaws.com` (`.com.cn` in China Regions).
//! - Extra trusted CA certificates (e.g. coffer's local CA): `AWS_CA_BUNDLE` or the profile's
//!   `ca_bundle`.

use anyhow::{Context, Result, anyhow};
use coffer_wire::sigv4::Credentials;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where and as whom to call KMS.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub credentials: Credentials,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub ca_bundle: Option<PathBuf>,
}

/// Command-line overrides.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// The shared config/credentials file format: `[section]` headers, `key = value` lines,
/// `#`/`;` comments.
fn parse_ini(text: &str) -> Ini {
    let mut out = Ini::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
            continue;
        }
        if let (Some(s), Some((k, v))) = (&section, line.split_once('=')) {
            out.entry(s.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn home_file(env: &str, default: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws").join(default))
}

fn read_ini(env: &str, default: &str) -> Ini {
    home_file(env, default)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| parse_ini(&t))
        .unwrap_or_default()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl AwsConfig {
    pub fn discover(o: &Overrides) -> Result<Self> {
        let profile = o
            .profile
            .clone()
            .or_else(|| env("AWS_PROFILE"))
            .unwrap_or_else(|| "default".into());
        let config = read_ini("AWS_CONFIG_FILE", "config");
        let creds_file = read_ini("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let empty = BTreeMap::new();
        let section = if profile == "default" {
            "default".to_string()
        } else {
            format!("profile {profile}")
        };
        let conf = config.get(&section).unwrap_or(&empty);
        let credentials = Self::credentials(&profile, creds_file.get(&profile), conf)?;
        let region = o
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| conf.get("region").cloned());
        let ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v == "true");
        let endpoint = o.endpoint_url.clone().or_else(|| {
            if ignore {
                return None;
            }
            env("AWS_ENDPOINT_URL_KMS")
                .or_else(|| env("AWS_ENDPOINT_URL"))
                .or_else(|| conf.get("endpoint_url").cloned())
        });
        let ca_bundle = env("AWS_CA_BUNDLE")
            .or_else(|| conf.get("ca_bundle").cloned())
            .map(PathBuf::from);
        Ok(Self {
            credentials,
            region,
            endpoint,
            ca_bundle,
        })
    }

    fn credentials(
        profile: &str,
        from_creds_file: Option<&BTreeMap<String, String>>,
        from_config: &BTreeMap<String, String>,
    ) -> Result<Credentials> {
        // An empty variable counts as unset, as for every other setting here.
        let from_env = coffer_bench::credentials_from_env()
            .filter(|c| !c.access_key_id.is_empty() && !c.secret_access_key.is_empty());
        if let Some(c) = from_env {
            return Ok(c);
        }
        for s in from_creds_file.into_iter().chain(Some(from_config)) {
            if let (Some(id), Some(secret)) =
                (s.get("aws_access_key_id"), s.get("aws_secret_access_key"))
            {
                let mut c = Credentials::new(id.clone(), secret.clone());
                c.session_token = s.get("aws_session_token").cloned();
                return Ok(c);
            }
        }
        Err(anyhow!(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile {profile} to the shared credentials file"
        ))
    }

    /// The Region for a call about `key_id`: the ARN's own Region, else the configured one.
    pub fn region_for(&self, key_id: &str) -> Result<String> {
        if let Some(arn) = coffer_envelope::keyring::KmsKeyArn::parse(key_id) {
            return Ok(arn.region);
        }
        self.region
            .clone()
            .context("no AWS Region: use --region, AWS_REGION or a key ARN")
    }

    /// The endpoint URL for `region`.
    pub fn endpoint_for(&self, region: &str) -> String {
        match &self.endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None if region.starts_with("cn-") => format!("https://kms.{region}.amazonaws.com.cn"),
            None => format!("https://kms.{region}.amazonaws.com"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_and_comments() {
        let ini = parse_ini(
            "# c\n[default]\nregion = eu-west-1\n; x\n[profile dev]\naws_access_key_id=AK\n  aws_secret_access_key = S \n",
        );
        assert_eq!(ini["default"]["region"], "eu-west-1");
        assert_eq!(ini["profile dev"]["aws_access_key_id"], "AK");
        assert_eq!(ini["profile dev"]["aws_secret_access_key"], "S");
    }

    #[test]
    fn key_arn_region_wins_and_default_endpoints() {
        let c = AwsConfig {
            credentials: Credentials::new("a", "b"),
            region: Some("us-east-1".into()),
            endpoint: None,
            ca_bundle: None,
        };
        assert_eq!(
            c.region_for("arn:aws:kms:eu-west-2:111122223333:key/k")
                .unwrap(),
            "eu-west-2"
        );
        assert_eq!(c.region_for("alias/x").unwrap(), "us-east-1");
        assert_eq!(
            c.endpoint_for("eu-west-2"),
            "https://kms.eu-west-2.amazonaws.com"
        );
        assert_eq!(
            c.endpoint_for("cn-north-1"),
            "https://kms.cn-north-1.amazonaws.com.cn"
        );
        let local = AwsConfig {
            endpoint: Some("http://127.0.0.1:9000/".into()),
            region: None,
            ..c
        };
        assert_eq!(local.endpoint_for("us-east-1"), "http://127.0.0.1:9000");
        assert!(local.region_for("alias/x").is_err());
    }
}
