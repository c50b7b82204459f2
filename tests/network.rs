//! Networks that stall, cut or crawl (issue #30), through a proxy between the tool and the
//! server (util/proxy.rs): an export or a load never waits for ever, fails with one line
//! and leaves the table as it was; a slow but healthy network changes no byte; a pipe
//! that pauses longer than the server's `net_read_timeout` does not fail a load.

use std::time::{Duration, Instant};

use crate::util::db::TestDb;
use crate::util::proxy::{Fault, Proxy, Way};
use crate::util::Workdir;

/// A table of `rows` rows (about 100 bytes each) and its CSV export, direct.
fn table(test: &str, rows: u32) -> (Workdir, TestDb, String) {
    let wd = Workdir::new(test);
    let db = TestDb::new(test);
    db.exec(&format!(
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(100));
         INSERT INTO t SELECT seq, CONCAT('row ', seq, ' ', REPEAT('x', 80))
         FROM seq_1_to_{rows}"
    ));
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    (wd, db, csv)
}

fn through(db: &TestDb, fault: Fault) -> (Proxy, String) {
    let port = db.host_port().1;
    let proxy = Proxy::start(port, fault);
    let url = proxy.url(&db.url, port);
    (proxy, url)
}

// See: #30: a network that stops forwarding in the middle of an export (the connection
// stays open, nothing comes): the export ends after --read-timeout with one line and the
// failure mark, whichever way rows are read (off the socket, or through the driver).
#[test]
fn an_export_on_a_stalled_network_fails_after_the_read_timeout() {
    let (wd, db, _) = table("net_export_stall", 50_000);
    for decoder in ["wire", "driver"] {
        let (proxy, url) = through(&db, Fault::Stall(Way::ToClient, 1_000_000));
        let started = Instant::now();
        let run = wd
            .cmd("qexport")
            .env("QTOOLS_ROW_DECODER", decoder)
            .args(["--url", &url, "--read-timeout", "2", "t"])
            .fails(2);
        assert!(started.elapsed() < Duration::from_secs(30), "{decoder}");
        assert_eq!(run.stderr().lines().count(), 1, "{}", run.report());
        assert!(
            run.stderr().contains("the network stalled"),
            "{}",
            run.report()
        );
        let out = run.stdout();
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with("\"qexport: failed: "), "{decoder}: {last}");
        no_session_left(&db);
        drop(proxy);
    }
}

// See: #30: a load whose stream stops reaching the server, by every path: the load fails
// after one --write-timeout (not after a dozen: the session is ended and its socket shut,
// so the rollback and the goodbye do not wait again), with one line; the table is as it
// was, no work table is left, and no session of the load is left on the server holding
// its locks.
#[test]
fn a_load_on_a_stalled_network_fails_and_changes_nothing() {
    let (wd, db, csv) = table("net_load_stall", 50_000);
    db.exec("CREATE TABLE u LIKE t; INSERT INTO u VALUES (0, 'before')");
    for how in [&[][..], &["-j", "2"], &["--swap"], &["--method", "insert"]] {
        let (proxy, url) = through(&db, Fault::Stall(Way::ToServer, 1_000_000));
        let started = Instant::now();
        let run = wd
            .cmd("qimport")
            .args(["--url", &url, "--read-timeout", "2", "--write-timeout", "2"])
            .args(how)
            .arg("u")
            .stdin(&csv)
            .fails(2);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(15), "{how:?}: {took:?}");
        assert!(
            run.stderr().contains("the network stalled"),
            "{how:?}: {}",
            run.report()
        );
        assert_eq!(run.stderr().lines().count(), 1, "{how:?}: {}", run.report());
        no_session_left(&db);
        drop(proxy);
        assert_eq!(db.count("u"), 1, "{how:?}");
        assert_eq!(db.tables(), ["t", "u"], "{how:?}");
    }
}

