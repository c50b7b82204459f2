//! qexport: a table or a query of a MySQL/MariaDB server as CSV on stdout or in a file,
//! or a whole database as a backup folder.
//!
//! Rows are streamed with the text protocol (`query_iter`), so memory stays flat whatever
//! the size of the table. Every value comes out losslessly: NULL is an unquoted empty field
//! and an empty string `""`, binary columns are hex (`--binary`), BIT is a number, FLOAT is
//! read as DOUBLE (the server prints FLOAT with 6 digits only), TIMESTAMP is in UTC.
//!
//! ```text
//! qexport users > users.csv
//! qexport shop.users | qgrep @gmail | qcount
//! qexport -j 4 --where 'created >= CURDATE()' users -o today.csv.zst --zstd
//! parallel -k qexport --shard {}/4 users ::: 1 2 3 4 > users.csv
//! qexport --all -o backup/$(date +%F)
//! ```
//!
//! Layout: `plan` decides what to read (the SELECT, key ranges for chunks and shards),
//! `engine` reads and formats it (one streaming connection, or N in parallel put back in
//! order), `backup` writes a folder of tables with a schema and a manifest.

mod backup;
mod engine;
mod objects;
mod plan;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::cli::{mysql_style_args, ServerCsvArgs};
use crate::conn::{db_error, ConnConfig};
use crate::dialect::Dialect;
use crate::error::main_with;
use crate::out::{Compression, Output};
use crate::progress::Progress;
use crate::schema::TableInfo;
use crate::sql::TableName;

use engine::{Job, Parallel, Sinks};
use plan::{KeyRange, TableQuery};

const EXAMPLES: &str = "\
Examples:
  qexport users > users.csv
  qexport shop.users | qgrep @gmail | qcount
  qexport -e 'SELECT id, email FROM users WHERE id < 100' -o small.csv
  qexport --columns id,email --where 'id < 100' --order-by 'email DESC' users
  qexport -j 4 --consistent users -o users.csv.zst --zstd
  qexport --binary base64 --gzip -o files.csv.gz files
  parallel -k qexport --shard {}/4 users ::: 1 2 3 4 > users.csv
  qexport --all -o backup/$(date +%F)            # restore: qimport --dir backup/...
  qexport --tsv --null '\\N' -h db1 -u reader -p users
  timeout 1h qexport users -o users.csv          # on SIGTERM or Ctrl-C: no file, no temp file";

/// Export a MySQL/MariaDB table or query as CSV (RFC 4180, header row first), or a whole
/// database as a backup folder.
#[derive(Parser, Debug)]
#[command(name = "qexport", version, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Table to export: TABLE or DATABASE.TABLE; several (or --all) make a backup folder
    #[arg(value_name = "TABLE", required_unless_present_any = ["execute", "all"])]
    tables: Vec<String>,

    /// Export the result of this query instead of a table
    ///
    /// Example: -e 'SELECT id, email FROM users WHERE created > NOW() - INTERVAL 1 DAY'
    #[arg(short = 'e', long, value_name = "QUERY", conflicts_with_all = ["tables", "all"])]
    execute: Option<String>,

    /// Write to FILE (or, for a backup, the folder DIR) instead of stdout
    ///
    /// The file is written under a temporary name in the same folder and renamed when
    /// complete, so a failed or killed export never leaves a half file under FILE.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Back up every table of the database into the folder given by -o
    ///
    /// Writes DIR/schema.sql, one CSV per table and DIR/manifest.json (tables, row counts,
    /// column types, SHA-256 of each file, the dialect). Example: qexport --all -o backup/mon
    #[arg(long, requires = "output")]
    all: bool,

    /// With --all: back up the tables this user may read even when it may not read all
    ///
    /// A user granted SELECT on single tables sees only those: without --partial, --all
    /// then refuses, since it cannot tell what it would miss. The manifest records a
    /// partial backup. Example: qexport --all --partial -o backup/mine
    #[arg(long, requires = "all")]
    partial: bool,

    /// Export only these columns, in this order (comma-separated names)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    columns: Option<Vec<String>>,

    /// Export only the rows matching this SQL condition
    ///
    /// Example: --where "created >= '2026-01-01' AND email LIKE '%@gmail.com'"
    #[arg(long = "where", value_name = "COND")]
    filter: Option<String>,

    /// Sort by this SQL expression instead of the key [default: the primary key]
    #[arg(long, value_name = "EXPR")]
    order_by: Option<String>,

    /// Export at most N rows
    #[arg(long, value_name = "N")]
    limit: Option<u64>,

    /// Read over N connections in key-range chunks; the output is identical to -j 1
    ///
    /// Needs a primary (or unique NOT NULL) key; a table without one is read over one
    /// connection, and qexport says so. Example: -j 4
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,

    /// Export only the K-th of N key ranges (for fan-out with GNU parallel)
    ///
    /// The N shards, concatenated in order, are the whole table: every row once, in key
    /// order; only shard 1 has the header. Example: parallel -k qexport --shard {}/4 t ::: 1 2 3 4
    #[arg(long, value_name = "K/N", value_parser = crate::cli::parse_shard)]
    shard: Option<(u64, u64)>,

    /// With -j: open all connections' snapshots at one instant (takes LOCK TABLES ... READ
    /// for that instant)
    ///
    /// Without it each connection has its own snapshot, opened a few milliseconds apart.
    /// The lock needs the LOCK TABLES privilege; it waits for running writes to the tables
    /// to commit, and writers wait while it is held (until every connection has opened its
    /// snapshot, typically milliseconds).
    #[arg(long)]
    consistent: bool,

    /// Compress the output with gzip
    #[arg(long, conflicts_with = "zstd")]
    gzip: bool,

    /// Compress the output with zstd
    #[arg(long)]
    zstd: bool,

    /// No progress bar and no summary on stderr
    #[arg(short = 'q', long)]
    quiet: bool,

    #[command(flatten)]
    common: ServerCsvArgs,
}

