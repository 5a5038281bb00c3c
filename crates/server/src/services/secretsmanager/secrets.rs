//! The secret itself: CreateSecret, DescribeSecret, UpdateSecret, DeleteSecret,
//! RestoreSecret, ListSecrets.

use super::access::{self, cond};
use super::error::{SmError, invalid_param, invalid_request};
use super::store::{self, CURRENT, SecretRecord};
use super::values::{self, SecretBytes, SecretText, SecretValue};
use super::versions::{self, NewVersion};
use super::wire::{epoch, epoch_day};
use super::{replication, tags};
use crate::api::{AuditInfo, Call};
use crate::services::kms::OnBehalf;
use serde::Deserialize;
use serde_json::{Value, json};
use time::Duration;

/// Default and bounds of the recovery window, in days.
const DEFAULT_RECOVERY_DAYS: i64 = 30;
const MIN_RECOVERY_DAYS: i64 = 7;
const MAX_RECOVERY_DAYS: i64 = 30;

/// AWS's secret-name rule: 1-512 characters of letters, digits and `/_+=.@-`.
pub fn check_name(name: &str) -> Result<(), SmError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid_param(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        ))
    }
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicaRegion {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    name: String,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<SecretBytes>,
    secret_string: Option<SecretText>,
    #[serde(default)]
    tags: Vec<tags::Tag>,
    add_replica_regions: Option<Vec<ReplicaRegion>>,
    force_overwrite_replica_secret: Option<bool>,
}

/// Resolves a customer key the caller names (as DescribeKey would for the caller) to its ARN.
fn resolve_key(
    call: &Call<'_>,
    key_id: Option<&str>,
    audit: &mut AuditInfo,
) -> Result<Option<String>, SmError> {
    match key_id.filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => {
            let ob = OnBehalf {
                call,
                service: "secretsmanager",
            };
            let key = ob.describe_key(k, audit).map_err(SmError::from_kms_write)?;
            Ok(Some(key.arn()))
        }
    }
}

pub fn create(call: &Call<'_>, i: CreateInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    check_name(&i.name)?;
    let value = values::from_input(i.secret_string, i.secret_binary)?;
    let new_tags = tags::validate_new(&i.tags)?;
    let me = call.ctx.principal.account;
    let region = call.ctx.region.as_str().to_owned();
    let key = store::secret_key(&region, me, &i.name);
    let suffix = store::new_suffix();
    let arn = store::secret_arn(&region, me, &i.name, &suffix);
    let existing = coffer_storage::read(call.state.store.as_ref(), |t| {
        let mut c = vec![cond("secretsmanager:Name", i.name.clone())];
        if let Some(k) = &i.kms_key_id {
            c.push(cond("secretsmanager:KmsKeyId", k.clone()));
        }
        if let Some(d) = &i.description {
            c.push(cond("secretsmanager:Description", d.clone()));
        }
        c.extend(crate::authz::request_tag_conditions(&new_tags));
        access::authorize_resource(call, t, "secretsmanager:CreateSecret", &arn, c)?;
        store::get::<SecretRecord>(t, store::SECRETS, &key)
    })?;
    if let Some(s) = existing {
        return retried_create(call, &s, i.client_request_token, value.as_ref(), audit);
    }
    let kms_key_arn = resolve_key(call, i.kms_key_id.as_deref(), audit)?;
    let now = call.state.clock.now();
    let record = SecretRecord {
        name: i.name.clone(),
        suffix,
        account: me,
        region,
        description: i.description,
        kms_key_id: i.kms_key_id.filter(|k| !k.is_empty()),
        kms_key_arn,
        created: now,
        last_changed: now,
        last_accessed: None,
        deleted: None,
        purge_at: None,
        tags: new_tags,
        policy: None,
        rotation: Default::default(),
        versions: Vec::new(),
        primary_region: None,
        replicas: Vec::new(),
        owning_service: call.via_service.map(owning_service),
    };
    access::audit_secret(audit, &record);
    coffer_storage::write(call.state.store.as_ref(), |t| {
        if store::get::<SecretRecord>(t, store::SECRETS, &key)?.is_some() {
            return Err(already_exists(&record.name));
        }
        store::put_secret(t, &record)
    })?;
    let mut s = record;
    let mut out = json!({"ARN": s.arn(), "Name": s.name});
    if let Some(v) = &value {
        let nv = NewVersion {
            token: i.client_request_token,
            value: v,
            stages: vec![CURRENT.into()],
        };
        let (updated, vid) = versions::write_version(call, &s, nv, audit)?;
        s = updated;
        out["VersionId"] = json!(vid);
    }
    if let Some(regions) = i.add_replica_regions {
        let force = i.force_overwrite_replica_secret.unwrap_or(false);
        let s2 = replication::add(call, &s, &regions, force, audit)?;
        out["ReplicationStatus"] = replication::status_json(&s2);
    }
    Ok(out)
}

