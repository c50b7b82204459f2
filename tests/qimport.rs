use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::{fixture, Workdir};

const TABLE: &str = "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, email VARCHAR(255) NULL);
INSERT INTO users VALUES (100, 'Existing', 'e@x.org');";

fn setup(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(TABLE);
    (Workdir::new(test), db)
}

fn rows(db: &TestDb) -> Vec<(i64, Option<String>, Option<String>)> {
    db.query("SELECT id, name, email FROM users ORDER BY id")
}

#[test]
fn loads_stdin_matching_header_names() {
    let (wd, db) = setup("qimport_basic");
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
    let (wd, db) = setup("qimport_files");
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
        .stderr_has(&["crlf.csv:2: Duplicate entry '1'"]);
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

#[test]
fn no_header_uses_table_order() {
    let (wd, db) = setup("qimport_noheader");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "users"])
        .stdin("1,A,a@x\n")
        .ok();
    assert_eq!(db.count("users"), 2);
}

#[test]
fn null_marker_and_tsv() {
    let (wd, db) = setup("qimport_null");
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

/// Every kind of bad input: a clear error naming where, exit 2, and the table unchanged.
fn assert_rejected(test: &str, input: &str, expect: &[&str]) {
    let (wd, db) = setup(test);
    let before = db.checksum("users");
    // 3000 good rows first, so the failure happens after whole batches were sent.
    let mut data = String::new();
    let header_end = input.find('\n').unwrap() + 1;
    data.push_str(&input[..header_end]);
    if input.starts_with("id,name,email\n") {
        for i in 1000..4000 {
            writeln!(data, "{i},n{i},e{i}@x").unwrap();
        }
    }
    data.push_str(&input[header_end..]);
    let r = wd
        .cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin(&data)
        .fails(2)
        .stderr_has(expect)
        .stderr_has(&["users is unchanged"]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    assert_eq!(db.checksum("users"), before, "{}", r.report());
    assert_eq!(db.count("users"), 1);
}

#[test]
fn unknown_column_is_rejected() {
    assert_rejected(
        "qimport_unknown",
        "id,nme\n1,x\n",
        &[
            "stdin:1: header field 2 \"nme\" is not a column of",
            "(its columns: id, name, email)",
        ],
    );
}

#[test]
fn ragged_row_is_rejected() {
    assert_rejected(
        "qimport_ragged",
        "id,name,email\n1,John\n",
        &["stdin:3002: expected 3 fields (as in the header), found 2"],
    );
}

#[test]
fn unterminated_quote_is_rejected() {
    assert_rejected(
        "qimport_unterminated",
        "id,name,email\n1,\"John,x\n",
        &["stdin:3002: unterminated quoted field"],
    );
}

#[test]
fn wrong_type_is_rejected_with_line_column_value() {
    assert_rejected(
        "qimport_type",
        "id,name,email\n1,a,b\nabc,John,j@x\n",
        &["stdin:3003: column \"id\": value \"abc\": Incorrect integer value"],
    );
}

#[test]
fn too_long_and_not_null_are_rejected() {
    assert_rejected(
        "qimport_toolong",
        "id,name,email\n1,this name is far too long for twenty,x\n",
        &["stdin:3002: column \"name\": value \"this name is far too long for twenty\": Data too long"],
    );
    assert_rejected(
        "qimport_notnull",
        "id,name,email\n,x,y\n",
        &[
            "stdin:3002: column \"id\": value \"NULL\"",
            "cannot be null",
        ],
    );
}

#[test]
fn duplicate_key_is_rejected() {
    assert_rejected(
        "qimport_dup",
        "id,name,email\n100,x,y\n",
        &["stdin:3002: Duplicate entry '100'"],
    );
}

#[test]
fn text_after_closing_quote_is_rejected() {
    assert_rejected(
        "qimport_afterquote",
        "id,name,email\n1,\"ab\"c,x\n",
        &["stdin:3002: unexpected text after a closing quote"],
    );
}

#[test]
fn missing_table_and_no_database() {
    let (wd, db) = setup("qimport_missing");
    wd.cmd("qimport")
        .args(["--url", &db.url, "nope"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["table", ".nope does not exist"]);
    let (host, port) = db.host_port();
    wd.cmd("qimport")
        .args(["-h", &host, "-P", &port.to_string(), "-u", "root", "users"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["no database selected"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin("")
        .fails(2)
        .stderr_has(&["stdin: empty input: expected a header row"]);
}
