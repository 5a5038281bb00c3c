use super::*;
use crate::model::KeysUsed;
use serde_json::json;

fn err(doc: &str) -> String {
    parse(doc).unwrap_err().to_string()
}

fn err_as(doc: &str, kind: PolicyKind) -> String {
    parse_with(doc, kind).unwrap_err().to_string()
}

const KEY_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Id": "key-default-1",
  "Statement": [{
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*"
  }, {
    "Effect": "Deny",
    "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/admin"]},
    "NotAction": ["kms:Describe*", "kms:List*"],
    "NotResource": "arn:aws:kms:*:111122223333:alias/*",
    "Condition": {
      "Bool": {"aws:SecureTransport": false},
      "NumericLessThan": {"kms:GrantCount": 5},
      "ForAnyValue:StringLike": {"aws:TagKeys": ["a*", "b"]}
    }
  }]
}"#;

#[test]
fn parses_a_full_document() {
    let p = parse_with(KEY_POLICY, PolicyKind::Resource).unwrap();
    assert_eq!(p.version, Some(Version::V2012_10_17));
    assert_eq!(p.id.as_deref(), Some("key-default-1"));
    assert_eq!(p.statements.len(), 2);
    let [allow, deny] = p.statements.as_slice() else {
        panic!()
    };
    assert_eq!(allow.sid.as_deref(), Some("Enable IAM User Permissions"));
    assert_eq!(allow.action, Patterns::Only(vec!["kms:*".into()]));
    assert_eq!(deny.effect, Effect::Deny);
    assert!(matches!(deny.principal, Some(PrincipalElement::Not(_))));
    assert!(deny.action.is_not());
    assert!(deny.resource.as_ref().unwrap().is_not());
    assert_eq!(deny.conditions.len(), 3);
    let grant = deny
        .conditions
        .iter()
        .find(|c| c.key == "kms:GrantCount")
        .unwrap();
    assert_eq!(grant.values, ["5"]);
    let tls = deny
        .conditions
        .iter()
        .find(|c| c.key == "aws:SecureTransport")
        .unwrap();
    assert_eq!(tls.values, ["false"]);
}

