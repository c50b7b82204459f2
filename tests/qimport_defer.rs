//! Secondary indexes built once, after the rows, wherever the table is unseen until the
//! load is done (`--swap`, `-j N`, `--schema`, `--dir`): the table users see afterwards is
//! exactly the one they had, and a duplicate of a deferred unique key is said with its
//! lines, the table unchanged. See: #29.

use std::fmt::Write;

use crate::util::db::TestDb;
use crate::util::Workdir;

/// Every kind of key a table can show: a unique key that may wait and hash ones that may
/// not (one on short columns, which `CREATE TABLE ... LIKE` makes a B-tree), a prefix, a DESC part, comments, IGNORED, an odd name, SPATIAL and FULLTEXT; and a
/// child whose foreign key needs its first key.
const TABLES: &str = "CREATE TABLE parent (id INT PRIMARY KEY);
CREATE TABLE t (
  id INT PRIMARY KEY,
  email VARCHAR(100),
  city VARCHAR(50),
  signup DATE,
  bio TEXT NOT NULL,
  pt POINT NOT NULL,
  UNIQUE KEY email (email) COMMENT 'one each',
  UNIQUE KEY bio_u (bio) USING HASH,
  UNIQUE KEY short_hash (id, city) USING HASH,
  SPATIAL KEY sp (pt),
  KEY city_signup (city(10), signup DESC) IGNORED,
  KEY `odd ``name` (signup) COMMENT 'a, b',
  FULLTEXT KEY ft (bio));
CREATE TABLE u (
  id INT PRIMARY KEY,
  email VARCHAR(100) NOT NULL,
  city VARCHAR(50),
  UNIQUE KEY email (email),
  KEY city (city));
CREATE TABLE child (
  id INT PRIMARY KEY,
  parent_id INT,
  v INT,
  KEY by_parent (parent_id),
  KEY v_key (v),
  CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id));
INSERT INTO parent SELECT seq FROM seq_1_to_10;
INSERT INTO t SELECT seq, CONCAT('u', seq, '@x.org'), ELT(1 + seq % 3, 'Oslo', 'Lima', NULL),
  '2024-01-01' + INTERVAL seq DAY, CONCAT('bio ', seq), POINT(seq, -seq) FROM seq_1_to_300;
INSERT INTO u SELECT seq, CONCAT('u', seq, '@x.org'), ELT(1 + seq % 2, 'Oslo', 'Lima') FROM seq_1_to_300;
INSERT INTO child SELECT seq, 1 + seq % 10, seq FROM seq_1_to_300;";

/// SHOW CREATE TABLE, but for the AUTO_INCREMENT counter (the loaded ids move it).
fn shown(db: &TestDb, table: &str) -> String {
    let rows: Vec<(String, String)> = db.query(&format!("SHOW CREATE TABLE `{table}`"));
    let create = rows.into_iter().next().unwrap().1;
    match create.split_once(" AUTO_INCREMENT=") {
        Some((a, b)) => format!("{a}{}", b.trim_start_matches(|c: char| c.is_ascii_digit())),
        None => create,
    }
}

