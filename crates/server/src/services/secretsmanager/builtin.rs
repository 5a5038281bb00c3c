//! Built-in rotation functions for PostgreSQL and MariaDB/MySQL, following AWS's rotation templates and
//! their secret format `{"engine", "host", "port", "username", "password", "dbname"}`:
//!
//! - `coffer-postgresql-single-user`, `coffer-mysql-single-user`: the user's own password is changed (connecting
//!   with the current credentials) and tested.
//! - `coffer-postgresql-multi-user`, `coffer-mysql-multi-user`: alternating users. The secret's `masterarn` names a
//!   secret holding an administrator's credentials; each rotation switches between
//!   `<user>` and `<user>_clone`, creating the clone on first use (as a member of the
//!   original role in PostgreSQL, with its grants copied in MariaDB) and setting a new password for the one
//!   that becomes current. The previous user keeps working until its next turn.
//!
//! A built-in acts with the authority of the secret's account (its root principal,
//! through Secrets Manager and KMS), as a rotation Lambda acts with its execution role.
//! Database work runs on its own thread, off the runtime (the `postgres` client runs a
//! runtime of its own).

use super::error::SmError;
use super::password::{PasswordInput, generate};
use super::store::{self, CURRENT, PENDING, PREVIOUS, SecretRecord};
use super::values::SecretValue;
use super::versions::{self, NewVersion, StageInput};
use crate::State;
use crate::api::{AuditInfo, Call};
use crate::identity::{KeyOwner, KeyRecord};
use coffer_types::{Principal, PrincipalKind, RequestContext};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    /// MariaDB and MySQL.
    Mysql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    SingleUser,
    MultiUser,
}

