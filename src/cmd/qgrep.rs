//! qgrep: keep the CSV records in which a field matches a pattern; the header is kept.
//!
//! Patterns are tested against each field's *unquoted value*, never across field
//! boundaries and never against the header, and a quoted line break does not split a
//! record. Matching records are written as their original bytes. Exit status as grep: 0
//! when something matched, 1 when nothing did, 2 on error.
//!
//! How it is fast: when every match of the pattern must begin with one of a few literal
//! strings (`@gmail`, `foo|bar`, even most `-i` patterns), those are searched for in the
//! raw block (memchr's memmem or Aho-Corasick), and only the records that hold one are
//! parsed and tested; the record boundaries come from the structural scan of
//! [`qtools_csv::scan`]. Otherwise every record is parsed and tested.
//!
//! ```text
//! qexport users | qgrep @gmail | qcount
//! qgrep -s email -i '@GMAIL\.com$' users.csv
//! qgrep -v -F 'test' users.csv > real-users.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use aho_corasick::AhoCorasick;
use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use memchr::memmem;
use qtools_csv::pipeline::{self, Shape, Walked};
use qtools_csv::record::Record;
use qtools_csv::scan::{self, scan};
use regex::bytes::{Regex, RegexBuilder};

use crate::cli::ReadArgs;
use crate::columns::Selection;
use crate::error::{main_with, EXIT_NO_MATCH};
use crate::out::Output;
use crate::reading::Reading;

const EXAMPLES: &str = "\
Examples:
  qexport users | qgrep @gmail | qcount
  qgrep -s email -i '@GMAIL\\.com$' users.csv
  qgrep -v -F 'test' users.csv > real-users.csv
  qgrep -s 2,4 -n '^[0-9]+$' data.csv
  qgrep -s name-city -e Paris -e Lyon users.csv
  qgrep -x -s status -f statuses.txt orders.csv
  qgrep --null-only -s email users.csv     # records whose email is NULL
  qgrep -j 4 -F @gmail big.csv > gmail.csv
  parallel -k qgrep --exit-zero --shard {}/4 @gmail users.csv ::: 1 2 3 4 > gmail.csv";

/// Keep the CSV records in which any field matches PATTERN (header always kept).
#[derive(Parser, Debug)]
#[command(name = "qgrep", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Regular expression (Rust regex syntax), or a plain string with -F
    ///
    /// Not given when -e, -f, --null-only or --not-null is: the first argument is then a
    /// file.
    #[arg(value_name = "PATTERN")]
    pattern: Option<String>,

    /// CSV files to read [default: stdin]
    ///
    /// gzip and zstd input (files or stdin, known by their first bytes) is decompressed.
    /// Example: qgrep @gmail users.csv.zst
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// A pattern; repeat for several (a record matching any is kept)
    ///
    /// Example: -e Paris -e Lyon
    #[arg(short = 'e', long = "regexp", value_name = "PATTERN")]
    regexp: Vec<String>,

    /// Read patterns from FILE, one per line (a record matching any is kept)
    ///
    /// An empty file has no pattern, and nothing matches. Example: -f blocklist.txt
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pattern_files: Vec<PathBuf>,

    /// Treat patterns as fixed strings, not regexes
    #[arg(short = 'F', long)]
    fixed_strings: bool,

    /// Case-insensitive matching
    #[arg(short = 'i', long)]
    ignore_case: bool,

    /// Keep the records that do NOT match
    #[arg(short = 'v', long)]
    invert_match: bool,

    /// A pattern must match a whole field, not part of one
    ///
    /// Example: -x -s status -e shipped
    #[arg(short = 'x', long = "field-regexp")]
    field_regexp: bool,

    /// Search only these columns: names, 1-based numbers or ranges, comma-separated
    ///
    /// A range runs from one column to another, both included; either end may be left
    /// out. Example: -s email   -s 2,4   -s name-city   -s 3-
    #[arg(short = 's', long, value_name = "COLS")]
    select: Option<String>,

    /// Keep the records in which a searched field is NULL (no pattern)
    ///
    /// NULL is the dialect's NULL marker: an unquoted empty field by default, or --null.
    /// Example: --null-only -s email
    #[arg(long, conflicts_with_all = ["regexp", "pattern_files", "not_null"])]
    null_only: bool,

    /// Keep the records in which no searched field is NULL (no pattern)
    ///
    /// The same as --null-only -v. Example: --not-null -s email
    #[arg(long, conflicts_with_all = ["regexp", "pattern_files"])]
    not_null: bool,

    /// Whether to write the header row
    ///
    /// `never` suits output appended to a file that has the header already:
    /// qgrep --header-out never PAT new.csv >> all.csv
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = HeaderOut::Always)]
    header_out: HeaderOut,

    /// Exit 0 when nothing matched too (for GNU parallel and `set -e`)
    ///
    /// Example: parallel -k qgrep --exit-zero --shard {}/4 @gmail f.csv ::: 1 2 3 4
    #[arg(long)]
    exit_zero: bool,

    #[command(flatten)]
    read: ReadArgs,
}

