//! Versions and staging labels: GetSecretValue, BatchGetSecretValue, PutSecretValue,
//! ListSecretVersionIds, UpdateSecretVersionStage, and the version writing that
//! CreateSecret, UpdateSecret and rotation share.

use super::access::{self, cond};
use super::error::{KMS_DENIED, SmError, invalid_param, not_found};
use super::replication;
use super::secrets::{self, Filter};
use super::store::{self, CURRENT, PENDING, PREVIOUS, SealedValue, SecretRecord, VersionMeta};
use super::values::{self, SecretBytes, SecretText, SecretValue};
use super::wire::{epoch, epoch_day};
use crate::api::{AuditInfo, Call};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

/// AWS keeps at most this many versions; older deprecated ones are removed.
const MAX_VERSIONS: usize = 100;
/// Staging labels one version may carry.
const MAX_STAGES: usize = 20;

/// Moves `stages` onto version `vid`, as AWS does: a label lives on one version at a time,
/// and the version losing AWSCURRENT receives AWSPREVIOUS.
pub fn attach_stages(s: &mut SecretRecord, vid: &str, stages: &[String]) {
    for stage in stages {
        let holder = s
            .with_stage(stage)
            .map(|v| v.id.clone())
            .filter(|h| h != vid);
        if let Some(h) = &holder {
            remove_stage(s, h, stage);
            if stage == CURRENT {
                for v in &mut s.versions {
                    v.stages.retain(|x| x != PREVIOUS);
                }
                if let Some(old) = s.version_mut(h) {
                    old.stages.push(PREVIOUS.into());
                }
            }
        }
        if let Some(v) = s.version_mut(vid)
            && !v.stages.contains(stage)
        {
            v.stages.push(stage.clone());
        }
    }
}

fn remove_stage(s: &mut SecretRecord, vid: &str, stage: &str) {
    if let Some(v) = s.version_mut(vid) {
        v.stages.retain(|x| x != stage);
    }
}

/// Deprecated versions (no label) beyond the 100-version limit are removed, oldest first,
/// but never one created in the last 24 hours. Returns the removed ids.
pub fn cleanup(s: &mut SecretRecord, now: OffsetDateTime) -> Vec<String> {
    let mut removed = Vec::new();
    while s.versions.len() > MAX_VERSIONS {
        let Some(pos) = s
            .versions
            .iter()
            .position(|v| v.stages.is_empty() && now - v.created >= Duration::hours(24))
        else {
            break;
        };
        removed.push(s.versions.remove(pos).id);
    }
    removed
}

/// A new version for a secret the caller already loaded and was authorized for.
pub struct NewVersion<'a> {
    pub token: Option<String>,
    pub value: &'a SecretValue,
    pub stages: Vec<String>,
}

/// Writes a version: idempotent on the token (same token and value: nothing changes;
/// same token, other value: ResourceExistsException). The value is encrypted before the
/// write transaction (KMS runs its own), and the record is re-read inside it.
pub fn write_version(
    call: &Call<'_>,
    snapshot: &SecretRecord,
    nv: NewVersion<'_>,
    audit: &mut AuditInfo,
) -> Result<(SecretRecord, String), SmError> {
    let vid = nv
        .token
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if snapshot.version(&vid).is_some() {
        let existing = read_value(call, snapshot, &vid, audit)?;
        if existing.same_as(nv.value) {
            return Ok((snapshot.clone(), vid));
        }
        return Err(exists_version());
    }
    if snapshot.account != call.ctx.principal.account && snapshot.kms_key_arn.is_none() {
        return Err(SmError::AccessDenied(KMS_DENIED.into()));
    }
    let arn = snapshot.arn();
    let (sealed, key_arn) = values::seal(
        call,
        snapshot.kms_key_arn.as_deref(),
        &arn,
        &vid,
        nv.value,
        audit,
    )?;
    let now = call.state.clock.now();
    let key = snapshot.storage_key();
    let updated = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s: SecretRecord = store::get(t, store::SECRETS, &key)?
            .filter(|s: &SecretRecord| s.suffix == snapshot.suffix)
            .ok_or_else(not_found)?;
        access::not_deleted(&s)?;
        if s.version(&vid).is_some() {
            return Err(exists_version());
        }
        let first = s.versions.is_empty();
        s.versions.push(VersionMeta {
            id: vid.clone(),
            stages: Vec::new(),
            created: now,
            last_accessed: None,
            key_arn: key_arn.clone(),
        });
        attach_stages(&mut s, &vid, &nv.stages);
        if first {
            // A secret's first version is AWSCURRENT whatever labels were asked for.
            attach_stages(&mut s, &vid, &[CURRENT.to_owned()]);
        }
        s.last_changed = now;
        for gone in cleanup(&mut s, now) {
            t.delete(store::VERSIONS, s.version_key(&gone).as_bytes())?;
        }
        store::put(t, store::VERSIONS, &s.version_key(&vid), &sealed)?;
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    replication::sync(call, &updated, audit)?;
    Ok((updated, vid))
}

