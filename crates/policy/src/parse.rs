//! JSON text to [`PolicyDocument`], with AWS's validation rules.

use crate::PolicyError as E;
use crate::condition::{Condition, Operator};
use crate::model::{
    Effect, Patterns, PolicyDocument, PolicyKind, PrincipalElement, PrincipalType, Principals,
    Statement, Version,
};
use coffer_types::{AccountId, Arn};
use serde_json::{Map, Value};

type Result<T> = std::result::Result<T, E>;

const TOP_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses and validates the structure common to every kind of policy. `Principal` and
/// `Resource` are neither required nor forbidden; use [`parse_with`] when the kind is known.
pub fn parse(doc: &str) -> Result<PolicyDocument> {
    let value: Value = serde_json::from_str(doc).map_err(|e| E::Syntax(e.to_string()))?;
    let Value::Object(top) = value else {
        return Err(E::Syntax("the policy must be a JSON object".into()));
    };
    check_keys(&top, &TOP_KEYS, "the policy")?;
    let statements: Vec<Statement> = match top.get("Statement") {
        None => return Err(E::MissingField("Statement")),
        Some(Value::Array(items)) => items.iter().map(statement).collect::<Result<_>>()?,
        Some(one @ Value::Object(_)) => vec![statement(one)?],
        Some(_) => return Err(E::Syntax("Statement must be an object or an array".into())),
    };
    if statements.is_empty() {
        return Err(E::NoStatements);
    }
    Ok(PolicyDocument {
        version: version(top.get("Version"))?,
        id: opt_string(&top, "Id")?,
        statements,
    })
}

/// [`parse`] plus the rules of one policy kind: identity policies must not name a
/// principal and need resources; resource policies need both; trust policies need a
/// principal. The document size limit is the caller's job (it differs per service).
pub fn parse_with(doc: &str, kind: PolicyKind) -> Result<PolicyDocument> {
    let policy = parse(doc)?;
    for st in &policy.statements {
        check_kind(st, kind)?;
    }
    Ok(policy)
}

fn check_kind(st: &Statement, kind: PolicyKind) -> Result<()> {
    let has_principal = st.principal.is_some();
    match kind {
        PolicyKind::Identity if has_principal => Err(E::PrincipalNotAllowed),
        PolicyKind::Resource | PolicyKind::Trust if !has_principal => {
            Err(E::MissingField("Principal"))
        }
        PolicyKind::Identity | PolicyKind::Resource if st.resource.is_none() => Err(E::NoResources),
        _ => Ok(()),
    }
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(E::Syntax(format!("unknown field {k:?} in {what}"))),
        None => Ok(()),
    }
}

fn version(v: Option<&Value>) -> Result<Option<Version>> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s == "2012-10-17" => Ok(Some(Version::V2012_10_17)),
        Some(Value::String(s)) if s == "2008-10-17" => Ok(Some(Version::V2008_10_17)),
        Some(Value::String(s)) => Err(E::Version(s.clone())),
        Some(other) => Err(E::Version(other.to_string())),
    }
}

fn opt_string(m: &Map<String, Value>, field: &str) -> Result<Option<String>> {
    match m.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(E::Syntax(format!("{field} must be a string"))),
    }
}

fn statement(v: &Value) -> Result<Statement> {
    let Value::Object(m) = v else {
        return Err(E::Syntax("each Statement must be a JSON object".into()));
    };
    check_keys(m, &STATEMENT_KEYS, "a statement")?;
    let action = either(m, "Action", "NotAction")?.ok_or(E::NoActions)?;
    check_actions(&action)?;
    let resource = either(m, "Resource", "NotResource")?;
    if let Some(r) = &resource {
        check_resources(r)?;
    }
    let conditions = match m.get("Condition") {
        Some(c) => conditions(c)?,
        None => Vec::new(),
    };
    Ok(Statement {
        sid: opt_string(m, "Sid")?,
        effect: effect(m.get("Effect"))?,
        principal: principal_element(m)?,
        action,
        resource,
        conditions,
    })
}

fn effect(v: Option<&Value>) -> Result<Effect> {
    match v {
        None => Err(E::MissingField("Effect")),
        Some(Value::String(s)) if s == "Allow" => Ok(Effect::Allow),
        Some(Value::String(s)) if s == "Deny" => Ok(Effect::Deny),
        Some(Value::String(s)) => Err(E::Effect(s.clone())),
        Some(other) => Err(E::Effect(other.to_string())),
    }
}

