//! Sending validated records to the server with `LOAD DATA LOCAL INFILE`, fed by our own
//! local-infile handler, over one connection or several (the batches of multi-row
//! prepared INSERTs, `--method insert`, are insert.rs's).
//!
//! LOAD DATA: the records are re-encoded into one canonical stream (tab-separated,
//! backslash escapes, `\N` for NULL, binary columns as hex decoded by `UNHEX`, BIT as
//! numbers) and pushed through a bounded channel to the handler, which answers only the
//! stream name qimport generated: the server cannot make it read anything else. Parsing
//! and validation run on this thread while the statement runs on another, so both cores
//! work. The server's silence is not trusted: the records it reports must equal the
//! records sent, with nothing skipped and no warning (LOAD DATA LOCAL turns bad data and
//! duplicate keys into warnings even in strict mode).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context};
use mysql::prelude::Queryable;
use mysql::{Conn, LocalInfileHandler};

use super::choices::Mode;
use crate::conn::db_error_on;
use crate::dberror::{Code, Warning};
use crate::schema::{ColumnInfo, SqlType, ValueKind};
use crate::sql::{quote_ident, TableName};

/// `` `a`, `b` `` for column names.
pub fn column_list(cols: &[String]) -> String {
    let q: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
    q.join(", ")
}

/// `VERB INTO table (cols) source`, with `ON DUPLICATE KEY UPDATE` of every column for
/// upserts. `source` is `VALUES ...` or a `SELECT`.
pub fn insert_sql(mode: Mode, table: &TableName, cols: &[String], source: &str) -> String {
    let mut sql = format!(
        "{} INTO {} ({}) {source}",
        mode.verb(),
        table.quoted(),
        column_list(cols)
    );
    if mode == Mode::Upsert {
        let upd: Vec<String> = cols
            .iter()
            .map(|c| format!("{q} = VALUES({q})", q = quote_ident(c)))
            .collect();
        sql = format!("{sql} ON DUPLICATE KEY UPDATE {}", upd.join(", "));
    }
    sql
}

/// The row number (1-based, within one statement) to input line map, kept sparse: only
/// where a record does not start on the line after the previous one.
#[derive(Default)]
pub struct Lines {
    marks: Vec<(u64, u64)>,
    rows: u64,
    next_line: u64,
}

impl Lines {
    pub fn push(&mut self, line: u64) {
        self.rows += 1;
        if line != self.next_line {
            self.marks.push((self.rows, line));
        }
        self.next_line = line + 1;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The input line of row `row`.
    pub fn line(&self, row: u64) -> Option<u64> {
        let i = self.marks.partition_point(|(r, _)| *r <= row);
        let (r, l) = *self.marks.get(i.checked_sub(1)?)?;
        Some(l + (row - r))
    }
}

/// The LOAD DATA statement for `cols` into `table`.
pub fn load_data_sql(stream: &str, table: &TableName, cols: &[ColumnInfo], mode: Mode) -> String {
    let mut list = Vec::new();
    let mut set = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let q = quote_ident(&c.name);
        match c.ty.value_kind() {
            // Binary values go as their escaped bytes: a binary column takes the bytes
            // as they are, whatever the stream's character set (and an UNHEX() per row
            // cost the server about 15% of a load).
            // Types the server parses from text (UUID, INET4, INET6) would take the bytes
            // of a `binary` stream as their raw value: they go through utf8mb4.
            ValueKind::Text if c.ty == SqlType::FromText => {
                list.push(format!("@v{i}"));
                set.push(format!("{q} = CONVERT(@v{i} USING utf8mb4)"));
            }
            ValueKind::Text | ValueKind::Binary => list.push(q),
            ValueKind::Bit => {
                list.push(format!("@v{i}"));
                set.push(format!("{q} = CAST(@v{i} AS UNSIGNED)"));
            }
        }
    }
    let dup = match mode {
        Mode::Replace => "REPLACE ",
        Mode::Ignore => "IGNORE ",
        Mode::Insert | Mode::Upsert => "",
    };
    let mut sql = format!(
        "LOAD DATA LOCAL INFILE '{stream}' {dup}INTO TABLE {} CHARACTER SET {} \
         FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
        table.quoted(),
        stream_charset(cols),
        list.join(", ")
    );
    if !set.is_empty() {
        sql = format!("{sql} SET {}", set.join(", "));
    }
    sql
}

/// The character set the server reads the stream in. The stream is UTF-8 (checked); when
/// every text column stores UTF-8 (or ASCII) too, it is declared `binary`, as
/// `mariadb-import` does: the server then copies each value as it is, and its field reader
/// skips the multi-byte character tests it makes on every byte of a `utf8mb4` stream. Any
/// other column character set needs the server's conversion from `utf8mb4`.
fn stream_charset(cols: &[ColumnInfo]) -> &'static str {
    let copied = |cs: &str| matches!(cs, "utf8mb4" | "utf8mb3" | "utf8" | "ascii" | "binary");
    if cols.iter().all(|c| c.charset.as_deref().is_none_or(copied)) {
        "binary"
    } else {
        "utf8mb4"
    }
}

