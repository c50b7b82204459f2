//! `qimport -j N`: one import over N connections, still all or nothing.
//!
//! Each input's records are checked as usual, cut into blocks at record boundaries and
//! dealt to N connections, each running one LOAD DATA into a staging table (a `CREATE
//! TABLE ... LIKE` copy nobody reads). When every input is in and every count checks, the
//! rows appear in one step: an atomic `RENAME TABLE` when the target was empty (or
//! `--truncate`) and no foreign key or trigger involves it, otherwise one
//! `INSERT ... SELECT` transaction. On any failure the staging table is dropped and the
//! target is untouched.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{anyhow, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::load::{self, Encoder, Lines, Mode};
use super::{rename_into_place, Config, Job, Summary, SESSION_SQL_MODE};
use crate::conn::db_error;
use crate::input::Input;
use crate::schema::TableInfo;
use crate::sql::TableName;

pub fn run(
    cfg: &Config,
    conn: &mut Conn,
    info: &TableInfo,
    inputs: Vec<Input>,
) -> anyhow::Result<Summary> {
    let t = &info.name;
    let stage = TableName {
        database: t.database.clone(),
        table: format!("{}__qimport_stage_{}", t.table, std::process::id()),
    };
    conn.query_drop(format!(
        "CREATE TABLE {} LIKE {}",
        stage.quoted(),
        t.quoted()
    ))
    .map_err(db_error)
    .context("--jobs: creating the staging table")?;
    let result = load_and_publish(cfg, conn, info, &stage, inputs);
    let _ = conn.query_drop(format!("DROP TABLE IF EXISTS {}", stage.quoted()));
    result
}

fn load_and_publish(
    cfg: &Config,
    conn: &mut Conn,
    info: &TableInfo,
    stage: &TableName,
    inputs: Vec<Input>,
) -> anyhow::Result<Summary> {
    let mut workers: Vec<Conn> = (0..cfg.jobs)
        .map(|_| cfg.conn.connect(&[SESSION_SQL_MODE]))
        .collect::<anyhow::Result<_>>()?;
    let mut loaded_cols: BTreeSet<String> = BTreeSet::new();
    // The job on the main connection maps headers, checks values and reports errors; the
    // rows themselves go over the worker connections.
    let mut job = Job::new(cfg, conn, info, stage.clone(), super::Method::LoadData)?;
    let mode = match cfg.mode {
        Mode::Upsert => Mode::Insert,
        m => m,
    };
    let mut result = Ok(());
    for input in inputs {
        if job.checker.stop() {
            break;
        }
        let (name, mut rdr, layout) = job.open_input(input)?;
        loaded_cols.extend(layout.cols.iter().map(|c| c.name.clone()));
        let base = format!("qimport-{}-{}", std::process::id(), job.rows);
        let sql_for = |stream: &str| load::load_data_sql(stream, stage, &layout.cols, mode);
        let mut lines = Lines::default();
        let checker = &mut job.checker;
        let (res, parts) = load::load_streams(&mut workers, &base, &sql_for, |send| {
            let mut enc = Encoder {
                kinds: layout.kinds.clone(),
                buf: Vec::with_capacity(300 * 1024),
                send,
            };
            checker
                .read_records(&name, &mut rdr, &layout, &mut |values, line| {
                    lines.push(line);
                    enc.row(values)
                })
                .and_then(|()| enc.flush())
        })?;
        let () = res;
        if !job.checker.errors.is_empty() {
            break;
        }
        let sum = load::total(&parts);
        if let Err(e) = load::verify(&sum, lines.rows(), mode, &Lines::default()) {
            result = Err(anyhow!("{name}: {e}"));
            break;
        }
        job.rows += lines.rows();
        job.skipped += sum.skipped;
    }
    let mut summary = job.finish(result)?;
    publish(cfg, conn, info, stage, &loaded_cols)?;
    let _ = write!(summary.note, "; over {} connections", cfg.jobs);
    Ok(summary)
}

/// Make the staged rows visible in one step.
fn publish(
    cfg: &Config,
    conn: &mut Conn,
    info: &TableInfo,
    stage: &TableName,
    cols: &BTreeSet<String>,
) -> anyhow::Result<()> {
    let t = &info.name;
    let db = t.database.clone().unwrap_or_default();
    let involved: Option<u64> = conn
        .exec_first(
            "SELECT (SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS \
                     WHERE (CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?) \
                        OR (UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?)) \
                  + (SELECT COUNT(*) FROM information_schema.TRIGGERS \
                     WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?)",
            (&db, &t.table, &db, &t.table, &db, &t.table),
        )
        .map_err(db_error)?;
    let empty: Option<u64> = conn
        .query_first(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) x",
            t.quoted()
        ))
        .map_err(db_error)?;
    if involved == Some(0) && (empty == Some(0) || cfg.truncate) {
        return rename_into_place(conn, t, stage).context("--jobs");
    }
    let cols: Vec<String> = cols.iter().cloned().collect();
    let l = load::column_list(&cols);
    let sql = load::insert_sql(
        cfg.mode,
        t,
        &cols,
        &format!("SELECT {l} FROM {}", stage.quoted()),
    );
    conn.query_drop("START TRANSACTION").map_err(db_error)?;
    let done = (|| -> anyhow::Result<()> {
        if cfg.truncate {
            conn.query_drop(format!("DELETE FROM {}", t.quoted()))
                .map_err(db_error)?;
        }
        conn.query_drop(&sql)
            .map_err(db_error)
            .context("--jobs: moving the staged rows in")?;
        conn.query_drop("COMMIT").map_err(db_error)?;
        Ok(())
    })();
    if done.is_err() {
        let _ = conn.query_drop("ROLLBACK");
    }
    done
}