fn exists_version() -> SmError {
    SmError::ResourceExists(
        "You can't modify an existing version, you can only create a new version.".into(),
    )
}

/// Decrypts version `vid` of `s`.
pub fn read_value(
    call: &Call<'_>,
    s: &SecretRecord,
    vid: &str,
    audit: &mut AuditInfo,
) -> Result<SecretValue, SmError> {
    let key = s.version_key(vid);
    let (cache, now) = (&call.state.sm_reads.values, call.state.clock.now());
    let sealed = cache
        .get_or_load(&key, now, || {
            coffer_storage::read(call.state.store.as_ref(), |t| {
                store::get::<SealedValue>(t, store::VERSIONS, &key)
            })
        })?
        .ok_or_else(|| SmError::Internal(format!("version {vid} has no value")))?;
    values::open(call, &s.arn(), vid, &sealed, audit)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetInput {
    secret_id: String,
    version_id: Option<String>,
    version_stage: Option<String>,
}

/// Which version a (VersionId, VersionStage) pair names; AWSCURRENT by default.
fn pick_version<'a>(
    s: &'a SecretRecord,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<&'a VersionMeta, SmError> {
    match (version_id, stage) {
        (Some(id), stage) => {
            let v = s.version(id).ok_or_else(|| {
                SmError::ResourceNotFound(format!(
                    "Secrets Manager can't find the specified secret value for VersionId: {id}"
                ))
            })?;
            if let Some(st) = stage
                && !v.stages.iter().any(|x| x == st)
            {
                return Err(invalid_param(
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                ));
            }
            Ok(v)
        }
        (None, stage) => {
            let st = stage.unwrap_or(CURRENT);
            s.with_stage(st).ok_or_else(|| {
                SmError::ResourceNotFound(format!(
                    "Secrets Manager can't find the specified secret value for staging label: {st}"
                ))
            })
        }
    }
}

fn value_conditions(version_id: Option<&str>, stage: Option<&str>) -> access::Conditions {
    let mut c = Vec::new();
    if let Some(v) = version_id {
        c.push(cond("secretsmanager:VersionId", v));
    }
    c.push(cond(
        "secretsmanager:VersionStage",
        stage.unwrap_or(CURRENT),
    ));
    c
}

/// One secret's value for the caller: loads, authorizes, decrypts, notes the access.
fn get_one(
    call: &Call<'_>,
    secret_id: &str,
    version_id: Option<&str>,
    stage: Option<&str>,
    audit: &mut AuditInfo,
) -> Result<Map<String, Value>, SmError> {
    // Each read opens its own transaction, and only when the caches miss: the secret and
    // the identity policies are usually cached, and opening one costs more than the rest.
    let s = coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let s = access::load_for_read(
            call,
            t,
            secret_id,
            "secretsmanager:GetSecretValue",
            value_conditions(version_id, stage),
            audit,
        )?;
        access::not_deleted(&s)?;
        Ok::<_, SmError>(s)
    })?;
    let v = pick_version(&s, version_id, stage)?.clone();
    let value = read_value(call, &s, &v.id, audit)?;
    note_access(call, &s, &v.id)?;
    let mut out = Map::new();
    out.insert("ARN".into(), json!(s.arn()));
    out.insert("Name".into(), json!(s.name));
    out.insert("VersionId".into(), json!(v.id));
    value.reply_members(&mut out);
    out.insert("VersionStages".into(), json!(v.stages));
    out.insert("CreatedDate".into(), epoch(v.created));
    Ok(out)
}

/// LastAccessedDate is kept to the day, so a read writes at most once a day per version.
fn note_access(call: &Call<'_>, s: &SecretRecord, vid: &str) -> Result<(), SmError> {
    let now = call.state.clock.now();
    let today = now.date();
    let stale = |d: Option<OffsetDateTime>| d.is_none_or(|d| d.date() != today);
    if !stale(s.last_accessed) && !stale(s.version(vid).and_then(|v| v.last_accessed)) {
        return Ok(());
    }
    let key = s.storage_key();
    coffer_storage::write(call.state.store.as_ref(), |t| {
        let Some(mut r) = store::get::<SecretRecord>(t, store::SECRETS, &key)? else {
            return Ok(());
        };
        r.last_accessed = Some(now);
        if let Some(v) = r.version_mut(vid) {
            v.last_accessed = Some(now);
        }
        store::put_secret(t, &r)
    })
}

