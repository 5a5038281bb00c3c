//! The full decision: identity policies, resource policy, account boundaries.

use crate::context::EvalRequest;
use crate::eval::{Effectiveness, Grant};
use crate::model::{PolicyDocument, PolicyKind};
use coffer_types::{AccountId, PrincipalKind};

/// How a service uses resource policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourcePolicyMode {
    /// IAM, S3, Secrets Manager: within one account an Allow in either the identity
    /// policies or the resource policy suffices; the account root needs no policy at all.
    Standard,
    /// KMS keys and role trust policies: the resource policy is the gate. Identity policies
    /// count only where the resource policy delegates to the caller's account (as AWS's
    /// default key policy does by naming the account root). Without a resource policy
    /// nothing is allowed.
    Required,
}

/// Everything [`authorize`] needs. All policies are already parsed; the caller loads them.
#[derive(Debug, Clone, Copy)]
pub struct AuthzInput<'a> {
    pub request: &'a EvalRequest<'a>,
    /// The caller's policies: an IAM user's policies, or the assumed role's.
    pub identity_policies: &'a [PolicyDocument],
    /// The resource's policy (key policy, secret policy, trust policy).
    pub resource_policy: Option<&'a PolicyDocument>,
    /// The account that owns the resource; `None` means the caller's account.
    pub resource_account: Option<AccountId>,
    pub mode: ResourcePolicyMode,
}

/// The final answer. Both denials look the same to the caller (`AccessDenied`); they are
/// kept apart for audit records and error messages ("explicit deny in ... policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// AWS's evaluation logic (without SCPs, permission boundaries and session policies):
/// 1. an explicit Deny in any applicable policy denies;
/// 2. same account: an identity Allow, or a resource-policy Allow naming the caller, allows
///    (in `Required` mode only the resource policy can grant, directly or by delegation);
/// 3. cross account: both sides must allow — the resource policy must name the caller or
///    its account, and the caller's own identity policies must allow.
///
/// The root user of an account has every identity permission in its account implicitly,
/// so in `Standard` mode it may do anything to its own resources.
pub fn authorize(input: &AuthzInput) -> Decision {
    let req = input.request;
    let identity = combine(
        input
            .identity_policies
            .iter()
            .map(|p| p.evaluate(req, PolicyKind::Identity)),
    );
    let resource = input
        .resource_policy
        .map_or(Effectiveness::NotApplicable, |p| {
            p.evaluate(req, PolicyKind::Resource)
        });
    if identity == Effectiveness::ExplicitDeny || resource == Effectiveness::ExplicitDeny {
        return Decision::ExplicitDeny;
    }
    let is_root = req.principal.kind == PrincipalKind::Root;
    let identity_allows = is_root || matches!(identity, Effectiveness::Allow(_));
    let same_account = input
        .resource_account
        .is_none_or(|a| a == req.principal.account);
    let allowed = match (input.mode, same_account) {
        (ResourcePolicyMode::Standard, true) => {
            identity_allows || resource == Effectiveness::Allow(Grant::Direct)
        }
        (ResourcePolicyMode::Required, true) => match resource {
            Effectiveness::Allow(Grant::Direct) => true,
            Effectiveness::Allow(Grant::AccountDelegation) => identity_allows,
            _ => false,
        },
        (_, false) => identity_allows && matches!(resource, Effectiveness::Allow(_)),
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Combines several documents of the same kind: any Deny wins, then the strongest Allow.
pub fn combine(results: impl IntoIterator<Item = Effectiveness>) -> Effectiveness {
    let mut best = Effectiveness::NotApplicable;
    for r in results {
        match (r, best) {
            (Effectiveness::ExplicitDeny, _) => return Effectiveness::ExplicitDeny,
            (Effectiveness::Allow(g), Effectiveness::Allow(b)) => {
                best = Effectiveness::Allow(g.max(b));
            }
            (Effectiveness::Allow(g), _) => best = Effectiveness::Allow(g),
            (Effectiveness::NotApplicable, _) => {}
        }
    }
    best
}

#[cfg(test)]
mod tests;
