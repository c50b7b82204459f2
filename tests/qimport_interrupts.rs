//! An import that ends early (Ctrl-C, SIGTERM, SIGKILL, a lost connection, a lock it waits
//! for longer than --lock-wait-timeout): the table as it was, no work table left behind
//! (or dropped by the next import), and one line that says what happened.

use std::fmt::Write as _;

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::setup::users_table;
use crate::util::{interrupt, wait_for, Workdir};

/// Wait until the import into `users` of `db` has sent rows to the server: they are in
/// `users` or its work tables, uncommitted, as a READ UNCOMMITTED reader sees them. An
/// event, not a time (see: #23 (0)); and not `INNODB_TRX`, which the server refreshes only
/// when nobody read it for 100 ms, so that polling it keeps it stale.
fn rows_sent(db: &TestDb) {
    use mysql::prelude::Queryable as _;
    let mut c = db.conn();
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
        .unwrap();
    let c = std::cell::RefCell::new(c);
    wait_for("the import's rows to reach the server", &|| {
        let mut c = c.borrow_mut();
        let tables: Vec<String> = c
            .query(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'users%'",
            )
            .unwrap();
        let rows: u64 = tables
            .iter()
            .map(|t| {
                c.query_first::<u64, _>(format!("SELECT COUNT(*) FROM `{t}`"))
                    .ok()
                    .flatten()
                    .unwrap_or(0)
            })
            .sum();
        rows > 1
    });
}

/// qimport with `args`, started on a pipe it waits on.
fn spawn_on_pipe(wd: &Workdir, args: &[&str]) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = wd.cmd("qimport").args(args).spawn();
    let stdin = child.stdin.take().unwrap();
    (child, stdin)
}

/// qimport `flags` into `users`, started on a pipe with 20,000 new rows written to it; it
/// sends them and waits for more input.
fn importing(
    wd: &Workdir,
    db: &TestDb,
    flags: &[&str],
) -> (std::process::Child, std::process::ChildStdin) {
    use std::io::Write as _;
    let mut args = vec!["--url", db.url.as_str()];
    args.extend(flags);
    args.push("users");
    let (child, mut stdin) = spawn_on_pipe(wd, &args);
    let mut chunk = String::from("id,name,email\n");
    for i in 1000..21_000 {
        writeln!(chunk, "{i},n{i},e{i}@x").unwrap();
    }
    stdin.write_all(chunk.as_bytes()).unwrap();
    stdin.flush().unwrap();
    (child, stdin)
}

/// Kill qimport in the middle of a load (as Ctrl-C or a crash would) and expect the table
/// exactly as before: the open transaction dies with the connection.
#[test]
fn killed_client_leaves_the_table_unchanged() {
    for method in ["load-data", "insert"] {
        let (wd, db) = users_table(&format!("qimport_killed_{}", method.replace('-', "")));
        let before = db.checksum("users");
        let (mut child, stdin) = importing(&wd, &db, &["--method", method]);
        assert!(
            child.try_wait().unwrap().is_none(),
            "{method}: qimport must still be waiting for input"
        );
        // Kill it once rows are in its transaction, while it waits for more input.
        rows_sent(&db);
        child.kill().unwrap();
        child.wait().unwrap();
        drop(stdin);
        sessions_end(&db);
        assert_eq!(db.checksum("users"), before, "{method}");
        assert_eq!(db.count("users"), 1, "{method}");
    }
}

/// The work tables of imports of `users` (`users__qimport_...`).
fn work_tables(db: &TestDb) -> Vec<String> {
    db.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'users\\_\\_qimport\\_%'",
    )
}

/// Wait for the sessions of a client that died to end on the server (it ends them, and
/// frees their locks, once it sees the connection gone).
fn sessions_end(db: &TestDb) {
    wait_for("the sessions of the ended client to end", &|| {
        db.query::<u64>(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE DB = DATABASE() AND ID <> CONNECTION_ID()",
        ) == vec![0]
    });
}

/// See: #4. Ctrl-C or SIGTERM while rows stream in: the table is as it was, an import
/// with a work table (`-j`, `--swap`) drops it before it ends, each says what it undid,
/// and every import ends by the signal itself, as the shell expects of an interrupted
/// command.
#[test]
fn interrupted_import_leaves_the_table_and_no_work_table() {
    let (wd, db) = users_table("qimport_interrupted");
    let before = db.checksum("users");
    for (flags, signal) in [
        (&["-j", "2"][..], "INT"),
        (&["--swap"][..], "TERM"),
        (&["--method", "insert", "--swap"][..], "INT"),
        (&[][..], "INT"),
    ] {
        let (child, stdin) = importing(&wd, &db, flags);
        let staged = !flags.is_empty();
        if staged {
            wait_for("the work table", &|| work_tables(&db).len() == 1);
        }
        // Once rows are in its transaction (it then waits for more input).
        rows_sent(&db);
        let err = interrupt(child, signal);
        drop(stdin);
        if staged {
            assert!(
                err.contains("interrupted: rolling back and dropping"),
                "{flags:?}: {err}"
            );
            assert_eq!(work_tables(&db), Vec::<String>::new(), "{flags:?}: {err}");
        } else {
            assert_eq!(err, "qimport: interrupted: rolling back\n", "{flags:?}");
        }
        sessions_end(&db);
        assert_eq!(db.checksum("users"), before, "{flags:?}");
        assert_eq!(db.count("users"), 1, "{flags:?}");
    }
}

