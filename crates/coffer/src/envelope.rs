//! `coffer encrypt` / `coffer decrypt`: client-side envelope encryption of files, directories
//! and standard streams in the AWS Encryption SDK message format, with KMS keys.
//!
//! Output files are written under a temporary name in the output directory and renamed only
//! when the whole message has been written (encrypt) or verified (decrypt), so a failure never
//! leaves a partial file behind. Standard output streams: for signed messages it may receive
//! frames before the signature is checked unless `--buffer` is given.

use crate::aws_config::{AwsConfig, Overrides};
use crate::kms_http::HttpKms;
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use coffer_envelope::keyring::DiscoveryFilter;
use coffer_envelope::{
    AlgorithmSuite, CacheLimits, CachingCmm, Client, CommitmentPolicy, CryptoMaterialsManager,
    DecryptOptions, DefaultCmm, EncryptionContext, Keyring, KmsClient, KmsDiscoveryKeyring,
    KmsKeyring, MessageInfo, MultiKeyring,
};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The ESDK commitment policies, named as on the aws-encryption-cli command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[allow(clippy::enum_variant_names)] // the names are the ESDK's
enum PolicyArg {
    RequireEncryptRequireDecrypt,
    RequireEncryptAllowDecrypt,
    ForbidEncryptAllowDecrypt,
}

impl From<PolicyArg> for CommitmentPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::RequireEncryptRequireDecrypt => Self::RequireEncryptRequireDecrypt,
            PolicyArg::RequireEncryptAllowDecrypt => Self::RequireEncryptAllowDecrypt,
            PolicyArg::ForbidEncryptAllowDecrypt => Self::ForbidEncryptAllowDecrypt,
        }
    }
}

/// Options shared by `encrypt` and `decrypt`.
#[derive(Args, Debug)]
pub struct CommonArgs {
    /// Files, directories (with --recursive), glob patterns, or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// Output file, directory, or - for standard output.
    #[arg(short, long)]
    output: String,
    /// Descend into directories; the output must then be a directory.
    #[arg(short, long)]
    recursive: bool,
    /// Suffix of output file names chosen inside an output directory.
    #[arg(long)]
    suffix: Option<String>,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
    /// Encryption context pair (repeatable). On decrypt: pairs the message must have.
    #[arg(short = 'c', long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Which algorithm suites may be written and read.
    #[arg(long, value_enum, default_value = "require-encrypt-require-decrypt")]
    commitment_policy: PolicyArg,
    /// Fail on messages with more encrypted data keys than this.
    #[arg(long, value_name = "N")]
    max_data_keys: Option<usize>,
    /// Write one JSON line per file (suite, keys, context, frame length) here; - for stdout.
    #[arg(long, value_name = "PATH")]
    metadata_output: Option<String>,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
    /// Reuse data keys for this many seconds (data-key cache: fewer KMS calls for many
    /// files; only files of known size use it).
    #[arg(long, value_name = "SECONDS")]
    cache_max_age: Option<u64>,
    /// With --cache-max-age: messages per cached data key.
    #[arg(long, value_name = "N", requires = "cache_max_age")]
    cache_max_messages: Option<u64>,
    /// With --cache-max-age: plaintext bytes per cached data key.
    #[arg(long, value_name = "BYTES", requires = "cache_max_age")]
    cache_max_bytes: Option<u64>,
    /// AWS profile for credentials and settings.
    #[arg(long)]
    profile: Option<String>,
    /// AWS Region (a key ARN's own Region is used for that key).
    #[arg(long)]
    region: Option<String>,
    /// KMS endpoint, e.g. a coffer server (otherwise AWS_ENDPOINT_URL_KMS, ...).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Threads sealing or opening frames of large files (default: every core; 1 suits a
    /// machine busy with other work, where waiting for a second core costs more).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct EncryptArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// KMS key (id, ARN, alias name or alias ARN). Repeat to wrap the data key under several:
    /// the first generates it.
    #[arg(short = 'k', long = "key", required = true, value_name = "KEY")]
    keys: Vec<String>,
    /// Algorithm suite: ESDK name or ID (default 0x0578, or 0x0378 when commitment is
    /// forbidden).
    #[arg(long)]
    suite: Option<String>,
    /// Plaintext bytes per frame.
    #[arg(long, default_value_t = coffer_envelope::DEFAULT_FRAME_LENGTH)]
    frame_size: u32,
}

