//! The contract between the request pipeline and the services.
//!
//! A service is a module that implements [`Service`]: it names its protocol and signing
//! name, parses the decoded request into its own typed operation enum, authorizes and runs
//! it, and returns an [`Outcome`] carrying both the reply and what the audit record needs.
//! The pipeline (authentication, audit, encoding) never changes when a service is added.

pub mod errors;

use crate::State;
use crate::identity::KeyRecord;
use coffer_types::{AccountId, RequestContext};
use coffer_wire::model::ServiceModel;
use coffer_wire::query::QueryRequest;
use coffer_wire::wiped::WipedBytes;
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
    /// A JSON reply that carries a secret (a secret value, a data key, random bytes): its
    /// string values and its encoding are zeroized once it is sent.
    SecretJson(Value),
    /// A complete query-protocol XML document.
    Xml(Vec<u8>),
    /// An XML document that carries credentials, zeroized once it is sent.
    SecretXml(WipedBytes),
}

/// A resource named in the audit record (`resources` in CloudTrail).
#[derive(Debug, Clone)]
pub struct AuditResource {
    pub arn: String,
    pub account: AccountId,
    /// The CloudTrail resource type, a constant such as `AWS::KMS::Key`.
    pub kind: &'static str,
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

/// The parts in which awsJson1.1 services differ; [`json_call`] runs them in the order
/// every such service shares. A service's `Service::call` is `json_call(self, call, input)`.
pub trait JsonService: Service {
    /// The service's typed operation.
    type Operation: Copy;
    /// An operation's input once decoded and validated.
    type Input;
    type Error: errors::ServiceError;
    /// The operation named by `X-Amz-Target`, `None` if the service has no such operation.
    fn operation(name: &str) -> Option<Self::Operation>;
    /// CloudTrail's `readOnly` for the operation.
    fn read_only(op: Self::Operation) -> bool;
    /// The service's model, if it has one: an operation whose output the model marks
    /// sensitive answers with [`Reply::SecretJson`], zeroized once sent.
    fn model() -> Option<&'static ServiceModel> {
        None
    }
    /// Parses and validates the body, before any work is done.
    fn decode(op: Self::Operation, body: &[u8]) -> Result<Self::Input, Self::Error>;
    /// Authorizes and runs the operation, filling the audit record as it goes.
    fn dispatch(
        call: &Call<'_>,
        op: Self::Operation,
        input: Self::Input,
        audit: &mut AuditInfo,
    ) -> Result<Value, Self::Error>;
}

