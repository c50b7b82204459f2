//! The one way qexport reads rows, for a table, a shard or a backup: over one connection
//! in one snapshot, or over `-j N` connections (`--consistent`: one instant), every table
//! held against DDL for the duration.

use anyhow::Context;
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::dberror::{Code, ServerError};
use crate::schema::TableInfo;
use crate::sql::TableName;

use super::args::Config;
use super::engine::{self, Job, Parallel, Sinks};

/// Session settings for exporting. Every transaction of the session is read only: a
/// write that got past [`only_select`] (a stored function's, say) fails with ERROR 1792.
/// The `sql_mode` is fixed, so that the bytes of an export never depend on the server's
/// global mode (`PAD_CHAR_TO_FULL_LENGTH` would pad CHAR values), and so that the
/// client's own reading of SQL text ([`crate::sql`]: backslash escapes, `"` a string) is
/// the server's. A slow consumer (`qexport t | slow-thing`) stalls our reads, and with the
/// default 60 s `net_write_timeout` the server would give up on us. A lock the export
/// needs (a table held against DDL, `LOCK TABLES ... READ` for a backup's MyISAM tables)
/// is waited for `--lock-wait-timeout` seconds, not the server's default of a year: a
/// backup never stalls behind, or stalls, writers for long.
pub(super) fn session(cfg: &Config) -> Vec<String> {
    vec![
        "SET SESSION sql_mode = ''".into(),
        "SET SESSION TRANSACTION READ ONLY".into(),
        "SET SESSION net_write_timeout = 86400".into(),
        format!("SET SESSION lock_wait_timeout = {}", cfg.lock_wait_timeout),
    ]
}

