//! IAM subset (query protocol): users, access keys, inline policies, roles.

use crate::api::{ApiInput, AuditInfo, AuditResource, Call, Outcome, Reply, Service};
use crate::authz::{self, Ask, AuthzError};
use crate::identity::{
    self, IdentityError, KeyOwner, KeyRecord, PolicyRecord, RoleRecord, UserRecord,
};
use crate::services::{iso8601, validate_iam_name, validate_len};
use coffer_policy::PolicyKind;
use coffer_storage::Txn;
use coffer_types::PrincipalKind;
use coffer_wire::query::QueryRequest;
use coffer_wire::wiped::WipedBytes;
use coffer_wire::{Protocol, XmlWriter, query_response};
use serde_json::{Value, json};

pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// AWS's aggregate inline-policy limits, in characters excluding white space.
const USER_POLICY_LIMIT: usize = 2048;
const ROLE_POLICY_LIMIT: usize = 10_240;

pub struct Iam;

/// IAM operations, parsed from `Action` before any work.
pub enum Operation {
    CreateUser {
        name: String,
        path: String,
    },
    GetUser {
        name: Option<String>,
    },
    DeleteUser {
        name: String,
    },
    CreateAccessKey {
        user: Option<String>,
    },
    DeleteAccessKey {
        user: Option<String>,
        key: String,
    },
    ListAccessKeys {
        user: Option<String>,
    },
    PutUserPolicy {
        user: String,
        policy: PolicyRecord,
    },
    GetUserPolicy {
        user: String,
        policy: String,
    },
    DeleteUserPolicy {
        user: String,
        policy: String,
    },
    CreateRole {
        name: String,
        path: String,
        trust: String,
        description: Option<String>,
        max_session: u32,
    },
    GetRole {
        name: String,
    },
    PutRolePolicy {
        role: String,
        policy: PolicyRecord,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("Could not find operation {0} for version 2010-05-08")]
    InvalidAction(String),
    #[error("internal error")]
    Internal(IdentityError),
}

impl From<IdentityError> for IamError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::NotFound { .. } => IamError::NoSuchEntity(e.to_string()),
            IdentityError::AlreadyExists { .. } => IamError::EntityAlreadyExists(e.to_string()),
            IdentityError::TooManyKeys => IamError::LimitExceeded(e.to_string()),
            IdentityError::DeleteConflict { .. } => IamError::DeleteConflict(e.to_string()),
            other => IamError::Internal(other),
        }
    }
}

impl From<AuthzError> for IamError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::Denied(d) => IamError::AccessDenied(d.message),
            AuthzError::Identity(i) => IamError::Internal(i),
        }
    }
}

impl From<coffer_storage::StorageError> for IamError {
    fn from(e: coffer_storage::StorageError) -> Self {
        IamError::Internal(e.into())
    }
}

impl Service for Iam {
    fn signing_name(&self) -> &'static str {
        "iam"
    }
    fn event_source(&self) -> &'static str {
        "iam.amazonaws.com"
    }
    fn protocol(&self) -> Protocol {
        Protocol::Query
    }
    fn xml_namespace(&self) -> &'static str {
        XMLNS
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        let ApiInput::Query(q) = input else {
            return crate::api::errors::protocol_mismatch("iam");
        };
        let mut audit = AuditInfo {
            event_name: q.action.clone(),
            ..Default::default()
        };
        let result = parse(q).and_then(|op| {
            audit.read_only = matches!(
                op,
                Operation::GetUser { .. }
                    | Operation::ListAccessKeys { .. }
                    | Operation::GetUserPolicy { .. }
                    | Operation::GetRole { .. }
            );
            audit.request_parameters = Some(audit_params(q));
            coffer_storage::write(call.state.store.as_ref(), |t| run(call, t, &op, &mut audit))
        });
        Outcome {
            result: result.map_err(|e| crate::api::errors::iam(&e)),
            audit,
        }
    }
}

