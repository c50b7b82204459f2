//! qexport's flags and their validation: `Args` (clap) to `Config`, where every refused
//! combination is refused with its reason.

use std::path::PathBuf;

use anyhow::bail;
use clap::Parser;
use qtools_csv::dialect::Dialect;

use crate::cli::ServerCsvArgs;
use crate::conn::ConnConfig;
use crate::out::Compression;
use crate::progress::{Progress, Show};
use crate::sql::TableName;

pub(super) const EXAMPLES: &str = "\
Examples:
  qexport users > users.csv
  qexport shop.users | qgrep @gmail | qcount
  qexport -e 'SELECT id, email FROM users WHERE id < 100' -o small.csv
  qexport --columns id,email --where 'id < 100' --order-by 'email DESC' users
  qexport -j 4 --consistent users -o users.csv.zst --zstd
  qexport --binary base64 --gzip -o files.csv.gz files
  parallel -k qexport --shard {}/4 users ::: 1 2 3 4 > users.csv
  qexport --all -o backup/$(date +%F)            # restore: qimport --dir backup/...
  qexport --serve 127.0.0.1:8081 users orders    # GET /users.csv, a fresh export each time
  qexport --tsv --null '\\N' -h db1 -u reader -p users
  timeout 1h qexport users -o users.csv          # on SIGTERM or Ctrl-C: no file, no temp file";

/// Export a MySQL/MariaDB table or query as CSV (RFC 4180, header row first), or a whole
/// database as a backup folder.
#[derive(Parser, Debug)]
#[command(
    name = "qexport",
    version = crate::cli::VERSION,
    disable_help_flag = true,
    after_help = EXAMPLES,
    override_usage = "qexport [OPTIONS] TABLE...\n       qexport [OPTIONS] -e QUERY\n       qexport [OPTIONS] --all -o DIR"
)]
pub struct Args {
    /// Table to export: TABLE or DATABASE.TABLE; several (or --all) make a backup folder
    #[arg(value_name = "TABLE", required_unless_present_any = ["execute", "all"])]
    pub(super) tables: Vec<String>,

    /// Export the result of this query instead of a table
    ///
    /// Example: -e 'SELECT id, email FROM users WHERE created > NOW() - INTERVAL 1 DAY'
    #[arg(short = 'e', long, value_name = "QUERY", conflicts_with_all = ["tables", "all"])]
    pub(super) execute: Option<String>,

    /// Write to FILE (or, for a backup, the folder DIR) instead of stdout
    ///
    /// The file is written under a temporary name in the same folder and renamed when
    /// complete, so a failed or killed export never leaves a half file under FILE.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,

    /// Back up every table of the database into the folder given by -o
    ///
    /// Writes DIR/schema.sql, one CSV per table and DIR/manifest.json (tables, row counts,
    /// column types, SHA-256 of each file, the dialect). Example: qexport --all -o backup/mon
    #[arg(long)]
    pub(super) all: bool,

