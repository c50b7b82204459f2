//! Flag groups that the tools flatten into their own `Args`, so that a flag means the
//! same thing in every tool: [`CsvArgs`] (the dialect) and [`ConnArgs`] (the MySQL
//! connection, spelled like the `mysql` client's).

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use qtools_csv::dialect::{BinaryEncoding, Dialect, NullMarker};

use crate::tls::{LayerMode, SslMode, TlsLayer};

/// What `--version` says: the package version and the git commit it was built from (see
/// build.rs), `+changes` when the tree had uncommitted changes.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("QTOOLS_COMMIT"), ")");

/// CSV dialect flags, shared by all four tools.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "CSV dialect")]
pub struct CsvArgs {
    /// Field delimiter, one byte [default: ,]
    ///
    /// `\t` or `tab` for a tab. Quoting stays RFC 4180 whatever the delimiter.
    /// Example: -d ';'
    #[arg(short = 'd', long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,

    /// Tab-separated: the same as -d '\t'
    #[arg(long, conflicts_with = "delimiter")]
    pub tsv: bool,

    /// The data has no header row (none is read, none is written)
    #[arg(short = 'n', long)]
    pub no_header: bool,

    /// How NULL is written and read [default: an unquoted empty field]
    ///
    /// By default NULL is an unquoted empty field and an empty string is "" (PostgreSQL's CSV
    /// rule). With --null, NULL is this text unquoted; the same text quoted stays a string.
    /// Example: --null '\N'
    #[arg(long, value_name = "STRING")]
    pub null: Option<String>,
}

impl CsvArgs {
    /// The dialect these flags ask for; a NULL marker that would break the CSV (one that
    /// holds the delimiter, a quote or a line break) is refused.
    pub fn dialect(&self) -> anyhow::Result<Dialect> {
        let delimiter = if self.tsv {
            b'\t'
        } else {
            self.delimiter.unwrap_or(b',')
        };
        if let Some(m) = &self.null {
            if let Some(c) = m
                .bytes()
                .find(|&b| matches!(b, b'"' | b'\r' | b'\n') || b == delimiter)
            {
                bail!(
                    "--null {m:?}: a NULL marker cannot hold {} (it would be read as CSV structure)",
                    match c {
                        b'"' => "a quote".to_owned(),
                        b'\r' | b'\n' => "a line break".to_owned(),
                        _ => format!("the delimiter {:?}", char::from(c)),
                    }
                );
            }
        }
        Ok(Dialect {
            delimiter,
            header: !self.no_header,
            null: match &self.null {
                Some(s) if !s.is_empty() => NullMarker::Text(s.as_bytes().to_vec()),
                _ => NullMarker::Empty,
            },
            binary: BinaryEncoding::default(),
        })
    }
}

/// The flags of the tools that talk to a server (qexport, qimport): the CSV dialect with
/// the binary encoding, the connection, and `--help` (since `-h` is the host).
#[derive(Args, Debug, Clone, Default)]
pub struct ServerCsvArgs {
    #[command(flatten)]
    pub csv: CsvArgs,

    #[command(flatten)]
    pub binary: BinaryArgs,

    #[command(flatten)]
    pub conn: ConnArgs,

    /// Print help (-h is --host, as in the mysql client)
    #[arg(short = '?', long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

impl ServerCsvArgs {
    pub fn dialect(&self) -> anyhow::Result<Dialect> {
        Ok(Dialect {
            binary: self.binary.binary,
            ..self.csv.dialect()?
        })
    }
}

/// How binary columns travel in CSV (qexport and qimport).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "CSV dialect")]
pub struct BinaryArgs {
    /// Encoding of binary columns (BINARY, VARBINARY, BLOB, GEOMETRY) [default: hex]
    ///
    /// qexport writes them so, qimport decodes them by the target column's type. Use the
    /// same value on both sides. BIT columns are always plain numbers.
    /// Example: --binary base64
    #[arg(long, value_enum, value_name = "ENC", default_value_t = BinaryEncoding::Hex, hide_default_value = true)]
    pub binary: BinaryEncoding,
}

fn parse_delimiter(s: &str) -> anyhow::Result<u8> {
    let b = match s {
        "\\t" | "tab" | "\t" => b'\t',
        s if s.len() == 1 => s.as_bytes()[0],
        _ => bail!("the delimiter must be a single byte (or \\t), not {s:?}"),
    };
    if matches!(b, b'"' | b'\n' | b'\r') {
        bail!("{s:?} cannot be the delimiter");
    }
    Ok(b)
}

/// What the tools that read CSV for themselves (qgrep, qcount) both take: the dialect,
/// strictness and the block engine's parallelism.
#[derive(Args, Debug, Clone, Default)]
pub struct ReadArgs {
    /// Ragged records and text after a closing quote are errors
    ///
    /// A ragged record has another number of fields than the first (the header). Without
    /// --strict both are accepted as they are. Example: --strict
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub csv: CsvArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub jobs: JobsArgs,
}

/// How the tools that read CSV files (qimport, qgrep, qcount) take their input.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// The input's encoding, converted to UTF-8 as it is read [default: utf-8]
    ///
    /// For CSV saved by spreadsheets. A UTF-16 byte-order mark is recognised without it.
    /// Example: --encoding cp1252
    #[arg(long, value_enum, value_name = "NAME", default_value_t = crate::encoding::Encoding::Utf8, hide_default_value = true)]
    pub encoding: crate::encoding::Encoding,
}

