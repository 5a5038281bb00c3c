//! GetParametersByPath and DescribeParameters: hierarchy listing, filters and paging.

use super::names::{self, Selector};
use super::params::{self, invalid_token, optional};
use super::store::{self, ParamRecord};
use super::{Operation, SsmError, arn, authorize, epoch, policies};
use crate::api::{AuditInfo, Call, audit_object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

/// Rows read from storage per step while filling a page.
const BATCH: usize = 200;

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct StringFilter {
    key: String,
    option: Option<String>,
    values: Option<Vec<String>>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyFilter {
    key: String,
    values: Vec<String>,
}

/// Which operation a filter list belongs to: they accept different keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Describe,
    ByPath,
}

/// A validated filter, ready to test parameters with.
#[derive(Debug)]
enum Filter {
    Name {
        option: String,
        values: Vec<String>,
    },
    Path {
        recursive: bool,
        values: Vec<String>,
    },
    Field {
        field: Field,
        option: String,
        values: Vec<String>,
    },
    Tag {
        key: String,
        option: String,
        values: Vec<String>,
    },
    Label {
        values: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Type,
    KeyId,
    Tier,
    DataType,
}

const TYPES: [&str; 3] = ["String", "StringList", "SecureString"];
const TIERS: [&str; 3] = ["Standard", "Advanced", "Intelligent-Tiering"];

fn validate(filters: &[StringFilter], usage: Use) -> Result<Vec<Filter>, SsmError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        if !seen.insert(f.key.as_str()) {
            return Err(SsmError::Validation(format!(
                "The following filter is duplicated in the request: {}. A request can contain only one occurrence of a specific filter.",
                f.key
            )));
        }
        out.push(one(f, usage)?);
    }
    Ok(out)
}

fn one(f: &StringFilter, usage: Use) -> Result<Filter, SsmError> {
    let key = f.key.as_str();
    check_key(key, usage)?;
    let values = f.values.clone().unwrap_or_default();
    let tag = key.strip_prefix("tag:");
    if values.is_empty() && tag.is_none() {
        return Err(SsmError::InvalidFilterValue(format!(
            "The following filter values are missing : null for filter key {key}."
        )));
    }
    let given = f.option.as_deref();
    let eq_begins: &[&str] = &["Equals", "BeginsWith"];
    Ok(match key {
        "Name" => Filter::Name {
            option: option(given, &["Equals", "BeginsWith", "Contains"], "Equals")?,
            values,
        },
        "Path" => {
            let recursive = option(given, &["Recursive", "OneLevel"], "OneLevel")? == "Recursive";
            for v in &values {
                check_path(v)?;
            }
            Filter::Path { recursive, values }
        }
        "Label" => {
            option(given, &["Equals"], "Equals")?;
            Filter::Label { values }
        }
        "Type" => enumerated(
            Field::Type,
            &TYPES,
            option(given, eq_begins, "Equals")?,
            values,
        )?,
        "Tier" => enumerated(
            Field::Tier,
            &TIERS,
            option(given, eq_begins, "Equals")?,
            values,
        )?,
        "KeyId" | "DataType" => Filter::Field {
            field: if key == "KeyId" {
                Field::KeyId
            } else {
                Field::DataType
            },
            option: option(given, eq_begins, "Equals")?,
            values,
        },
        _ => Filter::Tag {
            key: tag.unwrap_or_default().to_owned(),
            option: option(given, eq_begins, "Equals")?,
            values,
        },
    })
}

/// The keys each operation accepts: GetParametersByPath only Type, KeyId and Label;
/// DescribeParameters all but Label.
fn check_key(key: &str, usage: Use) -> Result<(), SsmError> {
    let (allowed, valid) = match usage {
        Use::ByPath => (
            ["Type", "KeyId", "Label"].contains(&key),
            "[Type, KeyId, Label]",
        ),
        Use::Describe => (
            key != "Label",
            "[Name, Path, Type, KeyId, Tier, DataType, tag:<key>]",
        ),
    };
    if allowed {
        return Ok(());
    }
    Err(SsmError::InvalidFilterKey(format!(
        "The following filter key is not valid: {key}. Valid filter keys include: {valid}."
    )))
}

/// The filter's option (or the key's default), which must be one the key supports.
fn option(given: Option<&str>, allowed: &[&str], default: &str) -> Result<String, SsmError> {
    let o = given.unwrap_or(default);
    if allowed.contains(&o) {
        Ok(o.to_owned())
    } else {
        Err(SsmError::InvalidFilterOption(
            "The specified filter option isn't valid. Valid options are Equals and BeginsWith. For Path filter, valid options are Recursive and OneLevel.".into(),
        ))
    }
}

/// A filter on a field with a fixed set of values (Type, Tier): with `Equals`, every value
/// must be one of them.
fn enumerated(
    field: Field,
    valid: &[&str],
    option: String,
    values: Vec<String>,
) -> Result<Filter, SsmError> {
    if option == "Equals"
        && let Some(bad) = values.iter().find(|v| !valid.contains(&v.as_str()))
    {
        return Err(SsmError::InvalidFilterValue(format!(
            "The following filter value is not valid: {bad}. Valid values include: [{}].",
            valid.join(", ")
        )));
    }
    Ok(Filter::Field {
        field,
        option,
        values,
    })
}

