//! The 54 KMS operations of the botocore model, their IAM actions and CloudTrail `readOnly`
//! flags, and the key-state table: which key states let each operation proceed and which
//! exception AWS raises otherwise.

use crate::messages::ErrorCode;
use crate::spec::{GrantOperation, KeySpec, KeyState, Origin, RotationType};
use crate::wire_enum::wire_enum;

wire_enum! {
    /// A KMS API operation (`X-Amz-Target: TrentService.<name>`), in the model's order.
    pub enum Operation {
        /// CancelKeyDeletion.
        CancelKeyDeletion = "CancelKeyDeletion",
        /// ConnectCustomKeyStore.
        ConnectCustomKeyStore = "ConnectCustomKeyStore",
        /// CreateAlias.
        CreateAlias = "CreateAlias",
        /// CreateCustomKeyStore.
        CreateCustomKeyStore = "CreateCustomKeyStore",
        /// CreateGrant.
        CreateGrant = "CreateGrant",
        /// CreateKey.
        CreateKey = "CreateKey",
        /// Decrypt.
        Decrypt = "Decrypt",
        /// DeleteAlias.
        DeleteAlias = "DeleteAlias",
        /// DeleteCustomKeyStore.
        DeleteCustomKeyStore = "DeleteCustomKeyStore",
        /// DeleteImportedKeyMaterial.
        DeleteImportedKeyMaterial = "DeleteImportedKeyMaterial",
        /// DeriveSharedSecret.
        DeriveSharedSecret = "DeriveSharedSecret",
        /// DescribeCustomKeyStores.
        DescribeCustomKeyStores = "DescribeCustomKeyStores",
        /// DescribeKey.
        DescribeKey = "DescribeKey",
        /// DisableKey.
        DisableKey = "DisableKey",
        /// DisableKeyRotation.
        DisableKeyRotation = "DisableKeyRotation",
        /// DisconnectCustomKeyStore.
        DisconnectCustomKeyStore = "DisconnectCustomKeyStore",
        /// EnableKey.
        EnableKey = "EnableKey",
        /// EnableKeyRotation.
        EnableKeyRotation = "EnableKeyRotation",
        /// Encrypt.
        Encrypt = "Encrypt",
        /// GenerateDataKey.
        GenerateDataKey = "GenerateDataKey",
        /// GenerateDataKeyPair.
        GenerateDataKeyPair = "GenerateDataKeyPair",
        /// GenerateDataKeyPairWithoutPlaintext.
        GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
        /// GenerateDataKeyWithoutPlaintext.
        GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
        /// GenerateMac.
        GenerateMac = "GenerateMac",
        /// GenerateRandom.
        GenerateRandom = "GenerateRandom",
        /// GetKeyLastUsage.
        GetKeyLastUsage = "GetKeyLastUsage",
        /// GetKeyPolicy.
        GetKeyPolicy = "GetKeyPolicy",
        /// GetKeyRotationStatus.
        GetKeyRotationStatus = "GetKeyRotationStatus",
        /// GetParametersForImport.
        GetParametersForImport = "GetParametersForImport",
        /// GetPublicKey.
        GetPublicKey = "GetPublicKey",
        /// ImportKeyMaterial.
        ImportKeyMaterial = "ImportKeyMaterial",
        /// ListAliases.
        ListAliases = "ListAliases",
        /// ListGrants.
        ListGrants = "ListGrants",
        /// ListKeyPolicies.
        ListKeyPolicies = "ListKeyPolicies",
        /// ListKeyRotations.
        ListKeyRotations = "ListKeyRotations",
        /// ListKeys.
        ListKeys = "ListKeys",
        /// ListResourceTags.
        ListResourceTags = "ListResourceTags",
        /// ListRetirableGrants.
        ListRetirableGrants = "ListRetirableGrants",
        /// PutKeyPolicy.
        PutKeyPolicy = "PutKeyPolicy",
        /// ReEncrypt.
        ReEncrypt = "ReEncrypt",
        /// ReplicateKey.
        ReplicateKey = "ReplicateKey",
        /// RetireGrant.
        RetireGrant = "RetireGrant",
        /// RevokeGrant.
        RevokeGrant = "RevokeGrant",
        /// RotateKeyOnDemand.
        RotateKeyOnDemand = "RotateKeyOnDemand",
        /// ScheduleKeyDeletion.
        ScheduleKeyDeletion = "ScheduleKeyDeletion",
        /// Sign.
        Sign = "Sign",
        /// TagResource.
        TagResource = "TagResource",
        /// UntagResource.
        UntagResource = "UntagResource",
        /// UpdateAlias.
        UpdateAlias = "UpdateAlias",
        /// UpdateCustomKeyStore.
        UpdateCustomKeyStore = "UpdateCustomKeyStore",
        /// UpdateKeyDescription.
        UpdateKeyDescription = "UpdateKeyDescription",
        /// UpdatePrimaryRegion.
        UpdatePrimaryRegion = "UpdatePrimaryRegion",
        /// Verify.
        Verify = "Verify",
        /// VerifyMac.
        VerifyMac = "VerifyMac",
    }
    unsupported {}
}

