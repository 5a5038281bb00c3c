//! KMS (awsJson1.1, `X-Amz-Target: TrentService.<Op>`).
//!
//! Layout: `store` (records and key-name resolution), `material` (generation and sealing of
//! key material), `access` (key policy + grants authorization, key-state gate), `metadata`
//! (KeyMetadata output), and one module per group of operations. The pure domain rules
//! (specs, algorithms, the key-state table, the ciphertext blob) live in `coffer-kms`.

mod access;
mod aliases;
mod crypto;
mod error;
mod grants;
mod import;
pub mod internal;
pub mod jobs;
mod keys;
mod managed;
mod material;
mod metadata;
mod policy;
mod replicate;
mod rotation;
pub mod store;
mod tags;
mod wire;

pub use access::KeyCache;
pub use error::KmsError;
pub use internal::{OnBehalf, ServiceDataKey};
pub use managed::managed_key;

use crate::api::{ApiInput, AuditInfo, Call, JsonService, Outcome, Service, json_call};
use coffer_kms::ops::Operation;
use coffer_wire::Protocol;
use serde_json::Value;

pub struct Kms;

pub const TARGET_PREFIX: &str = "TrentService";

impl Service for Kms {
    fn signing_name(&self) -> &'static str {
        "kms"
    }
    fn event_source(&self) -> &'static str {
        "kms.amazonaws.com"
    }
    fn protocol(&self) -> Protocol {
        Protocol::AwsJson11
    }
    fn json_target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        json_call(self, call, input)
    }
}

