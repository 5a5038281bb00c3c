//! The PostgreSQL adapter, for several coffer nodes sharing one database.
//!
//! Layout: one table `coffer_kv (tbl TEXT, k BYTEA, v BYTEA, PRIMARY KEY (tbl, k))` in the
//! configured schema; `bytea` compares bytewise, so `ORDER BY k` is the interface's key order.
//!
//! Write transactions run at `SERIALIZABLE`, so concurrent nodes never lose updates; a
//! serialization failure (SQLSTATE 40001) or deadlock (40P01) rolls back and re-runs the closure
//! after a short jittered backoff. Read transactions run at `REPEATABLE READ READ ONLY`: one
//! consistent snapshot, never a serialization failure. Each connection sets
//! `synchronous_commit = on`, so `COMMIT` returns only once the WAL is flushed.
//!
//! Connections come from a small pool (a mutex-guarded stack plus a condition variable). The
//! sync `postgres` client runs its own runtime: call it from blocking threads
//! (`tokio::task::spawn_blocking`), never directly from async code.

use crate::migrate;
use crate::{
    Access, BackendError, Entry, Poison, Settle, Storage, StorageError, Txn, TxnError,
    prefix_upper_bound, settle,
};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, IsolationLevel, NoTls, Statement, Transaction};
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

const BACKEND: &str = "postgres";
/// Attempts of one transaction before giving up with [`StorageError::Conflict`].
const MAX_ATTEMPTS: u32 = 64;
/// Fresh connections tried when a pooled one turns out dead at `BEGIN`.
const MAX_RECONNECTS: u32 = 2;

/// Settings for [`crate::open_postgres_with`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Schema holding coffer's table, created if missing. `None` uses the connection's own
    /// `search_path` (normally `public`). 1-63 of `[a-z0-9_]`, not starting with a digit.
    pub schema: Option<String>,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a transaction waits for a free connection before failing with
    /// [`StorageError::Unavailable`].
    pub acquire_timeout: Duration,
    /// Applied to each connection attempt unless the URL sets `connect_timeout`.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

pub(crate) struct PgStorage {
    pool: Pool,
}

