//! The CloudTrail record shape. Field names follow CloudTrail's record contents exactly, so
//! that tools which read CloudTrail JSON (and the `CloudTrailEvent` string of
//! `LookupEvents`) read coffer's events unchanged.

use crate::json::Object;
use coffer_types::{AccountId, Principal, PrincipalKind, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::net::IpAddr;
use time::OffsetDateTime;

/// The record format version coffer writes; CloudTrail's minor versions only add fields.
pub const EVENT_VERSION: &str = "1.09";

/// What replaces a redacted value, as CloudTrail itself writes it.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Field names whose values never belong in an audit record: plaintexts, secret values,
/// credentials. Matched case-insensitively, since `requestParameters` use camelCase while
/// the wire uses PascalCase. `Value` is included because SSM SecureString values travel in
/// it; the price is that tag values are hidden too, which errs on the safe side.
pub const DEFAULT_REDACTED_FIELDS: &[&str] = &[
    "Plaintext",
    "PrivateKeyPlaintext",
    "SecretString",
    "SecretBinary",
    "RandomPassword",
    "SecretAccessKey",
    "SessionToken",
    "Password",
    "Value",
    "KeyMaterial",
    "SSECustomerKey",
    "CopySourceSSECustomerKey",
    "x-amz-server-side-encryption-customer-key",
];

/// One CloudTrail record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Constant for the events coffer writes; borrowed so that building one allocates less.
    pub event_version: Cow<'static, str>,
    pub user_identity: UserIdentity,
    #[serde(with = "event_time")]
    pub event_time: OffsetDateTime,
    /// A service's constant name (`kms.amazonaws.com`) in the events coffer writes.
    pub event_source: Cow<'static, str>,
    pub event_name: String,
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    pub user_agent: String,
    /// `null` when the operation has no (loggable) input, as CloudTrail writes it.
    #[serde(default)]
    pub request_parameters: Option<Value>,
    #[serde(default)]
    pub response_elements: Option<Value>,
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// CloudTrail's `additionalEventData`. coffer puts here, as `errorDetail`, why a call
    /// failed when the answer on the wire deliberately says less (a ciphertext that did
    /// not decrypt, an internal failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    pub event_type: Cow<'static, str>,
    pub management_event: bool,
    /// The account the event is delivered to; `None` only for failed authentications whose
    /// access key matched no account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_account_id: Option<AccountId>,
    pub event_category: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

/// CloudTrail's `userIdentity`. Everything but `type` is optional because a failed
/// authentication may know nothing but an access key id, or not even that.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// One of CloudTrail's constant identity types.
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
    /// The AWS service that made the call for this identity (`secretsmanager.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<SessionIssuer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SessionAttributes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub kind: String,
    pub principal_id: String,
    pub arn: String,
    pub account_id: String,
    pub user_name: String,
}

/// CloudTrail writes `mfaAuthenticated` as the string `"true"`/`"false"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    pub mfa_authenticated: String,
}

/// One entry of `resources`: note CloudTrail's upper-case `ARN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "ARN")]
    pub arn: String,
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// A constant resource type (`AWS::KMS::Key`).
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

/// What the server knows about a request whose caller could not be authenticated.
#[derive(Debug, Clone)]
pub struct FailedAuthentication {
    pub request_id: String,
    pub region: String,
    pub source_ip: IpAddr,
    pub user_agent: String,
    pub time: OffsetDateTime,
    pub event_source: String,
    pub event_name: String,
    /// The access key the request claimed, if it named one.
    pub access_key_id: Option<String>,
    /// The account owning that access key, if it exists.
    pub account: Option<AccountId>,
    pub error_code: String,
    pub error_message: String,
}

impl UserIdentity {
    /// The identity of an authenticated caller, shaped as CloudTrail writes each kind.
    pub fn from_principal(p: &Principal) -> Self {
        let account = p.account.as_str().to_owned();
        Self {
            kind: Cow::Borrowed(p.kind.cloudtrail_type()),
            principal_id: Some(p.user_id.clone()),
            arn: Some(p.arn.clone()),
            account_id: Some(account.clone()),
            access_key_id: Some(p.access_key_id.clone()),
            user_name: p.user_name.clone(),
            session_context: session_context(p, &account),
            invoked_by: None,
        }
    }

