//! Blocking work from request handlers.
//!
//! Requests are handled on the runtime's worker threads: most of them (a cached caller, a
//! storage-free operation such as `GetCallerIdentity` or a KMS call on a cached key) never
//! block, and handing each one to a blocking thread cost more than the rest of the
//! pipeline. What does block (storage writes, reads that may wait on the network or a lock,
//! reading audit segments) goes through [`run`], which tells the runtime to move this
//! worker's other tasks to another thread for the duration, so nothing else waits behind
//! the blocked call. Embedded reads run in place: the handoff cost more than they do.

/// Runs `f`, which may block, from wherever the caller is: a runtime worker (the worker's
/// queue moves to another thread while `f` runs), a blocking thread, or no runtime at all.
/// On a current-thread runtime, which cannot hand its queue over, `f` simply runs; the
/// server never uses one.
pub fn run<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_outside_a_runtime() {
        assert_eq!(run(|| 1 + 1), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn runs_on_a_current_thread_runtime() {
        assert_eq!(run(|| 2), 2);
    }

    /// With one worker, a task blocked in `run` must not hold up a task queued behind it on
    /// the same worker (spawned from the worker, it sits in that worker's own queue).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn other_tasks_progress_while_a_worker_blocks() {
        let waited = tokio::spawn(async {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let other = tokio::spawn(async move {
                let _ = tx.send(());
            });
            let got = run(|| rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
            other.await.unwrap();
            got
        });
        assert!(
            waited.await.unwrap(),
            "the queued task ran while this one blocked"
        );
    }
}
