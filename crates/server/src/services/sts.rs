//! STS (query protocol): `GetCallerIdentity` and `AssumeRole`.

use crate::api::{ApiInput, AuditInfo, AuditResource, Call, Outcome, Reply, Service, audit_object};
use crate::authz::{self, Ask, AuthzError, ResourcePolicy};
use crate::identity::{self, IdentityError, KeyOwner, RoleRecord, SessionRecord};
use crate::services::{iso8601, validate_iam_name, validate_len};
use base64::Engine;
use coffer_policy::{PolicyKind, ResourcePolicyMode};
use coffer_storage::Txn;
use coffer_types::{AccountId, Arn, PrincipalKind};
use coffer_wire::query::QueryRequest;
use coffer_wire::wiped::WipedBytes;
use coffer_wire::{Protocol, XmlWriter, query_response};
use serde_json::json;
use time::Duration;
use zeroize::Zeroizing;

pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub struct Sts;

/// STS operations, parsed from `Action` before any work.
pub enum Operation {
    GetCallerIdentity,
    AssumeRole(AssumeRoleInput),
}

pub struct AssumeRoleInput {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: Option<i64>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("Could not find operation {0} for version 2011-06-15")]
    InvalidAction(String),
    #[error("internal error")]
    Internal(#[from] IdentityError),
}

impl From<AuthzError> for StsError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::Denied(d) => StsError::AccessDenied(d.message),
            AuthzError::Identity(i) => StsError::Internal(i),
        }
    }
}

impl From<coffer_storage::StorageError> for StsError {
    fn from(e: coffer_storage::StorageError) -> Self {
        StsError::Internal(e.into())
    }
}

impl Service for Sts {
    fn signing_name(&self) -> &'static str {
        "sts"
    }
    fn event_source(&self) -> &'static str {
        "sts.amazonaws.com"
    }
    fn protocol(&self) -> Protocol {
        Protocol::Query
    }
    fn xml_namespace(&self) -> &'static str {
        XMLNS
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        let ApiInput::Query(q) = input else {
            return crate::api::errors::protocol_mismatch("sts");
        };
        let mut audit = AuditInfo {
            event_name: q.action.clone(),
            ..Default::default()
        };
        let result = parse(q).and_then(|op| run(call, op, &mut audit));
        Outcome {
            result: result.map_err(|e| crate::api::errors::sts(&e)),
            audit,
        }
    }
}

fn parse(q: &QueryRequest) -> Result<Operation, StsError> {
    match q.action.as_str() {
        "GetCallerIdentity" => Ok(Operation::GetCallerIdentity),
        "AssumeRole" => parse_assume_role(q).map(Operation::AssumeRole),
        other => Err(StsError::InvalidAction(other.to_owned())),
    }
}

fn required(q: &QueryRequest, name: &str, field: &str) -> Result<String, StsError> {
    q.get(name).map(str::to_owned).ok_or_else(|| {
        StsError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn parse_assume_role(q: &QueryRequest) -> Result<AssumeRoleInput, StsError> {
    let role_arn = required(q, "RoleArn", "roleArn")?;
    let session_name = required(q, "RoleSessionName", "roleSessionName")?;
    validate_len("roleArn", &role_arn, 20, 2048).map_err(StsError::Validation)?;
    validate_len("roleSessionName", &session_name, 2, 64).map_err(StsError::Validation)?;
    validate_iam_name("roleSessionName", &session_name, 64).map_err(StsError::Validation)?;
    let duration_seconds = match q.get("DurationSeconds") {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            StsError::Validation(format!(
                "Value '{s}' for parameter DurationSeconds is invalid."
            ))
        })?),
    };
    // The model's range is checked before authorization, as AWS does; the role's own
    // maximum is checked once the role is known.
    if let Some(d) = duration_seconds.filter(|d| !(900..=43_200).contains(d)) {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
        )));
    }
    let policy = q.get("Policy").map(str::to_owned);
    let external_id = q.get("ExternalId").map(str::to_owned);
    if let Some(e) = &external_id {
        validate_len("externalId", e, 2, 1224).map_err(StsError::Validation)?;
    }
    Ok(AssumeRoleInput {
        role_arn,
        session_name,
        duration_seconds,
        policy,
        external_id,
    })
}

