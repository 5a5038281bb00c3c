//! `coffer encrypt` / `coffer decrypt` (client-side envelope encryption in the AWS Encryption
//! SDK format) against a running server, and interop with the official `aws-encryption-cli`.

use crate::kit::{REGION, TestServer, bin};
use crate::kms::symmetric;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Env<'a> {
    s: &'a TestServer,
}

impl Env<'_> {
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("AWS_ACCESS_KEY_ID", &self.s.admin.akid)
            .env("AWS_SECRET_ACCESS_KEY", &self.s.admin.secret)
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ENDPOINT_URL_KMS", &self.s.endpoint)
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL");
        c
    }

    /// Runs `coffer ARGS` with `stdin`; (success, stdout, stderr).
    fn coffer(&self, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>, String) {
        let mut child = self
            .cmd(bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let (ok, out, err) = self.coffer(args, b"");
        assert!(ok, "coffer {args:?} failed: {err}");
        out
    }
}

async fn key_arn(s: &TestServer) -> String {
    let id = symmetric(&s.kms(&s.admin)).await;
    format!("arn:aws:kms:{REGION}:{}:key/{id}", s.account)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 251) as u8).collect()
}

/// No temporary or partial file is left in `dir`.
fn no_partials(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.contains("coffer-partial"), "left behind: {name}");
    }
}

#[tokio::test]
async fn files_and_streams_round_trip_with_one_and_two_keys() {
    let s = TestServer::start();
    let env = Env { s: &s };
    let (a, b) = (key_arn(&s).await, key_arn(&s).await);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().to_string();
    for len in [0usize, 1, 4096, 3 * 1024 * 1024 + 7] {
        let pt = data(len);
        std::fs::write(p("pt"), &pt).unwrap();
        for (keys, ctx) in [(vec![&a], None), (vec![&a, &b], Some("purpose=test"))] {
            let mut args = strs(&["encrypt", "--quiet", "--force", "-o", &p("ct")]);
            for k in &keys {
                args.extend(strs(&["-k", k]));
            }
            if let Some(c) = ctx {
                args.extend(strs(&["-c", c]));
            }
            args.push(p("pt"));
            env.ok(&refs(&args));
            // Every key alone decrypts; the context is checked when given.
            for k in &keys {
                let mut d = strs(&["decrypt", "-k", k, "-o", "-", &p("ct")]);
                if let Some(c) = ctx {
                    d.extend(strs(&["-c", c]));
                }
                assert_eq!(env.ok(&refs(&d)), pt, "len {len}");
            }
            // stdin to stdout, both ways.
            let (ok, ct, err) = env.coffer(&["encrypt", "-k", &a, "-o", "-", "-"], &pt);
            assert!(ok, "{err}");
            let (ok, back, err) = env.coffer(&["decrypt", "-k", &a, "-o", "-", "-"], &ct);
            assert!(ok, "{err}");
            assert_eq!(back, pt);
        }
    }
}

#[tokio::test]
async fn failures_are_clear_and_leave_no_partial_plaintext() {
    let s = TestServer::start();
    let env = Env { s: &s };
    let (a, b) = (key_arn(&s).await, key_arn(&s).await);
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let p = |n: &str| path(n).to_string_lossy().to_string();
    std::fs::write(path("pt"), data(100_000)).unwrap();
    env.ok(&[
        "encrypt",
        "-k",
        &a,
        "-c",
        "team=blue",
        "-o",
        &p("ct"),
        &p("pt"),
    ]);
    let fail = |args: &[&str], needle: &str| {
        let (ok, _, err) = env.coffer(args, b"");
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!path("out").exists(), "{args:?} left an output file");
        no_partials(dir.path());
    };
    fail(
        &["decrypt", "-k", &b, "-o", &p("out"), &p("ct")],
        "no keyring could decrypt",
    );
    fail(
        &[
            "decrypt",
            "-k",
            &a,
            "-c",
            "team=red",
            "-o",
            &p("out"),
            &p("ct"),
        ],
        "does not match",
    );
    let mut ct = std::fs::read(path("ct")).unwrap();
    let mid = ct.len() / 2;
    ct[mid] ^= 1;
    std::fs::write(path("bad"), &ct).unwrap();
    fail(
        &["decrypt", "-k", &a, "-o", &p("out"), &p("bad")],
        "did not authenticate",
    );
    std::fs::write(path("short"), &std::fs::read(path("ct")).unwrap()[..5000]).unwrap();
    fail(
        &["decrypt", "-k", &a, "-o", &p("out"), &p("short")],
        "truncated",
    );
    fail(
        &[
            "decrypt",
            "--discovery",
            "--discovery-account",
            "111122223333",
            "-o",
            &p("out"),
            &p("ct"),
        ],
        "discovery filter",
    );
    fail(
        &[
            "decrypt",
            "-k",
            &a,
            "--max-data-keys",
            "0",
            "-o",
            &p("out"),
            &p("ct"),
        ],
        "maximum",
    );
    // Discovery with the right account works; an existing output is not replaced silently.
    let acct = s.account.clone();
    env.ok(&[
        "decrypt",
        "--discovery",
        "--discovery-account",
        &acct,
        "-o",
        &p("out"),
        &p("ct"),
    ]);
    fail_exists(&env, &a, &p("out"), &p("ct"));
}

fn fail_exists(env: &Env<'_>, key: &str, out: &str, ct: &str) {
    let (ok, _, err) = env.coffer(&["decrypt", "-k", key, "-o", out, ct], b"");
    assert!(!ok && err.contains("--force"), "{err}");
}

