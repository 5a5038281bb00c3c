//! IAM policy language: parsing, validation and AWS's evaluation logic. Pure functions.
//!
//! - [`parse`] / [`parse_with`] turn a JSON document into a [`PolicyDocument`] or a
//!   [`PolicyError`] whose message becomes `MalformedPolicyDocumentException`'s.
//! - [`PolicyDocument::evaluate`] answers for one document: explicit deny, allow (and
//!   whether a resource policy granted directly or delegated to the account), or nothing.
//! - [`authorize`] combines identity and resource policies the way AWS does, including
//!   cross-account rules and KMS-style key policies ([`ResourcePolicyMode::Required`]).
//!
//! No I/O and no clock: time arrives as `aws:CurrentTime` / `aws:EpochTime` in the
//! request's [`ConditionContext`] (see [`ConditionContext::global`]).

mod authz;
mod condition;
mod context;
mod error;
mod eval;
mod model;
mod parse;
mod pattern;

pub use authz::{AuthzInput, Decision, ResourcePolicyMode, authorize, combine};
pub use condition::{BaseOperator, Condition, Operator, SetQualifier};
pub use context::{ConditionContext, EvalRequest};
pub use error::PolicyError;
pub use eval::{Effectiveness, Grant};
pub use model::{
    Effect, KeysUsed, Patterns, PolicyDocument, PolicyKind, PrincipalElement, PrincipalType,
    Principals, Statement, Version,
};
pub use parse::{parse, parse_with};
