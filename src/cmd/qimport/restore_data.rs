//! The data of a `--dir` restore: every table's file loaded in one transaction, each
//! count checked against the manifest, and the secondary keys deferred (see `defer`)
//! built once every row is in, smallest table first.

use std::path::Path;

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::backup_files::{open, Entry};
use super::job::{choose_method, Job};
use crate::conn::db_error;
use crate::error::plural;
use crate::flavour::Server;
use crate::progress::Total;
use crate::schema::TableInfo;
use crate::sql::TableName;

/// Load every table's file in one transaction, each count checked; returns the rows.
pub(super) fn load_tables(
    cfg: &Config,
    conn: &mut Conn,
    dir: &Path,
    entries: &[Entry],
) -> anyhow::Result<u64> {
    let (method, _) = choose_method(cfg, conn)?;
    if entries.iter().any(|e| e.history) {
        // History rows keep their own row start and end (MariaDB 10.11 and later).
        let history = Server::of(conn)?.history_insert()?;
        conn.query_drop(history).map_err(db_error)?;
    }
    // Rows the source holds break no rule now: CHECK constraints are off as foreign keys
    // are (a constraint added later, or rows inserted with the checks off), and dates
    // follow the source's ALLOW_INVALID_DATES.
    if let Some(off) = Server::of(conn)?.check_constraints_off() {
        conn.query_drop(off).map_err(db_error)?;
    }
    if cfg.lenient.invalid_dates {
        conn.query_drop(
            "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ALLOW_INVALID_DATES')",
        )
        .map_err(db_error)?;
    }
    // Each table made without the secondary keys that can be built after its rows
    // (see `defer`): they are, once every row is in.
    let mut deferred = Vec::new();
    for e in entries.iter().filter(|e| e.file.is_some()) {
        let t = TableName {
            database: Some(cfg.database.clone()),
            table: e.name.clone(),
        };
        let keys = super::defer::plan(cfg, conn, &t)?;
        if super::defer::drop_from(cfg, conn, &t, &keys)? && !keys.is_empty() {
            deferred.push((e, keys, None));
        }
    }
    conn.query_drop("START TRANSACTION").map_err(db_error)?;
    let mut total = 0;
    let files = entries.iter().filter(|e| e.file.is_some()).count();
    for (i, e) in entries.iter().filter(|e| e.file.is_some()).enumerate() {
        let Some(file) = &e.file else { continue };
        let what = format!("{} (table {} of {files})", e.name, i + 1);
        let _shown = cfg.progress.begin(&what, Total::Rows(e.rows));
        let mut info = TableInfo::load(conn, &cfg.database, &e.name)?;
        if let Some(engine) = info.rows_elsewhere() {
            bail!(
                "{file}: the table {} is a {engine} table, whose rows live elsewhere: a \
                 backup holds none for it (the backup is damaged)",
                e.name
            );
        }
        if e.history {
            info = info.with_history();
        }
        if let Some(d) = deferred.iter_mut().find(|d| std::ptr::eq(d.0, e)) {
            d.2 = Some(info.clone());
        }
        let input = open(dir, file)?;
        let mut job = Job::new(cfg, conn, &info, info.name.clone(), method)?;
        let r = job.load_input(input);
        let summary = job.finish(r)?;
        if summary.rows != e.rows {
            bail!(
                "{file}: {} loaded, the manifest says {}",
                plural(summary.rows, "row"),
                e.rows
            );
        }
        total += summary.rows;
    }
    conn.query_drop("COMMIT").map_err(db_error)?;
    // The smallest tables first: a client killed during the builds leaves at most the
    // largest table's own build running (the server finishes a statement whose client
    // is gone), not every small table's keys unbuilt behind it.
    deferred.sort_by_key(|(e, _, _)| e.rows);
    for (e, keys, info) in &deferred {
        let (Some(file), Some(info)) = (&e.file, info) else {
            continue;
        };
        let _shown = cfg.progress.begin(&e.name, Total::Unknown);
        let dups = super::dups::Explain {
            cfg,
            info,
            name: "",
            inputs: &[open(dir, file)?],
            earlier: &[],
        };
        super::defer::build(cfg, conn, &info.name, keys, &dups, "the restore is undone")?;
    }
    Ok(total)
}
