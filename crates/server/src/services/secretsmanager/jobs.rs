//! Secrets Manager's scheduled work, judged by the injected clock: purging secrets whose
//! recovery window has ended (record and every version), and running due rotations.

use super::error::SmError;
use super::rotation;
use super::store::{self, SecretRecord};
use crate::State;
use crate::scheduler::Job;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

pub fn jobs() -> Vec<Job> {
    vec![Job {
        name: "secretsmanager-maintenance",
        every: Duration::from_secs(60),
        run: Arc::new(|s: &State| maintain(s).map_err(|e| e.to_string())),
    }]
}

/// One scan of the secrets table: purge what is due, then rotate what is due (outside the
/// transaction: rotation calls the function, which calls back into coffer).
pub fn maintain(state: &State) -> Result<(), SmError> {
    let now = state.clock.now();
    let purged = coffer_storage::write(state.store.as_ref(), |t| purge_due(t, now))?;
    if purged > 0 {
        tracing::info!(count = purged, "purged deleted secrets");
    }
    let all = coffer_storage::read(state.store.as_ref(), |t| store::scan_secrets(t, ""))?;
    for s in all.iter().filter(|s| rotation::due(s, now)) {
        rotation::run_scheduled(state, s, now);
    }
    Ok(())
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