/// How a built-in reaches its database, chosen by the `ssl` field of the secret whose
/// credentials log in, as AWS's rotation templates choose (their `get_ssl_config`):
///
/// - absent, or neither a boolean nor `"true"`/`"false"`: try TLS, and if the server offers
///   none or its certificate is not trusted, connect over plain TCP (with a warning);
/// - `true` / `"true"` (any case): TLS is required; no TLS or an untrusted certificate fails
///   the step with that reason, before any credential is sent;
/// - `false` / `"false"`: plain TCP.
///
/// TLS is always verified (the templates use `verify-full` and a CA bundle): against the
/// system's CAs plus `[secretsmanager] ca-file`, for the host the secret names.
#[derive(Clone)]
pub enum DbTls {
    Disable,
    Prefer(Arc<rustls::ClientConfig>),
    Require(Arc<rustls::ClientConfig>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsSetting {
    Disable,
    Prefer,
    Require,
}

/// The setting a secret's `ssl` field asks for.
fn tls_setting(m: &Map<String, Value>) -> TlsSetting {
    match m.get("ssl") {
        Some(Value::Bool(true)) => TlsSetting::Require,
        Some(Value::Bool(false)) => TlsSetting::Disable,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => TlsSetting::Require,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => TlsSetting::Disable,
        _ => TlsSetting::Prefer,
    }
}

/// The TLS choice for logging in with `creds`.
fn db_tls(state: &State, creds: &Map<String, Value>) -> Result<DbTls, String> {
    let config = || {
        coffer_tls::client_config_with_system_roots(state.config.secretsmanager.ca_file.as_deref())
            .map_err(|e| format!("TLS configuration: {e}"))
    };
    Ok(match tls_setting(creds) {
        TlsSetting::Disable => DbTls::Disable,
        TlsSetting::Prefer => DbTls::Prefer(config()?),
        TlsSetting::Require => DbTls::Require(config()?),
    })
}

/// The built-in a function name selects, if any.
pub fn strategy(name: &str) -> Option<(Engine, Strategy)> {
    match name {
        "coffer-postgresql-single-user" => Some((Engine::Postgres, Strategy::SingleUser)),
        "coffer-postgresql-multi-user" => Some((Engine::Postgres, Strategy::MultiUser)),
        "coffer-mysql-single-user" => Some((Engine::Mysql, Strategy::SingleUser)),
        "coffer-mysql-multi-user" => Some((Engine::Mysql, Strategy::MultiUser)),
        _ => None,
    }
}

/// Characters AWS's templates leave out of generated database passwords, and `$` (coffer
/// sends the password inside a dollar-quoted block).
const EXCLUDED: &str = "/@\"'\\$";
const CLONE_SUFFIX: &str = "_clone";

/// Runs one step of a built-in rotation for version `token` of `s`.
pub fn run_step(
    state: &State,
    s: &SecretRecord,
    (engine, strategy): (Engine, Strategy),
    step: &str,
    token: &str,
) -> Result<(), String> {
    let ctx = acting_context(state, s)?;
    let key = KeyRecord {
        account: s.account,
        owner: KeyOwner::Root,
        active: true,
        created: ctx.time,
        sealed_secret: Vec::new(),
    };
    let call = Call {
        state,
        ctx: &ctx,
        key: &key,
        via_service: None,
    };
    let r = match step {
        "createSecret" => create(&call, s, strategy, token),
        "setSecret" => set(&call, s, engine, strategy, token),
        "testSecret" => test(&call, s, engine, token),
        "finishSecret" => finish(&call, s, token),
        other => Err(SmError::Internal(format!("unknown step {other}"))),
    };
    r.map_err(|e| format!("{step}: {e}"))
}

fn acting_context(state: &State, s: &SecretRecord) -> Result<RequestContext, String> {
    Ok(RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: Principal {
            kind: PrincipalKind::Root,
            account: s.account,
            arn: format!("arn:aws:iam::{}:root", s.account),
            user_id: s.account.to_string(),
            access_key_id: String::new(),
            role_arn: None,
            user_name: None,
        },
        region: s.region.parse().map_err(|_| "bad region".to_owned())?,
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: "secretsmanager.amazonaws.com".into(),
        secure_transport: true,
        time: state.clock.now(),
    })
}

/// The current record of `s` (the step before may have changed it).
fn fresh(call: &Call<'_>, s: &SecretRecord) -> Result<SecretRecord, SmError> {
    let key = s.storage_key();
    coffer_storage::read(call.state.store.as_ref(), |t| {
        store::get::<SecretRecord>(t, store::SECRETS, &key)
    })?
    .ok_or_else(super::error::not_found)
}

/// A version's JSON secret string.
fn json_of(call: &Call<'_>, s: &SecretRecord, vid: &str) -> Result<SecretJson, SmError> {
    let mut audit = AuditInfo::default();
    let v = versions::read_value(call, s, vid, &mut audit)?;
    let SecretValue::String(text) = v else {
        return Err(SmError::InvalidRequest(
            "the secret is not a JSON string".into(),
        ));
    };
    let parsed: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|_| SmError::InvalidRequest("the secret is not a JSON object".into()))?;
    Ok(SecretJson(parsed))
}

fn by_stage(call: &Call<'_>, s: &SecretRecord, stage: &str) -> Result<Option<SecretJson>, SmError> {
    match s.with_stage(stage) {
        Some(v) => json_of(call, s, &v.id.clone()).map(Some),
        None => Ok(None),
    }
}

/// A decoded secret JSON; its strings are zeroized on drop.
struct SecretJson(Map<String, Value>);

impl std::ops::Deref for SecretJson {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for SecretJson {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for SecretJson {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.0.values_mut() {
            if let Value::String(s) = v {
                s.zeroize();
            }
        }
    }
}

fn field<'a>(m: &'a Map<String, Value>, k: &str) -> Result<&'a str, SmError> {
    m.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| SmError::InvalidRequest(format!("the secret has no string field {k}")))
}

