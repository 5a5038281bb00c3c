//! Finding the key a caller names, and deciding whether the caller may use it.
//!
//! Authorization is AWS's: the key policy is the resource policy in `Required` mode (it
//! must allow, directly or by delegating to the account so IAM policies count), explicit
//! denies win, and a grant on the key can lift an implicit denial for the operations it
//! lists when its constraints hold. Then the key-state table decides whether the
//! operation may run in the key's current state.

use super::KmsError;
use super::store::{self, AliasRecord, GrantRecord, KeyRecord, KeyRef};
use crate::api::Call;
use crate::authz::{self, Ask, AuthzError, Conditions, ResourcePolicy};
use crate::record_cache::RecordCache;
use coffer_kms::context::EncryptionContext;
use coffer_kms::messages;
use coffer_kms::ops::Operation;
use coffer_policy::{KeysUsed, PolicyDocument, PolicyKind, ResourcePolicyMode};
use coffer_storage::Txn;
use coffer_types::AccountId;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A resolved key and how the caller named it.
pub struct Resolved {
    /// Shared with the key cache: the cryptographic operations only read it.
    pub key: Arc<KeyRecord>,
    pub named: KeyRef,
    /// The parsed key policy, when the key came from the cache (parsed once per load).
    policy: Option<Arc<PolicyDocument>>,
}

/// A key record as the cryptographic operations use it, kept in [`KeyCache`].
pub struct LoadedKey {
    record: Arc<KeyRecord>,
    policy: Arc<PolicyDocument>,
}

/// Recently used keys by storage key: Encrypt, Decrypt, GenerateDataKey and the other
/// read-only uses of a key skip the record's decode and its policy's parse. Writes to
/// `kms_keys` on this node invalidate it at once; see `crate::record_cache` for the bound
/// on staleness across nodes. Operations that change a key never read it from here.
pub type KeyCache = RecordCache<LoadedKey>;

fn not_found_key(region: &str, account: AccountId, key_id: &str) -> KmsError {
    messages::key_not_found(&store::key_arn(region, account, key_id)).into()
}

fn invalid_key_id(s: &str) -> KmsError {
    messages::invalid_key_id(s).into()
}

/// Resolves `KeyId` as the caller wrote it, reading the key record from storage (as every
/// operation that may change the key must). `aliases` is false for the operations that
/// accept only a key id or key ARN.
pub fn resolve(
    call: &Call<'_>,
    t: &mut dyn Txn,
    key_id: &str,
    aliases: bool,
) -> Result<Resolved, KmsError> {
    resolve_with(call, t, key_id, aliases, false)
}

/// [`resolve`] for operations that only use the key: the record may come from the
/// [`KeyCache`].
pub fn resolve_for_use(
    call: &Call<'_>,
    t: &mut dyn Txn,
    key_id: &str,
    aliases: bool,
) -> Result<Resolved, KmsError> {
    resolve_with(call, t, key_id, aliases, true)
}

fn resolve_with(
    call: &Call<'_>,
    t: &mut dyn Txn,
    key_id: &str,
    aliases: bool,
    cached: bool,
) -> Result<Resolved, KmsError> {
    let named = store::parse_key_ref(key_id).ok_or_else(|| invalid_key_id(key_id))?;
    if named.is_alias() && !aliases {
        return Err(invalid_key_id(key_id));
    }
    let region = call.ctx.region.as_str();
    let me = call.ctx.principal.account;
    let (region, account, id) = match &named {
        KeyRef::Id(id) => (region.to_owned(), me, id.clone()),
        KeyRef::Arn {
            region: r,
            account,
            key_id,
        } => (r.clone(), *account, key_id.clone()),
        KeyRef::AliasName(name) => {
            let a = alias_target(t, region, me, name)?;
            (region.to_owned(), me, a.target_key_id)
        }
        KeyRef::AliasArn {
            region: r,
            account,
            name,
        } => {
            let a = alias_target(t, r, *account, name)?;
            (r.clone(), *account, a.target_key_id)
        }
    };
    // A key ARN naming another region is not a key of this regional endpoint.
    if region != call.ctx.region.as_str() {
        return Err(messages::invalid_arn_region(&region).into());
    }
    let storage_key = store::key_storage_key(&region, account, &id);
    let (key, policy) = if cached {
        let loaded = load_cached(call, t, &storage_key)?
            .ok_or_else(|| not_found_key(&region, account, &id))?;
        (Arc::clone(&loaded.record), Some(Arc::clone(&loaded.policy)))
    } else {
        let key: KeyRecord = store::get(t, store::KEYS, &storage_key)?
            .ok_or_else(|| not_found_key(&region, account, &id))?;
        (Arc::new(key), None)
    };
    Ok(Resolved { key, named, policy })
}

