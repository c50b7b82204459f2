//! Round trips: what qexport writes, qimport loads back identically.

use proptest::prelude::*;

use crate::util::db::TestDb;
use crate::util::Workdir;
use qtools::dialect::{Dialect, NullMarker};
use qtools::record::{Reader, Record};

#[test]
fn null_and_empty_string_survive_export_import() {
    let wd = Workdir::new("roundtrip_null");
    let db = TestDb::new("roundtrip_null");
    db.load("users.sql");
    db.exec("CREATE TABLE copy LIKE users;");
    for extra in [&[][..], &["--null", "\\N"][..], &["--tsv"][..]] {
        db.exec("DELETE FROM copy;");
        wd.sh(&format!(
            "qexport --url '{u}' {x} users | qimport -q --url '{u}' {x} copy",
            u = db.url,
            x = extra.join(" ").replace('\\', "\\\\")
        ))
        .ok();
        assert_eq!(db.checksum("users"), db.checksum("copy"), "flags {extra:?}");
    }
    let nulls: Vec<(u64, u64)> = db.query("SELECT SUM(name IS NULL), SUM(name = '') FROM copy");
    assert!(
        nulls[0].0 > 0 && nulls[0].1 > 0,
        "the fixture has both NULL and empty names"
    );
}

#[test]
fn one_column_table_with_nulls() {
    let wd = Workdir::new("roundtrip_onecol");
    let db = TestDb::new("roundtrip_onecol");
    db.exec(
        "CREATE TABLE a (v VARCHAR(10)); INSERT INTO a VALUES (NULL), (''), ('x'), (NULL);
         CREATE TABLE b (v VARCHAR(10));",
    );
    wd.sh(&format!(
        "qexport --url '{u}' a | qimport -q --url '{u}' b",
        u = db.url
    ))
    .ok();
    let got: Vec<Option<String>> = db.query("SELECT v FROM b");
    assert_eq!(got, vec![None, Some(String::new()), Some("x".into()), None]);
}

fn dialects() -> impl Strategy<Value = Dialect> {
    (
        prop::sample::select(vec![b',', b'\t', b';', b'|']),
        prop::option::of(prop::sample::select(vec!["\\N", "NULL", "null"])),
    )
        .prop_map(|(delimiter, null)| Dialect {
            delimiter,
            header: true,
            null: null.map_or(NullMarker::Empty, |n| {
                NullMarker::Text(n.as_bytes().to_vec())
            }),
        })
}

/// Field values: arbitrary bytes, biased towards the characters that need care.
fn value() -> impl Strategy<Value = Option<Vec<u8>>> {
    let interesting = prop::collection::vec(
        prop::sample::select(vec![
            b'a', b',', b'"', b'\n', b'\r', b'\t', b';', b'|', b'\\', b'N', 0xff, b' ',
        ]),
        0..8,
    );
    prop::option::weighted(
        0.85,
        prop_oneof![interesting, prop::collection::vec(any::<u8>(), 0..20)],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever the values and the dialect, reading back what was written gives the same
    /// values, NULLs included, whatever the record count and widths.
    #[test]
    fn write_then_read_is_identity(
        d in dialects(),
        width in 1usize..5,
        rows in prop::collection::vec(prop::collection::vec(value(), 5), 0..20),
    ) {
        let rows: Vec<Vec<Option<Vec<u8>>>> = rows.into_iter().map(|r| r[..width].to_vec()).collect();
        // A header first, as the tools write: it tells the reader the width.
        let mut buf = Vec::new();
        let names: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        d.write_record(&mut buf, names.iter().map(|n| Some(n.as_bytes())));
        for r in &rows {
            d.write_record(&mut buf, r.iter().map(|v| v.as_deref()));
        }
        let mut rdr = Reader::new(&buf[..], d.delimiter);
        let mut rec = Record::default();
        let mut got = Vec::new();
        prop_assert!(rdr.read(&mut rec).unwrap());
        while rdr.read(&mut rec).unwrap() {
            got.push(rec.iter().map(|(v, q)| if d.is_null(v, q) { None } else { Some(v.to_vec()) }).collect::<Vec<_>>());
        }
        prop_assert_eq!(got, rows);
    }
}
