use super::*;
use http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A small model exercising every constraint kind. Its input's 13 members exceed 12, so
/// the reporting order comes from a 32-slot table; a JVM prints that HashMap's key set as
/// [flag, keyId, plaintext, secret, when, spec, tags, blob, size, name, context, days, tokens].
const DEMO: &str = r#"{
 "service": "demo", "apiVersion": "2020-01-02",
 "operations": {"Op": "OpInput", "NoInput": null},
 "shapes": {
  "OpInput": {"type": "structure", "required": ["KeyId"], "members": {
    "KeyId": "KeyIdType", "Name": "NameType", "Spec": "SpecType", "Days": "DaysType",
    "Size": "SizeType", "Plaintext": "PlaintextType", "Blob": "BlobType", "Tags": "TagList",
    "Context": "ContextType", "Tokens": "TokenList", "Flag": "Bool", "When": "Time",
    "Secret": "SecretType"}},
  "KeyIdType": {"type": "string", "min": 1, "max": 8},
  "NameType": {"type": "string", "min": 3, "max": 10, "pattern": "^[a-z]+$"},
  "SpecType": {"type": "string", "enum": ["RSA_2048", "AES_256"]},
  "DaysType": {"type": "integer", "min": 7, "max": 30},
  "SizeType": {"type": "long", "min": 1, "max": 1024},
  "PlaintextType": {"type": "blob", "min": 1, "max": 4, "sensitive": true},
  "BlobType": {"type": "blob", "max": 2},
  "TagList": {"type": "list", "member": "Tag", "max": 2},
  "Tag": {"type": "structure", "required": ["TagKey", "TagValue"],
          "members": {"TagKey": "TagKeyType", "TagValue": "TagValueType"}},
  "TagKeyType": {"type": "string", "min": 1, "max": 4},
  "TagValueType": {"type": "string", "max": 4},
  "ContextType": {"type": "map", "key": "CtxKey", "value": "CtxValue", "max": 3},
  "CtxKey": {"type": "string", "min": 2, "pattern": "[a-z]+"},
  "CtxValue": {"type": "string", "max": 3},
  "TokenList": {"type": "list", "member": "Token"},
  "Token": {"type": "string", "min": 1, "max": 3},
  "Bool": {"type": "boolean"},
  "Time": {"type": "timestamp"},
  "SecretType": {"type": "string", "max": 3, "sensitive": true}
 }
}"#;

fn demo() -> ServiceModel {
    ServiceModel::from_json(DEMO).unwrap()
}

/// The message of the error `input` draws, asserting its code.
fn error(model: &ServiceModel, op: &str, input: Value, code: &str) -> String {
    let e = model.validate(op, &input).unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.status),
        (code, StatusCode::BAD_REQUEST),
        "{}",
        e.message
    );
    e.message
}

fn invalid(input: Value) -> String {
    error(&demo(), "Op", input, "ValidationException")
}

fn serialization(input: Value) -> String {
    error(&demo(), "Op", input, "SerializationException")
}

fn one(entry: &str) -> String {
    format!("1 validation error detected: {entry}")
}

#[test]
fn valid_input_passes() {
    let input = json!({"KeyId": "k", "Name": "abc", "Spec": "AES_256", "Days": 7, "Size": 1024,
        "Plaintext": "AAECAw==", "Blob": "AAE=", "Tags": [{"TagKey": "a", "TagValue": ""}],
        "Context": {"ab": "x"}, "Tokens": ["t"], "Flag": true, "When": 1.5e9, "Secret": "s",
        "Unknown": {"ignored": [1, 2]}});
    demo().validate("Op", &input).unwrap();
    demo().validate("NoInput", &json!({})).unwrap();
}

