//! Secrets Manager's service events (`RotationSucceeded`, `RotationFailed`,
//! `EndSecretVersionDelete`...): CloudTrail records them with `eventType`
//! `AwsServiceEvent` and the service as the identity. One function emits them: it appends
//! the record to the trail and hands it to the configured event webhooks, as EventBridge
//! delivers CloudTrail service events (`AWS Service Event via CloudTrail`).

use super::store::SecretRecord;
use crate::State;
use coffer_audit::{AuditEvent, EVENT_VERSION, UserIdentity, new_event_id};
use std::borrow::Cow;

pub fn emit(state: &State, s: &SecretRecord, name: &str, error: Option<&str>) {
    let mut e = AuditEvent {
        event_version: Cow::Borrowed(EVENT_VERSION),
        user_identity: UserIdentity {
            kind: "AWSService".into(),
            invoked_by: Some("secretsmanager.amazonaws.com".into()),
            ..Default::default()
        },
        event_time: state.clock.now(),
        event_source: "secretsmanager.amazonaws.com".into(),
        event_name: name.to_owned(),
        aws_region: s.region.clone(),
        source_ip_address: "secretsmanager.amazonaws.com".into(),
        user_agent: "secretsmanager.amazonaws.com".into(),
        request_parameters: None,
        response_elements: None,
        request_id: uuid::Uuid::new_v4().to_string(),
        event_id: new_event_id(),
        read_only: false,
        resources: Vec::new(),
        error_code: None,
        error_message: None,
        event_type: Cow::Borrowed("AwsServiceEvent"),
        management_event: true,
        recipient_account_id: Some(s.account),
        event_category: Cow::Borrowed("Management"),
        tls_details: None,
    }
    .with_resource(&s.arn(), s.account, "AWS::SecretsManager::Secret");
    e.request_parameters = None;
    e.response_elements = Some(serde_json::json!({"secretId": s.arn()}));
    if let Some(m) = error {
        e.error_message = Some(m.to_owned());
        e.error_code = Some("RotationFailed".into());
    }
    crate::events::publish(
        state,
        crate::events::ServiceEvent {
            source: "aws.secretsmanager",
            detail_type: "AWS Service Event via CloudTrail".into(),
            account: s.account,
            region: s.region.clone(),
            time: e.event_time,
            resources: Vec::new(),
            detail: serde_json::to_value(&e).unwrap_or_default(),
            to_trail: false,
        },
    );
    let audit = state.audit.clone();
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::error!(event = name, "no runtime to record a service event");
        return;
    };
    let r = crate::blocking::run(|| handle.block_on(audit.append(e)));
    if let Err(err) = r {
        tracing::error!(event = name, error = %err, "service event not recorded");
    }
}
