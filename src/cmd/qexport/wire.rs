//! A text-protocol result read straight off the connection's socket, row packets decoded
//! in place: the export's hot path (#29).
//!
//! The driver turns every row into a `Row` of `Value::Bytes(Vec<u8>)`: one allocation per
//! value and two copies of every byte before it reaches the CSV buffer, about 40% of
//! qexport's CPU. Here a query is sent as the driver would send it (`COM_QUERY`) on the
//! same connection, and its answer is read into one reused buffer, each value written out
//! from where it lies in the packet.
//!
//! Only on a connection whose bytes are the protocol's own (not TLS, not compressed: what
//! this client negotiated, see [`Wire::open`]); the driver's path serves the others, byte
//! for byte the same output. Between two commands the driver holds nothing unread (the server says
//! nothing unasked), so the connection stays the driver's for whatever comes after a
//! query read here, unless reading failed: then the connection is dropped with the
//! export.
//!
//! Hostile or broken servers get one line, never a panic: a malformed packet, a row with
//! more or fewer values than the columns announced, a row over the client's packet limit,
//! a request for a local file (refused: nothing is sent).

use std::fs::File;
use std::io::{self, Read, Write};

use anyhow::{anyhow, bail};
use mysql::consts::ColumnType;
use mysql::Conn;

use crate::conn::{db_error, Session, MAX_PACKET};

/// A payload of this length continues in the next packet.
const FULL: usize = 0xFF_FFFF;
/// `SERVER_MORE_RESULTS_EXISTS` in an EOF or OK packet's status.
const MORE_RESULTS: u16 = 0x0008;
const COM_QUERY: u8 = 0x03;

/// What the header needs of a result column, and what its values are.
#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: Vec<u8>,
    pub ty: ColumnType,
    pub charset: u16,
}

/// Where the last payload read lies.
#[derive(Clone, Copy)]
enum At {
    /// `buf[start..end]`: one packet.
    Buf(usize, usize),
    /// `big`: packets of [`FULL`] bytes joined.
    Big,
}

/// The connection's socket, read through a buffer of our own.
pub struct Wire {
    sock: File,
    /// The session, to end when the network stalls.
    session: Session,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    big: Vec<u8>,
    at: At,
    /// A result whose rows are still to be read.
    in_rows: bool,
    /// After the rows, another result follows (read and dropped, errors kept).
    more: bool,
}

impl Wire {
    /// The socket of `conn` when `plain` (its bytes are the protocol's own: no TLS, no
    /// compression, as [`crate::conn::ConnConfig::plain_bytes`] says from what this client
    /// negotiated, never from what a server says). `QTOOLS_ROW_DECODER=driver` keeps the
    /// driver's path (for the tests that compare the two, and for the benchmark).
    pub fn open(conn: &Conn, plain: bool) -> anyhow::Result<Option<Wire>> {
        if !plain || std::env::var_os("QTOOLS_ROW_DECODER").is_some_and(|v| v == "driver") {
            return Ok(None);
        }
        Ok(Some(Wire {
            sock: File::from(crate::conn::socket_of(conn)?),
            session: Session::of(conn)?,
            buf: vec![0; 256 * 1024],
            start: 0,
            end: 0,
            big: Vec::new(),
            at: At::Buf(0, 0),
            in_rows: false,
            more: false,
        }))
    }

    /// Send `sql` and read its result's columns; none when it has no result set. The rows
    /// follow from [`Wire::next_row`], every one of them before the next query.
    pub fn query(&mut self, sql: &str) -> anyhow::Result<Vec<ColumnDef>> {
        if self.in_rows || self.more {
            bail!("a query was sent before the previous result was read");
        }
        self.send(sql.as_bytes())?;
        let cols = self.result()?;
        if cols.is_empty() && self.more {
            self.drain()?;
        }
        Ok(cols)
    }

