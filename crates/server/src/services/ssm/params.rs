//! PutParameter, GetParameter(s), DeleteParameter(s) and GetParameterHistory.

use super::names::{self, Selector};
use super::store::{self, ParamRecord, StoredPolicy, VersionRecord};
use super::values::{self, ADVANCED_TIER};
use super::{Operation, SsmError, arn, audit_param, authorize, epoch, policies, settings};
use crate::api::{AuditInfo, Call, audit_object};
use coffer_wire::model::JavaPattern;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Parameter Store keeps this many versions of a parameter.
pub const MAX_VERSIONS: usize = 100;
const SECURE: &str = "SecureString";
const DATA_TYPES: [&str; 3] = ["text", "aws:ec2:image", "aws:ssm:integration"];
/// The path prefix through which Secrets Manager secrets are read as parameters.
pub const SECRETS_REFERENCE: &str = "/aws/reference/secretsmanager/";

/// A parameter value: zeroized when dropped, since it may be a SecureString.
pub struct SecretValue(pub Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretValue(Zeroizing::new(s)))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    name: String,
    value: SecretValue,
    description: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    key_id: Option<String>,
    #[serde(default)]
    overwrite: bool,
    allowed_pattern: Option<String>,
    tags: Option<Vec<super::tags::Tag>>,
    tier: Option<String>,
    policies: Option<String>,
    data_type: Option<String>,
}

/// What a PutParameter will write, decided before anything is encrypted or stored.
struct Plan {
    kind: String,
    key_id: Option<String>,
    description: Option<String>,
    allowed_pattern: Option<String>,
    tier: &'static str,
    data_type: String,
    policies: Vec<StoredPolicy>,
    /// The version the existing parameter had when read (`None`: a new parameter).
    base: Option<u64>,
}

pub fn put(call: &Call<'_>, i: PutInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    let name = names::trim(&i.name).to_owned();
    // The value is never recorded: a SecureString's plaintext must not reach the trail.
    audit.request_parameters = Some(audit_object([
        ("name", Some(json!(name))),
        ("type", i.kind.as_ref().map(|v| json!(v))),
        ("keyId", i.key_id.as_ref().map(|v| json!(v))),
        ("overwrite", Some(json!(i.overwrite))),
        ("tier", i.tier.as_ref().map(|v| json!(v))),
        ("dataType", i.data_type.as_ref().map(|v| json!(v))),
    ]));
    audit_param(call, audit, &name);
    let param_arn = arn(call, &name);
    names::validate_new(&name, &param_arn)?;
    authorize(call, Operation::PutParameter, &param_arn)?;
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let existing = coffer_storage::read(call.state.store.as_ref(), |t| {
        store::load(t, region, account, &name)
    })?;
    let plan = plan(call, &i, existing.as_ref())?;
    let mut tags = Vec::new();
    super::tags::merge(&mut tags, i.tags.as_deref().unwrap_or_default())?;
    let value = &i.value.0;
    let stored = if plan.kind == SECURE {
        let advanced = plan.tier == ADVANCED_TIER;
        // The managed key is created on first use, so it is named by its absence.
        let key = plan.key_id.as_deref().filter(|k| *k != values::DEFAULT_KEY);
        values::seal(call, &param_arn, key, advanced, value, audit)?
    } else {
        store::StoredValue::Plain {
            text: value.as_str().to_owned(),
        }
    };
    let operation = if plan.base.is_some() {
        "Update"
    } else {
        "Create"
    };
    let rec = coffer_storage::write(call.state.store.as_ref(), |t| {
        let rec = commit(t, call, &name, &plan, &stored, &tags)?;
        super::events::parameter_changed(t, call, &rec, operation)?;
        Ok::<_, SsmError>(rec)
    })?;
    crate::events::wake(call.state);
    Ok(json!({"Version": rec.version, "Tier": rec.tier}))
}

