use crate::{AccountId, Region};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;

/// What kind of identity made a request; becomes CloudTrail's `userIdentity.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    Root,
    IamUser,
    AssumedRole,
}

impl PrincipalKind {
    pub fn cloudtrail_type(self) -> &'static str {
        match self {
            Self::Root => "Root",
            Self::IamUser => "IAMUser",
            Self::AssumedRole => "AssumedRole",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub account: AccountId,
    /// `arn:aws:iam::<acct>:root`, `...:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// AWS's unique id: the account id for root, `AIDA...` for users, `AROA...:session` for roles.
    pub user_id: String,
    pub access_key_id: String,
    /// For assumed roles: the role's ARN (`arn:aws:iam::<acct>:role/<name>`), whose policies apply.
    pub role_arn: Option<String>,
    /// For IAM users: the user name, whose policies apply.
    pub user_name: Option<String>,
}

/// Everything a service knows about the request it is serving, besides its input.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Principal,
    pub region: Region,
    pub source_ip: IpAddr,
    pub user_agent: String,
    pub secure_transport: bool,
    pub time: OffsetDateTime,
}