#[derive(Args, Debug)]
pub struct DecryptArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// KMS key ARN allowed to decrypt (repeatable).
    #[arg(
        short = 'k',
        long = "key",
        value_name = "KEY_ARN",
        conflicts_with = "discovery"
    )]
    keys: Vec<String>,
    /// Decrypt with whichever KMS key the message names.
    #[arg(long)]
    discovery: bool,
    /// With --discovery: only keys of these accounts (repeatable).
    #[arg(long, value_name = "ACCOUNT_ID", requires = "discovery")]
    discovery_account: Vec<String>,
    /// With --discovery-account: the partition of those accounts.
    #[arg(long, default_value = "aws", requires = "discovery_account")]
    discovery_partition: String,
    /// Release no plaintext of a signed message before its signature verifies (memory
    /// grows with the plaintext).
    #[arg(long)]
    buffer: bool,
}

fn parse_context(pairs: &[String]) -> Result<EncryptionContext> {
    pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow!("context must be KEY=VALUE, got {p}"))
        })
        .collect()
}

fn kms(common: &CommonArgs) -> Result<Arc<dyn KmsClient>> {
    let config = AwsConfig::discover(&Overrides {
        profile: common.profile.clone(),
        region: common.region.clone(),
        endpoint_url: common.endpoint_url.clone(),
    })?;
    Ok(Arc::new(HttpKms::new(config)?))
}

/// One KMS keyring per `--key`.
fn kms_keyrings(kms: &Arc<dyn KmsClient>, keys: &[String]) -> Result<Vec<Arc<dyn Keyring>>> {
    keys.iter()
        .map(|k| Ok(Arc::new(KmsKeyring::new(kms.clone(), k)?) as Arc<dyn Keyring>))
        .collect()
}

/// The default materials manager over `keyring`, behind a data-key cache if asked for.
fn materials(
    common: &CommonArgs,
    keyring: Arc<dyn Keyring>,
) -> Result<Arc<dyn CryptoMaterialsManager>> {
    let default: Arc<dyn CryptoMaterialsManager> = Arc::new(DefaultCmm::new(keyring));
    let Some(age) = common.cache_max_age else {
        return Ok(default);
    };
    let age = i64::try_from(age).map_err(|_| anyhow!("--cache-max-age is too large"))?;
    let mut limits = CacheLimits::new(time::Duration::seconds(age))?;
    if let Some(n) = common.cache_max_messages {
        limits.max_messages = n;
    }
    if let Some(n) = common.cache_max_bytes {
        limits.max_bytes = n;
    }
    let clock: coffer_types::SharedClock = Arc::new(coffer_types::SystemClock);
    Ok(Arc::new(CachingCmm::new(default, limits, clock, None)?))
}

fn client(common: &CommonArgs) -> Result<Client> {
    let mut c = Client::new().with_commitment_policy(common.commitment_policy.into());
    if let Some(n) = common.threads {
        c = c.with_threads(n);
    }
    if let Some(n) = common.max_data_keys {
        c = c.with_max_encrypted_data_keys(n)?;
    }
    Ok(c)
}

pub fn encrypt(args: EncryptArgs) -> Result<ExitCode> {
    let mut rings = kms_keyrings(&kms(&args.common)?, &args.keys)?;
    let generator = rings.remove(0);
    let keyring: Arc<dyn Keyring> = if rings.is_empty() {
        generator
    } else {
        Arc::new(MultiKeyring::new(Some(generator), rings)?)
    };
    let mut client = client(&args.common)?.with_frame_length(args.frame_size)?;
    if let Some(s) = &args.suite {
        let suite =
            AlgorithmSuite::parse(s).ok_or_else(|| anyhow!("unknown algorithm suite {s}"))?;
        client = client.with_suite(suite);
    }
    let ec = parse_context(&args.common.context)?;
    let cmm = materials(&args.common, keyring)?;
    let op = Op::Encrypt { client, cmm, ec };
    run(&args.common, &op)
}

