//! qgrep: keep the CSV records in which a field matches a pattern; the header is kept.
//!
//! Patterns are tested against each field's *unquoted value*, never across field
//! boundaries and never against the header, and a quoted line break does not split a
//! record. Matching records are written as their original bytes. Exit status as grep: 0
//! when something matched, 1 when nothing did, 2 on error.
//!
//! ```text
//! qexport users | qgrep @gmail | qcount
//! qgrep -s email -i '@GMAIL\.com$' users.csv
//! qgrep -v -F 'test' users.csv > real-users.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use regex::bytes::{Regex, RegexBuilder};

use crate::cli::{CsvArgs, JobsArgs};
use crate::columns::Selection;
use crate::dialect::Dialect;
use crate::error::{main_with, EXIT_NO_MATCH};
use crate::input::open_all;
use crate::out::Output;
use crate::pipeline;
use crate::record::{Reader, Record};

const EXAMPLES: &str = "\
Examples:
  qexport users | qgrep @gmail | qcount
  qgrep -s email -i '@GMAIL\\.com$' users.csv
  qgrep -v -F 'test' users.csv > real-users.csv
  qgrep -s 2,4 -n '^[0-9]+$' data.csv
  qgrep -j 4 -F @gmail big.csv > gmail.csv";

/// Keep the CSV records in which any field matches PATTERN (header always kept).
#[derive(Parser, Debug)]
#[command(name = "qgrep", version, after_help = EXAMPLES)]
pub struct Args {
    /// Regular expression (Rust regex syntax), or a plain string with -F
    #[arg(value_name = "PATTERN")]
    pattern: String,

    /// CSV files to read [default: stdin]
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Treat PATTERN as a fixed string, not a regex
    #[arg(short = 'F', long)]
    fixed_strings: bool,

    /// Case-insensitive matching
    #[arg(short = 'i', long)]
    ignore_case: bool,

    /// Keep the records that do NOT match
    #[arg(short = 'v', long)]
    invert_match: bool,

    /// Search only these columns: names or 1-based numbers, comma-separated
    ///
    /// Example: -s email   or   -s 2,4
    #[arg(short = 's', long, value_name = "COLS")]
    select: Option<String>,

    #[command(flatten)]
    csv: CsvArgs,

    #[command(flatten)]
    jobs: JobsArgs,
}

/// A validated search.
#[derive(Debug)]
pub struct Config {
    regex: Regex,
    invert: bool,
    select: Option<Selection>,
    files: Vec<PathBuf>,
    dialect: Dialect,
    threads: usize,
    block: usize,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let pattern = if args.fixed_strings {
            regex::escape(&args.pattern)
        } else {
            args.pattern.clone()
        };
        let regex = RegexBuilder::new(&pattern)
            .case_insensitive(args.ignore_case)
            .build()
            .with_context(|| format!("invalid pattern {:?}", args.pattern))?;
        Ok(Config {
            regex,
            invert: args.invert_match,
            select: args.select.as_deref().map(Selection::parse).transpose()?,
            files: args.files,
            dialect: args.csv.dialect(),
            threads: args.jobs.threads(),
            block: args.jobs.block(),
        })
    }

    fn is_match(&self, rec: &Record, cols: Option<&[usize]>) -> bool {
        let hit = match cols {
            Some(cols) => cols
                .iter()
                .any(|&i| rec.get(i).is_some_and(|v| self.regex.is_match(v))),
            None => rec.iter().any(|(v, _)| self.regex.is_match(v)),
        };
        hit != self.invert
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut out = Output::stdout();
    let matched = if cfg.threads > 1 {
        grep_parallel(cfg, &mut out)?
    } else {
        grep_sequential(cfg, &mut out)?
    };
    out.finish()?;
    Ok(if matched > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_MATCH)
    })
}

fn grep_sequential(cfg: &Config, out: &mut Output) -> anyhow::Result<u64> {
    let mut matched = 0u64;
    let mut header_written = false;
    let mut rec = Record::default();
    for input in open_all(&cfg.files)? {
        let name = input.name;
        let mut rdr = Reader::new(input.reader, cfg.dialect.delimiter);
        let mut read = |rec: &mut Record| rdr.read(rec).map_err(|e| e.in_file(&name));
        let mut header = None;
        if cfg.dialect.header {
            if !read(&mut rec)? {
                continue;
            }
            if !header_written {
                write_record(out, rec.raw())?;
                header_written = true;
            }
            header = Some(rec.clone());
        }
        let cols = match &cfg.select {
            Some(s) => Some(
                s.resolve(header.as_ref())
                    .with_context(|| format!("-s in {name}"))?,
            ),
            None => None,
        };
        while read(&mut rec)? {
            if cfg.is_match(&rec, cols.as_deref()) {
                matched += 1;
                write_record(out, rec.raw())?;
            }
        }
    }
    Ok(matched)
}

/// Blocks searched in parallel; each block's matches are written in input order.
fn grep_parallel(cfg: &Config, out: &mut Output) -> anyhow::Result<u64> {
    let d = &cfg.dialect;
    let mut matched = 0u64;
    let mut header_written = false;
    for mut input in open_all(&cfg.files)? {
        let name = input.name.clone();
        let start = pipeline::start(&mut input.reader, d.delimiter, d.header)
            .map_err(|e| e.context(format!("reading {name}")))?;
        if let Some(h) = &start.header {
            if !header_written {
                write_record(out, h.raw())?;
                header_written = true;
            }
        }
        let cols = match &cfg.select {
            Some(s) => Some(
                s.resolve(start.header.as_ref())
                    .with_context(|| format!("-s in {name}"))?,
            ),
            None => None,
        };
        pipeline::walk_input(
            input.reader,
            start,
            &name,
            d.delimiter,
            cfg.block,
            cfg.threads,
            |rec, raw, (hits, n): &mut (Vec<u8>, u64)| {
                if cfg.is_match(rec, cols.as_deref()) {
                    *n += 1;
                    hits.extend_from_slice(raw);
                    if !raw.ends_with(b"\n") && !raw.ends_with(b"\r") {
                        hits.push(b'\n');
                    }
                }
            },
            |(hits, n)| {
                matched += n;
                out.write_all(&hits)
            },
        )?;
    }
    Ok(matched)
}

/// Write a record's original bytes, adding the line end the last record may lack.
fn write_record(out: &mut Output, raw: &[u8]) -> anyhow::Result<()> {
    out.write_all(raw)?;
    if !raw.ends_with(b"\n") && !raw.ends_with(b"\r") {
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub fn main() -> ExitCode {
    main_with("qgrep", || run(&Config::from_args(Args::parse())?))
}
