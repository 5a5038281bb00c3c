//! Parameter policies (advanced parameters only): `Expiration` deletes the parameter at
//! its timestamp, `ExpirationNotification` announces that some days or hours before, and
//! `NoChangeNotification` announces a parameter left unchanged for a period. A scheduler
//! job evaluates them by the injected clock and publishes "Parameter Store Policy Action"
//! events.

use super::SsmError;
use super::store::{self, ParamRecord, StoredPolicy};
use crate::State;
use crate::scheduler::Job;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MAX_POLICIES: usize = 10;
pub const EXPIRATION: &str = "Expiration";
pub const EXPIRATION_NOTIFICATION: &str = "ExpirationNotification";
pub const NO_CHANGE_NOTIFICATION: &str = "NoChangeNotification";
const PENDING: &str = "Pending";
const FINISHED: &str = "Finished";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicy {
    #[serde(rename = "Type")]
    kind: Option<String>,
    version: Option<String>,
    #[serde(default)]
    attributes: serde_json::Map<String, Value>,
}

fn attribute_error(msg: &str) -> SsmError {
    SsmError::InvalidPolicyAttribute(msg.to_owned())
}

/// Validates the `Policies` JSON of PutParameter and computes when each policy acts.
pub fn parse(text: &str, now: OffsetDateTime) -> Result<Vec<StoredPolicy>, SsmError> {
    let raws: Vec<Value> = serde_json::from_str(text).map_err(|_| {
        SsmError::InvalidPolicyType(
            "The policy document is not valid JSON. It must be a JSON array of policies.".into(),
        )
    })?;
    if raws.len() > MAX_POLICIES {
        return Err(SsmError::PoliciesLimitExceeded(
            "You specified more than the maximum number of allowed policies for the parameter. The maximum is 10.".into(),
        ));
    }
    let mut out: Vec<StoredPolicy> = Vec::with_capacity(raws.len());
    for v in raws {
        let policy_text = v.to_string();
        let raw: RawPolicy = serde_json::from_value(v).map_err(|_| {
            attribute_error("A policy must be a JSON object with Type, Version and Attributes.")
        })?;
        let p = one(raw, policy_text, now)?;
        if out.iter().any(|o| o.kind == p.kind) {
            return Err(SsmError::IncompatiblePolicy(
                "There is a conflict in the policies specified for this parameter. You can't, for example, specify two Expiration policies for a parameter. Review your policies, and try again.".into(),
            ));
        }
        out.push(p);
    }
    resolve_notification(&mut out)?;
    Ok(out)
}

fn one(raw: RawPolicy, text: String, now: OffsetDateTime) -> Result<StoredPolicy, SsmError> {
    let kind = raw.kind.unwrap_or_default();
    if raw.version.as_deref().is_some_and(|v| v != "1.0") {
        return Err(attribute_error(
            "The policy version is not valid. The supported version is 1.0.",
        ));
    }
    let mut p = StoredPolicy {
        text,
        kind: kind.clone(),
        status: PENDING.into(),
        due: None,
        after_seconds: None,
    };
    match kind.as_str() {
        EXPIRATION => {
            let ts = raw
                .attributes
                .get("Timestamp")
                .and_then(Value::as_str)
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                .ok_or_else(|| attribute_error("Expiration policy requires a Timestamp attribute in ISO 8601 format, for example 2030-12-02T21:34:33.000Z."))?;
            if ts <= now {
                return Err(attribute_error(
                    "The Expiration policy Timestamp must be in the future.",
                ));
            }
            p.due = Some(ts);
        }
        EXPIRATION_NOTIFICATION => {
            // Resolved against the Expiration policy once all are read.
            p.after_seconds = Some(-interval(&raw.attributes, "Before")?);
        }
        NO_CHANGE_NOTIFICATION => {
            let secs = interval(&raw.attributes, "After")?;
            p.after_seconds = Some(secs);
            p.due = Some(now + time::Duration::seconds(secs));
        }
        _ => {
            return Err(SsmError::InvalidPolicyType(
                "The policy type is not supported. Parameter Store supports the following policy types: Expiration, ExpirationNotification, and NoChangeNotification.".into(),
            ));
        }
    }
    Ok(p)
}

