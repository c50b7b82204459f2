//! qimport: CSV from stdin or files into an existing MySQL/MariaDB table, all or nothing.
//!
//! Columns are matched to the header by name (case-insensitively); the whole load is one
//! transaction, so after any error the table is exactly as it was. The session runs in
//! strict mode, so the server rejects a bad value instead of silently mangling it, and the
//! error names the file, line, column and value.
//!
//! ```text
//! qimport users < users.csv
//! qimport shop.users part1.csv part2.csv
//! qexport -h old users | qimport -h new users
//! ```
//!
//! Rows travel as multi-row prepared INSERTs with every value a string parameter, so no
//! value is ever spliced into SQL text. When a batch fails, its rows are retried one by
//! one inside the same transaction to find the exact record the server refuses; the final
//! ROLLBACK undoes those too.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use crate::cli::{mysql_style_args, ServerCsvArgs};
use crate::conn::{db_error, ConnConfig};
use crate::dialect::Dialect;
use crate::error::{main_with, DataError};
use crate::input::open_all;
use crate::record::{Reader, Record};
use crate::schema::{ColumnInfo, TableInfo};
use crate::sql::{quote_ident, TableName};

const EXAMPLES: &str = "\
Examples:
  qimport users < users.csv
  qimport shop.users part1.csv part2.csv
  qexport -h old users | qimport -h new users
  qimport --tsv --null '\\N' -D shop users < users.tsv";

/// Load CSV into an existing MySQL/MariaDB table in one transaction: every row or none.
#[derive(Parser, Debug)]
#[command(name = "qimport", version, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Target table: TABLE or DATABASE.TABLE
    #[arg(value_name = "TABLE")]
    table: String,

    /// CSV files to load, each with its own header row [default: stdin]
    ///
    /// `-` is stdin. All files load in the same transaction.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Print nothing on success (by default one summary line goes to stderr)
    #[arg(short = 'q', long)]
    quiet: bool,

    #[command(flatten)]
    common: ServerCsvArgs,
}

/// A validated import job.
#[derive(Debug)]
pub struct Config {
    table: TableName,
    database: String,
    files: Vec<PathBuf>,
    dialect: Dialect,
    conn: ConnConfig,
    quiet: bool,
}

/// Session settings for loading: strict (bad values are errors, not warnings), an explicit
/// 0 in an AUTO_INCREMENT column stays 0, and no silent engine substitution.
const SESSION_SQL_MODE: &str =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

/// At most this many placeholders in one statement (the protocol's limit is 65,535).
const MAX_PARAMS: usize = 60_000;
const MAX_BATCH_ROWS: usize = 1000;
/// Flush a batch early past this many bytes of values, well under max_allowed_packet.
const MAX_BATCH_BYTES: usize = 4 << 20;

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let conn = ConnConfig::resolve(&args.common.conn, "qimport")?;
        let table = TableName::parse(&args.table)?;
        let Some(database) = table.database.clone().or_else(|| conn.database.clone()) else {
            bail!("no database selected: use DATABASE.TABLE, -D DATABASE or --url .../DATABASE");
        };
        Ok(Config {
            table,
            database,
            files: args.files,
            dialect: args.common.dialect(),
            conn,
            quiet: args.quiet,
        })
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = cfg.conn.connect(&[SESSION_SQL_MODE])?;
    let info = TableInfo::load(&mut conn, &cfg.database, &cfg.table.table)?;
    let full_name = info.name.clone();
    if let Some(e) = &info.engine {
        if !e.eq_ignore_ascii_case("InnoDB") {
            eprintln!(
                "qimport: warning: {full_name} uses ENGINE={e}, which cannot roll back: \
                 a failed import may leave some rows behind"
            );
        }
    }

    conn.query_drop("START TRANSACTION").map_err(db_error)?;
    let mut loader = Loader {
        conn,
        table: full_name.clone(),
        batch: Batch::default(),
        loaded: 0,
    };
    let result = load_all(cfg, &info, &mut loader);
    let loaded = loader.loaded;
    let mut conn = loader.conn;
    match result {
        Ok(()) => conn
            .query_drop("COMMIT")
            .map_err(db_error)
            .context("committing the transaction")?,
        Err(e) => {
            // Best effort: if the connection is gone the server rolls back by itself.
            let _ = conn.query_drop("ROLLBACK");
            return Err(anyhow!(
                "{e:#} (nothing was loaded: {full_name} is unchanged)"
            ));
        }
    }
    if !cfg.quiet {
        eprintln!("qimport: {full_name}: {loaded} rows loaded");
    }
    Ok(ExitCode::SUCCESS)
}

