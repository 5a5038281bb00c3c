//! Unsealing with a passphrase (Argon2id) instead of the key file.

use crate::kit::bin;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Starts the server with `pw` as the passphrase; Ok once it listens, Err(stderr) if it exits.
fn start(data: &Path, pw: &str) -> Result<(), String> {
    let mut child = Command::new(bin())
        .args([
            "server",
            "--log",
            "error",
            "--listen",
            "127.0.0.1:0",
            "--unseal-passphrase-env",
            "COFFER_IT_PW",
            "--data-dir",
        ])
        .arg(data)
        .env("COFFER_IT_PW", pw)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let listening = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("coffer listening"));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    if listening {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn a_passphrase_unseals_and_a_wrong_one_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    start(&data, "correct horse battery staple").unwrap();
    assert!(
        !data.join("unseal.key").exists(),
        "no key file when a passphrase seals the store"
    );
    start(&data, "correct horse battery staple").unwrap();
    let err = start(&data, "wrong passphrase").unwrap_err();
    assert!(err.contains("wrong key file or passphrase"), "{err}");
}
