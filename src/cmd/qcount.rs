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

use crate::cli::CsvArgs;
use crate::dialect::Dialect;
use crate::error::main_with;
use crate::input::open_all;
use crate::out::Output;
use crate::record::{Reader, Record};

const EXAMPLES: &str = "\
Examples:
  qexport users | qgrep @gmail | qcount
  qcount users.csv orders.csv
  qcount -n headerless.csv";

/// Count the records of CSV input (the header row is not counted).
#[derive(Parser, Debug)]
#[command(name = "qcount", version, after_help = EXAMPLES)]
pub struct Args {
    /// CSV files to count, together [default: stdin]
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    csv: CsvArgs,
}

/// A validated count.
#[derive(Debug)]
pub struct Config {
    files: Vec<PathBuf>,
    dialect: Dialect,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        Ok(Config {
            files: args.files,
            dialect: args.csv.dialect(),
        })
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut total = 0u64;
    let mut rec = Record::default();
    for input in open_all(&cfg.files)? {
        let name = input.name;
        let mut rdr = Reader::new(input.reader, cfg.dialect.delimiter).keep_raw(false);
        let mut n = 0u64;
        while rdr.read(&mut rec).map_err(|e| e.in_file(&name))? {
            n += 1;
        }
        if cfg.dialect.header {
            n = n.saturating_sub(1);
        }
        total += n;
    }
    let mut out = Output::stdout();
    out.write_all(format!("{total}\n").as_bytes())?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

pub fn main() -> ExitCode {
    main_with("qcount", || run(&Config::from_args(Args::parse())?))
}
