//! qimport's value checks on arbitrary bytes, for every kind of column: never a panic,
//! a value accepted as an integer must parse as one, and the check told that a value is
//! ASCII answers as the one that looks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::cmd::qimport::validate::Check;
use qtools::schema::ColumnInfo;

const TYPES: &[(&str, &str)] = &[
    ("int", "int(11)"),
    ("bigint", "bigint(20) unsigned"),
    ("decimal", "decimal(10,3)"),
    ("float", "float"),
    ("varchar", "varchar(5)"),
    ("text", "text"),
    ("date", "date"),
    ("datetime", "datetime(3)"),
    ("timestamp", "timestamp"),
    ("time", "time(2)"),
    ("year", "year(4)"),
    ("enum", "enum('a','b''c')"),
    ("set", "set('x','y')"),
    ("bit", "bit(7)"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&k, value)) = data.split_first() else { return };
    let (t, ct) = TYPES[usize::from(k) % TYPES.len()];
    let col = ColumnInfo {
        max_length: Some(5),
        charset: Some("latin1".into()),
        ..ColumnInfo::typed("c", t, ct)
    };
    let check = Check::for_column(&col);
    // Told that a value is ASCII (a loader's survey of the record), the answer is the same.
    assert_eq!(
        check.check_known(value, value.is_ascii()),
        check.check(value)
    );
    if check.check(value).is_ok() && t == "int" {
        let n: i64 = std::str::from_utf8(value).unwrap().parse().unwrap();
        assert!((i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n));
    }
});
