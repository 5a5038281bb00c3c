//! Evaluation of one policy document against one request.

use crate::context::{ConditionContext, EvalRequest};
use crate::model::{
    Effect, Patterns, PolicyDocument, PolicyKind, PrincipalElement, PrincipalType, Principals,
    Statement, Version,
};
use crate::pattern::{Pattern, Unresolved};
use coffer_types::{AccountId, ArnParts, Principal, PrincipalKind};

/// How an `Allow` reached the caller. Ordered: a direct grant is stronger than delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// A resource policy named the caller's *account* (`"111122223333"` or
    /// `arn:aws:iam::111122223333:root`). AWS reads this as delegating the decision to that
    /// account's IAM policies: the caller still needs an identity-policy Allow (the account
    /// root has one implicitly).
    AccountDelegation,
    /// The caller itself was named (`*`, its user/role/session ARN), or the Allow came from
    /// an identity policy.
    Direct,
}

/// The outcome of one policy document for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effectiveness {
    /// A matching `Deny` statement: wins over everything.
    ExplicitDeny,
    /// At least one matching `Allow` and no matching `Deny`; the strongest grant is kept.
    Allow(Grant),
    /// No statement matched.
    NotApplicable,
}

impl PolicyDocument {
    /// Evaluates this document as a policy of `kind`. For `Identity` the `Principal`
    /// element is ignored (the policy applies to whoever it is attached to); for `Resource`
    /// and `Trust` a statement applies only if its principal matches the caller.
    pub fn evaluate(&self, req: &EvalRequest, kind: PolicyKind) -> Effectiveness {
        let vars = (self.effective_version() == Version::V2012_10_17).then_some(&req.context);
        let mut best: Option<Grant> = None;
        for st in &self.statements {
            let Some(grant) = st.applies(req, kind, vars) else {
                continue;
            };
            match st.effect {
                Effect::Deny => return Effectiveness::ExplicitDeny,
                Effect::Allow => best = best.max(Some(grant)),
            }
        }
        best.map_or(Effectiveness::NotApplicable, Effectiveness::Allow)
    }
}

impl Statement {
    fn applies(
        &self,
        req: &EvalRequest,
        kind: PolicyKind,
        vars: Option<&ConditionContext>,
    ) -> Option<Grant> {
        let grant = principal_grant(self.principal.as_ref(), &req.principal, kind)?;
        // An unresolvable policy variable makes the statement not apply, as in AWS.
        self.matches(req, vars).unwrap_or(false).then_some(grant)
    }

    fn matches(
        &self,
        req: &EvalRequest,
        vars: Option<&ConditionContext>,
    ) -> Result<bool, Unresolved> {
        if !action_matches(&self.action, &req.action) || !resource_matches(self, req, vars)? {
            return Ok(false);
        }
        for c in &self.conditions {
            if !c.holds(&req.context, vars)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Actions are case-insensitive globs (`kms:Describe*`).
fn action_matches(p: &Patterns, action: &str) -> bool {
    let any = p
        .values()
        .iter()
        .any(|pat| Pattern::Plain(pat).glob(action, true));
    any != p.is_not()
}

fn resource_matches(
    st: &Statement,
    req: &EvalRequest,
    vars: Option<&ConditionContext>,
) -> Result<bool, Unresolved> {
    let Some(p) = &st.resource else {
        return Ok(true);
    };
    let mut any = false;
    for pat in p.values() {
        any |= Pattern::new(pat, vars)?.arn_match(&req.resource);
    }
    Ok(any != p.is_not())
}

fn principal_grant(
    element: Option<&PrincipalElement>,
    p: &Principal,
    kind: PolicyKind,
) -> Option<Grant> {
    if kind == PolicyKind::Identity {
        return Some(Grant::Direct);
    }
    match element? {
        PrincipalElement::Only(ps) => grant_for(ps, p),
        PrincipalElement::Not(ps) => (!excluded(ps, p)).then_some(Grant::Direct),
    }
}

/// The `AWS` principal entries. Service, federated and canonical-user principals never
/// match a coffer caller.
fn aws_entries(ps: &Principals) -> impl Iterator<Item = &str> {
    let entries = match ps {
        Principals::Any => &[][..],
        Principals::Typed(e) => e.as_slice(),
    };
    entries
        .iter()
        .filter(|(t, _)| *t == PrincipalType::Aws)
        .flat_map(|(_, v)| v.iter().map(String::as_str))
}

fn grant_for(ps: &Principals, p: &Principal) -> Option<Grant> {
    if *ps == Principals::Any {
        return Some(Grant::Direct);
    }
    aws_entries(ps).filter_map(|e| entry_grant(e, p)).max()
}

fn entry_grant(entry: &str, p: &Principal) -> Option<Grant> {
    if entry == "*" {
        return Some(Grant::Direct);
    }
    if let Some(account) = named_account(entry) {
        return (account == p.account).then_some(Grant::AccountDelegation);
    }
    let unique_id = p.user_id.split(':').next().unwrap_or_default();
    let direct = entry == p.arn || Some(entry) == p.role_arn.as_deref() || entry == unique_id;
    direct.then_some(Grant::Direct)
}

/// `111122223333` or `arn:<partition>:iam::111122223333:root`.
fn named_account(entry: &str) -> Option<AccountId> {
    if let Ok(a) = entry.parse() {
        return Some(a);
    }
    // Borrowed: this runs for every `Principal` entry of every statement evaluated.
    let arn = ArnParts::parse(entry).ok()?;
    let is_root = arn.service == "iam" && arn.resource == "root";
    is_root.then(|| arn.account.parse().ok()).flatten()
}

/// `NotPrincipal` excludes a caller only when *every* identity it acts as is listed: its
/// account, and for users their ARN, for role sessions both the session and the role ARN.
/// That is why AWS's examples list the account next to the user or role.
fn excluded(ps: &Principals, p: &Principal) -> bool {
    if *ps == Principals::Any || aws_entries(ps).any(|e| e == "*") {
        return true;
    }
    let listed = |arn: &str| aws_entries(ps).any(|e| e == arn);
    let account = aws_entries(ps).any(|e| named_account(e) == Some(p.account));
    match p.kind {
        PrincipalKind::Root => account,
        PrincipalKind::IamUser => account && listed(&p.arn),
        PrincipalKind::AssumedRole => {
            account && listed(&p.arn) && p.role_arn.as_deref().is_none_or(listed)
        }
    }
}
