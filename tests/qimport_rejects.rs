//! `--rejects`: bad records set aside, never at the cost of the input, and never a load
//! that empties or replaces a table with nothing. See: #23 (3).

use crate::util::db::TestDb;
use crate::util::Workdir;

fn setup(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'old');");
    (Workdir::new(test), db)
}

// See: #23 (3): --rejects naming the input, however it is named (the same file on stdin,
// /dev/stdin, /proc/self/fd/0, a link to it), is refused before anything is written.
#[test]
fn rejects_never_overwrite_the_input() {
    let (wd, db) = setup("rejects_input");
    let csv = "id,v\n5,a\nx,b\n";
    wd.create("in.csv", csv);
    std::os::unix::fs::symlink("in.csv", wd.path().join("link.csv")).unwrap();
    for script in [
        "qimport --url '{u}' --rejects in.csv t < in.csv",
        "qimport --url '{u}' --rejects /dev/stdin t < in.csv",
        "qimport --url '{u}' --rejects /proc/self/fd/0 t < in.csv",
        "qimport --url '{u}' --rejects link.csv t in.csv",
        "qimport --url '{u}' --rejects link.csv t - < in.csv",
    ] {
        wd.sh(&script.replace("{u}", &db.url))
            .fails(2)
            .stderr_has(&["writing it would destroy the input"]);
        assert_eq!(
            std::fs::read_to_string(wd.path().join("in.csv")).unwrap(),
            csv
        );
    }
    assert_eq!(db.count("t"), 1);
    // A pipe on stdin and a rejects file elsewhere: as before.
    wd.sh(&format!(
        "cat in.csv | qimport --url '{}' --rejects bad.csv t",
        db.url
    ))
    .ok()
    .stderr_has(&["1 row loaded", "1 bad record written to bad.csv"]);
}

// See: #23 (3): an explicit --max-errors holds with --rejects (the load fails whole at the
// N-th bad record); without it, a load in which every record is bad fails, so that
// --truncate and --swap never empty or replace a table with nothing.
#[test]
fn rejects_keep_max_errors_and_never_empty_a_table() {
    let (wd, db) = setup("rejects_limit");
    let bad: String = std::iter::once("id,v\n".to_owned())
        .chain((0..8).map(|i| format!("x{i},bad\n")))
        .collect();
    let mixed = format!("{bad}7,good\n");
    for flags in [
        &["--truncate"][..],
        &["--swap"],
        &["--truncate", "--method", "insert"],
        &["--swap", "--method", "insert"],
        &["-j", "2", "--truncate"],
        &[],
    ] {
        // Explicit --max-errors: stops at the 5th bad record, changes nothing.
        wd.cmd("qimport")
            .args(["--url", &db.url, "--max-errors", "5", "--rejects", "r.csv"])
            .args(flags)
            .arg("t")
            .stdin(&mixed)
            .fails(2)
            .stderr_has(&["bad record 5, and --max-errors 5 stops the load"]);
        assert_eq!(db.count("t"), 1, "{flags:?}");
        // Every record bad, no --max-errors: refused, the table as it was.
        wd.cmd("qimport")
            .args(["--url", &db.url, "--rejects", "r.csv"])
            .args(flags)
            .arg("t")
            .stdin(&bad)
            .fails(2)
            .stderr_has(&["every record was bad: 8 bad records written to r.csv, none loaded"]);
        assert_eq!(db.count("t"), 1, "{flags:?}");
        let rejected = std::fs::read_to_string(wd.path().join("r.csv")).unwrap();
        assert_eq!(rejected.lines().count(), 9, "{flags:?}");
    }
    // Enough good ones: loaded, the bad ones set aside.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects", "r.csv", "--truncate", "t"])
        .stdin(&mixed)
        .ok()
        .stderr_has(&["1 row loaded", "8 bad records written to r.csv"]);
    let rows: Vec<(i32, String)> = db.query("SELECT id, v FROM t");
    assert_eq!(rows, [(7, "good".into())]);
}
