//! Foreign keys an import cannot see still act: --truncate, --mode replace and upsert are
//! refused where a key's action could change another table, unless --cascade. See: #23 (3).

use crate::util::db::TestDb;
use crate::util::Workdir;

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
    let (_, url) = db.user("pw");
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
