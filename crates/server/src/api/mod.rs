//! The contract between the request pipeline and the services.
//!
//! A service is a module that implements [`Service`]: it names its protocol and signing
//! name, parses the decoded request into its own typed operation enum, authorizes and runs
//! it, and returns an [`Outcome`] carrying both the reply and what the audit record needs.
//! The pipeline (authentication, audit, encoding) never changes when a service is added.

pub mod errors;

use crate::State;
use crate::identity::KeyRecord;
use coffer_types::RequestContext;
use coffer_wire::query::QueryRequest;
use coffer_wire::{Protocol, WireError};
use serde_json::Value;

/// A decoded request, as far as the protocol goes.
pub enum ApiInput<'a> {
    /// awsJson1.1: the operation from `X-Amz-Target` and the raw JSON body.
    Json { operation: &'a str, body: &'a [u8] },
    /// AWS query protocol: `Action`, `Version` and the flattened parameters.
    Query(&'a QueryRequest),
}

/// What a service answers.
pub enum Reply {
    Json(Value),
    /// A complete query-protocol XML document.
    Xml(Vec<u8>),
}

/// A resource named in the audit record (`resources` in CloudTrail).
#[derive(Debug, Clone)]
pub struct AuditResource {
    pub arn: String,
    pub account_id: String,
    pub kind: String,
}

/// What the audit record needs from the service, besides the request context.
#[derive(Debug, Default)]
pub struct AuditInfo {
    /// The operation name (`eventName`), even when parsing failed, if it is known.
    pub event_name: String,
    pub read_only: bool,
    /// Request parameters with every secret already removed.
    pub request_parameters: Option<Value>,
    /// Response elements with every secret already removed.
    pub response_elements: Option<Value>,
    pub resources: Vec<AuditResource>,
    /// Internal detail for the audit record only (never sent on the wire).
    pub detail: Option<String>,
    /// Calls the service made to other services on the caller's behalf (Secrets Manager
    /// decrypting through KMS); each becomes its own audit record, `invokedBy` the service.
    pub invoked: Vec<InvokedCall>,
}

/// A call one coffer service made to another for its caller, as CloudTrail records it.
#[derive(Debug)]
pub struct InvokedCall {
    /// `eventSource` of the called service (`kms.amazonaws.com`).
    pub event_source: &'static str,
    /// The calling service (`secretsmanager.amazonaws.com`): CloudTrail's `invokedBy`,
    /// and the source address and user agent of the record.
    pub invoked_by: String,
    pub info: AuditInfo,
    /// The wire error code and message, if the call failed.
    pub error: Option<(String, String)>,
}

pub struct Outcome {
    pub result: Result<Reply, WireError>,
    pub audit: AuditInfo,
}

/// An authenticated call, handed to a service.
pub struct Call<'a> {
    pub state: &'a State,
    pub ctx: &'a RequestContext,
    pub key: &'a KeyRecord,
    /// Set when another coffer service calls KMS on the caller's behalf (`kms:ViaService`,
    /// e.g. `secretsmanager.us-east-1.amazonaws.com`); `None` for a direct call.
    pub via_service: Option<&'a str>,
}

pub trait Service: Send + Sync + 'static {
    /// The SigV4 signing name (`sts`, `iam`, `kms`, `cloudtrail`).
    fn signing_name(&self) -> &'static str;
    /// CloudTrail `eventSource`, e.g. `sts.amazonaws.com`.
    fn event_source(&self) -> &'static str;
    fn protocol(&self) -> Protocol;
    /// For awsJson1.1 services: the `X-Amz-Target` prefixes before the operation. Some
    /// services have two (botocore's model and the Rust SDK spell CloudTrail's differently).
    fn json_target_prefixes(&self) -> &'static [&'static str] {
        &[]
    }
    /// For query services: the XML namespace of responses and errors.
    fn xml_namespace(&self) -> &'static str {
        ""
    }
    /// Runs one call, on a runtime worker thread. Storage transactions through
    /// `state.store` and audit lookups step off the worker by themselves; any other
    /// blocking work (files, network) must go through [`crate::blocking::run`].
    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome;
    /// The operation name for the audit record of a request refused before `call`.
    fn operation_name(&self, input: &ApiInput<'_>) -> String {
        match input {
            ApiInput::Json { operation, .. } => (*operation).to_owned(),
            ApiInput::Query(q) => q.action.clone(),
        }
    }
}

/// A JSON object from pairs, skipping `None` values; used to build audit parameters.
pub fn audit_object<const N: usize>(pairs: [(&str, Option<Value>); N]) -> Value {
    let map = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect::<serde_json::Map<_, _>>();
    Value::Object(map)
}
