//! From [`ConnArgs`], option files and `MYSQL_*` variables to a live connection.
//!
//! Precedence follows the `mysql` client, lowest first: built-in defaults, the environment
//! (`MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD`, `MYSQL_UNIX_PORT`), option files
//! (`/etc/my.cnf`, `/etc/mysql/my.cnf`, `~/.my.cnf`, then `--defaults-extra-file`; or only
//! `--defaults-file`; groups `[client]`, `[client-mariadb]` and the tool's own, later
//! files winning), `--url`, and last the flags.
//!
//! The password never leaves this module in readable form: [`ConnConfig`]'s `Debug` and
//! [`ConnConfig::describe`] redact it, and the URL is parsed here rather than handed to
//! the driver, whose URL errors would quote it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use mysql::{Conn, OptsBuilder};

use crate::cli::ConnArgs;

/// Statements every connection runs first: UTC session time zone (TIMESTAMP values then
/// never move) and utf8mb4 everywhere.
pub const SESSION_INIT: &[&str] = &["SET NAMES utf8mb4", "SET time_zone = '+00:00'"];

const DEFAULT_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// The largest packet the client takes: 1 GiB, the protocol's maximum.
const MAX_PACKET: usize = 1 << 30;

/// Where and as whom to connect, fully resolved.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub socket: Option<String>,
    pub database: Option<String>,
    /// Protocol compression (`-C`).
    pub compress: bool,
}

impl fmt::Debug for ConnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("socket", &self.socket)
            .field("database", &self.database)
            .field("compress", &self.compress)
            .finish()
    }
}

/// A partial set of connection settings from one source.
#[derive(Default)]
struct Layer {
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    socket: Option<String>,
    database: Option<String>,
    compress: Option<bool>,
}

