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

/// Session settings for exporting: every transaction of the session is read only, so an
/// export never writes, whatever `-e` says (a write, DDL included, fails with ERROR 1792;
/// and one statement per query, see [`crate::sql::single_statement`], keeps a `COMMIT;`
/// from ending that). A slow consumer (`qexport t | slow-thing`) stalls our reads, and
/// with the default 60 s `net_write_timeout` the server would give up on us.
pub(super) const EXPORT_INIT: &[&str] = &[
    "SET SESSION TRANSACTION READ ONLY",
    "SET SESSION net_write_timeout = 86400",
];

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
