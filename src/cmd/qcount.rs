//! qcount: count CSV records. The header is not a record, and a quoted field with a line
//! break inside is one record, not two (which is where `wc -l` goes wrong).
//!
//! ```text
//! qexport users | qgrep @gmail | qcount
//! qcount users.csv orders.csv
//! qcount -n headerless.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{CsvArgs, JobsArgs};
use crate::dialect::Dialect;
use crate::error::main_with;
use crate::input::{open_all, Input};
use crate::out::Output;
use crate::pipeline;
use crate::record::{Reader, Record};

const EXAMPLES: &str = "\
Examples:
  qexport users | qgrep @gmail | qcount
  qcount users.csv orders.csv
  qcount -n headerless.csv
  qcount -j 4 big.csv";

/// Count the records of CSV input (the header row is not counted).
#[derive(Parser, Debug)]
#[command(name = "qcount", version, after_help = EXAMPLES)]
pub struct Args {
    /// CSV files to count, together [default: stdin]
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    csv: CsvArgs,

    #[command(flatten)]
    jobs: JobsArgs,
}

/// A validated count.
#[derive(Debug)]
pub struct Config {
    files: Vec<PathBuf>,
    dialect: Dialect,
    threads: usize,
    block: usize,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        Ok(Config {
            files: args.files,
            dialect: args.csv.dialect(),
            threads: args.jobs.threads(),
            block: args.jobs.block(),
        })
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut total = 0u64;
    for input in open_all(&cfg.files)? {
        total += if cfg.threads > 1 {
            count_parallel(cfg, input)?
        } else {
            count_sequential(cfg, input)?
        };
    }
    let mut out = Output::stdout();
    out.write_all(format!("{total}\n").as_bytes())?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn count_sequential(cfg: &Config, input: Input) -> anyhow::Result<u64> {
    let mut rec = Record::default();
    let mut rdr = Reader::new(input.reader, cfg.dialect.delimiter).keep_raw(false);
    let mut n = 0u64;
    while rdr.read(&mut rec).map_err(|e| e.in_file(&input.name))? {
        n += 1;
    }
    if cfg.dialect.header {
        n = n.saturating_sub(1);
    }
    Ok(n)
}

/// Blocks counted in parallel; the sum does not depend on how they were cut.
fn count_parallel(cfg: &Config, mut input: Input) -> anyhow::Result<u64> {
    let d = &cfg.dialect;
    let start = pipeline::start(&mut input.reader, d.delimiter, d.header)
        .map_err(|e| e.context(format!("reading {}", input.name)))?;
    let mut total = 0;
    pipeline::walk_input(
        input.reader,
        start,
        &input.name,
        d.delimiter,
        cfg.block,
        cfg.threads,
        |_, _, n: &mut u64| *n += 1,
        |n| {
            total += n;
            Ok(())
        },
    )?;
    Ok(total)
}

pub fn main() -> ExitCode {
    main_with("qcount", || run(&Config::from_args(Args::parse())?))
}
