//! What a policy is evaluated against: the caller, action, resource and condition keys.

use crate::model::KeysUsed;
use coffer_types::{Principal, PrincipalKind, RequestContext};
use std::borrow::Cow;
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

    /// Drops every key `used` does not name.
    pub fn retain_used(&mut self, used: &KeysUsed) {
        self.keys.retain(|k, _| used.wants(k));
    }

    /// The values of `key`; empty when the key is absent.
    pub fn get(&self, key: &str) -> &[String] {
        // Every condition check looks a key up: lower-case the usual (short, ASCII) key on
        // the stack rather than in a fresh String.
        let mut buf = [0u8; 128];
        let found = match buf.get_mut(..key.len()) {
            Some(b) if key.is_ascii() => {
                b.copy_from_slice(key.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b).ok().and_then(|k| self.keys.get(k))
            }
            _ => self.keys.get(&key.to_lowercase()),
        };
        found.map(Vec::as_slice).unwrap_or(&[])
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
        let all = KeysUsed::All;
        Self::global_used(principal, source_ip, now, region, secure_transport, &all)
    }

    /// [`ConditionContext::global`] with only the keys in `used`, for policies that read
    /// no others (see [`crate::PolicyDocument::keys_used`]): formatting times and
    /// addresses nobody reads is most of the cost of a cheap authorization.
    pub fn global_used(
        principal: &Principal,
        source_ip: Option<IpAddr>,
        now: OffsetDateTime,
        region: &str,
        secure_transport: bool,
        used: &KeysUsed,
    ) -> Self {
        let mut c = Self::new();
        let mut put = |key: &str, value: &dyn Fn() -> Option<String>| {
            if used.wants(key)
                && let Some(v) = value()
            {
                c.insert(key, v);
            }
        };
        put("aws:SourceIp", &|| source_ip.map(|ip| ip.to_string()));
        let now = now
            .to_offset(UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(now);
        put("aws:CurrentTime", &|| now.format(&Rfc3339).ok());
        put("aws:EpochTime", &|| Some(now.unix_timestamp().to_string()));
        put("aws:SecureTransport", &|| {
            Some(secure_transport.to_string())
        });
        put("aws:RequestedRegion", &|| Some(region.to_owned()));
        put("aws:PrincipalIsAWSService", &|| Some("false".to_owned()));
        let p = principal;
        // For role sessions AWS reports the role's ARN, not the session's.
        put("aws:PrincipalArn", &|| {
            Some(p.role_arn.clone().unwrap_or_else(|| p.arn.clone()))
        });
        put("aws:PrincipalAccount", &|| {
            Some(p.account.as_str().to_owned())
        });
        put("aws:userid", &|| Some(p.user_id.clone()));
        put("aws:PrincipalType", &|| {
            Some(
                match p.kind {
                    PrincipalKind::Root => "Account",
                    PrincipalKind::IamUser => "User",
                    PrincipalKind::AssumedRole => "AssumedRole",
                }
                .to_owned(),
            )
        });
        put("aws:username", &|| match (p.kind, &p.user_name) {
            (PrincipalKind::IamUser, Some(name)) => Some(name.clone()),
            _ => None,
        });
        c
    }
}

/// One authorization question: may `principal` perform `action` on `resource`?
///
/// The server asks it once or twice per request, borrowing what it already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalRequest<'a> {
    pub principal: Cow<'a, Principal>,
    /// `service:Operation`, e.g. `kms:Encrypt`; matched case-insensitively.
    pub action: Cow<'a, str>,
    /// The resource ARN, or `"*"` for operations without a resource (e.g. `kms:CreateKey`).
    pub resource: Cow<'a, str>,
    pub context: ConditionContext,
}

impl EvalRequest<'static> {
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
            principal: Cow::Owned(rc.principal.clone()),
            action: Cow::Owned(action.into()),
            resource: Cow::Owned(resource.into()),
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
        // Only the keys asked for, with the same values; the full set for `All`.
        let used = KeysUsed::Some(vec!["aws:currenttime".into(), "aws:userid".into()]);
        let narrow =
            ConditionContext::global_used(&p, "10.0.0.1".parse().ok(), t, "eu-west-1", true, &used);
        let mut expected = c.clone();
        expected.retain_used(&used);
        assert_eq!(narrow, expected);
        assert_eq!(narrow.get("aws:UserId"), ["AROAEXAMPLE:s"]);
        assert!(narrow.get("aws:SourceIp").is_empty());
        let all = ConditionContext::global_used(
            &p,
            "10.0.0.1".parse().ok(),
            t,
            "eu-west-1",
            true,
            &KeysUsed::All,
        );
        assert_eq!(all, c);
        assert_eq!(c.get("aws:SourceIp"), ["10.0.0.1"]);
        assert_eq!(c.get("aws:SecureTransport"), ["true"]);
        assert_eq!(c.get("aws:PrincipalType"), ["AssumedRole"]);
        assert!(c.get("aws:username").is_empty());
    }
}
