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

mod args;
mod backup_files;
mod check;
mod choices;
mod create;
mod defer;
mod dry;
mod dups;
mod encode;
mod insert;
mod job;
mod ledger;
mod load;
mod parallel;
mod plain;
mod relations;
mod restore;
mod restore_data;
mod restore_undo;
mod script;
mod send;
mod stubs;
mod table;
mod undo;
pub mod validate;

use std::process::ExitCode;

use anyhow::bail;
use mysql::Conn;

use crate::cli::mysql_style_args;
use crate::error::main_with;
use crate::input::Input;
use crate::progress::Total;
use crate::schema::TableInfo;
use crate::sql::TableName;

pub use args::{Args, Config};
pub use choices::Method;
use choices::{LedgerAction, OldRows, Target};
use job::{choose_method, Ctx, Summary};
use table::{load_swapped, prepare_table, Made};
use undo::Undo;

/// How many times a load of files is tried when it loses a deadlock to another session
/// (InnoDB rolls the loser back whole): concurrent upserts with overlapping keys do.
const DEADLOCK_TRIES: u32 = 3;

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = cfg.connect()?;
    // What Ctrl-C or SIGTERM undoes: the tables this run makes, its sessions' work.
    let (undo, _undo) = Undo::new(&cfg.conn, cfg.quiet, &conn);
    let name = match &cfg.target {
        Target::Restore(dir) => return restore::run(cfg, &mut conn, dir, &undo),
        Target::Status => match &cfg.ledger {
            Some(l) => return ledger::status(cfg, &mut conn, &l.table),
            None => bail!("--status needs --ledger"),
        },
        Target::Table(name) => name,
    };
    let full = TableName {
        database: Some(cfg.database.clone()),
        table: name.table.clone(),
    };
    if let Some(l) = &cfg.ledger {
        if l.action == LedgerAction::Retry {
            return ledger::retry(cfg, &mut conn, &l.table, &full);
        }
        if l.table == full {
            bail!(
                "--ledger {}: the ledger must be a table of its own, not the one loaded",
                l.table
            );
        }
        let (_, made) = prepare_table(cfg, &mut conn, &full, &undo)?;
        let mut p = prepare(cfg, &mut conn, &full, made)?;
        if !p.info.transactional() {
            bail!(
                "--ledger into {}: ENGINE={} cannot roll back, so a failed file would leave rows that the next run loads again; --ledger needs a table that can (InnoDB)",
                full,
                p.info.engine.as_deref().unwrap_or_default()
            );
        }
        // Each file commits on its own, so a table this run made holds other runs' rows
        // soon: it stays, whatever happens to this run (a signal ends it at once; the
        // server rolls the file being loaded back).
        undo.disarmed(|| ());
        p.created = false;
        return ledger::run(cfg, &mut conn, l, &full, &p, &undo);
    }
    let (inputs, made) = prepare_table(cfg, &mut conn, &full, &undo)?;
    let created = matches!(made, Made::Created);
    // Copies of the inputs to read again should the load lose a deadlock (files only:
    // a stream cannot be read twice).
    let mut again: Option<Vec<Input>> = inputs.iter().map(Input::again).collect();
    let mut result = import(cfg, &mut conn, &full, inputs, &undo, made);
    for attempt in 2..=DEADLOCK_TRIES {
        let lost = result
            .as_ref()
            .err()
            .is_some_and(anyhow::Error::is::<job::LostDeadlock>);
        let Some(inputs) = again.take().filter(|_| lost && !created) else {
            break;
        };
        again = inputs.iter().map(Input::again).collect();
        if !cfg.quiet {
            eprintln!(
                "qimport: {full}: the load lost a deadlock to another session and was rolled back; loading again ({attempt} of {DEADLOCK_TRIES})"
            );
        }
        // Apart from the other session, by a pause of this process's own length.
        std::thread::sleep(std::time::Duration::from_millis(
            50 * u64::from(attempt) + u64::from(std::process::id() % 97),
        ));
        result = import(cfg, &mut conn, &full, inputs, &undo, Made::Existing);
    }
    if created && result.is_err() {
        undo::drop_tables(&cfg.conn, &mut conn, std::slice::from_ref(&full), false);
    }
    result
}

/// What a table's import settles before any row is read: the table, whether it was just
/// made (or would be, in a dry run), the triggers a dry run reports, and the method.
struct Prepared {
    info: TableInfo,
    would_be: bool,
    created: bool,
    triggers: Vec<String>,
    method: Method,
    how: String,
}

/// Check what the import is about to do to `name` (refusing what it must not) and pick
/// the method.
fn prepare(
    cfg: &Config,
    conn: &mut Conn,
    name: &TableName,
    made: Made,
) -> anyhow::Result<Prepared> {
    let created = matches!(made, Made::Created);
    let (info, would_be) = match made {
        Made::WouldBe(info) => (*info, true),
        _ => (TableInfo::load(conn, &cfg.database, &name.table)?, false),
    };
    // Only a load straight into the table leaves rows behind (work tables are dropped).
    let swap = cfg.old_rows == OldRows::Swap;
    let straight = !swap && cfg.jobs <= 1 && !cfg.dry_run;
    if let Some(e) = info.engine.as_deref().filter(|_| !info.transactional()) {
        if straight {
            eprintln!(
                "qimport: warning: {} uses ENGINE={e}, which cannot roll back: a failed import may leave some rows behind",
                info.name
            );
        }
    }
    if swap && info.period.is_some() {
        bail!(
            "--swap would lose the history of {} (it is system-versioned, and the new copy starts \
             without one): load with --truncate instead, whose DELETE keeps the old rows in the history",
            info.name
        );
    }
    let relations = relations::Relations::load(conn, &info.name)?;
    relations.check(
        &info.name,
        &relations::Plan {
            old_rows: cfg.old_rows,
            mode: cfg.mode,
            cascade: cfg.cascade,
        },
    )?;
    let (method, how) = choose_method(cfg, conn)?;
    Ok(Prepared {
        info,
        would_be,
        created,
        triggers: relations.triggers,
        method,
        how,
    })
}

