//! One import into one table over any number of inputs: the header mapped to the columns,
//! the records checked and sent (LOAD DATA or INSERT batches), and the end: the summary,
//! or a failure that says truthfully what it left.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;
use qtools_csv::error::DataError;
use qtools_csv::record::{Reader, Record};

use crate::conn::db_error;
use crate::flavour::Server;
use crate::input::Input;
use crate::out::Output;
use crate::schema::{SqlType, TableInfo};
use crate::sql::TableName;

use super::args::Config;
use super::check::{layout, Checker, CsvReader, Layout};
use super::choices::{Method, Mode, OldRows};
use super::dups;
use super::encode::Encoder;
use super::insert::Inserter;
use super::load::{self, Lines, Loaded};
use super::undo::Undo;

/// The method that will run, and why (for the summary line).
pub(super) fn choose_method(cfg: &Config, conn: &mut Conn) -> anyhow::Result<(Method, String)> {
    let local: Option<i64> = conn
        .query_first("SELECT @@local_infile")
        .map_err(db_error)?;
    let allowed = local == Some(1);
    Ok(match cfg.method {
        Method::Insert => (Method::Insert, "INSERT batches (--method insert)".into()),
        Method::LoadData if !allowed => {
            bail!("--method load-data: the server has local_infile off (SET GLOBAL local_infile = 1, or use --method insert)")
        }
        Method::LoadData | Method::Auto if allowed => {
            (Method::LoadData, "LOAD DATA LOCAL INFILE".into())
        }
        _ => (
            Method::Insert,
            "INSERT batches: the server has local_infile off".into(),
        ),
    })
}

/// The columns of `layout` (by index) that may take an ENUM's error value `''` in this
/// run: ENUMs without a member `''`, in a restore.
pub(super) fn error_value_enums(cfg: &Config, layout: &Layout) -> Vec<usize> {
    if !cfg.lenient.enum_error_value {
        return Vec::new();
    }
    layout
        .cols
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            matches!(&c.ty, SqlType::Enum(members) if !members.iter().any(String::is_empty))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The import's sql_mode without strictness (for the one statement that stores ENUM
/// error values), keeping ALLOW_INVALID_DATES when the restore takes it.
pub(super) fn lax_sql_mode(cfg: &Config) -> String {
    let mut mode = String::from("'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION");
    if cfg.lenient.invalid_dates {
        mode.push_str(",ALLOW_INVALID_DATES");
    }
    mode.push('\'');
    mode
}

/// The input-order column of the upsert staging table.
pub(super) const UPSERT_SEQ: &str = "`__qimport_seq`";

/// What a load did, for the summary line.
pub(super) struct Summary {
    pub(super) rows: u64,
    pub(super) note: String,
    /// The --rejects file, written but not yet in place: it is kept only once the load
    /// is published (a failure after this, of a COMMIT, a RENAME, the -j publish, leaves
    /// none, as any other failure).
    pub(super) rejects: Option<Output>,
}

impl Summary {
    /// The load is published: the --rejects file takes its name.
    pub(super) fn keep_rejects(&mut self) -> anyhow::Result<()> {
        if let Some(r) = self.rejects.take() {
            r.finish()?;
        }
        Ok(())
    }
}

/// A load that InnoDB rolled back to end a deadlock with another session (its whole
/// message): the table is unchanged, and a load of files may be tried again.
#[derive(Debug)]
pub(super) struct LostDeadlock(String);

impl std::fmt::Display for LostDeadlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LostDeadlock {}

/// What every step of one table's load works with: the run's choices, its main session,
/// the table, and what Ctrl-C or SIGTERM undoes (see: #26).
pub(super) struct Ctx<'a> {
    pub(super) cfg: &'a Config,
    pub(super) conn: &'a mut Conn,
    pub(super) info: &'a TableInfo,
    pub(super) undo: &'a Undo,
}

/// One import into one table (in an open transaction), over any number of inputs.
pub(super) struct Job<'a> {
    pub(super) checker: Checker<'a>,
    pub(super) conn: &'a mut Conn,
    pub(super) info: &'a TableInfo,
    /// Where rows go: the table, or the new copy with --swap.
    pub(super) target: TableName,
    pub(super) method: Method,
    pub(super) rows: u64,
    pub(super) skipped: u64,
    pub(super) replaced: u64,
    /// `--dry-run` on a table that cannot roll back: check the values, send nothing.
    pub(super) check_only: bool,
    /// What a failure leaves, for its message: by default, nothing changed.
    pub(super) failed_note: String,
    /// The target's rows before the load, when it cannot roll back (to say what a
    /// failure left in it).
    pub(super) rows_before: Option<u64>,
    /// The inputs loaded before the current one (those that can be read again): where a
    /// duplicate key may have come from.
    pub(super) earlier: Vec<Input>,
}

