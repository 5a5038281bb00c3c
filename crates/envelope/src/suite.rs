//! The eleven algorithm suites of the AWS Encryption SDK and the commitment policies that
//! decide which of them may be written and read.

use coffer_crypto::{EcdsaCurve, HkdfHash};

/// An ESDK algorithm suite: data-key length, key derivation, key commitment, signature.
///
/// Every suite encrypts with AES-GCM, a 12-byte IV and a 16-byte tag. Names follow the
/// ESDK's `ALG_AES_..._IV12_TAG16_...` identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlgorithmSuite {
    /// 0x0014: AES-128-GCM, the data key used directly. Not recommended.
    Aes128GcmNoKdf,
    /// 0x0046: AES-192-GCM, no key derivation. Not recommended.
    Aes192GcmNoKdf,
    /// 0x0078: AES-256-GCM, no key derivation. Not recommended.
    Aes256GcmNoKdf,
    /// 0x0114: AES-128-GCM, HKDF-SHA256.
    Aes128GcmHkdfSha256,
    /// 0x0146: AES-192-GCM, HKDF-SHA256.
    Aes192GcmHkdfSha256,
    /// 0x0178: AES-256-GCM, HKDF-SHA256.
    Aes256GcmHkdfSha256,
    /// 0x0214: AES-128-GCM, HKDF-SHA256, ECDSA P-256.
    Aes128GcmHkdfSha256EcdsaP256,
    /// 0x0346: AES-192-GCM, HKDF-SHA384, ECDSA P-384.
    Aes192GcmHkdfSha384EcdsaP384,
    /// 0x0378: AES-256-GCM, HKDF-SHA384, ECDSA P-384.
    Aes256GcmHkdfSha384EcdsaP384,
    /// 0x0478: AES-256-GCM, HKDF-SHA512, key commitment.
    Aes256GcmHkdfSha512Commit,
    /// 0x0578: AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384. The default.
    Aes256GcmHkdfSha512CommitEcdsaP384,
}

/// How the data key becomes the encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// The data key is the encryption key.
    Identity,
    /// HKDF with this hash (and, for committing suites, the message ID as salt).
    Hkdf(HkdfHash),
}

impl AlgorithmSuite {
    /// All suites, in ascending ID order.
    pub const ALL: [AlgorithmSuite; 11] = [
        Self::Aes128GcmNoKdf,
        Self::Aes192GcmNoKdf,
        Self::Aes256GcmNoKdf,
        Self::Aes128GcmHkdfSha256,
        Self::Aes192GcmHkdfSha256,
        Self::Aes256GcmHkdfSha256,
        Self::Aes128GcmHkdfSha256EcdsaP256,
        Self::Aes192GcmHkdfSha384EcdsaP384,
        Self::Aes256GcmHkdfSha384EcdsaP384,
        Self::Aes256GcmHkdfSha512Commit,
        Self::Aes256GcmHkdfSha512CommitEcdsaP384,
    ];