fn run(call: &Call<'_>, op: Operation, audit: &mut AuditInfo) -> Result<Reply, StsError> {
    match op {
        Operation::GetCallerIdentity => {
            audit.read_only = true;
            Ok(get_caller_identity(call))
        }
        Operation::AssumeRole(input) => assume_role(call, input, audit),
    }
}

/// Always allowed, like AWS: even an explicit deny cannot stop a caller learning who it is.
fn get_caller_identity(call: &Call<'_>) -> Reply {
    let p = &call.ctx.principal;
    Reply::Xml(query_response(
        "GetCallerIdentity",
        XMLNS,
        &call.ctx.request_id,
        |w: &mut XmlWriter| {
            w.leaf("UserId", &p.user_id);
            w.leaf("Account", p.account.as_str());
            w.leaf("Arn", &p.arn);
        },
    ))
}

/// Parses `arn:aws:iam::<acct>:role/<path/>name` into the account and role name.
fn role_target(arn: &str) -> Option<(AccountId, String)> {
    let a: Arn = arn.parse().ok()?;
    if a.service != "iam" || !a.region.is_empty() {
        return None;
    }
    let account: AccountId = a.account.parse().ok()?;
    let rest = a.resource.strip_prefix("role/")?;
    let name = rest.rsplit('/').next()?.to_owned();
    (!name.is_empty()).then_some((account, name))
}

fn assume_role(
    call: &Call<'_>,
    input: AssumeRoleInput,
    audit: &mut AuditInfo,
) -> Result<Reply, StsError> {
    audit.request_parameters = Some(audit_object([
        ("roleArn", Some(json!(input.role_arn))),
        ("roleSessionName", Some(json!(input.session_name))),
        ("durationSeconds", input.duration_seconds.map(|d| json!(d))),
        ("externalId", input.external_id.as_ref().map(|e| json!(e))),
    ]));
    let not_authorized = || {
        StsError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            call.ctx.principal.arn, input.role_arn
        ))
    };
    // AWS: "Roles may not be assumed by root accounts."
    if call.ctx.principal.kind == PrincipalKind::Root {
        return Err(StsError::AccessDenied(
            "Roles may not be assumed by root accounts.".into(),
        ));
    }
    let (role_account, role_name) = role_target(&input.role_arn).ok_or_else(not_authorized)?;
    if let Some(p) = &input.policy {
        validate_len("policy", p, 1, 2048).map_err(StsError::Validation)?;
        coffer_policy::parse_with(p, PolicyKind::Identity)
            .map_err(|e| StsError::MalformedPolicyDocument(e.to_string()))?;
    }
    let state = call.state;
    let now = call.ctx.time;
    coffer_storage::write(state.store.as_ref(), |t| {
        // A missing role looks exactly like a refused one, so roles cannot be probed.
        let role = identity::get_role(t, role_account, &role_name).map_err(|_| not_authorized())?;
        authorize_assume(call, t, &role, &input).map_err(|e| match e {
            StsError::AccessDenied(_) => not_authorized(),
            other => other,
        })?;
        let duration = session_duration(call, &role, input.duration_seconds)?;
        issue_session(call, t, &role, &input, now + duration, audit)
    })
}