/// When to write the header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeaderOut {
    Always,
    Never,
}

/// What makes a field a match.
#[derive(Debug)]
enum Test {
    /// The pattern, and where its matches may begin, when literals say so.
    Regex(Regex, Option<Prefilter>),
    /// No pattern at all (an empty -f file): nothing matches.
    Nothing,
    Null,
}

/// Finds the places where a match may begin, in raw bytes.
#[derive(Debug)]
struct Prefilter {
    find: Find,
    /// The literals are all the pattern matches (`@gmail`, `-F` strings, `a|b`): one found
    /// inside a field is a match, with no regex to run.
    exact: bool,
}

#[derive(Debug)]
enum Find {
    One(Box<memmem::Finder<'static>>),
    Many(AhoCorasick),
}

impl Prefilter {
    /// The first candidate in `hay`: where it starts and ends.
    fn find_span(&self, hay: &[u8]) -> Option<(usize, usize)> {
        match &self.find {
            Find::One(f) => f.find(hay).map(|at| (at, at + f.needle().len())),
            Find::Many(ac) => ac.find(hay).map(|m| (m.start(), m.end())),
        }
    }
}

/// A validated search.
#[derive(Debug)]
pub struct Config {
    test: Test,
    invert: bool,
    select: Option<Selection>,
    header_out: HeaderOut,
    exit_zero: bool,
    read: Reading,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let null_mode = args.null_only || args.not_null;
        let mut files = args.files;
        let mut patterns = args.regexp;
        for f in &args.pattern_files {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading patterns from {}", f.display()))?;
            patterns.extend(text.lines().map(str::to_owned));
        }
        let listed = !patterns.is_empty() || !args.pattern_files.is_empty();
        match args.pattern {
            Some(p) if listed || null_mode => files.insert(0, PathBuf::from(p)),
            Some(p) => patterns.push(p),
            None if listed || null_mode => {}
            None => bail!("no pattern: give PATTERN, -e, -f, --null-only or --not-null"),
        }
        let test = if null_mode {
            Test::Null
        } else if patterns.is_empty() {
            Test::Nothing
        } else {
            let one = |p: &str| {
                let p = if args.fixed_strings {
                    regex::escape(p)
                } else {
                    p.to_owned()
                };
                if args.field_regexp {
                    format!("^(?:{p})$")
                } else {
                    format!("(?:{p})")
                }
            };
            let joined = patterns
                .iter()
                .map(|p| one(p))
                .collect::<Vec<_>>()
                .join("|");
            let regex = RegexBuilder::new(&joined)
                .case_insensitive(args.ignore_case)
                .build()
                .map_err(|e| {
                    // Name the user's own pattern and what is wrong in it, on one line,
                    // not the wrapped and joined regex qgrep built from them.
                    let mut parser = regex_syntax::ParserBuilder::new()
                        .case_insensitive(args.ignore_case)
                        .build();
                    let wrong = patterns.iter().find_map(|p| {
                        let text = if args.fixed_strings {
                            regex::escape(p)
                        } else {
                            p.clone()
                        };
                        let why = match parser.parse(&text) {
                            Ok(_) => return None,
                            Err(regex_syntax::Error::Parse(e)) => {
                                format!("{} (at character {})", e.kind(), e.span().start.column)
                            }
                            Err(regex_syntax::Error::Translate(e)) => {
                                format!("{} (at character {})", e.kind(), e.span().start.column)
                            }
                            Err(e) => e.to_string(),
                        };
                        Some((p, why))
                    });
                    match wrong {
                        Some((p, why)) => anyhow::anyhow!("invalid pattern {p:?}: {why}"),
                        None => anyhow::anyhow!("the patterns together: {e}"),
                    }
                })?;
            Test::Regex(regex, prefilter(&joined, args.ignore_case))
        };
        args.read.jobs.check_shard(&files)?;
        Ok(Config {
            test,
            invert: args.invert_match || args.not_null,
            select: args.select.as_deref().map(Selection::parse).transpose()?,
            header_out: args.header_out,
            exit_zero: args.exit_zero,
            read: Reading::from_args(args.read, files)?,
        })
    }

    /// Does a searched field of `rec` match (before -v)?
    fn fields_match(&self, rec: &Record, cols: Option<&[usize]>) -> bool {
        let field = |i: usize| match &self.test {
            Test::Regex(re, _) => rec.get(i).is_some_and(|v| re.is_match(v)),
            Test::Nothing => false,
            // A missing field (a short record) is not NULL: there is nothing there.
            Test::Null => rec
                .get(i)
                .is_some_and(|v| self.read.dialect.is_null(v, rec.quoted(i))),
        };
        match cols {
            Some(cols) => cols.iter().any(|&i| field(i)),
            None => (0..rec.len()).any(field),
        }
    }

