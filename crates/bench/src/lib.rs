//! coffer bench: a SigV4-signing load generator with a concurrency sweep, and a bare HTTP
//! floor server.
//!
//! The same client measures coffer, a peer (moto_server, a real AWS endpoint) and the floor
//! in one run, so the numbers are comparable. For each concurrency level `c` the tool opens
//! exactly `c` keep-alive HTTP/1.1 connections, one per worker; every worker signs each
//! request afresh (real SigV4 with the current `x-amz-date`), reads the whole response and
//! records its latency. A warmup phase is run and discarded before the measured phase.
//!
//! ```text
//! coffer bench --endpoint http://127.0.0.1:4566 --scenario sts-get-caller-identity \
//!              --concurrency 1,16,64 --duration 10s --warmup 1s
//! ```

mod config;
mod conn;
mod error;
mod floor;
mod load;
mod report;
mod scenario;

pub use coffer_wire::sigv4::Credentials;
pub use config::{BenchConfig, credentials_from_env};
pub use error::BenchError;
pub use floor::{FLOOR_BODY, serve_floor, serve_floor_on};
pub use load::run;
pub use report::{LevelReport, format_json, format_markdown, format_markdown_header, format_table};
pub use scenario::{
    RequestTemplate, SCENARIO_NAMES, Scenario, SetupClient, SetupFn, SetupFuture, scenario,
};
