//! The query protocol's request side (IAM, STS): `Action=...&Version=...&Param=...` from a
//! form-encoded body or the URL, with AWS's flattened list and map conventions.

use crate::error::WireError;
use http::StatusCode;
use std::collections::BTreeMap;

/// The form content type query clients send.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A decoded query-protocol request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    pub action: String,
    pub version: Option<String>,
    params: BTreeMap<String, String>,
}

/// `MissingAction`: the request names no action at all.
pub fn missing_action() -> WireError {
    WireError::sender(StatusCode::BAD_REQUEST, "MissingAction", "Missing Action")
}

/// `InvalidAction`: the action is not one this service has.
pub fn invalid_action(action: &str, version: Option<&str>) -> WireError {
    WireError::sender(
        StatusCode::BAD_REQUEST,
        "InvalidAction",
        format!(
            "Could not find operation {action} for version {}",
            version.unwrap_or("NO_VERSION_SPECIFIED")
        ),
    )
}

/// `ValidationError`, the query protocol's constraint-violation code.
pub fn validation_error(message: impl Into<String>) -> WireError {
    WireError::sender(StatusCode::BAD_REQUEST, "ValidationError", message)
}

/// AWS names members in validation messages in lowerCamelCase (`userName`).
fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl QueryRequest {
    /// Decodes a POST: parameters from the URL query and the form body, the body winning.
    pub fn from_form(uri_query: Option<&str>, body: &[u8]) -> Result<Self, WireError> {
        let mut params = decode(uri_query.unwrap_or("").as_bytes());
        params.extend(decode(body));
        Self::from_params(params)
    }

    /// Decodes a GET: parameters from the URL query only.
    pub fn from_query(uri_query: &str) -> Result<Self, WireError> {
        Self::from_params(decode(uri_query.as_bytes()))
    }

    /// Decodes either form of request, choosing by method and content type.
    pub fn from_request(parts: &http::request::Parts, body: &[u8]) -> Result<Self, WireError> {
        let is_form = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with(FORM_CONTENT_TYPE));
        if parts.method == http::Method::POST && is_form {
            Self::from_form(parts.uri.query(), body)
        } else {
            Self::from_query(parts.uri.query().unwrap_or(""))
        }
    }

    fn from_params(mut params: BTreeMap<String, String>) -> Result<Self, WireError> {
        let action = params
            .remove("Action")
            .filter(|a| !a.is_empty())
            .ok_or_else(missing_action)?;
        let version = params.remove("Version");
        Ok(Self {
            action,
            version,
            params,
        })
    }

    /// A parameter, if present (an empty value counts as present).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A required parameter; absence is IAM's "Value null ... must not be null" error.
    pub fn required(&self, name: &str) -> Result<&str, WireError> {
        self.get(name).ok_or_else(|| {
            validation_error(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy \
                 constraint: Member must not be null",
                lower_camel(name)
            ))
        })
    }

    /// All parameters (for audit logs and generic handlers).
    pub fn params(&self) -> &BTreeMap<String, String> {
        &self.params
    }

    /// Members `{prefix}.1`, `{prefix}.2`, ... in index order (e.g. `prefix` =
    /// `"PolicyArns.member"` for a list of strings).
    pub fn list(&self, prefix: &str) -> Vec<&str> {
        let mut items: Vec<(u32, &str)> = self
            .indexed(prefix)
            .into_iter()
            .filter(|(_, rest, _)| rest.is_empty())
            .map(|(i, _, v)| (i, v))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// Members that are structures: `{prefix}.N.{Field}` grouped by N in index order
    /// (e.g. `"Tags.member"` yields maps with `Key` and `Value`).
    pub fn list_structs(&self, prefix: &str) -> Vec<BTreeMap<&str, &str>> {
        let mut groups: BTreeMap<u32, BTreeMap<&str, &str>> = BTreeMap::new();
        for (i, rest, v) in self.indexed(prefix) {
            if let Some(field) = rest.strip_prefix('.').filter(|f| !f.is_empty()) {
                groups.entry(i).or_default().insert(field, v);
            }
        }
        groups.into_values().collect()
    }

    /// A flattened map: `{prefix}.N.key` / `{prefix}.N.value` pairs (e.g.
    /// `"Attributes.entry"`), later indexes winning on duplicate keys.
    pub fn map(&self, prefix: &str) -> BTreeMap<&str, &str> {
        self.list_structs(prefix)
            .into_iter()
            .filter_map(|m| Some((*m.get("key")?, *m.get("value")?)))
            .collect()
    }

    /// `(index, remainder after the index, value)` for every `{prefix}.{index}...` key.
    fn indexed(&self, prefix: &str) -> Vec<(u32, &str, &str)> {
        self.params
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(prefix)?.strip_prefix('.')?;
                let digits = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let (num, tail) = rest.split_at(digits);
                let index: u32 = num.parse().ok().filter(|n| *n >= 1)?;
                Some((index, tail, v.as_str()))
            })
            .collect()
    }
}

