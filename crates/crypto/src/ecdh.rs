//! ECDH for KMS DeriveSharedSecret (`KeyAgreementAlgorithm` = `ECDH`): the raw shared
//! secret, i.e. the x-coordinate of the shared point, with no KDF applied.

use crate::CryptoError;
use crate::asym::AsymSpec;
use aws_lc_rs::agreement::{
    self, ECDH_P256, ECDH_P384, ECDH_P521, ParsedPublicKey, ParsedPublicKeyFormat, PrivateKey,
    UnparsedPublicKey,
};
use zeroize::Zeroizing;

fn agreement_alg(spec: AsymSpec) -> Option<&'static agreement::Algorithm> {
    match spec {
        AsymSpec::EccNistP256 => Some(&ECDH_P256),
        AsymSpec::EccNistP384 => Some(&ECDH_P384),
        AsymSpec::EccNistP521 => Some(&ECDH_P521),
        _ => None,
    }
}

/// Parses the peer's key, which KMS takes as DER SubjectPublicKeyInfo only. Parsing also
/// checks the point is on the expected curve.
fn parse_peer(
    alg: &'static agreement::Algorithm,
    peer_spki_der: &[u8],
) -> Result<ParsedPublicKey, CryptoError> {
    let peer =
        ParsedPublicKey::try_from(&UnparsedPublicKey::new(alg, peer_spki_der)).map_err(|_| {
            CryptoError::InvalidInput("peer public key is malformed or on another curve")
        })?;
    if peer.format() != ParsedPublicKeyFormat::X509 {
        return Err(CryptoError::InvalidInput(
            "peer public key must be a DER SubjectPublicKeyInfo",
        ));
    }
    Ok(peer)
}

/// The ECDH shared secret between the private key `pkcs8` of `spec` (NIST P-256, P-384 or
/// P-521) and the peer's public key.
pub fn ecdh_shared_secret(
    spec: AsymSpec,
    pkcs8: &[u8],
    peer_spki_der: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let alg = agreement_alg(spec).ok_or(CryptoError::IncompatibleAlgorithm)?;
    let private =
        PrivateKey::from_private_key_der(alg, pkcs8).map_err(|_| CryptoError::InvalidKey)?;
    let peer = parse_peer(alg, peer_spki_der)?;
    agreement::agree(
        &private,
        peer,
        CryptoError::InvalidInput("peer public key is not usable for key agreement"),
        |secret| Ok(Zeroizing::new(secret.to_vec())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asym::tests::test_key;
    use crate::asym::{generate_private_key, public_key_spki};

    const CURVES: [(AsymSpec, usize); 3] = [
        (AsymSpec::EccNistP256, 32),
        (AsymSpec::EccNistP384, 48),
        (AsymSpec::EccNistP521, 66),
    ];

    #[test]
    fn both_sides_agree() {
        for (spec, len) in CURVES {
            let alice = test_key(spec);
            let bob = generate_private_key(spec).unwrap();
            let alice_pub = public_key_spki(spec, &alice).unwrap();
            let bob_pub = public_key_spki(spec, &bob).unwrap();
            let a = ecdh_shared_secret(spec, &alice, &bob_pub).unwrap();
            let b = ecdh_shared_secret(spec, &bob, &alice_pub).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.len(), len);
            let carol = generate_private_key(spec).unwrap();
            let carol_pub = public_key_spki(spec, &carol).unwrap();
            assert_ne!(a, ecdh_shared_secret(spec, &alice, &carol_pub).unwrap());
        }
    }

    #[test]
    fn bad_peer_keys_are_errors() {
        let spec = AsymSpec::EccNistP256;
        let alice = test_key(spec);
        let p384_pub = public_key_spki(AsymSpec::EccNistP384, &test_key(AsymSpec::EccNistP384));
        let k1_pub = public_key_spki(AsymSpec::EccSecgP256k1, &test_key(AsymSpec::EccSecgP256k1));
        let bob_pub = public_key_spki(spec, &generate_private_key(spec).unwrap()).unwrap();
        let invalid = |r: Result<Zeroizing<Vec<u8>>, CryptoError>| {
            matches!(r, Err(CryptoError::InvalidInput(_)))
        };
        assert!(invalid(ecdh_shared_secret(
            spec,
            &alice,
            &p384_pub.unwrap()
        )));
        assert!(invalid(ecdh_shared_secret(spec, &alice, &k1_pub.unwrap())));
        assert!(invalid(ecdh_shared_secret(spec, &alice, b"")));
        assert!(invalid(ecdh_shared_secret(spec, &alice, &bob_pub[..40])));
        // The bare uncompressed point (SPKI tail) is refused: KMS takes SPKI only.
        assert!(invalid(ecdh_shared_secret(
            spec,
            &alice,
            &bob_pub[bob_pub.len() - 65..]
        )));
        // A point off the curve.
        let mut off = bob_pub.clone();
        let last = off.len() - 1;
        off[last] ^= 1;
        assert!(invalid(ecdh_shared_secret(spec, &alice, &off)));
    }

    #[test]
    fn wrong_own_key_or_spec_is_an_error() {
        let p256 = test_key(AsymSpec::EccNistP256);
        let peer = public_key_spki(AsymSpec::EccNistP256, &p256).unwrap();
        assert_eq!(
            ecdh_shared_secret(AsymSpec::EccNistP384, &p256, &peer),
            Err(CryptoError::InvalidKey)
        );
        for spec in [
            AsymSpec::EccSecgP256k1,
            AsymSpec::EccNistEd25519,
            AsymSpec::Rsa2048,
        ] {
            assert_eq!(
                ecdh_shared_secret(spec, &test_key(spec), &peer),
                Err(CryptoError::IncompatibleAlgorithm)
            );
        }
    }
}
