//! `coffer admin ...` and `coffer audit verify`: offline operations on a data directory.
//!
//! They open storage and unseal the barrier themselves, so with embedded storage the server
//! must be stopped first (the embedded database admits one process at a time).

use anyhow::Context;
use clap::{Args, Subcommand};
use coffer_server::barrier::{Barrier, Purpose};
use coffer_server::config::{Config, RawConfig};
use coffer_server::identity::{self, KeyOwner};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// TOML configuration file, as for `coffer server`.
    #[arg(long, env = "COFFER_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, env = "COFFER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[arg(long, env = "COFFER_STORAGE")]
    storage: Option<String>,
    #[arg(long, env = "COFFER_UNSEAL_PASSPHRASE_ENV")]
    unseal_passphrase_env: Option<String>,
}

impl StoreArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let raw = RawConfig {
            data_dir: self.data_dir.clone(),
            storage: self.storage.clone(),
            unseal_passphrase_env: self.unseal_passphrase_env.clone(),
            ..Default::default()
        };
        Ok(Config::resolve(self.config.as_deref(), raw)?)
    }

    fn open(
        &self,
    ) -> anyhow::Result<(Config, std::sync::Arc<dyn coffer_storage::Storage>, Barrier)> {
        let config = self.config()?;
        let store = coffer_server::bootstrap::open_storage(&config)
            .context("opening storage (with embedded storage, stop the server first)")?;
        let barrier = Barrier::unseal(store.as_ref(), &config.unseal)?;
        Ok((config, store, barrier))
    }
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account with root credentials; prints them as a shared-credentials profile.
    CreateAccount {
        #[command(flatten)]
        store: StoreArgs,
        /// The 12-digit id [default: random].
        #[arg(long)]
        account_id: Option<String>,
        /// Profile name for the printed credentials.
        #[arg(long, default_value = "coffer")]
        profile: String,
    },
    /// Create another root access key for an existing account.
    CreateRootKey {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        account_id: String,
        #[arg(long, default_value = "coffer")]
        profile: String,
    },
    /// List accounts.
    ListAccounts {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Check the hash chain only, without unsealing to check the signed digests
    /// (works while an embedded-storage server is running).
    #[arg(long)]
    chain_only: bool,
}

pub fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::CreateAccount {
            store,
            account_id,
            profile,
        } => {
            let id = match account_id {
                Some(s) => s
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--account-id must be 12 digits"))?,
                None => coffer_server::bootstrap::random_account_id(),
            };
            create_root_key(&store, id, &profile, true)
        }
        AdminCommand::CreateRootKey {
            store,
            account_id,
            profile,
        } => {
            let id = account_id
                .parse()
                .map_err(|_| anyhow::anyhow!("--account-id must be 12 digits"))?;
            create_root_key(&store, id, &profile, false)
        }
        AdminCommand::ListAccounts { store } => {
            let (_, st, _) = store.open()?;
            let accounts = coffer_storage::read(st.as_ref(), identity::list_accounts)?;
            for a in accounts {
                println!("{}", a.id);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn create_root_key(
    store: &StoreArgs,
    id: coffer_types::AccountId,
    profile: &str,
    new_account: bool,
) -> anyhow::Result<ExitCode> {
    let (_, st, barrier) = store.open()?;
    let now = coffer_types::Clock::now(&coffer_types::SystemClock);
    let key = coffer_storage::write(st.as_ref(), |t| {
        // Returning an error aborts the transaction, undoing `ensure_account`.
        match (new_account, identity::ensure_account(t, id, now)?) {
            (true, false) => return Err(anyhow::anyhow!("account {id} already exists")),
            (false, true) => return Err(anyhow::anyhow!("account {id} does not exist")),
            _ => {}
        }
        Ok(identity::create_key(t, &barrier, id, KeyOwner::Root, now)?)
    })?;
    println!("# account {id}");
    println!("[{profile}]");
    println!("aws_access_key_id = {}", key.access_key_id);
    println!("aws_secret_access_key = {}", &*key.secret);
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = args.store.config()?;
    let key = if args.chain_only {
        None
    } else {
        let (_, _, barrier) = args.store.open()?;
        Some(barrier.derive(Purpose::AuditDigest))
    };
    let report = coffer_audit::verify(&config.data_dir.join("audit"), key.as_ref());
    println!("{report}");
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