/// Writes the new version decided by `plan`, unless another write got in first.
fn commit(
    t: &mut dyn coffer_storage::Txn,
    call: &Call<'_>,
    name: &str,
    plan: &Plan,
    stored: &store::StoredValue,
    tags: &[(String, String)],
) -> Result<ParamRecord, SsmError> {
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let current = store::load(t, region, account, name)?;
    if current.as_ref().map(|c| c.version) != plan.base {
        return Err(SsmError::TooManyUpdates(
            "There are concurrent updates for the resource that you're trying to modify. Wait a few minutes and try again.".into(),
        ));
    }
    if let Some(c) = &current {
        // Labels may have moved since `plan` looked.
        check_version_room(c)?;
    }
    let before = current.as_ref().map(|c| c.tier.as_str());
    store::recount(t, region, account, before, Some(plan.tier), store::QUOTAS)?;
    let old = current.clone();
    let mut rec = current.unwrap_or_else(|| fresh(name, region, account, tags));
    let version = VersionRecord {
        version: rec.version + 1,
        value: stored.clone(),
        kind: plan.kind.clone(),
        key_id: plan.key_id.clone(),
        description: plan.description.clone(),
        allowed_pattern: plan.allowed_pattern.clone(),
        tier: plan.tier.to_owned(),
        data_type: plan.data_type.clone(),
        policies: plan.policies.clone(),
        modified: call.ctx.time,
        modified_user: call.ctx.principal.arn.clone(),
    };
    append_version(t, &mut rec, version)?;
    store::reindex(t, old.as_ref(), Some(&rec))?;
    Ok(rec)
}

fn fresh(
    name: &str,
    region: &str,
    account: coffer_types::AccountId,
    tags: &[(String, String)],
) -> ParamRecord {
    ParamRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        region: region.to_owned(),
        account,
        version: 0,
        versions: Vec::new(),
        labels: BTreeMap::new(),
        tags: tags.to_vec(),
        kind: String::new(),
        key_id: None,
        description: None,
        allowed_pattern: None,
        tier: String::new(),
        data_type: String::new(),
        policies: Vec::new(),
        modified: time::OffsetDateTime::UNIX_EPOCH,
        modified_user: String::new(),
    }
}

/// Adds `v` as the newest version, dropping the oldest beyond the hundredth (checked
/// before encryption in `plan`, so a labelled oldest version never gets here).
fn append_version(
    t: &mut dyn coffer_storage::Txn,
    rec: &mut ParamRecord,
    v: VersionRecord,
) -> Result<(), SsmError> {
    if rec.versions.len() >= MAX_VERSIONS {
        let oldest = rec.versions.remove(0);
        t.delete(
            store::VERSIONS,
            store::version_key(&rec.id, oldest).as_bytes(),
        )?;
    }
    rec.version = v.version;
    rec.versions.push(v.version);
    rec.kind = v.kind.clone();
    rec.key_id = v.key_id.clone();
    rec.description = v.description.clone();
    rec.allowed_pattern = v.allowed_pattern.clone();
    rec.tier = v.tier.clone();
    rec.data_type = v.data_type.clone();
    rec.policies = v.policies.clone();
    rec.modified = v.modified;
    rec.modified_user = v.modified_user.clone();
    store::put(
        t,
        store::VERSIONS,
        &store::version_key(&rec.id, v.version),
        &v,
    )?;
    store::put(t, store::PARAMS, &rec.storage_key(), rec)
}

