//! Start-up: open storage, unseal, open the audit log, make sure an admin account exists,
//! load or generate TLS material, and assemble the [`State`].

use crate::State;
use crate::barrier::{Barrier, BarrierError, Purpose, TlsSealer};
use crate::config::{Config, StorageLocation, TlsSource};
use crate::credential_cache::CredentialCache;
use crate::identity::{self, IdentityError, KeyOwner};
use crate::record_cache::{Watch, WatchedStorage};
use crate::services::kms::KeyCache;
use coffer_storage::{Storage, StorageError};
use coffer_types::{AccountId, AdjustableClock, SharedClock, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The well-known `--dev` credentials, as LocalStack and moto users expect them.
pub const DEV_ACCOUNT: &str = "000000000000";
pub const DEV_ACCESS_KEY: &str = "test";
pub const DEV_SECRET_KEY: &str = "test";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("unseal: {0}")]
    Barrier(#[from] BarrierError),
    #[error("audit log: {0}")]
    Audit(#[from] coffer_audit::AuditError),
    #[error("identity store: {0}")]
    Identity(#[from] IdentityError),
    #[error("TLS: {0}")]
    Tls(#[from] coffer_tls::TlsError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What start-up produced, including what to tell the operator.
pub struct Startup {
    pub state: Arc<State>,
    pub tls: Arc<rustls::ServerConfig>,
    /// Path of the generated CA certificate (usable as `AWS_CA_BUNDLE`), if generated.
    pub ca_path: Option<PathBuf>,
    /// The admin credentials file, when this start created it.
    pub new_credentials: Option<PathBuf>,
    pub credentials_path: PathBuf,
}

pub fn open_storage(config: &Config) -> Result<Arc<dyn Storage>, StartError> {
    Ok(match &config.storage {
        StorageLocation::Embedded(p) => coffer_storage::open_embedded(p)?,
        StorageLocation::Postgres(url) => coffer_storage::open_postgres(url)?,
    })
}

pub fn create_data_dir(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StartError::DataDir {
            path: dir.into(),
            source: e,
        })
}

pub fn open_state(config: Config) -> Result<Startup, StartError> {
    create_data_dir(&config.data_dir)?;
    let credentials = Arc::new(CredentialCache::default());
    let kms_keys = Arc::new(KeyCache::default());
    let sm_reads = crate::services::secretsmanager::store::ReadCache::default();
    let ssm_reads = crate::services::ssm::store::ReadCache::default();
    let mut watches: Vec<Watch> = vec![
        (crate::identity::KEYS, credentials.clone()),
        (crate::services::kms::store::KEYS, kms_keys.clone()),
    ];
    watches.extend(sm_reads.watches());
    watches.extend(ssm_reads.watches());
    let store: Arc<dyn Storage> = Arc::new(WatchedStorage::new(open_storage(&config)?, watches));
    let barrier = Arc::new(Barrier::unseal(store.as_ref(), &config.unseal)?);
    let (clock, test_clock): (SharedClock, _) = if config.test_clock {
        let c = Arc::new(AdjustableClock::default());
        (c.clone(), Some(c))
    } else {
        (Arc::new(SystemClock), None)
    };
    // Tests replay scheduling decisions: a `--test-clock` server draws from a fixed seed.
    let random: coffer_types::SharedRandom = if config.test_clock {
        Arc::new(coffer_types::SeededRandom::new(0))
    } else {
        Arc::new(OsRandom)
    };
    let audit_dir = config.data_dir.join("audit");
    let audit = Arc::new(coffer_audit::AuditLog::open(
        &audit_dir,
        Some(barrier.derive(Purpose::AuditDigest)),
        clock.clone(),
    )?);
    let credentials_path = config.data_dir.join("credentials");
    let new_credentials = ensure_admin(store.as_ref(), &barrier, &clock, &credentials_path)?;
    if config.dev {
        ensure_dev_credentials(store.as_ref(), &barrier, &clock)?;
    }
    let (tls_material, ca_path) = tls_material(&config, &barrier, &clock)?;
    let tls = coffer_tls::server_config(&tls_material)?;
    let state = Arc::new(State {
        config,
        store,
        credentials,
        kms_keys,
        sm_reads,
        ssm_reads,
        sm_rotations: Default::default(),
        barrier,
        clock,
        random,
        test_clock,
        audit,
        metrics: Default::default(),
        services: crate::services::all(),
        events: Default::default(),
        node_id: uuid::Uuid::new_v4().to_string(),
    });
    Ok(Startup {
        state,
        tls,
        ca_path,
        new_credentials,
        credentials_path,
    })
}

/// The operating system's CSPRNG, through coffer_crypto.
#[derive(Debug)]
struct OsRandom;

impl coffer_types::Random for OsRandom {
    fn next_u64(&self) -> u64 {
        let mut a = [0u8; 8];
        coffer_crypto::fill_random(&mut a);
        u64::from_le_bytes(a)
    }
}

fn tls_material(
    config: &Config,
    barrier: &Barrier,
    clock: &SharedClock,
) -> Result<(coffer_tls::TlsMaterial, Option<PathBuf>), StartError> {
    match &config.tls {
        TlsSource::Files { cert, key } => Ok((coffer_tls::load_pem(cert, key)?, None)),
        TlsSource::Generated { extra_names } => {
            let dir = config.data_dir.join("tls");
            let m =
                coffer_tls::load_or_generate(&dir, extra_names, clock.now(), &TlsSealer(barrier))?;
            Ok((m, Some(dir.join("ca.pem"))))
        }
    }
}

/// A 12-digit account id that does not start with 0 (so it never collides with the dev account).
pub fn random_account_id() -> AccountId {
    let bytes = coffer_crypto::random_bytes(12);
    let digits: String = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let d = if i == 0 { 1 + b % 9 } else { b % 10 };
            char::from(b'0' + d)
        })
        .collect();
    known_account(&digits)
}

/// Parses an account id we built ourselves; failure would be a bug, not bad input.
fn known_account(s: &str) -> AccountId {
    s.parse().unwrap_or_else(|_| std::process::abort())
}

/// On a fresh store, creates the admin account and writes its root credentials as an AWS
/// shared-credentials file (profile `coffer`, mode 0600). Returns the path when created.
fn ensure_admin(
    store: &dyn Storage,
    barrier: &Barrier,
    clock: &SharedClock,
    path: &Path,
) -> Result<Option<PathBuf>, StartError> {
    let now = clock.now();
    let created = coffer_storage::write(store, |t| {
        let any = identity::list_accounts(t)?
            .into_iter()
            .any(|a| a.id.as_str() != DEV_ACCOUNT);
        if any {
            return Ok::<_, IdentityError>(None);
        }
        let acct = random_account_id();
        identity::ensure_account(t, acct, now)?;
        let key = identity::create_key(t, barrier, acct, KeyOwner::Root, now)?;
        Ok(Some((acct, key)))
    })?;
    let Some((acct, key)) = created else {
        return Ok(None);
    };
    let body = format!(
        "# coffer admin account {acct} (root credentials)\n[coffer]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.access_key_id, &*key.secret
    );
    crate::fsutil::write_private(path, body.as_bytes()).map_err(|e| StartError::Write {
        path: path.into(),
        source: e,
    })?;
    Ok(Some(path.into()))
}

fn ensure_dev_credentials(
    store: &dyn Storage,
    barrier: &Barrier,
    clock: &SharedClock,
) -> Result<(), StartError> {
    let now = clock.now();
    let acct: AccountId = known_account(DEV_ACCOUNT);
    coffer_storage::write(store, |t| {
        identity::ensure_account(t, acct, now)?;
        if identity::get_key(t, DEV_ACCESS_KEY)?.is_none() {
            identity::put_fixed_key(
                t,
                barrier,
                DEV_ACCESS_KEY,
                DEV_SECRET_KEY,
                acct,
                KeyOwner::Root,
                now,
            )?;
        }
        Ok::<_, IdentityError>(())
    })?;
    Ok(())
}