/// Parallelism of the CSV-reading tools (qgrep, qcount).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Parallelism")]
pub struct JobsArgs {
    /// Threads for processing blocks in parallel [default: the number of cores]
    ///
    /// The output is byte-identical whatever N: blocks are cut at record boundaries and
    /// their results written in input order. A reader thread reads ahead besides the N
    /// workers; -j 1 does everything in one thread. Example: -j 4
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,

    /// Block size in bytes (for tests) [default: 1 MiB]
    #[arg(long, value_name = "BYTES", hide = true)]
    pub block_size: Option<usize>,

    /// Read only the K-th of N byte ranges of FILE, cut where records end
    ///
    /// For fan-out over hosts or processes: the N runs together see every record once,
    /// even with line breaks inside quoted fields (which `parallel --pipe` cuts through).
    /// Needs one regular FILE. Example: parallel qcount --shard {}/4 big.csv ::: 1 2 3 4 |
    /// qcount --merge
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
}

/// More runs than any fan-out shares a table or a file among.
const MAX_SHARDS: u64 = 1_000_000;

/// `K/N` with 1 <= K <= N <= 1000000 (`--shard`).
pub fn parse_shard(s: &str) -> anyhow::Result<(u64, u64)> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((_, n)) if n > MAX_SHARDS => {
            bail!("at most {MAX_SHARDS} shards (N is the number of runs that share the work)")
        }
        Some((k, n)) if k >= 1 && k <= n => Ok((k, n)),
        _ => bail!("expected K/N with 1 <= K <= N, such as 2/4"),
    }
}

impl JobsArgs {
    /// `--shard` reads one regular file: refuse anything else before reading.
    pub fn check_shard(&self, files: &[std::path::PathBuf]) -> anyhow::Result<()> {
        if self.shard.is_some() && (files.len() != 1 || files[0].as_os_str() == "-") {
            bail!("--shard needs exactly one FILE (a regular file: its byte ranges are what is split)");
        }
        Ok(())
    }

    pub fn threads(&self) -> usize {
        self.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            usize::from,
        )
    }

    /// The block size and the thread count, as the block engine takes them.
    pub fn counts(&self) -> (usize, usize) {
        (self.block(), self.threads())
    }

    pub fn block(&self) -> usize {
        self.block_size
            .unwrap_or(qtools_csv::pipeline::BLOCK)
            .max(1)
    }
}

/// Parse a tool's arguments. `--help` and `--version` print and end with status 0; a
/// mistake is one line, `tool: message (tip); try 'tool --help'`, and status 2 (clap's
/// own text, without its usage block), as every other error of the tools.
pub fn parse<A: clap::Parser>(
    tool: &str,
    args: impl IntoIterator<Item = OsString>,
) -> Result<A, std::process::ExitCode> {
    use clap::error::ErrorKind;
    match A::try_parse_from(args) {
        Ok(a) => Ok(a),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            let _ = e.print();
            Err(std::process::ExitCode::from(
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    crate::error::EXIT_ERROR
                } else {
                    crate::error::EXIT_OK
                },
            ))
        }
        Err(e) => {
            let mut line = one_line(&e.render().to_string(), tool);
            // Something required is missing: the forms of the command, on the same line.
            if e.kind() == ErrorKind::MissingRequiredArgument {
                let usage = A::command().render_usage().to_string();
                let forms: Vec<&str> = usage
                    .lines()
                    .map(|l| l.trim().trim_start_matches("Usage:").trim())
                    .collect();
                line = line.replace("; try '", &format!("; usage: {}; try '", forms.join(" | ")));
            }
            // `-h` is the host, as in the mysql client: help is --help (or -?).
            if e.kind() == ErrorKind::InvalidValue && line.contains("'--host <HOST>'") {
                line = line.replace(
                    "; try '",
                    "; -h is the host, as in the mysql client (help is --help or -?); try '",
                );
            }
            crate::out::mark_failure(tool, &line);
            eprintln!("{tool}: {line}");
            Err(std::process::ExitCode::from(crate::error::EXIT_ERROR))
        }
    }
}