    /// The next row's packet, or `None` after the last (the rest of a multi-result answer
    /// read too): `(room, len)`, the packet is `room[..len]` and whatever the buffer holds
    /// after it follows (for [`qtools_csv::scan::marks`]).
    pub fn next_row(&mut self) -> anyhow::Result<Option<(&[u8], usize)>> {
        if !self.in_rows {
            return Ok(None);
        }
        self.read()?;
        let (first, len) = (self.payload().first().copied(), self.payload().len());
        if first == Some(0xFE) && len < FULL {
            let flags = status(self.payload())?;
            self.in_rows = false;
            self.more = flags & MORE_RESULTS != 0;
            if self.more {
                self.drain()?;
            }
            return Ok(None);
        }
        if first == Some(0xFF) {
            self.in_rows = false;
            return Err(server_error(self.payload()));
        }
        Ok(Some(match self.at {
            At::Buf(s, e) => (&self.buf[s..self.end], e - s),
            At::Big => (&self.big[..], self.big.len()),
        }))
    }

    /// One result's header: an OK packet (no columns), an error, or the column count and
    /// definitions and their EOF packet.
    fn result(&mut self) -> anyhow::Result<Vec<ColumnDef>> {
        self.read()?;
        let p = self.payload();
        match p.first() {
            Some(0x00) => {
                let flags = ok_status(p)?;
                self.more = flags & MORE_RESULTS != 0;
                return Ok(Vec::new());
            }
            Some(0xFF) => return Err(server_error(p)),
            Some(0xFB) => bail!(crate::conn::refused_file(&p[1..])),
            _ => {}
        }
        let mut rest = p;
        let n = lenenc(&mut rest)?;
        // With MARIADB_CLIENT_CACHE_METADATA (asked by the driver) a byte says whether the
        // definitions follow; a text-protocol query always has them.
        if !matches!(rest, [] | [1]) || n == 0 {
            bail!(malformed("a result's column count"));
        }
        // Every definition is at least 13 bytes: never more columns than bytes that can come.
        let n = usize::try_from(n).map_err(|_| anyhow!(malformed("a result's column count")))?;
        let mut cols = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            self.read()?;
            cols.push(column(self.payload())?);
        }
        self.read()?;
        let p = self.payload();
        if p.first() != Some(&0xFE) || p.len() >= 9 {
            bail!(malformed("the end of a result's column definitions"));
        }
        self.in_rows = true;
        Ok(cols)
    }

    /// Read the rest of a multi-result answer, rows dropped, an error kept.
    fn drain(&mut self) -> anyhow::Result<()> {
        while self.more {
            self.more = false;
            if !self.result()?.is_empty() {
                while self.next_row()?.is_some() {}
            }
        }
        Ok(())
    }

    fn send(&mut self, body: &[u8]) -> anyhow::Result<()> {
        let mut payload = Vec::with_capacity(body.len() + 1);
        payload.push(COM_QUERY);
        payload.extend_from_slice(body);
        let mut out = Vec::with_capacity(payload.len() + 8);
        let mut seq = 0u8;
        let mut chunks = payload.chunks(FULL);
        loop {
            let chunk = chunks.next().unwrap_or(&[]);
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes()[..3]);
            out.push(seq);
            out.extend_from_slice(chunk);
            seq = seq.wrapping_add(1);
            // A payload of a whole number of full packets ends with an empty one.
            if chunk.len() < FULL {
                break;
            }
        }
        self.sock
            .write_all(&out)
            .map_err(|e| self.session.db_error(mysql::Error::IoError(e)))
    }

    fn payload(&self) -> &[u8] {
        match self.at {
            At::Buf(s, e) => &self.buf[s..e],
            At::Big => &self.big,
        }
    }

    /// Read one payload (joining a long one's packets) and say where it is.
    fn read(&mut self) -> anyhow::Result<()> {
        let len = self.packet()?;
        if len < FULL {
            self.at = At::Buf(self.start - len, self.start);
            return Ok(());
        }
        self.big.clear();
        self.big
            .extend_from_slice(&self.buf[self.start - len..self.start]);
        loop {
            let len = self.packet()?;
            if self.big.len() + len > MAX_PACKET {
                bail!(
                    "the server sent a row of more than {} MiB, the client's limit",
                    MAX_PACKET >> 20
                );
            }
            self.big
                .extend_from_slice(&self.buf[self.start - len..self.start]);
            if len < FULL {
                break;
            }
        }
        self.at = At::Big;
        Ok(())
    }

    /// Read one packet: its payload ends at the new `start`; returns its length.
    fn packet(&mut self) -> anyhow::Result<usize> {
        self.fill(4)?;
        let h = &self.buf[self.start..self.start + 4];
        let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
        self.start += 4;
        self.fill(len)?;
        self.start += len;
        Ok(len)
    }

    /// Make `buf[start..]` hold at least `n` unparsed bytes.
    fn fill(&mut self, n: usize) -> anyhow::Result<()> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
        }
        while self.end - self.start < n {
            match self.sock.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof, "server disconnected");
                    return Err(self.session.db_error(mysql::Error::IoError(e)));
                }
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.session.db_error(mysql::Error::IoError(e))),
            }
        }
        Ok(())
    }
}

