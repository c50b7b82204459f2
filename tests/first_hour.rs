//! What a newcomer meets in the first hour: errors that say what to do next. See: #25.

use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::Workdir;

fn users(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(40))");
    (Workdir::new(test), db)
}

// See: #25: a header that names no column says what it looks like: another separator,
// or a first record of data; and the table is unchanged.
#[test]
fn header_hints_name_the_fix() {
    let (wd, db) = users("first_hour_hints");
    for (input, hint) in [
        (
            "id;name;email\n1;x;y\n",
            "the header is one field split by ';': give -d ';'",
        ),
        ("id\tname\n1\tx\n", "split by '\\t': give --tsv"),
        (
            "7,Ann,ann@x\n8,Bob,bob@x\n",
            "if it is data (the file has no header row), give -n",
        ),
        ("id,nme\n1,x\n", "--ignore-extra skips such fields"),
    ] {
        let r = wd
            .cmd("qimport")
            .args(["--url", &db.url, "users"])
            .stdin(input)
            .fails(2)
            .stderr_has(&[hint, "users is unchanged"]);
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    }
    assert_eq!(db.count("users"), 0);
}

// See: #25: `qimport users.csv` (a file where the TABLE goes) says that the TABLE comes
// first, before it connects anywhere.
#[test]
fn a_file_where_the_table_goes() {
    let wd = Workdir::new("first_hour_table_first");
    wd.create("users.csv", "id\n1\n");
    let r = wd
        .cmd("qimport")
        .args(["--url", "mysql://nobody@127.0.0.1:1/x", "users.csv"])
        .fails(2)
        .stderr_has(&["is a file name, and the TABLE comes first: qimport"]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    // A table that shares its name with a file of the folder loads when its input is
    // given (hostile review: it was refused).
    let (wd, db) = users("first_hour_table_named_like_a_file");
    wd.create("users", "not the input\n");
    wd.create("in.csv", "id,name,email\n1,a,b\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users", "in.csv"])
        .ok();
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "users"])
        .stdin("id,name,email\n2,a,b\n")
        .ok();
    assert_eq!(db.count("users"), 1);
}