    /// Serve each TABLE (or with --all every table) over HTTP at ADDR, as /TABLE.csv
    ///
    /// A fresh export per request, byte for byte what `qexport TABLE` writes, streamed;
    /// `?columns=a,b` and `?limit=N` as the flags. 127.0.0.1:8081 is this host only;
    /// 0.0.0.0:8081 is the network. See docs/serve.md. Example: qexport --serve
    /// 127.0.0.1:8081 users orders
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["execute", "output", "shard", "filter", "order_by"])]
    pub(super) serve: Option<String>,

    /// With --serve: exports running at once; another request gets 503 [default: 4]
    ///
    /// Example: --max-clients 8
    #[arg(long, value_name = "N", requires = "serve", default_value_t = 4, hide_default_value = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(super) max_clients: u16,

    /// With --serve: a request must carry this file's token (Authorization: Bearer TOKEN)
    ///
    /// Example: --token-file /etc/qtools/token
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub(super) token_file: Option<PathBuf>,

    /// With --serve: HTTPS with this certificate chain (PEM), and --serve-key
    ///
    /// Example: --serve-cert cert.pem --serve-key key.pem
    #[arg(long, value_name = "FILE", requires_all = ["serve", "serve_key"])]
    pub(super) serve_cert: Option<PathBuf>,

    /// With --serve: the private key (PEM) of --serve-cert
    ///
    /// Example: --serve-key key.pem
    #[arg(long, value_name = "FILE", requires_all = ["serve", "serve_cert"])]
    pub(super) serve_key: Option<PathBuf>,

    /// With --serve and --token-file: allow plain HTTP beyond this host (the token then
    /// crosses the network in clear). Example: --token-file token --plain-token
    #[arg(long, requires = "token_file")]
    pub(super) plain_token: bool,

    /// With --serve: how long a client may be silent, sending its request or taking the
    /// answer, before it is cut off [default: 30]
    ///
    /// Example: --client-timeout 120
    #[arg(long, value_name = "SECONDS", requires = "serve", default_value_t = 30, hide_default_value = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) client_timeout: u64,

    /// With --all: back up the tables this user may read even when it may not read all
    ///
    /// A user granted SELECT on single tables sees only those: without --partial, --all
    /// then refuses, since it cannot tell what it would miss. The manifest records a
    /// partial backup. Example: qexport --all --partial -o backup/mine
    #[arg(long, requires = "all")]
    pub(super) partial: bool,

    /// Export only these columns, in this order (comma-separated names)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub(super) columns: Option<Vec<String>>,

    /// Export only the rows matching this SQL condition
    ///
    /// Example: --where "created >= '2026-01-01' AND email LIKE '%@gmail.com'"
    #[arg(long = "where", value_name = "COND")]
    pub(super) filter: Option<String>,

    /// Sort by this SQL expression instead of the key [default: the primary key]
    #[arg(long, value_name = "EXPR")]
    pub(super) order_by: Option<String>,

    /// Export at most N rows
    #[arg(long, value_name = "N")]
    pub(super) limit: Option<u64>,

    /// Read over N connections in key-range chunks; the output is identical to -j 1
    ///
    /// Needs a primary (or unique NOT NULL) key; a table without one is read over one
    /// connection, and qexport says so. Example: -j 4
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(super) jobs: u16,

    /// Export only the K-th of N key ranges (for fan-out with GNU parallel)
    ///
    /// The N shards, concatenated in order, are the whole table: every row once, in key
    /// order; only shard 1 has the header. Example: parallel -k qexport --shard {}/4 t ::: 1 2 3 4
    #[arg(long, value_name = "K/N", value_parser = crate::cli::parse_shard)]
    pub(super) shard: Option<(u64, u64)>,

    /// With -j: open all connections' snapshots at one instant (takes LOCK TABLES ... READ
    /// for that instant)
    ///
    /// Without it each connection has its own snapshot, opened a few milliseconds apart.
    /// The lock needs the LOCK TABLES privilege; it waits for running writes to the tables
    /// to commit, and writers wait while it is held (until every connection has opened its
    /// snapshot, typically milliseconds).
    #[arg(long)]
    pub(super) consistent: bool,

    /// Wait at most SECONDS for a lock the export needs, then fail [default: 60]
    ///
    /// An export holds its tables against DDL, and a backup locks the tables that have no
    /// transactions (MyISAM, Aria) for its one instant: behind a steady writer or a long
    /// DDL it would otherwise wait the server's default, a year. The error names the
    /// sessions that use the table. Example: --lock-wait-timeout 600
    #[arg(long, value_name = "SECONDS", default_value_t = 60, hide_default_value = true, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub(super) lock_wait_timeout: u64,

    /// Compress the output with gzip
    #[arg(long, conflicts_with = "zstd")]
    pub(super) gzip: bool,

    /// Compress the output with zstd
    #[arg(long)]
    pub(super) zstd: bool,

    /// No progress bar and no summary on stderr
    #[arg(short = 'q', long)]
    pub(super) quiet: bool,

    /// Progress even when stderr is not a terminal: a plain line every few seconds, for
    /// cron and systemd logs. Example: qexport --progress users -o users.csv 2>>export.log
    #[arg(long, conflicts_with = "quiet")]
    pub(super) progress: bool,

    #[command(flatten)]
    pub(super) common: ServerCsvArgs,
}

/// What to export.
#[derive(Debug)]
pub(super) enum Mode {
    Query(String),
    Table {
        name: TableName,
        columns: Option<Vec<String>>,
        filter: Option<String>,
        order_by: Option<String>,
        limit: Option<u64>,
        shard: Option<(u64, u64)>,
    },
    /// `None`: every table of the database.
    Backup {
        tables: Option<Vec<String>>,
    },
    /// `--serve ADDR`.
    Serve(super::serve::Serve),
}

/// A validated export job.
#[derive(Debug)]
pub struct Config {
    pub(super) mode: Mode,
    pub(super) dialect: Dialect,
    pub(super) conn: ConnConfig,
    pub(super) output: Option<PathBuf>,
    pub(super) jobs: usize,
    pub(super) consistent: bool,
    pub(super) compression: Compression,
    pub(super) quiet: bool,
    pub(super) progress: Progress,
    pub(super) partial: bool,
    pub(super) lock_wait_timeout: u64,
}

/// The tables a backup lists, all of one database (which becomes the connection's).
fn backup_tables(tables: &[String], conn: &mut ConnConfig) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for t in tables {
        let n = TableName::parse(t)?;
        if let Some(db) = &n.database {
            match &conn.database {
                Some(d) if d != db => bail!("a backup covers one database; {t} is in another"),
                _ => conn.database = Some(db.clone()),
            }
        }
        names.push(n.table);
    }
    Ok(names)
}

/// Where the data goes: stdout (said to the failure mark), a backup folder (needed by
/// `--all` unless it serves), or HTTP clients.
fn output_of(args: &Args, backup: bool, serve: bool) -> anyhow::Result<()> {
    if !backup && !serve && args.output.as_ref().is_none_or(|o| o.as_os_str() == "-") {
        crate::out::data_on_stdout();
    }
    if args.all && !serve && args.output.is_none() {
        bail!("--all needs -o DIR (the backup folder), or --serve ADDR");
    }
    Ok(())
}

