//! Model-driven request validation for the awsJson1.1 services.
//!
//! AWS checks every request against the constraints of its service model (required
//! members, string/blob/list/map length, pattern, enum, numeric range) before doing any
//! work, and reports the violations together in one `ValidationException`; a member of the
//! wrong JSON type is a `SerializationException` found while decoding, before validation.
//! The models are compact extracts of botocore's (`scripts/gen-models.py`), embedded at
//! build time and parsed on first use.

mod check;
mod constraints;
mod java_order;
mod java_regex;
#[cfg(test)]
mod tests;

use crate::error::{Protocol, WireError};
use crate::json;
pub use java_regex::JavaPattern;
use java_regex::PatternError;
use serde::Deserialize;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{LazyLock, OnceLock};

/// A model that cannot be used: the embedded JSON is malformed or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("model JSON: {0}")]
    Json(String),
    #[error("shape {shape} refers to unknown shape {target}")]
    UnknownShape { shape: String, target: String },
    #[error("shape {shape} has unsupported type {kind}")]
    UnknownType { shape: String, kind: String },
    #[error("{kind} shape {shape} lacks its {field} shape")]
    MissingTarget {
        shape: String,
        kind: String,
        field: &'static str,
    },
    #[error("shape {shape} requires {member}, which it does not have")]
    UnknownRequired { shape: String, member: String },
}

/// One service's operations and the shapes their inputs are made of.
#[derive(Debug)]
pub struct ServiceModel {
    service: String,
    api_version: String,
    /// Operation name to input shape (`None` for an operation without input).
    operations: HashMap<String, Option<ShapeId>>,
    /// The operations whose output can hold a sensitive shape.
    sensitive_outputs: BTreeSet<String>,
    shapes: Vec<Shape>,
    load_error: Option<ModelError>,
}

type ShapeId = usize;

#[derive(Debug)]
struct Shape {
    name: String,
    kind: Kind,
    sensitive: bool,
    /// Whether a rendering of a value of this shape would show sensitive data (the shape,
    /// or a list/map element shape, is sensitive).
    redact: bool,
}

#[derive(Debug)]
enum Kind {
    /// Members in the order AWS reports them.
    Structure(Vec<Member>),
    List {
        member: ShapeId,
        length: Bounds,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        length: Bounds,
    },
    String {
        length: Bounds,
        pattern: Option<ModelPattern>,
        allowed: Option<Vec<String>>,
    },
    Integer(Bounds),
    Long(Bounds),
    Boolean,
    Blob(Bounds),
    Timestamp,
}

/// Inclusive `min`/`max` from the model: a length, or a numeric range.
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    min: Option<i64>,
    max: Option<i64>,
}

#[derive(Debug)]
struct Member {
    /// The wire name (`KeyId`).
    name: String,
    /// The name in validation messages (`keyId`).
    path_name: String,
    shape: ShapeId,
    required: bool,
}

/// A model pattern, compiled on first use.
#[derive(Debug)]
struct ModelPattern {
    source: String,
    compiled: OnceLock<Result<JavaPattern, PatternError>>,
}

impl ModelPattern {
    fn get(&self) -> Result<&JavaPattern, &PatternError> {
        self.compiled
            .get_or_init(|| JavaPattern::compile(&self.source))
            .as_ref()
    }
}

static KMS: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::load(include_str!("../models/kms.json")));
static SECRETS_MANAGER: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::load(include_str!("../models/secretsmanager.json")));
static SSM: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::load(include_str!("../models/ssm.json")));

/// The KMS model (`TrentService`).
pub fn kms() -> &'static ServiceModel {
    &KMS
}

/// The Secrets Manager model (`secretsmanager`).
pub fn secretsmanager() -> &'static ServiceModel {
    &SECRETS_MANAGER
}

/// The Systems Manager model (`AmazonSSM`).
pub fn ssm() -> &'static ServiceModel {
    &SSM
}

