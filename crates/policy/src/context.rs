//! What a policy is evaluated against: the caller, action, resource and condition keys.

use coffer_types::{Principal, PrincipalKind, RequestContext};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Condition keys of a request. Keys are case-insensitive (as in AWS); values keep their
/// case. Every key may carry several values (multi-valued keys such as `aws:TagKeys`);
/// values are strings and each condition operator parses them as it needs (number, date,
/// IP, ...), so one context serves every operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext {
    keys: BTreeMap<String, Vec<String>>,
}

impl ConditionContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value to `key` (keeps existing values: that is how multi-valued keys are built).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.keys
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Replaces all values of `key`. An empty list is the same as an absent key.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        if values.is_empty() {
            self.keys.remove(&key.to_lowercase());
        } else {
            self.keys.insert(key.to_lowercase(), values);
        }
    }

    /// The values of `key`; empty when the key is absent.
    pub fn get(&self, key: &str) -> &[String] {
        self.keys
            .get(&key.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The global condition keys AWS puts in every authenticated request: `aws:SourceIp`,
    /// `aws:CurrentTime`, `aws:EpochTime`, `aws:SecureTransport`, `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, `aws:username` (IAM users
    /// only), `aws:RequestedRegion` and `aws:PrincipalIsAWSService`. They also feed policy
    /// variables such as `${aws:username}`.
    pub fn global(
        principal: &Principal,
        source_ip: Option<IpAddr>,
        now: OffsetDateTime,
        region: &str,
        secure_transport: bool,
    ) -> Self {
        let mut c = Self::new();
        if let Some(ip) = source_ip {
            c.insert("aws:SourceIp", ip.to_string());
        }
        let now = now
            .to_offset(UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(now);
        if let Ok(t) = now.format(&Rfc3339) {
            c.insert("aws:CurrentTime", t);
        }
        c.insert("aws:EpochTime", now.unix_timestamp().to_string());
        c.insert("aws:SecureTransport", secure_transport.to_string());
        c.insert("aws:RequestedRegion", region);
        c.insert("aws:PrincipalIsAWSService", "false");
        c.add_principal_keys(principal);
        c
    }

    fn add_principal_keys(&mut self, p: &Principal) {
        // For role sessions AWS reports the role's ARN, not the session's.
        let arn = p.role_arn.as_deref().unwrap_or(&p.arn);
        self.insert("aws:PrincipalArn", arn);
        self.insert("aws:PrincipalAccount", p.account.as_str());
        self.insert("aws:userid", p.user_id.as_str());
        let kind = match p.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::IamUser => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
        };
        self.insert("aws:PrincipalType", kind);
        if let (PrincipalKind::IamUser, Some(name)) = (p.kind, &p.user_name) {
            self.insert("aws:username", name.as_str());
        }
    }
}

/// One authorization question: may `principal` perform `action` on `resource`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalRequest {
    pub principal: Principal,
    /// `service:Operation`, e.g. `kms:Encrypt`; matched case-insensitively.
    pub action: String,
    /// The resource ARN, or `"*"` for operations without a resource (e.g. `kms:CreateKey`).
    pub resource: String,
    pub context: ConditionContext,
}

impl EvalRequest {
    /// A request with the global condition keys of `rc` filled in. Services add their own
    /// keys (`kms:EncryptionContext:...`, `aws:ResourceTag/...`) to `context` afterwards.
    pub fn from_request_context(
        rc: &RequestContext,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        let context = ConditionContext::global(
            &rc.principal,
            Some(rc.source_ip),
            rc.time,
            rc.region.as_str(),
            rc.secure_transport,
        );
        Self {
            principal: rc.principal.clone(),
            action: action.into(),
            resource: resource.into(),
            context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::AccountId;

    #[test]
    fn keys_are_case_insensitive_and_multi_valued() {
        let mut c = ConditionContext::new();
        c.insert("aws:TagKeys", "a");
        c.insert("AWS:tagkeys", "B");
        assert_eq!(c.get("aws:tagKeys"), ["a", "B"]);
        c.set("aws:tagkeys", vec![]);
        assert!(c.get("aws:TagKeys").is_empty());
    }

    #[test]
    fn global_keys() {
        let p = Principal {
            kind: PrincipalKind::AssumedRole,
            account: "111122223333".parse::<AccountId>().unwrap(),
            arn: "arn:aws:sts::111122223333:assumed-role/R/s".into(),
            user_id: "AROAEXAMPLE:s".into(),
            access_key_id: "ASIA".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/R".into()),
            user_name: None,
        };
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let c = ConditionContext::global(&p, "10.0.0.1".parse().ok(), t, "eu-west-1", true);
        assert_eq!(
            c.get("aws:principalarn"),
            ["arn:aws:iam::111122223333:role/R"]
        );
        assert_eq!(c.get("aws:CurrentTime"), ["2023-11-14T22:13:20Z"]);
        assert_eq!(c.get("aws:EpochTime"), ["1700000000"]);
        assert_eq!(c.get("aws:SourceIp"), ["10.0.0.1"]);
        assert_eq!(c.get("aws:SecureTransport"), ["true"]);
        assert_eq!(c.get("aws:PrincipalType"), ["AssumedRole"]);
        assert!(c.get("aws:username").is_empty());
    }
}