fn malformed(what: &str) -> String {
    format!("the server sent a malformed packet ({what}); is this a MySQL or MariaDB server?")
}

/// Take one value of a row: `None` for NULL.
#[inline]
pub fn value<'a>(rest: &mut &'a [u8]) -> anyhow::Result<Option<&'a [u8]>> {
    if rest.first() == Some(&0xFB) {
        *rest = &rest[1..];
        return Ok(None);
    }
    let n = lenenc(rest)?;
    match usize::try_from(n) {
        Ok(n) if n <= rest.len() => {
            let (v, tail) = rest.split_at(n);
            *rest = tail;
            Ok(Some(v))
        }
        _ => bail!(malformed("a value longer than its row")),
    }
}

/// A length-encoded integer.
#[inline]
fn lenenc(rest: &mut &[u8]) -> anyhow::Result<u64> {
    let Some((&first, tail)) = rest.split_first() else {
        bail!(malformed("a row with fewer values than columns"));
    };
    let width = match first {
        0..=0xFA => {
            *rest = tail;
            return Ok(u64::from(first));
        }
        0xFC => 2,
        0xFD => 3,
        0xFE => 8,
        _ => bail!(malformed("a length")),
    };
    if tail.len() < width {
        bail!(malformed("a length"));
    }
    let mut le = [0u8; 8];
    le[..width].copy_from_slice(&tail[..width]);
    *rest = &tail[width..];
    Ok(u64::from_le_bytes(le))
}

fn lenenc_str<'a>(rest: &mut &'a [u8]) -> anyhow::Result<&'a [u8]> {
    value(rest)?.ok_or_else(|| anyhow!(malformed("a column definition")))
}

/// A column definition (protocol 4.1): six strings, then twelve bytes after `0x0C`.
pub fn column(p: &[u8]) -> anyhow::Result<ColumnDef> {
    let mut rest = p;
    let mut name = &[][..];
    for i in 0..6 {
        let s = lenenc_str(&mut rest)?;
        if i == 4 {
            name = s;
        }
    }
    // MariaDB's extended type information, when sent, comes before the fixed part.
    if rest.len() < 13 {
        bail!(malformed("a column definition"));
    }
    let fixed = &rest[rest.len() - 12..];
    let ty = ColumnType::try_from(fixed[6]).map_err(|_| anyhow!(malformed("a column's type")))?;
    Ok(ColumnDef {
        name: name.to_vec(),
        ty,
        charset: u16::from_le_bytes([fixed[0], fixed[1]]),
    })
}

/// An EOF packet's status flags (or an OK packet's, where one ends rows).
fn status(p: &[u8]) -> anyhow::Result<u16> {
    if p.len() == 5 {
        return Ok(u16::from_le_bytes([p[3], p[4]]));
    }
    ok_status(p)
}

