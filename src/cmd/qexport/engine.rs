//! Running export jobs: rows to CSV, over one connection streaming (`-j 1`), or over N
//! connections reading key-range chunks in parallel while one writer puts the chunks out
//! in job order, so the output is byte-identical to `-j 1`.
//!
//! Memory: `-j 1` streams (one 64 KiB block at a time). In parallel each chunk is
//! collected whole, and no worker may start a chunk more than `2 * N` ahead of the writer,
//! so at most about `3 * N` chunks (each about 2 MiB, see `plan`) are held at once. Chunk
//! buffers are recycled through a pool rather than freed and reallocated: a buffer filled
//! on a worker thread and emptied on the writer's would otherwise leave the allocator
//! caching a few MiB per chunk (measured: 101 MB peak RSS with -j 2 before, see
//! BENCHMARKS.md).

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use anyhow::{anyhow, bail, Context};
use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::{Column, Conn, Row, Value};
use qtools_csv::dialect::Dialect;
use qtools_csv::reorder::Reorder;
use qtools_csv::scan;

use crate::conn::{db_error, ConnConfig, Session};
use crate::progress::Progress;
use crate::schema::{bit_to_decimal, ValueKind};
use crate::sql::TableName;

use super::wire::{self, Wire};

/// One query whose rows go, in order, to output number `out`.
#[derive(Debug, Clone)]
pub struct Job {
    pub out: usize,
    /// What is read, for messages: `` table `db`.`t` `` or `the query`.
    pub what: String,
    pub sql: String,
    /// Write the header row before this job's rows (the first job of each output).
    pub header: bool,
}

/// Where job output goes: one writer per output, written in job order.
pub trait Sinks {
    fn write(&mut self, out: usize, bytes: &[u8]) -> anyhow::Result<()>;
    /// Every job of `out` is written; they held `rows` rows.
    fn finish(&mut self, out: usize, rows: u64) -> anyhow::Result<()>;
}

fn kind(ty: ColumnType, charset: u16) -> ValueKind {
    use ColumnType::{
        MYSQL_TYPE_BIT, MYSQL_TYPE_BLOB, MYSQL_TYPE_GEOMETRY, MYSQL_TYPE_LONG_BLOB,
        MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_STRING, MYSQL_TYPE_TINY_BLOB, MYSQL_TYPE_VARCHAR,
        MYSQL_TYPE_VAR_STRING,
    };
    /// The `binary` pseudo-charset; numbers and dates report it too, hence the type check.
    const BINARY_CHARSET: u16 = 63;
    match ty {
        MYSQL_TYPE_BIT => ValueKind::Bit,
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_GEOMETRY
            if charset == BINARY_CHARSET =>
        {
            ValueKind::Binary
        }
        _ => ValueKind::Text,
    }
}

/// Writes rows of one result set as CSV records.
struct RowFormat<'a> {
    kinds: Vec<ValueKind>,
    d: &'a Dialect,
    scratch: Vec<u8>,
    /// The bytes of a row packet that make a value quoted (see [`scan::marks`]).
    marks: Vec<u32>,
}

impl<'a> RowFormat<'a> {
    fn new(kinds: Vec<ValueKind>, d: &'a Dialect) -> Self {
        RowFormat {
            kinds,
            d,
            scratch: Vec::new(),
            marks: Vec::new(),
        }
    }

    fn header<'n>(&self, names: impl Iterator<Item = &'n [u8]>, buf: &mut Vec<u8>) {
        self.d.write_record(buf, names.map(Some));
    }

    /// One value of a column of kind `k`.
    #[inline]
    fn value(&mut self, k: ValueKind, b: &[u8], buf: &mut Vec<u8>) {
        match k {
            ValueKind::Text => self.d.write_value(buf, b),
            ValueKind::Binary => self.d.write_binary(buf, b, &mut self.scratch),
            ValueKind::Bit => {
                self.scratch.clear();
                bit_to_decimal(b, &mut self.scratch);
                self.d.write_value(buf, &self.scratch);
            }
        }
    }

    /// A row as the driver hands it.
    fn row(&mut self, row: &Row, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        for i in 0..self.kinds.len() {
            if i > 0 {
                buf.push(self.d.delimiter);
            }
            match row.as_ref(i) {
                Some(Value::Bytes(b)) => self.value(self.kinds[i], b, buf),
                Some(Value::NULL) | None => self.d.write_null(buf),
                // The text protocol only sends bytes and NULL.
                Some(other) => bail!("unexpected value from the text protocol: {other:?}"),
            }
        }
        buf.push(b'\n');
        Ok(())
    }

    /// A row as its packet holds it: `room[..len]` (see [`Wire::next_row`]). The bytes
    /// that make a text value quoted are looked for once in the whole packet.
    fn packet_row(&mut self, room: &[u8], len: usize, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        let p = &room[..len];
        buf.reserve(p.len() + self.kinds.len() + 1);
        scan::marks(room, len, self.d.specials(), &mut self.marks);
        let mut rest = p;
        for i in 0..self.kinds.len() {
            if i > 0 {
                buf.push(self.d.delimiter);
            }
            match wire::value(&mut rest)? {
                Some(b) if self.kinds[i] == ValueKind::Text => {
                    let end = p.len() - rest.len();
                    let special = scan::marked(&self.marks, end - b.len(), end);
                    self.d.write_value_with(buf, b, special);
                }
                Some(b) => self.value(self.kinds[i], b, buf),
                None => self.d.write_null(buf),
            }
        }
        if !rest.is_empty() {
            bail!(
                "the server sent a row with more values than its {} columns",
                self.kinds.len()
            );
        }
        buf.push(b'\n');
        Ok(())
    }
}

