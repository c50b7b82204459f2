//! qimport: CSV from stdin or files into a MySQL/MariaDB table, fast and all or nothing.
//!
//! Every value is checked against its column before anything is sent (`validate`), then
//! the records stream to the server with `LOAD DATA LOCAL INFILE` through qimport's own
//! handler, or as batches of prepared INSERTs when the server refuses LOCAL INFILE
//! (`load`). The whole load is one transaction: after any error the table is exactly as
//! it was. `restore` loads a backup folder written by `qexport --all`.
//!
//! ```text
//! qimport users < users.csv
//! qimport shop.users part1.csv part2.csv
//! qexport -h old users | qimport -h new users
//! qimport --mode upsert --rejects bad.csv users < changes.csv
//! qimport --swap users < nightly-full.csv
//! qimport --dir backup/2026-11-23
//! ```

mod create;
mod load;
mod parallel;
mod relations;
mod restore;
mod undo;
pub mod validate;

use std::fmt::Write as _;
use std::io::Seek as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Parser, ValueEnum};
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::cli::{mysql_style_args, ServerCsvArgs};
use crate::conn::{db_error, ConnConfig};
use crate::dialect::Dialect;
use crate::error::{main_with, DataError};
use crate::input::{open_all, Input, Source};
use crate::out::Output;
use crate::record::{Reader, Record};
use crate::schema::{ColumnInfo, TableInfo};
use crate::sql::TableName;

use load::{Encoder, Inserter, Kind, Lines, Mode, Row};
use undo::Undo;
use validate::Check;

const EXAMPLES: &str = "\
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
#[command(name = "qimport", version, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Target table: TABLE or DATABASE.TABLE
    #[arg(value_name = "TABLE", required_unless_present = "dir")]
    table: Option<String>,

    /// CSV files to load, each with its own header row [default: stdin]
    ///
    /// `-` is stdin. All files load in the same transaction.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// LOAD DATA LOCAL INFILE, INSERT batches, or auto [default: auto]
    ///
    /// auto uses LOAD DATA when the server has local_infile on, and says on stderr which
    /// method ran and why.
    #[arg(long, value_enum, default_value_t = Method::Auto, hide_default_value = true)]
    method: Method,

    /// What a duplicate key does: insert (error), ignore, replace, upsert [default: insert]
    ///
    /// upsert updates the loaded columns of the existing row (ON DUPLICATE KEY UPDATE).
    #[arg(long, value_enum, default_value_t = Mode::Insert, hide_default_value = true)]
    mode: Mode,

    /// Stop after N bad records, reporting each [default: 10]
    #[arg(long, value_name = "N", default_value_t = 10, hide_default_value = true, value_parser = clap::value_parser!(u64).range(1..))]
    max_errors: u64,

    /// Check every value, load inside a transaction, roll back: change nothing
    ///
    /// The server takes the rows as the real run would (duplicate keys, CHECK constraints
    /// and foreign keys are tried), then everything is rolled back. A table that cannot
    /// roll back (MyISAM) only has its values checked, and the summary says so.
    #[arg(long)]
    dry_run: bool,

    /// Write bad records to FILE (CSV, with a qimport_error column) and load the rest
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,

    /// Empty the table first (DELETE, inside the same transaction)
    #[arg(long, conflicts_with = "swap")]
    truncate: bool,

    /// Load into a new copy of the table, then RENAME it over the old one atomically
    ///
    /// Readers see the old table until the new one is complete, never an empty or half
    /// table. For nightly full reloads. The old table is dropped. A new copy left by an
    /// import killed outright (SIGKILL) is dropped by the next --swap or -j import of the
    /// table. Example: qimport --swap shop.users users.csv
    #[arg(long)]
    swap: bool,

    /// Let --truncate and --mode replace delete rows that other tables' foreign keys refer to
    ///
    /// Without it such an import is refused: the foreign key's ON DELETE action would run
    /// and touch the other table (CASCADE deletes its rows, SET NULL clears them).
    /// Example: qimport --truncate --cascade-deletes parent < parent.csv
    #[arg(long)]
    cascade_deletes: bool,

    /// Restore a backup folder written by qexport --all -o DIR
    #[arg(long, value_name = "DIR", conflicts_with_all = ["table", "files", "swap", "truncate", "columns", "rejects"])]
    dir: Option<PathBuf>,

    /// Names for the fields, in order (for a file without a header, with -n)
    ///
    /// Example: -n --columns id,name,email
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    columns: Option<Vec<String>>,

    /// Skip header fields that are not columns of the table instead of failing
    #[arg(long)]
    ignore_extra: bool,

    /// Create the table from the header when it does not exist (conservative types)
    ///
    /// Types come from every value: INT/BIGINT for canonical integers only (007 stays
    /// text), DECIMAL(p,s), DATE, DATETIME(fsp), else VARCHAR(n) or TEXT; all nullable, no
    /// key. A failed load drops the table again.
    #[arg(long, conflicts_with_all = ["schema", "dir"])]
    create: bool,

    /// Create the table with the CREATE TABLE statement in FILE when it does not exist
    #[arg(long, value_name = "FILE", conflicts_with = "dir")]
    schema: Option<PathBuf>,

    /// Load over N connections (LOAD DATA into a staging table, shown in one step)
    ///
    /// A file is cut into N runs of records, each read, checked and sent by a thread and
    /// connection of its own (other input: blocks from one reader, which the connections
    /// take in turn), each loading into a staging copy of the table; when all are done the
    /// rows appear at once: by one atomic RENAME when the table was empty (or --truncate)
    /// and no foreign key or trigger involves it, else by one INSERT ... SELECT
    /// transaction. The staging table of an import killed outright (SIGKILL) is dropped by
    /// the next -j or --swap import of the table. Example: qimport -j 2 shop.users users.csv
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,

    /// Print nothing on success (by default one summary line goes to stderr)
    #[arg(short = 'q', long)]
    quiet: bool,

    #[command(flatten)]
    common: ServerCsvArgs,
}

