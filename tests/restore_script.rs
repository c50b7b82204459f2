//! A restore runs only the statements that create what its manifest lists, in the target
//! database, read as the server reads them (under the sql_mode schema.sql sets) and run
//! one at a time: a tampered `schema.sql` (its SHA-256 updated too) cannot run SQL of its
//! own. See: #23 (3).

use crate::util::backup::{copy, list_object, tamper};
use crate::util::db::TestDb;
use crate::util::Workdir;

// See: #23 (3): a DROP of another database's table, added to schema.sql with the hash
// updated, is refused by name before anything runs.
#[test]
fn a_tampered_schema_runs_nothing() {
    let wd = Workdir::new("restore_script");
    let db = TestDb::new("restore_script");
    let victim = TestDb::new("restore_victim");
    victim.exec("CREATE TABLE t (id INT); INSERT INTO t VALUES (1);");
    db.exec(
        "CREATE TABLE a (id INT PRIMARY KEY); INSERT INTO a VALUES (1), (2);
         CREATE VIEW v AS SELECT id FROM a;",
    );
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    let bk = wd.path().join("bk");
    let target = TestDb::new("restore_script_r");
    for (edit, says) in [
        (
            format!("DROP TABLE `{}`.t;\n", victim.name),
            "not a statement a backup holds: `DROP TABLE",
        ),
        (
            format!("INSERT INTO `{}`.t VALUES (2);\n", victim.name),
            "not a statement a backup holds: `INSERT INTO",
        ),
        (
            format!("CREATE TABLE `{}`.x (a INT);\n", victim.name),
            "names another database",
        ),
        (
            "CREATE TABLE extra (a INT);\n".into(),
            "the table extra, which the manifest does not list",
        ),
        (
            "SET GLOBAL max_connections = 7;\n".into(),
            "a setting a backup does not make",
        ),
    ] {
        let fresh = copy(&bk, "t1");
        tamper(&fresh, |s| format!("{edit}{s}"));
        wd.cmd("qimport")
            .args(["--url", &target.url, "--dir", "t1"])
            .fails(2)
            .stderr_has(&[says, "nothing was changed"]);
        assert_eq!(victim.count("t"), 1, "{edit}");
        let tables: Vec<String> = target.query("SHOW TABLES");
        assert!(tables.is_empty(), "{edit}: {tables:?}");
    }
    // A table the manifest lists that schema.sql does not create (an entry removed from
    // the schema, or one added to the manifest) is refused too.
    let fresh = copy(&bk, "t2");
    tamper(&fresh, |s| {
        let at = s.find("CREATE TABLE `a`").unwrap();
        let end = at + s[at..].find(";\n").unwrap() + 2;
        format!("{}{}", &s[..at], &s[end..])
    });
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "t2"])
        .fails(2)
        .stderr_has(&["the manifest lists the table a, which schema.sql does not create"]);
    // The untouched backup restores.
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    assert_eq!(target.count("a"), 2);
}

// See: #23 (helper review): objects made under ANSI_QUOTES or NO_BACKSLASH_ESCAPES restore
// as they were (the restore reads schema.sql under the sql_mode it sets, as the server
// does), and a tampered schema.sql cannot use the difference: a string that ends at `\'`
// under NO_BACKSLASH_ESCAPES, where a reader that ignored the mode would see one string,
// is read as the server reads it, and the DROP after it refused. A trigger moved before
// the data (it would rewrite the restored rows) is refused as well.
#[test]
fn schema_sql_is_read_under_the_modes_it_sets() {
    let wd = Workdir::new("restore_modes");
    let db = TestDb::new("restore_modes");
    let victim = TestDb::new("restore_modes_victim");
    victim.exec("CREATE TABLE t (id INT); INSERT INTO t VALUES (1);");
    db.exec(
        "CREATE TABLE a (id INT PRIMARY KEY, s VARCHAR(20)); INSERT INTO a VALUES (1, 'x');
         SET SESSION sql_mode = 'ANSI_QUOTES';
         CREATE PROCEDURE pa() SELECT \"id\" FROM \"a\";
         CREATE FUNCTION fa() RETURNS VARCHAR(20) RETURN 'it''s \"q\"; ok';
         SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
         CREATE FUNCTION fb() RETURNS VARCHAR(20) RETURN 'a\\';
         CREATE TRIGGER tb BEFORE INSERT ON a FOR EACH ROW SET NEW.s = CONCAT(NEW.s, '\\');",
    );
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    let bk = wd.path().join("bk");
    let target = TestDb::new("restore_modes_r");
    let trigger_end = "CONCAT(NEW.s, '\\');;\n";
    // Tampered: to a reader that ignored NO_BACKSLASH_ESCAPES, one string from the first
    // quote to the last (both `\\'` escaped); to the server, three statements.
    let fresh = copy(&bk, "t1");
    tamper(&fresh, |s| {
        assert!(s.contains(trigger_end), "{s}");
        let drop = format!(
            "CONCAT(NEW.s, '\\');;\nDROP TABLE `{}`.t;;\nSELECT \\'';;\n",
            victim.name
        );
        s.replace(trigger_end, &drop)
    });
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "t1"])
        .fails(2)
        .stderr_has(&[
            "not a statement a backup holds: `DROP TABLE",
            "nothing was changed",
        ]);
    // Tampered: the trigger moved before the data.
    let fresh = copy(&bk, "t2");
    tamper(&fresh, |s| {
        let (before, after) = s.split_once("-- qexport: created after the data").unwrap();
        format!("{after}\n{before}")
    });
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "t2"])
        .fails(2)
        .stderr_has(&[
            "out of its place (before the data): `CREATE DEFINER",
            "TRIGGER tb",
        ]);
    assert_eq!(victim.count("t"), 1);
    let tables: Vec<String> = target.query("SHOW TABLES");
    assert!(tables.is_empty(), "{tables:?}");
    // The honest backup restores every object as it was made.
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    let got: Vec<(String, String)> = target.query("SELECT fa(), fb()");
    assert_eq!(got, [("it's \"q\"; ok".to_owned(), "a\\".to_owned())]);
    target.exec("INSERT INTO a VALUES (2, 'y')");
    let rows: Vec<(i32, String)> = target.query("SELECT id, s FROM a ORDER BY id");
    assert_eq!(rows, [(1, "x".to_owned()), (2, "y\\".to_owned())]);
    let ids: Vec<i32> = target.query("CALL pa()");
    assert_eq!(ids, [1, 2]);
    let modes: Vec<(String, String)> = target.query(
        "SELECT ROUTINE_NAME, SQL_MODE FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1",
    );
    let want = [
        ("fa", "ANSI_QUOTES"),
        ("fb", "NO_BACKSLASH_ESCAPES"),
        ("pa", "ANSI_QUOTES"),
    ];
    assert_eq!(modes, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
}