impl ConnConfig {
    /// Resolve from the process environment and the user's option files.
    pub fn resolve(args: &ConnArgs, tool: &str) -> anyhow::Result<ConnConfig> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let mut cfg =
            ConnConfig::resolve_with(args, tool, |k| std::env::var(k).ok(), home.as_deref())?;
        if let Some(None) = &args.password {
            let p = rpassword::prompt_password("Enter password: ")
                .context("reading the password from the terminal")?;
            cfg.password = Some(p);
        }
        Ok(cfg)
    }

    /// Resolve with an explicit environment and home directory (for tests).
    pub fn resolve_with(
        args: &ConnArgs,
        tool: &str,
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> anyhow::Result<ConnConfig> {
        let mut layers = vec![Layer {
            host: env("MYSQL_HOST"),
            port: env("MYSQL_TCP_PORT"),
            user: None,
            password: env("MYSQL_PWD"),
            socket: env("MYSQL_UNIX_PORT"),
            database: None,
            compress: None,
        }];
        if !args.no_defaults {
            let groups = ["client", "client-mariadb", tool];
            for (file, named) in option_files(args, home) {
                // A file named on the command line must be there, as the mysql client
                // insists (else the tool would fail later with an unrelated "Access
                // denied"); the default files may be missing.
                if named && !file.exists() {
                    bail!(
                        "{}: option file {} not found",
                        if args.defaults_file.is_some() {
                            "--defaults-file"
                        } else {
                            "--defaults-extra-file"
                        },
                        file.display()
                    );
                }
                layers.push(read_option_file(&file, &groups)?);
            }
        }
        if let Some(url) = &args.url {
            layers.push(parse_url(url)?);
        }
        layers.push(Layer {
            host: args.host.clone(),
            port: args.port.map(|p| p.to_string()),
            user: args.user.clone(),
            password: args.password.clone().flatten(),
            socket: args.socket.clone(),
            database: args.database.clone(),
            compress: args.compress.then_some(true),
        });

        let mut cfg = ConnConfig::default();
        for l in layers {
            cfg.host = l.host.or(cfg.host);
            if let Some(p) = l.port {
                cfg.port = Some(
                    p.trim()
                        .parse()
                        .with_context(|| format!("invalid port {p:?}"))?,
                );
            }
            cfg.user = l.user.or(cfg.user);
            cfg.password = l.password.or(cfg.password);
            cfg.socket = l.socket.or(cfg.socket);
            cfg.database = l.database.or(cfg.database);
            cfg.compress = l.compress.unwrap_or(cfg.compress);
        }
        if cfg.user.is_none() {
            cfg.user = env("USER").or_else(|| env("LOGNAME"));
        }
        Ok(cfg)
    }

    /// The socket to use, if this connection goes through one: the host is `localhost` (or
    /// unset) and a socket file is configured or the default one exists.
    fn socket_path(&self) -> Option<String> {
        match self.host.as_deref() {
            None | Some("localhost") => {}
            Some(_) => return None,
        }
        match &self.socket {
            Some(s) => Some(s.clone()),
            None if Path::new(DEFAULT_SOCKET).exists() => Some(DEFAULT_SOCKET.to_owned()),
            None => None,
        }
    }

    /// `user@host:port` or `user@localhost via SOCKET`, for messages; never the password.
    pub fn describe(&self) -> String {
        let user = self.user.as_deref().unwrap_or("");
        match self.socket_path() {
            Some(s) => format!("{user}@localhost via {s}"),
            None => format!("{user}@{}:{}", self.tcp_host(), self.port.unwrap_or(3306)),
        }
    }

    fn tcp_host(&self) -> &str {
        match self.host.as_deref() {
            None | Some("localhost") => "127.0.0.1",
            Some(h) => h,
        }
    }

    /// Driver options, with [`SESSION_INIT`] and any `extra_init` statements.
    pub fn opts(&self, extra_init: &[&str]) -> OptsBuilder {
        let mut b = OptsBuilder::new()
            .prefer_socket(false)
            // The client's limit on one packet, as mariadb-dump sets it: a row of any
            // size the server holds (a LONGBLOB reaches 4 GiB; the protocol's own limit
            // per row is 1 GiB) can be read. The server's own limit still bounds what
            // is sent to it.
            .max_allowed_packet(Some(MAX_PACKET))
            .user(self.user.clone())
            .pass(self.password.clone())
            .db_name(self.database.clone())
            .init(
                SESSION_INIT
                    .iter()
                    .chain(extra_init)
                    .map(|s| (*s).to_owned())
                    .collect(),
            );
        if self.compress {
            b = b.compress(Some(mysql::Compression::default()));
        }
        if let Some(s) = self.socket_path() {
            b = b.socket(Some(s));
        } else {
            b = b
                .ip_or_hostname(Some(self.tcp_host()))
                .tcp_port(self.port.unwrap_or(3306));
        }
        b
    }

    /// Open a connection; errors say where we tried to connect, never the password.
    pub fn connect(&self, extra_init: &[&str]) -> anyhow::Result<Conn> {
        Conn::new(self.opts(extra_init))
            .map_err(db_error)
            .with_context(|| format!("connecting to {}", self.describe()))
    }
}