    /// Does a searched field of the raw record `raw` match, given that a match can only
    /// begin at a prefilter candidate (the first at `c`)? Only the fields holding a
    /// candidate are tested, and the record is not parsed: the structural scan has
    /// checked that its quotes are well-formed, so a field is either plain bytes up to the
    /// next delimiter or line end, or `"..."` with `""` inside.
    fn candidates_match(
        raw: &[u8],
        (mut c, mut c_end): (usize, usize),
        pf: &Prefilter,
        re: &Regex,
        delim: u8,
        cols: Option<&[usize]>,
        scratch: &mut Vec<u8>,
    ) -> bool {
        for (field, f) in scan::raw_fields(raw, delim).enumerate() {
            if c >= f.end {
                continue;
            }
            if cols.is_none_or(|cols| cols.contains(&field))
                && ((pf.exact && c_end <= f.end) || re.is_match(f.value(raw, scratch)))
            {
                return true;
            }
            // On to the next candidate after this field.
            match pf.find_span(&raw[f.end..]) {
                Some((next, next_end)) => (c, c_end) = (f.end + next, f.end + next_end),
                None => return false,
            }
        }
        false
    }

    /// Search one block (which starts at a record boundary): its matching records' raw
    /// bytes are appended to `hits`, and their number to `n`.
    fn grep_block(
        &self,
        block: &[u8],
        shape: &Shape,
        cols: Option<&[usize]>,
        (hits, n): &mut (Vec<u8>, u64),
    ) -> Walked {
        let mut rec = Record::default();
        if let (Test::Regex(re, Some(pf)), false) = (&self.test, shape.strict) {
            // A clone has its own cache: regex's shared one is slow to take from other
            // threads than the first.
            let re = re.clone();
            let mut ends = Vec::new();
            if let Some(s) = scan(block, shape.delim, Some(&mut ends)) {
                // Only the records holding a candidate can match.
                let mut from = 0;
                let mut copied = 0; // -v: the bytes before `copied` are written or skipped
                let mut matched = 0;
                let mut k = 0; // the record holding the candidate
                let mut scratch = Vec::new();
                while let Some((c, c_end)) = pf.find_span(&block[from..]) {
                    let (c, c_end) = (from + c, from + c_end);
                    while ends[k] <= c {
                        k += 1;
                    }
                    let start = if k == 0 { 0 } else { ends[k - 1] };
                    let end = ends[k];
                    let raw = &block[start..end];
                    let hit = Self::candidates_match(
                        raw,
                        (c - start, c_end - start),
                        pf,
                        &re,
                        shape.delim,
                        cols,
                        &mut scratch,
                    );
                    if hit {
                        matched += 1;
                        if self.invert {
                            push_raw(hits, &block[copied..start]);
                            copied = end;
                        } else {
                            push_raw(hits, &block[start..end]);
                        }
                    }
                    from = end;
                }
                if self.invert {
                    push_raw(hits, &block[copied..]);
                    *n += s.records - matched;
                } else {
                    *n += matched;
                }
                return s.into();
            }
        }
        pipeline::walk_block(block, shape, &mut rec, |rec, raw| {
            if self.fields_match(rec, cols) != self.invert {
                *n += 1;
                push_raw(hits, raw);
            }
        })
    }
}

/// The literal strings one of which every match must begin with, when there are few and
/// none holds a `"` (unescaping `""` is the one way a field's value differs from its raw
/// bytes, so a literal without quotes found in a value is also in the raw record).
fn prefilter(pattern: &str, ignore_case: bool) -> Option<Prefilter> {
    use regex_syntax::hir::literal::Extractor;
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let seq = Extractor::new().extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 64 {
        return None;
    }
    let bytes: Vec<&[u8]> = lits
        .iter()
        .map(regex_syntax::hir::literal::Literal::as_bytes)
        .collect();
    if bytes.iter().any(|b| b.is_empty() || b.contains(&b'"')) {
        return None;
    }
    let find = if let [one] = bytes[..] {
        Find::One(Box::new(memmem::Finder::new(one).into_owned()))
    } else {
        Find::Many(AhoCorasick::new(&bytes).ok()?)
    };
    Some(Prefilter {
        find,
        // An anchor (`^x`, -x, `\bx`) asks more of where the literal is than being in the
        // field; the extractor looks through it.
        exact: seq.is_exact() && hir.properties().look_set().is_empty(),
    })
}