impl ServiceModel {
    /// Parses a model in the format `scripts/gen-models.py` writes.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let raw: RawModel =
            serde_json::from_str(text).map_err(|e| ModelError::Json(e.to_string()))?;
        raw.resolve()
    }

    /// An embedded model; a broken one is kept as an error every `validate` reports, since
    /// these statics cannot fail (the tests load all three).
    fn load(text: &str) -> Self {
        Self::from_json(text).unwrap_or_else(|e| Self {
            service: String::new(),
            api_version: String::new(),
            operations: HashMap::new(),
            sensitive_outputs: BTreeSet::new(),
            shapes: Vec::new(),
            load_error: Some(e),
        })
    }

    /// Why this model could not be loaded, if it could not.
    pub fn load_error(&self) -> Option<&ModelError> {
        self.load_error.as_ref()
    }

    /// The service's botocore name (`kms`).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The operations the model defines.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }

    /// Whether `operation`'s output can hold a shape botocore marks sensitive (a plaintext,
    /// a secret value, a password), so that its reply is zeroized once sent.
    pub fn output_is_sensitive(&self, operation: &str) -> bool {
        self.sensitive_outputs.contains(operation)
    }

    /// Checks `input` (a request body) against `operation`'s input shape: a member of the
    /// wrong JSON type is a `SerializationException` (the first one found), constraint
    /// violations are one `ValidationException` listing up to ten of them in AWS's order.
    /// Unknown members are ignored, as AWS ignores them. An operation the model does not
    /// have is `UnknownOperationException`.
    pub fn validate(&self, operation: &str, input: &serde_json::Value) -> Result<(), WireError> {
        if self.load_error.is_some() {
            return Err(WireError::internal(Protocol::AwsJson11));
        }
        let Some(&input_shape) = self.operations.get(operation) else {
            return Err(json::unknown_operation());
        };
        let serde_json::Value::Object(members) = input else {
            return Err(json::serialization_error(json::NOT_AN_OBJECT));
        };
        let Some(shape) = input_shape else {
            return Ok(());
        };
        check::types(self, shape, input).map_err(json::serialization_error)?;
        let violations = constraints::collect(self, shape, members)
            .map_err(|_| WireError::internal(Protocol::AwsJson11))?;
        match constraints::message(&violations) {
            Some(message) => Err(json::validation_error(message)),
            None => Ok(()),
        }
    }

    /// Decodes an operation's input as `json::json_input` does, validating it against the
    /// model first so constraint violations are reported the way AWS reports them.
    pub fn decode<T: DeserializeOwned>(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Result<T, WireError> {
        let value = json::parse_body(body)?;
        self.validate(operation, &value)?;
        json::from_value(value)
    }

    fn shape(&self, id: ShapeId) -> &Shape {
        &self.shapes[id]
    }
}

/// The generated JSON, before shape names are resolved to indexes.
#[derive(Deserialize)]
struct RawModel {
    service: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    operations: BTreeMap<String, Option<String>>,
    #[serde(rename = "sensitiveOutputs", default)]
    sensitive_outputs: BTreeSet<String>,
    shapes: BTreeMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: OrderedMembers,
    #[serde(default)]
    required: Vec<String>,
    member: Option<String>,
    key: Option<String>,
    value: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    allowed: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
}

