//! Secrets Manager's service events (`RotationSucceeded`, `RotationFailed`,
//! `EndSecretVersionDelete`...): CloudTrail records them with `eventType`
//! `AwsServiceEvent` and the service as the identity. One function emits them: it appends
//! the record to the trail and hands it to the configured event webhooks, as EventBridge
//! delivers CloudTrail service events (`AWS Service Event via CloudTrail`).

use super::store::SecretRecord;
use crate::State;
use coffer_audit::AuditEvent;

pub fn emit(state: &State, s: &SecretRecord, name: &str, error: Option<&str>) {
    const SERVICE: &str = "secretsmanager.amazonaws.com";
    let mut e = AuditEvent::service_event(SERVICE, name, &s.region, s.account, state.clock.now())
        .with_resource(s.arn(), s.account, "AWS::SecretsManager::Secret")
        .with_response(serde_json::json!({"secretId": s.arn()}));
    e.request_id = uuid::Uuid::new_v4().to_string();
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