fn load_all(cfg: &Config, info: &TableInfo, loader: &mut Loader) -> anyhow::Result<()> {
    for input in open_all(&cfg.files)? {
        load_one(cfg, &input.name, input.reader, info, loader)?;
    }
    Ok(())
}

/// Stream one CSV source into the open transaction.
fn load_one(
    cfg: &Config,
    name: &str,
    src: impl Read,
    info: &TableInfo,
    loader: &mut Loader,
) -> anyhow::Result<()> {
    let d = &cfg.dialect;
    let mut rdr = Reader::new(src, d.delimiter).strict(true);
    let mut rec = Record::default();
    let read = |rdr: &mut Reader<_>, rec: &mut Record| rdr.read(rec).map_err(|e| e.in_file(name));
    let columns: Vec<ColumnInfo> = if d.header {
        if !read(&mut rdr, &mut rec)? {
            bail!("{name}: empty input: expected a header row (use -n if there is none)");
        }
        match_header(name, &rec, info)?
    } else {
        info.columns.clone()
    };
    loader.start_source(name, columns);
    while read(&mut rdr, &mut rec)? {
        let want = loader.batch.columns.len();
        if rec.len() != want {
            return Err(DataError::new(
                name,
                rec.line(),
                format!(
                    "expected {want} fields (as in the {}), found {}",
                    if d.header { "header" } else { "table" },
                    rec.len()
                ),
            )
            .into());
        }
        loader.push(&rec, d)?;
    }
    loader.flush()
}

/// Map header names to table columns: case-insensitive, every name known, none twice.
fn match_header(name: &str, header: &Record, info: &TableInfo) -> anyhow::Result<Vec<ColumnInfo>> {
    let mut cols: Vec<ColumnInfo> = Vec::with_capacity(header.len());
    for (i, (h, _)) in header.iter().enumerate() {
        let h = String::from_utf8_lossy(h);
        let Some(c) = info.column(h.trim()) else {
            let all: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "{name}:{line}: header field {n} {h:?} is not a column of {table} (its columns: {list})",
                line = header.line(),
                n = i + 1,
                table = info.name,
                list = all.join(", ")
            );
        };
        if cols.iter().any(|x| x.name == c.name) {
            bail!(
                "{name}:{}: column {:?} appears twice in the header",
                header.line(),
                c.name
            );
        }
        cols.push(c.clone());
    }
    Ok(cols)
}

/// Rows waiting to be sent, with where each came from.
#[derive(Default)]
struct Batch {
    source: String,
    columns: Vec<ColumnInfo>,
    values: Vec<Value>,
    lines: Vec<u64>,
    bytes: usize,
}

struct Loader {
    conn: Conn,
    table: TableName,
    batch: Batch,
    loaded: u64,
}

impl Loader {
    fn start_source(&mut self, name: &str, columns: Vec<ColumnInfo>) {
        self.batch = Batch {
            source: name.to_owned(),
            columns,
            ..Batch::default()
        };
    }

    fn max_rows(&self) -> usize {
        (MAX_PARAMS / self.batch.columns.len().max(1)).clamp(1, MAX_BATCH_ROWS)
    }

    fn push(&mut self, rec: &Record, d: &Dialect) -> anyhow::Result<()> {
        for ((v, quoted), col) in rec.iter().zip(&self.batch.columns) {
            self.batch.bytes += v.len();
            let value = if d.is_null(v, quoted) {
                Value::NULL
            } else {
                decode(col, v, d).map_err(|reason| {
                    DataError::new(&self.batch.source, rec.line(), reason)
                        .column(&col.name)
                        .value(Some(v))
                })?
            };
            self.batch.values.push(value);
        }
        self.batch.lines.push(rec.line());
        if self.batch.lines.len() >= self.max_rows() || self.batch.bytes >= MAX_BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn insert_sql(&self, rows: usize) -> String {
        let cols: Vec<String> = self
            .batch
            .columns
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect();
        let one = format!("({})", vec!["?"; cols.len()].join(","));
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table.quoted(),
            cols.join(","),
            vec![one; rows].join(",")
        )
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        let rows = self.batch.lines.len();
        if rows == 0 {
            return Ok(());
        }
        if self.batch.columns.is_empty() {
            bail!("{}: the header names no column", self.batch.source);
        }
        let values = std::mem::take(&mut self.batch.values);
        let sql = self.insert_sql(rows);
        if let Err(e) = self.conn.exec_drop(&sql, values.clone()) {
            return Err(self.locate_error(&values, e));
        }
        self.loaded += rows as u64;
        self.batch.lines.clear();
        self.batch.bytes = 0;
        Ok(())
    }

