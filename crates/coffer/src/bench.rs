//! `coffer bench`: flags onto `coffer_bench::BenchConfig`, `coffer bench floor`, and
//! `coffer bench envelope` (in-process envelope encryption throughput).

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use coffer_bench::{BenchConfig, Credentials};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    /// The endpoint to load, e.g. http://127.0.0.1:4566.
    #[arg(long)]
    endpoint: Option<String>,
    /// Run the scenario's setup step here instead (e.g. on coffer, while --endpoint is the
    /// floor, so the floor gets exactly the signed request coffer gets).
    #[arg(long)]
    setup_endpoint: Option<String>,
    /// A named scenario (see --list) or `custom` with --target and --body.
    #[arg(long, default_value = "sts-get-caller-identity")]
    scenario: String,
    /// List the named scenarios.
    #[arg(long)]
    list: bool,
    /// awsJson1.1 target for a custom scenario, e.g. TrentService.ListKeys.
    #[arg(long)]
    target: Option<String>,
    /// JSON body for a custom scenario.
    #[arg(long, default_value = "{}")]
    body: String,
    /// Signing service for a custom scenario.
    #[arg(long)]
    service: Option<String>,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Comma-separated concurrency levels.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Measured seconds per level.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Discarded warmup seconds per level.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,
    /// CA bundle (PEM) for an https endpoint.
    #[arg(long, env = "AWS_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
    /// Label for the endpoint in the report.
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    markdown: bool,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Serve the bare HTTP floor: a fixed body, no auth, no work.
    Floor {
        #[arg(long, default_value = "127.0.0.1:4599")]
        listen: std::net::SocketAddr,
    },
    /// Encrypt and decrypt in memory with the envelope library (raw AES key); prints a
    /// Markdown table.
    Envelope(crate::bench_envelope::EnvelopeArgs),
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(BenchCommand::Envelope(e)) = &args.command {
        crate::bench_envelope::run(e)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(BenchCommand::Floor { listen }) = args.command {
        println!("floor listening on {listen}");
        rt.block_on(coffer_bench::serve_floor(listen))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.list {
        for n in coffer_bench::SCENARIO_NAMES {
            println!("{n}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = config(&args)?;
    let reports = rt.block_on(coffer_bench::run(&config))?;
    if args.json {
        println!("{}", coffer_bench::format_json(&reports)?);
    } else if args.markdown {
        print!("{}", coffer_bench::format_markdown(&reports, true));
    } else {
        print!("{}", coffer_bench::format_table(&reports));
    }
    Ok(ExitCode::SUCCESS)
}

fn config(args: &BenchArgs) -> anyhow::Result<BenchConfig> {
    let endpoint = args
        .endpoint
        .as_deref()
        .ok_or_else(|| anyhow!("--endpoint is required"))?;
    let endpoint = endpoint
        .parse()
        .with_context(|| format!("--endpoint {endpoint}"))?;
    let scenario = if args.scenario == "custom" {
        let target = args
            .target
            .as_deref()
            .ok_or_else(|| anyhow!("a custom scenario needs --target"))?;
        let service = args
            .service
            .as_deref()
            .ok_or_else(|| anyhow!("a custom scenario needs --service"))?;
        coffer_bench::Scenario::aws_json(service, target, args.body.clone().into_bytes())
    } else {
        coffer_bench::scenario(&args.scenario)?
    };
    let key = args
        .access_key
        .clone()
        .ok_or_else(|| anyhow!("no credentials: set --access-key or AWS_ACCESS_KEY_ID"))?;
    let secret = args
        .secret_key
        .clone()
        .ok_or_else(|| anyhow!("no credentials: set --secret-key or AWS_SECRET_ACCESS_KEY"))?;
    let mut creds = Credentials::new(key, secret);
    creds.session_token = args.session_token.clone().filter(|t| !t.is_empty());
    let mut c = BenchConfig::new(endpoint, scenario, creds);
    c.region = args.region.clone();
    c.concurrency = args.concurrency.clone();
    c.duration = Some(Duration::from_secs_f64(args.duration));
    c.warmup = Duration::from_secs_f64(args.warmup);
    c.ca_bundle = args.ca_bundle.clone();
    if let Some(e) = &args.setup_endpoint {
        c.setup_endpoint = Some(e.parse().with_context(|| format!("--setup-endpoint {e}"))?);
    }
    if let Some(l) = &args.label {
        c.label = l.clone();
    }
    Ok(c)
}
