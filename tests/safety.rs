//! Regression tests for the data-safety defects of #14: each flag combination keeps the
//! promises (an export never writes, an import touches only its table and loads exactly
//! what -j 1 would), or is refused with a one-line reason.

use crate::util::db::TestDb;
use crate::util::setup::database;
use crate::util::Workdir;

/// A condition that fails with ERROR 1242 once the export passes id 30000 (the rows
/// before it are already on their way).
pub const FAILS_LATE: &str =
    "(SELECT t.seq FROM seq_1_to_2 t WHERE big.id > 30000 OR t.seq = 1) = 1";

// See: #14 (5): an export that dies mid-stream ends its output with a record no CSV reader
// takes as complete, so `qexport | qimport` fails and loads nothing.
#[test]
fn an_export_that_fails_midway_cannot_be_loaded_as_whole() {
    let (wd, db) = database(
        "safety_truncated",
        "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO big SELECT seq, 'x' FROM seq_1_to_40000;
         CREATE TABLE copy LIKE big;",
    );
    let script = format!(
        "qexport --url '{u}' --where '{FAILS_LATE}' big | qimport --url '{u}' copy",
        u = db.url
    );
    let run = wd.sh(&script).fails(2);
    let err = run.stderr();
    assert!(err.contains("qexport: reading rows"), "{}", run.report());
    assert!(
        err.contains("qimport: stdin:") && err.contains("never closed"),
        "{}",
        run.report()
    );
    assert_eq!(db.count("copy"), 0);
    // The stream's last bytes name the failure in an unterminated field.
    let out = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--where", FAILS_LATE, "big"])
        .fails(2);
    let tail = out.stdout();
    let last = tail.lines().last().unwrap();
    assert!(
        last.starts_with("\"qexport: failed: ") && last.contains("ERROR 1242"),
        "{last}"
    );
    assert!(tail.lines().count() > 1000);
    // With -j 2 the key ranges are planned with the condition, which fails before a byte is
    // written: the mark alone, and nothing loaded either. See: #23 (2).
    let script = script.replace("qexport ", "qexport -j 2 ");
    wd.sh(&script).fails(2).stderr_has(&["qimport: stdin:1:"]);
    assert_eq!(db.count("copy"), 0);
    // Nothing written yet: the mark alone (with -n, an empty stream would load as no rows).
    let out = wd
        .cmd("qexport")
        .args(["--url", &db.url, "-e", "SELECT * FROM nowhere"])
        .fails(2)
        .stdout();
    assert!(out.starts_with("\"qexport: failed: -e: Table"), "{out}");
}

/// The definitions of a database's views, routines, triggers and events, without its name.
fn definitions(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    let names: Vec<(String, String)> = db.query(&format!(
        "SELECT 'VIEW', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '{d}'
         UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{d}'
         UNION ALL SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{d}'
         UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{d}'
         ORDER BY 1, 2",
        d = db.name
    ));
    let mut c = db.conn();
    for (kind, name) in names {
        use mysql::prelude::Queryable as _;
        let row: mysql::Row = c
            .query_first(format!("SHOW CREATE {kind} `{name}`"))
            .unwrap()
            .unwrap();
        let text: Vec<String> = (0..row.len())
            .filter_map(|i| {
                row.get_opt::<Option<String>, usize>(i)
                    .and_then(Result::ok)
                    .flatten()
            })
            .filter(|v| v.contains("CREATE"))
            .collect();
        out.push(format!("{kind} {name}: {}", text.join(" ")));
    }
    out
}

