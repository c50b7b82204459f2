//! What qgrep and qcount, the tools that read CSV for themselves, share: how they read
//! (files, dialect, strictness, encoding, parallelism and shard), and the step that reads
//! an input's header and says how to walk the rest (see: #26: it was written twice).

use std::path::PathBuf;

use qtools_csv::dialect::Dialect;
use qtools_csv::pipeline::{self, Start, Walk};

use crate::cli::{JobsArgs, ReadArgs};
use crate::input::{open_all, Input};

/// How qgrep and qcount read their inputs.
#[derive(Debug)]
pub struct Reading {
    pub files: Vec<PathBuf>,
    pub dialect: Dialect,
    pub strict: bool,
    pub jobs: JobsArgs,
    pub encoding: crate::encoding::Encoding,
}

impl Reading {
    pub fn from_args(read: ReadArgs, files: Vec<PathBuf>) -> anyhow::Result<Reading> {
        Ok(Reading {
            dialect: read.csv.dialect()?,
            strict: read.strict,
            jobs: read.jobs,
            encoding: read.input.encoding,
            files,
        })
    }

    /// Every input, opened (stdin when no file is given).
    pub fn inputs(&self) -> anyhow::Result<Vec<Input>> {
        open_all(&self.files, self.encoding)
    }

    /// The header line of every named file (not stdin, which is read once), with the
    /// file's name: to check them all before anything is written. Files with no header
    /// (empty, or read with -n) give none.
    pub fn headers(&self) -> anyhow::Result<Vec<(Vec<u8>, String)>> {
        let mut out = Vec::new();
        if !self.dialect.header {
            return Ok(out);
        }
        for f in self.files.iter().filter(|f| f.as_os_str() != "-") {
            for mut input in open_all(std::slice::from_ref(f), self.encoding)? {
                let start = pipeline::start(&mut input.reader, self.dialect.delimiter, true)
                    .map_err(|e| e.context(format!("reading {}", input.name)))?;
                if let Some(h) = &start.header {
                    out.push((
                        qtools_csv::record::without_line_end(h.raw()).to_vec(),
                        input.name,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Read the header of `input` (named `name`) and say how to walk the rest: of the
    /// shard only, with `--shard`.
    pub fn begin<'a>(&self, input: &mut Input, name: &'a str) -> anyhow::Result<(Start, Walk<'a>)> {
        let (mut start, walk) = pipeline::begin(
            &mut input.reader,
            name,
            &self.dialect,
            self.strict,
            self.jobs.counts(),
        )?;
        if let Some(shard) = self.jobs.shard {
            crate::shard::apply(input, &mut start, shard)?;
        }
        let walk = Walk {
            whole_lines: input.stream,
            ..walk
        };
        Ok((start, walk))
    }
}