/// A validated import job.
#[derive(Debug, Clone)]
pub struct Config {
    table: Option<TableName>,
    database: String,
    files: Vec<PathBuf>,
    dialect: Dialect,
    conn: ConnConfig,
    method: Method,
    mode: Mode,
    max_errors: u64,
    dry_run: bool,
    rejects: Option<PathBuf>,
    truncate: bool,
    swap: bool,
    cascade_deletes: bool,
    dir: Option<PathBuf>,
    columns: Option<Vec<String>>,
    ignore_extra: bool,
    create: bool,
    schema: Option<PathBuf>,
    jobs: usize,
    quiet: bool,
    /// What a restore accepts beyond a plain import (none for a plain import).
    lenient: validate::Lenience,
}

/// Session settings for loading: strict (bad values are errors, not warnings), an explicit
/// 0 in an AUTO_INCREMENT column stays 0, and no silent engine substitution.
const SESSION_SQL_MODE: &str =
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
        })
    }
}

/// The method that will run, and why (for the summary line).
fn choose_method(cfg: &Config, conn: &mut Conn) -> anyhow::Result<(Method, String)> {
    let local: Option<i64> = conn
        .query_first("SELECT @@local_infile")
        .map_err(db_error)?;
    let allowed = local == Some(1);
    Ok(match cfg.method {
        Method::Insert => (Method::Insert, "INSERT batches (--method insert)".into()),
        Method::LoadData if !allowed => {
            bail!("--method load-data: the server has local_infile off (SET GLOBAL local_infile = 1, or use --method insert)")
        }
        Method::LoadData | Method::Auto if allowed => {
            (Method::LoadData, "LOAD DATA LOCAL INFILE".into())
        }
        _ => (
            Method::Insert,
            "INSERT batches: the server has local_infile off".into(),
        ),
    })
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = cfg.conn.connect(&[SESSION_SQL_MODE])?;
    // What Ctrl-C or SIGTERM undoes: the tables this run makes, its sessions' work.
    let (undo, _undo) = Undo::new(&cfg.conn, cfg.quiet, &conn);
    if let Some(dir) = &cfg.dir {
        return restore::run(cfg, &mut conn, dir, &undo);
    }
    let Some(name) = &cfg.table else {
        bail!("give a TABLE or --dir DIR");
    };
    let full = TableName {
        database: Some(cfg.database.clone()),
        table: name.table.clone(),
    };
    let (inputs, created) = prepare_table(cfg, &mut conn, &full, &undo)?;
    let result = import(cfg, &mut conn, &full, inputs, &undo, created);
    if created && result.is_err() {
        undo::drop_tables(&cfg.conn, &mut conn, std::slice::from_ref(&full));
    }
    result
}

/// With `--create` or `--schema`, make a missing table (for `undo` to drop on an
/// interrupt); returns the inputs to load (for `--create`, read from the start again) and
/// whether the table was created here.
fn prepare_table(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    undo: &Undo,
) -> anyhow::Result<(Vec<Input>, bool)> {
    let exists: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&cfg.database, &t.table),
        )
        .map_err(db_error)?;
    if exists.is_some() || !(cfg.create || cfg.schema.is_some()) {
        return Ok((open_all(&cfg.files)?, false));
    }
    if let Some(file) = &cfg.schema {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let what = format!("--schema {}", file.display());
        let sql = crate::sql::single_statement(&what, &text)?;
        if !crate::sql::starts_with_words(sql, &["CREATE", "TABLE"]) {
            bail!("{what}: expected one CREATE TABLE statement");
        }
        conn.query_drop(sql)
            .map_err(db_error)
            .with_context(|| format!("--schema {}", file.display()))?;
        undo.table(t);
        return Ok((open_all(&cfg.files)?, true));
    }
    // --create: read everything once to infer the types, then load it. A regular file is
    // read twice; anything else is spooled to a temporary file without a name (nothing is
    // left behind, however the run ends).
    let mut spooled = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut cols: Vec<create::Inferred> = Vec::new();
    for input in open_all(&cfg.files)? {
        let (mut file, start) = match input.reader {
            Source::File(mut f) => {
                let start = f.stream_position()?;
                (f, start)
            }
            mut other => {
                let mut tmp = tempfile::tempfile().context("--create: spooling the input")?;
                std::io::copy(&mut other, &mut tmp)
                    .with_context(|| format!("reading {}", input.name))?;
                tmp.rewind()?;
                (tmp, 0)
            }
        };
        let (n, c) = create::infer(file.try_clone()?, &cfg.dialect, cfg.columns.as_deref())
            .with_context(|| input.name.clone())?;
        file.seek(std::io::SeekFrom::Start(start))?;
        for (name, inf) in n.into_iter().zip(c) {
            if let Some(i) = names.iter().position(|x| x.eq_ignore_ascii_case(&name)) {
                cols[i].merge(&inf);
            } else {
                names.push(name);
                cols.push(inf);
            }
        }
        spooled.push(Input {
            name: input.name,
            reader: Source::File(file),
        });
    }
    let sql = create::create_sql(t, &names, &cols)?;
    if cfg.dry_run {
        bail!("--dry-run with --create: the table would be created as:\n{sql}");
    }
    conn.query_drop(&sql)
        .map_err(db_error)
        .context("--create")?;
    // Registered once made: a table that was there first is never the undo's to drop.
    undo.table(t);
    if !cfg.quiet {
        eprintln!(
            "qimport: created {t}: {}",
            sql.replace('\n', " ").replace("  ", " ")
        );
    }
    Ok((spooled, true))
}

