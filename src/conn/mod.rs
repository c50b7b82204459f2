//! From [`ConnArgs`], option files and `MYSQL_*` variables to a live connection.
//!
//! Precedence follows the `mysql` client, lowest first: built-in defaults, the environment
//! (`MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD`, `MYSQL_UNIX_PORT`), option files
//! (`/etc/my.cnf`, `/etc/mysql/my.cnf`, `~/.my.cnf`, then `--defaults-extra-file`; or only
//! `--defaults-file`; groups `[client]`, `[client-server]`, `[client-mariadb]` and the
//! tool's own, later
//! files winning), `--url`, and last the flags.
//!
//! The password never leaves this module in readable form: [`ConnConfig`]'s `Debug` and
//! [`ConnConfig::describe`] redact it, and the URL is parsed here rather than handed to
//! the driver, whose URL errors would quote it.

use crate::dberror::{Code, ServerError};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context};
use mysql::{Conn, OptsBuilder};

use crate::cli::ConnArgs;
use crate::optfile;
use crate::tls::{SslMode, Tls, TlsLayer};

mod net;
pub(crate) use net::socket_of;
pub use net::{db_error, db_error_on, query_patiently, Session, Timeouts};

/// Statements every connection runs first: UTC session time zone (TIMESTAMP values then
/// never move) and utf8mb4 everywhere.
pub const SESSION_INIT: &[&str] = &["SET NAMES utf8mb4", "SET time_zone = '+00:00'"];

const DEFAULT_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// The largest packet the client takes: 1 GiB, the protocol's maximum.
pub(crate) const MAX_PACKET: usize = 1 << 30;

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
    /// TLS on TCP connections (`--ssl-mode` and the rest).
    pub tls: Tls,
    /// How long to wait on the network.
    pub timeouts: Timeouts,
}

/// The refusal of a server's request for a local file this client did not offer
/// (`LOAD DATA LOCAL INFILE` asked of a client that sent some other statement: what a
/// hostile or impersonated server does to read `/etc/passwd` or `~/.my.cnf`). Nothing of
/// the file is sent.
pub fn refused_file(name: &[u8]) -> std::io::Error {
    std::io::Error::other(format!(
        "the server asked for the local file '{}', which this client did not offer: \
         refused, nothing was sent (is this the server you meant?)",
        String::from_utf8_lossy(name)
    ))
}

/// Seconds from a flag or option, 0 meaning for ever.
fn seconds(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
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
            .field("tls", &self.tls)
            .field("timeouts", &self.timeouts)
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
    tls: TlsLayer,
    connect_timeout: Option<String>,
    read_timeout: Option<String>,
    write_timeout: Option<String>,
}