// See: #23 (hostile review, round 2): whatever a reading of schema.sql could miss, the
// server runs one statement at a time (each is prepared): a second statement hidden in a
// DELIMITER block runs nowhere; and the settings that decide how the server reads what
// follows are taken only where the restore reads them the same way (a sql_mode as a
// string of names, not a number or DEFAULT; no client character set such as GBK, where a
// backslash can be half of a letter).
#[test]
fn the_server_runs_one_statement_at_a_time() {
    let wd = Workdir::new("restore_one");
    let db = TestDb::new("restore_one");
    let victim = TestDb::new("restore_one_victim");
    victim.exec(
        "CREATE TABLE v (id INT PRIMARY KEY, x VARCHAR(20)); INSERT INTO v VALUES (1, 'orig');",
    );
    db.exec("CREATE TABLE p (id INT PRIMARY KEY); INSERT INTO p VALUES (1);");
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    let bk = wd.path().join("bk");
    let target = TestDb::new("restore_one_r");
    let v = &victim.name;
    let update = format!(
        "SET @q = CONCAT('UPDATE `{v}`.', 'v SET x = ''pwned'''); PREPARE st FROM @q; EXECUTE st"
    );
    for (edit, says) in [
        (
            format!("DELIMITER ;;\n{{create}}; {update};;\nDELIMITER ;\n"),
            "You have an error in your SQL syntax",
        ),
        (
            "SET NAMES gbk;\n{create} COMMENT='\u{20ac}\\'; SET GLOBAL max_connections = 66; -- ';\n"
                .to_owned(),
            "a client character set a restore does not read SQL in",
        ),
        (
            "SET SESSION sql_mode = 1048576;\n{create} COMMENT='x\\'; SET GLOBAL max_connections = 66; -- ';\n"
                .to_owned(),
            "a sql_mode that is not a string of mode names",
        ),
        (
            "SET SESSION sql_mode = DEFAULT;\n{create};\n".to_owned(),
            "a sql_mode that is not a string of mode names",
        ),
    ] {
        let fresh = copy(&bk, "t1");
        tamper(&fresh, |s| {
            let at = s.find("CREATE TABLE `p`").unwrap();
            let end = at + s[at..].find(";\n").unwrap();
            let edit = edit.replace("{create}", &s[at..end]);
            format!("{}{edit}{}", &s[..at], &s[end + 2..])
        });
        let before: Vec<u32> = target.query("SELECT @@GLOBAL.max_connections");
        wd.cmd("qimport")
            .args(["--url", &target.url, "--dir", "t1"])
            .fails(2)
            .stderr_has(&[says]);
        let x: Vec<String> = victim.query("SELECT x FROM v");
        assert_eq!(x, ["orig"], "{edit}");
        let after: Vec<u32> = target.query("SELECT @@GLOBAL.max_connections");
        assert_eq!(before, after, "{edit}");
        let tables: Vec<String> = target.query("SHOW TABLES");
        assert!(tables.is_empty(), "{edit}: {tables:?}");
    }
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    assert_eq!(target.count("p"), 1);
}