#[test]
fn statement_may_be_a_single_object_and_version_may_be_missing() {
    let p =
        parse(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#).unwrap();
    assert_eq!(p.version, None);
    assert_eq!(p.effective_version(), Version::V2008_10_17);
    let p = parse(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    assert_eq!(p.unwrap().version, Some(Version::V2008_10_17));
}

#[test]
fn rejects_bad_json_and_shapes() {
    assert!(err("{").starts_with("Syntax errors in policy"));
    assert!(err("[]").starts_with("Syntax errors in policy"));
    assert_eq!(err("{}"), "Missing required field Statement");
    assert_eq!(
        err(r#"{"Statement": []}"#),
        "Policy document must contain at least one statement."
    );
    assert_eq!(
        err(r#"{"Statement": "x"}"#),
        "Syntax errors in policy: Statement must be an object or an array"
    );
    assert_eq!(
        err(r#"{"Statement": [], "Foo": 1}"#),
        "Syntax errors in policy: unknown field \"Foo\" in the policy"
    );
    assert_eq!(
        err(r#"{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Resources":"*"}}"#),
        "Syntax errors in policy: unknown field \"Resources\" in a statement"
    );
    assert_eq!(
        err(
            r#"{"Version": "2012-10-18", "Statement": {"Effect":"Allow","Action":"*","Resource":"*"}}"#
        ),
        "The policy failed legacy parsing: unsupported Version \"2012-10-18\""
    );
    assert_eq!(
        err(r#"{"Id": 5, "Statement": {"Effect":"Allow","Action":"*","Resource":"*"}}"#),
        "Syntax errors in policy: Id must be a string"
    );
    assert_eq!(
        err(r#"{"Statement": {"Sid": 1, "Effect":"Allow","Action":"*","Resource":"*"}}"#),
        "Syntax errors in policy: Sid must be a string"
    );
}

#[test]
fn rejects_bad_statements() {
    let st = |body: &str| err(&format!(r#"{{"Statement": {{{body}}}}}"#));
    assert_eq!(
        st(r#""Action":"*","Resource":"*""#),
        "Missing required field Effect"
    );
    assert_eq!(
        st(r#""Effect":"allow","Action":"*","Resource":"*""#),
        "Invalid effect: \"allow\"; Effect must be \"Allow\" or \"Deny\""
    );
    assert_eq!(
        st(r#""Effect":"Allow","Resource":"*""#),
        "Policy statement must contain actions."
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":[],"Resource":"*""#),
        "Policy statement must contain actions."
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":"*","NotAction":"*","Resource":"*""#),
        "Statement cannot contain both Action and NotAction"
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":"kms","Resource":"*""#),
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. Found: \"kms\""
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":[1],"Resource":"*""#),
        "Syntax errors in policy: Action must be a string or an array of strings"
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":"*","Resource":"bucket""#),
        "Resource bucket must be in ARN format or \"*\"."
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":"*","Resource":[]"#),
        "Policy statement must contain resources."
    );
    assert_eq!(
        st(
            r#""Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}"#
        ),
        "Invalid Condition type : StringEqualz."
    );
    assert_eq!(
        st(
            r#""Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"nokey":"c"}}"#
        ),
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. Found: \"nokey\""
    );
    assert_eq!(
        st(
            r#""Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}"#
        ),
        "Syntax errors in policy: values of condition key a:b must be strings, numbers or booleans"
    );
    assert_eq!(
        st(r#""Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}"#),
        "Syntax errors in policy: StringEquals must map condition keys to values"
    );
}

#[test]
fn principals() {
    let with = |p: &str| {
        parse(&format!(
            r#"{{"Statement": {{"Effect":"Allow","Principal":{p},"Action":"*","Resource":"*"}}}}"#
        ))
    };
    assert!(with(r#""*""#).is_ok());
    assert!(with(r#"{"AWS":"*"}"#).is_ok());
    assert!(with(r#"{"AWS":"111122223333"}"#).is_ok());
    assert!(with(r#"{"AWS":["arn:aws:iam::111122223333:role/R","arn:aws:sts::111122223333:assumed-role/R/s"]}"#).is_ok());
    assert!(with(r#"{"AWS":"AIDAEXAMPLE123"}"#).is_ok());
    assert!(
        with(r#"{"Service":"ec2.amazonaws.com","Federated":"cognito-identity.amazonaws.com"}"#)
            .is_ok()
    );
    assert!(with(r#"{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#).is_ok());
    let bad = |p: &str| with(p).unwrap_err().to_string();
    assert_eq!(bad(r#""alice""#), "Invalid principal in policy: \"alice\"");
    assert_eq!(bad(r#"{}"#), "Invalid principal in policy: {}");
    assert_eq!(
        bad(r#"{"AWS":"alice"}"#),
        "Invalid principal in policy: \"AWS\":\"alice\""
    );
    assert_eq!(
        bad(r#"{"AWS":"12345"}"#),
        "Invalid principal in policy: \"AWS\":\"12345\""
    );
    assert_eq!(
        bad(r#"{"AWS":"arn:aws:iam::111122223333:user/*"}"#),
        "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:user/*\""
    );
    assert_eq!(
        bad(r#"{"Robot":"x"}"#),
        "Invalid principal in policy: \"Robot\":\"x\""
    );
    assert_eq!(
        bad(r#"{"AWS":[]}"#),
        "Invalid principal in policy: \"AWS\":[]"
    );
    let both = r#"{"Statement": {"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}}"#;
    assert_eq!(
        err(both),
        "Statement cannot contain both Principal and NotPrincipal"
    );
}

#[test]
fn kind_rules() {
    let with_principal =
        r#"{"Statement": {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#;
    let no_principal = r#"{"Statement": {"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let no_resource = r#"{"Statement": {"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}}"#;
    assert_eq!(
        err_as(with_principal, PolicyKind::Identity),
        "Policy document should not specify a principal."
    );
    assert!(parse_with(no_principal, PolicyKind::Identity).is_ok());
    assert_eq!(
        err_as(no_principal, PolicyKind::Resource),
        "Missing required field Principal"
    );
    assert_eq!(
        err_as(no_principal, PolicyKind::Trust),
        "Missing required field Principal"
    );
    assert!(parse_with(no_resource, PolicyKind::Trust).is_ok());
    assert_eq!(
        err_as(no_resource, PolicyKind::Resource),
        "Policy statement must contain resources."
    );
    let id_no_res = r#"{"Statement": {"Effect":"Allow","Action":"*"}}"#;
    assert_eq!(
        err_as(id_no_res, PolicyKind::Identity),
        "Policy statement must contain resources."
    );
}

#[test]
fn serializes_back_to_the_same_document() {
    let p = parse(KEY_POLICY).unwrap();
    let again = parse(&p.to_string()).unwrap();
    assert_eq!(p, again);
}

/// The keys a document can read: its condition keys, lower-cased and once each; every key
/// when a 2012-10-17 document has a policy variable in a resource or a condition value.
#[test]
fn keys_used_by_a_document() {
    let doc = |j: serde_json::Value| parse(&j.to_string()).unwrap();
    let st = |extra: serde_json::Value| {
        let mut s = json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"});
        if let (Some(s), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        s
    };
    let plain = doc(json!({"Version": "2012-10-17", "Statement": [st(json!({}))]}));
    assert_eq!(plain.keys_used(), KeysUsed::None);
    let conds = doc(json!({"Version": "2012-10-17", "Statement": [
        st(json!({"Condition": {"StringEquals": {"kms:ViaService": "x", "kms:CallerAccount": "1"}}})),
        st(json!({"Condition": {"Bool": {"KMS:VIASERVICE": "true"}}})),
    ]}));
    let used = conds.keys_used();
    assert_eq!(
        used,
        KeysUsed::Some(vec!["kms:calleraccount".into(), "kms:viaservice".into()])
    );
    assert!(used.wants("kms:ViaService") && !used.wants("aws:SourceIp"));
    assert!(used.wants_any_under("KMS:Via") && !used.wants_any_under("kms:EncryptionContext:"));
    assert!(KeysUsed::All.wants_any_under("x:") && !KeysUsed::None.wants_any_under(""));
    // Keys are case-insensitive beyond ASCII too (tag keys may be any Unicode), as the
    // request's condition keys are.
    let tag = doc(json!({"Version": "2012-10-17", "Statement": [
        st(json!({"Condition": {"StringEquals": {"aws:ResourceTag/Équipe": "x"}}})),
    ]}));
    let used = tag.keys_used();
    assert!(used.wants("AWS:RESOURCETAG/ÉQUIPE") && used.wants("aws:resourcetag/équipe"));
    assert!(!used.wants("aws:ResourceTag/Equipe"));
    let mut c = crate::ConditionContext::new();
    c.insert("aws:ResourceTag/ÉQUIPE", "x");
    c.retain_used(&used);
    assert_eq!(c.get("aws:resourcetag/équipe"), ["x"]);
    let in_value = doc(json!({"Version": "2012-10-17", "Statement": [
        st(json!({"Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}})),
    ]}));
    assert_eq!(in_value.keys_used(), KeysUsed::All);
    let in_resource = doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:userid}/*"},
    ]}));
    assert_eq!(in_resource.keys_used(), KeysUsed::All);
    // Under 2008-10-17 `${...}` is literal text: it reads no key.
    let old = doc(json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:userid}/*"},
    ]}));
    assert_eq!(old.keys_used(), KeysUsed::None);
}
