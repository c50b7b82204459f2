//! qexport: a table or a query of a MySQL/MariaDB server as CSV on stdout or in a file,
//! or a whole database as a backup folder.
//!
//! Rows are streamed with the text protocol (`query_iter`), so memory stays flat whatever
//! the size of the table. Every value comes out losslessly: NULL is an unquoted empty field
//! and an empty string `""`, binary columns are hex (`--binary`), BIT is a number, FLOAT is
//! read as DOUBLE (the server prints FLOAT with 6 digits only), TIMESTAMP is in UTC.
//!
//! ```text
//! qexport users > users.csv
//! qexport shop.users | qgrep @gmail | qcount
//! qexport -j 4 --where 'created >= CURDATE()' users -o today.csv.zst --zstd
//! parallel -k qexport --shard {}/4 users ::: 1 2 3 4 > users.csv
//! qexport --all -o backup/$(date +%F)
//! ```
//!
//! Layout: `args` (flags to a `Config`), `plan` decides what to read (the SELECT, key ranges
//! for chunks and shards), `read` checks that a query only reads and runs the jobs under
//! one snapshot (telling a lock waited for in vain), `engine` reads and formats rows (one
//! streaming connection, or N in parallel put back in order); for `--all`, `scope` decides
//! what the user may read, `objects` reads views, routines, triggers, events and
//! sequences, `folder` writes the folder atomically and `backup` ties them together.

mod args;
mod backup;
mod engine;
mod folder;
mod http;
mod objects;
mod plan;
mod read;
mod scope;
mod serve;
pub mod wire;

use std::process::ExitCode;

use anyhow::{bail, Context};
use mysql::Conn;

use crate::cli::mysql_style_args;
use crate::error::main_with;
use crate::out::Output;
use crate::progress::Total;
use crate::schema::TableInfo;

use args::Mode;
pub use args::{Args, Config};
use engine::{Job, Sinks};
use plan::{KeyRange, TableQuery};
use read::{chunk_rows, execute, only_select};

/// One output (stdout or `-o FILE`) for a single table or query.
struct OneOutput(Option<Output>);

impl OneOutput {
    /// Pass on the export's result; a failure aborts the output (see [`Output::abort`]:
    /// a stream that has records gets a last one no CSV reader accepts).
    fn settle(mut self, result: anyhow::Result<()>) -> anyhow::Result<()> {
        if let (Err(e), Some(o)) = (&result, self.0.take()) {
            o.abort("qexport", &format!("{e:#}"));
        }
        result
    }
}

impl Sinks for OneOutput {
    fn write(&mut self, _out: usize, bytes: &[u8]) -> anyhow::Result<()> {
        match &mut self.0 {
            Some(o) => o.write_all(bytes),
            None => bail!("output already closed"),
        }
    }