    /// A caller about whom nothing was established.
    pub fn unknown(access_key_id: Option<String>) -> Self {
        Self {
            kind: Cow::Borrowed("Unknown"),
            access_key_id,
            ..Self::default()
        }
    }
}

fn session_context(p: &Principal, account: &str) -> Option<SessionContext> {
    if p.kind != PrincipalKind::AssumedRole {
        return None;
    }
    let role_arn = p.role_arn.clone().unwrap_or_default();
    let issuer = SessionIssuer {
        kind: "Role".to_owned(),
        principal_id: p.user_id.split(':').next().unwrap_or_default().to_owned(),
        user_name: role_arn.rsplit('/').next().unwrap_or_default().to_owned(),
        arn: role_arn,
        account_id: account.to_owned(),
    };
    let attributes = SessionAttributes {
        creation_date: None,
        mfa_authenticated: "false".to_owned(),
    };
    Some(SessionContext {
        session_issuer: Some(issuer),
        attributes: Some(attributes),
    })
}

/// `ip` as text in one allocation: `to_string` writes an address a piece at a time and
/// regrows the string as it goes.
fn ip_text(ip: IpAddr) -> String {
    use std::fmt::Write as _;
    // The longest text form: an IPv4-mapped IPv6 address, 45 characters.
    let mut s = String::with_capacity(45);
    let _ = write!(s, "{ip}");
    s
}

impl AuditEvent {
    /// A management `AwsApiCall` by an authenticated caller, delivered to the caller's
    /// account. Fill in parameters, resources and errors with the `with_*` methods.
    pub fn api_call(
        ctx: &RequestContext,
        event_source: &'static str,
        event_name: &str,
        read_only: bool,
    ) -> Self {
        Self {
            event_version: Cow::Borrowed(EVENT_VERSION),
            user_identity: UserIdentity::from_principal(&ctx.principal),
            event_time: ctx.time,
            event_source: Cow::Borrowed(event_source),
            event_name: event_name.to_owned(),
            aws_region: ctx.region.as_str().to_owned(),
            source_ip_address: ip_text(ctx.source_ip),
            user_agent: ctx.user_agent.clone(),
            request_parameters: None,
            response_elements: None,
            request_id: ctx.request_id.clone(),
            event_id: random_uuid(),
            read_only,
            resources: Vec::new(),
            error_code: None,
            error_message: None,
            additional_event_data: None,
            event_type: Cow::Borrowed("AwsApiCall"),
            management_event: true,
            recipient_account_id: Some(ctx.principal.account),
            event_category: Cow::Borrowed("Management"),
            tls_details: None,
        }
    }

    /// An `AwsServiceEvent`: something a service did by itself (a rotation, a parameter
    /// policy acting), recorded with the service (`secretsmanager.amazonaws.com`) as the
    /// identity, source and user agent, and delivered to the resource's account.
    pub fn service_event(
        service: &str,
        event_name: &str,
        region: &str,
        account: AccountId,
        time: OffsetDateTime,
    ) -> Self {
        Self {
            event_version: Cow::Borrowed(EVENT_VERSION),
            user_identity: UserIdentity {
                kind: Cow::Borrowed("AWSService"),
                invoked_by: Some(service.to_owned()),
                ..UserIdentity::default()
            },
            event_time: time,
            event_source: Cow::Owned(service.to_owned()),
            event_name: event_name.to_owned(),
            aws_region: region.to_owned(),
            source_ip_address: service.to_owned(),
            user_agent: service.to_owned(),
            request_parameters: None,
            response_elements: None,
            request_id: String::new(),
            event_id: random_uuid(),
            read_only: false,
            resources: Vec::new(),
            error_code: None,
            error_message: None,
            additional_event_data: None,
            event_type: Cow::Borrowed("AwsServiceEvent"),
            management_event: true,
            recipient_account_id: Some(account),
            event_category: Cow::Borrowed("Management"),
            tls_details: None,
        }
    }

