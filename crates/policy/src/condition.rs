//! Condition operators and their evaluation.

use crate::context::ConditionContext;
use crate::pattern::{Pattern, Unresolved};
use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The operator without `ForAnyValue:`/`ForAllValues:` and `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

use BaseOperator as B;

const ALL: [BaseOperator; 27] = [
    B::StringEquals,
    B::StringNotEquals,
    B::StringEqualsIgnoreCase,
    B::StringNotEqualsIgnoreCase,
    B::StringLike,
    B::StringNotLike,
    B::NumericEquals,
    B::NumericNotEquals,
    B::NumericLessThan,
    B::NumericLessThanEquals,
    B::NumericGreaterThan,
    B::NumericGreaterThanEquals,
    B::DateEquals,
    B::DateNotEquals,
    B::DateLessThan,
    B::DateLessThanEquals,
    B::DateGreaterThan,
    B::DateGreaterThanEquals,
    B::Bool,
    B::BinaryEquals,
    B::IpAddress,
    B::NotIpAddress,
    B::ArnEquals,
    B::ArnLike,
    B::ArnNotEquals,
    B::ArnNotLike,
    B::Null,
];

impl BaseOperator {
    /// For a negated operator, its positive counterpart. AWS defines negated operators as
    /// "no policy value matches" (NOR), so evaluation only implements positive matching.
    pub fn positive(self) -> Option<Self> {
        Some(match self {
            B::StringNotEquals => B::StringEquals,
            B::StringNotEqualsIgnoreCase => B::StringEqualsIgnoreCase,
            B::StringNotLike => B::StringLike,
            B::NumericNotEquals => B::NumericEquals,
            B::DateNotEquals => B::DateEquals,
            B::NotIpAddress => B::IpAddress,
            B::ArnNotEquals => B::ArnEquals,
            B::ArnNotLike => B::ArnLike,
            _ => return None,
        })
    }

    /// Whether policy variables are substituted in this operator's values (AWS: string,
    /// ARN and Bool operators only).
    fn takes_variables(self) -> bool {
        matches!(
            self.positive().unwrap_or(self),
            B::StringEquals
                | B::StringEqualsIgnoreCase
                | B::StringLike
                | B::ArnEquals
                | B::ArnLike
                | B::Bool
        )
    }
}

impl fmt::Display for BaseOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `ForAnyValue:` / `ForAllValues:`: how a multi-valued context key is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// At least one context value must match; false when the key is absent.
    ForAnyValue,
    /// Every context value must match; true when the key is absent or empty.
    ForAllValues,
}

/// A full condition operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    /// `...IfExists`: the condition holds when the key is absent.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; names are matched case-insensitively. `None` when unknown.
    pub fn parse(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        let (qualifier, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, lower.as_str())
        };
        let (if_exists, rest) = match rest.strip_suffix("ifexists") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let base = ALL
            .into_iter()
            .find(|b| b.to_string().eq_ignore_ascii_case(rest))?;
        // `NullIfExists` is meaningless; AWS rejects it.
        (!(base == B::Null && if_exists)).then_some(Self {
            qualifier,
            base,
            if_exists,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        write!(f, "{}", self.base)?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One `operator: {key: values}` entry. A statement's conditions are ANDed; the values of
/// one condition are ORed (NORed for negated operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The condition key as written; looked up case-insensitively.
    pub key: String,
    /// Policy values as strings (JSON numbers and booleans are kept in their text form).
    pub values: Vec<String>,
}

impl Condition {
    /// Evaluates against `ctx`. `vars` is the context used for policy variables, `None`
    /// under policy version 2008-10-17. `Err` means a variable could not be resolved.
    pub(crate) fn holds(
        &self,
        ctx: &ConditionContext,
        vars: Option<&ConditionContext>,
    ) -> Result<bool, Unresolved> {
        let op = self.operator;
        let present = ctx.get(&self.key);
        if op.base == B::Null {
            return Ok(null_check(present.is_empty(), &self.values));
        }
        if present.is_empty() {
            return Ok(match op.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => op.if_exists,
                None => op.if_exists || op.base.positive().is_some(),
            });
        }
        let vars = vars.filter(|_| op.base.takes_variables());
        let policy = self
            .values
            .iter()
            .map(|v| Pattern::new(v, vars))
            .collect::<Result<Vec<_>, _>>()?;
        let negated = op.base.positive().is_some();
        let positive = op.base.positive().unwrap_or(op.base);
        let one = |v: &String| policy.iter().any(|p| value_matches(positive, v, p));
        Ok(match op.qualifier {
            None => present.iter().any(one) != negated,
            Some(SetQualifier::ForAnyValue) => present.iter().any(|v| one(v) != negated),
            Some(SetQualifier::ForAllValues) => present.iter().all(|v| one(v) != negated),
        })
    }
}

/// `Null: {"key": "true"}` holds when the key is absent; `"false"` when it is present.
fn null_check(absent: bool, values: &[String]) -> bool {
    values
        .iter()
        .filter_map(|v| parse_bool(v))
        .any(|want_absent| want_absent == absent)
}

/// Does one context value match one policy value under a positive operator?
fn value_matches(op: BaseOperator, ctx: &str, policy: &Pattern<'_>) -> bool {
    match op {
        B::StringEquals | B::BinaryEquals => ctx == policy.literal(),
        B::StringEqualsIgnoreCase => equal_ignoring_case(ctx, &policy.literal()),
        B::StringLike => policy.glob(ctx, false),
        B::ArnEquals | B::ArnLike => policy.arn_match(ctx),
        B::Bool => parse_bool(ctx).is_some_and(|c| parse_bool(&policy.literal()) == Some(c)),
        B::IpAddress => ip_in_cidr(ctx, &policy.literal()),
        _ => ordered(op, ctx, &policy.literal()),
    }
}

/// Unicode lower-case equality; without allocating when both sides are ASCII.
fn equal_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// Numeric and date comparisons: `ctx <op> policy`.
fn ordered(op: BaseOperator, ctx: &str, policy: &str) -> bool {
    let ord = match op {
        B::NumericEquals
        | B::NumericLessThan
        | B::NumericLessThanEquals
        | B::NumericGreaterThan
        | B::NumericGreaterThanEquals => compare_numbers(ctx, policy),
        _ => parse_date(ctx)
            .zip(parse_date(policy))
            .map(|(a, b)| a.cmp(&b)),
    };
    let Some(ord) = ord else { return false };
    match op {
        B::NumericEquals | B::DateEquals => ord == Ordering::Equal,
        B::NumericLessThan | B::DateLessThan => ord == Ordering::Less,
        B::NumericLessThanEquals | B::DateLessThanEquals => ord != Ordering::Greater,
        B::NumericGreaterThan | B::DateGreaterThan => ord == Ordering::Greater,
        B::NumericGreaterThanEquals | B::DateGreaterThanEquals => ord != Ordering::Less,
        _ => false,
    }
}

/// Integers compare exactly; anything else as f64.
fn compare_numbers(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (a.trim(), b.trim());
    if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
        return Some(x.cmp(&y));
    }
    let (x, y) = (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?);
    x.partial_cmp(&y)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// ISO 8601 (`2024-01-31T12:00:00Z`, with fraction or offset, or a bare date) or epoch
/// seconds. Returned as Unix nanoseconds so that values compare exactly.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    let (date, time_part) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let mut time_part = time_part.to_owned();
    if !time_part.contains(['Z', 'z', '+', '-']) {
        time_part.push('Z');
    }
    if time_part.len() == 6 {
        time_part.insert_str(5, ":00"); // HH:MMZ
    }
    OffsetDateTime::parse(&format!("{date}T{time_part}"), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

/// `ip` inside `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning one host).
/// IPv4 never matches an IPv6 range and vice versa.
fn ip_in_cidr(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, len) = match cidr.trim().split_once('/') {
        Some((n, l)) => (n, l.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            prefix_eq(a.to_bits().into(), b.to_bits().into(), 32, len)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix_eq(a.to_bits(), b.to_bits(), 128, len),
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, bits: u32, len: Option<u32>) -> bool {
    let len = len.unwrap_or(bits);
    if len > bits {
        return false;
    }
    let shift = bits - len;
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests;