/// Reads `name` or `not_name` (at most one of them may be present).
fn either(
    m: &Map<String, Value>,
    name: &'static str,
    not: &'static str,
) -> Result<Option<Patterns>> {
    match (m.get(name), m.get(not)) {
        (Some(_), Some(_)) => Err(E::Both(name, not)),
        (Some(v), None) => Ok(Some(Patterns::Only(string_list(v, name)?))),
        (None, Some(v)) => Ok(Some(Patterns::Not(string_list(v, not)?))),
        (None, None) => Ok(None),
    }
}

fn string_list(v: &Value, field: &str) -> Result<Vec<String>> {
    let bad = || E::Syntax(format!("{field} must be a string or an array of strings"));
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

fn check_actions(p: &Patterns) -> Result<()> {
    if p.values().is_empty() {
        return Err(E::NoActions);
    }
    let ok = |a: &str| a == "*" || has_vendor(a);
    match p.values().iter().find(|a| !ok(a)) {
        Some(a) => Err(E::Vendor(a.clone())),
        None => Ok(()),
    }
}

/// `vendor:rest` with a non-empty vendor (`kms:Encrypt`, `aws:SourceIp`).
fn has_vendor(s: &str) -> bool {
    s.split_once(':').is_some_and(|(v, _)| !v.is_empty())
}

fn check_resources(p: &Patterns) -> Result<()> {
    if p.values().is_empty() {
        return Err(E::NoResources);
    }
    let ok = |r: &str| r == "*" || r.starts_with("arn:");
    match p.values().iter().find(|r| !ok(r)) {
        Some(r) => Err(E::Resource(r.clone())),
        None => Ok(()),
    }
}

fn principal_element(m: &Map<String, Value>) -> Result<Option<PrincipalElement>> {
    match (m.get("Principal"), m.get("NotPrincipal")) {
        (Some(_), Some(_)) => Err(E::Both("Principal", "NotPrincipal")),
        (Some(v), None) => Ok(Some(PrincipalElement::Only(principals(v)?))),
        (None, Some(v)) => Ok(Some(PrincipalElement::Not(principals(v)?))),
        (None, None) => Ok(None),
    }
}

fn principals(v: &Value) -> Result<Principals> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| typed_principal(k, v))
            .collect::<Result<_>>()
            .map(Principals::Typed),
        other => Err(E::Principal(other.to_string())),
    }
}

fn typed_principal(key: &str, v: &Value) -> Result<(PrincipalType, Vec<String>)> {
    let invalid = || E::Principal(format!("{key:?}:{v}"));
    let ty = PrincipalType::parse(key).ok_or_else(invalid)?;
    let values = string_list(v, key).map_err(|_| invalid())?;
    if values.is_empty() || values.iter().any(String::is_empty) {
        return Err(invalid());
    }
    if let Some(bad) = values
        .iter()
        .find(|p| ty == PrincipalType::Aws && !valid_aws(p))
    {
        return Err(E::Principal(format!("{key:?}:{bad:?}")));
    }
    Ok((ty, values))
}

/// `*`, an account id, an IAM/STS ARN without wildcards, or a unique id (`AIDA...`,
/// `AROA...`: what AWS shows after the named user or role was deleted).
fn valid_aws(p: &str) -> bool {
    if p == "*" || p.parse::<AccountId>().is_ok() {
        return true;
    }
    if p.starts_with("AIDA") || p.starts_with("AROA") {
        return p.chars().all(|c| c.is_ascii_alphanumeric());
    }
    let Ok(arn) = p.parse::<Arn>() else {
        return false;
    };
    matches!(arn.service.as_str(), "iam" | "sts")
        && arn.account.parse::<AccountId>().is_ok()
        && !p.contains(['*', '?'])
}

fn conditions(v: &Value) -> Result<Vec<Condition>> {
    let Value::Object(ops) = v else {
        return Err(E::Syntax("Condition must be a JSON object".into()));
    };
    let mut out = Vec::new();
    for (name, body) in ops {
        let operator = Operator::parse(name).ok_or_else(|| E::ConditionType(name.clone()))?;
        let Value::Object(keys) = body else {
            return Err(E::Syntax(format!(
                "{name} must map condition keys to values"
            )));
        };
        for (key, values) in keys {
            if !has_vendor(key) {
                return Err(E::Vendor(key.clone()));
            }
            let values = condition_values(values, key)?;
            out.push(Condition {
                operator,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn condition_values(v: &Value, key: &str) -> Result<Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(E::Syntax(format!(
            "values of condition key {key} must be strings, numbers or booleans"
        ))),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
    }
}

#[cfg(test)]
mod tests;