/// No session is left on `db` but the test's own: a stalled one was ended by the tool,
/// not left to the server's timeouts (a day) with its locks.
fn no_session_left(db: &TestDb) {
    let sql = format!(
        "SELECT CONCAT(ID, ' ', COMMAND, ' ', COALESCE(INFO, '')) FROM information_schema.PROCESSLIST \
         WHERE DB = '{}' AND ID <> CONNECTION_ID()",
        db.name
    );
    let mut left: Vec<String> = Vec::new();
    for _ in 0..50 {
        left = db.query(&sql);
        if left.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("sessions left on the server: {left:?}");
}

// See: #30: a server that takes the connection and then says nothing (no greeting) is
// given up within --connect-timeout, not --read-timeout.
#[test]
fn a_server_that_says_nothing_is_given_up_within_the_connect_timeout() {
    let wd = Workdir::new("net_mute");
    // The kernel completes the handshake for a listener nobody accepts from.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let started = Instant::now();
    wd.cmd("qexport")
        .args(["-h", "127.0.0.1", "-P", &port.to_string(), "-u", "root"])
        .args(["--connect-timeout", "2", "d.t"])
        .fails(2)
        .stderr_has(&["did not answer within --connect-timeout"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(mute);
}

// See: #30: a connection cut in the middle (a server that dies, a middlebox that drops
// it): the export and the load fail at once, with one line; the table is as it was.
#[test]
fn a_connection_cut_mid_stream_fails_at_once() {
    let (wd, db, csv) = table("net_cut", 50_000);
    let (proxy, url) = through(&db, Fault::Cut(Way::ToClient, 1_000_000));
    let run = wd.cmd("qexport").args(["--url", &url, "t"]).fails(2);
    assert!(
        run.stderr().contains("lost the connection"),
        "{}",
        run.report()
    );
    assert_eq!(run.stderr().lines().count(), 1, "{}", run.report());
    drop(proxy);
    db.exec("CREATE TABLE u LIKE t; INSERT INTO u VALUES (0, 'before')");
    let (proxy, url) = through(&db, Fault::Cut(Way::ToServer, 1_000_000));
    let run = wd
        .cmd("qimport")
        .args(["--url", &url, "u"])
        .stdin(&csv)
        .fails(2);
    assert!(
        run.stderr().contains("lost the connection"),
        "{}",
        run.report()
    );
    drop(proxy);
    assert_eq!(db.count("u"), 1);
}

// See: #30: a slow network (every chunk delayed) is only slow: the same bytes out, the
// same rows in.
#[test]
fn a_slow_network_changes_no_byte() {
    let (wd, db, csv) = table("net_slow", 5_000);
    let (_proxy, url) = through(&db, Fault::Delay(Duration::from_millis(2)));
    wd.cmd("qexport")
        .args(["--url", &url, "--read-timeout", "5", "t"])
        .ok()
        .stdout_is(&csv);
    db.exec("CREATE TABLE u LIKE t");
    wd.cmd("qimport")
        .args(["--url", &url, "--read-timeout", "5", "u"])
        .stdin(&csv)
        .ok();
    assert_eq!(db.checksum("u"), db.checksum("t"));
}

// See: #30: the server gives up on a client that sends nothing for `net_read_timeout`
// (30 s by default) in the middle of LOAD DATA; a pipe from a slow producer pauses that
// long. qimport's sessions wait as long as the input does.
#[test]
fn a_load_waits_on_a_pausing_pipe_longer_than_net_read_timeout() {
    let (wd, db, csv) = table("net_pause", 2_000);
    db.exec("CREATE TABLE u LIKE t");
    let (head, tail) = csv.split_at(csv.find("\n1000,").unwrap() + 1);
    wd.create("head.csv", head);
    wd.create("tail.csv", tail);
    // The server's default for sessions that set none, for the length of this test.
    db.exec("SET GLOBAL net_read_timeout = 2");
    let run = wd
        .sh(&format!(
            "(cat head.csv; sleep 4; cat tail.csv) | qimport --url '{}' u",
            db.url
        ))
        .run();
    db.exec("SET GLOBAL net_read_timeout = 30");
    assert!(run.out.status.success(), "{}", run.report());
    assert_eq!(db.checksum("u"), db.checksum("t"));
}

// See: #30: the timeouts are checked where they are read: a word that is no number of
// seconds is refused with its name, from a flag or an option file.
#[test]
fn a_timeout_that_is_no_number_is_refused() {
    let wd = Workdir::new("net_flags");
    let cnf = wd.create("my.cnf", "[client]\nconnect-timeout = soon\n");
    wd.cmd("qexport")
        .arg(format!("--defaults-file={}", cnf.display()))
        .arg("d.t")
        .fails(2)
        .stderr_has(&["invalid connect-timeout \"soon\""]);
    wd.cmd("qexport")
        .args(["--read-timeout", "x", "d.t"])
        .fails(2)
        .stderr_has(&["--read-timeout"]);
}
