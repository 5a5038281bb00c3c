//! Identities and credentials: accounts, IAM users and roles, access keys, STS sessions.
//!
//! Secret access keys are stored sealed under the barrier's IAM-secrets key with the
//! access key id as associated data, so a sealed secret cannot be moved to another key
//! record. Session tokens are stored only as SHA-256 hashes.
//!
//! Tables (keys are `/`-joined; IAM names are case-insensitive, so they are lower-cased):
//! `iam_accounts` acct · `iam_keys` akid · `iam_users` acct/user · `iam_user_keys`
//! acct/user/akid · `iam_user_policies` acct/user/policy · `iam_roles` acct/role ·
//! `iam_role_policies` acct/role/policy.

use crate::barrier::{Barrier, Purpose};
use crate::records;
use coffer_storage::{StorageError, Txn};
use coffer_types::{AccountId, Principal, PrincipalKind};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::OffsetDateTime;
use zeroize::Zeroizing;

const ACCOUNTS: &str = "iam_accounts";
/// Access keys by id. Writes to it invalidate the credential cache.
pub(crate) const KEYS: &str = "iam_keys";
const USERS: &str = "iam_users";
const USER_KEYS: &str = "iam_user_keys";
const USER_POLICIES: &str = "iam_user_policies";
const ROLES: &str = "iam_roles";
const ROLE_POLICIES: &str = "iam_role_policies";

/// AWS allows two access keys per user.
pub const MAX_KEYS_PER_USER: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("The {kind} with name {name} cannot be found.")]
    NotFound { kind: &'static str, name: String },
    #[error("{kind} with name {name} already exists.")]
    AlreadyExists { kind: &'static str, name: String },
    #[error("Cannot exceed quota for AccessKeysPerUser: 2")]
    TooManyKeys,
    #[error("Cannot delete entity, must delete {what} first.")]
    DeleteConflict { what: &'static str },
    #[error("stored record is corrupt")]
    Corrupt,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: AccountId,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub account: AccountId,
    pub name: String,
    pub path: String,
    pub user_id: String,
    pub created: OffsetDateTime,
}

impl UserRecord {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account, self.path, self.name
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleRecord {
    pub account: AccountId,
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub created: OffsetDateTime,
}

impl RoleRecord {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account, self.path, self.name
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub name: String,
    pub document: String,
}

/// Who an access key belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KeyOwner {
    Root,
    User {
        name: String,
        user_id: String,
        path: String,
    },
    Session(SessionRecord),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub role_name: String,
    pub role_path: String,
    pub role_id: String,
    pub session_name: String,
    pub expires: OffsetDateTime,
    /// Hex SHA-256 of the session token; the token itself is never stored.
    pub token_sha256: String,
    /// The session policy passed to AssumeRole, if any: it further limits the role.
    pub session_policy: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub account: AccountId,
    pub owner: KeyOwner,
    pub active: bool,
    pub created: OffsetDateTime,
    pub sealed_secret: Vec<u8>,
}

/// A credential resolved for authentication.
pub struct Credential {
    pub record: KeyRecord,
    pub secret: Zeroizing<String>,
    pub principal: Principal,
}

/// Freshly minted access key material, returned to the caller once.
pub struct NewKey {
    pub access_key_id: String,
    pub secret: Zeroizing<String>,
    pub created: OffsetDateTime,
}

fn get_json<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    key: &str,
) -> Result<Option<T>, IdentityError> {
    records::get(t, table, key)
}

fn put_json<T: Serialize>(
    t: &mut dyn Txn,
    table: &str,
    key: &str,
    v: &T,
) -> Result<(), IdentityError> {
    records::put(t, table, key, v)
}

fn scan_json<T: DeserializeOwned>(
    t: &mut dyn Txn,
    table: &str,
    prefix: &str,
) -> Result<Vec<(String, T)>, IdentityError> {
    records::scan(t, table, prefix, None, usize::MAX)
}

/// A record that does not decode: the identity store is damaged.
impl From<records::RecordFault> for IdentityError {
    fn from(_: records::RecordFault) -> Self {
        IdentityError::Corrupt
    }
}

fn user_key(acct: &AccountId, name: &str) -> String {
    format!("{acct}/{}", name.to_ascii_lowercase())
}

/// Upper-case base32 characters, as AWS uses in access key ids and unique ids.
pub fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes = coffer_crypto::random_bytes(len);
    let mut s = String::with_capacity(prefix.len() + len);
    s.push_str(prefix);
    s.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    s
}