/// Every rule of PutParameter that does not need the value encrypted, in AWS's order.
fn plan(call: &Call<'_>, i: &PutInput, existing: Option<&ParamRecord>) -> Result<Plan, SsmError> {
    let kind = resolve_kind(i, existing)?;
    check_not_nested(&i.value.0)?;
    let key_id = (kind == SECURE).then(|| {
        i.key_id
            .clone()
            .unwrap_or_else(|| values::DEFAULT_KEY.to_owned())
    });
    let allowed_pattern = i
        .allowed_pattern
        .clone()
        .or_else(|| existing.and_then(|e| e.allowed_pattern.clone()))
        .filter(|p| !p.is_empty());
    if let Some(p) = &allowed_pattern {
        check_pattern(p, &i.value.0)?;
    }
    let data_type = i.data_type.clone().unwrap_or_else(|| "text".into());
    check_data_type(&data_type, &kind, &i.value.0)?;
    let now = call.ctx.time;
    let policies = match &i.policies {
        Some(text) => policies::parse(text, now)?,
        None => existing
            .map(|e| policies::carry_over(&e.policies, now))
            .unwrap_or_default(),
    };
    let tier = resolve_tier(call, i, existing, !policies.is_empty())?;
    if let Some(e) = existing {
        check_version_room(e)?;
    }
    let description = i
        .description
        .clone()
        .or_else(|| existing.and_then(|e| e.description.clone()));
    Ok(Plan {
        kind,
        key_id,
        description,
        allowed_pattern,
        tier,
        data_type,
        policies,
        base: existing.map(|e| e.version),
    })
}

/// A value may not reference another parameter: AWS refuses anything in double braces
/// (`{{ssm:/a}}`, `{{x}}`), whatever the type.
fn check_not_nested(value: &str) -> Result<(), SsmError> {
    let nested = value
        .find("{{")
        .is_some_and(|open| value[open + 2..].contains("}}"));
    if nested {
        return Err(SsmError::Validation(
            "Parameter value can't nest another parameter. Do not use \"{{}}\" in the value."
                .into(),
        ));
    }
    Ok(())
}

/// Overwrite rules, and the type of the new version (a new parameter must name one).
fn resolve_kind(i: &PutInput, existing: Option<&ParamRecord>) -> Result<String, SsmError> {
    if existing.is_some() && !i.overwrite {
        return Err(SsmError::ParameterAlreadyExists(
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.".into(),
        ));
    }
    if existing.is_some() && i.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(SsmError::Validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.".into(),
        ));
    }
    let kind = match (&i.kind, existing) {
        (Some(k), _) => k.clone(),
        (None, Some(e)) => e.kind.clone(),
        (None, None) => {
            return Err(SsmError::Validation(
                "A parameter type is required when you create a parameter.".into(),
            ));
        }
    };
    if i.key_id.is_some() && kind != SECURE {
        return Err(SsmError::Validation(
            "KeyId is required for SecureString type parameter only.".into(),
        ));
    }
    Ok(kind)
}

/// The tier of the new version, and its size limit. Without a tier, an advanced parameter
/// stays advanced and a new one gets the account's default tier.
fn resolve_tier(
    call: &Call<'_>,
    i: &PutInput,
    existing: Option<&ParamRecord>,
    has_policies: bool,
) -> Result<&'static str, SsmError> {
    let requested = match (&i.tier, existing) {
        (Some(t), _) => t.clone(),
        (None, Some(e)) if e.tier == ADVANCED_TIER => ADVANCED_TIER.to_owned(),
        (None, _) => settings::default_tier(call)?,
    };
    let current = existing.map(|e| e.tier.as_str());
    let tier = values::choose_tier(&requested, current, i.value.0.len(), has_policies)?;
    if has_policies && tier != ADVANCED_TIER {
        return Err(SsmError::Validation(
            "Parameter policies are supported only for the advanced-parameter tier.".into(),
        ));
    }
    values::check_size(tier, &i.value.0)?;
    Ok(tier)
}

/// The hundred-version limit: the oldest version goes, unless a label holds it.
fn check_version_room(e: &ParamRecord) -> Result<(), SsmError> {
    if e.versions.len() < MAX_VERSIONS {
        return Ok(());
    }
    let Some(&oldest) = e.versions.first() else {
        return Ok(());
    };
    if e.labels.values().any(|v| *v == oldest) {
        return Err(SsmError::ParameterMaxVersionLimitExceeded(format!(
            "You attempted to create a new version of {} by calling the PutParameter API with the overwrite flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
            e.name
        )));
    }
    Ok(())
}