fn import(
    cfg: &Config,
    conn: &mut Conn,
    name: &TableName,
    inputs: Vec<Input>,
    undo: &Undo,
    made: Made,
) -> anyhow::Result<ExitCode> {
    let p = prepare(cfg, conn, name, made)?;
    let swap = cfg.old_rows == OldRows::Swap;
    let total = Input::total_size(&inputs).map_or(Total::Unknown, Total::Bytes);
    let shown = cfg.progress.begin(&p.info.name.to_string(), total);
    let mut parallel = cfg.jobs > 1 && p.method == Method::LoadData && !cfg.dry_run && !swap;
    if cfg.jobs > 1 && !parallel {
        eprintln!("qimport: --jobs needs LOAD DATA and no --swap or --dry-run: loading over one connection");
    }
    if parallel && !table::may_drop(cfg, conn, &p.info.name)? {
        parallel = false;
        eprintln!("qimport: --jobs: the user may not drop tables in this database, and the staging table must be dropped: loading over one connection");
    }
    if parallel && defer::long_unique(conn, &p.info.name)? {
        parallel = false;
        eprintln!("qimport: --jobs: {} has a unique key USING HASH or WITHOUT OVERLAPS, whose checks deadlock when rows come over several connections at once: loading over one connection", p.info.name);
    }
    let mut cx = Ctx {
        cfg,
        conn,
        info: &p.info,
        undo,
    };
    let mut summary = if parallel {
        parallel::run(&mut cx, inputs)?
    } else if swap && !cfg.dry_run {
        let failed = format!("nothing was loaded: {} is unchanged", p.info.name);
        load_swapped(&mut cx, p.method, inputs, "--swap", &failed)?
    } else if p.created && !cfg.dry_run {
        load_created(&mut cx, &p, inputs)?
    } else {
        plain::load(&mut cx, &p, inputs, &mut |_, _| Ok(()))?
    };
    summary.keep_rejects()?;
    drop(shown);
    if !cfg.quiet {
        eprintln!(
            "qimport: {}",
            said(cfg, &p.info, &summary, &p.how, p.would_be)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A load into the table this run just made (`--create`, `--schema`): into a copy of it
/// without its secondary keys, which are built once the rows are in, and which then takes
/// its place (as `--swap` does: nobody sees the rows before their keys, and an interrupt
/// leaves the copy to drop). A table whose copy would not be the same (a foreign key, a
/// unique key `USING HASH` that `CREATE TABLE ... LIKE` makes a B-tree), or for a user who
/// may not alter or drop it (the copy takes its place by a RENAME that drops it), is
/// loaded as it is.
fn load_created(cx: &mut Ctx<'_>, p: &Prepared, inputs: Vec<Input>) -> anyhow::Result<Summary> {
    let t = &p.info.name;
    if defer::plan(cx.cfg, cx.conn, t)?.is_empty()
        || !defer::copy_is_alike(cx.conn, t)?
        || !defer::may_alter(cx.cfg, cx.conn, t)?
        || !table::may_drop(cx.cfg, cx.conn, t)?
    {
        return plain::load(cx, p, inputs, &mut |_, _| Ok(()));
    }
    let failed = format!("nothing was loaded, and {t} was dropped again");
    load_swapped(cx, p.method, inputs, "the table made", &failed)
}

/// The summary line of a load or a dry run.
fn said(cfg: &Config, info: &TableInfo, summary: &Summary, how: &str, would_be: bool) -> String {
    let records = crate::error::plural(summary.rows, "record");
    let are = if summary.rows == 1 { "is" } else { "are" };
    let name = &info.name;
    if would_be {
        format!("{name}: dry run: {records} {are} valid for the table --create would make (nothing was made)")
    } else if cfg.dry_run && !info.transactional() {
        format!(
            "{name}: dry run: {records} {are} valid (values only: ENGINE={} cannot roll back, so keys and constraints were not tried); nothing was changed",
            info.engine.as_deref().unwrap_or_default()
        )
    } else if cfg.dry_run {
        let stays = if summary.note.is_empty() {
            ", nothing was changed"
        } else {
            &summary.note
        };
        format!("{name}: dry run: {records} {are} valid and the server took them ({how}); rolled back{stays}")
    } else {
        format!(
            "{name}: {} loaded ({how}){}",
            crate::error::plural(summary.rows, "row"),
            summary.note
        )
    }
}

pub fn main() -> ExitCode {
    if let Some(done) = crate::docs::generate_if_asked::<Args>() {
        return done;
    }
    if let Some(done) = crate::conn::print_defaults_if_asked("qimport") {
        return done;
    }
    let args = match crate::cli::parse::<Args>("qimport", mysql_style_args()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    main_with("qimport", || run(&Config::from_args(args)?))
}