impl Layer {
    /// The settings an option file's keys (or a URL's parameters) hold.
    fn from_options(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Layer> {
        Ok(Layer {
            host: get("host"),
            port: get("port"),
            user: get("user"),
            password: get("password"),
            socket: get("socket"),
            database: get("database"),
            compress: get("compress")
                .map(|v| optfile::boolean("compress", &v))
                .transpose()?,
            tls: TlsLayer::from_options(&get)?,
            connect_timeout: get("connect-timeout"),
            read_timeout: get("read-timeout"),
            write_timeout: get("write-timeout"),
        })
    }
}

/// The user name when none is given, as the mysql client takes it: `root` for root, else
/// the login name the password database has for this process's user (so that cron,
/// systemd and containers, which may not set `$USER`, still get one), else `$USER` or
/// `$LOGNAME`.
pub fn login_name(env: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let uid = nix::unistd::geteuid();
    if uid.is_root() {
        return Some("root".into());
    }
    if let Ok(Some(user)) = nix::unistd::User::from_uid(uid) {
        return Some(user.name);
    }
    env("USER").or_else(|| env("LOGNAME"))
}

/// The option-file groups a tool reads, as the mariadb client reads its own: `[client]`,
/// `[client-server]`, `[client-mariadb]`, then the tool's (`[qexport]`).
fn option_groups(tool: &str) -> [&str; 4] {
    ["client", "client-server", "client-mariadb", tool]
}

/// `--print-defaults`, as the mysql client has it: print the options the option files
/// give `tool` (with `--defaults-file`, `--defaults-extra-file` and `--no-defaults` as
/// given beside it), a password's value hidden, and end. `None` when not asked.
pub fn print_defaults_if_asked(tool: &str) -> Option<std::process::ExitCode> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if !args.iter().any(|a| a == "--print-defaults") {
        return None;
    }
    let value = |flag: &str| {
        args.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix(&format!("{flag}="))
                .map(str::to_owned)
                .or_else(|| (a == flag).then(|| args.get(i + 1).cloned()).flatten())
        })
    };
    let mut shown = Vec::new();
    if !args.iter().any(|a| a == "--no-defaults") {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let defaults_file = value("--defaults-file");
        let extra = value("--defaults-extra-file");
        for (file, named) in
            optfile::files(defaults_file.as_deref(), extra.as_deref(), home.as_deref())
        {
            if named && !file.exists() {
                eprintln!("{tool}: option file {} not found", file.display());
                return Some(std::process::ExitCode::from(crate::error::EXIT_ERROR));
            }
            match optfile::read(&file, &option_groups(tool)) {
                Ok(o) => shown.extend(o.as_arguments()),
                Err(e) => {
                    eprintln!("{tool}: {e:#}");
                    return Some(std::process::ExitCode::from(crate::error::EXIT_ERROR));
                }
            }
        }
    }
    println!(
        "{tool} would have been started with the following arguments:\n{}",
        shown.join(" ")
    );
    Some(std::process::ExitCode::SUCCESS)
}

