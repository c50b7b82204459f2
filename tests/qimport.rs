use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::{fixture, interrupt, wait_for, Workdir};

const TABLE: &str = "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, email VARCHAR(255) NULL);
INSERT INTO users VALUES (100, 'Existing', 'e@x.org');";

fn setup(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(TABLE);
    (Workdir::new(test), db)
}

fn rows(db: &TestDb) -> Vec<(i64, Option<String>, Option<String>)> {
    db.query("SELECT id, name, email FROM users ORDER BY id")
}

/// A database with the users fixture and the tables `sql` makes, and the users table as
/// qexport writes it.
fn exported_users(test: &str, sql: &str) -> (Workdir, TestDb, String) {
    let db = TestDb::new(test);
    db.load("users.sql");
    db.exec(sql);
    let wd = Workdir::new(test);
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "users"])
        .ok()
        .stdout();
    (wd, db, csv)
}

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

#[test]
fn loads_stdin_matching_header_names() {
    let (wd, db) = setup("qimport_basic");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin("EMAIL,Id,name\njohn@gmail.com,1,John\n,2,\"\"\n")
        .ok()
        .stderr_has(&["users: 2 rows loaded"]);
    assert_eq!(
        rows(&db),
        vec![
            (1, Some("John".into()), Some("john@gmail.com".into())),
            (2, Some(String::new()), None),
            (100, Some("Existing".into()), Some("e@x.org".into())),
        ]
    );
}

#[test]
fn loads_files_and_db_dot_table() {
    let (wd, db) = setup("qimport_files");
    wd.create("a.csv", "id,name\n1,A\n");
    wd.create("b.csv", "name,id\nB,2\n");
    wd.cmd("qimport")
        .args([
            "--url",
            &db.url,
            "-q",
            &format!("{}.users", db.name),
            "a.csv",
            "b.csv",
        ])
        .ok()
        .stderr_empty();
    assert_eq!(db.count("users"), 3);
    // Both rows clash with what a.csv and b.csv loaded: the load fails and changes nothing.
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/crlf.csv"))
        .fails(2)
        .stderr_has(&[
            "crlf.csv:2: duplicate key: id '1' (key PRIMARY) is in",
            "already, and 1 more record; give --mode upsert|ignore|replace",
        ]);
    assert_eq!(db.count("users"), 3);
}

#[test]
fn crlf_bom_and_quoted_newlines_load() {
    let db = TestDb::new("qimport_crlf");
    db.exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(50));");
    let wd = Workdir::new("qimport_crlf");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/crlf.csv"))
        .ok();
    let names: Vec<String> = db.query("SELECT name FROM users ORDER BY id");
    assert_eq!(names, vec!["John", "Jane\r\nDoe"]);
    db.exec("DELETE FROM users;");
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .arg(fixture("csv/bom.csv"))
        .ok();
    assert_eq!(db.count("users"), 2);
}

/// The stream goes as `CHARACTER SET binary` when every text column stores UTF-8, and as
/// `utf8mb4` (converted by the server) when one does not: both store the same characters.
#[test]
fn text_in_every_character_set_is_stored_as_the_same_characters() {
    let (wd, db) = setup("qimport_charsets");
    db.exec(
        "CREATE TABLE u (id INT PRIMARY KEY, m4 VARCHAR(20) CHARACTER SET utf8mb4,
           m3 VARCHAR(20) CHARACTER SET utf8mb3, a VARCHAR(20) CHARACTER SET ascii, b VARBINARY(8));
         CREATE TABLE l (id INT PRIMARY KEY, m4 VARCHAR(20) CHARACTER SET utf8mb4,
           l1 VARCHAR(20) CHARACTER SET latin1);",
    );
    for j in ["1", "2"] {
        db.exec("DELETE FROM u; DELETE FROM l;");
        let args = ["--url", &db.url, "-j", j];
        let input = "id,m4,m3,a,b\n1,😀 café,é ü,plain,c3a9\n2,\"\\\"\"x\"\"\t\",\"\",\"\",\n";
        wd.cmd("qimport").args(args).arg("u").stdin(input).ok();
        let u: Vec<(i64, String, String, String, Option<String>)> =
            db.query("SELECT id, HEX(m4), HEX(m3), HEX(a), HEX(b) FROM u ORDER BY id");
        assert_eq!(
            u,
            vec![
                (
                    1,
                    "F09F988020636166C3A9".into(),
                    "C3A920C3BC".into(),
                    "706C61696E".into(),
                    Some("C3A9".into())
                ),
                (2, "5C22782209".into(), String::new(), String::new(), None),
            ],
            "-j {j}"
        );
        let input = "id,m4,l1\n1,😀,café ü\n";
        wd.cmd("qimport").args(args).arg("l").stdin(input).ok();
        let l: Vec<(String, String)> = db.query("SELECT HEX(m4), HEX(l1) FROM l");
        assert_eq!(
            l,
            vec![("F09F9880".into(), "636166E920FC".into())],
            "-j {j}"
        );
    }
}