#[test]
fn required_member() {
    let null = one("Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    assert_eq!(invalid(json!({})), null);
    // JSON null is an absent member.
    assert_eq!(invalid(json!({"KeyId": null})), null);
    // The message json_input gives for a missing member is the same one.
    assert_eq!(null, crate::json::null_member_message("KeyId"));
}

#[test]
fn string_lengths() {
    assert_eq!(
        invalid(json!({"KeyId": ""})),
        one(
            "Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
    assert_eq!(
        invalid(json!({"KeyId": "123456789"})),
        one(
            "Value '123456789' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 8"
        )
    );
}

#[test]
fn string_length_counts_utf16_units() {
    // Eight code units: four characters outside the BMP.
    demo()
        .validate("Op", &json!({"KeyId": "😀😀😀😀"}))
        .unwrap();
    assert!(invalid(json!({"KeyId": "😀😀😀😀é"})).contains("less than or equal to 8"));
}

#[test]
fn pattern_before_length() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Name": "A1"})),
        "2 validation errors detected: \
         Value 'A1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z]+$; \
         Value 'A1' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3"
    );
}

#[test]
fn pattern_must_match_the_whole_value() {
    // "[a-z]+" matches inside "ab1" but not all of it.
    assert_eq!(
        invalid(json!({"KeyId": "k", "Context": {"ab1": "x"}})),
        one(
            "Value '{ab1=x}' at 'context' failed to satisfy constraint: Map keys must satisfy constraint: \
             [Member must have length greater than or equal to 2, Member must satisfy regular expression pattern: [a-z]+]"
        )
    );
}

#[test]
fn enum_values_in_model_order() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Spec": "rsa_2048"})),
        one(
            "Value 'rsa_2048' at 'spec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, AES_256]"
        )
    );
}

#[test]
fn numeric_ranges() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Days": 2})),
        one(
            "Value '2' at 'days' failed to satisfy constraint: Member must have value greater than or equal to 7"
        )
    );
    assert_eq!(
        invalid(json!({"KeyId": "k", "Size": 2000})),
        one(
            "Value '2000' at 'size' failed to satisfy constraint: Member must have value less than or equal to 1024"
        )
    );
    // The decoder narrows numbers: fractions are floored, integers clamp to 32 bits.
    assert!(
        invalid(json!({"KeyId": "k", "Days": 6.9}))
            .starts_with("1 validation error detected: Value '6' at 'days'")
    );
    assert!(invalid(json!({"KeyId": "k", "Days": 1e12})).contains("Value '2147483647' at 'days'"));
}

#[test]
fn blob_lengths_count_decoded_bytes() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Blob": "AAECAw=="})),
        one(
            "Value 'java.nio.HeapByteBuffer[pos=0 lim=4 cap=4]' at 'blob' failed to satisfy constraint: \
             Member must have length less than or equal to 2"
        )
    );
    demo()
        .validate("Op", &json!({"KeyId": "k", "Blob": "AAE="}))
        .unwrap();
}

