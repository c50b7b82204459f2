//! The parallel block pipeline for the tools that read CSV (qgrep, qcount): the input is
//! read in large blocks cut at record boundaries, the blocks of a batch are processed by
//! rayon, and their results are handed back in input order, so output is byte-identical
//! to the sequential path whatever the number of threads and the block size.
//!
//! Finding a record boundary needs no full parse: outside quotes a `\n` ends a record, and
//! quotes toggle (a doubled `""` toggles twice, so parity is all that matters). Blocks
//! always start at a record boundary, so each block is scanned from a known state. A
//! record longer than a block grows the block: memory is bounded by the largest record
//! plus the block size times the batch. (Files whose only line ends are lone CRs have no
//! `\n` to cut at and are processed as one block.)

use std::io::Read;

use rayon::prelude::*;

/// Default block size: large enough that per-block overhead vanishes.
pub const BLOCK: usize = 4 << 20;

/// The end (exclusive) of the last whole record in `buf`, scanning from a record
/// boundary: one past the last `\n` that ends a record.
///
/// Not plain quote parity: the scan follows the same field states as
/// [`crate::record::parse_record`], so a quote opens a quoted field only at the start of a
/// field, `""` stays inside it, and a bare quote inside an unquoted field (which the reader
/// keeps literally) does not flip anything. (Found by the `blocks` fuzz target.)
pub fn last_boundary(buf: &[u8], delim: u8) -> Option<usize> {
    let mut last = None;
    let mut i = 0;
    let n = buf.len();
    while i < n {
        // At the start of a field.
        if buf[i] == b'"' {
            // Quoted: up to the closing quote ("" is an escaped quote).
            i += 1;
            loop {
                let Some(q) = memchr::memchr(b'"', &buf[i..]) else {
                    return last;
                };
                i += q + 1;
                if i < n && buf[i] == b'"' {
                    i += 1;
                } else {
                    break;
                }
            }
        }
        // Unquoted text (or text after a closing quote) up to the field's end.
        match memchr::memchr3(delim, b'\n', b'\r', &buf[i..]) {
            None => return last,
            Some(e) => {
                i += e;
                match buf[i] {
                    b'\n' => last = Some(i + 1),
                    b'\r' if buf.get(i + 1) == Some(&b'\n') => {
                        i += 1;
                        last = Some(i + 1);
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    last
}

/// Read `src` in blocks of whole records and call `work` on each (in parallel, `threads`
/// at a time); `sink` gets the results in input order. `skip` leading bytes of the first
/// read (a header already consumed) are dropped.
pub fn run<R, T, W, S>(
    mut src: R,
    first: Vec<u8>,
    delim: u8,
    block: usize,
    threads: usize,
    work: W,
    mut sink: S,
) -> anyhow::Result<()>
where
    R: Read,
    T: Send,
    W: Fn(&[u8], bool) -> anyhow::Result<T> + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let batch = threads * 2;
    let mut carry = first;
    let mut eof = false;
    while !eof || !carry.is_empty() {
        let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(batch);
        while blocks.len() < batch && !(eof && carry.is_empty()) {
            let mut buf = std::mem::take(&mut carry);
            // Fill to at least one block, and on until a record ends in it.
            loop {
                if buf.len() >= block || eof {
                    if let Some(end) = last_boundary(&buf, delim) {
                        carry = buf.split_off(end);
                        break;
                    }
                    if eof {
                        break;
                    }
                }
                let start = buf.len();
                buf.resize(start + block.max(64 * 1024), 0);
                let n = read_full(&mut src, &mut buf[start..])?;
                buf.truncate(start + n);
                if n == 0 {
                    eof = true;
                }
            }
            if !buf.is_empty() {
                blocks.push(buf);
            }
        }
        let last_batch = eof && carry.is_empty();
        let n = blocks.len();
        let results: Vec<anyhow::Result<T>> = pool.install(|| {
            blocks
                .par_iter()
                .enumerate()
                .map(|(i, b)| work(b, last_batch && i + 1 == n))
                .collect()
        });
        for r in results {
            sink(r?)?;
        }
    }
    Ok(())
}

fn read_full(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_respect_quotes() {
        assert_eq!(last_boundary(b"a,b\nc,d\n", b','), Some(8));
        assert_eq!(last_boundary(b"a,\"x\ny\"\nc", b','), Some(8));
        assert_eq!(last_boundary(b"a,\"x\ny", b','), None);
        assert_eq!(last_boundary(b"\"a\"\"\n\"\nb", b','), Some(7));
        assert_eq!(last_boundary(b"abc", b','), None);
        // A bare quote inside an unquoted field is literal; it opens nothing.
        assert_eq!(last_boundary(b"$\"\n\"\n\"x\n", b','), Some(8));
        assert_eq!(last_boundary(b"a\r\nb\r\n", b','), Some(6));
    }

    // Regression (found by the `blocks` fuzz target): a blank line before the first record
    // of one-column data without a header was counted as a NULL record.
    #[test]
    fn leading_blank_lines_are_skipped_as_by_the_reader() {
        let mut src = &b"\n\n2\n3"[..];
        let s = start(&mut src, b',', false).unwrap();
        assert_eq!(s.rest, b"2\n3");
        assert_eq!((s.width, s.lines), (Some(1), 2));
    }

    #[test]
    fn blocks_cover_the_input_in_order() {
        let data: Vec<u8> = (0..500)
            .flat_map(|i| format!("{i},\"q\n{i}\"\n").into_bytes())
            .collect();
        for block in [1, 7, 64, 1 << 20] {
            let mut out = Vec::new();
            run(
                &data[..],
                Vec::new(),
                b',',
                block,
                3,
                |b, _| Ok(b.to_vec()),
                |b| {
                    out.extend_from_slice(&b);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(out, data, "block {block}");
        }
    }
}

/// What one block held: records walked, line ends passed, and where (which line of the
/// block, 0-based) a quoted field was left open, if one was.
#[derive(Debug, Default)]
pub struct Walked {
    pub records: u64,
    pub lines: u64,
    pub unterminated_at: Option<u64>,
}

/// Walk the records of a block (whole records only, as [`run`] cuts them), calling `f`
/// with each record and its raw bytes. Empty lines are skipped unless the stream has one
/// column (`width == Some(1)`), as [`crate::record::Reader`] does.
pub fn walk_block(
    block: &[u8],
    delim: u8,
    width: Option<usize>,
    rec: &mut crate::record::Record,
    mut f: impl FnMut(&crate::record::Record, &[u8]),
) -> Walked {
    use crate::record::{parse_record, Parsed};
    let mut w = Walked::default();
    let mut pos = 0;
    while pos < block.len() {
        let Parsed::Complete { consumed } = parse_record(&block[pos..], true, delim, false, rec)
        else {
            w.unterminated_at = Some(w.lines);
            break;
        };
        let raw = &block[pos..pos + consumed];
        let blank = rec.is_blank_line();
        if !blank || width == Some(1) {
            w.records += 1;
            f(rec, raw);
        }
        w.lines += memchr::memchr_iter(b'\n', raw).count() as u64;
        pos += consumed;
    }
    w
}

/// The header (when the stream has one) and the bytes read past it; a leading UTF-8 BOM is
/// dropped. Also the width of the first record, which decides what an empty line means.
pub struct Start {
    pub header: Option<crate::record::Record>,
    pub rest: Vec<u8>,
    pub width: Option<usize>,
    /// Line ends consumed with the header.
    pub lines: u64,
}

pub fn start(src: &mut impl Read, delim: u8, header: bool) -> anyhow::Result<Start> {
    use crate::record::{parse_record, Parsed, Record};
    let mut buf = vec![0; 64 * 1024];
    let n = read_full(src, &mut buf)?;
    buf.truncate(n);
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }
    let mut rec = Record::default();
    let mut eof = n < 64 * 1024;
    // The first non-blank record: the header, or (without one) what sets the width.
    loop {
        let mut pos = 0;
        let mut lines = 0;
        while pos < buf.len() {
            match parse_record(&buf[pos..], eof, delim, false, &mut rec) {
                Parsed::Complete { consumed } => {
                    let raw = &buf[pos..pos + consumed];
                    let blank = rec.is_blank_line();
                    if blank {
                        lines += memchr::memchr_iter(b'\n', raw).count() as u64;
                        pos += consumed;
                        continue;
                    }
                    let width = Some(rec.len());
                    if !header {
                        // Blank lines before the first record are skipped, as the
                        // sequential reader does (it learns the width only later).
                        let rest = buf.split_off(pos);
                        return Ok(Start {
                            header: None,
                            rest,
                            width,
                            lines,
                        });
                    }
                    let raw = raw.to_vec();
                    let rest = buf.split_off(pos + consumed);
                    let mut h = rec.clone();
                    h.set_raw(&raw, lines + 1);
                    lines += memchr::memchr_iter(b'\n', &raw).count() as u64;
                    return Ok(Start {
                        header: Some(h),
                        rest,
                        width,
                        lines,
                    });
                }
                Parsed::Incomplete if !eof => break,
                _ => {
                    return Ok(Start {
                        header: None,
                        rest: buf,
                        width: None,
                        lines: 0,
                    })
                }
            }
        }
        if eof {
            return Ok(Start {
                header: None,
                rest: Vec::new(),
                width: None,
                lines: 0,
            });
        }
        let start = buf.len();
        buf.resize(start * 2, 0);
        let k = read_full(src, &mut buf[start..])?;
        buf.truncate(start + k);
        eof = k == 0;
    }
}

/// Walk every record after `start` in parallel blocks: `visit` sees each record of a block
/// with that block's accumulator (made by `T::default()`), and `sink` gets the
/// accumulators in input order. A quoted field left open at the end is an error naming
/// `name` and the line it opened on.
#[allow(clippy::too_many_arguments)]
pub fn walk_input<R, T, V, S>(
    src: R,
    start: Start,
    name: &str,
    delim: u8,
    block: usize,
    threads: usize,
    visit: V,
    mut sink: S,
) -> anyhow::Result<()>
where
    R: Read,
    T: Default + Send,
    V: Fn(&crate::record::Record, &[u8], &mut T) + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
{
    let mut lines = start.lines;
    let width = start.width;
    run(
        src,
        start.rest,
        delim,
        block,
        threads,
        |b, _| {
            let mut rec = crate::record::Record::default();
            let mut acc = T::default();
            let w = walk_block(b, delim, width, &mut rec, |r, raw| visit(r, raw, &mut acc));
            Ok((w, acc))
        },
        |(w, acc)| {
            if let Some(at) = w.unterminated_at {
                return Err(crate::record::ReadError::Unterminated {
                    line: lines + at + 1,
                }
                .in_file(name));
            }
            lines += w.lines;
            sink(acc)
        },
    )
}
