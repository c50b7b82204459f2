//! `qexport TABLE` and `qexport -e SELECT`: rows as CSV on stdout, with a header, NULL
//! and the empty string told apart, the dialect flags, --columns, --where, --order-by and
//! --limit, and errors in one line.

use crate::util::db::TestDb;
use crate::util::setup::small;
use crate::util::Workdir;

#[test]
fn table_to_csv_with_header_null_and_empty() {
    let (wd, db) = small("qexport_basic");
    wd.cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout_is(
            "id,name,note\n1,John,\"a,b\"\n2,\"\",\n3,,\"say \"\"hi\"\"\"\n4,x,\"two\nlines\"\n",
        )
        .stderr_empty();
}

#[test]
fn db_dot_table_and_query() {
    let (wd, db) = small("qexport_query");
    let (host, port) = db.host_port();
    let port = port.to_string();
    wd.cmd("qexport")
        .args([
            "-h",
            &host,
            "-P",
            &port,
            "-u",
            "root",
            &format!("{}.t", db.name),
        ])
        .args(["-n"])
        .ok()
        .stdout_is("1,John,\"a,b\"\n2,\"\",\n3,,\"say \"\"hi\"\"\"\n4,x,\"two\nlines\"\n");
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "-e",
            "SELECT id, UPPER(name) AS n FROM t WHERE id < 3 ORDER BY id",
        ])
        .ok()
        .stdout_is("id,n\n1,JOHN\n2,\"\"\n");
}

#[test]
fn dialect_flags() {
    let (wd, db) = small("qexport_dialect");
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "--tsv",
            "--null",
            "\\N",
            "-e",
            "SELECT * FROM t WHERE id IN (2,3)",
        ])
        .ok()
        .stdout_is("id\tname\tnote\n2\t\"\"\t\\N\n3\t\\N\t\"say \"\"hi\"\"\"\n");
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "-d",
            ";",
            "-e",
            "SELECT 'a;b' AS x, 'c,d' AS y, '\\\\N' AS z",
        ])
        .ok()
        .stdout_is("x;y;z\n\"a;b\";c,d;\\N\n");
    // A string equal to a custom NULL marker is quoted, so it stays a string.
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "--null",
            "\\N",
            "-e",
            "SELECT '\\\\N' AS z, NULL AS n",
        ])
        .ok()
        .stdout_is("z,n\n\"\\N\",\\N\n");
}

#[test]
fn missing_table_and_bad_query_are_one_line_errors() {
    let wd = Workdir::new("qexport_errors");
    let db = TestDb::new("qexport_errors");
    let r = wd
        .cmd("qexport")
        .args(["--url", &db.url, "nope"])
        .fails(2)
        .stderr_has(&["qexport: table ", ".nope does not exist"]);
    assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    wd.cmd("qexport")
        .args(["--url", &db.url, "-e", "SELEC 1"])
        .fails(2)
        .stderr_has(&["SQL syntax"]);
    wd.cmd("qexport")
        .args(["--url", &db.url, "-e", "DO 1"])
        .fails(2)
        .stderr_has(&["-e: qexport reads only a SELECT"]);
    wd.cmd("qexport").fails(2).stderr_has(&["TABLE"]);
    let (host, port) = db.host_port();
    wd.cmd("qexport")
        .args(["-h", &host, "-P", &port.to_string(), "-u", "root", "users"])
        .fails(2)
        .stderr_has(&["no database selected"]);
}

#[test]
fn utf8mb4_binary_and_timestamps() {
    let wd = Workdir::new("qexport_types");
    let db = TestDb::new("qexport_types");
    db.exec(
        "CREATE TABLE t (s VARCHAR(20), ts TIMESTAMP NULL, d DECIMAL(20,6));
         INSERT INTO t VALUES ('😀 שלום é', '2024-02-29 23:59:59', 12345678901234.000100);",
    );
    wd.cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout_is("s,ts,d\n😀 שלום é,2024-02-29 23:59:59,12345678901234.000100\n");
}

#[test]
fn columns_where_order_limit() {
    let (wd, db) = small("qexport_select");
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "--columns",
            "note,id",
            "--where",
            "id > 1",
        ])
        .args(["--order-by", "id DESC", "--limit", "2", "t"])
        .ok()
        .stdout_is("note,id\n\"two\nlines\",4\n\"say \"\"hi\"\"\",3\n");
    wd.cmd("qexport")
        .args(["--url", &db.url, "--columns", "id,nope", "t"])
        .fails(2)
        .stderr_has(&[
            "--columns: ",
            "has no column \"nope\" (its columns: id, name, note)",
        ]);
    wd.cmd("qexport")
        .args(["--url", &db.url, "--where", "id = 1", "-e", "SELECT 1"])
        .fails(2)
        .stderr_has(&["apply to a TABLE, not to -e"]);
}

#[test]
fn sessions_are_set_for_slow_consumers() {
    let (wd, db) = small("qexport_session");
    wd.cmd("qexport")
        .args(["--url", &db.url, "-n", "-e"])
        .arg("SELECT @@session.net_write_timeout, @@session.time_zone, @@character_set_results")
        .ok()
        .stdout_is("86400,+00:00,utf8mb4\n");
}