#[test]
fn sensitive_values_are_not_echoed() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Plaintext": "AAECAwQ="})),
        one(
            "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4"
        )
    );
    assert_eq!(
        invalid(json!({"KeyId": "k", "Plaintext": ""})),
        one(
            "Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
    assert_eq!(
        invalid(json!({"KeyId": "k", "Secret": "hunter2"})),
        one(
            "Value at 'secret' failed to satisfy constraint: Member must have length less than or equal to 3"
        )
    );
    // A malformed sensitive blob is not quoted back either.
    assert_eq!(
        serialization(json!({"KeyId": "k", "Plaintext": "c2VjcmV0X"})),
        "Value can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 9"
    );
}

#[test]
fn nested_list_members_have_indexed_paths() {
    assert_eq!(
        invalid(
            json!({"KeyId": "k", "Tags": [{"TagKey": "a", "TagValue": "b"}, {"TagKey": "toolong", "TagValue": "valuetoolong"}]})
        ),
        "2 validation errors detected: \
         Value 'valuetoolong' at 'tags.2.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 4; \
         Value 'toolong' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 4"
    );
    assert_eq!(
        invalid(json!({"KeyId": "k", "Tags": [{}]})),
        "2 validation errors detected: \
         Value null at 'tags.1.member.tagValue' failed to satisfy constraint: Member must not be null; \
         Value null at 'tags.1.member.tagKey' failed to satisfy constraint: Member must not be null"
    );
}

/// Map values and nested structures extend the path as AWS prints it: a map entry is
/// `<map>.<key>.member`, a structure member is `<parent>.<member>`.
#[test]
fn map_values_and_nested_structures_have_keyed_paths() {
    let model = ServiceModel::from_json(
        r#"{"service": "demo", "apiVersion": "2020-01-02", "operations": {"Op": "In"},
         "shapes": {
          "In": {"type": "structure", "members": {"Items": "ItemMap", "Outer": "Outer"}},
          "ItemMap": {"type": "map", "key": "Key", "value": "Item"},
          "Key": {"type": "string"},
          "Item": {"type": "structure", "required": ["X"], "members": {"X": "Short"}},
          "Outer": {"type": "structure", "members": {"Inner": "Inner"}},
          "Inner": {"type": "structure", "members": {"Y": "Short"}},
          "Short": {"type": "string", "max": 2}
         }}"#,
    )
    .unwrap();
    assert_eq!(
        error(
            &model,
            "Op",
            json!({"Items": {"a": {"X": "toolong"}, "b": {}}}),
            "ValidationException"
        ),
        "2 validation errors detected: \
         Value 'toolong' at 'items.a.member.x' failed to satisfy constraint: Member must have length less than or equal to 2; \
         Value null at 'items.b.member.x' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        error(
            &model,
            "Op",
            json!({"Outer": {"Inner": {"Y": "toolong"}}}),
            "ValidationException"
        ),
        one(
            "Value 'toolong' at 'outer.inner.y' failed to satisfy constraint: Member must have length less than or equal to 2"
        )
    );
}