/// The most memory a caller's AllowedPattern may compile to.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// AllowedPattern is a Java regular expression the whole value must match.
fn check_pattern(pattern: &str, value: &str) -> Result<(), SsmError> {
    let compiled = JavaPattern::compile_limited(pattern, PATTERN_SIZE_LIMIT).map_err(|_| {
        SsmError::InvalidAllowedPattern(format!(
            "The allowed pattern {pattern} is not a valid regular expression."
        ))
    })?;
    if compiled.matches(value) {
        Ok(())
    } else {
        Err(SsmError::ParameterPatternMismatch(format!(
            "Parameter value, cannot be validated against allowedPattern: {pattern}"
        )))
    }
}

/// DataType: `text` (the default), `aws:ec2:image` (a String holding an AMI id; AWS checks
/// the image exists asynchronously, coffer checks the format) or `aws:ssm:integration`.
fn check_data_type(data_type: &str, kind: &str, value: &str) -> Result<(), SsmError> {
    if !DATA_TYPES.contains(&data_type) {
        return Err(SsmError::Validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    if data_type == "aws:ec2:image" {
        if kind != "String" {
            return Err(SsmError::Validation(
                "Data type aws:ec2:image is only supported for parameters of type String.".into(),
            ));
        }
        if !is_ami_id(value) {
            return Err(SsmError::Validation(format!(
                "Parameter value, {value}, is not in a valid format for data type aws:ec2:image. The value must be an AMI ID like ami-12345678 or ami-1234567890abcdef0."
            )));
        }
    }
    Ok(())
}

fn is_ami_id(v: &str) -> bool {
    v.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetInput {
    name: String,
    #[serde(default)]
    with_decryption: bool,
}

pub fn get(call: &Call<'_>, i: GetInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("name", Some(json!(i.name))),
        ("withDecryption", Some(json!(i.with_decryption))),
    ]));
    let (name, selector) = names::parse_selector(&i.name)?;
    audit_param(call, audit, &name);
    authorize(call, Operation::GetParameter, &arn(call, &name))?;
    if let Some(reference) = i.name.strip_prefix(SECRETS_REFERENCE) {
        let param = secrets_reference(call, reference, i.with_decryption, audit)?;
        return Ok(json!({ "Parameter": param }));
    }
    let p = read_selected(call, &name, &selector)?.ok_or_else(not_found)?;
    let param = parameter_json(call, &p.0, &p.1, &selector, i.with_decryption, audit)?;
    Ok(json!({ "Parameter": param }))
}

