//! Builds the audit record for a finished call, from the request context (or what is known
//! of an unauthenticated caller) and the service's [`AuditInfo`].

use crate::State;
use crate::api::{AuditInfo, Outcome, Service};
use crate::pipeline::{ConnInfo, header};
use coffer_audit::{AuditEvent, FailedAuthentication};
use coffer_types::{AccountId, RequestContext};
use std::net::IpAddr;

/// Who made the call, as far as authentication got.
pub enum Caller {
    Authenticated(Box<RequestContext>),
    Unauthenticated {
        source_ip: IpAddr,
        user_agent: String,
        access_key_id: Option<String>,
        account: Option<AccountId>,
    },
}

impl Caller {
    pub fn anonymous(conn: ConnInfo, parts: &http::request::Parts) -> Self {
        Caller::Unauthenticated {
            source_ip: conn.peer.ip(),
            user_agent: header(parts, "user-agent"),
            access_key_id: None,
            account: None,
        }
    }

    pub fn partial(
        conn: ConnInfo,
        parts: &http::request::Parts,
        akid: &str,
        account: Option<AccountId>,
    ) -> Self {
        Caller::Unauthenticated {
            source_ip: conn.peer.ip(),
            user_agent: header(parts, "user-agent"),
            access_key_id: Some(akid.to_owned()),
            account,
        }
    }
}

/// The record of the call itself. It takes the request parameters, response elements and
/// resources out of `outcome.audit` rather than copying them: nothing reads them after.
pub fn build(
    state: &State,
    service: &dyn Service,
    caller: &Caller,
    outcome: &mut Outcome,
    request_id: &str,
) -> AuditEvent {
    let info = &mut outcome.audit;
    let mut event = match caller {
        Caller::Authenticated(ctx) => AuditEvent::api_call(
            ctx,
            service.event_source(),
            &info.event_name,
            info.read_only,
        ),
        Caller::Unauthenticated {
            source_ip,
            user_agent,
            access_key_id,
            account,
        } => {
            let (code, message) = match &outcome.result {
                Err(e) => (e.code.to_string(), e.message.clone()),
                Ok(_) => (String::new(), String::new()),
            };
            AuditEvent::failed_authentication(&FailedAuthentication {
                request_id: request_id.to_owned(),
                region: state.config.region.to_string(),
                source_ip: *source_ip,
                user_agent: user_agent.clone(),
                time: state.clock.now(),
                event_source: service.event_source().to_owned(),
                event_name: info.event_name.clone(),
                access_key_id: access_key_id.clone(),
                account: *account,
                error_code: code,
                error_message: message,
            })
        }
    };
    event = with_info(event, info);
    if let (Err(e), Caller::Authenticated(_)) = (&outcome.result, caller) {
        event = event.with_error(&e.code, &e.message);
    }
    // Services leave secrets out themselves; `AuditLog::append` redacts by field name as a
    // second line of defence, so it is not repeated here.
    event
}

fn with_info(mut event: AuditEvent, info: &mut AuditInfo) -> AuditEvent {
    if let Some(p) = info.request_parameters.take() {
        event = event.with_request(p);
    }
    if let Some(r) = info.response_elements.take() {
        event = event.with_response(r);
    }
    for r in std::mem::take(&mut info.resources) {
        event = event.with_resource(r.arn, r.account, r.kind);
    }
    if let Some(detail) = info.detail.take() {
        event = event.with_error_detail(detail);
    }
    event
}

/// The records of the calls a service made on its caller's behalf (see
/// [`crate::api::InvokedCall`]), in the order they were made; taken out of `outcome`.
pub fn build_invoked(caller: &Caller, outcome: &mut Outcome) -> Vec<AuditEvent> {
    let Caller::Authenticated(ctx) = caller else {
        return Vec::new();
    };
    let invoked = std::mem::take(&mut outcome.audit.invoked);
    // Room for the caller's own record too, which the pipeline pushes after these.
    let mut events = Vec::with_capacity(invoked.len() + 1);
    for mut inv in invoked {
        let info = &mut inv.info;
        let mut event =
            AuditEvent::api_call(ctx, inv.event_source, &info.event_name, info.read_only)
                .invoked_by(&inv.invoked_by);
        event = with_info(event, info);
        if let Some((code, message)) = &inv.error {
            event = event.with_error(code, message);
        }
        events.push(event);
    }
    events
}