/// See: #4. The connection lost in the middle of a load (here: `KILL CONNECTION` of the
/// import's first session, the one that holds its transaction or its work table): one
/// line that says so, exit 2, the table as it was, and no work table left behind, dropped
/// over a new connection.
#[test]
fn lost_connection_leaves_the_table_and_no_work_table() {
    use mysql::prelude::Queryable as _;
    let (wd, db) = users_table("qimport_lost");
    let before = db.checksum("users");
    let sessions = || -> Vec<u64> {
        db.query(
            "SELECT ID FROM information_schema.PROCESSLIST \
             WHERE DB = DATABASE() AND ID <> CONNECTION_ID() ORDER BY ID",
        )
    };
    for (flags, connections) in [
        (&[][..], 1),
        (&["-j", "2"][..], 3),
        (&["--swap"][..], 1),
        (&["--method", "insert"][..], 1),
    ] {
        let (child, stdin) = importing(&wd, &db, flags);
        wait_for("the import's sessions", &|| sessions().len() == connections);
        rows_sent(&db);
        db.conn()
            .query_drop(format!("KILL CONNECTION {}", sessions()[0]))
            .unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(
            err.contains("lost the connection to the server"),
            "{flags:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
        assert_eq!(work_tables(&db), Vec::<String>::new(), "{flags:?}: {err}");
        sessions_end(&db);
        assert_eq!(db.checksum("users"), before, "{flags:?}");
    }
}

/// See: #4. SIGTERM while loading into a table `--schema` made: the table goes again.
#[test]
fn interrupted_import_drops_the_table_it_made() {
    use std::io::Write as _;
    let (wd, db) = users_table("qimport_interrupted_made");
    wd.create(
        "t2.sql",
        "CREATE TABLE t2 (id INT PRIMARY KEY, name VARCHAR(20))",
    );
    let t2 = || db.query::<String>("SHOW TABLES LIKE 't2'");
    let (child, mut stdin) = spawn_on_pipe(&wd, &["--url", &db.url, "--schema", "t2.sql", "t2"]);
    stdin.write_all(b"id,name\n1,a\n2,b\n").unwrap();
    stdin.flush().unwrap();
    // The table exists: its drop is registered with it (see Undo::made_table).
    wait_for("the table", &|| t2().len() == 1);
    let err = interrupt(child, "TERM");
    assert!(
        err.contains("interrupted: rolling back and dropping"),
        "{err}"
    );
    assert_eq!(t2(), Vec::<String>::new(), "{err}");
}

/// See: #4. A `-j` import killed by SIGKILL leaves its staging table behind; an import
/// beside a live one leaves that one's alone, and the next import after the kill drops it
/// (the killed client's server lock is free) and says so.
#[test]
fn staging_table_of_a_killed_import_is_dropped_by_the_next() {
    use std::io::Write as _;
    let (wd, db) = users_table("qimport_stale_stage");
    let work = || work_tables(&db);
    let (mut child, mut stdin) = spawn_on_pipe(&wd, &["--url", &db.url, "-j", "2", "users"]);
    stdin.write_all(b"id,name,email\n1,a,b\n").unwrap();
    stdin.flush().unwrap();
    wait_for("the staging table", &|| work().len() == 1);
    let live = work();
    let args = ["--url", &db.url, "-j", "2", "users"];
    let run = wd
        .cmd("qimport")
        .args(args)
        .stdin("id,name,email\n5,x,y\n")
        .ok()
        .stderr_has(&["1 row loaded"]);
    assert!(!run.stderr().contains("dropped"), "{}", run.report());
    assert_eq!(work(), live, "a live import's staging table is left alone");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    sessions_end(&db);
    wd.cmd("qimport")
        .args(args)
        .stdin("id,name,email\n6,x,y\n")
        .ok()
        .stderr_has(&[
            &format!("dropped `{}`.`{}`", db.name, live[0]),
            "left behind by an import that was killed",
        ]);
    assert!(work().is_empty(), "{:?}", work());
    let ids: Vec<i64> = db.query("SELECT id FROM users ORDER BY id");
    assert_eq!(ids, vec![5, 6, 100]);
}

// See: #24 (hostile review): an import (a restore too) waits at most --lock-wait-timeout
// for a lock another session holds, then fails with the table as it was.
#[test]
fn an_import_waits_for_a_lock_no_longer_than_it_is_told() {
    let wd = Workdir::new("instant_import_lock");
    let db = TestDb::new("instant_import_lock");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);");
    let waits = |flags: &[&[&str]]| {
        for f in flags {
            wd.cmd("qimport")
                .args(["--url", &db.url, "--lock-wait-timeout", "1", "t"])
                .args(*f)
                .stdin("id\n2\n")
                .fails(2)
                .stderr_has(&["another session holds a lock", "--lock-wait-timeout"]);
        }
    };
    let mut gate = db.gate("t");
    waits(&[&["--truncate"], &["--swap"], &["-j", "2"]]);
    gate.query_drop("UNLOCK TABLES").unwrap();
    assert_eq!(db.query::<i32>("SELECT id FROM t"), [1]);
    // A row another transaction holds (InnoDB's own wait), as the load, --truncate and
    // -j wait for it (hostile review, round 2).
    let mut row = db.conn();
    row.query_drop("BEGIN").unwrap();
    row.query_drop("INSERT INTO t VALUES (2)").unwrap();
    waits(&[&[], &["--truncate"], &["-j", "2"]]);
    row.query_drop("ROLLBACK").unwrap();
    assert_eq!(db.query::<i32>("SELECT id FROM t"), [1]);
}
