//! TLS on every connection (#16): each mode against a server that requires TLS, the
//! option-file and URL forms, a REQUIRE X509 account, a lossless round trip, and each
//! failure told as one line naming its cause.

use mysql::prelude::Queryable as _;

use crate::util::server::PrivateServer;
use crate::util::tls::{TlsServer, APP_PASSWORD};
use crate::util::{TestCmd, Workdir};

/// `tool` as `app` over TCP to `host` of the TLS server, with `args`.
fn app(wd: &Workdir, tool: &str, host: &str, args: &[&str]) -> TestCmd {
    let s = TlsServer::get();
    wd.cmd(tool)
        .env("MYSQL_PWD", APP_PASSWORD)
        .args(["-h", host, "-P", &s.server.port().to_string(), "-u", "app"])
        .args(args)
}

fn ca(name: &str) -> String {
    TlsServer::get()
        .pki
        .path(name)
        .to_string_lossy()
        .into_owned()
}

/// The query for the session's status variable `name` (`Name,value`).
fn status(name: &str) -> String {
    format!(
        "SELECT '{name}' AS Variable_name, VARIABLE_VALUE AS Value \
         FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = '{name}'"
    )
}

/// The TLS version of the session qexport opened with `args`.
fn tls_version(wd: &Workdir, host: &str, args: &[&str]) -> String {
    let query = status("Ssl_version");
    let mut a = args.to_vec();
    a.extend(["-e", &query]);
    let out = app(wd, "qexport", host, &a).ok().stdout();
    out.lines().nth(1).unwrap_or_default().to_owned()
}

// See: #16 (TLS): every mode, and the MariaDB spellings, reach a server that requires TLS,
// over TLS 1.3; DISABLED is refused with a word on why.
#[test]
fn every_mode_reaches_a_server_that_requires_tls() {
    let wd = Workdir::new("tls_modes");
    let ca = ca("ca.pem");
    for args in [
        vec![],
        vec!["--ssl-mode", "PREFERRED"],
        vec!["--ssl-mode", "required"],
        vec!["--ssl-mode", "VERIFY_CA", "--ssl-ca", &ca],
        vec!["--ssl-mode", "VERIFY_IDENTITY", "--ssl-ca", &ca],
        vec!["--ssl-ca", &ca],
        vec!["--ssl"],
        vec!["--ssl-verify-server-cert", "--ssl-ca", &ca],
    ] {
        assert_eq!(
            tls_version(&wd, "127.0.0.1", &args),
            "Ssl_version,TLSv1.3",
            "{args:?}"
        );
    }
    // AES-128-GCM is offered first, and the server takes it: a bulk export's cipher work,
    // on both sides, is that of 10 AES rounds instead of 14.
    let out = app(&wd, "qexport", "127.0.0.1", &["-e", &status("Ssl_cipher")])
        .ok()
        .stdout();
    assert_eq!(
        out.lines().nth(1),
        Some("Ssl_cipher,TLS_AES_128_GCM_SHA256")
    );
    // A CA folder serves as well as a CA file.
    let dir = wd.path().join("cas");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&ca, dir.join("ca.pem")).unwrap();
    std::fs::copy(self::ca("other-ca.pem"), dir.join("other.pem")).unwrap();
    std::fs::write(dir.join("README"), "not a certificate").unwrap();
    let capath = dir.to_string_lossy().into_owned();
    let v = tls_version(
        &wd,
        "127.0.0.1",
        &["--ssl-mode", "VERIFY_IDENTITY", "--ssl-capath", &capath],
    );
    assert_eq!(v, "Ssl_version,TLSv1.3");
    for args in [vec!["--ssl-mode", "DISABLED"], vec!["--skip-ssl"]] {
        let mut a = args.clone();
        a.extend(["-e", "SELECT 1"]);
        let r = app(&wd, "qexport", "127.0.0.1", &a).fails(2).stderr_has(&[
            "Access denied for user 'app'",
            "not encrypted (--ssl-mode DISABLED), and an account or server that requires TLS",
        ]);
        assert!(!r.stderr().contains(APP_PASSWORD));
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.stderr());
    }
    // See: #25: a wrong password in the default mode is that, with no word on TLS (the
    // connection was encrypted: TLS is not the cause).
    let r = app(&wd, "qexport", "127.0.0.1", &["-e", "SELECT 1"])
        .env("MYSQL_PWD", "not-the-password")
        .fails(2)
        .stderr_has(&["Access denied for user 'app'"]);
    assert!(!r.stderr().contains("TLS"), "{}", r.report());
    assert!(!r.stderr().contains("encrypted"), "{}", r.report());
    // Two spellings of one thing are refused together.
    app(
        &wd,
        "qexport",
        "127.0.0.1",
        &["--ssl-mode", "REQUIRED", "--skip-ssl", "-e", "SELECT 1"],
    )
    .fails(2)
    .stderr_has(&["--skip-ssl", "cannot be used with"]);
}