/// `/aws/reference/secretsmanager/<secret-id>[:<stage or version id>]`: Parameter Store
/// passes the read through to Secrets Manager as the caller (its policies and the secret's
/// apply, and the value is decrypted through KMS there) and keeps nothing itself.
fn secrets_reference(
    call: &Call<'_>,
    reference: &str,
    decrypt: bool,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    if !decrypt {
        return Err(SsmError::Validation(
            "WithDecryption flag must be True for retrieving a Secret Manager secret.".into(),
        ));
    }
    let (secret_id, selector) = split_reference(reference);
    let got =
        crate::services::secretsmanager::value_for_reference(call, secret_id, selector, audit)
            .map_err(from_secrets_manager)?;
    let value = got
        .get("SecretString")
        .or_else(|| got.get("SecretBinary"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = json!({
        "Name": format!("{SECRETS_REFERENCE}{secret_id}"),
        "Type": "SecureString",
        "Value": value,
        "Version": 0,
        "LastModifiedDate": got.get("CreatedDate").cloned().unwrap_or(Value::Null),
        "ARN": got.get("ARN").cloned().unwrap_or(Value::Null),
        "SourceResult": Value::Object(got).to_string(),
        "DataType": "text",
    });
    if let Some(sel) = selector {
        out["Selector"] = json!(format!(":{sel}"));
    }
    Ok(out)
}

/// `<secret-id>[:<selector>]`; a secret ARN has six colons of its own before the selector.
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    let own_colons = if reference.starts_with("arn:") { 6 } else { 0 };
    match reference.match_indices(':').nth(own_colons) {
        Some((i, _)) => (&reference[..i], Some(&reference[i + 1..])),
        None => (reference, None),
    }
}

/// Secrets Manager's refusals as Parameter Store reports them.
fn from_secrets_manager(e: crate::services::secretsmanager::SmError) -> SsmError {
    use crate::services::secretsmanager::SmError as S;
    match e {
        S::ResourceNotFound(_) => {
            SsmError::ParameterNotFound("Secrets Manager can't find the specified secret.".into())
        }
        S::AccessDenied(m) => SsmError::AccessDenied(m),
        S::DecryptionFailure(m) | S::KmsInvalidState(m) => SsmError::InvalidKeyId(m),
        S::InvalidRequest(m) | S::InvalidParameter(m) => SsmError::Validation(m),
        S::Wire(w) => SsmError::Wire(w),
        other => SsmError::Internal(format!("secrets manager reference: {other}")),
    }
}

pub fn not_found() -> SsmError {
    SsmError::ParameterNotFound(String::new())
}

fn version_not_found(name: &str, v: &str) -> SsmError {
    SsmError::ParameterVersionNotFound(format!(
        "Systems Manager could not find version {v} of {name}. Verify the version and try again."
    ))
}

/// A parameter and one of its versions, shared with the read cache.
type Selected = (Arc<ParamRecord>, Arc<VersionRecord>);

/// The parameter and the version `selector` picks; `Ok(None)` when the parameter does not
/// exist, an error when it exists but the version or label does not.
/// Both come from the server's read cache when fresh there.
fn read_selected(
    call: &Call<'_>,
    name: &str,
    selector: &Selector,
) -> Result<Option<Selected>, SsmError> {
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let (cache, now) = (&call.state.ssm_reads, call.state.clock.now());
    // Each read opens its own transaction, and only when the cache misses: opening one
    // costs more than the rest of a cached read. The two records need not share a
    // snapshot: a version record never changes once written.
    coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let Some(p) = load_named_cached(cache, now, t, region, account, name)? else {
            return Ok(None);
        };
        let version = match selector {
            Selector::Latest => p.version,
            Selector::Version(v) if p.versions.contains(v) => *v,
            Selector::Version(v) => return Err(version_not_found(name, &v.to_string())),
            Selector::Label(l) => match p.labels.get(l) {
                Some(v) => *v,
                None => return Err(not_found()),
            },
        };
        let v = store::load_version_cached(cache, now, t, &p, version)?
            .ok_or_else(|| SsmError::Internal("missing version record".into()))?;
        Ok(Some((p, v)))
    })
}

/// [`load_named`] through the read cache.
fn load_named_cached(
    cache: &store::ReadCache,
    now: time::OffsetDateTime,
    t: &mut dyn coffer_storage::Txn,
    region: &str,
    account: coffer_types::AccountId,
    name: &str,
) -> Result<Option<Arc<ParamRecord>>, SsmError> {
    first_candidate(region, account, name, |c| {
        store::load_cached(cache, now, t, region, account, c)
    })
}

/// The parameter a read names, by name or by ARN (see `names::candidates`).
fn load_named(
    t: &mut dyn coffer_storage::Txn,
    region: &str,
    account: coffer_types::AccountId,
    name: &str,
) -> Result<Option<ParamRecord>, SsmError> {
    first_candidate(region, account, name, |c| {
        store::load(t, region, account, c)
    })
}

