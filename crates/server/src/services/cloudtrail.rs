//! CloudTrail (awsJson1.1): `LookupEvents` over coffer's own audit trail.

use crate::api::errors::ServiceError;
use crate::api::{
    ApiInput, AuditInfo, Call, JsonService, Outcome, Service, audit_object, json_call,
};
use crate::authz::{self, Ask};
use coffer_audit::{LookupKey, LookupQuery};
use coffer_wire::json::json_input;
use coffer_wire::{Protocol, WireError};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub struct CloudTrail;

pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
const MAX_RESULTS: usize = 50;

#[derive(Debug, Clone, Copy)]
pub enum Operation {
    LookupEvents,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsInput {
    #[serde(default)]
    lookup_attributes: Vec<LookupAttribute>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CloudTrailError {
    #[error("{0}")]
    InvalidLookupAttributes(String),
    #[error("Start time must be before end time.")]
    InvalidTimeRange,
    #[error("Value for MaxResults must be between 1 and 50.")]
    InvalidMaxResults,
    #[error("Invalid NextToken.")]
    InvalidNextToken,
    #[error("{0}")]
    InvalidEventCategory(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Wire(WireError),
    #[error("internal error: {0}")]
    Internal(String),
}

crate::api::errors::service_error_conversions!(CloudTrailError);

impl ServiceError for CloudTrailError {
    fn to_wire(&self) -> WireError {
        crate::api::errors::cloudtrail(self)
    }
    fn audit_detail(&self) -> Option<String> {
        match self {
            Self::Internal(d) => Some(d.clone()),
            _ => None,
        }
    }
}

impl Service for CloudTrail {
    fn signing_name(&self) -> &'static str {
        "cloudtrail"
    }
    fn event_source(&self) -> &'static str {
        "cloudtrail.amazonaws.com"
    }
    fn protocol(&self) -> Protocol {
        Protocol::AwsJson11
    }
    fn json_target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX, "CloudTrail_20131101"]
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        json_call(self, call, input)
    }
}

impl JsonService for CloudTrail {
    type Operation = Operation;
    type Input = LookupEventsInput;
    type Error = CloudTrailError;
    fn operation(name: &str) -> Option<Operation> {
        (name == "LookupEvents").then_some(Operation::LookupEvents)
    }
    fn read_only(_: Operation) -> bool {
        true
    }
    fn decode(_: Operation, body: &[u8]) -> Result<LookupEventsInput, CloudTrailError> {
        Ok(json_input(body)?)
    }
    fn dispatch(
        call: &Call<'_>,
        op: Operation,
        input: LookupEventsInput,
        audit: &mut AuditInfo,
    ) -> Result<Value, CloudTrailError> {
        match op {
            Operation::LookupEvents => lookup_events(call, input, audit),
        }
    }
}

fn lookup_events(
    call: &Call<'_>,
    input: LookupEventsInput,
    audit: &mut AuditInfo,
) -> Result<Value, CloudTrailError> {
    audit.request_parameters = Some(audit_object([
        ("maxResults", input.max_results.map(|m| json!(m))),
        ("startTime", input.start_time.map(|t| json!(t))),
        ("endTime", input.end_time.map(|t| json!(t))),
    ]));
    coffer_storage::read(call.state.store.as_ref(), |t| {
        authz::check(call, t, &Ask::new("cloudtrail:LookupEvents", "*"), None)
            .map_err(CloudTrailError::from)
    })?;
    let query = to_query(call, &input)?;
    let page = call.state.audit.lookup(&query).map_err(|e| match e {
        coffer_audit::AuditError::InvalidNextToken => CloudTrailError::InvalidNextToken,
        other => CloudTrailError::Internal(other.to_string()),
    })?;
    Ok(coffer_audit::lookup_events_output(&page))
}

fn to_query(call: &Call<'_>, input: &LookupEventsInput) -> Result<LookupQuery, CloudTrailError> {
    let max_results = match input.max_results {
        None => MAX_RESULTS,
        Some(n) if (1..=50).contains(&n) => usize::try_from(n).unwrap_or(MAX_RESULTS),
        Some(_) => return Err(CloudTrailError::InvalidMaxResults),
    };
    if let Some(c) = input.event_category.as_ref().filter(|c| *c != "insight") {
        return Err(CloudTrailError::InvalidEventCategory(format!(
            "Event category {c} is not valid."
        )));
    }
    let start = input.start_time.map(epoch).transpose()?;
    let end = input.end_time.map(epoch).transpose()?;
    if matches!((start, end), (Some(s), Some(e)) if s > e) {
        return Err(CloudTrailError::InvalidTimeRange);
    }
    Ok(LookupQuery {
        attribute: attribute(&input.lookup_attributes)?,
        start,
        end,
        max_results,
        next_token: input.next_token.clone(),
        account: Some(call.ctx.principal.account),
    })
}

fn epoch(secs: f64) -> Result<OffsetDateTime, CloudTrailError> {
    let whole = secs.floor();
    if !whole.is_finite() || whole.abs() > 1e11 {
        return Err(CloudTrailError::InvalidTimeRange);
    }
    #[allow(clippy::cast_possible_truncation)] // bounded just above
    OffsetDateTime::from_unix_timestamp(whole as i64).map_err(|_| CloudTrailError::InvalidTimeRange)
}

fn attribute(attrs: &[LookupAttribute]) -> Result<Option<(LookupKey, String)>, CloudTrailError> {
    match attrs {
        [] => Ok(None),
        [a] => {
            let key = match a.attribute_key.as_str() {
                "EventId" => LookupKey::EventId,
                "EventName" => LookupKey::EventName,
                "ReadOnly" => LookupKey::ReadOnly,
                "Username" => LookupKey::Username,
                "ResourceType" => LookupKey::ResourceType,
                "ResourceName" => LookupKey::ResourceName,
                "EventSource" => LookupKey::EventSource,
                "AccessKeyId" => LookupKey::AccessKeyId,
                other => {
                    return Err(CloudTrailError::InvalidLookupAttributes(format!(
                        "1 validation error detected: Value '{other}' at 'lookupAttributes.1.member.attributeKey' failed to satisfy constraint: Member must satisfy enum value set: [EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId]"
                    )));
                }
            };
            Ok(Some((key, a.attribute_value.clone())))
        }
        _ => Err(CloudTrailError::InvalidLookupAttributes(
            "You cannot specify more than one lookup attribute.".into(),
        )),
    }
}
