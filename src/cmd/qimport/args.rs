//! qimport's flags and their validation: `Args` (clap) to `Config`, where every refused
//! combination is refused with its reason.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, ValueEnum};
use qtools_csv::dialect::{BinaryEncoding, Dialect};

use crate::cli::ServerCsvArgs;
use crate::conn::ConnConfig;
use crate::encoding::Encoding;
use crate::progress::{Progress, Show};
use crate::sql::TableName;

use super::choices::{Definer, Ledger, LedgerAction, Method, Mode, OldRows, Origin, Target};
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
  qimport --ledger ops.ledger events /data/in/*.csv  # each file once, whatever runs beside
  timeout 2h qimport --swap users < nightly.csv  # on SIGTERM or Ctrl-C: rolled back,
                                                 # work tables dropped, users as it was";

/// Load CSV into a MySQL/MariaDB table: every value checked first, then all rows or none.
#[derive(Parser, Debug)]
#[command(name = "qimport", version = crate::cli::VERSION, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Target table: TABLE or DATABASE.TABLE
    #[arg(value_name = "TABLE", required_unless_present_any = ["dir", "status"])]
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

    /// Stop at the N-th bad record, reporting each [default: 10]
    ///
    /// Any bad record fails the load; N is how many are reported first. With --rejects,
    /// bad records are set aside instead, and a --max-errors given explicitly still fails
    /// the load (and changes nothing) at the N-th. Example: --rejects bad.csv --max-errors 100
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) max_errors: Option<u64>,

    /// Check every value, load inside a transaction, roll back: change nothing
    ///
    /// The server takes the rows as the real run would (duplicate keys, CHECK constraints
    /// and foreign keys are tried), then everything is rolled back. A table that cannot
    /// roll back (MyISAM) only has its values checked, and the summary says so.
    #[arg(long)]
    pub(super) dry_run: bool,

    /// Load each FILE exactly once: a job queue in the table [DB.]LEDGER (made on first use)
    ///
    /// Each file is its own all-or-nothing load, known by the SHA-256 of its bytes (x.csv
    /// and x.csv.gz are one file); its row in the ledger commits with its rows. Runs at the
    /// same time (cron overlap, several hosts) never load a file twice: a file another
    /// live run holds is skipped, one whose run died is taken over, one done is skipped.
    /// A failed file does not stop the others (exit status 2 at the end). See
    /// docs/ledger.md. Example: qimport --ledger ops.ledger events /data/incoming/*.csv
    #[arg(long, value_name = "[DB.]LEDGER", conflicts_with = "dir")]
    pub(super) ledger: Option<String>,

    /// With --ledger: print the ledger as CSV (newest first) instead of loading
    ///
    /// A row whose run died shows as stale. Example: qimport --ledger ops.ledger --status |
    /// qcount -g status
    #[arg(long, requires = "ledger", conflicts_with_all = ["retry", "watch", "table", "files"])]
    pub(super) status: bool,

    /// With --ledger: set the FILEs (or SHA-256 sums) loaded into TABLE back to new
    ///
    /// The next run loads them again (after the table was emptied on purpose, say).
    /// Example: qimport --ledger ops.ledger --retry events /data/done/monday.csv
    #[arg(long, requires = "ledger", conflicts_with = "watch")]
    pub(super) retry: bool,

    /// With --ledger: keep running, loading each file that appears in DIR
    ///
    /// Names starting with '.' or ending in .tmp or .part are left alone: a producer writes
    /// under such a name and renames the file into place when it is whole. SIGTERM or
    /// Ctrl-C rolls back the file being loaded and ends the run with status 0. Example:
    /// qimport --ledger ops.ledger --watch /data/incoming --done-dir /data/done events
    #[arg(
        long,
        value_name = "DIR",
        requires = "ledger",
        conflicts_with = "files"
    )]
    pub(super) watch: Option<PathBuf>,

    /// With --ledger: move each loaded file into DIR once its rows are committed
    ///
    /// Example: --done-dir /data/done
    #[arg(long, value_name = "DIR", requires = "ledger")]
    pub(super) done_dir: Option<PathBuf>,

    /// With --ledger: move each file that failed into DIR
    ///
    /// Example: --error-dir /data/failed
    #[arg(long, value_name = "DIR", requires = "ledger")]
    pub(super) error_dir: Option<PathBuf>,

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

    /// Let --truncate, --mode replace and --mode upsert run other tables' foreign-key actions
    ///
    /// Deleting or changing rows that other tables' foreign keys refer to runs the key's
    /// ON DELETE or ON UPDATE action, which touches the other table (CASCADE deletes or
    /// changes its rows, SET NULL clears them). Without --cascade such an import is
    /// refused, and so it is when this user cannot see every foreign key (that needs the
    /// PROCESS privilege). --cascade-deletes is the old name.
    /// Example: qimport --truncate --cascade parent < parent.csv
    #[arg(long, alias = "cascade-deletes")]
    pub(super) cascade: bool,

    /// Wait at most SECONDS for a lock the import needs, then fail [default: 60]
    ///
    /// A load, a --truncate and the DDL of --swap, -j and --dir wait for the locks other
    /// sessions hold on the table (a long transaction, LOCK TABLES, a backup's lock):
    /// without a bound, the server's default of a year. Nothing is changed when the
    /// wait ends. Example: --lock-wait-timeout 600
    #[arg(long, value_name = "SECONDS", default_value_t = 60, hide_default_value = true, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub(super) lock_wait_timeout: u64,

    /// Restore a backup folder written by qexport --all -o DIR
    #[arg(long, value_name = "DIR", conflicts_with_all = ["table", "files", "swap", "truncate", "columns", "rejects"])]
    pub(super) dir: Option<PathBuf>,

    /// With --dir: keep each object's DEFINER, or make it the restoring user [default: keep]
    ///
    /// A view, routine, trigger or event whose DEFINER has no account on this server
    /// restores, then fails with ERROR 1449 when used; qimport names them. Example:
    /// qimport --dir backup/mon --definer current-user
    #[arg(long, value_enum, value_name = "WHO", requires = "dir", default_value_t = Definer::Keep, hide_default_value = true)]
    pub(super) definer: Definer,

    /// With --dir: drop what a restore into this database that was killed left, then restore
    ///
    /// A restore cut short where nothing could take it back (the server died, or qimport
    /// was killed with SIGKILL) leaves what it made, named in its mark (a table
    /// `__qimport_restore_ID`). The next restore refuses and names them; look, then run it
    /// again with this flag: it drops those that its own backup holds. Example:
    /// qimport --dir backup/mon --drop-leftovers
    #[arg(long, requires = "dir")]
    pub(super) drop_leftovers: bool,

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

    /// Keep every index during the load (by default secondary indexes of a table nobody
    /// sees yet are built once, after the rows)
    ///
    /// Where the table is new or unseen until the load is done (the copy of --swap, the
    /// staging table of -j when it is renamed into place, a table made by --create,
    /// --schema or --dir), its secondary B-tree keys are added back in one ALTER TABLE
    /// after the rows: a sorted build, 1.5-3x faster than inserting into every index row
    /// by row. The build needs temporary disk of about the indexes' size (tmpdir and
    /// InnoDB's sort files); this flag turns it off, for a server short of it, or to
    /// compare. Example: qimport --swap --no-defer-indexes users users.csv
    #[arg(long)]
    pub(super) no_defer_indexes: bool,

    #[command(flatten)]
    input: crate::cli::InputArgs,

    /// Print nothing on success (by default one summary line goes to stderr)
    #[arg(short = 'q', long)]
    pub(super) quiet: bool,

    /// Progress even when stderr is not a terminal: a plain line every few seconds, for
    /// cron and systemd logs. Example: qimport --progress events big.csv 2>>load.log
    #[arg(long, conflicts_with = "quiet")]
    pub(super) progress: bool,

    #[command(flatten)]
    pub(super) common: ServerCsvArgs,
}

/// A validated import job.
#[derive(Debug, Clone)]
pub struct Config {
    pub(super) target: Target,
    pub(super) database: String,
    pub(super) files: Vec<PathBuf>,
    pub(super) dialect: Dialect,
    pub(super) conn: ConnConfig,
    pub(super) method: Method,
    pub(super) mode: Mode,
    /// Bad records reported before the load stops (see `--max-errors`).
    pub(super) max_errors: u64,
    /// With `--rejects`: the bad record at which the load fails anyway (`--max-errors`
    /// given), or `None`: any number (but a load in which every record is bad fails).
    pub(super) rejects_limit: Option<u64>,
    pub(super) dry_run: bool,
    pub(super) rejects: Option<PathBuf>,
    pub(super) old_rows: OldRows,
    pub(super) cascade: bool,
    pub(super) columns: Option<Vec<String>>,
    pub(super) ignore_extra: bool,
    pub(super) origin: Origin,
    pub(super) ledger: Option<Ledger>,
    pub(super) jobs: usize,
    /// Secondary indexes of an unseen table built after its rows (see `defer`).
    pub(super) defer_indexes: bool,
    pub(super) quiet: bool,
    /// Rows and bytes as they are read (shared by every reader of the run).
    pub(super) progress: Progress,
    /// The statements every session of the import starts with: its sql_mode and its
    /// lock wait timeout.
    pub(super) session: Vec<String>,
    /// The inputs' encoding.
    pub(super) encoding: crate::encoding::Encoding,
    /// What a restore accepts beyond a plain import (none for a plain import).
    pub(super) lenient: validate::Lenience,
    pub(super) definer: Definer,
    /// With --dir: drop what a killed restore into the database left (its mark names).
    pub(super) drop_leftovers: bool,
}

/// Session settings for loading: strict (bad values are errors, not warnings), an explicit
/// 0 in an AUTO_INCREMENT column stays 0, and no silent engine substitution.
pub(super) const SESSION_SQL_MODE: &str =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

impl Config {
    /// A new session of the import, set as [`Config::session`] says.
    pub(super) fn connect(&self) -> anyhow::Result<mysql::Conn> {
        let init: Vec<&str> = self.session.iter().map(String::as_str).collect();
        self.conn.connect(&init)
    }
}

/// `--ledger [DB.]LEDGER` and its companions, checked: what cannot work per file is refused
/// here, with its reason.
fn ledger_of(name: &str, args: &Args, database: &str) -> anyhow::Result<Ledger> {
    let mut table = TableName::parse(name)?;
    table.database.get_or_insert_with(|| database.to_owned());
    let action = match (&args.watch, args.status, args.retry) {
        (_, true, _) => LedgerAction::Status,
        (_, _, true) => LedgerAction::Retry,
        (Some(dir), ..) => LedgerAction::Watch(dir.clone()),
        _ => LedgerAction::Load,
    };
    if action == LedgerAction::Load && args.files.is_empty() {
        bail!("--ledger knows each file by its bytes, read before the load: give FILEs or --watch DIR (stdin can be read only once)");
    }
    if args.files.iter().any(|f| f.as_os_str() == "-") {
        bail!("--ledger knows each file by its bytes, read before the load: stdin (-) can be read only once");
    }
    if args.truncate || args.swap {
        bail!(
            "{} with --ledger: each file is a load of its own, and would empty the table of the files loaded before it; empty the table first (DELETE), then load",
            if args.truncate { "--truncate" } else { "--swap" }
        );
    }
    if let LedgerAction::Watch(dir) = &action {
        if !dir.is_dir() {
            bail!("--watch {}: no such folder", dir.display());
        }
        if args.dry_run {
            bail!(
                "--dry-run with --watch: a dry run checks FILEs once; give them instead of --watch"
            );
        }
    }
    if args.jobs > 1 {
        bail!("-j with --ledger: the -j publish step cannot commit the ledger row with the rows; load each file over one connection (run several qimport --ledger at once instead: they share the files)");
    }
    if matches!(action, LedgerAction::Watch(_)) && args.create {
        bail!("--watch with --create: the table must exist before the first file (make it, or give --schema FILE)");
    }
    if let Some(r) = &args.rejects {
        if !r.is_dir() {
            bail!(
                "--rejects {} with --ledger: give a folder, where each file's bad records go to NAME.rejects.csv",
                r.display()
            );
        }
    }
    for dir in [&args.done_dir, &args.error_dir].into_iter().flatten() {
        if !dir.is_dir() {
            bail!(
                "{}: no such folder (for --done-dir or --error-dir)",
                dir.display()
            );
        }
    }
    Ok(Ledger {
        table,
        action,
        done_dir: args.done_dir.clone(),
        error_dir: args.error_dir.clone(),
    })
}

/// Bad records reported before a load stops, unless --max-errors says.
const DEFAULT_MAX_ERRORS: u64 = 10;

/// `--rejects FILE` must not be an input, whatever the path says: the same file by device
/// and inode as a named input or as stdin (`--rejects in.csv < in.csv`, `/dev/stdin`,
/// `/proc/self/fd/0`, a link to the input), which writing the rejects would destroy.
fn rejects_apart(rejects: &std::path::Path, files: &[PathBuf]) -> anyhow::Result<()> {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let Ok(r) = std::fs::metadata(rejects) else {
        return Ok(()); // a new file is no input
    };
    let id = |m: &std::fs::Metadata| (m.dev(), m.ino());
    let stdin = || {
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| std::fs::File::from(fd).metadata().ok())
    };
    let reads_stdin = files.is_empty() || files.iter().any(|f| f.as_os_str() == "-");
    if reads_stdin && stdin().is_some_and(|m| id(&m) == id(&r)) {
        bail!(
            "--rejects {} is the input on stdin: writing it would destroy the input",
            rejects.display()
        );
    }
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        if std::fs::metadata(f).is_ok_and(|m| id(&m) == id(&r)) {
            bail!(
                "--rejects {} is the input file {}: writing it would destroy the input",
                rejects.display(),
                f.display()
            );
        }
    }
    Ok(())
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let mut conn = ConnConfig::resolve(&args.common.conn, "qimport")?;
        // `qimport users.csv`: a file where the table goes (read as database users,
        // table csv, it would fail with "Unknown database").
        if let Some(t) = args.table.as_deref() {
            let ext = t.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            let csv_like = ext
                .as_deref()
                .is_some_and(|e| ["csv", "tsv", "txt", "gz", "zst"].contains(&e));
            // Only where no input is given: a table may share its name with a file in the
            // current folder (`qimport users < data.csv`, with a file ./users there), or
            // be named like one, when the input is there.
            let is_file = std::path::Path::new(t).is_file();
            let waits = std::io::IsTerminal::is_terminal(&std::io::stdin());
            if args.files.is_empty() && ((csv_like && (is_file || waits)) || (is_file && waits)) {
                let stem = std::path::Path::new(t)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split('.').next())
                    .unwrap_or("TABLE");
                bail!("{t} is a file name, and the TABLE comes first: qimport {stem} {t}");
            }
        }
        let table = args.table.as_deref().map(TableName::parse).transpose()?;
        if let Some(db) = table.as_ref().and_then(|t| t.database.clone()) {
            conn.database = Some(db);
        }
        // `--ledger ops.ledger --status`: the ledger's database, when no table names one.
        if let (None, Some(l)) = (&table, args.ledger.as_deref()) {
            if let Some(db) = TableName::parse(l)?.database {
                conn.database.get_or_insert(db);
            }
        }
        let Some(database) = conn.database.clone() else {
            bail!("no database selected: use DATABASE.TABLE, -D DATABASE or --url .../DATABASE");
        };
        if args.dry_run && args.dir.is_some() {
            bail!("--dry-run with --dir: a restore creates tables, which no transaction can take back; restore into a scratch database instead");
        }
        if let Some(r) = &args.rejects {
            rejects_apart(r, &args.files)?;
        }
        if args.jobs > 1 && args.mode != Mode::Insert && args.dir.is_none() {
            bail!(
                "-j {} with --mode {}: a key repeated in the input would be settled by whichever connection comes first, not by input order; load with -j 1",
                args.jobs,
                args.mode.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned())
            );
        }
        let ledger = args
            .ledger
            .as_deref()
            .map(|l| ledger_of(l, &args, &database))
            .transpose()?;
        let target = match (args.dir, table) {
            (Some(dir), _) => Target::Restore(dir),
            (None, Some(t)) => Target::Table(t),
            (None, None) if args.status => Target::Status,
            (None, None) => bail!("give a TABLE or --dir DIR"),
        };
        let old_rows = match (args.truncate, args.swap) {
            (true, _) => OldRows::Delete,
            (_, true) => OldRows::Swap,
            _ => OldRows::Keep,
        };
        let origin = match (args.create, args.schema) {
            (_, Some(file)) => Origin::Schema(file),
            (true, None) => Origin::Create,
            (false, None) => Origin::Exists,
        };
        let dialect = args.common.dialect()?;
        Ok(Config {
            target,
            database,
            files: args.files,
            // Before `dialect` moves.
            encoding: encoding_of(args.input.encoding, &dialect),
            dialect,
            conn,
            method: args.method,
            mode: args.mode,
            max_errors: args.max_errors.unwrap_or(DEFAULT_MAX_ERRORS),
            rejects_limit: args.max_errors.filter(|_| args.rejects.is_some()),
            dry_run: args.dry_run,
            rejects: args.rejects,
            old_rows,
            cascade: args.cascade,
            columns: args.columns,
            ignore_extra: args.ignore_extra,
            origin,
            ledger,
            jobs: usize::from(args.jobs),
            defer_indexes: !args.no_defer_indexes,
            quiet: args.quiet,
            progress: Progress::new("qimport", Show::choose(args.quiet, args.progress, false)),
            session: vec![
                SESSION_SQL_MODE.to_owned(),
                // The server waits on us as long as our input pauses (a pipe from a
                // slow producer): its default 30 s would fail the load.
                "SET SESSION net_read_timeout = 86400".to_owned(),
                format!("SET SESSION lock_wait_timeout = {}", args.lock_wait_timeout),
                // A row another transaction holds: InnoDB's own wait (50 s by default).
                format!(
                    "SET SESSION innodb_lock_wait_timeout = {}",
                    args.lock_wait_timeout.min(1_073_741_824)
                ),
            ],
            lenient: validate::Lenience::default(),
            definer: args.definer,
            drop_leftovers: args.drop_leftovers,
        })
    }
}

/// How the input is read: headerless raw bytes start with a value, which may start with
/// any bytes, so no byte-order mark is looked for (with a header, FF FE is UTF-16's).
fn encoding_of(asked: Encoding, dialect: &Dialect) -> Encoding {
    match asked {
        Encoding::Utf8 if !dialect.header && dialect.binary == BinaryEncoding::Raw => {
            Encoding::Bytes
        }
        e => e,
    }
}
