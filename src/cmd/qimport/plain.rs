//! A load in one transaction on the main session (no `-j`, no `--swap`): the rows, and
//! whatever must commit with them (`--ledger`'s done row), or nothing; a dry run rolls
//! back and says what it could not take back.

use anyhow::Context;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::dry;
use super::job::{Ctx, Job, Summary};
use super::Prepared;
use crate::conn::db_error;
use crate::input::Input;

/// What runs in the load's transaction after its rows, before COMMIT: `--ledger`'s done
/// row, which so commits with them or not at all.
pub(super) type BeforeCommit<'b> = dyn FnMut(&mut Conn, &Summary) -> anyhow::Result<()> + 'b;

/// Load `inputs` into `p.info` in one transaction.
pub(super) fn load(
    cx: &mut Ctx<'_>,
    p: &Prepared,
    inputs: Vec<Input>,
    before_commit: &mut BeforeCommit<'_>,
) -> anyhow::Result<Summary> {
    let (cfg, info, undo) = (cx.cfg, &p.info, cx.undo);
    let conn = &mut *cx.conn;
    // A dry run loads as the real run would (a --swap's new copy holds only the new
    // rows, as after --truncate) and rolls back; a table that cannot roll back only
    // has its values checked.
    let check_only = cfg.dry_run && (!info.transactional() || p.would_be);
    let dry = (cfg.dry_run && !check_only)
        .then(|| dry::before(conn, info))
        .transpose()?;
    let mut job = Job::new(cfg, conn, info, info.name.clone(), p.method)?;
    job.check_only = check_only;
    if p.created {
        job.failed_note = if super::table::may_drop(cfg, job.conn, &info.name)? {
            format!("nothing was loaded, and {} was dropped again", info.name)
        } else {
            format!(
                "nothing was loaded; {} stays, empty: the user may not drop it",
                info.name
            )
        };
        // Whatever its engine kept, the table this run made is dropped.
        job.rows_before = None;
    }
    job.conn.query_drop("START TRANSACTION").map_err(db_error)?;
    if cfg.old_rows.replaced() && !check_only {
        job.conn
            .query_drop(format!("DELETE FROM {}", info.name.quoted()))
            .map_err(db_error)?;
    }
    let result = inputs.into_iter().try_for_each(|i| job.load_input(i));
    let mut summary = job.finish(result)?;
    if cfg.dry_run {
        conn.query_drop("ROLLBACK").map_err(db_error)?;
        if let Some(before) = dry {
            summary.note = dry::what_stays(conn, info, &before, &p.triggers)?;
        }
        return Ok(summary);
    }
    if let Err(e) = before_commit(conn, &summary) {
        let _ = conn.query_drop("ROLLBACK");
        return Err(e);
    }
    cfg.progress.phase("every row is sent; committing");
    undo.disarmed(|| conn.query_drop("COMMIT"))
        .map_err(db_error)
        .context("committing the transaction")?;
    Ok(summary)
}
