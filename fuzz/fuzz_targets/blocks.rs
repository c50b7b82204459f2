//! The parallel block pipeline against the sequential reader on arbitrary bytes: cutting
//! blocks at record boundaries (any block size, any thread count) must give the same
//! records, in the same order, as reading the stream record by record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::pipeline;
use qtools::record::{Reader, Record};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let block = usize::from(data[0]).max(1);
    let input = &data[1..];
    let mut seq = Vec::new();
    let mut rdr = Reader::new(input, b',');
    let mut rec = Record::default();
    let mut seq_err = false;
    loop {
        match rdr.read(&mut rec) {
            Ok(true) => seq.push(rec.iter().map(|(v, q)| (v.to_vec(), q)).collect::<Vec<_>>()),
            Ok(false) => break,
            Err(_) => {
                seq_err = true;
                break;
            }
        }
    }
    let mut src = input;
    let Ok(start) = pipeline::start(&mut src, b',', false) else { return };
    let mut par = Vec::new();
    let res = pipeline::walk_input(
        src,
        start,
        "fuzz",
        b',',
        block,
        2,
        |r, _, acc: &mut Vec<Vec<(Vec<u8>, bool)>>| acc.push(r.iter().map(|(v, q)| (v.to_vec(), q)).collect()),
        |acc| {
            par.extend(acc);
            Ok(())
        },
    );
    assert_eq!(res.is_err(), seq_err);
    if !seq_err {
        assert_eq!(par, seq);
    }
});
