//! HMAC for KMS HMAC keys (GenerateMac / VerifyMac), RFC 2104.

use crate::fill_random;
use aws_lc_rs::hmac as lc;
use zeroize::Zeroizing;

/// AWS KMS `MacAlgorithmSpec` values. Each belongs to the key spec of the same size
/// (`HMAC_SHA_224` to `HMAC_224`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlgorithm {
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl MacAlgorithm {
    pub const ALL: [MacAlgorithm; 4] = [
        MacAlgorithm::HmacSha224,
        MacAlgorithm::HmacSha256,
        MacAlgorithm::HmacSha384,
        MacAlgorithm::HmacSha512,
    ];

    fn algorithm(self) -> lc::Algorithm {
        match self {
            MacAlgorithm::HmacSha224 => lc::HMAC_SHA224,
            MacAlgorithm::HmacSha256 => lc::HMAC_SHA256,
            MacAlgorithm::HmacSha384 => lc::HMAC_SHA384,
            MacAlgorithm::HmacSha512 => lc::HMAC_SHA512,
        }
    }

    /// Length in bytes of the tag.
    pub fn tag_len(self) -> usize {
        self.algorithm().tag_len()
    }
}

/// Key length in bytes that KMS generates for the matching HMAC key spec: the hash's
/// output size (HMAC_224: 28, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64).
pub fn hmac_key_len(alg: MacAlgorithm) -> usize {
    alg.tag_len()
}

/// A fresh random key of [`hmac_key_len`] bytes.
pub fn generate_hmac_key(alg: MacAlgorithm) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(vec![0u8; hmac_key_len(alg)]);
    fill_random(&mut key);
    key
}

/// The HMAC tag of `msg` under `key`.
pub fn hmac(alg: MacAlgorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let key = lc::Key::new(alg.algorithm(), key);
    lc::sign(&key, msg).as_ref().to_vec()
}

/// Checks `mac` against the HMAC of `msg` in constant time.
pub fn hmac_verify(alg: MacAlgorithm, key: &[u8], msg: &[u8], mac: &[u8]) -> bool {
    let key = lc::Key::new(alg.algorithm(), key);
    lc::verify(&key, msg, mac).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::unhex;

    // RFC 4231 test cases 1, 2 and 6, in the order 224, 256, 384, 512.
    const CASE1: [&str; 4] = [
        "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    ];
    const CASE2: [&str; 4] = [
        "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    ];
    const CASE6: [&str; 4] = [
        "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    ];

    #[test]
    fn rfc4231_known_answers() {
        let cases: [(Vec<u8>, &[u8], [&str; 4]); 3] = [
            (vec![0x0b; 20], b"Hi There", CASE1),
            (b"Jefe".to_vec(), b"what do ya want for nothing?", CASE2),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                CASE6,
            ),
        ];
        for (key, msg, tags) in cases {
            for (alg, tag) in MacAlgorithm::ALL.into_iter().zip(tags) {
                let expected = unhex(tag);
                assert_eq!(hmac(alg, &key, msg), expected, "{alg:?}");
                assert!(hmac_verify(alg, &key, msg, &expected));
            }
        }
    }

    #[test]
    fn verify_rejects_wrong_tags() {
        for alg in MacAlgorithm::ALL {
            let key = generate_hmac_key(alg);
            let tag = hmac(alg, &key, b"msg");
            assert!(hmac_verify(alg, &key, b"msg", &tag));
            assert!(!hmac_verify(alg, &key, b"msh", &tag));
            assert!(!hmac_verify(alg, &key, b"msg", &tag[..tag.len() - 1]));
            let mut bad = tag.clone();
            bad[0] ^= 0x80;
            assert!(!hmac_verify(alg, &key, b"msg", &bad));
            assert!(!hmac_verify(alg, b"other key", b"msg", &tag));
        }
    }

    #[test]
    fn key_lengths_match_kms_specs() {
        let lens: Vec<usize> = MacAlgorithm::ALL.into_iter().map(hmac_key_len).collect();
        assert_eq!(lens, [28, 32, 48, 64]);
        for alg in MacAlgorithm::ALL {
            assert_eq!(generate_hmac_key(alg).len(), hmac_key_len(alg));
            assert_eq!(hmac(alg, b"k", b"m").len(), alg.tag_len());
        }
        assert_ne!(
            generate_hmac_key(MacAlgorithm::HmacSha256),
            generate_hmac_key(MacAlgorithm::HmacSha256)
        );
    }
}