/// CreateSecret for a name that exists: an idempotent retry (same token, same value)
/// answers as the first call did; anything else is refused.
fn retried_create(
    call: &Call<'_>,
    s: &SecretRecord,
    token: Option<String>,
    value: Option<&SecretValue>,
    audit: &mut AuditInfo,
) -> Result<Value, SmError> {
    if s.deleted.is_some() {
        return Err(invalid_request(
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        ));
    }
    if let (Some(tok), Some(v)) = (token, value)
        && s.version(&tok).is_some()
    {
        access::audit_secret(audit, s);
        let existing = versions::read_value(call, s, &tok, audit)?;
        if existing.same_as(v) {
            return Ok(json!({"ARN": s.arn(), "Name": s.name, "VersionId": tok}));
        }
    }
    Err(already_exists(&s.name))
}

fn already_exists(name: &str) -> SmError {
    SmError::ResourceExists(format!(
        "The operation failed because the secret {name} already exists."
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdInput {
    pub secret_id: String,
}

pub fn describe(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s = coffer_storage::read(call.state.store.as_ref(), |t| {
        access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:DescribeSecret",
            Vec::new(),
            audit,
        )
    })?;
    Ok(describe_json(&s, true))
}

/// The service id AWS reports as `OwningService` (`rds`) for a calling service named by
/// its endpoint (`rds.us-east-1.amazonaws.com`) or its principal (`rds.amazonaws.com`).
fn owning_service(via: &str) -> String {
    via.split('.').next().unwrap_or(via).to_owned()
}

/// DescribeSecret's body; ListSecrets entries are the same shape with
/// `SecretVersionsToStages` instead of `VersionIdsToStages`.
pub fn describe_json(s: &SecretRecord, describe: bool) -> Value {
    let mut o = json!({
        "ARN": s.arn(),
        "Name": s.name,
        "LastChangedDate": epoch(s.last_changed),
        "CreatedDate": epoch(s.created),
        "Tags": tags::to_json(&s.tags),
    });
    let stages: serde_json::Map<String, Value> = s
        .versions
        .iter()
        .filter(|v| !v.stages.is_empty())
        .map(|v| (v.id.clone(), json!(v.stages)))
        .collect();
    let stages_key = if describe {
        "VersionIdsToStages"
    } else {
        "SecretVersionsToStages"
    };
    o[stages_key] = Value::Object(stages);
    let opt = [
        ("Description", s.description.as_ref().map(|d| json!(d))),
        ("KmsKeyId", s.kms_key_id.as_ref().map(|k| json!(k))),
        ("LastAccessedDate", s.last_accessed.map(epoch_day)),
        ("DeletedDate", s.deleted.map(epoch)),
        ("PrimaryRegion", s.primary_region.as_ref().map(|p| json!(p))),
        ("OwningService", s.owning_service.as_ref().map(|o| json!(o))),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            o[k] = v;
        }
    }
    super::rotation::describe_into(s, &mut o);
    if !s.replicas.is_empty() {
        o["ReplicationStatus"] = replication::status_json(s);
    }
    if s.primary_region.is_none() && !s.replicas.is_empty() {
        o["PrimaryRegion"] = json!(s.region);
    }
    o
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    secret_id: String,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<SecretBytes>,
    secret_string: Option<SecretText>,
}

pub fn update(call: &Call<'_>, i: UpdateInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let value = values::from_input(i.secret_string, i.secret_binary)?;
    let s = coffer_storage::read(call.state.store.as_ref(), |t| {
        let mut c = Vec::new();
        if let Some(k) = &i.kms_key_id {
            c.push(cond("secretsmanager:KmsKeyId", k.clone()));
        }
        if let Some(d) = &i.description {
            c.push(cond("secretsmanager:Description", d.clone()));
        }
        let s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:UpdateSecret",
            c,
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "UpdateSecret")?;
        Ok::<_, SmError>(s)
    })?;
    let new_key = match &i.kms_key_id {
        Some(k) => Some((resolve_key(call, Some(k), audit)?, k.clone())),
        None => None,
    };
    let key_changed = new_key
        .as_ref()
        .is_some_and(|(arn, _)| *arn != s.kms_key_arn);
    let now = call.state.clock.now();
    let sk = s.storage_key();
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut r: SecretRecord =
            store::get(t, store::SECRETS, &sk)?.ok_or_else(super::error::not_found)?;
        if let Some(d) = &i.description {
            r.description = Some(d.clone());
        }
        if let Some((arn, given)) = &new_key {
            r.kms_key_arn = arn.clone();
            r.kms_key_id = Some(given.clone()).filter(|g| !g.is_empty());
        }
        r.last_changed = now;
        store::put_secret(t, &r)?;
        Ok::<_, SmError>(r)
    })?;
    if key_changed {
        reencrypt_labelled(call, &s, audit)?;
    }
    let mut out = json!({"ARN": s.arn(), "Name": s.name});
    if let Some(v) = &value {
        let nv = NewVersion {
            token: i.client_request_token,
            value: v,
            stages: vec![CURRENT.into()],
        };
        let (_, vid) = versions::write_version(call, &s, nv, audit)?;
        out["VersionId"] = json!(vid);
    } else {
        replication::sync(call, &s, audit)?;
    }
    Ok(out)
}

