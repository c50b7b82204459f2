//! A backup's objects: views, routines, triggers, events, sequences, MERGE tables and
//! generated columns come back in the target database, under the context they were made
//! in (sql_mode, time zone), in the order they need, with a missing DEFINER named.
//! See: #14 (7), #17, #24.

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::setup::database;
use crate::util::Workdir;

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

// See: #17 (4): a MERGE table's rows belong to its underlying tables: definition only.
#[test]
fn merge_tables_are_backed_up_as_definitions() {
    let wd = Workdir::new("trust_merge");
    let db = TestDb::new("trust_merge");
    db.exec(
        "CREATE TABLE p1 (id INT NOT NULL, KEY (id)) ENGINE=MyISAM; INSERT INTO p1 VALUES (1);
         CREATE TABLE p2 (id INT NOT NULL, KEY (id)) ENGINE=MyISAM; INSERT INTO p2 VALUES (2), (3);
         CREATE TABLE allp (id INT NOT NULL, KEY (id)) ENGINE=MERGE UNION=(p1, p2) INSERT_METHOD=LAST;",
    );
    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&[
            "allp: ENGINE=MRG_MyISAM keeps its rows in other tables",
            "3 rows backed up",
        ]);
    let target = TestDb::new("trust_merge_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    assert_eq!(target.count("allp"), 3);
    assert_eq!(target.count("p2"), 2);
}

// See: #17 (1): sequences (with their state) and system-versioned tables (with their
// history) are in --all, and a column default draws from the restored sequence.
#[test]
fn sequences_and_history_are_backed_up() {
    let wd = Workdir::new("trust_history");
    let db = TestDb::new("trust_history");
    db.exec(
        "CREATE SEQUENCE s START WITH 100 INCREMENT BY 5 CACHE 0;
         SELECT NEXTVAL(s);
         CREATE TABLE uses (id INT PRIMARY KEY DEFAULT NEXTVAL(s), x INT);
         INSERT INTO uses (x) VALUES (1);
         CREATE TABLE vt (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;
         INSERT INTO vt VALUES (1, 1), (2, 2);
         UPDATE vt SET v = 10 WHERE id = 1;
         DELETE FROM vt WHERE id = 2;
         CREATE TABLE vx (id INT PRIMARY KEY, v INT,
           s TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,
           e TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,
           PERIOD FOR SYSTEM_TIME (s, e)) WITH SYSTEM VERSIONING;
         INSERT INTO vx (id, v) VALUES (1, 1); UPDATE vx SET v = 2;",
    );
    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&["3 tables, 1 sequence, 6 rows backed up"]);
    let target = TestDb::new("trust_history_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    let history = |d: &TestDb, t: &str, cols: &str| -> Vec<(i32, i32, String, String)> {
        d.query(&format!(
            "SELECT id, v, CAST({cols} AS CHAR) FROM {t} FOR SYSTEM_TIME ALL ORDER BY 1, 4"
        ))
    };
    for (t, cols) in [
        ("vt", "row_start AS CHAR), CAST(row_end"),
        ("vx", "s AS CHAR), CAST(e"),
    ] {
        let h = history(&db, t, cols);
        assert!(h.len() >= 2, "{h:?}");
        assert_eq!(history(&target, t, cols), h, "{t}");
    }
    // The sequence goes on where it was, and the table draws from the restored one.
    let next = |d: &TestDb| d.query::<i64>("SELECT NEXTVAL(s)")[0];
    assert_eq!(next(&target), next(&db));
    target.exec("INSERT INTO uses (x) VALUES (2)");
    let ids: Vec<i64> = target.query("SELECT id FROM uses ORDER BY id");
    assert_eq!(ids, [105, 115]);
    let create: String = target.query::<(String, String)>("SHOW CREATE TABLE uses")[0]
        .1
        .clone();
    assert!(
        create.contains(&format!("nextval(`{}`.`s`)", target.name)),
        "{create}"
    );
}