/// An OK packet's status flags: after the header byte and two length-encoded integers.
fn ok_status(p: &[u8]) -> anyhow::Result<u16> {
    let mut rest = p.get(1..).unwrap_or_default();
    lenenc(&mut rest)?;
    lenenc(&mut rest)?;
    match rest {
        [a, b, ..] => Ok(u16::from_le_bytes([*a, *b])),
        _ => bail!(malformed("an OK packet")),
    }
}

/// An ERR packet as the driver would have said it, so messages stay the same.
fn server_error(p: &[u8]) -> anyhow::Error {
    if p.len() < 3 {
        return anyhow!(malformed("an error packet"));
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let (state, message) = match &p[3..] {
        [b'#', rest @ ..] if rest.len() >= 5 => (&rest[..5], &rest[5..]),
        rest => (&b"HY000"[..], rest),
    };
    db_error(mysql::Error::MySqlError(mysql::MySqlError {
        state: String::from_utf8_lossy(state).into_owned(),
        message: String::from_utf8_lossy(message).into_owned(),
        code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #29: values come out of a row packet as they lie in it: NULL, empty,
    // one-byte, two-, three- and eight-byte lengths; a short packet is an error, not a panic.
    #[test]
    fn row_values_are_read_in_place() {
        let long = vec![b'x'; 300];
        let mut p = vec![0xFB, 0, 3, b'a', b',', b'b', 0xFC, 0x2C, 0x01];
        p.extend_from_slice(&long);
        let mut rest = &p[..];
        assert_eq!(value(&mut rest).unwrap(), None);
        assert_eq!(value(&mut rest).unwrap(), Some(&b""[..]));
        assert_eq!(value(&mut rest).unwrap(), Some(&b"a,b"[..]));
        assert_eq!(value(&mut rest).unwrap(), Some(&long[..]));
        assert!(rest.is_empty());
        assert!(value(&mut rest).is_err());
        for bad in [&[5, b'a'][..], &[0xFC, 1], &[0xFE, 1, 0, 0], &[0xFF]] {
            let mut rest = bad;
            let e = value(&mut rest).unwrap_err().to_string();
            assert!(e.contains("malformed packet"), "{e}");
        }
        let mut eight = &[0xFE, 2, 0, 0, 0, 0, 0, 0, 0, b'h', b'i'][..];
        assert_eq!(value(&mut eight).unwrap(), Some(&b"hi"[..]));
    }

    // See: #29: a column definition, with or without MariaDB's extended type
    // information before the fixed part.
    #[test]
    fn column_definitions_give_name_type_and_charset() {
        let mut p = Vec::new();
        for s in [&b"def"[..], b"db", b"t", b"t", b"na,me", b"name"] {
            p.push(s.len() as u8);
            p.extend_from_slice(s);
        }
        let fixed = [0x0C, 63, 0, 10, 0, 0, 0, 0xFC, 0x90, 0, 0, 0, 0];
        let mut plain = p.clone();
        plain.extend_from_slice(&fixed);
        let c = column(&plain).unwrap();
        assert_eq!(c.name, b"na,me");
        assert_eq!(c.ty, ColumnType::MYSQL_TYPE_BLOB);
        assert_eq!(c.charset, 63);
        let mut ext = p;
        ext.extend_from_slice(&[4, 0, 2, b'j', b's']);
        ext.extend_from_slice(&fixed);
        assert_eq!(column(&ext).unwrap().ty, ColumnType::MYSQL_TYPE_BLOB);
        assert!(column(&plain[..plain.len() - 13]).is_err());
    }

    // See: #29: an error packet reads as the driver's error would.
    #[test]
    fn error_packets_read_as_the_drivers() {
        let mut p = vec![0xFF, 0x25, 0x05];
        p.extend_from_slice(b"#70100Query execution was interrupted");
        let e = server_error(&p).to_string();
        assert!(e.contains("Query execution was interrupted"), "{e}");
        assert!(e.contains("1317"), "{e}");
        assert!(server_error(&[0xFF]).to_string().contains("malformed"));
    }
}