/// The `Limit` range and default of a List operation ("If you include a value, it must be
/// between 1 and N, inclusive. If you do not include a value, it defaults to D", per
/// operation in the model's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimit {
    /// Largest accepted `Limit` (the smallest is 1).
    pub max: u32,
    /// `Limit` when the request omits it.
    pub default: u32,
}

impl Operation {
    /// The IAM action that authorizes the operation ("Required permissions" in each operation's
    /// documentation). ReEncrypt needs two, see [`Operation::actions`]; this returns the first.
    pub const fn action(self) -> &'static str {
        self.actions()[0]
    }

    /// Every IAM action the operation requires. Only ReEncrypt has two: "kms:ReEncryptFrom
    /// permission on the source KMS key" and "kms:ReEncryptTo permission on the destination
    /// KMS key" (ReEncrypt). CreateAlias and UpdateAlias check their one action on both the
    /// alias and the key.
    pub const fn actions(self) -> &'static [&'static str] {
        use Operation::*;
        match self {
            CancelKeyDeletion => &["kms:CancelKeyDeletion"],
            ConnectCustomKeyStore => &["kms:ConnectCustomKeyStore"],
            CreateAlias => &["kms:CreateAlias"],
            CreateCustomKeyStore => &["kms:CreateCustomKeyStore"],
            CreateGrant => &["kms:CreateGrant"],
            CreateKey => &["kms:CreateKey"],
            Decrypt => &["kms:Decrypt"],
            DeleteAlias => &["kms:DeleteAlias"],
            DeleteCustomKeyStore => &["kms:DeleteCustomKeyStore"],
            DeleteImportedKeyMaterial => &["kms:DeleteImportedKeyMaterial"],
            DeriveSharedSecret => &["kms:DeriveSharedSecret"],
            DescribeCustomKeyStores => &["kms:DescribeCustomKeyStores"],
            DescribeKey => &["kms:DescribeKey"],
            DisableKey => &["kms:DisableKey"],
            DisableKeyRotation => &["kms:DisableKeyRotation"],
            DisconnectCustomKeyStore => &["kms:DisconnectCustomKeyStore"],
            EnableKey => &["kms:EnableKey"],
            EnableKeyRotation => &["kms:EnableKeyRotation"],
            Encrypt => &["kms:Encrypt"],
            GenerateDataKey => &["kms:GenerateDataKey"],
            GenerateDataKeyPair => &["kms:GenerateDataKeyPair"],
            GenerateDataKeyPairWithoutPlaintext => &["kms:GenerateDataKeyPairWithoutPlaintext"],
            GenerateDataKeyWithoutPlaintext => &["kms:GenerateDataKeyWithoutPlaintext"],
            GenerateMac => &["kms:GenerateMac"],
            GenerateRandom => &["kms:GenerateRandom"],
            GetKeyLastUsage => &["kms:GetKeyLastUsage"],
            GetKeyPolicy => &["kms:GetKeyPolicy"],
            GetKeyRotationStatus => &["kms:GetKeyRotationStatus"],
            GetParametersForImport => &["kms:GetParametersForImport"],
            GetPublicKey => &["kms:GetPublicKey"],
            ImportKeyMaterial => &["kms:ImportKeyMaterial"],
            ListAliases => &["kms:ListAliases"],
            ListGrants => &["kms:ListGrants"],
            ListKeyPolicies => &["kms:ListKeyPolicies"],
            ListKeyRotations => &["kms:ListKeyRotations"],
            ListKeys => &["kms:ListKeys"],
            ListResourceTags => &["kms:ListResourceTags"],
            ListRetirableGrants => &["kms:ListRetirableGrants"],
            PutKeyPolicy => &["kms:PutKeyPolicy"],
            ReEncrypt => &["kms:ReEncryptFrom", "kms:ReEncryptTo"],
            ReplicateKey => &["kms:ReplicateKey"],
            RetireGrant => &["kms:RetireGrant"],
            RevokeGrant => &["kms:RevokeGrant"],
            RotateKeyOnDemand => &["kms:RotateKeyOnDemand"],
            ScheduleKeyDeletion => &["kms:ScheduleKeyDeletion"],
            Sign => &["kms:Sign"],
            TagResource => &["kms:TagResource"],
            UntagResource => &["kms:UntagResource"],
            UpdateAlias => &["kms:UpdateAlias"],
            UpdateCustomKeyStore => &["kms:UpdateCustomKeyStore"],
            UpdateKeyDescription => &["kms:UpdateKeyDescription"],
            UpdatePrimaryRegion => &["kms:UpdatePrimaryRegion"],
            Verify => &["kms:Verify"],
            VerifyMac => &["kms:VerifyMac"],
        }
    }

    /// The CloudTrail `readOnly` flag AWS records for the operation. The developer guide's
    /// CloudTrail examples show `true` for Encrypt, Decrypt, Sign, VerifyMac, GenerateRandom,
    /// GetParametersForImport and DescribeCustomKeyStores and `false` for CreateGrant and
    /// RetireGrant; the rule they follow, applied here to every operation, is that reads
    /// (Describe*, Get*, List*) and cryptographic operations are read-only and everything
    /// that changes a key, alias, grant, policy, tag or key store is not.
    pub const fn read_only(self) -> bool {
        use Operation::*;
        matches!(
            self,
            Decrypt
                | DeriveSharedSecret
                | DescribeCustomKeyStores
                | DescribeKey
                | Encrypt
                | GenerateDataKey
                | GenerateDataKeyPair
                | GenerateDataKeyPairWithoutPlaintext
                | GenerateDataKeyWithoutPlaintext
                | GenerateMac
                | GenerateRandom
                | GetKeyLastUsage
                | GetKeyPolicy
                | GetKeyRotationStatus
                | GetParametersForImport
                | GetPublicKey
                | ListAliases
                | ListGrants
                | ListKeyPolicies
                | ListKeyRotations
                | ListKeys
                | ListResourceTags
                | ListRetirableGrants
                | ReEncrypt
                | Sign
                | Verify
                | VerifyMac
        )
    }

    /// Whether the operation manages custom key stores (CloudHSM or external).
    pub const fn is_custom_key_store(self) -> bool {
        use Operation::*;
        matches!(
            self,
            ConnectCustomKeyStore
                | CreateCustomKeyStore
                | DeleteCustomKeyStore
                | DescribeCustomKeyStores
                | DisconnectCustomKeyStore
                | UpdateCustomKeyStore
        )
    }

    /// Whether the operation acts on an existing KMS key, and so appears in the key-state
    /// table ("This table includes only the API operations that use an existing KMS key").
    pub const fn uses_existing_key(self) -> bool {
        key_state_row(self).is_some()
    }

    /// The grant operations that allow this operation: ReEncrypt needs ReEncryptFrom on the
    /// source key and ReEncryptTo on the destination key; operations a grant cannot allow
    /// return an empty slice.
    pub const fn grant_operations(self) -> &'static [GrantOperation] {
        use GrantOperation as G;
        match self {
            Operation::Decrypt => &[G::Decrypt],
            Operation::Encrypt => &[G::Encrypt],
            Operation::GenerateDataKey => &[G::GenerateDataKey],
            Operation::GenerateDataKeyWithoutPlaintext => &[G::GenerateDataKeyWithoutPlaintext],
            Operation::ReEncrypt => &[G::ReEncryptFrom, G::ReEncryptTo],
            Operation::Sign => &[G::Sign],
            Operation::Verify => &[G::Verify],
            Operation::GetPublicKey => &[G::GetPublicKey],
            Operation::CreateGrant => &[G::CreateGrant],
            Operation::RetireGrant => &[G::RetireGrant],
            Operation::DescribeKey => &[G::DescribeKey],
            Operation::GenerateDataKeyPair => &[G::GenerateDataKeyPair],
            Operation::GenerateDataKeyPairWithoutPlaintext => {
                &[G::GenerateDataKeyPairWithoutPlaintext]
            }
            Operation::GenerateMac => &[G::GenerateMac],
            Operation::VerifyMac => &[G::VerifyMac],
            Operation::DeriveSharedSecret => &[G::DeriveSharedSecret],
            _ => &[],
        }
    }

    /// The `Limit` rule of a List operation; `None` for other operations and for
    /// DescribeCustomKeyStores, whose documentation gives no default.
    pub const fn list_limit(self) -> Option<ListLimit> {
        let (max, default) = match self {
            Operation::ListAliases | Operation::ListGrants | Operation::ListRetirableGrants => {
                (100, 50)
            }
            Operation::ListKeyPolicies | Operation::ListKeyRotations | Operation::ListKeys => {
                (1000, 100)
            }
            Operation::ListResourceTags => (50, 50),
            _ => return None,
        };
        Some(ListLimit { max, default })
    }
}

