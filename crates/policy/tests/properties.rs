//! Property tests of the evaluation logic over generated policy sets and requests.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use coffer_policy::{
    AuthzInput, ConditionContext, Decision, EvalRequest, KeysUsed, PolicyDocument, PolicyKind,
    ResourcePolicyMode, authorize, parse, parse_with,
};
use coffer_types::{AccountId, Principal, PrincipalKind};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

const A: &str = "111122223333";
const B: &str = "444455556666";
const KEY_A: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
const KEY_B: &str = "arn:aws:kms:us-east-1:444455556666:key/k2";
const SECRET_A: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";

fn principal(i: usize) -> Principal {
    let (kind, acct, arn, role) = match i {
        0 => (
            PrincipalKind::Root,
            A,
            format!("arn:aws:iam::{A}:root"),
            None,
        ),
        1 => (
            PrincipalKind::IamUser,
            A,
            format!("arn:aws:iam::{A}:user/u"),
            None,
        ),
        2 => (
            PrincipalKind::AssumedRole,
            A,
            format!("arn:aws:sts::{A}:assumed-role/R/s"),
            Some(format!("arn:aws:iam::{A}:role/R")),
        ),
        3 => (
            PrincipalKind::IamUser,
            B,
            format!("arn:aws:iam::{B}:user/x"),
            None,
        ),
        _ => (
            PrincipalKind::Root,
            B,
            format!("arn:aws:iam::{B}:root"),
            None,
        ),
    };
    Principal {
        kind,
        account: acct.parse().unwrap(),
        arn,
        user_id: if kind == PrincipalKind::Root {
            acct.into()
        } else {
            format!("AIDA{i}")
        },
        access_key_id: "AKIA".into(),
        role_arn: role,
        user_name: (kind == PrincipalKind::IamUser).then(|| format!("user{i}")),
    }
}

fn request() -> impl Strategy<Value = EvalRequest<'static>> {
    let actions = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:DescribeKey",
        "secretsmanager:GetSecretValue",
    ];
    (
        0..5usize,
        select(actions.to_vec()),
        select(&[KEY_A, KEY_B, SECRET_A, "*"][..]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(p, action, resource, secure, tagged)| {
            let principal = principal(p);
            let t = time::OffsetDateTime::from_unix_timestamp(1_717_243_200).unwrap();
            let ip = if secure { "10.0.0.7" } else { "192.0.2.1" };
            let mut context =
                ConditionContext::global(&principal, ip.parse().ok(), t, "us-east-1", secure);
            if tagged {
                context.insert("aws:TagKeys", "a");
                context.insert("x:n", "3");
            }
            EvalRequest {
                principal: std::borrow::Cow::Owned(principal),
                action: action.into(),
                resource: resource.into(),
                context,
            }
        })
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    select(vec![
        None,
        Some(json!({"Bool": {"aws:SecureTransport": "true"}})),
        Some(json!({"StringEquals": {"aws:PrincipalAccount": A}})),
        Some(json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}})),
        Some(json!({"StringNotEquals": {"aws:username": "user1"}})),
        Some(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})),
        Some(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}})),
        Some(json!({"NumericLessThanIfExists": {"x:n": 5}})),
        Some(
            json!({"StringLike": {"aws:userid": "AIDA*"}, "Null": {"aws:TokenIssueTime": "true"}}),
        ),
        Some(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})),
        Some(json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
    ])
}

fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
    let actions = [
        "*",
        "kms:*",
        "kms:Describe*",
        "kms:Encrypt",
        "kms:?ecrypt",
        "secretsmanager:*",
    ];
    let resources = [
        "*",
        "arn:aws:kms:*:111122223333:key/*",
        KEY_A,
        "arn:aws:secretsmanager:*:*:secret:*",
        "arn:aws:kms:*:${aws:PrincipalAccount}:key/*",
    ];
    let principals = vec![
        json!("*"),
        json!({"AWS": A}),
        json!({"AWS": B}),
        json!({"AWS": format!("arn:aws:iam::{A}:user/u")}),
        json!({"AWS": [format!("arn:aws:iam::{A}:role/R"), format!("arn:aws:iam::{B}:root")]}),
    ];
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(select(actions.to_vec()), 1..3),
        any::<bool>(),
        proptest::collection::vec(select(resources.to_vec()), 1..3),
        select(principals),
        any::<bool>(),
        condition(),
    )
        .prop_map(
            move |(allow, not_action, acts, not_res, res, princ, not_princ, cond)| {
                let mut st = json!({"Effect": if allow { "Allow" } else { "Deny" }});
                st[if not_action { "NotAction" } else { "Action" }] = json!(acts);
                st[if not_res { "NotResource" } else { "Resource" }] = json!(res);
                if with_principal {
                    st[if not_princ && !allow {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    }] = princ;
                }
                if let Some(c) = cond {
                    st["Condition"] = c;
                }
                st
            },
        )
}

fn policy_json(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        proptest::collection::vec(statement(with_principal), 1..5),
    )
        .prop_map(|(v12, sts)| {
            let mut doc = json!({"Statement": sts});
            if v12 {
                doc["Version"] = json!("2012-10-17");
            }
            doc
        })
}

fn policy(kind: PolicyKind) -> impl Strategy<Value = PolicyDocument> {
    policy_json(kind != PolicyKind::Identity)
        .prop_map(move |j| parse_with(&j.to_string(), kind).unwrap())
}

#[derive(Debug, Clone)]
struct Scenario {
    request: EvalRequest<'static>,
    identity: Vec<PolicyDocument>,
    resource: Option<PolicyDocument>,
    owner: AccountId,
    mode: ResourcePolicyMode,
}

impl Scenario {
    fn decide(&self) -> Decision {
        authorize(&AuthzInput {
            request: &self.request,
            identity_policies: &self.identity,
            resource_policy: self.resource.as_ref(),
            resource_account: Some(self.owner),
            mode: self.mode,
        })
    }
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        request(),
        proptest::collection::vec(policy(PolicyKind::Identity), 0..3),
        proptest::option::of(policy(PolicyKind::Resource)),
        select(&[A, B][..]),
        select(&[ResourcePolicyMode::Standard, ResourcePolicyMode::Required][..]),
    )
        .prop_map(|(request, identity, resource, owner, mode)| Scenario {
            request,
            identity,
            resource,
            owner: owner.parse().unwrap(),
            mode,
        })
}

/// Reorders `v` by sort keys drawn from `keys` (a generated permutation).
fn permute<T>(v: &mut Vec<T>, keys: &[u32]) {
    let mut tagged: Vec<(u32, T)> = v
        .drain(..)
        .enumerate()
        .map(|(i, t)| (keys[i % keys.len()] ^ i as u32, t))
        .collect();
    tagged.sort_by_key(|(k, _)| *k);
    v.extend(tagged.into_iter().map(|(_, t)| t));
}

fn matching_deny(req: &EvalRequest, with_principal: bool) -> serde_json::Value {
    let mut st = json!({"Effect": "Deny", "Action": req.action.to_lowercase(), "Resource": "*"});
    if with_principal {
        st["Principal"] = json!({"AWS": "*"});
    }
    st
}

