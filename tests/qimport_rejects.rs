//! `qimport --rejects FILE`: bad records set aside and the rest loaded, never at the cost
//! of the input, and never a load that empties or replaces a table with nothing.

use crate::util::db::TestDb;
use crate::util::setup::{database, users_table};
use crate::util::Workdir;

fn setup(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'old');");
    (Workdir::new(test), db)
}

#[test]
fn rejects_file_gets_the_bad_records_and_the_rest_loads() {
    let (wd, db) = users_table("qimport_rejects");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects", "bad.csv", "users"])
        .stdin("id,name,email\n1,a,x\nnope,b,y\n2,\"far too long for this column\",z\n3,c,w\n")
        .ok()
        .stderr_has(&["users: 2 rows loaded", "2 bad records written to bad.csv"]);
    assert_eq!(db.count("users"), 3);
    assert_eq!(
        std::fs::read_to_string(wd.path().join("bad.csv")).unwrap(),
        "id,name,email,qimport_error\n\
         nope,b,y,\"line 3: column \"\"id\"\": value \"\"nope\"\": not an integer\"\n\
         2,\"far too long for this column\",z,\"line 4: column \"\"name\"\": value \"\"far too long for this column\"\": 28 characters, longer than the column's 20\"\n"
    );
}

// See: #23 (3): --rejects naming the input, however it is named (the same file on stdin,
// /dev/stdin, /proc/self/fd/0, a link to it), is refused before anything is written.
#[test]
fn rejects_never_overwrite_the_input() {
    let (wd, db) = setup("rejects_input");
    let csv = "id,v\n5,a\nx,b\n";
    wd.create("in.csv", csv);
    std::os::unix::fs::symlink("in.csv", wd.path().join("link.csv")).unwrap();
    for script in [
        "qimport --url '{u}' --rejects in.csv t < in.csv",
        "qimport --url '{u}' --rejects /dev/stdin t < in.csv",
        "qimport --url '{u}' --rejects /proc/self/fd/0 t < in.csv",
        "qimport --url '{u}' --rejects link.csv t in.csv",
        "qimport --url '{u}' --rejects link.csv t - < in.csv",
    ] {
        wd.sh(&script.replace("{u}", &db.url))
            .fails(2)
            .stderr_has(&["writing it would destroy the input"]);
        assert_eq!(
            std::fs::read_to_string(wd.path().join("in.csv")).unwrap(),
            csv
        );
    }
    assert_eq!(db.count("t"), 1);
    // A pipe on stdin and a rejects file elsewhere: as before.
    wd.sh(&format!(
        "cat in.csv | qimport --url '{}' --rejects bad.csv t",
        db.url
    ))
    .ok()
    .stderr_has(&["1 row loaded", "1 bad record written to bad.csv"]);
}

// See: #23 (3): an explicit --max-errors holds with --rejects (the load fails whole at the
// N-th bad record); without it, a load in which every record is bad fails, so that
// --truncate and --swap never empty or replace a table with nothing.
#[test]
fn rejects_keep_max_errors_and_never_empty_a_table() {
    let (wd, db) = setup("rejects_limit");
    let bad: String = std::iter::once("id,v\n".to_owned())
        .chain((0..8).map(|i| format!("x{i},bad\n")))
        .collect();
    let mixed = format!("{bad}7,good\n");
    for flags in [
        &["--truncate"][..],
        &["--swap"],
        &["--truncate", "--method", "insert"],
        &["--swap", "--method", "insert"],
        &["-j", "2", "--truncate"],
        &[],
    ] {
        // Explicit --max-errors: stops at the 5th bad record, changes nothing.
        wd.cmd("qimport")
            .args(["--url", &db.url, "--max-errors", "5", "--rejects", "r.csv"])
            .args(flags)
            .arg("t")
            .stdin(&mixed)
            .fails(2)
            .stderr_has(&["bad record 5, and --max-errors 5 stops the load"]);
        assert_eq!(db.count("t"), 1, "{flags:?}");
        // Every record bad, no --max-errors: refused, the table as it was.
        wd.cmd("qimport")
            .args(["--url", &db.url, "--rejects", "r.csv"])
            .args(flags)
            .arg("t")
            .stdin(&bad)
            .fails(2)
            .stderr_has(&["every record was bad: 8 bad records written to r.csv, none loaded"]);
        assert_eq!(db.count("t"), 1, "{flags:?}");
        let rejected = std::fs::read_to_string(wd.path().join("r.csv")).unwrap();
        assert_eq!(rejected.lines().count(), 9, "{flags:?}");
    }
    // Enough good ones: loaded, the bad ones set aside.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects", "r.csv", "--truncate", "t"])
        .stdin(&mixed)
        .ok()
        .stderr_has(&["1 row loaded", "8 bad records written to r.csv"]);
    let rows: Vec<(i32, String)> = db.query("SELECT id, v FROM t");
    assert_eq!(rows, [(7, "good".into())]);
}

// See: #14 (smaller ones): --rejects, --schema, --create and plural messages.
#[test]
fn rejects_schema_and_create_failures_say_what_is_true() {
    let (wd, db) = database(
        "safety_small_qimport",
        "CREATE TABLE t (id INT PRIMARY KEY, n INT);",
    );
    let f = wd.create("in.csv", "id,n\n1,1\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects"])
        .arg(&f)
        .arg("t")
        .arg(&f)
        .fails(2)
        .stderr_has(&["writing it would destroy the input"]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "id,n\n1,1\n");
    // A load that fails leaves no header-only rejects file.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects", "bad.csv", "t"])
        .stdin("id,n\n1,1\n1,2\n")
        .fails(2);
    assert!(!wd.path().join("bad.csv").exists());
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,n\n7,7\n")
        .ok()
        .stderr_has(&["t: 1 row loaded"]);
    // --schema takes one CREATE TABLE.
    wd.create("two.sql", "CREATE TABLE s (a INT); DROP TABLE t;");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema", "two.sql", "s"])
        .stdin("a\n1\n")
        .fails(2)
        .stderr_has(&["one SQL statement only"]);
    assert_eq!(db.tables(), ["t"]);
    // A failed --create says the table it made was dropped.
    wd.create("c.sql", "CREATE TABLE c (a INT PRIMARY KEY)");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema", "c.sql", "c"])
        .stdin("a\n1\n1\n")
        .fails(2)
        .stderr_has(&["nothing was loaded, and ", ".c was dropped again"]);
    assert_eq!(db.tables(), ["t"]);
}
