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
