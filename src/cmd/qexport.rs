//! qexport: a table or a query of a MySQL/MariaDB server as CSV on stdout or in a file.
//!
//! Rows are streamed with the text protocol (`query_iter`) and written one by one, so
//! memory stays flat whatever the size of the table. NULL is an unquoted empty field and
//! an empty string is `""` (or see `--null`).
//!
//! ```text
//! qexport users > users.csv
//! qexport shop.users | qgrep @gmail | qcount
//! qexport -e 'SELECT id, email FROM users WHERE id < 100' -o small.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{ArgAction, Parser};
use mysql::prelude::Queryable;
use mysql::Value;

use crate::cli::{mysql_style_args, ConnArgs, CsvArgs};
use crate::conn::{db_error, ConnConfig};
use crate::dialect::Dialect;
use crate::error::main_with;
use crate::out::Output;
use crate::sql::TableName;

const EXAMPLES: &str = "\
Examples:
  qexport users > users.csv
  qexport shop.users | qgrep @gmail | qcount
  qexport -e 'SELECT id, email FROM users WHERE id < 100' -o small.csv
  qexport --tsv --null '\\N' -h db1 -u reader -p users";

/// Export a MySQL/MariaDB table or query as CSV (RFC 4180, header row first).
#[derive(Parser, Debug)]
#[command(name = "qexport", version, disable_help_flag = true, after_help = EXAMPLES)]
pub struct Args {
    /// Table to export: TABLE or DATABASE.TABLE
    #[arg(value_name = "TABLE", required_unless_present = "execute")]
    table: Option<String>,

    /// Export the result of this query instead of a table
    ///
    /// Example: -e 'SELECT id, email FROM users WHERE created > NOW() - INTERVAL 1 DAY'
    #[arg(short = 'e', long, value_name = "QUERY", conflicts_with = "table")]
    execute: Option<String>,

    /// Write to FILE instead of stdout (through a temp file, renamed when complete)
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    csv: CsvArgs,

    #[command(flatten)]
    conn: ConnArgs,

    /// Print help (-h is --host, as in the mysql client)
    #[arg(short = '?', long, action = ArgAction::Help)]
    help: Option<bool>,
}

/// A validated export job.
#[derive(Debug)]
pub struct Config {
    query: String,
    dialect: Dialect,
    conn: ConnConfig,
    output: Option<PathBuf>,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let mut conn = ConnConfig::resolve(&args.conn, "qexport")?;
        let query = match (args.table, args.execute) {
            (_, Some(q)) => q,
            (Some(t), None) => {
                let name = TableName::parse(&t)?;
                if name.database.is_none() && conn.database.is_none() {
                    bail!("no database selected: use DATABASE.TABLE, -D DATABASE or --url .../DATABASE");
                }
                if let Some(db) = &name.database {
                    conn.database.get_or_insert_with(|| db.clone());
                }
                format!("SELECT * FROM {}", name.quoted())
            }
            (None, None) => bail!("nothing to export: give a TABLE or -e QUERY"),
        };
        Ok(Config {
            query,
            dialect: args.csv.dialect(),
            conn,
            output: args.output,
        })
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = cfg.conn.connect(&[])?;
    let mut out = Output::open(cfg.output.as_deref())?;
    let mut result = conn
        .query_iter(&cfg.query)
        .map_err(db_error)
        .context("running the export query")?;
    let columns = result.columns().as_ref().to_vec();
    if columns.is_empty() {
        bail!("the query returned no result set (was it a SELECT?)");
    }
    let d = &cfg.dialect;
    let mut buf = Vec::with_capacity(64 * 1024);
    if d.header {
        d.write_record(&mut buf, columns.iter().map(|c| Some(c.name_ref())));
    }
    for row in result.by_ref() {
        let row = row
            .map_err(db_error)
            .context("reading rows from the server")?;
        for i in 0..row.len() {
            if i > 0 {
                buf.push(d.delimiter);
            }
            match row.as_ref(i) {
                Some(Value::Bytes(b)) => d.write_value(&mut buf, b),
                Some(Value::NULL) | None => d.write_null(&mut buf),
                // The text protocol only sends bytes and NULL; anything else is a bug.
                Some(other) => bail!("unexpected value from the text protocol: {other:?}"),
            }
        }
        buf.push(b'\n');
        if buf.len() >= 60 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    drop(result);
    out.write_all(&buf)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

pub fn main() -> ExitCode {
    main_with("qexport", || {
        run(&Config::from_args(Args::parse_from(mysql_style_args()))?)
    })
}