/// What to export.
#[derive(Debug)]
enum Mode {
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
}

/// A validated export job.
#[derive(Debug)]
pub struct Config {
    mode: Mode,
    dialect: Dialect,
    conn: ConnConfig,
    output: Option<PathBuf>,
    jobs: usize,
    consistent: bool,
    compression: Compression,
    quiet: bool,
    partial: bool,
}

/// Session settings for exporting: every transaction of the session is read only, so an
/// export never writes, whatever `-e` says (a write, DDL included, fails with ERROR 1792;
/// and one statement per query, see [`crate::sql::single_statement`], keeps a `COMMIT;`
/// from ending that). A slow consumer (`qexport t | slow-thing`) stalls our reads, and
/// with the default 60 s `net_write_timeout` the server would give up on us.
const EXPORT_INIT: &[&str] = &[
    "SET SESSION TRANSACTION READ ONLY",
    "SET SESSION net_write_timeout = 86400",
];

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let mut conn = ConnConfig::resolve(&args.common.conn, "qexport")?;
        let backup = args.all || args.tables.len() > 1;
        let mode = if let Some(q) = args.execute {
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
                let mut names = Vec::new();
                for t in &args.tables {
                    let n = TableName::parse(t)?;
                    if let Some(db) = &n.database {
                        match &conn.database {
                            Some(d) if d != db => {
                                bail!("a backup covers one database; {t} is in another")
                            }
                            _ => conn.database = Some(db.clone()),
                        }
                    }
                    names.push(n.table);
                }
                Some(names)
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
            partial: args.partial,
        })
    }
}

/// One output (stdout or `-o FILE`) for a single table or query.
struct OneOutput(Option<Output>);

impl OneOutput {
    /// Pass on the export's result; a failure aborts the output (see [`Output::abort`]:
    /// a stream that has records gets a last one no CSV reader accepts).
    fn settle(mut self, result: anyhow::Result<()>) -> anyhow::Result<()> {
        if let (Err(e), Some(o)) = (&result, self.0.take()) {
            o.abort("qexport", &format!("{e:#}"));
        }
        result
    }
}

impl Sinks for OneOutput {
    fn write(&mut self, _out: usize, bytes: &[u8]) -> anyhow::Result<()> {
        match &mut self.0 {
            Some(o) => o.write_all(bytes),
            None => bail!("output already closed"),
        }
    }