// See: #16 (TLS): the same settings from an option file and from --url.
#[test]
fn option_files_and_urls_carry_the_tls_settings() {
    let wd = Workdir::new("tls_forms");
    let s = TlsServer::get();
    let port = s.server.port().to_string();
    let ca = ca("ca.pem");
    // ~/.my.cnf (the work directory is $HOME).
    wd.create(
        ".my.cnf",
        format!("[client]\nssl-mode = VERIFY_IDENTITY\nssl_ca = \"{ca}\"\n"),
    );
    assert_eq!(tls_version(&wd, "127.0.0.1", &[]), "Ssl_version,TLSv1.3");
    // The file is read: the wrong CA in it fails, and a flag beats it.
    wd.create(
        ".my.cnf",
        format!(
            "[client]\nssl-verify-server-cert\nssl-ca={}\n",
            self::ca("other-ca.pem")
        ),
    );
    app(&wd, "qexport", "127.0.0.1", &["-e", "SELECT 1"])
        .fails(2)
        .stderr_has(&["not signed by a CA trusted here (--ssl-ca", "other-ca.pem"]);
    assert_eq!(
        tls_version(&wd, "127.0.0.1", &["--ssl-ca", &ca]),
        "Ssl_version,TLSv1.3"
    );
    std::fs::remove_file(wd.path().join(".my.cnf")).unwrap();
    // --url parameters, in either spelling.
    for q in [
        format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        format!("ssl_mode=verify_ca&ssl_ca={ca}"),
    ] {
        let url = format!("mysql://app:{APP_PASSWORD}@127.0.0.1:{port}/?{q}");
        let out = wd
            .cmd("qexport")
            .args(["--url", &url, "-e", &status("Ssl_version")])
            .ok()
            .stdout();
        assert!(out.contains("TLSv1.3"), "{q}: {out}");
    }
    let url = format!("mysql://app:{APP_PASSWORD}@127.0.0.1:{port}/?ssl-mode=DISABLED");
    let r = wd
        .cmd("qexport")
        .args(["--url", &url, "-e", "SELECT 1"])
        .fails(2);
    assert!(!r.stderr().contains(APP_PASSWORD), "{}", r.stderr());
    wd.cmd("qexport")
        .args([
            "--url",
            &format!("mysql://app@127.0.0.1:{port}/?ssl-mode=sometimes"),
            "-e",
            "SELECT 1",
        ])
        .fails(2)
        .stderr_has(&["--url", "unknown SSL mode \"sometimes\""]);
}

// See: #16 (TLS): a REQUIRE X509 account connects with its client certificate, and only so.
#[test]
fn a_require_x509_account_uses_its_client_certificate() {
    let wd = Workdir::new("tls_x509");
    let s = TlsServer::get();
    let port = s.server.port().to_string();
    let x509 = |args: &[&str]| {
        wd.cmd("qexport")
            .args([
                "-h",
                "127.0.0.1",
                "-P",
                &port,
                "-u",
                "x509",
                "--ssl-ca",
                &ca("ca.pem"),
            ])
            .args(args)
            .args(["-e", "SELECT CURRENT_USER()"])
    };
    x509(&[
        "--ssl-cert",
        &ca("client.pem"),
        "--ssl-key",
        &ca("client-key.pem"),
    ])
    .ok()
    .stdout_is("CURRENT_USER()\nx509@%\n");
    x509(&[])
        .fails(2)
        .stderr_has(&["Access denied for user 'x509'"]);
    // A certificate from a CA the server does not trust.
    x509(&[
        "--ssl-cert",
        &ca("stranger.pem"),
        "--ssl-key",
        &ca("stranger-key.pem"),
    ])
    .fails(2)
    .stderr_has(&["TLS: the server ended the handshake"]);
    // A key that does not belong to the certificate; not even PREFERRED passes over a
    // mistake in our own files.
    for mode in [vec![], vec!["--ssl-mode", "PREFERRED"]] {
        let (cert, key) = (ca("client.pem"), ca("stranger-key.pem"));
        let mut a = mode;
        a.extend(["--ssl-cert", &cert, "--ssl-key", &key]);
        x509(&a).fails(2).stderr_has(&["does not match --ssl-cert"]);
    }
    x509(&["--ssl-cert", &ca("client.pem")])
        .fails(2)
        .stderr_has(&["--ssl-cert needs --ssl-key"]);
}

