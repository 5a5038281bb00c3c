//! `coffer server`: flags and environment become a `RawConfig`; the server crate validates.

use anyhow::Context;
use clap::Args;
use coffer_server::config::{Config, RawConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug, Default)]
pub struct ServerArgs {
    /// TOML configuration file (keys as the long flags, e.g. `listen = "127.0.0.1:4566"`).
    #[arg(long, env = "COFFER_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:4566].
    #[arg(long, env = "COFFER_LISTEN")]
    listen: Option<String>,
    /// State directory [default: $XDG_DATA_HOME/coffer or ~/.local/share/coffer].
    #[arg(long, env = "COFFER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// `embedded` (default) or a postgres:// URL.
    #[arg(long, env = "COFFER_STORAGE")]
    storage: Option<String>,
    /// Region reported for requests that carry none [default: us-east-1].
    #[arg(long, env = "COFFER_REGION")]
    region: Option<String>,
    /// Serve this certificate chain (PEM) instead of the generated one.
    #[arg(long, env = "COFFER_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, env = "COFFER_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Extra DNS names or IPs for the generated certificate (repeatable).
    #[arg(long = "tls-name", env = "COFFER_TLS_NAMES", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// `allow` (default) or `loopback-only`: refuse plain HTTP from other hosts.
    #[arg(long, env = "COFFER_PLAIN_HTTP")]
    plain_http: Option<String>,
    /// Unseal with the passphrase in this environment variable instead of the key file.
    #[arg(long, env = "COFFER_UNSEAL_PASSPHRASE_ENV")]
    unseal_passphrase_env: Option<String>,
    /// Unseal with a passphrase typed at a prompt (the terminal does not echo it).
    #[arg(long, conflicts_with = "unseal_passphrase_env")]
    unseal_passphrase_prompt: bool,
    /// Maximum request body size in bytes [default: 16 MiB].
    #[arg(long, env = "COFFER_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Accepted SigV4 clock skew in seconds [default: 900].
    #[arg(long, env = "COFFER_CLOCK_SKEW_SECONDS")]
    clock_skew_seconds: Option<u64>,
    /// Development mode: state in a temporary directory, and the `test`/`test`
    /// credentials accepted for account 000000000000.
    #[arg(long, env = "COFFER_DEV")]
    dev: bool,
    /// Let tests move the clock (POST /_coffer/clock/advance?seconds=N from loopback). Never in production.
    #[arg(long, env = "COFFER_TEST_CLOCK", hide = true)]
    test_clock: bool,
    /// Log filter (tracing env-filter syntax) [default: info].
    #[arg(long, env = "COFFER_LOG")]
    log: Option<String>,
}

impl ServerArgs {
    fn raw(&self) -> RawConfig {
        RawConfig {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            storage: self.storage.clone(),
            region: self.region.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            tls_names: (!self.tls_names.is_empty()).then(|| self.tls_names.clone()),
            plain_http: self.plain_http.clone(),
            unseal_passphrase_env: self.unseal_passphrase_env.clone(),
            max_body_bytes: self.max_body_bytes,
            clock_skew_seconds: self.clock_skew_seconds,
            dev: self.dev.then_some(true),
            test_clock: self.test_clock.then_some(true),
            log: self.log.clone(),
            // Only from the configuration file: it is a table, not a flag.
            secretsmanager: None,
            events: None,
        }
    }
}

pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::resolve(args.config.as_deref(), args.raw())?;
    if args.unseal_passphrase_prompt {
        config.unseal = prompt_passphrase()?;
    }
    init_logging(&config.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(config))
}

/// Reads the unseal passphrase from the terminal; never from a config file, never echoed.
fn prompt_passphrase() -> anyhow::Result<coffer_server::barrier::UnsealSource> {
    let pw = zeroize::Zeroizing::new(
        rpassword::prompt_password("coffer unseal passphrase: ")
            .context("reading the passphrase")?,
    );
    anyhow::ensure!(!pw.is_empty(), "the unseal passphrase must not be empty");
    Ok(coffer_server::barrier::UnsealSource::Passphrase(pw))
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let dev = config.dev;
    let data_dir = config.data_dir.clone();
    let startup = tokio::task::spawn_blocking(move || coffer_server::open_state(config)).await??;
    let state = startup.state.clone();
    let running = coffer_server::run(state.clone(), startup.tls.clone())
        .await
        .context("binding the listener")?;
    let stop = running.stopper();
    let jobs = coffer_server::scheduler::foundation_jobs();
    let scheduler = tokio::spawn(coffer_server::scheduler::run(
        state.clone(),
        jobs,
        std::time::Duration::from_secs(1),
        stop.subscribe(),
    ));
    announce(&startup, running.addr, dev, &data_dir);
    shutdown_signal().await;
    eprintln!("coffer: shutting down");
    running.stop().await;
    let _ = stop.send(true);
    let _ = scheduler.await;
    Ok(ExitCode::SUCCESS)
}

/// Tells the operator where things are and the two lines that point the AWS tools here.
fn announce(
    s: &coffer_server::Startup,
    addr: std::net::SocketAddr,
    dev: bool,
    data_dir: &std::path::Path,
) {
    println!("coffer listening on {addr} (HTTP and HTTPS on the same port)");
    println!("data directory: {}", data_dir.display());
    if let Some(ca) = &s.ca_path {
        println!(
            "TLS CA certificate: {} (use as AWS_CA_BUNDLE for https://)",
            ca.display()
        );
    }
    if let Some(p) = &s.new_credentials {
        println!("admin credentials written to {}", p.display());
    }
    println!("To use the AWS CLI or SDKs with the admin account:");
    // Both region variables: the SDKs and AWS CLI v2 read AWS_REGION, but AWS CLI v1 and
    // boto3 read only AWS_DEFAULT_REGION and refuse to run without a region.
    let region = &s.state.config.region;
    println!(
        "export AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=coffer AWS_REGION={region} AWS_DEFAULT_REGION={region}",
        s.credentials_path.display(),
    );
    println!("export AWS_ENDPOINT_URL=http://{addr}");
    if dev {
        println!("dev mode: access key `test`, secret `test` (account 000000000000) also accepted");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
