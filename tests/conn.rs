//! Connecting: flags, `~/.my.cnf` and the option files (read as the mariadb client reads
//! them), `MYSQL_*` variables, URLs, the default user, protocol compression; and the
//! password, which shows neither in an error nor in `ps`. TLS has tls.rs. See: #15, #16,
//! #23 (4).

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::setup::small;
use crate::util::{wait_for, Workdir};

#[test]
fn connection_from_my_cnf_env_and_defaults_file() {
    let (wd, db) = small("qexport_conn");
    let (host, port) = db.host_port();
    // ~/.my.cnf ([client] group); HOME is the work directory.
    wd.create(
        ".my.cnf",
        format!(
            "[client]\nhost={host}\nport={port}\nuser=root\n[qexport]\ndatabase={}\n",
            db.name
        ),
    );
    wd.cmd("qexport")
        .args(["-e", "SELECT COUNT(*) AS n FROM t"])
        .ok()
        .stdout_is("n\n4\n");
    std::fs::remove_file(wd.path().join(".my.cnf")).unwrap();
    // MYSQL_* environment variables.
    wd.cmd("qexport")
        .env("MYSQL_HOST", &host)
        .env("MYSQL_TCP_PORT", port.to_string())
        .args(["-u", "root", "-D", &db.name, "-e", "SELECT 1 AS one"])
        .ok()
        .stdout_is("one\n1\n");
    // --defaults-file, with flags overriding it.
    let f = wd.create(
        "conn.cnf",
        format!(
            "[client]\nhost={host}\nport=1\nuser=root\ndatabase={}\n",
            db.name
        ),
    );
    wd.cmd("qexport")
        .arg(format!("--defaults-file={}", f.display()))
        .args(["-P", &port.to_string(), "-e", "SELECT 2 AS two"])
        .ok()
        .stdout_is("two\n2\n");
}

// See: #15: a named option file that is missing is an error naming it.
#[test]
fn a_missing_defaults_file_is_named() {
    let wd = Workdir::new("house_defaults");
    for flag in ["--defaults-file", "--defaults-extra-file"] {
        wd.cmd("qexport")
            .args([&format!("{flag}=nope.cnf"), "-D", "d", "t"])
            .fails(2)
            .stderr_has(&[flag, "nope.cnf not found"]);
    }
}

