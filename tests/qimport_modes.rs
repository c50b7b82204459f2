//! What a load does with the rows already in the table: `--mode ignore|replace|upsert`
//! (which record of a repeated key wins) and `--truncate` (all or nothing, and never
//! emptied by an input that holds no record).

use crate::util::db::TestDb;
use crate::util::setup::{database, users_table};

#[test]
fn modes_ignore_replace_upsert() {
    for method in ["load-data", "insert"] {
        let (wd, db) = users_table(&format!("qimport_modes_{}", method.replace('-', "")));
        let load = |mode: &str, data: &str| {
            wd.cmd("qimport")
                .args([
                    "--url", &db.url, "--method", method, "--mode", mode, "users",
                ])
                .stdin(data)
                .ok();
        };
        load("ignore", "id,name\n100,Ignored\n101,New\n");
        let rows = |db: &TestDb| -> Vec<(i64, Option<String>, Option<String>)> {
            db.query("SELECT id, name, email FROM users ORDER BY id")
        };
        assert_eq!(
            rows(&db),
            vec![
                (100, Some("Existing".into()), Some("e@x.org".into())),
                (101, Some("New".into()), None)
            ],
            "{method}"
        );
        load("replace", "id,name\n100,Replaced\n");
        assert_eq!(
            rows(&db)[0],
            (100, Some("Replaced".into()), None),
            "{method}: replace drops the other columns"
        );
        db.exec("UPDATE users SET email = 'keep@x.org' WHERE id = 100;");
        load("upsert", "id,name\n100,Upserted\n102,Third\n");
        assert_eq!(
            rows(&db),
            vec![
                (100, Some("Upserted".into()), Some("keep@x.org".into())),
                (101, Some("New".into()), None),
                (102, Some("Third".into()), None),
            ],
            "{method}: upsert updates only the loaded columns"
        );
    }
}

// See: #14 (9): upsert with LOAD DATA takes a file that repeats a key; the later record wins.
#[test]
fn upsert_takes_repeated_keys_with_every_method() {
    let (wd, db) = database(
        "safety_upsert",
        "CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(20) UNIQUE, v TEXT, n INT DEFAULT 7);
         INSERT INTO t VALUES (1, 'a', 'old', 1), (5, 'e', 'keep', 5);",
    );
    let csv = "id,email,v\n1,a,one\n2,b,two\n1,a,uno\n3,c,three\n2,b,dos\n";
    for method in ["load-data", "insert"] {
        wd.cmd("qimport")
            .args([
                "--url", &db.url, "--mode", "upsert", "--method", method, "t",
            ])
            .stdin(csv)
            .ok();
        let got: Vec<(i32, String, String, i32)> =
            db.query("SELECT id, email, v, n FROM t ORDER BY id");
        assert_eq!(
            got,
            [
                (1, "a".into(), "uno".into(), 1),
                (2, "b".into(), "dos".into(), 7),
                (3, "c".into(), "three".into(), 7),
                (5, "e".into(), "keep".into(), 5)
            ],
            "{method}"
        );
        db.exec("DELETE FROM t WHERE id IN (2, 3); UPDATE t SET v = 'old' WHERE id = 1;");
    }
}

#[test]
fn truncate_replaces_content_atomically() {
    let (wd, db) = users_table("qimport_truncate");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "users"])
        .stdin("id,name\n1,a\nbad,b\n")
        .fails(2);
    assert_eq!(
        db.count("users"),
        1,
        "a failed --truncate load keeps the old rows"
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "users"])
        .stdin("id,name\n1,a\n2,b\n")
        .ok();
    assert_eq!(
        db.query::<i64>("SELECT id FROM users ORDER BY id"),
        vec![1, 2]
    );
}

// See: #23 (review): without a header, an input with no record looks the same as a
// producer that died before writing: --truncate and --swap refuse it (with every method
// and -j), the table unchanged; a plain load of nothing stays a no-op.
#[test]
fn an_empty_headerless_input_empties_nothing() {
    let (wd, db) = database(
        "empty_headerless",
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2);",
    );
    for flags in [
        &["--truncate"][..],
        &["--truncate", "-j", "2"],
        &["--truncate", "--method", "insert"],
        &["--swap"],
        &["--swap", "--dry-run"],
    ] {
        // (In a one-column table, a blank line is a record: a NULL, refused here.)
        for (input, says) in [
            ("", "the input holds no record"),
            ("\n\n", "NULL in a NOT NULL column"),
        ] {
            wd.cmd("qimport")
                .args(["--url", &db.url, "-n", "t"])
                .args(flags)
                .stdin(input)
                .fails(2)
                .stderr_has(&[says, "t is unchanged"]);
            assert_eq!(db.count("t"), 2, "{flags:?} {input:?}");
        }
    }
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "t"])
        .stdin("")
        .ok()
        .stderr_has(&["0 rows loaded"]);
    // A stream cut by a failed export is named as such, not as an empty input.
    for j in ["1", "2"] {
        wd.cmd("qimport")
            .args(["--url", &db.url, "-n", "--truncate", "-j", j, "t"])
            .stdin("7\n8\n\"qexport: failed: lost the connection")
            .fails(2)
            .stderr_has(&["stdin:3: unterminated quoted field", "t is unchanged"]);
    }
    assert_eq!(db.count("t"), 2);
    // With a header, an input of no rows is a finished producer's: --truncate empties.
    wd.cmd("qimport")
        .args(["-q", "--url", &db.url, "--truncate", "t"])
        .stdin("id\n")
        .ok();
    assert_eq!(db.count("t"), 0);
}