impl ConnConfig {
    /// Resolve from the process environment and the user's option files.
    pub fn resolve(args: &ConnArgs, tool: &str) -> anyhow::Result<ConnConfig> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let mut cfg =
            ConnConfig::resolve_with(args, tool, |k| std::env::var(k).ok(), home.as_deref())?;
        if let Some(None) = &args.password {
            // rpassword asks on the process's terminal: without one (cron, a pipe into
            // ssh), say where else a password can come from.
            let p = rpassword::prompt_password("Enter password: ").map_err(|e| {
                anyhow::anyhow!(
                    "-p: no terminal to ask the password on ({e}): give it in MYSQL_PWD, in an \
                     option file ([client] password=... in ~/.my.cnf, or --defaults-file), or \
                     as --password=..."
                )
            })?;
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
            tls: TlsLayer::default(),
            ..Layer::default()
        }];
        if !args.no_defaults {
            let groups = option_groups(tool);
            for (file, named) in optfile::files(
                args.defaults_file.as_deref(),
                args.defaults_extra_file.as_deref(),
                home,
            ) {
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
                let values = optfile::read(&file, &groups)?;
                layers.push(
                    Layer::from_options(|k| values.get(k))
                        .with_context(|| format!("option file {}", file.display()))?,
                );
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
            tls: args.tls_layer(),
            connect_timeout: args.connect_timeout.map(|s| s.to_string()),
            read_timeout: args.read_timeout.map(|s| s.to_string()),
            write_timeout: args.write_timeout.map(|s| s.to_string()),
        });

        let mut cfg = ConnConfig::default();
        let mut tls = Vec::new();
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
            let secs = |name: &str, v: &str| {
                v.trim().parse::<u64>().with_context(|| {
                    format!("invalid {name} {v:?}: give a number of seconds (0: for ever)")
                })
            };
            if let Some(v) = l.connect_timeout {
                cfg.timeouts.connect = seconds(secs("connect-timeout", &v)?);
            }
            if let Some(v) = l.read_timeout {
                cfg.timeouts.read = seconds(secs("read-timeout", &v)?);
            }
            if let Some(v) = l.write_timeout {
                cfg.timeouts.write = seconds(secs("write-timeout", &v)?);
            }
            tls.push(l.tls);
        }
        cfg.tls = Tls::resolve(tls);
        cfg.tls.check()?;
        if cfg.user.is_none() {
            cfg.user = login_name(&env);
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

    /// Driver options, with [`SESSION_INIT`], any `extra_init` statements and `ssl`.
    fn opts(&self, extra_init: &[&str], ssl: Option<mysql::SslOpts>) -> OptsBuilder {
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
        // A request for a local file, on a statement that offered none, is refused
        // (the driver would otherwise answer it with an empty file and carry on as if the
        // query had given no rows). qimport offers its own stream on its LOAD DATA.
        b = b.local_infile_handler(Some(mysql::LocalInfileHandler::new(|name, _| {
            Err(refused_file(name))
        })));
        // A peer that is gone (a host down, a connection dropped by a firewall) is found
        // by keepalives within about two minutes, whatever the read timeout.
        // While connecting, reads and writes wait no longer than --connect-timeout
        // (a server that accepts and then says nothing); [`Timeouts::apply`] sets the
        // socket to the real ones once connected.
        let (read, write) = self.timeouts.while_connecting();
        b = b
            .read_timeout(read)
            .write_timeout(write)
            .tcp_connect_timeout(self.timeouts.connect)
            .tcp_keepalive_time_ms(Some(60_000))
            .tcp_keepalive_probe_interval_secs(Some(10))
            .tcp_keepalive_probe_count(Some(6));
        if let Some(s) = self.socket_path() {
            b = b.socket(Some(s));
        } else {
            b = b
                .ip_or_hostname(Some(self.tcp_host()))
                .tcp_port(self.port.unwrap_or(3306))
                .ssl_opts(ssl);
        }
        net::remember_login(&b);
        b
    }

    /// Whether the connections [`ConnConfig::connect`] makes (once one is made) carry the
    /// protocol's own bytes: not compressed, and not encrypted (a socket, `--ssl-mode
    /// DISABLED`, or PREFERRED towards a server reached in plain text). What this client
    /// asked for and got, not what a server says of itself: qexport then reads rows off
    /// the socket (see `cmd/qexport/wire.rs`).
    pub fn plain_bytes(&self) -> bool {
        if self.compress {
            return false;
        }
        if self.socket_path().is_some() || self.tls.mode == SslMode::Disabled {
            return true;
        }
        let at = self.describe();
        self.tls.mode == SslMode::Preferred
            && PLAIN_ONLY
                .lock()
                .is_ok_and(|p| p.iter().any(|(a, _)| *a == at))
    }

    /// Open a connection, with TLS as [`Tls`] says (over TCP; a socket needs none); errors
    /// say where we tried to connect and why, never the password.
    ///
    /// PREFERRED asks for TLS, and connects again in plain text when the server offers
    /// none (or no TLS we speak); the process remembers that server, so `-j N` workers
    /// ask once.
    pub fn connect(&self, extra_init: &[&str]) -> anyhow::Result<Conn> {
        let at = self.describe();
        let known_plain = || {
            PLAIN_ONLY
                .lock()
                .ok()
                .and_then(|p| p.iter().find(|(a, _)| *a == at).map(|(_, i)| *i))
        };
        let remembered = if self.tls.mode == SslMode::Preferred && self.socket_path().is_none() {
            known_plain()
        } else {
            None
        };
        let ssl = if self.socket_path().is_some() || remembered.is_some() {
            None
        } else {
            self.tls.ssl_opts()?
        };
        // Why a TCP connection goes in plain text, where TLS could have made a difference
        // to the server: an account that requires TLS refuses it with "Access denied".
        let mut plain = if ssl.is_some() {
            None
        } else if remembered == Some(true) {
            Some("the server's TLS is one this client cannot speak")
        } else if self.tls.mode == SslMode::Disabled && self.socket_path().is_none() {
            Some("--ssl-mode DISABLED")
        } else {
            None
        };
        let conn = match Conn::new(self.opts(extra_init, ssl)) {
            // PREFERRED promises nothing it could not keep: a server without TLS, or
            // one whose TLS we cannot speak (an old server with TLS 1.1 at most), is
            // reached in plain text, as before TLS existed here.
            Err(e)
                if self.tls.mode == SslMode::Preferred
                    && (matches!(
                        e,
                        mysql::Error::DriverError(mysql::DriverError::TlsNotSupported)
                    ) || crate::tls::incompatible(&e)) =>
            {
                let incompatible = crate::tls::incompatible(&e);
                if let Ok(mut p) = PLAIN_ONLY.lock() {
                    p.push((at.clone(), incompatible));
                }
                plain = incompatible.then_some("the server's TLS is one this client cannot speak");
                Conn::new(self.opts(extra_init, None))
            }
            other => other,
        };
        let conn = conn
            .map_err(|e| self.connect_error(e, plain))
            .with_context(|| format!("connecting to {at}"))?;
        self.timeouts.apply(&conn)?;
        Ok(conn)
    }

    /// A failed connection's error: a TLS failure by its cause; a refusal of a plain TCP
    /// connection to a server with TLS (`plain`: why it was plain) with a word on TLS,
    /// since an account or server that requires it says only "Access denied".
    fn connect_error(&self, e: mysql::Error, plain: Option<&str>) -> anyhow::Error {
        let host = self.tcp_host().to_owned();
        if net::stalled(&e) {
            return anyhow::anyhow!(
                "the server took the connection but did not answer within --connect-timeout \
                 (is it overloaded, or is this port not a MySQL server's?)"
            );
        }
        if let Some(why) = crate::tls::explain(&e, &self.tls, &host) {
            return anyhow::anyhow!(why);
        }
        let refused = ServerError::driver_is(&e, Code::AccessDenied)
            || ServerError::driver_is(&e, Code::SecureTransportRequired);
        let err = db_error(e);
        match plain {
            Some(why) if refused => anyhow::anyhow!(
                "{err}; the connection was not encrypted ({why}), and an account or server \
                 that requires TLS refuses such a connection"
            ),
            _ => err,
        }
    }
}

