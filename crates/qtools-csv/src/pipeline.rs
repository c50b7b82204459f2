//! The block pipeline of the tools that read CSV (qgrep, qcount): the input is read in
//! large blocks cut at record boundaries, each block is processed on its own (by rayon
//! workers with `-j N`, in the calling thread with `-j 1`), and the results reach the sink
//! in input order, so output is byte-identical whatever the number of threads and the
//! block size.
//!
//! Cutting a block needs no parse. The reader counts the block's quotes (8 bytes at a
//! time) and walks back from its end to the last line feed with an even number of quotes
//! before it: for well-formed CSV that is a record end, since a `""` inside a quoted field
//! adds two. The worker that gets the block then parses or scans it from its start, and
//! knows whether the block really ended at a record end: a block whose last record is
//! still inside quotes at its end was cut in the wrong place (malformed input, such as a
//! bare quote inside an unquoted field, can fool parity). The sink then carries that
//! record over to the next block and redoes the next block itself, from a true boundary.
//! So a wrong guess costs time, never correctness, and only on malformed input.
//!
//! Reading overlaps the work: a reader thread cuts blocks ahead into a bounded queue, and
//! processed blocks go back to it for reuse (fresh 1 MiB buffers would cost a page fault
//! per 4 KiB). Memory is bounded by the largest record plus about 4N blocks.

use std::io::Read;
use std::sync::{mpsc, Arc, Mutex};

use crate::guess::{block_start, first_record_end, guess_cut, GUESS};
use crate::positioned::{left, Positioned, ReadAt};
use crate::record::{parse_record, Parsed, ReadError, Record};
use crate::reorder::Reorder;

/// Default block size: large enough that per-block overhead vanishes, small enough that
/// 4N blocks in flight stay a few MB.
pub const BLOCK: usize = 1 << 20;

/// What the blocks of a stream have in common.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The field delimiter.
    pub delim: u8,
    /// Fields in the first record (the header, if there is one): an empty line is a record
    /// only when this is `Some(1)`; with `strict`, every record must have this many.
    pub width: Option<usize>,
    /// `--strict`: ragged records and text after a closing quote are errors.
    pub strict: bool,
}

/// Why a block's walk stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A quoted field still open at the end of the block.
    Unterminated,
    /// Strict: text after a closing quote.
    AfterQuote,
    /// Strict: a record with another number of fields than the first.
    Ragged {
        /// Fields in the record.
        fields: usize,
        /// Fields in the first record.
        expected: usize,
    },
}

/// What one block held: the records walked, the line feeds they span, and where the walk
/// stopped early, if it did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Walked {
    /// Records walked (blank lines skipped are not records).
    pub records: u64,
    /// Line feeds in what was walked, quoted ones included (for line numbers).
    pub lines: u64,
    /// Why, and the offset of the record it stopped at (`lines` counts the line feeds
    /// before it).
    pub stop: Option<(Stop, usize)>,
}

/// What the structural scan found: all of the block, with no stop.
impl From<crate::scan::Scanned> for Walked {
    #[inline]
    fn from(s: crate::scan::Scanned) -> Self {
        Walked {
            records: s.records,
            lines: s.lines,
            stop: None,
        }
    }
}

/// Walk the records of a block (whole records, as the pipeline cuts them), calling `f` with
/// each record and its raw bytes. Empty lines are skipped unless the stream has one column,
/// as [`crate::record::Reader`] does.
pub fn walk_block(
    block: &[u8],
    shape: &Shape,
    rec: &mut Record,
    mut f: impl FnMut(&Record, &[u8]),
) -> Walked {
    let mut w = Walked::default();
    let mut pos = 0;
    while pos < block.len() {
        let stop = match parse_record(&block[pos..], true, shape.delim, shape.strict, rec) {
            Parsed::Complete { consumed } => {
                let raw = &block[pos..pos + consumed];
                let blank = rec.is_blank_line();
                if !blank || shape.width == Some(1) {
                    match shape.width {
                        Some(expected) if shape.strict && rec.len() != expected => Stop::Ragged {
                            fields: rec.len(),
                            expected,
                        },
                        _ => {
                            w.records += 1;
                            f(rec, raw);
                            w.lines += memchr::memchr_iter(b'\n', raw).count() as u64;
                            pos += consumed;
                            continue;
                        }
                    }
                } else {
                    w.lines += memchr::memchr_iter(b'\n', raw).count() as u64;
                    pos += consumed;
                    continue;
                }
            }
            Parsed::AfterQuote { .. } => Stop::AfterQuote,
            Parsed::Unterminated | Parsed::Incomplete => Stop::Unterminated,
        };
        w.stop = Some((stop, pos));
        break;
    }
    w
}

