//! `qimport TABLE [FILE...]`: CSV loaded into a table, header names matched to its columns
//! (or the table's order with -n), the dialect flags, every character set, and both
//! methods (LOAD DATA, INSERT batches), with the fallback when the server refuses one.

use crate::util::db::TestDb;
use crate::util::setup::{database, exported_users, users_table};
use crate::util::{fixture, Workdir};

fn rows(db: &TestDb) -> Vec<(i64, Option<String>, Option<String>)> {
    db.query("SELECT id, name, email FROM users ORDER BY id")
}

#[test]
fn loads_stdin_matching_header_names() {
    let (wd, db) = users_table("qimport_basic");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin("EMAIL,Id,name\njohn@gmail.com,1,John\n,2,\"\"\n")
        .ok()
        .stderr_has(&["users: 2 rows loaded"]);
    assert_eq!(
        rows(&db),
        vec![
            (1, Some("John".into()), Some("john@gmail.com".into())),
            (2, Some(String::new()), None),
            (100, Some("Existing".into()), Some("e@x.org".into())),
        ]
    );
}

#[test]
fn loads_files_and_db_dot_table() {
    let (wd, db) = users_table("qimport_files");
    wd.create("a.csv", "id,name\n1,A\n");
    wd.create("b.csv", "name,id\nB,2\n");
    wd.cmd("qimport")
        .args([
            "--url",
            &db.url,
            "-q",
            &format!("{}.users", db.name),
            "a.csv",
            "b.csv",
        ])
        .ok()
        .stderr_empty();
    assert_eq!(db.count("users"), 3);
    // Both rows clash with what a.csv and b.csv loaded: the load fails and changes nothing.
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/crlf.csv"))
        .fails(2)
        .stderr_has(&[
            "crlf.csv:2: duplicate key: id '1' (key PRIMARY) is in",
            "already, and 1 more record; give --mode upsert|ignore|replace",
        ]);
    assert_eq!(db.count("users"), 3);
}

#[test]
fn crlf_bom_and_quoted_newlines_load() {
    let db = TestDb::new("qimport_crlf");
    db.exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(50));");
    let wd = Workdir::new("qimport_crlf");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/crlf.csv"))
        .ok();
    let names: Vec<String> = db.query("SELECT name FROM users ORDER BY id");
    assert_eq!(names, vec!["John", "Jane\r\nDoe"]);
    db.exec("DELETE FROM users;");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/bom.csv"))
        .ok();
    assert_eq!(db.count("users"), 2);
}

/// The stream goes as `CHARACTER SET binary` when every text column stores UTF-8, and as
/// `utf8mb4` (converted by the server) when one does not: both store the same characters.
#[test]
fn text_in_every_character_set_is_stored_as_the_same_characters() {
    let (wd, db) = users_table("qimport_charsets");
    db.exec(
        "CREATE TABLE u (id INT PRIMARY KEY, m4 VARCHAR(20) CHARACTER SET utf8mb4,
           m3 VARCHAR(20) CHARACTER SET utf8mb3, a VARCHAR(20) CHARACTER SET ascii, b VARBINARY(8));
         CREATE TABLE l (id INT PRIMARY KEY, m4 VARCHAR(20) CHARACTER SET utf8mb4,
           l1 VARCHAR(20) CHARACTER SET latin1);",
    );
    for j in ["1", "2"] {
        db.exec("DELETE FROM u; DELETE FROM l;");
        let args = ["--url", &db.url, "-j", j];
        let input = "id,m4,m3,a,b\n1,😀 café,é ü,plain,c3a9\n2,\"\\\"\"x\"\"\t\",\"\",\"\",\n";
        wd.cmd("qimport").args(args).arg("u").stdin(input).ok();
        let u: Vec<(i64, String, String, String, Option<String>)> =
            db.query("SELECT id, HEX(m4), HEX(m3), HEX(a), HEX(b) FROM u ORDER BY id");
        assert_eq!(
            u,
            vec![
                (
                    1,
                    "F09F988020636166C3A9".into(),
                    "C3A920C3BC".into(),
                    "706C61696E".into(),
                    Some("C3A9".into())
                ),
                (2, "5C22782209".into(), String::new(), String::new(), None),
            ],
            "-j {j}"
        );
        let input = "id,m4,l1\n1,😀,café ü\n";
        wd.cmd("qimport").args(args).arg("l").stdin(input).ok();
        let l: Vec<(String, String)> = db.query("SELECT HEX(m4), HEX(l1) FROM l");
        assert_eq!(
            l,
            vec![("F09F9880".into(), "636166E920FC".into())],
            "-j {j}"
        );
    }
}

#[test]
fn no_header_uses_table_order() {
    let (wd, db) = users_table("qimport_noheader");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "users"])
        .stdin("1,A,a@x\n")
        .ok();
    assert_eq!(db.count("users"), 2);
}

