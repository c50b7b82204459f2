//! The tables an import makes and publishes: the table `--create` or `--schema` makes,
//! the work tables of `--swap` and `-j` (named, marked, and cleaned up after killed
//! imports), and the RENAME that puts a loaded copy in place.

use std::io::Seek as _;

use anyhow::{anyhow, bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::dberror::{Code, ServerError};
use crate::input::{open_all, Input, Source};
use crate::schema::TableInfo;
pub(super) use crate::schema::WORK_MARK;
use crate::sql::TableName;

use super::args::Config;
use super::choices::{Method, Origin};
use super::create;
use super::defer;
use super::job::{Ctx, Job, Summary};
use super::undo::{self, Undo};

/// Where the table of an import comes from.
pub(super) enum Made {
    /// It was there.
    Existing,
    /// `--create` or `--schema` made it (a failed load drops it again).
    Created,
    /// `--create --dry-run`: it would be this one (nothing is made).
    WouldBe(Box<TableInfo>),
}

/// The inputs to load: none with `--ledger`, which opens each file itself, in turn (and
/// with `--watch` has no FILE: stdin must not be read, nor waited on).
fn inputs(cfg: &Config) -> anyhow::Result<Vec<Input>> {
    if cfg.ledger.is_some() {
        return Ok(Vec::new());
    }
    open_all(&cfg.files, cfg.encoding)
}

/// With `--create` or `--schema`, make a missing table (for `undo` to drop on an
/// interrupt); returns the inputs to load (for `--create`, read from the start again) and
/// where the table comes from.
pub(super) fn prepare_table(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    undo: &Undo,
) -> anyhow::Result<(Vec<Input>, Made)> {
    let exists: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&cfg.database, &t.table),
        )
        .map_err(db_error)?;
    if exists.is_some() || cfg.origin == Origin::Exists {
        return Ok((inputs(cfg)?, Made::Existing));
    }
    if let Origin::Schema(file) = &cfg.origin {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let what = format!("--schema {}", file.display());
        let sql = crate::sql::single_statement(&what, &text)?;
        // Read before it runs: one CREATE TABLE, of the table named, in the database the
        // import loads (nothing is made that the import would then leave behind).
        match super::script::classify(sql, crate::sql::Lexing::PLAIN) {
            Ok(super::script::Stmt::Table(name)) if name == t.table => {}
            Ok(super::script::Stmt::Table(name)) => bail!(
                "{what} creates the table {name:?}, not {:?}: name the table it creates, or fix the file (nothing was created)",
                t.table
            ),
            Err(why) if why.contains("another database") => {
                bail!("{what}: {why}: the table is created in the database the import loads")
            }
            Err(why) if why.starts_with("not a table definition") => bail!("{what}: {why}"),
            _ => bail!("{what}: expected one CREATE TABLE statement"),
        }
        undo.made_table(t, || {
            super::send::run_one(conn, sql, crate::sql::Lexing::PLAIN)
                .with_context(|| format!("--schema {}", file.display()))
        })?;
        return Ok((inputs(cfg)?, Made::Created));
    }
    // --create: read everything once to infer the types, then load it. A regular file is
    // read twice; anything else is spooled to a temporary file without a name (nothing is
    // left behind, however the run ends).
    let mut spooled = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut cols: Vec<create::Inferred> = Vec::new();
    for input in open_all(&cfg.files, cfg.encoding)? {
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
        create::check_names(&input.name, &n)?;
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
            stream: input.stream,
        });
    }
    let sql = create::create_sql(t, &names, &cols)?;
    if cfg.dry_run {
        if !cfg.quiet {
            eprintln!(
                "qimport: dry run: {t} would be created: {}",
                sql.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        let info = create::would_be(t, &names, &cols);
        return Ok((spooled, Made::WouldBe(Box::new(info))));
    }
    // Registered as it is made: a table that was there first is never the undo's to drop.
    undo.made_table(t, || {
        conn.query_drop(&sql).map_err(db_error).map_err(|e| {
            if ServerError::is(&e, Code::RowSizeTooLarge) {
                anyhow!(
                    "--create: {} columns are more than InnoDB takes in one row ({e}): give --schema FILE with a CREATE TABLE of your own (nothing was created)",
                    names.len()
                )
            } else {
                e.context("--create")
            }
        })
    })?;
    if !cfg.quiet {
        eprintln!(
            "qimport: created {t}: {}",
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    Ok((spooled, Made::Created))
}

/// `--swap`: load into a new copy (its secondary indexes built after the rows), then swap
/// it in with one atomic RENAME. `flag` names what asked for it in messages (`--swap`, or
/// `--schema` for a table this run made, see [`super::load_created`]), and `failed`
/// says what a failure leaves.
pub(super) fn load_swapped(
    cx: &mut Ctx<'_>,
    method: Method,
    inputs: Vec<Input>,
    flag: &str,
    failed: &str,
) -> anyhow::Result<Summary> {
    let (fresh, deferred) = make_work_table(cx, "new")
        .with_context(|| format!("{flag}: creating the new copy of the table"))?;
    let (cfg, info, undo) = (cx.cfg, cx.info, cx.undo);
    let conn = &mut *cx.conn;
    let t = &info.name;
    let again = super::dups::all_or_none(
        inputs.iter().filter_map(Input::again).collect(),
        inputs.len(),
    );
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let names = names.join(", ");
    let loaded = (|| {
        conn.query_drop("START TRANSACTION").map_err(db_error)?;
        let mut job = Job::new(cfg, conn, info, fresh.clone(), method)?;
        failed.clone_into(&mut job.failed_note);
        let result = inputs.into_iter().try_for_each(|i| job.load_input(i));
        let summary = job.finish(result)?;
        if cfg.dry_run {
            bail!("--dry-run with {flag}: nothing to swap");
        }
        conn.query_drop("COMMIT").map_err(db_error)?;
        let dups = super::dups::Explain {
            cfg,
            info,
            name: &names,
            inputs: &again,
            earlier: &[],
        };
        defer::build(cfg, conn, &fresh, &deferred, &dups, failed)?;
        cfg.progress
            .phase("every row is in the new copy; swapping it in");
        unmark(conn, t, &fresh)?;
        undo.disarmed(|| rename_into_place(conn, t, &fresh, false))
            .context(flag.to_owned())?;
        Ok(summary)
    })();
    match loaded {
        Ok(s) => Ok(s),
        Err(e) => {
            undo::drop_tables(&cfg.conn, conn, std::slice::from_ref(&fresh), true);
            Err(e)
        }
    }
}

/// Whether the user may drop tables in `t`'s database (a work table's is what counts: a
/// grant on `t` alone does not cover it; see: #29, hostile review).
pub(super) fn may_drop(cfg: &Config, conn: &mut Conn, t: &TableName) -> anyhow::Result<bool> {
    let db = t.database.as_deref().unwrap_or(&cfg.database);
    Ok(crate::grants::database_privileges(conn, db)?.contains(&crate::grants::Privilege::Drop))
}

/// A work table of this import beside the target, of the target's definition, dropped by
/// the undo if the run is interrupted: the new copy of `--swap` (`kind` "new"), the
/// staging table of `-j` ("stage"). Made without the secondary keys that can be built
/// after the rows (see [`defer`]): returned, to be added back before it is shown.
pub(super) fn make_work_table(
    cx: &mut Ctx<'_>,
    kind: &str,
) -> anyhow::Result<(TableName, Vec<defer::Key>)> {
    let t = &cx.info.name;
    if !may_drop(cx.cfg, cx.conn, t)? {
        bail!(
            "the user may not drop tables in {}: a work table could not be dropped once its rows are in (grant DROP, or load without --swap and -j)",
            t.database.as_deref().unwrap_or(&cx.cfg.database)
        );
    }
    let deferred = defer::plan(cx.cfg, cx.conn, t)?;
    let work = work_table(cx.cfg, cx.conn, t, kind)?;
    cx.undo.table(&work);
    create_work_table(cx.conn, &work, t, &defer::drop_clauses(&deferred))?;
    Ok((work, deferred))
}

/// The name of a work table of this import beside `t` (`T__qimport_KIND_ID`: the new copy
/// of `--swap`, the staging table of `--jobs`, the old table between RENAME and DROP),
/// after dropping those that killed imports left behind. ID is the connection's id, and
/// the connection holds the server lock `qimport_work_ID` for as long as it lives (the
/// server frees it when the client dies, even by SIGKILL): a work table whose lock is
/// free has no import left to finish it. Nothing is dropped whose owner may be alive.
pub(super) fn work_table(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    kind: &str,
) -> anyhow::Result<TableName> {
    hold_work_lock(conn)?;
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
    // Compared byte for byte: `T__qimport_stage_4` is no work table of `t`, nor is a
    // comment in other letters qimport's mark.
    let names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ? \
               AND BINARY TABLE_COMMENT = BINARY CONCAT(?, TABLE_NAME, ?)",
            (&db, &like, WORK_MARK.0, WORK_MARK.1),
        )
        .map_err(db_error)?;
    for name in names {
        // `T__qimport_KIND_ID` exactly: this table's, one of qimport's kinds, and an ID
        // as the server writes a connection's (no leading zero).
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((kind, owner)) = rest.split_once('_') else {
            continue;
        };
        let id = !owner.is_empty()
            && !owner.starts_with('0')
            && owner.bytes().all(|b| b.is_ascii_digit());
        if !(["stage", "new", "old"].contains(&kind) && id) {
            continue;
        }
        // One of this connection's own id is stale too: this run has made none yet, and
        // the server numbers connections from 1 again after a restart.
        if owner == conn.connection_id().to_string() || owner_gone(conn, owner)? {
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

/// Take the server lock `qimport_work_ID` (ID: the connection's), held for as long as the
/// connection lives: the server frees it when the client dies, even by SIGKILL, or when
/// the server itself does.
pub(super) fn hold_work_lock(conn: &mut Conn) -> anyhow::Result<()> {
    let mine = format!("qimport_work_{}", conn.connection_id());
    let held: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, 0)", (&mine,))
        .map_err(db_error)?;
    if held != Some(Some(1)) {
        bail!("could not take the server lock {mine}");
    }
    Ok(())
}

/// Whether the import of connection `id` (digits, as the server writes a connection id)
/// is gone: its lock `qimport_work_ID` is free.
pub(super) fn owner_gone(conn: &mut Conn, id: &str) -> anyhow::Result<bool> {
    let free: Option<Option<i64>> = conn
        .exec_first("SELECT IS_FREE_LOCK(?)", (format!("qimport_work_{id}"),))
        .map_err(db_error)?;
    Ok(free == Some(Some(1)))
}

/// The mark of the work table `name`.
pub(super) fn work_mark(name: &str) -> String {
    format!("{}{name}{}", WORK_MARK.0, WORK_MARK.1)
}

/// Make `work` (a `CREATE TABLE ... LIKE` copy of a table) a work table: named and marked
/// as qimport's own, and numbering new rows where the table would (`LIKE` starts its
/// AUTO_INCREMENT counter at 1 again: the rows of a `--swap` would otherwise take the ids
/// of rows long gone), with its keys `USING HASH` as the table has them, and without the
/// keys of `drops` (see [`defer`]).
pub(super) fn create_work_table(
    conn: &mut Conn,
    work: &TableName,
    like: &TableName,
    drops: &[String],
) -> anyhow::Result<()> {
    conn.query_drop(format!(
        "CREATE TABLE {} LIKE {}",
        work.quoted(),
        like.quoted()
    ))
    .map_err(db_error)?;
    let marked = (|| {
        let mut clauses = vec![format!(
            "COMMENT = {}",
            crate::sql::quote_string(&work_mark(&work.table))
        )];
        if let Some(n) = auto_increment(conn, like)? {
            clauses.push(format!("AUTO_INCREMENT = {n}"));
        }
        clauses.extend_from_slice(drops);
        let sql = defer::alter_sql(conn, work, like, clauses)?;
        conn.query_drop(sql).map_err(db_error)
    })();
    if marked.is_err() {
        // Unmarked, no later run would take it for a work table of its own: dropped now.
        let _ = conn.query_drop(format!("DROP TABLE IF EXISTS {}", work.quoted()));
    }
    marked
}

/// The AUTO_INCREMENT value the next row of `t` would take, as `SHOW CREATE TABLE` says
/// (information_schema's may be cached, on MySQL); `None` when it has no such counter
/// (or it was never moved).
pub(super) fn auto_increment(conn: &mut Conn, t: &TableName) -> anyhow::Result<Option<u64>> {
    let row: Option<(String, String)> = conn
        .query_first(format!("SHOW CREATE TABLE {}", t.quoted()))
        .map_err(db_error)?;
    let Some((_, create)) = row else {
        return Ok(None);
    };
    // The table options are on the line that closes the column list (partitions, which
    // hold parentheses of their own, follow on lines of their own).
    let options = create.lines().find(|l| l.starts_with(')')).unwrap_or("");
    Ok(options
        .split_whitespace()
        .find_map(|o| o.strip_prefix("AUTO_INCREMENT="))
        .and_then(|n| n.parse().ok()))
}

/// `T__qimport_TAG`, beside `t`.
pub(super) fn work_name(t: &TableName, tag: &str) -> TableName {
    TableName {
        database: t.database.clone(),
        table: format!("{}__qimport_{tag}", t.table),
    }
}

/// Put `fresh` in the place of `t` with one atomic RENAME, then drop the old table. A
/// foreign key of another table that this user could not see (see [`super::relations`])
/// moved with the old table and keeps it from being dropped: the RENAME is then undone,
/// and `t` is as it was.
///
/// `was_empty`: the rows of `t` are to stay (`-j` renames its staging table in only
/// when `t` was empty); a row another session committed into `t` between that check and
/// the RENAME is found in the old table and copied into the new one. When such a row
/// clashes with a loaded key, the RENAME is undone: returns `false`, and the caller moves
/// its rows in otherwise (where the clash fails the load). A row written in the moment
/// between the RENAME and its undoing is then lost with the staging table: the one case
/// left (a concurrent writer of a key the load also has, into a table it found empty).
pub(super) fn rename_into_place(
    conn: &mut Conn,
    t: &TableName,
    fresh: &TableName,
    was_empty: bool,
) -> anyhow::Result<bool> {
    let old = work_name(t, &format!("old_{}", conn.connection_id()));
    let rename = |a: &TableName, b: &TableName, c: &TableName, d: &TableName| {
        format!(
            "RENAME TABLE {} TO {}, {} TO {}",
            a.quoted(),
            b.quoted(),
            c.quoted(),
            d.quoted()
        )
    };
    conn.query_drop(rename(t, &old, fresh, t))
        .map_err(db_error)
        .context("renaming the loaded table into place")?;
    let back = |conn: &mut Conn, why: &str| {
        conn.query_drop(rename(t, fresh, &old, t))
            .map_err(db_error)
            .with_context(|| format!("{why}, and so did renaming it back"))
    };
    if was_empty {
        let rows: Option<u8> = conn
            .query_first(format!("SELECT 1 FROM {} LIMIT 1", old.quoted()))
            .map_err(db_error)?;
        // Rows another session committed before the RENAME: copied whole into the table
        // now in place (a row written since is in it already). One that clashes with a
        // loaded key fails the load as an INSERT ... SELECT would: the RENAME is undone.
        if rows.is_some() && !moved_rows(conn, &old, t)? {
            back(conn, "rows came into the table during the load")?;
            return Ok(false);
        }
    }
    if let Err(e) = conn.query_drop(format!("DROP TABLE {}", old.quoted())) {
        let why = db_error(e);
        back(conn, &format!("dropping the old table failed ({why:#})"))?;
        bail!(
            "{why:#}: the old {t} could not be dropped (a foreign key of a table this user \
             cannot see refers to it?), so the swap was undone and {t} is as it was"
        );
    }
    Ok(true)
}

/// Copy every row of `from` into `to` (tables of one definition), every stored column
/// (invisible ones too);
/// `false`, and nothing copied, when a row clashes with a key of `to`.
fn moved_rows(conn: &mut Conn, from: &TableName, to: &TableName) -> anyhow::Result<bool> {
    let cols: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
             AND TABLE_NAME = ? AND IS_GENERATED = 'NEVER' ORDER BY ORDINAL_POSITION",
            (from.database.clone().unwrap_or_default(), &from.table),
        )
        .map_err(db_error)?;
    let list = super::load::column_list(&cols);
    conn.query_drop("START TRANSACTION").map_err(db_error)?;
    let copied = conn.query_drop(format!(
        "INSERT INTO {} ({list}) SELECT {list} FROM {}",
        to.quoted(),
        from.quoted()
    ));
    match copied {
        Ok(()) => {
            conn.query_drop("COMMIT").map_err(db_error)?;
            Ok(true)
        }
        Err(mysql::Error::MySqlError(m)) if Code::of(m.code) == Code::DupEntry => {
            conn.query_drop("ROLLBACK").map_err(db_error)?;
            Ok(false)
        }
        Err(e) => {
            let _ = conn.query_drop("ROLLBACK");
            Err(db_error(e))
        }
    }
}

/// Before a work table is renamed into the place of `t`: it takes `t`'s own comment back
/// (a metadata change, instant). Not in the disarmed step: an interrupt here still drops
/// the work table.
pub(super) fn unmark(conn: &mut Conn, t: &TableName, fresh: &TableName) -> anyhow::Result<()> {
    let comment: Option<String> = conn
        .exec_first(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (t.database.clone().unwrap_or_default(), &t.table),
        )
        .map_err(db_error)?;
    let comment = format!(
        "COMMENT = {}",
        crate::sql::quote_string(&comment.unwrap_or_default())
    );
    let sql = defer::alter_sql(conn, fresh, fresh, vec![comment])?;
    conn.query_drop(sql)
        .map_err(db_error)
        .context("giving the loaded table its comment")
}