    /// A batch failed: retry its rows one at a time to name the record the server refuses.
    fn locate_error(&mut self, values: &[Value], batch_err: mysql::Error) -> anyhow::Error {
        let mysql::Error::MySqlError(_) = &batch_err else {
            return db_error(batch_err).context("loading rows");
        };
        let ncols = self.batch.columns.len();
        let sql = self.insert_sql(1);
        for (row, line) in values.chunks(ncols).zip(&self.batch.lines) {
            if let Err(mysql::Error::MySqlError(e)) = self.conn.exec_drop(&sql, row.to_vec()) {
                return self.data_error(*line, row, &e.message).into();
            }
        }
        db_error(batch_err).context(format!("loading rows from {}", self.batch.source))
    }

    fn data_error(&self, line: u64, row: &[Value], message: &str) -> DataError {
        let reason = message
            .trim_end_matches(" at row 1")
            .trim_end_matches(char::is_whitespace)
            .to_owned();
        let mut err = DataError::new(&self.batch.source, line, reason);
        let names: Vec<String> = self.batch.columns.iter().map(|c| c.name.clone()).collect();
        if let Some(col) = column_in_message(message, &names) {
            let i = names.iter().position(|c| c == &col);
            err = err.column(&col);
            if let Some(Value::Bytes(b)) = i.and_then(|i| row.get(i)) {
                err = err.value(Some(b));
            } else if i.is_some() {
                err = err.value(Some(b"NULL"));
            }
        }
        err
    }
}

/// A CSV value as the parameter for its column: binary columns are decoded (`--binary`),
/// BIT columns take a number; everything else goes as text for the server to convert.
fn decode(col: &ColumnInfo, v: &[u8], d: &Dialect) -> Result<Value, String> {
    if col.is_binary() {
        return d.binary.decode(v).map(Value::Bytes);
    }
    if col.data_type == "bit" {
        return std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Value::UInt)
            .ok_or_else(|| "a BIT value must be a number, such as 5".to_owned());
    }
    Ok(Value::Bytes(v.to_vec()))
}

/// The column a server error message is about: ``for column `db`.`t`.`c` `` (MariaDB),
/// `for column 'c'` (MySQL), or `Column 'c' cannot be null`.
fn column_in_message(msg: &str, columns: &[String]) -> Option<String> {
    let candidate = if let Some(rest) = msg.split("for column ").nth(1) {
        let rest = rest.split(" at row").next().unwrap_or(rest);
        rest.rsplit('.')
            .next()
            .map(|s| s.trim_matches(['`', '\'']).to_owned())
    } else if let Some(rest) = msg.strip_prefix("Column '") {
        rest.split('\'').next().map(str::to_owned)
    } else {
        None
    }?;
    columns
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&candidate))
        .cloned()
}

pub fn main() -> ExitCode {
    main_with("qimport", || {
        run(&Config::from_args(Args::parse_from(mysql_style_args()))?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_server_messages() {
        let cols = vec!["id".to_owned(), "name".to_owned()];
        assert_eq!(
            column_in_message(
                "Incorrect integer value: 'x' for column `db`.`t`.`id` at row 3",
                &cols
            ),
            Some("id".into())
        );
        assert_eq!(
            column_in_message("Data too long for column 'name' at row 1", &cols),
            Some("name".into())
        );
        assert_eq!(
            column_in_message("Column 'name' cannot be null", &cols),
            Some("name".into())
        );
        assert_eq!(
            column_in_message("Duplicate entry '1' for key 'PRIMARY'", &cols),
            None
        );
    }
}