/// A block worker that walks every record with `visit`, into an accumulator made by
/// `T::default()`: for tools with no faster way through a block.
pub fn each_record<T: Default>(
    shape: Shape,
    visit: impl Fn(&Record, &[u8], &mut T) + Sync,
) -> impl Fn(&[u8]) -> (Walked, T) + Sync {
    move |block| {
        let mut rec = Record::default();
        let mut acc = T::default();
        let w = walk_block(block, &shape, &mut rec, |r, raw| visit(r, raw, &mut acc));
        (w, acc)
    }
}

/// The header (when the stream has one) and the bytes read past it; a leading UTF-8 BOM is
/// dropped. Also the width of the first record, which decides what an empty line means.
pub struct Start {
    /// The header record, when the dialect has one and the input a record.
    pub header: Option<Record>,
    /// The bytes read past the header (or, without one, from the first record on).
    pub rest: Vec<u8>,
    /// Fields in the first record; `None` for an input without any.
    pub width: Option<usize>,
    /// Line ends consumed with the header.
    pub lines: u64,
    /// The input ended within what was read: read no more (at a terminal, one Ctrl-D
    /// ends the input, not two).
    pub eof: bool,
}

/// Read the start of `src`: the header when `header` says there is one, and the width of
/// the first record (blank lines before it skipped), as [`Start`] says.
pub fn start(src: &mut impl Read, delim: u8, header: bool) -> anyhow::Result<Start> {
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
                            eof,
                        });
                    }
                    let mut h = rec.clone();
                    h.set_line(lines + 1);
                    lines += memchr::memchr_iter(b'\n', h.raw()).count() as u64;
                    let rest = buf.split_off(pos + consumed);
                    return Ok(Start {
                        header: Some(h),
                        rest,
                        width,
                        lines,
                        eof,
                    });
                }
                Parsed::Incomplete if !eof => break,
                _ => {
                    return Ok(Start {
                        header: None,
                        rest: buf,
                        width: None,
                        lines: 0,
                        eof,
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
                eof: true,
            });
        }
        let start = buf.len();
        buf.resize(start * 2, 0);
        let k = read_full(src, &mut buf[start..])?;
        buf.truncate(start + k);
        eof = k == 0;
    }
}

impl Start {
    /// No record at all (an empty input, or blank lines only): nothing to resolve column
    /// names against, and nothing to walk.
    pub fn is_empty(&self) -> bool {
        self.width.is_none() && self.rest.is_empty()
    }
}

/// How to walk one input.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'a> {
    /// The input's name in messages.
    pub name: &'a str,
    /// What its blocks have in common.
    pub shape: Shape,
    /// Block size in bytes (see [`BLOCK`]).
    pub block: usize,
    /// Worker threads; 1 walks in the calling thread.
    pub threads: usize,
    /// The input is a stream: a last record without a line end is an error (see
    /// [`crate::record::Reader::whole_lines`]).
    pub whole_lines: bool,
}

/// Read the header of the input `src` (named `name` in messages) and say how to walk the
/// rest: the first step of every tool that reads CSV.
pub fn begin<'a>(
    src: &mut impl Read,
    name: &'a str,
    dialect: &crate::dialect::Dialect,
    strict: bool,
    (block, threads): (usize, usize),
) -> anyhow::Result<(Start, Walk<'a>)> {
    let start = start(src, dialect.delimiter, dialect.header)
        .map_err(|e| e.context(format!("reading {name}")))?;
    let walk = Walk {
        name,
        shape: Shape {
            delim: dialect.delimiter,
            width: start.width,
            strict,
        },
        block,
        threads,
        whole_lines: false,
    };
    Ok((start, walk))
}

