//! `qexport -j N` and `--shard K/N`: -j N is byte-identical to -j 1, and the pieces of
//! --shard concatenate to the whole table, for integer, composite and string keys.

use crate::util::db::TestDb;
use crate::util::Workdir;

/// Tables with awkward keys: sparse integers, a composite key, a case-insensitive string
/// key with mixed case and accents (collation order is not byte order), and no key at all.
fn tables(test: &str) -> TestDb {
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE ints (id BIGINT PRIMARY KEY, v VARCHAR(20));
         INSERT INTO ints SELECT seq * seq, CONCAT('v', seq) FROM seq_1_to_3000;
         INSERT INTO ints VALUES (-5, 'neg'), (9000000000000, 'far');
         CREATE TABLE comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
         INSERT INTO comp SELECT seq % 7, CONCAT('k', seq), seq FROM seq_1_to_2000;
         CREATE TABLE strs (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT)
           CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
         INSERT INTO strs SELECT CONCAT(ELT(1 + seq % 6, 'a', 'B', 'é', 'Z', 'ä', '_'), seq), seq FROM seq_1_to_2500;
         CREATE TABLE nokey (v INT);
         INSERT INTO nokey SELECT seq FROM seq_1_to_100;",
    );
    db.exec("ANALYZE TABLE ints, comp, strs;");
    db
}

fn export(wd: &Workdir, db: &TestDb, args: &[&str]) -> String {
    wd.cmd("qexport")
        .args(["--url", &db.url])
        .args(args)
        .ok()
        .stdout()
}

#[test]
fn jobs_output_is_byte_identical() {
    let wd = Workdir::new("parallel_jobs");
    let db = tables("parallel_jobs");
    for t in ["ints", "comp", "strs"] {
        let one = export(&wd, &db, &["-j", "1", t]);
        assert!(one.lines().count() > 2000, "{t}");
        for j in ["2", "3", "8"] {
            assert_eq!(export(&wd, &db, &["-j", j, t]), one, "table {t}, -j {j}");
        }
        let filtered = export(
            &wd,
            &db,
            &["-j", "1", "--where", "v LIKE '%7%' OR v < 50", t],
        );
        assert_eq!(
            export(
                &wd,
                &db,
                &["-j", "3", "--where", "v LIKE '%7%' OR v < 50", t]
            ),
            filtered,
            "table {t} with --where"
        );
    }
}

#[test]
fn table_without_key_falls_back_and_says_so() {
    let wd = Workdir::new("parallel_nokey");
    let db = tables("parallel_nokey");
    let r = wd
        .cmd("qexport")
        .args(["--url", &db.url, "-j", "4", "nokey"])
        .ok()
        .stderr_has(&[
            "nokey has no primary or unique NOT NULL key: exporting over one connection",
        ]);
    assert_eq!(r.stdout().lines().count(), 101);
    wd.cmd("qexport")
        .args(["--url", &db.url, "--shard", "1/2", "nokey"])
        .fails(2)
        .stderr_has(&["--shard needs a key to split on"]);
}

#[test]
fn shards_concatenate_to_the_whole_table() {
    let wd = Workdir::new("parallel_shards");
    let db = tables("parallel_shards");
    for t in ["ints", "comp", "strs"] {
        let whole = export(&wd, &db, &[t]);
        for n in [1, 2, 3, 7] {
            let mut joined = String::new();
            for k in 1..=n {
                joined.push_str(&export(&wd, &db, &["--shard", &format!("{k}/{n}"), t]));
            }
            assert_eq!(joined, whole, "table {t}, {n} shards");
        }
        // Shards can be read in parallel themselves.
        let mut joined = String::new();
        for k in 1..=3 {
            joined.push_str(&export(
                &wd,
                &db,
                &["-j", "2", "--shard", &format!("{k}/3"), t],
            ));
        }
        assert_eq!(joined, whole, "table {t}, shards with -j 2");
    }
}

#[test]
fn more_shards_than_rows() {
    let wd = Workdir::new("parallel_tiny");
    let db = TestDb::new("parallel_tiny");
    db.exec(
        "CREATE TABLE t (k VARCHAR(5) PRIMARY KEY); INSERT INTO t VALUES ('a'), ('b');
         CREATE TABLE n (id INT PRIMARY KEY); INSERT INTO n VALUES (1), (2);",
    );
    for t in ["t", "n"] {
        let whole = export(&wd, &db, &[t]);
        let joined: String = (1..=5)
            .map(|k| export(&wd, &db, &["--shard", &format!("{k}/5"), t]))
            .collect();
        assert_eq!(joined, whole, "{t}");
    }
}

#[test]
fn consistent_snapshot_with_jobs() {
    let wd = Workdir::new("parallel_consistent");
    let db = tables("parallel_consistent");
    let one = export(&wd, &db, &["ints"]);
    assert_eq!(export(&wd, &db, &["-j", "3", "--consistent", "ints"]), one);
}

#[test]
fn shard_arguments_are_checked() {
    let wd = Workdir::new("parallel_args");
    for bad in ["0/2", "3/2", "x", "1/0"] {
        wd.cmd("qexport")
            .args(["--url", "mysql://u@127.0.0.1:1/d", "--shard", bad, "t"])
            .fails(2)
            .stderr_has(&["K/N"]);
    }
}
