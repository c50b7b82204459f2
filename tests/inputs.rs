//! Inputs people actually have (#16): compressed CSV, as qexport writes it.

use std::fmt::Write as _;

use crate::util::db::TestDb;
use crate::util::Workdir;

const CSV: &str = "id,city,note\n1,Paris,\"a\nb\"\n2,Lyon,x\n3,Paris,\n";

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

// See: #16: qimport, qgrep and qcount read gzip and zstd, from files and from stdin, by
// their first bytes whatever the name; a plain file stays a file (-j reads it in place).
#[test]
fn compressed_input_is_read_as_csv() {
    let wd = Workdir::new("inputs_packed");
    let zst = zstd::encode_all(CSV.as_bytes(), 3).unwrap();
    wd.create("plain.csv", CSV);
    wd.create("data.csv.gz", gz(CSV.as_bytes()));
    wd.create("data.csv.zst", &zst);
    // A gzip file named like a plain one is still read as gzip.
    wd.create("misnamed.csv", gz(CSV.as_bytes()));
    for f in ["plain.csv", "data.csv.gz", "data.csv.zst", "misnamed.csv"] {
        wd.cmd("qcount").arg(f).ok().stdout_is("3\n");
        wd.cmd("qcount")
            .args(["-j", "2", "-g", "city", f])
            .ok()
            .stdout_is("city,count\nParis,2\nLyon,1\n");
        wd.cmd("qgrep")
            .args(["-s", "city", "Lyon", f])
            .ok()
            .stdout_is("id,city,note\n2,Lyon,x\n");
        wd.sh(&format!("qcount < {f}")).ok().stdout_is("3\n");
        wd.sh(&format!("cat {f} | qcount")).ok().stdout_is("3\n");
    }
    let db = TestDb::new("inputs_packed");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, city TEXT, note TEXT);");
    for (f, j) in [("data.csv.gz", "1"), ("data.csv.zst", "2")] {
        db.exec("DELETE FROM t");
        wd.cmd("qimport")
            .args(["--url", &db.url, "-j", j, "t", f])
            .ok()
            .stderr_has(&["3 rows loaded"]);
        wd.sh(&format!(
            "cat {f} | qimport -q --url '{}' --truncate t",
            db.url
        ))
        .ok();
        let got: Vec<(i32, String, Option<String>)> =
            db.query("SELECT id, city, note FROM t ORDER BY id");
        assert_eq!(got[0], (1, "Paris".into(), Some("a\nb".into())));
        assert_eq!(got[2].2, None);
    }
    // A damaged stream is an error naming the input.
    let mut bad = gz(CSV.as_bytes());
    bad.truncate(bad.len() / 2);
    wd.create("bad.csv.gz", bad);
    wd.cmd("qcount")
        .arg("bad.csv.gz")
        .fails(2)
        .stderr_has(&["bad.csv.gz"]);
}

// See: #16: spreadsheet encodings become UTF-8 on the way in; a UTF-16 BOM is recognised
// by itself; the default keeps the bytes as they are.
#[test]
fn encodings_are_converted_on_the_way_in() {
    let wd = Workdir::new("inputs_encoding");
    wd.create("cp.csv", b"id,city\n1,Z\xfcrich\n2,\x80 zone\n");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "id,city\n1,Zürich\n2,€ zone\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    wd.create("u16.csv", &utf16);
    wd.cmd("qgrep")
        .args(["--encoding", "cp1252", "-s", "city", "€", "cp.csv"])
        .ok()
        .stdout_is("id,city\n2,€ zone\n");
    wd.cmd("qgrep")
        .args(["€", "u16.csv"])
        .ok()
        .stdout_is("id,city\n2,€ zone\n");
    wd.sh("cat u16.csv | qcount -g city")
        .ok()
        .stdout_is("city,count\nZürich,1\n€ zone,1\n");
    let db = TestDb::new("inputs_encoding");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, city VARCHAR(20));");
    for (flags, file) in [
        (&["--encoding", "cp1252"][..], "cp.csv"),
        (&[][..], "u16.csv"),
    ] {
        db.exec("DELETE FROM t");
        wd.cmd("qimport")
            .args(["--url", &db.url])
            .args(flags)
            .args(["t", file])
            .ok();
        let got: Vec<String> = db.query("SELECT city FROM t ORDER BY id");
        assert_eq!(got, ["Zürich", "€ zone"], "{file}");
    }
    // Without --encoding, cp1252 bytes are not UTF-8: qimport says so, naming the value.
    wd.cmd("qimport")
        .args(["--url", &db.url, "t", "cp.csv"])
        .fails(2)
        .stderr_has(&["cp.csv:2: column \"city\"", "not valid UTF-8"]);
}

// See: #23 (5): a damaged gzip input is named, wherever in the file it breaks.
#[test]
fn a_broken_compressed_input_is_named() {
    use std::io::Write as _;
    let wd = Workdir::new("messages_gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"a,b\n").unwrap();
    for i in 0..300_000 {
        writeln!(gz, "{i},{}", i * 7).unwrap();
    }
    let whole = gz.finish().unwrap();
    wd.create("cut.csv.gz", &whole[..whole.len() / 2]);
    for tool in [
        &["qcount"][..],
        &["qcount", "-j", "1"],
        &["qgrep", "-j", "2", "7"],
    ] {
        wd.cmd(tool[0])
            .args(&tool[1..])
            .arg("cut.csv.gz")
            .fails(2)
            .stderr_has(&["reading cut.csv.gz: "]);
    }
}

// See: #30: headerless raw bytes start with a value, and a value may start with any bytes:
// FF FE is not a UTF-16 byte-order mark there, nor 1F 8B gzip's magic (a compressed BLOB
// as the first value), from a file or a pipe; a file named .gz is still unpacked.
#[test]
fn raw_values_that_look_like_a_mark_or_magic_load_as_they_are() {
    let wd = Workdir::new("inputs_raw_magic");
    let db = TestDb::new("inputs_raw_magic");
    db.exec("CREATE TABLE b (v VARBINARY(10) PRIMARY KEY, n INT)");
    let rows: &[&[u8]] = &[
        b"\xff\xfeA",
        b"\x1f\x8b\x08\x00",
        b"\xfe\xffB",
        b"(\xb5/\xfd",
    ];
    let mut want: Vec<String> = Vec::new();
    for (i, v) in rows.iter().enumerate() {
        let mut csv = v.to_vec();
        csv.extend_from_slice(format!(",{i}\n").as_bytes());
        want.push(v.iter().fold(String::new(), |mut h, b| {
            let _ = write!(h, "{b:02X}");
            h
        }));
        let file = wd.create(&format!("r{i}.csv"), &csv);
        wd.cmd("qimport")
            .args(["--url", &db.url, "-n", "--binary", "raw", "b"])
            .arg(&file)
            .ok();
        // The same bytes through a pipe (the table emptied first).
        db.exec(&format!("DELETE FROM b WHERE n = {i}"));
        wd.cmd("qimport")
            .args(["--url", &db.url, "-n", "--binary", "raw", "b"])
            .stdin(&csv)
            .ok();
    }
    let got: Vec<String> = db.query("SELECT HEX(v) FROM b ORDER BY n");
    assert_eq!(got, want);
    db.exec("DELETE FROM b");
    let file = wd.create("all.csv.gz", gz(b"\x1f\x8b\x08\x00,7\n"));
    wd.cmd("qimport")
        .args(["--url", &db.url, "-n", "--binary", "raw", "b"])
        .arg(&file)
        .ok();
    assert_eq!(db.query::<String>("SELECT HEX(v) FROM b"), ["1F8B0800"]);
}
