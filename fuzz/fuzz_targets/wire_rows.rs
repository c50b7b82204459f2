//! qexport's reading of what a server sends, on arbitrary bytes: a column definition and
//! the values of a row packet never panic and never point outside the packet; the
//! row-wide quoting marks (AVX2 where the CPU has it) agree with a byte-by-byte look.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::cmd::qexport::wire;
use qtools_csv::scan;

const SPECIALS: [u8; 4] = [b',', b'"', b'\n', b'\r'];

fuzz_target!(|data: &[u8]| {
    let Some((&columns, packet)) = data.split_first() else { return };
    let _ = wire::column(packet);
    let mut rest = packet;
    for _ in 0..columns {
        let before = rest.len();
        match wire::value(&mut rest) {
            Ok(Some(v)) => assert!(v.len() < before && rest.len() + v.len() < before),
            Ok(None) => assert_eq!(rest.len() + 1, before),
            Err(_) => break,
        }
    }
    // The marks of the packet's first `len` bytes, with the bytes after it readable.
    let len = usize::from(columns).min(packet.len());
    let mut marks = Vec::new();
    scan::marks(packet, len, SPECIALS, &mut marks);
    for start in (0..=len).step_by(7) {
        for end in start..=len {
            let want = packet[start..end].iter().any(|b| SPECIALS.contains(b));
            assert_eq!(scan::marked(&marks, start, end), want);
        }
    }
});