/// A 40-character secret access key (240 bits of entropy), in AWS's base64-like alphabet.
fn random_secret() -> Zeroizing<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = Zeroizing::new(coffer_crypto::random_bytes(40));
    Zeroizing::new(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 63)]))
            .collect(),
    )
}

pub fn ensure_account(
    t: &mut dyn Txn,
    id: AccountId,
    now: OffsetDateTime,
) -> Result<bool, IdentityError> {
    if get_json::<AccountRecord>(t, ACCOUNTS, id.as_str())?.is_some() {
        return Ok(false);
    }
    put_json(
        t,
        ACCOUNTS,
        id.as_str(),
        &AccountRecord { id, created: now },
    )?;
    Ok(true)
}

pub fn account_exists(t: &mut dyn Txn, id: AccountId) -> Result<bool, IdentityError> {
    Ok(get_json::<AccountRecord>(t, ACCOUNTS, id.as_str())?.is_some())
}

pub fn list_accounts(t: &mut dyn Txn) -> Result<Vec<AccountRecord>, IdentityError> {
    Ok(scan_json(t, ACCOUNTS, "")?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// Stores a key with a caller-chosen id and secret (used for `--dev`'s `test`/`test`).
pub fn put_fixed_key(
    t: &mut dyn Txn,
    barrier: &Barrier,
    akid: &str,
    secret: &str,
    account: AccountId,
    owner: KeyOwner,
    now: OffsetDateTime,
) -> Result<(), IdentityError> {
    let rec = KeyRecord {
        account,
        owner,
        active: true,
        created: now,
        sealed_secret: barrier.seal(Purpose::IamSecrets, akid.as_bytes(), secret.as_bytes()),
    };
    put_json(t, KEYS, akid, &rec)
}

/// Mints an access key for the owner. `prefix` is `AKIA` for long-term keys, `ASIA` for sessions.
pub fn create_key(
    t: &mut dyn Txn,
    barrier: &Barrier,
    account: AccountId,
    owner: KeyOwner,
    now: OffsetDateTime,
) -> Result<NewKey, IdentityError> {
    let prefix = if matches!(owner, KeyOwner::Session(_)) {
        "ASIA"
    } else {
        "AKIA"
    };
    let akid = random_id(prefix, 16);
    let secret = random_secret();
    if let KeyOwner::User { name, .. } = &owner {
        let prefix = format!("{}/", user_key(&account, name));
        if t.scan(USER_KEYS, prefix.as_bytes(), None, MAX_KEYS_PER_USER + 1)?
            .len()
            >= MAX_KEYS_PER_USER
        {
            return Err(IdentityError::TooManyKeys);
        }
        t.put(USER_KEYS, format!("{prefix}{akid}").as_bytes(), b"")?;
    }
    put_fixed_key(t, barrier, &akid, &secret, account, owner, now)?;
    Ok(NewKey {
        access_key_id: akid,
        secret,
        created: now,
    })
}

pub fn get_key(t: &mut dyn Txn, akid: &str) -> Result<Option<KeyRecord>, IdentityError> {
    get_json(t, KEYS, akid)
}

/// Resolves an access key id to its secret and principal, or `None` if unknown.
pub fn resolve(
    t: &mut dyn Txn,
    barrier: &Barrier,
    akid: &str,
) -> Result<Option<Credential>, IdentityError> {
    let Some(record) = get_key(t, akid)? else {
        return Ok(None);
    };
    let secret = barrier
        .open(Purpose::IamSecrets, akid.as_bytes(), &record.sealed_secret)
        .map_err(|_| IdentityError::Corrupt)?;
    let secret =
        Zeroizing::new(String::from_utf8(secret.to_vec()).map_err(|_| IdentityError::Corrupt)?);
    let principal = principal_for(akid, &record);
    Ok(Some(Credential {
        record,
        secret,
        principal,
    }))
}

pub fn principal_for(akid: &str, rec: &KeyRecord) -> Principal {
    let acct = rec.account;
    let (kind, arn, user_id, role_arn, user_name) = match &rec.owner {
        KeyOwner::Root => (
            PrincipalKind::Root,
            format!("arn:aws:iam::{acct}:root"),
            acct.to_string(),
            None,
            None,
        ),
        KeyOwner::User {
            name,
            user_id,
            path,
        } => (
            PrincipalKind::IamUser,
            format!("arn:aws:iam::{acct}:user{path}{name}"),
            user_id.clone(),
            None,
            Some(name.clone()),
        ),
        KeyOwner::Session(s) => (
            PrincipalKind::AssumedRole,
            format!(
                "arn:aws:sts::{acct}:assumed-role/{}/{}",
                s.role_name, s.session_name
            ),
            format!("{}:{}", s.role_id, s.session_name),
            Some(format!(
                "arn:aws:iam::{acct}:role{}{}",
                s.role_path, s.role_name
            )),
            None,
        ),
    };
    Principal {
        kind,
        account: acct,
        arn,
        user_id,
        access_key_id: akid.into(),
        role_arn,
        user_name,
    }
}

pub fn create_user(
    t: &mut dyn Txn,
    acct: AccountId,
    name: &str,
    path: &str,
    now: OffsetDateTime,
) -> Result<UserRecord, IdentityError> {
    let key = user_key(&acct, name);
    if get_json::<UserRecord>(t, USERS, &key)?.is_some() {
        return Err(IdentityError::AlreadyExists {
            kind: "User",
            name: name.into(),
        });
    }
    let rec = UserRecord {
        account: acct,
        name: name.into(),
        path: path.into(),
        user_id: random_id("AIDA", 17),
        created: now,
    };
    put_json(t, USERS, &key, &rec)?;
    Ok(rec)
}

pub fn get_user(t: &mut dyn Txn, acct: AccountId, name: &str) -> Result<UserRecord, IdentityError> {
    get_json(t, USERS, &user_key(&acct, name))?.ok_or_else(|| IdentityError::NotFound {
        kind: "user",
        name: name.into(),
    })
}

/// AWS refuses to delete a user that still has access keys or policies.
pub fn delete_user(t: &mut dyn Txn, acct: AccountId, name: &str) -> Result<(), IdentityError> {
    let key = user_key(&acct, name);
    get_user(t, acct, name)?;
    let prefix = format!("{key}/");
    if !t.scan(USER_KEYS, prefix.as_bytes(), None, 1)?.is_empty() {
        return Err(IdentityError::DeleteConflict {
            what: "access keys",
        });
    }
    if !t
        .scan(USER_POLICIES, prefix.as_bytes(), None, 1)?
        .is_empty()
    {
        return Err(IdentityError::DeleteConflict { what: "policies" });
    }
    t.delete(USERS, key.as_bytes())?;
    Ok(())
}

pub fn list_user_keys(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
) -> Result<Vec<(String, KeyRecord)>, IdentityError> {
    let prefix = format!("{}/", user_key(&acct, user));
    let mut out = Vec::new();
    for (k, _) in t.scan(USER_KEYS, prefix.as_bytes(), None, usize::MAX)? {
        let akid = String::from_utf8(k.get(prefix.len()..).unwrap_or_default().to_vec())
            .map_err(|_| IdentityError::Corrupt)?;
        if let Some(rec) = get_key(t, &akid)? {
            out.push((akid, rec));
        }
    }
    Ok(out)
}

pub fn delete_user_key(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
    akid: &str,
) -> Result<(), IdentityError> {
    let idx = format!("{}/{akid}", user_key(&acct, user));
    if !t.delete(USER_KEYS, idx.as_bytes())? {
        return Err(IdentityError::NotFound {
            kind: "Access Key",
            name: akid.into(),
        });
    }
    t.delete(KEYS, akid.as_bytes())?;
    Ok(())
}

pub fn delete_key(t: &mut dyn Txn, akid: &str) -> Result<bool, IdentityError> {
    Ok(t.delete(KEYS, akid.as_bytes())?)
}

pub fn put_user_policy(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
    p: &PolicyRecord,
) -> Result<(), IdentityError> {
    get_user(t, acct, user)?;
    put_json(
        t,
        USER_POLICIES,
        &format!("{}/{}", user_key(&acct, user), p.name),
        p,
    )
}

pub fn get_user_policy(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
    name: &str,
) -> Result<PolicyRecord, IdentityError> {
    get_user(t, acct, user)?;
    get_json(
        t,
        USER_POLICIES,
        &format!("{}/{name}", user_key(&acct, user)),
    )?
    .ok_or_else(|| IdentityError::NotFound {
        kind: "user policy",
        name: name.into(),
    })
}

pub fn delete_user_policy(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
    name: &str,
) -> Result<(), IdentityError> {
    get_user(t, acct, user)?;
    if !t.delete(
        USER_POLICIES,
        format!("{}/{name}", user_key(&acct, user)).as_bytes(),
    )? {
        return Err(IdentityError::NotFound {
            kind: "user policy",
            name: name.into(),
        });
    }
    Ok(())
}

pub fn user_policies(
    t: &mut dyn Txn,
    acct: AccountId,
    user: &str,
) -> Result<Vec<PolicyRecord>, IdentityError> {
    let prefix = format!("{}/", user_key(&acct, user));
    Ok(scan_json(t, USER_POLICIES, &prefix)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

pub fn create_role(t: &mut dyn Txn, rec: RoleRecord) -> Result<RoleRecord, IdentityError> {
    let key = user_key(&rec.account, &rec.name);
    if get_json::<RoleRecord>(t, ROLES, &key)?.is_some() {
        return Err(IdentityError::AlreadyExists {
            kind: "Role",
            name: rec.name,
        });
    }
    put_json(t, ROLES, &key, &rec)?;
    Ok(rec)
}

pub fn get_role(t: &mut dyn Txn, acct: AccountId, name: &str) -> Result<RoleRecord, IdentityError> {
    get_json(t, ROLES, &user_key(&acct, name))?.ok_or_else(|| IdentityError::NotFound {
        kind: "role",
        name: name.into(),
    })
}

pub fn put_role_policy(
    t: &mut dyn Txn,
    acct: AccountId,
    role: &str,
    p: &PolicyRecord,
) -> Result<(), IdentityError> {
    get_role(t, acct, role)?;
    put_json(
        t,
        ROLE_POLICIES,
        &format!("{}/{}", user_key(&acct, role), p.name),
        p,
    )
}

pub fn role_policies(
    t: &mut dyn Txn,
    acct: AccountId,
    role: &str,
) -> Result<Vec<PolicyRecord>, IdentityError> {
    let prefix = format!("{}/", user_key(&acct, role));
    Ok(scan_json(t, ROLE_POLICIES, &prefix)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// The policy documents that apply to a principal's own identity (not resource policies).
pub fn identity_policies(
    t: &mut dyn Txn,
    p: &Principal,
    rec: &KeyRecord,
) -> Result<Vec<String>, IdentityError> {
    let docs = match &rec.owner {
        KeyOwner::Root => Vec::new(),
        KeyOwner::User { name, .. } => user_policies(t, p.account, name)?,
        KeyOwner::Session(s) => role_policies(t, p.account, &s.role_name)?,
    };
    Ok(docs.into_iter().map(|d| d.document).collect())
}

/// Removes session keys that expired before `now`; returns how many.
pub fn purge_expired_sessions(
    store: &dyn coffer_storage::Storage,
    now: OffsetDateTime,
) -> Result<usize, IdentityError> {
    coffer_storage::write(store, |t| {
        let mut gone = 0;
        for (k, v) in scan_json::<KeyRecord>(t, KEYS, "ASIA")? {
            if matches!(&v.owner, KeyOwner::Session(s) if s.expires <= now) {
                t.delete(KEYS, k.as_bytes())?;
                gone += 1;
            }
        }
        Ok(gone)
    })
}
