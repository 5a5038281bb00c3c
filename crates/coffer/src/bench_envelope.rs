//! `coffer bench envelope`: in-process, in-memory throughput of the envelope library.
//!
//! Encrypts and decrypts one plaintext of `--size` bytes through the real streaming
//! `Encryptor` and `Decryptor` with a raw AES wrapping key. The keyring runs once per
//! message (with KMS it is one round trip per message), so it is not what is measured: the
//! figures are the message body (frames, key commitment, signature). Buffers are allocated
//! and touched by an unmeasured warm-up run, so page faults are not measured either.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use coffer_envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptionContext, RawAesKeyring};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct EnvelopeArgs {
    /// Plaintext size: bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    size: usize,
    /// Algorithm suites (ESDK names or IDs), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0x0578,0x0478")]
    suites: Vec<String>,
    /// Thread counts, comma-separated (0: the library's default, every core).
    #[arg(long, value_delimiter = ',', default_value = "1,0")]
    threads: Vec<usize>,
    /// Plaintext bytes per frame.
    #[arg(long, default_value_t = coffer_envelope::DEFAULT_FRAME_LENGTH)]
    frame_size: u32,
    /// Measured runs per case; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    runs: u32,
}

/// One measured case.
struct Row {
    op: &'static str,
    suite: AlgorithmSuite,
    threads: usize,
    wall: Duration,
    cpu: Duration,
}

pub fn run(args: &EnvelopeArgs) -> Result<()> {
    let key = coffer_crypto::random_bytes(32);
    let keyring = RawAesKeyring::new("bench", "raw-aes", &key)?;
    let plaintext = coffer_crypto::random_bytes(args.size);
    let mut bench = Bench {
        keyring,
        plaintext,
        message: Vec::new(),
        output: vec![0u8; args.size],
        runs: args.runs.max(1),
    };
    println!(
        "| operation | suite | threads | size | MB/s | cores used | MB per CPU-second |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for name in &args.suites {
        let suite = AlgorithmSuite::parse(name).ok_or_else(|| anyhow!("unknown suite {name}"))?;
        for &threads in &args.threads {
            let mut client = Client::new()
                .with_suite(suite)
                .with_frame_length(args.frame_size)?;
            if threads > 0 {
                client = client.with_threads(threads);
            }
            for row in bench.case(&client, suite, threads)? {
                print_row(&row, args.size);
            }
        }
    }
    Ok(())
}

struct Bench {
    keyring: RawAesKeyring,
    plaintext: Vec<u8>,
    message: Vec<u8>,
    output: Vec<u8>,
    runs: u32,
}

impl Bench {
    /// Encrypt then decrypt, each the fastest of `runs` after a warm-up.
    fn case(&mut self, client: &Client, suite: AlgorithmSuite, threads: usize) -> Result<[Row; 2]> {
        self.encrypt(client)?;
        let (wall, cpu) = self.fastest(|b| b.encrypt(client))?;
        let enc = Row {
            op: "encrypt",
            suite,
            threads,
            wall,
            cpu,
        };
        self.decrypt(client)?;
        if self.output != self.plaintext {
            bail!("decryption did not return the plaintext");
        }
        let (wall, cpu) = self.fastest(|b| b.decrypt(client))?;
        let dec = Row {
            op: "decrypt",
            suite,
            threads,
            wall,
            cpu,
        };
        Ok([enc, dec])
    }

    /// The shortest wall time of `runs` runs of `f`, with the CPU time of that run.
    fn fastest(&mut self, f: impl Fn(&mut Self) -> Result<()>) -> Result<(Duration, Duration)> {
        let mut best: Option<(Duration, Duration)> = None;
        for _ in 0..self.runs {
            let (cpu0, t0) = (process_cpu()?, Instant::now());
            f(self)?;
            let (wall, cpu) = (t0.elapsed(), process_cpu()?.saturating_sub(cpu0));
            if best.is_none_or(|(w, _)| wall < w) {
                best = Some((wall, cpu));
            }
        }
        best.ok_or_else(|| anyhow!("no runs"))
    }

    /// Into the reused message buffer (its pages already touched by the warm-up).
    fn encrypt(&mut self, client: &Client) -> Result<()> {
        self.message.clear();
        let ec = EncryptionContext::new();
        let len = Some(self.plaintext.len() as u64);
        let mut enc = client.encryptor(&self.keyring, &ec, &mut self.message, len)?;
        enc.write_all(&self.plaintext)?;
        enc.finish()?;
        Ok(())
    }

    /// Into the reused output buffer, with reads as large as the reader wants.
    fn decrypt(&mut self, client: &Client) -> Result<()> {
        let opts = DecryptOptions::default();
        let mut dec = client.decryptor(&self.keyring, &self.message[..], &opts)?;
        let mut at = 0;
        loop {
            let n = dec.read(&mut self.output[at..])?;
            if n == 0 {
                break;
            }
            at += n;
        }
        if at != self.output.len() {
            bail!("decrypted {at} bytes, expected {}", self.output.len());
        }
        Ok(())
    }
}

fn print_row(r: &Row, size: usize) {
    let mbs = size as f64 / r.wall.as_secs_f64() / 1e6;
    let cores = r.cpu.as_secs_f64() / r.wall.as_secs_f64();
    let threads = if r.threads == 0 {
        "all".to_string()
    } else {
        r.threads.to_string()
    };
    println!(
        "| {} | {:#06x} | {threads} | {} MiB | {mbs:.0} | {cores:.2} | {:.0} |",
        r.op,
        r.suite.id(),
        size >> 20,
        mbs / cores.max(0.01)
    );
}

/// User + system CPU time of this process, every thread included (Linux `/proc`; the
/// kernel reports it in USER_HZ = 100 ticks per second on every architecture).
fn process_cpu() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("unexpected /proc/self/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let tick = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| anyhow!("unexpected /proc/self/stat"))
    };
    Ok(Duration::from_millis((tick(11)? + tick(12)?) * 10))
}

fn parse_size(s: &str) -> Result<usize, String> {
    let (num, mult) = match s {
        _ if s.ends_with("GiB") => (&s[..s.len() - 3], 1 << 30),
        _ if s.ends_with("MiB") => (&s[..s.len() - 3], 1 << 20),
        _ if s.ends_with("KiB") => (&s[..s.len() - 3], 1 << 10),
        _ => (s, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s} is not a size (bytes, or with KiB/MiB/GiB)"))
}