impl GrantOperation {
    /// The API operation the grant operation allows (both ReEncrypt halves map to ReEncrypt).
    pub const fn operation(self) -> Operation {
        use GrantOperation as G;
        match self {
            G::Decrypt => Operation::Decrypt,
            G::Encrypt => Operation::Encrypt,
            G::GenerateDataKey => Operation::GenerateDataKey,
            G::GenerateDataKeyWithoutPlaintext => Operation::GenerateDataKeyWithoutPlaintext,
            G::ReEncryptFrom | G::ReEncryptTo => Operation::ReEncrypt,
            G::Sign => Operation::Sign,
            G::Verify => Operation::Verify,
            G::GetPublicKey => Operation::GetPublicKey,
            G::CreateGrant => Operation::CreateGrant,
            G::RetireGrant => Operation::RetireGrant,
            G::DescribeKey => Operation::DescribeKey,
            G::GenerateDataKeyPair => Operation::GenerateDataKeyPair,
            G::GenerateDataKeyPairWithoutPlaintext => {
                Operation::GenerateDataKeyPairWithoutPlaintext
            }
            G::GenerateMac => Operation::GenerateMac,
            G::VerifyMac => Operation::VerifyMac,
            G::DeriveSharedSecret => Operation::DeriveSharedSecret,
        }
    }
}