/// createSecret: AWSPENDING gets the current JSON with a new password (and, for
/// alternating users, the other user name).
fn create(
    call: &Call<'_>,
    s: &SecretRecord,
    strategy: Strategy,
    token: &str,
) -> Result<(), SmError> {
    let s = fresh(call, s)?;
    if s.version(token).is_some() {
        return Ok(());
    }
    let mut m = by_stage(call, &s, CURRENT)?
        .ok_or_else(|| SmError::InvalidRequest("the secret has no AWSCURRENT version".into()))?;
    if strategy == Strategy::MultiUser {
        let user = field(&m, "username")?.to_owned();
        let next = match user.strip_suffix(CLONE_SUFFIX) {
            Some(base) => base.to_owned(),
            None => format!("{user}{CLONE_SUFFIX}"),
        };
        m.insert("username".into(), Value::String(next));
    }
    let pw = generate(&PasswordInput {
        exclude_characters: Some(EXCLUDED.into()),
        ..Default::default()
    })?;
    m.insert("password".into(), Value::String(pw.to_string()));
    let text = Zeroizing::new(Value::Object(m.0.clone()).to_string());
    let value = SecretValue::String(text);
    let nv = NewVersion {
        token: Some(token.to_owned()),
        value: &value,
        stages: vec![PENDING.into()],
    };
    versions::write_version(call, &s, nv, &mut AuditInfo::default())?;
    Ok(())
}

/// setSecret: the pending password is set in the database.
fn set(
    call: &Call<'_>,
    s: &SecretRecord,
    engine: Engine,
    strategy: Strategy,
    token: &str,
) -> Result<(), SmError> {
    let s = fresh(call, s)?;
    let pending = json_of(call, &s, token)?;
    let user = field(&pending, "username")?.to_owned();
    let pw = Zeroizing::new(field(&pending, "password")?.to_owned());
    let admin = match strategy {
        // The user changes its own password, logged in with a password that still works.
        Strategy::SingleUser => {
            let mut tried = Vec::new();
            for stage in [CURRENT, PENDING, PREVIOUS] {
                if let Some(m) = by_stage(call, &s, stage)? {
                    tried.push(m);
                }
            }
            tried
        }
        Strategy::MultiUser => {
            let master_arn = field(&pending, "masterarn")?.to_owned();
            let r = store::parse_ref(&master_arn, &s.region, s.account)
                .ok_or_else(|| SmError::InvalidRequest("masterarn is not a secret ARN".into()))?;
            let master =
                coffer_storage::read(call.state.store.as_ref(), |t| store::require(t, &r))?;
            vec![by_stage(call, &master, CURRENT)?.ok_or_else(|| {
                SmError::InvalidRequest("the master secret has no AWSCURRENT version".into())
            })?]
        }
    };
    let current_user = match by_stage(call, &s, CURRENT)? {
        Some(m) => field(&m, "username")?.to_owned(),
        None => user.clone(),
    };
    let mut last = String::from("no credentials to connect with");
    for creds in &admin {
        let r = match engine {
            Engine::Postgres => {
                let sql = set_password_sql(strategy, &user, &current_user, &pw);
                pg_run(call.state, creds, &pending, &sql)
            }
            Engine::Mysql => mysql_set(
                call.state,
                creds,
                &pending,
                strategy,
                &user,
                &current_user,
                &pw,
            ),
        };
        match r {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(SmError::InvalidRequest(format!("setSecret: {last}")))
}

/// The statements that give `user` the new password (creating the alternate user).
fn set_password_sql(strategy: Strategy, user: &str, current: &str, pw: &str) -> Zeroizing<String> {
    let u = quote_ident(user);
    let p = quote_literal(pw);
    Zeroizing::new(match strategy {
        Strategy::SingleUser => format!("ALTER USER {u} WITH PASSWORD {p}"),
        Strategy::MultiUser => format!(
            "DO $coffer$ BEGIN \
               IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN \
                 ALTER ROLE {u} WITH LOGIN PASSWORD {p}; \
               ELSE \
                 CREATE ROLE {u} WITH LOGIN PASSWORD {p} IN ROLE {cur}; \
               END IF; \
             END $coffer$",
            name = quote_literal(user),
            cur = quote_ident(current),
        ),
    })
}

/// testSecret: the pending credentials log in and run a query.
fn test(call: &Call<'_>, s: &SecretRecord, engine: Engine, token: &str) -> Result<(), SmError> {
    let s = fresh(call, s)?;
    let pending = json_of(call, &s, token)?;
    match engine {
        Engine::Postgres => pg_run(call.state, &pending, &pending, "SELECT now()"),
        Engine::Mysql => mysql_run(call.state, &pending, &pending, |c| c.execute("DO 1")),
    }
    .map_err(|e| SmError::InvalidRequest(format!("testSecret: {e}")))
}

/// Connects to MariaDB/MySQL with `creds` at the server `target` names and runs `f`, on
/// a thread of its own (the client blocks).
fn mysql_run(
    state: &State,
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    f: impl FnOnce(&mut super::mysql::Conn) -> Result<(), String> + Send,
) -> Result<(), String> {
    let (host, port, db) = endpoint(target, 3306)?;
    let user = field(creds, "username")
        .map_err(|e| e.to_string())?
        .to_owned();
    let pw = Zeroizing::new(
        field(creds, "password")
            .map_err(|e| e.to_string())?
            .to_owned(),
    );
    let db = target.get("dbname").and_then(Value::as_str).map(|_| db);
    let tls = db_tls(state, creds)?;
    crate::blocking::run(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut c =
                        super::mysql::Conn::connect(&host, port, &user, &pw, db.as_deref(), &tls)
                            .map_err(|e| format!("cannot connect as {user}: {e}"))?;
                    f(&mut c)
                })
                .join()
                .map_err(|_| "database thread failed".to_owned())?
        })
    })
}

