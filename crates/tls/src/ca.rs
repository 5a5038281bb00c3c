//! The local CA: generated on first start, kept sealed, and used to (re-)issue the server
//! certificate whenever it nears expiry or no longer covers the names the server answers to.
//!
//! Files in the TLS directory:
//! - `ca-key.sealed` (0600): the CA certificate and its PKCS#8 key, sealed together. This is
//!   the source of truth: the pair can never be torn apart by a crash between two writes.
//! - `ca.pem` (0644): the CA certificate, exported for clients (`AWS_CA_BUNDLE`); rewritten
//!   from the sealed copy whenever it is missing or differs.
//! - `server-key.sealed` (0600): the server's PKCS#8 key.
//! - `server.pem` (0644): the server certificate followed by the CA certificate.
//!
//! Losing or replacing the server files is harmless (they are re-issued); only removing
//! `ca-key.sealed` creates a new CA, which clients then have to trust anew.

use std::net::IpAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    Ia5String, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{
    CertificateDer, DnsName, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime,
};
use time::{Duration, OffsetDateTime};
use zeroize::{Zeroize, Zeroizing};

use crate::fsio::{self, PRIVATE, PUBLIC, io_err};
use crate::material::{check_pair, parse_certs, provider};
use crate::{KeySealer, Origin, TlsError, TlsMaterial, der};

const CA_PEM: &str = "ca.pem";
const CA_SEALED: &str = "ca-key.sealed";
const SERVER_PEM: &str = "server.pem";
const SERVER_SEALED: &str = "server-key.sealed";

/// Sealer purposes; bound into the sealed blobs so the two files cannot be swapped.
const CA_PURPOSE: &str = "coffer-tls/ca";
const SERVER_PURPOSE: &str = "coffer-tls/server-key";

/// The stored CA's issuer name is rebuilt from these on every start (rcgen cannot parse a
/// certificate without pulling in ring), so they must never change.
const CA_COMMON_NAME: &str = "coffer local CA";
const CA_ORGANIZATION: &str = "coffer";
const SERVER_COMMON_NAME: &str = "coffer server";

/// Names every generated server certificate answers to, before `extra_names`.
const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

const CA_VALIDITY: Duration = Duration::days(3650);
const SERVER_VALIDITY: Duration = Duration::days(365);
/// Renew this long before expiry, so a server that runs for weeks never serves an expired cert.
const RENEW_BEFORE: Duration = Duration::days(30);
/// Tolerates clients whose clocks run a little behind the server's.
const BACKDATE: Duration = Duration::hours(1);

const CA_BLOB_VERSION: u8 = 1;

/// Loads the local CA and server certificate from `dir`, creating or renewing what is needed.
///
/// First call: generates a CA (ECDSA P-256, 10 years) and a server certificate (ECDSA P-256,
/// 1 year, SANs `localhost`, `127.0.0.1`, `::1` plus `extra_names`). Later calls reuse both,
/// re-issuing the server certificate from the stored CA when it expires within 30 days or
/// does not cover every requested name; the CA itself is replaced only when it is within 30
/// days of its own expiry. Private keys are written only through `sealer`.
pub fn load_or_generate(
    dir: &Path,
    extra_names: &[String],
    now: OffsetDateTime,
    sealer: &dyn KeySealer,
) -> Result<TlsMaterial, TlsError> {
    let names = server_names(extra_names)?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let paths = Paths::new(dir);
    let (ca, origin) = match load_ca(&paths, sealer)? {
        Some(ca) if shift(now, RENEW_BEFORE)? < ca.not_after => (ca, Origin::Reused),
        _ => (generate_ca(&paths, now, sealer)?, Origin::Generated),
    };
    export_ca_pem(&paths, &ca)?;
    if origin == Origin::Reused {
        if let Some(material) = reuse_server(&paths, &ca, &names, now, sealer)? {
            return Ok(material);
        }
        return issue_server(&paths, &ca, &names, now, sealer, Origin::Reissued);
    }
    issue_server(&paths, &ca, &names, now, sealer, origin)
}

