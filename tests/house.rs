//! Regression tests of #15's defects, and checks of the code against someone else's: the
//! `csv` crate reads what qexport writes as the same values.

use crate::util::db::TestDb;
use crate::util::Workdir;

fn backed_up(test: &str) -> (Workdir, TestDb) {
    let wd = Workdir::new(test);
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE `café; x` (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'a;b');
         INSERT INTO `café; x` VALUES (1, 'é'), (2, NULL);",
    );
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    (wd, db)
}

fn tables(db: &TestDb) -> u64 {
    db.query::<u64>(&format!(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
        db.name
    ))[0]
}

// See: #15: a schema.sql that differs from its manifest hash is refused before anything
// changes; one with CRLF line ends (and a manifest that says so) restores, non-ASCII names
// and ';' in strings included.
#[test]
fn schema_sql_is_checked_and_read_as_sql() {
    let (wd, db) = backed_up("house_schema");
    let schema = wd.path().join("bk/schema.sql");
    let text = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(&schema, text.replace("DEFAULT 'a;b'", "DEFAULT 'a;c'")).unwrap();
    let target = TestDb::new("house_schema_r");
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .fails(2)
        .stderr_has(&["schema.sql: SHA-256 differs from the manifest"]);
    assert_eq!(tables(&target), 0);
    // CRLF throughout, with the manifest's hash made to match.
    let crlf = text.replace('\n', "\r\n");
    std::fs::write(&schema, &crlf).unwrap();
    let path = wd.path().join("bk/manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let digest = wd
        .sh("sha256sum bk/schema.sql | cut -d' ' -f1")
        .ok()
        .stdout();
    m["schema_sha256"] = digest.trim().into();
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    assert_eq!(target.checksum("café; x"), db.checksum("café; x"));
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

// See: #15: qexport widens a pipe on stdout, as the other tools do.
#[test]
fn qexport_widens_its_pipe() {
    let wd = Workdir::new("house_pipe");
    let db = TestDb::new("house_pipe");
    let run = wd
        .sh(&format!(
            // The reader waits for the first byte, which qexport writes after it widened
            // the pipe. See: #23 (0): no sleep.
            "qexport --url '{}' -e 'SELECT 1 AS s' | python3 -c 'import sys, fcntl; sys.stdin.buffer.read(1); print(fcntl.fcntl(0, 1032))'",
            db.url
        ))
        .ok();
    assert_eq!(run.stdout().trim(), "1048576", "{}", run.report());
}

/// id, then text, DECIMAL and DATETIME as the server prints them.
type ExportedRow = (i32, Option<String>, Option<String>, Option<String>);

// See: #15: what qexport writes, an independent reader (the `csv` crate) reads back as the
// same values the server holds (a NULL reads as an empty field there: `csv` has no NULL).
#[test]
fn qexport_output_reads_back_with_the_csv_crate() {
    let wd = Workdir::new("house_csv");
    let db = TestDb::new("house_csv");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, s TEXT, d DECIMAL(30,10), dt DATETIME(6));
         INSERT INTO t VALUES (1, 'plain', 1.5, '2026-12-03 10:00:00.000001'),
           (2, 'a,b \"quoted\" ''x''', -0.0000000001, NULL),
           (3, CONCAT('line1', CHAR(10), 'line2', CHAR(13), CHAR(10), 'end'), NULL, '1000-01-01 00:00:00'),
           (4, '', 12345678901234567890.1234567890, NULL),
           (5, NULL, 0, NULL),
           (6, 'ünï ☃ 𝄞 ,\"', 1, NULL);",
    );
    for flags in ["", "--tsv", "-j 2"] {
        let out = wd
            .sh(&format!("qexport --url '{}' {flags} t", db.url))
            .ok()
            .out
            .stdout;
        let mut r = csv::ReaderBuilder::new()
            .delimiter(if flags == "--tsv" { b'\t' } else { b',' })
            .from_reader(&out[..]);
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, ["id", "s", "d", "dt"]);
        let got: Vec<Vec<String>> = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let want: Vec<ExportedRow> =
            db.query("SELECT id, s, CAST(d AS CHAR), CAST(dt AS CHAR) FROM t ORDER BY id");
        let want: Vec<Vec<String>> = want
            .into_iter()
            .map(|(id, s, d, dt)| {
                vec![
                    id.to_string(),
                    s.unwrap_or_default(),
                    d.unwrap_or_default(),
                    dt.unwrap_or_default(),
                ]
            })
            .collect();
        assert_eq!(got, want, "{flags}");
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

/// Each flag `--help` of `tool` lists, with its short form when it has one.
fn help_flags(wd: &Workdir, tool: &str) -> Vec<(Option<String>, String)> {
    let help = wd.cmd(tool).arg("--help").ok().stdout();
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (short, rest) = match l.strip_prefix('-') {
                Some(r) if !r.starts_with('-') => {
                    let (s, rest) = r.split_once(", ")?;
                    (Some(format!("-{s}")), rest)
                }
                _ => (None, l),
            };
            let long: String = rest
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some((short, format!("--{long}")))
        })
        .collect()
}

