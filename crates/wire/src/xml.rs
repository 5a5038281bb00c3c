//! A tiny XML writer for query-protocol responses: elements and escaped text, nothing else.

use crate::wiped::reserve_str;

/// Appends elements to a buffer, escaping all text and attribute values. The buffer grows
/// without leaving copies behind (see [`crate::wiped`]): some replies carry credentials.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

/// At least the length of `text` once escaped: each special character grows by at most 5
/// bytes (`'` becomes `&apos;`); the characters dropped only shorten it.
fn escaped_len_bound(text: &str) -> usize {
    let special = text
        .bytes()
        .filter(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\r'))
        .count();
    text.len() + 5 * special
}

/// Escapes the five XML special characters, and drops characters XML 1.0 cannot carry
/// (most C0 controls, U+FFFE/U+FFFF) so output always parses.
pub fn escape(text: &str, out: &mut String) {
    // Runs of characters that need nothing are copied whole: most text has none at all.
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\t' | '\n' => continue,
            '\r' => "&#xD;",
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => "",
            _ => continue,
        };
        out.push_str(&text[plain..i]);
        out.push_str(replacement);
        plain = i + c.len_utf8();
    }
    out.push_str(&text[plain..]);
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
        reserve_str(&mut self.buf, tag.len() + 2);
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag xmlns="...">` for a response's root element.
    pub fn start_with_xmlns(&mut self, tag: &str, xmlns: &str) -> &mut Self {
        reserve_str(&mut self.buf, tag.len() + escaped_len_bound(xmlns) + 11);
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(" xmlns=\"");
        escape(xmlns, &mut self.buf);
        self.buf.push_str("\">");
        self
    }

    /// `</tag>`.
    pub fn end(&mut self, tag: &str) -> &mut Self {
        reserve_str(&mut self.buf, tag.len() + 3);
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag>escaped text</tag>`.
    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        reserve_str(&mut self.buf, 2 * tag.len() + 5 + escaped_len_bound(text));
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
    // Room for a typical response, so building it does not regrow the buffer.
    let mut w = XmlWriter {
        buf: String::with_capacity(512),
    };
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

    /// The character-at-a-time definition that `escape` copies runs of.
    fn escape_reference(text: &str) -> String {
        let mut out = String::new();
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
        out
    }

    proptest! {
        #[test]
        fn escape_matches_the_reference(text in "[a<&>\"'\t\n\r\u{1}\u{FFFE}\u{FFFF}é€😀 -~]{0,40}") {
            let mut out = String::from("kept:");
            escape(&text, &mut out);
            prop_assert_eq!(out, format!("kept:{}", escape_reference(&text)));
        }

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