impl JsonService for Kms {
    type Operation = Operation;
    type Input = Value;
    type Error = KmsError;
    fn operation(name: &str) -> Option<Operation> {
        name.parse().ok()
    }
    fn read_only(op: Operation) -> bool {
        op.read_only()
    }
    fn model() -> Option<&'static coffer_wire::model::ServiceModel> {
        Some(coffer_wire::model::kms())
    }
    /// Parses the body and validates it against the KMS model (lengths, patterns, ranges
    /// and enums, every violation reported at once), then refuses what the model allows and
    /// coffer does not offer (see [`refuse_unsupported_members`]), before any work is done.
    fn decode(op: Operation, body: &[u8]) -> Result<Value, KmsError> {
        let input = coffer_wire::model::kms().decode(op.as_str(), body)?;
        refuse_unsupported_members(&input)?;
        Ok(input)
    }
    /// Routes a validated input to its handler. Every operation of the API has an arm.
    fn dispatch(
        call: &Call<'_>,
        op: Operation,
        i: Value,
        audit: &mut AuditInfo,
    ) -> Result<Value, KmsError> {
        use Operation as O;
        match op {
            O::CreateKey => keys::create_key(call, wire::typed(i)?, audit),
            O::DescribeKey => keys::describe_key(call, wire::typed(i)?, audit),
            O::ListKeys => keys::list_keys(call, wire::typed(i)?, audit),
            O::UpdateKeyDescription => keys::update_description(call, wire::typed(i)?, audit),
            O::EnableKey => keys::set_enabled(call, op, wire::typed(i)?, audit),
            O::DisableKey => keys::set_enabled(call, op, wire::typed(i)?, audit),
            O::ScheduleKeyDeletion => keys::schedule_deletion(call, wire::typed(i)?, audit),
            O::CancelKeyDeletion => keys::cancel_deletion(call, wire::typed(i)?, audit),
            O::GetKeyLastUsage => keys::last_usage(call, wire::typed(i)?, audit),
            O::Encrypt => crypto::encrypt(call, wire::typed(i)?, audit),
            O::Decrypt => crypto::decrypt(call, wire::typed(i)?, audit),
            O::ReEncrypt => crypto::re_encrypt(call, wire::typed(i)?, audit),
            O::GenerateDataKey | O::GenerateDataKeyWithoutPlaintext => {
                crypto::generate_data_key(call, op, wire::typed(i)?, audit)
            }
            O::GenerateDataKeyPair | O::GenerateDataKeyPairWithoutPlaintext => {
                crypto::generate_data_key_pair(call, op, wire::typed(i)?, audit)
            }
            O::GenerateRandom => crypto::generate_random(call, wire::typed(i)?, audit),
            O::Sign => crypto::sign(call, wire::typed(i)?, audit),
            O::Verify => crypto::verify(call, wire::typed(i)?, audit),
            O::GenerateMac => crypto::generate_mac(call, wire::typed(i)?, audit),
            O::VerifyMac => crypto::verify_mac(call, wire::typed(i)?, audit),
            O::GetPublicKey => crypto::get_public_key(call, wire::typed(i)?, audit),
            O::DeriveSharedSecret => crypto::derive_shared_secret(call, wire::typed(i)?, audit),
            O::EnableKeyRotation => rotation::enable(call, wire::typed(i)?, audit),
            O::DisableKeyRotation => rotation::disable(call, wire::typed(i)?, audit),
            O::GetKeyRotationStatus => rotation::status(call, wire::typed(i)?, audit),
            O::RotateKeyOnDemand => rotation::on_demand(call, wire::typed(i)?, audit),
            O::ListKeyRotations => rotation::list(call, wire::typed(i)?, audit),
            O::CreateAlias => aliases::create(call, wire::typed(i)?, audit),
            O::UpdateAlias => aliases::update(call, wire::typed(i)?, audit),
            O::DeleteAlias => aliases::delete(call, wire::typed(i)?, audit),
            O::ListAliases => aliases::list(call, wire::typed(i)?, audit),
            O::GetKeyPolicy => policy::get(call, wire::typed(i)?, audit),
            O::PutKeyPolicy => policy::put(call, wire::typed(i)?, audit),
            O::ListKeyPolicies => policy::list(call, wire::typed(i)?, audit),
            O::CreateGrant => grants::create(call, wire::typed(i)?, audit),
            O::ListGrants => grants::list(call, wire::typed(i)?, audit),
            O::ListRetirableGrants => grants::list_retirable(call, wire::typed(i)?, audit),
            O::RetireGrant => grants::retire(call, wire::typed(i)?, audit),
            O::RevokeGrant => grants::revoke(call, wire::typed(i)?, audit),
            O::TagResource => tags::tag(call, wire::typed(i)?, audit),
            O::UntagResource => tags::untag(call, wire::typed(i)?, audit),
            O::ListResourceTags => tags::list(call, wire::typed(i)?, audit),
            O::ReplicateKey => replicate::replicate(call, wire::typed(i)?, audit),
            O::UpdatePrimaryRegion => replicate::update_primary(call, wire::typed(i)?, audit),
            O::GetParametersForImport => import::get_parameters(call, wire::typed(i)?, audit),
            O::ImportKeyMaterial => import::import(call, wire::typed(i)?, audit),
            O::DeleteImportedKeyMaterial => import::delete(call, wire::typed(i)?, audit),
            O::CreateCustomKeyStore
            | O::ConnectCustomKeyStore
            | O::DeleteCustomKeyStore
            | O::DescribeCustomKeyStores
            | O::DisconnectCustomKeyStore
            | O::UpdateCustomKeyStore => keys::custom_key_store(call, op, i, audit),
        }
    }
}

/// Fails on the first top-level member the model allows and coffer does not offer (every
/// such member of the KMS requests is top-level):
///
/// - `Recipient` (Decrypt, GenerateDataKey, GenerateDataKeyPair, GenerateRandom,
///   DeriveSharedSecret) asks KMS to encrypt its answer to the public key in a Nitro
///   Enclaves attestation document and to leave the plaintext out. coffer cannot verify such
///   a document (it runs no enclaves and holds no Nitro root of trust), so it refuses the
///   request rather than return in plaintext what the caller asked to keep off the network.
/// - Enum values the model lists and coffer refuses (the China-Regions-only SM family,
///   ML-DSA's `EXTERNAL_MU`; see [`coffer_kms::spec::refused_value`]) fail with
///   `UnsupportedOperationException`, as AWS answers outside the Regions that offer them.
fn refuse_unsupported_members(input: &Value) -> Result<(), KmsError> {
    let Value::Object(members) = input else {
        return Ok(());
    };
    if members.contains_key("Recipient") {
        return Err(coffer_kms::messages::recipient_not_supported().into());
    }
    for (member, value) in members {
        if let Value::String(value) = value
            && let Some(e) = coffer_kms::spec::refused_value(member, value)
            && let Some(refusal) = coffer_kms::messages::refused(member, &e)
        {
            return Err(refusal.into());
        }
    }
    Ok(())
}