// See: #17 (11): a source whose sql_mode has ANSI_QUOTES gives a schema.sql that restores.
#[test]
fn a_source_in_ansi_quotes_mode_restores() {
    use mysql::prelude::Queryable as _;
    let wd = Workdir::new("trust_ansi");
    let other = crate::util::server::PrivateServer::start(
        &wd.path().join("server"),
        "--sql-mode=ANSI_QUOTES,STRICT_TRANS_TABLES",
    )
    .unwrap_or_else(|e| panic!("a second private server did not start: {e}"));
    let mut c = mysql::Conn::new(
        mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&other.url).unwrap())
            .prefer_socket(false),
    )
    .unwrap();
    for sql in [
        "CREATE DATABASE src",
        "CREATE TABLE src.t (id INT PRIMARY KEY, \"odd name\" TEXT DEFAULT 'x')",
        "INSERT INTO src.t VALUES (1, 'a'), (2, 'b')",
        "CREATE VIEW src.v AS SELECT \"odd name\" AS n FROM src.t",
    ] {
        c.query_drop(sql).unwrap();
    }
    wd.cmd("qexport")
        .args([
            "-q",
            "--url",
            &format!("{}src", other.url),
            "--all",
            "-o",
            "bk",
        ])
        .ok();
    let schema = std::fs::read_to_string(wd.path().join("bk/schema.sql")).unwrap();
    assert!(schema.contains("`odd name`"), "{schema}");
    let m: serde_json::Value = crate::util::manifest(&wd.path().join("bk"));
    assert!(m["sql_mode"].as_str().unwrap().contains("ANSI_QUOTES"));
    let target = TestDb::new("trust_ansi_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    let v: Vec<String> = target.query("SELECT n FROM v ORDER BY n");
    assert_eq!(v, ["a", "b"]);
}

