//! An export never writes: the text of `-e`, `--where` and `--order-by` is one SELECT as
//! the server's own parser reads it, under qexport's own sql_mode, in a read-only
//! transaction. See: #14 (1), #23 (1).

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::server::PrivateServer;
use crate::util::setup::database;
use crate::util::Workdir;

// See: #14 (1): --where and -e cannot run other statements, and an export never writes.
#[test]
fn an_export_runs_one_statement_and_never_writes() {
    let (wd, db) = database(
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
            .stderr_has(&["-e: qexport reads only a SELECT"]);
    }
    assert_eq!(db.tables(), ["users", "victim"]);
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

// See: #23 (1): statements that write, hidden in -e, --where or --order-by, are refused
// before anything runs: SET STATEMENT ... FOR, INTO OUTFILE/DUMPFILE/@var, SET GLOBAL,
// CALL, and a comment that swallows the LIMIT.
#[test]
fn writes_hidden_in_an_export_are_refused() {
    let wd = Workdir::new("readonly_refused");
    let db = TestDb::new("readonly_refused");
    db.exec(
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(50));
         INSERT INTO users VALUES (1, 'a@x'), (2, 'b@y');
         CREATE TABLE victim (a INT); INSERT INTO victim VALUES (1);
         CREATE PROCEDURE p() MODIFIES SQL DATA BEGIN INSERT INTO victim VALUES (2); COMMIT; END;
         CREATE FUNCTION f(x INT) RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO victim VALUES (x); RETURN x; END;",
    );
    let url = db.url.as_str();
    let max_connections = || db.query::<u64>("SELECT @@GLOBAL.max_connections");
    let before = max_connections();
    let name = &db.name;
    for sql in [
        format!("SET STATEMENT tx_read_only=0 FOR DROP TABLE {name}.victim"),
        format!("SET STATEMENT tx_read_only=0 FOR INSERT INTO {name}.victim VALUES (3)"),
        "SET STATEMENT max_statement_time=10 FOR SELECT 1".into(),
        "SELECT * FROM users INTO OUTFILE 'qt_readonly_out.txt'".into(),
        "SELECT email FROM users LIMIT 1 INTO DUMPFILE 'qt_readonly_dump.bin'".into(),
        "SELECT id INTO @x FROM users LIMIT 1".into(),
        "SET GLOBAL max_connections = 77".into(),
        "CALL p()".into(),
        "DELETE FROM users RETURNING id".into(),
        "SHOW TABLES".into(),
    ] {
        wd.cmd("qexport")
            .args(["--url", url, "-e", &sql])
            .fails(2)
            .stderr_has(&["-e: qexport reads only a SELECT"]);
    }
    wd.cmd("qexport")
        .args([
            "--url",
            url,
            "--order-by",
            "id INTO OUTFILE 'qt_readonly_o.txt'",
        ])
        .arg("users")
        .fails(2)
        .stderr_has(&["--order-by: qexport reads only a SELECT"]);
    // A comment would swallow the LIMIT qexport puts after the fragment.
    for (flag, text) in [("--order-by", "id -- "), ("--where", "id > 0 # x")] {
        wd.cmd("qexport")
            .args(["--url", url, flag, text, "--limit", "1", "users"])
            .fails(2)
            .stderr_has(&[&format!("{flag}: a '#' or '-- ' comment here would hide")]);
    }
    // An executable comment is code or not by the server's version (what it holds could
    // close a parenthesis); `--` and a control character is a comment to the server.
    for (flag, text, says) in [
        ("--where", "id > 0 /*!99999 ) */", "an executable comment"),
        ("--order-by", "id /*!50000 DESC */", "an executable comment"),
        (
            "--where",
            "id > 0 --\x0b",
            "a '#' or '-- ' comment here would hide",
        ),
    ] {
        wd.cmd("qexport")
            .args(["--url", url, flag, text, "--limit", "1", "users"])
            .fails(2)
            .stderr_has(&[&format!("{flag}: {says}")]);
    }
    // A typo is the server's syntax error, in its words.
    wd.cmd("qexport")
        .args(["--url", url, "-e", "SELEC 1"])
        .fails(2)
        .stderr_has(&["-e: You have an error in your SQL syntax"]);
    // A stored function's writes fail in the export's read-only transaction.
    wd.cmd("qexport")
        .args(["--url", url, "--where", "f(id) > 0", "users"])
        .fails(2)
        .stderr_has(&["READ ONLY transaction"]);
    assert_eq!(db.count("victim"), 1);
    assert_eq!(max_connections(), before);
    let files: Vec<Option<String>> =
        db.query("SELECT LOAD_FILE(CONCAT(@@datadir, DATABASE(), '/qt_readonly_out.txt'))");
    assert_eq!(files, [None]);
    // What stays allowed: a SELECT with a WITH, a UNION, quoted ';' and a trailing ';'.
    wd.cmd("qexport")
        .args([
            "--url",
            url,
            "-e",
            "WITH c AS (SELECT id FROM users) SELECT id, ';' AS s FROM c UNION SELECT 9, 'x' ORDER BY id;",
        ])
        .ok()
        .stdout_is("id,s\n1,;\n2,;\n9,x\n");
}

// See: #23 (1): on a server whose global sql_mode has NO_BACKSLASH_ESCAPES, ANSI_QUOTES and
// PAD_CHAR_TO_FULL_LENGTH, qexport reads SQL text as the server does (its session has a
// sql_mode of its own): a --where crafted to end early in the server's reading is one
// string, and CHAR values come out unpadded, as from any other server.
#[test]
fn the_session_sql_mode_is_qexports_own() {
    let wd = Workdir::new("readonly_mode");
    let other = PrivateServer::start(
        &wd.path().join("server"),
        "--sql-mode=NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PAD_CHAR_TO_FULL_LENGTH",
    )
    .unwrap_or_else(|e| panic!("a second private server did not start: {e}"));
    let mut c = other.admin();
    for sql in [
        "CREATE DATABASE src",
        "CREATE TABLE src.t (id INT PRIMARY KEY, c CHAR(5), v VARCHAR(20))",
        "INSERT INTO src.t VALUES (1, 'ab', 'x'), (2, 'cd', 'y')",
        "CREATE TABLE src.victim (a INT)",
    ] {
        c.query_drop(sql).unwrap();
    }
    let url = format!("{}src", other.url);
    let crafted = "v = 'a\\' OR 1=1) ; SET SESSION TRANSACTION READ WRITE; COMMIT; \
                   DROP TABLE victim; SELECT 1 FROM DUAL WHERE (1 OR v='";
    wd.cmd("qexport")
        .args(["--url", &url, "--where", crafted, "t"])
        .ok()
        .stdout_is("id,c,v\n");
    let left: Vec<String> = c.query("SHOW TABLES FROM src").unwrap();
    assert_eq!(left, ["t", "victim"]);
    wd.cmd("qexport")
        .args(["--url", &url, "t"])
        .ok()
        .stdout_is("id,c,v\n1,ab,x\n2,cd,y\n");
    wd.cmd("qexport")
        .args(["--url", &url, "-e", "SELECT \"q\" AS s, 'a\\tb' AS t"])
        .ok()
        .stdout_is("s,t\nq,a\tb\n");
}
