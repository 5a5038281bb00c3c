//! Shared vocabulary of coffer. Pure data and the injected [`Clock`]; no I/O.
//!
//! Every layer above depends on this crate; it depends on nothing of ours.

mod arn;
mod clock;
mod histogram;
mod ids;
mod principal;
mod random;

pub use arn::{Arn, ArnError, ArnParts};
pub use clock::{AdjustableClock, Clock, ManualClock, SharedClock, SystemClock};
pub use histogram::{Histogram, HistogramSnapshot};
pub use ids::{AccountId, AccountIdError, Region, RegionError};
pub use principal::{Principal, PrincipalKind, RequestContext};
pub use random::{Random, SeededRandom, SharedRandom};
