//! coffer's ciphertext blob for symmetric KMS keys (format version 1).
//!
//! Layout (frozen; fixtures in `tests/fixtures/` must decrypt in every future version):
//!
//! | bytes  | field                                                  |
//! |--------|--------------------------------------------------------|
//! | 1      | magic `0xCF`                                           |
//! | 1      | format version `0x01`                                  |
//! | 12     | owning account id, ASCII digits                        |
//! | 1      | key id length `L` (1..=64)                             |
//! | L      | key id, ASCII (`<uuid>` or `mrk-<hex>`)                |
//! | 4      | key material version, big-endian                       |
//! | 32     | salt                                                   |
//! | 12     | AES-GCM nonce                                          |
//! | n + 16 | AES-256-GCM ciphertext and tag                         |
//!
//! Everything up to and including the key version is the *header*. The message key is
//! HKDF-SHA256(ikm = the version's material, salt, info = `coffer/kms/blob/v1`), so each
//! blob has its own AES key and the 2^32-messages-per-key limit of random GCM nonces does
//! not apply to a busy KMS key. The associated data is `header || canonical(context)`, so
//! the account, key id, key version and every context pair are authenticated.
//! The region is deliberately not in the blob: a multi-Region replica shares the key id
//! and material and must decrypt what its primary encrypted.

use crate::context::{EncryptionContext, canonical};
use coffer_crypto::SecretKey;
use zeroize::Zeroizing;

const MAGIC: u8 = 0xCF;
const VERSION: u8 = 1;
const ACCOUNT_LEN: usize = 12;
const MAX_KEY_ID: usize = 64;
pub const SALT_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HKDF_INFO: &[u8] = b"coffer/kms/blob/v1";

/// What a blob says about the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    pub account: String,
    pub key_id: String,
    pub version: u32,
}

/// Why a blob was refused. The server answers every one of these with a bare
/// `InvalidCiphertextException`; the variant goes to the audit record only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("blob is truncated")]
    Truncated,
    #[error("not a coffer ciphertext blob")]
    BadMagic,
    #[error("unsupported blob format version {0}")]
    UnsupportedVersion(u8),
    #[error("malformed account id or key id in blob header")]
    BadHeader,
    #[error("ciphertext did not authenticate (tampered, wrong context or wrong key)")]
    Unauthentic,
}

/// A syntactically valid blob, not yet authenticated.
#[derive(Debug)]
pub struct ParsedBlob<'a> {
    pub header: BlobHeader,
    header_bytes: &'a [u8],
    salt: &'a [u8],
    sealed: &'a [u8],
}

/// Per-blob randomness, injected so fixtures are reproducible.
#[derive(Debug, Clone, Copy)]
pub struct BlobRandom {
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
}

impl BlobRandom {
    /// Fresh values from the system CSPRNG.
    pub fn fresh() -> Self {
        let mut r = Self {
            salt: [0; SALT_LEN],
            nonce: [0; NONCE_LEN],
        };
        coffer_crypto::fill_unique(&mut r.salt);
        coffer_crypto::fill_unique(&mut r.nonce);
        r
    }
}

fn valid_account(a: &str) -> bool {
    a.len() == ACCOUNT_LEN && a.bytes().all(|b| b.is_ascii_digit())
}

fn valid_key_id(k: &str) -> bool {
    (1..=MAX_KEY_ID).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
}

fn header_bytes(h: &BlobHeader) -> Result<Vec<u8>, BlobError> {
    if !valid_account(&h.account) || !valid_key_id(&h.key_id) {
        return Err(BlobError::BadHeader);
    }
    let mut out = Vec::with_capacity(2 + ACCOUNT_LEN + 1 + h.key_id.len() + 4);
    out.extend_from_slice(&[MAGIC, VERSION]);
    out.extend_from_slice(h.account.as_bytes());
    // valid_key_id bounds the length to 64, so it fits a byte.
    out.push(u8::try_from(h.key_id.len()).map_err(|_| BlobError::BadHeader)?);
    out.extend_from_slice(h.key_id.as_bytes());
    out.extend_from_slice(&h.version.to_be_bytes());
    Ok(out)
}

fn message_key(material: &[u8], salt: &[u8]) -> SecretKey {
    coffer_crypto::hkdf_sha256(material, salt, HKDF_INFO)
}

fn aad(header: &[u8], ctx: &EncryptionContext) -> Vec<u8> {
    let mut a = header.to_vec();
    a.extend_from_slice(&canonical(ctx));
    a
}