/// MariaDB/MySQL setSecret. Single user: the user sets its own password. Alternating
/// users (logged in as the master user): the other user is created if needed with the
/// current user's grants copied, as AWS's template does, and given the new password.
fn mysql_set(
    state: &State,
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    strategy: Strategy,
    user: &str,
    current: &str,
    pw: &str,
) -> Result<(), String> {
    use super::mysql::quote;
    let account = format!("{}@'%'", quote(user));
    match strategy {
        Strategy::SingleUser => mysql_run(state, creds, target, |c| {
            c.execute(&format!("SET PASSWORD = PASSWORD({})", quote(pw)))
        }),
        Strategy::MultiUser => mysql_run(state, creds, target, |c| {
            c.execute(&format!(
                "CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {}",
                quote(pw)
            ))?;
            if user != current {
                let from = format!("{}@'%'", quote(current));
                let grants = c.query_column(&format!("SHOW GRANTS FOR {from}"))?;
                for g in grants.iter().filter(|g| !g.contains("IDENTIFIED BY")) {
                    let to = format!("`{}`@`%`", user.replace('`', "``"));
                    let from_q = format!("`{}`@`%`", current.replace('`', "``"));
                    c.execute(&g.replace(&from_q, &to))?;
                }
            }
            c.execute(&format!("ALTER USER {account} IDENTIFIED BY {}", quote(pw)))
        }),
    }
}

/// Host, port and database of a secret (`port` as a number or a string).
fn endpoint(
    target: &Map<String, Value>,
    default_port: u16,
) -> Result<(String, u16, String), String> {
    let host = field(target, "host").map_err(|e| e.to_string())?.to_owned();
    let port = match target.get("port") {
        Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Some(Value::String(p)) => p.parse().ok(),
        _ => Some(default_port),
    }
    .ok_or("bad port")?;
    let db = target
        .get("dbname")
        .and_then(Value::as_str)
        .unwrap_or("postgres")
        .to_owned();
    Ok((host, port, db))
}

