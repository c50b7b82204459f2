//! qcount: count CSV records, or count them by group; merge partial counts. The header is
//! not a record, and a quoted field with a line break inside is one record, not two (which
//! is where `wc -l` goes wrong).
//!
//! ```text
//! qexport users | qgrep @gmail | qcount
//! qcount -g city --top 10 users.csv
//! parallel qcount -g city --shard {}/4 users.csv ::: 1 2 3 4 | qcount --merge
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use qtools_csv::dialect::Dialect;
use qtools_csv::error::DataError;
use qtools_csv::pipeline;
use qtools_csv::record::{Reader, Record};
use qtools_csv::scan::{self, scan};

use crate::cli::ReadArgs;
use crate::columns::Selection;
use crate::error::main_with;
use crate::input::Input;
use crate::out::Output;
use crate::reading::Reading;

const EXAMPLES: &str = "\
Examples:
  qexport users | qgrep @gmail | qcount
  qcount users.csv orders.csv
  qcount -n headerless.csv
  qcount -g city users.csv                 # city,count sorted by count, then city
  qcount -g country,city --top 10 users.csv
  qcount --distinct email users.csv        # how many different e-mails
  parallel qcount --shard {}/4 users.csv ::: 1 2 3 4 | qcount --merge
  parallel qcount -g city --shard {}/4 users.csv ::: 1 2 3 4 | qcount --merge";

/// Count the records of CSV input (the header row is not counted), or count them by group.
#[derive(Parser, Debug)]
#[command(name = "qcount", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// CSV files to count, together [default: stdin]
    ///
    /// gzip and zstd input (files or stdin, known by their first bytes) is decompressed.
    /// Example: qcount users.csv.gz
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Count by group: one CSV row per distinct value of COLS, with its count
    ///
    /// COLS are names, 1-based numbers or ranges (a-c, 2-4), comma-separated. Output:
    /// `COLS...,count`, largest count first, then by key; NULL is a group of its own (and
    /// stays NULL in the output). Example: -g country,city
    #[arg(short = 'g', long = "group-by", value_name = "COLS")]
    group_by: Option<String>,

    /// Print how many distinct values of COLS there are
    ///
    /// NULL counts as one value. Example: --distinct email
    #[arg(long, value_name = "COLS", conflicts_with_all = ["group_by", "merge"])]
    distinct: Option<String>,

    /// With -g or --merge: only the N largest groups
    ///
    /// Example: -g city --top 10
    #[arg(long, value_name = "N")]
    top: Option<usize>,

    /// Sum the outputs of several qcount runs (plain counts or -g tables)
    ///
    /// The reduce step of a fan-out: plain numbers are added up; `-g` tables (repeated
    /// headers skipped, keys with commas, quotes and line breaks included) are summed by
    /// key and sorted again. Example: parallel qcount -g city --shard {}/4 f.csv ::: 1 2 3 4
    /// | qcount --merge
    #[arg(long)]
    merge: bool,

    #[command(flatten)]
    read: ReadArgs,
}

/// What to count.
#[derive(Debug)]
enum Mode {
    Records,
    Groups(Selection),
    Distinct(Selection),
    Merge,
}