struct Paths {
    ca_pem: PathBuf,
    ca_sealed: PathBuf,
    server_pem: PathBuf,
    server_sealed: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Self {
        Self {
            ca_pem: dir.join(CA_PEM),
            ca_sealed: dir.join(CA_SEALED),
            server_pem: dir.join(SERVER_PEM),
            server_sealed: dir.join(SERVER_SEALED),
        }
    }
}

/// An rcgen key pair whose serialized PKCS#8 copy is wiped on drop.
struct KeyGuard(KeyPair);

impl Deref for KeyGuard {
    type Target = KeyPair;
    fn deref(&self) -> &KeyPair {
        &self.0
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

struct Ca {
    der: CertificateDer<'static>,
    key: KeyGuard,
    /// What rcgen needs to sign with this CA: its name, key identifier method, key usages.
    issuer: rcgen::Certificate,
    not_after: OffsetDateTime,
}

impl Ca {
    fn new(der: CertificateDer<'static>, key: KeyGuard, path: &Path) -> Result<Self, TlsError> {
        let not_after = der::not_after(&der).map_err(|e| TlsError::BadCertificate {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        // Validity and serial of this rebuilt certificate are irrelevant: only its subject,
        // key usages and key identifier go into the certificates it signs.
        let issuer = ca_params(not_after, not_after).self_signed(&key)?;
        Ok(Self {
            der,
            key,
            issuer,
            not_after,
        })
    }
}

/// One name the server certificate must cover, in the two forms rcgen and rustls want.
struct Name {
    text: String,
    san: SanType,
    server: ServerName<'static>,
}

/// The default names plus `extra`, validated and without duplicates.
fn server_names(extra: &[String]) -> Result<Vec<Name>, TlsError> {
    let mut names: Vec<Name> = Vec::new();
    for raw in DEFAULT_NAMES
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        let name = parse_name(raw)?;
        if !names.iter().any(|n| n.text == name.text) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Accepts a DNS name or an IP address (IPv6 with or without brackets). Wildcards are not
/// accepted: a local server has a fixed set of names.
fn parse_name(raw: &str) -> Result<Name, TlsError> {
    let invalid = || TlsError::InvalidName {
        name: raw.to_string(),
    };
    let trimmed = raw.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Name {
            text: ip.to_string(),
            san: SanType::IpAddress(ip),
            server: ServerName::IpAddress(ip.into()),
        });
    }
    let text = trimmed.to_ascii_lowercase();
    let dns = DnsName::try_from(text.clone()).map_err(|_| invalid())?;
    let ia5 = Ia5String::try_from(text.clone()).map_err(|_| invalid())?;
    Ok(Name {
        text,
        san: SanType::DnsName(ia5),
        server: ServerName::DnsName(dns),
    })
}

fn ca_params(not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateParams {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, CA_ORGANIZATION);
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    // Path length 0: this CA issues server certificates, never other CAs.
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = not_before;
    p.not_after = not_after;
    p.serial_number = Some(random_serial());
    p
}

fn server_params(
    names: &[Name],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, SERVER_COMMON_NAME);
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.subject_alt_names = names.iter().map(|n| n.san.clone()).collect();
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.not_before = not_before;
    p.not_after = not_after;
    p.serial_number = Some(random_serial());
    p
}

/// 128 random bits, positive and with a fixed length (RFC 5280 allows up to 20 octets).
fn random_serial() -> SerialNumber {
    let mut bytes = coffer_crypto::random_bytes(16);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn new_key() -> Result<KeyGuard, TlsError> {
    Ok(KeyGuard(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?))
}

/// Reads a file that may legitimately not exist yet.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, TlsError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn load_ca(paths: &Paths, sealer: &dyn KeySealer) -> Result<Option<Ca>, TlsError> {
    let path = &paths.ca_sealed;
    let Some(sealed) = read_optional(path)? else {
        return Ok(None);
    };
    let blob = sealer
        .open(CA_PURPOSE, &sealed)
        .map_err(|source| TlsError::Unseal {
            path: path.clone(),
            source,
        })?;
    let (cert, pkcs8) = split_ca_blob(&blob).ok_or_else(|| TlsError::BadCertificate {
        path: path.clone(),
        reason: "sealed CA record is malformed".into(),
    })?;
    let key = KeyPair::try_from(pkcs8).map_err(|e| TlsError::UnusableKey {
        key: path.clone(),
        reason: e.to_string(),
    })?;
    Ca::new(CertificateDer::from(cert.to_vec()), KeyGuard(key), path).map(Some)
}

/// `version || u32 BE cert length || cert DER || PKCS#8 key DER`.
fn ca_blob(cert: &[u8], pkcs8: &[u8]) -> Result<Zeroizing<Vec<u8>>, TlsError> {
    let len = u32::try_from(cert.len()).map_err(|_| TlsError::BadCertificate {
        path: PathBuf::from(CA_SEALED),
        reason: "CA certificate too large".into(),
    })?;
    let mut blob = Zeroizing::new(Vec::with_capacity(5 + cert.len() + pkcs8.len()));
    blob.push(CA_BLOB_VERSION);
    blob.extend_from_slice(&len.to_be_bytes());
    blob.extend_from_slice(cert);
    blob.extend_from_slice(pkcs8);
    Ok(blob)
}

fn split_ca_blob(blob: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&version, rest) = blob.split_first()?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    (version == CA_BLOB_VERSION && len <= rest.len()).then(|| rest.split_at(len))
}

fn generate_ca(paths: &Paths, now: OffsetDateTime, sealer: &dyn KeySealer) -> Result<Ca, TlsError> {
    let key = new_key()?;
    let params = ca_params(shift(now, -BACKDATE)?, shift(now, CA_VALIDITY)?);
    let cert = params.self_signed(&key)?;
    let der = cert.der().clone();
    let blob = ca_blob(&der, key.serialized_der())?;
    let sealed = sealer.seal(CA_PURPOSE, &blob);
    fsio::write_atomic(&paths.ca_sealed, &sealed, PRIVATE)?;
    Ca::new(der, key, &paths.ca_sealed)
}

/// Keeps `ca.pem` equal to the sealed CA certificate (first start, or after it was removed
/// or replaced on disk).
fn export_ca_pem(paths: &Paths, ca: &Ca) -> Result<(), TlsError> {
    let pem = pem_chain(std::slice::from_ref(&ca.der));
    if read_optional(&paths.ca_pem)?.as_deref() == Some(pem.as_bytes()) {
        return Ok(());
    }
    fsio::write_atomic(&paths.ca_pem, pem.as_bytes(), PUBLIC)
}

/// The stored server certificate, if it is intact, matches its key, chains to `ca`, covers
/// every name and stays valid for at least [`RENEW_BEFORE`]. `None` means "issue a new one".
fn reuse_server(
    paths: &Paths,
    ca: &Ca,
    names: &[Name],
    now: OffsetDateTime,
    sealer: &dyn KeySealer,
) -> Result<Option<TlsMaterial>, TlsError> {
    let (Some(pem), Some(sealed)) = (
        read_optional(&paths.server_pem)?,
        read_optional(&paths.server_sealed)?,
    ) else {
        return Ok(None);
    };
    let Ok(chain) = parse_certs(&paths.server_pem, &pem) else {
        return Ok(None);
    };
    let key = sealer
        .open(SERVER_PURPOSE, &sealed)
        .map_err(|source| TlsError::Unseal {
            path: paths.server_sealed.clone(),
            source,
        })?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    let material = TlsMaterial::new(chain, key, Some(paths.ca_pem.clone()), Origin::Reused);
    let usable = check_pair(
        material.chain(),
        material.key(),
        &paths.server_pem,
        &paths.server_sealed,
    )
    .is_ok()
        && verify_server(material.chain(), &ca.der, names, shift(now, RENEW_BEFORE)?).is_ok();
    Ok(usable.then_some(material))
}

/// Issues a server certificate from `ca`, checks it the way a client would, then stores it.
/// The key is written before the certificate: a crash in between leaves a mismatched pair,
/// which the next start detects and re-issues.
fn issue_server(
    paths: &Paths,
    ca: &Ca,
    names: &[Name],
    now: OffsetDateTime,
    sealer: &dyn KeySealer,
    origin: Origin,
) -> Result<TlsMaterial, TlsError> {
    let key = new_key()?;
    let not_after = shift(now, SERVER_VALIDITY)?.min(ca.not_after);
    let params = server_params(names, shift(now, -BACKDATE)?, not_after);
    let cert = params.signed_by(&*key, &ca.issuer, &ca.key)?;
    let chain = vec![cert.der().clone(), ca.der.clone()];
    let pkcs8 = PrivatePkcs8KeyDer::from(key.serialized_der().to_vec());
    let material = TlsMaterial::new(chain, pkcs8.into(), Some(paths.ca_pem.clone()), origin);
    verify_server(material.chain(), &ca.der, names, now).map_err(|reason| TlsError::SelfCheck {
        path: paths.ca_sealed.clone(),
        reason,
    })?;
    let sealed = sealer.seal(SERVER_PURPOSE, key.serialized_der());
    fsio::write_atomic(&paths.server_sealed, &sealed, PRIVATE)?;
    fsio::write_atomic(
        &paths.server_pem,
        pem_chain(material.chain()).as_bytes(),
        PUBLIC,
    )?;
    Ok(material)
}

/// Verifies `chain` exactly as a rustls client trusting only `ca` would at time `at`:
/// signature, validity period, serverAuth usage and each name.
fn verify_server(
    chain: &[CertificateDer<'static>],
    ca: &CertificateDer<'static>,
    names: &[Name],
    at: OffsetDateTime,
) -> Result<(), String> {
    let at = unix_time(at).ok_or_else(|| format!("time {at} is before 1970"))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| e.to_string())?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| e.to_string())?;
    let (leaf, rest) = chain.split_first().ok_or("empty chain")?;
    for name in names {
        verifier
            .verify_server_cert(leaf, rest, &name.server, &[], at)
            .map_err(|e| format!("{}: {e}", name.text))?;
    }
    Ok(())
}