    /// A request rejected before its caller was known (bad signature, unknown key...).
    /// Recording these is what lets threat detection see credential probing.
    pub fn failed_authentication(f: &FailedAuthentication) -> Self {
        Self {
            event_version: Cow::Borrowed(EVENT_VERSION),
            user_identity: UserIdentity::unknown(f.access_key_id.clone()),
            event_time: f.time,
            event_source: Cow::Owned(f.event_source.clone()),
            event_name: f.event_name.clone(),
            aws_region: f.region.clone(),
            source_ip_address: f.source_ip.to_string(),
            user_agent: f.user_agent.clone(),
            request_parameters: None,
            response_elements: None,
            request_id: f.request_id.clone(),
            event_id: random_uuid(),
            read_only: false,
            resources: Vec::new(),
            error_code: Some(f.error_code.clone()),
            error_message: Some(f.error_message.clone()),
            additional_event_data: None,
            event_type: Cow::Borrowed("AwsApiCall"),
            management_event: true,
            recipient_account_id: f.account,
            event_category: Cow::Borrowed("Management"),
            tls_details: None,
        }
    }

    pub fn with_request(mut self, params: Value) -> Self {
        self.request_parameters = Some(params);
        self
    }

    pub fn with_response(mut self, elements: Value) -> Self {
        self.response_elements = Some(elements);
        self
    }

    pub fn with_resource(mut self, arn: String, account: AccountId, kind: &'static str) -> Self {
        self.resources.push(Resource {
            arn,
            account_id: account.as_str().to_owned(),
            kind: Cow::Borrowed(kind),
        });
        self
    }

    /// Records why the call failed beyond what its error message says (see
    /// [`AuditEvent::additional_event_data`]).
    pub fn with_error_detail(mut self, detail: String) -> Self {
        self.additional_event_data = Some(serde_json::json!({ "errorDetail": detail }));
        self
    }

    pub fn with_error(mut self, code: &str, message: &str) -> Self {
        self.error_code = Some(code.to_owned());
        self.error_message = Some(message.to_owned());
        self
    }

    /// Deliver to another account, e.g. the key owner of a cross-account call.
    pub fn with_recipient(mut self, account: AccountId) -> Self {
        self.recipient_account_id = Some(account);
        self
    }

    /// Marks a call that an AWS service made on the identity's behalf: CloudTrail names
    /// the service as `invokedBy`, source address and user agent.
    pub fn invoked_by(mut self, service: &str) -> Self {
        self.user_identity.invoked_by = Some(service.to_owned());
        self.source_ip_address = service.to_owned();
        self.user_agent = service.to_owned();
        self
    }

    pub fn with_tls(mut self, tls: TlsDetails) -> Self {
        self.tls_details = Some(tls);
        self
    }

    /// The name `LookupEvents` reports as `Username`: the IAM user name, the role session
    /// name for assumed roles, `root` for the root user.
    pub fn username(&self) -> Option<String> {
        let id = &self.user_identity;
        if let Some(name) = &id.user_name {
            return Some(name.clone());
        }
        match id.kind.as_ref() {
            "Root" => Some("root".to_owned()),
            "AssumedRole" => id
                .arn
                .as_deref()
                .and_then(|a| a.rsplit('/').next())
                .map(str::to_owned),
            _ => None,
        }
    }
}