/// `{"Before"|"After": "N", "Unit": "Days"|"Hours"}` as seconds.
fn interval(attrs: &serde_json::Map<String, Value>, field: &str) -> Result<i64, SsmError> {
    let n = attrs
        .get(field)
        .and_then(|v| match v {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        })
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            attribute_error(&format!(
                "The {field} attribute must be a positive whole number."
            ))
        })?;
    let unit = match attrs.get("Unit").and_then(Value::as_str) {
        Some("Days") => 86_400,
        Some("Hours") => 3_600,
        _ => return Err(attribute_error("The Unit attribute must be Days or Hours.")),
    };
    Ok(n * unit)
}

/// An ExpirationNotification acts a period before the Expiration, which it needs.
fn resolve_notification(policies: &mut [StoredPolicy]) -> Result<(), SsmError> {
    let expiry = policies
        .iter()
        .find(|p| p.kind == EXPIRATION)
        .and_then(|p| p.due);
    for p in policies
        .iter_mut()
        .filter(|p| p.kind == EXPIRATION_NOTIFICATION)
    {
        let Some(at) = expiry else {
            return Err(SsmError::IncompatiblePolicy(
                "An ExpirationNotification policy requires an Expiration policy on the same parameter.".into(),
            ));
        };
        p.due = Some(at + time::Duration::seconds(p.after_seconds.unwrap_or(0)));
    }
    Ok(())
}

/// The policies kept when a parameter is updated without new ones: statuses start over and
/// the no-change period counts from this change.
pub fn carry_over(old: &[StoredPolicy], now: OffsetDateTime) -> Vec<StoredPolicy> {
    old.iter()
        .map(|p| {
            let mut p = p.clone();
            if p.kind == NO_CHANGE_NOTIFICATION {
                p.status = PENDING.into();
                p.due = p.after_seconds.map(|s| now + time::Duration::seconds(s));
            }
            p
        })
        .collect()
}

/// The `Policies` member of DescribeParameters and GetParameterHistory.
pub fn json(policies: &[StoredPolicy]) -> Value {
    Value::Array(
        policies
            .iter()
            .map(|p| json!({"PolicyText": p.text, "PolicyType": p.kind, "PolicyStatus": p.status}))
            .collect(),
    )
}

pub fn jobs() -> Vec<Job> {
    vec![Job {
        name: "ssm-parameter-policies",
        every: std::time::Duration::from_secs(60),
        run: Arc::new(|s: &Arc<State>| run(s).map(|_| ()).map_err(|e| e.to_string())),
    }]
}

/// One action a policy took, reported in the transaction that takes it.
pub struct Action {
    pub param: ParamRecord,
    pub policy: String,
}

/// Acts on every pending policy that is due.
pub fn run(state: &State) -> Result<usize, SsmError> {
    let now = state.clock.now();
    let actions = coffer_storage::write(state.store.as_ref(), |t| {
        let actions = due_actions(t, now)?;
        for a in &actions {
            super::events::policy_action(t, state, &a.param, &a.policy)?;
            if a.policy == EXPIRATION {
                super::events::parameter_deleted(t, state, &a.param)?;
            }
        }
        Ok::<_, SsmError>(actions)
    })?;
    if !actions.is_empty() {
        crate::events::wake(state);
    }
    Ok(actions.len())
}