#[test]
fn no_header_uses_table_order() {
    let (wd, db) = setup("qimport_noheader");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "users"])
        .stdin("1,A,a@x\n")
        .ok();
    assert_eq!(db.count("users"), 2);
}

#[test]
fn null_marker_and_tsv() {
    let (wd, db) = setup("qimport_null");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--tsv", "--null", "\\N", "users"])
        .stdin("id\tname\temail\n1\t\\N\t\n2\t\"\\N\"\t\"\"\n")
        .ok();
    let got: Vec<(Option<String>, Option<String>)> =
        db.query("SELECT name, email FROM users WHERE id < 3 ORDER BY id");
    assert_eq!(
        got,
        vec![
            (None, Some(String::new())),
            (Some("\\N".into()), Some(String::new()))
        ]
    );
}

/// Every kind of bad input: a clear error naming where, exit 2, and the table unchanged.
fn assert_rejected(test: &str, input: &str, expect: &[&str]) {
    let (wd, db) = setup(test);
    let before = db.checksum("users");
    // 3000 good rows first, so the failure happens after whole batches were sent.
    let mut data = String::new();
    let header_end = input.find('\n').unwrap() + 1;
    data.push_str(&input[..header_end]);
    if input.starts_with("id,name,email\n") {
        for i in 1000..4000 {
            writeln!(data, "{i},n{i},e{i}@x").unwrap();
        }
    }
    data.push_str(&input[header_end..]);
    let r = wd
        .cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin(&data)
        .fails(2)
        .stderr_has(expect)
        .stderr_has(&["users is unchanged"]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    assert_eq!(db.checksum("users"), before, "{}", r.report());
    assert_eq!(db.count("users"), 1);
}

#[test]
fn unknown_column_is_rejected() {
    assert_rejected(
        "qimport_unknown",
        "id,nme\n1,x\n",
        &[
            "stdin:1: header field 2 \"nme\" is not a column of",
            "(its columns: id, name, email); --ignore-extra skips such fields",
        ],
    );
}

#[test]
fn ragged_row_is_rejected() {
    assert_rejected(
        "qimport_ragged",
        "id,name,email\n1,John\n",
        &["stdin:3002: expected 3 fields (as in the header), found 2"],
    );
}

#[test]
fn unterminated_quote_is_rejected() {
    assert_rejected(
        "qimport_unterminated",
        "id,name,email\n1,\"John,x\n",
        &["stdin:3002: unterminated quoted field"],
    );
}

#[test]
fn wrong_type_is_rejected_with_line_column_value() {
    assert_rejected(
        "qimport_type",
        "id,name,email\n1,a,b\nabc,John,j@x\n",
        &["stdin:3003: column \"id\": value \"abc\": not an integer"],
    );
}

#[test]
fn too_long_and_not_null_are_rejected() {
    assert_rejected(
        "qimport_toolong",
        "id,name,email\n1,this name is far too long for twenty,x\n",
        &["stdin:3002: column \"name\": value \"this name is far too long for twenty\": 36 characters, longer than the column's 20"],
    );
    assert_rejected(
        "qimport_notnull",
        "id,name,email\n,x,y\n",
        &[
            "stdin:3002: column \"id\": value \"NULL\"",
            "NULL in a NOT NULL column",
        ],
    );
}

#[test]
fn duplicate_key_is_rejected() {
    assert_rejected(
        "qimport_dup",
        "id,name,email\n100,x,y\n",
        &[
            "stdin: duplicate key: id '100' (key PRIMARY) (LOAD DATA does not say on which line; --method insert does)",
            "give --mode upsert|ignore|replace to keep one row per key (or --truncate",
        ],
    );
}

#[test]
fn duplicate_key_line_with_insert_method() {
    let (wd, db) = setup("qimport_dup_insert");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "users"])
        .stdin("id,name,email\n1,a,b\n100,x,y\n")
        .fails(2)
        .stderr_has(&[
            "stdin:3: duplicate key: id '100' (key PRIMARY); give --mode upsert|ignore|replace",
            "users is unchanged",
        ]);
    assert_eq!(db.count("users"), 1);
}

