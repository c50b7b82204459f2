//! `qimport -j N`: one import over N connections, still all or nothing.
//!
//! A regular file is cut into N runs of records, each read, checked and sent by its own
//! thread over its own connection (see [`Split`]); any other input's records are checked
//! as usual, cut into blocks at record boundaries and dealt to N connections, each running one LOAD DATA into a staging table (a `CREATE
//! TABLE ... LIKE` copy nobody reads). When every input is in and every count checks, the
//! rows appear in one step: an atomic `RENAME TABLE` when the target was empty (or
//! `--truncate`) and no foreign key or trigger involves it, otherwise one
//! `INSERT ... SELECT` transaction. On any failure the staging table is dropped and the
//! target is untouched.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use std::fs::File;
use std::io::Seek;

use super::args::Config;
use super::check::{Checker, CsvReader, Layout};
use super::choices::{Method, Mode, OldRows};
use super::defer;
use super::encode::Encoder;
use super::job::{Ctx, Job, Summary};
use super::load::{self, Lines, Loaded};
use super::table::{make_work_table, rename_into_place, unmark};
use qtools_csv::error::DataError;
use qtools_csv::positioned::Span;
use qtools_csv::record::Reader;

use crate::conn::db_error;
use crate::dberror::Code;
use crate::input::{Input, Source};
use crate::schema::TableInfo;
use crate::sql::TableName;

pub fn run(cx: &mut Ctx<'_>, inputs: Vec<Input>) -> anyhow::Result<Summary> {
    let (stage, deferred) =
        make_work_table(cx, "stage").context("--jobs: creating the staging table")?;
    let result = load_and_publish(cx, &stage, &deferred, inputs);
    // Gone already after a RENAME; after an INSERT ... SELECT or a failure, dropped here.
    super::undo::drop_tables(&cx.cfg.conn, cx.conn, std::slice::from_ref(&stage), true);
    result
}

fn load_and_publish(
    cx: &mut Ctx<'_>,
    stage: &TableName,
    deferred: &[defer::Key],
    inputs: Vec<Input>,
) -> anyhow::Result<Summary> {
    let Ctx {
        cfg,
        conn,
        info,
        undo,
    } = cx;
    let (cfg, info, undo) = (*cfg, *info, *undo);
    let mut workers: Vec<Conn> = (0..cfg.jobs)
        .map(|_| cfg.connect())
        .collect::<anyhow::Result<_>>()?;
    for w in &workers {
        undo.session(w);
    }
    let mut loaded_cols: BTreeSet<String> = BTreeSet::new();
    // The job on the main connection maps headers, checks values and reports errors; the
    // rows themselves go over the worker connections.
    let mut job = Job::new(cfg, conn, info, stage.clone(), Method::LoadData)?;
    let mode = match cfg.mode {
        Mode::Upsert => Mode::Insert,
        m => m,
    };
    let mut result = Ok(());
    // The inputs that can be read again, for the line of a duplicate key (see dups.rs).
    let mut again: Vec<Input> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for input in inputs {
        if job.checker.stop() {
            break;
        }
        let this: Vec<Input> = input.again().into_iter().collect();
        let (name, mut rdr, mut layout) = job.open_input(input)?;
        names.push(name.clone());
        numbered_by_the_input(cfg, info, &name, &mut layout)?;
        loaded_cols.extend(layout.cols.iter().map(|c| c.name.clone()));
        let base = format!("qimport-{}-{}", std::process::id(), job.rows);
        let sql_for = |stream: &str| load::load_data_sql(stream, stage, &layout.cols, mode);
        if job.checker.rejects.is_none() {
            if let Some(split) = Split::of(&rdr, cfg.jobs, cfg.dialect.delimiter)? {
                let parts = split.load(cfg, &name, &layout, &mut workers, &base, &sql_for)?;
                if let Err(e) = take_parts(&mut job, &name, &parts, mode, &this) {
                    result = Err(e);
                    break;
                }
                if !job.checker.errors.is_empty() {
                    break;
                }
                again.extend(this);
                continue;
            }
        }
        let mut lines = Lines::default();
        let checker = &mut job.checker;
        let (res, parts) = load::load_streams(&mut workers, &base, &sql_for, |send| {
            let mut enc = Encoder::new(send, &layout.cols);
            checker
                .read_records(&name, &mut rdr, &layout, &mut |row| {
                    lines.push(row.line);
                    enc.row(row)
                })
                .and_then(|()| enc.flush())
        })?;
        let () = res;
        if !job.checker.errors.is_empty() {
            break;
        }
        let sum = load::total(&parts);
        if let Err(e) = load::verify(&sum, lines.rows(), mode, &Lines::default()) {
            result = Err(job.refused(&name, &this, &sum, lines.rows(), &e));
            break;
        }
        job.rows += lines.rows();
        job.skipped += sum.skipped;
        again.extend(this);
    }
    let mut summary = job.finish(result)?;
    // For a duplicate the deferred build meets (see `defer`).
    let again = super::dups::all_or_none(again, names.len());
    let dups = super::dups::Explain {
        cfg,
        info,
        name: &names.join(", "),
        inputs: &again,
        earlier: &[],
    };
    let mut cx = Ctx {
        cfg,
        conn,
        info,
        undo,
    };
    publish(&mut cx, stage, deferred, &loaded_cols, &dups)?;
    let _ = write!(summary.note, "; over {} connections", cfg.jobs);
    Ok(summary)
}