/// A secret's value as Parameter Store's `/aws/reference/secretsmanager/<id>[:selector]`
/// reads it for its caller: the selector names a staging label or, failing that, a version
/// id, as AWS's pass-through does. Authorization and decryption are GetSecretValue's.
pub fn value_for_reference(
    call: &Call<'_>,
    secret_id: &str,
    selector: Option<&str>,
    audit: &mut AuditInfo,
) -> Result<Map<String, Value>, SmError> {
    match selector {
        None => get_one(call, secret_id, None, None, audit),
        Some(sel) => match get_one(call, secret_id, None, Some(sel), audit) {
            Err(SmError::ResourceNotFound(_)) => get_one(call, secret_id, Some(sel), None, audit),
            r => r,
        },
    }
}

pub fn get_value(call: &Call<'_>, i: GetInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let out = get_one(
        call,
        &i.secret_id,
        i.version_id.as_deref(),
        i.version_stage.as_deref(),
        audit,
    )?;
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchInput {
    secret_id_list: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Values of several secrets: by id list or by ListSecrets filters. A secret the caller
/// may not read, or cannot decrypt, becomes an entry in `Errors`, not a failed call.
pub fn batch_get(call: &Call<'_>, i: BatchInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    coffer_storage::read(call.state.store.as_ref(), |t| {
        access::authorize_resource(
            call,
            t,
            "secretsmanager:BatchGetSecretValue",
            "*",
            Vec::new(),
        )
    })?;
    let (ids, next) = match (i.secret_id_list, i.filters) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(invalid_param(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
            ));
        }
        (Some(ids), None) => {
            if i.max_results.is_some() || i.next_token.is_some() {
                return Err(invalid_param(
                    "'MaxResults' and 'NextToken' can be used only with 'Filters'.",
                ));
            }
            (ids, None)
        }
        (None, Some(filters)) => {
            let page = secrets::matching(
                call,
                &filters,
                false,
                i.max_results.unwrap_or(20),
                i.next_token.as_deref(),
            )?;
            (page.0.iter().map(SecretRecord::arn).collect(), page.1)
        }
    };
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match get_one(call, &id, None, None, audit) {
            Ok(v) => values.push(Value::Object(v)),
            Err(e) => {
                let w = crate::api::errors::secretsmanager(&e);
                errors.push(json!({"SecretId": id, "ErrorCode": w.code, "Message": w.message}));
            }
        }
    }
    let mut out = json!({"SecretValues": values, "Errors": errors});
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    secret_id: String,
    client_request_token: Option<String>,
    secret_string: Option<SecretText>,
    secret_binary: Option<SecretBytes>,
    version_stages: Option<Vec<String>>,
    #[allow(dead_code)]
    rotation_token: Option<String>,
}

pub fn put_value(call: &Call<'_>, i: PutInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let value = values::from_input(i.secret_string, i.secret_binary)?
        .ok_or_else(|| invalid_param("You must provide either SecretString or SecretBinary."))?;
    let s = coffer_storage::read(call.state.store.as_ref(), |t| {
        let s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:PutSecretValue",
            Vec::new(),
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "PutSecretValue")?;
        Ok::<_, SmError>(s)
    })?;
    let stages = i.version_stages.unwrap_or_else(|| vec![CURRENT.into()]);
    if stages.len() > MAX_STAGES {
        return Err(SmError::LimitExceeded(format!(
            "A version can have at most {MAX_STAGES} staging labels."
        )));
    }
    let nv = NewVersion {
        token: i.client_request_token,
        value: &value,
        stages,
    };
    let (s, vid) = write_version(call, &s, nv, audit)?;
    let stages = s
        .version(&vid)
        .map(|v| v.stages.clone())
        .unwrap_or_default();
    Ok(json!({"ARN": s.arn(), "Name": s.name, "VersionId": vid, "VersionStages": stages}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdsInput {
    secret_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
    include_deprecated: Option<bool>,
}

pub fn list_ids(call: &Call<'_>, i: ListIdsInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s = coffer_storage::read(call.state.store.as_ref(), |t| {
        access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:ListSecretVersionIds",
            Vec::new(),
            audit,
        )
    })?;
    let deprecated = i.include_deprecated.unwrap_or(false);
    let mut versions: Vec<&VersionMeta> = s
        .versions
        .iter()
        .filter(|v| deprecated || !v.stages.is_empty())
        .collect();
    versions.reverse();
    let (page, next) = paginate(&versions, i.max_results, i.next_token.as_deref())?;
    let list: Vec<Value> = page
        .iter()
        .map(|v| {
            let mut o = json!({
                "VersionId": v.id,
                "VersionStages": v.stages,
                "CreatedDate": epoch(v.created),
                "KmsKeyIds": [v.key_arn],
            });
            if let Some(a) = v.last_accessed {
                o["LastAccessedDate"] = epoch_day(a);
            }
            o
        })
        .collect();
    let mut out = json!({"ARN": s.arn(), "Name": s.name, "Versions": list});
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

