//! Regression tests for the data-safety defects of #14: each flag combination keeps the
//! promises (an export never writes, an import touches only its table and loads exactly
//! what -j 1 would), or is refused with a one-line reason.

use crate::util::db::TestDb;
use crate::util::Workdir;

fn setup(test: &str, sql: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(sql);
    (Workdir::new(test), db)
}

fn tables(db: &TestDb) -> Vec<String> {
    db.query(&format!(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' ORDER BY 1",
        db.name
    ))
}

// See: #14 (1): --where and -e cannot run other statements, and an export never writes.
#[test]
fn an_export_runs_one_statement_and_never_writes() {
    let (wd, db) = setup(
        "safety_sql",
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(50));
         INSERT INTO users VALUES (1, 'a@x'), (2, 'b@y');
         CREATE TABLE victim (a INT);",
    );
    let url = db.url.as_str();
    let inject = format!("1) ORDER BY id; DROP TABLE {}.victim; SELECT (1", db.name);
    wd.cmd("qexport")
        .args(["--url", url, "--where", &inject, "users"])
        .fails(2)
        .stderr_has(&["--where: a ';' is not allowed here"]);
    wd.cmd("qexport")
        .args([
            "--url",
            url,
            "--where",
            "1) UNION SELECT 1, 2 FROM victim WHERE (1",
            "users",
        ])
        .fails(2)
        .stderr_has(&["--where: a ')' closes a parenthesis it did not open"]);
    wd.cmd("qexport")
        .args(["--url", url, "--order-by", "id; DROP TABLE victim", "users"])
        .fails(2)
        .stderr_has(&["--order-by: a ';' is not allowed"]);
    wd.cmd("qexport")
        .args(["--url", url, "-e", "SELECT 1; CREATE TABLE x (a int)"])
        .fails(2)
        .stderr_has(&["-e: one SQL statement only"]);
    // One statement that writes: refused by the server, nothing changes.
    for sql in [
        "DELETE FROM users WHERE id = 1",
        "CREATE TABLE x (a int)",
        "DROP TABLE victim",
        "INSERT INTO users VALUES (3, 'c')",
    ] {
        wd.cmd("qexport")
            .args(["--url", url, "-e", sql])
            .fails(2)
            .stderr_has(&["READ ONLY transaction"]);
    }
    assert_eq!(tables(&db), ["users", "victim"]);
    assert_eq!(db.count("users"), 2);
    // Quoted semicolons and parentheses are fine.
    wd.cmd("qexport")
        .args([
            "--url",
            url,
            "--where",
            "email <> ';)' AND (id > 1)",
            "users",
        ])
        .ok()
        .stdout_is("id,email\n2,b@y\n");
    wd.cmd("qexport")
        .args(["--url", url, "-e", "SELECT ';' AS s;"])
        .ok()
        .stdout_is("s\n;\n");
}

// See: #14 (2): -j N cannot keep the rows -j 1 keeps for repeated keys: refused.
#[test]
fn parallel_import_refuses_modes_that_depend_on_input_order() {
    let (wd, db) = setup(
        "safety_jmode",
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT);",
    );
    let csv = "id,v\n1,first\n2,first\n1,second\n2,second\n";
    let f = wd.create("t.csv", csv);
    for mode in ["replace", "ignore", "upsert"] {
        wd.cmd("qimport")
            .args(["--url", &db.url, "-j", "2", "--mode", mode, "t"])
            .arg(&f)
            .fails(2)
            .stderr_has(&[
                &format!("-j 2 with --mode {mode}: a key repeated"),
                "load with -j 1",
            ]);
    }
    assert_eq!(db.count("t"), 0);
    // -j 1 keeps the later record for replace and upsert, the earlier for ignore.
    for (mode, want) in [
        ("replace", "second"),
        ("upsert", "second"),
        ("ignore", "first"),
    ] {
        db.exec("DELETE FROM t");
        for method in ["load-data", "insert"] {
            db.exec("DELETE FROM t");
            wd.cmd("qimport")
                .args(["--url", &db.url, "--mode", mode, "--method", method, "t"])
                .arg(&f)
                .ok();
            let got: Vec<(i32, String)> = db.query("SELECT id, v FROM t ORDER BY id");
            assert_eq!(got, [(1, want.into()), (2, want.into())], "{mode} {method}");
        }
    }
}