/// finishSecret: AWSCURRENT moves to the new version.
fn finish(call: &Call<'_>, s: &SecretRecord, token: &str) -> Result<(), SmError> {
    let s = fresh(call, s)?;
    let current = s.with_stage(CURRENT).map(|v| v.id.clone());
    if current.as_deref() == Some(token) {
        return Ok(());
    }
    let input = StageInput::moving(&s.arn(), CURRENT, current, token);
    versions::update_stage(call, input, &mut AuditInfo::default())?;
    Ok(())
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Connects with `creds`' user and password to the database `target` names and runs `sql`.
fn pg_run(
    state: &State,
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    sql: &str,
) -> Result<(), String> {
    let tls = db_tls(state, creds)?;
    pg_with(creds, target, &tls, |c| {
        c.batch_execute(sql)
            .map_err(|e| format!("statement failed: {}", with_causes(&e)))
    })
}

/// Connects as `pg_run` does and runs `f` with the client, on a thread of its own.
fn pg_with<T: Send>(
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    tls: &DbTls,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, String> + Send,
) -> Result<T, String> {
    let (host, port, db) = endpoint(target, 5432)?;
    let user = field(creds, "username")
        .map_err(|e| e.to_string())?
        .to_owned();
    let pw = Zeroizing::new(
        field(creds, "password")
            .map_err(|e| e.to_string())?
            .to_owned(),
    );
    crate::blocking::run(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut config = postgres::Config::new();
                    config
                        .host(&host)
                        .port(port)
                        .dbname(&db)
                        .user(&user)
                        .password(pw.as_bytes())
                        .connect_timeout(Duration::from_secs(10));
                    let mut client = pg_connect(&mut config, tls)
                        .map_err(|e| format!("cannot connect as {user}: {e}"))?;
                    f(&mut client).map_err(|e| format!("as {user}: {e}"))
                })
                .join()
                .map_err(|_| "database thread failed".to_owned())?
        })
    })
}

/// Opens a PostgreSQL connection as `tls` says. TLS goes through tokio-postgres-rustls
/// with coffer's rustls configuration; with `Prefer`, a server that answers the TLS
/// request with "no" is used in plain (tokio-postgres's own `prefer`), and a failed TLS
/// handshake (an untrusted certificate) is retried over plain TCP with a warning. A login
/// the server refused (a database error) is not retried.
fn pg_connect(config: &mut postgres::Config, tls: &DbTls) -> Result<postgres::Client, String> {
    let text = |e: &postgres::Error| with_causes(e);
    use postgres::config::SslMode;
    let rustls = |c: &Arc<rustls::ClientConfig>| {
        tokio_postgres_rustls::MakeRustlsConnect::new(rustls::ClientConfig::clone(c))
    };
    match tls {
        DbTls::Disable => config
            .ssl_mode(SslMode::Disable)
            .connect(postgres::NoTls)
            .map_err(|e| text(&e)),
        DbTls::Require(c) => config
            .ssl_mode(SslMode::Require)
            .connect(rustls(c))
            .map_err(|e| format!("{} (the secret requires TLS: \"ssl\": true)", text(&e))),
        DbTls::Prefer(c) => match config.ssl_mode(SslMode::Prefer).connect(rustls(c)) {
            Ok(client) => Ok(client),
            Err(e) if e.as_db_error().is_none() => {
                let e = text(&e);
                tracing::warn!(error = %e, "TLS to the database failed; falling back to plain TCP (set \"ssl\": true in the secret to require TLS)");
                config
                    .ssl_mode(SslMode::Disable)
                    .connect(postgres::NoTls)
                    .map_err(|plain| format!("{} (and over TLS: {e})", text(&plain)))
            }
            Err(e) => Err(text(&e)),
        },
    }
}

