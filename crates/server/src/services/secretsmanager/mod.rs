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

use crate::api::{ApiInput, AuditInfo, Call, Outcome, Reply, Service};
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
        let ApiInput::Json { operation, body } = input else {
            return crate::api::errors::protocol_mismatch("secretsmanager");
        };
        let mut audit = AuditInfo {
            event_name: operation.to_owned(),
            read_only: is_read_only(operation),
            ..Default::default()
        };
        let result = wire::decode(operation, body).and_then(|v| {
            audit.request_parameters = Some(wire::audit_parameters(&v));
            dispatch(call, operation, v, &mut audit)
        });
        if let Err(e) = &result
            && audit.detail.is_none()
        {
            audit.detail = e.audit_detail();
        }
        Outcome {
            result: result
                .map(Reply::Json)
                .map_err(|e| crate::api::errors::secretsmanager(&e)),
            audit,
        }
    }
}

fn is_read_only(op: &str) -> bool {
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

/// Routes a validated input to its handler. Every operation of the API has an arm; the
/// model already refused operations it does not define.
fn dispatch(call: &Call<'_>, op: &str, i: Value, audit: &mut AuditInfo) -> Result<Value, SmError> {
    use wire::typed;
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
        _ => Err(SmError::Wire(coffer_wire::json::unknown_operation())),
    }
}
