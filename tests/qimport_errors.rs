//! A load that fails: bad input is named by file, line, column and value (every bad value,
//! up to --max-errors), nothing is loaded, and what is said of the table is true.

use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::setup::{database, users_table};
use crate::util::Workdir;

/// Every kind of bad input: a clear error naming where, exit 2, and the table unchanged.
fn assert_rejected(test: &str, input: &str, expect: &[&str]) {
    let (wd, db) = users_table(test);
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
    let (wd, db) = users_table("qimport_dup_insert");
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
fn bad_binary_and_bit_values_are_rejected() {
    let wd = Workdir::new("roundtrip_badbin");
    let db = TestDb::new("roundtrip_badbin");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, vb VARBINARY(10), b BIT(8));");
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,vb,b\n1,zz,1\n")
        .fails(2)
        .stderr_has(&["stdin:2: column \"vb\": value \"zz\": not valid hex (--binary hex)"]);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,vb,b\n1,00,x\n")
        .fails(2)
        .stderr_has(&["stdin:2: column \"b\": value \"x\": a BIT value must be a number"]);
    // A record's first bad value is the one named, whether or not it is a binary one
    // (binary values are decoded before the others are checked).
    wd.cmd("qimport")
        .args(["--url", &db.url, "t"])
        .stdin("id,vb,b\nx,zz,1\n2,0g,y\n")
        .fails(2)
        .stderr_has(&[
            "stdin:2: column \"id\": value \"x\": not an integer",
            "stdin:3: column \"vb\": value \"0g\": not valid hex",
        ]);
    assert_eq!(db.count("t"), 0);
}

#[test]
fn missing_table_and_no_database() {
    let (wd, db) = users_table("qimport_missing");
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

// See: #14 (11): a table that cannot roll back is not said to be unchanged.
#[test]
fn a_failed_load_into_myisam_says_what_stays() {
    let (wd, db) = database(
        "safety_myisam",
        "CREATE TABLE m (id INT PRIMARY KEY, n INT) ENGINE=MyISAM; INSERT INTO m VALUES (1, 1);
         CREATE TABLE i (id INT PRIMARY KEY, n INT) ENGINE=InnoDB;",
    );
    let mut csv = String::from("id,n\n");
    for k in 2..20_000 {
        use std::fmt::Write as _;
        writeln!(csv, "{k},{k}").unwrap();
    }
    csv.push_str("5,dup\n");
    let run = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "m"])
        .stdin(&csv)
        .fails(2);
    let err = run.stderr();
    assert!(!err.contains("is unchanged"), "{}", run.report());
    let n = db.count("m");
    assert!(n > 1, "{}", run.report());
    assert!(
        err.contains(&format!(
            "cannot roll back (ENGINE=MyISAM): it now has {} (1 before)",
            qtools_csv::error::plural(n, "row")
        )),
        "{}",
        run.report()
    );
    // InnoDB: the truth is that nothing changed.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--method", "insert", "i"])
        .stdin(&csv)
        .fails(2)
        .stderr_has(&["nothing was loaded: ", ".i is unchanged"]);
}