// See: #16 (TLS): each failure is one line naming its cause, exit 2.
#[test]
fn tls_failures_name_their_cause() {
    let wd = Workdir::new("tls_failures");
    let one_line = |r: crate::util::Run| {
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
        assert!(!r.stderr().contains(APP_PASSWORD));
    };
    let ca = ca("ca.pem");
    one_line(
        app(
            &wd,
            "qexport",
            "127.0.0.1",
            &["--ssl-ca", &self::ca("other-ca.pem"), "-e", "SELECT 1"],
        )
        .fails(2)
        .stderr_has(&["TLS: the server's certificate is not signed by a CA trusted here"]),
    );
    // 127.0.0.2 is the same server, by an address its certificate does not name: the
    // chain alone (VERIFY_CA) passes, the name (VERIFY_IDENTITY) does not.
    one_line(
        app(
            &wd,
            "qexport",
            "127.0.0.2",
            &[
                "--ssl-mode",
                "VERIFY_IDENTITY",
                "--ssl-ca",
                &ca,
                "-e",
                "SELECT 1",
            ],
        )
        .fails(2)
        .stderr_has(&["not valid for \"127.0.0.2\""]),
    );
    app(
        &wd,
        "qexport",
        "127.0.0.2",
        &["--ssl-mode", "VERIFY_CA", "--ssl-ca", &ca, "-e", "SELECT 1"],
    )
    .ok()
    .stdout_is("1\n1\n");
    one_line(
        app(
            &wd,
            "qexport",
            "127.0.0.1",
            &["--ssl-ca", "/nonexistent/ca.pem", "-e", "SELECT 1"],
        )
        .fails(2)
        .stderr_has(&["--ssl-ca /nonexistent/ca.pem"]),
    );
    // A server whose certificate has expired.
    let expired = crate::util::server::PrivateServer::start(
        &wd.path().join("expired"),
        &TlsServer::get().pki.server_options("expired"),
    )
    .unwrap();
    one_line(
        wd.cmd("qexport")
            .args([
                "-h",
                "127.0.0.1",
                "-P",
                &expired.port().to_string(),
                "-u",
                "root",
            ])
            .args(["--ssl-ca", &ca, "-e", "SELECT 1"])
            .fails(2)
            .stderr_has(&["TLS: the server's certificate has expired"]),
    );
}

// See: #16 (TLS): REQUIRED against a server that offers no TLS says so; PREFERRED (the
// default) falls back to plain text there.
#[test]
fn required_tls_from_a_server_without_it() {
    let db = crate::util::db::TestDb::new("tls_none");
    let wd = Workdir::new("tls_none");
    let have: Vec<(String, String)> = db.query("SHOW VARIABLES LIKE 'have_ssl'");
    assert_ne!(
        have[0].1, "YES",
        "this test needs a server without TLS; the test server has it"
    );
    let (host, port) = db.host_port();
    let run = |args: &[&str]| {
        wd.cmd("qexport")
            .args(["-h", &host, "-P", &port.to_string(), "-u", "root"])
            .args(args)
            .args(["-e", "SELECT 1"])
    };
    run(&[]).ok().stdout_is("1\n1\n");
    let r = run(&["--ssl-mode", "REQUIRED"])
        .fails(2)
        .stderr_has(&["the server offers no TLS, and --ssl-mode REQUIRED needs it"]);
    assert_eq!(r.stderr().lines().count(), 1);
}