/// The key at `storage_key` from the cache, or from storage (then cached).
fn load_cached(
    call: &Call<'_>,
    t: &mut dyn Txn,
    storage_key: &str,
) -> Result<Option<Arc<LoadedKey>>, KmsError> {
    let now = call.state.clock.now();
    call.state.kms_keys.get_or_load(storage_key, now, || {
        let Some(record) = store::get::<KeyRecord>(t, store::KEYS, storage_key)? else {
            return Ok(None);
        };
        let policy = Arc::new(parse_policy(&record.policy)?);
        Ok(Some(LoadedKey {
            record: Arc::new(record),
            policy,
        }))
    })
}

fn parse_policy(policy: &str) -> Result<PolicyDocument, KmsError> {
    coffer_policy::parse_with(policy, PolicyKind::Resource)
        .map_err(|e| KmsError::Internal(format!("stored key policy does not parse: {e}")))
}

/// The alias record `name` of an account and region, or AWS's NotFoundException.
pub fn alias_target(
    t: &mut dyn Txn,
    region: &str,
    account: AccountId,
    name: &str,
) -> Result<AliasRecord, KmsError> {
    store::get(
        t,
        store::ALIASES,
        &store::alias_storage_key(region, account, name),
    )?
    .ok_or_else(|| messages::alias_not_found(&store::alias_arn(region, account, name)).into())
}

/// What the request carries that conditions and grant constraints look at.
#[derive(Default)]
pub struct Request<'a> {
    pub context: Option<&'a EncryptionContext>,
    /// Extra `kms:*` condition keys for this operation.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// Authorizes `op` on `key` for the caller.
pub fn authorize(
    call: &Call<'_>,
    t: &mut dyn Txn,
    r: &Resolved,
    op: Operation,
    req: &Request<'_>,
) -> Result<(), KmsError> {
    authorize_as(call, t, r, op.action(), op.as_str(), req)
}

/// Authorizes an IAM action that is not named after its operation (ReEncrypt needs
/// `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the destination);
/// `grant_op` is the grant operation that covers it.
pub fn authorize_as(
    call: &Call<'_>,
    t: &mut dyn Txn,
    r: &Resolved,
    action: &str,
    grant_op: &str,
    req: &Request<'_>,
) -> Result<(), KmsError> {
    let key = &r.key;
    let arn = key.arn();
    let ask = Ask {
        action,
        resource: &arn,
        extra: &|used| condition_keys(call, r, req, used),
    };
    let parsed;
    let doc = match &r.policy {
        Some(p) => p.as_ref(),
        None => {
            parsed = parse_policy(&key.policy)?;
            &parsed
        }
    };
    let rp = ResourcePolicy {
        document: doc,
        owner: key.account,
        mode: ResourcePolicyMode::Required,
    };
    match authz::check(call, t, &ask, Some(rp)) {
        Ok(()) => Ok(()),
        Err(AuthzError::Denied(d)) if !d.explicit => {
            if grant_allows(call, t, key, grant_op, req.context)? {
                Ok(())
            } else {
                Err(KmsError::AccessDenied(kms_denied(call, action, &arn)))
            }
        }
        Err(AuthzError::Denied(_)) => Err(KmsError::AccessDenied(kms_denied(call, action, &arn))),
        Err(e) => Err(e.into()),
    }
}

/// AWS KMS's AccessDeniedException wording.
fn kms_denied(call: &Call<'_>, action: &str, arn: &str) -> String {
    format!(
        "User: {} is not authorized to perform: {action} on resource: {arn} because no resource-based policy allows the {action} action",
        call.ctx.principal.arn,
    )
}

