//! Many loads at once into one table (issue #30): 16 `qimport --mode upsert` runs with
//! overlapping keys and 8 exports beside them. A run that loses a deadlock is tried again
//! (its input is a file), or fails whole, in one line, and changes nothing; every run that
//! succeeds is in the table; every export is one snapshot of the table.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::Workdir;

const RUNS: usize = 16;
const KEYS: u32 = 3_000;

/// Run `r`'s records: 1,000 keys of 1..=KEYS in an order of its own, each with a value
/// only this run writes for it.
fn records(r: usize) -> Vec<(u32, u64)> {
    let mut keys: Vec<u32> = (1..=KEYS).collect();
    let mut x = (r as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for i in (1..keys.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        keys.swap(i, (x % (i as u64 + 1)) as usize);
    }
    keys.truncate(1_000);
    keys.into_iter()
        .map(|k| (k, u64::from(k) * 100 + r as u64))
        .collect()
}

#[test]
fn concurrent_upserts_and_exports_keep_every_promise() {
    let wd = Workdir::new("concurrent");
    let db = TestDb::new("concurrent");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v BIGINT NOT NULL)");
    for r in 0..RUNS {
        let mut csv = String::from("id,v\n");
        for (k, v) in records(r) {
            writeln!(csv, "{k},{v}").unwrap();
        }
        wd.create(&format!("in{r}.csv"), csv);
    }
    let loads: Vec<_> = (0..RUNS)
        .map(|r| {
            wd.cmd("qimport")
                .args(["-q", "--url", &db.url, "--mode", "upsert", "t"])
                .arg(format!("in{r}.csv"))
                .spawn()
        })
        .collect();
    let exports: Vec<_> = (0..8)
        .map(|_| {
            wd.cmd("qexport")
                .args(["--url", &db.url, "t"])
                .spawn_piped()
        })
        .collect();
    let mut succeeded = Vec::new();
    for (r, child) in loads.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            succeeded.push(r);
        } else {
            // A deadlock or a lock wait lost: one line, nothing of this run kept.
            assert_eq!(out.status.code(), Some(2), "{r}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{r}: {err}");
            assert!(err.contains("is unchanged"), "{r}: {err}");
        }
    }
    assert!(!succeeded.is_empty());
    eprintln!("{} of {RUNS} upserts succeeded", succeeded.len());
    // Each row is a record some run wrote for its key, and each key of a run that
    // succeeded is there.
    let rows: Vec<(u32, u64)> = db.query("SELECT id, v FROM t");
    let table: HashMap<u32, u64> = rows.iter().copied().collect();
    assert_eq!(table.len(), rows.len());
    for (k, v) in &table {
        assert_eq!(v / 100, u64::from(*k), "{k}: {v}");
        assert!(
            succeeded.contains(&((v % 100) as usize)),
            "{k}: {v} of a failed run"
        );
    }
    for r in &succeeded {
        for (k, _) in records(*r) {
            assert!(table.contains_key(&k), "run {r}'s key {k} is missing");
        }
    }
    // Each export is one state of the table: whole records, each key once.
    for child in exports {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        let mut seen = HashSet::new();
        for line in csv.lines().skip(1) {
            let (k, v) = line.split_once(',').unwrap();
            let (k, v): (u32, u64) = (k.parse().unwrap(), v.parse().unwrap());
            assert!(seen.insert(k), "key {k} twice in one export");
            assert_eq!(v / 100, u64::from(k));
        }
    }
}