// See: #16, #25: every flag of every tool's --help is documented in that tool's page,
// docs/TOOL.md (its long form, as a whole word: `--ssl` in `--ssl-mode` does not count),
// every flag of that page's flag table is one the tool has, the README links the page,
// --help ends with examples, and --version names the commit.
#[test]
fn help_and_docs_agree() {
    let wd = Workdir::new("house_help");
    let readme = std::fs::read_to_string(crate::util::root().join("README.md")).unwrap();
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        let path = format!("docs/{tool}.md");
        let page = std::fs::read_to_string(crate::util::root().join(&path)).unwrap();
        assert!(
            readme.contains(&format!("]({path})")),
            "README.md does not link {path}"
        );
        let flags = help_flags(&wd, tool);
        assert!(flags.len() > 5, "{tool}: {flags:?}");
        for (_, long) in &flags {
            assert!(
                mentions(&page, long),
                "{tool} {long} is in --help but not in {path}"
            );
        }
        // Old names the tools still take, which --help does not show.
        let aliases = ["--cascade-deletes"];
        for (flag, line) in flag_table(&page) {
            let known = flags
                .iter()
                .any(|(short, long)| *long == flag || short.as_deref() == Some(flag.as_str()))
                || aliases.contains(&flag.as_str());
            assert!(
                known,
                "{path}: the flag table names {flag}, which {tool} --help does not show: {line}"
            );
        }
        let help = wd.cmd(tool).arg("--help").ok().stdout();
        assert!(help.contains("Examples:"), "{tool}");
        let version = wd.cmd(tool).arg("--version").ok().stdout();
        let rest = version.trim().strip_prefix(&format!("{tool} ")).unwrap();
        assert!(rest.contains(" (") && rest.ends_with(')'), "{version}");
    }
}

/// Whether `text` names `flag` as a whole word: not as part of a longer flag or word.
fn mentions(text: &str, flag: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(flag).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + flag.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// The flags named in the first cells of a page's "## Flags" table, with their rows.
fn flag_table(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let rows = page
        .lines()
        .skip_while(|l| *l != "## Flags")
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("| `"));
    for row in rows {
        let cell = row.split(" | ").next().unwrap_or("");
        let bytes = cell.as_bytes();
        for (at, _) in cell.match_indices('-') {
            let prev = at.checked_sub(1).map(|i| bytes[i]);
            if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
                continue;
            }
            let name: String = cell[at..]
                .chars()
                .enumerate()
                .take_while(|&(i, c)| i < 2 || c.is_ascii_alphanumeric() || c == '-')
                .map(|(_, c)| c)
                .collect();
            let long = name.starts_with("--");
            let short = !long && name.len() == 2 && name != "- ";
            if (long && name.len() > 3) || short {
                out.push((name, row.to_owned()));
            }
        }
    }
    assert!(out.len() > 5, "no flag table found: {out:?}");
    out
}

// See: #16: scripts/install.sh puts the binaries, man pages and completions under a
// prefix; each page renders with man, each bash completion parses.
#[test]
fn install_puts_binaries_man_pages_and_completions() {
    let wd = Workdir::new("house_install");
    let bins = std::path::Path::new(env!("CARGO_BIN_EXE_qexport"))
        .parent()
        .unwrap();
    let prefix = wd.path().join("prefix");
    // A relative prefix is taken from where the script runs (hostile review, #25).
    let run = std::process::Command::new("bash")
        .arg(crate::util::root().join("scripts/install.sh"))
        .arg("prefix")
        .current_dir(wd.path())
        .env("QTOOLS_BIN_DIR", bins)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        assert!(prefix.join("bin").join(tool).exists());
        let page = prefix.join(format!("share/man/man1/{tool}.1"));
        let man = std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("running man (scripts/deps.sh installs man-db)");
        let text = String::from_utf8_lossy(&man.stdout);
        assert!(
            man.status.success(),
            "{}",
            String::from_utf8_lossy(&man.stderr)
        );
        assert!(text.contains(tool) && text.contains("Examples:"), "{text}");
        // See: #23 (5): the sections clap does not make.
        for section in ["EXIT STATUS", "ENVIRONMENT"] {
            assert!(text.contains(section), "{tool}: {section}\n{text}");
        }
        if tool.starts_with("qexport") || tool.starts_with("qimport") {
            assert!(
                text.contains("FILES") && text.contains("~/.my.cnf"),
                "{text}"
            );
        }
        let bash = prefix.join(format!("share/bash-completion/completions/{tool}"));
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&bash)
            .status()
            .unwrap();
        assert!(check.success(), "bash -n {}", bash.display());
        assert!(prefix
            .join(format!("share/zsh/site-functions/_{tool}"))
            .exists());
        let fish = std::fs::read_to_string(
            prefix.join(format!("share/fish/vendor_completions.d/{tool}.fish")),
        )
        .unwrap();
        // See: #25 (hostile review): a bare `?` is a wildcard to fish.
        assert!(!fish.contains(" -s ? "), "{fish}");
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
