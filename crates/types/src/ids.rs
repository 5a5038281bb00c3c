use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A 12-digit AWS account id. Leading zeros are significant (`000000000000` is valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId([u8; 12]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("account id must be exactly 12 decimal digits")]
pub struct AccountIdError;

impl AccountId {
    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII digits.
        std::str::from_utf8(&self.0).unwrap_or("000000000000")
    }
}

impl FromStr for AccountId {
    type Err = AccountIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
            return Err(AccountIdError);
        }
        let mut out = [0u8; 12];
        out.copy_from_slice(b);
        Ok(Self(out))
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> String {
        a.as_str().to_owned()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An AWS region name such as `us-east-1`. Any lower-case name of letters, digits and
/// dashes is accepted: one deployment may host regions AWS does not have.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("region must be 1-32 characters of a-z, 0-9 and '-'")]
pub struct RegionError;

impl Region {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Region {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(RegionError)
        }
    }
}

impl TryFrom<String> for Region {
    type Error = RegionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!("000000000000".parse::<AccountId>().is_ok());
        assert!("12345678901".parse::<AccountId>().is_err());
        assert!("12345678901a".parse::<AccountId>().is_err());
        assert_eq!(
            "123456789012".parse::<AccountId>().map(|a| a.to_string()),
            Ok("123456789012".into())
        );
    }

    #[test]
    fn regions() {
        assert!("us-east-1".parse::<Region>().is_ok());
        assert!("US-EAST-1".parse::<Region>().is_err());
        assert!("".parse::<Region>().is_err());
    }
}