#[test]
fn text_after_closing_quote_is_rejected() {
    assert_rejected(
        "qimport_afterquote",
        "id,name,email\n1,\"ab\"c,x\n",
        &["stdin:3002: unexpected text after a closing quote"],
    );
}

#[test]
fn missing_table_and_no_database() {
    let (wd, db) = setup("qimport_missing");
    wd.cmd("qimport")
        .args(["--url", &db.url, "nope"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["table", ".nope does not exist"]);
    let (host, port) = db.host_port();
    wd.cmd("qimport")
        .args(["-h", &host, "-P", &port.to_string(), "-u", "root", "users"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["no database selected"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "users"])
        .stdin("")
        .fails(2)
        .stderr_has(&["stdin: empty input: expected a header row"]);
}

#[test]
fn both_methods_load_identically_and_say_which_ran() {
    let (wd, db, csv) = exported_users(
        "qimport_methods",
        "CREATE TABLE a LIKE users; CREATE TABLE b LIKE users;",
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "a"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE)"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "b"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["b: 300 rows loaded (INSERT batches (--method insert))"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    assert_eq!(db.checksum("b"), db.checksum("users"));
}

#[test]
fn every_bad_value_is_reported_up_to_max_errors() {
    let db = TestDb::new("qimport_maxerr");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, d DATE, e ENUM('a','b'), m DECIMAL(5,2), s VARCHAR(3));",
    );
    let wd = Workdir::new("qimport_maxerr");
    let data = "id,d,e,m,s\n1,2024-02-30,a,1.5,ok\n2,2024-01-01,c,1.5,ok\n3,2024-01-01,a,1234.5,ok\n4,2024-01-01,a,1,long\nx,2024-01-01,a,1,ok\n";
    let r = wd
        .cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin(data)
        .fails(2)
        .stderr_has(&[
            "stdin:2: column \"d\": value \"2024-02-30\": not a valid date (YYYY-MM-DD): no such day in that month",
            "stdin:3: column \"e\": value \"c\": not one of the ENUM values (\"a\", \"b\")",
            "stdin:4: column \"m\": value \"1234.5\": out of range: more than 3 digits before the point",
            "stdin:5: column \"s\": value \"long\": 4 characters, longer than the column's 3",
            "stdin:6: column \"id\": value \"x\": not an integer",
            "qimport: 5 bad records; nothing was loaded",
        ]);
    assert_eq!(r.stderr().lines().count(), 6, "{}", r.report());
    wd.cmd("qimport")
        .args(["--url", &db.url, "--max-errors", "2", "t"])
        .stdin(data)
        .fails(2)
        .stderr_has(&["2 bad records (stopped at --max-errors 2)"]);
    assert_eq!(db.count("t"), 0);
}

#[test]
fn dry_run_changes_nothing() {
    let (wd, db) = setup("qimport_dry");
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

#[test]
fn rejects_file_gets_the_bad_records_and_the_rest_loads() {
    let (wd, db) = setup("qimport_rejects");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--rejects", "bad.csv", "users"])
        .stdin("id,name,email\n1,a,x\nnope,b,y\n2,\"far too long for this column\",z\n3,c,w\n")
        .ok()
        .stderr_has(&["users: 2 rows loaded", "2 bad records written to bad.csv"]);
    assert_eq!(db.count("users"), 3);
    assert_eq!(
        std::fs::read_to_string(wd.path().join("bad.csv")).unwrap(),
        "id,name,email,qimport_error\n\
         nope,b,y,\"line 3: column \"\"id\"\": value \"\"nope\"\": not an integer\"\n\
         2,\"far too long for this column\",z,\"line 4: column \"\"name\"\": value \"\"far too long for this column\"\": 28 characters, longer than the column's 20\"\n"
    );
}

#[test]
fn modes_ignore_replace_upsert() {
    for method in ["load-data", "insert"] {
        let (wd, db) = setup(&format!("qimport_modes_{}", method.replace('-', "")));
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

#[test]
fn truncate_replaces_content_atomically() {
    let (wd, db) = setup("qimport_truncate");
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

#[test]
fn swap_replaces_the_table_in_one_rename() {
    let (wd, db) = setup("qimport_swap");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "users"])
        .stdin("id,name\n1,a\nbad,b\n")
        .fails(2);
    assert_eq!(db.count("users"), 1);
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "users"])
        .stdin("id,name\n1,a\n2,b\n")
        .ok()
        .stderr_has(&["users: 2 rows loaded"]);
    assert_eq!(
        db.query::<i64>("SELECT id FROM users ORDER BY id"),
        vec![1, 2]
    );
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert_eq!(tables, vec!["users"], "no leftover copies");
}