// See: #24 (2, 3, 12): a trigger created with qualified names and a view that names its
// database come back in the target, not the source, under another database's name; a
// database with no tables but views is backed up.
#[test]
fn objects_come_back_in_the_target_database() {
    let wd = Workdir::new("objects_qualified");
    let src = TestDb::new("objects_qualified");
    let n = &src.name;
    src.exec(&format!(
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');
         CREATE TRIGGER `{n}`.tr BEFORE INSERT ON `{n}`.t FOR EACH ROW SET NEW.v = UPPER(NEW.v);
         CREATE VIEW `{n}`.v AS SELECT `{n}`.t.id, `{n}`.t.v FROM `{n}`.t;"
    ));
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok();
    let schema = std::fs::read_to_string(wd.path().join("bk/schema.sql")).unwrap();
    assert!(
        !schema.contains(&format!("`{n}`.")) && !schema.contains(&format!("{n}.")),
        "{schema}"
    );
    let copy = TestDb::new("objects_qualified_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &copy.url, "--dir", "bk"])
        .ok();
    let triggers = |d: &TestDb| {
        d.query::<u64>(&format!(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{}'",
            d.name
        ))[0]
    };
    assert_eq!((triggers(&src), triggers(&copy)), (1, 1));
    copy.exec("INSERT INTO t VALUES (2, 'b');");
    let rows: Vec<(i32, String)> = copy.query("SELECT id, v FROM v ORDER BY id");
    assert_eq!(rows, [(1, "a".into()), (2, "B".into())]);
    assert_eq!(src.count("t"), 1);
    // A database of views only.
    let views = TestDb::new("objects_views_only");
    views.exec("CREATE VIEW one AS SELECT 1 AS x;");
    wd.cmd("qexport")
        .args(["-q", "--url", &views.url, "--all", "-o", "bv"])
        .ok();
    let back = TestDb::new("objects_views_only_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &back.url, "--dir", "bv"])
        .ok();
    assert_eq!(back.query::<i32>("SELECT x FROM one"), [1]);
}

// See: #24 (5, 11): an event keeps the time zone it was made under (its schedule's
// clock); views are created after the views they read, a column named like a view
// notwithstanding.
#[test]
fn events_keep_their_clock_and_views_their_order() {
    let wd = Workdir::new("objects_context");
    let src = TestDb::new("objects_context");
    src.exec(
        "SET SESSION time_zone = '+05:00';
         CREATE EVENT e ON SCHEDULE AT '2030-01-01 10:00:00' DO SELECT 1;
         SET SESSION time_zone = 'SYSTEM';
         CREATE EVENT s ON SCHEDULE AT '2030-01-01 10:00:00' DO SELECT 1;
         SET SESSION time_zone = '+00:00';
         CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (7);
         CREATE VIEW z_base AS SELECT id AS region FROM t;
         CREATE VIEW region AS SELECT region AS id FROM z_base;",
    );
    // (Hostile review.) The server's own clock is another server's other clock: an event
    // kept by SYSTEM is backed up by its offset now (the test servers run in UTC).
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&[
            "the event s keeps time by the server's own clock",
            "as +00:00",
        ]);
    let copy = TestDb::new("objects_context_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &copy.url, "--dir", "bk"])
        .ok();
    let event = |d: &TestDb| -> Vec<(String, String)> {
        d.query(&format!(
            "SELECT TIME_ZONE, CAST(EXECUTE_AT AS CHAR) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{}' ORDER BY EVENT_NAME",
            d.name
        ))
    };
    assert_eq!(event(&copy)[0], event(&src)[0]);
    assert_eq!(event(&copy)[0].0, "+05:00");
    assert_eq!(
        event(&copy)[1],
        ("+00:00".to_owned(), event(&src)[1].1.clone())
    );
    assert_eq!(copy.query::<i32>("SELECT id FROM region"), [7]);
}

// See: #24 (14): a DEFINER that has no account on the target is named at restore time;
// --definer current-user makes the restoring user the definer, and the view works.
#[test]
fn a_missing_definer_is_named() {
    let wd = Workdir::new("objects_definer");
    let src = TestDb::new("objects_definer");
    let ghost = format!("g{}", &src.name[src.name.len() - 6..]).replace('_', "");
    let mut c = src.conn();
    c.query_drop(format!("CREATE USER '{ghost}'@'%'")).unwrap();
    c.query_drop(format!("GRANT SELECT ON `{}`.* TO '{ghost}'@'%'", src.name))
        .unwrap();
    // And a role as a definer (hostile review: it was not named, nor rewritten).
    let role = format!("r{ghost}");
    c.query_drop(format!("CREATE ROLE {role}")).unwrap();
    c.query_drop(format!("GRANT SELECT ON `{}`.* TO {role}", src.name))
        .unwrap();
    src.exec(&format!(
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);
         CREATE DEFINER = '{ghost}'@'%' VIEW v AS SELECT id FROM t;
         CREATE DEFINER = {role} VIEW vr AS SELECT id FROM t;"
    ));
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok();
    c.query_drop(format!("DROP USER '{ghost}'@'%'")).unwrap();
    c.query_drop(format!("DROP ROLE {role}")).unwrap();
    let copy = TestDb::new("objects_definer_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &copy.url, "--dir", "bk"])
        .ok()
        .stderr_has(&[
            &format!("the view v ('{ghost}'@'%')"),
            &format!("the view vr (the role '{role}')"),
            "ERROR 1449",
            "--definer current-user",
        ]);
    let fixed = TestDb::new("objects_definer_f");
    wd.cmd("qimport")
        .args([
            "-q",
            "--url",
            &fixed.url,
            "--dir",
            "bk",
            "--definer",
            "current-user",
        ])
        .ok()
        .stderr_empty();
    assert_eq!(fixed.query::<i32>("SELECT id FROM v"), [1]);
    assert_eq!(fixed.query::<i32>("SELECT id FROM vr"), [1]);
}

// See: #24 (hostile review): a qualifier is taken off only where it can only name the
// database. A table named like its database (`orders`.`orders`), whose columns views and
// routines name as `orders.id`, keeps its meaning: a view answers as on the source; a
// routine whose body says `CALL db.p()` or `INSERT INTO db.t` is rewritten; one that
// says `db.id` (a column of the table db, or the database?) is refused by name under
// another database's name, and restores as it is under its own.
#[test]
fn a_table_named_like_its_database_keeps_its_meaning() {
    let wd = Workdir::new("objects_same_name");
    let src = TestDb::new("objects_same_name");
    let n = src.name.clone();
    src.exec(&format!(
        "CREATE TABLE `{n}` (id INT PRIMARY KEY, cust INT); CREATE TABLE items (id INT PRIMARY KEY, order_id INT, qty INT);
         INSERT INTO `{n}` VALUES (1, 10), (2, 20); INSERT INTO items VALUES (1, 1, 5), (2, 1, 6), (3, 2, 7);
         CREATE VIEW v AS SELECT `{n}`.id FROM `{n}` WHERE EXISTS (SELECT 1 FROM items WHERE items.id = `{n}`.id AND items.qty = 6);
         CREATE PROCEDURE p2() SELECT 1;
         CREATE PROCEDURE p() BEGIN CALL `{n}`.p2(); INSERT INTO `{n}`.items VALUES (9, 9, 9); END;"
    ));
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok();
    let copy = TestDb::new("objects_same_name_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &copy.url, "--dir", "bk"])
        .ok();
    assert_eq!(
        copy.query::<i32>("SELECT id FROM v"),
        src.query::<i32>("SELECT id FROM v")
    );
    copy.exec("CALL p()");
    assert_eq!((copy.count("items"), src.count("items")), (4, 3));
    // A body that names `db.id`.
    src.exec(&format!(
        "CREATE FUNCTION f() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM `{n}` JOIN items ON items.order_id = `{n}`.id WHERE `{n}`.cust = 10);"
    ));
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk2"])
        .ok();
    let other = TestDb::new("objects_same_name_o");
    wd.cmd("qimport")
        .args(["--url", &other.url, "--dir", "bk2"])
        .fails(2)
        .stderr_has(&[
            "the function f",
            &format!("{n}.id, {n}.cust could name the database {n}"),
            "restore it into a database named",
        ]);
    let tables: Vec<String> = other.query("SHOW TABLES");
    assert!(tables.is_empty(), "{tables:?}");
    // Under its own name (the source gone), as it is.
    let want: Vec<i32> = src.query("SELECT f()");
    src.exec(&format!(
        "DROP DATABASE `{n}`; CREATE DATABASE `{n}`; USE `{n}`;"
    ));
    wd.cmd("qimport")
        .args(["-q", "--url", &src.url, "--dir", "bk2"])
        .ok();
    assert_eq!(src.query::<i32>("SELECT f()"), want);
}

// See: #24 (hostile review): a view that does not work on the source (its table dropped
// since) is said when the backup is taken, and again by the restore that cannot make it.
#[test]
fn a_view_that_does_not_work_is_said() {
    let wd = Workdir::new("objects_broken_view");
    let src = TestDb::new("objects_broken_view");
    src.exec("CREATE TABLE t (id INT); CREATE VIEW v AS SELECT id FROM t; DROP TABLE t; CREATE TABLE u (id INT);");
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&[
            "the view v does not work here",
            "a restore that cannot make it fails",
        ]);
    assert!(crate::util::manifest(&wd.path().join("bk"))["warnings"]
        .to_string()
        .contains("the view v"));
    let copy = TestDb::new("objects_broken_view_r");
    wd.cmd("qimport")
        .args(["--url", &copy.url, "--dir", "bk"])
        .fails(2)
        .stderr_has(&["says: the view v does not work here", "creating the view v"]);
}

// See: #24 (hostile review, round 2): a function named like a built-in, called by its
// qualified name, stays that function under another database's name: in a routine's body
// and in a view (which the server writes with the qualified call).
#[test]
fn a_function_named_like_a_built_in_stays_itself() {
    let wd = Workdir::new("objects_builtin_name");
    let src = TestDb::new("objects_builtin_name");
    let n = src.name.clone();
    src.exec(&format!(
        "CREATE TABLE t (id INT PRIMARY KEY, c VARCHAR(20)); INSERT INTO t VALUES (1, 'Hello');
         CREATE FUNCTION `lower`(s VARCHAR(20)) RETURNS VARCHAR(30) DETERMINISTIC RETURN CONCAT('custom:', s);
         CREATE FUNCTION f_fn() RETURNS VARCHAR(50) READS SQL DATA RETURN (SELECT `{n}`.lower(c) FROM t WHERE id = 1);
         CREATE VIEW v_fn AS SELECT id, `{n}`.lower(c) AS lc FROM t;"
    ));
    wd.cmd("qexport")
        .args(["-q", "--url", &src.url, "--all", "-o", "bk"])
        .ok();
    let copy = TestDb::new("objects_builtin_name_r");
    wd.cmd("qimport")
        .args(["-q", "--url", &copy.url, "--dir", "bk"])
        .ok();
    assert_eq!(copy.query::<String>("SELECT f_fn()"), ["custom:Hello"]);
    assert_eq!(
        copy.query::<String>("SELECT lc FROM v_fn"),
        ["custom:Hello"]
    );
    // The copy's view calls the copy's function, not the source's.
    src.exec("DROP FUNCTION `lower`;");
    assert_eq!(
        copy.query::<String>("SELECT lc FROM v_fn"),
        ["custom:Hello"]
    );
}