impl<'a> Job<'a> {
    pub(super) fn new(
        cfg: &'a Config,
        conn: &'a mut Conn,
        info: &'a TableInfo,
        target: TableName,
        method: Method,
    ) -> anyhow::Result<Self> {
        let rejects = cfg
            .rejects
            .as_deref()
            .map(|p| Output::open(Some(p)))
            .transpose()?;
        // Only a load straight into a table that cannot roll back leaves rows behind: a
        // work table (--swap, -j) is dropped.
        let rows_before = if target == info.name && !info.transactional() && !cfg.dry_run {
            conn.query_first(format!("SELECT COUNT(*) FROM {}", target.quoted()))
                .map_err(db_error)?
        } else {
            None
        };
        Ok(Job {
            failed_note: format!("nothing was loaded: {} is unchanged", info.name),
            checker: Checker {
                rejects,
                ..Checker::new(cfg)
            },
            conn,
            info,
            target,
            method,
            rows: 0,
            skipped: 0,
            replaced: 0,
            check_only: false,
            rows_before,
            earlier: Vec::new(),
        })
    }

    /// Open one input: its reader, past the header, and how its fields map to the table
    /// (writing the header line of --rejects).
    pub(super) fn open_input(
        &mut self,
        input: Input,
    ) -> anyhow::Result<(String, CsvReader, Layout)> {
        let name = input.name;
        let d = &self.checker.cfg.dialect;
        let mut rdr = Reader::new(input.reader, d.delimiter)
            .strict(true)
            .whole_lines(input.stream);
        let mut header = None;
        if d.header {
            let mut rec = Record::default();
            if !rdr.read(&mut rec).map_err(|e| e.in_file(&name))? {
                bail!("{name}: empty input: expected a header row (use -n if there is none)");
            }
            header = Some(rec);
        }
        let layout = layout(self.checker.cfg, self.info, &name, header.as_ref())?;
        if header.is_none() {
            rdr = rdr.expect_width(layout.fields.len());
        }
        if let (Some(r), Some(h)) = (&mut self.checker.rejects, &header) {
            let mut line = h.raw().trim_ascii_end().to_vec();
            line.push(d.delimiter);
            line.extend_from_slice(b"qimport_error\n");
            r.write_all(&line)?;
        }
        Ok((name, rdr, layout))
    }

    pub(super) fn load_input(&mut self, input: Input) -> anyhow::Result<()> {
        if self.checker.stop() {
            return Ok(());
        }
        // A file, to be read again if a duplicate key needs its line (see dups.rs).
        let again: Vec<Input> = input.again().into_iter().collect();
        let (name, mut rdr, layout) = self.open_input(input)?;
        match self.method {
            _ if self.check_only => {
                let mut n = 0;
                self.checker
                    .read_records(&name, &mut rdr, &layout, &mut |_| {
                        n += 1;
                        Ok(())
                    })?;
                self.rows += n;
                Ok(())
            }
            Method::Insert => self.insert(&name, &mut rdr, &layout, &again),
            Method::LoadData | Method::Auto => self.load_data(&name, &mut rdr, &layout, &again),
        }?;
        self.earlier.extend(again);
        Ok(())
    }

    /// Load one input with INSERT batches.
    pub(super) fn insert(
        &mut self,
        name: &str,
        rdr: &mut CsvReader,
        layout: &Layout,
        again: &[Input],
    ) -> anyhow::Result<()> {
        let mode = self.checker.cfg.mode;
        let mut ins = Inserter::new(self.conn, self.target.clone(), layout.cols.clone(), mode);
        let mut refused = None;
        let res = self.checker.read_records(name, rdr, layout, &mut |row| {
            ins.row(row.values, row.line).map_err(|r| {
                refused = Some(r);
                anyhow!("refused")
            })
        });
        if res.is_ok() {
            if let Err(r) = ins.flush() {
                refused = Some(r);
            }
        }
        let (sent, skipped) = (ins.rows, ins.skipped);
        if let Some(r) = refused {
            if let Some(dup) = r.code.and_then(|c| dups::Duplicate::of(c, &r.message)) {
                let dups = explain(self.checker.cfg, self.info, &self.earlier, name, again);
                bail!(dups.at(self.conn, &dup, r.line));
            }
            let mut e = DataError::new(name, r.line, r.message);
            if let Some(c) = &r.column {
                e = e.column(c).value(r.value.as_deref());
            }
            self.checker.errors.push(e);
            return Ok(());
        }
        res?;
        self.rows += sent;
        self.skipped += skipped;
        Ok(())
    }

