//! The coffer server: listener, request pipeline, identity (IAM/STS), CloudTrail, the
//! sealed barrier and the scheduler. See ARCHITECTURE.md for the request path.

pub mod api;
pub mod authz;
pub mod barrier;
pub mod blocking;
pub mod bootstrap;
pub mod config;
pub mod credential_cache;
pub mod events;
pub mod fsutil;
pub mod identity;
pub mod metrics;
pub mod outbound;
mod pipeline;
mod record;
pub mod record_cache;
mod records;
pub mod scheduler;
mod server;
pub mod services;
#[cfg(test)]
mod test_support;

pub use bootstrap::{Startup, open_state};
pub use server::{Running, run};

use api::Service;
use barrier::Barrier;
use coffer_audit::AuditLog;
use coffer_storage::Storage;
use coffer_types::{AdjustableClock, SharedClock};
use config::Config;
use std::sync::Arc;

/// Everything a request handler may use. Built once at start-up.
pub struct State {
    pub config: Config,
    /// Storage, wrapped so that writes to access keys invalidate `credentials`.
    pub store: Arc<dyn Storage>,
    /// Resolved credentials of recent callers (see `credential_cache`).
    pub credentials: Arc<credential_cache::CredentialCache>,
    /// Recently used KMS keys, parsed (see `services::kms::KeyCache`).
    pub kms_keys: Arc<services::kms::KeyCache>,
    /// Recently read secrets and sealed values (see
    /// `services::secretsmanager::store::ReadCache`).
    pub sm_reads: services::secretsmanager::store::ReadCache,
    /// Recently read parameters and versions (see `services::ssm::store::ReadCache`).
    pub ssm_reads: services::ssm::store::ReadCache,
    /// Secrets Manager rotations running on this node (see `services::secretsmanager::jobs`).
    pub sm_rotations: services::secretsmanager::jobs::Running,
    pub barrier: Arc<Barrier>,
    pub clock: SharedClock,
    /// Randomness for scheduling decisions (rotation windows); seeded with `--test-clock`.
    pub random: coffer_types::SharedRandom,
    /// Present only with `--test-clock`: the same clock as `clock`, movable by tests.
    pub test_clock: Option<Arc<AdjustableClock>>,
    pub audit: Arc<AuditLog>,
    pub metrics: metrics::Metrics,
    pub services: Vec<Arc<dyn Service>>,
    /// Service events waiting for delivery (see `events`).
    pub events: events::Bus,
    /// Identifies this node in scheduler leases.
    pub node_id: String,
}