/// After a KmsKeyId change: every version that carries a label is decrypted with its old
/// key and encrypted under the new one. Deprecated versions keep their old key.
fn reencrypt_labelled(
    call: &Call<'_>,
    s: &SecretRecord,
    audit: &mut AuditInfo,
) -> Result<(), SmError> {
    let arn = s.arn();
    let mut sealed = Vec::new();
    for v in s.versions.iter().filter(|v| !v.stages.is_empty()) {
        let value = versions::read_value(call, s, &v.id, audit)?;
        let (sv, key_arn) =
            values::seal(call, s.kms_key_arn.as_deref(), &arn, &v.id, &value, audit)?;
        sealed.push((v.id.clone(), sv, key_arn));
    }
    let sk = s.storage_key();
    coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut r: SecretRecord =
            store::get(t, store::SECRETS, &sk)?.ok_or_else(super::error::not_found)?;
        for (id, sv, key_arn) in &sealed {
            if let Some(v) = r.version_mut(id) {
                v.key_arn = key_arn.clone();
                store::put(t, store::VERSIONS, &r.version_key(id), sv)?;
            }
        }
        store::put_secret(t, &r)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    secret_id: String,
    recovery_window_in_days: Option<i64>,
    force_delete_without_recovery: Option<bool>,
}