/// A driver error as one readable line: `Access denied for user ... (ERROR 1045)` rather
/// than the driver's `MySqlError { ERROR 1045 (28000): ... }`.
pub fn db_error(e: mysql::Error) -> anyhow::Error {
    if let Some(io) = went_away(&e) {
        return anyhow::anyhow!("lost the connection to the server ({io})");
    }
    match e {
        mysql::Error::MySqlError(m) => anyhow::anyhow!("{} (ERROR {})", m.message, m.code),
        mysql::Error::IoError(io) => anyhow::Error::new(io),
        // Their own words, without the driver's `DriverError { ... }` around them.
        mysql::Error::DriverError(d) => anyhow::anyhow!("{d}"),
        mysql::Error::CodecError(c) => anyhow::anyhow!("{c}"),
        mysql::Error::UrlError(u) => anyhow::anyhow!("{u}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The socket error in `e`, if it says the server went away (a killed session, a restart,
/// the network): such an error reads as words, not as the driver's `CodecError { IO
/// error: ... }`, however deep the driver wrapped it (our LOCAL INFILE handler's writes
/// come back as an I/O error around a driver error around an I/O error).
fn went_away<'e>(mut e: &'e (dyn std::error::Error + 'static)) -> Option<&'e std::io::Error> {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    for _ in 0..8 {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof
            ) {
                return Some(io);
            }
            e = io.get_ref()?;
            continue;
        }
        e = match e.downcast_ref::<mysql::Error>() {
            Some(mysql::Error::IoError(io)) => io,
            Some(mysql::Error::CodecError(c)) => c,
            _ => e.source()?,
        };
    }
    None
}

/// The option files to read, in order, each with whether it was named on the command
/// line.
fn option_files(args: &ConnArgs, home: Option<&Path>) -> Vec<(PathBuf, bool)> {
    if let Some(f) = &args.defaults_file {
        return vec![(PathBuf::from(f), true)];
    }
    let mut files = vec![
        (PathBuf::from("/etc/my.cnf"), false),
        (PathBuf::from("/etc/mysql/my.cnf"), false),
    ];
    if let Some(h) = home {
        files.push((h.join(".my.cnf"), false));
    }
    if let Some(f) = &args.defaults_extra_file {
        files.push((PathBuf::from(f), true));
    }
    files
}

/// Read the settings of `groups` from one option file. A missing file is no error, except
/// an explicitly named one (the caller's `--defaults-file`) which the client also insists on.
fn read_option_file(path: &Path, groups: &[&str]) -> anyhow::Result<Layer> {
    let mut values = HashMap::new();
    collect_options(path, groups, &mut values, 0)?;
    Ok(Layer {
        host: values.remove("host"),
        port: values.remove("port"),
        user: values.remove("user"),
        password: values.remove("password"),
        socket: values.remove("socket"),
        database: values.remove("database"),
        compress: values.remove("compress").map(|v| truthy(&v)),
    })
}

fn collect_options(
    path: &Path,
    groups: &[&str],
    values: &mut HashMap<String, String>,
    depth: u32,
) -> anyhow::Result<()> {
    let text = match std::fs::read(path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        // An unreadable system file is skipped, as the client does.
        Err(_) if depth > 0 || path.starts_with("/etc") => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut in_group = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("!includedir") {
            if depth < 8 {
                let dir = Path::new(rest.trim());
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                    .unwrap_or_default();
                files.retain(|f| f.extension().is_some_and(|e| e == "cnf"));
                files.sort();
                for f in files {
                    collect_options(&f, groups, values, depth + 1)?;
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("!include") {
            if depth < 8 {
                collect_options(Path::new(rest.trim()), groups, values, depth + 1)?;
            }
            continue;
        }
        if let Some(g) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_group = groups.contains(&g.trim());
            continue;
        }
        if !in_group {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), option_value(v)),
            None => (line, String::new()),
        };
        // `loose-` only tells a program to ignore an option it does not know.
        let key = key.strip_prefix("loose-").unwrap_or(key).replace('_', "-");
        values.insert(key, value);
    }
    Ok(())
}

/// An option's value as the mysql and mariadb clients read it (their `my_default.c`): a
/// comment starts at the first `#` outside quotes; white space around what is left goes;
/// one pair of quotes goes when the value starts and ends with the same one (so `'o''k'`
/// is `o''k`, as the client has it); then `\b \t \n \r \s` are a backspace, tab, line
/// feed, carriage return and space, and a backslash takes any other character as it is.
fn option_value(raw: &str) -> String {
    let mut quote: Option<char> = None;
    let mut end = raw.len();
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            // A backslash protects the next character inside quotes only.
            '\\' if quote.is_some() => escaped = true,
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            '#' if quote.is_none() => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let mut v = raw[..end].trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            v = &v[1..v.len() - 1];
            break;
        }
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('b') => '\u{8}',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('s') => ' ',
            Some(other) => other,
            // A backslash at the very end stays.
            None => '\\',
        });
    }
    out
}

/// An option given without a value, or as 1, true or on (any case): set.
fn truthy(v: &str) -> bool {
    v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("on")
}