/// `now + d`, as an error rather than a panic for clocks beyond what `time` can represent.
fn shift(now: OffsetDateTime, d: Duration) -> Result<OffsetDateTime, TlsError> {
    now.checked_add(d).ok_or(TlsError::TimeOutOfRange(now))
}

fn unix_time(t: OffsetDateTime) -> Option<UnixTime> {
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        secs,
    )))
}

/// PEM text for a list of certificates (RFC 7468: base64 in 64-character lines).
fn pem_chain(certs: &[CertificateDer<'_>]) -> String {
    let mut out = String::new();
    for cert in certs {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        for (i, c) in b64.chars().enumerate() {
            if i > 0 && i % 64 == 0 {
                out.push('\n');
            }
            out.push(c);
        }
        out.push_str("\n-----END CERTIFICATE-----\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn ca_blob_round_trips_and_rejects_damage() {
        let blob = ca_blob(b"cert", b"key").unwrap();
        assert_eq!(split_ca_blob(&blob), Some((&b"cert"[..], &b"key"[..])));
        assert_eq!(split_ca_blob(&blob[..6]), None, "length beyond the end");
        let mut other_version = blob.to_vec();
        other_version[0] = 2;
        assert_eq!(split_ca_blob(&other_version), None);
        assert_eq!(split_ca_blob(&[]), None);
    }

    #[test]
    fn names_are_normalised_and_deduplicated() {
        let extra = ["Coffer.Example", "[::1]", "127.0.0.1", " 10.0.0.1 "].map(String::from);
        let names = server_names(&extra).unwrap();
        let texts: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "coffer.example",
                "10.0.0.1"
            ]
        );
    }

    #[test]
    fn pem_chain_is_rfc7468_and_parses_back() {
        let certs = vec![
            CertificateDer::from(vec![1u8; 300]),
            CertificateDer::from(vec![2u8; 48]),
        ];
        let pem = pem_chain(&certs);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, certs);
    }

    #[test]
    fn shift_reports_overflow_instead_of_panicking() {
        let end = time::PrimitiveDateTime::MAX.assume_utc();
        assert!(matches!(
            shift(end, CA_VALIDITY),
            Err(TlsError::TimeOutOfRange(_))
        ));
    }
}
