//! The canonical stream qimport sends to `LOAD DATA` (tab-separated, backslash escapes,
//! `\N` for NULL), written block by block.
//!
//! A block is memory set aside and initialized ahead (a fresh zeroed allocation costs no
//! pass of its own), into which each record is written by index: room for the record's
//! worst case is made once, so no byte or word written checks for growth. Most values
//! are short and copied eight bytes at a time (fixed-size copies the compiler inlines);
//! a call to `memcpy` for each cost more than the copy. Measured with callgrind on the
//! 100k-row bench load: about 120 fewer instructions a record than growing a vector,
//! besides the zeroing of each new block (a `memset` of 288 KiB per some 1,700 records,
//! which callgrind counts byte by byte and a CPU does in microseconds).

use super::choices::Row;
use crate::schema::{ColumnInfo, ValueKind};

/// The size blocks are sent at.
const BLOCK: usize = 256 * 1024;

/// A block sender for `load::load_stream`'s producer: encodes records, sends blocks of
/// about [`BLOCK`] bytes.
pub struct Encoder<'a> {
    /// The block being written: all of it initialized, `used` bytes written.
    buf: Vec<u8>,
    used: usize,
    send: &'a mut dyn FnMut(Vec<u8>) -> anyhow::Result<()>,
    /// For each column, whether its values are bytes of the raw record (not decoded).
    verbatim: Vec<bool>,
}

impl<'a> Encoder<'a> {
    pub fn new(
        send: &'a mut dyn FnMut(Vec<u8>) -> anyhow::Result<()>,
        cols: &[ColumnInfo],
    ) -> Self {
        Encoder {
            buf: Vec::new(),
            used: 0,
            send,
            verbatim: cols
                .iter()
                .map(|c| c.ty.value_kind() != ValueKind::Binary)
                .collect(),
        }
    }

    /// Encode one record. Its values, decoded binary ones aside, are bytes of its raw
    /// record, so one test of the raw record (less its line end, [`Row::plain`]) tells
    /// whether any needs escaping: most records need none, and their values are then
    /// copied as they are. (Measured with callgrind on a load: encoding took 23% of
    /// qimport's instructions with a test of each value, 19% with a word test of the
    /// record, and the SSE2 survey halved that test again.)
    pub fn row(&mut self, row: &Row<'_>) -> anyhow::Result<()> {
        let room = room(row.values);
        if self.used + room > self.buf.len() {
            self.flush()?;
            self.buf = vec![0; room.max(BLOCK + BLOCK / 8)];
        }
        self.used = encode_record(
            row.values,
            row.plain,
            &self.verbatim,
            &mut self.buf,
            self.used,
        );
        if self.used >= BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        if self.used > 0 {
            let mut block = std::mem::take(&mut self.buf);
            block.truncate(self.used);
            self.used = 0;
            (self.send)(block)?;
        }
        Ok(())
    }
}

/// The most bytes [`encode_record`] can write for `values`: each byte escaped (two), a
/// NULL as `\N`, a tab or the line end after each, and eight bytes to spare.
pub fn room(values: &[Option<&[u8]>]) -> usize {
    values
        .iter()
        .map(|v| v.map_or(2, |v| 2 * v.len()) + 1)
        .sum::<usize>()
        + 9
}

/// The canonical LOAD DATA encoding of one record, written into `out` from `at` (which
/// has [`room`] for it); returns where it ends. `plain` says no value holds a byte to
/// escape, except perhaps those `verbatim` marks false (decoded binary values).
pub fn encode_record(
    values: &[Option<&[u8]>],
    plain: bool,
    verbatim: &[bool],
    out: &mut [u8],
    mut at: usize,
) -> usize {
    if values.is_empty() {
        out[at] = b'\n';
        return at + 1;
    }
    for (v, &verbatim) in values.iter().zip(verbatim) {
        at = match v {
            None => put(out, at, b"\\N"),
            Some(v) if plain && verbatim => put(out, at, v),
            Some(v) => put_escaped(out, at, v),
        };
        out[at] = b'\t';
        at += 1;
    }
    out[at - 1] = b'\n';
    at
}

/// Write `v` at `at`; returns its end. A short value eight bytes at a time, the last
/// eight overlapping the word before when they do not fill one; a long one by `memcpy`.
#[inline]
fn put(out: &mut [u8], at: usize, v: &[u8]) -> usize {
    let end = at + v.len();
    if v.len() > 64 {
        out[at..end].copy_from_slice(v);
        return end;
    }
    let Some(last) = v.last_chunk::<8>() else {
        for (o, &b) in out[at..end].iter_mut().zip(v) {
            *o = b;
        }
        return end;
    };
    let mut to = at;
    let mut rest = v;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        out[to..to + 8].copy_from_slice(word);
        to += 8;
        rest = tail;
    }
    out[end - 8..end].copy_from_slice(last);
    end
}

/// Does a word hold a byte LOAD DATA's format escapes? Any byte below 14 (all of
/// `\0 \t \n \r` and a few rarer control bytes, which the escaping loop then copies as they
/// are) or a backslash. The classic "has a byte less than n" test: as a yes or no (not as
/// the position of the byte) it is exact.
fn special(word: [u8; 8]) -> bool {
    use qtools_csv::bytes::LO;
    let x = u64::from_le_bytes(word);
    let less = |x: u64, n: u64| x.wrapping_sub(LO * n) & !x & (LO << 7);
    less(x, 14) | less(x ^ (LO * u64::from(b'\\')), 1) != 0
}

