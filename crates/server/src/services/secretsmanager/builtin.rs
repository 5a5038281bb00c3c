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
                pg_run(creds, &pending, &sql)
            }
            Engine::Mysql => mysql_set(creds, &pending, strategy, &user, &current_user, &pw),
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
        Engine::Postgres => pg_run(&pending, &pending, "SELECT now()"),
        Engine::Mysql => mysql_run(&pending, &pending, |c| c.execute("DO 1")),
    }
    .map_err(|e| SmError::InvalidRequest(format!("testSecret: {e}")))
}

/// Connects to MariaDB/MySQL with `creds` at the server `target` names and runs `f`, on
/// a thread of its own (the client blocks).
fn mysql_run(
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
    crate::blocking::run(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut c = super::mysql::Conn::connect(&host, port, &user, &pw, db.as_deref())
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
        Strategy::SingleUser => mysql_run(creds, target, |c| {
            c.execute(&format!("SET PASSWORD = PASSWORD({})", quote(pw)))
        }),
        Strategy::MultiUser => mysql_run(creds, target, |c| {
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
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    sql: &str,
) -> Result<(), String> {
    let (host, port, db) = endpoint(target, 5432)?;
    let user = field(creds, "username")
        .map_err(|e| e.to_string())?
        .to_owned();
    let pw = Zeroizing::new(
        field(creds, "password")
            .map_err(|e| e.to_string())?
            .to_owned(),
    );
    let sql = Zeroizing::new(sql.to_owned());
    crate::blocking::run(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut client = postgres::Config::new()
                        .host(&host)
                        .port(port)
                        .dbname(&db)
                        .user(&user)
                        .password(pw.as_bytes())
                        .connect_timeout(Duration::from_secs(10))
                        .connect(postgres::NoTls)
                        .map_err(|e| format!("cannot connect as {user}: {e}"))?;
                    client
                        .batch_execute(&sql)
                        .map_err(|e| format!("statement failed as {user}: {e}"))
                })
                .join()
                .map_err(|_| "database thread failed".to_owned())?
        })
    })
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
}
