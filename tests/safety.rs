//! Regression tests for the data-safety defects of #14: each flag combination keeps the
//! promises (an export never writes, an import touches only its table and loads exactly
//! what -j 1 would), or is refused with a one-line reason.

use crate::util::db::TestDb;
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

/// A condition that fails with ERROR 1242 once the export passes id 30000 (the rows
/// before it are already on their way).
pub const FAILS_LATE: &str =
    "(SELECT t.seq FROM seq_1_to_2 t WHERE big.id > 30000 OR t.seq = 1) = 1";

// See: #14 (5): an export that dies mid-stream ends its output with a record no CSV reader
// takes as complete, so `qexport | qimport` fails and loads nothing.
#[test]
fn an_export_that_fails_midway_cannot_be_loaded_as_whole() {
    let (wd, db) = database(
        "safety_truncated",
        "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO big SELECT seq, 'x' FROM seq_1_to_40000;
         CREATE TABLE copy LIKE big;",
    );
    let script = format!(
        "qexport --url '{u}' --where '{FAILS_LATE}' big | qimport --url '{u}' copy",
        u = db.url
    );
    let run = wd.sh(&script).fails(2);
    let err = run.stderr();
    assert!(err.contains("qexport: reading rows"), "{}", run.report());
    assert!(
        err.contains("qimport: stdin:") && err.contains("never closed"),
        "{}",
        run.report()
    );
    assert_eq!(db.count("copy"), 0);
    // The stream's last bytes name the failure in an unterminated field.
    let out = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--where", FAILS_LATE, "big"])
        .fails(2);
    let tail = out.stdout();
    let last = tail.lines().last().unwrap();
    assert!(
        last.starts_with("\"qexport: failed: ") && last.contains("ERROR 1242"),
        "{last}"
    );
    assert!(tail.lines().count() > 1000);
    // With -j 2 the key ranges are planned with the condition, which fails before a byte is
    // written: the mark alone, and nothing loaded either. See: #23 (2).
    let script = script.replace("qexport ", "qexport -j 2 ");
    wd.sh(&script).fails(2).stderr_has(&["qimport: stdin:1:"]);
    assert_eq!(db.count("copy"), 0);
    // Nothing written yet: the mark alone (with -n, an empty stream would load as no rows).
    let out = wd
        .cmd("qexport")
        .args(["--url", &db.url, "-e", "SELECT * FROM nowhere"])
        .fails(2)
        .stdout();
    assert!(out.starts_with("\"qexport: failed: -e: Table"), "{out}");
}