/// A connection for exporting (see [`session`]).
pub(super) fn connect(cfg: &Config) -> anyhow::Result<Conn> {
    let init = session(cfg);
    cfg.conn
        .connect(&init.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A lock on `tables` the export waited for in vain: in words, with the sessions that
/// use those tables (who holds the lock, most likely), and what to do.
/// A row of the processlist: id, user@host, command, seconds, statement, database.
type Session = (u64, String, String, u64, Option<String>, Option<String>);

pub(super) fn lock_waited(
    conn: &mut Conn,
    cfg: &Config,
    what: &str,
    tables: &[&TableName],
    e: mysql::Error,
) -> anyhow::Error {
    let timed_out = ServerError::driver_is(&e, Code::LockWaitTimeout);
    if !timed_out {
        return db_error(e).context(what.to_owned());
    }
    lock_message(conn, cfg, what, tables)
}

/// `e` as [`lock_waited`] tells a lock waited for in vain, when it is one (ERROR 1205
/// anywhere in its chain); otherwise as it is.
pub(super) fn lock_told(
    conn: &mut Conn,
    cfg: &Config,
    what: &str,
    tables: &[&TableName],
    e: anyhow::Error,
) -> anyhow::Error {
    if ServerError::is(&e, Code::LockWaitTimeout) {
        lock_message(conn, cfg, what, tables)
    } else {
        e
    }
}

/// A lock on `tables` waited for in vain, in words: the tables another session has open,
/// and the sessions that hold them most likely.
fn lock_message(conn: &mut Conn, cfg: &Config, what: &str, tables: &[&TableName]) -> anyhow::Error {
    // The tables another session has open (locked, or in a transaction), of those waited
    // for: SHOW OPEN TABLES counts their users.
    let mut busy: Vec<&TableName> = Vec::new();
    for t in tables {
        let db = t.database.as_deref().unwrap_or_default();
        let like = t
            .table
            .replace('\\', "\\\\")
            .replace('_', "\\_")
            .replace('%', "\\%");
        let open: Vec<mysql::Row> = conn
            .query(format!(
                "SHOW OPEN TABLES FROM {} LIKE {}",
                crate::sql::quote_ident(db),
                crate::sql::quote_string(&like)
            ))
            .unwrap_or_default();
        let in_use = open
            .iter()
            .any(|r| r.get::<u64, _>("In_use").unwrap_or(0) > 0);
        if in_use {
            busy.push(t);
        }
    }
    let named = if busy.is_empty() {
        tables.to_vec()
    } else {
        busy
    };
    // Who: sessions whose statement names a table, and sessions idle in the database (a
    // LOCK TABLES or an open transaction holds its locks while it sleeps).
    let mut holders = Vec::new();
    let dbs: Vec<&str> = named.iter().filter_map(|t| t.database.as_deref()).collect();
    let users: Vec<Session> = conn
        .query(
            "SELECT ID, CONCAT(USER, '@', HOST), COMMAND, TIME, LEFT(INFO, 80), DB \
             FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() ORDER BY TIME DESC",
        )
        .unwrap_or_default();
    for (id, who, command, time, info, db) in users {
        let info = info.unwrap_or_default();
        let names_one = named.iter().any(|t| info.contains(t.table.as_str()));
        let here = db.is_some_and(|d| dbs.contains(&d.as_str()));
        // A session waiting for the same lock is no holder.
        let waiting = info.starts_with("LOCK TABLES") || command == "Killed";
        if waiting || !(names_one || here) {
            continue;
        }
        if command == "Sleep" {
            holders.push(format!(
                "thread {id} ({who}, idle {time} s, holding its locks)"
            ));
        } else {
            let info = info.split_whitespace().collect::<Vec<_>>().join(" ");
            holders.push(format!("thread {id} ({who}, for {time} s: {info})"));
        }
        if holders.len() >= 4 {
            break;
        }
    }
    let names: Vec<String> = named.iter().map(ToString::to_string).collect();
    anyhow::anyhow!(
        "{what}: waited {} s (--lock-wait-timeout) for a lock on {}{}: retry when the writers \
         pause, or give a longer --lock-wait-timeout",
        cfg.lock_wait_timeout,
        names.join(", "),
        if holders.is_empty() {
            String::new()
        } else {
            format!(", held by {}", holders.join(", "))
        }
    )
}

/// Refuse `sql` unless the server's own parser takes it for one query expression (a
/// SELECT, with WITH, UNION or VALUES): it is prepared, never run, as the subquery of
/// `EXISTS (...)`, where nothing else is valid SQL: no `INTO OUTFILE`, `INTO @var`, `SET
/// STATEMENT ... FOR`, `CALL`, `SET`, DDL, a second statement after a `;`, or a comment
/// that hides the end of the text. The text then runs as it is, under the same session
/// settings, so the server reads it the same way.
///
/// What no client can see is what a stored function called by the query does with its
/// definer's rights: see docs/qexport.md (an export account with SELECT only).
pub(super) fn only_select(conn: &mut Conn, what: &str, sql: &str) -> anyhow::Result<()> {
    let probe = format!("SELECT 1 FROM DUAL WHERE EXISTS (\n{sql}\n)");
    match conn.prep(&probe) {
        Ok(stmt) => {
            let _ = conn.close(stmt);
            Ok(())
        }
        // A syntax error in the probe: not one query expression, or not valid SQL at
        // all, which the text prepared alone tells (in the server's words). Anything else
        // (an unknown table or column, a missing privilege) the server says as it is.
        Err(e) if ServerError::driver_is(&e, Code::ParseError) => {
            if let Err(e) = conn.prep(sql).map(|s| conn.close(s)) {
                if ServerError::driver_is(&e, Code::ParseError) {
                    return Err(db_error(e).context(what.to_owned()));
                }
            }
            anyhow::bail!(
                "{what}: qexport reads only a SELECT (or WITH ... SELECT, VALUES, a UNION), \
                 with nothing after it: no INTO, no SET STATEMENT, no CALL, no second statement{}",
                if what == "-e" {
                    " (for SHOW, select from information_schema)"
                } else {
                    " (give a condition or an expression)"
                }
            )
        }
        Err(e) => Err(db_error(e)).with_context(|| what.to_owned()),
    }
}

/// Rows per parallel chunk: about 2 MiB of data, whatever the row size.
pub(super) fn chunk_rows(info: &TableInfo) -> u64 {
    (2 << 20) / info.avg_row_length.max(1)
}

/// Read the jobs: over one connection in one snapshot when there is one job or `-j 1`;
/// otherwise over `-j N` connections, with `--consistent` holding `LOCK TABLES ... READ` on
/// `tables` until every connection has opened its snapshot.
///
/// `freeze` keeps the tables without transactions still for the rest of the backup (see
/// [`super::scope::freeze`]); returned, to be held until the backup is done. With `-j 1`
/// it comes before the snapshot; with `--consistent`, while the one `LOCK TABLES` of every
/// table holds them all, so that it never waits (all READ): a lock on some tables taken
/// apart from the others could wait on a writer that waits on it.
pub(super) fn execute(
    cfg: &Config,
    conn: &mut Conn,
    jobs: &[Job],
    tables: &[&TableName],
    sinks: &mut dyn Sinks,
    freeze: &mut dyn FnMut() -> anyhow::Result<Option<Conn>>,
) -> anyhow::Result<Option<Conn>> {
    let mut frozen = None;
    if cfg.jobs == 1 || jobs.len() == 1 {
        frozen = freeze()?;
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .map_err(db_error)?;
        if let Err(e) = engine::hold(conn, tables) {
            return Err(lock_told(
                conn,
                cfg,
                "holding the tables for the snapshot",
                tables,
                e,
            ));
        }
        let plain = cfg.conn.plain_bytes();
        engine::run_sequential(conn, plain, jobs, &cfg.dialect, sinks, &cfg.progress)?;
    } else {
        if cfg.consistent {
            let list: Vec<String> = tables
                .iter()
                .map(|t| format!("{} READ", t.quoted()))
                .collect();
            if let Err(e) = conn.query_drop(format!("LOCK TABLES {}", list.join(", "))) {
                return Err(lock_waited(
                    conn,
                    cfg,
                    "--consistent: locking the tables",
                    tables,
                    e,
                ));
            }
        }
        let init = session(cfg);
        let init: Vec<&str> = init.iter().map(String::as_str).collect();
        let p = Parallel {
            conn: &cfg.conn,
            init: &init,
            workers: cfg.jobs.min(jobs.len()),
            // Without --consistent the snapshots are apart anyway: nothing to hold.
            hold: if cfg.consistent { tables } else { &[] },
        };
        let mut unlock = || -> anyhow::Result<()> {
            if cfg.consistent {
                frozen = freeze()?;
                conn.query_drop("UNLOCK TABLES").map_err(db_error)?;
            }
            Ok(())
        };
        engine::run_parallel(&p, jobs, &cfg.dialect, sinks, &cfg.progress, &mut unlock)?;
    }
    Ok(frozen)
}
