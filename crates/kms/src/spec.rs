//! Key specs, key usages, algorithms, key states and the other AWS KMS enums, with the tables
//! that relate them (which usages a key spec permits, which algorithms DescribeKey lists,
//! which grant operations a key supports, plaintext and parameter limits).
//!
//! Sources, by title: the botocore model `kms/2014-11-01/service-2.json` (enum values and
//! their order, member ranges, and the operation documentation it carries: "CreateKey",
//! "Encrypt", "RotateKeyOnDemand", "ScheduleKeyDeletion", "GetParametersForImport"), its
//! `examples-1.json` (DescribeKey and CreateKey examples, for the order of algorithm lists),
//! and the developer guide pages "Key spec reference", "HMAC keys in AWS KMS", "Grants in
//! AWS KMS" and "Importing key material for AWS KMS keys".

use crate::wire_enum::wire_enum;

pub use crate::wire_enum::{ParseEnumError, Unsupported};

wire_enum! {
    /// The type of key material in a KMS key (`KeySpec`). `SM2` is China-Regions-only and
    /// parses to a [`ParseEnumError`].
    pub enum KeySpec {
        /// 2048-bit RSA key pair.
        Rsa2048 = "RSA_2048",
        /// 3072-bit RSA key pair.
        Rsa3072 = "RSA_3072",
        /// 4096-bit RSA key pair.
        Rsa4096 = "RSA_4096",
        /// NIST P-256 (secp256r1) key pair.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384 (secp384r1) key pair.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521 (secp521r1) key pair.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1 key pair.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// 256-bit AES-GCM symmetric encryption key, the default.
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// HMAC key used with HMAC-SHA-224.
        Hmac224 = "HMAC_224",
        /// HMAC key used with HMAC-SHA-256.
        Hmac256 = "HMAC_256",
        /// HMAC key used with HMAC-SHA-384.
        Hmac384 = "HMAC_384",
        /// HMAC key used with HMAC-SHA-512.
        Hmac512 = "HMAC_512",
        /// ML-DSA-44 key pair (FIPS 204; signing only).
        MlDsa44 = "ML_DSA_44",
        /// ML-DSA-65 key pair (FIPS 204; signing only).
        MlDsa65 = "ML_DSA_65",
        /// ML-DSA-87 key pair (FIPS 204; signing only).
        MlDsa87 = "ML_DSA_87",
        /// Ed25519 key pair (signing only).
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
    unsupported {
        "SM2" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// The cryptographic operations a KMS key can be used for (`KeyUsageType`).
    pub enum KeyUsage {
        /// Sign and verify.
        SignVerify = "SIGN_VERIFY",
        /// Encrypt and decrypt.
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        /// Generate and verify HMACs.
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        /// Derive shared secrets (ECDH).
        KeyAgreement = "KEY_AGREEMENT",
    }
    unsupported {}
}

wire_enum! {
    /// Encryption algorithms (`EncryptionAlgorithmSpec`). `SM2PKE` is China-Regions-only.
    pub enum EncryptionAlgorithm {
        /// AES-256-GCM with a KMS ciphertext blob (symmetric encryption keys).
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSAES-OAEP with SHA-1 and MGF1 with SHA-1.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 and MGF1 with SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
    }
    unsupported {
        "SM2PKE" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// Signing algorithms (`SigningAlgorithmSpec`). `SM2DSA` is China-Regions-only.
    pub enum SigningAlgorithm {
        /// RSASSA-PSS with SHA-256.
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS with SHA-384.
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS with SHA-512.
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA with SHA-256.
        EcdsaSha256 = "ECDSA_SHA_256",
        /// ECDSA with SHA-384.
        EcdsaSha384 = "ECDSA_SHA_384",
        /// ECDSA with SHA-512.
        EcdsaSha512 = "ECDSA_SHA_512",
        /// ML-DSA (FIPS 204) with SHAKE256 inside the scheme (requires `MessageType` RAW:
        /// coffer does not offer `EXTERNAL_MU`).
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        /// Pure Ed25519 (requires `MessageType` RAW).
        Ed25519Sha512 = "ED25519_SHA_512",
        /// Ed25519ph, pre-hashed with SHA-512 (requires `MessageType` DIGEST).
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
    unsupported {
        "SM2DSA" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// MAC algorithms (`MacAlgorithmSpec`).
    pub enum MacAlgorithm {
        /// HMAC with SHA-224.
        HmacSha224 = "HMAC_SHA_224",
        /// HMAC with SHA-256.
        HmacSha256 = "HMAC_SHA_256",
        /// HMAC with SHA-384.
        HmacSha384 = "HMAC_SHA_384",
        /// HMAC with SHA-512.
        HmacSha512 = "HMAC_SHA_512",
    }
    unsupported {}
}

wire_enum! {
    /// Key agreement algorithms (`KeyAgreementAlgorithmSpec`).
    pub enum KeyAgreementAlgorithm {
        /// Elliptic Curve Cryptography Cofactor Diffie-Hellman.
        Ecdh = "ECDH",
    }
    unsupported {}
}

wire_enum! {
    /// Symmetric data key lengths for GenerateDataKey (`DataKeySpec`).
    pub enum DataKeySpec {
        /// 256-bit key.
        Aes256 = "AES_256",
        /// 128-bit key.
        Aes128 = "AES_128",
    }
    unsupported {}
}

wire_enum! {
    /// Data key pair types for GenerateDataKeyPair (`DataKeyPairSpec`). `SM2` is
    /// China-Regions-only.
    pub enum DataKeyPairSpec {
        /// 2048-bit RSA key pair.
        Rsa2048 = "RSA_2048",
        /// 3072-bit RSA key pair.
        Rsa3072 = "RSA_3072",
        /// 4096-bit RSA key pair.
        Rsa4096 = "RSA_4096",
        /// NIST P-256 key pair.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384 key pair.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521 key pair.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1 key pair.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// Ed25519 key pair.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
    unsupported {
        "SM2" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// Where a key's material comes from (`OriginType`).
    pub enum Origin {
        /// KMS generated it.
        AwsKms = "AWS_KMS",
        /// Imported (or not yet imported) key material.
        External = "EXTERNAL",
        /// Generated in the CloudHSM cluster of a custom key store.
        AwsCloudhsm = "AWS_CLOUDHSM",
        /// Backed by a key in an external key store.
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
    unsupported {}
}

wire_enum! {
    /// Who manages a key (`KeyManagerType`).
    pub enum KeyManager {
        /// An AWS managed key.
        Aws = "AWS",
        /// A customer managed key.
        Customer = "CUSTOMER",
    }
    unsupported {}
}

wire_enum! {
    /// Whether Sign and Verify hash the message (`MessageType`). `EXTERNAL_MU` (an ML-DSA
    /// message representative computed by the caller) is not offered by coffer.
    pub enum MessageType {
        /// KMS hashes the message.
        Raw = "RAW",
        /// The message is already a digest.
        Digest = "DIGEST",
    }
    unsupported {
        "EXTERNAL_MU" => NotImplemented,
    }
}

wire_enum! {
    /// The RSA public key GetParametersForImport returns for wrapping (`WrappingKeySpec`).
    /// `SM2` is China-Regions-only.
    pub enum WrappingKeySpec {
        /// 2048-bit RSA wrapping key.
        Rsa2048 = "RSA_2048",
        /// 3072-bit RSA wrapping key.
        Rsa3072 = "RSA_3072",
        /// 4096-bit RSA wrapping key.
        Rsa4096 = "RSA_4096",
    }
    unsupported {
        "SM2" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// Wrapping algorithms for imported key material (`AlgorithmSpec`). `SM2PKE` is
    /// China-Regions-only.
    pub enum AlgorithmSpec {
        /// RSAES-PKCS1-v1_5. In the model, but "As of October 10, 2023, KMS does not support"
        /// it (GetParametersForImport); see [`AlgorithmSpec::is_supported`].
        RsaesPkcs1V15 = "RSAES_PKCS1_V1_5",
        /// RSAES-OAEP with SHA-1.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// AES key wrap under an RSAES-OAEP-SHA-1-wrapped AES key.
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        /// AES key wrap under an RSAES-OAEP-SHA-256-wrapped AES key.
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
    }
    unsupported {
        "SM2PKE" => ChinaRegionsOnly,
    }
}

wire_enum! {
    /// Whether a multi-Region key is the primary or a replica (`MultiRegionKeyType`).
    pub enum MultiRegionKeyType {
        /// The primary key.
        Primary = "PRIMARY",
        /// A replica key.
        Replica = "REPLICA",
    }
    unsupported {}
}

wire_enum! {
    /// Whether imported key material expires (`ExpirationModelType`).
    pub enum ExpirationModel {
        /// The material expires at `ValidTo`.
        KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
        /// The material does not expire.
        KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
    unsupported {}
}

wire_enum! {
    /// The operations a grant can allow (`GrantOperation`). Every model value is allowed in a
    /// grant; which of them a given key supports is [`grant_operations`].
    pub enum GrantOperation {
        /// Decrypt.
        Decrypt = "Decrypt",
        /// Encrypt.
        Encrypt = "Encrypt",
        /// GenerateDataKey.
        GenerateDataKey = "GenerateDataKey",
        /// GenerateDataKeyWithoutPlaintext.
        GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
        /// ReEncrypt, with this key as the source.
        ReEncryptFrom = "ReEncryptFrom",
        /// ReEncrypt, with this key as the destination.
        ReEncryptTo = "ReEncryptTo",
        /// Sign.
        Sign = "Sign",
        /// Verify.
        Verify = "Verify",
        /// GetPublicKey.
        GetPublicKey = "GetPublicKey",
        /// CreateGrant.
        CreateGrant = "CreateGrant",
        /// RetireGrant.
        RetireGrant = "RetireGrant",
        /// DescribeKey.
        DescribeKey = "DescribeKey",
        /// GenerateDataKeyPair.
        GenerateDataKeyPair = "GenerateDataKeyPair",
        /// GenerateDataKeyPairWithoutPlaintext.
        GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
        /// GenerateMac.
        GenerateMac = "GenerateMac",
        /// VerifyMac.
        VerifyMac = "VerifyMac",
        /// DeriveSharedSecret.
        DeriveSharedSecret = "DeriveSharedSecret",
    }
    unsupported {}
}

wire_enum! {
    /// The key state of a KMS key (`KeyState`). See [`crate::ops::state_check`].
    pub enum KeyState {
        /// A multi-Region replica being created (transient).
        Creating = "Creating",
        /// Usable.
        Enabled = "Enabled",
        /// Disabled by DisableKey (or after CancelKeyDeletion).
        Disabled = "Disabled",
        /// Scheduled for deletion.
        PendingDeletion = "PendingDeletion",
        /// Waiting for (re)imported key material.
        PendingImport = "PendingImport",
        /// A multi-Region primary scheduled for deletion while replicas remain.
        PendingReplicaDeletion = "PendingReplicaDeletion",
        /// A key in a disconnected custom key store.
        Unavailable = "Unavailable",
        /// A multi-Region key whose primary Region is changing (transient).
        Updating = "Updating",
    }
    unsupported {}
}

wire_enum! {
    /// How a key material rotation happened (`RotationType`, in ListKeyRotations).
    pub enum RotationType {
        /// Scheduled automatic rotation.
        Automatic = "AUTOMATIC",
        /// RotateKeyOnDemand.
        OnDemand = "ON_DEMAND",
    }
    unsupported {}
}

wire_enum! {
    /// Whether ImportKeyMaterial brings new or previously imported material (`ImportType`).
    pub enum ImportType {
        /// New key material (symmetric keys only, for on-demand rotation).
        NewKeyMaterial = "NEW_KEY_MATERIAL",
        /// Key material already associated with the key.
        ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
    }
    unsupported {}
}

wire_enum! {
    /// Import state of one key material (`ImportState`, in ListKeyRotations).
    pub enum ImportState {
        /// Imported.
        Imported = "IMPORTED",
        /// Not (or no longer) imported.
        PendingImport = "PENDING_IMPORT",
    }
    unsupported {}
}

wire_enum! {
    /// State of one key material (`KeyMaterialState`, in ListKeyRotations).
    pub enum KeyMaterialState {
        /// An older material, used only to decrypt.
        NonCurrent = "NON_CURRENT",
        /// The material used to encrypt.
        Current = "CURRENT",
        /// Imported material waiting for RotateKeyOnDemand.
        PendingRotation = "PENDING_ROTATION",
        /// Multi-Region primary material waiting for the replicas' imports and a rotation.
        PendingMultiRegionImportAndRotation = "PENDING_MULTI_REGION_IMPORT_AND_ROTATION",
    }
    unsupported {}
}

wire_enum! {
    /// Which key materials ListKeyRotations returns (`IncludeKeyMaterial`).
    pub enum IncludeKeyMaterial {
        /// Every material, including the first and imported ones pending rotation.
        AllKeyMaterial = "ALL_KEY_MATERIAL",
        /// Only materials created by rotations (the default).
        RotationsOnly = "ROTATIONS_ONLY",
    }
    unsupported {}
}

/// Why a request member's value is refused although the model lists it (`SM2`,
/// `EXTERNAL_MU`, ...), or `None` when coffer offers it or the member carries no such enum.
///
/// The members are those of the KMS requests whose enums hold values coffer refuses. Model
/// validation runs first, so an unknown value never reaches here; this answers for the
/// model's own values, which must fail with `UnsupportedOperationException`, not as a
/// malformed body.
pub fn refused_value(member: &str, value: &str) -> Option<ParseEnumError> {
    fn check<E: std::str::FromStr<Err = ParseEnumError>>(value: &str) -> Option<ParseEnumError> {
        match value.parse::<E>() {
            Err(
                e @ (ParseEnumError::ChinaRegionsOnly { .. }
                | ParseEnumError::NotImplemented { .. }),
            ) => Some(e),
            _ => None,
        }
    }
    match member {
        "KeySpec" | "CustomerMasterKeySpec" => check::<KeySpec>(value),
        "EncryptionAlgorithm" | "SourceEncryptionAlgorithm" | "DestinationEncryptionAlgorithm" => {
            check::<EncryptionAlgorithm>(value)
        }
        "SigningAlgorithm" => check::<SigningAlgorithm>(value),
        "KeyPairSpec" => check::<DataKeyPairSpec>(value),
        "MessageType" => check::<MessageType>(value),
        "WrappingKeySpec" => check::<WrappingKeySpec>(value),
        "WrappingAlgorithm" => check::<AlgorithmSpec>(value),
        _ => None,
    }
}

impl KeySpec {
    /// Whether this is the symmetric encryption spec.
    pub const fn is_symmetric_encryption(self) -> bool {
        matches!(self, KeySpec::SymmetricDefault)
    }

    /// Whether this is an HMAC spec.
    pub const fn is_hmac(self) -> bool {
        matches!(
            self,
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512
        )
    }

    /// Whether this is an asymmetric (key pair) spec.
    pub const fn is_asymmetric(self) -> bool {
        !self.is_symmetric_encryption() && !self.is_hmac()
    }

    /// The RSA modulus size in bits, for RSA specs.
    pub const fn rsa_bits(self) -> Option<u32> {
        match self {
            KeySpec::Rsa2048 => Some(2048),
            KeySpec::Rsa3072 => Some(3072),
            KeySpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// Whether this is a NIST prime-curve spec (the ones that allow KEY_AGREEMENT).
    pub const fn is_ecc_nist_prime(self) -> bool {
        matches!(
            self,
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521
        )
    }

    /// The key usages the spec permits, in the order the CreateKey `KeyUsage` documentation
    /// lists them.
    pub const fn permitted_usages(self) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match self {
            KeySpec::SymmetricDefault => &[EncryptDecrypt],
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                &[GenerateVerifyMac]
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[EncryptDecrypt, SignVerify],
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => {
                &[SignVerify, KeyAgreement]
            }
            KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87 => &[SignVerify],
        }
    }

    /// The usage CreateKey assumes when `KeyUsage` is omitted. Only the symmetric encryption
    /// spec has one: "This parameter is optional when you are creating a symmetric encryption
    /// KMS key; otherwise, it is required" (CreateKey), even for HMAC keys whose only usage
    /// is GENERATE_VERIFY_MAC.
    pub const fn default_usage(self) -> Option<KeyUsage> {
        match self {
            KeySpec::SymmetricDefault => Some(KeyUsage::EncryptDecrypt),
            _ => None,
        }
    }

    /// Whether the spec permits `usage`.
    pub fn permits(self, usage: KeyUsage) -> bool {
        self.permitted_usages().contains(&usage)
    }

    /// The HMAC key length in bits for HMAC specs (the number in the spec's name).
    pub const fn hmac_key_bits(self) -> Option<u32> {
        match self {
            KeySpec::Hmac224 => Some(224),
            KeySpec::Hmac256 => Some(256),
            KeySpec::Hmac384 => Some(384),
            KeySpec::Hmac512 => Some(512),
            _ => None,
        }
    }

    /// The MAC algorithm an HMAC spec uses ("HMAC keys in AWS KMS": key spec table).
    pub const fn mac_algorithm(self) -> Option<MacAlgorithm> {
        match self {
            KeySpec::Hmac224 => Some(MacAlgorithm::HmacSha224),
            KeySpec::Hmac256 => Some(MacAlgorithm::HmacSha256),
            KeySpec::Hmac384 => Some(MacAlgorithm::HmacSha384),
            KeySpec::Hmac512 => Some(MacAlgorithm::HmacSha512),
            _ => None,
        }
    }
}

/// Why CreateKey's KeySpec/KeyUsage pair is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyUsageError {
    /// `KeyUsage` omitted for a spec that has no default. AWS: `ValidationException` "You
    /// must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    #[error("KeyUsage is required for key spec {0}")]
    Missing(KeySpec),
    /// The spec does not permit the usage.
    #[error("key usage {usage} is not permitted for key spec {spec}")]
    Incompatible {
        /// The requested spec.
        spec: KeySpec,
        /// The requested usage.
        usage: KeyUsage,
    },
}

/// The usage a new key gets from CreateKey's optional `KeyUsage`.
pub fn resolve_key_usage(
    spec: KeySpec,
    usage: Option<KeyUsage>,
) -> Result<KeyUsage, KeyUsageError> {
    match usage {
        None => spec.default_usage().ok_or(KeyUsageError::Missing(spec)),
        Some(usage) if spec.permits(usage) => Ok(usage),
        Some(usage) => Err(KeyUsageError::Incompatible { spec, usage }),
    }
}

/// Whether CreateKey accepts `origin` for `spec`: custom key stores (AWS_CLOUDHSM,
/// EXTERNAL_KEY_STORE) hold only symmetric encryption keys ("The KeySpec value must be
/// SYMMETRIC_DEFAULT", CreateKey `Origin`); AWS_KMS and EXTERNAL accept every spec (imported
/// material is supported for every key type, "Importing key material for AWS KMS keys").
pub const fn origin_permits_spec(origin: Origin, spec: KeySpec) -> bool {
    match origin {
        Origin::AwsKms | Origin::External => true,
        Origin::AwsCloudhsm | Origin::ExternalKeyStore => spec.is_symmetric_encryption(),
    }
}

/// The `EncryptionAlgorithms` DescribeKey returns for a key, in AWS's order (CreateKey and
/// GetPublicKey examples in `examples-1.json`). Empty unless the usage is ENCRYPT_DECRYPT.
pub const fn encryption_algorithms(
    spec: KeySpec,
    usage: KeyUsage,
) -> &'static [EncryptionAlgorithm] {
    use EncryptionAlgorithm::*;
    match (spec, usage) {
        (KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt) => &[SymmetricDefault],
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, KeyUsage::EncryptDecrypt) => {
            &[RsaesOaepSha1, RsaesOaepSha256]
        }
        _ => &[],
    }
}

/// The `SigningAlgorithms` DescribeKey returns for a key, in AWS's order. For RSA the order
/// is PKCS#1 v1.5 then PSS, as in the DescribeKey example "To get details about an RSA
/// asymmetric KMS key". Empty unless the usage is SIGN_VERIFY.
pub const fn signing_algorithms(spec: KeySpec, usage: KeyUsage) -> &'static [SigningAlgorithm] {
    use SigningAlgorithm::*;
    if !matches!(usage, KeyUsage::SignVerify) {
        return &[];
    }
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
            RsassaPkcs1V15Sha256,
            RsassaPkcs1V15Sha384,
            RsassaPkcs1V15Sha512,
            RsassaPssSha256,
            RsassaPssSha384,
            RsassaPssSha512,
        ],
        KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
        KeySpec::EccNistP384 => &[EcdsaSha384],
        KeySpec::EccNistP521 => &[EcdsaSha512],
        KeySpec::EccNistEdwards25519 => &[Ed25519Sha512, Ed25519PhSha512],
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
        _ => &[],
    }
}

/// The `MacAlgorithms` DescribeKey returns for a key. Empty unless the usage is
/// GENERATE_VERIFY_MAC.
pub const fn mac_algorithms(spec: KeySpec, usage: KeyUsage) -> &'static [MacAlgorithm] {
    use MacAlgorithm::*;
    match (spec, usage) {
        (KeySpec::Hmac224, KeyUsage::GenerateVerifyMac) => &[HmacSha224],
        (KeySpec::Hmac256, KeyUsage::GenerateVerifyMac) => &[HmacSha256],
        (KeySpec::Hmac384, KeyUsage::GenerateVerifyMac) => &[HmacSha384],
        (KeySpec::Hmac512, KeyUsage::GenerateVerifyMac) => &[HmacSha512],
        _ => &[],
    }
}

/// The `KeyAgreementAlgorithms` DescribeKey returns for a key. Empty unless the usage is
/// KEY_AGREEMENT ("The only valid value is ECDH", DeriveSharedSecret).
pub const fn key_agreement_algorithms(
    spec: KeySpec,
    usage: KeyUsage,
) -> &'static [KeyAgreementAlgorithm] {
    match usage {
        KeyUsage::KeyAgreement if spec.is_ecc_nist_prime() => &[KeyAgreementAlgorithm::Ecdh],
        _ => &[],
    }
}

impl SigningAlgorithm {
    /// The digest length in bytes a DIGEST message must have. `None` for pure Ed25519 and
    /// ML-DSA, which accept no DIGEST message (Sign, `MessageType`).
    pub const fn digest_len(self) -> Option<usize> {
        use SigningAlgorithm::*;
        match self {
            RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 => Some(32),
            RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => Some(48),
            RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519PhSha512 => Some(64),
            Ed25519Sha512 | MlDsaShake256 => None,
        }
    }

    /// Whether Sign and Verify accept `message_type` with this algorithm: "ED25519_SHA_512
    /// signing algorithm requires KMS MessageType:RAW; ED25519_PH_SHA_512 signing algorithm
    /// requires KMS MessageType:DIGEST" (Sign, `MessageType`); ML-DSA takes RAW or
    /// EXTERNAL_MU, never DIGEST, and coffer offers RAW only; the others take either.
    pub const fn accepts_message_type(self, message_type: MessageType) -> bool {
        match self {
            SigningAlgorithm::Ed25519Sha512 | SigningAlgorithm::MlDsaShake256 => {
                matches!(message_type, MessageType::Raw)
            }
            SigningAlgorithm::Ed25519PhSha512 => matches!(message_type, MessageType::Digest),
            _ => true,
        }
    }
}

/// Whether `algorithm` is one the key's spec supports for signing (SIGN_VERIFY keys).
pub fn signing_algorithm_valid(spec: KeySpec, algorithm: SigningAlgorithm) -> bool {
    signing_algorithms(spec, KeyUsage::SignVerify).contains(&algorithm)
}

/// Whether `algorithm` is one the key's spec supports for encryption (ENCRYPT_DECRYPT keys).
pub fn encryption_algorithm_valid(spec: KeySpec, algorithm: EncryptionAlgorithm) -> bool {
    encryption_algorithms(spec, KeyUsage::EncryptDecrypt).contains(&algorithm)
}

/// The largest plaintext Encrypt accepts for a key spec and algorithm, in bytes ("Encrypt":
/// SYMMETRIC_DEFAULT 4096; RSA_2048 OAEP-SHA-1 214, OAEP-SHA-256 190; RSA_3072 342, 318;
/// RSA_4096 470, 446). `None` when the pair is not an encryption pair.
pub const fn max_plaintext_len(spec: KeySpec, algorithm: EncryptionAlgorithm) -> Option<usize> {
    use EncryptionAlgorithm::*;
    match (spec, algorithm) {
        (KeySpec::SymmetricDefault, SymmetricDefault) => Some(limits::PLAINTEXT_MAX),
        (KeySpec::Rsa2048, RsaesOaepSha1) => Some(214),
        (KeySpec::Rsa2048, RsaesOaepSha256) => Some(190),
        (KeySpec::Rsa3072, RsaesOaepSha1) => Some(342),
        (KeySpec::Rsa3072, RsaesOaepSha256) => Some(318),
        (KeySpec::Rsa4096, RsaesOaepSha1) => Some(470),
        (KeySpec::Rsa4096, RsaesOaepSha256) => Some(446),
        _ => None,
    }
}

/// Whether a key supports a rotation kind.
///
/// Automatic rotation: "supported only on symmetric encryption KMS keys. You cannot enable
/// automatic rotation of asymmetric KMS keys, HMAC KMS keys, KMS keys with imported key
/// material, or KMS keys in a custom key store" (EnableKeyRotation).
///
/// On-demand rotation: "supported only on symmetric encryption KMS keys. You cannot perform
/// on-demand rotation of asymmetric KMS keys, HMAC KMS keys, or KMS keys in a custom key
/// store", and a symmetric key with imported material may rotate on demand once new material
/// is imported in PENDING_ROTATION state (RotateKeyOnDemand). So EXTERNAL origin qualifies
/// for on-demand only.
pub const fn key_spec_supports_rotation(spec: KeySpec, origin: Origin, kind: RotationType) -> bool {
    if !spec.is_symmetric_encryption() {
        return false;
    }
    match kind {
        RotationType::Automatic => matches!(origin, Origin::AwsKms),
        RotationType::OnDemand => matches!(origin, Origin::AwsKms | Origin::External),
    }
}

/// Whether a key can hold imported key material: only EXTERNAL origin keys, of any spec
/// ("Importing key material for AWS KMS keys"; GetParametersForImport: "The Origin of the KMS
/// key must be EXTERNAL. All KMS key types are supported").
pub const fn supports_imported_key_material(origin: Origin) -> bool {
    matches!(origin, Origin::External)
}

/// Whether ImportKeyMaterial may bring NEW_KEY_MATERIAL into a key: "For asymmetric and HMAC
/// keys, you cannot change the key material after the initial import. You can import multiple
/// key materials into symmetric encryption keys" (ImportKeyMaterial).
pub const fn supports_new_key_material(spec: KeySpec) -> bool {
    spec.is_symmetric_encryption()
}

impl AlgorithmSpec {
    /// Whether KMS still accepts the wrapping algorithm (RSAES_PKCS1_V1_5 was withdrawn on
    /// October 10, 2023, GetParametersForImport).
    pub const fn is_supported(self) -> bool {
        !matches!(self, AlgorithmSpec::RsaesPkcs1V15)
    }

    /// Whether the algorithm can wrap key material of `material` under a `wrapping` key, per
    /// GetParametersForImport `WrappingAlgorithm`: RSA private keys need an RSA_AES algorithm,
    /// and RSAES_OAEP with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 material.
    pub const fn can_wrap(self, wrapping: WrappingKeySpec, material: KeySpec) -> bool {
        match self {
            AlgorithmSpec::RsaesPkcs1V15 => false,
            AlgorithmSpec::RsaAesKeyWrapSha1 | AlgorithmSpec::RsaAesKeyWrapSha256 => true,
            AlgorithmSpec::RsaesOaepSha1 | AlgorithmSpec::RsaesOaepSha256 => {
                material.rsa_bits().is_none()
                    && !(matches!(wrapping, WrappingKeySpec::Rsa2048)
                        && matches!(material, KeySpec::EccNistP521))
            }
        }
    }
}

impl WrappingKeySpec {
    /// The RSA modulus size in bits.
    pub const fn rsa_bits(self) -> u32 {
        match self {
            WrappingKeySpec::Rsa2048 => 2048,
            WrappingKeySpec::Rsa3072 => 3072,
            WrappingKeySpec::Rsa4096 => 4096,
        }
    }
}

impl DataKeySpec {
    /// The data key length in bytes.
    pub const fn len_bytes(self) -> usize {
        match self {
            DataKeySpec::Aes128 => 16,
            DataKeySpec::Aes256 => 32,
        }
    }
}

impl DataKeyPairSpec {
    /// The key spec with the same key pair type (for shared key generation code).
    pub const fn key_spec(self) -> KeySpec {
        match self {
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::EccNistP521 => KeySpec::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => KeySpec::EccSecgP256k1,
            DataKeyPairSpec::EccNistEdwards25519 => KeySpec::EccNistEdwards25519,
        }
    }
}

/// The length range, in bytes, of HMAC key material ImportKeyMaterial accepts for an HMAC
/// spec (developer guide "Importing key material", key material requirements: HMAC_224 28-64,
/// HMAC_256 32-64, HMAC_384 48-128, HMAC_512 64-128; the same figures appear in LocalStack).
pub const fn hmac_import_len(spec: KeySpec) -> Option<(usize, usize)> {
    match spec {
        KeySpec::Hmac224 => Some((28, 64)),
        KeySpec::Hmac256 => Some((32, 64)),
        KeySpec::Hmac384 => Some((48, 128)),
        KeySpec::Hmac512 => Some((64, 128)),
        _ => None,
    }
}

/// The length, in bytes, of the HMAC key material KMS generates for an HMAC spec (the spec's
/// key length, "Key spec reference").
pub const fn hmac_key_len(spec: KeySpec) -> Option<usize> {
    match spec.hmac_key_bits() {
        Some(bits) => Some(bits as usize / 8),
        None => None,
    }
}

/// The grant operations a key supports, in the model's order. CreateGrant refuses others
/// with a `ValidationException` ("Grants in AWS KMS": "The grant operations that you allow
/// must be supported by the KMS key in the grant ... grants for symmetric encryption KMS keys
/// cannot allow the Sign, Verify, GenerateMac or VerifyMac operations. Grants for asymmetric
/// KMS keys cannot allow any operations that generate data keys or data key pairs").
/// CreateGrant, RetireGrant and DescribeKey are valid for every key, and are all a (spec,
/// usage) pair the spec does not permit supports; GetPublicKey is valid for every asymmetric
/// key.
pub fn grant_operations(spec: KeySpec, usage: KeyUsage) -> &'static [GrantOperation] {
    use GrantOperation::*;
    if !spec.permits(usage) {
        return &[CreateGrant, RetireGrant, DescribeKey];
    }
    match (spec.is_symmetric_encryption(), spec.is_hmac(), usage) {
        (true, _, KeyUsage::EncryptDecrypt) => &[
            Decrypt,
            Encrypt,
            GenerateDataKey,
            GenerateDataKeyWithoutPlaintext,
            ReEncryptFrom,
            ReEncryptTo,
            CreateGrant,
            RetireGrant,
            DescribeKey,
            GenerateDataKeyPair,
            GenerateDataKeyPairWithoutPlaintext,
        ],
        (false, false, KeyUsage::EncryptDecrypt) => &[
            Decrypt,
            Encrypt,
            ReEncryptFrom,
            ReEncryptTo,
            GetPublicKey,
            CreateGrant,
            RetireGrant,
            DescribeKey,
        ],
        (false, false, KeyUsage::SignVerify) => &[
            Sign,
            Verify,
            GetPublicKey,
            CreateGrant,
            RetireGrant,
            DescribeKey,
        ],
        (false, false, KeyUsage::KeyAgreement) => &[
            GetPublicKey,
            CreateGrant,
            RetireGrant,
            DescribeKey,
            DeriveSharedSecret,
        ],
        (false, true, KeyUsage::GenerateVerifyMac) => &[
            CreateGrant,
            RetireGrant,
            DescribeKey,
            GenerateMac,
            VerifyMac,
        ],
        _ => &[CreateGrant, RetireGrant, DescribeKey],
    }
}

/// Whether a key supports `operation` in a grant.
pub fn grant_operation_valid(spec: KeySpec, usage: KeyUsage, operation: GrantOperation) -> bool {
    grant_operations(spec, usage).contains(&operation)
}

/// Numeric limits from the botocore model and the operation documentation.
pub mod limits {
    use core::ops::RangeInclusive;

    /// `NumberOfBytes` of GenerateDataKey(WithoutPlaintext) and GenerateRandom
    /// (`NumberOfBytesType`, min 1 max 1024).
    pub const NUMBER_OF_BYTES: RangeInclusive<u32> = 1..=1024;
    /// Largest Encrypt plaintext, and Sign/GenerateMac message (`PlaintextType`, max 4096).
    pub const PLAINTEXT_MAX: usize = 4096;
    /// Largest ciphertext blob (`CiphertextType`, max 6144).
    pub const CIPHERTEXT_MAX: usize = 6144;
    /// Largest DeriveSharedSecret public key (`PublicKeyType`, max 8192).
    pub const PUBLIC_KEY_MAX: usize = 8192;
    /// `RotationPeriodInDays` (`RotationPeriodInDaysType`, min 90 max 2560).
    pub const ROTATION_PERIOD_DAYS: RangeInclusive<u32> = 90..=2560;
    /// Rotation period when EnableKeyRotation omits it ("the default value is 365 days").
    pub const ROTATION_PERIOD_DEFAULT_DAYS: u32 = 365;
    /// `PendingWindowInDays` KMS accepts: "If you include a value, it must be between 7 and
    /// 30, inclusive" (ScheduleKeyDeletion). The model's type is wider, see below.
    pub const PENDING_WINDOW_DAYS: RangeInclusive<u32> = 7..=30;
    /// `PendingWindowInDaysType` in the model (min 1 max 365), checked before the 7-30 rule.
    pub const PENDING_WINDOW_MODEL_DAYS: RangeInclusive<u32> = 1..=365;
    /// Waiting period when ScheduleKeyDeletion omits it ("it defaults to 30").
    pub const PENDING_WINDOW_DEFAULT_DAYS: u32 = 30;
    /// "You can perform on-demand key rotation a maximum of 25 times per KMS key"
    /// (RotateKeyOnDemand); the next one fails with `LimitExceededException`.
    pub const ON_DEMAND_ROTATIONS_PER_KEY: u32 = 25;
    /// Grant tokens per request (`GrantTokenList`, max 10).
    pub const GRANT_TOKENS_MAX: usize = 10;
    /// Alias name length (`AliasNameType`, 1-256, pattern `^[a-zA-Z0-9:/_-]+$`).
    pub const ALIAS_NAME_LEN: RangeInclusive<usize> = 1..=256;
    /// Grant name length (`GrantNameType`, 1-256).
    pub const GRANT_NAME_LEN: RangeInclusive<usize> = 1..=256;
    /// Key description length (`DescriptionType`, 0-8192).
    pub const DESCRIPTION_MAX: usize = 8192;
    /// Tag key length (`TagKeyType`, 1-128).
    pub const TAG_KEY_LEN: RangeInclusive<usize> = 1..=128;
    /// Tag value length (`TagValueType`, 0-256).
    pub const TAG_VALUE_MAX: usize = 256;
    /// Key policy size KMS enforces (32 KB, "Resource quotas"; the model's `PolicyType` allows
    /// more). Larger policies fail with `LimitExceededException` (PutKeyPolicy).
    pub const KEY_POLICY_MAX: usize = 32_768;
    /// Encryption-context pairs in one grant constraint ("Each constraint value can include up
    /// to 8 encryption context pairs", CreateGrant `Constraints`).
    pub const GRANT_CONSTRAINT_PAIRS_MAX: usize = 8;
    /// Characters in one grant-constraint encryption context value ("cannot exceed 384
    /// characters", CreateGrant `Constraints`).
    pub const GRANT_CONSTRAINT_VALUE_MAX: usize = 384;
    /// `Limit` range of the List* operations (`LimitType`, 1-1000).
    pub const LIST_LIMIT: RangeInclusive<u32> = 1..=1000;
    /// Hours a GetParametersForImport public key and import token stay valid ("Each public key
    /// and import token set is valid for 24 hours").
    pub const IMPORT_PARAMETERS_VALID_HOURS: u32 = 24;
}

#[cfg(test)]
mod tests;