const BLOCK: usize = 64 * 1024;

/// Run one job, appending CSV to `buf`; `flush` is called whenever `buf` reaches
/// `flush_at` bytes, with the rows it holds. Returns the number of rows. The rows are read
/// off `wire` when the connection has one (see [`Wire`]), else through the driver.
fn run_job(
    conn: &mut Conn,
    wire: Option<&mut Wire>,
    job: &Job,
    d: &Dialect,
    buf: &mut Vec<u8>,
    flush_at: usize,
    flush: &mut dyn FnMut(&mut Vec<u8>, u64) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let reading = || format!("reading {}", job.what);
    let rows_of = || format!("reading rows of {} from the server", job.what);
    let no_result = || anyhow!("the query returned no result set (was it a SELECT?)");
    let (mut rows, mut pending) = (0u64, 0u64);
    let mut counted = |buf: &mut Vec<u8>| -> anyhow::Result<()> {
        rows += 1;
        pending += 1;
        if buf.len() >= flush_at {
            flush(buf, pending)?;
            pending = 0;
        }
        Ok(())
    };
    if let Some(w) = wire {
        let cols = w.query(&job.sql).with_context(reading)?;
        if cols.is_empty() {
            return Err(no_result());
        }
        let mut fmt = RowFormat::new(cols.iter().map(|c| kind(c.ty, c.charset)).collect(), d);
        if job.header && d.header {
            fmt.header(cols.iter().map(|c| &c.name[..]), buf);
        }
        while let Some((room, len)) = w.next_row().with_context(rows_of)? {
            fmt.packet_row(room, len, buf).with_context(rows_of)?;
            counted(buf)?;
        }
    } else {
        let session = Session::of(conn)?;
        let mut result = conn
            .query_iter(&job.sql)
            .map_err(|e| session.db_error(e))
            .with_context(reading)?;
        let cols = result.columns().as_ref().to_vec();
        if cols.is_empty() {
            return Err(no_result());
        }
        let kinds = cols
            .iter()
            .map(|c| kind(c.column_type(), c.character_set()))
            .collect();
        let mut fmt = RowFormat::new(kinds, d);
        if job.header && d.header {
            fmt.header(cols.iter().map(Column::name_ref), buf);
        }
        for row in result.by_ref() {
            let row = row.map_err(|e| session.db_error(e)).with_context(rows_of)?;
            fmt.row(&row, buf)?;
            counted(buf)?;
        }
    }
    flush(buf, pending)?;
    Ok(rows)
}

/// Is job `i` the last of its output?
fn last_of_out(jobs: &[Job], i: usize) -> bool {
    jobs.get(i + 1).is_none_or(|next| next.out != jobs[i].out)
}

/// Run every job on one connection, streaming; `plain`: see [`Wire::open`].
pub fn run_sequential(
    conn: &mut Conn,
    plain: bool,
    jobs: &[Job],
    d: &Dialect,
    sinks: &mut dyn Sinks,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(BLOCK + 4096);
    let mut out_rows = 0;
    let mut wire = Wire::open(conn, plain)?;
    for (i, job) in jobs.iter().enumerate() {
        out_rows += run_job(
            conn,
            wire.as_mut(),
            job,
            d,
            &mut buf,
            BLOCK,
            &mut |b, rows| {
                progress.add(rows, b.len() as u64);
                sinks.write(job.out, b)?;
                b.clear();
                Ok(())
            },
        )?;
        if last_of_out(jobs, i) {
            sinks.finish(job.out, out_rows)?;
            out_rows = 0;
        }
    }
    Ok(())
}