/// Each server [`ConnConfig::connect`] reached in plain text under PREFERRED, and whether
/// its TLS is one we cannot speak (rather than none at all).
static PLAIN_ONLY: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());

/// `mysql://user:pass@host:port/db?socket=/path&compress=true`; errors never quote the URL.
fn parse_url(s: &str) -> anyhow::Result<Layer> {
    let Ok(u) = url::Url::parse(s) else {
        bail!("--url: not a valid URL (expected mysql://user:password@host:port/database)");
    };
    if !matches!(u.scheme(), "mysql" | "mariadb") {
        bail!("--url: the scheme must be mysql:// or mariadb://");
    }
    let decode = |what: &'static str| {
        move |v: &str| {
            percent_decode(v)
                .with_context(|| format!("--url: invalid percent-encoding in the {what}"))
        }
    };
    let user = if u.username().is_empty() {
        None
    } else {
        Some(decode("user")(u.username())?)
    };
    let password = u.password().map(decode("password")).transpose()?;
    let path = u.path().strip_prefix('/').unwrap_or(u.path());
    if path.contains('/') {
        bail!(
            "--url: the path is the database alone (mysql://host/DATABASE), not several segments"
        );
    }
    let database = Some(path)
        .filter(|d| !d.is_empty())
        .map(decode("database name"))
        .transpose()?;
    // Parameters spelled as option-file keys, read by the same rules: ?socket=...&
    // compress=true&ssl-mode=...; one that is not among them is an error.
    let mut params = optfile::Options::default();
    for (k, v) in u.query_pairs() {
        let known = optfile::resolve(&k).is_some_and(|(o, _)| URL_KEYS.contains(&o));
        if !known {
            bail!("--url: unknown parameter {k:?}{}", suggest(&k));
        }
        params.entries.push((k.into_owned(), Some(v.into_owned())));
    }
    let mut layer = Layer::from_options(|k| params.get(k)).context("--url")?;
    layer.host = u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned());
    layer.port = u.port().map(|p| p.to_string());
    layer.user = user;
    layer.password = password;
    layer.database = database;
    Ok(layer)
}

