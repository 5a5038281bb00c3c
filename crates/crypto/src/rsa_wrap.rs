//! RSA encryption of small secrets (data keys) with keys of any size the library accepts,
//! PKCS #1 v1.5 or OAEP (MGF1 with the same hash, empty label): the raw RSA keyring of the
//! AWS Encryption SDK. Unlike [`crate::rsa_oaep_encrypt`], no KMS key spec is involved.

use crate::CryptoError;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
    OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use zeroize::Zeroizing;

/// The RSA encryption padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    Pkcs1,
    OaepSha1,
    OaepSha256,
    OaepSha384,
    OaepSha512,
}

impl RsaPadding {
    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            RsaPadding::Pkcs1 => None,
            RsaPadding::OaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            RsaPadding::OaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            RsaPadding::OaepSha384 => Some(&OAEP_SHA384_MGF1SHA384),
            RsaPadding::OaepSha512 => Some(&OAEP_SHA512_MGF1SHA512),
        }
    }
}

/// An RSA public key (from DER SubjectPublicKeyInfo).
pub struct RsaPublicKey {
    der: Vec<u8>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPublicKey(..)")
    }
}

impl RsaPublicKey {
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        PublicEncryptingKey::from_der(der).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self { der: der.to_vec() })
    }

    /// Encrypts `plaintext`; fails if it is too long for the key and padding.
    pub fn encrypt(&self, padding: RsaPadding, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // aws-lc-rs keys are not Clone and the padding wrappers consume them: parse per use
        // (negligible next to the modular exponentiation).
        let public =
            PublicEncryptingKey::from_der(&self.der).map_err(|_| CryptoError::InvalidKey)?;
        let too_long = CryptoError::InvalidInput("plaintext is too long for this RSA key");
        match padding.oaep() {
            Some(alg) => {
                let key =
                    OaepPublicEncryptingKey::new(public).map_err(|_| CryptoError::InvalidKey)?;
                if plaintext.len() > key.max_plaintext_size(alg) {
                    return Err(too_long);
                }
                let mut out = vec![0u8; key.ciphertext_size()];
                let n = key
                    .encrypt(alg, plaintext, &mut out, None)
                    .map_err(|_| CryptoError::Internal)?
                    .len();
                out.truncate(n);
                Ok(out)
            }
            None => {
                let key =
                    Pkcs1PublicEncryptingKey::new(public).map_err(|_| CryptoError::InvalidKey)?;
                if plaintext.len() > key.max_plaintext_size() {
                    return Err(too_long);
                }
                let mut out = vec![0u8; key.ciphertext_size()];
                let n = key
                    .encrypt(plaintext, &mut out)
                    .map_err(|_| CryptoError::Internal)?
                    .len();
                out.truncate(n);
                Ok(out)
            }
        }
    }
}

/// An RSA private key (from DER PKCS #8). Zeroized when dropped.
pub struct RsaPrivateKey {
    der: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateKey(..)")
    }
}

impl RsaPrivateKey {
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        use aws_lc_rs::encoding::AsDer;
        let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| CryptoError::InvalidKey)?;
        let spki = key
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::InvalidKey)?
            .as_ref()
            .to_vec();
        Ok(Self {
            der: Zeroizing::new(der.to_vec()),
            spki,
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<RsaPublicKey, CryptoError> {
        RsaPublicKey::from_spki_der(&self.spki)
    }

    /// Decrypts; every failure is [`CryptoError::DecryptFailed`] so padding errors cannot
    /// be told apart.
    pub fn decrypt(
        &self,
        padding: RsaPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let fail = CryptoError::DecryptFailed;
        let private =
            PrivateDecryptingKey::from_pkcs8(&self.der).map_err(|_| CryptoError::InvalidKey)?;
        if ciphertext.len() != private.key_size_bytes() {
            return Err(fail);
        }
        let mut out = Zeroizing::new(vec![0u8; private.key_size_bytes()]);
        let n = match padding.oaep() {
            Some(alg) => OaepPrivateDecryptingKey::new(private)
                .map_err(|_| CryptoError::InvalidKey)?
                .decrypt(alg, ciphertext, &mut out, None)
                .map_err(|_| fail)?
                .len(),
            None => Pkcs1PrivateDecryptingKey::new(private)
                .map_err(|_| CryptoError::InvalidKey)?
                .decrypt(ciphertext, &mut out)
                .map_err(|_| fail)?
                .len(),
        };
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asym::AsymSpec;
    use crate::asym::tests::test_key;

    const ALL: [RsaPadding; 5] = [
        RsaPadding::Pkcs1,
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha256,
        RsaPadding::OaepSha384,
        RsaPadding::OaepSha512,
    ];

    #[test]
    fn every_padding_round_trips_a_data_key_and_rejects_the_others() {
        let private = RsaPrivateKey::from_pkcs8_der(&test_key(AsymSpec::Rsa2048)).unwrap();
        let public = private.public_key().unwrap();
        let dk = [0x42u8; 32];
        for p in ALL {
            let ct = public.encrypt(p, &dk).unwrap();
            assert_eq!(ct.len(), 256);
            assert_eq!(private.decrypt(p, &ct).unwrap().as_slice(), dk);
            for q in ALL.into_iter().filter(|q| *q != p) {
                let other = private.decrypt(q, &ct);
                if q == RsaPadding::Pkcs1 {
                    // PKCS#1 v1.5 has no integrity check: a random block passes its format
                    // check about once in 100,000 tries (it starts 00 02 and holds a zero
                    // separator), and then yields garbage. What must never come back is the key.
                    assert!(other.is_err() || other.is_ok_and(|k| k.as_slice() != dk));
                } else {
                    assert_eq!(other, Err(CryptoError::DecryptFailed));
                }
            }
            let mut bad = ct.clone();
            bad[100] ^= 1;
            assert!(private.decrypt(p, &bad).is_err());
            assert!(private.decrypt(p, &ct[1..]).is_err());
        }
    }

    #[test]
    fn limits_and_bad_keys() {
        let private = RsaPrivateKey::from_pkcs8_der(&test_key(AsymSpec::Rsa2048)).unwrap();
        let public = private.public_key().unwrap();
        // 256 - 2*64 - 2 = 126 bytes for OAEP-SHA512; 256 - 11 for PKCS #1 v1.5.
        assert!(public.encrypt(RsaPadding::OaepSha512, &[0; 126]).is_ok());
        assert!(public.encrypt(RsaPadding::OaepSha512, &[0; 127]).is_err());
        assert!(public.encrypt(RsaPadding::Pkcs1, &[0; 245]).is_ok());
        assert!(public.encrypt(RsaPadding::Pkcs1, &[0; 246]).is_err());
        assert!(RsaPublicKey::from_spki_der(b"junk").is_err());
        assert!(RsaPrivateKey::from_pkcs8_der(&test_key(AsymSpec::EccNistP256)).is_err());
    }
}
