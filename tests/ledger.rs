//! `qimport --ledger`: each file loaded exactly once, whatever runs beside it, dies in
//! the middle or comes again. The tables have no key, so that a file loaded twice shows
//! as extra rows. Every wait is on an event (a lock the test holds, a session seen in the
//! processlist), never on a time. See: #27.

use std::process::Child;

use mysql::prelude::Queryable;

use crate::util::db::TestDb;
use crate::util::{wait_for, Workdir};

fn setup(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec("CREATE TABLE ev (file INT, n INT)");
    let wd = Workdir::new(test);
    std::fs::create_dir_all(wd.path().join("in")).unwrap();
    (wd, db)
}

/// File `k` of 3 rows, `file,n`.
fn write_file(wd: &Workdir, k: u32) {
    wd.create(
        &format!("in/f{k:02}.csv"),
        format!("file,n\n{k},1\n{k},2\n{k},3\n"),
    );
}

/// How many times each file's rows are in `ev` (3 rows a file).
fn loads(db: &TestDb) -> Vec<(u32, u64)> {
    db.query("SELECT file, COUNT(*) DIV 3 FROM ev GROUP BY file ORDER BY file")
}

fn status_of(db: &TestDb, file: &str) -> Option<(String, Option<String>)> {
    db.conn()
        .exec_first(
            "SELECT status, error_message FROM ledger WHERE file_name LIKE ?",
            (format!("%{file}"),),
        )
        .unwrap()
}

/// End, on the server, the session that runs a LOAD DATA in `db` (a worker's).
fn kill_the_load(db: &TestDb) {
    let id: Option<u64> = db
        .conn()
        .query_first(format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE 'LOAD DATA%'",
            db.name
        ))
        .unwrap();
    db.exec(&format!("KILL CONNECTION {}", id.unwrap()));
}

fn spawn(wd: &Workdir, args: &[&str]) -> Child {
    wd.cmd("qimport").args(args).spawn()
}

/// A watcher, stopped by SIGTERM when the test is done with it, or killed when the test
/// fails first (a watcher never ends by itself).
struct Stopped(Option<Child>);

impl Stopped {
    fn stop(mut self) -> (i32, String) {
        let child = self.0.take().expect("running");
        crate::util::send(&child, "TERM");
        ended(child)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let (_, err) = ended(c);
            eprintln!("a watcher killed; it said:\n{err}");
        }
    }
}

