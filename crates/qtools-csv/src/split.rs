//! qimport's `-j` cut of a regular file: where to cut it into N runs of records of about
//! equal size, each read, checked and sent by a thread of its own (the tools' qimport,
//! `cmd/qimport/parallel.rs`). The block engine of qgrep and qcount ([`crate::pipeline`])
//! does the reading; this module only finds the cuts, and only where the structural scan
//! vouches for every record end before them.

use crate::pipeline::Cutter;
use crate::positioned::{ReadAt, Span};

/// Where to cut the bytes `[from, end)` of `src`, which start at a record boundary on line
/// `line`, into `parts` runs of about equal size: the offset and line of each run's first
/// record (the first is `(from, line)`). `None` when the structural scan cannot vouch for
/// every record end before the last cut (malformed quotes, a blank line, a lone CR): quote
/// parity, which the cuts rest on, is then not the parser's answer. One pass over the
/// input before the last cut, one block at a time.
pub fn split_at_records(
    src: &dyn ReadAt,
    (from, end): (u64, u64),
    line: u64,
    parts: usize,
    delim: u8,
) -> std::io::Result<Option<Vec<(u64, u64)>>> {
    let mut cuts = vec![(from, line)];
    let size = end.saturating_sub(from);
    let mut targets = (1..parts as u64).map(|k| from + size * k / parts as u64);
    let Some(mut target) = targets.next() else {
        return Ok(Some(cuts));
    };
    let (mut at, mut line) = (from, line);
    // Blocks cut by parity, as from a pipe.
    let mut blocks = Cutter::new(Span { src, at, end });
    let mut buf = Vec::new();
    let mut ends = Vec::new();
    loop {
        let Some(block) = blocks.next(buf)? else {
            return Ok(Some(cuts)); // the input ended (or shrank) first
        };
        buf = block;
        ends.clear();
        // Only a block that reaches the next target needs its record ends listed.
        let near = at + buf.len() as u64 > target;
        let Some(scanned) = crate::scan::scan(&buf, delim, near.then_some(&mut ends)) else {
            return Ok(None);
        };
        // The scan counts line feeds; a lone CR inside quotes is a line end too, as the
        // parser counts them (a block never ends with a lone CR, nor in a CRLF).
        let has_cr = memchr::memchr(b'\r', &buf).is_some();
        let lines_in = |b: &[u8]| {
            if has_cr {
                crate::record::count_line_ends(b)
            } else {
                memchr::memchr_iter(b'\n', b).count() as u64
            }
        };
        for &e in &ends {
            if at + e as u64 >= target && at + (e as u64) < end {
                let lines = lines_in(&buf[..e]);
                cuts.push((at + e as u64, line + lines));
                match targets.next() {
                    Some(t) => target = t.max(at + e as u64 + 1),
                    None => return Ok(Some(cuts)),
                }
            }
        }
        at += buf.len() as u64;
        line += if has_cr {
            lines_in(&buf)
        } else {
            scanned.lines
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_record_ends_with_their_lines() {
        let data: Vec<u8> = (0..100)
            .flat_map(|i| format!("{i},\"a\nb\"\n").into_bytes())
            .collect();
        let src = data.clone();
        let end = data.len() as u64;
        let cuts = split_at_records(&src, (0, end), 2, 3, b',')
            .unwrap()
            .unwrap();
        assert_eq!(cuts.len(), 3);
        assert_eq!(cuts[0], (0, 2));
        for &(at, line) in &cuts[1..] {
            let before = &data[..at as usize];
            assert!(before.ends_with(b"\"\n"), "{at}");
            assert_eq!(line, 2 + memchr::memchr_iter(b'\n', before).count() as u64);
        }
        // More parts than records: as many as there are.
        let cuts = split_at_records(&src, (0, 16), 2, 8, b',')
            .unwrap()
            .unwrap();
        assert_eq!(cuts, vec![(0, 2), (8, 4)]);
        // See: #30: a lone CR inside quotes is a line, as the parser counts it.
        let cr: Vec<u8> = (0..100)
            .flat_map(|i| format!("{i},\"a\rb\"\r\n").into_bytes())
            .collect();
        let cuts = split_at_records(&cr, (0, cr.len() as u64), 2, 3, b',')
            .unwrap()
            .unwrap();
        for &(at, line) in &cuts[1..] {
            let records = cr[..at as usize].ends_with(b"\"\r\n");
            assert!(records, "{at}");
            let before = memchr::memchr_iter(b'\n', &cr[..at as usize]).count() as u64;
            assert_eq!(line, 2 + 2 * before);
        }
        // A bare quote: parity is no guide, no cuts.
        let bad = b"1,a\"b\n2,c\n3,d\n".to_vec();
        assert_eq!(split_at_records(&bad, (0, 15), 1, 2, b',').unwrap(), None);
    }
}
