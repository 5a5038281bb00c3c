//! A tiny XML writer for query-protocol responses: elements and escaped text, nothing else.

use crate::wiped::reserve_str;

/// Appends elements to a buffer, escaping all text and attribute values. The buffer grows
/// without leaving copies behind (see [`crate::wiped`]): some replies carry credentials.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

/// Bytes that [`escape`] must look at: the five special characters, the C0 controls
/// other than tab and newline (carriage return is escaped, the rest dropped), and 0xEF,
/// the first byte of U+FFFE and U+FFFF in UTF-8. Any other byte is copied as it is, so
/// text is scanned a byte at a time through this table rather than decoded into chars.
const ATTENTION: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[0xEF] = true;
    t
};

/// Escapes the five XML special characters, and drops characters XML 1.0 cannot carry
/// (most C0 controls, U+FFFE/U+FFFF) so output always parses. `out` grows as
/// [`reserve_str`] grows it, leaving no copy behind.
pub fn escape(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    // Runs of bytes that need nothing are copied whole: most text has none at all.
    let mut plain = 0;
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| ATTENTION[usize::from(b)]) {
        let at = i + off;
        let (replacement, len) = match bytes[at] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\r' => ("&#xD;", 1),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF; other characters starting
            // with 0xEF are ordinary text.
            0xEF if matches!(bytes.get(at + 1..at + 3), Some([0xBF, 0xBE | 0xBF])) => ("", 3),
            0xEF => {
                i = at + 1;
                continue;
            }
            _ => ("", 1),
        };
        // `at` and `at + len` are character boundaries: `at` holds an ASCII byte or the
        // first byte of a three-byte character, and `len` spans exactly that character.
        push(out, &text[plain..at]);
        push(out, replacement);
        plain = at + len;
        i = plain;
    }
    push(out, &text[plain..]);
}

fn push(out: &mut String, s: &str) {
    reserve_str(out, s.len());
    out.push_str(s);
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
        // Room for the unescaped text: escaping grows the buffer further if it must.
        reserve_str(&mut self.buf, tag.len() + xmlns.len() + 11);
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
        reserve_str(&mut self.buf, 2 * tag.len() + 5 + text.len());
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
    let response = [action, "Response"].concat();
    let result_tag = [action, "Result"].concat();
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
        fn escape_matches_the_reference(text in "[a<&>\"'\t\n\r\u{1}\u{1F}\u{FFFE}\u{FFFF}\u{FFFD}\u{F900}\u{EFBF}é€😀 -~]{0,40}") {
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