// See: #16: the option file is read as the mariadb client reads it: quotes and escapes,
// comments after a value, `#` ending an unquoted one, `loose-` prefixes, other groups.
#[test]
fn option_files_read_as_the_mariadb_client_reads_them() {
    let wd = Workdir::new("house_cnf");
    let cnf = wd.create(
        "my.cnf",
        "[client]\npassword=\"a\\\"b#c\" # comment\nuser = 'o''k'\nhost=h\\#ost\ndatabase = x;y\nloose-socket = /tmp/s.sock\nport = 3307  # trailing\n; comment\n# comment\nunknown-key = 1\n[mysqld]\nuser = server\n",
    );
    let out = std::process::Command::new("mariadb")
        .arg(format!("--defaults-file={}", cnf.display()))
        .arg("--print-defaults")
        .output()
        .expect("running mariadb --print-defaults (scripts/deps.sh installs mariadb-client)");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    let client = |key: &str| -> Option<String> {
        shown
            .split_whitespace()
            .find_map(|a| a.strip_prefix(&format!("--{key}=")).map(str::to_owned))
    };
    let args = qtools::cli::ConnArgs {
        defaults_file: Some(cnf.to_string_lossy().into_owned()),
        ..qtools::cli::ConnArgs::default()
    };
    let ours = qtools::conn::ConnConfig::resolve_with(&args, "qexport", |_| None, None).unwrap();
    assert_eq!(ours.password, client("password"), "{shown}");
    assert_eq!(ours.user, client("user"), "{shown}");
    assert_eq!(ours.host, client("host"), "{shown}");
    assert_eq!(ours.database, client("database"), "{shown}");
    assert_eq!(ours.socket, client("loose-socket"), "{shown}");
    assert_eq!(ours.port.map(|p| p.to_string()), client("port"), "{shown}");

    // See: #16 (TLS): TLS keys, also from !include and !includedir files, as the client
    // reads them (before, `ssl` and `ssl-ca` in ~/.my.cnf were silently ignored).
    let pki = crate::util::tls::Pki::make(&wd.path().join("pki"));
    let (ca, cert, key) = (
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client-key.pem"),
    );
    std::fs::create_dir(wd.path().join("conf.d")).unwrap();
    wd.create(
        "conf.d/tls.cnf",
        format!(
            "[client]\nssl-cert = \"{}\"\nloose-ssl-key={}\n",
            cert.display(),
            key.display()
        ),
    );
    wd.create("conf.d/ignored.txt", "[client]\nssl-cert = /not/read\n");
    let inc = wd.create(
        "inc.cnf",
        format!("[client]\nssl_ca = {} # the CA\n", ca.display()),
    );
    let cnf = wd.create(
        "tls.cnf",
        format!(
            "[client]\nssl\nssl-verify-server-cert\n!include {}\n!includedir {}\n",
            inc.display(),
            wd.path().join("conf.d").display()
        ),
    );
    let out = std::process::Command::new("mariadb")
        .arg(format!("--defaults-file={}", cnf.display()))
        .arg("--print-defaults")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    let client = |key: &str| -> Option<String> {
        shown.split_whitespace().find_map(|a| {
            a.strip_prefix(&format!("--{key}="))
                .or_else(|| a.strip_prefix(&format!("--loose-{key}=")))
                .map(str::to_owned)
        })
    };
    for flag in ["--ssl", "--ssl-verify-server-cert"] {
        assert!(shown.split_whitespace().any(|a| a == flag), "{shown}");
    }
    let args = qtools::cli::ConnArgs {
        defaults_file: Some(cnf.to_string_lossy().into_owned()),
        ..qtools::cli::ConnArgs::default()
    };
    let ours = qtools::conn::ConnConfig::resolve_with(&args, "qexport", |_| None, None).unwrap();
    let shown_path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    assert_eq!(ours.tls.mode, qtools::tls::SslMode::VerifyIdentity);
    assert_eq!(
        shown_path(&ours.tls.ca),
        client("ssl_ca").or(client("ssl-ca")),
        "{shown}"
    );
    assert_eq!(shown_path(&ours.tls.cert), client("ssl-cert"), "{shown}");
    assert_eq!(shown_path(&ours.tls.key), client("ssl-key"), "{shown}");
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

#[test]
fn password_never_appears_in_errors() {
    let wd = Workdir::new("qexport_password");
    let db = TestDb::new("qexport_password");
    crate::util::secret("S3cretPw");
    let (host, port) = db.host_port();
    let port = port.to_string();
    let r = wd
        .cmd("qexport")
        .args([
            "-h",
            &host,
            "-P",
            &port,
            "-u",
            "nobody_here",
            "-pS3cretPw",
            "-D",
            &db.name,
            "t",
        ])
        .fails(2)
        .stderr_has(&["Access denied", "nobody_here@"]);
    assert!(!r.stderr().contains("S3cretPw"), "{}", r.report());
    let r = wd
        .cmd("qexport")
        .args([
            "--url",
            &format!("mysql://nobody_here:S3cretPw@{host}:{port}/{}", db.name),
            "t",
        ])
        .fails(2);
    assert!(!r.stderr().contains("S3cretPw"), "{}", r.report());
    let r = wd
        .cmd("qexport")
        .env("MYSQL_PWD", "S3cretPw")
        .args([
            "-h",
            &host,
            "-P",
            &port,
            "-u",
            "nobody_here",
            "-D",
            &db.name,
            "t",
        ])
        .fails(2);
    assert!(!r.stderr().contains("S3cretPw"), "{}", r.report());
}

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

// See: #16: -C compresses the protocol (the session says so) and changes no byte, for
// export, import with LOAD DATA and -j 2; the option file key and the URL do the same.
#[test]
fn compression_changes_no_byte() {
    let wd = Workdir::new("house_compress");
    let db = TestDb::new("house_compress");
    db.load("users.sql");
    db.exec("CREATE TABLE copy LIKE users;");
    let status = "SELECT 'Compression' AS Variable_name, VARIABLE_VALUE AS Value \
                  FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Compression'";
    wd.cmd("qexport")
        .args(["--url", &db.url, "-C", "-e", status])
        .ok()
        .stdout_is("Variable_name,Value\nCompression,ON\n");
    wd.create("c.cnf", "[client]\ncompress\n");
    wd.cmd("qexport")
        .args(["--defaults-file=c.cnf", "--url", &db.url, "-e", status])
        .ok()
        .stdout_is("Variable_name,Value\nCompression,ON\n");
    wd.cmd("qexport")
        .args(["--url", &format!("{}?compress=true", db.url), "-e", status])
        .ok()
        .stdout_is("Variable_name,Value\nCompression,ON\n");
    let plain = wd
        .cmd("qexport")
        .args(["--url", &db.url, "users"])
        .ok()
        .stdout();
    for j in ["1", "2"] {
        let packed = wd
            .cmd("qexport")
            .args(["--url", &db.url, "-C", "-j", j, "users"])
            .ok()
            .stdout();
        assert_eq!(packed, plain);
        db.exec("DELETE FROM copy");
        wd.cmd("qimport")
            .args(["--url", &db.url, "-C", "-j", j, "copy"])
            .stdin(&plain)
            .ok();
        assert_eq!(db.checksum("copy"), db.checksum("users"));
    }
}