/// A JSON object read in document order (the reporting order is derived from it).
#[derive(Default)]
struct OrderedMembers(Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of member name to shape name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(OrderedMembers(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

impl RawModel {
    fn resolve(self) -> Result<ServiceModel, ModelError> {
        let ids: HashMap<&str, ShapeId> = self
            .shapes
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let lookup = |from: &str, target: &str| {
            ids.get(target)
                .copied()
                .ok_or_else(|| ModelError::UnknownShape {
                    shape: from.to_owned(),
                    target: target.to_owned(),
                })
        };
        let mut shapes = Vec::with_capacity(self.shapes.len());
        for (name, raw) in &self.shapes {
            shapes.push(Shape {
                name: name.clone(),
                kind: raw.resolve_kind(name, &lookup)?,
                sensitive: raw.sensitive,
                redact: raw.sensitive,
            });
        }
        propagate_redaction(&mut shapes);
        let mut operations = HashMap::with_capacity(self.operations.len());
        for (name, input) in &self.operations {
            let id = input.as_deref().map(|s| lookup(name, s)).transpose()?;
            operations.insert(name.clone(), id);
        }
        Ok(ServiceModel {
            service: self.service,
            api_version: self.api_version,
            operations,
            sensitive_outputs: self.sensitive_outputs,
            shapes,
            load_error: None,
        })
    }
}

impl RawShape {
    fn resolve_kind(
        &self,
        name: &str,
        lookup: &dyn Fn(&str, &str) -> Result<ShapeId, ModelError>,
    ) -> Result<Kind, ModelError> {
        let bounds = Bounds {
            min: self.min,
            max: self.max,
        };
        let target = |field: &'static str, value: &Option<String>| match value {
            Some(t) => lookup(name, t),
            None => Err(ModelError::MissingTarget {
                shape: name.to_owned(),
                kind: self.kind.clone(),
                field,
            }),
        };
        Ok(match self.kind.as_str() {
            "structure" => Kind::Structure(self.resolve_members(name, lookup)?),
            "list" => Kind::List {
                member: target("member", &self.member)?,
                length: bounds,
            },
            "map" => Kind::Map {
                key: target("key", &self.key)?,
                value: target("value", &self.value)?,
                length: bounds,
            },
            "string" => Kind::String {
                length: bounds,
                pattern: self.pattern.clone().map(|source| ModelPattern {
                    source,
                    compiled: OnceLock::new(),
                }),
                allowed: self.allowed.clone(),
            },
            "integer" => Kind::Integer(bounds),
            "long" => Kind::Long(bounds),
            "boolean" => Kind::Boolean,
            "blob" => Kind::Blob(bounds),
            "timestamp" => Kind::Timestamp,
            other => {
                return Err(ModelError::UnknownType {
                    shape: name.to_owned(),
                    kind: other.to_owned(),
                });
            }
        })
    }

    /// Members in AWS's reporting order: the iteration order of a Java `HashMap` filled
    /// with the members in model order.
    fn resolve_members(
        &self,
        name: &str,
        lookup: &dyn Fn(&str, &str) -> Result<ShapeId, ModelError>,
    ) -> Result<Vec<Member>, ModelError> {
        if let Some(missing) = self
            .required
            .iter()
            .find(|r| !self.members.0.iter().any(|(m, _)| m == *r))
        {
            return Err(ModelError::UnknownRequired {
                shape: name.to_owned(),
                member: missing.clone(),
            });
        }
        let path_names: Vec<String> = self
            .members
            .0
            .iter()
            .map(|(m, _)| json::lower_camel(m))
            .collect();
        let mut members = Vec::with_capacity(path_names.len());
        for i in java_order::iteration_order(&path_names) {
            let (member, target) = &self.members.0[i];
            members.push(Member {
                name: member.clone(),
                path_name: path_names[i].clone(),
                shape: lookup(name, target)?,
                required: self.required.contains(member),
            });
        }
        Ok(members)
    }
}

/// Marks lists and maps whose elements are sensitive, so their renderings are withheld.
/// Structures are rendered by name only, so they stop the propagation.
fn propagate_redaction(shapes: &mut [Shape]) {
    loop {
        let mut changed = false;
        for i in 0..shapes.len() {
            let redact = match shapes[i].kind {
                Kind::List { member, .. } => shapes[member].redact,
                Kind::Map { key, value, .. } => shapes[key].redact || shapes[value].redact,
                _ => false,
            };
            if redact && !shapes[i].redact {
                shapes[i].redact = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}
