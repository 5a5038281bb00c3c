//! KMS domain logic, free of I/O: what a key spec allows, which key states permit which
//! operations, and coffer's ciphertext blob format. The server's KMS service module adds
//! storage, authorization, audit and the wire on top.

mod wire_enum;

pub mod blob;
pub mod context;
pub mod messages;
pub mod ops;
pub mod spec;

pub use wire_enum::{ParseEnumError, Unsupported, WireEnum};