/// `--serve ADDR` and its companions, checked.
fn serve_mode(args: &Args, conn: &ConnConfig, addr: String) -> anyhow::Result<Mode> {
    if args.jobs > 1 {
        bail!("--serve exports each request over one connection: drop -j (--max-clients bounds the exports at once)");
    }
    // What a request chooses (?columns=, ?limit=) or what --serve does not do is refused
    // here, never ignored: a --columns meant to hide a column must not serve it.
    for (given, flag) in [
        (
            args.columns.is_some(),
            "--columns (a request asks ?columns=)",
        ),
        (args.limit.is_some(), "--limit (a request asks ?limit=)"),
        (
            args.gzip || args.zstd,
            "--gzip and --zstd (a client that sends Accept-Encoding gets gzip)",
        ),
        (
            args.consistent,
            "--consistent (each request is one snapshot already)",
        ),
    ] {
        if given {
            bail!("--serve with {flag}: not taken; serve a view to show fewer columns or rows");
        }
    }
    if args.all != args.tables.is_empty() {
        bail!("--serve needs the TABLEs to serve, or --all (not both)");
    }
    if conn.database.is_none() && (args.all || args.tables.iter().any(|t| !t.contains('.'))) {
        bail!("no database selected: use -D DATABASE or --url .../DATABASE");
    }
    Ok(Mode::Serve(super::serve::Serve {
        addr,
        tables: (!args.all).then(|| args.tables.clone()),
        max_clients: usize::from(args.max_clients),
        token_file: args.token_file.clone(),
        cert: args.serve_cert.clone(),
        key: args.serve_key.clone(),
        plain_token: args.plain_token,
        timeout: std::time::Duration::from_secs(args.client_timeout),
    }))
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let backup = args.all || args.tables.len() > 1;
        let serve = args.serve.is_some();
        output_of(&args, backup, serve)?;
        let mut conn = ConnConfig::resolve(&args.common.conn, "qexport")?;
        let mode = if let Some(addr) = args.serve.clone() {
            serve_mode(&args, &conn, addr)?
        } else if let Some(q) = args.execute {
            if args.columns.is_some()
                || args.filter.is_some()
                || args.order_by.is_some()
                || args.limit.is_some()
            {
                bail!("--columns, --where, --order-by and --limit apply to a TABLE, not to -e (write them into the query)");
            }
            if args.shard.is_some() {
                bail!("--shard needs a TABLE (its key is what is split)");
            }
            Mode::Query(crate::sql::single_statement("-e", &q)?.to_owned())
        } else if backup {
            if args.columns.is_some()
                || args.filter.is_some()
                || args.order_by.is_some()
                || args.limit.is_some()
                || args.shard.is_some()
            {
                bail!("--columns, --where, --order-by, --limit and --shard apply to one table, not to a backup");
            }
            if args.output.is_none() {
                bail!("a backup of several tables needs -o DIR");
            }
            let tables = if args.all {
                if !args.tables.is_empty() {
                    bail!("give either --all or a list of tables, not both");
                }
                None
            } else {
                Some(backup_tables(&args.tables, &mut conn)?)
            };
            if conn.database.is_none() {
                bail!("no database selected: use -D DATABASE or --url .../DATABASE");
            }
            Mode::Backup { tables }
        } else {
            let Some(t) = args.tables.first() else {
                bail!("nothing to export: give a TABLE, -e QUERY or --all");
            };
            let name = TableName::parse(t)?;
            if name.database.is_none() && conn.database.is_none() {
                bail!(
                    "no database selected: use DATABASE.TABLE, -D DATABASE or --url .../DATABASE"
                );
            }
            if let (Some(_), Some(_)) = (&args.order_by, &args.shard) {
                bail!("--shard exports in key order; it cannot be combined with --order-by");
            }
            if let (Some(_), Some(_)) = (&args.limit, &args.shard) {
                bail!("--shard cannot be combined with --limit");
            }
            if let Some(w) = &args.filter {
                crate::sql::check_fragment("--where", w)?;
            }
            if let Some(o) = &args.order_by {
                crate::sql::check_fragment("--order-by", o)?;
            }
            Mode::Table {
                name,
                columns: args.columns,
                filter: args.filter,
                order_by: args.order_by,
                limit: args.limit,
                shard: args.shard,
            }
        };
        // The CSV goes to the terminal a bar would be drawn on.
        let data_on_terminal =
            args.output.is_none() && !serve && std::io::IsTerminal::is_terminal(&std::io::stdout());
        Ok(Config {
            mode,
            dialect: args.common.dialect()?,
            conn,
            output: args.output,
            jobs: usize::from(args.jobs),
            consistent: args.consistent,
            compression: if args.gzip {
                Compression::Gzip
            } else if args.zstd {
                Compression::Zstd
            } else {
                Compression::None
            },
            quiet: args.quiet,
            // A server has no bar: its log is one line per request.
            progress: Progress::new(
                "qexport",
                Show::choose(args.quiet || serve, args.progress, data_on_terminal),
            ),
            partial: args.partial,
            lock_wait_timeout: args.lock_wait_timeout,
        })
    }
}