/// The parameters `--url` takes: the option-file keys of the connection (`_` may stand
/// for `-`).
const URL_KEYS: &[&str] = &[
    "socket",
    "compress",
    "ssl-mode",
    "ssl",
    "ssl-verify-server-cert",
    "ssl-ca",
    "ssl-capath",
    "ssl-cert",
    "ssl-key",
];

/// `` (did you mean "ssl-mode"?)`` for a parameter spelled as other tools spell it
/// (libpq's `sslmode`, `sslrootcert`), or close to a known one; else the list.
fn suggest(key: &str) -> String {
    let k = key.to_ascii_lowercase().replace('_', "-");
    let alias = match k.as_str() {
        "sslmode" => Some("ssl-mode"),
        "sslrootcert" | "sslca" | "ca" => Some("ssl-ca"),
        "sslcert" => Some("ssl-cert"),
        "sslkey" => Some("ssl-key"),
        "tls" | "usessl" | "use-ssl" => Some("ssl"),
        _ => None,
    };
    let close = || {
        URL_KEYS
            .iter()
            .map(|c| (edit_distance(&k, c), *c))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, c)| c)
    };
    match alias.or_else(close) {
        Some(c) => format!(" (did you mean {c:?}?)"),
        None => format!(" (it takes: {})", URL_KEYS.join(", ")),
    }
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> = pairs
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
        let c = ConnConfig::resolve_with(&ConnArgs::default(), "qimport", &env, Some(dir.path()))
            .unwrap();
        assert_eq!(c.port, Some(3307));
        assert_eq!(c.password.as_deref(), Some("pw"));
        // See: #23 (4): the login name comes from the password database, as the client
        // has it, not from $USER (cron and systemd may not set it).
        assert_eq!(c.user, login_name(&env));
        assert_eq!(login_name(&env_of(&[])), login_name(&env));
        assert_eq!(c.socket.as_deref(), Some("/tmp/x.sock"));
        assert_eq!(c.database.as_deref(), Some("shop"));
        assert_eq!(
            c.describe(),
            format!("{}@localhost via /tmp/x.sock", c.user.unwrap_or_default())
        );
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

    // See: #23 (4): an unknown URL parameter (another tool's spelling) is an error that
    // names it and the known one; so is a path of several segments.
    #[test]
    fn url_parameters_are_known_or_refused() {
        let err = |url: &str| {
            let args = ConnArgs {
                url: Some(url.into()),
                ..no_files()
            };
            ConnConfig::resolve_with(&args, "qexport", env_of(&[]), None)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            err("mysql://u:pw@h/db?sslmode=verify-full&sslrootcert=ca.pem"),
            Err("--url: unknown parameter \"sslmode\" (did you mean \"ssl-mode\"?)".into())
        );
        assert!(err("mysql://h/db?ssl-moed=REQUIRED")
            .unwrap_err()
            .contains("did you mean \"ssl-mode\""));
        assert!(err("mysql://h/db?zzz=1")
            .unwrap_err()
            .contains("it takes: socket"));
        assert!(err("mysql://h/db/extra")
            .unwrap_err()
            .contains("several segments"));
        assert!(err("mysql://h/db?ssl_mode=REQUIRED&compress=true").is_ok());
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

    // See: #16: option files read as the mariadb client reads them (the values' rules
    // are optfile's unit test; tests/conn.rs checks them live against the client).
    #[test]
    fn option_files_follow_the_client() {
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
