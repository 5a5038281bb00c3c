//! The `coffer` binary: a thin shell over the server and tool crates.

mod admin;
mod aws_config;
mod bench;
mod bench_envelope;
mod envelope;
mod kms_http;
mod server;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a profile of GetSecretValue at concurrency 64 spent
/// about a sixth of the server's CPU inside glibc's allocator (arena locking, chunk
/// consolidation), on the many small short-lived buffers of a request. mimalloc's
/// per-thread free lists serve those for a fraction of the cost. Secrets are still wiped by
/// `zeroize` before their memory is freed, whatever the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "coffer",
    version,
    about = "A self-hosted security and encryption platform that speaks AWS."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Server(server::ServerArgs),
    /// Administer accounts and credentials (offline: stop an embedded-storage server first).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Measure throughput and latency of signed requests against any endpoint.
    Bench(bench::BenchArgs),
    /// Encrypt files or streams client-side (AWS Encryption SDK format) with KMS keys.
    Encrypt(envelope::EncryptArgs),
    /// Decrypt AWS Encryption SDK messages with KMS keys.
    Decrypt(envelope::DecryptArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain and signed digests; report the first bad record.
    Verify(admin::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
        Command::Admin(cmd) => admin::run(cmd),
        Command::Audit(AuditCommand::Verify(args)) => admin::verify(args),
        Command::Bench(args) => bench::run(args),
        Command::Encrypt(args) => envelope::encrypt(args),
        Command::Decrypt(args) => envelope::decrypt(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("coffer: {e:#}");
            ExitCode::from(2)
        }
    }
}