/// The database of [`TABLES`], each table as qexport writes it, and SHOW CREATE TABLE of
/// each.
fn source(test: &str) -> (Workdir, TestDb, Vec<(&'static str, String)>) {
    let db = TestDb::new(test);
    db.exec(TABLES);
    let wd = Workdir::new(test);
    let mut shown_before = Vec::new();
    for table in ["t", "u", "child"] {
        let csv = wd
            .cmd("qexport")
            .args(["--url", &db.url, table])
            .ok()
            .stdout();
        wd.create(&format!("{table}.csv"), csv);
        shown_before.push((table, shown(&db, table)));
    }
    (wd, db, shown_before)
}

#[test]
fn deferred_indexes_come_back_as_they_were() {
    let (wd, db, before) = source("defer_same");
    let sums: Vec<Option<u64>> = ["t", "u"].iter().map(|t| db.checksum(t)).collect();
    let tu = [("t", 0), ("u", 1)];
    let file = |t: &str| wd.path().join(format!("{t}.csv"));
    // --swap, into a table with rows; -j 2, into an empty one. (t keeps its unique keys:
    // the hash one comes last and must stay.)
    for how in [["--swap"].as_slice(), ["-j", "2", "--truncate"].as_slice()] {
        for (table, i) in tu {
            let r = wd
                .cmd("qimport")
                .args(["--url", &db.url, "--progress"])
                .args(how)
                .arg(table)
                .arg(file(table))
                .ok();
            if table == "t" && how[0] == "-j" {
                // A unique key USING HASH deadlocks concurrent loads: one connection,
                // into the table as it is.
                r.stderr_has(&["has a unique key USING HASH", "over one connection"]);
            } else {
                r.stderr_has(&["building 2 indexes"]);
            }
            assert_eq!(shown(&db, table), before[i].1, "{how:?} {table}");
            assert_eq!(db.checksum(table), sums[i], "{how:?} {table}");
        }
    }
    // --mode upsert: a repeated key decides what happens to a row, so unique keys stay.
    wd.cmd("qimport")
        .args([
            "--url",
            &db.url,
            "--progress",
            "--swap",
            "--mode",
            "upsert",
            "u",
        ])
        .arg(file("u"))
        .ok()
        .stderr_has(&["building 1 index"]);
    assert_eq!(shown(&db, "u"), before[1].1);
    // --no-defer-indexes: none built afterwards.
    let r = wd
        .cmd("qimport")
        .args([
            "--url",
            &db.url,
            "--progress",
            "--swap",
            "--no-defer-indexes",
            "u",
        ])
        .arg(file("u"))
        .ok();
    assert!(!r.stderr().contains("building"), "{}", r.report());
    // --schema: the table made from its definition. (t is loaded as it is: a copy of it
    // would make its short unique key USING HASH a B-tree.)
    for (table, i) in tu {
        wd.create(&format!("{table}.sql"), format!("{};\n", before[i].1));
        db.exec(&format!("DROP TABLE {table}"));
        let r = wd
            .cmd("qimport")
            .args(["--url", &db.url, "--progress", "--schema"])
            .arg(wd.path().join(format!("{table}.sql")))
            .arg(table)
            .arg(file(table))
            .ok();
        assert_eq!(
            r.stderr().contains("building 2 indexes"),
            table == "u",
            "{}",
            r.report()
        );
        assert_eq!(shown(&db, table), before[i].1, "--schema {table}");
        assert_eq!(db.checksum(table), sums[i], "--schema {table}");
    }
}

#[test]
fn a_restore_builds_its_indexes_after_the_rows() {
    let (wd, db, before) = source("defer_restore");
    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o"])
        .arg(wd.path().join("bk"))
        .ok();
    let to = TestDb::new("defer_restore_to");
    wd.cmd("qimport")
        .args(["--url", &to.url, "--progress", "--dir"])
        .arg(wd.path().join("bk"))
        .ok()
        .stderr_has(&["building 2 indexes", "building 1 index"]);
    for (table, create) in &before {
        assert_eq!(&shown(&to, table), create, "{table}");
        assert_eq!(to.checksum(table), db.checksum(table), "{table}");
    }
}

#[test]
fn a_duplicate_met_by_the_deferred_build_is_said_with_its_lines() {
    let db = TestDb::new("defer_dup");
    db.exec(
        "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, city VARCHAR(50),
           UNIQUE KEY email (email), KEY city (city));
         INSERT INTO u VALUES (1, 'old@x.org', 'Oslo');",
    );
    let wd = Workdir::new("defer_dup");
    let mut csv = String::from("id,email,city\n");
    for i in 1..=50 {
        let email = if i == 40 {
            "a7@x.org".into()
        } else {
            format!("a{i}@x.org")
        };
        writeln!(csv, "{i},{email},Lima").unwrap();
    }
    let file = wd.create("u.csv", &csv);
    let before = db.checksum("u");
    for how in [["--swap"].as_slice(), ["-j", "2", "--truncate"].as_slice()] {
        wd.cmd("qimport")
            .args(["--url", &db.url])
            .args(how)
            .arg("u")
            .arg(&file)
            .fails(2)
            .stderr_has(&[
                "u.csv:41: duplicate key: email 'a7@x.org' (key email) is on line 8 too",
                "u is unchanged",
            ]);
        assert_eq!(db.checksum("u"), before, "{how:?}");
        assert_eq!(db.tables(), ["u"], "{how:?}: no work table left");
    }
    // With --schema, the table made is dropped again.
    db.exec("DROP TABLE u");
    let schema = wd.create(
        "u.sql",
        "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, UNIQUE KEY email (email), city VARCHAR(50));",
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema"])
        .arg(&schema)
        .arg("u")
        .arg(&file)
        .fails(2)
        .stderr_has(&[
            "u.csv:41: duplicate key: email 'a7@x.org' (key email) is on line 8 too",
            "was dropped again",
        ]);
    assert!(db.tables().is_empty());
}

#[test]
fn without_alter_the_load_keeps_its_indexes_and_says_so() {
    let (wd, db, before) = source("defer_noalter");
    let (user, url) = db.user("pw-defer");
    db.exec(&format!(
        "REVOKE ALTER ON `{}`.* FROM '{user}'@'%'; DROP TABLE u",
        db.name
    ));
    let schema = wd.create("u.sql", format!("{};\n", before[1].1));
    let r = wd
        .cmd("qimport")
        .args(["--url", &url, "--progress", "--schema"])
        .arg(&schema)
        .arg("u")
        .arg(wd.path().join("u.csv"))
        .ok()
        .stderr_has(&["its indexes are built as the rows come (ALTER on it would"]);
    assert!(!r.stderr().contains("building"), "{}", r.report());
    assert_eq!(shown(&db, "u"), before[1].1);
    assert_eq!(db.count("u"), 300);
    // --swap needs ALTER on its copy: refused, and the copy is not left behind unmarked.
    wd.cmd("qimport")
        .args(["--url", &url, "--swap", "u"])
        .arg(wd.path().join("u.csv"))
        .fails(2)
        .stderr_has(&["ALTER command denied"]);
    assert_eq!(db.tables(), ["child", "parent", "t", "u"]);
}

// See: #29 (hostile review): a duplicate over two files names both; a table that refers
// to itself, and a system-versioned one, load with --schema as they did.
#[test]
fn the_two_lines_of_a_duplicate_may_be_in_two_files() {
    let db = TestDb::new("defer_two_files");
    db.exec(
        "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, UNIQUE KEY `u.email` (email));",
    );
    let wd = Workdir::new("defer_two_files");
    let one = wd.create("one.csv", "id,email\n1,a@x\n2,b@x\n");
    let two = wd.create("two.csv", "id,email\n3,c@x\n4,b@x\n");
    for how in [["--swap"].as_slice(), ["-j", "2", "--truncate"].as_slice()] {
        wd.cmd("qimport")
            .args(["--url", &db.url])
            .args(how)
            .arg("u")
            .arg(&one)
            .arg(&two)
            .fails(2)
            .stderr_has(&[
                "two.csv:3: duplicate key: email 'b@x' (key u.email) is in ",
                "one.csv:3 too",
            ]);
        assert_eq!(db.count("u"), 0);
    }
    // One input from a pipe: its records might be either of the two, so none is named.
    let r = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--swap", "u", "-"])
        .arg(&two)
        .stdin("id,email\n1,a@x\n2,b@x\n")
        .fails(2)
        .stderr_has(&["found as the key was built after the rows"]);
    assert!(!r.stderr().contains("two.csv:3"), "{}", r.report());
    // From a pipe, which cannot be read again: said so, with what is known.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "u"])
        .stdin("id,email\n1,a@x\n2,a@x\n")
        .fails(2)
        .stderr_has(&["stdin: duplicate key: (email) 'a@x' (key u.email), found as the key was built after the rows"]);
}

#[test]
fn tables_that_refer_to_themselves_or_keep_history_load_as_they_did() {
    let db = TestDb::new("defer_self");
    let wd = Workdir::new("defer_self");
    let tables = [
        ("emp", "CREATE TABLE emp (id INT PRIMARY KEY, code VARCHAR(20), boss VARCHAR(20), KEY kboss (boss), KEY kcode (code), CONSTRAINT fk_b FOREIGN KEY (boss) REFERENCES emp (code))", "id,code,boss\n1,e1,\n2,e2,e1\n"),
        ("sv", "CREATE TABLE sv (id INT PRIMARY KEY, email VARCHAR(50), n INT, UNIQUE KEY ue (email), KEY kn (n)) WITH SYSTEM VERSIONING", "id,email,n\n1,a@x,1\n2,b@x,2\n"),
    ];
    for (table, create, csv) in tables {
        db.exec(create);
        let before = shown(&db, table);
        let file = wd.create(&format!("{table}.csv"), csv);
        made_by_schema(&wd, &db, table, create, &file);
        assert_eq!(shown(&db, table), before, "{table}");
        assert_eq!(db.count(table), 2, "{table}");
    }
}

/// Drop `table` and load `file` into it again as `--schema` makes it from `create`.
fn made_by_schema(wd: &Workdir, db: &TestDb, table: &str, create: &str, file: &std::path::Path) {
    db.exec(&format!("DROP TABLE {table}"));
    let schema = wd.create(&format!("{table}.sql"), format!("{create};\n"));
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema"])
        .arg(&schema)
        .arg(table)
        .arg(file)
        .ok();
}

// See: #29 (hostile review, round 2): a plain key USING HASH (a B-tree in InnoDB), an
// AUTO_INCREMENT column led by a secondary key, a unique key WITHOUT OVERLAPS (which
// deadlocks -j); and a duplicate spelled otherwise, said with the first record's line.
#[test]
fn odd_keys_load_as_they_did_by_every_path() {
    let db = TestDb::new("defer_odd");
    let wd = Workdir::new("defer_odd");
    let tables = [
        ("h", "CREATE TABLE h (id INT PRIMARY KEY, a INT, b INT, KEY k (a) USING HASH, KEY k2 (b) COMMENT 'was USING HASH')", "id,a,b\n1,1,1\n2,2,2\n"),
        ("ai", "CREATE TABLE ai (tenant INT NOT NULL, id INT NOT NULL AUTO_INCREMENT, v VARCHAR(10), PRIMARY KEY (tenant, id), KEY kid (id), KEY kv (v))", "tenant,id,v\n1,1,a\n1,2,b\n2,3,c\n"),
        ("ov", "CREATE TABLE ov (id INT PRIMARY KEY, room INT, s DATE NOT NULL, e DATE NOT NULL, PERIOD FOR p (s, e), UNIQUE KEY u (room, p WITHOUT OVERLAPS), KEY kr (room))", "id,room,s,e\n1,1,2020-01-01,2020-02-01\n2,2,2020-01-01,2020-02-01\n"),
    ];
    for (table, create, csv) in tables {
        db.exec(create);
        let before = shown(&db, table);
        let file = wd.create(&format!("{table}.csv"), csv);
        for how in [
            ["--swap"].as_slice(),
            ["-j", "2", "--truncate"].as_slice(),
            ["--swap", "--no-defer-indexes"].as_slice(),
        ] {
            wd.cmd("qimport")
                .args(["--url", &db.url])
                .args(how)
                .arg(table)
                .arg(&file)
                .ok();
            assert_eq!(shown(&db, table), before, "{table} {how:?}");
            assert_eq!(
                db.count(table),
                csv.lines().count() as u64 - 1,
                "{table} {how:?}"
            );
        }
        made_by_schema(&wd, &db, table, create, &file);
        assert_eq!(shown(&db, table), before, "{table} --schema");
    }
    db.exec("CREATE TABLE ci (id INT PRIMARY KEY, name VARCHAR(50) COLLATE utf8mb4_general_ci, UNIQUE KEY un (name))");
    let file = wd.create("ci.csv", "id,name\n1,alpha\n2,Bob\n3,bob\n4,zed\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "ci"])
        .arg(&file)
        .fails(2)
        .stderr_has(&["ci.csv:3: duplicate key: name 'Bob' (key un) is repeated by a later record, spelled otherwise"]);
}

// See: #29 (hostile review, round 3): without DROP, a work table could not be dropped:
// --swap is refused before it makes one, -j loads over one connection.
#[test]
fn without_drop_no_work_table_is_made() {
    let (wd, db, _) = source("defer_nodrop");
    let (user, url) = db.user("pw-nodrop");
    db.exec(&format!("REVOKE DROP ON `{}`.* FROM '{user}'@'%'", db.name));
    let file = wd.path().join("u.csv");
    wd.cmd("qimport")
        .args(["--url", &url, "--swap", "u"])
        .arg(&file)
        .fails(2)
        .stderr_has(&[
            "may not drop tables in",
            "grant DROP, or load without --swap and -j",
        ]);
    db.exec("DELETE FROM u");
    wd.cmd("qimport")
        .args(["--url", &url, "-j", "2", "u"])
        .arg(&file)
        .ok()
        .stderr_has(&["loading over one connection"]);
    assert_eq!(db.count("u"), 300);
    assert_eq!(db.tables(), ["child", "parent", "t", "u"]);
    // A table --schema made, which the load fails: it stays, and the message says so.
    let schema = wd.create("w.sql", "CREATE TABLE w (id INT PRIMARY KEY);");
    wd.cmd("qimport")
        .args(["--url", &url, "--schema"])
        .arg(&schema)
        .arg("w")
        .arg(wd.create("w.csv", "id\n1\nx\n"))
        .fails(2)
        .stderr_has(&["w stays, empty: the user may not drop it"]);
}
