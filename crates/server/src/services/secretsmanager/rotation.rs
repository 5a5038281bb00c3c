//! Rotation: RotateSecret, CancelRotateSecret, and the four-step protocol
//! (createSecret, setSecret, testSecret, finishSecret) run against a rotation function.
//!
//! coffer has no Lambda: a function named by a Lambda-style ARN
//! (`arn:aws:lambda:<region>:<account>:function:<name>`) is a webhook configured under
//! `[secretsmanager.rotation-functions.<name>]` (see `functions.rs`). The function does
//! the work of a rotation Lambda, calling back into coffer with its own credentials
//! (PutSecretValue with AWSPENDING, UpdateSecretVersionStage to move AWSCURRENT).
//! Failure leaves AWSCURRENT where it was and is recorded as a `RotationFailed` service
//! event; success as `RotationSucceeded`.

use super::access::{self, cond};
use super::error::{SmError, invalid_param, invalid_request};
use super::functions;
use super::schedule::{self, Schedule};
use super::store::{self, CURRENT, PENDING, RotationRules, SecretRecord};
use super::versions;
use super::wire::epoch;
use crate::State;
use crate::api::{AuditInfo, Call};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct RulesInput {
    automatically_after_days: Option<i64>,
    duration: Option<String>,
    schedule_expression: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateInput {
    secret_id: String,
    client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN")]
    rotation_lambda_arn: Option<String>,
    rotation_rules: Option<RulesInput>,
    rotate_immediately: Option<bool>,
}

/// The schedule that rules describe, checked as AWS checks them.
pub fn schedule_of(r: &RotationRules) -> Result<Option<Schedule>, SmError> {
    let s = match (&r.after_days, &r.expression) {
        (Some(_), Some(_)) => {
            return Err(invalid_param(
                "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
            ));
        }
        (Some(d), None) => Some(Schedule::Every(Duration::days(*d))),
        (None, Some(e)) => Some(schedule::parse(e).map_err(invalid_param)?),
        (None, None) => None,
    };
    if let Some(w) = &r.duration {
        let window = schedule::parse_window(w).map_err(invalid_param)?;
        if let Some(s) = &s
            && window > s.min_gap()
        {
            return Err(invalid_param(
                "The rotation window (Duration) can't be longer than the rotation interval.",
            ));
        }
    }
    Ok(s)
}

/// The rotation window that opens after `from`: its start and length, as AWS defines them.
/// It opens when the schedule fires; `rate(N days)` and `AutomaticallyAfterDays` fire at
/// midnight UTC of the day the rotation falls due, `rate(N hours)` on the hour. It lasts
/// `Duration`, or without one: one hour for a schedule in hours, until the end of the UTC
/// day for a schedule in days (a schedule that fires at most daily).
pub fn window_after(r: &RotationRules, from: OffsetDateTime) -> Option<(OffsetDateTime, Duration)> {
    let s = schedule_of(r).ok().flatten()?;
    let daily = s.min_gap() >= Duration::days(1);
    let start = match &s {
        Schedule::Every(d) if daily => (from + *d).date().midnight().assume_utc(),
        Schedule::Every(d) => {
            let t = from + *d;
            t.date().with_hms(t.hour(), 0, 0).ok()?.assume_utc()
        }
        Schedule::Cron(_) => s.next_after(from)?,
    };
    let len = match &r.duration {
        Some(w) => schedule::parse_window(w).ok()?,
        None if daily => start.date().next_day()?.midnight().assume_utc() - start,
        None => Duration::HOUR,
    };
    Some((start, len))
}

/// The next rotation after `from` under the secret's rules: a point of the next window
/// drawn from the injected randomness (AWS rotates "at any time during the window"), to
/// the second. DescribeSecret reports it as `NextRotationDate` and the job runs the
/// rotation at its first tick at or after it (within a minute).
pub fn next_rotation(
    r: &RotationRules,
    from: OffsetDateTime,
    random: &dyn coffer_types::Random,
) -> Option<OffsetDateTime> {
    let (start, len) = window_after(r, from)?;
    let secs = u64::try_from(len.whole_seconds()).unwrap_or(0);
    let offset = i64::try_from(random.below(secs)).unwrap_or(0);
    Some(start + Duration::seconds(offset))
}

pub fn rotate(call: &Call<'_>, i: RotateInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let rules = i.rotation_rules.clone().map(|r| RotationRules {
        after_days: r.automatically_after_days,
        expression: r.schedule_expression,
        duration: r.duration,
    });
    if let Some(r) = &rules {
        schedule_of(r)?;
    }
    let now = call.state.clock.now();
    // The version a rotation run now would create; None when none is run now.
    let token = i.rotate_immediately.unwrap_or(true).then(|| {
        i.client_request_token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    });
    let s = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut c = Vec::new();
        if let Some(l) = &i.rotation_lambda_arn {
            c.push(cond("secretsmanager:RotationLambdaARN", l.clone()));
        }
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:RotateSecret",
            c,
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "RotateSecret")?;
        if let Some(l) = &i.rotation_lambda_arn {
            functions::check_arn(l)?;
            s.rotation.lambda_arn = Some(l.clone());
        }
        if s.rotation.lambda_arn.is_none() {
            return Err(invalid_request(
                "No Lambda rotation function ARN is associated with this secret.",
            ));
        }
        // Refused before anything is written: a refused call changes nothing.
        if let Some(token) = &token
            && versions::pending_version(&s).is_some_and(|p| p.id != *token)
        {
            return Err(invalid_request(
                "A previous rotation isn't complete. That rotation will be reattempted.",
            ));
        }
        if let Some(r) = &rules {
            s.rotation.rules = Some(r.clone());
        }
        s.rotation.enabled = true;
        s.rotation.next_rotation = s.rotation.rules.as_ref().and_then(|r| {
            next_rotation(
                r,
                s.rotation.last_rotated.unwrap_or(now).max(now),
                call.state.random.as_ref(),
            )
        });
        store::put_secret(t, &s)?;
        Ok::<_, SmError>(s)
    })?;
    let mut out = json!({"ARN": s.arn(), "Name": s.name});
    if let Some(token) = token {
        run(call.state, &s, &token);
        out["VersionId"] = json!(token);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelInput {
    secret_id: String,
}

/// Turns rotation off. An unfinished rotation's version is left as it is: until its
/// AWSPENDING label is removed, RotateSecret refuses to start another (as AWS does).
pub fn cancel(call: &Call<'_>, i: CancelInput, audit: &mut AuditInfo) -> Result<Value, SmError> {
    let (s, pending) = coffer_storage::write(call.state.store.as_ref(), |t| {
        let mut s = access::load(
            call,
            t,
            &i.secret_id,
            "secretsmanager:CancelRotateSecret",
            Vec::new(),
            audit,
        )?;
        access::not_deleted(&s)?;
        access::not_replica(&s, "CancelRotateSecret")?;
        // The caller decides whether to remove AWSPENDING or to move AWSCURRENT onto
        // that version (UpdateSecretVersionStage).
        let pending = versions::pending_version(&s).map(|v| v.id.clone());
        s.rotation.enabled = false;
        s.rotation.next_rotation = None;
        store::put_secret(t, &s)?;
        Ok::<_, SmError>((s, pending))
    })?;
    let mut out = json!({"ARN": s.arn(), "Name": s.name});
    if let Some(p) = pending {
        out["VersionId"] = json!(p);
    }
    Ok(out)
}

/// DescribeSecret's rotation members.
pub fn describe_into(s: &SecretRecord, o: &mut Value) {
    let r = &s.rotation;
    if r.enabled || r.lambda_arn.is_some() {
        o["RotationEnabled"] = json!(r.enabled);
    }
    if let Some(l) = &r.lambda_arn {
        o["RotationLambdaARN"] = json!(l);
    }
    if let Some(rules) = &r.rules {
        let mut rr = json!({});
        if let Some(d) = rules.after_days {
            rr["AutomaticallyAfterDays"] = json!(d);
        }
        if let Some(e) = &rules.expression {
            rr["ScheduleExpression"] = json!(e);
        }
        if let Some(d) = &rules.duration {
            rr["Duration"] = json!(d);
        }
        o["RotationRules"] = rr;
    }
    if let Some(l) = r.last_rotated {
        o["LastRotatedDate"] = epoch(l);
    }
    if let (true, Some(n)) = (r.enabled, r.next_rotation) {
        o["NextRotationDate"] = epoch(n);
    }
}

const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

/// Runs the four steps for version `token` and records the outcome. Never fails the
/// caller's request: a failed rotation is reported through the service event, as AWS
/// reports a failing Lambda.
pub fn run(state: &State, s: &SecretRecord, token: &str) {
    let arn = s.arn();
    let outcome = run_steps(state, s, token);
    let now = state.clock.now();
    let result = match &outcome {
        Ok(()) => finish(state, s, token, now),
        Err(e) => Err(e.clone()),
    };
    match &result {
        Ok(()) => super::events::emit(state, s, "RotationSucceeded", None),
        Err(e) => {
            tracing::warn!(secret = %arn, error = %e, "rotation failed");
            super::events::emit(state, s, "RotationFailed", Some(e));
        }
    }
}

fn run_steps(state: &State, s: &SecretRecord, token: &str) -> Result<(), String> {
    let lambda = s
        .rotation
        .lambda_arn
        .as_deref()
        .ok_or("no rotation function")?;
    let function = functions::resolve(state, lambda)?;
    for step in STEPS {
        match &function {
            functions::Function::Webhook(w) => functions::invoke(state, w, step, &s.arn(), token)?,
            functions::Function::BuiltIn(b) => super::builtin::run_step(state, s, *b, step, token)?,
        }
    }
    Ok(())
}

/// After finishSecret: the new version must be AWSCURRENT. AWSPENDING is removed and the
/// next rotation scheduled.
fn finish(state: &State, s: &SecretRecord, token: &str, now: OffsetDateTime) -> Result<(), String> {
    let key = s.storage_key();
    coffer_storage::write(state.store.as_ref(), |t| {
        let mut r: SecretRecord =
            store::get(t, store::SECRETS, &key)?.ok_or_else(super::error::not_found)?;
        let current = r.with_stage(CURRENT).map(|v| v.id.clone());
        if current.as_deref() != Some(token) {
            return Err(SmError::Internal(format!(
                "finishSecret did not make version {token} AWSCURRENT"
            )));
        }
        if let Some(v) = r.version_mut(token) {
            v.stages.retain(|x| x != PENDING);
        }
        r.rotation.last_rotated = Some(now);
        r.rotation.next_rotation = r
            .rotation
            .rules
            .as_ref()
            .and_then(|x| next_rotation(x, now, state.random.as_ref()));
        store::put_secret(t, &r)
    })
    .map_err(|e| e.to_string())
}

/// The secrets whose rotation is due at `now` (the scheduler job runs them).
pub fn due(s: &SecretRecord, now: OffsetDateTime) -> bool {
    s.deleted.is_none()
        && !s.is_replica()
        && s.rotation.enabled
        && s.rotation.next_rotation.is_some_and(|n| n <= now)
}

/// Claims a rotation the schedule made due: in one transaction, re-reads the secret,
/// checks that it is still due (a RotateSecret or CancelRotateSecret may have come in
/// since the scan) and moves `NextRotationDate` to the next window of its current rules,
/// so a failing function is retried at the next scheduled time rather than every
/// scheduler tick, and no other node starts the same rotation. Returns the claimed record.
pub fn claim_scheduled(
    state: &State,
    key: &str,
    now: OffsetDateTime,
) -> Result<Option<SecretRecord>, SmError> {
    coffer_storage::write(state.store.as_ref(), |t| {
        let Some(mut r) = store::get::<SecretRecord>(t, store::SECRETS, key)? else {
            return Ok(None);
        };
        if !due(&r, now) {
            return Ok(None);
        }
        r.rotation.next_rotation = r
            .rotation
            .rules
            .as_ref()
            .and_then(|x| next_rotation(x, now, state.random.as_ref()));
        store::put_secret(t, &r)?;
        Ok(Some(r))
    })
}

/// Runs a rotation [`claim_scheduled`] claimed. An unfinished rotation is reattempted
/// with its own token, as AWS does.
pub fn run_claimed(state: &State, claimed: &SecretRecord) {
    let token = versions::pending_version(claimed)
        .map(|v| v.id.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    run(state, claimed, &token);
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::{Random, SeededRandom};
    use time::macros::datetime;

    /// A scheduled claim re-reads the secret: one scanned as due but cancelled (or
    /// rescheduled) before the claim is not rotated, and a due one moves to its next window
    /// under its stored rules.
    #[test]
    fn a_claim_checks_the_stored_record_and_moves_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::test_support::state(dir.path());
        let now = state.clock.now();
        let mut s = SecretRecord::example("db", now);
        s.rotation = store::RotationConfig {
            enabled: true,
            lambda_arn: Some("arn:aws:lambda:us-east-1:111122223333:function:f".into()),
            rules: Some(rules(Some(1), None, None)),
            last_rotated: None,
            next_rotation: Some(now - Duration::minutes(1)),
        };
        let put = |s: &SecretRecord| {
            coffer_storage::write(state.store.as_ref(), |t| store::put_secret(t, s)).unwrap()
        };
        let key = s.storage_key();

        let mut cancelled = s.clone();
        cancelled.rotation.enabled = false;
        put(&cancelled);
        assert!(claim_scheduled(&state, &key, now).unwrap().is_none());

        put(&s);
        let claimed = claim_scheduled(&state, &key, now).unwrap().unwrap();
        let next = claimed.rotation.next_rotation.unwrap();
        assert!(next > now, "moved to the next window: {next}");
        assert!(
            claim_scheduled(&state, &key, now).unwrap().is_none(),
            "claimed once"
        );
    }

    fn rules(days: Option<i64>, expr: Option<&str>, window: Option<&str>) -> RotationRules {
        RotationRules {
            after_days: days,
            expression: expr.map(Into::into),
            duration: window.map(Into::into),
        }
    }

    #[test]
    fn windows_follow_aws_defaults() {
        let from = datetime!(2026-03-01 13:17:05 UTC);
        // Days: midnight UTC of the due day, to the end of that day.
        let w = window_after(&rules(Some(10), None, None), from).unwrap();
        assert_eq!(w, (datetime!(2026-03-11 0:00 UTC), Duration::days(1)));
        let w = window_after(&rules(None, Some("rate(2 days)"), Some("3h")), from).unwrap();
        assert_eq!(w, (datetime!(2026-03-03 0:00 UTC), Duration::hours(3)));
        // Hours: on the hour, one hour long.
        let w = window_after(&rules(None, Some("rate(6 hours)"), None), from).unwrap();
        assert_eq!(w, (datetime!(2026-03-01 19:00 UTC), Duration::HOUR));
        // cron: when it fires; daily, so until the end of that day, or `Duration`.
        let w = window_after(&rules(None, Some("cron(0 16 * * ? *)"), None), from).unwrap();
        assert_eq!(w, (datetime!(2026-03-01 16:00 UTC), Duration::hours(8)));
        let w = window_after(&rules(None, Some("cron(0 16 * * ? *)"), Some("2h")), from).unwrap();
        assert_eq!(w, (datetime!(2026-03-01 16:00 UTC), Duration::hours(2)));
        assert_eq!(window_after(&rules(None, None, None), from), None);
    }

    /// The point in the window comes from the injected randomness: the same seed picks the
    /// same second, every pick lies inside the window, and picks spread over it.
    #[test]
    fn rotation_time_is_drawn_within_the_window() {
        let from = datetime!(2026-03-01 13:17:05 UTC);
        let r = rules(None, Some("rate(2 days)"), Some("3h"));
        let (start, len) = window_after(&r, from).unwrap();
        let a = next_rotation(&r, from, &SeededRandom::new(42)).unwrap();
        let b = next_rotation(&r, from, &SeededRandom::new(42)).unwrap();
        assert_eq!(a, b, "deterministic under a seeded generator");
        let expected = start + Duration::seconds(SeededRandom::new(42).below(3 * 3600) as i64);
        assert_eq!(a, expected);
        let g = SeededRandom::new(1);
        let picks: Vec<OffsetDateTime> = (0..200)
            .map(|_| next_rotation(&r, from, &g).unwrap())
            .collect();
        assert!(picks.iter().all(|p| *p >= start && *p < start + len));
        let early = picks.iter().filter(|p| **p < start + len / 2).count();
        assert!(
            (50..150).contains(&early),
            "spread over the window: {early}"
        );
    }
}
