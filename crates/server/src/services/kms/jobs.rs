//! KMS's scheduled work: destroying keys whose deletion window has ended, rotating keys
//! that are due, and expiring imported material. Each runs under the scheduler's lease,
//! and due-ness is judged by the injected clock (tests advance it instead of sleeping).

use super::store::{self, AliasRecord, KeyRecord};
use super::{KmsError, import, replicate, rotation};
use crate::State;
use crate::scheduler::Job;
use coffer_kms::spec::KeyState;
use coffer_storage::Txn;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

pub fn jobs() -> Vec<Job> {
    let every = Duration::from_secs(60);
    vec![
        Job {
            name: "kms-key-deletion",
            every,
            run: Arc::new(|s: &State| run(s, delete_due)),
        },
        Job {
            name: "kms-key-rotation",
            every,
            run: Arc::new(|s: &State| run(s, |t, s, now| rotate_due(t, s, now))),
        },
        Job {
            name: "kms-import-expiry",
            every,
            run: Arc::new(|s: &State| run(s, |t, _, now| import::expire_all(t, now))),
        },
    ]
}

fn run(
    state: &State,
    body: impl Fn(&mut dyn Txn, &State, OffsetDateTime) -> Result<usize, KmsError>,
) -> Result<(), String> {
    let now = state.clock.now();
    let n = coffer_storage::write(state.store.as_ref(), |t| body(t, state, now))
        .map_err(|e| e.to_string())?;
    if n > 0 {
        tracing::info!(count = n, "kms job changed keys");
    }
    Ok(())
}

fn all_keys(t: &mut dyn Txn) -> Result<Vec<KeyRecord>, KmsError> {
    Ok(
        store::scan::<KeyRecord>(t, store::KEYS, "", None, usize::MAX)?
            .into_iter()
            .map(|(_, k)| k)
            .collect(),
    )
}

/// Destroys every key whose deletion date has passed: its record (with all sealed
/// material), its aliases, its grants and any pending import parameters.
pub fn delete_due(t: &mut dyn Txn, _: &State, now: OffsetDateTime) -> Result<usize, KmsError> {
    let due: Vec<KeyRecord> = all_keys(t)?
        .into_iter()
        .filter(|k| {
            k.state == KeyState::PendingDeletion && k.deletion_date.is_some_and(|d| d <= now)
        })
        .collect();
    for k in &due {
        destroy(t, k)?;
        if k.is_multi_region() && !k.is_primary() {
            replicate::forget_replica(t, k, now)?;
        }
    }
    Ok(due.len())
}

fn destroy(t: &mut dyn Txn, k: &KeyRecord) -> Result<(), KmsError> {
    let sk = k.storage_key();
    t.delete(store::KEYS, sk.as_bytes())?;
    t.delete(store::IMPORTS, sk.as_bytes())?;
    let grants = t.scan(store::GRANTS, format!("{sk}/").as_bytes(), None, usize::MAX)?;
    for (g, _) in grants {
        t.delete(store::GRANTS, &g)?;
    }
    let prefix = format!("{}/{}/", k.region, k.account);
    let aliases: Vec<(String, AliasRecord)> =
        store::scan(t, store::ALIASES, &prefix, None, usize::MAX)?;
    for (ak, a) in aliases {
        if a.target_key_id == k.key_id {
            t.delete(store::ALIASES, ak.as_bytes())?;
        }
    }
    tracing::info!(key = %k.arn(), "KMS key and its material destroyed");
    Ok(())
}

fn rotate_due(t: &mut dyn Txn, state: &State, now: OffsetDateTime) -> Result<usize, KmsError> {
    let mut n = 0;
    for mut k in all_keys(t)? {
        let due = k.state == KeyState::Enabled
            && k.rotation.enabled
            && k.rotation.next.is_some_and(|d| d <= now)
            && (!k.is_multi_region() || k.is_primary());
        if !due {
            continue;
        }
        rotation::rotate(t, &state.barrier, &mut k, now, "AUTOMATIC")?;
        rotation::reschedule(&mut k, now);
        store::put_key(t, &k)?;
        n += 1;
    }
    Ok(n)
}