/// Process every record after `start` in blocks: `work` turns a block into what it held
/// and an accumulator, and `sink` gets the accumulators in input order. A quoted field
/// left open at the end, and with `strict` a ragged record, are errors naming the input
/// and the line.
pub fn walk_input<R, T, W, S>(
    mut src: R,
    start: Start,
    walk: &Walk,
    work: W,
    sink: S,
) -> anyhow::Result<()>
where
    R: Positioned,
    T: Send,
    W: Fn(&[u8]) -> (Walked, T) + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
{
    let mut order = InOrder {
        work: &work,
        sink,
        carry: Vec::new(),
        carry_odd: false,
        lines: start.lines,
        name: walk.name,
        last: walk
            .whole_lines
            .then(|| start.header.as_ref().and_then(|h| h.raw().last().copied()))
            .flatten(),
        whole_lines: walk.whole_lines,
    };
    let block = walk.block.max(1);
    if walk.threads > 1 {
        if let Some((at, pos)) = src.positioned() {
            // The bytes `start` read past the header are read again, in place.
            let from = pos - start.rest.len() as u64;
            run_positioned(at, from, walk, &work, &mut order)?;
            return order.finish();
        }
    }
    let cutter = Cutter {
        src,
        carry: start.rest,
        eof: start.eof,
        block,
    };
    if walk.threads > 1 {
        run_parallel(cutter, walk.threads, &work, &mut order)?;
    } else {
        run_sequential(cutter, &mut order)?;
    }
    order.finish()
}

/// `-j 1`: cut, work and sink in turn, in the calling thread, reusing one buffer.
fn run_sequential<R: Read, T, W, S>(
    mut cutter: Cutter<R>,
    order: &mut InOrder<'_, W, S>,
) -> anyhow::Result<()>
where
    W: Fn(&[u8]) -> (Walked, T),
    S: FnMut(T) -> anyhow::Result<()>,
{
    let mut buf = Vec::new();
    while let Some(block) = cutter
        .next(buf)
        .map_err(|e| ReadError::Io(e).in_file(order.name))?
    {
        let res = (order.work)(&block);
        order.deliver(&block, res)?;
        buf = block;
    }
    Ok(())
}

/// `-j N`: a reader thread cuts blocks ahead; rayon workers process up to 2N at a time;
/// this thread puts the results back in order and hands the buffers back to the reader.
fn run_parallel<R, T, W, S>(
    cutter: Cutter<R>,
    threads: usize,
    work: &W,
    order: &mut InOrder<'_, W, S>,
) -> anyhow::Result<()>
where
    R: Read + Send + 'static,
    T: Send,
    W: Fn(&[u8]) -> (Walked, T) + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
{
    let window = threads * 2;
    let (block_tx, block_rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(window);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    // Joined when all went well (it has finished by then); left to itself after an error,
    // so that an error never waits for a read that may block (on a terminal, say).
    let reader = std::thread::Builder::new()
        .name("qtools-reader".into())
        .spawn(move || {
            let mut cutter = cutter;
            // Buffers in use at most: the queue, the window and one being filled. Past
            // that, wait for one to come back rather than fault in fresh pages.
            let mut made = 0;
            loop {
                let buf = match free_rx.try_recv() {
                    Ok(buf) => buf,
                    Err(_) if made < 2 * window + 2 => {
                        made += 1;
                        Vec::new()
                    }
                    Err(_) => match free_rx.recv() {
                        Ok(buf) => buf,
                        Err(_) => return,
                    },
                };
                let next = match cutter.next(buf) {
                    Ok(Some(block)) => Ok(block),
                    Ok(None) => return,
                    Err(e) => Err(e),
                };
                let failed = next.is_err();
                if block_tx.send(next).is_err() || failed {
                    return;
                }
            }
        })?;
    let pool = pool(threads)?;
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<u8>, (Walked, T))>();
    let walked = pool.in_place_scope(|scope| {
        let mut reading = true;
        let mut in_flight = 0;
        let mut next_in = 0u64;
        let mut order_out = Reorder::default();
        loop {
            // Bounded by blocks not yet delivered (not merely not yet processed), so
            // that the buffers in use stay within what the reader may make.
            while reading && next_in - order_out.next() < window as u64 {
                match block_rx.recv() {
                    Ok(Ok(block)) => {
                        let done_tx = done_tx.clone();
                        let i = next_in;
                        scope.spawn(move |_| {
                            let res = work(&block);
                            let _ = done_tx.send((i, block, res));
                        });
                        next_in += 1;
                        in_flight += 1;
                    }
                    Ok(Err(e)) => return Err(ReadError::Io(e).in_file(order.name)),
                    Err(_) => reading = false,
                }
            }
            if in_flight == 0 {
                return Ok(());
            }
            let (i, block, res) = done_rx.recv()?;
            in_flight -= 1;
            order_out.put(i, (block, res), |_, (block, res)| {
                order.deliver(&block, res)?;
                let _ = free_tx.send(block);
                anyhow::Ok(())
            })?;
        }
    });
    if walked.is_ok() {
        let _ = reader.join();
    }
    walked
}

