//! The validation pass: every constraint violation in a well-typed input, worded and
//! ordered as AWS reports them.
//!
//! Wording (each seen in captured AWS messages):
//! - `Value '<v>' at '<path>' failed to satisfy constraint: <constraint>`; `Value null at`
//!   for a missing required member; `Value at` (no value) when the shape is sensitive.
//! - constraints: `Member must not be null`, `Member must have length less than or equal
//!   to N` / `greater than or equal to N`, `Member must satisfy regular expression pattern:
//!   <model pattern>`, `Member must satisfy enum value set: [A, B]`, `Member must have value
//!   less than or equal to N` / `greater than or equal to N`.
//! - elements of a list, keys and values of a map that break their own shape's constraints
//!   are reported once, on the container, listing all of that shape's constraints:
//!   `Member must satisfy constraint: [...]`, `Map keys must satisfy constraint: [...]`,
//!   `Map value must satisfy constraint: [...]`.
//! - nested paths: `tags.1.member.tagKey` (list index from 1), `items.<key>.member.x`.
//! - `N validation error(s) detected: ` then the entries joined by `; `, at most ten.
//!
//! Order: structure members in Java `HashMap` order (resolved at load); within a member its
//! pattern before its length; within a container its own length, then its element
//! constraint, then the elements' nested members.

use super::java_order::iteration_order;
use super::java_regex::PatternError;
use super::{Bounds, Kind, Member, ServiceModel, ShapeId, check};
use serde_json::{Map, Number, Value};

/// AWS lists at most this many violations; the count in the message is capped with them.
const MAX_REPORTED: usize = 10;

/// The violations in `input` for the structure `shape`, at most [`MAX_REPORTED`].
pub(super) fn collect(
    model: &ServiceModel,
    shape: ShapeId,
    input: &Map<String, Value>,
) -> Result<Vec<String>, PatternError> {
    let mut walk = Walk {
        model,
        entries: Vec::new(),
        // Room for the deepest path of most inputs: the buffer is then allocated once
        // rather than regrown as the first long member name is written into it.
        path: String::with_capacity(64),
    };
    if let Kind::Structure(members) = &model.shape(shape).kind {
        walk.structure(members, input, false)?;
    }
    Ok(walk.entries)
}

/// The `ValidationException` message for `entries`, if there are any.
pub(super) fn message(entries: &[String]) -> Option<String> {
    let plural = if entries.len() == 1 { "" } else { "s" };
    (!entries.is_empty()).then(|| {
        format!(
            "{} validation error{plural} detected: {}",
            entries.len(),
            entries.join("; ")
        )
    })
}

struct Walk<'m> {
    model: &'m ServiceModel,
    entries: Vec<String>,
    /// The path of the value being checked (`tags.1.member.tagKey`): one buffer, extended
    /// on the way down and cut back on the way up, because almost every input is valid and
    /// a path of its own cost an allocation per member of every request.
    path: String,
}