    /// The two-byte identifier written in the header.
    pub fn id(self) -> u16 {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmNoKdf => 0x0014,
            Aes192GcmNoKdf => 0x0046,
            Aes256GcmNoKdf => 0x0078,
            Aes128GcmHkdfSha256 => 0x0114,
            Aes192GcmHkdfSha256 => 0x0146,
            Aes256GcmHkdfSha256 => 0x0178,
            Aes128GcmHkdfSha256EcdsaP256 => 0x0214,
            Aes192GcmHkdfSha384EcdsaP384 => 0x0346,
            Aes256GcmHkdfSha384EcdsaP384 => 0x0378,
            Aes256GcmHkdfSha512Commit => 0x0478,
            Aes256GcmHkdfSha512CommitEcdsaP384 => 0x0578,
        }
    }

    /// The ESDK's name of the suite, e.g. `AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384`.
    pub fn esdk_name(self) -> &'static str {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmNoKdf => "AES_128_GCM_IV12_TAG16_NO_KDF",
            Aes192GcmNoKdf => "AES_192_GCM_IV12_TAG16_NO_KDF",
            Aes256GcmNoKdf => "AES_256_GCM_IV12_TAG16_NO_KDF",
            Aes128GcmHkdfSha256 => "AES_128_GCM_IV12_TAG16_HKDF_SHA256",
            Aes192GcmHkdfSha256 => "AES_192_GCM_IV12_TAG16_HKDF_SHA256",
            Aes256GcmHkdfSha256 => "AES_256_GCM_IV12_TAG16_HKDF_SHA256",
            Aes128GcmHkdfSha256EcdsaP256 => "AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256",
            Aes192GcmHkdfSha384EcdsaP384 => "AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
            Aes256GcmHkdfSha384EcdsaP384 => "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
            Aes256GcmHkdfSha512Commit => "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
            Aes256GcmHkdfSha512CommitEcdsaP384 => "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        }
    }

    /// Parses an ESDK suite name (as [`Self::esdk_name`], any case) or a hexadecimal ID
    /// (`0x0578`).
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
        if let Some(id) = hex.and_then(|h| u16::from_str_radix(h, 16).ok()) {
            return Self::from_id(id);
        }
        Self::ALL
            .into_iter()
            .find(|a| a.esdk_name().eq_ignore_ascii_case(s))
    }

    /// The suite with identifier `id`, if there is one.
    pub fn from_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// Length in bytes of the data key and of the AES key.
    pub fn key_len(self) -> usize {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmNoKdf | Aes128GcmHkdfSha256 | Aes128GcmHkdfSha256EcdsaP256 => 16,
            Aes192GcmNoKdf | Aes192GcmHkdfSha256 | Aes192GcmHkdfSha384EcdsaP384 => 24,
            _ => 32,
        }
    }

    /// The key derivation function.
    pub fn kdf(self) -> Kdf {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmNoKdf | Aes192GcmNoKdf | Aes256GcmNoKdf => Kdf::Identity,
            Aes128GcmHkdfSha256
            | Aes192GcmHkdfSha256
            | Aes256GcmHkdfSha256
            | Aes128GcmHkdfSha256EcdsaP256 => Kdf::Hkdf(HkdfHash::Sha256),
            Aes192GcmHkdfSha384EcdsaP384 | Aes256GcmHkdfSha384EcdsaP384 => {
                Kdf::Hkdf(HkdfHash::Sha384)
            }
            Aes256GcmHkdfSha512Commit | Aes256GcmHkdfSha512CommitEcdsaP384 => {
                Kdf::Hkdf(HkdfHash::Sha512)
            }
        }
    }

    /// The footer signature's curve, for signing suites.
    pub fn signature(self) -> Option<EcdsaCurve> {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmHkdfSha256EcdsaP256 => Some(EcdsaCurve::P256),
            Aes192GcmHkdfSha384EcdsaP384
            | Aes256GcmHkdfSha384EcdsaP384
            | Aes256GcmHkdfSha512CommitEcdsaP384 => Some(EcdsaCurve::P384),
            _ => None,
        }
    }

    /// Whether the suite commits to its data key (message format version 2).
    pub fn is_committing(self) -> bool {
        matches!(
            self,
            Self::Aes256GcmHkdfSha512Commit | Self::Aes256GcmHkdfSha512CommitEcdsaP384
        )
    }

    /// The message format version this suite is written with (1 or 2).
    pub fn message_version(self) -> u8 {
        if self.is_committing() { 2 } else { 1 }
    }

    /// Message ID length: 16 bytes in version 1, 32 in version 2.
    pub fn message_id_len(self) -> usize {
        if self.is_committing() { 32 } else { 16 }
    }
}