/// `mysql://user:pass@host:port/db?socket=/path&compress=true`; errors never quote the URL.
fn parse_url(s: &str) -> anyhow::Result<Layer> {
    let Ok(u) = url::Url::parse(s) else {
        bail!("--url: not a valid URL (expected mysql://user:password@host:port/database)");
    };
    if !matches!(u.scheme(), "mysql" | "mariadb") {
        bail!("--url: the scheme must be mysql:// or mariadb://");
    }
    let decode = |v: &str| {
        percent_decode(v).context("--url: invalid percent-encoding in the user or password")
    };
    let user = if u.username().is_empty() {
        None
    } else {
        Some(decode(u.username())?)
    };
    let password = u.password().map(decode).transpose()?;
    let database = u
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|d| !d.is_empty())
        .map(decode)
        .transpose()?;
    let query = |key: &str| {
        u.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let socket = query("socket");
    let compress = query("compress").map(|v| truthy(&v));
    Ok(Layer {
        host: u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()),
        port: u.port().map(|p| p.to_string()),
        user,
        password,
        socket,
        database,
        compress,
    })
}

fn percent_decode(s: &str) -> anyhow::Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).context("truncated escape")?;
            out.push(u8::from_str_radix(hex, 16).context("bad escape")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_gone_away_reads_as_words_however_deep() {
        use std::io::{Error, ErrorKind};
        let pipe = || mysql::Error::IoError(Error::from(ErrorKind::BrokenPipe));
        let lost = |e: mysql::Error| db_error(e).to_string();
        assert!(lost(pipe()).starts_with("lost the connection to the server ("));
        // Our LOCAL INFILE handler's write error, as the driver hands it back.
        let wrapped = mysql::Error::IoError(Error::other(pipe()));
        assert!(lost(wrapped).starts_with("lost the connection to the server ("));
        // Other socket errors stay as they are.
        let refused = mysql::Error::IoError(Error::from(ErrorKind::ConnectionRefused));
        assert!(!lost(refused).contains("lost the connection"));
        // See: #14: the driver's own errors read as words, not as Rust debug text.
        let driver = mysql::Error::DriverError(mysql::DriverError::ConnectTimeout);
        assert!(!lost(driver).contains("DriverError"));
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn no_files() -> ConnArgs {
        ConnArgs {
            no_defaults: true,
            ..ConnArgs::default()
        }
    }

    #[test]
    fn flags_beat_url_beat_files_beat_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".my.cnf"),
            "[client]\nuser = fileuser\npassword = \"file pw\"\nport=3310\nhost=filehost\n[mysqld]\nport=1\n",
        )
        .unwrap();
        let env = env_of(&[
            ("MYSQL_HOST", "envhost"),
            ("MYSQL_PWD", "envpw"),
            ("USER", "me"),
        ]);
        let args = ConnArgs {
            defaults_file: Some(dir.path().join(".my.cnf").to_string_lossy().into()),
            url: Some("mysql://urluser@urlhost/urldb".into()),
            user: Some("flaguser".into()),
            ..ConnArgs::default()
        };
        let c = ConnConfig::resolve_with(&args, "qexport", env, None).unwrap();
        assert_eq!(c.user.as_deref(), Some("flaguser"));
        assert_eq!(c.host.as_deref(), Some("urlhost"));
        assert_eq!(c.port, Some(3310));
        assert_eq!(c.password.as_deref(), Some("file pw"));
        assert_eq!(c.database.as_deref(), Some("urldb"));
    }

    #[test]
    fn env_and_home_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".my.cnf"),
            "[client]\nsocket=/tmp/x.sock\n[qimport]\ndatabase=shop\n",
        )
        .unwrap();
        let env = env_of(&[
            ("MYSQL_TCP_PORT", "3307"),
            ("MYSQL_PWD", "pw"),
            ("USER", "me"),
        ]);
        let c = ConnConfig::resolve_with(&ConnArgs::default(), "qimport", env, Some(dir.path()))
            .unwrap();
        assert_eq!(c.port, Some(3307));
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(c.user.as_deref(), Some("me"));
        assert_eq!(c.socket.as_deref(), Some("/tmp/x.sock"));
        assert_eq!(c.database.as_deref(), Some("shop"));
        assert_eq!(c.describe(), "me@localhost via /tmp/x.sock");
    }

    #[test]
    fn url_parts_are_decoded() {
        let args = ConnArgs {
            url: Some("mysql://a%40b:p%3Aw@db.example:3399/my%20db".into()),
            ..no_files()
        };
        let c = ConnConfig::resolve_with(&args, "qexport", env_of(&[]), None).unwrap();
        assert_eq!(c.user.as_deref(), Some("a@b"));
        assert_eq!(c.password.as_deref(), Some("p:w"));
        assert_eq!(c.port, Some(3399));
        assert_eq!(c.database.as_deref(), Some("my db"));
        assert_eq!(c.describe(), "a@b@db.example:3399");
    }

    #[test]
    fn password_never_shows() {
        let args = ConnArgs {
            url: Some("mysql://u:s3cr3t@h/d".into()),
            ..no_files()
        };
        let c = ConnConfig::resolve_with(&args, "qexport", env_of(&[]), None).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!c.describe().contains("s3cr3t"));
        let bad = ConnArgs {
            url: Some("http://u:s3cr3t@h/d".into()),
            ..no_files()
        };
        let err = ConnConfig::resolve_with(&bad, "qexport", env_of(&[]), None).unwrap_err();
        assert!(!format!("{err:#}").contains("s3cr3t"));
    }

    // See: #15: a named option file that is missing is an error naming it; a missing
    // ~/.my.cnf is not.
    #[test]
    fn a_named_option_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        for (file, extra) in [(true, false), (false, true)] {
            let missing = dir.path().join("nope.cnf").to_string_lossy().into_owned();
            let args = ConnArgs {
                defaults_file: file.then(|| missing.clone()),
                defaults_extra_file: extra.then(|| missing.clone()),
                ..ConnArgs::default()
            };
            let e = ConnConfig::resolve_with(&args, "qexport", env_of(&[]), Some(dir.path()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("nope.cnf not found"), "{e}");
        }
        assert!(ConnConfig::resolve_with(
            &ConnArgs::default(),
            "qexport",
            env_of(&[]),
            Some(dir.path())
        )
        .is_ok());
    }

    // See: #16: option files read as the mariadb client reads them (each case checked
    // against `mariadb --print-defaults` on the same file; tests/house.rs does so live).
    #[test]
    fn option_values_follow_the_client() {
        for (raw, want) in [
            (r#""a\"b""#, "a\"b"),
            (r#" "simple" # comment"#, "simple"),
            ("a#b", "a"),
            ("x;y", "x;y"),
            ("3307  # trailing", "3307"),
            (r"with\sspace\\back", "with space\\back"),
            (r#"'single "q"'"#, "single \"q\""),
            ("  plain  ", "plain"),
            (r"'a\'b'", "a'b"),
            ("'o''k'", "o''k"),
            (r"x\#y", "x\\"),
            (r#""ab"cd"#, r#""ab"cd"#),
            ("", ""),
        ] {
            assert_eq!(option_value(raw), want, "{raw}");
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("my.cnf");
        std::fs::write(
            &f,
            "[client]\nloose-socket = /tmp/s.sock\nunknown-key = 1\nssl\n; c\n# c\npassword = \"p#w\" # c\n[mysqld]\nuser = no\n",
        )
        .unwrap();
        let args = ConnArgs {
            defaults_file: Some(f.to_string_lossy().into()),
            ..ConnArgs::default()
        };
        let c =
            ConnConfig::resolve_with(&args, "qexport", env_of(&[("USER", "me")]), None).unwrap();
        assert_eq!(c.socket.as_deref(), Some("/tmp/s.sock"));
        assert_eq!(c.password.as_deref(), Some("p#w"));
        assert_eq!(c.user.as_deref(), Some("me"));
    }

    #[test]
    fn tcp_when_host_is_not_localhost() {
        let c = ConnConfig {
            host: Some("127.0.0.1".into()),
            socket: Some("/tmp/s".into()),
            user: Some("u".into()),
            ..ConnConfig::default()
        };
        assert_eq!(c.describe(), "u@127.0.0.1:3306");
    }
}