/// The first of `name`'s candidate names (see `names::candidates`) that `load` finds.
fn first_candidate<P>(
    region: &str,
    account: coffer_types::AccountId,
    name: &str,
    mut load: impl FnMut(&str) -> Result<Option<P>, SsmError>,
) -> Result<Option<P>, SsmError> {
    for c in names::candidates(name, region, &account.to_string()) {
        if let Some(p) = load(&c)? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// A `Parameter` as GetParameter and friends return it.
pub fn parameter_json(
    call: &Call<'_>,
    p: &ParamRecord,
    v: &VersionRecord,
    selector: &Selector,
    decrypt: bool,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    let value = values::reveal(call, &p.arn(), &v.value, decrypt, audit)?;
    let mut out = json!({
        "Name": p.name,
        "Type": v.kind,
        "Value": value.as_str(),
        "Version": v.version,
        "LastModifiedDate": epoch(v.modified),
        "ARN": p.arn(),
        "DataType": v.data_type,
    });
    if let Some(s) = selector.wire() {
        out["Selector"] = json!(s);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetManyInput {
    names: Vec<String>,
    #[serde(default)]
    with_decryption: bool,
}

pub fn get_many(
    call: &Call<'_>,
    i: GetManyInput,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([
        ("names", Some(json!(i.names))),
        ("withDecryption", Some(json!(i.with_decryption))),
    ]));
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // A name with spaces inside fails the whole request, before any name is looked at.
    for raw in &i.names {
        names::read_name(raw)?;
    }
    for raw in &i.names {
        if !seen.insert(raw.clone()) {
            continue;
        }
        let Ok((name, selector)) = names::parse_selector(raw) else {
            invalid.push(raw.clone());
            continue;
        };
        audit_param(call, audit, &name);
        authorize(call, Operation::GetParameters, &arn(call, &name))?;
        match read_selected(call, &name, &selector) {
            Ok(Some((p, v))) => found.push(parameter_json(
                call,
                &p,
                &v,
                &selector,
                i.with_decryption,
                audit,
            )?),
            Ok(None)
            | Err(SsmError::ParameterNotFound(_))
            | Err(SsmError::ParameterVersionNotFound(_)) => invalid.push(raw.clone()),
            Err(e) => return Err(e),
        }
    }
    // AWS lists the results in alphabetical order of name.
    found.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    Ok(json!({"Parameters": found, "InvalidParameters": invalid}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    name: String,
}

pub fn delete(call: &Call<'_>, i: DeleteInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    let name = names::trim(&i.name).to_owned();
    audit.request_parameters = Some(audit_object([("name", Some(json!(name)))]));
    audit_param(call, audit, &name);
    authorize(call, Operation::DeleteParameter, &arn(call, &name))?;
    remove(call, &name)?.ok_or_else(not_found)?;
    Ok(json!({}))
}

/// Deletes the parameter `name` and queues its Delete event; the removed record, or `None`
/// if there was none.
fn remove(call: &Call<'_>, name: &str) -> Result<Option<ParamRecord>, SsmError> {
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let removed = coffer_storage::write(call.state.store.as_ref(), |t| {
        let Some(p) = store::load(t, region, account, name)? else {
            return Ok(None);
        };
        store::remove(t, &p)?;
        super::events::parameter_changed(t, call, &p, "Delete")?;
        Ok::<_, SsmError>(Some(p))
    })?;
    if removed.is_some() {
        crate::events::wake(call.state);
    }
    Ok(removed)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteManyInput {
    names: Vec<String>,
}

pub fn delete_many(
    call: &Call<'_>,
    i: DeleteManyInput,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    audit.request_parameters = Some(audit_object([("names", Some(json!(i.names)))]));
    // Every name is authorized before any is deleted: a refusal changes nothing.
    for raw in &i.names {
        let name = names::trim(raw);
        audit_param(call, audit, name);
        authorize(call, Operation::DeleteParameters, &arn(call, name))?;
    }
    let mut deleted = Vec::new();
    let mut invalid = Vec::new();
    for raw in &i.names {
        let name = names::trim(raw).to_owned();
        match remove(call, &name)? {
            Some(_) => deleted.push(raw.clone()),
            None => invalid.push(raw.clone()),
        }
    }
    Ok(json!({"DeletedParameters": deleted, "InvalidParameters": invalid}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryInput {
    name: String,
    #[serde(default)]
    with_decryption: bool,
    max_results: Option<usize>,
    next_token: Option<String>,
}

pub fn history(call: &Call<'_>, i: HistoryInput, audit: &mut AuditInfo) -> Result<Value, SsmError> {
    let name = names::read_name(&i.name)?.to_owned();
    audit.request_parameters = Some(audit_object([
        ("name", Some(json!(name))),
        ("withDecryption", Some(json!(i.with_decryption))),
    ]));
    audit_param(call, audit, &name);
    authorize(call, Operation::GetParameterHistory, &arn(call, &name))?;
    let after: u64 = match &i.next_token {
        Some(t) => t.parse().map_err(|_| invalid_token())?,
        None => 0,
    };
    let limit = i.max_results.unwrap_or(50);
    let (region, account) = (call.ctx.region.as_str(), call.ctx.principal.account);
    let (p, page, more) = coffer_storage::read(call.state.store.as_ref(), |t| {
        let p = load_named(t, region, account, &name)?.ok_or_else(not_found)?;
        let wanted: Vec<u64> = p.versions.iter().copied().filter(|v| *v > after).collect();
        let mut page = Vec::new();
        for v in wanted.iter().take(limit) {
            if let Some(rec) = store::load_version(t, &p, *v)? {
                page.push(rec);
            }
        }
        Ok::<_, SsmError>((p, page, wanted.len() > limit))
    })?;
    let mut out = Vec::with_capacity(page.len());
    for v in &page {
        out.push(history_json(call, &p, v, i.with_decryption, audit)?);
    }
    let mut reply = json!({ "Parameters": out });
    if more && let Some(last) = page.last() {
        reply["NextToken"] = json!(last.version.to_string());
    }
    Ok(reply)
}

pub fn invalid_token() -> SsmError {
    SsmError::InvalidNextToken("The specified token isn't valid.".into())
}

fn history_json(
    call: &Call<'_>,
    p: &ParamRecord,
    v: &VersionRecord,
    decrypt: bool,
    audit: &mut AuditInfo,
) -> Result<Value, SsmError> {
    let value = values::reveal(call, &p.arn(), &v.value, decrypt, audit)?;
    let labels: Vec<&String> = p
        .labels
        .iter()
        .filter(|(_, ver)| **ver == v.version)
        .map(|(l, _)| l)
        .collect();
    let mut out = json!({
        "Name": p.name,
        "Type": v.kind,
        "LastModifiedDate": epoch(v.modified),
        "LastModifiedUser": v.modified_user,
        "Value": value.as_str(),
        "Version": v.version,
        "Labels": labels,
        "Tier": v.tier,
        // The current version's policies carry their live status.
        "Policies": policies::json(if v.version == p.version { &p.policies } else { &v.policies }),
        "DataType": v.data_type,
    });
    optional(&mut out, "KeyId", v.key_id.as_deref());
    optional(&mut out, "Description", v.description.as_deref());
    optional(&mut out, "AllowedPattern", v.allowed_pattern.as_deref());
    Ok(out)
}

pub fn optional(out: &mut Value, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        out[key] = json!(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_data_types() {
        assert!(check_pattern("^\\d+$", "123").is_ok());
        assert!(matches!(
            check_pattern("^\\d+$", "12a"),
            Err(SsmError::ParameterPatternMismatch(_))
        ));
        assert!(matches!(
            check_pattern("(", "x"),
            Err(SsmError::InvalidAllowedPattern(_))
        ));
        // A pattern whose automaton would be huge is refused, not built.
        assert!(matches!(
            check_pattern("(\\w{500}){500}", "x"),
            Err(SsmError::InvalidAllowedPattern(_))
        ));
        assert!(check_data_type("text", "String", "x").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-12345678").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-1234567890abcdef0").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-xyz").is_err());
        assert!(check_data_type("aws:ec2:image", "SecureString", "ami-12345678").is_err());
        assert!(check_data_type("Text", "String", "x").is_err());
    }
}