/// The request parameters for CloudTrail: IAM inputs carry no secrets, so all are kept
/// under their camel-cased names.
fn audit_params(q: &QueryRequest) -> Value {
    let map = q
        .params()
        .iter()
        .filter(|(k, _)| k.as_str() != "Action" && k.as_str() != "Version")
        .map(|(k, v)| (lower_first(k), json!(v)))
        .collect::<serde_json::Map<_, _>>();
    Value::Object(map)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn req(q: &QueryRequest, name: &str) -> Result<String, IamError> {
    q.get(name).map(str::to_owned).ok_or_else(|| {
        IamError::Validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        ))
    })
}

fn name(q: &QueryRequest, param: &str, max: usize) -> Result<String, IamError> {
    let v = req(q, param)?;
    validate_iam_name(&lower_first(param), &v, max).map_err(IamError::Validation)?;
    Ok(v)
}

fn opt_name(q: &QueryRequest, param: &str) -> Result<Option<String>, IamError> {
    match q.get(param) {
        None => Ok(None),
        Some(_) => name(q, param, 64).map(Some),
    }
}

fn path(q: &QueryRequest) -> Result<String, IamError> {
    let p = q.get("Path").unwrap_or("/").to_owned();
    let ok = p.len() <= 512
        && p.starts_with('/')
        && p.ends_with('/')
        && p.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(p)
    } else {
        Err(IamError::Validation(format!(
            "1 validation error detected: Value '{p}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}

fn policy(q: &QueryRequest, doc_param: &str, kind: PolicyKind) -> Result<PolicyRecord, IamError> {
    let pname = name(q, "PolicyName", 128)?;
    let document = req(q, doc_param)?;
    validate_len(&lower_first(doc_param), &document, 1, 131_072).map_err(IamError::Validation)?;
    coffer_policy::parse_with(&document, kind)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    Ok(PolicyRecord {
        name: pname,
        document,
    })
}

fn parse(q: &QueryRequest) -> Result<Operation, IamError> {
    Ok(match q.action.as_str() {
        "CreateUser" => Operation::CreateUser {
            name: name(q, "UserName", 64)?,
            path: path(q)?,
        },
        "GetUser" => Operation::GetUser {
            name: opt_name(q, "UserName")?,
        },
        "DeleteUser" => Operation::DeleteUser {
            name: name(q, "UserName", 64)?,
        },
        "CreateAccessKey" => Operation::CreateAccessKey {
            user: opt_name(q, "UserName")?,
        },
        "DeleteAccessKey" => Operation::DeleteAccessKey {
            user: opt_name(q, "UserName")?,
            key: req(q, "AccessKeyId")?,
        },
        "ListAccessKeys" => Operation::ListAccessKeys {
            user: opt_name(q, "UserName")?,
        },
        "PutUserPolicy" => Operation::PutUserPolicy {
            user: name(q, "UserName", 64)?,
            policy: policy(q, "PolicyDocument", PolicyKind::Identity)?,
        },
        "GetUserPolicy" => Operation::GetUserPolicy {
            user: name(q, "UserName", 64)?,
            policy: name(q, "PolicyName", 128)?,
        },
        "DeleteUserPolicy" => Operation::DeleteUserPolicy {
            user: name(q, "UserName", 64)?,
            policy: name(q, "PolicyName", 128)?,
        },
        "CreateRole" => parse_create_role(q)?,
        "GetRole" => Operation::GetRole {
            name: name(q, "RoleName", 64)?,
        },
        "PutRolePolicy" => Operation::PutRolePolicy {
            role: name(q, "RoleName", 64)?,
            policy: policy(q, "PolicyDocument", PolicyKind::Identity)?,
        },
        other => return Err(IamError::InvalidAction(other.to_owned())),
    })
}

fn parse_create_role(q: &QueryRequest) -> Result<Operation, IamError> {
    let name = name(q, "RoleName", 64)?;
    let trust = req(q, "AssumeRolePolicyDocument")?;
    validate_len("assumeRolePolicyDocument", &trust, 1, 131_072).map_err(IamError::Validation)?;
    coffer_policy::parse_with(&trust, PolicyKind::Trust)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    let max_session = match q.get("MaxSessionDuration") {
        None => 3600,
        Some(s) => s.parse::<u32>().ok().filter(|n| (3600..=43_200).contains(n)).ok_or_else(|| {
            IamError::Validation(format!(
                "1 validation error detected: Value '{s}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"
            ))
        })?,
    };
    let description = q.get("Description").map(str::to_owned);
    Ok(Operation::CreateRole {
        name,
        path: path(q)?,
        trust,
        description,
        max_session,
    })
}

/// IAM actions and the resource ARN they apply to.
fn action_and_resource(call: &Call<'_>, op: &Operation) -> (&'static str, String) {
    let acct = call.ctx.principal.account;
    let user = |n: &str| format!("arn:aws:iam::{acct}:user/{n}");
    let role = |n: &str| format!("arn:aws:iam::{acct}:role/{n}");
    let me = || call.ctx.principal.user_name.clone().unwrap_or_default();
    match op {
        Operation::CreateUser { name, .. } => ("iam:CreateUser", user(name)),
        Operation::GetUser { name } => ("iam:GetUser", user(&name.clone().unwrap_or_else(me))),
        Operation::DeleteUser { name } => ("iam:DeleteUser", user(name)),
        Operation::CreateAccessKey { user: u } => {
            ("iam:CreateAccessKey", user(&u.clone().unwrap_or_else(me)))
        }
        Operation::DeleteAccessKey { user: u, .. } => {
            ("iam:DeleteAccessKey", user(&u.clone().unwrap_or_else(me)))
        }
        Operation::ListAccessKeys { user: u } => {
            ("iam:ListAccessKeys", user(&u.clone().unwrap_or_else(me)))
        }
        Operation::PutUserPolicy { user: u, .. } => ("iam:PutUserPolicy", user(u)),
        Operation::GetUserPolicy { user: u, .. } => ("iam:GetUserPolicy", user(u)),
        Operation::DeleteUserPolicy { user: u, .. } => ("iam:DeleteUserPolicy", user(u)),
        Operation::CreateRole { name, .. } => ("iam:CreateRole", role(name)),
        Operation::GetRole { name } => ("iam:GetRole", role(name)),
        Operation::PutRolePolicy { role: r, .. } => ("iam:PutRolePolicy", role(r)),
    }
}

fn run(
    call: &Call<'_>,
    t: &mut dyn Txn,
    op: &Operation,
    audit: &mut AuditInfo,
) -> Result<Reply, IamError> {
    let (action, resource) = action_and_resource(call, op);
    authz::check(call, t, &Ask::new(action, &resource), None)?;
    let acct = call.ctx.principal.account;
    let now = call.ctx.time;
    let rid = call.ctx.request_id.as_str();
    let action_name = action.trim_start_matches("iam:");
    let empty = || Reply::Xml(query_response(action_name, XMLNS, rid, |_| {}));
    Ok(match op {
        Operation::CreateUser { name, path } => {
            let u = identity::create_user(t, acct, name, path, now)?;
            audit.resources.push(user_resource(&u));
            audit.response_elements = Some(
                json!({"user": {"userName": u.name, "userId": u.user_id, "arn": u.arn(), "path": u.path, "createDate": iso8601(u.created)}}),
            );
            xml(action_name, rid, |w| write_user(w, &u))
        }
        Operation::GetUser { name } => {
            let n = target_user(call, name.as_deref())?;
            let u = identity::get_user(t, acct, &n)?;
            xml(action_name, rid, |w| write_user(w, &u))
        }
        Operation::DeleteUser { name } => {
            identity::delete_user(t, acct, name)?;
            empty()
        }
        Operation::CreateAccessKey { user } => create_access_key(call, t, user.as_deref(), audit)?,
        Operation::DeleteAccessKey { user, key } => {
            delete_access_key(call, t, user.as_deref(), key)?;
            empty()
        }
        Operation::ListAccessKeys { user } => list_access_keys(call, t, user.as_deref())?,
        Operation::PutUserPolicy { user, policy } => {
            check_aggregate(t, acct, user, policy, USER_POLICY_LIMIT, true)?;
            identity::put_user_policy(t, acct, user, policy)?;
            empty()
        }
        Operation::GetUserPolicy { user, policy } => {
            let p = identity::get_user_policy(t, acct, user, policy)?;
            xml(action_name, rid, |w| {
                w.leaf("UserName", user);
                w.leaf("PolicyName", &p.name);
                w.leaf("PolicyDocument", &url_encode(&p.document));
            })
        }
        Operation::DeleteUserPolicy { user, policy } => {
            identity::delete_user_policy(t, acct, user, policy)?;
            empty()
        }
        Operation::CreateRole {
            name,
            path,
            trust,
            description,
            max_session,
        } => {
            let rec = RoleRecord {
                account: acct,
                name: name.clone(),
                path: path.clone(),
                role_id: identity::random_id("AROA", 17),
                trust_policy: trust.clone(),
                description: description.clone(),
                max_session_duration: *max_session,
                created: now,
            };
            let r = identity::create_role(t, rec)?;
            audit.resources.push(AuditResource {
                arn: r.arn(),
                account: acct,
                kind: "AWS::IAM::Role",
            });
            xml(action_name, rid, |w| write_role(w, &r))
        }
        Operation::GetRole { name } => {
            let r = identity::get_role(t, acct, name)?;
            xml(action_name, rid, |w| write_role(w, &r))
        }
        Operation::PutRolePolicy { role, policy } => {
            check_aggregate(t, acct, role, policy, ROLE_POLICY_LIMIT, false)?;
            identity::put_role_policy(t, acct, role, policy)?;
            empty()
        }
    })
}

fn xml(action: &str, rid: &str, f: impl FnOnce(&mut XmlWriter)) -> Reply {
    Reply::Xml(query_response(action, XMLNS, rid, f))
}

fn user_resource(u: &UserRecord) -> AuditResource {
    AuditResource {
        arn: u.arn(),
        account: u.account,
        kind: "AWS::IAM::User",
    }
}

/// Without `UserName`, key operations act on the caller: its own user, or (for root) the
/// account's root keys.
fn target_user(call: &Call<'_>, given: Option<&str>) -> Result<String, IamError> {
    match (given, &call.ctx.principal.user_name) {
        (Some(n), _) => Ok(n.to_owned()),
        (None, Some(me)) => Ok(me.clone()),
        (None, None) => Err(IamError::Validation(
            "Must specify userName when calling with non-User credentials".into(),
        )),
    }
}

fn create_access_key(
    call: &Call<'_>,
    t: &mut dyn Txn,
    user: Option<&str>,
    audit: &mut AuditInfo,
) -> Result<Reply, IamError> {
    let acct = call.ctx.principal.account;
    let root_self = user.is_none() && call.ctx.principal.kind == PrincipalKind::Root;
    let (owner, user_name) = if root_self {
        (KeyOwner::Root, None)
    } else {
        let n = target_user(call, user)?;
        let u = identity::get_user(t, acct, &n)?;
        (
            KeyOwner::User {
                name: u.name.clone(),
                user_id: u.user_id.clone(),
                path: u.path.clone(),
            },
            Some(u.name),
        )
    };
    let key = identity::create_key(t, &call.state.barrier, acct, owner, call.ctx.time)?;
    // The secret is returned once and never recorded.
    audit.response_elements = Some(
        json!({"accessKey": {"userName": user_name, "accessKeyId": key.access_key_id, "status": "Active", "createDate": iso8601(key.created)}}),
    );
    let body = query_response("CreateAccessKey", XMLNS, &call.ctx.request_id, |w| {
        w.start("AccessKey");
        if let Some(u) = &user_name {
            w.leaf("UserName", u);
        }
        w.leaf("AccessKeyId", &key.access_key_id);
        w.leaf("Status", "Active");
        w.leaf("SecretAccessKey", &key.secret);
        w.leaf("CreateDate", &iso8601(key.created));
        w.end("AccessKey");
    });
    Ok(Reply::SecretXml(WipedBytes::new(body)))
}

fn delete_access_key(
    call: &Call<'_>,
    t: &mut dyn Txn,
    user: Option<&str>,
    akid: &str,
) -> Result<(), IamError> {
    let acct = call.ctx.principal.account;
    let not_found =
        || IamError::NoSuchEntity(format!("The Access Key with id {akid} cannot be found."));
    let rec = identity::get_key(t, akid)?
        .filter(|r| r.account == acct)
        .ok_or_else(not_found)?;
    match (&rec.owner, user) {
        (KeyOwner::User { name, .. }, _) => {
            let n = target_user(call, user)?;
            if !name.eq_ignore_ascii_case(&n) {
                return Err(not_found());
            }
            identity::delete_user_key(t, acct, name, akid)?;
        }
        (KeyOwner::Root, None) if call.ctx.principal.kind == PrincipalKind::Root => {
            identity::delete_key(t, akid)?;
        }
        _ => return Err(not_found()),
    }
    Ok(())
}

fn list_access_keys(
    call: &Call<'_>,
    t: &mut dyn Txn,
    user: Option<&str>,
) -> Result<Reply, IamError> {
    let n = target_user(call, user)?;
    let acct = call.ctx.principal.account;
    let u = identity::get_user(t, acct, &n)?;
    let keys: Vec<(String, KeyRecord)> = identity::list_user_keys(t, acct, &u.name)?;
    Ok(xml("ListAccessKeys", &call.ctx.request_id, |w| {
        w.leaf("UserName", &u.name);
        w.start("AccessKeyMetadata");
        for (akid, rec) in &keys {
            w.start("member");
            w.leaf("UserName", &u.name);
            w.leaf("AccessKeyId", akid);
            w.leaf("Status", if rec.active { "Active" } else { "Inactive" });
            w.leaf("CreateDate", &iso8601(rec.created));
            w.end("member");
        }
        w.end("AccessKeyMetadata");
        w.leaf("IsTruncated", "false");
    }))
}

/// AWS limits the total size of a principal's inline policies (white space excluded).
fn check_aggregate(
    t: &mut dyn Txn,
    acct: coffer_types::AccountId,
    who: &str,
    new: &PolicyRecord,
    limit: usize,
    user: bool,
) -> Result<(), IamError> {
    let existing = if user {
        identity::get_user(t, acct, who)?;
        identity::user_policies(t, acct, who)?
    } else {
        identity::get_role(t, acct, who)?;
        identity::role_policies(t, acct, who)?
    };
    let size = |d: &str| d.chars().filter(|c| !c.is_whitespace()).count();
    let total: usize = existing
        .iter()
        .filter(|p| p.name != new.name)
        .map(|p| size(&p.document))
        .sum::<usize>()
        + size(&new.document);
    if total > limit {
        let kind = if user { "user" } else { "role" };
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {limit} bytes exceeded for {kind} {who}"
        )));
    }
    Ok(())
}

fn write_user(w: &mut XmlWriter, u: &UserRecord) {
    w.start("User");
    w.leaf("Path", &u.path);
    w.leaf("UserName", &u.name);
    w.leaf("UserId", &u.user_id);
    w.leaf("Arn", &u.arn());
    w.leaf("CreateDate", &iso8601(u.created));
    w.end("User");
}

fn write_role(w: &mut XmlWriter, r: &RoleRecord) {
    w.start("Role");
    w.leaf("Path", &r.path);
    w.leaf("RoleName", &r.name);
    w.leaf("RoleId", &r.role_id);
    w.leaf("Arn", &r.arn());
    w.leaf("CreateDate", &iso8601(r.created));
    w.leaf("AssumeRolePolicyDocument", &url_encode(&r.trust_policy));
    if let Some(d) = &r.description {
        w.leaf("Description", d);
    }
    w.leaf("MaxSessionDuration", &r.max_session_duration.to_string());
    w.end("Role");
}

/// IAM returns policy documents URL-encoded (RFC 3986), as the real service does.
fn url_encode(s: &str) -> String {
    coffer_wire::sigv4::uri_encode(s)
}
