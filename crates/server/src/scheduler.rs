//! Background work: one scheduler that services register jobs with.
//!
//! Each job has a name and a period. Before running, a node takes the job's lease in
//! storage (table `leases`), so with several nodes on one PostgreSQL database only one
//! runs a given job; the lease expires on its own if that node dies. Due-ness is judged by
//! the injected clock, so tests move time instead of sleeping.
//!
//! Jobs run concurrently, each on a blocking thread of its own: a slow job (a rotation
//! waiting on a webhook) delays no other. A job still running when it falls due again is
//! not started a second time on this node.

use crate::State;
use coffer_storage::{Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use time::OffsetDateTime;

const LEASES: &str = "leases";

/// A job body. Runs on a blocking thread (inside the runtime, so it may hand work of its
/// own to `spawn_blocking`); returns a short failure description on error.
pub type JobFn = Arc<dyn Fn(&Arc<State>) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    pub run: JobFn,
}

#[derive(Debug, Serialize, Deserialize)]
struct Lease {
    holder: String,
    expires: OffsetDateTime,
    last_run: Option<OffsetDateTime>,
}

/// Takes (or keeps) the lease for `job` if it is due; true when this node should run it.
pub fn try_acquire(state: &State, job: &Job) -> Result<bool, StorageError> {
    acquire_lease(
        state.store.as_ref(),
        &state.node_id,
        job.name,
        job.every,
        state.clock.now(),
    )
}

/// The lease decision itself: free, lapsed or already ours, and due by `every`.
pub fn acquire_lease(
    store: &dyn Storage,
    node: &str,
    name: &str,
    every: Duration,
    now: OffsetDateTime,
) -> Result<bool, StorageError> {
    let every = time::Duration::try_from(every).unwrap_or(time::Duration::HOUR);
    coffer_storage::write(store, |t| {
        let current = read_lease(t, name)?;
        let held_by_other = current
            .as_ref()
            .is_some_and(|l| l.holder != node && l.expires > now);
        let due = current
            .as_ref()
            .and_then(|l| l.last_run)
            .is_none_or(|last| last + every <= now);
        if held_by_other || !due {
            return Ok(false);
        }
        // The lease outlives a run comfortably; a crashed holder frees it when it lapses.
        take_lease(t, name, node, now, now + every * 2)
    })
}

/// A lease held for as long as its holder keeps renewing it, with no period between runs:
/// for work that is never due, only present (the event queue). True when this node holds
/// it: it was free, lapsed or ours. Ours with more than half of `ttl` left is kept as it
/// is, so a holder that asks often writes (and syncs) about twice per `ttl`.
pub fn hold_lease(
    store: &dyn Storage,
    node: &str,
    name: &str,
    ttl: Duration,
    now: OffsetDateTime,
) -> Result<bool, StorageError> {
    let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::HOUR);
    // Most calls decide on a read: the holder with time left keeps it, and a node that
    // sees another's live lease stays out, neither writing.
    match coffer_storage::read(store, |t| read_lease(t, name))? {
        Some(l) if l.holder == node && l.expires - now > ttl / 2 => return Ok(true),
        Some(l) if l.holder != node && l.expires > now => return Ok(false),
        _ => {}
    }
    coffer_storage::write(store, |t| {
        let current = read_lease(t, name)?;
        if current
            .as_ref()
            .is_some_and(|l| l.holder != node && l.expires > now)
        {
            return Ok(false);
        }
        take_lease(t, name, node, now, now + ttl)
    })
}

/// The stored lease `name`; an unreadable one counts as none (it is then overwritten).
fn read_lease(t: &mut dyn coffer_storage::Txn, name: &str) -> Result<Option<Lease>, StorageError> {
    Ok(t.get(LEASES, name.as_bytes())?
        .and_then(|b| serde_json::from_slice(&b).ok()))
}