/// A validated count.
#[derive(Debug)]
pub struct Config {
    mode: Mode,
    top: Option<usize>,
    read: Reading,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let mode = match (&args.group_by, &args.distinct, args.merge) {
            (Some(_), _, true) => bail!("--merge takes the -g tables as input: drop -g"),
            (Some(g), _, false) => Mode::Groups(Selection::parse(g).context("-g")?),
            (None, Some(d), _) => Mode::Distinct(Selection::parse(d).context("--distinct")?),
            (None, None, true) => Mode::Merge,
            (None, None, false) => Mode::Records,
        };
        if args.top.is_some() && !matches!(mode, Mode::Groups(_) | Mode::Merge) {
            bail!("--top needs -g (or --merge of -g tables)");
        }
        if args.read.jobs.shard.is_some() {
            match mode {
                Mode::Merge => bail!("--shard splits a CSV file; --merge reads qcount outputs"),
                Mode::Distinct(_) => bail!("--shard with --distinct: distinct counts of shards cannot be merged (a value may be in several); use -g and count the merged rows"),
                Mode::Groups(_) if args.top.is_some() => bail!("--shard with --top: a shard's top groups are not the file's; use --top in the --merge step"),
                _ => {}
            }
            args.read.jobs.check_shard(&args.files)?;
        }
        Ok(Config {
            mode,
            top: args.top,
            read: Reading::from_args(args.read, args.files)?,
        })
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<ExitCode> {
    let mut out = Output::stdout();
    match &cfg.mode {
        Mode::Records => {
            let mut total = 0u64;
            for input in cfg.read.inputs()? {
                total += count_records(cfg, input)?;
            }
            out.write_all(format!("{total}\n").as_bytes())?;
        }
        Mode::Groups(sel) | Mode::Distinct(sel) => {
            let mut groups = Groups::default();
            for input in cfg.read.inputs()? {
                count_groups(cfg, sel, input, &mut groups)?;
            }
            if let Mode::Distinct(_) = cfg.mode {
                out.write_all(format!("{}\n", groups.counts.len()).as_bytes())?;
            } else {
                // An input without even a header still gives a table (its header the
                // columns as -g names them), so that merging a fan-out's parts sees a
                // finished run, not one that died before writing.
                if groups.names.is_none() {
                    groups.names = Some(sel.spelled().map(|n| n.as_bytes().to_vec()).collect());
                }
                groups.write(cfg, &mut out)?;
            }
        }
        Mode::Merge => {
            let mut merged = Merged::default();
            for input in cfg.read.inputs()? {
                merge(cfg, input, &mut merged)?;
            }
            match merged.groups {
                Some(groups) => groups.write(cfg, &mut out)?,
                None => out.write_all(format!("{}\n", merged.total).as_bytes())?,
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// The number of records: the fast structural scan where it can decide, else a full walk.
fn count_records(cfg: &Config, mut input: Input) -> anyhow::Result<u64> {
    let name = input.name.clone();
    let (start, walk) = cfg.read.begin(&mut input, &name)?;
    let shape = walk.shape;
    let mut total = 0;
    pipeline::walk_input(
        input.reader,
        start,
        &walk,
        |block: &[u8]| {
            if !shape.strict {
                if let Some(s) = scan(block, shape.delim, None) {
                    return (s.into(), s.records);
                }
            }
            let mut rec = Record::default();
            let w = pipeline::walk_block(block, &shape, &mut rec, |_, _| {});
            (w, w.records)
        },
        |n| {
            total += n;
            Ok(())
        },
    )?;
    Ok(total)
}

/// Counts of one block, by key.
type GroupMap = HashMap<Vec<u8>, u64>;

/// Counts by key. A key is the group's values, each as a tag byte (0 NULL, 1 value), a
/// length and the bytes: one flat `Vec<u8>`, so that a lookup needs no allocation.
#[derive(Debug, Default)]
struct Groups {
    /// The output header: the group columns' names (none without a header).
    names: Option<Vec<Vec<u8>>>,
    counts: HashMap<Vec<u8>, u64>,
}

/// A field as part of a group key: `None` for NULL.
fn group_value<'v>(d: &Dialect, v: &'v [u8], quoted: bool) -> Option<&'v [u8]> {
    (!d.is_null(v, quoted)).then_some(v)
}

fn push_key(key: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => key.push(0),
        Some(v) => {
            key.push(1);
            key.extend_from_slice(&(v.len() as u64).to_le_bytes());
            key.extend_from_slice(v);
        }
    }
}

fn split_key(mut key: &[u8]) -> Vec<Option<&[u8]>> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = key.split_first() {
        if tag == 0 {
            out.push(None);
            key = rest;
        } else {
            let (len, rest) = rest.split_at(8);
            let len = u64::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
            out.push(Some(&rest[..len]));
            key = &rest[len..];
        }
    }
    out
}

impl Groups {
    fn add(&mut self, key: &[u8], n: u64) {
        if let Some(c) = self.counts.get_mut(key) {
            *c += n;
        } else {
            self.counts.insert(key.to_vec(), n);
        }
    }

