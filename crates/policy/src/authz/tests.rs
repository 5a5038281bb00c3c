use super::*;
use crate::context::ConditionContext;
use crate::parse::{parse, parse_with};
use coffer_types::Principal;

const A: &str = "111122223333";
const B: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

fn account(a: &str) -> AccountId {
    a.parse().unwrap()
}

fn root(a: &str) -> Principal {
    Principal {
        kind: PrincipalKind::Root,
        account: account(a),
        arn: format!("arn:aws:iam::{a}:root"),
        user_id: a.into(),
        access_key_id: "AKIAROOT".into(),
        role_arn: None,
        user_name: None,
    }
}

fn user(a: &str, name: &str) -> Principal {
    Principal {
        kind: PrincipalKind::IamUser,
        account: account(a),
        arn: format!("arn:aws:iam::{a}:user/{name}"),
        user_id: format!("AIDA{}", name.to_uppercase()),
        access_key_id: "AKIAUSER".into(),
        role_arn: None,
        user_name: Some(name.into()),
    }
}

fn session(a: &str, role: &str, s: &str) -> Principal {
    Principal {
        kind: PrincipalKind::AssumedRole,
        account: account(a),
        arn: format!("arn:aws:sts::{a}:assumed-role/{role}/{s}"),
        user_id: format!("AROA{}:{s}", role.to_uppercase()),
        access_key_id: "ASIA".into(),
        role_arn: Some(format!("arn:aws:iam::{a}:role/{role}")),
        user_name: None,
    }
}

fn req(p: Principal, action: &str, resource: &str) -> EvalRequest<'static> {
    let t = time::OffsetDateTime::from_unix_timestamp(1_717_243_200).unwrap();
    let context = ConditionContext::global(&p, "10.1.2.3".parse().ok(), t, "us-east-1", true);
    EvalRequest {
        principal: std::borrow::Cow::Owned(p),
        action: action.to_owned().into(),
        resource: resource.to_owned().into(),
        context,
    }
}

fn identity(statements: &str) -> PolicyDocument {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    parse_with(&doc, PolicyKind::Identity).unwrap()
}

fn resource(statements: &str) -> PolicyDocument {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    parse_with(&doc, PolicyKind::Resource).unwrap()
}

fn allow_principal(p: &str) -> PolicyDocument {
    resource(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{p}"}},"Action":"kms:*","Resource":"*"}}"#
    ))
}

fn decide(
    r: &EvalRequest,
    ids: &[PolicyDocument],
    res: Option<&PolicyDocument>,
    owner: &str,
    mode: ResourcePolicyMode,
) -> Decision {
    authorize(&AuthzInput {
        request: r,
        identity_policies: ids,
        resource_policy: res,
        resource_account: Some(account(owner)),
        mode,
    })
}

use ResourcePolicyMode::{Required, Standard};