/// `-j N` on a regular file: each worker reads its own block with a positioned read, so
/// the copy out of the page cache runs on every core (a reader thread copying for all of
/// them was the limit), and there is no reader thread to feed.
///
/// Block `k` nominally holds the bytes from `from + k * block`, and really starts at its
/// first record end there, found by a guess of the quote state at its nominal start (see
/// [`block_start`]). A wrong guess, on malformed input, leaves the block before ending
/// inside quotes: the sink sees that and repairs the cut as it repairs any other (see
/// [`InOrder`]). The input is the file as long as it was when the walk began.
fn run_positioned<T, W, S>(
    src: &dyn ReadAt,
    from: u64,
    walk: &Walk,
    work: &W,
    order: &mut InOrder<'_, W, S>,
) -> anyhow::Result<()>
where
    T: Send,
    W: Fn(&[u8]) -> (Walked, T) + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
{
    type Done<T> = (
        u64,
        Vec<u8>,
        std::io::Result<(std::ops::Range<usize>, (Walked, T))>,
    );
    let (block, threads, delim) = (walk.block.max(1), walk.threads, walk.shape.delim);
    let end = src.size()?;
    if end <= from {
        return Ok(());
    }
    let blocks = (end - from).div_ceil(block as u64);
    let window = threads as u64 * 2;
    let pool = pool(threads)?;
    let (done_tx, done_rx) = mpsc::channel::<Done<T>>();
    pool.in_place_scope(|scope| {
        let mut free: Vec<Vec<u8>> = Vec::new();
        let mut next_in = 0u64;
        let mut order_out = Reorder::default();
        while order_out.next() < blocks {
            while next_in < blocks && next_in - order_out.next() < window {
                let mut buf = free.pop().unwrap_or_default();
                let done_tx = done_tx.clone();
                let k = next_in;
                scope.spawn(move |_| {
                    let res = read_block(src, (from, end), k, block, delim, &mut buf)
                        .map(|r| (r.clone(), work(&buf[r])));
                    let _ = done_tx.send((k, buf, res));
                });
                next_in += 1;
            }
            let (k, buf, res) = done_rx.recv()?;
            order_out.put(k, (buf, res), |_, (buf, res)| {
                let (range, res) = res?;
                order.deliver(&buf[range], res)?;
                free.push(buf);
                anyhow::Ok(())
            })?;
        }
        Ok(())
    })
}

/// Read block `k` of the input `[from, end)` into `buf`, and say where it lies there: from
/// its start (see [`block_start`]; the input's start for block 0) to the start of the next
/// block that has one, or the input's end. Empty when it has no start of its own (the
/// block before then reaches past it).
fn read_block(
    src: &dyn ReadAt,
    (from, end): (u64, u64),
    k: u64,
    block: usize,
    delim: u8,
    buf: &mut Vec<u8>,
) -> std::io::Result<std::ops::Range<usize>> {
    let nominal = |at: u64| block.min(left(end, at));
    let lo = from + k * block as u64;
    let mut len = fill(src, buf, 0, lo, nominal(lo))?;
    let first = if k == 0 {
        0
    } else {
        match block_start(&buf[..len], delim) {
            Some(s) => s,
            None => return Ok(0..0),
        }
    };
    if len < nominal(lo) {
        return Ok(first..len); // the file shrank
    }
    loop {
        let next = lo + len as u64;
        if next >= end {
            return Ok(first..len);
        }
        // The next block's start is nearly always in its first bytes: read those first.
        let want = nominal(next);
        let head = want.min(2 * GUESS);
        let got = fill(src, buf, len, next, head)?;
        if got < head {
            return Ok(first..len + got);
        }
        if let Some(s) = block_start(&buf[len..len + got], delim) {
            return Ok(first..len + s);
        }
        let more = fill(src, buf, len + got, next + got as u64, want - got)?;
        if more < want - got {
            return Ok(first..len + got + more);
        }
        if let Some(s) = block_start(&buf[len..len + want], delim) {
            return Ok(first..len + s);
        }
        len += want;
    }
}