fn decode(bytes: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req(body: &str) -> QueryRequest {
        QueryRequest::from_form(None, body.as_bytes()).unwrap()
    }

    #[test]
    fn action_version_and_params() {
        let r = req("Action=CreateUser&Version=2010-05-08&UserName=al%20ice&Path=%2F");
        assert_eq!(r.action, "CreateUser");
        assert_eq!(r.version.as_deref(), Some("2010-05-08"));
        assert_eq!(r.get("UserName"), Some("al ice"));
        assert_eq!(r.required("Path").unwrap(), "/");
        assert_eq!(r.get("Action"), None);
        let e = r.required("GroupName").unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.status),
            ("ValidationError", StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'groupName' failed to satisfy \
             constraint: Member must not be null"
        );
    }

    #[test]
    fn missing_and_invalid_action() {
        let e = QueryRequest::from_form(None, b"Version=1").unwrap_err();
        assert_eq!(e.code, "MissingAction");
        let e = invalid_action("Frobnicate", Some("2010-05-08"));
        assert_eq!(
            e.message,
            "Could not find operation Frobnicate for version 2010-05-08"
        );
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn body_wins_over_url_and_get_uses_url() {
        let r = QueryRequest::from_form(Some("Action=A&X=url"), b"X=body").unwrap();
        assert_eq!((r.action.as_str(), r.get("X")), ("A", Some("body")));
        let r = QueryRequest::from_query("Action=GetCallerIdentity&Version=2011-06-15").unwrap();
        assert_eq!(r.action, "GetCallerIdentity");
    }

    #[test]
    fn from_request_picks_the_source() {
        let (p, ()) = http::Request::builder()
            .method("POST")
            .uri("/")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(
            QueryRequest::from_request(&p, b"Action=ListUsers")
                .unwrap()
                .action,
            "ListUsers"
        );
        let (p, ()) = http::Request::builder()
            .uri("/?Action=ListRoles")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(
            QueryRequest::from_request(&p, b"Action=Ignored")
                .unwrap()
                .action,
            "ListRoles"
        );
    }

    #[test]
    fn lists_structs_and_maps() {
        let r = req(
            "Action=A&PolicyArns.member.10=j&PolicyArns.member.2=b&PolicyArns.member.1=a\
             &PolicyArns.member.0=zero&PolicyArns.memberX.1=no\
             &Tags.member.2.Key=k2&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Value=v2\
             &Attr.entry.1.key=a&Attr.entry.1.value=1&Attr.entry.2.key=b",
        );
        assert_eq!(r.list("PolicyArns.member"), vec!["a", "b", "j"]);
        let tags = r.list_structs("Tags.member");
        assert_eq!(tags.len(), 2);
        assert_eq!((tags[0]["Key"], tags[0]["Value"]), ("k1", "v1"));
        assert_eq!((tags[1]["Key"], tags[1]["Value"]), ("k2", "v2"));
        let m = r.map("Attr.entry");
        assert_eq!(m.len(), 1);
        assert_eq!(m["a"], "1");
        assert!(r.list("Nothing.member").is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(body in prop::collection::vec(any::<u8>(), 0..256), q in "\\PC{0,64}") {
            if let Ok(r) = QueryRequest::from_form(Some(&q), &body) {
                let _ = r.list("A.member");
                let _ = r.list_structs("A.member");
                let _ = r.map("A.entry");
                let _ = r.required("X");
            }
            let _ = QueryRequest::from_query(&q);
        }

        #[test]
        fn list_round_trips(items in prop::collection::vec("\\PC{0,12}", 0..12)) {
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.append_pair("Action", "A");
            for (i, v) in items.iter().enumerate() {
                body.append_pair(&format!("L.member.{}", i + 1), v);
            }
            let r = req(&body.finish());
            prop_assert_eq!(r.list("L.member"), items.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