fn due_actions(
    t: &mut dyn coffer_storage::Txn,
    now: OffsetDateTime,
) -> Result<Vec<Action>, SsmError> {
    let mut actions = Vec::new();
    for key in store::due_params(t, now.unix_timestamp())? {
        let Some(old) = store::get::<ParamRecord>(t, store::PARAMS, &key)? else {
            continue;
        };
        let mut p = old.clone();
        let mut acted = Vec::new();
        for pol in p.policies.iter_mut() {
            if pol.status == PENDING && pol.due.is_some_and(|d| d <= now) {
                pol.status = FINISHED.into();
                acted.push(pol.kind.clone());
            }
        }
        if acted.iter().any(|k| k == EXPIRATION) {
            store::remove(t, &old)?;
        } else {
            store::reindex(t, Some(&old), Some(&p))?;
            store::put(t, store::PARAMS, &key, &p)?;
        }
        actions.extend(acted.into_iter().map(|policy| Action {
            param: p.clone(),
            policy,
        }));
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record(policies: Vec<StoredPolicy>) -> ParamRecord {
        ParamRecord {
            id: "id-1".into(),
            name: "/p".into(),
            region: "us-east-1".into(),
            account: "111122223333".parse().unwrap(),
            version: 1,
            versions: vec![1],
            labels: Default::default(),
            tags: Vec::new(),
            kind: "String".into(),
            key_id: None,
            description: None,
            allowed_pattern: None,
            tier: "Advanced".into(),
            data_type: "text".into(),
            policies,
            modified: datetime!(2026-01-01 0:00 UTC),
            modified_user: "u".into(),
        }
    }

    #[test]
    fn the_job_reads_only_due_policies_and_acts_once() {
        let dir = tempfile::tempdir().unwrap();
        let st = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let text = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2026-01-03T00:00:00Z"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Days"}}]"#;
        let p = record(parse(text, t0).unwrap());
        coffer_storage::write(st.as_ref(), |t| {
            store::recount(
                t,
                &p.region,
                p.account,
                None,
                Some("Advanced"),
                store::QUOTAS,
            )?;
            store::put(t, store::PARAMS, &p.storage_key(), &p)?;
            store::reindex(t, None, Some(&p))
        })
        .unwrap();
        let at = |secs: i64| {
            coffer_storage::write(st.as_ref(), |t| {
                due_actions(t, t0 + time::Duration::seconds(secs))
            })
            .unwrap()
        };
        assert!(at(3600).is_empty());
        let a = at(86_400);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].policy, NO_CHANGE_NOTIFICATION);
        assert!(
            at(86_400 + 60).is_empty(),
            "a finished policy does not act again"
        );
        let a = at(2 * 86_400);
        assert_eq!(a[0].policy, EXPIRATION);
        let (left, due): (Option<ParamRecord>, usize) = coffer_storage::read(st.as_ref(), |t| {
            let left = store::get(t, store::PARAMS, &p.storage_key())?;
            let due = t.scan(store::POLICY_DUE, b"", None, 10)?.len();
            Ok::<_, SsmError>((left, due))
        })
        .unwrap();
        assert!(left.is_none(), "expired parameter deleted");
        assert_eq!(due, 0, "its index rows went with it");
    }

    #[test]
    fn parsing() {
        let now = datetime!(2026-01-01 0:00 UTC);
        let ok = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2026-02-01T00:00:00.000Z"}},
            {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Days"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Hours"}}]"#;
        let p = parse(ok, now).unwrap();
        assert_eq!(p[0].due, Some(datetime!(2026-02-01 0:00 UTC)));
        assert_eq!(p[1].due, Some(datetime!(2026-01-30 0:00 UTC)));
        assert_eq!(p[2].due, Some(datetime!(2026-01-01 3:00 UTC)));
        let bad_type = r#"[{"Type":"Explode","Version":"1.0","Attributes":{}}]"#;
        assert!(matches!(
            parse(bad_type, now),
            Err(SsmError::InvalidPolicyType(_))
        ));
        let past = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2020-01-01T00:00:00Z"}}]"#;
        assert!(matches!(
            parse(past, now),
            Err(SsmError::InvalidPolicyAttribute(_))
        ));
        let unit = r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Weeks"}}]"#;
        assert!(matches!(
            parse(unit, now),
            Err(SsmError::InvalidPolicyAttribute(_))
        ));
        let many = format!(
            "[{}]",
            [r#"{"Type":"NoChangeNotification","Attributes":{"After":"1","Unit":"Days"}}"#; 11]
                .join(",")
        );
        assert!(matches!(
            parse(&many, now),
            Err(SsmError::PoliciesLimitExceeded(_))
        ));
        let lone = r#"[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Days"}}]"#;
        assert!(matches!(
            parse(lone, now),
            Err(SsmError::IncompatiblePolicy(_))
        ));
    }
}
