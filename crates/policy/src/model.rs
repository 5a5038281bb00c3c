//! The parsed form of a policy document, and its JSON serialization.

use crate::condition::Condition;
use serde_json::{Map, Value};
use std::fmt;

/// The policy language version. It matters because only `2012-10-17` substitutes policy
/// variables; under `2008-10-17` `${aws:username}` is literal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2008_10_17 => "2008-10-17",
            Self::V2012_10_17 => "2012-10-17",
        }
    }
}

/// Which kind of policy a document is; validation differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user or role: no `Principal`, `Resource` required.
    Identity,
    /// Attached to a resource (key policy, secret policy, bucket policy): `Principal` and
    /// `Resource` required.
    Resource,
    /// A role's trust policy: `Principal` required, `Resource` optional.
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `NotAction`, `Resource` / `NotResource`: a list of patterns, either inclusive
/// or exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patterns {
    Only(Vec<String>),
    Not(Vec<String>),
}

impl Patterns {
    pub fn values(&self) -> &[String] {
        match self {
            Self::Only(v) | Self::Not(v) => v,
        }
    }
    pub fn is_not(&self) -> bool {
        matches!(self, Self::Not(_))
    }
}

/// The key of a typed principal map (`{"AWS": ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Service => "Service",
            Self::Federated => "Federated",
            Self::CanonicalUser => "CanonicalUser",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Aws,
            Self::Service,
            Self::Federated,
            Self::CanonicalUser,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// The value of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": [...], "Service": [...]}` in document order.
    Typed(Vec<(PrincipalType, Vec<String>)>),
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalElement {
    Only(Principals),
    Not(Principals),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: Patterns,
    /// `None` only in trust policies, where it means every resource.
    pub resource: Option<Patterns>,
    /// All conditions must hold (AND); see [`Condition`].
    pub conditions: Vec<Condition>,
}

/// Which condition keys some policies can read; see [`PolicyDocument::keys_used`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysUsed {
    None,
    /// These keys, lower-cased (condition keys are case-insensitive).
    Some(Vec<String>),
    All,
}

impl KeysUsed {
    /// Whether `key` may be read.
    pub fn wants(&self, key: &str) -> bool {
        match self {
            Self::None => false,
            // Lower-cased as `ConditionContext` does it (Unicode), without a copy for ASCII.
            Self::Some(keys) if key.is_ascii() => keys.iter().any(|k| k.eq_ignore_ascii_case(key)),
            Self::Some(keys) => keys.contains(&key.to_lowercase()),
            Self::All => true,
        }
    }

    /// Whether some key of the family `prefix` (`kms:EncryptionContext:`) may be read, so
    /// that a caller can skip naming each member of a family no policy reads.
    pub fn wants_any_under(&self, prefix: &str) -> bool {
        let p = prefix.as_bytes();
        match self {
            Self::None => false,
            Self::Some(keys) => keys.iter().any(|k| {
                k.as_bytes()
                    .get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p))
            }),
            Self::All => true,
        }
    }

    /// Adds the keys another policy can read.
    pub fn merge(&mut self, other: KeysUsed) {
        match other {
            Self::None => {}
            Self::All => *self = Self::All,
            Self::Some(keys) => {
                for k in &keys {
                    self.add(k);
                }
            }
        }
    }

    fn add(&mut self, key: &str) {
        let key = key.to_lowercase();
        match self {
            Self::None => *self = Self::Some(vec![key]),
            Self::Some(keys) if !keys.contains(&key) => keys.push(key),
            Self::Some(_) | Self::All => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `None` when the document has no `Version`; AWS then uses 2008-10-17.
    pub version: Option<Version>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The version that governs evaluation (a missing `Version` means 2008-10-17).
    pub fn effective_version(&self) -> Version {
        self.version.unwrap_or(Version::V2008_10_17)
    }

    /// Whether evaluating this document can read the request's condition keys: a statement
    /// with a `Condition`, or (under 2012-10-17) a policy variable in a `Resource` or
    /// `NotResource`. When no document in play does, a caller may leave the keys out: the
    /// decision cannot depend on them.
    pub fn uses_condition_keys(&self) -> bool {
        self.keys_used() != KeysUsed::None
    }

    /// The condition keys evaluating this document can read: those its conditions name,
    /// or every key when (under 2012-10-17) a policy variable appears in a `Resource`,
    /// `NotResource` or condition value, since a variable may name any key. A caller may
    /// leave every other key out of the request: the decision cannot depend on it.
    pub fn keys_used(&self) -> KeysUsed {
        let variables = self.effective_version() == Version::V2012_10_17;
        let mut used = KeysUsed::None;
        for s in &self.statements {
            let in_resource = s
                .resource
                .as_ref()
                .is_some_and(|r| r.values().iter().any(|v| v.contains("${")));
            let in_condition = s
                .conditions
                .iter()
                .any(|c| c.values.iter().any(|v| v.contains("${")));
            if variables && (in_resource || in_condition) {
                return KeysUsed::All;
            }
            for c in &s.conditions {
                used.add(&c.key);
            }
        }
        used
    }

    /// The document as JSON. Single values are written as arrays; `parse` reads them back
    /// to the same document.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = self.version {
            m.insert("Version".into(), v.as_str().into());
        }
        if let Some(id) = &self.id {
            m.insert("Id".into(), id.clone().into());
        }
        let st = self.statements.iter().map(Statement::to_json).collect();
        m.insert("Statement".into(), Value::Array(st));
        Value::Object(m)
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

fn principals_json(p: &Principals) -> Value {
    match p {
        Principals::Any => "*".into(),
        Principals::Typed(entries) => Value::Object(
            entries
                .iter()
                .map(|(t, v)| (t.as_str().to_owned(), strings(v)))
                .collect(),
        ),
    }
}

impl Statement {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".into(), sid.clone().into());
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".into(), effect.into());
        match &self.principal {
            Some(PrincipalElement::Only(p)) => m.insert("Principal".into(), principals_json(p)),
            Some(PrincipalElement::Not(p)) => m.insert("NotPrincipal".into(), principals_json(p)),
            None => None,
        };
        let name = if self.action.is_not() {
            "NotAction"
        } else {
            "Action"
        };
        m.insert(name.into(), strings(self.action.values()));
        if let Some(r) = &self.resource {
            let name = if r.is_not() {
                "NotResource"
            } else {
                "Resource"
            };
            m.insert(name.into(), strings(r.values()));
        }
        if !self.conditions.is_empty() {
            m.insert("Condition".into(), conditions_json(&self.conditions));
        }
        Value::Object(m)
    }
}

fn conditions_json(conds: &[Condition]) -> Value {
    let mut ops = Map::new();
    for c in conds {
        let entry = ops
            .entry(c.operator.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = entry {
            keys.insert(c.key.clone(), strings(&c.values));
        }
    }
    Value::Object(ops)
}