impl Walk<'_> {
    fn full(&self) -> bool {
        self.entries.len() >= MAX_REPORTED
    }

    /// Records one violation at [`Walk::path`]; `value` is `None` for a missing member, and
    /// is withheld when `redact` is set (a sensitive shape or one inside it).
    fn report(&mut self, redact: bool, value: Option<String>, constraint: &str) {
        if self.full() {
            return;
        }
        let shown = match (redact, value) {
            (true, _) => String::new(),
            (false, None) => " null".to_owned(),
            (false, Some(v)) => format!(" '{v}'"),
        };
        self.entries.push(format!(
            "Value{shown} at '{}' failed to satisfy constraint: {constraint}",
            self.path
        ));
    }

    fn structure(
        &mut self,
        members: &[Member],
        fields: &Map<String, Value>,
        redact: bool,
    ) -> Result<(), PatternError> {
        for member in members {
            if self.full() {
                break;
            }
            let redact = redact || self.model.shape(member.shape).redact;
            let field = fields.get(&member.name).filter(|v| !v.is_null());
            self.within(format_args!("{}", member.path_name), |w| match field {
                Some(value) => w.value(member.shape, value, redact, true),
                None if member.required => {
                    w.report(redact, None, "Member must not be null");
                    Ok(())
                }
                None => Ok(()),
            })?;
        }
        Ok(())
    }

    /// Runs `check` with the path extended by one segment (after a `.` unless at the
    /// top), and cuts the path back to its parent afterwards, whatever `check` returned.
    fn within(
        &mut self,
        segment: std::fmt::Arguments,
        check: impl FnOnce(&mut Self) -> Result<(), PatternError>,
    ) -> Result<(), PatternError> {
        use std::fmt::Write;
        let parent = self.path.len();
        if parent > 0 {
            self.path.push('.');
        }
        // Writing into a String cannot fail.
        let _ = self.path.write_fmt(segment);
        let checked = check(self);
        self.path.truncate(parent);
        checked
    }

    /// Checks `value` against `shape`. `own` is false for list elements and map values,
    /// whose own constraints the container already reported.
    fn value(
        &mut self,
        shape: ShapeId,
        value: &Value,
        redact: bool,
        own: bool,
    ) -> Result<(), PatternError> {
        let target = self.model.shape(shape);
        let redact = redact || target.redact;
        if own {
            for constraint in self.violations(shape, value)? {
                let rendered = self.render(shape, value);
                self.report(redact, Some(rendered), &constraint);
            }
        }
        match (&target.kind, value) {
            (Kind::Structure(members), Value::Object(fields)) => {
                self.structure(members, fields, redact)
            }
            (Kind::List { member, .. }, Value::Array(items)) => {
                self.list((shape, value), *member, items, redact)
            }
            (Kind::Map { key, value: v, .. }, Value::Object(entries)) => {
                self.map((shape, value), (*key, *v), entries, redact)
            }
            _ => Ok(()),
        }
    }

    /// `whole` is the list itself, for its rendering.
    fn list(
        &mut self,
        whole: (ShapeId, &Value),
        member: ShapeId,
        items: &[Value],
        redact: bool,
    ) -> Result<(), PatternError> {
        let present = || items.iter().filter(|v| !v.is_null());
        if self.any_violates(member, present())? {
            let constraint = format!(
                "Member must satisfy constraint: [{}]",
                self.describe(member)
            );
            self.report(redact, Some(self.render(whole.0, whole.1)), &constraint);
        }
        if !self.model.shape(member).is_container() {
            return Ok(());
        }
        for (i, item) in items.iter().enumerate().filter(|(_, v)| !v.is_null()) {
            self.within(format_args!("{}.member", i + 1), |w| {
                w.value(member, item, redact, false)
            })?;
        }
        Ok(())
    }

    /// `whole` is the map itself, for its rendering.
    fn map(
        &mut self,
        whole: (ShapeId, &Value),
        (key, value): (ShapeId, ShapeId),
        entries: &Map<String, Value>,
        redact: bool,
    ) -> Result<(), PatternError> {
        let keys: Vec<Value> = entries.keys().map(|k| Value::String(k.clone())).collect();
        if self.any_violates(key, keys.iter())? {
            let constraint = format!("Map keys must satisfy constraint: [{}]", self.describe(key));
            self.report(redact, Some(self.render(whole.0, whole.1)), &constraint);
        }
        if self.any_violates(value, entries.values().filter(|v| !v.is_null()))? {
            let constraint = format!(
                "Map value must satisfy constraint: [{}]",
                self.describe(value)
            );
            self.report(redact, Some(self.render(whole.0, whole.1)), &constraint);
        }
        if !self.model.shape(value).is_container() {
            return Ok(());
        }
        for name in java_map_keys(entries) {
            if let Some(item) = entries.get(name).filter(|v| !v.is_null()) {
                self.within(format_args!("{name}.member"), |w| {
                    w.value(value, item, redact, false)
                })?;
            }
        }
        Ok(())
    }

    fn any_violates<'v>(
        &self,
        shape: ShapeId,
        mut values: impl Iterator<Item = &'v Value>,
    ) -> Result<bool, PatternError> {
        values.try_fold(false, |found, v| {
            Ok(found || !self.violations(shape, v)?.is_empty())
        })
    }

    /// The constraints of `shape` that `value` itself breaks, in AWS's order.
    fn violations(&self, shape: ShapeId, value: &Value) -> Result<Vec<String>, PatternError> {
        let mut out = Vec::new();
        match (&self.model.shape(shape).kind, value) {
            (
                Kind::String {
                    length,
                    pattern,
                    allowed,
                },
                Value::String(s),
            ) => {
                if let Some(p) = pattern
                    && !p.get().map_err(Clone::clone)?.matches(s)
                {
                    out.push(pattern_text(&p.source));
                }
                if let Some(values) = allowed.as_ref().filter(|v| !v.contains(s)) {
                    out.push(enum_text(values));
                }
                length_violation(*length, utf16_len(s), &mut out);
            }
            (Kind::Blob(length), Value::String(s)) => {
                length_violation(*length, check::decoded_len(s) as i64, &mut out);
            }
            (Kind::List { length, .. }, Value::Array(items)) => {
                length_violation(*length, items.len() as i64, &mut out);
            }
            (Kind::Map { length, .. }, Value::Object(entries)) => {
                length_violation(*length, entries.len() as i64, &mut out);
            }
            (Kind::Integer(range), Value::Number(n)) => {
                range_violation(*range, java_int(n), &mut out)
            }
            (Kind::Long(range), Value::Number(n)) => {
                range_violation(*range, java_long(n), &mut out)
            }
            _ => {}
        }
        Ok(out)
    }

    /// All of `shape`'s own constraints, as listed inside a container's `[...]`.
    fn describe(&self, shape: ShapeId) -> String {
        let mut parts = Vec::new();
        let length = |b: Bounds, parts: &mut Vec<String>| {
            parts.extend(
                b.max
                    .map(|n| format!("Member must have length less than or equal to {n}")),
            );
            parts.extend(
                b.min
                    .map(|n| format!("Member must have length greater than or equal to {n}")),
            );
        };
        match &self.model.shape(shape).kind {
            Kind::String {
                length: b,
                pattern,
                allowed,
            } => {
                length(*b, &mut parts);
                parts.extend(pattern.as_ref().map(|p| pattern_text(&p.source)));
                parts.extend(allowed.as_ref().map(|v| enum_text(v)));
            }
            Kind::Blob(b) | Kind::List { length: b, .. } | Kind::Map { length: b, .. } => {
                length(*b, &mut parts)
            }
            Kind::Integer(r) | Kind::Long(r) => {
                parts.extend(
                    r.max
                        .map(|n| format!("Member must have value less than or equal to {n}")),
                );
                parts.extend(
                    r.min
                        .map(|n| format!("Member must have value greater than or equal to {n}")),
                );
            }
            _ => {}
        }
        parts.join(", ")
    }

    /// `value` as AWS prints it: Java's `toString` of the decoded object.
    fn render(&self, shape: ShapeId, value: &Value) -> String {
        let target = self.model.shape(shape);
        match (&target.kind, value) {
            (_, Value::Null) => "null".to_owned(),
            (Kind::String { .. }, Value::String(s)) => s.clone(),
            (Kind::Integer(_), Value::Number(n)) => java_int(n).to_string(),
            (Kind::Long(_), Value::Number(n)) => java_long(n).to_string(),
            (Kind::Blob(_), Value::String(s)) => {
                let n = check::decoded_len(s);
                format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]")
            }
            (Kind::List { member, .. }, Value::Array(items)) => {
                let parts: Vec<String> = items.iter().map(|v| self.render(*member, v)).collect();
                format!("[{}]", parts.join(", "))
            }
            (Kind::Map { value: v, .. }, Value::Object(entries)) => {
                let parts: Vec<String> = java_map_keys(entries)
                    .into_iter()
                    .map(|k| format!("{k}={}", self.render(*v, &entries[k])))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            // AWS prints the generated Java class; its identity hash is not reproducible.
            (Kind::Structure(_), _) => format!(
                "com.amazonaws.{}.v{}.{}",
                self.model.service,
                self.model.api_version.replace('-', ""),
                target.name
            ),
            (_, other) => other.to_string(),
        }
    }
}

