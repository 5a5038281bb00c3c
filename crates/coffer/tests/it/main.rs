//! Integration tests: the real `coffer` binary driven by the AWS SDK for Rust.
//! One test binary (faster to link); each test starts its own server.

// Test helpers fail loudly by design, and signing real requests needs the real wall clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod audit;
mod auth;
mod authz;
mod envelope;
mod kit;
mod kms;
mod kms_matrix;
mod params;
mod pins;
mod plaintext;
mod secrets;
mod unseal;
