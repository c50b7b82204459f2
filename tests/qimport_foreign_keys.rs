//! Foreign keys still act during an import: --truncate, --mode replace and upsert are
//! refused where a key's action could change another table's rows (or rows of the table
//! the input does not hold), seen or not, unless --cascade.

use crate::util::db::TestDb;
use crate::util::setup::{database, FAMILY};
use crate::util::Workdir;

// See: #14 (3): --truncate and --mode replace never delete other tables' rows by a cascade.
#[test]
fn deletes_that_cascade_into_other_tables_need_a_flag() {
    let (wd, db) = database("safety_cascade", FAMILY);
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
            err.contains("child (") && err.contains("--cascade"),
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

/// A user with every privilege on `db` alone, and a child table in another database
/// that it cannot see, whose foreign key cascades.
fn hidden_child(test: &str) -> (Workdir, TestDb, TestDb, String) {
    let wd = Workdir::new(test);
    let db = TestDb::new(test);
    let other = TestDb::new(&format!("{test}_o"));
    db.exec(
        "CREATE TABLE parent (id INT PRIMARY KEY, code VARCHAR(10) UNIQUE, v TEXT);
         INSERT INTO parent VALUES (1, 'a', 'x'), (2, 'b', 'y');",
    );
    other.exec(&format!(
        "CREATE TABLE child (id INT PRIMARY KEY, code VARCHAR(10),
           FOREIGN KEY (code) REFERENCES `{}`.parent (code) ON DELETE CASCADE ON UPDATE CASCADE);
         INSERT INTO child VALUES (10, 'a'), (20, 'b');",
        db.name
    ));
    let (_, url) = db.user("pw-foreign-keys");
    (wd, db, other, url)
}

// See: #23 (3): a child table in a database the user cannot see: --truncate and replace
// are refused (it cannot know), with or without -j; root (PROCESS) is told the child's
// name; --cascade lets the action run.
#[test]
fn a_child_the_user_cannot_see_is_not_cascaded_into() {
    let (wd, db, other, url) = hidden_child("fk_hidden");
    let csv = "id,code,v\n1,a,X\n2,b,Y\n";
    for flags in [
        &["--truncate"][..],
        &["--truncate", "-j", "2"],
        &["--mode", "replace"],
        &["--mode", "upsert"],
    ] {
        wd.cmd("qimport")
            .args(["--url", &url])
            .args(flags)
            .arg("parent")
            .stdin(csv)
            .fails(2)
            .stderr_has(&["cannot see every foreign key", "PROCESS", "--cascade"]);
        assert_eq!(other.count("child"), 2, "{flags:?}");
    }
    // With PROCESS (root), the key is found by name, in the other database.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "parent"])
        .stdin(csv)
        .fails(2)
        .stderr_has(&[&format!("{}.child", other.name), "ON DELETE CASCADE"]);
    // --swap needs no privilege to stay whole: the old table, which the hidden key moved
    // with, cannot be dropped, so the swap is undone.
    wd.cmd("qimport")
        .args(["--url", &url, "--swap", "parent"])
        .stdin(csv)
        .fails(2)
        .stderr_has(&["the swap was undone and", "is as it was"]);
    let rows: Vec<(i32, String)> = db.query("SELECT id, v FROM parent ORDER BY id");
    assert_eq!(rows, [(1, "x".into()), (2, "y".into())]);
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert_eq!(tables, ["parent"]);
    other.exec("INSERT INTO child VALUES (30, 'a')");
    wd.cmd("qimport")
        .args(["--url", &url, "--cascade", "--truncate", "parent"])
        .stdin(csv)
        .ok();
    assert_eq!(
        other.count("child"),
        0,
        "--cascade: the action ran, as asked"
    );
}