// See: #16 (TLS): every connection of every tool is encrypted and verified (the server
// refuses any other): export with -j 2 and --consistent, import with -j 2, a backup and
// its restore; and what goes out comes back byte for byte.
#[test]
fn a_round_trip_over_tls_is_lossless() {
    let wd = Workdir::new("tls_roundtrip");
    let s = TlsServer::get();
    let db = s.database("roundtrip");
    let restored = s.database("restored");
    let mut c = s.server.admin();
    c.query_drop(format!("USE `{db}`")).unwrap();
    for sql in [
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(40) NULL, b VARBINARY(16), \
         d DECIMAL(30,10), ts TIMESTAMP NULL, j JSON)",
        "INSERT INTO t SELECT seq, IF(seq % 7 = 0, NULL, IF(seq % 5 = 0, '', \
         CONCAT('naïve 🐬 ', seq, ',\"q\"\\n'))), UNHEX(MD5(seq)), seq / 3, \
         FROM_UNIXTIME(seq * 86400), JSON_OBJECT('n', seq) FROM seq_1_to_3000",
        "CREATE TABLE t2 LIKE t",
    ] {
        c.query_drop(sql).unwrap();
    }
    let ca = ca("ca.pem");
    let tls = ["--ssl-mode", "VERIFY_IDENTITY", "--ssl-ca", &ca, "-D", &db];
    let export = |extra: &[&str]| {
        app(&wd, "qexport", "127.0.0.1", &tls)
            .args(extra)
            .arg("t")
            .ok()
            .stdout()
    };
    let csv = export(&[]);
    assert!(csv.starts_with("id,s,b,d,ts,j\n1,"), "{}", &csv[..80]);
    assert_eq!(export(&["-j", "2", "--consistent"]), csv);
    // Protocol compression inside TLS.
    assert_eq!(export(&["-C", "-j", "2"]), csv);
    wd.create("t.csv", &csv);
    app(&wd, "qimport", "127.0.0.1", &tls)
        .args(["-q", "-j", "2", "t2", "t.csv"])
        .ok();
    let sum = |c: &mut mysql::Conn, t: &str| -> Option<u64> {
        c.query_first::<(String, Option<u64>), _>(format!("CHECKSUM TABLE {t}"))
            .unwrap()
            .unwrap()
            .1
    };
    assert_eq!(sum(&mut c, "t"), sum(&mut c, "t2"));
    app(&wd, "qexport", "127.0.0.1", &tls)
        .args(["-q", "--all", "-o", "bk"])
        .ok();
    app(
        &wd,
        "qimport",
        "127.0.0.1",
        &["--ssl-mode", "VERIFY_IDENTITY", "--ssl-ca", &ca],
    )
    .args(["-q", "-D", &restored, "--dir", "bk"])
    .ok();
    assert_eq!(
        sum(&mut c, &format!("`{restored}`.t")),
        sum(&mut c, &format!("`{db}`.t"))
    );
}

// See: #23 (4): X.509 version 1 certificates, made as the MariaDB documentation makes
// them (openssl x509 -req without extensions): a v1 client certificate works; a v1 server
// certificate works unverified and is refused by the verifying modes in one line that
// names the cause and the fix.
#[test]
fn x509_version_1_certificates() {
    let wd = Workdir::new("secrets_v1");
    let dir = wd.path().join("pki");
    std::fs::create_dir_all(&dir).unwrap();
    let sh = |script: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&dir)
            .output()
            .expect("running openssl (scripts/deps.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh("openssl genrsa -out ca-key.pem 2048 && \
        openssl req -new -x509 -nodes -days 3650 -key ca-key.pem -out ca.pem -subj /CN=v1-ca && \
        for n in server client; do \
          openssl req -newkey rsa:2048 -nodes -keyout $n-key.pem -out $n.req -subj /CN=127.0.0.1 && \
          openssl x509 -req -in $n.req -days 3650 -CA ca.pem -CAkey ca-key.pem -set_serial 0$RANDOM -out $n.pem; \
        done && chmod 644 *.pem && openssl x509 -in client.pem -noout -text | grep -q 'Version: 1'");
    let p = |n: &str| dir.join(n).display().to_string();
    let server = PrivateServer::start(
        &wd.path().join("server"),
        &format!(
            "--ssl-ca={} --ssl-cert={} --ssl-key={}",
            p("ca.pem"),
            p("server.pem"),
            p("server-key.pem")
        ),
    )
    .unwrap_or_else(|e| panic!("a private server with TLS did not start: {e}"));
    server
        .admin()
        .query_drop("CREATE USER 'x509u'@'%' REQUIRE X509")
        .unwrap();
    let port = server.port().to_string();
    let as_x509u = |key: &str| {
        let target = [
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "x509u",
        ];
        wd.cmd("qexport")
            .args(target)
            .args(["--ssl-cert", &p("client.pem"), "--ssl-key", &p(key)])
    };
    let run = |mode: &str| {
        as_x509u("client-key.pem")
            .args(["--ssl-mode", mode, "--ssl-ca", &p("ca.pem")])
            .args(["-e", "SELECT CURRENT_USER() AS u"])
    };
    run("REQUIRED").ok().stdout_is("u\nx509u@%\n");
    for mode in ["VERIFY_CA", "VERIFY_IDENTITY"] {
        let r = run(mode)
            .fails(2)
            .stderr_has(&["an X.509 version 1 certificate", "re-issue it as version 3"]);
        assert!(!r.stderr().contains("Other("), "{}", r.stderr());
        assert_eq!(r.stderr().lines().count(), 1);
    }
    // A key that is not the certificate's is named before any connection.
    as_x509u("server-key.pem")
        .args(["-e", "SELECT 1"])
        .fails(2)
        .stderr_has(&["server-key.pem does not match --ssl-cert"]);
}
