//! AWS protocol knowledge: SigV4, awsJson1.1 and query codecs, wire errors.
//!
//! Nothing here knows about services or storage; the server glues these pieces together.

pub mod error;
pub mod json;
pub mod model;
pub mod query;
pub mod sigv4;
pub mod wiped;
pub mod xml;

pub use error::{
    IAM_XMLNS, Protocol, Rendered, STS_XMLNS, WireError, render, render_with_xmlns,
    request_id_header,
};
pub use xml::{XmlWriter, query_response};
