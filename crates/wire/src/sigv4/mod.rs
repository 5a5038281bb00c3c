//! AWS Signature Version 4: signing (for clients coffer runs, such as the load tool) and
//! two-step verification for the server: [`parse`] the claim, look the secret up by
//! access key id, then [`verify`].

mod canonical;
mod error;
mod parse;
mod sign;
mod verify;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use canonical::{
    ALGORITHM, UNSIGNED_PAYLOAD, amz_date, parse_amz_date, signing_key, uri_encode,
};
pub use error::SigV4Error;
pub use parse::{Parsed, parse};
pub use sign::{
    Credentials, PayloadHash, SignInput, SignOutput, SigningKeyCache, presign, sign, sign_cached,
};
pub use verify::{MAX_PRESIGN_EXPIRES, Scope, VerifyOptions, verify, verify_with};