    fn finish(&mut self, _out: usize, _rows: u64) -> anyhow::Result<()> {
        match self.0.take() {
            Some(o) => o.finish().map(|_| ()),
            None => Ok(()),
        }
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut conn = read::connect(cfg)?;
    match &cfg.mode {
        Mode::Query(sql) => {
            if cfg.jobs > 1 {
                eprintln!("qexport: -j applies to tables; a query is read over one connection");
            }
            only_select(&mut conn, "-e", sql)?;
            let mut sink = OneOutput(Some(Output::open_compressed(
                cfg.output.as_deref(),
                cfg.compression,
            )?));
            let _shown = cfg.progress.begin("the query", Total::Unknown);
            let jobs = [Job {
                out: 0,
                what: "the query".into(),
                sql: sql.clone(),
                header: true,
            }];
            let done = engine::run_sequential(
                &mut conn,
                cfg.conn.plain_bytes(),
                &jobs,
                &cfg.dialect,
                &mut sink,
                &cfg.progress,
            );
            sink.settle(done)?;
        }
        Mode::Table {
            name,
            columns,
            filter,
            order_by,
            limit,
            shard,
        } => {
            let db = name
                .database
                .clone()
                .or_else(|| cfg.conn.database.clone())
                .unwrap_or_default();
            let info = TableInfo::load(&mut conn, &db, &name.table)?;
            let tq = TableQuery::new(
                info,
                columns.as_deref(),
                filter.clone(),
                order_by.clone(),
                *limit,
            )?;
            if filter.is_some() || order_by.is_some() {
                let what = match (filter, order_by) {
                    (Some(_), Some(_)) => "--where and --order-by",
                    (Some(_), None) => "--where",
                    _ => "--order-by",
                };
                only_select(&mut conn, what, &tq.sql(&KeyRange::default()))?;
            }
            export_table(cfg, &mut conn, &tq, *shard)?;
        }
        Mode::Backup { tables } => backup::run(cfg, &mut conn, tables.as_deref())?,
        Mode::Serve(s) => {
            drop(conn);
            return serve::run(cfg, s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Export one table (or one shard of it) into the single output.
fn export_table(
    cfg: &Config,
    conn: &mut Conn,
    tq: &TableQuery,
    shard: Option<(u64, u64)>,
) -> anyhow::Result<()> {
    let mut range = KeyRange::default();
    let mut estimate = tq.info.estimated_rows;
    let mut header = true;
    if let Some((k, n)) = shard {
        if let Some(why) = tq.unsplittable() {
            bail!("--shard needs a key to split on: {why}");
        }
        let ranges = tq.split(
            conn,
            &KeyRange::default(),
            usize::try_from(n).unwrap_or(usize::MAX),
        )?;
        range = ranges
            .get(usize::try_from(k - 1).unwrap_or(usize::MAX))
            .cloned()
            .context("shard out of range")?;
        estimate /= n;
        header = k == 1;
    }
    let mut sink = OneOutput(Some(Output::open_compressed(
        cfg.output.as_deref(),
        cfg.compression,
    )?));
    let done = export_range(cfg, conn, tq, &range, estimate, header, &mut sink);
    sink.settle(done)?;
    Ok(())
}

/// Export one table into `sink` (an HTTP body: see serve.rs), whole.
fn export_into(
    cfg: &Config,
    conn: &mut Conn,
    tq: &TableQuery,
    sink: &mut dyn Sinks,
) -> anyhow::Result<()> {
    let estimate = tq.info.estimated_rows;
    export_range(cfg, conn, tq, &KeyRange::default(), estimate, true, sink)
}

/// Export the rows of `range` (a shard, or all) into `sink`, with the header if `header`.
fn export_range(
    cfg: &Config,
    conn: &mut Conn,
    tq: &TableQuery,
    range: &KeyRange,
    estimate: u64,
    header: bool,
    sink: &mut dyn Sinks,
) -> anyhow::Result<()> {
    let _shown = cfg
        .progress
        .begin(&tq.info.name.to_string(), Total::Rows(estimate));
    let jobs = match tq.unsplittable() {
        None if cfg.jobs > 1 => tq
            .chunks(conn, range, chunk_rows(&tq.info), cfg.jobs * 4)?
            .iter()
            .enumerate()
            .map(|(i, r)| Job {
                out: 0,
                what: format!("table {}", tq.info.name.quoted()),
                sql: tq.sql(r),
                header: header && i == 0,
            })
            .collect(),
        why => {
            if let (true, Some(why)) = (cfg.jobs > 1, why) {
                eprintln!("qexport: {why}: exporting over one connection");
            }
            vec![Job {
                out: 0,
                what: format!("table {}", tq.info.name.quoted()),
                sql: tq.sql(range),
                header,
            }]
        }
    };
    execute(cfg, conn, &jobs, &[&tq.info.name], sink, &mut || Ok(None)).map(drop)
}

pub fn main() -> ExitCode {
    if let Some(done) = crate::docs::generate_if_asked::<Args>() {
        return done;
    }
    if let Some(done) = crate::conn::print_defaults_if_asked("qexport") {
        return done;
    }
    let raw = mysql_style_args();
    // Without -o or --all the CSV goes to stdout: a failure marks it, a mistake in the
    // flags too (the next tool in the pipe must fail, not read an empty export).
    let elsewhere = raw.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == "--all"
            || a.starts_with("--serve")
            || a.starts_with("--output")
            || (a.starts_with("-o") && a != "-o-")
    });
    if !elsewhere {
        crate::out::data_on_stdout();
    }
    let args = match crate::cli::parse::<Args>("qexport", raw) {
        Ok(a) => a,
        Err(code) => return code,
    };
    main_with("qexport", || run(&Config::from_args(args)?))
}
