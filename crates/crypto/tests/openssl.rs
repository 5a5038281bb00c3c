//! Interoperability with an independent implementation: the OpenSSL 3 command line.
//!
//! These tests need the `openssl` binary on PATH and fail (never skip) without it, since
//! their whole point is to prove that what coffer produces is what AWS KMS clients expect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_crypto::{
    AsymSpec, MessageType, OaepHash, SigningAlgorithm, WrappingAlgorithm, ecdh_shared_secret,
    generate_private_key, public_key_spki, rsa_oaep_decrypt, rsa_oaep_encrypt,
    rsa_oaep_max_plaintext, sign, unwrap_imported_material, validate_private_key, verify,
};
use std::path::PathBuf;
use std::process::{Command, Output};

const RSA: [AsymSpec; 3] = [AsymSpec::Rsa2048, AsymSpec::Rsa3072, AsymSpec::Rsa4096];

fn run(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the `openssl` CLI (OpenSSL 3 is required): {e}"))
}

/// Runs openssl and returns stdout, failing the test with openssl's stderr otherwise.
fn openssl(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Exit status of an openssl verification: true for "Verified OK".
fn openssl_accepts(args: &[&str]) -> bool {
    run(args).status.success()
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> String {
        let p: PathBuf = self.0.path().join(name);
        p.to_str().unwrap().to_owned()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha_flag(alg: SigningAlgorithm) -> &'static str {
    match alg.digest_len() {
        Some(32) => "sha256",
        Some(48) => "sha384",
        _ => "sha512",
    }
}

fn is_pss(alg: SigningAlgorithm) -> bool {
    matches!(
        alg,
        SigningAlgorithm::RsassaPssSha256
            | SigningAlgorithm::RsassaPssSha384
            | SigningAlgorithm::RsassaPssSha512
    )
}

/// `openssl dgst -verify` of a signature over the raw message.
fn dgst_verifies(d: &Dir, alg: SigningAlgorithm, msg: &[u8], sig: &[u8]) -> bool {
    let (m, s) = (d.write("msg.bin", msg), d.write("sig.bin", sig));
    let pubkey = d.path("pub.der");
    let flag = format!("-{}", sha_flag(alg));
    let mut args = vec!["dgst", &flag, "-verify", &pubkey, "-keyform", "DER"];
    if is_pss(alg) {
        args.extend([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ]);
    }
    args.extend(["-signature", &s, &m]);
    openssl_accepts(&args)
}

/// `openssl pkeyutl -verify` of a signature over a precomputed digest.
fn pkeyutl_verifies_digest(d: &Dir, alg: SigningAlgorithm, digest: &[u8], sig: &[u8]) -> bool {
    let (m, s) = (d.write("digest.bin", digest), d.write("sig.bin", sig));
    let pubkey = d.path("pub.der");
    let md = format!("digest:{}", sha_flag(alg));
    let mut args = vec![
        "pkeyutl", "-verify", "-pubin", "-inkey", &pubkey, "-keyform", "DER", "-in", &m,
        "-sigfile", &s, "-pkeyopt", &md,
    ];
    if is_pss(alg) {
        args.extend([
            "-pkeyopt",
            "rsa_padding_mode:pss",
            "-pkeyopt",
            "rsa_pss_saltlen:digest",
        ]);
    }
    openssl_accepts(&args)
}

/// Our RAW and DIGEST signatures verify with openssl; a tampered message does not; and an
/// openssl signature from our PKCS#8 key verifies with `verify`.
fn check_signatures(spec: AsymSpec, alg: SigningAlgorithm) {
    let d = Dir::new();
    let key = generate_private_key(spec).unwrap();
    let spki = public_key_spki(spec, &key).unwrap();
    d.write("pub.der", &spki);
    let msg = b"coffer signs this for openssl";
    let raw_sig = sign(spec, &key, alg, MessageType::Raw, msg).unwrap();
    assert!(
        dgst_verifies(&d, alg, msg, &raw_sig),
        "{spec:?} {alg:?} raw"
    );
    assert!(
        !dgst_verifies(&d, alg, b"another message", &raw_sig),
        "{spec:?} {alg:?} tamper"
    );

    let digest_file = d.write("msg.bin", msg);
    let digest = openssl(&[
        "dgst",
        &format!("-{}", sha_flag(alg)),
        "-binary",
        &digest_file,
    ]);
    let digest_sig = sign(spec, &key, alg, MessageType::Digest, &digest).unwrap();
    assert!(
        dgst_verifies(&d, alg, msg, &digest_sig),
        "{spec:?} {alg:?} digest/dgst"
    );
    assert!(
        pkeyutl_verifies_digest(&d, alg, &digest, &digest_sig),
        "{spec:?} {alg:?} pkeyutl"
    );
    let mut wrong = digest.clone();
    wrong[0] ^= 1;
    assert!(
        !pkeyutl_verifies_digest(&d, alg, &wrong, &digest_sig),
        "{spec:?} {alg:?} pkeyutl tamper"
    );

    // The other direction: openssl signs with the PKCS#8 we generated.
    let priv_path = d.write("priv.der", &key);
    let (m, s) = (d.write("msg.bin", msg), d.path("ossl.sig"));
    let flag = format!("-{}", sha_flag(alg));
    let mut args = vec![
        "dgst", &flag, "-sign", &priv_path, "-keyform", "DER", "-out", &s,
    ];
    if is_pss(alg) {
        args.extend([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ]);
    }
    args.push(&m);
    openssl(&args);
    let ossl_sig = d.read("ossl.sig");
    assert!(verify(spec, &spki, alg, MessageType::Raw, msg, &ossl_sig).unwrap());
    assert!(verify(spec, &spki, alg, MessageType::Digest, &digest, &ossl_sig).unwrap());
}

#[test]
fn rsa_signatures_interoperate() {
    use SigningAlgorithm::*;
    for spec in RSA {
        for alg in [
            RsassaPssSha256,
            RsassaPssSha384,
            RsassaPssSha512,
            RsassaPkcs1V15Sha256,
            RsassaPkcs1V15Sha384,
            RsassaPkcs1V15Sha512,
        ] {
            check_signatures(spec, alg);
        }
    }
}

#[test]
fn ecdsa_signatures_interoperate() {
    check_signatures(AsymSpec::EccNistP256, SigningAlgorithm::EcdsaSha256);
    check_signatures(AsymSpec::EccNistP384, SigningAlgorithm::EcdsaSha384);
    check_signatures(AsymSpec::EccNistP521, SigningAlgorithm::EcdsaSha512);
    check_signatures(AsymSpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256);
}

#[test]
fn ed25519_signatures_interoperate() {
    let spec = AsymSpec::EccNistEd25519;
    let alg = SigningAlgorithm::Ed25519Sha512;
    let d = Dir::new();
    let key = generate_private_key(spec).unwrap();
    let spki = public_key_spki(spec, &key).unwrap();
    let pubkey = d.write("pub.der", &spki);
    let msg = b"pure Ed25519 over the raw message";
    let sig = sign(spec, &key, alg, MessageType::Raw, msg).unwrap();
    let ed_verify = |m: &[u8], s: &[u8]| {
        let (m, s) = (d.write("msg.bin", m), d.write("sig.bin", s));
        openssl_accepts(&[
            "pkeyutl", "-verify", "-pubin", "-inkey", &pubkey, "-keyform", "DER", "-rawin", "-in",
            &m, "-sigfile", &s,
        ])
    };
    assert!(ed_verify(msg, &sig));
    assert!(!ed_verify(b"pure Ed25519 over another message", &sig));

    let priv_path = d.write("priv.der", &key);
    let (m, s) = (d.write("msg.bin", msg), d.path("ossl.sig"));
    openssl(&[
        "pkeyutl", "-sign", "-inkey", &priv_path, "-keyform", "DER", "-rawin", "-in", &m, "-out",
        &s,
    ]);
    let ossl_sig = d.read("ossl.sig");
    // Ed25519 is deterministic: both implementations produce the same bytes.
    assert_eq!(ossl_sig, sig);
    assert!(verify(spec, &spki, alg, MessageType::Raw, msg, &ossl_sig).unwrap());
}

/// What `openssl pkey` derives from a private key, as DER SPKI.
fn openssl_spki(d: &Dir, private_der_or_pem: &str, form: &str) -> Vec<u8> {
    let out = d.path("derived_pub.der");
    openssl(&[
        "pkey",
        "-inform",
        form,
        "-in",
        private_der_or_pem,
        "-pubout",
        "-outform",
        "DER",
        "-out",
        &out,
    ]);
    d.read("derived_pub.der")
}

#[test]
fn public_keys_and_private_keys_are_standard_der() {
    for spec in openssl_specs() {
        let d = Dir::new();
        let key = generate_private_key(spec).unwrap();
        let spki = public_key_spki(spec, &key).unwrap();
        let pub_path = d.write("pub.der", &spki);
        // `openssl pkey -pubin -inform DER` accepts it and re-encodes it identically.
        let reencoded = openssl(&[
            "pkey", "-pubin", "-inform", "DER", "-in", &pub_path, "-outform", "DER",
        ]);
        assert_eq!(reencoded, spki, "{spec:?}");
        // openssl reads our PKCS#8 and derives the same public key.
        let priv_path = d.write("priv.der", &key);
        assert_eq!(openssl_spki(&d, &priv_path, "DER"), spki, "{spec:?}");
        let text = String::from_utf8(openssl(&[
            "pkey", "-pubin", "-inform", "DER", "-in", &pub_path, "-noout", "-text",
        ]))
        .unwrap();
        let expected = match spec {
            AsymSpec::Rsa2048 => "2048 bit",
            AsymSpec::Rsa3072 => "3072 bit",
            AsymSpec::Rsa4096 => "4096 bit",
            AsymSpec::EccNistP256 => "P-256",
            AsymSpec::EccNistP384 => "P-384",
            AsymSpec::EccNistP521 => "P-521",
            AsymSpec::EccSecgP256k1 => "secp256k1",
            AsymSpec::EccNistEd25519 => "ED25519",
            AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => unreachable!(),
        };
        assert!(text.contains(expected), "{spec:?}: {text}");
    }
}

/// `openssl genpkey` arguments for a key of `spec`.
fn genpkey_args(spec: AsymSpec) -> Vec<&'static str> {
    match spec {
        AsymSpec::Rsa2048 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        AsymSpec::Rsa3072 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
        AsymSpec::Rsa4096 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        AsymSpec::EccNistP256 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        AsymSpec::EccNistP384 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        AsymSpec::EccNistP521 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        AsymSpec::EccSecgP256k1 => {
            vec![
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:secp256k1",
            ]
        }
        AsymSpec::EccNistEd25519 => vec!["-algorithm", "ED25519"],
        AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => unreachable!(),
    }
}

/// The specs this machine's openssl (3.0) knows: ML-DSA arrived in OpenSSL 3.5, so its keys
/// and signatures are checked against Python's `cryptography` in `scripts/smoke-kms.sh`.
fn openssl_specs() -> impl Iterator<Item = AsymSpec> {
    AsymSpec::ALL.into_iter().filter(|s| !s.is_ml_dsa())
}

/// A private key generated by openssl, as PKCS#8 DER. `genpkey -outform DER` in OpenSSL 3.0
/// writes RSA and EC keys in their traditional (PKCS#1 / SEC1) form, so convert explicitly,
/// as the AWS import instructions do.
fn openssl_private_key(d: &Dir, spec: AsymSpec, name: &str) -> Vec<u8> {
    let pem = d.path("genpkey.pem");
    let mut args = vec!["genpkey"];
    args.extend(genpkey_args(spec));
    args.extend(["-out", &pem]);
    openssl(&args);
    let out = d.path(name);
    openssl(&[
        "pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER", "-out", &out,
    ]);
    d.read(name)
}

/// The same key in its traditional DER form (PKCS#1 for RSA, SEC1 for EC).
fn traditional_der(d: &Dir, spec: AsymSpec) -> Vec<u8> {
    let (pem, out) = (d.path("genpkey.pem"), d.path("traditional.der"));
    if spec.is_rsa() {
        openssl(&[
            "rsa",
            "-traditional",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-out",
            &out,
        ]);
    } else {
        openssl(&["ec", "-in", &pem, "-outform", "DER", "-out", &out]);
    }
    d.read("traditional.der")
}

#[test]
fn openssl_generated_keys_validate_only_as_their_spec() {
    for spec in openssl_specs() {
        let d = Dir::new();
        let key = openssl_private_key(&d, spec, "k.der");
        validate_private_key(spec, &key).unwrap();
        assert_eq!(
            public_key_spki(spec, &key).unwrap(),
            openssl_spki(&d, &d.path("k.der"), "DER"),
            "{spec:?}"
        );
        for other in AsymSpec::ALL.into_iter().filter(|o| *o != spec) {
            assert!(
                validate_private_key(other, &key).is_err(),
                "{spec:?} as {other:?}"
            );
        }
        // KMS takes PKCS#8 only; the traditional encodings of the same key are refused.
        if spec != AsymSpec::EccNistEd25519 {
            let traditional = traditional_der(&d, spec);
            assert!(traditional != key, "{spec:?}: openssl wrote PKCS#8 again");
            assert!(
                validate_private_key(spec, &traditional).is_err(),
                "{spec:?}"
            );
        }
    }
}

fn oaep_opts(hash: OaepHash) -> [&'static str; 6] {
    let md = match hash {
        OaepHash::Sha1 => ["rsa_oaep_md:sha1", "rsa_mgf1_md:sha1"],
        OaepHash::Sha256 => ["rsa_oaep_md:sha256", "rsa_mgf1_md:sha256"],
    };
    [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        md[0],
        "-pkeyopt",
        md[1],
    ]
}

/// `openssl pkeyutl -encrypt` to a DER SPKI with RSA-OAEP.
fn openssl_oaep_encrypt(d: &Dir, pub_path: &str, hash: OaepHash, pt: &[u8]) -> Vec<u8> {
    let (i, o) = (d.write("pt.bin", pt), d.path("ct.bin"));
    let mut args = vec![
        "pkeyutl", "-encrypt", "-pubin", "-inkey", pub_path, "-keyform", "DER", "-in", &i, "-out",
        &o,
    ];
    args.extend(oaep_opts(hash));
    openssl(&args);
    d.read("ct.bin")
}

#[test]
fn rsa_oaep_interoperates() {
    for spec in RSA {
        let d = Dir::new();
        let key = generate_private_key(spec).unwrap();
        let spki = public_key_spki(spec, &key).unwrap();
        let pub_path = d.write("pub.der", &spki);
        let priv_path = d.write("priv.der", &key);
        for hash in [OaepHash::Sha1, OaepHash::Sha256] {
            let max = rsa_oaep_max_plaintext(spec, hash);
            let pt: Vec<u8> = (0..max).map(|i| (i * 7) as u8).collect();
            let ct = openssl_oaep_encrypt(&d, &pub_path, hash, &pt);
            assert_eq!(
                rsa_oaep_decrypt(spec, &key, hash, &ct).unwrap().as_slice(),
                pt
            );
            // openssl also refuses one byte more: the limit is the standard one.
            let over = d.write("over.bin", &vec![0u8; max + 1]);
            let mut args = vec![
                "pkeyutl", "-encrypt", "-pubin", "-inkey", &pub_path, "-keyform", "DER", "-in",
                &over,
            ];
            args.extend(oaep_opts(hash));
            assert!(!openssl_accepts(&args), "{spec:?} {hash:?} over the limit");

            // And the reverse direction.
            let ours = rsa_oaep_encrypt(&spki, hash, b"to openssl").unwrap();
            let c = d.write("ours.bin", &ours);
            let mut args = vec![
                "pkeyutl", "-decrypt", "-inkey", &priv_path, "-keyform", "DER", "-in", &c,
            ];
            args.extend(oaep_opts(hash));
            assert_eq!(openssl(&args), b"to openssl");
        }
    }
}

#[test]
fn ecdh_matches_openssl_derive() {
    for (spec, curve) in [
        (AsymSpec::EccNistP256, "P-256"),
        (AsymSpec::EccNistP384, "P-384"),
        (AsymSpec::EccNistP521, "P-521"),
    ] {
        let d = Dir::new();
        let ours = generate_private_key(spec).unwrap();
        let our_pub = d.write("ours.der", &public_key_spki(spec, &ours).unwrap());
        let peer = d.path("peer.pem");
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{curve}"),
            "-out",
            &peer,
        ]);
        let peer_spki = openssl_spki(&d, &peer, "PEM");
        let theirs = openssl(&[
            "pkeyutl",
            "-derive",
            "-inkey",
            &peer,
            "-peerkey",
            &our_pub,
            "-peerform",
            "DER",
        ]);
        let mine = ecdh_shared_secret(spec, &ours, &peer_spki).unwrap();
        assert_eq!(mine.as_slice(), theirs, "{spec:?}");
    }
}