enum Msg {
    /// A worker has connected and opened its snapshot.
    Started,
    Done {
        job: usize,
        bytes: Vec<u8>,
        rows: u64,
    },
    Failed(anyhow::Error),
}

struct Shared {
    next: usize,
    written: usize,
    cancelled: bool,
    /// Emptied chunk buffers, for the workers to fill again.
    pool: Vec<Vec<u8>>,
}

/// The parallel run's settings.
pub struct Parallel<'a> {
    pub conn: &'a ConnConfig,
    pub init: &'a [&'a str],
    pub workers: usize,
    /// The tables every worker holds (see [`hold`]) once its snapshot is open.
    pub hold: &'a [&'a TableName],
}

/// Take a shared metadata lock on each of `tables` in the open transaction, reading one
/// row of each: until the transaction ends, DDL on them (TRUNCATE, ALTER, DROP) waits,
/// while reads and writes of rows go on. A snapshot then stays one point in time for the
/// whole export. A table whose definition changed between the snapshot and this lock
/// fails here, at once, with the server's "Table definition has changed".
pub fn hold(conn: &mut Conn, tables: &[&TableName]) -> anyhow::Result<()> {
    for t in tables {
        conn.query_drop(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) AS held",
            t.quoted()
        ))
        .map_err(db_error)
        .with_context(|| {
            format!(
                "holding {} for the snapshot (run the export again)",
                t.quoted()
            )
        })?;
    }
    Ok(())
}

/// Run the jobs over `p.workers` connections, each in its own consistent snapshot.
/// `all_started` is called once every worker has opened its snapshot (for `--consistent`,
/// which holds a lock until then).
pub fn run_parallel(
    p: &Parallel<'_>,
    jobs: &[Job],
    d: &Dialect,
    sinks: &mut dyn Sinks,
    progress: &Progress,
    all_started: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let window = 2 * p.workers;
    let shared = Mutex::new(Shared {
        next: 0,
        written: 0,
        cancelled: false,
        pool: Vec::new(),
    });
    let wake = Condvar::new();
    let (tx, rx) = mpsc::channel::<Msg>();
    std::thread::scope(|s| {
        for _ in 0..p.workers {
            let tx = tx.clone();
            let (shared, wake) = (&shared, &wake);
            s.spawn(move || {
                if let Err(e) = worker(p, jobs, d, window, shared, wake, &tx) {
                    let _ = tx.send(Msg::Failed(e));
                }
            });
        }
        drop(tx);
        let result = write_in_order(
            &rx,
            jobs,
            p.workers,
            &shared,
            &wake,
            sinks,
            progress,
            all_started,
        );
        if result.is_err() {
            shared.lock().map(|mut g| g.cancelled = true).ok();
            wake.notify_all();
        }
        result
    })
}

