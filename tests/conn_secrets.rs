//! Secrets and connection surprises: a password on the command line leaves the process's
//! argument memory, option files and URLs are read as the client reads them, the default
//! user comes from the password database, X.509 v1 certificates work. See: #23 (4).

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::server::PrivateServer;
use crate::util::{wait_for, Workdir};

const SECRET: &str = "s3cr3t-Pa55";

// See: #23 (4): -pSECRET, --password=SECRET and --url with a password do not show in the
// running tool's /proc/PID/cmdline (what ps reads), for qexport and qimport.
#[test]
fn a_password_on_the_command_line_leaves_ps() {
    let wd = Workdir::new("secrets_ps");
    let db = TestDb::new("secrets_ps");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY);");
    let (user, url) = db.user(SECRET);
    let (host, port) = db.host_port();
    let port = port.to_string();
    let flag_p = format!("-p{SECRET}");
    let flag_password = format!("--password={SECRET}");
    let by_flags = |pw: &str| {
        vec![
            "-h".to_owned(),
            host.clone(),
            "-P".into(),
            port.clone(),
            "-u".into(),
            user.clone(),
            pw.to_owned(),
            "-D".into(),
            db.name.clone(),
        ]
    };
    let mut hold = db.conn();
    for args in [
        by_flags(&flag_p),
        by_flags(&flag_password),
        vec!["--url".into(), url],
    ] {
        // qexport, held in its query by a lock the test holds.
        hold.query_drop("SELECT GET_LOCK('qt_secrets', 0)").unwrap();
        let child = wd
            .cmd("qexport")
            .args(&args)
            .args(["-e", "SELECT GET_LOCK('qt_secrets', 60) AS g"])
            .spawn();
        wait_for("the export to wait on the lock", &|| {
            db.query::<u64>(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE = 'User lock'",
            ) != [0]
        });
        let shown = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        let shown = String::from_utf8_lossy(&shown).replace('\0', " ");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("xxxx"), "{shown}");
        hold.query_drop("SELECT RELEASE_LOCK('qt_secrets')")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // qimport, held by its input.
        let mut child = wd.cmd("qimport").args(&args).arg("t").spawn();
        let stdin = child.stdin.take().unwrap();
        wait_for("the import's session", &|| {
            db.query::<u64>(&format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{user}'"
            )) != [0]
        });
        let shown = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        assert!(!String::from_utf8_lossy(&shown).contains(SECRET));
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "an empty input");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    }
}

// See: #23 (4): another tool's URL spelling is an error that names it, not a TLS setting
// silently dropped; a path of several segments too.
#[test]
fn unknown_url_parameters_are_refused() {
    let wd = Workdir::new("secrets_url");
    let db = TestDb::new("secrets_url");
    wd.cmd("qexport")
        .args([
            "--url",
            &format!("{}?sslmode=verify-full&sslrootcert=ca.pem", db.url),
            "-e",
            "SELECT 1",
        ])
        .fails(2)
        .stderr_has(&["unknown parameter \"sslmode\" (did you mean \"ssl-mode\"?)"]);
    wd.cmd("qimport")
        .args(["--url", &format!("{}/extra", db.url), "t"])
        .stdin("a\n1\n")
        .fails(2)
        .stderr_has(&["several segments"]);
}

// See: #23 (4): option files as the mariadb client reads them: [client-server], a group
// header with spaces, a byte-order mark (refused, never skipped), --print-defaults.
#[test]
fn option_files_and_print_defaults_follow_the_client() {
    let wd = Workdir::new("secrets_cnf");
    let cnf = wd.create(
        "my.cnf",
        "[client-server]\nport=1111\n[ client ]\nuser=spaced\n[client]\nhost=h1\npassword=pw\nloose-ssl-ca=/x/ca.pem\nssl\n",
    );
    let client = std::process::Command::new("mariadb")
        .arg(format!("--defaults-file={}", cnf.display()))
        .arg("--print-defaults")
        .output()
        .expect("running mariadb --print-defaults (scripts/deps.sh installs mariadb-client)");
    let client = String::from_utf8_lossy(&client.stdout)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .trim()
        .replace("--password=pw", "--password=*****");
    for tool in ["qexport", "qimport"] {
        let ours = wd
            .cmd(tool)
            .arg(format!("--defaults-file={}", cnf.display()))
            .arg("--print-defaults")
            .ok()
            .stdout();
        assert_eq!(
            ours,
            format!("{tool} would have been started with the following arguments:\n{client}\n")
        );
    }
    let bom = wd.create("bom.cnf", "\u{feff}[client]\nhost=elsewhere\n");
    wd.cmd("qexport")
        .arg(format!("--defaults-file={}", bom.display()))
        .args(["-e", "SELECT 1"])
        .fails(2)
        .stderr_has(&["bom.cnf, line 1: an option before any [group] header"]);
}

// See: #23 (4): with $USER and $LOGNAME unset (cron, systemd), the user is the login name
// from the password database, as the client takes it.
#[test]
fn the_default_user_is_the_login_name() {
    let wd = Workdir::new("secrets_user");
    let db = TestDb::new("secrets_user");
    let (host, port) = db.host_port();
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_qexport"));
    let run = |prefix: &[&str]| {
        std::process::Command::new(prefix[0])
            .args(&prefix[1..])
            .arg(exe)
            .args(["--no-defaults", "-h", &host, "-P", &port.to_string()])
            .args(["-e", "SELECT CURRENT_USER() AS u"])
            .current_dir(wd.path())
            .output()
            .unwrap()
    };
    let me = nix::unistd::geteuid();
    if me.is_root() {
        // root: `root`, whatever $USER says.
        let out = run(&["env", "-u", "USER", "-u", "LOGNAME"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("root@"));
        // Another user of the password database, with no $USER: refused by its name.
        let out = run(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "env",
            "-u",
            "USER",
            "-u",
            "LOGNAME",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Access denied for user 'nobody'@"), "{err}");
    } else {
        let name = nix::unistd::User::from_uid(me).unwrap().unwrap().name;
        let out = run(&["env", "-u", "USER", "-u", "LOGNAME"]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains(&format!("'{name}'")) || all.contains(&format!("{name}@")),
            "{all}"
        );
    }
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