pub fn decrypt(args: DecryptArgs) -> Result<ExitCode> {
    let kms = kms(&args.common)?;
    let keyring: Arc<dyn Keyring> = if args.discovery {
        let filter = (!args.discovery_account.is_empty()).then(|| DiscoveryFilter {
            partition: args.discovery_partition.clone(),
            account_ids: args.discovery_account.clone(),
        });
        Arc::new(KmsDiscoveryKeyring::new(kms, filter, None)?)
    } else {
        if args.keys.is_empty() {
            bail!("give the key ARNs that may decrypt (--key) or --discovery");
        }
        Arc::new(MultiKeyring::new(None, kms_keyrings(&kms, &args.keys)?)?)
    };
    let ec = parse_context(&args.common.context)?;
    let opts = DecryptOptions {
        reproduced_context: (!ec.is_empty()).then_some(ec),
        unsigned_only: false,
        buffer_signed: args.buffer,
    };
    let op = Op::Decrypt {
        client: client(&args.common)?,
        cmm: materials(&args.common, keyring)?,
        opts,
    };
    run(&args.common, &op)
}

enum Op {
    Encrypt {
        client: Client,
        cmm: Arc<dyn CryptoMaterialsManager>,
        ec: EncryptionContext,
    },
    Decrypt {
        client: Client,
        cmm: Arc<dyn CryptoMaterialsManager>,
        opts: DecryptOptions,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Encrypt { .. } => "encrypt",
            Op::Decrypt { .. } => "decrypt",
        }
    }

    fn default_suffix(&self) -> &'static str {
        match self {
            Op::Encrypt { .. } => ".encrypted",
            Op::Decrypt { .. } => ".decrypted",
        }
    }

    /// Streams `src` through the operation into `sink`.
    fn apply(
        &self,
        src: &mut dyn Read,
        len: Option<u64>,
        sink: &mut dyn Write,
    ) -> Result<MessageInfo> {
        const CHUNK: usize = 256 * 1024;
        // Holds plaintext on both paths.
        let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
        match self {
            Op::Encrypt { client, cmm, ec } => {
                let mut enc = client.encryptor(cmm.as_ref(), ec, sink, len)?;
                let info = enc.info().clone();
                loop {
                    let n = read_some(src, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    enc.write_all(&buf[..n])?;
                }
                enc.finish()?;
                Ok(info)
            }
            Op::Decrypt { client, cmm, opts } => {
                // The decryptor reads each frame's fields separately: buffered, that is a
                // system call per 256 KiB instead of two per frame.
                let src = io::BufReader::with_capacity(CHUNK, src);
                let mut dec = client.decryptor(cmm.as_ref(), src, opts)?;
                let info = dec.info().clone();
                loop {
                    let n = dec.read(&mut buf).map_err(coffer_envelope::Error::from)?;
                    if n == 0 {
                        break;
                    }
                    sink.write_all(&buf[..n])?;
                }
                Ok(info)
            }
        }
    }
}

fn read_some(src: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// One unit of work: where from, where to.
#[derive(Debug)]
enum Source {
    Stdin,
    File(PathBuf),
}

#[derive(Debug)]
enum Dest {
    Stdout,
    File(PathBuf),
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `*` any run, `?` one character, `[abc]` one of a set; on a file name.
fn glob_match(pat: &[char], name: &[char]) -> bool {
    match pat.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| glob_match(rest, &name[i..])),
        Some(('?', rest)) => !name.is_empty() && glob_match(rest, &name[1..]),
        Some(('[', rest)) => match (rest.iter().position(|c| *c == ']'), name.split_first()) {
            (Some(end), Some((c, tail))) => {
                rest[..end].contains(c) && glob_match(&rest[end + 1..], tail)
            }
            _ => false,
        },
        Some((c, rest)) => name.first() == Some(c) && glob_match(rest, &name[1..]),
    }
}