#[tokio::test]
async fn directories_globs_and_metadata() {
    let s = TestServer::start();
    let env = Env { s: &s };
    let a = key_arn(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("in/sub")).unwrap();
    for (n, len) in [("in/a.txt", 10), ("in/b.bin", 5000), ("in/sub/c.txt", 0)] {
        std::fs::write(root.join(n), data(len)).unwrap();
    }
    let r = |n: &str| root.join(n).to_string_lossy().to_string();
    env.ok(&[
        "encrypt",
        "-r",
        "-k",
        &a,
        "--frame-size",
        "1024",
        "--suite",
        "0x0478",
        "--metadata-output",
        &r("meta.jsonl"),
        "-o",
        &r("enc"),
        &r("in"),
    ]);
    let meta = std::fs::read_to_string(root.join("meta.jsonl")).unwrap();
    assert_eq!(meta.lines().count(), 3);
    for line in meta.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["algorithm_suite"], "AES_256_GCM_HKDF_SHA512_COMMIT_KEY");
        assert_eq!(v["frame_length"], 1024);
        assert_eq!(v["encrypted_data_keys"][0]["key_id"], a.as_str());
        assert_eq!(v["mode"], "encrypt");
    }
    env.ok(&[
        "decrypt",
        "-r",
        "-k",
        &a,
        "--suffix",
        "",
        "-o",
        &r("dec"),
        &r("enc"),
    ]);
    for n in ["a.txt", "b.bin", "sub/c.txt"] {
        let back = std::fs::read(root.join("dec").join(format!("{n}.encrypted"))).unwrap();
        assert_eq!(back, std::fs::read(root.join("in").join(n)).unwrap(), "{n}");
    }
    // A glob selects the .txt files of one directory.
    env.ok(&["encrypt", "-k", &a, "-o", &r("glob"), &r("in/*.txt")]);
    let names: Vec<String> = std::fs::read_dir(root.join("glob"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["a.txt.encrypted"]);
    let (ok, _, err) = env.coffer(&["encrypt", "-k", &a, "-o", &r("x"), &r("in")], b"");
    assert!(!ok && err.contains("--recursive"), "{err}");
    // The data-key cache: one GenerateDataKey for the whole directory, so every message
    // carries the same encrypted data key; without it each file has its own.
    let edk = |dir: &str, n: &str| {
        let msg = std::fs::read(root.join(dir).join(format!("{n}.encrypted"))).unwrap();
        coffer_envelope::parse_header(&msg)
            .unwrap()
            .encrypted_data_keys
    };
    env.ok(&[
        "encrypt",
        "-r",
        "-k",
        &a,
        "--cache-max-age",
        "60",
        "-o",
        &r("cached"),
        &r("in"),
    ]);
    assert_eq!(edk("cached", "a.txt"), edk("cached", "b.bin"));
    assert_eq!(edk("cached", "a.txt"), edk("cached", "sub/c.txt"));
    assert_ne!(edk("enc", "a.txt"), edk("enc", "b.bin"));
    env.ok(&[
        "decrypt",
        "-r",
        "-k",
        &a,
        "--cache-max-age",
        "60",
        "-o",
        &r("cached-dec"),
        &r("cached"),
    ]);
    let back = std::fs::read(root.join("cached-dec/b.bin.encrypted.decrypted")).unwrap();
    assert_eq!(back, data(5000));
}

/// Both directions with the official CLI (`pip install aws-encryption-sdk-cli`, done by
/// `.ci/run`), pointed at coffer through `AWS_ENDPOINT_URL_KMS`. Without the CLI this fails.
#[tokio::test]
async fn interop_with_aws_encryption_cli() {
    let found = Command::new("aws-encryption-cli").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "aws-encryption-cli is not installed: pip install aws-encryption-sdk-cli"
    );
    let s = TestServer::start();
    let env = Env { s: &s };
    let (a, b) = (key_arn(&s).await, key_arn(&s).await);
    let dir = tempfile::tempdir().unwrap();
    let r = |n: &str| dir.path().join(n).to_string_lossy().to_string();
    let aws = |args: &[&str]| {
        let out = env.cmd("aws-encryption-cli").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "aws-encryption-cli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for len in [0usize, 5, 4096, 2 * 1024 * 1024] {
        let pt = data(len);
        std::fs::write(r("pt"), &pt).unwrap();
        for (keys, ctx) in [(vec![&a], vec![]), (vec![&a, &b], vec!["purpose=interop"])] {
            // aws-encryption-cli -> coffer
            let mut args = strs(&[
                "--encrypt",
                "-S",
                "-i",
                &r("pt"),
                "-o",
                &r("aws.ct"),
                "--wrapping-keys",
            ]);
            args.extend(keys.iter().map(|k| format!("key={k}")));
            if !ctx.is_empty() {
                args.push("--encryption-context".into());
                args.extend(strs(&ctx));
            }
            let _ = std::fs::remove_file(r("aws.ct"));
            aws(&refs(&args));
            let last = keys.last().unwrap().as_str();
            assert_eq!(
                env.ok(&["decrypt", "-k", last, "-o", "-", &r("aws.ct")]),
                pt
            );
            // coffer -> aws-encryption-cli
            let mut enc = strs(&["encrypt", "--force", "-o", &r("coffer.ct")]);
            for k in &keys {
                enc.extend(strs(&["-k", k]));
            }
            for c in &ctx {
                enc.extend(strs(&["-c", c]));
            }
            enc.push(r("pt"));
            env.ok(&refs(&enc));
            let key_arg = format!("key={last}");
            let out = r("coffer.pt");
            let _ = std::fs::remove_file(&out);
            aws(&[
                "--decrypt",
                "-S",
                "-i",
                &r("coffer.ct"),
                "-o",
                &out,
                "--wrapping-keys",
                &key_arg,
            ]);
            assert_eq!(std::fs::read(&out).unwrap(), pt, "len {len}");
        }
    }
}