fn mode_of(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

// See: #14 (6): -o replaces only regular files, follows links, and keeps modes.
#[test]
fn output_replaces_only_regular_files_and_keeps_their_mode() {
    use std::os::unix::fs::FileTypeExt as _;
    let (wd, db) = database(
        "safety_output",
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2);",
    );
    let export = |o: &str| format!("qexport --url '{}' t -o {o}", db.url);
    // A FIFO is written through, and stays a FIFO.
    wd.sh(&format!(
        "mkfifo fifo && (cat fifo > got &) && umask 077 && {}",
        export("fifo")
    ))
    .ok();
    assert!(std::fs::metadata(wd.path().join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    wd::wait_file(&wd.path().join("got"), "id\n1\n2\n");
    // A symbolic link stays; the file it points to gets the rows.
    std::fs::create_dir(wd.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real/data.csv", wd.path().join("link.csv")).unwrap();
    wd.sh(&export("link.csv")).ok();
    assert!(std::fs::symlink_metadata(wd.path().join("link.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(wd.path().join("real/data.csv")).unwrap(),
        "id\n1\n2\n"
    );
    // A new file by the umask; an existing one keeps its mode.
    wd.sh(&format!("umask 027 && {}", export("new.csv"))).ok();
    assert_eq!(mode_of(&wd.path().join("new.csv")), 0o640);
    wd.sh(&format!("umask 077 && {}", export("real/data.csv")))
        .ok();
    assert_eq!(mode_of(&wd.path().join("real/data.csv")), 0o644);
    wd.sh(&format!(
        "chmod 604 new.csv && umask 077 && {}",
        export("new.csv")
    ))
    .ok();
    assert_eq!(mode_of(&wd.path().join("new.csv")), 0o604);
    // A folder is refused before anything is read.
    wd.sh(&export("real"))
        .fails(2)
        .stderr_has(&["real: is a folder"]);
    // A backup's files and folder follow the umask too; missing parents are made.
    wd.sh(&format!(
        "umask 022 && qexport --url '{}' --all -q -o backups/today",
        db.url
    ))
    .ok();
    for f in ["", "/t.csv", "/schema.sql", "/manifest.json"] {
        let p = wd.path().join(format!("backups/today{f}"));
        let want = if f.is_empty() { 0o755 } else { 0o644 };
        assert_eq!(mode_of(&p), want, "{}", p.display());
    }
}

mod wd {
    /// Wait for a file written by a background command to hold `want`.
    pub fn wait_file(p: &std::path::Path, want: &str) {
        crate::util::wait_for("the FIFO's reader", &|| {
            std::fs::read_to_string(p).is_ok_and(|s| s == want)
        });
    }
}

/// The definitions of a database's views, routines, triggers and events, without its name.
fn definitions(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    let names: Vec<(String, String)> = db.query(&format!(
        "SELECT 'VIEW', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '{d}'
         UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{d}'
         UNION ALL SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{d}'
         UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{d}'
         ORDER BY 1, 2",
        d = db.name
    ));
    let mut c = db.conn();
    for (kind, name) in names {
        use mysql::prelude::Queryable as _;
        let row: mysql::Row = c
            .query_first(format!("SHOW CREATE {kind} `{name}`"))
            .unwrap()
            .unwrap();
        let text: Vec<String> = (0..row.len())
            .filter_map(|i| {
                row.get_opt::<Option<String>, usize>(i)
                    .and_then(Result::ok)
                    .flatten()
            })
            .filter(|v| v.contains("CREATE"))
            .collect();
        out.push(format!("{kind} {name}: {}", text.join(" ")));
    }
    out
}

// See: #14 (7) and (8): generated columns and every object of the database survive
// a backup and its restore; triggers do not fire on the restored rows.
#[test]
fn backups_keep_views_routines_triggers_events_and_generated_columns() {
    let (wd, db) = database(
        "safety_objects",
        "CREATE TABLE t (id INT PRIMARY KEY, price DECIMAL(8,2), qty INT,
           total DECIMAL(10,2) AS (price * qty) STORED, label VARCHAR(20) AS (CONCAT('#', id)) VIRTUAL);
         CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(50));
         INSERT INTO t (id, price, qty) VALUES (1, 2.50, 4), (2, 1.00, 3);
         INSERT INTO log (msg) VALUES ('before');
         CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
         CREATE PROCEDURE note(m VARCHAR(50)) BEGIN INSERT INTO log (msg) VALUES (m); INSERT INTO log (msg) VALUES (';'); END;
         CREATE VIEW v_b AS SELECT id, twice(qty) AS q2 FROM t;
         CREATE VIEW v_a AS SELECT id FROM v_b WHERE q2 > 6;
         CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO log (msg) VALUES (CONCAT('insert ', NEW.id)); END;
         CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO CALL note('nightly');",
    );
    // A table export leaves generated columns out, so it loads back as it is.
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    assert_eq!(csv, "id,price,qty\n1,2.50,4\n2,1.00,3\n");
    let target = TestDb::new("safety_objects_target");
    target.exec(&format!("CREATE TABLE t2 LIKE {}.t", db.name));
    wd.cmd("qimport")
        .args(["--url", &target.url, "t2"])
        .stdin(&csv)
        .ok();
    let got: Vec<(i32, String, String)> =
        target.query("SELECT id, CAST(total AS CHAR), label FROM t2 ORDER BY id");
    assert_eq!(
        got,
        [
            (1, "10.00".into(), "#1".into()),
            (2, "3.00".into(), "#2".into())
        ]
    );
    target.exec("DROP TABLE t2");

    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&[
            "2 tables, 2 views, 1 function, 1 procedure, 1 trigger, 1 event, 3 rows backed up",
        ]);
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .ok()
        .stderr_has(&["2 tables and 6 other objects, 3 rows restored"]);
    assert_eq!(definitions(&target), definitions(&db));
    for t in ["t", "log"] {
        assert_eq!(target.checksum(t), db.checksum(t), "{t}");
    }
    // The trigger came after the data (the log has no 'insert' rows) and works.
    target.exec("INSERT INTO t (id, price, qty) VALUES (3, 1, 1); CALL note('hi');");
    let log: Vec<String> = target.query("SELECT msg FROM log ORDER BY id");
    assert_eq!(log, ["before", "insert 3", "hi", ";"]);
    let v: Vec<i32> = target.query("SELECT id FROM v_a");
    assert_eq!(v, [1]);
    // A second restore into the same database is refused before anything changes.
    target.exec("DROP TABLE t, log");
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .fails(2)
        .stderr_has(&["exists: restore into a database without the backup's objects"]);
    assert!(target.tables().iter().all(|t| t.starts_with("v_")));
}

/// CSV whose records hold quoted line breaks, doubled quotes and CRLF, with a header.
fn multiline_csv(records: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("id,city,note\r\n");
    for i in 0..records {
        let city = ["Paris", "Lyon", "Nice", "Caen"][i % 4];
        match i % 3 {
            0 => writeln!(s, "{i},{city},\"line one\nline \"\"two\"\"\n{i},Paris,x\"").unwrap(),
            1 => writeln!(s, "{i},{city},plain").unwrap(),
            _ => write!(s, "{i},\"{city}\",\"a,b\"\r\n").unwrap(),
        }
    }
    s
}

// See: #14 (10): the fan-out recipes give the whole file's answer on multi-line fields.
#[test]
fn shards_cut_at_record_ends_and_the_recipes_add_up() {
    let wd = Workdir::new("safety_shards");
    let f = wd.create("m.csv", multiline_csv(30_000));
    let whole = wd.cmd("qcount").arg(&f).ok().stdout();
    assert_eq!(whole, "30000\n");
    let groups = wd.cmd("qcount").args(["-g", "city"]).arg(&f).ok().stdout();
    let paris = wd
        .cmd("qgrep")
        .args(["-s", "city", "-x", "Paris"])
        .arg(&f)
        .ok()
        .stdout();
    for n in [1, 2, 3, 7] {
        let ks = (1..=n).map(|k| k.to_string()).collect::<Vec<_>>().join(" ");
        // The recipes of docs/parallel.md, as written there.
        wd.sh(&format!(
            "parallel qcount --shard {{}}/{n} m.csv ::: {ks} | qcount --merge"
        ))
        .ok()
        .stdout_is(&whole);
        wd.sh(&format!(
            "parallel qcount -g city --shard {{}}/{n} m.csv ::: {ks} | qcount --merge"
        ))
        .ok()
        .stdout_is(&groups);
        wd.sh(&format!(
            "parallel -k qgrep --exit-zero -s city -x Paris --shard {{}}/{n} m.csv ::: {ks}"
        ))
        .ok()
        .stdout_is(&paris);
        // -j inside a shard changes nothing either.
        let mut sum = 0;
        for k in 1..=n {
            let out = wd
                .cmd("qcount")
                .args([
                    "-j",
                    "2",
                    "--block-size",
                    "4096",
                    "--shard",
                    &format!("{k}/{n}"),
                ])
                .arg(&f)
                .ok()
                .stdout();
            sum += out.trim().parse::<u64>().unwrap();
        }
        assert_eq!(sum, 30_000, "{n} shards");
    }
    // What parallel --pipe would do (cut at line feeds) goes wrong on this file; shards
    // need a regular file, and refuse what cannot be merged.
    wd.cmd("qcount")
        .args(["--shard", "1/2"])
        .stdin("a\n1\n")
        .fails(2)
        .stderr_has(&["--shard needs exactly one FILE"]);
    wd.cmd("qcount")
        .args(["--shard", "1/2", "--distinct", "city"])
        .arg(&f)
        .fails(2)
        .stderr_has(&["--shard with --distinct"]);
    wd.cmd("qgrep")
        .args(["--shard", "3/2", "x"])
        .arg(&f)
        .fails(2)
        .stderr_has(&["1 <= K <= N"]);
}

// See: #14 (13): NULL markers that are CSV structure are refused by every tool.
#[test]
fn null_markers_that_break_the_csv_are_refused() {
    let wd = Workdir::new("safety_null");
    for tool in ["qgrep", "qcount", "qexport", "qimport"] {
        for bad in ["x,y", "\"", "a\nb"] {
            let mut c = wd.cmd(tool).args(["--null", bad]);
            c = match tool {
                "qgrep" => c.arg("x"),
                "qexport" | "qimport" => c.args(["-D", "d", "t"]),
                _ => c,
            };
            c.stdin("a\n")
                .fails(2)
                .stderr_has(&["--null", "a NULL marker cannot hold"]);
        }
    }
}

// See: #14 (smaller ones): qgrep, qcount and the messages of qimport.
#[test]
fn small_refusals_and_true_messages() {
    let (wd, db) = database(
        "safety_small",
        "CREATE TABLE t (id INT PRIMARY KEY, v LONGTEXT);
         INSERT INTO t VALUES (1, 'old');",
    );
    wd.create("a.csv", "id,name\n1,x\n");
    wd.create("b.csv", "name,id\ny,2\n");
    wd.cmd("qgrep")
        .args(["-v", "zzz", "a.csv", "b.csv"])
        .fails(2)
        .stderr_has(&["b.csv: its header differs from a.csv's"]);
    wd.cmd("qgrep")
        .args(["-s", "99", "x", "a.csv"])
        .fails(2)
        .stderr_has(&["column 99 is past the last one (the records have 2 columns)"]);
    wd.cmd("qgrep")
        .args(["-e", "ok", "-e", "ab[", "a.csv"])
        .fails(2)
        .stderr_has(&["invalid pattern \"ab[\": unclosed character class"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("18446744073709551615\n1\n")
        .fails(2)
        .stderr_has(&["the counts add up past 18446744073709551615"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("k,count\na,18446744073709551615\nk,count\na,1\n")
        .fails(2)
        .stderr_has(&["the counts add up past"]);
    // --mode ignore says how many rows it loaded, not how many it read.
    for method in ["load-data", "insert"] {
        db.exec("DELETE FROM t WHERE id > 1");
        wd.cmd("qimport")
            .args([
                "--url", &db.url, "--mode", "ignore", "--method", method, "t",
            ])
            .stdin("id,v\n1,new\n2,two\n2,deux\n")
            .ok()
            .stderr_has(&["t: 1 row loaded", "; 2 duplicates skipped"]);
    }
    // Ragged records are bad records, not "bad values".
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,v\n5\n6\n")
        .fails(2)
        .stderr_has(&["2 bad records;"]);
    // A value INSERT cannot send is named as such, not as a lost connection.
    let big = format!("id,v\n7,{}\n", "x".repeat(17 << 20));
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "t"])
        .stdin(&big)
        .fails(2)
        .stderr_has(&[
            "stdin:2: column \"v\"",
            "more than the server's max_allowed_packet",
        ]);
    // A driver error reads as words.
    let (host, _) = db.host_port();
    wd.cmd("qexport")
        .args(["-h", &host, "-P", "1", "-u", "root", "-D", "x", "t"])
        .fails(2)
        .stderr_has(&["Could not connect to address"]);
    assert!(!wd
        .cmd("qexport")
        .args(["-h", &host, "-P", "1", "-u", "root", "-D", "x", "t"])
        .fails(2)
        .stderr()
        .contains("DriverError"));
}