/// Why a key's state refuses an operation: one footnote of the key-state table, naming the
/// exception AWS raises and (through [`crate::messages::state_error`]) its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum StateError {
    /// \[1\] `DisabledException: <key ARN> is disabled.`
    #[error("the key is disabled")]
    Disabled,
    /// \[3\] `KMSInvalidStateException: <key ARN> is pending deletion.` Where the table allows
    /// "\[2\] or \[3\]" (the same sentence under `DisabledException`), coffer answers \[3\]: AWS
    /// returned `KMSInvalidStateException` for Sign with a key pending deletion in recorded
    /// responses (jsign's KMS tests) and in users' reports of Encrypt/Decrypt failures.
    #[error("the key is pending deletion")]
    PendingDeletion,
    /// \[3\] for a multi-Region primary key in `PendingReplicaDeletion`: the footnote reads "is
    /// pending deletion (or pending replica deletion)".
    #[error("the key is pending replica deletion")]
    PendingReplicaDeletion,
    /// \[4\] `KMSInvalidStateException: <key ARN> is not pending deletion.` (CancelKeyDeletion).
    #[error("the key is not pending deletion")]
    NotPendingDeletion,
    /// \[5\] `KMSInvalidStateException: <key ARN> is pending import.`
    #[error("the key is pending import")]
    PendingImport,
    /// \[6\] `UnsupportedOperationException: <key ARN> origin is EXTERNAL which is not valid for
    /// this operation.` (automatic-rotation operations on a key pending import).
    #[error("the key's origin is EXTERNAL, which the operation does not support")]
    OriginExternal,
    /// \[7\]/\[9\] in the Unavailable column: only keys in custom key stores are Unavailable, and
    /// those support neither automatic rotation nor imported key material, so AWS answers
    /// `UnsupportedOperationException`.
    #[error("the key is in a custom key store, which the operation does not support")]
    CustomKeyStore,
    /// \[11\] `KMSInvalidStateException: <key ARN> is unavailable.`
    #[error("the key is unavailable")]
    Unavailable,
    /// \[14\] `KMSInvalidStateException: <key ARN> is creating.`
    #[error("the key is being created")]
    Creating,
    /// \[15\] `KMSInvalidStateException: <key ARN> is updating.`
    #[error("the key is being updated")]
    Updating,
}

