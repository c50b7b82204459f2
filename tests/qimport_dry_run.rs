//! `qimport --dry-run`: the load tried and rolled back; refused what the load would be
//! refused, and saying what its rollback could not take back.

use crate::util::db::TestDb;
use crate::util::setup::{database, users_table};
use crate::util::Workdir;

#[test]
fn dry_run_changes_nothing() {
    let (wd, db) = users_table("qimport_dry");
    let before = db.checksum("users");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "users"])
        .stdin("id,name\n1,a\n2,b\n")
        .ok()
        .stderr_has(&[
            "dry run: 2 records are valid and the server took them",
            "rolled back, nothing was changed",
        ]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "users"])
        .stdin("id,name\n1,a\nx,b\n")
        .fails(2)
        .stderr_has(&["stdin:3: column \"id\": value \"x\": not an integer"]);
    assert_eq!(db.checksum("users"), before);
}

// See: #14 (14): --dry-run tries what the server would refuse, and changes nothing.
#[test]
fn dry_run_is_refused_what_the_load_would_be_refused() {
    let (wd, db) = database(
        "safety_dryrun",
        "CREATE TABLE t (id INT PRIMARY KEY, n INT CHECK (n < 100)); INSERT INTO t VALUES (1, 1);",
    );
    for method in ["load-data", "insert"] {
        for (csv, why) in [
            ("id,n\n2,2\n1,5\n", "duplicate key: id '1'"),
            ("id,n\n2,200\n", "CONSTRAINT"),
        ] {
            wd.cmd("qimport")
                .args(["--url", &db.url, "--dry-run", "--method", method, "t"])
                .stdin(csv)
                .fails(2)
                .stderr_has(&[why, "is unchanged"]);
        }
        wd.cmd("qimport")
            .args(["--url", &db.url, "--dry-run", "--method", method, "t"])
            .stdin("id,n\n2,2\n3,3\n")
            .ok()
            .stderr_has(&[
                "dry run: 2 records are valid and the server took them",
                "rolled back",
            ]);
        // With --truncate (or --swap) the existing row is gone first, as in the real run.
        for flag in ["--truncate", "--swap"] {
            wd.cmd("qimport")
                .args(["--url", &db.url, "--dry-run", flag, "--method", method, "t"])
                .stdin("id,n\n1,2\n")
                .ok();
        }
    }
    let got: Vec<(i32, i32)> = db.query("SELECT id, n FROM t");
    assert_eq!(got, [(1, 1)]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "--dir", "bk"])
        .fails(2)
        .stderr_has(&["--dry-run with --dir"]);
}

// See: #23 (3): a dry run says what its rollback could not take back.
#[test]
fn a_dry_run_says_what_it_leaves() {
    let wd = Workdir::new("keeps_dry");
    let db = TestDb::new("keeps_dry");
    db.exec(
        "CREATE SEQUENCE s;
         CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, n BIGINT DEFAULT NEXTVAL(s), v TEXT) AUTO_INCREMENT = 1000;
         CREATE TABLE log (v TEXT) ENGINE=MyISAM;
         CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.v);
         CREATE TABLE plain (id INT PRIMARY KEY);",
    );
    let run = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "t"])
        .stdin("v\na\nb\n")
        .ok();
    run.stderr_has(&[
        "dry run: 2 records are valid",
        "not taken back: the AUTO_INCREMENT counter moved from 1000 to ",
        "the sequence in the default of column n advanced",
        "the trigger t_log ran: what it did that no transaction takes back stays",
    ]);
    assert_eq!(db.count("t"), 0);
    assert_eq!(db.count("log"), 2, "what the README and the summary say");
    // Nothing of the kind: nothing was changed, and it says so.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "plain"])
        .stdin("id\n1\n")
        .ok()
        .stderr_has(&["rolled back, nothing was changed"]);
}

// See: #23 (5): --dry-run --create checks the input against the table it would make,
// makes none, and exits 0; a `-0` or a leading zero keeps its text.
#[test]
fn dry_run_create_and_negative_zero() {
    let wd = Workdir::new("messages_create");
    let db = TestDb::new("messages_create");
    let csv = "id,z,code\n1,-0,007\n2,5,010\n";
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "--create", "made"])
        .stdin(csv)
        .ok()
        .stderr_has(&[
            "would be created: CREATE TABLE",
            "dry run: 2 records are valid for the table --create would make (nothing was made)",
        ]);
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert!(tables.is_empty(), "{tables:?}");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "made"])
        .stdin(csv)
        .ok();
    let back = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--order-by", "id", "made"])
        .ok()
        .stdout();
    assert_eq!(back, csv);
}
