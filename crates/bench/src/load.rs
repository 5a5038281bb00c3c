//! The concurrency sweep.

use crate::conn::{Connector, Prepared, Sender, round_trip};
use crate::{BenchConfig, BenchError, LevelReport};
use coffer_wire::sigv4::SigningKeyCache;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Latencies are recorded in microseconds, up to an hour, to 3 significant digits.
const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Error bodies kept for the report are cut to this many bytes.
const ERROR_BODY_LIMIT: usize = 1024;

/// Runs the setup step once (at `setup_endpoint` when one is given), then every concurrency level in order: open the connections,
/// warm up, measure. Per-request failures are counted; only setup and connection failures
/// before the load stop the run.
pub async fn run(config: &BenchConfig) -> Result<Vec<LevelReport>, BenchError> {
    config.validate()?;
    let connector = Connector::new(config)?;
    let template = match &config.setup_endpoint {
        None => config.scenario.resolve(config, &connector).await?,
        Some(elsewhere) => {
            let mut setup = config.clone();
            setup.endpoint = elsewhere.clone();
            let setup_connector = Connector::new(&setup)?;
            config.scenario.resolve(&setup, &setup_connector).await?
        }
    };
    let prepared = Arc::new(Prepared::new(config, &template)?);
    // Fail on a broken signer or template before opening any connection.
    prepared
        .build(&mut SigningKeyCache::default())
        .map_err(BenchError::Request)?;
    let mut reports = Vec::with_capacity(config.concurrency.len());
    for &c in &config.concurrency {
        reports.push(run_level(config, &connector, &prepared, c).await?);
    }
    Ok(reports)
}

struct Level {
    connector: Connector,
    prepared: Arc<Prepared>,
    measure_from: Instant,
    /// Stop issuing requests at this instant (`None`: only the request budget stops).
    end: Option<Instant>,
    budget: Option<u64>,
    issued: AtomicU64,
    timeout: Duration,
}

struct WorkerResult {
    hist: Histogram<u64>,
    requests: u64,
    errors: u64,
    reconnects: u64,
    first_error: Option<String>,
    last_done: Option<Instant>,
}

async fn run_level(
    config: &BenchConfig,
    connector: &Connector,
    prepared: &Arc<Prepared>,
    concurrency: usize,
) -> Result<LevelReport, BenchError> {
    // Open every connection before the clock starts, so concurrency is exact from the
    // first request on.
    let mut senders = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let sender = connector
            .connect()
            .await
            .map_err(|reason| BenchError::Connect {
                endpoint: config.endpoint.to_string(),
                reason,
            })?;
        senders.push(sender);
    }
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let level = Arc::new(Level {
        connector: connector.clone(),
        prepared: prepared.clone(),
        measure_from,
        end: config.duration.map(|d| measure_from + d),
        budget: config.requests,
        issued: AtomicU64::new(0),
        timeout: config.request_timeout,
    });
    let mut handles = Vec::with_capacity(concurrency);
    for sender in senders {
        let hist = new_histogram()?;
        handles.push(tokio::spawn(worker(level.clone(), sender, hist)));
    }
    let mut hist = new_histogram()?;
    let (mut requests, mut errors, mut reconnects) = (0u64, 0u64, 0u64);
    let mut first_error = None;
    let mut last_done: Option<Instant> = None;
    for handle in handles {
        let r = handle
            .await
            .map_err(|e| BenchError::Worker(e.to_string()))?;
        hist.add(&r.hist)
            .map_err(|e| BenchError::Histogram(e.to_string()))?;
        requests += r.requests;
        errors += r.errors;
        reconnects += r.reconnects;
        if first_error.is_none() {
            first_error = r.first_error;
        }
        last_done = last_done.max(r.last_done);
    }
    let elapsed = last_done
        .map(|t| t.saturating_duration_since(measure_from))
        .unwrap_or_default();
    let secs = elapsed.as_secs_f64();
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(LevelReport {
        label: config.label.clone(),
        scenario: config.scenario.name.clone(),
        concurrency,
        requests,
        errors,
        reconnects,
        elapsed_s: secs,
        throughput_rps: if secs > 0.0 {
            requests as f64 / secs
        } else {
            0.0
        },
        p50_ms: ms(hist.value_at_quantile(0.50)),
        p90_ms: ms(hist.value_at_quantile(0.90)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
        max_ms: ms(hist.max()),
        first_error,
    })
}

fn new_histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
        .map_err(|e| BenchError::Histogram(e.to_string()))
}

/// One connection's loop: warm up until `measure_from`, then send and record until the
/// level's end or budget. Requests that started during the warmup are discarded.
async fn worker(level: Arc<Level>, sender: Sender, mut hist: Histogram<u64>) -> WorkerResult {
    let mut sender = Some(sender);
    let (mut requests, mut errors, mut reconnects) = (0u64, 0u64, 0u64);
    let mut first_error = None;
    let mut last_done = None;
    let mut keys = SigningKeyCache::default();
    loop {
        let started = Instant::now();
        if level.end.is_some_and(|end| started >= end) {
            break;
        }
        let measured = started >= level.measure_from;
        if measured
            && let Some(budget) = level.budget
            && level.issued.fetch_add(1, Ordering::Relaxed) >= budget
        {
            break;
        }
        let outcome = round_trip(
            &level.connector,
            &level.prepared,
            &mut sender,
            &mut reconnects,
            &mut keys,
            level.timeout,
        )
        .await;
        let done = Instant::now();
        if !measured {
            continue;
        }
        requests += 1;
        last_done = Some(done);
        match outcome {
            Ok((status, body)) => {
                let us =
                    u64::try_from(done.duration_since(started).as_micros()).unwrap_or(u64::MAX);
                hist.saturating_record(us.max(1));
                if !status.is_success() {
                    errors += 1;
                    if first_error.is_none() {
                        let cut = &body[..body.len().min(ERROR_BODY_LIMIT)];
                        first_error = Some(format!(
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(cut).trim()
                        ));
                    }
                }
            }
            Err(e) => {
                errors += 1;
                if first_error.is_none() {
                    first_error = Some(e);
                }
                // Do not spin on a dead endpoint.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    WorkerResult {
        hist,
        requests,
        errors,
        reconnects,
        first_error,
        last_done,
    }
}