impl AuditEvent {
    /// Appends the event as JSON: exactly what `serde_json::to_writer` writes for it (a
    /// test holds the two together), written directly because every request serializes
    /// one or two of these and `serde_json` is slow on their strings (see [`crate::json`]).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let mut o = Object::open(out);
        o.str("eventVersion", &self.event_version);
        self.user_identity.write_json(o.name("userIdentity"));
        event_time::with_text(self.event_time, |t| o.str("eventTime", t))
            .map_err(<serde_json::Error as serde::ser::Error>::custom)?;
        o.str("eventSource", &self.event_source);
        o.str("eventName", &self.event_name);
        o.str("awsRegion", &self.aws_region);
        o.str("sourceIPAddress", &self.source_ip_address);
        o.str("userAgent", &self.user_agent);
        o.value(
            "requestParameters",
            self.request_parameters.as_ref().unwrap_or(&Value::Null),
        )?;
        o.value(
            "responseElements",
            self.response_elements.as_ref().unwrap_or(&Value::Null),
        )?;
        o.str("requestID", &self.request_id);
        o.str("eventID", &self.event_id);
        o.bool("readOnly", self.read_only);
        if !self.resources.is_empty() {
            let out = o.name("resources");
            out.push(b'[');
            for (i, r) in self.resources.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let mut ro = Object::open(out);
                ro.str("ARN", &r.arn);
                ro.str("accountId", &r.account_id);
                ro.str("type", &r.kind);
                ro.close();
            }
            out.push(b']');
        }
        o.opt_str("errorCode", self.error_code.as_deref());
        o.opt_str("errorMessage", self.error_message.as_deref());
        if let Some(data) = &self.additional_event_data {
            o.value("additionalEventData", data)?;
        }
        o.str("eventType", &self.event_type);
        o.bool("managementEvent", self.management_event);
        o.opt_str(
            "recipientAccountId",
            self.recipient_account_id.as_ref().map(AccountId::as_str),
        );
        o.str("eventCategory", &self.event_category);
        if let Some(tls) = &self.tls_details {
            let mut t = Object::open(o.name("tlsDetails"));
            t.str("tlsVersion", &tls.tls_version);
            t.str("cipherSuite", &tls.cipher_suite);
            t.str("clientProvidedHostHeader", &tls.client_provided_host_header);
            t.close();
        }
        o.close();
        Ok(())
    }
}

impl UserIdentity {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::open(out);
        o.str("type", &self.kind);
        o.opt_str("principalId", self.principal_id.as_deref());
        o.opt_str("arn", self.arn.as_deref());
        o.opt_str("accountId", self.account_id.as_deref());
        o.opt_str("accessKeyId", self.access_key_id.as_deref());
        o.opt_str("userName", self.user_name.as_deref());
        if let Some(ctx) = &self.session_context {
            let mut c = Object::open(o.name("sessionContext"));
            if let Some(i) = &ctx.session_issuer {
                let mut io = Object::open(c.name("sessionIssuer"));
                io.str("type", &i.kind);
                io.str("principalId", &i.principal_id);
                io.str("arn", &i.arn);
                io.str("accountId", &i.account_id);
                io.str("userName", &i.user_name);
                io.close();
            }
            if let Some(a) = &ctx.attributes {
                let mut ao = Object::open(c.name("attributes"));
                ao.opt_str("creationDate", a.creation_date.as_deref());
                ao.str("mfaAuthenticated", &a.mfa_authenticated);
                ao.close();
            }
            c.close();
        }
        o.opt_str("invokedBy", self.invoked_by.as_deref());
        o.close();
    }
}