/// clap's error text as one line: its message and tips, and where to look.
fn one_line(text: &str, tool: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        // clap lists what is missing on the lines after "...were not provided:".
        if let Some(list) = parts.last_mut().filter(|p| p.contains("not provided:")) {
            if line.starts_with('<') || line.starts_with("--") {
                list.push_str(if list.ends_with(':') { " " } else { ", " });
                list.push_str(line);
                continue;
            }
        }
        if let Some(msg) = line.strip_prefix("error: ") {
            parts.push(msg.to_owned());
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            parts.push(tip.to_owned());
        } else if !line.is_empty() {
            parts.push(line.to_owned());
        }
    }
    parts.push(format!("try '{tool} --help'"));
    parts.join("; ")
}

/// The process arguments, with the `mysql` client's `-pSECRET` (password attached to the
/// short flag) rewritten as `--password=SECRET`. clap alone cannot accept an attached value
/// while refusing a separate one, and a separate one must not be taken: in `-p users`,
/// `users` is the table and `-p` asks for the password, as with the mysql client.
///
/// Before anything else, a password given on the command line is overwritten with `x`s in
/// the process's own argument memory, as the mysql client does, so that `ps` and
/// `/proc/PID/cmdline` no longer show it (see `hide_secrets`).
pub fn mysql_style_args() -> Vec<OsString> {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Err(e) = hide_secrets(&args) {
        eprintln!(
            "{}: warning: could not hide the password from ps ({e:#}): prefer MYSQL_PWD or an option file",
            crate::error::tool_name()
        );
    }
    rewrite_password_flag(args)
}

/// The byte ranges of the secrets in `args` (each relative to its argument): the value of
/// `-pSECRET` and `--password=SECRET`, and the password of a `--url` (either spelling).
fn secret_spans(args: &[OsString]) -> Vec<(usize, std::ops::Range<usize>)> {
    use std::os::unix::ffi::OsStrExt as _;
    let mut spans = Vec::new();
    let mut url_next = false;
    for (i, a) in args.iter().enumerate().skip(1) {
        let b = a.as_bytes();
        if b == b"--" {
            break;
        }
        if std::mem::take(&mut url_next) {
            spans.extend(url_password(b).map(|r| (i, r)));
            continue;
        }
        if b == b"--url" {
            url_next = true;
        } else if let Some(rest) = b.strip_prefix(b"--url=") {
            spans.extend(url_password(rest).map(|r| (i, 6 + r.start..6 + r.end)));
        } else if b.starts_with(b"--password=") && b.len() > 11 {
            spans.push((i, 11..b.len()));
        } else if let Some(at) = attached_password(b) {
            spans.push((i, at..b.len()));
        }
    }
    spans
}

/// Where the password of `scheme://user:password@host/...` is.
fn url_password(url: &[u8]) -> Option<std::ops::Range<usize>> {
    let start = memchr::memmem::find(url, b"://")? + 3;
    let authority_end = url[start..]
        .iter()
        .position(|c| matches!(c, b'/' | b'?' | b'#'))
        .map_or(url.len(), |n| start + n);
    let at = start + memchr::memrchr(b'@', &url[start..authority_end])?;
    let colon = start + memchr::memchr(b':', &url[start..at])?;
    (colon + 1 < at).then_some(colon + 1..at)
}

