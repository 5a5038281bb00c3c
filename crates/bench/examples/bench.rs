//! A stand-in for `coffer bench` until the CLI wires it in:
//!
//! ```text
//! cargo run --release -p coffer-bench --example bench -- --serve-floor 127.0.0.1:8099
//! cargo run --release -p coffer-bench --example bench -- --endpoint http://127.0.0.1:8099 \
//!     --scenario floor --concurrency 1,16,64 --duration 5 --warmup 1 --label floor
//! ```
//! Durations are in seconds. Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
//! (default `test`/`test`).

use coffer_bench::{
    BenchConfig, Credentials, credentials_from_env, format_json, format_markdown, format_table,
    scenario,
};
use std::time::Duration;

fn secs(v: &str) -> Result<Duration, String> {
    v.trim_end_matches('s')
        .parse::<f64>()
        .map(Duration::from_secs_f64)
        .map_err(|e| format!("duration {v:?}: {e}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| -> Option<String> {
        let at = args.iter().position(|a| a == name)?;
        args.get(at + 1).cloned()
    };
    if let Some(addr) = get("--serve-floor") {
        coffer_bench::serve_floor(addr.parse()?).await?;
        return Ok(());
    }
    let endpoint = get("--endpoint").ok_or("--endpoint is required")?;
    let scenario =
        scenario(&get("--scenario").unwrap_or_else(|| "sts-get-caller-identity".into()))?;
    let creds = credentials_from_env().unwrap_or_else(|| Credentials::new("test", "test"));
    let mut config = BenchConfig::new(endpoint.parse()?, scenario, creds);
    if let Some(v) = get("--region") {
        config.region = v;
    }
    if let Some(v) = get("--service") {
        config.service = v;
    }
    if let Some(v) = get("--concurrency") {
        config.concurrency = v.split(',').map(str::parse).collect::<Result<_, _>>()?;
    }
    if let Some(v) = get("--duration") {
        config.duration = Some(secs(&v)?);
    }
    if let Some(v) = get("--requests") {
        config.requests = Some(v.parse()?);
    }
    if let Some(v) = get("--warmup") {
        config.warmup = secs(&v)?;
    }
    if let Some(v) = get("--label") {
        config.label = v;
    }
    config.ca_bundle = get("--ca-bundle").map(Into::into);
    let reports = coffer_bench::run(&config).await?;
    if args.iter().any(|a| a == "--json") {
        println!("{}", format_json(&reports)?);
    } else if args.iter().any(|a| a == "--markdown") {
        print!("{}", format_markdown(&reports, true));
    } else {
        print!("{}", format_table(&reports));
    }
    Ok(())
}