// See: #14 (12): -n into a one-column table: every empty line is a NULL, the first too.
#[test]
fn one_column_no_header_keeps_a_leading_null() {
    let (wd, db) = database("safety_onecol", "CREATE TABLE onecol (v VARCHAR(5) NULL);");
    for jobs in ["1", "2"] {
        db.exec("DELETE FROM onecol");
        wd.cmd("qimport")
            .args(["--url", &db.url, "-n", "-j", jobs, "onecol"])
            .stdin("\n\"\"\nx\n\n")
            .ok()
            .stderr_has(&["4 rows loaded"]);
        let got: Vec<Option<String>> = db.query("SELECT v FROM onecol ORDER BY v IS NULL, v");
        assert_eq!(
            got,
            [Some(String::new()), Some("x".into()), None, None],
            "-j {jobs}"
        );
    }
    // And it is what qexport -n writes.
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "-n",
            "-e",
            "SELECT v FROM onecol ORDER BY v IS NOT NULL, v",
        ])
        .ok()
        .stdout_is("\n\n\"\"\nx\n");
}

#[test]
fn null_marker_and_tsv() {
    let (wd, db) = users_table("qimport_null");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--tsv", "--null", "\\N", "users"])
        .stdin("id\tname\temail\n1\t\\N\t\n2\t\"\\N\"\t\"\"\n")
        .ok();
    let got: Vec<(Option<String>, Option<String>)> =
        db.query("SELECT name, email FROM users WHERE id < 3 ORDER BY id");
    assert_eq!(
        got,
        vec![
            (None, Some(String::new())),
            (Some("\\N".into()), Some(String::new()))
        ]
    );
}

#[test]
fn header_mapping_flags() {
    let db = TestDb::new("qimport_mapping");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, note VARCHAR(10) DEFAULT 'x',
           twice INT AS (id * 2) VIRTUAL);",
    );
    let wd = Workdir::new("qimport_mapping");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "--columns", "name,id", "t"])
        .stdin("a,1\n")
        .ok();
    wd.cmd("qimport")
        .args(["--url", &db.url, "--ignore-extra", "t"])
        .stdin("id,name,extra,twice\n2,b,zzz,4\n")
        .ok();
    assert_eq!(
        db.query::<(i64, String, String)>("SELECT id, name, note FROM t ORDER BY id"),
        vec![(1, "a".into(), "x".into()), (2, "b".into(), "x".into())]
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,note\n3,y\n")
        .fails(2)
        .stderr_has(&["NOT NULL column(s) without a default are missing from the header: name"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,name,twice\n3,c,6\n")
        .fails(2)
        .stderr_has(&["header field 3 \"twice\" is a generated column of "]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,name,name\n3,c,c\n")
        .fails(2)
        .stderr_has(&["column \"name\" appears twice in the header"]);
}

#[test]
fn both_methods_load_identically_and_say_which_ran() {
    let (wd, db, csv) = exported_users(
        "qimport_methods",
        "CREATE TABLE a LIKE users; CREATE TABLE b LIKE users;",
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "a"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE)"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "b"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["b: 300 rows loaded (INSERT batches (--method insert))"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    assert_eq!(db.checksum("b"), db.checksum("users"));
}

/// A server with local_infile off: auto falls back to INSERT batches and says why;
/// --method load-data says what to do. local_infile is global, so this test starts a
/// private server of its own (always, even with QTOOLS_TEST_MYSQL_URL set).
#[test]
fn falls_back_to_insert_when_local_infile_is_off() {
    use mysql::prelude::Queryable;
    let wd = Workdir::new("qimport_fallback");
    let dir = wd.path().join("db");
    let script = crate::util::root().join("scripts/test-db.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&dir)
        .env("QTOOLS_DB_LOCAL_INFILE", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let stop = || {
        let _ = std::process::Command::new("bash")
            .arg(&script)
            .arg("stop")
            .arg(&dir)
            .status();
    };
    let result = std::panic::catch_unwind(|| {
        let conn_url = format!("{url}f");
        let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&url).unwrap())
            .prefer_socket(false);
        let mut c = mysql::Conn::new(opts).unwrap();
        c.query_drop("CREATE DATABASE f").unwrap();
        c.query_drop("CREATE TABLE f.t (id INT PRIMARY KEY, v VARCHAR(5))")
            .unwrap();
        wd.cmd("qimport")
            .args(["--url", &conn_url, "t"])
            .stdin("id,v\n1,a\n2,b\n")
            .ok()
            .stderr_has(&["t: 2 rows loaded (INSERT batches: the server has local_infile off)"]);
        wd.cmd("qimport")
            .args(["--url", &conn_url, "--method", "load-data", "t"])
            .stdin("id,v\n3,c\n")
            .fails(2)
            .stderr_has(&["--method load-data: the server has local_infile off"]);
        let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM f.t").unwrap();
        assert_eq!(n, Some(2));
    });
    stop();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