    /// Stream one input with LOAD DATA (through a temporary staging table for upserts).
    pub(super) fn load_data(
        &mut self,
        name: &str,
        rdr: &mut CsvReader,
        layout: &Layout,
        again: &[Input],
    ) -> anyhow::Result<()> {
        let mode = self.checker.cfg.mode;
        let stage = TableName {
            database: None,
            table: format!("_qimport_stage_{}", std::process::id()),
        };
        let cols: Vec<String> = layout.cols.iter().map(|c| c.name.clone()).collect();
        let into = if mode == Mode::Upsert {
            // The loaded columns with their types but none of the table's keys (a file may
            // repeat a key), numbered in input order so that the merge applies them in
            // that order: the later record wins, as with --method insert. (One a failed
            // try of this session left is dropped first.)
            self.conn
                .query_drop(format!("DROP TEMPORARY TABLE IF EXISTS {}", stage.quoted()))
                .map_err(db_error)?;
            self.conn
                .query_drop(format!(
                    "CREATE TEMPORARY TABLE {} ({UPSERT_SEQ} BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY) \
                     SELECT {} FROM {} LIMIT 0",
                    stage.quoted(),
                    load::column_list(&cols),
                    self.target.quoted()
                ))
                .map_err(db_error)?;
            stage.clone()
        } else {
            self.target.clone()
        };
        let stream = format!("qimport-{}-{}", std::process::id(), self.rows);
        let mut sql = load::load_data_sql(
            &stream,
            &into,
            &layout.cols,
            if mode == Mode::Upsert {
                Mode::Insert
            } else {
                mode
            },
        );
        // A restore may hold an ENUM's error value '', which only a non-strict statement
        // stores (with a warning each: counted below, and nothing else may warn).
        let error_enums = error_value_enums(self.checker.cfg, layout);
        let mut after = Vec::new();
        if !error_enums.is_empty() {
            let scoped =
                Server::of(self.conn)?.with_sql_mode(&lax_sql_mode(self.checker.cfg), &sql);
            for s in &scoped.before {
                self.conn.query_drop(s).map_err(db_error)?;
            }
            sql = scoped.statement;
            after = scoped.after;
        }
        let mut lines = Lines::default();
        let mut empties = 0u64;
        let checker = &mut self.checker;
        let (res, loaded) = load::load_stream(self.conn, &stream, &sql, |send| {
            let mut enc = Encoder::new(send, &layout.cols);
            checker
                .read_records(name, rdr, layout, &mut |row| {
                    lines.push(row.line);
                    empties += error_enums
                        .iter()
                        .filter(|&&i| row.values[i] == Some(&b""[..]))
                        .count() as u64;
                    enc.row(row)
                })
                .and_then(|()| enc.flush())
        })?;
        for s in &after {
            self.conn.query_drop(s).map_err(db_error)?;
        }
        let () = res;
        if !self.checker.errors.is_empty() {
            return Ok(());
        }
        let mut loaded = loaded;
        if empties > 0 {
            loaded.expect_enum_error_values(empties);
        }
        if let Err(e) = load::verify(&loaded, lines.rows(), mode, &lines) {
            return Err(self.refused(name, again, &loaded, lines.rows(), &e));
        }
        self.skipped += loaded.skipped;
        self.replaced += loaded.deleted;
        if mode == Mode::Upsert {
            let l = load::column_list(&cols);
            let sql = load::insert_sql(
                Mode::Upsert,
                &self.target,
                &cols,
                &format!("SELECT {l} FROM {} ORDER BY {UPSERT_SEQ}", stage.quoted()),
            );
            // The merge sends nothing until it ends, however long that takes.
            crate::conn::query_patiently(self.conn, &sql)?
                .map_err(db_error)
                .context("upsert: merging the staged rows")?;
            self.conn
                .query_drop(format!("DROP TEMPORARY TABLE {}", stage.quoted()))
                .map_err(db_error)?;
        }
        self.rows += lines.rows();
        Ok(())
    }

    /// A load of `rows` records whose count or warnings did not check (`e`, from
    /// `load::verify`): a duplicate key said as such (see dups.rs), anything else as
    /// `verify` said it. `again`: the inputs that can be read again.
    pub(super) fn refused(
        &mut self,
        name: &str,
        again: &[Input],
        loaded: &Loaded,
        rows: u64,
        e: &anyhow::Error,
    ) -> anyhow::Error {
        let dups = explain(self.checker.cfg, self.info, &self.earlier, name, again);
        (loaded.records == rows)
            .then(|| dups.loaded(self.conn, &loaded.messages, loaded.skipped))
            .flatten()
            .map_or_else(|| anyhow!("{name}: {e}"), |m| anyhow!(m))
    }

