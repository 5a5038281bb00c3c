//! Reads the one field of a certificate that neither rustls nor rcgen (without its
//! ring-based parser) exposes: the end of its validity period.

use time::OffsetDateTime;
use yasna::tags::{TAG_GENERALIZEDTIME, TAG_UTCTIME};
use yasna::{ASN1Error, ASN1ErrorKind, BERReader, BERReaderSeq};

/// `notAfter` of an X.509 certificate (RFC 5280 §4.1).
pub(crate) fn not_after(cert_der: &[u8]) -> Result<OffsetDateTime, ASN1Error> {
    yasna::parse_der(cert_der, |r| {
        r.read_sequence(|cert| {
            let not_after = cert.next().read_sequence(tbs_not_after)?;
            skip_rest(cert)?;
            Ok(not_after)
        })
    })
}

/// TBSCertificate: version [0] EXPLICIT (optional), serial, signature, issuer, validity, ...
fn tbs_not_after(tbs: &mut BERReaderSeq<'_, '_>) -> Result<OffsetDateTime, ASN1Error> {
    tbs.read_optional(|r| r.read_tagged(yasna::Tag::context(0), |r| r.read_i64()))?;
    for _serial_signature_issuer in 0..3 {
        tbs.next().read_der()?;
    }
    let not_after = tbs.next().read_sequence(|validity| {
        read_time(validity.next())?;
        read_time(validity.next())
    })?;
    skip_rest(tbs)?;
    Ok(not_after)
}

/// X.509 Time is UTCTime before 2050 and GeneralizedTime from then on.
fn read_time(r: BERReader<'_, '_>) -> Result<OffsetDateTime, ASN1Error> {
    let tag = r.lookahead_tag()?;
    if tag == TAG_UTCTIME {
        Ok(*r.read_utctime()?.datetime())
    } else if tag == TAG_GENERALIZEDTIME {
        Ok(*r.read_generalized_time()?.datetime())
    } else {
        Err(ASN1Error::new(ASN1ErrorKind::Invalid))
    }
}

/// yasna insists every element of a sequence is consumed.
fn skip_rest(seq: &mut BERReaderSeq<'_, '_>) -> Result<(), ASN1Error> {
    while seq.read_optional(|r| r.read_der())?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};
    use time::macros::datetime;

    fn cert_until(not_after: OffsetDateTime) -> Vec<u8> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.not_before = datetime!(2026-01-01 0:00 UTC);
        p.not_after = not_after;
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_utctime_and_generalized_time() {
        // rcgen, like RFC 5280 requires, switches to GeneralizedTime from 2050.
        for t in [
            datetime!(2036-02-03 04:05:06 UTC),
            datetime!(2061-07-08 09:10:11 UTC),
        ] {
            assert_eq!(not_after(&cert_until(t)).unwrap(), t);
        }
    }

    #[test]
    fn rejects_non_certificates() {
        assert!(not_after(b"").is_err());
        assert!(not_after(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
        let mut truncated = cert_until(datetime!(2030-01-01 0:00 UTC));
        truncated.truncate(truncated.len() - 10);
        assert!(not_after(&truncated).is_err());
    }
}