// See: #23 (3): --mode upsert matching a row by a secondary unique key changes the
// referenced column: the child's ON UPDATE CASCADE would run, so it needs --cascade.
#[test]
fn upsert_that_would_cascade_an_update_needs_the_flag() {
    let wd = Workdir::new("fk_upsert");
    let db = TestDb::new("fk_upsert");
    db.exec(
        "CREATE TABLE parent (id INT PRIMARY KEY, code VARCHAR(10) UNIQUE);
         CREATE TABLE child (id INT PRIMARY KEY, pid INT,
           FOREIGN KEY (pid) REFERENCES parent (id) ON UPDATE CASCADE);
         INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (10, 1);",
    );
    for method in ["load-data", "insert"] {
        wd.cmd("qimport")
            .args([
                "--url", &db.url, "--mode", "upsert", "--method", method, "parent",
            ])
            .stdin("id,code\n5,a\n")
            .fails(2)
            .stderr_has(&[
                "--mode upsert may change a column",
                "ON UPDATE CASCADE",
                "--cascade",
            ]);
    }
    assert_eq!(db.query::<i64>("SELECT pid FROM child"), [1]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--mode", "upsert", "--cascade", "parent"])
        .stdin("id,code\n5,a\n")
        .ok();
    assert_eq!(db.query::<i64>("SELECT pid FROM child"), [5]);
}

// See: #23 (review): names with punctuation are found in InnoDB's list by the spelling it
// uses, so root is told the child by name, not that it cannot see; and a table's own key
// to itself, whose action reaches rows of the table the input does not hold, refuses
// --mode replace (ON DELETE) and upsert (ON UPDATE) without --cascade, as another
// table's key does. --truncate, which deletes every row anyway, goes ahead.
#[test]
fn punctuated_names_and_keys_to_the_table_itself() {
    let wd = Workdir::new("fk_names");
    let db = TestDb::new("fk_names");
    let other = TestDb::new("fk_names_o");
    db.exec(
        "CREATE TABLE `p-t` (id INT PRIMARY KEY); INSERT INTO `p-t` VALUES (1);
         CREATE TABLE tree (id INT PRIMARY KEY, up INT,
           FOREIGN KEY (up) REFERENCES tree (id) ON DELETE CASCADE);
         INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 2);
         CREATE TABLE moves (id INT PRIMARY KEY, code INT UNIQUE, up INT,
           FOREIGN KEY (up) REFERENCES moves (code) ON UPDATE CASCADE);
         INSERT INTO moves VALUES (1, 10, NULL), (2, 20, 10);",
    );
    other.exec(&format!(
        "CREATE TABLE `c.t` (id INT, FOREIGN KEY (id) REFERENCES `{}`.`p-t` (id) ON DELETE CASCADE);
         INSERT INTO `c.t` VALUES (1);",
        db.name
    ));
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "p-t"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&[&format!(
            "the foreign key of {}.c.t (c.t_ibfk_1)",
            other.name
        )]);
    assert_eq!(other.count("c.t"), 1);
    let tree = "id,up\n1,\n";
    wd.cmd("qimport")
        .args(["--url", &db.url, "--mode", "replace", "tree"])
        .stdin(tree)
        .fails(2)
        .stderr_has(&[
            "tree (tree_ibfk_1)",
            "ON DELETE CASCADE",
            "rows of the table the input does not hold",
        ]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--mode", "upsert", "moves"])
        .stdin("id,code,up\n1,11,\n")
        .fails(2)
        .stderr_has(&["moves (moves_ibfk_1)", "ON UPDATE CASCADE"]);
    assert_eq!(db.count("tree"), 3);
    let moves: Vec<(i32, i32, Option<i32>)> = db.query("SELECT * FROM moves ORDER BY id");
    assert_eq!(moves, [(1, 10, None), (2, 20, Some(10))]);
    // Upsert with a key that does not act on update; --cascade; --truncate.
    wd.cmd("qimport")
        .args(["-q", "--url", &db.url, "--mode", "upsert", "tree"])
        .stdin(tree)
        .ok();
    assert_eq!(db.count("tree"), 3);
    wd.cmd("qimport")
        .args([
            "-q",
            "--url",
            &db.url,
            "--mode",
            "replace",
            "--cascade",
            "tree",
        ])
        .stdin(tree)
        .ok();
    assert_eq!(db.count("tree"), 1);
    wd.cmd("qimport")
        .args(["-q", "--url", &db.url, "--truncate", "tree"])
        .stdin("id,up\n5,\n6,5\n")
        .ok();
    assert_eq!(db.count("tree"), 2);
}
