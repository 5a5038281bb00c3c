//! AWS managed keys (`alias/aws/<service>`): created by coffer's services on first use,
//! with `KeyManager: AWS` and a key policy that lets principals of the account use the key
//! only through that service (`kms:ViaService`), as AWS's managed keys do.

use super::store::{self, AliasRecord, KeyRecord, KeyRef, KeyVersion, Rotation};
use super::{KmsError, material};
use crate::api::Call;
use crate::barrier::Barrier;
use coffer_kms::spec::{KeyManager, KeySpec, KeyState, KeyUsage, Origin};
use coffer_storage::Txn;
use coffer_types::AccountId;
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// The managed aliases coffer's services use; ListAliases shows them before they exist.
pub const SERVICE_ALIASES: &[&str] = &[
    "alias/aws/backup",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
];

/// AWS rotates managed keys every year; so does coffer.
const MANAGED_ROTATION_DAYS: u32 = 365;

fn managed_policy(service: &str, account: AccountId, region: &str) -> String {
    let via = format!("{service}.{region}.amazonaws.com");
    let doc = json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{service}-2"),
        "Statement": [
            {
                "Sid": format!("Allow access through {service} for all principals in the account that are authorized to use {service}"),
                "Effect": "Allow",
                "Principal": { "AWS": "*" },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": { "StringEquals": {
                    "kms:CallerAccount": account.to_string(),
                    "kms:ViaService": via,
                } }
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The managed key of `service` (e.g. `secretsmanager`) in an account and region,
/// created with its alias on first use.
pub fn managed_key(
    t: &mut dyn Txn,
    barrier: &Barrier,
    account: AccountId,
    region: &str,
    service: &str,
    now: OffsetDateTime,
) -> Result<KeyRecord, KmsError> {
    let alias = format!("alias/aws/{service}");
    let ask = store::alias_storage_key(region, account, &alias);
    if let Some(a) = store::get::<AliasRecord>(t, store::ALIASES, &ask)? {
        let sk = store::key_storage_key(region, account, &a.target_key_id);
        if let Some(k) = store::get::<KeyRecord>(t, store::KEYS, &sk)? {
            return Ok(k);
        }
    }
    let key_id = uuid::Uuid::new_v4().to_string();
    let m = material::generate(KeySpec::SymmetricDefault)?;
    let key = KeyRecord {
        key_id: key_id.clone(),
        account,
        region: region.to_owned(),
        description: format!(
            "Default key that protects my {service} data when no other key is defined"
        ),
        spec: KeySpec::SymmetricDefault,
        usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        manager: KeyManager::Aws,
        state: KeyState::Enabled,
        created: now,
        deletion_date: None,
        pending_window_days: None,
        policy: managed_policy(service, account, region),
        tags: Vec::new(),
        rotation: Rotation {
            enabled: true,
            period_days: MANAGED_ROTATION_DAYS,
            next: Some(now + Duration::days(i64::from(MANAGED_ROTATION_DAYS))),
        },
        on_demand_rotations: Vec::new(),
        versions: vec![KeyVersion {
            version: 1,
            material_id: material::material_id(account, &key_id, 1),
            created: now,
            rotation_type: None,
            sealed: Some(material::seal(barrier, account, &key_id, 1, &m)),
            fingerprint: None,
        }],
        multi_region: None,
        valid_to: None,
    };
    store::put_key(t, &key)?;
    store::put(
        t,
        store::ALIASES,
        &ask,
        &AliasRecord {
            name: alias,
            target_key_id: key_id,
            created: now,
            updated: now,
        },
    )?;
    Ok(key)
}

/// The service whose predefined alias (`alias/aws/<service>`, one of [`SERVICE_ALIASES`])
/// `key_id` names in the caller's account and region, by alias name or alias ARN.
fn predefined_service(call: &Call<'_>, key_id: &str) -> Option<&'static str> {
    let name = match store::parse_key_ref(key_id)? {
        KeyRef::AliasName(name) => name,
        KeyRef::AliasArn {
            region,
            account,
            name,
        } if region == call.ctx.region.as_str() && account == call.ctx.principal.account => name,
        _ => return None,
    };
    SERVICE_ALIASES
        .iter()
        .find(|a| **a == name)
        .and_then(|a| a.strip_prefix("alias/aws/"))
}

/// DescribeKey on a predefined AWS alias that has no key yet creates the AWS managed key
/// and points the alias at it, as AWS documents (services call DescribeKey to do this).
pub fn create_if_predefined(call: &Call<'_>, key_id: &str) -> Result<(), KmsError> {
    let Some(service) = predefined_service(call, key_id) else {
        return Ok(());
    };
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let ask = store::alias_storage_key(region, account, &format!("alias/aws/{service}"));
    let store = call.state.store.as_ref();
    let exists = coffer_storage::read(store, |t| {
        store::get::<AliasRecord>(t, store::ALIASES, &ask)
    })?
    .is_some();
    if !exists {
        let now = call.state.clock.now();
        coffer_storage::write(store, |t| {
            managed_key(t, &call.state.barrier, account, region, service, now)
        })?;
    }
    Ok(())
}