fn worker(
    p: &Parallel<'_>,
    jobs: &[Job],
    d: &Dialect,
    window: usize,
    shared: &Mutex<Shared>,
    wake: &Condvar,
    tx: &mpsc::Sender<Msg>,
) -> anyhow::Result<()> {
    let mut conn = p.conn.connect(p.init)?;
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .map_err(db_error)?;
    hold(&mut conn, p.hold)?;
    let mut wire = Wire::open(&conn, p.conn.plain_bytes())?;
    if tx.send(Msg::Started).is_err() {
        return Ok(());
    }
    loop {
        let (i, mut bytes) = {
            let mut g = shared.lock().map_err(|_| anyhow!("a worker panicked"))?;
            loop {
                if g.cancelled || g.next >= jobs.len() {
                    return Ok(());
                }
                if g.next < g.written + window {
                    g.next += 1;
                    let buf = g.pool.pop().unwrap_or_default();
                    break (g.next - 1, buf);
                }
                g = wake.wait(g).map_err(|_| anyhow!("a worker panicked"))?;
            }
        };
        let rows = run_job(
            &mut conn,
            wire.as_mut(),
            &jobs[i],
            d,
            &mut bytes,
            usize::MAX,
            &mut |_, _| Ok(()),
        )?;
        if tx
            .send(Msg::Done {
                job: i,
                bytes,
                rows,
            })
            .is_err()
        {
            return Ok(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_in_order(
    rx: &mpsc::Receiver<Msg>,
    jobs: &[Job],
    workers: usize,
    shared: &Mutex<Shared>,
    wake: &Condvar,
    sinks: &mut dyn Sinks,
    progress: &Progress,
    all_started: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut order: Reorder<(Vec<u8>, u64)> = Reorder::default();
    let (mut started, mut out_rows) = (0, 0);
    let done = |order: &Reorder<_>| usize::try_from(order.next()).unwrap_or(usize::MAX);
    while done(&order) < jobs.len() {
        match rx.recv() {
            Ok(Msg::Started) => {
                started += 1;
                if started == workers {
                    all_started()?;
                }
            }
            Ok(Msg::Done { job, bytes, rows }) => {
                order.put(job as u64, (bytes, rows), |n, (mut bytes, rows)| {
                    let n = usize::try_from(n)?;
                    let out = jobs[n].out;
                    sinks.write(out, &bytes)?;
                    progress.add(rows, bytes.len() as u64);
                    out_rows += rows;
                    if last_of_out(jobs, n) {
                        sinks.finish(out, out_rows)?;
                        out_rows = 0;
                    }
                    bytes.clear();
                    if let Ok(mut g) = shared.lock() {
                        g.written = n + 1;
                        g.pool.push(bytes);
                    }
                    wake.notify_all();
                    anyhow::Ok(())
                })?;
            }
            Ok(Msg::Failed(e)) => return Err(e),
            Err(_) => bail!("the export workers stopped before the end"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use mysql::consts::ColumnType::{
        MYSQL_TYPE_BIT, MYSQL_TYPE_BLOB, MYSQL_TYPE_LONG, MYSQL_TYPE_VAR_STRING,
    };
    use qtools_csv::dialect::BinaryEncoding;

    // See: #15: one row as the text protocol hands it, formatted: text quoted where
    // needed, NULL unquoted, the empty string quoted, binary by --binary, BIT a number.
    // #29: the same bytes from the row's packet as from the driver's `Row`.
    #[test]
    fn rows_are_formatted_losslessly() {
        let cols: std::sync::Arc<[Column]> = vec![
            Column::new(MYSQL_TYPE_LONG).with_name(b"id"),
            Column::new(MYSQL_TYPE_VAR_STRING)
                .with_name(b"s")
                .with_character_set(45),
            Column::new(MYSQL_TYPE_VAR_STRING)
                .with_name(b"e")
                .with_character_set(45),
            Column::new(MYSQL_TYPE_BLOB)
                .with_name(b"b")
                .with_character_set(63),
            Column::new(MYSQL_TYPE_BIT)
                .with_name(b"f")
                .with_character_set(63),
        ]
        .into();
        let row = mysql_common::row::new_row(
            vec![
                Value::Bytes(b"7".to_vec()),
                Value::Bytes(b"a,\"b\"\nc".to_vec()),
                Value::Bytes(Vec::new()),
                Value::Bytes(vec![0, 0xff]),
                Value::Bytes(vec![0x02, 0xaa]),
            ],
            cols.clone(),
        );
        let nulls = mysql_common::row::new_row(vec![Value::NULL; 5], cols.clone());
        let packet = b"\x017\x07a,\"b\"\nc\x00\x02\x00\xff\x02\x02\xaa".to_vec();
        for (binary, want) in [
            (
                BinaryEncoding::Hex,
                "7,\"a,\"\"b\"\"\nc\",\"\",00ff,682\n,,,,\n",
            ),
            (
                BinaryEncoding::Base64,
                "7,\"a,\"\"b\"\"\nc\",\"\",AP8=,682\n,,,,\n",
            ),
        ] {
            let d = Dialect {
                binary,
                ..Dialect::default()
            };
            let kinds = cols
                .iter()
                .map(|c| kind(c.column_type(), c.character_set()))
                .collect();
            let mut fmt = RowFormat::new(kinds, &d);
            let mut buf = Vec::new();
            fmt.row(&row, &mut buf).unwrap();
            fmt.row(&nulls, &mut buf).unwrap();
            assert_eq!(String::from_utf8_lossy(&buf), want);
            let mut packets = Vec::new();
            fmt.packet_row(&packet, packet.len(), &mut packets).unwrap();
            fmt.packet_row(&[0xFB; 9], 5, &mut packets).unwrap();
            assert_eq!(packets, buf);
            for bad in [&packet[..packet.len() - 1], &[0xFB; 6][..], &[0xFB; 4]] {
                assert!(fmt.packet_row(bad, bad.len(), &mut Vec::new()).is_err());
            }
            let mut head = Vec::new();
            fmt.header(cols.iter().map(Column::name_ref), &mut head);
            assert_eq!(head, b"id,s,e,b,f\n");
        }
    }
}
