//! The `--columns`/`-s` (and `-g`, `--distinct`) selection on arbitrary text, resolved
//! against an arbitrary header: never a panic, and a selection that resolves names only
//! columns the records have. The first byte picks the width the records are said to have
//! (none when 0) and whether there is a header; the rest is the selection, then (after the
//! first line break) the header as a CSV line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::columns::Selection;
use qtools_csv::record::{Reader, Record};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (spec, header_line) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(spec) = std::str::from_utf8(spec) else {
        return;
    };
    let Ok(sel) = Selection::parse(spec) else {
        return;
    };
    assert!(sel.spelled().all(|s| !s.is_empty()));
    let mut header = Record::default();
    let has_header =
        pick & 0x80 != 0 && matches!(Reader::new(header_line, b',').read(&mut header), Ok(true));
    let header = has_header.then_some(&header);
    // The width of the records: the header's when there is one (as the tools have it),
    // else from the first byte, or not known yet.
    let width = match (header, pick & 0x7F) {
        (Some(h), _) => Some(h.len()),
        (None, 0) => None,
        (None, w) => Some(usize::from(w)),
    };
    if let Ok(cols) = sel.resolve(header, width) {
        if let Some(w) = width {
            assert!(cols.iter().all(|&i| i < w), "{spec:?} gave {cols:?} of {w}");
        }
    }
});
