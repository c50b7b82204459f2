//! The CSV record reader on arbitrary bytes: it must never panic, every record must be
//! re-parsable from its raw bytes to the same values, and the raw bytes of all records
//! must add up to the input (less a leading BOM and skipped blank lines).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools_csv::record::{parse_record, Parsed, Reader, Record};

fuzz_target!(|data: &[u8]| {
    let delim = data.first().copied().unwrap_or(b',');
    if matches!(delim, b'"' | b'\n' | b'\r') {
        return;
    }
    let input = &data[1.min(data.len())..];
    for strict in [false, true] {
        let mut rdr = Reader::new(input, delim).strict(strict);
        let mut rec = Record::default();
        let mut again = Record::default();
        let mut raw_total = 0;
        while let Ok(true) = rdr.read(&mut rec) {
            raw_total += rec.raw().len();
            let p = parse_record(rec.raw(), true, delim, strict, &mut again);
            assert_eq!(p, Parsed::Complete { consumed: rec.raw().len() });
            assert!(rec.iter().eq(again.iter()));
        }
        assert!(raw_total <= input.len());
    }
});