/// The KMS condition keys of a request, those that `used` (the policies in play) can read.
fn condition_keys(call: &Call<'_>, r: &Resolved, req: &Request<'_>, used: &KeysUsed) -> Conditions {
    let key = &r.key;
    let mut c = Vec::new();
    let mut put = |name: &str, value: &dyn Fn() -> Vec<String>| {
        if used.wants(name) {
            c.push((name.to_owned(), value()));
        }
    };
    put("kms:CallerAccount", &|| {
        vec![call.ctx.principal.account.to_string()]
    });
    put("kms:KeySpec", &|| vec![key.spec.as_str().to_owned()]);
    put("kms:KeyUsage", &|| vec![key.usage.as_str().to_owned()]);
    put("kms:KeyOrigin", &|| vec![key.origin.as_str().to_owned()]);
    put("kms:MultiRegion", &|| {
        vec![key.is_multi_region().to_string()]
    });
    if let Some(via) = call.via_service {
        put("kms:ViaService", &|| vec![via.to_owned()]);
    }
    if let Some(alias) = r.named.alias_name() {
        put("kms:RequestAlias", &|| vec![alias.to_owned()]);
    }
    // A key named after each tag or context entry is formatted only if some policy reads
    // that family: the AWS-managed keys' policies read kms:ViaService and kms:CallerAccount.
    if used.wants_any_under("aws:ResourceTag/") {
        for (k, v) in &key.tags {
            put(&format!("aws:ResourceTag/{k}"), &|| vec![v.clone()]);
        }
    }
    if let Some(ctx) = req.context {
        if used.wants_any_under("kms:EncryptionContext:") {
            for (k, v) in ctx {
                put(&format!("kms:EncryptionContext:{k}"), &|| vec![v.clone()]);
            }
        }
        put("kms:EncryptionContextKeys", &|| {
            ctx.keys().cloned().collect()
        });
    }
    for (k, v) in &req.conditions {
        put(k, &|| v.clone());
    }
    c
}

/// Whether the caller is this grant's grantee (a role's grant covers its sessions).
pub fn is_principal(call: &Call<'_>, who: &str) -> bool {
    let p = &call.ctx.principal;
    who == p.arn
        || p.role_arn.as_deref() == Some(who)
        || (who == format!("arn:aws:iam::{}:root", p.account)
            && p.kind == coffer_types::PrincipalKind::Root)
}

fn grant_allows(
    call: &Call<'_>,
    t: &mut dyn Txn,
    key: &KeyRecord,
    grant_op: &str,
    ctx: Option<&EncryptionContext>,
) -> Result<bool, KmsError> {
    let prefix = format!("{}/", key.storage_key());
    let grants: Vec<(String, GrantRecord)> =
        store::scan(t, store::GRANTS, &prefix, None, usize::MAX)?;
    Ok(grants.iter().any(|(_, g)| {
        is_principal(call, &g.grantee)
            && g.operations.iter().any(|o| o == grant_op)
            && constraints_hold(g, ctx)
    }))
}

/// `EncryptionContextEquals` needs the exact context; `EncryptionContextSubset` needs
/// every listed pair to be present. Operations without a context satisfy neither.
fn constraints_hold(g: &GrantRecord, ctx: Option<&EncryptionContext>) -> bool {
    let empty = EncryptionContext::new();
    let ctx = ctx.unwrap_or(&empty);
    // "In a grant constraint, the key in each key-value pair is not case sensitive, but
    // the value is case sensitive" (AWS's GrantConstraints reference).
    let lowered: BTreeMap<String, &String> =
        ctx.iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    let all_present = |c: &EncryptionContext| {
        c.iter()
            .all(|(k, v)| lowered.get(&k.to_lowercase()) == Some(&v))
    };
    if let Some(eq) = &g.context_equals
        && !(eq.len() == ctx.len() && all_present(eq))
    {
        return false;
    }
    if let Some(sub) = &g.context_subset
        && !all_present(sub)
    {
        return false;
    }
    true
}

/// Applies the key-state table: may `op` run while the key is in its current state?
pub fn check_state(key: &KeyRecord, op: Operation) -> Result<(), KmsError> {
    coffer_kms::ops::state_check(op, key.state)
        .map_err(|e| messages::state_error(e, &key.arn()).into())
}

/// Grant tokens coffer issues: a fixed prefix and 43 base64url characters (32 random
/// bytes). Grants take effect at once in coffer, so a valid token adds no permission;
/// a malformed one is refused as AWS refuses it.
pub const GRANT_TOKEN_PREFIX: &str = "cfgt1";

pub fn check_grant_tokens(tokens: &[String]) -> Result<(), KmsError> {
    let valid = |t: &String| {
        t.strip_prefix(GRANT_TOKEN_PREFIX).is_some_and(|rest| {
            rest.len() == 43
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    match tokens.iter().find(|t| !valid(t)) {
        Some(_) => Err(KmsError::InvalidGrantToken("Invalid grant token".into())),
        None => Ok(()),
    }
}
