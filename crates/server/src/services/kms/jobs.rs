//! KMS's scheduled work: destroying keys whose deletion window has ended, rotating keys
//! that are due, and expiring imported material, in one job under the scheduler's lease;
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

/// One job, one scan of the key table per period: each key is checked for every kind of
/// due work, instead of three jobs each reading every key.
pub fn jobs() -> Vec<Job> {
    vec![Job {
        name: "kms-maintenance",
        every: Duration::from_secs(60),
        run: Arc::new(|s: &Arc<State>| {
            let now = s.clock.now();
            let n = coffer_storage::write(s.store.as_ref(), |t| maintain(t, s, now))
                .map_err(|e: KmsError| e.to_string())?;
            if n > 0 {
                tracing::info!(count = n, "kms maintenance changed keys");
            }
            Ok(())
        }),
    }]
}

/// What is due for a key at `now`.
fn due(k: &KeyRecord, now: OffsetDateTime) -> (bool, bool, bool) {
    let delete = k.state == KeyState::PendingDeletion && k.deletion_date.is_some_and(|d| d <= now);
    let rotate = k.state == KeyState::Enabled
        && k.rotation.enabled
        && k.rotation.next.is_some_and(|d| d <= now)
        && (!k.is_multi_region() || k.is_primary());
    let expire = k.valid_to.is_some_and(|v| v <= now);
    (delete, rotate, expire)
}

/// Destroys keys whose deletion window has ended (record, every material version,
/// aliases, grants, import parameters), rotates due keys, and expires imported material.
/// A key with work due is read again before acting, because acting on one key (rotating
/// a multi-Region primary, forgetting a replica) rewrites others of its set.
pub fn maintain(t: &mut dyn Txn, state: &State, now: OffsetDateTime) -> Result<usize, KmsError> {
    let scanned: Vec<(String, KeyRecord)> = store::scan(t, store::KEYS, "", None, usize::MAX)?;
    let mut changed = 0;
    for (sk, _) in scanned
        .iter()
        .filter(|(_, k)| due(k, now) != (false, false, false))
    {
        let Some(mut k) = store::get::<KeyRecord>(t, store::KEYS, sk)? else {
            continue;
        };
        let (delete, rotate, expire) = due(&k, now);
        if delete {
            destroy(t, &k)?;
            if k.is_multi_region() && !k.is_primary() {
                replicate::forget_replica(t, &k, now)?;
            }
        } else {
            if rotate {
                rotation::rotate(t, &state.barrier, &mut k, now, "AUTOMATIC")?;
                rotation::reschedule(&mut k, now);
            }
            if expire {
                import::remove_material(&mut k);
            }
            store::put_key(t, &k)?;
        }
        changed += 1;
    }
    Ok(changed)
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