/// Read `want` bytes of `src` from `offset` into `buf[at..]` (grown as needed; never
/// zeroed again once grown): how many there were.
fn fill(
    src: &dyn ReadAt,
    buf: &mut Vec<u8>,
    at: usize,
    offset: u64,
    want: usize,
) -> std::io::Result<usize> {
    if buf.len() < at + want {
        buf.resize(at + want, 0);
    }
    let mut n = 0;
    while n < want {
        match src.read_at(&mut buf[at + n..at + want], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The process's pool of `threads` workers, built on first use: a run over many files
/// (or a fuzzer's many runs) reuses it instead of starting and stopping threads per input.
fn pool(threads: usize) -> anyhow::Result<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS
        .lock()
        .map_err(|_| anyhow::anyhow!("the thread pool registry is poisoned"))?;
    if let Some((_, p)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(Arc::clone(p));
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("qtools-worker-{i}"))
            .build()?,
    );
    pools.push((threads, Arc::clone(&p)));
    Ok(p)
}

/// Reads `src` in blocks cut where a record probably ends (see the module doc).
pub(crate) struct Cutter<R> {
    src: R,
    carry: Vec<u8>,
    eof: bool,
    block: usize,
}

impl<R: Read> Cutter<R> {
    /// Blocks of `src` cut where a line feed has an even number of quotes before it.
    pub(crate) fn new(src: R) -> Self {
        Cutter {
            src,
            carry: Vec::new(),
            eof: false,
            block: BLOCK,
        }
    }

    /// The next block, in `buf` (reused); `None` at the end of the input.
    pub(crate) fn next(&mut self, mut buf: Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
        buf.clear();
        buf.append(&mut self.carry);
        loop {
            if self.eof {
                return Ok((!buf.is_empty()).then_some(buf));
            }
            if buf.len() >= self.block {
                if let Some(cut) = guess_cut(&buf) {
                    self.carry.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    return Ok(Some(buf));
                }
            }
            // Read a block more, or as much again as we hold when one record is that
            // large (so a huge record costs linear, not quadratic, time).
            // (`read_to_end` fills spare capacity without zeroing it first.)
            let want = self.block.max(buf.len()).max(64 * 1024);
            buf.reserve(want);
            let n = (&mut self.src).take(want as u64).read_to_end(&mut buf)?;
            self.eof = n == 0;
        }
    }
}

/// The sink side: results in input order, with the carry-over of a block cut inside a
/// record, and the line count for messages.
struct InOrder<'a, W, S> {
    work: &'a W,
    sink: S,
    /// The start of a record that a wrongly cut block ended inside.
    carry: Vec<u8>,
    /// Whether `carry` holds an odd number of quotes.
    carry_odd: bool,
    /// Line feeds before the next block.
    lines: u64,
    name: &'a str,
    /// The last byte of the input so far (with `whole_lines`).
    last: Option<u8>,
    whole_lines: bool,
}

impl<T, W, S> InOrder<'_, W, S>
where
    W: Fn(&[u8]) -> (Walked, T),
    S: FnMut(T) -> anyhow::Result<()>,
{
    fn deliver(&mut self, block: &[u8], res: (Walked, T)) -> anyhow::Result<()> {
        if self.whole_lines {
            self.last = block.last().copied().or(self.last);
        }
        if self.carry.is_empty() {
            return self.settle(block, res);
        }
        // This block's start is not a record boundary. While no line feed in it can end
        // the carried record (quote parity says so), carry it whole: redoing the growing
        // record at every block of a huge quoted field would cost quadratic time.
        self.carry.extend_from_slice(block);
        if let Err(odd) = first_record_end(block, self.carry_odd) {
            self.carry_odd = odd;
            return Ok(());
        }
        // Redo it from the carried record.
        let joined = std::mem::take(&mut self.carry);
        let res = (self.work)(&joined);
        self.settle(&joined, res)
    }

    /// Take the result of a block that started at a record boundary.
    fn settle(&mut self, block: &[u8], (w, acc): (Walked, T)) -> anyhow::Result<()> {
        (self.sink)(acc)?;
        self.lines += w.lines;
        let Some((stop, offset)) = w.stop else {
            return Ok(());
        };
        let line = self.lines + 1;
        match stop {
            Stop::Unterminated => {
                self.carry.extend_from_slice(&block[offset..]);
                self.carry_odd = crate::scan::odd_count(&self.carry, b'"');
                Ok(())
            }
            Stop::AfterQuote => Err(ReadError::AfterQuote { line }.in_file(self.name)),
            Stop::Ragged { fields, expected } => Err(ReadError::Ragged {
                line,
                fields,
                expected,
            }
            .in_file(self.name)),
        }
    }

    /// At the end of the input, a carried record is a quoted field never closed (once
    /// the parser has had its say: parity is only a guess on malformed input).
    fn finish(mut self) -> anyhow::Result<()> {
        if self.carry.is_empty() {
            return self.ended_whole();
        }
        let joined = std::mem::take(&mut self.carry);
        let res = (self.work)(&joined);
        self.settle(&joined, res)?;
        if self.carry.is_empty() {
            return self.ended_whole();
        }
        Err(ReadError::Unterminated {
            line: self.lines + 1,
        }
        .in_file(self.name))
    }
}

