//! The block pipeline and the structural scan against the sequential reader on arbitrary
//! bytes: cutting blocks (any block size, one or two threads; blocks read at offsets by
//! the workers, or cut from a stream) must give the same records,
//! in the same order, as reading the stream record by record; and whenever the scan of a
//! block answers, it must answer as the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools_csv::pipeline::{self, Shape, Walk};
use qtools_csv::record::{Reader, Record};
use qtools_csv::scan::scan;

type Rows = Vec<Vec<(Vec<u8>, bool)>>;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let block = usize::from(data[0] >> 1).max(1);
    let threads = 1 + usize::from(data[0] & 1);
    let input = &data[1..];
    let mut seq: Rows = Vec::new();
    let mut rdr = Reader::new(input, b',');
    let mut rec = Record::default();
    let mut seq_err = false;
    loop {
        match rdr.read(&mut rec) {
            Ok(true) => seq.push(rec.iter().map(|(v, q)| (v.to_vec(), q)).collect()),
            Ok(false) => break,
            Err(_) => {
                seq_err = true;
                break;
            }
        }
    }
    let mut src = std::io::Cursor::new(input.to_vec());
    let Ok(start) = pipeline::start(&mut src, b',', false) else { return };
    let shape = Shape { delim: b',', width: start.width, strict: false };
    // The scan of the whole rest, as one block, against the parser's walk of it.
    let mut ends = Vec::new();
    if let Some(s) = scan(&start.rest, b',', Some(&mut ends)) {
        let mut rec = Record::default();
        let mut at = 0;
        let mut by_parser = Vec::new();
        let w = pipeline::walk_block(&start.rest, &shape, &mut rec, |_, raw| {
            at += raw.len();
            by_parser.push(at);
        });
        assert!(w.stop.is_none());
        assert_eq!((s.records, s.lines), (w.records, w.lines));
        assert_eq!(ends, by_parser);
    }
    let walk = Walk { name: "fuzz", shape, block, threads, whole_lines: false };
    // Read at offsets by the workers (with two threads), and as a stream.
    let rest = start.rest.clone();
    let (par, res) = walk_all(src, start, &walk);
    assert_eq!(res.is_err(), seq_err);
    if !seq_err {
        assert_eq!(par, seq);
    }
    let mut stream = qtools_csv::positioned::Stream(std::io::Cursor::new(input.to_vec()));
    let Ok(start) = pipeline::start(&mut stream, b',', false) else { return };
    assert_eq!(start.rest, rest);
    let (streamed, res) = walk_all(stream, start, &walk);
    assert_eq!(res.is_err(), seq_err);
    if !seq_err {
        assert_eq!(streamed, seq);
    }
});

fn walk_all(src: impl qtools_csv::positioned::Positioned, start: pipeline::Start, walk: &Walk) -> (Rows, Result<(), ()>) {
    let mut rows: Rows = Vec::new();
    let res = pipeline::walk_input(
        src,
        start,
        walk,
        pipeline::each_record(walk.shape, |r, _, acc: &mut Rows| {
            acc.push(r.iter().map(|(v, q)| (v.to_vec(), q)).collect())
        }),
        |acc| {
            rows.extend(acc);
            Ok(())
        },
    );
    (rows, res.map_err(|_| ()))
}
