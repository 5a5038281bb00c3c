//! Typed records over [`coffer_storage::Txn`], shared by the services' `store` modules: each
//! record is one JSON document under a UTF-8 key.
//!
//! The helpers are generic over the caller's error type, so a service keeps its own error and
//! its own mapping of [`StorageError`] (which they pass through untouched); the only error they
//! add is [`RecordFault`], a record that would not encode or decode. Each `store` module wraps
//! them in one-line functions that fix its error type: with `?` alone Rust cannot infer it.
//!
//! Changing how a record is encoded here changes every stored record: data already stored must
//! stay readable.

use coffer_storage::{StorageError, Txn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A stored record (or key) that does not decode, or a value that does not encode: damaged
/// storage or a bug, never the caller's fault. The message names the table, never the data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordFault(String);

/// The record at `key` in `table`, if there is one.
pub fn get<T, E>(t: &mut dyn Txn, table: &str, key: &str) -> Result<Option<T>, E>
where
    T: DeserializeOwned,
    E: From<StorageError> + From<RecordFault>,
{
    match t.get(table, key.as_bytes())? {
        Some(b) => Ok(Some(decode(table, &b)?)),
        None => Ok(None),
    }
}

/// Inserts or overwrites the record at `key` in `table`.
pub fn put<T, E>(t: &mut dyn Txn, table: &str, key: &str, v: &T) -> Result<(), E>
where
    T: Serialize,
    E: From<StorageError> + From<RecordFault>,
{
    let b = serde_json::to_vec(v).map_err(|e| RecordFault(e.to_string()))?;
    Ok(t.put(table, key.as_bytes(), &b)?)
}

/// Keys and records of `table` under `prefix`, after `start_after`, at most `limit`, in key
/// order (see [`Txn::scan`]).
pub fn scan<T, E>(
    t: &mut dyn Txn,
    table: &str,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, T)>, E>
where
    T: DeserializeOwned,
    E: From<StorageError> + From<RecordFault>,
{
    let rows = t.scan(
        table,
        prefix.as_bytes(),
        start_after.map(str::as_bytes),
        limit,
    )?;
    rows.into_iter()
        .map(|(k, v)| {
            let k =
                String::from_utf8(k).map_err(|_| RecordFault(format!("corrupt key in {table}")))?;
            Ok((k, decode(table, &v)?))
        })
        .collect()
}

fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, RecordFault> {
    // The serde error may quote the record; keep it out of logs and audit records.
    serde_json::from_slice(bytes).map_err(|_| RecordFault(format!("corrupt record in {table}")))
}

/// Bytes in a record (sealed material, data keys) as a base64 string, for
/// `#[serde(with = "records::b64")]`: a JSON array of numbers would triple the record and slow
/// down every read of it.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// [`b64`] for optional bytes; `None` is JSON `null`.
pub mod b64_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => super::b64::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        use base64::Engine;
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| base64::engine::general_purpose::STANDARD.decode(s))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        n: u32,
    }

    #[derive(Debug)]
    enum TestError {
        Storage(StorageError),
        Fault(String),
    }

    impl From<StorageError> for TestError {
        fn from(e: StorageError) -> Self {
            Self::Storage(e)
        }
    }

    impl From<RecordFault> for TestError {
        fn from(f: RecordFault) -> Self {
            Self::Fault(f.to_string())
        }
    }

    fn store() -> (
        tempfile::TempDir,
        std::sync::Arc<dyn coffer_storage::Storage>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let st = coffer_storage::open_embedded(&dir.path().join("db")).unwrap();
        (dir, st)
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sealed {
        #[serde(with = "b64")]
        data: Vec<u8>,
        #[serde(with = "b64_opt")]
        maybe: Option<Vec<u8>>,
    }

    #[test]
    fn bytes_are_base64_strings() {
        let v = Sealed {
            data: vec![0, 1, 2, 0xff],
            maybe: Some(b"hi".to_vec()),
        };
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"data":"AAEC/w==","maybe":"aGk="}"#);
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), v);
        let none = Sealed {
            data: Vec::new(),
            maybe: None,
        };
        let json = serde_json::to_string(&none).unwrap();
        assert_eq!(json, r#"{"data":"","maybe":null}"#);
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), none);
        assert!(serde_json::from_str::<Sealed>(r#"{"data":"!!","maybe":null}"#).is_err());
    }

    #[test]
    fn round_trip_and_scan() {
        let (_dir, st) = store();
        coffer_storage::write(st.as_ref(), |t| {
            for (k, n) in [("a/1", 1), ("a/2", 2), ("a/3", 3), ("b/1", 9)] {
                put::<_, TestError>(t, "t_recs", k, &Rec { n })?;
            }
            Ok::<_, TestError>(())
        })
        .unwrap();
        let (one, none, rows) = coffer_storage::read(st.as_ref(), |t| {
            let one = get::<Rec, TestError>(t, "t_recs", "a/1")?;
            let none = get::<Rec, TestError>(t, "t_recs", "a/9")?;
            let rows = scan::<Rec, TestError>(t, "t_recs", "a/", Some("a/1"), 10)?;
            Ok::<_, TestError>((one, none, rows))
        })
        .unwrap();
        assert_eq!(one, Some(Rec { n: 1 }));
        assert_eq!(none, None);
        assert_eq!(
            rows,
            vec![
                ("a/2".to_owned(), Rec { n: 2 }),
                ("a/3".to_owned(), Rec { n: 3 })
            ]
        );
        // The bytes on disk are plain JSON: what every record written so far looks like.
        let raw = coffer_storage::read(st.as_ref(), |t| t.get("t_recs", b"b/1")).unwrap();
        assert_eq!(raw.as_deref(), Some(&br#"{"n":9}"#[..]));
    }

    #[test]
    fn faults_name_the_table_and_storage_errors_pass_through() {
        let (_dir, st) = store();
        coffer_storage::write(st.as_ref(), |t| {
            t.put("t_recs", b"bad", b"{not json")?;
            t.put("t_recs", b"bad_key\xff", br#"{"n":1}"#)
        })
        .unwrap();
        let got = coffer_storage::read(st.as_ref(), |t| get::<Rec, TestError>(t, "t_recs", "bad"));
        assert!(
            matches!(&got, Err(TestError::Fault(m)) if m == "corrupt record in t_recs"),
            "{got:?}"
        );
        let scanned = coffer_storage::read(st.as_ref(), |t| {
            scan::<Rec, TestError>(t, "t_recs", "bad_", None, 10)
        });
        assert!(
            matches!(&scanned, Err(TestError::Fault(m)) if m == "corrupt key in t_recs"),
            "{scanned:?}"
        );
        let written = coffer_storage::read(st.as_ref(), |t| {
            put::<_, TestError>(t, "t_recs", "x", &Rec { n: 1 })
        });
        assert!(
            matches!(written, Err(TestError::Storage(StorageError::ReadOnly))),
            "{written:?}"
        );
    }
}
