//! SSM Parameter Store (awsJson1.1, `X-Amz-Target: AmazonSSM.<Op>`).
//!
//! Layout: `store` (records), `names` (name, selector and label rules), `values`
//! (SecureString encryption through KMS, tiers), `params` (put, get, delete, history),
//! `query` (GetParametersByPath, DescribeParameters and their filters), `labels`, `tags`,
//! `settings` (service settings), `policies` (parameter policies and their job).

mod error;
mod events;
mod labels;
mod names;
mod params;
pub mod policies;
mod query;
mod settings;
pub mod store;
mod tags;
mod values;

pub use error::SsmError;

use crate::api::{
    ApiInput, AuditInfo, AuditResource, Call, JsonService, Outcome, Service, json_call,
};
use crate::authz::{self, Ask};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub struct Ssm;

pub const TARGET_PREFIX: &str = "AmazonSSM";

/// The operations coffer serves; any other SSM operation is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    PutParameter,
    GetParameter,
    GetParameters,
    GetParametersByPath,
    DeleteParameter,
    DeleteParameters,
    DescribeParameters,
    GetParameterHistory,
    LabelParameterVersion,
    UnlabelParameterVersion,
    AddTagsToResource,
    RemoveTagsFromResource,
    ListTagsForResource,
    GetServiceSetting,
    UpdateServiceSetting,
    ResetServiceSetting,
}

impl Operation {
    const ALL: [Operation; 16] = [
        Self::PutParameter,
        Self::GetParameter,
        Self::GetParameters,
        Self::GetParametersByPath,
        Self::DeleteParameter,
        Self::DeleteParameters,
        Self::DescribeParameters,
        Self::GetParameterHistory,
        Self::LabelParameterVersion,
        Self::UnlabelParameterVersion,
        Self::AddTagsToResource,
        Self::RemoveTagsFromResource,
        Self::ListTagsForResource,
        Self::GetServiceSetting,
        Self::UpdateServiceSetting,
        Self::ResetServiceSetting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PutParameter => "PutParameter",
            Self::GetParameter => "GetParameter",
            Self::GetParameters => "GetParameters",
            Self::GetParametersByPath => "GetParametersByPath",
            Self::DeleteParameter => "DeleteParameter",
            Self::DeleteParameters => "DeleteParameters",
            Self::DescribeParameters => "DescribeParameters",
            Self::GetParameterHistory => "GetParameterHistory",
            Self::LabelParameterVersion => "LabelParameterVersion",
            Self::UnlabelParameterVersion => "UnlabelParameterVersion",
            Self::AddTagsToResource => "AddTagsToResource",
            Self::RemoveTagsFromResource => "RemoveTagsFromResource",
            Self::ListTagsForResource => "ListTagsForResource",
            Self::GetServiceSetting => "GetServiceSetting",
            Self::UpdateServiceSetting => "UpdateServiceSetting",
            Self::ResetServiceSetting => "ResetServiceSetting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// `ssm:<Operation>`, the IAM action.
    pub fn action(self) -> String {
        format!("ssm:{}", self.as_str())
    }

    pub fn read_only(self) -> bool {
        matches!(
            self,
            Self::GetParameter
                | Self::GetParameters
                | Self::GetParametersByPath
                | Self::DescribeParameters
                | Self::GetParameterHistory
                | Self::ListTagsForResource
                | Self::GetServiceSetting
        )
    }
}

impl Service for Ssm {
    fn signing_name(&self) -> &'static str {
        "ssm"
    }
    fn event_source(&self) -> &'static str {
        "ssm.amazonaws.com"
    }
    fn protocol(&self) -> coffer_wire::Protocol {
        coffer_wire::Protocol::AwsJson11
    }
    fn json_target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn call(&self, call: &Call<'_>, input: ApiInput<'_>) -> Outcome {
        json_call(self, call, input)
    }
}

impl JsonService for Ssm {
    type Operation = Operation;
    type Input = Value;
    type Error = SsmError;
    fn operation(name: &str) -> Option<Operation> {
        Operation::parse(name)
    }
    fn read_only(op: Operation) -> bool {
        op.read_only()
    }
    fn model() -> Option<&'static coffer_wire::model::ServiceModel> {
        Some(coffer_wire::model::ssm())
    }
    /// Parses the body and validates it against the SSM model before any work is done.
    fn decode(op: Operation, body: &[u8]) -> Result<Value, SsmError> {
        Ok(coffer_wire::model::ssm().decode(op.as_str(), body)?)
    }
    fn dispatch(
        call: &Call<'_>,
        op: Operation,
        i: Value,
        audit: &mut AuditInfo,
    ) -> Result<Value, SsmError> {
        use Operation as O;
        match op {
            O::PutParameter => params::put(call, typed(i)?, audit),
            O::GetParameter => params::get(call, typed(i)?, audit),
            O::GetParameters => params::get_many(call, typed(i)?, audit),
            O::DeleteParameter => params::delete(call, typed(i)?, audit),
            O::DeleteParameters => params::delete_many(call, typed(i)?, audit),
            O::GetParameterHistory => params::history(call, typed(i)?, audit),
            O::GetParametersByPath => query::by_path(call, typed(i)?, audit),
            O::DescribeParameters => query::describe(call, typed(i)?, audit),
            O::LabelParameterVersion => labels::label(call, typed(i)?, audit),
            O::UnlabelParameterVersion => labels::unlabel(call, typed(i)?, audit),
            O::AddTagsToResource => tags::add(call, typed(i)?, audit),
            O::RemoveTagsFromResource => tags::remove(call, typed(i)?, audit),
            O::ListTagsForResource => tags::list(call, typed(i)?, audit),
            O::GetServiceSetting => settings::get(call, typed(i)?, audit),
            O::UpdateServiceSetting => settings::update(call, typed(i)?, audit),
            O::ResetServiceSetting => settings::reset(call, typed(i)?, audit),
        }
    }
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, SsmError> {
    Ok(coffer_wire::json::from_value(v)?)
}

pub use coffer_wire::json::epoch;

/// Identity policies decide (parameters have no resource policies).
fn authorize(call: &Call<'_>, op: Operation, resource: &str) -> Result<(), SsmError> {
    let action = op.action();
    // A transaction only if the check reads something (an IAM user's policies), as KMS does.
    coffer_storage::read_each(call.state.store.as_ref(), |t| {
        let ask = Ask::new(&action, resource);
        authz::check(call, t, &ask, None).map_err(SsmError::from)
    })
}

/// The ARN of a parameter of the caller's account and region (a name given as an ARN is
/// its own ARN).
fn arn(call: &Call<'_>, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    store::param_arn(call.ctx.region.as_str(), call.ctx.principal.account, name)
}

fn audit_param(call: &Call<'_>, audit: &mut AuditInfo, name: &str) {
    audit.resources.push(AuditResource {
        arn: arn(call, name),
        account: call.ctx.principal.account,
        kind: "AWS::SSM::Parameter",
    });
}
