//! Secrets Manager (awsJson1.1, `X-Amz-Target: secretsmanager.<Op>`).
//!
//! Layout: `store` (records, tables, name/ARN resolution), `access` (identity + resource
//! policy authorization), `values` (encryption of versions through KMS on the caller's
//! behalf), one module per group of operations, `jobs` (purging deleted secrets, running
//! due rotations).

mod access;
mod builtin;
mod error;
mod events;
mod functions;
pub mod jobs;
mod mysql;
mod password;
mod policy;
mod replication;
mod rotation;
mod schedule;
mod secrets;
pub mod store;
mod tags;
mod values;
mod versions;
mod wire;

pub use error::SmError;
pub use versions::value_for_reference;

use crate::api::{ApiInput, AuditInfo, Call, JsonService, Outcome, Service, json_call};
use coffer_wire::Protocol;
use serde_json::Value;

pub struct SecretsManager;

pub const TARGET_PREFIX: &str = "secretsmanager";

impl Service for SecretsManager {
    fn signing_name(&self) -> &'static str {
        "secretsmanager"
    }
    fn event_source(&self) -> &'static str {
        "secretsmanager.amazonaws.com"
    }
    fn protocol(&self) -> Protocol {
        Protocol::AwsJson11
    }
    fn json_target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        json_call(self, call, input)
    }
}

/// An operation is its name in the Secrets Manager model, which defines exactly the
/// operations coffer serves (a model that failed to load has none: its tests catch that).
impl JsonService for SecretsManager {
    type Operation = &'static str;
    type Input = Value;
    type Error = SmError;
    fn operation(name: &str) -> Option<&'static str> {
        coffer_wire::model::secretsmanager()
            .operations()
            .find(|op| *op == name)
    }
    fn read_only(op: &'static str) -> bool {
        matches!(
            op,
            "GetSecretValue"
                | "BatchGetSecretValue"
                | "DescribeSecret"
                | "ListSecrets"
                | "ListSecretVersionIds"
                | "GetRandomPassword"
                | "GetResourcePolicy"
                | "ValidateResourcePolicy"
        )
    }
    fn model() -> Option<&'static coffer_wire::model::ServiceModel> {
        Some(coffer_wire::model::secretsmanager())
    }
    /// Parses the body and validates it against the Secrets Manager model before any work.
    fn decode(op: &'static str, body: &[u8]) -> Result<Value, SmError> {
        Ok(coffer_wire::model::secretsmanager().decode(op, body)?)
    }
    /// Routes a validated input to its handler. Every operation of the model has an arm.
    fn dispatch(
        call: &Call<'_>,
        op: &'static str,
        i: Value,
        audit: &mut AuditInfo,
    ) -> Result<Value, SmError> {
        use wire::typed;
        audit.request_parameters = Some(wire::audit_parameters(&i));
        match op {
            "CreateSecret" => secrets::create(call, typed(i)?, audit),
            "DescribeSecret" => secrets::describe(call, typed(i)?, audit),
            "UpdateSecret" => secrets::update(call, typed(i)?, audit),
            "DeleteSecret" => secrets::delete(call, typed(i)?, audit),
            "RestoreSecret" => secrets::restore(call, typed(i)?, audit),
            "ListSecrets" => secrets::list(call, typed(i)?, audit),
            "GetSecretValue" => versions::get_value(call, typed(i)?, audit),
            "BatchGetSecretValue" => versions::batch_get(call, typed(i)?, audit),
            "PutSecretValue" => versions::put_value(call, typed(i)?, audit),
            "ListSecretVersionIds" => versions::list_ids(call, typed(i)?, audit),
            "UpdateSecretVersionStage" => versions::update_stage(call, typed(i)?, audit),
            "RotateSecret" => rotation::rotate(call, typed(i)?, audit),
            "CancelRotateSecret" => rotation::cancel(call, typed(i)?, audit),
            "GetRandomPassword" => password::get_random_password(call, typed(i)?, audit),
            "TagResource" => tags::tag(call, typed(i)?, audit),
            "UntagResource" => tags::untag(call, typed(i)?, audit),
            "PutResourcePolicy" => policy::put(call, typed(i)?, audit),
            "GetResourcePolicy" => policy::get(call, typed(i)?, audit),
            "DeleteResourcePolicy" => policy::delete(call, typed(i)?, audit),
            "ValidateResourcePolicy" => policy::validate(call, typed(i)?, audit),
            "ReplicateSecretToRegions" => replication::replicate(call, typed(i)?, audit),
            "RemoveRegionsFromReplication" => replication::remove(call, typed(i)?, audit),
            "StopReplicationToReplica" => replication::stop(call, typed(i)?, audit),
            // An operation a newer model defines that coffer does not serve yet.
            _ => Err(SmError::Wire(coffer_wire::json::unknown_operation())),
        }
    }
}