/// A regular file cut into one run of records per connection, each read, checked and
/// sent by a thread of its own: the client's work runs on every core, and each
/// connection's rows are one contiguous stretch of the input (with the file's rows in key
/// order, each session appends to its own part of the index, as `mariadb-import` does
/// with one file per thread; dealing blocks out in turn made both sessions insert at
/// the same place). Used when the structural scan vouches for every cut; otherwise the
/// blocks of one reader go to the connections from a shared queue.
struct Split<'f> {
    file: &'f File,
    /// Where each run starts, and on which line; the last ends at `end`.
    cuts: Vec<(u64, u64)>,
    end: u64,
    width: usize,
}

/// What one run gave.
pub(super) struct Part {
    pub errors: Vec<DataError>,
    pub broken: bool,
    pub rows: u64,
    pub loaded: Loaded,
}

impl<'f> Split<'f> {
    fn of(rdr: &'f CsvReader, parts: usize, delim: u8) -> anyhow::Result<Option<Split<'f>>> {
        let Source::File(file) = rdr.get_ref() else {
            return Ok(None);
        };
        // What the reader holds past the header is read again, in place.
        let from = (&*file).stream_position()? - rdr.buffered() as u64;
        let end = file.metadata()?.len();
        let Some(width) = rdr.width() else {
            return Ok(None);
        };
        Ok(
            qtools_csv::split::split_at_records(file, (from, end), rdr.line(), parts, delim)?
                .filter(|cuts| cuts.len() > 1)
                .map(|cuts| Split {
                    file,
                    cuts,
                    end,
                    width,
                }),
        )
    }

    /// Load every run into the staging table over its own connection.
    fn load(
        &self,
        cfg: &Config,
        name: &str,
        layout: &Layout,
        workers: &mut [Conn],
        base: &str,
        sql_for: &(dyn Fn(&str) -> String + Sync),
    ) -> anyhow::Result<Vec<Part>> {
        let delim = cfg.dialect.delimiter;
        let ends = self.cuts.iter().skip(1).map(|c| c.0).chain([self.end]);
        std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .iter_mut()
                .zip(self.cuts.iter().zip(ends))
                .enumerate()
                .map(|(i, (conn, (&(at, line), to)))| {
                    s.spawn(move || -> anyhow::Result<Part> {
                        let span = Span {
                            src: self.file,
                            at,
                            end: to,
                        };
                        let mut rdr = Reader::new(span, delim)
                            .strict(true)
                            .resume(line, Some(self.width));
                        let mut checker = Checker::new(cfg);
                        let mut rows = 0;
                        let stream = format!("{base}-{i}");
                        let ((), loaded) =
                            load::load_stream(conn, &stream, &sql_for(&stream), |send| {
                                let mut enc = Encoder::new(send, &layout.cols);
                                checker
                                    .read_records(name, &mut rdr, layout, &mut |row| {
                                        rows += 1;
                                        enc.row(row)
                                    })
                                    .and_then(|()| enc.flush())
                            })?;
                        Ok(Part {
                            errors: checker.errors,
                            broken: checker.broken,
                            rows,
                            loaded,
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| anyhow!("a loading thread panicked"))?)
                .collect()
        })
    }
}

/// Over N connections the server numbers rows in the order they arrive, not in input
/// order: an AUTO_INCREMENT column must get its values from the input, every one (a NULL
/// is refused as a bad value), or the import is refused before any row is sent.
fn numbered_by_the_input(
    cfg: &Config,
    info: &TableInfo,
    name: &str,
    layout: &mut Layout,
) -> anyhow::Result<()> {
    let Some(ai) = info.columns.iter().find(|c| c.is_auto_increment()) else {
        return Ok(());
    };
    let Some(col) = layout.cols.iter().position(|c| c.name == ai.name) else {
        bail!(
            "-j {}: {name} has no field for the AUTO_INCREMENT column {} of {}: the server would \
             number the rows in the order they arrive over the connections, not in input order; \
             load with -j 1, or give the ids",
            cfg.jobs,
            ai.name,
            info.name
        );
    };
    for f in layout.fields.iter_mut().flatten().filter(|f| f.col == col) {
        f.null_ok = false;
        f.null_refused = "NULL in the AUTO_INCREMENT column: over -j N connections the server would \
                          number such rows in the order they arrive, not in input order (give every id, \
                          or load with -j 1)";
    }
    Ok(())
}

/// Make the staged rows visible in one step.
fn publish(
    cx: &mut Ctx<'_>,
    stage: &TableName,
    deferred: &[defer::Key],
    cols: &BTreeSet<String>,
    dups: &super::dups::Explain<'_>,
) -> anyhow::Result<()> {
    let (cfg, info, undo) = (cx.cfg, cx.info, cx.undo);
    let conn = &mut *cx.conn;
    let t = &info.name;
    let relations = super::relations::Relations::load(conn, t)?;
    // A RENAME would lose what only the old table has: its foreign keys and triggers (or
    // another's that this user cannot see), and a system-versioned table's history.
    let renamable = !relations.any() && relations.complete && info.period.is_none();
    let empty: Option<u64> = conn
        .query_first(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) x",
            t.quoted()
        ))
        .map_err(db_error)?;
    let truncate = cfg.old_rows == OldRows::Delete;
    // The indexes the staging table was made without are built only for a RENAME: an
    // INSERT ... SELECT reads it once, in key order, without them.
    let rename = renamable && (empty == Some(0) || truncate);
    if rename {
        let unchanged = format!("nothing was loaded: {t} is unchanged");
        defer::build(cfg, conn, stage, deferred, dups, &unchanged)?;
    }
    cfg.progress
        .phase("every row is in the staging table; moving them into place");
    if rename {
        unmark(conn, t, stage)?;
        let moved = undo
            .disarmed(|| rename_into_place(conn, t, stage, !truncate))
            .context("--jobs")?;
        if moved {
            return Ok(());
        }
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
        if truncate {
            conn.query_drop(format!("DELETE FROM {}", t.quoted()))
                .map_err(db_error)?;
        }
        // The move sends nothing until it ends, however long that takes (as the
        // deferred index build).
        match crate::conn::query_patiently(conn, &sql)? {
            Err(mysql::Error::MySqlError(m)) if Code::of(m.code) == Code::DupEntry => {
                if let Some(d) = super::dups::Duplicate::of(Code::DupEntry, &m.message) {
                    bail!(
                        "{} (nothing was loaded: {t} is unchanged)",
                        dups.say(conn, &d, 0)
                    );
                }
                return Err(db_error(mysql::Error::MySqlError(m)))
                    .context("--jobs: moving the staged rows in");
            }
            r => r
                .map_err(db_error)
                .context("--jobs: moving the staged rows in")?,
        }
        undo.disarmed(|| conn.query_drop("COMMIT"))
            .map_err(db_error)?;
        Ok(())
    })();
    if done.is_err() {
        let _ = conn.query_drop("ROLLBACK");
    }
    done
}

/// Take what the runs of one split input gave (see `parallel::Split`): their bad
/// values in input order, as one reader would have met them (none past a run that
/// could not be read on), or else their rows, once each run's count checks.
fn take_parts(
    job: &mut Job<'_>,
    name: &str,
    parts: &[Part],
    mode: Mode,
    again: &[Input],
) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for p in parts {
        errors.extend(p.errors.iter().cloned());
        if p.broken {
            break;
        }
    }
    errors.sort_by_key(|e| e.line);
    errors.truncate(usize::try_from(job.checker.cfg.max_errors).unwrap_or(usize::MAX));
    if !errors.is_empty() {
        job.checker.errors.extend(errors);
        return Ok(());
    }
    for p in parts {
        if let Err(e) = load::verify(&p.loaded, p.rows, mode, &Lines::default()) {
            // Said for all the runs at once: the first duplicate of the file, and how
            // many the runs skipped in all.
            let rows = parts.iter().map(|p| p.rows).sum();
            let all = load::total(parts.iter().map(|p| &p.loaded));
            return Err(job.refused(name, again, &all, rows, &e));
        }
        job.rows += p.rows;
        job.skipped += p.loaded.skipped;
    }
    Ok(())
}