/// Overwrite the secrets of `args` (this process's arguments) with `x`s where the kernel
/// keeps them for `ps`: the memory from `arg_start` in `/proc/self/stat`, written through
/// `/proc/self/mem` (no unsafe code). The copies qtools parses are its own.
fn hide_secrets(args: &[OsString]) -> anyhow::Result<()> {
    use std::io::{Seek as _, SeekFrom, Write as _};
    use std::os::unix::ffi::OsStrExt as _;
    let spans = secret_spans(args);
    if spans.is_empty() {
        return Ok(());
    }
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name (which may hold spaces) in parentheses; arg_start
    // is field 48, the 46th after it.
    let arg_start: u64 = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(45))
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no arg_start in /proc/self/stat"))?;
    let cmdline = std::fs::read("/proc/self/cmdline")?;
    // Where each argument starts in that memory, checked against what we were given.
    let mut offsets = Vec::with_capacity(args.len());
    let mut at = 0;
    for a in args {
        let b = a.as_bytes();
        if cmdline.get(at..at + b.len()) != Some(b) {
            anyhow::bail!("the arguments in memory are not those given");
        }
        offsets.push(at);
        at += b.len() + 1;
    }
    let mut mem = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/mem")?;
    for (i, r) in spans {
        mem.seek(SeekFrom::Start(arg_start + (offsets[i] + r.start) as u64))?;
        mem.write_all(&vec![b'x'; r.len()])?;
    }
    Ok(())
}

fn rewrite_password_flag(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut after_dashdash = false;
    for a in args {
        if !after_dashdash {
            if a == "--" {
                after_dashdash = true;
            } else if let Some(s) = a.to_str() {
                if let Some(at) = attached_password(s.as_bytes()) {
                    // `-qpSECRET` is `-q` then the password.
                    if at > 2 {
                        out.push(OsString::from(&s[..at - 1]));
                    }
                    out.push(OsString::from(format!("--password={}", &s[at..])));
                    continue;
                }
            }
        }
        out.push(a);
    }
    out
}

/// The short flags of qexport and qimport that take a value: in a bundle (`-qnd;`), the
/// rest of the argument after one of them is its value.
const VALUE_FLAGS: &[u8] = b"eojdhPuSD";

/// Where the password of `-pSECRET` starts, also in a bundle of flags before it
/// (`-qpSECRET`, as the mysql client reads it); `None` when the argument holds none (`-p`
/// alone asks for it, `-p=` is clap's, and `-hp...` is a host).
fn attached_password(arg: &[u8]) -> Option<usize> {
    let flags = arg.strip_prefix(b"-").filter(|f| !f.starts_with(b"-"))?;
    for (i, c) in flags.iter().enumerate() {
        match c {
            b'p' => {
                let at = i + 2;
                return (at < arg.len() && arg[at] != b'=').then_some(at);
            }
            c if VALUE_FLAGS.contains(c) => return None,
            _ => {}
        }
    }
    None
}

/// Connection flags, as the `mysql` client spells them, plus `--url`.
///
/// Precedence, lowest first: built-in defaults, `MYSQL_HOST` `MYSQL_TCP_PORT` `MYSQL_PWD`
/// `MYSQL_UNIX_PORT`, option files (`[client]`, `[client-server]`, `[client-mariadb]` and the tool's own
/// group), `--url`, then the flags.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection (as the mysql client)")]
pub struct ConnArgs {
    /// Connection URL: mysql://user:password@host:port/database
    ///
    /// Flags given beside it override its parts. Prefer MYSQL_PWD, an option file or -p
    /// (prompt) for the password: command lines are visible to other users in `ps`.
    /// Example: --url mysql://app@db1:3306/shop
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Server host; `localhost` means the Unix socket [default: localhost]
    #[arg(short = 'h', long, value_name = "HOST")]
    pub host: Option<String>,

    /// TCP port [default: 3306]
    #[arg(short = 'P', long, value_name = "PORT")]
    pub port: Option<u16>,

    /// User name [default: your login name]
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Password; -p alone asks for it on the terminal
    ///
    /// As with the mysql client, the value must be attached: -pSECRET or --password=SECRET.
    #[arg(short = 'p', long, value_name = "PASSWORD", num_args = 0..=1, require_equals = true)]
    pub password: Option<Option<String>>,

    /// Unix socket file (used when the host is localhost)
    #[arg(short = 'S', long, value_name = "PATH")]
    pub socket: Option<String>,

    /// Default database
    #[arg(short = 'D', long, value_name = "DB")]
    pub database: Option<String>,

    /// Read options from this file only (no other option file is read)
    #[arg(long, value_name = "FILE")]
    pub defaults_file: Option<String>,

    /// Read this option file after the usual ones
    #[arg(long, value_name = "FILE")]
    pub defaults_extra_file: Option<String>,

    /// Read no option file
    #[arg(long)]
    pub no_defaults: bool,

    /// Print the options the option files give, and exit (as the mysql client)
    ///
    /// With --defaults-file, --defaults-extra-file or --no-defaults beside it, as given; a
    /// password's value shows as *****. Example: qexport --print-defaults
    #[arg(long)]
    pub print_defaults: bool,

