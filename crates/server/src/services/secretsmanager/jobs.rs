//! Secrets Manager's scheduled work, judged by the injected clock: purging secrets whose
//! recovery window has ended (record and every version), and running due rotations.
//!
//! Two jobs, so a rotation waiting on a slow rotation function never holds up purging;
//! and each due rotation runs on a blocking thread of its own, so one hung webhook (up to
//! 60 s a step) delays no other secret. A rotation is claimed before it runs: its
//! `NextRotationDate` moves to the next window in storage first
//! (`rotation::claim_scheduled`, which also checks that the stored record is still due),
//! so neither this node's next tick nor another node that takes the job's lease starts it
//! again; and a rotation still running when its next window comes is not started twice
//! on its node.

use super::error::SmError;
use super::rotation;
use super::store::{self, SecretRecord};
use crate::State;
use crate::scheduler::Job;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

pub fn jobs() -> Vec<Job> {
    vec![
        Job {
            name: "secretsmanager-purge",
            every: Duration::from_secs(60),
            run: Arc::new(|s: &Arc<State>| purge(s).map(|_| ()).map_err(|e| e.to_string())),
        },
        Job {
            name: "secretsmanager-rotation",
            every: Duration::from_secs(60),
            run: Arc::new(|s: &Arc<State>| start_due_rotations(s).map_err(|e| e.to_string())),
        },
    ]
}

/// Removes the secrets whose recovery window has ended.
pub fn purge(state: &State) -> Result<usize, SmError> {
    let now = state.clock.now();
    let purged = coffer_storage::write(state.store.as_ref(), |t| purge_due(t, now))?;
    if purged > 0 {
        tracing::info!(count = purged, "purged deleted secrets");
    }
    Ok(purged)
}

/// Claims every due rotation here (`rotation::claim_scheduled`, one short transaction
/// each), then runs each on a thread of its own (outside any transaction: rotation calls
/// the function, which calls back into coffer) and returns without waiting. A secret whose
/// previous rotation is still running on this node is left alone.
pub fn start_due_rotations(state: &Arc<State>) -> Result<(), SmError> {
    let now = state.clock.now();
    let all = coffer_storage::read(state.store.as_ref(), |t| store::scan_secrets(t, ""))?;
    let handle = tokio::runtime::Handle::try_current().ok();
    for s in all.into_iter().filter(|s| rotation::due(s, now)) {
        let Some(in_flight) = InFlight::claim(state, &s) else {
            continue;
        };
        let claimed = match rotation::claim_scheduled(state, &s.storage_key(), now) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                // One secret's storage error does not hold up the others.
                tracing::warn!(secret = %s.arn(), error = %e, "could not claim a due rotation");
                continue;
            }
        };
        let st = state.clone();
        let work = move || {
            rotation::run_claimed(&st, &claimed);
            drop(in_flight);
        };
        match &handle {
            Some(h) => {
                h.spawn_blocking(work);
            }
            None => work(),
        }
    }
    Ok(())
}

/// The secrets whose rotation is running on this node (`State::sm_rotations`); an entry
/// lives as long as its `InFlight` value.
#[derive(Debug, Default)]
pub struct Running(Arc<Mutex<BTreeSet<String>>>);

struct InFlight {
    running: Arc<Mutex<BTreeSet<String>>>,
    secret: String,
}

impl InFlight {
    fn claim(state: &State, s: &SecretRecord) -> Option<Self> {
        let running = Arc::clone(&state.sm_rotations.0);
        let secret = s.storage_key();
        let fresh = lock(&running).insert(secret.clone());
        fresh.then_some(InFlight { running, secret })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.running).remove(&self.secret);
    }
}

fn lock(set: &Mutex<BTreeSet<String>>) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
    set.lock().unwrap_or_else(|p| p.into_inner())
}

fn purge_due(t: &mut dyn coffer_storage::Txn, now: OffsetDateTime) -> Result<usize, SmError> {
    let all = store::scan_secrets(t, "")?;
    let due: Vec<&SecretRecord> = all
        .iter()
        .filter(|s| s.purge_at.is_some_and(|p| p <= now) && s.deleted.is_some())
        .collect();
    for s in &due {
        store::remove_secret(t, s)?;
    }
    Ok(due.len())
}