    /// `names...,count` then the groups, largest count first, then by key (NULL first).
    fn write(self, cfg: &Config, out: &mut Output) -> anyhow::Result<()> {
        let d = &cfg.read.dialect;
        let mut rows: Vec<(u64, Vec<Option<&[u8]>>)> = self
            .counts
            .iter()
            .map(|(k, &n)| (n, split_key(k)))
            .collect();
        rows.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        rows.truncate(cfg.top.unwrap_or(usize::MAX));
        let mut buf = Vec::with_capacity(64 * 1024);
        if let (true, Some(names)) = (d.header, &self.names) {
            let fields = names.iter().map(|n| Some(n.as_slice()));
            d.write_record(&mut buf, fields.chain([Some(&b"count"[..])]));
        }
        for (n, key) in rows {
            let count = n.to_string();
            d.write_record(&mut buf, key.into_iter().chain([Some(count.as_bytes())]));
            if buf.len() >= 60 * 1024 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)
    }
}

/// Count the records of `input` by the values of `sel`, into `groups`.
fn count_groups(
    cfg: &Config,
    sel: &Selection,
    mut input: Input,
    groups: &mut Groups,
) -> anyhow::Result<()> {
    let name = input.name.clone();
    let (start, walk) = cfg.read.begin(&mut input, &name)?;
    if start.is_empty() && start.header.is_none() {
        return Ok(());
    }
    // A header without records is still checked: `-g ctiy` is an error, not an empty count.
    let cols = sel
        .resolve(start.header.as_ref(), start.width)
        .with_context(|| format!("columns in {name}"))?;
    let names: Option<Vec<Vec<u8>>> = start.header.as_ref().map(|h| {
        cols.iter()
            .map(|&i| h.get(i).unwrap_or_default().to_vec())
            .collect()
    });
    match (&groups.names, names) {
        (None, names) => groups.names = names,
        // `-g city` may take `City` in one file (matched ignoring case) and `city` in
        // another: the groups would mix two columns under one name.
        (Some(first), Some(these)) if *first != these => {
            let said = |n: &[Vec<u8>]| {
                n.iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            bail!(
                "{name}: -g takes the column(s) {:?} here but {:?} in the first input: the groups would mix columns (name them exactly as every file does, or count the files one by one)",
                said(&these),
                said(first)
            );
        }
        _ => {}
    }
    let d = &cfg.read.dialect;
    let shape = walk.shape;
    let add = |map: &mut GroupMap, key: &[u8]| {
        if let Some(c) = map.get_mut(key) {
            *c += 1;
        } else {
            map.insert(key.to_vec(), 1);
        }
    };
    // The full walk, for blocks the scan cannot decide.
    let slow = pipeline::each_record(
        shape,
        |rec: &Record, _, (map, key): &mut (GroupMap, Vec<u8>)| {
            key.clear();
            for &i in &cols {
                // A missing field (a short record) groups with NULL.
                let v = rec.get(i).and_then(|v| group_value(d, v, rec.quoted(i)));
                push_key(key, v);
            }
            add(map, key);
        },
    );
    // The fast way: record ends from the scan, and only the fields up to the last group
    // column are looked at, straight in the raw bytes.
    let last = cols.iter().copied().max().unwrap_or(0);
    let work = |block: &[u8]| {
        let mut ends = Vec::new();
        let scanned = if shape.strict {
            None
        } else {
            scan(block, shape.delim, Some(&mut ends))
        };
        let Some(s) = scanned else {
            return slow(block);
        };
        let (mut map, mut key) = (GroupMap::default(), Vec::new());
        let mut spans = vec![None; last + 1];
        let (mut scratch, mut start) = (Vec::new(), 0);
        for end in ends {
            let raw = &block[start..end];
            start = end;
            spans.fill(None);
            for (span, f) in spans.iter_mut().zip(scan::raw_fields(raw, shape.delim)) {
                *span = Some(f);
            }
            key.clear();
            for &i in &cols {
                let v = spans[i].and_then(|f| group_value(d, f.value(raw, &mut scratch), f.quoted));
                push_key(&mut key, v);
            }
            add(&mut map, &key);
        }
        (s.into(), (map, key))
    };
    pipeline::walk_input(input.reader, start, &walk, work, |(map, _)| {
        for (k, n) in map {
            groups.add(&k, n);
        }
        Ok(())
    })
}

/// What `--merge` has summed so far: plain counts, or (from the first `-g` table seen on)
/// groups.
#[derive(Debug, Default)]
struct Merged {
    total: u64,
    groups: Option<Groups>,
    /// The header of the `-g` tables, to skip where outputs were concatenated.
    header: Option<Vec<(Vec<u8>, bool)>>,
    /// The number of fields of a group row (its keys and its count).
    width: Option<usize>,
}

/// A count as qcount writes it: digits, unquoted, no sign and no leading zero.
fn count_of((v, quoted): &(Vec<u8>, bool)) -> Option<u64> {
    let plain =
        !quoted && (v.as_slice() == b"0" || v.first().is_some_and(|&b| (b'1'..=b'9').contains(&b)));
    plain
        .then(|| std::str::from_utf8(v).ok()?.parse().ok())
        .flatten()
}

/// Add up qcount outputs: plain counts (one number per line), or `-g` tables (a header
/// ending in `count`, then rows of keys and a count). Anything else is an error, an empty
/// input too (qcount always writes a count: an empty one is a run that died first).
fn merge(cfg: &Config, input: Input, merged: &mut Merged) -> anyhow::Result<()> {
    let d = &cfg.read.dialect;
    let name = input.name;
    let mut rdr = Reader::new(input.reader, d.delimiter)
        .strict(true)
        .whole_lines(input.stream);
    let mut rec = Record::default();
    let mut first = true;
    let mut next_line = 1;
    while rdr.read(&mut rec).map_err(|e| e.in_file(&name))? {
        let fields: Vec<(Vec<u8>, bool)> = rec.iter().map(|(v, q)| (v.to_vec(), q)).collect();
        let is_first = std::mem::take(&mut first);
        let bad = |reason: &str| {
            let value = String::from_utf8_lossy(rec.raw()).trim_end().to_owned();
            DataError::new(&name, rec.line(), format!("{reason}: {value:?}"))
        };
        // (The reader passes over blank lines: they show as a gap in the line numbers.)
        if rec.line() != next_line {
            return Err(bad("after a blank line, which qcount never writes").into());
        }
        next_line = rec.line() + memchr::memchr_iter(b'\n', rec.raw()).count().max(1) as u64;
        // A plain count: one field, a number.
        if fields.len() == 1 && merged.groups.is_none() {
            if let Some(n) = count_of(&fields[0]) {
                merged.total = merged
                    .total
                    .checked_add(n)
                    .ok_or_else(|| DataError::new(&name, rec.line(), OVERFLOW.to_owned()))?;
                continue;
            }
        }
        if merged.header.as_ref() == Some(&fields) {
            continue; // a header repeated by concatenation
        }
        let header_like =
            fields.len() >= 2 && fields.last().is_some_and(|(v, q)| v == b"count" && !q);
        if d.header && is_first {
            if merged.header.is_some() {
                return Err(bad("a header unlike the first input's").into());
            }
            if !header_like || merged.total != 0 {
                return Err(bad("not a count nor the header of a qcount -g table").into());
            }
            merged.header = Some(fields.clone());
            merged.width = Some(fields.len());
            let names = fields[..fields.len() - 1]
                .iter()
                .map(|(v, _)| v.clone())
                .collect();
            merged.groups.get_or_insert_with(Groups::default).names = Some(names);
            continue;
        }
        if fields.len() < 2 {
            return Err(bad("not a count nor a group row of qcount -g").into());
        }
        if merged.total != 0 {
            return Err(bad("a group row among plain counts").into());
        }
        if *merged.width.get_or_insert(fields.len()) != fields.len() {
            return Err(bad(&format!(
                "a group row of {} fields where the others have {}",
                fields.len(),
                merged.width.unwrap_or_default()
            ))
            .into());
        }
        let groups = merged.groups.get_or_insert_with(Groups::default);
        let (count, key) = fields.split_last().unwrap_or((&fields[0], &[]));
        let Some(n) = count_of(count).filter(|&n| n > 0) else {
            return Err(bad("the last field is not a count (of one record at least)").into());
        };
        let mut k = Vec::new();
        for (v, q) in key {
            push_key(&mut k, group_value(d, v, *q));
        }
        let sum = groups.counts.get(&k).map_or(Some(n), |c| c.checked_add(n));
        let Some(sum) = sum else {
            return Err(bad(OVERFLOW).into());
        };
        groups.counts.insert(k, sum);
    }
    if first {
        bail!("{name}: empty: not an output of qcount, which always writes a count (a run that failed before writing?)");
    }
    Ok(())
}

/// `merge` over `parts`, each one input named `part0`, `part1`, ...
fn merge_all(cfg: &Config, parts: &[&[u8]], stream: bool) -> anyhow::Result<Merged> {
    let mut merged = Merged::default();
    for (i, p) in parts.iter().enumerate() {
        let input = Input {
            name: format!("part{i}"),
            reader: crate::input::Source::Stream(Box::new(std::io::Cursor::new(p.to_vec()))),
            stream,
        };
        merge(cfg, input, &mut merged)?;
    }
    Ok(merged)
}

/// `qcount --merge FLAGS` over `parts` read as pipes (`stream`) or files: for the fuzz
/// target (fuzz/fuzz_targets/merge.rs), which the private `Merged` cannot reach.
#[doc(hidden)]
pub fn merge_parts(flags: &[&str], parts: &[&[u8]], stream: bool) -> anyhow::Result<()> {
    let args = Args::try_parse_from(
        ["qcount", "--merge"]
            .into_iter()
            .chain(flags.iter().copied()),
    )?;
    merge_all(&Config::from_args(args)?, parts, stream).map(drop)
}

/// A sum past u64: an error, never a count that wrapped around.
const OVERFLOW: &str = "the counts add up past 18446744073709551615";

pub fn main() -> ExitCode {
    if let Some(done) = crate::docs::generate_if_asked::<Args>() {
        return done;
    }
    // The records (or counts) go to stdout whatever the flags: a failure marks it.
    crate::out::data_on_stdout();
    let args = match crate::cli::parse::<Args>("qcount", std::env::args_os()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    main_with("qcount", || run(&Config::from_args(args)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(parts: &[&str]) -> anyhow::Result<Merged> {
        let cfg = Config::from_args(Args::parse_from(["qcount", "--merge"]))?;
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        merge_all(&cfg, &parts, false)
    }

    fn count(m: &Merged, key: &[Option<&[u8]>]) -> Option<u64> {
        let mut k = Vec::new();
        for v in key {
            push_key(&mut k, *v);
        }
        m.groups.as_ref()?.counts.get(&k).copied()
    }

    // See: #23 (review): one field that is not a number is no header of qcount -g.
    #[test]
    fn a_word_alone_is_not_a_count() {
        let e = merged(&["hello\n"]).err().unwrap().to_string();
        assert!(
            e.contains("part0:1: not a count nor the header of a qcount -g table"),
            "{e}"
        );
        assert_eq!(merged(&["5\n", "7\n"]).unwrap().total, 12);
    }

    // See: #15: the reduce step: numbers add up, -g tables sum by key (NULL apart from
    // the empty string, keys with commas and line breaks), repeated headers skipped.
    #[test]
    fn merge_sums_counts_and_groups() {
        assert_eq!(merged(&["3\n", "4\n5\n"]).unwrap().total, 12);
        let m = merged(&[
            "city,count\nParis,2\n,1\n\"\",4\n",
            "city,count\nParis,3\n\"a,\nb\",1\n",
        ])
        .unwrap();
        assert_eq!(count(&m, &[Some(b"Paris")]), Some(5));
        assert_eq!(count(&m, &[None]), Some(1));
        assert_eq!(count(&m, &[Some(b"")]), Some(4));
        assert_eq!(count(&m, &[Some(b"a,\nb")]), Some(1));
        assert_eq!(m.groups.as_ref().unwrap().counts.len(), 4);
        assert!(merged(&["city,count\nParis,x\n"]).is_err());
        assert!(merged(&["5\n", "city,count\nParis,1\n"]).is_err());
        // See: #23 (hostile review, round 2): only what qcount writes.
        for bad in [
            &["name,age\nbob,42\n"][..],
            &["a,count\nx,1,2\n"],
            &["a,b,count\nx,1\n"],
            &["5\n", ""],
            &["+3\n"],
            &["03\n"],
            &["\"3\"\n"],
            &["a,count\nx,01\n"],
            &["a,count\nx,1\n", "b,count\ny,1\n"],
            &["\n1\n"],
            &["1\n\n"],
            &["a,\"count\"\nx,1\n"],
            &["a,count\nx,0\n"],
        ] {
            assert!(merged(bad).is_err(), "{bad:?}");
        }
        assert_eq!(merged(&["3\r\n", "0\n"]).unwrap().total, 3);
    }
}
