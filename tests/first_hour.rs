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
    for arg in ["users.csv", "new.csv.gz"] {
        let r = wd
            .cmd("qimport")
            .args(["--url", "mysql://nobody@127.0.0.1:1/x", arg])
            .fails(2)
            .stderr_has(&["is a file name, and the TABLE comes first: qimport"]);
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    }
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
                    assert!(
                        err.contains("--truncate to replace the table's rows"),
                        "{}",
                        r.report()
                    );
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
}
