//! `qexport --serve`: tables as CSV URLs. The server is the real binary on a port the
//! system picks; clients are curl, Python's csv module and raw sockets that stall on
//! purpose (a client that stops reading holds an export mid-body, deterministically: no
//! test waits on a time). See: #28.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr};

use mysql::prelude::Queryable;

use crate::util::db::TestDb;
use crate::util::{wait_for, Workdir};

/// A running `qexport --serve`, killed when dropped (unless stopped).
struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT/`
    url: String,
    addr: String,
    _log: BufReader<ChildStderr>,
}

impl Server {
    fn start(wd: &Workdir, db: &TestDb, args: &[&str]) -> Server {
        let mut child = wd
            .cmd("qexport")
            .args(["--url", &db.url, "--serve", "127.0.0.1:0"])
            .args(args)
            .spawn();
        let mut log = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        log.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        let addr = url
            .split("//")
            .nth(1)
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        Server {
            child: Some(child),
            url,
            addr,
            _log: log,
        }
    }

    /// SIGTERM; the exit status.
    fn stop(mut self) -> i32 {
        let child = self.child.take().unwrap();
        crate::util::send(&child, "TERM");
        child
            .wait_with_output()
            .unwrap()
            .status
            .code()
            .unwrap_or(-1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Wait until `/t.csv` is answered 200 again (`what`: what the test waits for).
fn serving(wd: &Workdir, server: &Server, what: &str) {
    wait_for(what, &|| {
        wd.sh(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}' {}t.csv",
            server.url
        ))
        .ok()
        .stdout()
            == "200"
    });
}

/// A client that sends a request, reads `n` bytes of the answer, and stops reading: the
/// server's export then waits on it, mid-body.
fn stalled(addr: &str, path: &str, n: usize) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = vec![0u8; n];
    s.read_exact(&mut got).unwrap();
    (s, got)
}

/// A table of 40 MB: more than the sockets' buffers hold, so that a client that stops
/// reading holds its export in the middle.
fn huge(db: &TestDb) {
    db.exec(
        "CREATE TABLE huge (id INT PRIMARY KEY, v VARCHAR(1000));
         INSERT INTO huge SELECT seq, REPEAT('y', 990) FROM seq_1_to_40000;",
    );
}

fn torture(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(40), b BLOB, d DECIMAL(20,6), ts DATETIME(6)) CHARACTER SET utf8mb4;
         INSERT INTO t VALUES (1, NULL, NULL, NULL, NULL), (2, '', '', 0, '0000-00-00 00:00:00'),
           (3, 'a,b', 0x00FF0A0D22, -12345678901234.123456, '2024-02-29 23:59:59.999999'),
           (4, 'say \"hi\"', 'x', 1, NULL), (5, 'two\\nlines\\r\\n', NULL, NULL, NULL),
           (6, 'é 😀 中文', NULL, NULL, NULL);
         CREATE TABLE secret (id INT, pw VARCHAR(20)); INSERT INTO secret VALUES (1, 'hunter2');
         CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(200));
         INSERT INTO big SELECT seq, REPEAT('x', 190) FROM seq_1_to_60000;",
    );
    (Workdir::new(test), db)
}

// See: #28: GET /t.csv is byte for byte `qexport t`, gzipped or not; Python's csv module
// reads the same values; ?columns and ?limit mean the flags; HEAD and the index work.
#[test]
fn a_table_url_is_the_export_byte_for_byte() {
    let (wd, db) = torture("serve_bytes");
    let server = Server::start(&wd, &db, &["t", "big"]);
    let u = &server.url;
    let want = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    wd.sh(&format!("curl -sf {u}t.csv")).ok().stdout_is(&want);
    let r = wd
        .sh(&format!("curl -sf -D headers --compressed {u}t.csv"))
        .ok();
    assert_eq!(r.stdout(), want);
    let headers = std::fs::read_to_string(wd.path().join("headers")).unwrap();
    for h in [
        "Content-Type: text/csv; charset=utf-8; header=present",
        "Content-Disposition: attachment; filename=\"t.csv\"",
        "Content-Encoding: gzip",
        "Transfer-Encoding: chunked",
    ] {
        assert!(headers.contains(h), "{headers}");
    }
    // Python reads the URL as it reads the export.
    let py = "import csv, io, sys, urllib.request as u; \
              print(repr(list(csv.reader(io.StringIO(u.urlopen(sys.argv[1]).read().decode(), newline='')))))";
    let by_url = wd
        .sh(&format!("python3 -c \"{py}\" {u}t.csv"))
        .ok()
        .stdout();
    wd.create("t.csv", &want);
    let by_file = wd
        .sh(&format!("python3 -c \"{py}\" file://$PWD/t.csv"))
        .ok()
        .stdout();
    assert_eq!(by_url, by_file);
    let flags = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--columns", "s,id", "--limit", "3", "t"])
        .ok()
        .stdout();
    wd.sh(&format!("curl -sf '{u}t.csv?columns=s,id&limit=3'"))
        .ok()
        .stdout_is(&flags);
    let big = wd
        .cmd("qexport")
        .args(["--url", &db.url, "big"])
        .ok()
        .stdout();
    wd.sh(&format!("curl -sf {u}big.csv")).ok().stdout_is(&big);
    let head = wd.sh(&format!("curl -sfI {u}t.csv")).ok().stdout();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let index = wd.sh(&format!("curl -sf {u}")).ok().stdout();
    assert!(
        index.contains("href=\"/t.csv\"") && index.contains("href=\"/big.csv\""),
        "{index}"
    );
    assert!(!index.contains("secret"), "{index}");
    assert_eq!(server.stop(), 0);
}

// See: #28: what is not served is refused, and nothing of it is told.
#[test]
fn refusals_leak_nothing() {
    let (wd, db) = torture("serve_refusals");
    let server = Server::start(&wd, &db, &["t"]);
    let u = &server.url;
    for (how, path, code) in [
        ("", "secret.csv", "404"),
        ("", &format!("{}/secret.csv", db.name), "404"),
        ("", "..%2Fsecret.csv", "404"),
        ("", "t.csv%00", "404"),
        ("", "%74.csv/../secret.csv", "404"),
        ("", "t.csv?where=1", "400"),
        ("", "t.csv?columns=pw", "400"),
        ("", "t.csv?limit=-1", "400"),
        ("-X POST", "t.csv", "405"),
        ("-X DELETE", "t.csv", "405"),
    ] {
        let r = wd
            .sh(&format!(
                "curl -s --path-as-is {how} -o body -w '%{{http_code}}' '{u}{path}'"
            ))
            .ok();
        assert_eq!(r.stdout(), code, "{how} {path}");
        let body = std::fs::read_to_string(wd.path().join("body")).unwrap_or_default();
        assert!(
            !body.contains("hunter2") && !body.contains(",pw"),
            "{path}: {body}"
        );
        assert_eq!(
            body.lines().count().min(1),
            body.lines().count(),
            "one line: {body}"
        );
    }
    // Not HTTP at all.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"\x16\x03\x01 hello\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

// See: #28: eight clients at once, beside one that stopped reading: all eight exact; the
// stalled one holds a place of --max-clients, and with one place the next request gets
// 503 with Retry-After.
#[test]
fn clients_at_once_and_the_limit() {
    let (wd, db) = torture("serve_clients");
    huge(&db);
    let server = Server::start(&wd, &db, &["--max-clients", "10", "t", "big", "huge"]);
    let (slow, _) = stalled(&server.addr, "/huge.csv", 1000);
    let want = wd
        .cmd("qexport")
        .args(["--url", &db.url, "big"])
        .ok()
        .stdout();
    wd.create("want.csv", &want);
    let u = &server.url;
    wd.sh(&format!(
        "for i in 1 2 3 4 5 6 7 8; do curl -sf {u}big.csv -o got$i.csv & done; wait; \
         for i in 1 2 3 4 5 6 7 8; do cmp got$i.csv want.csv; done"
    ))
    .ok();
    drop(slow);
    drop(server);
    let server = Server::start(&wd, &db, &["--max-clients", "1", "huge", "t"]);
    let (slow, _) = stalled(&server.addr, "/huge.csv", 1000);
    wd.sh(&format!(
        "curl -s -D h -o /dev/null -w '%{{http_code}}' {}t.csv",
        server.url
    ))
    .ok()
    .stdout_is("503");
    let h = std::fs::read_to_string(wd.path().join("h")).unwrap();
    assert!(h.contains("Retry-After: 5"), "{h}");
    drop(slow);
    // The place is free again once the stalled client is gone.
    serving(&wd, &server, "the place freed");
}

// See: #28: a query killed on the server in the middle of a body: the client sees a
// transfer cut short (no last chunk), never a short CSV that looks complete. SIGTERM
// while a response runs: the server ends with 0 once its grace is over.
#[test]
fn a_killed_query_cuts_the_transfer_and_sigterm_ends_with_zero() {
    let (wd, db) = torture("serve_killed");
    huge(&db);
    let server = Server::start(&wd, &db, &["huge"]);
    let (mut s, _) = stalled(&server.addr, "/huge.csv", 1000);
    let find = || -> Option<u64> {
        db.conn()
            .exec_first(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'SELECT%huge%'",
                (&db.name,),
            )
            .unwrap()
    };
    wait_for("the export's query", &|| find().is_some());
    db.exec(&format!("KILL QUERY {}", find().unwrap()));
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        !rest.ends_with(b"0\r\n\r\n"),
        "the transfer must not end as whole"
    );
    // The last chunk is the failure mark, for a reader that does not check the transfer.
    let end = String::from_utf8_lossy(&rest[rest.len().saturating_sub(200)..]).into_owned();
    assert!(
        end.ends_with("\"qexport: failed: the export stopped before the end\r\n"),
        "{end:?}"
    );
    // SIGTERM while another response runs (stalled): 0 once the grace is over.
    let (mut s2, _) = stalled(&server.addr, "/huge.csv", 1000);
    wait_for("the export's query", &|| find().is_some());
    let status = server.stop();
    let _ = s2.read_to_end(&mut Vec::new());
    assert_eq!(status, 0);
}

// See: #28: with --token-file, no token or a wrong one is 401 and tells nothing; over
// HTTPS with a throwaway CA, curl --cacert gets the same bytes; a token over plain HTTP
// beyond this host is refused unless said so.
#[test]
fn tokens_and_https() {
    let (wd, db) = torture("serve_token");
    let pki = crate::util::tls::Pki::make(&wd.path().join("pki"));
    wd.create("token", "s3cret-token\n");
    let server = Server::start(
        &wd,
        &db,
        &[
            "--token-file",
            "token",
            "--serve-cert",
            &pki.path("server.pem").display().to_string(),
            "--serve-key",
            &pki.path("server-key.pem").display().to_string(),
            "t",
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let ca = pki.path("ca.pem").display().to_string();
    let u = &server.url;
    for auth in [
        "",
        "-H 'Authorization: Bearer wrong'",
        "-H 'Authorization: Basic czNjcmV0'",
    ] {
        wd.sh(&format!(
            "curl -s --cacert {ca} {auth} -o body -w '%{{http_code}}' {u}t.csv"
        ))
        .ok()
        .stdout_is("401");
        let body = std::fs::read_to_string(wd.path().join("body")).unwrap();
        assert!(!body.contains("id,s"), "{body}");
    }
    let want = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    wd.sh(&format!(
        "curl -sf --cacert {ca} -H 'Authorization: Bearer s3cret-token' {u}t.csv"
    ))
    .ok()
    .stdout_is(&want);
    drop(server);
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "--serve",
            "0.0.0.0:0",
            "--token-file",
            "token",
            "t",
        ])
        .fails(2)
        .stderr_has(&["the token would cross the network in clear"]);
}

// See: #28: connections are bounded whatever they do: 256 idle ones hold their threads,
// and the next gets a 503 at once, not one more thread; they go, and service is back.
#[test]
fn idle_connections_are_bounded() {
    let (wd, db) = torture("serve_idle");
    let server = Server::start(&wd, &db, &["t"]);
    let idle: Vec<TcpStream> = (0..256)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    let mut next = TcpStream::connect(&server.addr).unwrap();
    let mut answer = String::new();
    next.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(idle);
    serving(&wd, &server, "service back");
}

// See: #28 (hostile review): flags that --serve would not apply are refused, never
// ignored; --all serves the tables of its database by their names (`other.t` is one of
// them, not the table t of a database other); a column added after the start is served;
// HTTP/1.0 (which cannot read chunks) is refused.
#[test]
fn what_serve_does_not_do_is_refused() {
    let (wd, db) = torture("serve_review");
    for flag in [&["--columns", "id"][..], &["--limit", "1"], &["--gzip"]] {
        wd.cmd("qexport")
            .args(["--url", &db.url, "--serve", "127.0.0.1:0"])
            .args(flag)
            .arg("t")
            .fails(2)
            .stderr_has(&["--serve with", "not taken"]);
    }
    let other = TestDb::new("serve_review_other");
    other.exec("CREATE TABLE t (x VARCHAR(20)); INSERT INTO t VALUES ('OTHERDB')");
    db.exec(&format!(
        "CREATE TABLE `{}.t` (id INT); INSERT INTO `{}.t` VALUES (7)",
        other.name, other.name
    ));
    let server = Server::start(&wd, &db, &["--all"]);
    let u = &server.url;
    let got = wd
        .sh(&format!(
            "curl -s '{u}{}.t.csv'; curl -s '{u}{}/t.csv'",
            other.name, other.name
        ))
        .ok()
        .stdout();
    assert!(got.starts_with("id\n7\n"), "{got}");
    assert!(!got.contains("OTHERDB"), "{got}");
    db.exec("ALTER TABLE t ADD COLUMN added INT");
    let head = wd
        .sh(&format!("curl -sf {u}t.csv | head -n 1"))
        .ok()
        .stdout();
    assert_eq!(head, "id,s,b,d,ts,added\n");
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"GET /t.csv HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}