/// Encrypts `plaintext` under one version of a symmetric key's material.
pub fn encrypt(
    header: &BlobHeader,
    material: &[u8],
    ctx: &EncryptionContext,
    plaintext: &[u8],
    random: BlobRandom,
) -> Result<Vec<u8>, BlobError> {
    let head = header_bytes(header)?;
    let key = message_key(material, &random.salt);
    let sealed = coffer_crypto::seal_with_nonce(&key, random.nonce, &aad(&head, ctx), plaintext);
    let mut out = head;
    out.reserve(SALT_LEN + sealed.len());
    out.extend_from_slice(&random.salt);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Reads the header. Says nothing about authenticity: call [`decrypt`] for that.
pub fn parse(blob: &[u8]) -> Result<ParsedBlob<'_>, BlobError> {
    let mut r = Reader(blob);
    let [magic, version] = r.take_array::<2>()?;
    if magic != MAGIC {
        return Err(BlobError::BadMagic);
    }
    if version != VERSION {
        return Err(BlobError::UnsupportedVersion(version));
    }
    let account = ascii(r.take(ACCOUNT_LEN)?)?;
    let [len] = r.take_array::<1>()?;
    let key_id = ascii(r.take(usize::from(len))?)?;
    let key_version = u32::from_be_bytes(r.take_array::<4>()?);
    if !valid_account(&account) || !valid_key_id(&key_id) {
        return Err(BlobError::BadHeader);
    }
    let header_len = blob.len() - r.0.len();
    let salt = r.take(SALT_LEN)?;
    if r.0.len() < NONCE_LEN + TAG_LEN {
        return Err(BlobError::Truncated);
    }
    Ok(ParsedBlob {
        header: BlobHeader {
            account,
            key_id,
            version: key_version,
        },
        header_bytes: &blob[..header_len],
        salt,
        sealed: r.0,
    })
}

/// Authenticates and decrypts a parsed blob with the material of the version it names.
pub fn decrypt(
    blob: &ParsedBlob<'_>,
    material: &[u8],
    ctx: &EncryptionContext,
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    let key = message_key(material, blob.salt);
    coffer_crypto::open(&key, &aad(blob.header_bytes, ctx), blob.sealed)
        .map_err(|_| BlobError::Unauthentic)
}

fn ascii(b: &[u8]) -> Result<String, BlobError> {
    if b.is_ascii() {
        String::from_utf8(b.to_vec()).map_err(|_| BlobError::BadHeader)
    } else {
        Err(BlobError::BadHeader)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BlobError> {
        if self.0.len() < n {
            return Err(BlobError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], BlobError> {
        self.take(N)?.try_into().map_err(|_| BlobError::Truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> BlobHeader {
        BlobHeader {
            account: "111122223333".into(),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            version: 3,
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const MATERIAL: [u8; 32] = [7; 32];

    #[test]
    fn round_trip_and_header() {
        let c = ctx(&[("purpose", "test")]);
        let blob = encrypt(&header(), &MATERIAL, &c, b"hello", BlobRandom::fresh()).unwrap();
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.header, header());
        assert_eq!(
            decrypt(&parsed, &MATERIAL, &c).unwrap().as_slice(),
            b"hello"
        );
    }

    #[test]
    fn wrong_context_wrong_material_and_every_flipped_byte_fail() {
        let c = ctx(&[("ab", "c")]);
        let blob = encrypt(&header(), &MATERIAL, &c, b"secret", BlobRandom::fresh()).unwrap();
        let p = parse(&blob).unwrap();
        assert_eq!(
            decrypt(&p, &MATERIAL, &ctx(&[("a", "bc")])),
            Err(BlobError::Unauthentic)
        );
        assert_eq!(decrypt(&p, &[8; 32], &c), Err(BlobError::Unauthentic));
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            let ok = parse(&t).and_then(|p| decrypt(&p, &MATERIAL, &c)).is_ok();
            assert!(!ok, "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn truncations_and_foreign_blobs_are_refused() {
        let blob = encrypt(&header(), &MATERIAL, &ctx(&[]), b"x", BlobRandom::fresh()).unwrap();
        for n in 0..blob.len() {
            assert!(
                parse(&blob[..n])
                    .and_then(|p| decrypt(&p, &MATERIAL, &ctx(&[])))
                    .is_err()
            );
        }
        // An AWS KMS blob starts 0x01 0x02 0x02 0x00.
        assert_eq!(parse(&[1, 2, 2, 0, 0x78]).unwrap_err(), BlobError::BadMagic);
        let mut v2 = blob.clone();
        v2[1] = 2;
        assert_eq!(parse(&v2).unwrap_err(), BlobError::UnsupportedVersion(2));
    }

    #[test]
    fn invalid_headers_are_not_written() {
        let mut h = header();
        h.account = "12345".into();
        assert_eq!(
            encrypt(&h, &MATERIAL, &ctx(&[]), b"x", BlobRandom::fresh()),
            Err(BlobError::BadHeader)
        );
        let mut h = header();
        h.key_id = "k".repeat(65);
        assert!(encrypt(&h, &MATERIAL, &ctx(&[]), b"x", BlobRandom::fresh()).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes).map(|p| decrypt(&p, &MATERIAL, &EncryptionContext::new()));
        }
    }
}
