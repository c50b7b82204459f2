//! `qimport -j N`: a load over N connections, published in one step, with the rows, the
//! refusals and the words of `-j 1`; modes whose answer depends on the input's order are
//! refused.

use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::setup::{database, exported_users};
use crate::util::Workdir;

#[test]
fn jobs_load_in_parallel_and_publish_in_one_step() {
    let (wd, db, csv) = exported_users("qimport_jobs", "CREATE TABLE a LIKE users; CREATE TABLE b LIKE users; INSERT INTO b VALUES (1000, 'old', NULL);");
    // Empty target: the staging table is renamed into place.
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "3", "a"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE); over 3 connections"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    // A table with rows: one INSERT ... SELECT.
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin(&csv)
        .ok();
    assert_eq!(db.count("b"), 301);
    // Bad input: nothing changes, no staging table is left.
    let before = db.checksum("b");
    let mut bad = csv.clone();
    bad.push_str("oops,x,y\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin(&bad)
        .fails(2)
        .stderr_has(&[
            "column \"id\": value \"oops\": not an integer",
            "b is unchanged",
        ]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin("id,name\n1000,dup\n")
        .fails(2)
        .stderr_has(&["duplicate key: id '1000' (key PRIMARY)"]);
    assert_eq!(db.checksum("b"), before);
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert_eq!(tables, ["a", "b", "users"]);
}

// A file given to -j is cut into one run of records per connection, each checked on its
// own thread: the same rows as one connection, and bad values reported in input order with
// their lines, whichever run they fell in.
#[test]
fn jobs_split_a_file_into_runs() {
    let (wd, db, csv) = exported_users(
        "qimport_split",
        "CREATE TABLE a LIKE users; CREATE TABLE c LIKE users",
    );
    let f = wd.create("users.csv", &csv);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "3", "a"])
        .arg(&f)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE); over 3 connections"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    // Bad values near the start and near the end: both runs report, in order.
    let records: Vec<&str> = csv.split_inclusive('\n').collect();
    let lines = records.len();
    let mut bad = csv.clone();
    bad = bad.replacen("\n1,", "\nx1,", 1);
    bad.push_str("oops,x,y\n");
    let bad_file = wd.create("bad.csv", &bad);
    let err = wd
        .cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "c"])
        .arg(&bad_file)
        .fails(2)
        .stderr();
    let first = err.find("value \"x1\"").expect(&err);
    let last = err.find("value \"oops\"").expect(&err);
    assert!(first < last, "{err}");
    assert!(err.contains(&format!("bad.csv:{}:", lines + 1)), "{err}");
    assert_eq!(db.count("c"), 0);
    // A bare quote in an unquoted field: quote parity is no guide to record ends, so the
    // file is not cut; it loads as over a pipe.
    let quirky = "id,name\n1,a\"b\n2,\"c\nd\"\n3,e\n";
    let q = wd.create("quirky.csv", quirky);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "c"])
        .arg(&q)
        .ok();
    let names: Vec<String> = db.query("SELECT name FROM c ORDER BY id");
    assert_eq!(names, ["a\"b", "c\nd", "e"]);
}

// See: #14 (2): -j N cannot keep the rows -j 1 keeps for repeated keys: refused.
#[test]
fn parallel_import_refuses_modes_that_depend_on_input_order() {
    let (wd, db) = database(
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

// See: #26 (3): one loader serves one connection and N; `-j 2` refuses exactly what
// `-j 1` refuses, with the same words, and leaves the table as it was.
#[test]
fn j2_refuses_what_j1_refuses_in_the_same_words() {
    let db = TestDb::new("parallel_same_refusals");
    let wd = Workdir::new("parallel_same_refusals");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, n TINYINT, v VARCHAR(5) NOT NULL, UNIQUE KEY (v));
         INSERT INTO t VALUES (1, 1, 'one')",
    );
    let body = (10..3000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "{i},1,v{i}");
        s
    });
    let cases = [
        ("a bad value", format!("id,n,v\n{body}5,300,x\n")),
        ("too many fields", format!("id,n,v\n{body}5,1,x,extra\n")),
        (
            "a NULL in a NOT NULL column",
            format!("id,n,v\n{body}5,1,\n"),
        ),
        ("a key in the table", format!("id,n,v\n{body}1,1,x\n")),
        ("a key twice in the file", format!("id,n,v\n{body}10,1,x\n")),
        (
            "a unique key in the table",
            format!("id,n,v\n{body}5,1,one\n"),
        ),
        ("a value too long", format!("id,n,v\n{body}5,1,toolong\n")),
    ];
    let before = db.checksum("t");
    for (what, csv) in cases {
        wd.create("in.csv", &csv);
        let said: Vec<String> = ["1", "2"]
            .iter()
            .map(|j| {
                let r = wd
                    .cmd("qimport")
                    .args(["--url", &db.url, "-j", j, "t", "in.csv"])
                    .fails(2);
                assert_eq!(db.checksum("t"), before, "{what}, -j {j}: {}", r.report());
                r.stderr()
            })
            .collect();
        assert_eq!(
            said[0], said[1],
            "{what}: -j 1 and -j 2 say different things"
        );
    }
}

// See: #30: a lone CR inside quoted fields is a line end, for -j 2's cut of the file as
// for one connection: an error names the same line either way.
#[test]
fn lone_cr_in_quotes_counts_as_a_line_with_jobs_too() {
    let db = TestDb::new("parallel_lone_cr");
    let wd = Workdir::new("parallel_lone_cr");
    db.exec("CREATE TABLE c (id INT PRIMARY KEY, s VARCHAR(20))");
    let mut csv = String::from("id,s\n");
    for i in 1..20_000 {
        let id = if i == 15_000 {
            "x".to_owned()
        } else {
            i.to_string()
        };
        let _ = write!(csv, "{id},\"a\rb\"\n");
    }
    wd.create("in.csv", &csv);
    let said: Vec<String> = ["1", "2"]
        .iter()
        .map(|j| {
            wd.cmd("qimport")
                .args(["--url", &db.url, "-j", j, "c", "in.csv"])
                .fails(2)
                .stderr()
        })
        .collect();
    assert!(said[0].contains("in.csv:30000:"), "{}", said[0]);
    assert_eq!(said[0], said[1]);
    assert_eq!(db.count("c"), 0);
}
