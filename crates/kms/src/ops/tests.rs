use super::*;
use crate::wire_enum::testing::assert_matches_model;
use KeyState::*;

// The 54 operations of botocore's kms/2014-11-01/service-2.json, in its order.
const MODEL_OPERATIONS: &[&str] = &[
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

const STATES: [KeyState; 8] = [
    Enabled,
    Disabled,
    PendingDeletion,
    PendingReplicaDeletion,
    PendingImport,
    Unavailable,
    Creating,
    Updating,
];

fn op(name: &str) -> Operation {
    name.parse().unwrap()
}

/// `state_check` for every state, in the order of [`STATES`].
fn verdicts(op: Operation) -> Vec<Result<(), StateError>> {
    STATES.iter().map(|state| state_check(op, *state)).collect()
}

#[test]
fn operations_match_the_model() {
    assert_eq!(MODEL_OPERATIONS.len(), 54);
    assert_matches_model::<Operation>(MODEL_OPERATIONS);
}

#[test]
fn actions_are_kms_prefixed_operation_names() {
    for operation in Operation::ALL {
        if *operation == Operation::ReEncrypt {
            continue;
        }
        assert_eq!(operation.action(), format!("kms:{operation}"));
        assert_eq!(operation.actions(), &[operation.action()]);
    }
    assert_eq!(
        Operation::ReEncrypt.actions(),
        &["kms:ReEncryptFrom", "kms:ReEncryptTo"]
    );
    assert_eq!(Operation::ReEncrypt.action(), "kms:ReEncryptFrom");
}

#[test]
fn read_only_operations_are_reads_and_cryptographic_operations() {
    let writes = [
        "CancelKeyDeletion",
        "ConnectCustomKeyStore",
        "CreateAlias",
        "CreateCustomKeyStore",
        "CreateGrant",
        "CreateKey",
        "DeleteAlias",
        "DeleteCustomKeyStore",
        "DeleteImportedKeyMaterial",
        "DisableKey",
        "DisableKeyRotation",
        "DisconnectCustomKeyStore",
        "EnableKey",
        "EnableKeyRotation",
        "ImportKeyMaterial",
        "PutKeyPolicy",
        "ReplicateKey",
        "RetireGrant",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateCustomKeyStore",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
    ];
    for operation in Operation::ALL {
        assert_eq!(
            operation.read_only(),
            !writes.contains(&operation.as_str()),
            "{operation}"
        );
    }
    // The developer guide's CloudTrail examples.
    for name in [
        "Encrypt",
        "Decrypt",
        "Sign",
        "VerifyMac",
        "GenerateRandom",
        "GetParametersForImport",
        "DescribeCustomKeyStores",
    ] {
        assert!(op(name).read_only(), "{name}");
    }
    for name in ["CreateGrant", "RetireGrant"] {
        assert!(!op(name).read_only(), "{name}");
    }
}

#[test]
fn custom_key_store_operations() {
    let store_ops: Vec<&str> = Operation::ALL
        .iter()
        .filter(|o| o.is_custom_key_store())
        .map(|o| o.as_str())
        .collect();
    assert_eq!(
        store_ops,
        [
            "ConnectCustomKeyStore",
            "CreateCustomKeyStore",
            "DeleteCustomKeyStore",
            "DescribeCustomKeyStores",
            "DisconnectCustomKeyStore",
            "UpdateCustomKeyStore"
        ]
    );
}

#[test]
fn operations_without_an_existing_key_are_outside_the_table() {
    let keyless: Vec<&str> = Operation::ALL
        .iter()
        .filter(|o| !o.uses_existing_key())
        .map(|o| o.as_str())
        .collect();
    assert_eq!(
        keyless,
        [
            "ConnectCustomKeyStore",
            "CreateCustomKeyStore",
            "CreateKey",
            "DeleteCustomKeyStore",
            "DescribeCustomKeyStores",
            "DisconnectCustomKeyStore",
            "GenerateRandom",
            "ListKeys",
            "ListRetirableGrants",
            "UpdateCustomKeyStore"
        ]
    );
    for operation in Operation::ALL.iter().filter(|o| !o.uses_existing_key()) {
        assert!(
            verdicts(*operation).iter().all(Result::is_ok),
            "{operation}"
        );
        assert_eq!(key_state_cell(*operation, Enabled), None);
    }
}

#[test]
fn grant_operations_map_back_to_their_operation() {
    for grant in GrantOperation::ALL {
        assert!(
            grant.operation().grant_operations().contains(grant),
            "{grant}"
        );
    }
    let granted: usize = Operation::ALL
        .iter()
        .map(|o| o.grant_operations().len())
        .sum();
    assert_eq!(granted, GrantOperation::ALL.len());
    assert!(Operation::ScheduleKeyDeletion.grant_operations().is_empty());
}

#[test]
fn list_limits() {
    let limit = |name: &str| op(name).list_limit().map(|l| (l.max, l.default));
    assert_eq!(limit("ListAliases"), Some((100, 50)));
    assert_eq!(limit("ListGrants"), Some((100, 50)));
    assert_eq!(limit("ListRetirableGrants"), Some((100, 50)));
    assert_eq!(limit("ListKeys"), Some((1000, 100)));
    assert_eq!(limit("ListKeyPolicies"), Some((1000, 100)));
    assert_eq!(limit("ListKeyRotations"), Some((1000, 100)));
    assert_eq!(limit("ListResourceTags"), Some((50, 50)));
    assert_eq!(limit("Encrypt"), None);
}

#[test]
fn enabled_keys_pass_every_operation_but_cancel_key_deletion() {
    for operation in Operation::ALL {
        let expected = if *operation == Operation::CancelKeyDeletion {
            Err(StateError::NotPendingDeletion)
        } else {
            Ok(())
        };
        assert_eq!(state_check(*operation, Enabled), expected, "{operation}");
    }
}

// Row group: Encrypt, Decrypt, ReEncrypt and the four GenerateDataKey operations — [1],
// [2] or [3], [5], [11], [14], and ✓ while Updating.
#[test]
fn cryptographic_operations_on_symmetric_keys() {
    let expected = vec![
        Ok(()),
        Err(StateError::Disabled),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Err(StateError::PendingImport),
        Err(StateError::Unavailable),
        Err(StateError::Creating),
        Ok(()),
    ];
    for name in [
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    ] {
        assert_eq!(verdicts(op(name)), expected, "{name}");
    }
}

// Row group: Sign, Verify, GetPublicKey, GenerateMac, VerifyMac (N/A for PendingImport and
// Unavailable) and the inferred DeriveSharedSecret row.
#[test]
fn cryptographic_operations_on_asymmetric_and_hmac_keys() {
    let expected = vec![
        Ok(()),
        Err(StateError::Disabled),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Err(StateError::PendingImport),
        Err(StateError::Unavailable),
        Err(StateError::Creating),
        Ok(()),
    ];
    for name in [
        "Sign",
        "Verify",
        "GetPublicKey",
        "GenerateMac",
        "VerifyMac",
        "DeriveSharedSecret",
    ] {
        assert_eq!(verdicts(op(name)), expected, "{name}");
        assert_eq!(
            key_state_cell(op(name), PendingImport),
            Some(Cell::NotApplicable),
            "{name}"
        );
        assert_eq!(
            key_state_cell(op(name), Unavailable),
            Some(Cell::NotApplicable),
            "{name}"
        );
    }
}

// Row group: operations allowed in every state.
#[test]
fn reads_and_grant_and_policy_management_never_depend_on_state() {
    for name in [
        "DeleteAlias",
        "DescribeKey",
        "GetKeyPolicy",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListResourceTags",
        "PutKeyPolicy",
        "RetireGrant",
        "RevokeGrant",
        "GetKeyLastUsage",
    ] {
        assert!(verdicts(op(name)).iter().all(Result::is_ok), "{name}");
    }
}

// Row group: CreateAlias, TagResource, UntagResource, UpdateKeyDescription — only pending
// deletion refuses, with [3].
#[test]
fn key_management_is_refused_only_pending_deletion() {
    for name in [
        "CreateAlias",
        "TagResource",
        "UntagResource",
        "UpdateKeyDescription",
    ] {
        let expected = vec![
            Ok(()),
            Ok(()),
            Err(StateError::PendingDeletion),
            Err(StateError::PendingReplicaDeletion),
            Ok(()),
            Ok(()),
            Ok(()),
            Ok(()),
        ];
        assert_eq!(verdicts(op(name)), expected, "{name}");
    }
}

#[test]
fn create_grant() {
    let expected = vec![
        Ok(()),
        Err(StateError::Disabled),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Err(StateError::PendingImport),
        Ok(()),
        Err(StateError::Creating),
        Ok(()),
    ];
    assert_eq!(verdicts(Operation::CreateGrant), expected);
}

#[test]
fn enable_and_disable_key() {
    for name in ["EnableKey", "DisableKey"] {
        let expected = vec![
            Ok(()),
            Ok(()),
            Err(StateError::PendingDeletion),
            Err(StateError::PendingReplicaDeletion),
            Err(StateError::PendingImport),
            Ok(()),
            Err(StateError::Creating),
            Err(StateError::Updating),
        ];
        assert_eq!(verdicts(op(name)), expected, "{name}");
        assert_eq!(
            key_state_cell(op(name), Unavailable),
            Some(Cell::AllowedStateUnchanged)
        );
    }
}

#[test]
fn deletion_scheduling() {
    let cancel = vec![
        Err(StateError::NotPendingDeletion),
        Err(StateError::NotPendingDeletion),
        Ok(()),
        Ok(()),
        Err(StateError::NotPendingDeletion),
        Err(StateError::NotPendingDeletion),
        Err(StateError::NotPendingDeletion),
        Err(StateError::NotPendingDeletion),
    ];
    assert_eq!(verdicts(Operation::CancelKeyDeletion), cancel);
    let schedule = vec![
        Ok(()),
        Ok(()),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Ok(()),
        Ok(()),
        Ok(()),
        Err(StateError::Updating),
    ];
    assert_eq!(verdicts(Operation::ScheduleKeyDeletion), schedule);
}

#[test]
fn automatic_rotation_operations() {
    for name in ["EnableKeyRotation", "DisableKeyRotation"] {
        let expected = vec![
            Ok(()),
            Err(StateError::Disabled),
            Err(StateError::PendingDeletion),
            Err(StateError::PendingReplicaDeletion),
            Err(StateError::OriginExternal),
            Err(StateError::CustomKeyStore),
            Err(StateError::Creating),
            Ok(()),
        ];
        assert_eq!(verdicts(op(name)), expected, "{name}");
        assert_eq!(
            key_state_cell(op(name), Disabled),
            Some(Cell::KeyType {
                condition: TypeCondition::AutomaticRotation,
                otherwise: Some(StateError::Disabled)
            })
        );
    }
    let status = vec![
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
        Err(StateError::OriginExternal),
        Err(StateError::CustomKeyStore),
        Ok(()),
        Ok(()),
    ];
    assert_eq!(verdicts(Operation::GetKeyRotationStatus), status);
}

#[test]
fn on_demand_rotation_operations() {
    let rotate = vec![
        Ok(()),
        Err(StateError::Disabled),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Err(StateError::PendingImport),
        Err(StateError::CustomKeyStore),
        Err(StateError::Creating),
        Ok(()),
    ];
    assert_eq!(verdicts(Operation::RotateKeyOnDemand), rotate);
    let list = vec![
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
        Err(StateError::CustomKeyStore),
        Ok(()),
        Ok(()),
    ];
    assert_eq!(verdicts(Operation::ListKeyRotations), list);
}

#[test]
fn import_operations() {
    let get_parameters = vec![
        Ok(()),
        Ok(()),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Ok(()),
        Err(StateError::CustomKeyStore),
        Err(StateError::Creating),
        Err(StateError::Updating),
    ];
    assert_eq!(verdicts(Operation::GetParametersForImport), get_parameters);
    let mut import = get_parameters.clone();
    import[7] = Ok(());
    assert_eq!(verdicts(Operation::ImportKeyMaterial), import);
    let delete = vec![
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
        Err(StateError::Unavailable),
        Err(StateError::Creating),
        Err(StateError::Updating),
    ];
    assert_eq!(verdicts(Operation::DeleteImportedKeyMaterial), delete);
    assert_eq!(
        key_state_cell(Operation::DeleteImportedKeyMaterial, PendingImport),
        Some(Cell::AllowedNoEffect)
    );
    assert_eq!(
        key_state_cell(Operation::ImportKeyMaterial, PendingDeletion),
        Some(Cell::KeyType {
            condition: TypeCondition::ImportedMaterial,
            otherwise: Some(StateError::PendingDeletion)
        })
    );
}

#[test]
fn update_alias_checks_the_new_target_only() {
    assert_eq!(
        key_state_cell(Operation::UpdateAlias, PendingDeletion),
        Some(Cell::AliasTarget)
    );
    let expected = vec![
        Ok(()),
        Ok(()),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Ok(()),
        Ok(()),
        Ok(()),
        Ok(()),
    ];
    assert_eq!(verdicts(Operation::UpdateAlias), expected);
}

#[test]
fn multi_region_operations() {
    let replicate = vec![
        Ok(()),
        Err(StateError::Disabled),
        Err(StateError::PendingDeletion),
        Err(StateError::PendingReplicaDeletion),
        Err(StateError::PendingImport),
        Err(StateError::Unavailable),
        Err(StateError::Creating),
        Err(StateError::Updating),
    ];
    assert_eq!(verdicts(Operation::ReplicateKey), replicate);
    let mut update_primary = replicate.clone();
    update_primary[7] = Ok(());
    assert_eq!(verdicts(Operation::UpdatePrimaryRegion), update_primary);
}

#[test]
fn state_errors_name_the_exception() {
    use crate::messages::ErrorCode::*;
    assert_eq!(StateError::Disabled.code(), DisabledException);
    for error in [
        StateError::PendingDeletion,
        StateError::PendingReplicaDeletion,
        StateError::NotPendingDeletion,
        StateError::PendingImport,
        StateError::Unavailable,
        StateError::Creating,
        StateError::Updating,
    ] {
        assert_eq!(error.code(), KmsInvalidStateException, "{error:?}");
    }
    assert_eq!(
        StateError::OriginExternal.code(),
        UnsupportedOperationException
    );
    assert_eq!(
        StateError::CustomKeyStore.code(),
        UnsupportedOperationException
    );
}

#[test]
fn type_conditions() {
    let symmetric = KeySpec::SymmetricDefault;
    assert!(TypeCondition::AutomaticRotation.holds(symmetric, Origin::AwsKms));
    assert!(!TypeCondition::AutomaticRotation.holds(symmetric, Origin::External));
    assert!(!TypeCondition::AutomaticRotation.holds(symmetric, Origin::AwsCloudhsm));
    assert!(!TypeCondition::AutomaticRotation.holds(KeySpec::Hmac256, Origin::AwsKms));
    assert!(TypeCondition::OnDemandRotation.holds(symmetric, Origin::External));
    assert!(!TypeCondition::OnDemandRotation.holds(KeySpec::Rsa2048, Origin::AwsKms));
    assert!(TypeCondition::ImportedMaterial.holds(KeySpec::Rsa2048, Origin::External));
    assert!(!TypeCondition::ImportedMaterial.holds(symmetric, Origin::AwsKms));
}
