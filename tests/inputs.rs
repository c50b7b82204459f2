//! Inputs people actually have (#16): compressed CSV, as qexport writes it.

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
