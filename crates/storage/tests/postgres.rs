//! The conformance suite against the PostgreSQL adapter, on a real server.
//!
//! URL from `COFFER_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`. Each
//! test works in its own freshly created schema, dropped afterwards, so runs can overlap.

// Test helpers outside #[test] fns fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_storage::conformance::{self, Fixture};
use coffer_storage::{
    PostgresOptions, SCHEMA_VERSION, Storage, StorageError, open, open_postgres_with, write,
};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn url() -> String {
    std::env::var("COFFER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn admin() -> postgres::Client {
    postgres::Client::connect(&url(), postgres::NoTls).unwrap()
}

struct Pg {
    schema: String,
}

impl Pg {
    fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            schema: format!(
                "coffer_test_{}_{}_{:08x}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                random as u32
            ),
        }
    }

    fn options(&self) -> PostgresOptions {
        PostgresOptions {
            schema: Some(self.schema.clone()),
            ..PostgresOptions::default()
        }
    }
}

impl Fixture for Pg {
    fn open(&self) -> Result<Arc<dyn Storage>, StorageError> {
        open_postgres_with(&url(), self.options())
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = admin().batch_execute(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ));
    }
}

coffer_storage::conformance_tests!(Pg::new());

#[test]
fn nodes_sharing_a_database_lose_no_update() -> Result<(), StorageError> {
    let fx = Pg::new();
    let nodes = [fx.open()?, fx.open()?, fx.open()?];
    let handles: Vec<&dyn Storage> = nodes.iter().map(|n| &**n).collect();
    conformance::increment_from(&handles, 15)
}

#[test]
fn newer_schema_is_refused() -> Result<(), StorageError> {
    let fx = Pg::new();
    drop(fx.open()?);
    let mut db = admin();
    let bumped = (SCHEMA_VERSION + 5).to_be_bytes().to_vec();
    let n = db
        .execute(
            &format!(
                "UPDATE \"{}\".coffer_kv SET v = $1 WHERE tbl = '_meta' AND k = 'schema_version'",
                fx.schema
            ),
            &[&bumped],
        )
        .unwrap();
    assert_eq!(n, 1);
    match fx.open() {
        Err(StorageError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 5, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
    Ok(())
}

#[test]
fn concurrent_first_opens_migrate_once() -> Result<(), StorageError> {
    let fx = Pg::new();
    std::thread::scope(|s| {
        let opens: Vec<_> = (0..4).map(|_| s.spawn(|| fx.open().map(drop))).collect();
        opens.into_iter().try_for_each(|h| h.join().unwrap())
    })?;
    assert_eq!(
        coffer_storage::schema_version(&*fx.open()?)?,
        SCHEMA_VERSION
    );
    Ok(())
}

#[test]
fn open_dispatches_on_url_and_honours_search_path_option() -> Result<(), StorageError> {
    let fx = Pg::new();
    drop(fx.open()?); // creates the schema
    let url = url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let s = open(&format!("{url}{sep}options=-csearch_path%3D{}", fx.schema))?;
    assert_eq!(s.backend(), "postgres");
    write(&*s, |txn| txn.put("t", b"k", b"v"))?;
    let row = admin()
        .query_one(
            &format!("SELECT v FROM \"{}\".coffer_kv WHERE tbl = 't'", fx.schema),
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), b"v".to_vec());
    Ok(())
}

#[test]
fn works_from_tokio_spawn_blocking() -> Result<(), StorageError> {
    let fx = Pg::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let s = tokio::task::spawn_blocking({
            let opts = fx.options();
            move || open_postgres_with(&url(), opts)
        })
        .await
        .unwrap()?;
        let got = tokio::task::spawn_blocking(move || {
            write(&*s, |txn| txn.put("t", b"k", b"v"))?;
            coffer_storage::read(&*s, |txn| txn.get("t", b"k"))
        })
        .await
        .unwrap()?;
        assert_eq!(got, Some(b"v".to_vec()));
        Ok(())
    })
}

#[test]
fn unreachable_server_is_unavailable() {
    let r = open("postgres://postgres@127.0.0.1:1/test");
    let e = r.err().unwrap();
    assert!(matches!(e, StorageError::Unavailable { .. }), "{e:?}");
    assert!(e.is_retryable());
}

#[test]
fn bad_settings_are_invalid_config() {
    for (url, opts) in [
        ("postgres://[not a url", PostgresOptions::default()),
        (
            "postgres://postgres@127.0.0.1:5432/test",
            PostgresOptions {
                schema: Some("Robert'); DROP".into()),
                ..PostgresOptions::default()
            },
        ),
    ] {
        let r = open_postgres_with(url, opts);
        assert!(
            matches!(r, Err(StorageError::InvalidConfig { .. })),
            "{:?}",
            r.err()
        );
    }
    let missing_db = url()
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/coffer_no_such_db"));
    let r = open(&missing_db.unwrap());
    assert!(
        matches!(r, Err(StorageError::InvalidConfig { .. })),
        "{:?}",
        r.err()
    );
}
