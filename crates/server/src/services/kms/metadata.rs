//! The `KeyMetadata` structure, with every field AWS returns for the key's type.

use super::store::KeyRecord;
use super::wire::epoch;
use coffer_kms::spec::{self, KeyState, KeyUsage, Origin};
use serde_json::{Map, Value, json};

pub fn key_metadata(k: &KeyRecord) -> Value {
    let mut m = Map::new();
    let mut put = |name: &str, v: Value| {
        m.insert(name.to_owned(), v);
    };
    put("AWSAccountId", json!(k.account.to_string()));
    put("KeyId", json!(k.key_id));
    put("Arn", json!(k.arn()));
    put("CreationDate", epoch(k.created));
    put("Enabled", json!(k.state == KeyState::Enabled));
    put("Description", json!(k.description));
    put("KeyUsage", json!(k.usage.as_str()));
    put("KeyState", json!(k.state.as_str()));
    if let Some(d) = k.deletion_date {
        put("DeletionDate", epoch(d));
    }
    if let Some(v) = k.valid_to {
        put("ValidTo", epoch(v));
    }
    put("Origin", json!(k.origin.as_str()));
    if k.origin == Origin::External && !k.versions.is_empty() {
        let model = if k.valid_to.is_some() {
            "KEY_MATERIAL_EXPIRES"
        } else {
            "KEY_MATERIAL_DOES_NOT_EXPIRE"
        };
        put("ExpirationModel", json!(model));
    }
    put("KeyManager", json!(k.manager.as_str()));
    put("CustomerMasterKeySpec", json!(k.spec.as_str()));
    put("KeySpec", json!(k.spec.as_str()));
    match k.usage {
        KeyUsage::EncryptDecrypt => {
            put(
                "EncryptionAlgorithms",
                names(spec::encryption_algorithms(k.spec, k.usage)),
            );
        }
        KeyUsage::SignVerify => {
            put(
                "SigningAlgorithms",
                names(spec::signing_algorithms(k.spec, k.usage)),
            );
        }
        KeyUsage::GenerateVerifyMac => {
            put(
                "MacAlgorithms",
                names(spec::mac_algorithms(k.spec, k.usage)),
            );
        }
        KeyUsage::KeyAgreement => {
            put(
                "KeyAgreementAlgorithms",
                names(spec::key_agreement_algorithms(k.spec, k.usage)),
            );
        }
    }
    put("MultiRegion", json!(k.is_multi_region()));
    if let Some(mr) = &k.multi_region {
        let arn_in = |region: &str| super::store::key_arn(region, k.account, &k.key_id);
        put(
            "MultiRegionConfiguration",
            json!({
                "MultiRegionKeyType": if k.is_primary() { "PRIMARY" } else { "REPLICA" },
                "PrimaryKey": { "Arn": arn_in(&mr.primary_region), "Region": mr.primary_region },
                "ReplicaKeys": mr.replica_regions.iter()
                    .map(|r| json!({ "Arn": arn_in(r), "Region": r }))
                    .collect::<Vec<_>>(),
            }),
        );
    }
    if k.state == KeyState::PendingReplicaDeletion
        && let Some(d) = k.pending_window_days
    {
        put("PendingDeletionWindowInDays", json!(d));
    }
    if k.usage == KeyUsage::EncryptDecrypt
        && k.spec == spec::KeySpec::SymmetricDefault
        && let Some(v) = k.current()
    {
        put("CurrentKeyMaterialId", json!(v.material_id));
    }
    Value::Object(m)
}

/// A list of wire enums as the JSON array of their AWS names.
pub fn names<E: coffer_kms::WireEnum>(list: &[E]) -> Value {
    Value::Array(list.iter().map(|e| json!(e.as_str())).collect())
}

/// The same structure with CloudTrail's lowerCamelCase member names.
pub fn audit_view(md: &Value) -> Value {
    match md {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (lower_camel(k), audit_view(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(audit_view).collect()),
        other => other.clone(),
    }
}

fn lower_camel(s: &str) -> String {
    if s == "AWSAccountId" {
        return "aWSAccountId".into();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