impl super::Shape {
    fn is_container(&self) -> bool {
        matches!(
            self.kind,
            Kind::Structure(_) | Kind::List { .. } | Kind::Map { .. }
        )
    }
}

fn pattern_text(source: &str) -> String {
    format!("Member must satisfy regular expression pattern: {source}")
}

fn enum_text(values: &[String]) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

fn length_violation(bounds: Bounds, len: i64, out: &mut Vec<String>) {
    if let Some(min) = bounds.min.filter(|&min| len < min) {
        out.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = bounds.max.filter(|&max| len > max) {
        out.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
}

fn range_violation(bounds: Bounds, value: i64, out: &mut Vec<String>) {
    if let Some(min) = bounds.min.filter(|&min| value < min) {
        out.push(format!(
            "Member must have value greater than or equal to {min}"
        ));
    }
    if let Some(max) = bounds.max.filter(|&max| value > max) {
        out.push(format!(
            "Member must have value less than or equal to {max}"
        ));
    }
}

/// A string's length as Java counts it: UTF-16 code units.
fn utf16_len(s: &str) -> i64 {
    s.encode_utf16().count() as i64
}

/// A JSON number as AWS's decoder narrows it: fractions dropped toward negative infinity,
/// out-of-range values clamped.
fn java_long(n: &Number) -> i64 {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i,
        (None, Some(_), _) => i64::MAX,
        // `as` saturates, which is the clamp wanted here.
        (None, None, Some(f)) => f.floor() as i64,
        (None, None, None) => 0,
    }
}

fn java_int(n: &Number) -> i64 {
    java_long(n).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// A JSON object's keys in the order a Java `HashMap` built from it iterates.
fn java_map_keys(entries: &Map<String, Value>) -> Vec<&str> {
    let keys: Vec<&str> = entries.keys().map(String::as_str).collect();
    iteration_order(&keys)
        .into_iter()
        .map(|i| keys[i])
        .collect()
}
