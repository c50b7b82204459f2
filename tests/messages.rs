//! Messages every tool keeps to: a mistake in the flags is one `tool: message` line and
//! exit 2, a refusal names its reason, and what is said of the data is true. See: #14,
//! #23 (5).

use crate::util::setup::database;
use crate::util::Workdir;

// See: #23 (5): a mistake in the flags is one `tool: message` line with clap's tip, and
// exit 2, for every tool.
#[test]
fn flag_mistakes_are_one_line() {
    let wd = Workdir::new("messages_flags");
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        let r = wd.cmd(tool).arg("--no-such-flag").fails(2);
        let err = r.stderr();
        assert_eq!(err.lines().count(), 1, "{}", r.report());
        assert!(
            err.starts_with(&format!(
                "{tool}: unexpected argument '--no-such-flag' found"
            )) && err.contains(&format!("try '{tool} --help'")),
            "{}",
            r.report()
        );
    }
    wd.cmd("qexport")
        .args(["-j", "0", "t"])
        .fails(2)
        .stderr_has(&["qexport: invalid value '0' for '--jobs <N>'"]);
    wd.cmd("qcount").arg("--version").ok();
    // See: #23 (review): numbers too big for what they count are one line of error, not a
    // panic or all the memory.
    wd.create("s.csv", "a,b\n1,2\n");
    for (tool, args, says) in [
        (
            "qgrep",
            &["-s", "1-18446744073709551615", "1", "s.csv"][..],
            "column 18446744073709551615 is past the last one",
        ),
        (
            "qcount",
            &["-g", "1-4000000000", "s.csv"],
            "column 4000000000 is past the last one",
        ),
        (
            "qcount",
            &["--shard", "1/18446744073709551615", "s.csv"],
            "at most 1000000 shards",
        ),
        (
            "qgrep",
            &["--shard", "1/99999999999999999999", "1", "s.csv"],
            "expected K/N",
        ),
        (
            "qexport",
            &["--shard", "1/18446744073709551615", "t"],
            "at most 1000000 shards",
        ),
    ] {
        let r = wd.cmd(tool).args(args).fails(2).stderr_has(&[says]);
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    }
    wd.cmd("qcount")
        .args(["--shard", "1000000/1000000", "s.csv"])
        .ok()
        .stdout_is("0\n");
    // A file name that is not UTF-8 (legal on Linux) is an error like any other, not a
    // panic (#23, hostile review, round 2).
    let odd = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"f\xff.csv");
    let url = "mysql://root@127.0.0.1:1/x";
    for (tool, args) in [
        ("qexport", &["--url", url, "t", "-o"][..]),
        ("qimport", &["--url", url, "t"]),
        ("qgrep", &["x"]),
        ("qcount", &[]),
    ] {
        let r = wd.cmd(tool).args(args).arg(odd).run();
        assert_eq!(r.out.status.code(), Some(2), "{}", r.report());
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
        assert!(!r.stderr().contains("panicked"), "{}", r.report());
    }
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
    // A driver error reads as words. The port: one the system just gave and took back,
    // where nothing listens (port 1 was, once, another program's on a busy machine).
    let (host, _) = db.host_port();
    let closed = std::net::TcpListener::bind((host.as_str(), 0))
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let refused = wd
        .cmd("qexport")
        .args(["-h", &host, "-P", &closed, "-u", "root", "-D", "x", "t"])
        .fails(2)
        .stderr_has(&["Could not connect to address"])
        .stderr();
    assert!(!refused.contains("DriverError"), "{refused}");
}