// See: #23 (hostile review, round 3): nothing a tampered schema.sql holds runs as it is
// restored: a DO SETVAL is one call with integers (not a list that moves another
// database's sequence), a CREATE TABLE holds no query (a parenthesised SELECT calling a
// function of the backup's), a CREATE FUNCTION is a stored one (not a library loaded
// into the server with SONAME), a table's files stay in the datadir; and the time zone
// schema.sql sets for its events does not shift the TIMESTAMPs loaded after it.
#[test]
fn nothing_in_a_backup_runs_as_it_is_restored() {
    let wd = Workdir::new("restore_runs");
    let db = TestDb::new("restore_runs");
    let victim = TestDb::new("restore_runs_victim");
    victim.exec(
        "CREATE TABLE v (id INT PRIMARY KEY, x VARCHAR(20)); INSERT INTO v VALUES (1, 'orig');
         CREATE SEQUENCE vs;",
    );
    db.exec(
        "CREATE SEQUENCE s;
         CREATE TABLE t (id INT PRIMARY KEY, at TIMESTAMP NULL);
         SET time_zone = '+00:00'; INSERT INTO t VALUES (1, '2026-01-02 03:04:05');",
    );
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    let bk = wd.path().join("bk");
    let target = TestDb::new("restore_runs_r");
    let v = &victim.name;
    let function = "DELIMITER ;;\nCREATE FUNCTION `f`() RETURNS int MODIFIES SQL DATA BEGIN \
                    SET @q = 1; RETURN 1; END;;\nDELIMITER ;\n";
    // Each edit replaces the statement that starts with its head; `{old}` is that
    // statement as it was.
    for (head, edit, says, object) in [
        (
            "DO SETVAL(`s`",
            format!("DO SETVAL(`s`, 1, 0, 0), SETVAL(`{v}`.`vs`, 1000000, 0, 0);\n"),
            "not a sequence's state",
            None,
        ),
        (
            "CREATE TABLE `t`",
            format!("{function}{{old}} (SELECT 1 AS id, NULL AS at FROM DUAL WHERE f() = 0);\n"),
            "a table made from a query",
            Some(("function", "f")),
        ),
        (
            "CREATE TABLE `t`",
            "{old};\nCREATE FUNCTION `u` RETURNS STRING SONAME 'ha_sphinx.so';\n".into(),
            "a function from a shared library",
            Some(("function", "u")),
        ),
        (
            "CREATE TABLE `t`",
            "{old} DATA DIRECTORY = '/tmp';\n".into(),
            "outside the server's datadir",
            None,
        ),
    ] {
        let fresh = copy(&bk, "t1");
        tamper(&fresh, |s| {
            let at = s.find(head).unwrap();
            let end = at + s[at..].find(";\n").unwrap();
            let new = edit.replace("{old}", &s[at..end]);
            format!("{}{new}{}", &s[..at], &s[end + 2..])
        });
        if let Some((kind, name)) = object {
            list_object(&fresh, kind, name);
        }
        wd.cmd("qimport")
            .args(["--url", &target.url, "--dir", "t1"])
            .fails(2)
            .stderr_has(&[says, "nothing was changed"]);
        let seq: Vec<i64> = victim.query("SELECT next_not_cached_value FROM vs");
        assert_eq!(seq, [1], "{edit}");
        let udfs: Vec<String> = target.query("SELECT name FROM mysql.func");
        assert!(udfs.is_empty(), "{edit}: {udfs:?}");
        let tables: Vec<String> = target.query("SHOW TABLES");
        assert!(tables.is_empty(), "{edit}: {tables:?}");
    }
    // The honest backup: its TIMESTAMP comes back as it was, though schema.sql's last
    // settings before the data were its own.
    let fresh = copy(&bk, "t2");
    tamper(&fresh, |s| {
        let at = s.find("CREATE TABLE `t`").unwrap();
        format!(
            "{}SET SESSION time_zone = '+05:00';\n{}",
            &s[..at],
            &s[at..]
        )
    });
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "t2"])
        .ok();
    let at: Vec<String> =
        target.query("SELECT CAST(CONVERT_TZ(at, @@session.time_zone, '+00:00') AS CHAR) FROM t");
    assert_eq!(at, ["2026-01-02 03:04:05"]);
}

// See: #24 (hostile review): a sequence listed in the manifest whose state schema.sql does
// not set is refused (it would start again below the restored rows).
#[test]
fn a_sequence_without_its_state_is_refused() {
    let wd = Workdir::new("restore_seqstate");
    let db = TestDb::new("restore_seqstate");
    db.exec("CREATE SEQUENCE s; SELECT NEXTVAL(s); CREATE TABLE t (id INT PRIMARY KEY DEFAULT NEXTVAL(s));");
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    let fresh = copy(&wd.path().join("bk"), "t1");
    tamper(&fresh, |s| {
        let at = s.find("DO SETVAL(`s`").unwrap();
        let end = at + s[at..].find(";\n").unwrap() + 2;
        format!("{}{}", &s[..at], &s[end..])
    });
    let target = TestDb::new("restore_seqstate_r");
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "t1"])
        .fails(2)
        .stderr_has(&["schema.sql does not set the state of the sequence s"]);
}