// See: #25: `-p` with no terminal to ask on names the ways to give a password.
#[test]
fn a_password_prompt_without_a_terminal() {
    let wd = Workdir::new("first_hour_prompt");
    // setsid: a session of its own has no controlling terminal, as under cron.
    let r = wd
        .sh("setsid -w qexport -h 127.0.0.1 -P 1 -u u -p t")
        .fails(2)
        .stderr_has(&[
            "no terminal to ask the password on",
            "MYSQL_PWD",
            "--password=",
        ]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
}

// See: #25: qgrep checks -s before it writes anything, and names match regardless of case
// when none matches exactly (the first of several, said on stderr).
#[test]
fn selections_are_checked_first_and_forgive_case() {
    let wd = Workdir::new("first_hour_select");
    let csv = "id,City,email\n1,Oslo,a@x\n2,Rome,b@y\n";
    // No header before the error: into a pipe, only the failure mark that fails the next
    // tool (on a terminal, nothing).
    let mark = "\"qgrep: failed: -s in stdin: no column 'emial' in the header (id, City, email)";
    wd.cmd("qgrep")
        .args(["-s", "emial", "x"])
        .stdin(csv)
        .fails(2)
        .stdout_is(mark)
        .stderr_has(&["no column \"emial\" in the header (id, City, email)"]);
    wd.cmd("qgrep")
        .args(["-s", "emial", "x"])
        .stdin("id,City,email\n")
        .fails(2)
        .stdout_is(mark);
    wd.cmd("qgrep")
        .args(["-s", "city", "Oslo"])
        .stdin(csv)
        .ok()
        .stdout_is("id,City,email\n1,Oslo,a@x\n")
        .stderr_empty();
    wd.cmd("qcount")
        .args(["-g", "CITY"])
        .stdin(csv)
        .ok()
        .stdout_is("City,count\nOslo,1\nRome,1\n");
    wd.cmd("qcount")
        .args(["-g", "ctiy"])
        .stdin("City\n")
        .fails(2)
        .stderr_has(&["no column \"ctiy\" in the header (City)"]);
    let two = "city,City\nOslo,Rome\n";
    wd.cmd("qgrep")
        .args(["-s", "CITY", "Oslo"])
        .stdin(two)
        .ok()
        .stdout_is(two)
        .stderr_has(&["took \"city\" (column 1), the first of 2 that match ignoring case"]);
}

// See: #25: a bare `qexport` shows each of its forms, on the one line of its error.
#[test]
fn a_bare_command_shows_its_forms() {
    let wd = Workdir::new("first_hour_bare");
    let r = wd.cmd("qexport").fails(2).stderr_has(&[
        "usage: qexport [OPTIONS] TABLE... | qexport [OPTIONS] -e QUERY | qexport [OPTIONS] --all -o DIR; try 'qexport --help'",
    ]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
}

// See: #25: a duplicate key is one line: the first duplicate with its file:line (the
// earlier line when the input repeats the key), how many more, and the flags that settle
// it; in every way of loading, and the table unchanged.
#[test]
fn a_duplicate_key_is_one_line_with_the_fix() {
    let (wd, db) = users("first_hour_dups");
    db.exec("INSERT INTO users VALUES (1, 'old', 'o@x'), (5, 'old', 'p@x')");
    let before = db.checksum("users");
    let mut in_table = String::from("id,name,email\n");
    for i in 100..3000 {
        writeln!(in_table, "{i},n,e").unwrap();
    }
    in_table.push_str("1,a,b\n7,c,d\n5,e,f\n");
    wd.create("in_table.csv", &in_table);
    wd.create("twice.csv", "id,name,email\n3,a,b\n4,c,d\n3,e,f\n");
    let url = db.url.clone();
    for jobs in ["1", "2"] {
        for method in ["load-data", "insert"] {
            let q = format!("qimport --url {url} -j {jobs} --method {method} users");
            // (how the input is given, what the message must say)
            let cases = [
                (
                    format!("{q} in_table.csv"),
                    "in_table.csv:2902: duplicate key: id '1' (key PRIMARY) is in",
                ),
                (
                    format!("{q} < in_table.csv"),
                    "stdin:2902: duplicate key: id '1' (key PRIMARY) is in",
                ),
                (
                    format!("{q} twice.csv"),
                    "twice.csv:4: duplicate key: id '3' (key PRIMARY) is on line 2 too; give --mode upsert|ignore|replace to keep one row per key (nothing was loaded",
                ),
                (
                    format!("cat in_table.csv | {q}"),
                    "duplicate key: id '1' (key PRIMARY)",
                ),
            ];
            for (script, want) in &cases {
                if method == "insert" && jobs == "2" {
                    continue;
                }
                let r = wd
                    .sh(script)
                    .fails(2)
                    .stderr_has(&[want, "users is unchanged"]);
                let err = r.stderr();
                assert_eq!(err.lines().count(), 1, "{}", r.report());
                if script.contains("in_table") {
                    assert!(err.contains("--truncate"), "{}", r.report());
                }
                if script.contains("in_table")
                    && !script.starts_with("cat")
                    && method == "load-data"
                    && jobs == "1"
                {
                    assert!(err.contains(", and 1 more record;"), "{}", r.report());
                }
                assert_eq!(db.checksum("users"), before, "{}", r.report());
            }
        }
    }
    // A stream cannot be read again: the value, and the way to find its line.
    wd.sh(&format!("cat in_table.csv | qimport --url {url} users"))
        .fails(2)
        .stderr_has(&["stdin: duplicate key: id '1' (key PRIMARY), and 1 more record (LOAD DATA does not say on which line; --method insert does)"]);
    wd.sh(&format!(
        "cat in_table.csv | qimport --url {url} --method insert users"
    ))
    .fails(2)
    .stderr_has(&["stdin:2902: duplicate key: id '1' (key PRIMARY);"]);
    // Hostile review: a key repeated from an earlier input, or spelled otherwise in the
    // same one (equal to the key's collation), is not "in the table already".
    wd.create("first.csv", "id,name,email\n9001,a,b\n");
    wd.create("second.csv", "id,name,email\n9002,a,b\n9001,c,d\n");
    db.exec("CREATE TABLE ci (id INT PRIMARY KEY, k VARCHAR(10) COLLATE utf8mb4_general_ci, UNIQUE KEY (k))");
    wd.create("ci.csv", "id,k\n1,Abc\n2,x\n3,abc\n");
    for method in ["load-data", "insert"] {
        wd.cmd("qimport")
            .args(["--url", &url, "--method", method, "users", "first.csv", "second.csv"])
            .fails(2)
            .stderr_has(&["second.csv:3: duplicate key: id '9001' (key PRIMARY) is in first.csv:2 too; give --mode upsert|ignore|replace to keep one row per key (nothing"]);
        wd.cmd("qimport")
            .args(["--url", &url, "--method", method, "ci", "ci.csv"])
            .fails(2)
            .stderr_has(&["ci.csv:4: duplicate key: k 'abc' (key k) repeats an earlier record's key, spelled otherwise"]);
    }
    assert_eq!(db.checksum("users"), before);
    assert_eq!(db.count("ci"), 0);
}

// See: #25 (hostile review): several files under one -s or -g: checked before anything
// is written, and never two columns counted under one name.
#[test]
fn several_files_are_checked_before_output() {
    let wd = Workdir::new("first_hour_several_files");
    wd.create("a.csv", "id,Email,City\n1,a@x,Oslo\n2,b@x,Rome\n");
    wd.create("b.csv", "id,City,city\n1,X,oslo\n");
    wd.create("c.csv", "id,name\n1,@\n");
    wd.cmd("qcount")
        .args(["-g", "city", "a.csv", "b.csv"])
        .fails(2)
        .stderr_has(&[
            "b.csv: -g takes the column(s) \"city\" here but \"City\" in the first input",
        ]);
    let r = wd
        .sh("qgrep -s email @ a.csv c.csv | cat")
        .fails(2)
        .stderr_has(&["c.csv: its header differs from a.csv's"]);
    assert!(!r.stdout().contains("a@x"), "{}", r.report());
}

// See: #25 (hostile review): --create makes a table of many short columns (VARCHAR(32)
// kept each in the row, and 63 of them passed InnoDB's 8,126 bytes), refuses a header
// that names a column twice before it makes anything, and says what to do when a table
// would be too wide.
#[test]
fn create_takes_wide_files_and_refuses_early() {
    let (wd, db) = users("first_hour_create_wide");
    let head: Vec<String> = (0..70).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..70).map(|_| "x".repeat(16)).collect();
    wd.create(
        "wide.csv",
        format!("{}\n{}\n", head.join(","), row.join(",")),
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "-q", "--create", "wide", "wide.csv"])
        .ok();
    assert_eq!(db.count("wide"), 1);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "twice"])
        .stdin("a,A\n1,2\n")
        .fails(2)
        .stderr_has(&["the header names one column twice", "nothing was created"]);
    let head: Vec<String> = (0..500).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..500).map(|_| "abcdefgh".to_owned()).collect();
    wd.create(
        "wider.csv",
        format!("{}\n{}\n", head.join(","), row.join(",")),
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "wider", "wider.csv"])
        .fails(2)
        .stderr_has(&[
            "500 columns are more than InnoDB takes in one row",
            "give --schema FILE",
        ]);
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert_eq!(tables, ["users", "wide"]);
}
