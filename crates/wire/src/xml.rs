//! A tiny XML writer for query-protocol responses: elements and escaped text, nothing else.

/// Appends elements to a buffer, escaping all text and attribute values.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

/// Escapes the five XML special characters, and drops characters XML 1.0 cannot carry
/// (most C0 controls, U+FFFE/U+FFFF) so output always parses.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#xD;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts with `<?xml version="1.0" encoding="UTF-8"?>` and a newline (as S3 does).
    pub fn with_declaration() -> Self {
        Self {
            buf: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_owned(),
        }
    }

    /// `<tag>`; `tag` is a trusted constant, never user input.
    pub fn start(&mut self, tag: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag xmlns="...">` for a response's root element.
    pub fn start_with_xmlns(&mut self, tag: &str, xmlns: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(" xmlns=\"");
        escape(xmlns, &mut self.buf);
        self.buf.push_str("\">");
        self
    }

    /// `</tag>`.
    pub fn end(&mut self, tag: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag>escaped text</tag>`.
    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        self.start(tag);
        escape(text, &mut self.buf);
        self.end(tag)
    }

    /// `<tag>` with text, only when `text` is `Some` (optional members are omitted).
    pub fn opt_leaf(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(tag, t);
        }
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

/// A full query-protocol success body:
/// `<{Action}Response xmlns><{Action}Result>...</{Action}Result><ResponseMetadata>
/// <RequestId>..</RequestId></ResponseMetadata></{Action}Response>`.
pub fn query_response(
    action: &str,
    xmlns: &str,
    request_id: &str,
    result: impl FnOnce(&mut XmlWriter),
) -> Vec<u8> {
    let response = format!("{action}Response");
    let result_tag = format!("{action}Result");
    let mut w = XmlWriter::new();
    w.start_with_xmlns(&response, xmlns);
    w.start(&result_tag);
    result(&mut w);
    w.end(&result_tag);
    w.start("ResponseMetadata");
    w.leaf("RequestId", request_id);
    w.end("ResponseMetadata");
    w.end(&response);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn query_response_shape() {
        let body = query_response("GetUser", crate::IAM_XMLNS, "rid", |w| {
            w.start("User")
                .leaf("UserName", "a&b")
                .opt_leaf("Path", None)
                .end("User");
        });
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult>\
             <User><UserName>a&amp;b</UserName></User></GetUserResult><ResponseMetadata>\
             <RequestId>rid</RequestId></ResponseMetadata></GetUserResponse>"
        );
    }

    #[test]
    fn escapes_all_five() {
        let mut s = String::new();
        escape("&<>\"'", &mut s);
        assert_eq!(s, "&amp;&lt;&gt;&quot;&apos;");
    }

    proptest! {
        #[test]
        fn escaping_round_trips(text in "\\PC{0,64}", ns in "\\PC{0,16}") {
            let mut w = XmlWriter::with_declaration();
            w.start_with_xmlns("R", &ns).leaf("T", &text).end("R");
            let xml = String::from_utf8(w.finish()).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let t = doc.root_element().first_element_child().unwrap();
            let expected: String = text
                .chars()
                .filter(|c| (*c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
                .filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
                .collect();
            prop_assert_eq!(t.text().unwrap_or(""), expected.as_str());
        }
    }
}
