use super::*;

fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
    Condition {
        operator: Operator::parse(op).unwrap_or_else(|| panic!("operator {op}")),
        key: key.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn ctx(pairs: &[(&str, &str)]) -> ConditionContext {
    let mut c = ConditionContext::new();
    for (k, v) in pairs {
        c.insert(k, *v);
    }
    c
}

/// Evaluates with policy variables on (version 2012-10-17).
fn holds(op: &str, key: &str, values: &[&str], pairs: &[(&str, &str)]) -> bool {
    let c = ctx(pairs);
    cond(op, key, values).holds(&c, Some(&c)).unwrap_or(false)
}

#[test]
fn operator_names() {
    let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
    assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
    assert_eq!(op.base, B::StringLike);
    assert!(op.if_exists);
    assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
    assert_eq!(
        Operator::parse("stringequals").unwrap().base,
        B::StringEquals
    );
    assert!(Operator::parse("StringEqualz").is_none());
    assert!(Operator::parse("NullIfExists").is_none());
    assert!(Operator::parse("ForSomeValues:StringEquals").is_none());
    for b in ALL {
        let op = Operator::parse(&b.to_string()).unwrap();
        assert_eq!(op.base, b);
        assert!(!op.if_exists);
    }
}

#[test]
fn string_operators() {
    let k = "aws:username";
    let alice = [(k, "alice")];
    assert!(holds("StringEquals", k, &["alice"], &alice));
    assert!(!holds("StringEquals", k, &["Alice"], &alice));
    assert!(
        holds("StringEquals", k, &["bob", "alice"], &alice),
        "values are ORed"
    );
    assert!(holds("StringNotEquals", k, &["bob"], &alice));
    assert!(
        !holds("StringNotEquals", k, &["bob", "alice"], &alice),
        "negated: NOR"
    );
    assert!(holds("StringEqualsIgnoreCase", k, &["ALICE"], &alice));
    assert!(!holds("StringNotEqualsIgnoreCase", k, &["ALICE"], &alice));
    assert!(holds("StringLike", k, &["a*e"], &alice));
    assert!(holds("StringLike", k, &["al?ce"], &alice));
    assert!(!holds("StringLike", k, &["A*"], &alice));
    assert!(holds("StringNotLike", k, &["b*"], &alice));
    assert!(!holds("StringNotLike", k, &["b*", "a*"], &alice));
    // StringEquals has no wildcards.
    assert!(!holds("StringEquals", k, &["a*"], &alice));
}

#[test]
fn keys_are_case_insensitive_values_are_not() {
    assert!(holds(
        "StringEquals",
        "AWS:UserName",
        &["alice"],
        &[("aws:username", "alice")]
    ));
    assert!(!holds(
        "StringEquals",
        "aws:username",
        &["ALICE"],
        &[("aws:username", "alice")]
    ));
}

#[test]
fn missing_key() {
    let none: [(&str, &str); 0] = [];
    let k = "aws:username";
    assert!(!holds("StringEquals", k, &["a"], &none));
    assert!(
        holds("StringNotEquals", k, &["a"], &none),
        "negated ops hold on a missing key"
    );
    assert!(holds("StringNotLike", k, &["a"], &none));
    assert!(holds(
        "NotIpAddress",
        "aws:SourceIp",
        &["10.0.0.0/8"],
        &none
    ));
    assert!(!holds("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &none));
    assert!(!holds("NumericLessThan", "s3:max-keys", &["10"], &none));
    assert!(!holds("Bool", "aws:SecureTransport", &["true"], &none));
    assert!(!holds("ArnLike", "aws:SourceArn", &["arn:*"], &none));
}

#[test]
fn if_exists() {
    let none: [(&str, &str); 0] = [];
    let k = "ec2:InstanceType";
    assert!(holds("StringEqualsIfExists", k, &["t2.micro"], &none));
    assert!(holds(
        "StringEqualsIfExists",
        k,
        &["t2.micro"],
        &[(k, "t2.micro")]
    ));
    assert!(!holds(
        "StringEqualsIfExists",
        k,
        &["t2.micro"],
        &[(k, "m5.large")]
    ));
    assert!(holds(
        "NumericLessThanIfExists",
        "s3:max-keys",
        &["10"],
        &none
    ));
    assert!(holds("ForAnyValue:StringEqualsIfExists", k, &["x"], &none));
}

#[test]
fn null_operator() {
    let none: [(&str, &str); 0] = [];
    let k = "aws:TokenIssueTime";
    assert!(holds("Null", k, &["true"], &none));
    assert!(!holds("Null", k, &["false"], &none));
    assert!(holds("Null", k, &["false"], &[(k, "x")]));
    assert!(!holds("Null", k, &["true"], &[(k, "x")]));
    assert!(!holds("Null", k, &["maybe"], &none));
}

#[test]
fn numeric_operators() {
    let k = "s3:max-keys";
    let ten = [(k, "10")];
    assert!(holds("NumericEquals", k, &["10"], &ten));
    assert!(holds("NumericEquals", k, &["10.0"], &ten));
    assert!(holds("NumericNotEquals", k, &["11"], &ten));
    assert!(!holds("NumericNotEquals", k, &["10"], &ten));
    assert!(holds("NumericLessThan", k, &["11"], &ten));
    assert!(!holds("NumericLessThan", k, &["10"], &ten));
    assert!(holds("NumericLessThanEquals", k, &["10"], &ten));
    assert!(holds("NumericGreaterThan", k, &["9.5"], &ten));
    assert!(!holds("NumericGreaterThan", k, &["10"], &ten));
    assert!(holds("NumericGreaterThanEquals", k, &["10"], &ten));
    assert!(!holds("NumericEquals", k, &["ten"], &ten));
    assert!(!holds("NumericEquals", k, &["10"], &[(k, "abc")]));
    let big = [(k, "9007199254740993")];
    assert!(
        !holds("NumericEquals", k, &["9007199254740992"], &big),
        "integers compare exactly"
    );
}

#[test]
fn date_operators() {
    let k = "aws:CurrentTime";
    let now = [(k, "2024-06-01T12:00:00Z")];
    assert!(holds("DateEquals", k, &["2024-06-01T12:00:00Z"], &now));
    assert!(
        holds("DateEquals", k, &["1717243200"], &now),
        "epoch seconds"
    );
    assert!(holds("DateEquals", k, &["2024-06-01T14:00:00+02:00"], &now));
    assert!(holds("DateNotEquals", k, &["2024-06-01"], &now));
    assert!(holds("DateLessThan", k, &["2024-06-02"], &now));
    assert!(!holds("DateLessThan", k, &["2024-06-01T12:00:00Z"], &now));
    assert!(holds(
        "DateLessThanEquals",
        k,
        &["2024-06-01T12:00:00.000Z"],
        &now
    ));
    assert!(holds("DateGreaterThan", k, &["2024-06-01T11:59Z"], &now));
    assert!(holds(
        "DateGreaterThanEquals",
        k,
        &["2024-06-01T12:00:00"],
        &now
    ));
    assert!(!holds("DateGreaterThan", k, &["not a date"], &now));
    let epoch = [("aws:EpochTime", "1717243200")];
    assert!(holds(
        "DateLessThan",
        "aws:EpochTime",
        &["2025-01-01T00:00:00Z"],
        &epoch
    ));
}

#[test]
fn bool_and_binary() {
    let k = "aws:SecureTransport";
    assert!(holds("Bool", k, &["true"], &[(k, "true")]));
    assert!(holds("Bool", k, &["false"], &[(k, "false")]));
    assert!(!holds("Bool", k, &["true"], &[(k, "false")]));
    assert!(!holds("Bool", k, &["true"], &[(k, "yes")]));
    let b = "kms:RecipientAttestation:ImageSha384";
    assert!(holds("BinaryEquals", b, &["QmluYXJ5"], &[(b, "QmluYXJ5")]));
    assert!(!holds("BinaryEquals", b, &["QmluYXJ5"], &[(b, "QmluYXJ6")]));
}

#[test]
fn ip_operators() {
    let k = "aws:SourceIp";
    assert!(holds(
        "IpAddress",
        k,
        &["203.0.113.0/24"],
        &[(k, "203.0.113.7")]
    ));
    assert!(!holds(
        "IpAddress",
        k,
        &["203.0.113.0/24"],
        &[(k, "203.0.114.7")]
    ));
    assert!(holds(
        "IpAddress",
        k,
        &["203.0.113.7"],
        &[(k, "203.0.113.7")]
    ));
    assert!(holds("IpAddress", k, &["0.0.0.0/0"], &[(k, "8.8.8.8")]));
    assert!(holds(
        "NotIpAddress",
        k,
        &["10.0.0.0/8"],
        &[(k, "203.0.113.7")]
    ));
    assert!(!holds(
        "NotIpAddress",
        k,
        &["10.0.0.0/8", "203.0.0.0/8"],
        &[(k, "203.0.113.7")]
    ));
    assert!(holds(
        "IpAddress",
        k,
        &["2001:DB8:1234:5678::/64"],
        &[(k, "2001:db8:1234:5678::1")]
    ));
    assert!(!holds(
        "IpAddress",
        k,
        &["2001:db8::/32"],
        &[(k, "2001:db9::1")]
    ));
    assert!(holds("IpAddress", k, &["::/0"], &[(k, "::1")]));
    assert!(
        !holds("IpAddress", k, &["0.0.0.0/0"], &[(k, "::1")]),
        "families never mix"
    );
    assert!(!holds("IpAddress", k, &["10.0.0.0/33"], &[(k, "10.0.0.1")]));
    assert!(!holds("IpAddress", k, &["garbage"], &[(k, "10.0.0.1")]));
}

#[test]
fn arn_operators() {
    let k = "aws:SourceArn";
    let arn = [(k, "arn:aws:sns:us-east-1:111122223333:topic")];
    assert!(holds(
        "ArnEquals",
        k,
        &["arn:aws:sns:us-east-1:111122223333:topic"],
        &arn
    ));
    assert!(holds("ArnLike", k, &["arn:aws:sns:*:111122223333:*"], &arn));
    assert!(holds(
        "ArnEquals",
        k,
        &["arn:aws:sns:*:111122223333:*"],
        &arn
    ));
    assert!(!holds(
        "ArnLike",
        k,
        &["arn:aws:sns:*:444455556666:*"],
        &arn
    ));
    assert!(holds(
        "ArnNotEquals",
        k,
        &["arn:aws:sns:*:444455556666:*"],
        &arn
    ));
    assert!(!holds("ArnNotLike", k, &["arn:aws:sns:*:*:*"], &arn));
    assert!(
        !holds("ArnLike", k, &["arn:aws:SNS:*:*:*"], &arn),
        "case-sensitive"
    );
}

#[test]
fn for_all_values() {
    let k = "aws:TagKeys";
    let none: [(&str, &str); 0] = [];
    let op = "ForAllValues:StringEquals";
    assert!(
        holds(op, k, &["a", "b"], &none),
        "vacuously true on a missing key"
    );
    assert!(holds(op, k, &["a", "b"], &[(k, "a"), (k, "b")]));
    assert!(holds(op, k, &["a", "b", "c"], &[(k, "a")]));
    assert!(!holds(op, k, &["a"], &[(k, "a"), (k, "z")]));
    let not = "ForAllValues:StringNotEquals";
    assert!(holds(not, k, &["x"], &[(k, "a"), (k, "b")]));
    assert!(!holds(not, k, &["a"], &[(k, "a"), (k, "b")]));
    // An explicitly empty key behaves as missing.
    let mut c = ConditionContext::new();
    c.set(k, vec![]);
    assert!(cond(op, k, &["a"]).holds(&c, None).unwrap());
}

#[test]
fn for_any_value() {
    let k = "aws:TagKeys";
    let none: [(&str, &str); 0] = [];
    let op = "ForAnyValue:StringEquals";
    assert!(!holds(op, k, &["a"], &none), "false on a missing key");
    assert!(holds(op, k, &["a"], &[(k, "z"), (k, "a")]));
    assert!(!holds(op, k, &["a"], &[(k, "z"), (k, "y")]));
    assert!(!holds("ForAnyValue:StringNotEquals", k, &["a"], &none));
    assert!(holds(
        "ForAnyValue:StringNotEquals",
        k,
        &["a"],
        &[(k, "a"), (k, "b")]
    ));
    assert!(!holds(
        "ForAnyValue:StringNotEquals",
        k,
        &["a"],
        &[(k, "a")]
    ));
    assert!(holds(
        "ForAnyValue:StringLike",
        k,
        &["tag-*"],
        &[(k, "x"), (k, "tag-1")]
    ));
}

#[test]
fn multi_valued_key_without_qualifier() {
    let k = "aws:TagKeys";
    assert!(holds("StringEquals", k, &["a"], &[(k, "z"), (k, "a")]));
    assert!(!holds("StringNotEquals", k, &["a"], &[(k, "z"), (k, "a")]));
}

#[test]
fn variables_in_condition_values() {
    let pairs = [("aws:username", "alice"), ("s3:prefix", "home/alice/docs")];
    assert!(holds(
        "StringLike",
        "s3:prefix",
        &["home/${aws:username}/*"],
        &pairs
    ));
    assert!(!holds(
        "StringLike",
        "s3:prefix",
        &["home/${aws:userid}/*"],
        &pairs
    ));
    assert!(holds(
        "StringLike",
        "s3:prefix",
        &["home/${aws:userid, 'alice'}/*"],
        &pairs
    ));
    // Unresolvable variable: the condition cannot be evaluated, even when negated.
    let c = ctx(&pairs);
    let neg = cond("StringNotLike", "s3:prefix", &["${aws:userid}"]);
    assert_eq!(neg.holds(&c, Some(&c)), Err(Unresolved));
    // Under 2008-10-17 the text is literal.
    let lit = ctx(&[("s3:prefix", "${aws:username}")]);
    assert!(
        cond("StringEquals", "s3:prefix", &["${aws:username}"])
            .holds(&lit, None)
            .unwrap()
    );
    // Numeric operators do not take variables.
    let n = ctx(&[("s3:max-keys", "5"), ("x:limit", "5")]);
    assert!(
        !cond("NumericEquals", "s3:max-keys", &["${x:limit}"])
            .holds(&n, Some(&n))
            .unwrap()
    );
}

#[test]
fn dates_parse() {
    assert_eq!(parse_date("1970-01-01T00:00:01Z"), Some(1_000_000_000));
    assert_eq!(parse_date("1"), Some(1_000_000_000));
    assert_eq!(parse_date("1970-01-02"), Some(86_400_000_000_000));
    assert_eq!(parse_date("yesterday"), None);
}