pub fn delete(call: &Call<'_>, i: DeleteInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let force = i.force_delete_without_recovery.unwrap_or(false);
    if force && i.recovery_window_in_days.is_some() {
        return Err(invalid_param(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        ));
    }
    let days = i.recovery_window_in_days.unwrap_or(DEFAULT_RECOVERY_DAYS);
    if !(MIN_RECOVERY_DAYS..=MAX_RECOVERY_DAYS).contains(&days) {
        return Err(invalid_param(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
        ));
    }
    let now = call.state.clock.now();
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut c = vec![cond(
            "secretsmanager:ForceDeleteWithoutRecovery",
            force.to_string(),
        )];
        if !force {
            c.push(cond(
                "secretsmanager:RecoveryWindowInDays",
                days.to_string(),
            ));
        }
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:DeleteSecret",
            c,
            audit,
        )?;
        access::not_replica(&s, "DeleteSecret")?;
        if !s.replicas.is_empty() {
            return Err(invalid_request(format!(
                "You can't delete secret {} that still has replica regions [{}]",
                s.name,
                s.replicas
                    .iter()
                    .map(|r| r.region.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if force {
            store::remove_secret(t, &s)?;
            s.purge_at = Some(now);
            return Ok::<_, SmError>(s);
        }
        if s.deleted.is_some() {
            return Err(invalid_request(
                "You tried to perform the operation on a secret that's currently marked deleted.",
            ));
        }
        s.deleted = Some(now);
        s.purge_at = Some(now + Duration::days(days));
        store::put_secret(t, &s)?;
        Ok(s)
    })?;
    let date = s.purge_at.unwrap_or(now);
    Ok(json!({"ARN": s.arn(), "Name": s.name, "DeletionDate": epoch(date)}))
}

pub fn restore(call: &Call<'_>, i: IdInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:RestoreSecret",
            Vec::new(),
            audit,
        )?;
        s.deleted = None;
        s.purge_at = None;
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    Ok(json!({"ARN": s.arn(), "Name": s.name}))
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    key: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    include_planned_deletion: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    sort_order: Option<String>,
    sort_by: Option<String>,
}

pub fn list(call: &Call<'_>, i: ListInput, _audit: &mut AuditInfo) -> Result<Value, SmError> {
    coffer_storage::read(call.state.store.as_ref(), |t| {
        access::authorize_resource(call, t, "secretsmanager:ListSecrets", "*", Vec::new())
    })?;
    let mut all = candidates(
        call,
        &i.filters,
        i.include_planned_deletion.unwrap_or(false),
    )?;
    sort(&mut all, i.sort_by.as_deref(), i.sort_order.as_deref());
    let (page, next) = versions::paginate(&all, i.max_results, i.next_token.as_deref())?;
    let list: Vec<Value> = page.iter().map(|s| describe_json(s, false)).collect();
    let mut out = json!({"SecretList": list});
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

/// The caller's secrets in this region that pass every filter (BatchGetSecretValue's
/// filtered form), one page of them.
pub fn matching(
    call: &Call<'_>,
    filters: &[Filter],
    planned_deletion: bool,
    max: i64,
    token: Option<&str>,
) -> Result<(Vec<SecretRecord>, Option<String>), SmError> {
    let mut all = candidates(call, filters, planned_deletion)?;
    sort(&mut all, None, None);
    let (page, next) = versions::paginate(&all, Some(max), token)?;
    Ok((page.to_vec(), next))
}

fn candidates(
    call: &Call<'_>,
    filters: &[Filter],
    planned_deletion: bool,
) -> Result<Vec<SecretRecord>, SmError> {
    for f in filters {
        if f.key.is_none() || f.values.is_empty() {
            return Err(invalid_param(
                "Invalid filter: every filter needs a Key and Values.",
            ));
        }
    }
    let prefix = format!(
        "{}/{}/",
        call.ctx.region.as_str(),
        call.ctx.principal.account
    );
    let all = coffer_storage::read(call.state.store.as_ref(), |t| {
        store::scan_secrets(t, &prefix)
    })?;
    Ok(all
        .into_iter()
        .filter(|s| planned_deletion || s.deleted.is_none())
        .filter(|s| filters.iter().all(|f| filter_matches(f, s)))
        .collect())
}

fn sort(all: &mut [SecretRecord], by: Option<&str>, order: Option<&str>) {
    match by.unwrap_or("created-date") {
        "name" => all.sort_by(|a, b| a.name.cmp(&b.name)),
        "last-changed-date" => all.sort_by_key(|s| s.last_changed),
        "last-accessed-date" => all.sort_by_key(|s| s.last_accessed),
        _ => all.sort_by_key(|s| s.created),
    }
    if order.unwrap_or("desc") == "desc" {
        all.reverse();
    }
}

/// One filter: values are ORed; a value starting with `!` excludes what it matches.
/// Prefix matches; `description` and `all` ignore case.
fn filter_matches(f: &Filter, s: &SecretRecord) -> bool {
    let key = f.key.as_deref().unwrap_or("");
    let (neg, pos): (Vec<&String>, Vec<&String>) =
        f.values.iter().partition(|v| v.starts_with('!'));
    let hit = |v: &str| field_matches(key, v, s);
    let excluded = neg.iter().any(|v| hit(&v[1..]));
    let included = pos.is_empty() || pos.iter().any(|v| hit(v));
    included && !excluded
}

fn field_matches(key: &str, value: &str, s: &SecretRecord) -> bool {
    let prefix = |field: &str| field.starts_with(value);
    let prefix_ci = |field: &str| field.to_lowercase().starts_with(&value.to_lowercase());
    match key {
        "name" => prefix(&s.name),
        "description" => s.description.as_deref().is_some_and(prefix_ci),
        "tag-key" => s.tags.iter().any(|(k, _)| prefix(k)),
        "tag-value" => s.tags.iter().any(|(_, v)| prefix(v)),
        "primary-region" => prefix(s.primary_region.as_deref().unwrap_or(&s.region)),
        "owning-service" => s.owning_service.as_deref().is_some_and(prefix),
        "all" => {
            let region = s.primary_region.as_deref().unwrap_or(&s.region);
            let mut fields: Vec<&str> = vec![&s.name, region];
            fields.extend(s.description.as_deref());
            fields.extend(s.tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]));
            let wanted = search_words(value);
            if wanted.is_empty() {
                return true;
            }
            let words: Vec<String> = fields.iter().flat_map(|f| search_words(f)).collect();
            wanted
                .iter()
                .any(|w| words.iter().any(|f| f.starts_with(w.as_str())))
        }
        _ => false,
    }
}