/// Wraps `material` for import exactly as the AWS documentation's OpenSSL recipe does.
fn openssl_wrap(d: &Dir, pub_path: &str, alg: WrappingAlgorithm, material: &[u8]) -> Vec<u8> {
    let hash = match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => OaepHash::Sha1,
        _ => OaepHash::Sha256,
    };
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256 => {
            openssl_oaep_encrypt(d, pub_path, hash, material)
        }
        _ => {
            let aes_key = openssl(&["rand", "32"]);
            let mut out = openssl_oaep_encrypt(d, pub_path, hash, &aes_key);
            let (m, w) = (d.write("material.bin", material), d.path("wrapped.bin"));
            openssl(&[
                "enc",
                "-id-aes256-wrap-pad",
                "-K",
                &hex(&aes_key),
                "-iv",
                "A65959A6",
                "-in",
                &m,
                "-out",
                &w,
            ]);
            out.extend(d.read("wrapped.bin"));
            out
        }
    }
}

#[test]
fn imported_material_wrapped_by_openssl_unwraps() {
    let d = Dir::new();
    let symmetric = openssl(&["rand", "32"]);
    let rsa_material = openssl_private_key(&d, AsymSpec::Rsa2048, "rsa.der");
    let p521_material = openssl_private_key(&d, AsymSpec::EccNistP521, "p521.der");
    for wrapping_spec in RSA {
        let wrapping = generate_private_key(wrapping_spec).unwrap();
        let pub_path = d.write(
            "wrap_pub.der",
            &public_key_spki(wrapping_spec, &wrapping).unwrap(),
        );
        for alg in [
            WrappingAlgorithm::RsaesOaepSha1,
            WrappingAlgorithm::RsaesOaepSha256,
        ] {
            let wrapped = openssl_wrap(&d, &pub_path, alg, &symmetric);
            let got = unwrap_imported_material(wrapping_spec, &wrapping, alg, &wrapped).unwrap();
            assert_eq!(got.as_slice(), symmetric, "{wrapping_spec:?} {alg:?}");
        }
        for alg in [
            WrappingAlgorithm::RsaAesKeyWrapSha1,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
        ] {
            for (material, spec) in [
                (&symmetric, None),
                (&rsa_material, Some(AsymSpec::Rsa2048)),
                (&p521_material, Some(AsymSpec::EccNistP521)),
            ] {
                let wrapped = openssl_wrap(&d, &pub_path, alg, material);
                let got =
                    unwrap_imported_material(wrapping_spec, &wrapping, alg, &wrapped).unwrap();
                assert_eq!(
                    got.as_slice(),
                    material.as_slice(),
                    "{wrapping_spec:?} {alg:?}"
                );
                if let Some(spec) = spec {
                    validate_private_key(spec, &got).unwrap();
                }
            }
        }
    }
}
