//! Why a policy document was rejected.

/// A policy document that cannot be stored. `Display` is a one-line message meant to become
/// the message of `MalformedPolicyDocumentException`; wording follows AWS where AWS is known
/// to be specific, and adds the offending value where AWS is vague.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, wrong JSON types, or unknown elements.
    #[error("Syntax errors in policy: {0}")]
    Syntax(String),
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    #[error("The policy failed legacy parsing: unsupported Version {0:?}")]
    Version(String),
    #[error("Invalid effect: {0:?}; Effect must be \"Allow\" or \"Deny\"")]
    Effect(String),
    #[error("Statement cannot contain both {0} and {1}")]
    Both(&'static str, &'static str),
    #[error("Policy statement must contain actions.")]
    NoActions,
    #[error(
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. Found: {0:?}"
    )]
    Vendor(String),
    #[error("Policy statement must contain resources.")]
    NoResources,
    #[error("Resource {0} must be in ARN format or \"*\".")]
    Resource(String),
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    #[error("Invalid principal in policy: {0}")]
    Principal(String),
    #[error("Invalid Condition type : {0}.")]
    ConditionType(String),
    #[error("Policy document must contain at least one statement.")]
    NoStatements,
}