impl StateError {
    /// The exception AWS raises.
    pub const fn code(self) -> ErrorCode {
        match self {
            StateError::Disabled => ErrorCode::DisabledException,
            StateError::OriginExternal | StateError::CustomKeyStore => {
                ErrorCode::UnsupportedOperationException
            }
            _ => ErrorCode::KmsInvalidStateException,
        }
    }
}

/// A key-type condition some cells of the key-state table depend on ("?" cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeCondition {
    /// \[7\]: "If the KMS key has imported key material or is in a custom key store:
    /// UnsupportedOperationException" (and asymmetric and HMAC keys never rotate).
    AutomaticRotation,
    /// As \[7\] for on-demand rotation, which also accepts symmetric keys with imported
    /// material (RotateKeyOnDemand).
    OnDemandRotation,
    /// \[9\]: "If the KMS key cannot or does not have imported key material:
    /// UnsupportedOperationException."
    ImportedMaterial,
}

impl TypeCondition {
    /// Whether a key of this spec and origin satisfies the condition. When it does not, AWS
    /// answers `UnsupportedOperationException` before looking at the key state.
    pub const fn holds(self, spec: KeySpec, origin: Origin) -> bool {
        match self {
            TypeCondition::AutomaticRotation => {
                crate::spec::key_spec_supports_rotation(spec, origin, RotationType::Automatic)
            }
            TypeCondition::OnDemandRotation => {
                crate::spec::key_spec_supports_rotation(spec, origin, RotationType::OnDemand)
            }
            TypeCondition::ImportedMaterial => crate::spec::supports_imported_key_material(origin),
        }
    }
}

/// One cell of the key-state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// ✓: the operation succeeds.
    Allowed,
    /// ✓ \[12\]: "The operation succeeds, but the key state of the KMS key does not change until
    /// it becomes available."
    AllowedStateUnchanged,
    /// ✓ (No effect): DeleteImportedKeyMaterial on a key already pending import.
    AllowedNoEffect,
    /// X: the operation fails with this error.
    Refused(StateError),
    /// ?: keys failing `condition` get `UnsupportedOperationException`; keys meeting it
    /// succeed (`otherwise: None`) or fail with `otherwise` (the "\[1\] or \[7\]", "\[3\] or \[7\]"
    /// and "\[8\] or \[9\]" cells).
    KeyType {
        /// The key-type condition.
        condition: TypeCondition,
        /// The state's verdict for keys that meet the condition.
        otherwise: Option<StateError>,
    },
    /// ? \[10\] (UpdateAlias): "If the source KMS key is pending deletion, the command succeeds.
    /// If the destination KMS key is pending deletion, the command fails" with \[3\].
    AliasTarget,
    /// N/A: at the time of the table no key that supports the operation could be in this state.
    NotApplicable,
}

/// The table's columns; PendingDeletion and PendingReplicaDeletion share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
    Unavailable,
    Creating,
    Updating,
}

const fn column(state: KeyState) -> Column {
    match state {
        KeyState::Enabled => Column::Enabled,
        KeyState::Disabled => Column::Disabled,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Column::PendingDeletion,
        KeyState::PendingImport => Column::PendingImport,
        KeyState::Unavailable => Column::Unavailable,
        KeyState::Creating => Column::Creating,
        KeyState::Updating => Column::Updating,
    }
}