#[test]
fn list_length_comes_before_its_elements() {
    assert_eq!(
        invalid(
            json!({"KeyId": "k", "Tags": [{"TagKey": "a", "TagValue": "b"}, {"TagKey": "a", "TagValue": "b"}, {"TagKey": ""}]})
        ),
        "3 validation errors detected: \
         Value '[com.amazonaws.demo.v20200102.Tag, com.amazonaws.demo.v20200102.Tag, com.amazonaws.demo.v20200102.Tag]' \
         at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2; \
         Value null at 'tags.3.member.tagValue' failed to satisfy constraint: Member must not be null; \
         Value '' at 'tags.3.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn scalar_list_members_are_reported_on_the_list() {
    assert_eq!(
        invalid(json!({"KeyId": "k", "Tokens": ["ok", "", "long"]})),
        one(
            "Value '[ok, , long]' at 'tokens' failed to satisfy constraint: Member must satisfy constraint: \
             [Member must have length less than or equal to 3, Member must have length greater than or equal to 1]"
        )
    );
}

#[test]
fn map_keys_then_values_then_length() {
    // A JVM iterates a HashMap of these four keys as [zz, a, ab, b] ("a" and "ab" share a
    // bucket); the rendering follows that order.
    assert_eq!(
        invalid(json!({"KeyId": "k", "Context": {"b": "1", "a": "2", "ab": "long", "zz": "3"}})),
        "3 validation errors detected: \
         Value '{zz=3, a=2, ab=long, b=1}' at 'context' failed to satisfy constraint: Member must have length less than or equal to 3; \
         Value '{zz=3, a=2, ab=long, b=1}' at 'context' failed to satisfy constraint: Map keys must satisfy constraint: \
         [Member must have length greater than or equal to 2, Member must satisfy regular expression pattern: [a-z]+]; \
         Value '{zz=3, a=2, ab=long, b=1}' at 'context' failed to satisfy constraint: Map value must satisfy constraint: \
         [Member must have length less than or equal to 3]"
    );
}

#[test]
fn members_are_reported_in_java_hashmap_order() {
    let input = json!({"KeyId": "", "Name": "ab", "Spec": "x", "Days": 1, "Size": 0,
        "Plaintext": "", "Blob": "AAAA", "Secret": "long"});
    assert_eq!(
        invalid(input),
        "8 validation errors detected: \
         Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value at 'secret' failed to satisfy constraint: Member must have length less than or equal to 3; \
         Value 'x' at 'spec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, AES_256]; \
         Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at 'blob' failed to satisfy constraint: Member must have length less than or equal to 2; \
         Value '0' at 'size' failed to satisfy constraint: Member must have value greater than or equal to 1; \
         Value 'ab' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3; \
         Value '1' at 'days' failed to satisfy constraint: Member must have value greater than or equal to 7"
    );
}

#[test]
fn at_most_ten_violations_are_reported() {
    let tags: Vec<Value> = (0..2).map(|_| json!({})).collect();
    let tokens: Vec<Value> = (0..20).map(|_| json!("")).collect();
    let input = json!({"Name": "1", "Spec": "x", "Days": 1, "Size": 0, "Plaintext": "",
        "Blob": "AAAA", "Secret": "long", "Tags": tags, "Tokens": tokens});
    let message = invalid(input);
    assert!(
        message.starts_with("10 validation errors detected: Value null at 'keyId'"),
        "{message}"
    );
    assert_eq!(message.matches("failed to satisfy constraint").count(), 10);
}

#[test]
fn wrong_json_types_are_serialization_errors() {
    let cases = [
        (
            json!({"KeyId": 5}),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        (
            json!({"KeyId": true}),
            "class java.lang.Boolean can not be converted to an String",
        ),
        (
            json!({"KeyId": ["k"]}),
            "Start of list found where not expected",
        ),
        (
            json!({"KeyId": {"k": 1}}),
            "Start of structure or map found where not expected.",
        ),
        (
            json!({"Days": "7"}),
            "class java.lang.String can not be converted to an Integer",
        ),
        (
            json!({"Days": false}),
            "class java.lang.Boolean can not be converted to an Integer",
        ),
        (
            json!({"Size": "7"}),
            "class java.lang.String can not be converted to an Long",
        ),
        (
            json!({"Flag": "yes"}),
            "'YES' can not be converted to an Boolean",
        ),
        (
            json!({"Flag": 1}),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean",
        ),
        (
            json!({"When": "2020-01-01"}),
            "class java.lang.String can not be converted to milliseconds since epoch",
        ),
        (
            json!({"When": true}),
            "class java.lang.Boolean can not be converted to milliseconds since epoch",
        ),
        (
            json!({"Blob": 12}),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob",
        ),
        (
            json!({"Blob": true}),
            "class java.lang.Boolean can not be converted to a Blob",
        ),
        (
            json!({"Blob": "abcde"}),
            "'abcde' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        (
            json!({"Blob": "ab-d"}),
            "'ab-d' can not be converted to a Blob: Invalid Base64 character: '-'",
        ),
        (
            json!({"Blob": "+/+="}),
            "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected",
        ),
        (
            json!({"Plaintext": "abcde"}),
            "Value can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        (json!({"Tags": "x"}), "Expected list or null"),
        (
            json!({"Tags": {}}),
            "Start of structure or map found where not expected.",
        ),
        (json!({"Tags": [5]}), "Expected null"),
        (
            json!({"Tags": [[]]}),
            "Start of list found where not expected",
        ),
        (
            json!({"Context": []}),
            "Start of list found where not expected",
        ),
        (json!({"Context": 1}), "Expected map or null"),
        (
            json!({"Context": {"ab": 1}}),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        (
            json!({"Tokens": ["a", 1]}),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(serialization(input.clone()), expected, "{input}");
    }
}

#[test]
fn type_errors_win_over_constraint_violations() {
    // KeyId is missing (a violation) but Days has the wrong type: decoding fails first.
    serialization(json!({"Days": "x", "Name": "1"}));
}

#[test]
fn body_shape_and_unknown_operation() {
    for body in [json!([]), json!("x"), json!(null), json!(1)] {
        assert_eq!(
            serialization(body),
            "Start of structure or map found where not expected."
        );
    }
    let e = demo().validate("Nope", &json!({})).unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
}

#[test]
fn decode_validates_then_deserialises() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Input {
        key_id: String,
        days: Option<u32>,
    }
    let model = demo();
    assert_eq!(
        model
            .decode::<Input>("Op", br#"{"KeyId":"k","Days":8}"#)
            .unwrap(),
        Input {
            key_id: "k".into(),
            days: Some(8)
        }
    );
    let e = model
        .decode::<Input>("Op", br#"{"KeyId":"k","Days":-1}"#)
        .unwrap_err();
    assert_eq!(
        e.message,
        one(
            "Value '-1' at 'days' failed to satisfy constraint: Member must have value greater than or equal to 7"
        )
    );
    let e = model.decode::<Input>("Op", b"").unwrap_err();
    assert_eq!(e.message, crate::json::null_member_message("KeyId"));
    assert_eq!(
        model.decode::<Input>("Op", b"[").unwrap_err().code,
        "SerializationException"
    );
}

#[test]
fn broken_models_are_refused() {
    let dangling = r#"{"service":"x","apiVersion":"1","operations":{"Op":"In"},"shapes":{
        "In":{"type":"structure","members":{"A":"Missing"}}}}"#;
    assert!(matches!(
        ServiceModel::from_json(dangling),
        Err(ModelError::UnknownShape { .. })
    ));
    let required = r#"{"service":"x","apiVersion":"1","operations":{},"shapes":{
        "In":{"type":"structure","members":{},"required":["A"]}}}"#;
    assert!(matches!(
        ServiceModel::from_json(required),
        Err(ModelError::UnknownRequired { .. })
    ));
    let kind =
        r#"{"service":"x","apiVersion":"1","operations":{},"shapes":{"D":{"type":"double"}}}"#;
    assert!(matches!(
        ServiceModel::from_json(kind),
        Err(ModelError::UnknownType { .. })
    ));
    let broken = ServiceModel::load("{");
    assert!(broken.load_error().is_some());
    let e = broken.validate("Op", &json!({})).unwrap_err();
    assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
}

// ---- The three embedded models ----

fn models() -> [&'static ServiceModel; 3] {
    [kms(), secretsmanager(), ssm()]
}

#[test]
fn embedded_models_load() {
    let counts: Vec<(&str, usize)> = models()
        .iter()
        .map(|m| (m.service(), m.operations().count()))
        .collect();
    assert_eq!(counts, [("kms", 54), ("secretsmanager", 23), ("ssm", 146)]);
    for model in models() {
        assert_eq!(model.load_error(), None, "{}", model.service());
    }
}

fn patterns(model: &ServiceModel) -> Vec<(&str, &ModelPattern)> {
    model
        .shapes
        .iter()
        .filter_map(|s| match &s.kind {
            Kind::String {
                pattern: Some(p), ..
            } => Some((s.name.as_str(), p)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_model_pattern_compiles() {
    let mut failures = Vec::new();
    for model in models() {
        for (shape, pattern) in patterns(model) {
            if let Err(e) = pattern.get() {
                failures.push(format!("{} {shape}: {e}", model.service()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[derive(serde::Deserialize)]
struct Vectors {
    samples: Vec<String>,
    matches: BTreeMap<String, String>,
}

/// Each model pattern agrees with `java.util.regex` on every sample (answers recorded by
/// scripts/gen-regex-vectors.py with a JVM).
#[test]
fn model_patterns_match_like_java() {
    let vectors: Vectors =
        serde_json::from_str(include_str!("../../models/regex-vectors.json")).unwrap();
    let mut in_models = std::collections::BTreeSet::new();
    for model in models() {
        in_models.extend(patterns(model).into_iter().map(|(_, p)| p.source.clone()));
    }
    assert_eq!(
        in_models.iter().collect::<Vec<_>>(),
        vectors.matches.keys().collect::<Vec<_>>()
    );
    let mut wrong = Vec::new();
    for (source, answers) in &vectors.matches {
        let pattern = java_regex::JavaPattern::compile(source).unwrap();
        for (sample, answer) in vectors.samples.iter().zip(answers.chars()) {
            if pattern.matches(sample) != (answer == '1') {
                wrong.push(format!("{source} vs {sample:?}: java says {answer}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every operation accepts `{}` or names exactly its missing required members.
#[test]
fn every_operation_validates_an_empty_input() {
    for model in models() {
        for op in model.operations() {
            let required: Vec<String> = match model.operations[op].map(|id| &model.shape(id).kind) {
                Some(Kind::Structure(members)) => members
                    .iter()
                    .filter(|m| m.required)
                    .map(|m| {
                        let value = if model.shape(m.shape).redact { "" } else { " null" };
                        format!("Value{value} at '{}' failed to satisfy constraint: Member must not be null", m.path_name)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            match model.validate(op, &json!({})) {
                Ok(()) => assert!(required.is_empty(), "{op}"),
                Err(e) => {
                    let shown = &required[..required.len().min(10)];
                    assert_eq!(e.message, constraints::message(shown).unwrap(), "{op}");
                }
            }
        }
    }
}

#[test]
fn kms_messages() {
    let kms = kms();
    let err = |op: &str, input: Value| error(kms, op, input, "ValidationException");
    assert_eq!(
        err(
            "Encrypt",
            json!({"KeyId": "alias/k", "Plaintext": "A".repeat(5463) + "="})
        ),
        one(
            "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        )
    );
    assert_eq!(
        err("Encrypt", json!({"KeyId": "", "Plaintext": ""})),
        "2 validation errors detected: \
         Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        err("Encrypt", json!({})),
        "2 validation errors detected: \
         Value null at 'keyId' failed to satisfy constraint: Member must not be null; \
         Value at 'plaintext' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        err(
            "CreateAlias",
            json!({"AliasName": "alias/bad name", "TargetKeyId": "k"})
        ),
        one(
            "Value 'alias/bad name' at 'aliasName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )
    );
    assert_eq!(
        err(
            "GenerateDataKey",
            json!({"KeyId": "k", "KeySpec": "AES_512", "NumberOfBytes": 2000})
        ),
        // A JVM iterates these members as [dryRun, recipient, keyId, grantTokens,
        // numberOfBytes, keySpec, encryptionContext].
        "2 validation errors detected: \
         Value '2000' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024; \
         Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
    );
    assert!(
        err("CreateKey", json!({"KeySpec": "x"}))
            .starts_with("1 validation error detected: Value 'x' at 'keySpec' failed to satisfy constraint: \
                          Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256,")
    );
    assert_eq!(
        err(
            "TagResource",
            json!({"KeyId": "k", "Tags": [{"TagKey": "", "TagValue": "v"}]})
        ),
        one(
            "Value '' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
    kms.validate(
        "Encrypt",
        &json!({"KeyId": "k", "Plaintext": "AAECAw==", "EncryptionContext": {"a": "b"}}),
    )
    .unwrap();
}

#[test]
fn secrets_manager_and_ssm_messages() {
    assert_eq!(
        error(
            secretsmanager(),
            "GetSecretValue",
            json!({}),
            "ValidationException"
        ),
        one("Value null at 'secretId' failed to satisfy constraint: Member must not be null")
    );
    assert_eq!(
        error(
            secretsmanager(),
            "CreateSecret",
            json!({"Name": "n", "SecretString": ""}),
            "ValidationException"
        ),
        one(
            "Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
    assert_eq!(
        error(
            ssm(),
            "PutParameter",
            json!({"Name": "n".repeat(2049), "Value": "v"}),
            "ValidationException"
        ),
        one(&format!(
            "Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048",
            "n".repeat(2049)
        ))
    );
    assert_eq!(
        error(
            ssm(),
            "GetParameters",
            json!({"Names": []}),
            "ValidationException"
        ),
        one(
            "Value '[]' at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
    // A leading negative lookahead (`^(?!\s*$).+`) refuses blank values.
    assert_eq!(
        error(
            ssm(),
            "PutResourcePolicy",
            json!({"ResourceArn": "arn:aws:ssm:us-east-1:123456789012:x", "Policy": "  "}),
            "ValidationException"
        ),
        one(
            r"Value '  ' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!\s*$).+"
        )
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        "[A-Za-z0-9+/]{0,8}={0,2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[A-Z][A-Za-z]{0,12}|[a-z]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics_and_always_answers_with_a_client_error(input in json_value(), pick in 0usize..1000) {
        for model in models() {
            let ops: Vec<&str> = model.operations().collect();
            let op = ops[pick % ops.len()];
            if let Err(e) = model.validate(op, &input) {
                prop_assert_eq!(e.status, StatusCode::BAD_REQUEST);
                prop_assert!(["ValidationException", "SerializationException"].contains(&e.code.as_ref()));
            }
        }
    }
}

#[test]
fn large_counted_repeats_are_counted_not_expanded() {
    let p = java_regex::JavaPattern::compile("^.{1,100000}$").unwrap();
    assert!(p.matches(&"é".repeat(100_000)));
    assert!(!p.matches(&"a".repeat(100_001)));
    assert!(!p.matches(""));
    assert!(!p.matches("a\u{2028}b"));
    let class = java_regex::JavaPattern::compile("[a-c]{2,2000}").unwrap();
    assert!(class.matches("abcabc"));
    assert!(!class.matches("abd"));
    assert!(!class.matches("a"));
}

#[test]
fn java_only_syntax_is_refused() {
    for pattern in [r"(a)\1", "a(?=b)", "(?<=a)b", "a*+", "(?>a)", r"\bword"] {
        assert!(
            java_regex::JavaPattern::compile(pattern).is_err(),
            "{pattern}"
        );
    }
}

/// The operations whose replies are zeroized come from botocore's `sensitive` flags on
/// their outputs, not from a list kept by hand.
#[test]
fn sensitive_outputs_follow_the_models() {
    for op in [
        "Decrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateRandom",
        "DeriveSharedSecret",
    ] {
        assert!(kms().output_is_sensitive(op), "kms {op}");
    }
    for op in [
        "Encrypt",
        "GenerateDataKeyWithoutPlaintext",
        "DescribeKey",
        "Sign",
    ] {
        assert!(!kms().output_is_sensitive(op), "kms {op}");
    }
    for op in ["GetSecretValue", "BatchGetSecretValue", "GetRandomPassword"] {
        assert!(
            secretsmanager().output_is_sensitive(op),
            "secretsmanager {op}"
        );
    }
    for op in ["DescribeSecret", "ListSecrets", "PutSecretValue"] {
        assert!(
            !secretsmanager().output_is_sensitive(op),
            "secretsmanager {op}"
        );
    }
    for op in [
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
        "GetParameterHistory",
    ] {
        assert!(ssm().output_is_sensitive(op), "ssm {op}");
    }
    for op in ["PutParameter", "DescribeParameters", "DeleteParameter"] {
        assert!(!ssm().output_is_sensitive(op), "ssm {op}");
    }
    // A model without the key (an older generator's) marks nothing.
    assert!(!demo().output_is_sensitive("Op"));
}
