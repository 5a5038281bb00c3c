//! Encrypts or decrypts a file with a raw AES keyring, for interoperability checks against
//! other ESDK implementations (see `scripts/esdk-interop.py`).
//!
//! ```text
//! raw_aes encrypt|decrypt NAMESPACE NAME KEY_HEX IN OUT [--frame N] [--suite 0xNNNN]
//!         [--policy forbid|require-allow|require] [--buffer] [k=v ...]
//! ```
//! With `decrypt`, `k=v` pairs are the reproduced encryption context.

use coffer_envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptionContext, RawAesKeyring,
};
use std::process::ExitCode;

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [op, ns, name, key_hex, input, output, rest @ ..] = args else {
        return Err(
            "usage: raw_aes encrypt|decrypt NAMESPACE NAME KEY_HEX IN OUT [options] [k=v...]"
                .into(),
        );
    };
    let key = (0..key_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(key_hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()?;
    let kr = RawAesKeyring::new(ns, name, &key)?;
    let mut client = Client::new();
    let mut ec = EncryptionContext::new();
    let mut buffer = false;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--frame" => {
                client = client.with_frame_length(it.next().ok_or("--frame N")?.parse()?)?
            }
            "--suite" => {
                let v = it.next().ok_or("--suite 0xNNNN")?;
                let id = u16::from_str_radix(v.trim_start_matches("0x"), 16)?;
                client = client.with_suite(AlgorithmSuite::from_id(id).ok_or("unknown suite")?);
            }
            "--policy" => {
                client = client.with_commitment_policy(match it.next().map(String::as_str) {
                    Some("forbid") => CommitmentPolicy::ForbidEncryptAllowDecrypt,
                    Some("require-allow") => CommitmentPolicy::RequireEncryptAllowDecrypt,
                    _ => CommitmentPolicy::RequireEncryptRequireDecrypt,
                })
            }
            "--buffer" => buffer = true,
            kv => {
                let (k, v) = kv.split_once('=').ok_or("context pairs are k=v")?;
                ec.insert(k.into(), v.into());
            }
        }
    }
    let data = std::fs::read(input)?;
    let out = match op.as_str() {
        "encrypt" => client.encrypt(&kr, &data, &ec)?,
        "decrypt" => {
            let opts = DecryptOptions {
                reproduced_context: (!ec.is_empty()).then_some(ec),
                buffer_signed: buffer,
                ..Default::default()
            };
            client.decrypt(&kr, &data, &opts)?.plaintext
        }
        _ => return Err("operation is encrypt or decrypt".into()),
    };
    std::fs::write(output, out)?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw_aes: {e}");
            ExitCode::FAILURE
        }
    }
}