#[test]
fn header_mapping_flags() {
    let db = TestDb::new("qimport_mapping");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, note VARCHAR(10) DEFAULT 'x',
           twice INT AS (id * 2) VIRTUAL);",
    );
    let wd = Workdir::new("qimport_mapping");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "--columns", "name,id", "t"])
        .stdin("a,1\n")
        .ok();
    wd.cmd("qimport")
        .args(["--url", &db.url, "--ignore-extra", "t"])
        .stdin("id,name,extra,twice\n2,b,zzz,4\n")
        .ok();
    assert_eq!(
        db.query::<(i64, String, String)>("SELECT id, name, note FROM t ORDER BY id"),
        vec![(1, "a".into(), "x".into()), (2, "b".into(), "x".into())]
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,note\n3,y\n")
        .fails(2)
        .stderr_has(&["NOT NULL column(s) without a default are missing from the header: name"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,name,twice\n3,c,6\n")
        .fails(2)
        .stderr_has(&["header field 3 \"twice\" is a generated column of "]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,name,name\n3,c,c\n")
        .fails(2)
        .stderr_has(&["column \"name\" appears twice in the header"]);
}

#[test]
fn create_infers_conservative_types() {
    let db = TestDb::new("qimport_create");
    let wd = Workdir::new("qimport_create");
    let data = "id,zip,price,day,note\n1,00501,9.99,2024-01-31,hello\n2,90210,10.5,2024-02-29,\n";
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "items"])
        .stdin(data)
        .ok()
        .stderr_has(&[
            "created",
            "`zip` VARCHAR(64)",
            "`price` DECIMAL(8,2)",
            "items: 2 rows loaded",
        ]);
    let zips: Vec<String> = db.query("SELECT zip FROM items ORDER BY id");
    assert_eq!(zips, ["00501", "90210"], "leading zeros kept");
    let back = wd
        .cmd("qexport")
        .args(["--url", &db.url, "items"])
        .ok()
        .stdout();
    assert_eq!(
        back,
        "id,zip,price,day,note\n1,00501,9.99,2024-01-31,hello\n2,90210,10.50,2024-02-29,\n"
    );
    // Regular files are read twice (not spooled), also from stdin at an offset: the
    // shell's `read` took the first line, a comment.
    wd.create("items.csv", data);
    wd.create("commented.csv", format!("# items\n{data}"));
    wd.sh(&format!(
        "qimport -q --url '{u}' --create items2 items.csv && \
         {{ read -r _; qimport -q --url '{u}' --create items3; }} < commented.csv",
        u = db.url
    ))
    .ok();
    for t in ["items2", "items3"] {
        assert_eq!(db.checksum(t), db.checksum("items"), "{t}");
    }
    // A failed load drops the table it created.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "bad"])
        .stdin("id,v\n1,a\n2\n")
        .fails(2)
        .stderr_has(&["stdin:3: expected 2 fields"]);
    let tables: Vec<String> = db.query("SHOW TABLES LIKE 'bad'");
    assert!(tables.is_empty());
    wd.cmd("qimport")
        .args(["--url", &db.url, "missing"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["missing does not exist"]);
}

#[test]
fn schema_file_creates_the_table() {
    let db = TestDb::new("qimport_schema");
    let wd = Workdir::new("qimport_schema");
    wd.create(
        "t.sql",
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(5));\n",
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema", "t.sql", "t"])
        .stdin("id,v\n1,a\n")
        .ok();
    assert_eq!(db.count("t"), 1);
}

#[test]
fn jobs_load_in_parallel_and_publish_in_one_step() {
    let (wd, db, csv) = exported_users("qimport_jobs", "CREATE TABLE a LIKE users; CREATE TABLE b LIKE users; INSERT INTO b VALUES (1000, 'old', NULL);");
    // Empty target: the staging table is renamed into place.
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "3", "a"])
        .stdin(&csv)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE); over 3 connections"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    // A table with rows: one INSERT ... SELECT.
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin(&csv)
        .ok();
    assert_eq!(db.count("b"), 301);
    // Bad input: nothing changes, no staging table is left.
    let before = db.checksum("b");
    let mut bad = csv.clone();
    bad.push_str("oops,x,y\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin(&bad)
        .fails(2)
        .stderr_has(&[
            "column \"id\": value \"oops\": not an integer",
            "b is unchanged",
        ]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "b"])
        .stdin("id,name\n1000,dup\n")
        .fails(2)
        .stderr_has(&["duplicate key: id '1000' (key PRIMARY)"]);
    assert_eq!(db.checksum("b"), before);
    let tables: Vec<String> = db.query("SHOW TABLES");
    assert_eq!(tables, ["a", "b", "users"]);
}