// Cell shorthands, named after the table's symbols and footnotes.
const OK: Cell = Cell::Allowed;
const OK12: Cell = Cell::AllowedStateUnchanged;
const NO_EFFECT: Cell = Cell::AllowedNoEffect;
const NA: Cell = Cell::NotApplicable;
const A10: Cell = Cell::AliasTarget;
const D1: Cell = Cell::Refused(StateError::Disabled);
const PD3: Cell = Cell::Refused(StateError::PendingDeletion);
const NPD4: Cell = Cell::Refused(StateError::NotPendingDeletion);
const PI5: Cell = Cell::Refused(StateError::PendingImport);
const EXT6: Cell = Cell::Refused(StateError::OriginExternal);
const CKS: Cell = Cell::Refused(StateError::CustomKeyStore);
const U11: Cell = Cell::Refused(StateError::Unavailable);
const C14: Cell = Cell::Refused(StateError::Creating);
const U15: Cell = Cell::Refused(StateError::Updating);
const R7: Cell = Cell::KeyType {
    condition: TypeCondition::AutomaticRotation,
    otherwise: None,
};
const R7_D1: Cell = Cell::KeyType {
    condition: TypeCondition::AutomaticRotation,
    otherwise: Some(StateError::Disabled),
};
const R7_PD3: Cell = Cell::KeyType {
    condition: TypeCondition::AutomaticRotation,
    otherwise: Some(StateError::PendingDeletion),
};
const OD: Cell = Cell::KeyType {
    condition: TypeCondition::OnDemandRotation,
    otherwise: None,
};
const OD_D1: Cell = Cell::KeyType {
    condition: TypeCondition::OnDemandRotation,
    otherwise: Some(StateError::Disabled),
};
const OD_PD3: Cell = Cell::KeyType {
    condition: TypeCondition::OnDemandRotation,
    otherwise: Some(StateError::PendingDeletion),
};
const I9: Cell = Cell::KeyType {
    condition: TypeCondition::ImportedMaterial,
    otherwise: None,
};
const I9_PD8: Cell = Cell::KeyType {
    condition: TypeCondition::ImportedMaterial,
    otherwise: Some(StateError::PendingDeletion),
};

/// A row of the table: Enabled, Disabled, PendingDeletion (and PendingReplicaDeletion),
/// PendingImport, Unavailable, Creating, Updating.
type Row = [Cell; 7];

const ALL_OK: Row = [OK, OK, OK, OK, OK, OK, OK];
const CRYPTO: Row = [OK, D1, PD3, PI5, U11, C14, OK];
const ASYMMETRIC_CRYPTO: Row = [OK, D1, PD3, NA, NA, C14, OK];
const MANAGE: Row = [OK, OK, PD3, OK, OK, OK, OK];
const ENABLE_DISABLE: Row = [OK, OK, PD3, PI5, OK12, C14, U15];
const AUTO_ROTATION: Row = [R7, R7_D1, R7_PD3, EXT6, CKS, C14, R7];