impl PgStorage {
    pub(crate) fn open(url: &str, options: PostgresOptions) -> Result<Self, StorageError> {
        let mut config = Config::from_str(url).map_err(|e| StorageError::InvalidConfig {
            what: "invalid PostgreSQL connection URL",
            source: Some(Arc::new(e)),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if let Some(schema) = &options.schema {
            validate_schema_name(schema)?;
        }
        if options.max_connections == 0 {
            return Err(StorageError::InvalidConfig {
                what: "max_connections must be at least 1",
                source: None,
            });
        }
        let storage = Self {
            pool: Pool {
                config,
                schema: options.schema,
                max: options.max_connections,
                acquire_timeout: options.acquire_timeout,
                state: Mutex::new(PoolState {
                    idle: Vec::new(),
                    open: 0,
                }),
                freed: Condvar::new(),
            },
        };
        storage.migrate()?;
        Ok(storage)
    }

    /// Creates the schema and table if needed and runs pending migrations, all in one
    /// transaction serialized across nodes by an advisory lock on the schema name.
    fn migrate(&self) -> Result<(), StorageError> {
        let mut lease = self.pool.acquire()?;
        let result = migrate_conn(lease.conn()?, self.pool.schema.as_deref());
        if result.is_err() {
            lease.broken = true;
        }
        result
    }

    fn run(
        &self,
        write: bool,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        let mut attempts = 0;
        let mut reconnects = 0;
        loop {
            attempts += 1;
            let mut lease = self.pool.acquire()?;
            let (outcome, broken) = attempt(lease.conn()?, write, f);
            lease.broken = broken;
            drop(lease);
            match outcome {
                Attempt::Done => return Ok(()),
                Attempt::Fail(e) => return Err(e),
                Attempt::Reconnect(e) => {
                    reconnects += 1;
                    if reconnects > MAX_RECONNECTS {
                        return Err(e);
                    }
                    attempts -= 1;
                }
                Attempt::Conflict(e) => {
                    if attempts >= MAX_ATTEMPTS {
                        return Err(match e {
                            StorageError::Conflict {
                                backend, source, ..
                            } => StorageError::Conflict {
                                backend,
                                attempts,
                                source,
                            },
                            other => other,
                        });
                    }
                    backoff(attempts);
                }
            }
        }
    }
}

impl Storage for PgStorage {
    fn write_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        self.run(true, f)
    }

    fn read_txn(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
    ) -> Result<(), StorageError> {
        self.run(false, f)
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}

/// Sleeps 1-2x a delay doubling from 1 ms up to 64 ms, so conflicting nodes spread out.
fn backoff(attempt: u32) {
    let base_us: u64 = 1_000 << attempt.saturating_sub(1).min(6);
    let jitter = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % base_us;
    std::thread::sleep(Duration::from_micros(base_us + jitter));
}

enum Attempt {
    Done,
    Fail(StorageError),
    /// Serialization conflict: run the closure again.
    Conflict(StorageError),
    /// The pooled connection was dead before the closure ran: safe to retry on a fresh one.
    Reconnect(StorageError),
}

/// Runs the closure once on `conn`. Returns the outcome and whether the connection is unusable.
fn attempt(
    conn: &mut Conn,
    write: bool,
    f: &mut dyn FnMut(&mut dyn Txn) -> Result<(), TxnError>,
) -> (Attempt, bool) {
    let was_prepared = conn.stmts.is_some();
    if let Err(e) = conn.prepare() {
        let retry = was_prepared || conn.client.is_closed();
        return (reconnect_or_fail(e, retry), true);
    }
    let Conn { client, stmts } = conn;
    let Some(stmts) = stmts.as_ref() else {
        return (
            Attempt::Fail(StorageError::internal(BACKEND, "statements not prepared")),
            true,
        );
    };
    let begun = client
        .build_transaction()
        .isolation_level(if write {
            IsolationLevel::Serializable
        } else {
            IsolationLevel::RepeatableRead
        })
        .read_only(!write)
        .start();
    let tx = match begun {
        Ok(tx) => tx,
        Err(e) => return (reconnect_or_fail(classify(e), true), true),
    };
    let mut txn = PgTxn {
        tx,
        stmts,
        access: Access {
            writable: write,
            internal: false,
        },
        poison: Poison::default(),
    };
    let result = f(&mut txn);
    let PgTxn { tx, mut poison, .. } = txn;
    finish(tx, settle(result, poison.take()))
}

fn reconnect_or_fail(e: StorageError, retry: bool) -> Attempt {
    if retry && matches!(e, StorageError::Unavailable { .. }) {
        Attempt::Reconnect(e)
    } else {
        Attempt::Fail(e)
    }
}

/// Commits or rolls back per `verdict`. A failed `ROLLBACK` leaves the session in an unknown
/// state, so the connection is then discarded.
fn finish(tx: Transaction<'_>, verdict: Settle) -> (Attempt, bool) {
    match verdict {
        Settle::Commit => match tx.commit() {
            Ok(()) => (Attempt::Done, false),
            Err(e) => match classify(e) {
                e @ StorageError::Conflict { .. } => (Attempt::Conflict(e), false),
                e => (Attempt::Fail(e), true),
            },
        },
        Settle::Fail(e) => (Attempt::Fail(e), tx.rollback().is_err()),
        Settle::Retry(e) => (Attempt::Conflict(e), tx.rollback().is_err()),
    }
}

fn migrate_conn(conn: &mut Conn, schema: Option<&str>) -> Result<(), StorageError> {
    let mut tx = conn.client.transaction().map_err(classify)?;
    let lock_key = schema.unwrap_or("");
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('coffer_storage_migrate:' || $1))",
        &[&lock_key],
    )
    .map_err(classify)?;
    if let Some(schema) = schema {
        // The name was validated as a plain lowercase identifier; quoting keeps it exact.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .map_err(classify)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS coffer_kv (
            tbl TEXT NOT NULL,
            k BYTEA NOT NULL,
            v BYTEA NOT NULL,
            PRIMARY KEY (tbl, k)
        )",
    )
    .map_err(classify)?;
    let stmts = Stmts::prepare(&mut tx)?;
    let mut txn = PgTxn {
        tx,
        stmts: &stmts,
        access: Access {
            writable: true,
            internal: true,
        },
        poison: Poison::default(),
    };
    let found = migrate::read_version(&mut txn, BACKEND)?;
    for m in migrate::pending(found)? {
        if !m.postgres_sql.is_empty() {
            txn.tx.batch_execute(m.postgres_sql).map_err(classify)?;
        }
        (m.apply)(&mut txn)?;
        migrate::write_version(&mut txn, m.to)?;
    }
    txn.poison.check()?;
    txn.tx.commit().map_err(classify)?;
    // Prepared statements belong to the session, not the transaction.
    conn.stmts = Some(stmts);
    Ok(())
}