/// What the server said about one LOAD DATA.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub warnings: u64,
    /// `SHOW WARNINGS` when there were any (the first ten).
    pub messages: Vec<Warning>,
}

impl Loaded {
    /// The load stored `n` ENUM error values on purpose (a restore): their warnings,
    /// "Data truncated", are no failure; any other warning still is.
    pub fn expect_enum_error_values(&mut self, n: u64) {
        let only_those = self.messages.iter().all(|m| m.code == Code::DataTruncated);
        if only_those && self.warnings == n {
            self.warnings = 0;
            self.messages.clear();
        }
    }

    /// What the server said about the LOAD DATA `conn` ran last, and its first warnings.
    fn of(conn: &mut Conn) -> Loaded {
        let mut l = Loaded::parse(&conn.info_str(), u64::from(conn.warnings()));
        if l.warnings > 0 {
            l.messages = Warning::read(conn, 10);
        }
        l
    }

    /// The server's `Records: R  Deleted: D  Skipped: S  Warnings: W`, read by the order
    /// of its numbers, not its words: a server with `lc_messages` set says them in its
    /// own language (`Datensätze: 3  Gelöscht: 0 ...`), always in this order. See: #26.
    fn parse(info: &str, warnings: u64) -> Loaded {
        let numbers: Vec<u64> = info
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .filter_map(|n| n.parse().ok())
            .collect();
        let at = |i: usize| numbers.get(i).copied().unwrap_or(0);
        Loaded {
            records: at(0),
            deleted: at(1),
            skipped: at(2),
            warnings: warnings.max(at(3)),
            messages: Vec::new(),
        }
    }
}

/// Run `sql` (a LOAD DATA LOCAL INFILE of `stream`) while `produce` feeds the stream:
/// it gets a function that sends one block of canonical bytes.
pub fn load_stream<T>(
    conn: &mut Conn,
    stream: &str,
    sql: &str,
    produce: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> anyhow::Result<()>) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Loaded)> {
    let names = [stream.to_owned()];
    let (produced, mut loaded) = load_named(
        std::slice::from_mut(conn),
        &names,
        &|_| sql.to_owned(),
        produce,
    )?;
    Ok((produced, loaded.pop().unwrap_or_default()))
}

/// Like [`load_stream`], over several connections at once: each runs `sql_for(stream)` for
/// a stream of its own, and takes the producer's blocks (whole records each) from one
/// shared queue as fast as its server reads them, so a slower connection never holds the
/// others up. Returns what each server connection reported.
pub fn load_streams<T>(
    conns: &mut [Conn],
    stream_base: &str,
    sql_for: &(dyn Fn(&str) -> String + Sync),
    produce: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> anyhow::Result<()>) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Vec<Loaded>)> {
    let names: Vec<String> = (0..conns.len())
        .map(|i| format!("{stream_base}-{i}"))
        .collect();
    load_named(conns, &names, sql_for, produce)
}

/// The one loader behind both: connection `i` runs `sql_for(names[i])` and answers only
/// the stream `names[i]` (see: #26: a copy for one connection had drifted from this one).
fn load_named<T>(
    conns: &mut [Conn],
    names: &[String],
    sql_for: &(dyn Fn(&str) -> String + Sync),
    produce: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> anyhow::Result<()>) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Vec<Loaded>)> {
    let n = conns.len();
    crate::waiting::resume();
    let (tx, rx) = sync_channel::<Vec<u8>>((4 * n).max(8));
    // The queue's receiving end, dropped by the last connection to finish, so that the
    // producer gets an error instead of waiting when no server reads any more.
    let queue = Arc::new(Mutex::new(Some(rx)));
    let running = Arc::new(AtomicUsize::new(n));
    for (conn, expected) in conns.iter_mut().zip(names) {
        let queue = Arc::clone(&queue);
        let expected = expected.clone();
        let sock = crate::conn::socket_of(conn)?;
        conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |name, w| {
            if name != expected.as_bytes() {
                return Err(crate::conn::refused_file(name));
            }
            loop {
                // The lock is held only while waiting for a block, not while sending it.
                let next = queue.lock().ok().and_then(|q| {
                    q.as_ref()
                        .map(|rx| rx.recv_timeout(std::time::Duration::from_millis(250)))
                });
                match next {
                    Some(Ok(block)) => std::io::Write::write_all(w, &block)?,
                    // No block yet (the input pauses): the server may have gone meanwhile.
                    Some(Err(RecvTimeoutError::Timeout)) => {
                        if crate::waiting::peer_gone(std::os::fd::AsFd::as_fd(&sock)) {
                            return Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionReset,
                                "the server closed the connection while the load waited for its input",
                            ));
                        }
                    }
                    None | Some(Err(RecvTimeoutError::Disconnected)) => return Ok(()),
                }
            }
        })));
    }
    let (produced, loaded) = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .iter_mut()
            .zip(names)
            .map(|(conn, name)| {
                let sql = sql_for(name);
                let (queue, running) = (Arc::clone(&queue), Arc::clone(&running));
                s.spawn(move || {
                    let r = conn.query_drop(&sql).map_err(|e| db_error_on(conn, e));
                    if r.is_err() {
                        // The input a pipe would still bring is not wanted any more.
                        crate::waiting::stop();
                    }
                    if running.fetch_sub(1, Ordering::AcqRel) == 1 {
                        drop(queue.lock().ok().and_then(|mut q| q.take()));
                    }
                    r.map(|()| Loaded::of(conn))
                })
            })
            .collect();
        let mut send = |block: Vec<u8>| -> anyhow::Result<()> {
            tx.send(block)
                .map_err(|_| anyhow!("the server stopped reading the data"))
        };
        let produced = produce(&mut send);
        drop(tx);
        let loaded: anyhow::Result<Vec<Loaded>> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow!("a loading thread panicked"))?)
            .collect();
        (produced, loaded)
    });
    for conn in conns.iter_mut() {
        conn.set_local_infile_handler(None);
    }
    let loaded = loaded.context("LOAD DATA LOCAL INFILE")?;
    Ok((produced?, loaded))
}