impl<W, S> InOrder<'_, W, S> {
    /// A stream must end with a line end (see [`Walk::whole_lines`]).
    fn ended_whole(&self) -> anyhow::Result<()> {
        match self.last {
            Some(b) if self.whole_lines && b != b'\n' && b != b'\r' => Err(ReadError::Cut {
                line: self.lines + 1,
            }
            .in_file(self.name)),
            _ => Ok(()),
        }
    }
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

    const SHAPE: Shape = Shape {
        delim: b',',
        width: None,
        strict: false,
    };

    /// Walk `data` with positioned reads (with more than one thread) and as a stream: both
    /// must give the same.
    fn walk(data: &[u8], block: usize, threads: usize) -> anyhow::Result<Vec<u8>> {
        let positioned = walk_from(std::io::Cursor::new(data.to_vec()), block, threads);
        let streamed = walk_from(
            crate::positioned::Stream(std::io::Cursor::new(data.to_vec())),
            block,
            threads,
        );
        match (&positioned, &streamed) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(format!("{a:#}"), format!("{b:#}")),
            _ => panic!("positioned {positioned:?}, streamed {streamed:?}"),
        }
        positioned
    }

    fn walk_from(
        mut src: impl Positioned,
        block: usize,
        threads: usize,
    ) -> anyhow::Result<Vec<u8>> {
        let s = start(&mut src, b',', false)?;
        let shape = Shape {
            width: s.width,
            ..SHAPE
        };
        let mut out = Vec::new();
        walk_input(
            src,
            s,
            &Walk {
                name: "t",
                shape,
                block,
                threads,
                whole_lines: false,
            },
            each_record(shape, |_, raw, acc: &mut Vec<u8>| {
                acc.extend_from_slice(raw);
            }),
            |acc| {
                out.extend_from_slice(&acc);
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn blocks_cover_the_input_in_order() {
        let data: Vec<u8> = (0..500)
            .flat_map(|i| format!("{i},\"q\n{i}\"\n").into_bytes())
            .collect();
        for block in [1, 7, 64, 1 << 20] {
            for threads in [1, 3] {
                assert_eq!(walk(&data, block, threads).unwrap(), data, "block {block}");
            }
        }
    }

    // A bare quote inside an unquoted field fools the parity cut; the sink carries the
    // record over and the result is still the parser's.
    #[test]
    fn a_wrong_cut_is_repaired() {
        let data: Vec<u8> = (0..300)
            .flat_map(|i| format!("{i},a\"b,\"x\ny\"\n").into_bytes())
            .collect();
        for block in [1, 5, 16, 100] {
            for threads in [1, 2] {
                assert_eq!(walk(&data, block, threads).unwrap(), data, "block {block}");
            }
        }
    }

    #[test]
    fn unterminated_names_the_line() {
        let e = walk(b"a\nb\n\"c\nd\n", 2, 2).unwrap_err();
        assert!(format!("{e:#}").contains("t:3:"), "{e:#}");
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
    fn strict_stops_at_a_ragged_record() {
        let shape = Shape {
            width: Some(2),
            strict: true,
            ..SHAPE
        };
        let mut rec = Record::default();
        let w = walk_block(b"a,b\nc\nd,e\n", &shape, &mut rec, |_, _| {});
        assert_eq!(w.records, 1);
        assert_eq!(w.lines, 1);
        assert_eq!(
            w.stop,
            Some((
                Stop::Ragged {
                    fields: 1,
                    expected: 2
                },
                4
            ))
        );
    }
}