fn validate_schema_name(name: &str) -> Result<(), StorageError> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidConfig {
            what: "schema name must be 1-63 of [a-z0-9_], not starting with a digit",
            source: None,
        })
    }
}

struct Stmts {
    get: Statement,
    put: Statement,
    delete: Statement,
    /// Indexed by `[exclusive lower bound][has upper bound]`.
    scan: [[Statement; 2]; 2],
}

impl Stmts {
    fn prepare(c: &mut impl GenericClient) -> Result<Self, StorageError> {
        let mut p = |sql: &str| c.prepare(sql).map_err(classify);
        let scan_sql = |op: &str, upper: bool| {
            format!(
                "SELECT k, v FROM coffer_kv WHERE tbl = $1 AND k {op} $2{} ORDER BY k LIMIT $3",
                if upper { " AND k < $4" } else { "" }
            )
        };
        Ok(Self {
            get: p("SELECT v FROM coffer_kv WHERE tbl = $1 AND k = $2")?,
            put: p("INSERT INTO coffer_kv (tbl, k, v) VALUES ($1, $2, $3) \
                    ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v")?,
            delete: p("DELETE FROM coffer_kv WHERE tbl = $1 AND k = $2")?,
            scan: [
                [p(&scan_sql(">=", false))?, p(&scan_sql(">=", true))?],
                [p(&scan_sql(">", false))?, p(&scan_sql(">", true))?],
            ],
        })
    }
}

struct PgTxn<'c, 's> {
    tx: Transaction<'c>,
    stmts: &'s Stmts,
    access: Access,
    poison: Poison,
}

impl PgTxn<'_, '_> {
    fn get_inner(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.access.check_read(table, key)?;
        let row = self
            .tx
            .query_opt(&self.stmts.get, &[&table, &key])
            .map_err(classify)?;
        row.map(|r| r.try_get::<_, Vec<u8>>(0).map_err(classify))
            .transpose()
    }

    fn put_inner(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.access.check_write(table, key, Some(value))?;
        self.tx
            .execute(&self.stmts.put, &[&table, &key, &value])
            .map_err(classify)?;
        Ok(())
    }

    fn delete_inner(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.access.check_write(table, key, None)?;
        let n = self
            .tx
            .execute(&self.stmts.delete, &[&table, &key])
            .map_err(classify)?;
        Ok(n > 0)
    }

    fn scan_inner(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.access.check_read(table, prefix)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (exclusive, lower) = match start_after {
            Some(after) if after >= prefix => (true, after),
            _ => (false, prefix),
        };
        let upper = prefix_upper_bound(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let stmt = &self.stmts.scan[usize::from(exclusive)][usize::from(upper.is_some())];
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&table, &lower, &limit];
        if let Some(upper) = &upper {
            params.push(upper);
        }
        let rows = self.tx.query(stmt, &params).map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, Vec<u8>>(0).map_err(classify)?,
                    r.try_get::<_, Vec<u8>>(1).map_err(classify)?,
                ))
            })
            .collect()
    }
}

impl Txn for PgTxn<'_, '_> {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.poison.check()?;
        let r = self.get_inner(table, key);
        self.poison.track(r)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.poison.check()?;
        let r = self.put_inner(table, key, value);
        self.poison.track(r)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StorageError> {
        self.poison.check()?;
        let r = self.delete_inner(table, key);
        self.poison.track(r)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.poison.check()?;
        let r = self.scan_inner(table, prefix, start_after, limit);
        self.poison.track(r)
    }
}