/// Append raw record bytes, with the line end the input's last record may lack.
fn push_raw(out: &mut Vec<u8>, raw: &[u8]) {
    out.extend_from_slice(raw);
    if !raw.is_empty() && !raw.ends_with(b"\n") && !raw.ends_with(b"\r") {
        out.push(b'\n');
    }
}

/// One header stands over the records of every input: `name`'s is not `from`'s.
fn header_differs(name: &str, from: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{name}: its header differs from {from}'s: the records would stand under the wrong names (qgrep the files one by one)"
    )
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut out = Output::stdout();
    let mut matched = 0u64;
    let mut header_written = cfg.header_out == HeaderOut::Never;
    // The first input's header (and name): every other must have the same, since one
    // header stands over all the records written.
    let mut first_header: Option<(Vec<u8>, String)> = None;
    // Several files stand under one header: theirs must be the same, which is checked
    // before anything is written (as the selection is, below, against the first).
    if cfg.read.files.len() > 1 {
        let headers = cfg.read.headers()?;
        if let Some((first, from)) = headers.first() {
            if let Some((_, name)) = headers.iter().find(|(h, _)| h != first) {
                return Err(header_differs(name, from));
            }
        }
    }
    for mut input in cfg.read.inputs()? {
        let name = input.name.clone();
        let (start, walk) = cfg.read.begin(&mut input, &name)?;
        if let Some(shard) = cfg.read.jobs.shard {
            // The shards, concatenated in order, are the whole output: one header.
            header_written |= shard.0 > 1;
        }
        // The selection is checked before anything is written: `-s emial` leaves stdout
        // empty, not a header over an error.
        let cols = match &cfg.select {
            // Nothing at all (not even a header): nothing to select from, nothing written.
            Some(_) if start.is_empty() && start.header.is_none() => None,
            Some(s) => Some(
                s.resolve(start.header.as_ref(), start.width)
                    .with_context(|| format!("-s in {name}"))?,
            ),
            None => None,
        };
        if let Some(h) = &start.header {
            let raw = qtools_csv::record::without_line_end(h.raw()).to_vec();
            match &first_header {
                Some((first, from)) if *first != raw => return Err(header_differs(&name, from)),
                Some(_) => {}
                None => first_header = Some((raw, name.clone())),
            }
            if !header_written {
                let mut buf = Vec::new();
                push_raw(&mut buf, h.raw());
                out.write_all(&buf)?;
                header_written = true;
            }
        }
        if start.is_empty() {
            continue;
        }
        // The output buffers go back to the workers once written: fresh ones would cost a
        // page fault per 4 KiB.
        let spare = std::sync::Mutex::new(Vec::<Vec<u8>>::new());
        let take = || {
            spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default()
        };
        pipeline::walk_input(
            input.reader,
            start,
            &walk,
            |block: &[u8]| {
                let mut acc = (take(), 0);
                let w = cfg.grep_block(block, &walk.shape, cols.as_deref(), &mut acc);
                (w, acc)
            },
            |(mut hits, n)| {
                matched += n;
                out.write_all(&hits)?;
                hits.clear();
                if let Ok(mut s) = spare.lock() {
                    s.push(hits);
                }
                Ok(())
            },
        )?;
    }
    out.finish()?;
    Ok(if matched > 0 || cfg.exit_zero {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_MATCH)
    })
}

pub fn main() -> ExitCode {
    if let Some(done) = crate::docs::generate_if_asked::<Args>() {
        return done;
    }
    // The records (or counts) go to stdout whatever the flags: a failure marks it.
    crate::out::data_on_stdout();
    let args = match crate::cli::parse::<Args>("qgrep", std::env::args_os()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    main_with("qgrep", || run(&Config::from_args(args)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilters_only_where_complete() {
        let pf = |p: &str, i: bool| prefilter(p, i).map(|pf| (pf.find, pf.exact));
        assert!(matches!(
            pf("(?:@gmail)", false),
            Some((Find::One(_), true))
        ));
        assert!(matches!(
            pf("(?:foo)|(?:bar)", false),
            Some((Find::Many(_), true))
        ));
        assert!(matches!(pf("(?:@gmail)", true), Some((_, true))));
        // The literal is only where a match begins, or an anchor asks more.
        assert!(matches!(pf("(?:@gmail.*)", false), Some((_, false))));
        assert!(matches!(pf("^(?:@gmail)$", false), Some((_, false))));
        assert!(matches!(pf("(?:^x)", false), Some((_, false))));
        assert!(matches!(pf("(?:\\bx)", false), Some((_, false))));
        // A match may begin anywhere, or the literal holds a quote: no prefilter.
        assert!(pf("(?:.*x)", false).is_none());
        assert!(pf("(?:a*)", false).is_none());
        assert!(pf("(?:say \"hi\")", false).is_none());
    }
}