    /// What a failure left in the table, in words: nothing, or (for a table that cannot
    /// roll back) the rows the server took before it.
    pub(super) fn after_failure(&mut self) -> String {
        let _ = self.conn.query_drop("ROLLBACK");
        let Some(before) = self.rows_before else {
            return self.failed_note.clone();
        };
        let now: Option<u64> = self
            .conn
            .query_first(format!("SELECT COUNT(*) FROM {}", self.target.quoted()))
            .ok()
            .flatten();
        let engine = self.info.engine.as_deref().unwrap_or_default();
        let emptied = if self.checker.cfg.old_rows == OldRows::Delete {
            "--truncate emptied it and "
        } else {
            ""
        };
        match now {
            Some(n) if n == before && emptied.is_empty() => self.failed_note.clone(),
            Some(n) => format!(
                "{} cannot roll back (ENGINE={engine}): {emptied}it now has {} ({} before)",
                self.info.name,
                crate::error::plural(n, "row"),
                before
            ),
            None => format!(
                "{} cannot roll back (ENGINE={engine}): rows sent before the error may remain",
                self.info.name
            ),
        }
    }

    /// `N bad records written to FILE` (--rejects).
    fn set_aside(&self) -> String {
        format!(
            "{} written to {}",
            crate::error::plural(self.checker.rejected, "bad record"),
            self.checker
                .cfg
                .rejects
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )
    }

    /// End the import: report bad values (the caller rolls back) or the summary.
    pub(super) fn finish(mut self, result: anyhow::Result<()>) -> anyhow::Result<Summary> {
        // With --rejects and no --max-errors, a load in which every record is bad fails:
        // it would empty or replace the table with nothing (--truncate, --swap).
        let all_bad =
            self.checker.cfg.rejects_limit.is_none() && self.checker.rejected > 0 && self.rows == 0;
        let mut rejects = None;
        if let Some(r) = self.checker.rejects.take() {
            if result.is_err() || !self.checker.errors.is_empty() {
                // A failed load wrote no rejects worth keeping: no header-only file.
                r.abort("qimport", "the load failed");
            } else {
                rejects = Some(r);
            }
        }
        if all_bad && result.is_ok() && self.checker.errors.is_empty() {
            // The bad records are what the user needs to look at: kept.
            if let Some(r) = rejects.take() {
                r.finish()?;
            }
            let unchanged = self.after_failure();
            bail!(
                "every record was bad: {}, none loaded ({unchanged})",
                self.set_aside()
            );
        }
        // Without a header, an input with no record cannot be told from a producer that
        // died before writing: it must not empty the table.
        let cfg = self.checker.cfg;
        let emptying = cfg.old_rows.replaced() && !cfg.dialect.header;
        let clean = result.is_ok() && self.checker.errors.is_empty();
        if emptying && clean && self.rows == 0 && self.checker.rejected == 0 {
            let unchanged = self.after_failure();
            let flag = if cfg.old_rows == OldRows::Delete {
                "--truncate"
            } else {
                "--swap"
            };
            bail!(
                "the input holds no record: with -n, an empty input looks the same as one whose \
                 producer failed before writing, and {flag} would empty the table with it \
                 ({unchanged}); to empty a table on purpose, DELETE or TRUNCATE it"
            );
        }
        if let Err(e) = result {
            let unchanged = self.after_failure();
            let said = format!("{e:#} ({unchanged})");
            if crate::dberror::ServerError::is(&e, crate::dberror::Code::Deadlock) {
                return Err(anyhow::Error::new(LostDeadlock(said)));
            }
            return Err(anyhow!(said));
        }
        let errors = std::mem::take(&mut self.checker.errors);
        if let Some(last) = errors.last() {
            let unchanged = self.after_failure();
            if errors.len() == 1 {
                return Err(anyhow!("{last} ({unchanged})"));
            }
            for e in &errors {
                eprintln!("qimport: {e}");
            }
            let more = if errors.len() as u64 >= self.checker.cfg.max_errors {
                format!(" (stopped at --max-errors {})", self.checker.cfg.max_errors)
            } else {
                String::new()
            };
            return Err(anyhow!(
                "{}{more}; {unchanged}",
                crate::error::plural(errors.len() as u64, "bad record")
            ));
        }
        let mut note = String::new();
        if self.skipped > 0 {
            let _ = write!(note, "; {} duplicates skipped", self.skipped);
        }
        if self.replaced > 0 {
            let _ = write!(note, "; {} existing rows replaced", self.replaced);
        }
        if self.checker.rejected > 0 {
            let _ = write!(note, "; {}", self.set_aside());
        }
        Ok(Summary {
            // Rows in the table now: a skipped duplicate is not loaded.
            rows: self.rows - self.skipped,
            note,
            rejects,
        })
    }
}

/// How a duplicate key in `name` is told (see dups.rs): `earlier`, the inputs loaded
/// before it; `again`, it, to be read again.
fn explain<'e>(
    cfg: &'e Config,
    info: &'e TableInfo,
    earlier: &'e [Input],
    name: &'e str,
    again: &'e [Input],
) -> dups::Explain<'e> {
    dups::Explain {
        cfg,
        info,
        name,
        inputs: again,
        earlier,
    }
}
