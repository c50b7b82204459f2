//! What a newcomer meets in the first hour: errors that say what to do next. See: #25.

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