fn add_statement(p: &mut PolicyDocument, st: &Value, kind: PolicyKind, at: usize) {
    let doc = json!({"Version": "2012-10-17", "Statement": [st]});
    let parsed = parse_with(&doc.to_string(), kind).unwrap();
    let at = at % (p.statements.len() + 1);
    p.statements.splice(at..at, parsed.statements);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (a) An explicit Deny matching the request, added anywhere, always wins.
    #[test]
    fn explicit_deny_always_wins(mut s in scenario(), target in 0usize..4, at in 0usize..8) {
        let req = s.request.clone();
        match (target, s.identity.len(), s.resource.as_mut()) {
            (0, _, Some(r)) => add_statement(r, &matching_deny(&req, true), PolicyKind::Resource, at),
            (1, n, _) if n > 0 => {
                let i = at % n;
                add_statement(&mut s.identity[i], &matching_deny(&req, false), PolicyKind::Identity, at);
            }
            _ => {
                let doc = json!({"Statement": [matching_deny(&req, false)]}).to_string();
                let i = at % (s.identity.len() + 1);
                s.identity.insert(i, parse_with(&doc, PolicyKind::Identity).unwrap());
            }
        }
        prop_assert_eq!(s.decide(), Decision::ExplicitDeny);
    }

    /// (b) Neither statement order nor policy order changes the decision.
    #[test]
    fn order_does_not_matter(s in scenario(), keys in proptest::collection::vec(any::<u32>(), 1..16)) {
        let before = s.decide();
        let mut t = s.clone();
        permute(&mut t.identity, &keys);
        for p in t.identity.iter_mut().chain(t.resource.iter_mut()) {
            permute(&mut p.statements, &keys);
        }
        prop_assert_eq!(t.decide(), before);
    }

    /// Repeating a policy changes nothing (policies are a set).
    #[test]
    fn duplicate_policies_change_nothing(s in scenario()) {
        let before = s.decide();
        let mut t = s.clone();
        t.identity.extend(s.identity.iter().cloned());
        prop_assert_eq!(t.decide(), before);
    }

    /// Without any Allow anywhere, nothing but the account root in Standard mode is allowed.
    #[test]
    fn no_allow_no_access(mut s in scenario()) {
        for p in s.identity.iter_mut().chain(s.resource.iter_mut()) {
            p.statements.retain(|st| st.effect == coffer_policy::Effect::Deny);
        }
        s.identity.retain(|p| !p.statements.is_empty());
        let d = s.decide();
        let own_root = s.request.principal.kind == PrincipalKind::Root
            && s.request.principal.account == s.owner
            && s.mode == ResourcePolicyMode::Standard;
        prop_assert!(d != Decision::Allow || own_root);
    }

    /// (c) parse(serialize(policy)) == policy.
    #[test]
    fn serialization_round_trips(j in policy_json(true)) {
        let p = parse(&j.to_string()).unwrap();
        let again = parse(&p.to_string()).unwrap();
        prop_assert_eq!(again, p);
    }

    /// The parser never panics, whatever it is fed.
    #[test]
    fn parse_never_panics(s in ".{0,200}") {
        let _ = parse(&s);
    }

    /// Nor on almost-valid documents with a character replaced.
    #[test]
    fn parse_never_panics_on_mutations(j in policy_json(true), pos in any::<prop::sample::Index>(), c in any::<char>()) {
        let mut text: Vec<char> = j.to_string().chars().collect();
        let i = pos.index(text.len());
        text[i] = c;
        let _ = parse(&text.into_iter().collect::<String>());
    }

    /// (d) Policies that read no condition keys decide the same without them, so the server
    /// may skip building the keys for them. Conditions are stripped here (nearly every
    /// generated policy has one); what is left to read them is a policy variable.
    #[test]
    fn condition_keys_matter_only_to_policies_that_read_them(mut s in scenario()) {
        for d in s.identity.iter_mut().chain(s.resource.as_mut()) {
            for st in &mut d.statements {
                st.conditions.clear();
            }
        }
        let uses = s
            .identity
            .iter()
            .chain(s.resource.as_ref())
            .any(PolicyDocument::uses_condition_keys);
        let mut bare = s.clone();
        bare.request.context = ConditionContext::new();
        if !uses {
            prop_assert_eq!(s.decide(), bare.decide());
        }
    }

    /// (e) Likewise with conditions: a request that carries only the keys the policies in
    /// play can read (as the server builds it) is decided as the full request is.
    #[test]
    fn only_the_keys_policies_read_matter(s in scenario()) {
        let mut used = KeysUsed::None;
        for d in s.identity.iter().chain(s.resource.as_ref()) {
            used.merge(d.keys_used());
        }
        let mut narrow = s.clone();
        narrow.request.context.retain_used(&used);
        prop_assert_eq!(s.decide(), narrow.decide());
    }
}