/// Writes `node` as the holder of `name` until `expires`, run at `now`; always true.
fn take_lease(
    t: &mut dyn coffer_storage::Txn,
    name: &str,
    node: &str,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<bool, StorageError> {
    let lease = Lease {
        holder: node.to_owned(),
        expires,
        last_run: Some(now),
    };
    let bytes = serde_json::to_vec(&lease).map_err(|_| StorageError::corrupt_record("lease"))?;
    t.put(LEASES, name.as_bytes(), &bytes)?;
    Ok(true)
}

/// Runs every registered job when due, checking once per `tick` of real time.
pub async fn run(
    state: Arc<State>,
    jobs: Vec<Job>,
    tick: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(tick);
    let running: Vec<Arc<AtomicBool>> = jobs.iter().map(|_| Arc::default()).collect();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = interval.tick() => {}
        }
        for (job, busy) in jobs.iter().zip(&running) {
            if busy.swap(true, Ordering::AcqRel) {
                continue; // still running from an earlier tick
            }
            let (st, j, busy) = (state.clone(), job.clone(), busy.clone());
            tokio::spawn(async move {
                run_once(&st, &j).await;
                busy.store(false, Ordering::Release);
            });
        }
    }
}

async fn run_once(state: &Arc<State>, job: &Job) {
    let st = state.clone();
    let j = job.clone();
    let res = tokio::task::spawn_blocking(move || match try_acquire(&st, &j) {
        Ok(true) => (j.run)(&st).map(|()| true),
        Ok(false) => Ok(false),
        Err(e) => Err(format!("lease: {e}")),
    })
    .await;
    match res {
        Ok(Ok(true)) => tracing::debug!(job = job.name, "job ran"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!(job = job.name, error = %e, "job failed"),
        Err(e) => tracing::error!(job = job.name, error = %e, "job panicked"),
    }
}

/// Every job of the foundation and its services.
pub fn foundation_jobs() -> Vec<Job> {
    let mut jobs = vec![Job {
        name: "expired-sessions",
        every: Duration::from_secs(600),
        run: Arc::new(|s: &Arc<State>| purge_expired_sessions(s)),
    }];
    jobs.extend(crate::services::kms::jobs::jobs());
    jobs.extend(crate::services::secretsmanager::jobs::jobs());
    jobs.extend(crate::services::ssm::policies::jobs());
    jobs
}

/// Deletes STS session keys whose expiry has passed (they are refused already; this
/// keeps the table from growing without bound).
fn purge_expired_sessions(state: &State) -> Result<(), String> {
    let now = state.clock.now();
    crate::identity::purge_expired_sessions(state.store.as_ref(), now)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn one_node_runs_a_job_and_the_lease_lapses_if_it_dies() {
        let dir = tempfile::tempdir().unwrap();
        let st = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        // Can `node` run `job` (every 60 s) at t0 + `secs`?
        let at = |node: &str, job: &str, secs: i64| {
            acquire_lease(
                st.as_ref(),
                node,
                job,
                Duration::from_secs(60),
                t0 + time::Duration::seconds(secs),
            )
            .unwrap()
        };
        assert!(at("a", "job", 0));
        assert!(!at("a", "job", 30), "not due again yet");
        assert!(!at("b", "job", 90), "a holds the lease");
        assert!(at("a", "job", 61), "a keeps running it when due");
        // a dies: once its lease lapses (two periods after its last run), b takes over.
        assert!(!at("b", "job", 150));
        assert!(at("b", "job", 182));
        assert!(at("a", "other", 0), "jobs are independent");
    }

    #[test]
    fn a_held_lease_is_kept_by_its_holder_without_a_period() {
        let dir = tempfile::tempdir().unwrap();
        let st = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let ttl = Duration::from_secs(10);
        let at = |node: &str, ms: i64| {
            hold_lease(
                st.as_ref(),
                node,
                "q",
                ttl,
                t0 + time::Duration::milliseconds(ms),
            )
            .unwrap()
        };
        let expires = || {
            coffer_storage::read(st.as_ref(), |t| t.get(LEASES, b"q"))
                .unwrap()
                .map(|b| serde_json::from_slice::<Lease>(&b).unwrap().expires)
        };
        assert!(at("a", 0));
        for ms in [1, 2, 3, 4_000] {
            assert!(at("a", ms), "the holder keeps it at once, again and again");
        }
        assert_eq!(
            expires(),
            Some(t0 + time::Duration::seconds(10)),
            "renewed only once half of it is gone"
        );
        assert!(at("a", 6_000));
        assert_eq!(expires(), Some(t0 + time::Duration::seconds(16)));
        assert!(!at("b", 15_000), "a holds it");
        assert!(at("b", 16_000), "a stopped renewing: it lapsed");
        assert!(!at("a", 16_001));
    }
}