/// The sum of what several connections reported.
pub fn total<'a>(parts: impl IntoIterator<Item = &'a Loaded>) -> Loaded {
    let mut t = Loaded::default();
    for p in parts {
        t.records += p.records;
        t.deleted += p.deleted;
        t.skipped += p.skipped;
        t.warnings += p.warnings;
        t.messages.extend(p.messages.iter().cloned());
    }
    t
}

/// The check a LOAD DATA result must pass for `sent` records in `mode`.
pub fn verify(loaded: &Loaded, sent: u64, mode: Mode, lines: &Lines) -> anyhow::Result<()> {
    let explain = || {
        let mut s = String::new();
        for Warning { message: m, .. } in &loaded.messages {
            let at = m
                .rsplit_once(" at row ")
                .and_then(|(_, n)| n.trim().parse::<u64>().ok())
                .and_then(|r| lines.line(r))
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            let _ = write!(s, "; {m}{at}");
        }
        s
    };
    if loaded.records != sent {
        bail!(
            "the server read {} where {sent} were sent{}",
            crate::error::plural(loaded.records, "record"),
            explain()
        );
    }
    match mode {
        Mode::Insert | Mode::Upsert | Mode::Replace
            if loaded.skipped > 0 || loaded.warnings > 0 =>
        {
            bail!(
                "the server skipped {} of {sent} records ({}){} \
             (LOAD DATA does not say on which line; --method insert does)",
                loaded.skipped,
                crate::error::plural(loaded.warnings, "warning"),
                explain()
            )
        }
        Mode::Ignore if loaded.warnings > loaded.skipped => bail!(
            "the server reported {} for {} skipped duplicates{}",
            crate::error::plural(loaded.warnings, "warning"),
            loaded.skipped,
            explain()
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_statement() {
        let c = |n: &str, t: &str| ColumnInfo::typed(n, t, t);
        let t = TableName {
            database: Some("d".into()),
            table: "t".into(),
        };
        let sql = load_data_sql(
            "s1",
            &t,
            &[c("a", "int"), c("b", "blob"), c("c", "bit")],
            Mode::Ignore,
        );
        assert!(sql.starts_with(
            "LOAD DATA LOCAL INFILE 's1' IGNORE INTO TABLE `d`.`t` CHARACTER SET binary"
        ));
        assert!(
            sql.ends_with("(`a`, `b`, @v2) SET `c` = CAST(@v2 AS UNSIGNED)"),
            "{sql}"
        );
        // A column the server must convert into makes the stream utf8mb4.
        let text = |cs: &str| ColumnInfo {
            charset: Some(cs.into()),
            ..c("x", "varchar")
        };
        for (cs, stream) in [
            ("utf8mb4", "binary"),
            ("utf8mb3", "binary"),
            ("ascii", "binary"),
            ("latin1", "utf8mb4"),
            ("utf16", "utf8mb4"),
        ] {
            let sql = load_data_sql("s", &t, &[c("a", "int"), text(cs)], Mode::Insert);
            assert!(
                sql.contains(&format!("CHARACTER SET {stream} ")),
                "{cs}: {sql}"
            );
        }
    }

    #[test]
    fn info_and_lines() {
        let de = Loaded::parse(
            "Datensätze: 3  Gelöscht: 1  Ausgelassen: 2  Warnungen: 4",
            0,
        );
        assert_eq!(
            (de.records, de.deleted, de.skipped, de.warnings),
            (3, 1, 2, 4)
        );
        let l = Loaded::parse("Records: 3  Deleted: 1  Skipped: 2  Warnings: 4", 0);
        assert_eq!((l.records, l.deleted, l.skipped, l.warnings), (3, 1, 2, 4));
        let mut lines = Lines::default();
        for line in [2, 3, 5, 6, 9] {
            lines.push(line);
        }
        assert_eq!(lines.line(1), Some(2));
        assert_eq!(lines.line(2), Some(3));
        assert_eq!(lines.line(3), Some(5));
        assert_eq!(lines.line(4), Some(6));
        assert_eq!(lines.line(5), Some(9));
        assert_eq!(lines.rows(), 5);
    }
}
