//! Authorization: gathers the policies that apply to a call and asks the policy engine.
//!
//! Identity policies come from the caller's user or role; the resource policy (a trust
//! policy, a key policy, a secret's policy) is supplied by the service. The decision
//! logic itself lives in `coffer-policy` and is pure.

use crate::api::Call;
use crate::identity::{self, IdentityError, KeyOwner};
use coffer_policy::{
    AuthzInput, ConditionContext, Decision, EvalRequest, KeysUsed, PolicyDocument, PolicyKind,
    ResourcePolicyMode,
};
use coffer_storage::Txn;
use coffer_types::AccountId;
use std::borrow::Cow;

/// A refusal, with the message AWS would give.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub message: String,
    /// True when a policy explicitly denied; grants (KMS) can only lift implicit denials.
    pub explicit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// A resource-based policy that takes part in the decision.
pub struct ResourcePolicy<'a> {
    pub document: &'a PolicyDocument,
    pub owner: AccountId,
    pub mode: ResourcePolicyMode,
}

/// Condition keys by name, each with its values.
pub type Conditions = Vec<(String, Vec<String>)>;

/// Builds a service's condition keys for the policies in play; see [`Ask::extra`].
pub type ExtraKeys<'a> = dyn Fn(&KeysUsed) -> Conditions + 'a;

/// What is being asked for.
pub struct Ask<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// Service-specific condition keys (`sts:ExternalId`, `kms:EncryptionContext:...`),
    /// built only when some policy in play reads a condition key. The builder is told
    /// which keys the policies read and may leave out the others (see `KeysUsed::wants`):
    /// most policies read none, and building these strings costs more than evaluating
    /// such a policy.
    pub extra: &'a ExtraKeys<'a>,
}

impl<'a> Ask<'a> {
    /// An ask that adds no condition keys of its service's own.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        Self {
            action,
            resource,
            extra: &no_extra_keys,
        }
    }
}

fn no_extra_keys(_: &KeysUsed) -> Conditions {
    Vec::new()
}

/// Allows the call or explains, AWS-style, why not.
pub fn check(
    call: &Call<'_>,
    t: &mut dyn Txn,
    ask: &Ask<'_>,
    rp: Option<ResourcePolicy<'_>>,
) -> Result<(), AuthzError> {
    let identity_docs = identity_documents(call, t)?;
    let session_doc = session_policy(call);
    // Building the condition keys (times, addresses, principal keys, the service's extra
    // keys) costs more than evaluating the common policies, which read none or a few: only
    // the keys some policy in play can read are built.
    let mut used = KeysUsed::None;
    for doc in identity_docs
        .iter()
        .chain(rp.as_ref().map(|r| r.document))
        .chain(session_doc.as_ref().and_then(|d| d.as_ref().ok()))
    {
        used.merge(doc.keys_used());
    }
    let request = eval_request(call, ask, &used);
    let input = AuthzInput {
        request: &request,
        identity_policies: &identity_docs,
        resource_policy: rp.as_ref().map(|r| r.document),
        resource_account: rp.as_ref().map(|r| r.owner),
        mode: rp
            .as_ref()
            .map(|r| r.mode)
            .unwrap_or(ResourcePolicyMode::Standard),
    };
    let session_ok = session_policy_allows(session_doc, &request);
    match (coffer_policy::authorize(&input), session_ok) {
        (Decision::Allow, true) => Ok(()),
        (Decision::ExplicitDeny, _) => {
            let mut d = denied(call, ask, "with an explicit deny in a policy");
            d.explicit = true;
            Err(d.into())
        }
        (_, false) => {
            // A session policy is a ceiling: nothing, not even a grant, lifts it.
            let mut d = denied(call, ask, "because no session policy allows the action");
            d.explicit = true;
            Err(d.into())
        }
        (Decision::ImplicitDeny, true) => {
            let why = if rp.is_some() {
                "because no resource-based policy allows the action"
            } else {
                "because no identity-based policy allows the action"
            };
            Err(denied(call, ask, why).into())
        }
    }
}

fn denied(call: &Call<'_>, ask: &Ask<'_>, why: &str) -> Denied {
    Denied {
        message: format!(
            "User: {} is not authorized to perform: {} on resource: {} {why}",
            call.ctx.principal.arn, ask.action, ask.resource
        ),
        explicit: false,
    }
}

/// Stored identity policies were validated when written; one that no longer parses
/// (written by a newer version, say) is skipped, which can only deny more.
fn identity_documents(
    call: &Call<'_>,
    t: &mut dyn Txn,
) -> Result<Vec<PolicyDocument>, IdentityError> {
    let docs = identity::identity_policies(t, &call.ctx.principal, call.key)?;
    Ok(docs
        .iter()
        .filter_map(|d| coffer_policy::parse_with(d, PolicyKind::Identity).ok())
        .collect())
}

/// The session policy passed to AssumeRole, if the caller's session has one; `Err` when it
/// no longer parses.
fn session_policy(call: &Call<'_>) -> Option<Result<PolicyDocument, ()>> {
    let KeyOwner::Session(s) = &call.key.owner else {
        return None;
    };
    let doc = s.session_policy.as_ref()?;
    Some(coffer_policy::parse_with(doc, PolicyKind::Identity).map_err(|_| ()))
}

/// A session policy can only narrow what the role allows; one that no longer parses
/// allows nothing.
fn session_policy_allows(
    doc: Option<Result<PolicyDocument, ()>>,
    request: &EvalRequest<'_>,
) -> bool {
    let doc = match doc {
        None => return true,
        Some(Err(())) => return false,
        Some(Ok(doc)) => doc,
    };
    let input = AuthzInput {
        request,
        identity_policies: std::slice::from_ref(&doc),
        resource_policy: None,
        resource_account: None,
        mode: ResourcePolicyMode::Standard,
    };
    coffer_policy::authorize(&input) == Decision::Allow
}

/// The question to evaluate; its condition keys only when a policy in play reads them.
fn eval_request<'a>(call: &'a Call<'_>, ask: &Ask<'a>, used: &KeysUsed) -> EvalRequest<'a> {
    let ctx = call.ctx;
    let mut context = ConditionContext::new();
    if *used != KeysUsed::None {
        context = ConditionContext::global_used(
            &ctx.principal,
            Some(ctx.source_ip),
            ctx.time,
            ctx.region.as_str(),
            ctx.secure_transport,
            used,
        );
        for (k, v) in (ask.extra)(used).into_iter().filter(|(k, _)| used.wants(k)) {
            context.set(&k, v);
        }
    }
    EvalRequest {
        principal: Cow::Borrowed(&ctx.principal),
        action: Cow::Borrowed(ask.action),
        resource: Cow::Borrowed(ask.resource),
        context,
    }
}

/// The global condition keys of a request that sets tags: `aws:RequestTag/<key>` for each
/// tag and `aws:TagKeys` for all of them, for policies that constrain tagging.
pub fn request_tag_conditions(tags: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut c: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()]))
        .collect();
    if !tags.is_empty() {
        c.push((
            "aws:TagKeys".to_owned(),
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    c
}