/// Expands a pattern whose last component has wildcards.
fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let p = Path::new(pattern);
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if is_glob(&dir.to_string_lossy()) {
        bail!("{pattern}: wildcards are supported in the last path component only");
    }
    let pat: Vec<char> = p
        .file_name()
        .map(|f| f.to_string_lossy().chars().collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e?;
        let name: Vec<char> = e.file_name().to_string_lossy().chars().collect();
        if glob_match(&pat, &name) {
            out.push(e.path());
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("{pattern}: no file matches");
    }
    Ok(out)
}

/// Every regular file under `dir`, with its path relative to `dir`.
fn walk(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let t = e.file_type()?;
        let r = rel.join(e.file_name());
        if t.is_dir() {
            walk(&e.path(), &r, out)?;
        } else if t.is_file() {
            out.push((e.path(), r));
        }
    }
    Ok(())
}

/// Works out every (source, destination) pair before anything is written.
fn plan(common: &CommonArgs, suffix: &str) -> Result<Vec<(Source, Dest)>> {
    let out = common.output.as_str();
    if common.inputs.iter().any(|i| i == "-") {
        if common.inputs.len() != 1 {
            bail!("- (standard input) cannot be combined with other inputs");
        }
        let dest = if out == "-" {
            Dest::Stdout
        } else {
            Dest::File(out.into())
        };
        return Ok(vec![(Source::Stdin, dest)]);
    }
    // (file, path relative to the output directory)
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut many = common.inputs.len() > 1;
    for input in &common.inputs {
        let paths = if is_glob(input) && !Path::new(input).exists() {
            many = true;
            expand_glob(input)?
        } else {
            vec![PathBuf::from(input)]
        };
        for p in paths {
            let meta = std::fs::metadata(&p).with_context(|| format!("{}", p.display()))?;
            if meta.is_dir() {
                if !common.recursive {
                    bail!("{} is a directory: use --recursive", p.display());
                }
                many = true;
                walk(&p, Path::new(""), &mut files)?;
            } else {
                let name = p.file_name().map(PathBuf::from).unwrap_or_default();
                files.push((p, name));
            }
        }
    }
    let out_is_dir = Path::new(out).is_dir();
    if out == "-" {
        if files.len() != 1 || many {
            bail!("standard output takes exactly one input file");
        }
        let (f, _) = files.remove(0);
        return Ok(vec![(Source::File(f), Dest::Stdout)]);
    }
    if !many && !out_is_dir {
        let (f, _) = files.remove(0);
        return Ok(vec![(Source::File(f), Dest::File(out.into()))]);
    }
    if !out_is_dir {
        std::fs::create_dir_all(out).with_context(|| format!("creating {out}"))?;
    }
    Ok(files
        .into_iter()
        .map(|(f, rel)| {
            let mut name = rel.into_os_string();
            name.push(suffix);
            (Source::File(f), Dest::File(Path::new(out).join(name)))
        })
        .collect())
}

/// Shows `NAME  42%` on a terminal for inputs above a few MiB.
struct Progress<'a, R> {
    inner: R,
    label: &'a str,
    total: u64,
    done: u64,
    shown: u64,
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let pct = (self.done * 100).checked_div(self.total).unwrap_or(100);
        if pct != self.shown {
            self.shown = pct;
            eprint!("\r{}  {pct:>3}%", self.label);
            if n == 0 || pct >= 100 {
                eprintln!();
            }
        }
        Ok(n)
    }
}