    fn finish(&mut self, _out: usize, _rows: u64) -> anyhow::Result<()> {
        match self.0.take() {
            Some(o) => o.finish().map(|_| ()),
            None => Ok(()),
        }
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = cfg.conn.connect(EXPORT_INIT)?;
    match &cfg.mode {
        Mode::Query(sql) => {
            if cfg.jobs > 1 {
                eprintln!("qexport: -j applies to tables; a query is read over one connection");
            }
            let mut sink = OneOutput(Some(Output::open_compressed(
                cfg.output.as_deref(),
                cfg.compression,
            )?));
            let progress = Progress::new("query", None, cfg.quiet);
            let jobs = [Job {
                out: 0,
                what: "the query".into(),
                sql: sql.clone(),
                header: true,
            }];
            let done = engine::run_sequential(&mut conn, &jobs, &cfg.dialect, &mut sink, &progress);
            sink.settle(done)?;
            progress.finish();
        }
        Mode::Table {
            name,
            columns,
            filter,
            order_by,
            limit,
            shard,
        } => {
            let db = name
                .database
                .clone()
                .or_else(|| cfg.conn.database.clone())
                .unwrap_or_default();
            let info = TableInfo::load(&mut conn, &db, &name.table)?;
            let tq = TableQuery::new(
                info,
                columns.as_deref(),
                filter.clone(),
                order_by.clone(),
                *limit,
            )?;
            export_table(cfg, &mut conn, &tq, *shard)?;
        }
        Mode::Backup { tables } => backup::run(cfg, &mut conn, tables.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows per parallel chunk: about 2 MiB of data, whatever the row size.
fn chunk_rows(info: &TableInfo) -> u64 {
    (2 << 20) / info.avg_row_length.max(1)
}

/// Export one table (or one shard of it) into the single output.
fn export_table(
    cfg: &Config,
    conn: &mut Conn,
    tq: &TableQuery,
    shard: Option<(u64, u64)>,
) -> anyhow::Result<()> {
    let mut range = KeyRange::default();
    let mut estimate = tq.info.estimated_rows;
    let mut header = true;
    if let Some((k, n)) = shard {
        if let Some(why) = tq.unsplittable() {
            bail!("--shard needs a key to split on: {why}");
        }
        let ranges = tq.split(
            conn,
            &KeyRange::default(),
            usize::try_from(n).unwrap_or(usize::MAX),
        )?;
        range = ranges
            .get(usize::try_from(k - 1).unwrap_or(usize::MAX))
            .cloned()
            .context("shard out of range")?;
        estimate /= n;
        header = k == 1;
    }
    let mut sink = OneOutput(Some(Output::open_compressed(
        cfg.output.as_deref(),
        cfg.compression,
    )?));
    let progress = Progress::new(&tq.info.name.to_string(), Some(estimate), cfg.quiet);
    let jobs = match tq.unsplittable() {
        None if cfg.jobs > 1 => tq
            .chunks(conn, &range, chunk_rows(&tq.info), cfg.jobs * 4)?
            .iter()
            .enumerate()
            .map(|(i, r)| Job {
                out: 0,
                what: format!("table {}", tq.info.name.quoted()),
                sql: tq.sql(r),
                header: header && i == 0,
            })
            .collect(),
        why => {
            if let (true, Some(why)) = (cfg.jobs > 1, why) {
                eprintln!("qexport: {why}: exporting over one connection");
            }
            vec![Job {
                out: 0,
                what: format!("table {}", tq.info.name.quoted()),
                sql: tq.sql(&range),
                header,
            }]
        }
    };
    let done = execute(cfg, conn, &jobs, &[&tq.info.name], &mut sink, &progress);
    sink.settle(done)?;
    progress.finish();
    Ok(())
}

/// Read the jobs: over one connection in one snapshot when there is one job or `-j 1`;
/// otherwise over `-j N` connections, with `--consistent` holding `LOCK TABLES ... READ` on
/// `tables` until every connection has opened its snapshot.
fn execute(
    cfg: &Config,
    conn: &mut Conn,
    jobs: &[Job],
    tables: &[&TableName],
    sinks: &mut dyn Sinks,
    progress: &Progress,
) -> anyhow::Result<()> {
    if cfg.jobs == 1 || jobs.len() == 1 {
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .map_err(db_error)?;
        engine::hold(conn, tables)?;
        engine::run_sequential(conn, jobs, &cfg.dialect, sinks, progress)?;
    } else {
        if cfg.consistent {
            let list: Vec<String> = tables
                .iter()
                .map(|t| format!("{} READ", t.quoted()))
                .collect();
            conn.query_drop(format!("LOCK TABLES {}", list.join(", ")))
                .map_err(db_error)
                .context("--consistent: locking the tables")?;
        }
        let p = Parallel {
            conn: &cfg.conn,
            init: EXPORT_INIT,
            workers: cfg.jobs.min(jobs.len()),
            // Without --consistent the snapshots are apart anyway: nothing to hold.
            hold: if cfg.consistent { tables } else { &[] },
        };
        let mut unlock = || -> anyhow::Result<()> {
            if cfg.consistent {
                conn.query_drop("UNLOCK TABLES").map_err(db_error)?;
            }
            Ok(())
        };
        engine::run_parallel(&p, jobs, &cfg.dialect, sinks, progress, &mut unlock)?;
    }
    progress.finish();
    Ok(())
}

pub fn main() -> ExitCode {
    main_with("qexport", || {
        run(&Config::from_args(Args::parse_from(mysql_style_args()))?)
    })
}