    /// Seconds to wait for a connection to be made [default: 30]
    ///
    /// As the mysql client's --connect-timeout (and the option file key `connect-timeout`).
    /// Example: qexport --connect-timeout 5 -h db1 users
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,

    /// Seconds the server may send nothing while the tool waits on it [default: 3600]
    ///
    /// A network that stalls (a proxy or firewall that stops forwarding but keeps the
    /// connection) then ends the run with an error instead of a wait forever; a peer that
    /// is gone is found sooner by TCP keepalives (within about two minutes). 0 waits
    /// forever. A deferred index build and the move of staged rows (-j, --mode upsert)
    /// wait as long as they take. Keep it above
    /// --lock-wait-timeout. Example: --read-timeout 600
    #[arg(long, value_name = "SECONDS")]
    pub read_timeout: Option<u64>,

    /// Seconds a write to the server may stay blocked [default: 3600]
    ///
    /// A server that stops reading (a stalled network, a server frozen) ends the run with
    /// an error. 0 waits forever. Example: --write-timeout 600
    #[arg(long, value_name = "SECONDS")]
    pub write_timeout: Option<u64>,

    /// Compress the protocol, as the mysql client's --compress (for slow links)
    ///
    /// zlib on every packet both ways: it saves bytes on a slow or metered link and costs
    /// CPU on a fast one. The option file key `compress` and `--url ...?compress=true` do
    /// the same. Example: qexport -C -h far.example.com users
    #[arg(short = 'C', long)]
    pub compress: bool,

    /// TLS: DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY [default: PREFERRED]
    ///
    /// As the mysql client: PREFERRED uses TLS whenever the server offers it (without
    /// checking its certificate) and plain text otherwise; REQUIRED insists on TLS;
    /// VERIFY_CA also checks that a trusted CA signed the server's certificate;
    /// VERIFY_IDENTITY also checks that the certificate names the host connected to. With
    /// --ssl-ca and no mode, VERIFY_CA. A Unix socket needs no TLS and never gets it.
    /// Example: qexport --ssl-mode VERIFY_IDENTITY --ssl-ca ca.pem -h db1.example.com users
    #[arg(long, value_name = "MODE", value_parser = parse_ssl_mode,
          conflicts_with_all = ["ssl", "skip_ssl", "ssl_verify_server_cert"])]
    pub ssl_mode: Option<SslMode>,

    /// TLS or no connection (MariaDB's spelling of --ssl-mode REQUIRED)
    ///
    /// Keeps a VERIFY_CA or VERIFY_IDENTITY set in an option file.
    #[arg(long, conflicts_with = "skip_ssl")]
    pub ssl: bool,

    /// No TLS (MariaDB's spelling of --ssl-mode DISABLED)
    #[arg(long, conflicts_with = "ssl_verify_server_cert")]
    pub skip_ssl: bool,

    /// Check the server's certificate and name (MariaDB's spelling of VERIFY_IDENTITY)
    #[arg(long)]
    pub ssl_verify_server_cert: bool,

    /// The CA certificates (PEM) that sign the server's certificate
    ///
    /// Without it, the verifying modes trust the public web CAs (Mozilla's list). The
    /// driver always trusts those too, beside this file: give VERIFY_IDENTITY, which also
    /// checks the name, wherever the server has one.
    #[arg(long, value_name = "FILE")]
    pub ssl_ca: Option<PathBuf>,

    /// A folder of CA certificates (PEM files), as --ssl-ca
    #[arg(long, value_name = "DIR")]
    pub ssl_capath: Option<PathBuf>,

    /// Client certificate (PEM), for accounts created with REQUIRE X509 or SUBJECT
    ///
    /// Goes with --ssl-key. Example: qimport --ssl-cert me.pem --ssl-key me-key.pem t t.csv
    #[arg(long, value_name = "FILE")]
    pub ssl_cert: Option<PathBuf>,

    /// The client certificate's private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub ssl_key: Option<PathBuf>,
}

fn parse_ssl_mode(s: &str) -> Result<SslMode, String> {
    s.parse()
}

impl ConnArgs {
    /// What the TLS flags say, as one layer of the connection settings.
    pub fn tls_layer(&self) -> TlsLayer {
        TlsLayer {
            mode: LayerMode::from_switches(
                self.ssl_mode,
                self.ssl_verify_server_cert,
                self.skip_ssl,
                self.ssl.then_some(true),
            ),
            ca: self.ssl_ca.clone(),
            capath: self.ssl_capath.clone(),
            cert: self.ssl_cert.clone(),
            key: self.ssl_key.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter(";;").is_err());
    }