fn allow_kms() -> PolicyDocument {
    identity(r#"{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#)
}

#[test]
fn actions_match_case_insensitively_with_wildcards() {
    let p =
        identity(r#"{"Effect":"Allow","Action":["kms:Describe*","kms:Li?tKeys"],"Resource":"*"}"#);
    let e = |a: &str| p.evaluate(&req(user(A, "u"), a, KEY), PolicyKind::Identity);
    assert_eq!(e("kms:DescribeKey"), Effectiveness::Allow(Grant::Direct));
    assert_eq!(e("KMS:describekey"), Effectiveness::Allow(Grant::Direct));
    assert_eq!(e("kms:ListKeys"), Effectiveness::Allow(Grant::Direct));
    assert_eq!(e("kms:Encrypt"), Effectiveness::NotApplicable);
    let not = identity(r#"{"Effect":"Deny","NotAction":"kms:Describe*","Resource":"*"}"#);
    let e = |a: &str| not.evaluate(&req(user(A, "u"), a, KEY), PolicyKind::Identity);
    assert_eq!(e("kms:Encrypt"), Effectiveness::ExplicitDeny);
    assert_eq!(e("kms:DescribeKey"), Effectiveness::NotApplicable);
}

#[test]
fn resources_and_not_resources() {
    let p = identity(
        r#"{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/*"}"#,
    );
    let e = |r: &str| p.evaluate(&req(user(A, "u"), "kms:Encrypt", r), PolicyKind::Identity);
    assert_eq!(e(KEY), Effectiveness::Allow(Grant::Direct));
    assert_eq!(
        e("arn:aws:kms:us-east-1:444455556666:key/k1"),
        Effectiveness::NotApplicable
    );
    assert_eq!(
        e("*"),
        Effectiveness::NotApplicable,
        "resource-less actions need Resource \"*\""
    );
    let star = identity(r#"{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#);
    assert_eq!(
        star.evaluate(
            &req(user(A, "u"), "kms:CreateKey", "*"),
            PolicyKind::Identity
        ),
        Effectiveness::Allow(Grant::Direct)
    );
    let not =
        identity(r#"{"Effect":"Allow","Action":"kms:*","NotResource":"arn:aws:kms:*:*:key/k1"}"#);
    let e = |r: &str| not.evaluate(&req(user(A, "u"), "kms:Encrypt", r), PolicyKind::Identity);
    assert_eq!(e(KEY), Effectiveness::NotApplicable);
    assert_eq!(
        e("arn:aws:kms:us-east-1:111122223333:key/k2"),
        Effectiveness::Allow(Grant::Direct)
    );
}

#[test]
fn policy_variables_in_resources() {
    let doc = |v: &str| {
        format!(
            r#"{{{v}"Statement":{{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${{aws:username}}/*"}}}}"#
        )
    };
    let r = |p| {
        req(
            p,
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:home/alice/db",
        )
    };
    let v12 = parse(&doc(r#""Version":"2012-10-17","#)).unwrap();
    assert_eq!(
        v12.evaluate(&r(user(A, "alice")), PolicyKind::Identity),
        Effectiveness::Allow(Grant::Direct)
    );
    assert_eq!(
        v12.evaluate(&r(user(A, "bob")), PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
    // A role session has no aws:username: the statement does not apply.
    assert_eq!(
        v12.evaluate(&r(session(A, "R", "alice")), PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
    // Without a Version (2008-10-17) variables are literal text.
    let v08 = parse(&doc("")).unwrap();
    assert_eq!(
        v08.evaluate(&r(user(A, "alice")), PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
    let default = identity(
        r#"{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${aws:username, 'alice'}/*"}"#,
    );
    assert_eq!(
        default.evaluate(&r(session(A, "R", "s")), PolicyKind::Identity),
        Effectiveness::Allow(Grant::Direct)
    );
}

#[test]
fn unresolved_variable_in_deny_makes_statement_not_apply() {
    let p = identity(
        r#"{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"${aws:username}"}}}"#,
    );
    let tagged = |p| {
        let mut r = req(p, "kms:Encrypt", KEY);
        r.context.insert("aws:PrincipalTag/team", "blue");
        r
    };
    assert_eq!(
        p.evaluate(&tagged(session(A, "R", "s")), PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
    assert_eq!(
        p.evaluate(&tagged(user(A, "alice")), PolicyKind::Identity),
        Effectiveness::ExplicitDeny
    );
    // Without the tag the negated operator holds before any variable is needed.
    let untagged = req(session(A, "R", "s"), "kms:Encrypt", KEY);
    assert_eq!(
        p.evaluate(&untagged, PolicyKind::Identity),
        Effectiveness::ExplicitDeny
    );
}

#[test]
fn conditions_use_global_keys() {
    let p = identity(
        r#"{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{
        "IpAddress":{"aws:SourceIp":["10.0.0.0/8"]},
        "Bool":{"aws:SecureTransport":"true"},
        "DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"},
        "StringEquals":{"aws:PrincipalAccount":"111122223333","aws:PrincipalType":"User"}}}"#,
    );
    assert_eq!(
        p.evaluate(&req(user(A, "u"), "kms:Encrypt", KEY), PolicyKind::Identity),
        Effectiveness::Allow(Grant::Direct)
    );
    assert_eq!(
        p.evaluate(&req(user(B, "u"), "kms:Encrypt", KEY), PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
    let mut r = req(user(A, "u"), "kms:Encrypt", KEY);
    r.context.set("aws:SourceIp", vec!["192.168.0.1".into()]);
    assert_eq!(
        p.evaluate(&r, PolicyKind::Identity),
        Effectiveness::NotApplicable
    );
}

#[test]
fn principal_matching() {
    let r = |p| req(p, "kms:Encrypt", KEY);
    let ev = |doc: &PolicyDocument, p| doc.evaluate(&r(p), PolicyKind::Resource);
    let direct = Effectiveness::Allow(Grant::Direct);
    let deleg = Effectiveness::Allow(Grant::AccountDelegation);
    let na = Effectiveness::NotApplicable;
    let star = resource(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#);
    assert_eq!(ev(&star, user(B, "x")), direct);
    assert_eq!(ev(&allow_principal("*"), user(B, "x")), direct);
    assert_eq!(ev(&allow_principal(A), user(A, "u")), deleg);
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:iam::{A}:root")),
            session(A, "R", "s")
        ),
        deleg
    );
    assert_eq!(ev(&allow_principal(A), user(B, "u")), na);
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:iam::{A}:user/u")),
            user(A, "u")
        ),
        direct
    );
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:iam::{A}:user/u")),
            user(A, "v")
        ),
        na
    );
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:iam::{A}:role/R")),
            session(A, "R", "s")
        ),
        direct
    );
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:sts::{A}:assumed-role/R/s")),
            session(A, "R", "s")
        ),
        direct
    );
    assert_eq!(
        ev(
            &allow_principal(&format!("arn:aws:sts::{A}:assumed-role/R/s")),
            session(A, "R", "t")
        ),
        na
    );
    assert_eq!(
        ev(&allow_principal("AIDAU"), user(A, "u")),
        direct,
        "unique ids match"
    );
    let svc = resource(
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"kms:*","Resource":"*"}"#,
    );
    assert_eq!(ev(&svc, root(A)), na);
    // Both an account and a direct grant: direct wins.
    let both = resource(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":["{A}","arn:aws:iam::{A}:user/u"]}},"Action":"kms:*","Resource":"*"}}"#
    ));
    assert_eq!(ev(&both, user(A, "u")), direct);
    // Identity evaluation ignores the principal element.
    assert_eq!(
        allow_principal(B).evaluate(&r(user(A, "u")), PolicyKind::Identity),
        direct
    );
}

#[test]
fn not_principal_needs_every_identity_listed() {
    let deny = |list: &str| {
        resource(&format!(
            r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":[{list}]}},"Action":"kms:*","Resource":"*"}}"#
        ))
    };
    let ev =
        |doc: &PolicyDocument, p| doc.evaluate(&req(p, "kms:Encrypt", KEY), PolicyKind::Resource);
    let user_only = deny(&format!(r#""arn:aws:iam::{A}:user/u""#));
    assert_eq!(ev(&user_only, user(A, "u")), Effectiveness::ExplicitDeny);
    let user_and_acct = deny(&format!(r#""arn:aws:iam::{A}:user/u","{A}""#));
    assert_eq!(
        ev(&user_and_acct, user(A, "u")),
        Effectiveness::NotApplicable
    );
    assert_eq!(
        ev(&user_and_acct, user(A, "v")),
        Effectiveness::ExplicitDeny
    );
    assert_eq!(ev(&user_and_acct, root(A)), Effectiveness::NotApplicable);
    let role = deny(&format!(
        r#""arn:aws:iam::{A}:role/R","arn:aws:sts::{A}:assumed-role/R/s","arn:aws:iam::{A}:root""#
    ));
    assert_eq!(
        ev(&role, session(A, "R", "s")),
        Effectiveness::NotApplicable
    );
    assert_eq!(
        ev(&role, session(A, "R", "other")),
        Effectiveness::ExplicitDeny
    );
    let everyone =
        resource(r#"{"Effect":"Deny","NotPrincipal":"*","Action":"kms:*","Resource":"*"}"#);
    assert_eq!(ev(&everyone, user(B, "x")), Effectiveness::NotApplicable);
}

#[test]
fn standard_same_account() {
    let r = req(user(A, "u"), "secretsmanager:GetSecretValue", "*");
    assert_eq!(decide(&r, &[], None, A, Standard), Decision::ImplicitDeny);
    let allow = identity(r#"{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}"#);
    assert_eq!(
        decide(&r, std::slice::from_ref(&allow), None, A, Standard),
        Decision::Allow
    );
    // A resource policy naming the user grants without any identity policy ...
    let direct = resource(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:user/u"}},"Action":"secretsmanager:*","Resource":"*"}}"#
    ));
    assert_eq!(decide(&r, &[], Some(&direct), A, Standard), Decision::Allow);
    // ... but naming the account only delegates.
    let acct = resource(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{A}"}},"Action":"secretsmanager:*","Resource":"*"}}"#
    ));
    assert_eq!(
        decide(&r, &[], Some(&acct), A, Standard),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&r, std::slice::from_ref(&allow), Some(&acct), A, Standard),
        Decision::Allow
    );
    // An explicit deny anywhere wins.
    let deny = resource(
        r#"{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}"#,
    );
    assert_eq!(
        decide(&r, std::slice::from_ref(&allow), Some(&deny), A, Standard),
        Decision::ExplicitDeny
    );
    let id_deny = identity(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    assert_eq!(
        decide(&r, &[allow, id_deny], Some(&direct), A, Standard),
        Decision::ExplicitDeny
    );
}

#[test]
fn root_of_the_owning_account() {
    let r = req(root(A), "secretsmanager:DeleteSecret", "*");
    assert_eq!(decide(&r, &[], None, A, Standard), Decision::Allow);
    let deny = resource(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#);
    assert_eq!(
        decide(&r, &[], Some(&deny), A, Standard),
        Decision::ExplicitDeny
    );
    // KMS: root needs the key policy, which by default names the account.
    let k = req(root(A), "kms:ScheduleKeyDeletion", KEY);
    assert_eq!(decide(&k, &[], None, A, Required), Decision::ImplicitDeny);
    let other = allow_principal(&format!("arn:aws:iam::{A}:user/admin"));
    assert_eq!(
        decide(&k, &[], Some(&other), A, Required),
        Decision::ImplicitDeny
    );
    let default = allow_principal(&format!("arn:aws:iam::{A}:root"));
    assert_eq!(
        decide(&k, &[], Some(&default), A, Required),
        Decision::Allow
    );
    // Root of another account has no rights on A's resources without a grant.
    let rb = req(root(B), "secretsmanager:DeleteSecret", "*");
    assert_eq!(decide(&rb, &[], None, A, Standard), Decision::ImplicitDeny);
}

#[test]
fn kms_required_mode() {
    let r = req(user(A, "u"), "kms:Encrypt", KEY);
    let default = allow_principal(&format!("arn:aws:iam::{A}:root"));
    assert_eq!(
        decide(&r, &[allow_kms()], None, A, Required),
        Decision::ImplicitDeny,
        "no key policy, no access"
    );
    assert_eq!(
        decide(&r, &[], Some(&default), A, Required),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&r, &[allow_kms()], Some(&default), A, Required),
        Decision::Allow
    );
    let no_delegation = allow_principal(&format!("arn:aws:iam::{A}:user/admin"));
    assert_eq!(
        decide(&r, &[allow_kms()], Some(&no_delegation), A, Required),
        Decision::ImplicitDeny,
        "identity policies need delegation"
    );
    let direct = allow_principal(&format!("arn:aws:iam::{A}:user/u"));
    assert_eq!(decide(&r, &[], Some(&direct), A, Required), Decision::Allow);
}

#[test]
fn cross_account_needs_both_sides() {
    let r = req(user(B, "x"), "kms:Decrypt", KEY);
    let to_b = allow_principal(B);
    let to_x = allow_principal(&format!("arn:aws:iam::{B}:user/x"));
    for mode in [Standard, Required] {
        assert_eq!(
            decide(&r, &[allow_kms()], None, A, mode),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&r, &[], Some(&to_b), A, mode),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&r, &[], Some(&to_x), A, mode),
            Decision::ImplicitDeny,
            "direct grant still needs B's IAM allow"
        );
        assert_eq!(
            decide(&r, &[allow_kms()], Some(&to_b), A, mode),
            Decision::Allow
        );
        assert_eq!(
            decide(&r, &[allow_kms()], Some(&to_x), A, mode),
            Decision::Allow
        );
        // B's root has its identity permissions implicitly.
        assert_eq!(
            decide(&req(root(B), "kms:Decrypt", KEY), &[], Some(&to_b), A, mode),
            Decision::Allow
        );
        // A grant to A's account does not reach B.
        let to_a = allow_principal(A);
        assert_eq!(
            decide(&r, &[allow_kms()], Some(&to_a), A, mode),
            Decision::ImplicitDeny
        );
    }
}

#[test]
fn trust_policy_as_resource_policy() {
    let trust_doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:user/u"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let trust = parse_with(&trust_doc, PolicyKind::Trust).unwrap();
    let role = "arn:aws:iam::111122223333:role/R";
    let r = req(user(A, "u"), "sts:AssumeRole", role);
    assert_eq!(decide(&r, &[], Some(&trust), A, Required), Decision::Allow);
    let other = req(user(A, "v"), "sts:AssumeRole", role);
    assert_eq!(
        decide(&other, &[], Some(&trust), A, Required),
        Decision::ImplicitDeny
    );
}

#[test]
fn resource_account_none_means_same_account() {
    let r = req(user(A, "u"), "kms:Encrypt", KEY);
    let input = AuthzInput {
        request: &r,
        identity_policies: &[],
        resource_policy: Some(&allow_principal(&format!("arn:aws:iam::{A}:user/u"))),
        resource_account: None,
        mode: Required,
    };
    assert_eq!(authorize(&input), Decision::Allow);
}

#[test]
fn combine_prefers_deny_then_direct() {
    use Effectiveness::*;
    assert_eq!(combine([]), NotApplicable);
    assert_eq!(
        combine([Allow(Grant::AccountDelegation), Allow(Grant::Direct)]),
        Allow(Grant::Direct)
    );
    assert_eq!(
        combine([Allow(Grant::Direct), ExplicitDeny, NotApplicable]),
        ExplicitDeny
    );
}
