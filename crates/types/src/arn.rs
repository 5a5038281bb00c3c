use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `arn:partition:service:region:account:resource`. Region and account may be empty
/// (IAM ARNs have no region); the resource keeps any further colons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArnError {
    #[error("ARN must start with 'arn:' and have six colon-separated parts")]
    Shape,
    #[error("ARN partition, service and resource must not be empty")]
    Empty,
}

impl Arn {
    pub fn new(service: &str, region: &str, account: &str, resource: impl Into<String>) -> Self {
        Self {
            partition: "aws".into(),
            service: service.into(),
            region: region.into(),
            account: account.into(),
            resource: resource.into(),
        }
    }
}

/// The parts of an ARN, borrowed from its text: for hot paths (policy evaluation reads
/// the account of every `Principal` entry) that only look at a part or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Splits `s` as [`Arn`]'s parser does, with the same errors, without copying.
    pub fn parse(s: &'a str) -> Result<Self, ArnError> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(p), Some(svc), Some(r), Some(a), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ArnError::Shape);
        };
        if p.is_empty() || svc.is_empty() || res.is_empty() {
            return Err(ArnError::Empty);
        }
        Ok(Self {
            partition: p,
            service: svc,
            region: r,
            account: a,
            resource: res,
        })
    }
}

impl FromStr for Arn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = ArnParts::parse(s)?;
        Ok(Self {
            partition: p.partition.into(),
            service: p.service.into(),
            region: p.region.into(),
            account: p.account.into(),
            resource: p.resource.into(),
        })
    }
}

impl TryFrom<String> for Arn {
    type Error = ArnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Arn> for String {
    fn from(a: Arn) -> String {
        a.to_string()
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let a: Arn = s.parse().unwrap();
        assert_eq!(a.service, "kms");
        assert_eq!(a.to_string(), s);
        let iam: Arn = "arn:aws:iam::111122223333:role/a:b".parse().unwrap();
        assert_eq!(iam.region, "");
        assert_eq!(iam.resource, "role/a:b");
        assert!("arn:aws:iam".parse::<Arn>().is_err());
    }

    #[test]
    fn borrowed_parts_agree_with_the_owned_parse() {
        for s in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:role/a:b",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            "arn:aws:iam",
            "arn::iam::1:root",
            "arn:aws:iam::1:",
            "nar:aws:iam::1:root",
        ] {
            let owned = s.parse::<Arn>();
            let parts = ArnParts::parse(s);
            assert_eq!(owned.is_ok(), parts.is_ok(), "{s}");
            if let (Ok(o), Ok(p)) = (owned, parts) {
                assert_eq!(
                    (p.partition, p.service, p.region, p.account, p.resource),
                    (
                        o.partition.as_str(),
                        o.service.as_str(),
                        o.region.as_str(),
                        o.account.as_str(),
                        o.resource.as_str()
                    )
                );
            }
        }
    }
}
