//! qimport's flags and their validation: `Args` (clap) to `Config`, where every refused
//! combination is refused with its reason.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, ValueEnum};

use crate::cli::ServerCsvArgs;
use crate::conn::ConnConfig;
use crate::dialect::Dialect;
use crate::sql::TableName;

use super::load::Mode;
use super::validate::{self};

pub(super) const EXAMPLES: &str = "\
Examples:
  qimport users < users.csv
  qimport shop.users part1.csv part2.csv
  qexport -h old users | qimport -h new users
  qimport --mode upsert --rejects bad.csv users < changes.csv
  qimport --swap users < nightly-full.csv        # readers never see a half table
  qimport --dry-run users < users.csv            # check every value, change nothing
  qimport -n --columns id,email users < no-header.csv
  qimport --truncate --ignore-extra users < export-with-extra-columns.csv
  qimport --method insert --max-errors 50 users < users.csv
  qimport --create -j 2 events < events.csv      # make the table, load over 2 connections
  qimport --schema events.sql events < events.csv
  qimport --dir backup/2026-11-23                # restore qexport --all -o backup/...
  timeout 2h qimport --swap users < nightly.csv  # on SIGTERM or Ctrl-C: rolled back,
                                                 # work tables dropped, users as it was";

/// How rows reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Method {
    /// LOAD DATA LOCAL INFILE when the server allows it, else INSERT batches
    #[default]
    Auto,
    /// LOAD DATA LOCAL INFILE through qimport's own stream (the fast path)
    LoadData,
    /// Batches of multi-row prepared INSERTs
    Insert,
}

/// Load CSV into a MySQL/MariaDB table: every value checked first, then all rows or none.
#[derive(Parser, Debug)]
#[command(name = "qimport", version = crate::cli::VERSION, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Target table: TABLE or DATABASE.TABLE
    #[arg(value_name = "TABLE", required_unless_present = "dir")]
    pub(super) table: Option<String>,

    /// CSV files to load, each with its own header row [default: stdin]
    ///
    /// `-` is stdin. All files load in the same transaction. gzip and zstd input (files or
    /// stdin, known by their first bytes) is decompressed: qimport users users.csv.zst
    #[arg(value_name = "FILE")]
    pub(super) files: Vec<PathBuf>,

    /// LOAD DATA LOCAL INFILE, INSERT batches, or auto [default: auto]
    ///
    /// auto uses LOAD DATA when the server has local_infile on, and says on stderr which
    /// method ran and why.
    #[arg(long, value_enum, default_value_t = Method::Auto, hide_default_value = true)]
    pub(super) method: Method,

    /// What a duplicate key does: insert (error), ignore, replace, upsert [default: insert]
    ///
    /// upsert updates the loaded columns of the existing row (ON DUPLICATE KEY UPDATE).
    #[arg(long, value_enum, default_value_t = Mode::Insert, hide_default_value = true)]
    pub(super) mode: Mode,

    /// Stop after N bad records, reporting each [default: 10]
    #[arg(long, value_name = "N", default_value_t = 10, hide_default_value = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) max_errors: u64,

    /// Check every value, load inside a transaction, roll back: change nothing
    ///
    /// The server takes the rows as the real run would (duplicate keys, CHECK constraints
    /// and foreign keys are tried), then everything is rolled back. A table that cannot
    /// roll back (MyISAM) only has its values checked, and the summary says so.
    #[arg(long)]
    pub(super) dry_run: bool,

    /// Write bad records to FILE (CSV, with a qimport_error column) and load the rest
    #[arg(long, value_name = "FILE")]
    pub(super) rejects: Option<PathBuf>,

    /// Empty the table first (DELETE, inside the same transaction)
    #[arg(long, conflicts_with = "swap")]
    pub(super) truncate: bool,

    /// Load into a new copy of the table, then RENAME it over the old one atomically
    ///
    /// Readers see the old table until the new one is complete, never an empty or half
    /// table. For nightly full reloads. The old table is dropped. A new copy left by an
    /// import killed outright (SIGKILL) is dropped by the next --swap or -j import of the
    /// table. Example: qimport --swap shop.users users.csv
    #[arg(long)]
    pub(super) swap: bool,

    /// Let --truncate and --mode replace delete rows that other tables' foreign keys refer to
    ///
    /// Without it such an import is refused: the foreign key's ON DELETE action would run
    /// and touch the other table (CASCADE deletes its rows, SET NULL clears them).
    /// Example: qimport --truncate --cascade-deletes parent < parent.csv
    #[arg(long)]
    pub(super) cascade_deletes: bool,

    /// Restore a backup folder written by qexport --all -o DIR
    #[arg(long, value_name = "DIR", conflicts_with_all = ["table", "files", "swap", "truncate", "columns", "rejects"])]
    pub(super) dir: Option<PathBuf>,

    /// Names for the fields, in order (for a file without a header, with -n)
    ///
    /// Example: -n --columns id,name,email
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub(super) columns: Option<Vec<String>>,

    /// Skip header fields that are not columns of the table instead of failing
    #[arg(long)]
    pub(super) ignore_extra: bool,

    /// Create the table from the header when it does not exist (conservative types)
    ///
    /// Types come from every value: INT/BIGINT for canonical integers only (007 stays
    /// text), DECIMAL(p,s), DATE, DATETIME(fsp), else VARCHAR(n) or TEXT; all nullable, no
    /// key. A failed load drops the table again.
    #[arg(long, conflicts_with_all = ["schema", "dir"])]
    pub(super) create: bool,

    /// Create the table with the CREATE TABLE statement in FILE when it does not exist
    #[arg(long, value_name = "FILE", conflicts_with = "dir")]
    pub(super) schema: Option<PathBuf>,

    /// Load over N connections (LOAD DATA into a staging table, shown in one step)
    ///
    /// A file is cut into N runs of records, each read, checked and sent by a thread and
    /// connection of its own (other input: blocks from one reader, which the connections
    /// take in turn), each loading into a staging copy of the table; when all are done the
    /// rows appear at once: by one atomic RENAME when the table was empty (or --truncate)
    /// and no foreign key or trigger involves it, else by one INSERT ... SELECT
    /// transaction. The staging table of an import killed outright (SIGKILL) is dropped by
    /// the next -j or --swap import of the table. Example: qimport -j 2 shop.users users.csv
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(super) jobs: u16,

    #[command(flatten)]
    input: crate::cli::InputArgs,

    /// Print nothing on success (by default one summary line goes to stderr)
    #[arg(short = 'q', long)]
    pub(super) quiet: bool,

    #[command(flatten)]
    pub(super) common: ServerCsvArgs,
}