/// The `Service::call` of an awsJson1.1 service: parse the operation, decode, dispatch,
/// and turn the error into the wire error and the audit record's detail. The audit
/// record names the operation even when it is unknown or the body is refused.
pub fn json_call<S: JsonService>(service: &S, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
    use errors::ServiceError as _;
    let ApiInput::Json { operation, body } = input else {
        return errors::protocol_mismatch(service.signing_name());
    };
    let mut audit = AuditInfo {
        event_name: operation.to_owned(),
        ..Default::default()
    };
    let result = match S::operation(operation) {
        Some(op) => {
            audit.read_only = S::read_only(op);
            let reply = if S::model().is_some_and(|m| m.output_is_sensitive(operation)) {
                Reply::SecretJson
            } else {
                Reply::Json
            };
            S::decode(op, body)
                .and_then(|input| S::dispatch(call, op, input, &mut audit))
                .map(reply)
        }
        None => Err(coffer_wire::json::unknown_operation().into()),
    };
    if let Err(e) = &result
        && audit.detail.is_none()
    {
        audit.detail = e.audit_detail();
    }
    Outcome {
        result: result.map_err(|e| e.to_wire()),
        audit,
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

#[cfg(test)]
mod tests {
    use super::errors::{ServiceError, service_error_conversions};
    use super::*;
    use crate::identity::KeyOwner;
    use coffer_types::{Principal, PrincipalKind};
    use http::StatusCode;

    /// A service with one read-only operation, one that fails inside, and one whose handler
    /// writes its own audit detail.
    struct Toy;

    #[derive(Debug, thiserror::Error)]
    enum ToyError {
        #[error("{0}")]
        AccessDenied(String),
        #[error("internal error: {0}")]
        Internal(String),
        #[error("{0}")]
        Wire(WireError),
    }

    service_error_conversions!(ToyError);

    impl ServiceError for ToyError {
        fn to_wire(&self) -> WireError {
            match self {
                Self::AccessDenied(m) => {
                    WireError::sender(StatusCode::BAD_REQUEST, "AccessDeniedException", m)
                }
                Self::Internal(_) => errors::json_internal(),
                Self::Wire(w) => w.clone(),
            }
        }
        fn audit_detail(&self) -> Option<String> {
            match self {
                Self::Internal(d) => Some(d.clone()),
                _ => None,
            }
        }
    }

    impl Service for Toy {
        fn signing_name(&self) -> &'static str {
            "toy"
        }
        fn event_source(&self) -> &'static str {
            "toy.amazonaws.com"
        }
        fn protocol(&self) -> Protocol {
            Protocol::AwsJson11
        }
        fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
            json_call(self, call, input)
        }
    }

    impl JsonService for Toy {
        type Operation = &'static str;
        type Input = Value;
        type Error = ToyError;
        fn operation(name: &str) -> Option<&'static str> {
            ["Read", "Reveal", "Fail", "Audited"]
                .into_iter()
                .find(|o| *o == name)
        }
        fn read_only(op: &'static str) -> bool {
            op == "Read"
        }
        fn model() -> Option<&'static ServiceModel> {
            static MODEL: std::sync::LazyLock<ServiceModel> = std::sync::LazyLock::new(|| {
                let text = r#"{"service": "toy", "apiVersion": "1", "shapes": {},
                    "operations": {"Read": null, "Reveal": null},
                    "sensitiveOutputs": ["Reveal"]}"#;
                ServiceModel::from_json(text).unwrap()
            });
            Some(&MODEL)
        }
        fn decode(_: &'static str, body: &[u8]) -> Result<Value, ToyError> {
            Ok(coffer_wire::json::json_input(body)?)
        }
        fn dispatch(
            _: &Call<'_>,
            op: &'static str,
            input: Value,
            audit: &mut AuditInfo,
        ) -> Result<Value, ToyError> {
            match op {
                "Read" | "Reveal" => Ok(input),
                "Fail" => Err(coffer_storage::StorageError::ReadOnly.into()),
                _ => {
                    audit.detail = Some("the handler's own detail".into());
                    Err(ToyError::Internal("hidden".into()))
                }
            }
        }
    }

    fn run(input: ApiInput<'_>) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::test_support::state(dir.path());
        let account = "111122223333".parse().unwrap();
        let ctx = RequestContext {
            request_id: "req-1".into(),
            principal: Principal {
                kind: PrincipalKind::Root,
                account,
                arn: "arn:aws:iam::111122223333:root".into(),
                user_id: "111122223333".into(),
                access_key_id: String::new(),
                role_arn: None,
                user_name: None,
            },
            region: "us-east-1".parse().unwrap(),
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            user_agent: "test".into(),
            secure_transport: true,
            time: state.clock.now(),
        };
        let key = KeyRecord {
            account,
            owner: KeyOwner::Root,
            active: true,
            created: ctx.time,
            sealed_secret: Vec::new(),
        };
        let call = Call {
            state: &state,
            ctx: &ctx,
            key: &key,
            via_service: None,
        };
        Toy.call(&call, input)
    }

    fn json<'a>(operation: &'a str, body: &'a [u8]) -> ApiInput<'a> {
        ApiInput::Json { operation, body }
    }

    fn code(o: &Outcome) -> Option<String> {
        o.result.as_ref().err().map(|e| e.code.to_string())
    }

    #[test]
    fn a_read_runs_and_is_audited_as_read_only() {
        let o = run(json("Read", br#"{"A":1}"#));
        assert!(matches!(&o.result, Ok(Reply::Json(v)) if *v == serde_json::json!({"A": 1})));
        assert_eq!(o.audit.event_name, "Read");
        assert!(o.audit.read_only);
        assert_eq!(o.audit.detail, None);
    }

    #[test]
    fn a_reply_that_carries_a_secret_is_marked_for_zeroizing() {
        let o = run(json("Reveal", br#"{"SecretString":"s"}"#));
        assert!(
            matches!(&o.result, Ok(Reply::SecretJson(v)) if v["SecretString"] == "s"),
            "a secret reply is not a plain Json reply"
        );
    }

    #[test]
    fn an_unknown_operation_is_refused_and_still_named_in_the_audit_record() {
        let o = run(json("Nope", b"not json"));
        assert_eq!(code(&o).as_deref(), Some("UnknownOperationException"));
        assert_eq!(o.audit.event_name, "Nope");
        assert!(!o.audit.read_only);
        assert_eq!(o.audit.detail, None);
    }

    #[test]
    fn a_body_that_does_not_decode_is_refused_before_dispatch() {
        let o = run(json("Read", b"[1]"));
        assert_eq!(code(&o).as_deref(), Some("SerializationException"));
        assert!(o.audit.read_only);
        assert_eq!(o.audit.detail, None);
    }

    #[test]
    fn an_internal_failure_hides_its_detail_from_the_wire_and_keeps_it_for_the_audit() {
        let o = run(json("Fail", b""));
        let e = o.result.as_ref().err().unwrap();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("read-only transaction"));
        assert_eq!(
            o.audit.detail.as_deref(),
            Some("write attempted in a read-only transaction")
        );
    }

    #[test]
    fn a_handler_s_own_audit_detail_is_kept() {
        let o = run(json("Audited", b"{}"));
        assert_eq!(o.audit.detail.as_deref(), Some("the handler's own detail"));
    }

    #[test]
    fn a_query_request_is_a_protocol_mismatch() {
        let q = QueryRequest::from_query("Action=Read&Version=1").unwrap();
        let o = run(ApiInput::Query(&q));
        assert_eq!(o.result.as_ref().err().unwrap().status.as_u16(), 500);
        assert_eq!(o.audit.detail.as_deref(), Some("protocol mismatch"));
    }
}