/// A random (v4) UUID from the crypto crate's CSPRNG: the form of CloudTrail's `eventID`
/// and of the request ids AWS services return.
pub fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    coffer_crypto::fill_unique(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Replaces, at any depth, the value of every member whose name is in `fields`
/// (case-insensitively) with [`HIDDEN`]. A last line of defence: callers are expected to
/// leave secrets out in the first place.
pub fn redact<S: AsRef<str>>(value: &mut Value, fields: &[S]) {
    match value {
        Value::Object(map) => {
            for (name, v) in map.iter_mut() {
                if !v.is_null() && fields.iter().any(|f| f.as_ref().eq_ignore_ascii_case(name)) {
                    *v = Value::String(HIDDEN.to_owned());
                } else {
                    redact(v, fields);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, fields)),
        _ => {}
    }
}

/// Redacts the request parameters and response elements of an event.
pub fn redact_event<S: AsRef<str>>(event: &mut AuditEvent, fields: &[S]) {
    for v in [&mut event.request_parameters, &mut event.response_elements]
        .into_iter()
        .flatten()
    {
        redact(v, fields);
    }
}

/// `eventTime` as CloudTrail writes it: UTC, whole seconds, `Z` suffix.
pub(crate) mod event_time {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _, ser::Error as _};
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{OffsetDateTime, UtcOffset};

    pub fn format(t: OffsetDateTime) -> Result<String, time::error::Format> {
        with_text(t, str::to_owned)
    }

    /// Calls `f` with the time as text: from the stack when [`fixed`] can write it, else
    /// through [`general`]. The one place that chooses, for every writer of the time.
    pub(crate) fn with_text<R>(
        t: OffsetDateTime,
        f: impl FnOnce(&str) -> R,
    ) -> Result<R, time::error::Format> {
        let buf = fixed(t);
        match buf.as_ref().and_then(|b| std::str::from_utf8(b).ok()) {
            Some(text) => Ok(f(text)),
            None => general(t).map(|text| f(&text)),
        }
    }

    /// Any representable time, through `time`'s formatter.
    pub(super) fn general(t: OffsetDateTime) -> Result<String, time::error::Format> {
        let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        t.to_offset(UtcOffset::UTC).format(fmt)
    }

    /// `YYYY-MM-DDThh:mm:ssZ` for years 0 to 9999 (every time coffer writes), digit by
    /// digit on the stack: every record has one, and `time`'s general formatter costs
    /// several times as much and allocates.
    fn fixed(t: OffsetDateTime) -> Option<[u8; 20]> {
        let t = t.to_offset(UtcOffset::UTC);
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut buf = *b"0000-00-00T00:00:00Z";
        let digits = |buf: &mut [u8], mut n: u32| {
            for b in buf.iter_mut().rev() {
                *b = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        digits(&mut buf[0..4], year);
        digits(&mut buf[5..7], u8::from(t.month()).into());
        digits(&mut buf[8..10], t.day().into());
        digits(&mut buf[11..13], t.hour().into());
        digits(&mut buf[14..16], t.minute().into());
        digits(&mut buf[17..19], t.second().into());
        Some(buf)
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        with_text(*t, |text| s.serialize_str(text)).map_err(S::Error::custom)?
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    proptest::proptest! {
        /// The digit-by-digit event time agrees with `time`'s formatter, offsets included.
        #[test]
        fn event_time_matches_the_general_formatter(
            secs in -62_167_132_800i64..253_402_214_400,
            offset in -86_399i32..86_400,
        ) {
            let t = OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .to_offset(time::UtcOffset::from_whole_seconds(offset).unwrap());
            proptest::prop_assert_eq!(
                event_time::format(t).unwrap(),
                event_time::general(t).unwrap()
            );
        }
    }

    /// Text with everything JSON escapes, and multi-byte characters.
    const TEXT: &str = "(\\PC|[\u{0}-\u{1f}\"\\\\]){0,40}";

    fn opt(text: String, some: bool) -> Option<String> {
        some.then_some(text)
    }

    proptest::proptest! {
        /// `write_json` writes what `serde_json` writes for the event, whichever optional
        /// parts it has. The literal names every field, so a new field fails to compile
        /// here until it is added to the test, and then the test until `write_json`
        /// writes it.
        #[test]
        fn write_json_matches_serde_json(
            t in proptest::collection::vec(TEXT, 16),
            some in proptest::collection::vec(proptest::bool::ANY, 16),
            secs in -62_167_219_201i64..253_402_214_400,
            n in proptest::num::i64::ANY,
        ) {
            let s = |i: usize| t[i].clone();
            let params = json!({ "Name": s(0), "Nested": [s(1), n, 0.5, true, null, {}] });
            let event = AuditEvent {
                event_version: Cow::Owned(s(2)),
                user_identity: UserIdentity {
                    kind: Cow::Owned(s(3)),
                    principal_id: opt(s(4), some[0]),
                    arn: opt(s(5), some[1]),
                    account_id: opt(s(6), some[2]),
                    access_key_id: opt(s(7), some[3]),
                    user_name: opt(s(8), some[4]),
                    session_context: some[5].then(|| SessionContext {
                        session_issuer: some[6].then(|| SessionIssuer {
                            kind: s(9),
                            principal_id: s(10),
                            arn: s(11),
                            account_id: s(12),
                            user_name: s(13),
                        }),
                        attributes: some[7].then(|| SessionAttributes {
                            creation_date: opt(s(14), some[8]),
                            mfa_authenticated: s(15),
                        }),
                    }),
                    invoked_by: opt(s(0), some[9]),
                },
                event_time: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
                event_source: Cow::Owned(s(1)),
                event_name: s(2),
                aws_region: s(3),
                source_ip_address: s(4),
                user_agent: s(5),
                request_parameters: some[10].then(|| params.clone()),
                response_elements: some[11].then(|| json!({ "K": s(6) })),
                request_id: s(7),
                event_id: s(8),
                read_only: some[12],
                resources: if some[13] {
                    vec![
                        Resource { arn: s(9), account_id: s(10), kind: Cow::Owned(s(11)) },
                        Resource { arn: s(12), account_id: s(13), kind: Cow::Borrowed("T") },
                    ]
                } else {
                    Vec::new()
                },
                error_code: opt(s(14), some[14]),
                error_message: opt(s(15), some[15]),
                additional_event_data: some[0].then(|| params.clone()),
                event_type: Cow::Owned(s(0)),
                management_event: some[1],
                recipient_account_id: some[2].then(|| "000011112222".parse().unwrap()),
                event_category: Cow::Owned(s(1)),
                tls_details: some[3].then(|| TlsDetails {
                    tls_version: s(2),
                    cipher_suite: s(3),
                    client_provided_host_header: s(4),
                }),
            };
            let mut ours = Vec::new();
            event.write_json(&mut ours).unwrap();
            proptest::prop_assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&event).unwrap()
            );
        }
    }

    #[test]
    fn event_time_before_year_0_falls_back_to_the_general_formatter() {
        let t = OffsetDateTime::from_unix_timestamp(-62_167_219_201).unwrap();
        assert_eq!(t.year(), -1);
        assert_eq!(event_time::format(t).unwrap(), "-0001-12-31T23:59:59Z");
    }

    /// Request ids (the `x-amzn-RequestId` header, CloudTrail's `requestID`) and event ids
    /// are random UUIDs in AWS's form: version 4, RFC 4122 variant, lower-case hyphenated.
    #[test]
    fn random_uuids_have_the_aws_form_and_never_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| random_uuid()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(*id, u.hyphenated().to_string(), "{id}");
        }
    }

    fn principal(kind: PrincipalKind) -> Principal {
        let account: AccountId = "111122223333".parse().unwrap();
        let (arn, role_arn, user_name) = match kind {
            PrincipalKind::AssumedRole => (
                "arn:aws:sts::111122223333:assumed-role/Admin/alice-session".to_owned(),
                Some("arn:aws:iam::111122223333:role/Admin".to_owned()),
                None,
            ),
            PrincipalKind::IamUser => (
                "arn:aws:iam::111122223333:user/alice".to_owned(),
                None,
                Some("alice".to_owned()),
            ),
            PrincipalKind::Root => ("arn:aws:iam::111122223333:root".to_owned(), None, None),
        };
        Principal {
            kind,
            account,
            arn,
            user_id: "AROAEXAMPLE:alice-session".to_owned(),
            access_key_id: "ASIAEXAMPLE".to_owned(),
            role_arn,
            user_name,
        }
    }

    fn ctx(kind: PrincipalKind) -> RequestContext {
        RequestContext {
            request_id: "req-1".to_owned(),
            principal: principal(kind),
            region: "us-east-1".parse().unwrap(),
            source_ip: "192.0.2.1".parse().unwrap(),
            user_agent: "aws-cli/2".to_owned(),
            secure_transport: true,
            time: datetime!(2026-01-01 0:00:00.25 UTC),
        }
    }

    #[test]
    fn serializes_with_cloudtrail_field_names() {
        let account: AccountId = "111122223333".parse().unwrap();
        let ev = AuditEvent::api_call(
            &ctx(PrincipalKind::IamUser),
            "kms.amazonaws.com",
            "Encrypt",
            false,
        )
        .with_request(json!({"keyId": "alias/a"}))
        .with_resource(
            "arn:aws:kms:us-east-1:111122223333:key/k".to_owned(),
            account,
            "AWS::KMS::Key",
        );
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["eventVersion"], "1.09");
        assert_eq!(v["eventTime"], "2026-01-01T00:00:00Z");
        assert_eq!(v["sourceIPAddress"], "192.0.2.1");
        assert_eq!(v["requestID"], "req-1");
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["userName"], "alice");
        assert_eq!(
            v["resources"][0]["ARN"],
            "arn:aws:kms:us-east-1:111122223333:key/k"
        );
        assert_eq!(v["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(v["responseElements"], Value::Null);
        assert_eq!(v["recipientAccountId"], "111122223333");
        assert_eq!(v["eventCategory"], "Management");
        assert!(v.get("errorCode").is_none());
        assert_eq!(
            uuid::Uuid::parse_str(ev.event_id.as_str())
                .unwrap()
                .get_version_num(),
            4
        );
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back.event_time, datetime!(2026-01-01 0:00 UTC));
    }

    #[test]
    fn assumed_role_has_session_context_and_username() {
        let ev = AuditEvent::api_call(
            &ctx(PrincipalKind::AssumedRole),
            "kms.amazonaws.com",
            "ListKeys",
            true,
        );
        let v = serde_json::to_value(&ev).unwrap();
        let issuer = &v["userIdentity"]["sessionContext"]["sessionIssuer"];
        assert_eq!(issuer["type"], "Role");
        assert_eq!(issuer["userName"], "Admin");
        assert_eq!(issuer["principalId"], "AROAEXAMPLE");
        assert_eq!(
            v["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
            "false"
        );
        assert_eq!(ev.username().as_deref(), Some("alice-session"));
        let root = AuditEvent::api_call(
            &ctx(PrincipalKind::Root),
            "kms.amazonaws.com",
            "ListKeys",
            true,
        );
        assert_eq!(root.username().as_deref(), Some("root"));
    }

    #[test]
    fn failed_authentication_has_partial_identity() {
        let ev = AuditEvent::failed_authentication(&FailedAuthentication {
            request_id: "r".into(),
            region: "us-east-1".into(),
            source_ip: "198.51.100.7".parse().unwrap(),
            user_agent: "curl".into(),
            time: datetime!(2026-01-01 0:00 UTC),
            event_source: "kms.amazonaws.com".into(),
            event_name: "Decrypt".into(),
            access_key_id: Some("AKIAUNKNOWN".into()),
            account: None,
            error_code: "UnrecognizedClientException".into(),
            error_message: "The security token included in the request is invalid.".into(),
        });
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v["userIdentity"],
            json!({"type": "Unknown", "accessKeyId": "AKIAUNKNOWN"})
        );
        assert_eq!(v["errorCode"], "UnrecognizedClientException");
        assert!(v.get("recipientAccountId").is_none());
        assert_eq!(ev.username(), None);
    }

    #[test]
    fn redaction_is_recursive_and_case_insensitive() {
        let mut v = json!({
            "keyId": "k",
            "plaintext": "c2VjcmV0",
            "Nested": [{"SecretString": {"a": 1}}, {"Name": "x", "Password": "p"}],
            "Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t"},
            "Value": null
        });
        redact(&mut v, DEFAULT_REDACTED_FIELDS);
        assert_eq!(
            v,
            json!({
                "keyId": "k",
                "plaintext": HIDDEN,
                "Nested": [{"SecretString": HIDDEN}, {"Name": "x", "Password": HIDDEN}],
                "Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": HIDDEN, "SessionToken": HIDDEN},
                "Value": null
            })
        );
        let mut custom = json!({"token": "abc", "other": "x"});
        redact(&mut custom, &["Token"]);
        assert_eq!(custom, json!({"token": HIDDEN, "other": "x"}));
    }
}
