//! The one way qexport reads rows, for a table, a shard or a backup: over one connection
//! in one snapshot, or over `-j N` connections (`--consistent`: one instant), every table
//! held against DDL for the duration.

use anyhow::Context;
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::progress::Progress;
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
/// default 60 s `net_write_timeout` the server would give up on us.
pub(super) const EXPORT_INIT: &[&str] = &[
    "SET SESSION sql_mode = ''",
    "SET SESSION TRANSACTION READ ONLY",
    "SET SESSION net_write_timeout = 86400",
];

/// Refuse `sql` unless the server's own parser takes it for one query expression (a
/// SELECT, with WITH, UNION or VALUES): it is prepared, never run, as the subquery of
/// `EXISTS (...)`, where nothing else is valid SQL: no `INTO OUTFILE`, `INTO @var`, `SET
/// STATEMENT ... FOR`, `CALL`, `SET`, DDL, a second statement after a `;`, or a comment
/// that hides the end of the text. The text then runs as it is, under the same session
/// settings, so the server reads it the same way.
///
/// What no client can see is what a stored function called by the query does with its
/// definer's rights: see the README (an export account with SELECT only).
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
        Err(mysql::Error::MySqlError(e)) if e.code == ER_PARSE_ERROR => {
            if let Err(mysql::Error::MySqlError(e)) = conn.prep(sql).map(|s| conn.close(s)) {
                if e.code == ER_PARSE_ERROR {
                    anyhow::bail!("{what}: {} (ERROR {})", e.message, e.code);
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

/// The server's "You have an error in your SQL syntax".
const ER_PARSE_ERROR: u16 = 1064;

/// Rows per parallel chunk: about 2 MiB of data, whatever the row size.
pub(super) fn chunk_rows(info: &TableInfo) -> u64 {
    (2 << 20) / info.avg_row_length.max(1)
}

/// Read the jobs: over one connection in one snapshot when there is one job or `-j 1`;
/// otherwise over `-j N` connections, with `--consistent` holding `LOCK TABLES ... READ` on
/// `tables` until every connection has opened its snapshot.
pub(super) fn execute(
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