fn check_path(path: &str) -> Result<(), SsmError> {
    let ok = path.starts_with('/')
        && (path == "/"
            || path
                .trim_end_matches('/')
                .strip_prefix('/')
                .is_some_and(|rest| {
                    rest.split('/')
                        .all(|s| !s.is_empty() && names::plausible(s))
                }));
    if !ok {
        return Err(SsmError::Validation(
            "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.".into(),
        ));
    }
    if path != "/" && names::levels(path.trim_end_matches('/')) > names::MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded(
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide.".into(),
        ));
    }
    Ok(())
}

/// The prefix names under `path` share (`/a` -> `/a/`, `/` -> `/`).
fn path_prefix(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    format!("{trimmed}/")
}

fn under(name: &str, path: &str, recursive: bool) -> bool {
    let prefix = path_prefix(path);
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

fn text_match(option: &str, candidate: &str, values: &[String]) -> bool {
    values.iter().any(|v| match option {
        "BeginsWith" => candidate.starts_with(v.as_str()),
        "Contains" => candidate.contains(v.as_str()),
        _ => candidate == v,
    })
}

impl Filter {
    fn matches(&self, p: &ParamRecord) -> bool {
        match self {
            Filter::Name { option, values } => {
                // AWS compares names without regard to the leading slash of a path.
                let bare = p.name.strip_prefix('/').unwrap_or(&p.name);
                let norm: Vec<String> = values
                    .iter()
                    .map(|v| v.strip_prefix('/').unwrap_or(v).to_owned())
                    .collect();
                text_match(option, bare, &norm)
            }
            Filter::Path { recursive, values } => {
                values.iter().any(|v| under(&p.name, v, *recursive))
            }
            Filter::Field {
                field,
                option,
                values,
            } => {
                let candidate = match field {
                    Field::Type => p.kind.as_str(),
                    Field::KeyId => p.key_id.as_deref().unwrap_or(""),
                    Field::Tier => p.tier.as_str(),
                    Field::DataType => p.data_type.as_str(),
                };
                text_match(option, candidate, values)
            }
            Filter::Tag {
                key,
                option,
                values,
            } => p
                .tags
                .iter()
                .any(|(k, v)| k == key && (values.is_empty() || text_match(option, v, values))),
            Filter::Label { values } => p.labels.keys().any(|l| values.contains(l)),
        }
    }
}

fn legacy(filters: &[LegacyFilter]) -> Vec<Filter> {
    filters
        .iter()
        .map(|f| match f.key.as_str() {
            "Name" => Filter::Name {
                option: "BeginsWith".into(),
                values: f.values.clone(),
            },
            "Type" => Filter::Field {
                field: Field::Type,
                option: "Equals".into(),
                values: f.values.clone(),
            },
            _ => Filter::Field {
                field: Field::KeyId,
                option: "Equals".into(),
                values: f.values.clone(),
            },
        })
        .collect()
}

fn decode_token(t: &str) -> Result<String, SsmError> {
    URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_token)
}

fn encode_token(name: &str) -> String {
    URL_SAFE_NO_PAD.encode(name)
}