/// Offset pagination with an opaque token (`MaxResults` default 100).
pub fn paginate<'a, T>(
    items: &'a [T],
    max: Option<i64>,
    token: Option<&str>,
) -> Result<(&'a [T], Option<String>), SmError> {
    let start = match token {
        Some(t) => decode_token(t)
            .filter(|n| *n <= items.len())
            .ok_or_else(|| SmError::InvalidNextToken("The NextToken value is invalid.".into()))?,
        None => 0,
    };
    let max = usize::try_from(max.unwrap_or(100)).unwrap_or(100);
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_token(end));
    Ok((&items[start..end], next))
}

fn encode_token(n: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("coffer-sm:{n}"))
}

fn decode_token(t: &str) -> Option<usize> {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(b)
        .ok()?
        .strip_prefix("coffer-sm:")?
        .parse()
        .ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StageInput {
    secret_id: String,
    version_stage: String,
    remove_from_version_id: Option<String>,
    move_to_version_id: Option<String>,
}

impl StageInput {
    /// Moves `stage` from one version to another (the built-in rotators' finishSecret).
    pub fn moving(secret_id: &str, stage: &str, from: Option<String>, to: &str) -> Self {
        Self {
            secret_id: secret_id.to_owned(),
            version_stage: stage.to_owned(),
            remove_from_version_id: from,
            move_to_version_id: Some(to.to_owned()),
        }
    }
}

/// Moves or removes a label with compare-and-swap: when the label is on a version, the
/// caller must name that version in RemoveFromVersionId.
pub fn update_stage(
    call: &Call<'_>,
    i: StageInput,
    audit: &mut AuditInfo,
) -> Result<Value, SmError> {
    let store = call.state.store.as_ref();
    let s = coffer_storage::write(store, |t| {
        let conds = vec![cond("secretsmanager:VersionStage", i.version_stage.clone())];
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:UpdateSecretVersionStage",
            conds,
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "UpdateSecretVersionStage")?;
        move_stage(&mut s, &i)?;
        s.last_changed = call.state.clock.now();
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    replication::sync(call, &s, audit)?;
    Ok(json!({"ARN": s.arn(), "Name": s.name}))
}

fn move_stage(s: &mut SecretRecord, i: &StageInput) -> Result<(), SmError> {
    let stage = &i.version_stage;
    let holder = s.with_stage(stage).map(|v| v.id.clone());
    for id in [&i.remove_from_version_id, &i.move_to_version_id]
        .into_iter()
        .flatten()
    {
        if s.version(id).is_none() {
            return Err(invalid_param(format!(
                "The secret version {id} doesn't exist."
            )));
        }
    }
    if let Some(from) = &i.remove_from_version_id
        && holder.as_deref() != Some(from.as_str())
    {
        return Err(invalid_param(format!(
            "The staging label {stage} isn't attached to the version {from}."
        )));
    }
    match &i.move_to_version_id {
        Some(to) => {
            if let Some(h) = &holder
                && h != to
                && i.remove_from_version_id.is_none()
            {
                return Err(invalid_param(format!(
                    "The staging label {stage} is currently attached to version {h}. You must specify that version in RemoveFromVersionId to move the label."
                )));
            }
            let count = s.version(to).map(|v| v.stages.len()).unwrap_or(0);
            if holder.as_deref() != Some(to.as_str()) && count >= MAX_STAGES {
                return Err(SmError::LimitExceeded(format!(
                    "A version can have at most {MAX_STAGES} staging labels."
                )));
            }
            attach_stages(s, to, std::slice::from_ref(stage));
        }
        None => {
            let Some(from) = &i.remove_from_version_id else {
                return Err(invalid_param(
                    "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
                ));
            };
            if stage == CURRENT {
                return Err(invalid_param(
                    "You can only move the AWSCURRENT staging label to another version; you can't remove it.",
                ));
            }
            remove_stage(s, from, stage);
        }
    }
    Ok(())
}

/// Whether a rotation left AWSPENDING on a version that is not AWSCURRENT.
pub fn pending_version(s: &SecretRecord) -> Option<&VersionMeta> {
    s.with_stage(PENDING)
        .filter(|v| !v.stages.iter().any(|x| x == CURRENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(versions: &[(&str, &[&str])]) -> SecretRecord {
        let t = OffsetDateTime::UNIX_EPOCH;
        let versions = versions
            .iter()
            .map(|(id, st)| VersionMeta {
                id: (*id).into(),
                stages: st.iter().map(|s| (*s).to_owned()).collect(),
                created: t,
                last_accessed: None,
                key_arn: String::new(),
            })
            .collect();
        SecretRecord {
            versions,
            ..SecretRecord::example("n", t)
        }
    }

    #[test]
    fn current_moves_and_previous_follows() {
        let mut s = secret(&[
            ("a", &["AWSPREVIOUS"]),
            ("b", &["AWSCURRENT", "x"]),
            ("c", &[]),
        ]);
        attach_stages(&mut s, "c", &["AWSCURRENT".into()]);
        assert!(s.version("a").unwrap().stages.is_empty());
        assert_eq!(s.version("b").unwrap().stages, vec!["x", "AWSPREVIOUS"]);
        assert_eq!(s.version("c").unwrap().stages, vec!["AWSCURRENT"]);
    }

    #[test]
    fn stage_compare_and_swap() {
        let mut s = secret(&[("a", &["AWSCURRENT"]), ("b", &["AWSPENDING"])]);
        let mv = |from: Option<&str>, to: Option<&str>, st: &str| StageInput {
            secret_id: "n".into(),
            version_stage: st.into(),
            remove_from_version_id: from.map(Into::into),
            move_to_version_id: to.map(Into::into),
        };
        assert!(move_stage(&mut s, &mv(None, Some("b"), "AWSCURRENT")).is_err());
        assert!(move_stage(&mut s, &mv(Some("b"), Some("b"), "AWSCURRENT")).is_err());
        assert!(move_stage(&mut s, &mv(None, None, "AWSCURRENT")).is_err());
        assert!(move_stage(&mut s, &mv(Some("a"), None, "AWSCURRENT")).is_err());
        move_stage(&mut s, &mv(Some("a"), Some("b"), "AWSCURRENT")).unwrap();
        assert_eq!(
            s.version("b").unwrap().stages,
            vec!["AWSPENDING", "AWSCURRENT"]
        );
        assert_eq!(s.version("a").unwrap().stages, vec!["AWSPREVIOUS"]);
        move_stage(&mut s, &mv(Some("b"), None, "AWSPENDING")).unwrap();
        assert_eq!(s.version("b").unwrap().stages, vec!["AWSCURRENT"]);
    }

    #[test]
    fn cleanup_keeps_labelled_and_recent_versions() {
        let ids: Vec<String> = (0..105).map(|i| format!("v{i:03}")).collect();
        let mut s = secret(&[]);
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for (n, id) in ids.iter().enumerate() {
            s.versions.push(VersionMeta {
                id: id.clone(),
                stages: if n == 0 {
                    vec!["AWSCURRENT".into()]
                } else {
                    Vec::new()
                },
                created: t0 + Duration::hours(n as i64),
                last_accessed: None,
                key_arn: String::new(),
            });
        }
        let now = t0 + Duration::hours(104);
        let removed = cleanup(&mut s, now);
        assert_eq!(removed, vec!["v001", "v002", "v003", "v004", "v005"]);
        assert_eq!(s.versions.len(), 100);
        assert!(s.version("v000").is_some());
        // Versions younger than a day are never removed, even above the limit.
        let mut young = secret(&[]);
        for id in &ids {
            young.versions.push(VersionMeta {
                id: id.clone(),
                stages: Vec::new(),
                created: now,
                last_accessed: None,
                key_arn: String::new(),
            });
        }
        assert!(cleanup(&mut young, now).is_empty());
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let items: Vec<u32> = (0..5).collect();
        let (p, n) = paginate(&items, Some(2), None).unwrap();
        assert_eq!(p, &[0, 1]);
        let (p, n2) = paginate(&items, Some(2), n.as_deref()).unwrap();
        assert_eq!(p, &[2, 3]);
        let (p, n3) = paginate(&items, Some(2), n2.as_deref()).unwrap();
        assert_eq!(p, &[4]);
        assert!(n3.is_none());
        assert!(matches!(
            paginate(&items, Some(2), Some("garbage")),
            Err(SmError::InvalidNextToken(_))
        ));
    }
}