fn import(
    cfg: &Config,
    conn: &mut Conn,
    name: &TableName,
    inputs: Vec<Input>,
    undo: &Undo,
    created: bool,
) -> anyhow::Result<ExitCode> {
    let info = TableInfo::load(conn, &cfg.database, &name.table)?;
    // Only a load straight into the table leaves rows behind (work tables are dropped).
    let straight = !cfg.swap && cfg.jobs <= 1 && !cfg.dry_run;
    if let Some(e) = info.engine.as_deref().filter(|_| !info.transactional()) {
        if straight {
            eprintln!(
                "qimport: warning: {} uses ENGINE={e}, which cannot roll back: a failed import may leave some rows behind",
                info.name
            );
        }
    }
    relations::Relations::load(conn, &info.name)?.check(
        &info.name,
        cfg.truncate,
        cfg.swap,
        cfg.mode,
        cfg.cascade_deletes,
    )?;
    let (method, how) = choose_method(cfg, conn)?;
    let parallel = cfg.jobs > 1 && method == Method::LoadData && !cfg.dry_run && !cfg.swap;
    if cfg.jobs > 1 && !parallel {
        eprintln!("qimport: --jobs needs LOAD DATA and no --swap or --dry-run: loading over one connection");
    }
    let summary = if parallel {
        parallel::run(cfg, conn, &info, inputs, undo)?
    } else if cfg.swap && !cfg.dry_run {
        load_swapped(cfg, conn, &info, method, inputs, undo)?
    } else {
        // A dry run loads as the real run would (a --swap's new copy holds only the new
        // rows, as after --truncate) and rolls back; a table that cannot roll back only
        // has its values checked.
        let check_only = cfg.dry_run && !info.transactional();
        let mut job = Job::new(cfg, conn, &info, info.name.clone(), method)?;
        job.check_only = check_only;
        if created {
            job.failed_note = format!("nothing was loaded, and {} was dropped again", info.name);
        }
        job.conn.query_drop("START TRANSACTION").map_err(db_error)?;
        if (cfg.truncate || cfg.swap) && !check_only {
            job.conn
                .query_drop(format!("DELETE FROM {}", info.name.quoted()))
                .map_err(db_error)?;
        }
        let result = inputs.into_iter().try_for_each(|i| job.load_input(i));
        let summary = job.finish(result)?;
        if cfg.dry_run {
            conn.query_drop("ROLLBACK").map_err(db_error)?;
        } else {
            undo.disarmed(|| conn.query_drop("COMMIT"))
                .map_err(db_error)
                .context("committing the transaction")?;
        }
        summary
    };
    if !cfg.quiet {
        if cfg.dry_run && !info.transactional() {
            eprintln!(
                "qimport: {}: dry run: {} are valid (values only: ENGINE={} cannot roll back, so keys and constraints were not tried); nothing was changed",
                info.name,
                plural(summary.rows, "record"),
                info.engine.as_deref().unwrap_or_default()
            );
        } else if cfg.dry_run {
            eprintln!(
                "qimport: {}: dry run: {} are valid and the server took them ({how}); rolled back, nothing was changed",
                info.name,
                plural(summary.rows, "record")
            );
        } else {
            eprintln!(
                "qimport: {}: {} loaded ({how}){}",
                info.name,
                plural(summary.rows, "row"),
                summary.note
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--swap`: load into a new copy, then swap it in with one atomic RENAME.
fn load_swapped(
    cfg: &Config,
    conn: &mut Conn,
    info: &TableInfo,
    method: Method,
    inputs: Vec<Input>,
    undo: &Undo,
) -> anyhow::Result<Summary> {
    let t = &info.name;
    let fresh = work_table(cfg, conn, t, "new")?;
    undo.table(&fresh);
    create_work_table(conn, &fresh, t).context("--swap: creating the new copy of the table")?;
    let loaded = (|| {
        conn.query_drop("START TRANSACTION").map_err(db_error)?;
        let mut job = Job::new(cfg, conn, info, fresh.clone(), method)?;
        let result = inputs.into_iter().try_for_each(|i| job.load_input(i));
        let summary = job.finish(result)?;
        if cfg.dry_run {
            bail!("--dry-run with --swap: nothing to swap");
        }
        conn.query_drop("COMMIT").map_err(db_error)?;
        unmark(conn, t, &fresh)?;
        undo.disarmed(|| rename_into_place(conn, t, &fresh))
            .context("--swap")?;
        Ok(summary)
    })();
    match loaded {
        Ok(s) => Ok(s),
        Err(e) => {
            undo::drop_tables(&cfg.conn, conn, std::slice::from_ref(&fresh));
            Err(e)
        }
    }
}

/// The name of a work table of this import beside `t` (`T__qimport_KIND_ID`: the new copy
/// of `--swap`, the staging table of `--jobs`, the old table between RENAME and DROP),
/// after dropping those that killed imports left behind. ID is the connection's id, and
/// the connection holds the server lock `qimport_work_ID` for as long as it lives (the
/// server frees it when the client dies, even by SIGKILL): a work table whose lock is
/// free has no import left to finish it. Nothing is dropped whose owner may be alive.
fn work_table(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    kind: &str,
) -> anyhow::Result<TableName> {
    let lock = |id: &str| format!("qimport_work_{id}");
    let mine = lock(&conn.connection_id().to_string());
    let held: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, 0)", (&mine,))
        .map_err(db_error)?;
    if held != Some(Some(1)) {
        bail!("could not take the server lock {mine}");
    }
    let db = t.database.clone().unwrap_or_default();
    let prefix = work_name(t, "").table;
    // LIKE's wildcards in the name, taken literally.
    let literal: String = prefix
        .chars()
        .flat_map(|c| match c {
            '\\' | '_' | '%' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let like = format!("{literal}%");
    // Only tables qimport marked as its own: a user's table that merely looks like a
    // work table by its name is never dropped.
    let names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ? AND TABLE_COMMENT = ?",
            (&db, &like, WORK_MARK),
        )
        .map_err(db_error)?;
    for name in names {
        let Some((_, owner)) = name.rsplit_once('_') else {
            continue;
        };
        if owner.is_empty() || !owner.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let free: Option<Option<i64>> = conn
            .exec_first("SELECT IS_FREE_LOCK(?)", (lock(owner),))
            .map_err(db_error)?;
        if free == Some(Some(1)) {
            let stale = TableName {
                database: t.database.clone(),
                table: name,
            };
            conn.query_drop(format!("DROP TABLE IF EXISTS {}", stale.quoted()))
                .map_err(db_error)?;
            if !cfg.quiet {
                eprintln!(
                    "qimport: dropped {}, left behind by an import that was killed",
                    stale.quoted()
                );
            }
        }
    }
    Ok(work_name(t, &format!("{kind}_{}", conn.connection_id())))
}

/// The comment that marks a table as a work table of qimport (set once the copy is made,
/// and put back to the original's before the copy is renamed into place).
const WORK_MARK: &str = "qimport work table: dropped by the next import if left behind";

/// Make `work` (a `CREATE TABLE ... LIKE` copy of a table) a work table: named and marked
/// as qimport's own.
fn create_work_table(conn: &mut Conn, work: &TableName, like: &TableName) -> anyhow::Result<()> {
    conn.query_drop(format!(
        "CREATE TABLE {} LIKE {}",
        work.quoted(),
        like.quoted()
    ))
    .map_err(db_error)?;
    conn.query_drop(format!(
        "ALTER TABLE {} COMMENT = {}",
        work.quoted(),
        crate::sql::quote_string(WORK_MARK)
    ))
    .map_err(db_error)
}

/// `T__qimport_TAG`, beside `t`.
fn work_name(t: &TableName, tag: &str) -> TableName {
    TableName {
        database: t.database.clone(),
        table: format!("{}__qimport_{tag}", t.table),
    }
}

/// Put `fresh` in the place of `t` with one atomic RENAME, then drop the old table.
fn rename_into_place(conn: &mut Conn, t: &TableName, fresh: &TableName) -> anyhow::Result<()> {
    let old = work_name(t, &format!("old_{}", conn.connection_id()));
    conn.query_drop(format!(
        "RENAME TABLE {t} TO {o}, {f} TO {t}",
        t = t.quoted(),
        o = old.quoted(),
        f = fresh.quoted()
    ))
    .map_err(db_error)
    .context("renaming the loaded table into place")?;
    conn.query_drop(format!("DROP TABLE {}", old.quoted()))
        .map_err(db_error)
        .context("dropping the old table")
}

/// Before a work table is renamed into the place of `t`: it takes `t`'s own comment back
/// (a metadata change, instant). Not in the disarmed step: an interrupt here still drops
/// the work table.
fn unmark(conn: &mut Conn, t: &TableName, fresh: &TableName) -> anyhow::Result<()> {
    let comment: Option<String> = conn
        .exec_first(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (t.database.clone().unwrap_or_default(), &t.table),
        )
        .map_err(db_error)?;
    conn.query_drop(format!(
        "ALTER TABLE {} COMMENT = {}",
        fresh.quoted(),
        crate::sql::quote_string(&comment.unwrap_or_default())
    ))
    .map_err(db_error)
    .context("giving the loaded table its comment")
}

/// The columns of `layout` (by index) that may take an ENUM's error value `''` in this
/// run: ENUMs without a member `''`, in a restore.
fn error_value_enums(cfg: &Config, layout: &Layout) -> Vec<usize> {
    if !cfg.lenient.enum_error_value {
        return Vec::new();
    }
    layout
        .cols
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.data_type == "enum"
                && !validate::members(&c.column_type)
                    .iter()
                    .any(String::is_empty)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The import's sql_mode without strictness (for the one statement that stores ENUM
/// error values), keeping ALLOW_INVALID_DATES when the restore takes it.
fn lax_sql_mode(cfg: &Config) -> String {
    let mut mode = String::from("'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION");
    if cfg.lenient.invalid_dates {
        mode.push_str(",ALLOW_INVALID_DATES");
    }
    mode.push('\'');
    mode
}

/// `1 row`, `2 rows`.
fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The input-order column of the upsert staging table.
const UPSERT_SEQ: &str = "`__qimport_seq`";

/// What a load did, for the summary line.
struct Summary {
    rows: u64,
    note: String,
}

/// Validation state across the inputs of one import: bad values found, rejects written.
struct Checker<'a> {
    cfg: &'a Config,
    errors: Vec<DataError>,
    rejects: Option<Output>,
    rejected: u64,
    /// The input could not be read on (a quote never closed, say): what follows was not
    /// checked.
    broken: bool,
}

/// An empty vector of values on the allocation of `values`, whatever the record they
/// borrowed from: one allocation serves every record. (Collecting a vector's `into_iter`
/// into a vector of a type of the same size reuses its allocation; were that ever not so,
/// this would only allocate.)
fn recycle<'b>(mut values: Vec<Option<&[u8]>>) -> Vec<Option<&'b [u8]>> {
    values.clear();
    values.into_iter().map(|_| None).collect()
}

/// The record reader over one input.
type CsvReader = Reader<Source>;

/// How the fields of one input map to the table.
struct Layout {
    /// For each CSV field, what becomes of it (None: ignored).
    fields: Vec<Option<Field>>,
    cols: Vec<ColumnInfo>,
    /// Some field is decoded with --binary.
    binary: bool,
}

/// What becomes of one CSV field, decided once per input.
struct Field {
    /// The index of its column in `cols`.
    col: usize,
    check: Check,
    /// Decoded with --binary.
    binary: bool,
    /// May be NULL: the column is nullable, AUTO_INCREMENT or a TIMESTAMP (both of which
    /// the server fills in).
    null_ok: bool,
}

type Emit<'e> = dyn FnMut(&Row<'_>) -> anyhow::Result<()> + 'e;

impl<'a> Checker<'a> {
    fn new(cfg: &'a Config) -> Self {
        Checker {
            cfg,
            errors: Vec::new(),
            rejects: None,
            rejected: 0,
            broken: false,
        }
    }

    /// Enough bad values seen: stop reading (with --rejects, never).
    fn stop(&self) -> bool {
        self.rejects.is_none() && self.errors.len() as u64 >= self.cfg.max_errors
    }

    /// Read, check and emit every record of one input. After the first bad value (without
    /// --rejects) nothing more is emitted, but checking goes on up to --max-errors.
    fn read_records<R: std::io::Read>(
        &mut self,
        name: &str,
        rdr: &mut Reader<R>,
        layout: &Layout,
        emit: &mut Emit<'_>,
    ) -> anyhow::Result<()> {
        let d = &self.cfg.dialect;
        let mut rec = Record::default();
        let mut spare = Vec::new();
        let mut decoded = Vec::new();
        while !self.stop() {
            match rdr.read(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let e = e.in_file(name);
                    match e.downcast::<DataError>() {
                        Ok(de) => {
                            self.errors.push(de);
                            self.broken = true;
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            let values = recycle(std::mem::take(&mut spare));
            match Self::check_record(name, &rec, layout, d, values, &mut decoded) {
                Ok(values) if self.errors.is_empty() || self.rejects.is_some() => {
                    emit(&Row {
                        values: &values,
                        raw: rec.raw(),
                        line: rec.line(),
                    })?;
                    spare = recycle(values);
                }
                Ok(values) => spare = recycle(values),
                Err(e) => self.reject(&rec, e)?,
            }
        }
        Ok(())
    }

    /// The values of one record for the table's columns (None: NULL), each checked; in
    /// `values` (empty), a spare vector, and in `decoded`, the buffers binary values are
    /// decoded into (one per column, reused from record to record).
    fn check_record<'r>(
        name: &str,
        rec: &'r Record,
        layout: &Layout,
        d: &Dialect,
        mut values: Vec<Option<&'r [u8]>>,
        decoded: &'r mut Vec<Vec<u8>>,
    ) -> Result<Vec<Option<&'r [u8]>>, DataError> {
        if rec.len() != layout.fields.len() {
            return Err(DataError::new(
                name,
                rec.line(),
                format!(
                    "expected {} fields (as in the header), found {}",
                    layout.fields.len(),
                    rec.len()
                ),
            ));
        }
        // Binary values are decoded first, so that the rest can borrow them; a value that
        // does not decode is reported in its turn below.
        let mut undecoded = None;
        if layout.binary {
            decoded.resize_with(layout.cols.len(), Vec::new);
            for ((v, quoted), field) in rec.iter().zip(&layout.fields) {
                let Some(f) = field.as_ref().filter(|f| f.binary) else {
                    continue;
                };
                if !d.is_null(v, quoted) {
                    if let Err(e) = d.binary.decode_into(v, &mut decoded[f.col]) {
                        undecoded.get_or_insert((f.col, e));
                    }
                }
            }
        }
        let decoded: &'r [Vec<u8>] = decoded;
        values.resize(layout.cols.len(), None);
        for ((v, quoted), field) in rec.iter().zip(&layout.fields) {
            let Some(f) = field else { continue };
            let bad = |reason: String| {
                DataError::new(name, rec.line(), reason)
                    .column(&layout.cols[f.col].name)
                    .value(Some(v))
            };
            if d.is_null(v, quoted) {
                if !f.null_ok {
                    return Err(bad("NULL in a NOT NULL column".into()).value(Some(b"NULL")));
                }
                continue;
            }
            let value = if f.binary {
                if let Some((_, e)) = undecoded.take_if(|(col, _)| *col == f.col) {
                    return Err(bad(e));
                }
                &decoded[f.col]
            } else {
                v
            };
            f.check.check(value).map_err(bad)?;
            values[f.col] = Some(value);
        }
        Ok(values)
    }

    /// A bad record: into the rejects file, or into the list of errors.
    fn reject(&mut self, rec: &Record, e: DataError) -> anyhow::Result<()> {
        let Some(out) = &mut self.rejects else {
            self.errors.push(e);
            return Ok(());
        };
        let mut line = rec.raw().trim_ascii_end().to_vec();
        line.push(self.cfg.dialect.delimiter);
        let reason = format!(
            "line {}: {}",
            e.line,
            e.to_string().split_once(": ").map_or("", |x| x.1)
        );
        self.cfg.dialect.write_value(&mut line, reason.as_bytes());
        line.push(b'\n');
        out.write_all(&line)?;
        self.rejected += 1;
        Ok(())
    }
}

/// One import into one table (in an open transaction), over any number of inputs.
struct Job<'a> {
    checker: Checker<'a>,
    conn: &'a mut Conn,
    info: &'a TableInfo,
    /// Where rows go: the table, or the new copy with --swap.
    target: TableName,
    method: Method,
    rows: u64,
    skipped: u64,
    replaced: u64,
    /// `--dry-run` on a table that cannot roll back: check the values, send nothing.
    check_only: bool,
    /// What a failure leaves, for its message: by default, nothing changed.
    failed_note: String,
    /// The target's rows before the load, when it cannot roll back (to say what a
    /// failure left in it).
    rows_before: Option<u64>,
}

impl<'a> Job<'a> {
    fn new(
        cfg: &'a Config,
        conn: &'a mut Conn,
        info: &'a TableInfo,
        target: TableName,
        method: Method,
    ) -> anyhow::Result<Self> {
        let rejects = cfg
            .rejects
            .as_deref()
            .map(|p| Output::open(Some(p)))
            .transpose()?;
        // Only a load straight into a table that cannot roll back leaves rows behind: a
        // work table (--swap, -j) is dropped.
        let rows_before = if target == info.name && !info.transactional() && !cfg.dry_run {
            conn.query_first(format!("SELECT COUNT(*) FROM {}", target.quoted()))
                .map_err(db_error)?
        } else {
            None
        };
        Ok(Job {
            failed_note: format!("nothing was loaded: {} is unchanged", info.name),
            checker: Checker {
                rejects,
                ..Checker::new(cfg)
            },
            conn,
            info,
            target,
            method,
            rows: 0,
            skipped: 0,
            replaced: 0,
            check_only: false,
            rows_before,
        })
    }

    /// Map the header (or --columns, or the table's columns) to the table.
    fn layout(&self, name: &str, header: Option<&Record>) -> anyhow::Result<Layout> {
        let cfg = self.checker.cfg;
        let names: Vec<String> = match (&cfg.columns, header) {
            (Some(c), _) => c.clone(),
            (None, Some(h)) => h
                .iter()
                .map(|(v, _)| String::from_utf8_lossy(v).into_owned())
                .collect(),
            (None, None) => self
                .info
                .columns
                .iter()
                .filter(|c| !c.is_generated())
                .map(|c| c.name.clone())
                .collect(),
        };
        let line = header.map_or(1, Record::line);
        let all: Vec<&str> = self.info.columns.iter().map(|c| c.name.as_str()).collect();
        let mut fields = Vec::with_capacity(names.len());
        let mut cols: Vec<ColumnInfo> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            // The name as it is (a column may be named " id"), else without the white
            // space around it (a CSV written as "id, name").
            let col = self
                .info
                .column(n)
                .or_else(|| self.info.column(n.trim()))
                .filter(|c| !c.is_generated());
            match col {
                Some(c) if cols.iter().any(|x| x.name == c.name) => {
                    bail!(
                        "{name}:{line}: column {:?} appears twice in the header",
                        c.name
                    )
                }
                Some(c) => {
                    fields.push(Some(cols.len()));
                    cols.push(c.clone());
                }
                None if cfg.ignore_extra => fields.push(None),
                None => {
                    let why = if self.info.column(n).is_some() {
                        "is a generated column"
                    } else {
                        "is not a column of"
                    };
                    bail!(
                        "{name}:{line}: header field {} {n:?} {why} {} (its columns: {}; --ignore-extra skips such fields)",
                        i + 1,
                        self.info.name,
                        all.join(", ")
                    );
                }
            }
        }
        if cols.is_empty() {
            bail!(
                "{name}:{line}: no field of the header is a column of {}",
                self.info.name
            );
        }
        let missing: Vec<&str> = self
            .info
            .columns
            .iter()
            .filter(|c| {
                !c.has_default
                    && !c.is_auto_increment()
                    && !c.is_generated()
                    && c.data_type != "timestamp"
            })
            .filter(|c| !cols.iter().any(|x| x.name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{name}:{line}: the table's NOT NULL column(s) without a default are missing from the header: {}",
                missing.join(", ")
            );
        }
        let fields = fields
            .into_iter()
            .map(|j| {
                j.map(|col| {
                    let c = &cols[col];
                    Field {
                        col,
                        check: Check::for_column(c).lenient(cfg.lenient),
                        binary: Kind::of(c) == Kind::Binary,
                        null_ok: c.nullable || c.is_auto_increment() || c.data_type == "timestamp",
                    }
                })
            })
            .collect::<Vec<_>>();
        let binary = fields.iter().flatten().any(|f| f.binary);
        Ok(Layout {
            fields,
            cols,
            binary,
        })
    }

    /// Open one input: its reader, past the header, and how its fields map to the table
    /// (writing the header line of --rejects).
    fn open_input(&mut self, input: Input) -> anyhow::Result<(String, CsvReader, Layout)> {
        let name = input.name;
        let d = &self.checker.cfg.dialect;
        let mut rdr = Reader::new(input.reader, d.delimiter).strict(true);
        let mut header = None;
        if d.header {
            let mut rec = Record::default();
            if !rdr.read(&mut rec).map_err(|e| e.in_file(&name))? {
                bail!("{name}: empty input: expected a header row (use -n if there is none)");
            }
            header = Some(rec);
        }
        let layout = self.layout(&name, header.as_ref())?;
        if header.is_none() {
            rdr = rdr.expect_width(layout.fields.len());
        }
        if let (Some(r), Some(h)) = (&mut self.checker.rejects, &header) {
            let mut line = h.raw().trim_ascii_end().to_vec();
            line.push(d.delimiter);
            line.extend_from_slice(b"qimport_error\n");
            r.write_all(&line)?;
        }
        Ok((name, rdr, layout))
    }

    fn load_input(&mut self, input: Input) -> anyhow::Result<()> {
        if self.checker.stop() {
            return Ok(());
        }
        let (name, mut rdr, layout) = self.open_input(input)?;
        match self.method {
            _ if self.check_only => {
                let mut n = 0;
                self.checker
                    .read_records(&name, &mut rdr, &layout, &mut |_| {
                        n += 1;
                        Ok(())
                    })?;
                self.rows += n;
                Ok(())
            }
            Method::Insert => self.insert(&name, &mut rdr, &layout),
            Method::LoadData | Method::Auto => self.load_data(&name, &mut rdr, &layout),
        }
    }

    /// Load one input with INSERT batches.
    fn insert(&mut self, name: &str, rdr: &mut CsvReader, layout: &Layout) -> anyhow::Result<()> {
        let mode = self.checker.cfg.mode;
        let mut ins = Inserter::new(self.conn, self.target.clone(), layout.cols.clone(), mode);
        let mut refused = None;
        let res = self.checker.read_records(name, rdr, layout, &mut |row| {
            ins.row(row.values, row.line).map_err(|r| {
                refused = Some(r);
                anyhow!("refused")
            })
        });
        let res = res.and_then(|()| {
            if refused.is_none() {
                ins.flush().map_err(|r| {
                    refused = Some(r);
                    anyhow!("refused")
                })
            } else {
                Ok(())
            }
        });
        let (sent, skipped) = (ins.rows, ins.skipped);
        if let Some(r) = refused {
            let mut e = DataError::new(name, r.line, r.message);
            if let Some(c) = &r.column {
                e = e.column(c).value(r.value.as_deref());
            }
            self.checker.errors.push(e);
            return Ok(());
        }
        res?;
        self.rows += sent;
        self.skipped += skipped;
        Ok(())
    }

    /// Stream one input with LOAD DATA (through a temporary staging table for upserts).
    fn load_data(
        &mut self,
        name: &str,
        rdr: &mut CsvReader,
        layout: &Layout,
    ) -> anyhow::Result<()> {
        let mode = self.checker.cfg.mode;
        let stage = TableName {
            database: None,
            table: format!("_qimport_stage_{}", std::process::id()),
        };
        let cols: Vec<String> = layout.cols.iter().map(|c| c.name.clone()).collect();
        let into = if mode == Mode::Upsert {
            // The loaded columns with their types but none of the table's keys (a file may
            // repeat a key), numbered in input order so that the merge applies them in
            // that order: the later record wins, as with --method insert.
            self.conn
                .query_drop(format!(
                    "CREATE TEMPORARY TABLE {} ({UPSERT_SEQ} BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY) \
                     SELECT {} FROM {} LIMIT 0",
                    stage.quoted(),
                    load::column_list(&cols),
                    self.target.quoted()
                ))
                .map_err(db_error)?;
            stage.clone()
        } else {
            self.target.clone()
        };
        let stream = format!("qimport-{}-{}", std::process::id(), self.rows);
        let mut sql = load::load_data_sql(
            &stream,
            &into,
            &layout.cols,
            if mode == Mode::Upsert {
                Mode::Insert
            } else {
                mode
            },
        );
        // A restore may hold an ENUM's error value '', which only a non-strict statement
        // stores (with a warning each: counted below, and nothing else may warn).
        let error_enums = error_value_enums(self.checker.cfg, layout);
        if !error_enums.is_empty() {
            sql = format!(
                "SET STATEMENT sql_mode = {} FOR {sql}",
                lax_sql_mode(self.checker.cfg)
            );
        }
        let mut lines = Lines::default();
        let mut empties = 0u64;
        let checker = &mut self.checker;
        let (res, loaded) = load::load_stream(self.conn, &stream, &sql, |send| {
            let mut enc = Encoder::new(send, &layout.cols);
            checker
                .read_records(name, rdr, layout, &mut |row| {
                    lines.push(row.line);
                    empties += error_enums
                        .iter()
                        .filter(|&&i| row.values[i] == Some(&b""[..]))
                        .count() as u64;
                    enc.row(row)
                })
                .and_then(|()| enc.flush())
        })?;
        let () = res;
        if !self.checker.errors.is_empty() {
            return Ok(());
        }
        let mut loaded = loaded;
        if empties > 0 {
            loaded.expect_enum_error_values(empties);
        }
        load::verify(&loaded, lines.rows(), mode, &lines).map_err(|e| anyhow!("{name}: {e}"))?;
        self.skipped += loaded.skipped;
        self.replaced += loaded.deleted;
        if mode == Mode::Upsert {
            let l = load::column_list(&cols);
            let sql = load::insert_sql(
                Mode::Upsert,
                &self.target,
                &cols,
                &format!("SELECT {l} FROM {} ORDER BY {UPSERT_SEQ}", stage.quoted()),
            );
            self.conn
                .query_drop(sql)
                .map_err(db_error)
                .context("upsert: merging the staged rows")?;
            self.conn
                .query_drop(format!("DROP TEMPORARY TABLE {}", stage.quoted()))
                .map_err(db_error)?;
        }
        self.rows += lines.rows();
        Ok(())
    }

    /// End the import: report bad values (the caller rolls back) or the summary.
    /// Take what the runs of one split input gave (see `parallel::Split`): their bad
    /// values in input order, as one reader would have met them (none past a run that
    /// could not be read on), or else their rows, once each run's count checks.
    fn take_parts(
        &mut self,
        name: &str,
        parts: &[parallel::Part],
        mode: Mode,
    ) -> anyhow::Result<()> {
        let mut errors = Vec::new();
        for p in parts {
            errors.extend(p.errors.iter().cloned());
            if p.broken {
                break;
            }
        }
        errors.sort_by_key(|e| e.line);
        errors.truncate(usize::try_from(self.checker.cfg.max_errors).unwrap_or(usize::MAX));
        if !errors.is_empty() {
            self.checker.errors.extend(errors);
            return Ok(());
        }
        for p in parts {
            load::verify(&p.loaded, p.rows, mode, &Lines::default())
                .map_err(|e| anyhow!("{name}: {e}"))?;
            self.rows += p.rows;
            self.skipped += p.loaded.skipped;
        }
        Ok(())
    }

    /// What a failure left in the table, in words: nothing, or (for a table that cannot
    /// roll back) the rows the server took before it.
    fn after_failure(&mut self) -> String {
        let _ = self.conn.query_drop("ROLLBACK");
        let Some(before) = self.rows_before else {
            return self.failed_note.clone();
        };
        let now: Option<u64> = self
            .conn
            .query_first(format!("SELECT COUNT(*) FROM {}", self.target.quoted()))
            .ok()
            .flatten();
        let engine = self.info.engine.as_deref().unwrap_or_default();
        let emptied = if self.checker.cfg.truncate {
            "--truncate emptied it and "
        } else {
            ""
        };
        match now {
            Some(n) if n == before && emptied.is_empty() => self.failed_note.clone(),
            Some(n) => format!(
                "{} cannot roll back (ENGINE={engine}): {emptied}it now has {} ({} before)",
                self.info.name,
                plural(n, "row"),
                before
            ),
            None => format!(
                "{} cannot roll back (ENGINE={engine}): rows sent before the error may remain",
                self.info.name
            ),
        }
    }

    fn finish(mut self, result: anyhow::Result<()>) -> anyhow::Result<Summary> {
        if let Some(r) = self.checker.rejects.take() {
            if result.is_err() || !self.checker.errors.is_empty() {
                // A failed load wrote no rejects worth keeping: no header-only file.
                r.abort("qimport", "the load failed");
            } else {
                r.finish()?;
            }
        }
        if let Err(e) = result {
            let unchanged = self.after_failure();
            return Err(anyhow!("{e:#} ({unchanged})"));
        }
        let errors = std::mem::take(&mut self.checker.errors);
        if let Some(last) = errors.last() {
            let unchanged = self.after_failure();
            if errors.len() == 1 {
                return Err(anyhow!("{last} ({unchanged})"));
            }
            for e in &errors {
                eprintln!("qimport: {e}");
            }
            let more = if errors.len() as u64 >= self.checker.cfg.max_errors {
                format!(" (stopped at --max-errors {})", self.checker.cfg.max_errors)
            } else {
                String::new()
            };
            return Err(anyhow!(
                "{}{more}; {unchanged}",
                plural(errors.len() as u64, "bad record")
            ));
        }
        let mut note = String::new();
        if self.skipped > 0 {
            let _ = write!(note, "; {} duplicates skipped", self.skipped);
        }
        if self.replaced > 0 {
            let _ = write!(note, "; {} existing rows replaced", self.replaced);
        }
        if self.checker.rejected > 0 {
            let _ = write!(
                note,
                "; {} bad records written to {}",
                self.checker.rejected,
                self.checker
                    .cfg
                    .rejects
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
        Ok(Summary {
            // Rows in the table now: a skipped duplicate is not loaded.
            rows: self.rows - self.skipped,
            note,
        })
    }
}

pub fn main() -> ExitCode {
    main_with("qimport", || {
        run(&Config::from_args(Args::parse_from(mysql_style_args()))?)
    })
}
