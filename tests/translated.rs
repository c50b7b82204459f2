//! A server that speaks another language (`lc_messages`) translates its messages but not
//! its codes: qtools decides on the codes, so every refusal and every restore holds the
//! same. See: #26 (2).

use mysql::prelude::Queryable;

use crate::util::server::PrivateServer;
use crate::util::Workdir;

#[test]
fn a_german_server_is_met_by_its_codes() {
    let wd = Workdir::new("translated");
    let server = PrivateServer::start(&wd.path().join("server"), "--lc-messages=de_DE")
        .unwrap_or_else(|e| panic!("a private server in German did not start: {e}"));
    let mut c = server.admin();
    for sql in [
        "CREATE DATABASE src",
        "CREATE TABLE src.t (id INT PRIMARY KEY, e ENUM('a','b'), v VARCHAR(10))",
        "SET SESSION sql_mode = ''",
        "INSERT INTO src.t VALUES (1, 'a', 'x'), (2, 'zzz', 'error value'), (3, NULL, NULL)",
    ] {
        c.query_drop(sql).unwrap();
    }
    let said: String = c
        .query_first("SELECT @@GLOBAL.lc_messages")
        .unwrap()
        .unwrap();
    assert_eq!(said, "de_DE");
    let url = format!("{}src", server.url);
    // A duplicate key is refused whole, over one connection and two, with either method.
    wd.create("dup.csv", "id,e,v\n4,a,new\n1,b,again\n");
    for args in [&["-j", "1"][..], &["-j", "2"], &["--method", "insert"]] {
        wd.cmd("qimport")
            .args(["--url", &url])
            .args(args)
            .args(["t", "dup.csv"])
            .fails(2);
        let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM src.t").unwrap();
        assert_eq!(n, Some(3), "{args:?}");
    }
    // A syntax error is told as one.
    wd.cmd("qexport")
        .args(["--url", &url, "-e", "SELEC 1"])
        .fails(2)
        .stderr_has(&["ERROR 1064"]);
    // A backup with an ENUM's error value '' comes back whole: its warnings are known by
    // their code, not their words.
    wd.cmd("qexport")
        .args(["--url", &url, "--all", "-o", "backup"])
        .ok();
    c.query_drop("CREATE DATABASE copy").unwrap();
    wd.cmd("qimport")
        .args(["--url", &format!("{}copy", server.url), "--dir", "backup"])
        .ok();
    let a: Vec<(u32, Option<String>, Option<String>)> =
        c.query("SELECT id, e, v FROM src.t ORDER BY id").unwrap();
    let b: Vec<(u32, Option<String>, Option<String>)> =
        c.query("SELECT id, e, v FROM copy.t ORDER BY id").unwrap();
    assert_eq!(a, b);
    assert_eq!(a[1].1.as_deref(), Some(""));
}