/// A validated import job.
#[derive(Debug, Clone)]
pub struct Config {
    pub(super) table: Option<TableName>,
    pub(super) database: String,
    pub(super) files: Vec<PathBuf>,
    pub(super) dialect: Dialect,
    pub(super) conn: ConnConfig,
    pub(super) method: Method,
    pub(super) mode: Mode,
    pub(super) max_errors: u64,
    pub(super) dry_run: bool,
    pub(super) rejects: Option<PathBuf>,
    pub(super) truncate: bool,
    pub(super) swap: bool,
    pub(super) cascade_deletes: bool,
    pub(super) dir: Option<PathBuf>,
    pub(super) columns: Option<Vec<String>>,
    pub(super) ignore_extra: bool,
    pub(super) create: bool,
    pub(super) schema: Option<PathBuf>,
    pub(super) jobs: usize,
    pub(super) quiet: bool,
    /// The inputs' encoding.
    pub(super) encoding: crate::encoding::Encoding,
    /// What a restore accepts beyond a plain import (none for a plain import).
    pub(super) lenient: validate::Lenience,
}

/// Session settings for loading: strict (bad values are errors, not warnings), an explicit
/// 0 in an AUTO_INCREMENT column stays 0, and no silent engine substitution.
pub(super) const SESSION_SQL_MODE: &str =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let mut conn = ConnConfig::resolve(&args.common.conn, "qimport")?;
        let table = args.table.as_deref().map(TableName::parse).transpose()?;
        if let Some(db) = table.as_ref().and_then(|t| t.database.clone()) {
            conn.database = Some(db);
        }
        let Some(database) = conn.database.clone() else {
            bail!("no database selected: use DATABASE.TABLE, -D DATABASE or --url .../DATABASE");
        };
        if args.dry_run && args.dir.is_some() {
            bail!("--dry-run with --dir: a restore creates tables, which no transaction can take back; restore into a scratch database instead");
        }
        if let Some(r) = &args.rejects {
            let same = |f: &PathBuf| {
                f.as_os_str() != "-"
                    && std::fs::canonicalize(f)
                        .ok()
                        .is_some_and(|c| std::fs::canonicalize(r).is_ok_and(|rc| rc == c))
            };
            if let Some(f) = args.files.iter().find(|f| same(f)) {
                bail!(
                    "--rejects {} is an input file: it would be overwritten",
                    f.display()
                );
            }
        }
        if args.jobs > 1 && args.mode != Mode::Insert && args.dir.is_none() {
            bail!(
                "-j {} with --mode {}: a key repeated in the input would be settled by whichever connection comes first, not by input order; load with -j 1",
                args.jobs,
                args.mode.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned())
            );
        }
        Ok(Config {
            table,
            database,
            files: args.files,
            dialect: args.common.dialect()?,
            conn,
            method: args.method,
            mode: args.mode,
            max_errors: args.max_errors,
            dry_run: args.dry_run,
            rejects: args.rejects,
            truncate: args.truncate,
            swap: args.swap,
            cascade_deletes: args.cascade_deletes,
            dir: args.dir,
            columns: args.columns,
            ignore_extra: args.ignore_extra,
            create: args.create,
            schema: args.schema,
            jobs: usize::from(args.jobs),
            quiet: args.quiet,
            lenient: validate::Lenience::default(),
            encoding: args.input.encoding,
        })
    }
}