fn run(common: &CommonArgs, op: &Op) -> Result<ExitCode> {
    let suffix = common
        .suffix
        .clone()
        .unwrap_or_else(|| op.default_suffix().into());
    let jobs = plan(common, &suffix)?;
    let mut metadata: Option<Box<dyn Write>> = match common.metadata_output.as_deref() {
        None => None,
        Some("-") if common.output == "-" => {
            bail!("metadata and data cannot both go to standard output")
        }
        Some("-") => Some(Box::new(io::stdout())),
        Some(p) => Some(Box::new(
            std::fs::File::create(p).with_context(|| format!("creating {p}"))?,
        )),
    };
    let show_progress = !common.quiet && io::stderr().is_terminal();
    let mut failed = 0usize;
    for (src, dest) in &jobs {
        let label = match src {
            Source::Stdin => "-".to_string(),
            Source::File(p) => p.display().to_string(),
        };
        match run_one(op, src, dest, common.force, show_progress, &label) {
            Ok(info) => {
                if let Some(m) = metadata.as_mut() {
                    writeln!(m, "{}", metadata_line(op, &label, dest, &info))?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("coffer {}: {label}: {e:#}", op.name());
            }
        }
    }
    if let Some(m) = metadata.as_mut() {
        m.flush()?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_one(
    op: &Op,
    src: &Source,
    dest: &Dest,
    force: bool,
    show_progress: bool,
    label: &str,
) -> Result<MessageInfo> {
    let (mut reader, len): (Box<dyn Read>, Option<u64>) = match src {
        Source::Stdin => (Box::new(io::stdin().lock()), None),
        Source::File(p) => {
            let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
            let len = f.metadata()?.len();
            (Box::new(f), Some(len))
        }
    };
    if show_progress && len.is_some_and(|l| l > 8 << 20) {
        reader = Box::new(Progress {
            inner: reader,
            label,
            total: len.unwrap_or(0),
            done: 0,
            shown: u64::MAX,
        });
    }
    // The plaintext length is a promise only for encryption of regular files.
    let bound = match op {
        Op::Encrypt { .. } => len,
        Op::Decrypt { .. } => None,
    };
    match dest {
        Dest::Stdout => {
            let mut out = io::BufWriter::with_capacity(256 * 1024, io::stdout().lock());
            let info = op.apply(&mut reader, bound, &mut out)?;
            out.flush()?;
            Ok(info)
        }
        Dest::File(path) => write_atomically(path, src, force, |f| op.apply(&mut reader, bound, f)),
    }
}

/// Writes through a temporary file beside `path` and renames it into place on success; on
/// failure the temporary file is removed.
fn write_atomically<T>(
    path: &Path,
    src: &Source,
    force: bool,
    body: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    if let Source::File(s) = src
        && let (Ok(a), Ok(b)) = (s.canonicalize(), path.canonicalize())
        && a == b
    {
        bail!("output would overwrite the input");
    }
    if path.exists() && !force {
        bail!("{} exists (use --force to replace it)", path.display());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.coffer-partial-{}",
        coffer_crypto::hex_lower(&coffer_crypto::random_bytes(8))
    ));
    let result = (|| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = io::BufWriter::with_capacity(256 * 1024, f);
        let v = body(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
        Ok(v)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn metadata_line(op: &Op, input: &str, dest: &Dest, info: &MessageInfo) -> String {
    let output = match dest {
        Dest::Stdout => "-".to_string(),
        Dest::File(p) => p.display().to_string(),
    };
    let keys: Vec<serde_json::Value> = info
        .encrypted_data_keys
        .iter()
        .map(|e| {
            serde_json::json!({
                "provider_id": e.provider_id,
                "key_id": String::from_utf8_lossy(&e.provider_info),
            })
        })
        .collect();
    serde_json::json!({
        "mode": op.name(),
        "input": input,
        "output": output,
        "algorithm_suite": info.suite.esdk_name(),
        "algorithm_suite_id": format!("{:#06x}", info.suite.id()),
        "message_id": coffer_crypto::hex_lower(&info.message_id),
        "encryption_context": info.encryption_context,
        "encrypted_data_keys": keys,
        "frame_length": info.frame_length,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        glob_match(
            &p.chars().collect::<Vec<_>>(),
            &n.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn globs() {
        assert!(m("*.txt", "a.txt") && m("*", "") && m("a?c", "abc") && m("[ab]x", "bx"));
        assert!(!m("*.txt", "a.txt.enc") && !m("a?c", "ac") && !m("[ab]x", "cx"));
        assert!(m("*a*b", "xxaxxb") && !m("*a*b", "xxbxxa"));
    }

    #[test]
    fn context_pairs() {
        let ec = parse_context(&["a=1".into(), "b=x=y".into()]).unwrap();
        assert_eq!(ec["a"], "1");
        assert_eq!(ec["b"], "x=y");
        assert!(parse_context(&["novalue".into()]).is_err());
    }
}
