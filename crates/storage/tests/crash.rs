//! Crash durability of the embedded adapter: a child process commits writes and prints each
//! key once `write` has returned; the parent SIGKILLs it mid-stream, reopens the file and checks
//! that every acknowledged key is there. Several rounds on one file, so later rounds also open a
//! file left behind by a killed writer.

// Test helpers outside #[test] fns fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use coffer_storage::{open_embedded, read, write};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "COFFER_STORAGE_CRASH_CHILD_PATH";
const ROUND_ENV: &str = "COFFER_STORAGE_CRASH_CHILD_ROUND";

/// The child: only does something when re-executed by the parent below.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let round = std::env::var(ROUND_ENV).unwrap();
    let s = open_embedded(Path::new(&path)).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let key = format!("r{round}-{i:08}");
        write(&*s, |txn| {
            txn.put("crash", key.as_bytes(), &[0xAB; 700])?;
            txn.put("crash_last", b"last", key.as_bytes())
        })
        .unwrap();
        writeln!(out, "ACK {key}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut all_acked: Vec<String> = Vec::new();
    for (round, kill_after) in [40usize, 7, 90].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked = Vec::new();
        let mut killed = false;
        // Keep reading after the kill: lines already written were acknowledged too.
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(key) = line.strip_prefix("ACK ") {
                acked.push(key.to_owned());
                if acked.len() == kill_after && !killed {
                    child.kill().unwrap(); // SIGKILL
                    killed = true;
                }
            }
        }
        let status = child.wait().unwrap();
        assert!(killed, "child exited on its own: {status:?}");
        assert!(!status.success());
        assert!(acked.len() >= kill_after);
        all_acked.extend(acked);

        let s = open_embedded(&path).unwrap();
        let missing: Vec<&String> = read(&*s, |txn| {
            let mut missing = Vec::new();
            for key in &all_acked {
                if txn.get("crash", key.as_bytes())?.is_none() {
                    missing.push(key);
                }
            }
            Ok::<_, coffer_storage::StorageError>(missing)
        })
        .unwrap();
        assert!(
            missing.is_empty(),
            "round {round}: lost acknowledged keys {missing:?}"
        );
    }
}