fn authorize_assume(
    call: &Call<'_>,
    t: &mut dyn Txn,
    role: &RoleRecord,
    input: &AssumeRoleInput,
) -> Result<(), StsError> {
    let trust = coffer_policy::parse_with(&role.trust_policy, PolicyKind::Trust)
        .map_err(|e| StsError::MalformedPolicyDocument(e.to_string()))?;
    let mut extra = vec![(
        "sts:RoleSessionName".to_owned(),
        vec![input.session_name.clone()],
    )];
    if let Some(e) = &input.external_id {
        extra.push(("sts:ExternalId".to_owned(), vec![e.clone()]));
    }
    let role_arn = role.arn();
    let ask = Ask {
        action: "sts:AssumeRole",
        resource: &role_arn,
        extra: &|_| extra.clone(),
    };
    // The trust policy is the gate: without it naming the caller (or its account), no
    // identity policy can let anyone in.
    let rp = ResourcePolicy {
        document: &trust,
        owner: role.account,
        mode: ResourcePolicyMode::Required,
    };
    authz::check(call, t, &ask, Some(rp))?;
    Ok(())
}

/// 900 s to the role's maximum; one hour at most when a role session assumes a role.
fn session_duration(
    call: &Call<'_>,
    role: &RoleRecord,
    asked: Option<i64>,
) -> Result<Duration, StsError> {
    let chained = call.ctx.principal.kind == PrincipalKind::AssumedRole;
    let max = if chained {
        3600
    } else {
        i64::from(role.max_session_duration)
    };
    let secs = asked.unwrap_or(3600);
    if secs < 900 {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value '{secs}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )));
    }
    if secs > max {
        return Err(StsError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    Ok(Duration::seconds(secs))
}

fn issue_session(
    call: &Call<'_>,
    t: &mut dyn Txn,
    role: &RoleRecord,
    input: &AssumeRoleInput,
    expires: time::OffsetDateTime,
    audit: &mut AuditInfo,
) -> Result<Reply, StsError> {
    let raw_token = Zeroizing::new(coffer_crypto::random_bytes(96));
    let token = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*raw_token));
    let session = SessionRecord {
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        role_id: role.role_id.clone(),
        session_name: input.session_name.clone(),
        expires,
        token_sha256: coffer_crypto::sha256_hex(token.as_bytes()),
        session_policy: input.policy.clone(),
    };
    let key = identity::create_key(
        t,
        &call.state.barrier,
        role.account,
        KeyOwner::Session(session),
        call.ctx.time,
    )?;
    let assumed_arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{}",
        role.account, role.name, input.session_name
    );
    let assumed_id = format!("{}:{}", role.role_id, input.session_name);
    let expiration = iso8601(expires);
    audit.resources.push(AuditResource {
        arn: role.arn(),
        account: role.account,
        kind: "AWS::IAM::Role",
    });
    audit.response_elements = Some(json!({
        "credentials": { "accessKeyId": key.access_key_id, "expiration": expiration },
        "assumedRoleUser": { "assumedRoleId": assumed_id, "arn": assumed_arn },
    }));
    Ok(Reply::SecretXml(WipedBytes::new(query_response(
        "AssumeRole",
        XMLNS,
        &call.ctx.request_id,
        |w: &mut XmlWriter| {
            w.start("Credentials");
            w.leaf("AccessKeyId", &key.access_key_id);
            w.leaf("SecretAccessKey", &key.secret);
            w.leaf("SessionToken", &token);
            w.leaf("Expiration", &expiration);
            w.end("Credentials");
            w.start("AssumedRoleUser");
            w.leaf("AssumedRoleId", &assumed_id);
            w.leaf("Arn", &assumed_arn);
            w.end("AssumedRoleUser");
            w.leaf("PackedPolicySize", "0");
        },
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let (a, n) = role_target("arn:aws:iam::123456789012:role/path/to/Admin").unwrap();
        assert_eq!(a.as_str(), "123456789012");
        assert_eq!(n, "Admin");
        assert!(role_target("arn:aws:iam::123456789012:user/Admin").is_none());
        assert!(role_target("arn:aws:iam::12345:role/x").is_none());
    }
}