fn ended(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// See: #27: 12 files, one bad; a worker killed (SIGKILL) in the middle of a file; two
// more racing over the files in opposite orders; a rerun: every good file once, the bad
// one `error` with its line, the exit statuses as promised.
#[test]
fn every_file_once_through_a_kill_and_a_race() {
    let (wd, db) = setup("ledger_race");
    for k in 1..=11 {
        write_file(&wd, k);
    }
    wd.create("in/f12.csv", "file,n\n12,1\ntwelve,2\n");
    let mut files: Vec<String> = (1..=12).map(|k| format!("in/f{k:02}.csv")).collect();
    let ledger = ["--url", &db.url, "--ledger", "ledger", "ev"];
    // The first worker waits at the gate in the middle of f01, holding it, and dies.
    let gate = db.gate("ev");
    let first = spawn(&wd, &[&ledger[..], &["in/f01.csv"]].concat());
    wait_for("the first worker at the gate", &|| {
        db.running("%lock%", "LOAD DATA%")
    });
    // A second run meets the live worker's file and leaves it alone.
    let (code, err) = ended(spawn(&wd, &[&ledger[..], &["in/f01.csv"]].concat()));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("in/f01.csv: skipped: another run is loading it now"),
        "{err}"
    );
    let pid = first.id();
    crate::util::send(&first, "KILL");
    drop(gate);
    let (code, _) = ended(first);
    assert_ne!(code, 0, "killed");
    assert_eq!(status_of(&db, "f01.csv").unwrap().0, "in_progress");
    wait_for("the killed worker's session to end", &|| {
        !db.running("%", "LOAD DATA%")
    });
    let st = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--ledger", "ledger", "--status"])
        .ok()
        .stdout();
    assert!(
        st.contains("in/f01.csv,") && st.contains(",stale,"),
        "{st} (pid {pid})"
    );
    // Two workers race over every file, in opposite orders.
    let a = spawn(
        &wd,
        &[
            &ledger[..],
            &files.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    files.reverse();
    let b = spawn(
        &wd,
        &[
            &ledger[..],
            &files.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    let (ca, ea) = ended(a);
    let (cb, eb) = ended(b);
    // Whoever tried the bad file failed with 2; a run that only skipped it ended with 0.
    for (code, err) in [(ca, &ea), (cb, &eb)] {
        let tried = err.contains("in/f12.csv: failed:");
        assert_eq!(code, if tried { 2 } else { 0 }, "{err}");
    }
    assert!(ea.contains("in/f12.csv: failed:") || eb.contains("in/f12.csv: failed:"));
    let once: Vec<(u32, u64)> = (1..=11).map(|k| (k, 1)).collect();
    assert_eq!(loads(&db), once, "{ea}\n{eb}");
    let (status, msg) = status_of(&db, "f12.csv").unwrap();
    assert_eq!(status, "error");
    assert!(
        msg.unwrap_or_default()
            .contains("in/f12.csv:3: column \"file\": value \"twelve\""),
        "the error names its physical line"
    );
    // A rerun loads nothing twice; the bad file fails again (exit 2), counted.
    let r = wd.cmd("qimport").args(ledger).args(&files).fails(2);
    assert_eq!(loads(&db), once, "{}", r.report());
    let attempts: Option<u32> = db
        .conn()
        .query_first("SELECT attempts FROM ledger WHERE file_name LIKE '%f12.csv'")
        .unwrap();
    assert!(attempts >= Some(2));
    // The bad file fixed: loaded on the next run; the same bytes by another name, or
    // gzipped, are skipped.
    wd.create("in/f12.csv", "file,n\n12,1\n12,2\n12,3\n");
    std::fs::copy(wd.path().join("in/f03.csv"), wd.path().join("in/copy.csv")).unwrap();
    wd.sh("gzip -k in/f04.csv").ok();
    let r = wd
        .cmd("qimport")
        .args(ledger)
        .args(["in/f12.csv", "in/copy.csv", "in/f04.csv.gz"])
        .ok()
        .stderr_has(&[
            "in/f12.csv: 3 rows loaded into",
            "in/copy.csv: skipped: loaded into",
            "as in/f03.csv (the same bytes)",
            "in/f04.csv.gz: skipped: loaded into",
        ]);
    let all: Vec<(u32, u64)> = (1..=12).map(|k| (k, 1)).collect();
    assert_eq!(loads(&db), all, "{}", r.report());
}

// See: #27: a worker's session killed on the server in the middle of a file: the file is
// not done; the next run loads it, once. --retry sets a done file back to new.
#[test]
fn a_killed_session_loads_nothing_and_retry_loads_again() {
    let (wd, db) = setup("ledger_kill");
    write_file(&wd, 1);
    let ledger = ["--url", &db.url, "--ledger", "ledger", "ev"];
    let gate = db.gate("ev");
    let worker = spawn(&wd, &[&ledger[..], &["in/f01.csv"]].concat());
    wait_for("the worker at the gate", &|| {
        db.running("%lock%", "LOAD DATA%")
    });
    kill_the_load(&db);
    drop(gate);
    let (code, err) = ended(worker);
    assert_eq!(code, 2, "{err}");
    assert_eq!(loads(&db), []);
    assert_eq!(status_of(&db, "f01.csv").unwrap().0, "error");
    wd.cmd("qimport").args(ledger).arg("in/f01.csv").ok();
    assert_eq!(loads(&db), [(1, 1)]);
    // The operator empties the table on purpose and asks for the file again.
    db.exec("DELETE FROM ev");
    let retry = ["--url", &db.url, "--ledger", "ledger", "--retry", "ev"];
    wd.cmd("qimport")
        .args(retry)
        .arg("in/f01.csv")
        .ok()
        .stderr_has(&["in/f01.csv: set back to new (was done)"]);
    wd.cmd("qimport").args(retry).arg("in/nope.csv").fails(2);
    wd.cmd("qimport").args(ledger).arg("in/f01.csv").ok();
    assert_eq!(loads(&db), [(1, 1)]);
    // What cannot work per file is refused with its reason.
    for (args, why) in [
        (
            &["--truncate", "in/f01.csv"][..],
            "--truncate with --ledger: each file is a load of its own",
        ),
        (&["--swap", "in/f01.csv"][..], "--swap with --ledger"),
        (&["/dev/stdin"][..], "not a regular file"),
        (
            &["--watch", "nowhere"][..],
            "--watch nowhere: no such folder",
        ),
        (&["-j", "2", "in/f01.csv"][..], "-j with --ledger"),
        (&[][..], "give FILEs or --watch DIR"),
    ] {
        wd.cmd("qimport")
            .args(ledger)
            .args(args)
            .fails(2)
            .stderr_has(&[why]);
    }
}

// See: #27: two --watch consumers share a folder a producer renames 50 files into: each
// file once. SIGTERM to both while each is in the middle of a file: both end with 0,
// nothing half loaded; restarted, they load the rest.
#[test]
fn two_watchers_share_a_folder_and_stop_cleanly() {
    let (wd, db) = setup("ledger_watch");
    let watch = [
        "--url", &db.url, "--ledger", "ledger", "--watch", "in", "ev",
    ];
    let start = || {
        (
            Stopped(Some(spawn(&wd, &watch))),
            Stopped(Some(spawn(&wd, &watch))),
        )
    };
    let (a, b) = start();
    for k in 1..=50 {
        // Written under a name the watchers leave alone, then renamed into place.
        wd.create(
            &format!("in/.f{k:02}.tmp"),
            format!("file,n\n{k},1\n{k},2\n{k},3\n"),
        );
        std::fs::rename(
            wd.path().join(format!("in/.f{k:02}.tmp")),
            wd.path().join(format!("in/f{k:02}.csv")),
        )
        .unwrap();
    }
    // (The ledger is made by the first watcher to start.)
    let done = || -> u64 {
        db.conn()
            .query_first("SELECT COUNT(*) FROM ledger WHERE status = 'done'")
            .ok()
            .flatten()
            .unwrap_or(0)
    };
    wait_for("50 files done", &|| done() == 50);
    assert_eq!(loads(&db), (1..=50).map(|k| (k, 1)).collect::<Vec<_>>());
    // Both in the middle of a file (at the gate), then stopped.
    let gate = db.gate("ev");
    for k in 51..=54 {
        write_file(&wd, k);
    }
    wait_for("both watchers at the gate", &|| {
        let n: Option<u64> = db
            .conn()
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'LOAD DATA%'",
                (&db.name,),
            )
            .unwrap();
        n == Some(2)
    });
    let (ca, ea) = a.stop();
    let (cb, eb) = b.stop();
    drop(gate);
    assert_eq!((ca, cb), (0, 0), "{ea}\n{eb}");
    assert_eq!(loads(&db).len(), 50, "nothing half loaded");
    let (a, b) = start();
    wait_for("54 files done", &|| done() == 54);
    assert_eq!(a.stop().0, 0);
    assert_eq!(b.stop().0, 0);
    assert_eq!(loads(&db), (1..=54).map(|k| (k, 1)).collect::<Vec<_>>());
}

// See: #27: a file rewritten while it is loaded (a producer writing in place) is not
// recorded under the bytes read before: it fails, and the next run loads what it holds.
#[test]
fn a_file_rewritten_during_its_load_is_refused() {
    let (wd, db) = setup("ledger_rewritten");
    write_file(&wd, 1);
    let ledger = ["--url", &db.url, "--ledger", "ledger", "ev"];
    let gate = db.gate("ev");
    let worker = spawn(&wd, &[&ledger[..], &["in/f01.csv"]].concat());
    wait_for("the worker at the gate", &|| {
        db.running("%lock%", "LOAD DATA%")
    });
    wd.create("in/f01.csv", "file,n\n2,1\n2,2\n2,3\n");
    drop(gate);
    let (code, err) = ended(worker);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the file changed while it was loaded"),
        "{err}"
    );
    assert_eq!(loads(&db), []);
    wd.cmd("qimport").args(ledger).arg("in/f01.csv").ok();
    assert_eq!(loads(&db), [(2, 1)]);
}

// See: #27 (hostile review): a run that lost its session (killed on the server) does not
// mark a file another run loaded since as failed; a failure after the commit never
// turns done into error; a ledger of the wrong shape or engine, the target as its own
// ledger, and a target that cannot roll back are refused; overlapping runs that move
// files away skip what the other moved instead of failing.
#[test]
fn the_ledger_keeps_its_word_against_a_hostile_review() {
    let (wd, db) = setup("ledger_review");
    write_file(&wd, 1);
    let ledger = ["--url", &db.url, "--ledger", "ledger", "ev"];
    // A (its session killed while it waits) and B (loads the file): A's failure leaves
    // B's done alone, and the file is not loaded again.
    let gate = db.gate("ev");
    let a = spawn(&wd, &[&ledger[..], &["in/f01.csv"]].concat());
    wait_for("A at the gate", &|| db.running("%lock%", "LOAD DATA%"));
    kill_the_load(&db);
    drop(gate);
    let (code, _) = ended(a);
    assert_eq!(code, 2);
    wd.cmd("qimport").args(ledger).arg("in/f01.csv").ok();
    assert_eq!(status_of(&db, "f01.csv").unwrap().0, "done");
    wd.cmd("qimport").args(ledger).arg("in/f01.csv").ok();
    assert_eq!(loads(&db), [(1, 1)]);
    // Refusals, each with its reason.
    db.exec("CREATE TABLE wrong (x INT) ENGINE=InnoDB; CREATE TABLE myl (sha256 CHAR(64)) ENGINE=MyISAM; CREATE TABLE my_ev (file INT, n INT) ENGINE=MyISAM");
    for (args, why) in [
        (
            &["--url", &db.url, "--ledger", "wrong", "ev", "in/f01.csv"][..],
            "is no ledger (it has no column",
        ),
        (
            &["--url", &db.url, "--ledger", "myl", "ev", "in/f01.csv"][..],
            "a ledger must be InnoDB",
        ),
        (
            &["--url", &db.url, "--ledger", "ev", "ev", "in/f01.csv"][..],
            "the ledger must be a table of its own",
        ),
        (
            &[
                "--url",
                &db.url,
                "--ledger",
                "ledger",
                "my_ev",
                "in/f01.csv",
            ][..],
            "ENGINE=MyISAM cannot roll back",
        ),
    ] {
        wd.cmd("qimport").args(args).fails(2).stderr_has(&[why]);
    }
    // Two runs that move what they load: the file one moved is skipped by the other.
    std::fs::create_dir_all(wd.path().join("done")).unwrap();
    write_file(&wd, 2);
    wd.cmd("qimport")
        .args(ledger)
        .args(["--done-dir", "done", "in/f02.csv"])
        .ok();
    wd.cmd("qimport")
        .args(ledger)
        .args(["--done-dir", "done", "in/f02.csv"])
        .ok()
        .stderr_has(&["in/f02.csv: skipped: gone"]);
    // The same name again, other bytes: moved beside the first, not over it.
    wd.create("in/f02.csv", "file,n\n3,1\n3,2\n3,3\n");
    wd.cmd("qimport")
        .args(ledger)
        .args(["--done-dir", "done", "in/f02.csv"])
        .ok();
    let moved = std::fs::read_dir(wd.path().join("done")).unwrap().count();
    assert_eq!(moved, 2);
    assert_eq!(loads(&db), [(1, 1), (2, 1), (3, 1)]);
}
