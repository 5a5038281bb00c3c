//! Just enough PEM: one block of the expected label, base64 body. DER passes through.

use crate::{Error, Result};
use base64::Engine;
use zeroize::Zeroizing;

/// The DER bytes of `input`: decoded from PEM when it starts with `-----BEGIN`, as given
/// otherwise.
pub(crate) fn decode(input: &[u8], label: &str) -> Result<Zeroizing<Vec<u8>>> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Ok(Zeroizing::new(input.to_vec()));
    };
    let text = text.trim();
    if !text.starts_with("-----BEGIN") {
        return Ok(Zeroizing::new(input.to_vec()));
    }
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .strip_prefix(begin.as_str())
        .and_then(|t| t.strip_suffix(end.as_str()))
        .ok_or_else(|| Error::Config(format!("expected a PEM block labelled {label}")))?;
    let b64: Zeroizing<String> =
        Zeroizing::new(body.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| Error::Config("PEM body is not base64".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_der() {
        let pem = b"-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\n";
        assert_eq!(decode(pem, "PUBLIC KEY").unwrap().as_slice(), [0, 1, 2, 3]);
        assert!(decode(pem, "PRIVATE KEY").is_err());
        assert_eq!(decode(&[0x30, 0x82], "X").unwrap().as_slice(), [0x30, 0x82]);
    }
}
