//! The one error type every wire failure becomes, and its rendering per protocol.

use crate::xml::XmlWriter;
use http::{HeaderName, StatusCode};
use std::borrow::Cow;

/// The AWS wire protocols coffer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// KMS, Secrets Manager, SSM: `X-Amz-Target` plus a JSON body.
    AwsJson11,
    /// IAM, STS: form-encoded `Action=...` with XML responses.
    Query,
    /// REST-style JSON services (e.g. Backup).
    RestJson1,
    /// S3.
    RestXml,
}

/// The XML namespace IAM uses; the default for query error bodies.
pub const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The XML namespace STS uses.
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An AWS error as it appears on the wire: status, code (`__type` / `<Code>`), message,
/// and whether the caller (`Sender`) or the service (`Receiver`) is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub sender_fault: bool,
}

impl WireError {
    /// A client-fault error.
    pub fn sender(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            sender_fault: true,
        }
    }

    /// A service-fault error.
    pub fn receiver(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            sender_fault: false,
        }
    }

    /// The generic 500 whose name every protocol shares; details belong in logs, not here.
    pub fn internal(protocol: Protocol) -> Self {
        let code = match protocol {
            Protocol::AwsJson11 | Protocol::RestJson1 | Protocol::Query => "InternalFailure",
            Protocol::RestXml => "InternalError",
        };
        Self::receiver(
            StatusCode::INTERNAL_SERVER_ERROR,
            code,
            "We encountered an internal error. Please try again.",
        )
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for WireError {}

/// The header every coffer response carries so clients can quote the request id.
pub fn request_id_header(request_id: &str) -> (HeaderName, String) {
    (
        HeaderName::from_static("x-amzn-requestid"),
        request_id.to_owned(),
    )
}

/// A rendered response: status, headers (content type and `x-amzn-RequestId` included),
/// body.
pub type Rendered = (StatusCode, Vec<(HeaderName, String)>, Vec<u8>);

/// Renders `err` as `protocol` does, with IAM's namespace for query errors.
pub fn render(err: &WireError, protocol: Protocol, request_id: &str) -> Rendered {
    render_with_xmlns(err, protocol, request_id, IAM_XMLNS)
}

/// Renders `err`; `xmlns` is the query protocol's per-service namespace (ignored otherwise).
pub fn render_with_xmlns(
    err: &WireError,
    protocol: Protocol,
    request_id: &str,
    xmlns: &str,
) -> Rendered {
    let (content_type, mut headers, body) = match protocol {
        Protocol::AwsJson11 => ("application/x-amz-json-1.1", Vec::new(), json_body(err)),
        Protocol::RestJson1 => (
            "application/json",
            vec![(
                HeaderName::from_static("x-amzn-errortype"),
                err.code.to_string(),
            )],
            json_body(err),
        ),
        Protocol::Query => ("text/xml", Vec::new(), query_body(err, xmlns, request_id)),
        Protocol::RestXml => (
            "application/xml",
            Vec::new(),
            rest_xml_body(err, request_id),
        ),
    };
    headers.push((http::header::CONTENT_TYPE, content_type.to_owned()));
    headers.push(request_id_header(request_id));
    (err.status, headers, body)
}

fn json_body(err: &WireError) -> Vec<u8> {
    serde_json::json!({ "__type": err.code, "message": err.message })
        .to_string()
        .into_bytes()
}

fn fault(err: &WireError) -> &'static str {
    if err.sender_fault {
        "Sender"
    } else {
        "Receiver"
    }
}

fn query_body(err: &WireError, xmlns: &str, request_id: &str) -> Vec<u8> {
    let mut w = XmlWriter::new();
    w.start_with_xmlns("ErrorResponse", xmlns);
    w.start("Error");
    w.leaf("Type", fault(err));
    w.leaf("Code", &err.code);
    w.leaf("Message", &err.message);
    w.end("Error");
    w.leaf("RequestId", request_id);
    w.end("ErrorResponse");
    w.finish()
}

fn rest_xml_body(err: &WireError, request_id: &str) -> Vec<u8> {
    let mut w = XmlWriter::with_declaration();
    w.start("Error");
    w.leaf("Code", &err.code);
    w.leaf("Message", &err.message);
    w.leaf("RequestId", request_id);
    w.end("Error");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WireError {
        WireError::sender(
            StatusCode::BAD_REQUEST,
            "NotFoundException",
            "Key 'a<b>' & \"c\"",
        )
    }

    fn header<'a>(h: &'a [(HeaderName, String)], name: &str) -> Option<&'a str> {
        h.iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn json_error_shape() {
        let (status, headers, body) = render(&sample(), Protocol::AwsJson11, "rid-1");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            header(&headers, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(header(&headers, "x-amzn-requestid"), Some("rid-1"));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["__type"], "NotFoundException");
        assert_eq!(v["message"], "Key 'a<b>' & \"c\"");
    }

    #[test]
    fn rest_json_error_has_type_header() {
        let (_, headers, _) = render(&sample(), Protocol::RestJson1, "r");
        assert_eq!(
            header(&headers, "x-amzn-errortype"),
            Some("NotFoundException")
        );
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
    }

    #[test]
    fn query_error_shape() {
        let (_, headers, body) = render_with_xmlns(&sample(), Protocol::Query, "rid-2", STS_XMLNS);
        assert_eq!(header(&headers, "content-type"), Some("text/xml"));
        let body = String::from_utf8(body).unwrap();
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>Sender</Type><Code>NotFoundException</Code>\
             <Message>Key &apos;a&lt;b&gt;&apos; &amp; &quot;c&quot;</Message></Error>\
             <RequestId>rid-2</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn receiver_fault_and_rest_xml() {
        let e = WireError::internal(Protocol::Query);
        let (status, _, body) = render(&e, Protocol::Query, "r");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("<Type>Receiver</Type>")
        );
        let (_, _, body) = render(
            &WireError::internal(Protocol::RestXml),
            Protocol::RestXml,
            "r",
        );
        let body = String::from_utf8(body).unwrap();
        assert!(body.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
        ));
    }
}
