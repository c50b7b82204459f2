//! Regression tests for the data-safety defects of #14: each flag combination keeps the
//! promises (an export never writes, an import touches only its table and loads exactly
//! what -j 1 would), or is refused with a one-line reason.

use crate::util::db::TestDb;
use crate::util::setup::database;

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