// See: #14 (9): upsert with LOAD DATA takes a file that repeats a key; the later record wins.
#[test]
fn upsert_takes_repeated_keys_with_every_method() {
    let (wd, db) = setup(
        "safety_upsert",
        "CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(20) UNIQUE, v TEXT, n INT DEFAULT 7);
         INSERT INTO t VALUES (1, 'a', 'old', 1), (5, 'e', 'keep', 5);",
    );
    let csv = "id,email,v\n1,a,one\n2,b,two\n1,a,uno\n3,c,three\n2,b,dos\n";
    for method in ["load-data", "insert"] {
        wd.cmd("qimport")
            .args([
                "--url", &db.url, "--mode", "upsert", "--method", method, "t",
            ])
            .stdin(csv)
            .ok();
        let got: Vec<(i32, String, String, i32)> =
            db.query("SELECT id, email, v, n FROM t ORDER BY id");
        assert_eq!(
            got,
            [
                (1, "a".into(), "uno".into(), 1),
                (2, "b".into(), "dos".into(), 7),
                (3, "c".into(), "three".into(), 7),
                (5, "e".into(), "keep".into(), 5)
            ],
            "{method}"
        );
        db.exec("DELETE FROM t WHERE id IN (2, 3); UPDATE t SET v = 'old' WHERE id = 1;");
    }
}

const FAMILY: &str = "CREATE TABLE parent (id INT PRIMARY KEY, v TEXT);
CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1, 'a'), (2, 'b');
INSERT INTO child VALUES (10, 1), (20, 2);";

// See: #14 (3): --truncate and --mode replace never delete other tables' rows by a cascade.
#[test]
fn deletes_that_cascade_into_other_tables_need_a_flag() {
    let (wd, db) = setup("safety_cascade", FAMILY);
    let csv = "id,v\n1,A\n2,B\n";
    for flags in [
        &["--truncate"][..],
        &["--truncate", "-j", "2"],
        &["--mode", "replace"],
    ] {
        let run = wd
            .cmd("qimport")
            .args(["--url", &db.url])
            .args(flags)
            .arg("parent")
            .stdin(csv)
            .fails(2);
        let err = run.stderr();
        assert!(
            err.contains("child (") && err.contains("--cascade-deletes"),
            "{}",
            run.report()
        );
        assert_eq!(err.lines().count(), 1, "{}", run.report());
        assert_eq!(db.count("child"), 2);
    }
    // Asked for explicitly, the foreign key's action runs.
    wd.cmd("qimport")
        .args([
            "--url",
            &db.url,
            "--truncate",
            "--cascade-deletes",
            "parent",
        ])
        .stdin(csv)
        .ok();
    assert_eq!(db.count("parent"), 2);
    assert_eq!(db.count("child"), 0);
    // upsert touches no other table: allowed.
    db.exec("INSERT INTO child VALUES (10, 1)");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--mode", "upsert", "parent"])
        .stdin("id,v\n1,x\n")
        .ok();
    assert_eq!(db.count("child"), 1);
}

// See: #14 (4): --swap would move foreign keys and triggers with the old table: refused.
#[test]
fn swap_refuses_tables_with_foreign_keys_or_triggers() {
    let (wd, db) = setup("safety_swap", FAMILY);
    db.exec(
        "CREATE TABLE solo (id INT PRIMARY KEY, v TEXT);
         CREATE TABLE log (msg TEXT);
         CREATE TRIGGER solo_ai AFTER INSERT ON solo FOR EACH ROW INSERT INTO log VALUES (NEW.v);",
    );
    for (table, what) in [
        ("parent", "the foreign key of"),
        ("child", "its foreign key"),
        ("solo", "its trigger solo_ai"),
    ] {
        wd.cmd("qimport")
            .args(["--url", &db.url, "--swap", table])
            .stdin("id,v\n1,x\n")
            .fails(2)
            .stderr_has(&["--swap would break", what, "--truncate instead"]);
    }
    assert_eq!(tables(&db), ["child", "log", "parent", "solo"]);
    let triggers: Vec<String> = db.query(&format!(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = '{}'",
        db.name
    ));
    assert_eq!(triggers, ["solo_ai"]);
    assert_eq!(db.count("parent"), 2);
    assert_eq!(db.count("child"), 2);
}