/// The key-state table, from the developer guide page "Key states of AWS KMS keys" (the
/// version with the Creating, Updating and PendingReplicaDeletion columns). Rows for
/// operations added after that version (DeriveSharedSecret, RotateKeyOnDemand,
/// ListKeyRotations, GetKeyLastUsage) are inferred from each operation's documented errors
/// and the row of its closest sibling; each is marked below. `None` for operations that do
/// not use an existing key.
const fn key_state_row(op: Operation) -> Option<Row> {
    use Operation::*;
    let row = match op {
        CancelKeyDeletion => [NPD4, NPD4, OK, NPD4, NPD4, NPD4, NPD4],
        CreateAlias => MANAGE,
        CreateGrant => [OK, D1, PD3, PI5, OK, C14, OK],
        Decrypt | Encrypt | ReEncrypt => CRYPTO,
        GenerateDataKey
        | GenerateDataKeyPair
        | GenerateDataKeyPairWithoutPlaintext
        | GenerateDataKeyWithoutPlaintext => CRYPTO,
        DeleteAlias | DescribeKey | GetKeyPolicy | ListAliases | ListGrants | ListKeyPolicies
        | ListResourceTags | PutKeyPolicy | RetireGrant | RevokeGrant => ALL_OK,
        DeleteImportedKeyMaterial => [I9, I9, I9, NO_EFFECT, NA, C14, U15],
        DisableKey | EnableKey => ENABLE_DISABLE,
        DisableKeyRotation | EnableKeyRotation => AUTO_ROTATION,
        GenerateMac | VerifyMac | GetPublicKey | Sign | Verify => ASYMMETRIC_CRYPTO,
        GetKeyRotationStatus => [R7, R7, R7, EXT6, CKS, R7, R7],
        GetParametersForImport => [I9, I9, I9_PD8, OK, CKS, C14, U15],
        ImportKeyMaterial => [I9, I9, I9_PD8, OK, CKS, C14, OK],
        ReplicateKey => [OK, D1, PD3, PI5, NA, C14, U15],
        ScheduleKeyDeletion => [OK, OK, PD3, OK, OK, OK, U15],
        TagResource | UntagResource | UpdateKeyDescription => MANAGE,
        UpdateAlias => [OK, OK, A10, OK, OK, OK, OK],
        UpdatePrimaryRegion => [OK, D1, PD3, PI5, NA, C14, OK],
        // Inferred: a KEY_AGREEMENT key is used like a signing key (same errors as Sign).
        DeriveSharedSecret => ASYMMETRIC_CRYPTO,
        // Inferred: EnableKeyRotation's row with the on-demand key-type rule, under which a
        // key pending import has the right origin and so gets [5] (RotateKeyOnDemand lists
        // DisabledException, KMSInvalidStateException and UnsupportedOperationException).
        RotateKeyOnDemand => [OD, OD_D1, OD_PD3, PI5, CKS, C14, OD],
        // Inferred: GetKeyRotationStatus's row with the on-demand key-type rule (no
        // DisabledException in ListKeyRotations' error list).
        ListKeyRotations => [OD, OD, OD, OD, CKS, OD, OD],
        // Inferred: GetKeyLastUsage documents no state-related exception.
        GetKeyLastUsage => ALL_OK,
        ConnectCustomKeyStore
        | CreateCustomKeyStore
        | CreateKey
        | DeleteCustomKeyStore
        | DescribeCustomKeyStores
        | DisconnectCustomKeyStore
        | GenerateRandom
        | ListKeys
        | ListRetirableGrants
        | UpdateCustomKeyStore => return None,
    };
    Some(row)
}

/// The key-state table cell for an operation and key state; `None` when the operation does
/// not use an existing key.
pub fn key_state_cell(op: Operation, state: KeyState) -> Option<Cell> {
    key_state_row(op).map(|row| row[column(state) as usize])
}

/// Whether the key state lets `op` proceed, for a key that meets the cell's key-type
/// condition (check [`TypeCondition::holds`] first: AWS reports an unsupported key type
/// before its state, as the "\[1\] or \[7\]" cells show).
///
/// For UpdateAlias the state is the *new target* key's (\[10\]); the alias's current key is not
/// checked. N/A cells (asymmetric or HMAC keys pending import or unavailable, which the table
/// predates) refuse with the footnote the same column gives the other cryptographic
/// operations: \[5\] for PendingImport, \[11\] for Unavailable. Operations that use no existing
/// key always pass.
pub fn state_check(op: Operation, state: KeyState) -> Result<(), StateError> {
    let refusal = match key_state_cell(op, state) {
        None
        | Some(Cell::Allowed | Cell::AllowedStateUnchanged | Cell::AllowedNoEffect)
        | Some(Cell::KeyType {
            otherwise: None, ..
        }) => return Ok(()),
        Some(
            Cell::Refused(error)
            | Cell::KeyType {
                otherwise: Some(error),
                ..
            },
        ) => error,
        Some(Cell::AliasTarget) => StateError::PendingDeletion,
        Some(Cell::NotApplicable) => not_applicable_refusal(state),
    };
    Err(for_state(refusal, state))
}

/// The refusal coffer gives for an N/A cell.
const fn not_applicable_refusal(state: KeyState) -> StateError {
    match state {
        KeyState::Unavailable => StateError::Unavailable,
        _ => StateError::PendingImport,
    }
}

/// The pending-deletion footnote names either state; report the one the key is in.
const fn for_state(error: StateError, state: KeyState) -> StateError {
    match (error, state) {
        (StateError::PendingDeletion, KeyState::PendingReplicaDeletion) => {
            StateError::PendingReplicaDeletion
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests;
