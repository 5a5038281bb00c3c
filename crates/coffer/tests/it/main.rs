//! Integration tests: the real `coffer` binary driven by the AWS SDK for Rust.
//! One test binary (faster to link); each test starts its own server.

mod audit;
mod auth;
mod authz;
mod kit;
mod plaintext;
