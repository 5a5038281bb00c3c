//! Parameter Store's events, shaped as AWS documents them for EventBridge: "Parameter
//! Store Change" (Create, Update, Delete, LabelParameterVersion) and "Parameter Store
//! Policy Action" (a policy acted).

use super::policies::{EXPIRATION, EXPIRATION_NOTIFICATION};
use super::store::ParamRecord;
use crate::State;
use crate::api::Call;
use crate::events::{ServiceEvent, queue};
use coffer_storage::{StorageError, Txn};
use serde_json::json;

const SOURCE: &str = "aws.ssm";

fn change(p: &ParamRecord, operation: &str, time: time::OffsetDateTime) -> ServiceEvent {
    ServiceEvent {
        source: SOURCE,
        detail_type: "Parameter Store Change".into(),
        account: p.account,
        region: p.region.clone(),
        time,
        resources: vec![p.arn()],
        detail: json!({
            "operation": operation,
            "name": p.name,
            "type": p.kind,
            "description": p.description.clone().unwrap_or_default(),
        }),
        to_trail: true,
    }
}

/// A parameter was created, updated, labelled or deleted by a call: queued in the write
/// transaction `t` that makes the change (the caller wakes delivery after the commit).
pub fn parameter_changed(
    t: &mut dyn Txn,
    call: &Call<'_>,
    p: &ParamRecord,
    operation: &str,
) -> Result<(), StorageError> {
    queue(t, call.state, &change(p, operation, call.ctx.time))
}

/// A parameter was deleted by its Expiration policy (queued in the deleting transaction).
pub fn parameter_deleted(
    t: &mut dyn Txn,
    state: &State,
    p: &ParamRecord,
) -> Result<(), StorageError> {
    queue(t, state, &change(p, "Delete", state.clock.now()))
}

/// A policy of `p` acted (queued in the transaction that acted).
pub fn policy_action(
    t: &mut dyn Txn,
    state: &State,
    p: &ParamRecord,
    policy: &str,
) -> Result<(), StorageError> {
    let reason = match policy {
        EXPIRATION => "Parameter has expired and was deleted.",
        EXPIRATION_NOTIFICATION => "Parameter will expire soon.",
        _ => "Parameter has not been changed for the period the policy names.",
    };
    queue(
        t,
        state,
        &ServiceEvent {
            source: SOURCE,
            detail_type: "Parameter Store Policy Action".into(),
            account: p.account,
            region: p.region.clone(),
            time: state.clock.now(),
            resources: vec![p.arn()],
            detail: json!({
                "parameter-name": p.name,
                "parameter-type": p.tier,
                "policy-type": policy,
                "action-status": "Finished",
                "action-reason": reason,
            }),
            to_trail: true,
        },
    )
}