/// Which suites may be used to encrypt and to decrypt (ESDK commitment policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CommitmentPolicy {
    /// Encrypt only with non-committing suites; decrypt anything. For migration only.
    ForbidEncryptAllowDecrypt,
    /// Encrypt only with committing suites; still decrypt older non-committing messages.
    RequireEncryptAllowDecrypt,
    /// Encrypt and decrypt only with committing suites. The default.
    #[default]
    RequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// The ESDK name of the policy.
    pub fn name(self) -> &'static str {
        match self {
            Self::ForbidEncryptAllowDecrypt => "FORBID_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptAllowDecrypt => "REQUIRE_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptRequireDecrypt => "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
        }
    }

    /// The suite used when the caller names none: 0x0578, or 0x0378 when commitment is
    /// forbidden (as in the ESDK).
    pub fn default_suite(self) -> AlgorithmSuite {
        match self {
            Self::ForbidEncryptAllowDecrypt => AlgorithmSuite::Aes256GcmHkdfSha384EcdsaP384,
            _ => AlgorithmSuite::Aes256GcmHkdfSha512CommitEcdsaP384,
        }
    }

    pub fn allows_encrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            Self::ForbidEncryptAllowDecrypt => !suite.is_committing(),
            _ => suite.is_committing(),
        }
    }

    pub fn allows_decrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            Self::RequireEncryptRequireDecrypt => suite.is_committing(),
            _ => true,
        }
    }

    pub(crate) fn check(self, suite: AlgorithmSuite, encrypt: bool) -> crate::Result<()> {
        let ok = if encrypt {
            self.allows_encrypt(suite)
        } else {
            self.allows_decrypt(suite)
        };
        if ok {
            return Ok(());
        }
        Err(crate::Error::CommitmentPolicy {
            policy: self.name(),
            suite: suite.id(),
            op: if encrypt { "encrypt" } else { "decrypt" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_properties_match_the_algorithms_reference() {
        for s in AlgorithmSuite::ALL {
            assert_eq!(AlgorithmSuite::from_id(s.id()), Some(s));
        }
        assert_eq!(AlgorithmSuite::from_id(0x0001), None);
        for s in AlgorithmSuite::ALL {
            assert_eq!(AlgorithmSuite::parse(s.esdk_name()), Some(s));
            assert_eq!(AlgorithmSuite::parse(&format!("{:#06x}", s.id())), Some(s));
        }
        assert_eq!(AlgorithmSuite::parse("0x9999"), None);
        assert_eq!(AlgorithmSuite::parse("aes"), None);
        let ids: Vec<u16> = AlgorithmSuite::ALL.iter().map(|s| s.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        let signed: Vec<u16> = AlgorithmSuite::ALL
            .iter()
            .filter(|s| s.signature().is_some())
            .map(|s| s.id())
            .collect();
        assert_eq!(signed, [0x0214, 0x0346, 0x0378, 0x0578]);
        let committing: Vec<u16> = AlgorithmSuite::ALL
            .iter()
            .filter(|s| s.is_committing())
            .map(|s| s.id())
            .collect();
        assert_eq!(committing, [0x0478, 0x0578]);
        // The low byte encodes the key length: 0x14 = 20 -> 128, 0x46 -> 192, 0x78 -> 256 bits.
        for s in AlgorithmSuite::ALL {
            let bits = match s.id() & 0xff {
                0x14 => 128,
                0x46 => 192,
                _ => 256,
            };
            assert_eq!(s.key_len() * 8, bits);
        }
    }

    #[test]
    fn commitment_policies() {
        use CommitmentPolicy::*;
        let c = AlgorithmSuite::Aes256GcmHkdfSha512Commit;
        let n = AlgorithmSuite::Aes256GcmHkdfSha384EcdsaP384;
        assert_eq!(CommitmentPolicy::default(), RequireEncryptRequireDecrypt);
        assert!(RequireEncryptRequireDecrypt.allows_encrypt(c));
        assert!(!RequireEncryptRequireDecrypt.allows_encrypt(n));
        assert!(!RequireEncryptRequireDecrypt.allows_decrypt(n));
        assert!(RequireEncryptAllowDecrypt.allows_decrypt(n));
        assert!(!RequireEncryptAllowDecrypt.allows_encrypt(n));
        assert!(ForbidEncryptAllowDecrypt.allows_encrypt(n));
        assert!(!ForbidEncryptAllowDecrypt.allows_encrypt(c));
        assert!(ForbidEncryptAllowDecrypt.allows_decrypt(c));
        assert_eq!(RequireEncryptRequireDecrypt.default_suite().id(), 0x0578);
        assert_eq!(ForbidEncryptAllowDecrypt.default_suite().id(), 0x0378);
    }
}
