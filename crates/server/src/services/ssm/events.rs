//! Parameter Store's events, shaped as AWS documents them for EventBridge: "Parameter
//! Store Change" (Create, Update, Delete, LabelParameterVersion) and "Parameter Store
//! Policy Action" (a policy acted).

use super::policies::{EXPIRATION, EXPIRATION_NOTIFICATION};
use super::store::ParamRecord;
use crate::State;
use crate::api::Call;
use crate::events::{ServiceEvent, publish};
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

/// A parameter was created, updated, labelled or deleted by a call.
pub fn parameter_changed(call: &Call<'_>, p: &ParamRecord, operation: &str) {
    publish(call.state, change(p, operation, call.ctx.time));
}

/// A parameter was deleted by its Expiration policy.
pub fn parameter_deleted(state: &State, p: &ParamRecord) {
    publish(state, change(p, "Delete", state.clock.now()));
}

/// A policy of `p` acted.
pub fn policy_action(state: &State, p: &ParamRecord, policy: &str) {
    let reason = match policy {
        EXPIRATION => "Parameter has expired and was deleted.",
        EXPIRATION_NOTIFICATION => "Parameter will expire soon.",
        _ => "Parameter has not been changed for the period the policy names.",
    };
    publish(
        state,
        ServiceEvent {
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
    );
}
