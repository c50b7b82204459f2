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
use super::{Checker, Config, Job, Summary, SESSION_SQL_MODE};
use crate::conn::db_error;
use crate::input::Input;
use crate::record::{Reader, Record};
use crate::schema::TableInfo;
use crate::sql::{quote_ident, TableName};

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
    let mut checker = Checker {
        cfg,
        errors: Vec::new(),
        rejects: cfg
            .rejects
            .as_deref()
            .map(|p| crate::out::Output::open(Some(p)))
            .transpose()?,
        rejected: 0,
    };
    let mut loaded_cols: BTreeSet<String> = BTreeSet::new();
    let mut rows = 0;
    let mut skipped = 0;
    // Header mapping is per input; a Job on the main connection does it.
    let job = Job::new(cfg, conn, info, stage.clone(), super::Method::LoadData)?;
    for input in inputs {
        let name = input.name;
        let mut rdr = Reader::new(input.reader, cfg.dialect.delimiter)
            .strict(true)
            .keep_raw(cfg.rejects.is_some());
        let mut header = None;
        if cfg.dialect.header {
            let mut rec = Record::default();
            if !rdr.read(&mut rec).map_err(|e| e.in_file(&name))? {
                anyhow::bail!(
                    "{name}: empty input: expected a header row (use -n if there is none)"
                );
            }
            header = Some(rec);
        }
        let layout = job.layout(&name, header.as_ref())?;
        loaded_cols.extend(layout.cols.iter().map(|c| c.name.clone()));
        let mode = match cfg.mode {
            Mode::Upsert => Mode::Insert,
            m => m,
        };
        let base = format!("qimport-{}-{rows}", std::process::id());
        let sql_for = |stream: &str| load::load_data_sql(stream, stage, &layout.cols, mode);
        let mut lines = Lines::default();
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
        if !checker.errors.is_empty() {
            break;
        }
        let sum = load::total(&parts);
        load::verify(&sum, lines.rows(), mode, &Lines::default())
            .map_err(|e| anyhow!("{name}: {e}"))?;
        rows += lines.rows();
        skipped += sum.skipped;
    }
    drop(job);
    if let Some(r) = checker.rejects.take() {
        r.finish()?;
    }
    if let Some(last) = checker.errors.last() {
        for e in &checker.errors[..checker.errors.len() - 1] {
            eprintln!("qimport: {e}");
        }
        let n = checker.errors.len();
        return Err(if n == 1 {
            anyhow!("{last} (nothing was loaded: {} is unchanged)", info.name)
        } else {
            anyhow!(
                "{last}\n{n} bad values; nothing was loaded: {} is unchanged",
                info.name
            )
        });
    }
    publish(cfg, conn, info, stage, &loaded_cols)?;
    let mut note = format!("; over {} connections", cfg.jobs);
    if skipped > 0 {
        let _ = write!(note, "; {skipped} duplicates skipped");
    }
    Ok(Summary { rows, note })
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
        let old = TableName {
            database: t.database.clone(),
            table: format!("{}__qimport_old_{}", t.table, std::process::id()),
        };
        conn.query_drop(format!(
            "RENAME TABLE {t} TO {o}, {s} TO {t}",
            t = t.quoted(),
            o = old.quoted(),
            s = stage.quoted()
        ))
        .map_err(db_error)
        .context("--jobs: renaming the loaded table into place")?;
        conn.query_drop(format!("DROP TABLE {}", old.quoted()))
            .map_err(db_error)?;
        return Ok(());
    }
    let list: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
    let l = list.join(", ");
    let verb = match cfg.mode {
        Mode::Ignore => "INSERT IGNORE",
        Mode::Replace => "REPLACE",
        Mode::Insert | Mode::Upsert => "INSERT",
    };
    let mut sql = format!(
        "{verb} INTO {} ({l}) SELECT {l} FROM {}",
        t.quoted(),
        stage.quoted()
    );
    if cfg.mode == Mode::Upsert {
        let upd: Vec<String> = list.iter().map(|c| format!("{c} = VALUES({c})")).collect();
        sql = format!("{sql} ON DUPLICATE KEY UPDATE {}", upd.join(", "));
    }
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