/// An error with its causes ("error performing TLS handshake: invalid peer certificate:
/// UnknownIssuer"): tokio-postgres leaves them out of its own message.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let m = c.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_statements() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        let s = set_password_sql(Strategy::SingleUser, "app", "app", "p'w");
        assert_eq!(s.as_str(), "ALTER USER \"app\" WITH PASSWORD 'p''w'");
        let m = set_password_sql(Strategy::MultiUser, "app_clone", "app", "x");
        assert!(m.contains("CREATE ROLE \"app_clone\" WITH LOGIN PASSWORD 'x' IN ROLE \"app\""));
        assert_eq!(
            strategy("coffer-postgresql-multi-user"),
            Some((Engine::Postgres, Strategy::MultiUser))
        );
        assert_eq!(
            strategy("coffer-mysql-single-user"),
            Some((Engine::Mysql, Strategy::SingleUser))
        );
        assert_eq!(strategy("hook"), None);
    }

    #[test]
    fn ssl_settings_follow_the_templates() {
        let m = |v: Value| {
            let mut m = Map::new();
            m.insert("ssl".into(), v);
            tls_setting(&m)
        };
        assert_eq!(tls_setting(&Map::new()), TlsSetting::Prefer);
        assert_eq!(m(Value::Bool(true)), TlsSetting::Require);
        assert_eq!(m(Value::Bool(false)), TlsSetting::Disable);
        assert_eq!(m(Value::String("TRUE".into())), TlsSetting::Require);
        assert_eq!(m(Value::String("False".into())), TlsSetting::Disable);
        assert_eq!(m(Value::String("maybe".into())), TlsSetting::Prefer);
        assert_eq!(m(Value::from(1)), TlsSetting::Prefer);
    }

    fn pg_creds(host: &str) -> Map<String, Value> {
        let v = serde_json::json!({
            "username": "postgres", "password": "unused-with-trust-auth",
            "host": host, "port": 5432, "dbname": "postgres"
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// Whether this session's connection to the local server is encrypted.
    fn pg_ssl_used(host: &str, tls: &DbTls) -> Result<bool, String> {
        let c = pg_creds(host);
        pg_with(&c, &c, tls, |client| {
            client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .map(|r| r.get::<_, bool>(0))
                .map_err(|e| with_causes(&e))
        })
    }

    /// A client configuration trusting only a fresh CA of its own, which the database's
    /// certificate does not chain to. (Not "the system CAs": Debian links its snakeoil
    /// certificate into /etc/ssl/certs, so there the system store trusts it.)
    fn untrusting() -> Arc<rustls::ClientConfig> {
        let dir = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let m = crate::test_support::tls_material(dir.path(), now);
        coffer_tls::client_config(m.ca_cert_path().unwrap()).unwrap()
    }

    /// Against the local PostgreSQL (trust auth on 127.0.0.1). Debian's server runs with
    /// `ssl = on` and its self-signed "snakeoil" certificate for `localhost`: trusting that
    /// certificate as a CA, TLS is verified and used; with a trust store it is not in,
    /// requiring TLS fails with the reason and preferring it falls back to plain. On a
    /// server without TLS, requiring it fails and preferring it connects in plain.
    #[test]
    fn postgres_tls_modes() {
        let untrusted = untrusting();
        let c = pg_creds("127.0.0.1");
        let (ssl_on, cert_file) = pg_with(&c, &c, &DbTls::Disable, |client| {
            let on: String = client
                .query_one("SHOW ssl", &[])
                .map_err(|e| e.to_string())?
                .get(0);
            let file: String = client
                .query_one("SHOW ssl_cert_file", &[])
                .map_err(|e| e.to_string())?
                .get(0);
            Ok((on == "on", file))
        })
        .unwrap();
        assert!(!pg_ssl_used("127.0.0.1", &DbTls::Disable).unwrap());
        if !ssl_on {
            let e = pg_ssl_used("127.0.0.1", &DbTls::Require(untrusted.clone())).unwrap_err();
            assert!(e.contains("does not support TLS"), "{e}");
            assert!(!pg_ssl_used("127.0.0.1", &DbTls::Prefer(untrusted)).unwrap());
            return;
        }
        // Not trusted: refused when required (nothing sent), plain when preferred.
        let e = pg_ssl_used("localhost", &DbTls::Require(untrusted.clone())).unwrap_err();
        assert!(e.contains("certificate"), "{e}");
        assert!(e.contains("\"ssl\": true"), "{e}");
        assert!(!pg_ssl_used("localhost", &DbTls::Prefer(untrusted)).unwrap());
        let cert = std::path::Path::new(&cert_file);
        if std::fs::read(cert).is_err() {
            eprintln!("{cert_file} not readable here: verified TLS not exercised");
            return;
        }
        let trusted = coffer_tls::client_config_with_system_roots(Some(cert)).unwrap();
        assert!(pg_ssl_used("localhost", &DbTls::Require(trusted.clone())).unwrap());
        assert!(pg_ssl_used("localhost", &DbTls::Prefer(trusted.clone())).unwrap());
        // The certificate names localhost, not 127.0.0.1: the name check refuses it.
        let e = pg_ssl_used("127.0.0.1", &DbTls::Require(trusted)).unwrap_err();
        assert!(e.contains("certificate"), "{e}");
    }
}