// See: #14 (7) and (8): generated columns and every object of the database survive
// a backup and its restore; triggers do not fire on the restored rows.
#[test]
fn backups_keep_views_routines_triggers_events_and_generated_columns() {
    let (wd, db) = database(
        "safety_objects",
        "CREATE TABLE t (id INT PRIMARY KEY, price DECIMAL(8,2), qty INT,
           total DECIMAL(10,2) AS (price * qty) STORED, label VARCHAR(20) AS (CONCAT('#', id)) VIRTUAL);
         CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(50));
         INSERT INTO t (id, price, qty) VALUES (1, 2.50, 4), (2, 1.00, 3);
         INSERT INTO log (msg) VALUES ('before');
         CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
         CREATE PROCEDURE note(m VARCHAR(50)) BEGIN INSERT INTO log (msg) VALUES (m); INSERT INTO log (msg) VALUES (';'); END;
         CREATE VIEW v_b AS SELECT id, twice(qty) AS q2 FROM t;
         CREATE VIEW v_a AS SELECT id FROM v_b WHERE q2 > 6;
         CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO log (msg) VALUES (CONCAT('insert ', NEW.id)); END;
         CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO CALL note('nightly');",
    );
    // A table export leaves generated columns out, so it loads back as it is.
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    assert_eq!(csv, "id,price,qty\n1,2.50,4\n2,1.00,3\n");
    let target = TestDb::new("safety_objects_target");
    target.exec(&format!("CREATE TABLE t2 LIKE {}.t", db.name));
    wd.cmd("qimport")
        .args(["--url", &target.url, "t2"])
        .stdin(&csv)
        .ok();
    let got: Vec<(i32, String, String)> =
        target.query("SELECT id, CAST(total AS CHAR), label FROM t2 ORDER BY id");
    assert_eq!(
        got,
        [
            (1, "10.00".into(), "#1".into()),
            (2, "3.00".into(), "#2".into())
        ]
    );
    target.exec("DROP TABLE t2");

    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&[
            "2 tables, 2 views, 1 function, 1 procedure, 1 trigger, 1 event, 3 rows backed up",
        ]);
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .ok()
        .stderr_has(&["2 tables and 6 other objects, 3 rows restored"]);
    assert_eq!(definitions(&target), definitions(&db));
    for t in ["t", "log"] {
        assert_eq!(target.checksum(t), db.checksum(t), "{t}");
    }
    // The trigger came after the data (the log has no 'insert' rows) and works.
    target.exec("INSERT INTO t (id, price, qty) VALUES (3, 1, 1); CALL note('hi');");
    let log: Vec<String> = target.query("SELECT msg FROM log ORDER BY id");
    assert_eq!(log, ["before", "insert 3", "hi", ";"]);
    let v: Vec<i32> = target.query("SELECT id FROM v_a");
    assert_eq!(v, [1]);
    // A second restore into the same database is refused before anything changes.
    target.exec("DROP TABLE t, log");
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .fails(2)
        .stderr_has(&["exists: restore into a database without the backup's objects"]);
    assert!(target.tables().iter().all(|t| t.starts_with("v_")));
}

// See: #14 (13): NULL markers that are CSV structure are refused by every tool.
#[test]
fn null_markers_that_break_the_csv_are_refused() {
    let wd = Workdir::new("safety_null");
    for tool in ["qgrep", "qcount", "qexport", "qimport"] {
        for bad in ["x,y", "\"", "a\nb"] {
            let mut c = wd.cmd(tool).args(["--null", bad]);
            c = match tool {
                "qgrep" => c.arg("x"),
                "qexport" | "qimport" => c.args(["-D", "d", "t"]),
                _ => c,
            };
            c.stdin("a\n")
                .fails(2)
                .stderr_has(&["--null", "a NULL marker cannot hold"]);
        }
    }
}

// See: #14 (smaller ones): qgrep, qcount and the messages of qimport.
#[test]
fn small_refusals_and_true_messages() {
    let (wd, db) = database(
        "safety_small",
        "CREATE TABLE t (id INT PRIMARY KEY, v LONGTEXT);
         INSERT INTO t VALUES (1, 'old');",
    );
    wd.create("a.csv", "id,name\n1,x\n");
    wd.create("b.csv", "name,id\ny,2\n");
    wd.cmd("qgrep")
        .args(["-v", "zzz", "a.csv", "b.csv"])
        .fails(2)
        .stderr_has(&["b.csv: its header differs from a.csv's"]);
    wd.cmd("qgrep")
        .args(["-s", "99", "x", "a.csv"])
        .fails(2)
        .stderr_has(&["column 99 is past the last one (the records have 2 columns)"]);
    wd.cmd("qgrep")
        .args(["-e", "ok", "-e", "ab[", "a.csv"])
        .fails(2)
        .stderr_has(&["invalid pattern \"ab[\": unclosed character class"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("18446744073709551615\n1\n")
        .fails(2)
        .stderr_has(&["the counts add up past 18446744073709551615"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("k,count\na,18446744073709551615\nk,count\na,1\n")
        .fails(2)
        .stderr_has(&["the counts add up past"]);
    // --mode ignore says how many rows it loaded, not how many it read.
    for method in ["load-data", "insert"] {
        db.exec("DELETE FROM t WHERE id > 1");
        wd.cmd("qimport")
            .args([
                "--url", &db.url, "--mode", "ignore", "--method", method, "t",
            ])
            .stdin("id,v\n1,new\n2,two\n2,deux\n")
            .ok()
            .stderr_has(&["t: 1 row loaded", "; 2 duplicates skipped"]);
    }
    // Ragged records are bad records, not "bad values".
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,v\n5\n6\n")
        .fails(2)
        .stderr_has(&["2 bad records;"]);
    // A value INSERT cannot send is named as such, not as a lost connection.
    let big = format!("id,v\n7,{}\n", "x".repeat(17 << 20));
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "t"])
        .stdin(&big)
        .fails(2)
        .stderr_has(&[
            "stdin:2: column \"v\"",
            "more than the server's max_allowed_packet",
        ]);
    // A driver error reads as words.
    let (host, _) = db.host_port();
    wd.cmd("qexport")
        .args(["-h", &host, "-P", "1", "-u", "root", "-D", "x", "t"])
        .fails(2)
        .stderr_has(&["Could not connect to address"]);
    assert!(!wd
        .cmd("qexport")
        .args(["-h", &host, "-P", "1", "-u", "root", "-D", "x", "t"])
        .fails(2)
        .stderr()
        .contains("DriverError"));
}