    #[test]
    fn attached_password_is_rewritten() {
        let a: Vec<OsString> = ["qexport", "-pS3cret", "-p", "-p=x", "users", "--", "-pz"]
            .iter()
            .map(OsString::from)
            .collect();
        let got = rewrite_password_flag(a);
        assert_eq!(got[1], "--password=S3cret");
        assert_eq!(got[2], "-p");
        assert_eq!(got[3], "-p=x");
        assert_eq!(got[6], "-pz");
        // See: #23 (4): in a bundle, as the mysql client reads it.
        let b: Vec<OsString> = ["qexport", "-qpS3", "-qnCp", "-hpx", "-uproot"]
            .iter()
            .map(OsString::from)
            .collect();
        let got = rewrite_password_flag(b);
        assert_eq!(
            got[1..],
            ["-q", "--password=S3", "-qnCp", "-hpx", "-uproot"]
        );
    }

    // See: #23 (4): where the secrets of a command line are.
    #[test]
    fn secrets_are_found_in_every_spelling() {
        let a: Vec<OsString> = [
            "qexport",
            "-pS3cret",
            "-p",
            "users",
            "--password=pw",
            "--url",
            "mysql://u:urlpw@h:3306/db",
            "--url=mysql://v:pw2@h/d?ssl-mode=REQUIRED",
            "--url=mysql://nopass@h/d",
            "-qpbundled",
            "--",
            "-pnot",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let found: Vec<(usize, String)> = secret_spans(&a)
            .into_iter()
            .map(|(i, r)| (i, a[i].to_str().unwrap()[r].to_owned()))
            .collect();
        assert_eq!(
            found,
            [
                (1, "S3cret".to_owned()),
                (4, "pw".to_owned()),
                (6, "urlpw".to_owned()),
                (7, "pw2".to_owned()),
                (9, "bundled".to_owned()),
            ]
        );
    }

    // See: #23 (5): a mistake in the flags is one line, with clap's tip.
    #[test]
    fn argument_errors_are_one_line() {
        #[derive(clap::Parser, Debug)]
        #[command(name = "t")]
        struct A {
            #[arg(long)]
            format: Option<String>,
        }
        #[derive(clap::Parser, Debug)]
        #[command(name = "t")]
        struct B {
            #[arg(long, required = true)]
            url: String,
            table: String,
        }
        let e = parse::<A>("t", ["t", "--formt", "x"].map(OsString::from)).unwrap_err();
        assert_eq!(e, std::process::ExitCode::from(2));
        let text = <A as clap::Parser>::try_parse_from(["t", "--formt", "x"])
            .unwrap_err()
            .render()
            .to_string();
        let line = one_line(&text, "t");
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("unexpected argument '--formt' found"),
            "{line}"
        );
        assert!(
            line.contains("a similar argument exists: '--format'"),
            "{line}"
        );
        assert!(line.ends_with("try 't --help'"), "{line}");
        // What is missing is one list.
        let text = <B as clap::Parser>::try_parse_from(["t"])
            .unwrap_err()
            .render()
            .to_string();
        assert_eq!(
            one_line(&text, "t"),
            "the following required arguments were not provided: --url <URL>, <TABLE>; try 't --help'"
        );
    }

    #[test]
    fn tsv_and_null() {
        let a = CsvArgs {
            tsv: true,
            null: Some("\\N".into()),
            ..CsvArgs::default()
        };
        let d = a.dialect().unwrap();
        assert_eq!(d.delimiter, b'\t');
        assert_eq!(d.null, NullMarker::Text(b"\\N".to_vec()));
    }

    // See: #14 (13): a NULL marker that is CSV structure would corrupt the output.
    #[test]
    fn null_markers_that_break_the_csv_are_refused() {
        for (null, tsv) in [
            ("x,y", false),
            ("\"", false),
            ("a\nb", false),
            ("\r", false),
            ("a\tb", true),
        ] {
            let a = CsvArgs {
                tsv,
                null: Some(null.into()),
                ..CsvArgs::default()
            };
            let e = a.dialect().unwrap_err().to_string();
            assert!(e.starts_with("--null"), "{e}");
        }
        let ok = CsvArgs {
            null: Some("a\tb".into()),
            ..CsvArgs::default()
        };
        assert!(ok.dialect().is_ok());
    }
}