/// Write one value at `at`, escaped; returns its end. Words without a byte to escape go
/// in whole (one pass: a check then a copy of each value made encoding 17% of
/// `qimport -j 2`'s CPU); from the first word with one, byte by byte.
fn put_escaped(out: &mut [u8], mut at: usize, v: &[u8]) -> usize {
    let mut rest = v;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        if special(*word) {
            break;
        }
        out[at..at + 8].copy_from_slice(word);
        at += 8;
        rest = tail;
    }
    for &b in rest {
        let e = match b {
            b'\\' => b'\\',
            b'\t' => b't',
            b'\n' => b'n',
            b'\r' => b'r',
            0 => b'0',
            _ => {
                out[at] = b;
                at += 1;
                continue;
            }
        };
        out[at..at + 2].copy_from_slice(&[b'\\', e]);
        at += 2;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(values: &[Option<&[u8]>], plain: bool, verbatim: &[bool]) -> Vec<u8> {
        let mut out = vec![0xAA; room(values)];
        let end = encode_record(values, plain, verbatim, &mut out, 0);
        out.truncate(end);
        out
    }

    #[test]
    fn canonical_encoding() {
        let values = [
            Some(&b"a\tb\\c\nd\re\0"[..]),
            Some(&[0, 255]),
            None,
            Some(b"5"),
        ];
        assert_eq!(
            encoded(&values, false, &[true, false, true, true]),
            b"a\\tb\\\\c\\nd\\re\\0\t\\0\xff\t\\N\t5\n"
        );
        // A plain record's text values are copied; a decoded value is still escaped.
        let values = [Some(&b"ab"[..]), Some(b"\t\\"), None];
        assert_eq!(
            encoded(&values, true, &[true, false, true]),
            b"ab\t\\t\\\\\t\\N\n"
        );
        assert_eq!(encoded(&[], true, &[]), b"\n");
    }

    #[test]
    fn values_of_every_length_are_copied_whole() {
        for len in 0..200 {
            let v: Vec<u8> = (0..len)
                .map(|i: usize| b"abcdefghijklmnopqrstuvwxyz"[i % 26])
                .collect();
            let values = [Some(&v[..]), None, Some(&v[..])];
            let want = [&v[..], b"\t\\N\t", &v[..], b"\n"].concat();
            assert_eq!(encoded(&values, true, &[true; 3]), want, "{len}");
            assert_eq!(encoded(&values, false, &[true; 3]), want, "{len}");
        }
    }

    #[test]
    fn a_record_is_plain_unless_a_byte_in_it_needs_escaping() {
        let mut sent = Vec::new();
        let mut blocks = 0;
        let mut send = |b: Vec<u8>| {
            sent.extend_from_slice(&b);
            blocks += 1;
            Ok(())
        };
        let col = |t: &str| ColumnInfo::typed("c", t, t);
        let mut enc = Encoder::new(&mut send, &[col("text"), col("text")]);
        for (raw, values) in [
            (&b"a,b\r\n"[..], [Some(&b"a"[..]), Some(b"b")]),
            (b"\"x\ty\",z\n", [Some(b"x\ty"), Some(b"z")]),
            (b"\"p\\\",q", [Some(b"p\\"), Some(b"q")]),
        ] {
            let body = qtools_csv::record::without_line_end(raw);
            enc.row(&Row {
                values: &values,
                line: 1,
                plain: !qtools_csv::bytes::survey(body, 14, b'\\').special,
            })
            .unwrap();
        }
        enc.flush().unwrap();
        assert_eq!(sent, b"a\tb\nx\\ty\tz\np\\\\\tq\n");
    }

    #[test]
    fn blocks_are_cut_between_records_and_a_large_record_gets_its_own() {
        let mut sent = Vec::new();
        let mut sizes = Vec::new();
        let mut send = |b: Vec<u8>| {
            sizes.push(b.len());
            sent.extend_from_slice(&b);
            Ok(())
        };
        let col = |t: &str| ColumnInfo::typed("c", t, t);
        let mut enc = Encoder::new(&mut send, &[col("text")]);
        let big = vec![b'x'; 3 * BLOCK];
        let small = vec![b'y'; 1000];
        let mut want = Vec::new();
        for v in [&small, &big, &small, &small] {
            for _ in 0..300 {
                enc.row(&Row {
                    values: &[Some(&v[..])],
                    line: 1,
                    plain: true,
                })
                .unwrap();
                want.extend_from_slice(v);
                want.push(b'\n');
            }
        }
        enc.flush().unwrap();
        drop(enc);
        assert_eq!(sent, want);
        assert!(sizes.iter().all(|&s| s > 0));
    }

    #[test]
    fn every_escaped_byte_is_escaped_at_any_position() {
        let escaped = |v: &[u8]| {
            let mut out = vec![0; 2 * v.len()];
            let end = put_escaped(&mut out, 0, v);
            out.truncate(end);
            out
        };
        for len in 0..20 {
            for at in 0..len {
                for (b, e) in [
                    (0u8, b'0'),
                    (b'\t', b't'),
                    (b'\n', b'n'),
                    (b'\r', b'r'),
                    (b'\\', b'\\'),
                ] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let mut want = vec![b'a'; len + 1];
                    want[at] = b'\\';
                    want[at + 1] = e;
                    assert_eq!(escaped(&v), want, "{b} at {at} of {len}");
                }
            }
            assert_eq!(escaped(&vec![b'a'; len]), vec![b'a'; len]);
            assert_eq!(escaped(&vec![0xff; len]), vec![0xff; len]);
        }
        let text = "Zoë é 漢字 \x01\x0b".as_bytes();
        assert_eq!(escaped(text), text);
    }
}