// A file given to -j is cut into one run of records per connection, each checked on its
// own thread: the same rows as one connection, and bad values reported in input order with
// their lines, whichever run they fell in.
#[test]
fn jobs_split_a_file_into_runs() {
    let (wd, db, csv) = exported_users(
        "qimport_split",
        "CREATE TABLE a LIKE users; CREATE TABLE c LIKE users",
    );
    let f = wd.create("users.csv", &csv);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "3", "a"])
        .arg(&f)
        .ok()
        .stderr_has(&["a: 300 rows loaded (LOAD DATA LOCAL INFILE); over 3 connections"]);
    assert_eq!(db.checksum("a"), db.checksum("users"));
    // Bad values near the start and near the end: both runs report, in order.
    let records: Vec<&str> = csv.split_inclusive('\n').collect();
    let lines = records.len();
    let mut bad = csv.clone();
    bad = bad.replacen("\n1,", "\nx1,", 1);
    bad.push_str("oops,x,y\n");
    let bad_file = wd.create("bad.csv", &bad);
    let err = wd
        .cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "c"])
        .arg(&bad_file)
        .fails(2)
        .stderr();
    let first = err.find("value \"x1\"").expect(&err);
    let last = err.find("value \"oops\"").expect(&err);
    assert!(first < last, "{err}");
    assert!(err.contains(&format!("bad.csv:{}:", lines + 1)), "{err}");
    assert_eq!(db.count("c"), 0);
    // A bare quote in an unquoted field: quote parity is no guide to record ends, so the
    // file is not cut; it loads as over a pipe.
    let quirky = "id,name\n1,a\"b\n2,\"c\nd\"\n3,e\n";
    let q = wd.create("quirky.csv", quirky);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "c"])
        .arg(&q)
        .ok();
    let names: Vec<String> = db.query("SELECT name FROM c ORDER BY id");
    assert_eq!(names, ["a\"b", "c\nd", "e"]);
}

/// Kill qimport in the middle of a load (as Ctrl-C or a crash would) and expect the table
/// exactly as before: the open transaction dies with the connection.
#[test]
fn killed_client_leaves_the_table_unchanged() {
    for method in ["load-data", "insert"] {
        let (wd, db) = setup(&format!("qimport_killed_{}", method.replace('-', "")));
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
    let (wd, db) = setup("qimport_interrupted");
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
    let (wd, db) = setup("qimport_lost");
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
    let (wd, db) = setup("qimport_interrupted_made");
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
    let (wd, db) = setup("qimport_stale_stage");
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

/// A server with local_infile off: auto falls back to INSERT batches and says why;
/// --method load-data says what to do. local_infile is global, so this test starts a
/// private server of its own (always, even with QTOOLS_TEST_MYSQL_URL set).
#[test]
fn falls_back_to_insert_when_local_infile_is_off() {
    use mysql::prelude::Queryable;
    let wd = Workdir::new("qimport_fallback");
    let dir = wd.path().join("db");
    let script = crate::util::root().join("scripts/test-db.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&dir)
        .env("QTOOLS_DB_LOCAL_INFILE", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let stop = || {
        let _ = std::process::Command::new("bash")
            .arg(&script)
            .arg("stop")
            .arg(&dir)
            .status();
    };
    let result = std::panic::catch_unwind(|| {
        let conn_url = format!("{url}f");
        let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&url).unwrap())
            .prefer_socket(false);
        let mut c = mysql::Conn::new(opts).unwrap();
        c.query_drop("CREATE DATABASE f").unwrap();
        c.query_drop("CREATE TABLE f.t (id INT PRIMARY KEY, v VARCHAR(5))")
            .unwrap();
        wd.cmd("qimport")
            .args(["--url", &conn_url, "t"])
            .stdin("id,v\n1,a\n2,b\n")
            .ok()
            .stderr_has(&["t: 2 rows loaded (INSERT batches: the server has local_infile off)"]);
        wd.cmd("qimport")
            .args(["--url", &conn_url, "--method", "load-data", "t"])
            .stdin("id,v\n3,c\n")
            .fails(2)
            .stderr_has(&["--method load-data: the server has local_infile off"]);
        let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM f.t").unwrap();
        assert_eq!(n, Some(2));
    });
    stop();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