/// Maps an error from an established connection.
fn classify(e: postgres::Error) -> StorageError {
    if let Some(code) = sqlstate(&e) {
        return classify_db(&code, Arc::new(e));
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    let source: BackendError = Arc::new(e);
    if io || source_is_closed(&source) {
        StorageError::Unavailable {
            backend: BACKEND,
            source,
        }
    } else {
        StorageError::Internal {
            backend: BACKEND,
            source,
        }
    }
}

fn source_is_closed(source: &BackendError) -> bool {
    source
        .downcast_ref::<postgres::Error>()
        .is_some_and(postgres::Error::is_closed)
}

/// Maps an error from opening a connection: anything but a server verdict is the network's fault.
fn classify_connect(e: postgres::Error) -> StorageError {
    match sqlstate(&e) {
        Some(code) => classify_db(&code, Arc::new(e)),
        None => StorageError::Unavailable {
            backend: BACKEND,
            source: Arc::new(e),
        },
    }
}

fn sqlstate(e: &postgres::Error) -> Option<String> {
    e.code().map(|c| c.code().to_owned())
}

fn classify_db(code: &str, source: BackendError) -> StorageError {
    let backend = BACKEND;
    if code == SqlState::T_R_SERIALIZATION_FAILURE.code()
        || code == SqlState::T_R_DEADLOCK_DETECTED.code()
    {
        return StorageError::Conflict {
            backend,
            attempts: 1,
            source,
        };
    }
    if code == SqlState::DATA_CORRUPTED.code() || code == SqlState::INDEX_CORRUPTED.code() {
        return StorageError::Corrupt { backend, source };
    }
    if code == SqlState::INVALID_CATALOG_NAME.code() || code.starts_with("28") {
        return StorageError::InvalidConfig {
            what: "PostgreSQL rejected the database or credentials",
            source: Some(source),
        };
    }
    // 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
    // cannot connect now), 58 system error (I/O).
    if ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c)) {
        return StorageError::Unavailable { backend, source };
    }
    StorageError::Internal { backend, source }
}

struct Conn {
    client: Client,
    /// Prepared after the table exists (right away for connections opened after migration).
    stmts: Option<Stmts>,
}

impl Conn {
    fn prepare(&mut self) -> Result<(), StorageError> {
        if self.stmts.is_none() {
            self.stmts = Some(Stmts::prepare(&mut self.client)?);
        }
        Ok(())
    }
}

struct Pool {
    config: Config,
    schema: Option<String>,
    max: usize,
    acquire_timeout: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections in `idle` plus those leased out or being opened.
    open: usize,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state stays consistent at every unlock point, so a panic elsewhere cannot leave it
        // half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn acquire(&self) -> Result<Lease<'_>, StorageError> {
        let deadline = Instant::now() + self.acquire_timeout;
        let mut state = self.lock();
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                } else {
                    return Ok(self.lease(conn));
                }
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(conn) => Ok(self.lease(conn)),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StorageError::Unavailable {
                    backend: BACKEND,
                    source: Arc::new(crate::error::Invariant(
                        "connection pool exhausted: no connection freed within acquire_timeout",
                    )),
                });
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lease(&self, conn: Conn) -> Lease<'_> {
        Lease {
            pool: self,
            conn: Some(conn),
            broken: false,
        }
    }

    fn connect(&self) -> Result<Conn, StorageError> {
        let mut client = self.config.connect(NoTls).map_err(classify_connect)?;
        let mut setup = String::from("SET synchronous_commit = on");
        if let Some(schema) = &self.schema {
            setup.push_str(&format!("; SET search_path TO \"{schema}\""));
        }
        client.batch_execute(&setup).map_err(classify)?;
        Ok(Conn {
            client,
            stmts: None,
        })
    }

    fn release(&self, conn: Conn, broken: bool) {
        let mut state = self.lock();
        if broken || conn.client.is_closed() {
            state.open -= 1;
            drop(state);
            drop(conn);
        } else {
            state.idle.push(conn);
            drop(state);
        }
        self.freed.notify_one();
    }
}

struct Lease<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
    /// Discard instead of returning to the pool.
    broken: bool,
}

impl Lease<'_> {
    /// Only `Drop` takes the connection out, so this is always `Ok`.
    fn conn(&mut self) -> Result<&mut Conn, StorageError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StorageError::internal(BACKEND, "lease without a connection"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.release(conn, self.broken);
        }
    }
}