/// Up to `max` parameters under `prefix` passing `keep`, after the token's name; and the
/// token of the next page when the scan stopped early.
fn page(
    call: &Call<'_>,
    prefix: &str,
    token: Option<&str>,
    max: usize,
    keep: &dyn Fn(&ParamRecord) -> bool,
) -> Result<(Vec<ParamRecord>, Option<String>), SsmError> {
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let mut after = token.map(decode_token).transpose()?;
    let mut out = Vec::new();
    loop {
        let rows = coffer_storage::read(call.state.store.as_ref(), |t| {
            store::scan_params(t, region, account, prefix, after.as_deref(), BATCH)
        })?;
        let exhausted = rows.len() < BATCH;
        for r in rows {
            after = Some(r.name.clone());
            if keep(&r) {
                out.push(r);
                if out.len() == max {
                    return Ok((out, after.map(|a| encode_token(&a))));
                }
            }
        }
        if exhausted {
            return Ok((out, None));
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ByPathInput {
    path: String,
    #[serde(default)]
    recursive: bool,
    #[serde(default)]
    parameter_filters: Vec<StringFilter>,
    #[serde(default)]
    with_decryption: bool,
    max_results: Option<usize>,
    next_token: Option<String>,
}

pub fn by_path(call: &Call<'_>, i: ByPathInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("path", Some(json!(i.path))),
        ("recursive", Some(json!(i.recursive))),
        ("withDecryption", Some(json!(i.with_decryption))),
    ]));
    let path = names::read_name(&i.path)?.to_owned();
    check_path(&path)?;
    let filters = validate(&i.parameter_filters, Use::ByPath)?;
    authorize(call, Operation::GetParametersByPath, &arn(call, &path))?;
    let max = i.max_results.unwrap_or(10);
    let prefix = path_prefix(&path);
    let keep = |p: &ParamRecord| {
        under(&p.name, &path, i.recursive) && filters.iter().all(|f| f.matches(p))
    };
    let (found, next) = page(call, &prefix, i.next_token.as_deref(), max, &keep)?;
    let mut out = Vec::with_capacity(found.len());
    for p in &found {
        let v = coffer_storage::read(call.state.store.as_ref(), |t| {
            store::load_version(t, p, p.version)
        })?
        .ok_or_else(|| SsmError::Internal("missing version record".into()))?;
        out.push(params::parameter_json(
            call,
            p,
            &v,
            &Selector::Latest,
            i.with_decryption,
            audit,
        )?);
    }
    let mut reply = json!({ "Parameters": out });
    if let Some(n) = next {
        reply["NextToken"] = json!(n);
    }
    Ok(reply)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInput {
    #[serde(default)]
    filters: Vec<LegacyFilter>,
    #[serde(default)]
    parameter_filters: Vec<StringFilter>,
    max_results: Option<usize>,
    next_token: Option<String>,
    #[serde(default)]
    shared: bool,
}

pub fn describe(
    call: &Call<'_>,
    i: DescribeInput,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([(
        "maxResults",
        i.max_results.map(|m| json!(m)),
    )]));
    if !i.filters.is_empty() && !i.parameter_filters.is_empty() {
        return Err(SsmError::Validation(
            "You can use either Filters or ParameterFilters in a single request.".into(),
        ));
    }
    let filters = if i.filters.is_empty() {
        validate(&i.parameter_filters, Use::Describe)?
    } else {
        legacy(&i.filters)
    };
    let resource = format!(
        "arn:aws:ssm:{}:{}:*",
        call.ctx.region.as_str(),
        call.ctx.principal.account
    );
    authorize(call, Operation::DescribeParameters, &resource)?;
    let max = i.max_results.unwrap_or(50);
    // `Shared` lists parameters other accounts share with the caller; coffer shares none.
    if i.shared {
        return Ok(json!({ "Parameters": [] }));
    }
    let keep = |p: &ParamRecord| filters.iter().all(|f| f.matches(p));
    let (found, next) = page(call, "", i.next_token.as_deref(), max, &keep)?;
    let list: Vec<Value> = found.iter().map(metadata_json).collect();
    let mut reply = json!({ "Parameters": list });
    if let Some(n) = next {
        reply["NextToken"] = json!(n);
    }
    Ok(reply)
}

fn metadata_json(p: &ParamRecord) -> Value {
    let mut out = json!({
        "Name": p.name,
        "ARN": p.arn(),
        "Type": p.kind,
        "LastModifiedDate": epoch(p.modified),
        "LastModifiedUser": p.modified_user,
        "Version": p.version,
        "Tier": p.tier,
        "Policies": policies::json(&p.policies),
        "DataType": p.data_type,
    });
    optional(&mut out, "KeyId", p.key_id.as_deref());
    optional(&mut out, "Description", p.description.as_deref());
    optional(&mut out, "AllowedPattern", p.allowed_pattern.as_deref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(under("/a/b", "/a", false));
        assert!(under("/a/b", "/a/", false));
        assert!(!under("/a/b/c", "/a", false));
        assert!(under("/a/b/c", "/a", true));
        assert!(!under("/ab/c", "/a", true));
        assert!(under("/x", "/", false));
        assert!(!under("x", "/", true));
        assert!(check_path("/").is_ok());
        assert!(check_path("/a/b/").is_ok());
        assert!(check_path("a/b").is_err());
        assert!(check_path("/a//b").is_err());
    }

    fn f(key: &str, option: Option<&str>, values: &[&str]) -> StringFilter {
        StringFilter {
            key: key.into(),
            option: option.map(Into::into),
            values: Some(values.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn filter_rules() {
        assert!(validate(&[f("Name", Some("Contains"), &["x"])], Use::Describe).is_ok());
        assert!(matches!(
            validate(&[f("Name", None, &["x"])], Use::ByPath),
            Err(SsmError::InvalidFilterKey(_))
        ));
        assert!(matches!(
            validate(&[f("Label", None, &["x"])], Use::Describe),
            Err(SsmError::InvalidFilterKey(_))
        ));
        assert!(matches!(
            validate(&[f("Type", Some("Contains"), &["String"])], Use::Describe),
            Err(SsmError::InvalidFilterOption(_))
        ));
        assert!(matches!(
            validate(&[f("Type", None, &["Nope"])], Use::Describe),
            Err(SsmError::InvalidFilterValue(_))
        ));
        assert!(matches!(
            validate(&[f("Type", None, &[])], Use::Describe),
            Err(SsmError::InvalidFilterValue(_))
        ));
        assert!(validate(&[f("tag:env", None, &[])], Use::Describe).is_ok());
        assert!(matches!(
            validate(
                &[f("Type", None, &["String"]), f("Type", None, &["String"])],
                Use::Describe
            ),
            Err(SsmError::Validation(_))
        ));
    }
}
