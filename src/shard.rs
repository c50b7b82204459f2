//! `--shard K/N` of qgrep and qcount: only the K-th of N byte ranges of a file, each cut
//! where a record ends, so that N runs (on N hosts, say) together see every record once
//! and `qcount --merge` or `cat` puts their outputs together. Unlike `parallel --pipe`,
//! which cuts at line ends, a cut never falls inside a quoted line break.
//!
//! Each run finds its two cuts by itself, and both neighbours find the same one: from the
//! nominal offset `first + (size - first) * i / N`, the cut is just after the first line
//! feed outside quotes. Whether an offset is inside quotes is the parity of the quotes
//! before it, counted from the first record (in RFC 4180 CSV a quote opens a field, closes
//! it or stands doubled inside it, so the parity is the quote state). Counting runs at
//! memory speed, but a shard reads the whole file up to its start to count: the gain is
//! in the work per record (patterns, groups), not in reading. A quote inside an unquoted
//! field (not RFC 4180) upsets the count for the ranges after it.

use std::io::Seek as _;

use anyhow::{bail, Context};
use qtools_csv::pipeline::Start;
use qtools_csv::positioned::ReadAt;

use crate::input::{Input, Region, Source};

/// Make `input` (past its header, as `start` read it) the K-th of N ranges of its records.
pub fn apply(input: &mut Input, start: &mut Start, (k, n): (u64, u64)) -> anyhow::Result<()> {
    let Source::File(f) = &mut input.reader else {
        bail!(
            "--shard needs a regular file, not {} (its byte ranges are what is split)",
            input.name
        );
    };
    let name = input.name.clone();
    let ctx = || format!("reading {name}");
    let first = f.stream_position().with_context(ctx)? - start.rest.len() as u64;
    let size = f.metadata().with_context(ctx)?.len();
    let cut = |i: u64| -> anyhow::Result<(u64, u64)> {
        if i == 0 {
            return Ok((first, start.lines));
        }
        if i == n {
            return Ok((size, 0));
        }
        // In u128: the product of a file's size and a shard number overflows u64.
        let nominal = first + (u128::from(size - first) * u128::from(i) / u128::from(n)) as u64;
        record_end_after(f, first, nominal).with_context(ctx)
    };
    let (from, lines) = cut(k - 1)?;
    let (to, _) = cut(k)?;
    input.reader = Source::Region(Region {
        file: f.try_clone().with_context(ctx)?,
        base: from,
        len: to.saturating_sub(from),
        pos: 0,
    });
    start.rest.clear();
    start.eof = false;
    start.lines = lines;
    Ok(())
}

/// The offset just after the first line feed outside quotes at or after `nominal`, and
/// the number of line feeds before it; quotes are counted from `first`, line feeds from
/// the start of the file.
fn record_end_after(f: &std::fs::File, first: u64, nominal: u64) -> std::io::Result<(u64, u64)> {
    const CHUNK: usize = 1 << 20;
    let mut buf = vec![0; CHUNK];
    let (mut at, mut lines, mut inside) = (0u64, 0u64, false);
    loop {
        let want = usize::try_from(nominal - at).map_or(CHUNK, |w| w.min(CHUNK));
        if want == 0 {
            break;
        }
        let got = f.read_at(&mut buf[..want], at)?;
        if got == 0 {
            return Ok((at, lines));
        }
        let chunk = &buf[..got];
        lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        if at + got as u64 > first {
            let skip = usize::try_from(first.saturating_sub(at)).unwrap_or(got);
            inside ^= qtools_csv::scan::odd_count(&chunk[skip..], b'"');
        }
        at += got as u64;
    }
    loop {
        let got = f.read_at(&mut buf, at)?;
        if got == 0 {
            return Ok((at, lines));
        }
        for (i, &b) in buf[..got].iter().enumerate() {
            match b {
                b'"' => inside = !inside,
                b'\n' => {
                    lines += 1;
                    if !inside {
                        return Ok((at + i as u64 + 1, lines));
                    }
                }
                _ => {}
            }
        }
        at += got as u64;
    }
}