/// The words the `all` filter compares, lower-cased: letters and digits only, split where
/// punctuation or a space comes, where a lower-case letter meets an upper-case one and
/// where letters meet digits (AWS's user guide: `credsDatabase#892` searches for `creds`,
/// `Database` and `892`). A secret matches when any word of the search starts one of its
/// words.
fn search_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        let boundary = match prev {
            _ if !c.is_alphanumeric() => true,
            Some(p) => (p.is_lowercase() && c.is_uppercase()) || p.is_numeric() != c.is_numeric(),
            None => false,
        };
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(owner: Option<&str>) -> SecretRecord {
        let t = time::macros::datetime!(2026-01-01 0:00 UTC);
        SecretRecord {
            owning_service: owner.map(Into::into),
            ..SecretRecord::example("rds!db-1", t)
        }
    }

    #[test]
    fn all_filter_words_follow_the_user_guide() {
        assert_eq!(
            search_words("credsDatabase#892"),
            ["creds", "database", "892"]
        );
        assert_eq!(
            search_words("prod/Db_creds v2"),
            ["prod", "db", "creds", "v", "2"]
        );
        assert!(search_words(" /_ ").is_empty());
        let s = SecretRecord {
            description: Some("Billing API key".into()),
            ..SecretRecord::example("prod/DbCreds", time::macros::datetime!(2026-01-01 0:00 UTC))
        };
        let all = |v: &str| field_matches("all", v, &s);
        // Any word of the search may match, punctuation included or not.
        assert!(all("prod/DbCreds"));
        assert!(all("My_Secret prod"));
        assert!(all("cred"));
        assert!(all("BILLING"));
        assert!(all("staging_api"));
        assert!(!all("staging secret"));
    }

    fn filter(values: &[&str]) -> Filter {
        Filter {
            key: Some("owning-service".into()),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// `owning-service` matches a prefix of the owner, `!` excludes, and a secret no
    /// service owns matches no positive value.
    #[test]
    fn owning_service_filter() {
        assert_eq!(owning_service("rds.us-east-1.amazonaws.com"), "rds");
        assert_eq!(owning_service("appflow.amazonaws.com"), "appflow");
        let owned = record(Some("rds"));
        let mine = record(None);
        assert!(filter_matches(&filter(&["rds"]), &owned));
        assert!(filter_matches(&filter(&["rd"]), &owned));
        assert!(!filter_matches(&filter(&["ecs"]), &owned));
        assert!(!filter_matches(&filter(&["rds"]), &mine));
        assert!(!filter_matches(&filter(&["!rds"]), &owned));
        assert!(filter_matches(&filter(&["!rds"]), &mine));
        assert_eq!(describe_json(&owned, true)["OwningService"], "rds");
        assert!(describe_json(&mine, true).get("OwningService").is_none());
    }
}
