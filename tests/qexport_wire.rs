//! qexport reads rows straight off the socket (src/cmd/qexport/wire.rs) where the
//! connection is plain, and through the driver otherwise (TLS, compression, or
//! `QTOOLS_ROW_DECODER=driver`): both write the same bytes, whatever the values.

use crate::util::db::TestDb;
use crate::util::Workdir;

/// The export of `args`, by the wire and by the driver: equal, and returned.
fn both_ways(wd: &Workdir, db: &TestDb, args: &[&str]) -> Vec<u8> {
    let wire = wd.cmd("qexport").args(["--url", &db.url]).args(args).ok();
    let driver = wd
        .cmd("qexport")
        .env("QTOOLS_ROW_DECODER", "driver")
        .args(["--url", &db.url])
        .args(args)
        .ok();
    let (a, b) = (wire.stdout().into_bytes(), driver.stdout().into_bytes());
    assert!(a == b, "the wire and the driver differ for {args:?}");
    a
}

// See: #29: NULL, '', the delimiter, quotes, CR and LF at every place of a row's 32-byte
// words, lengths on both sides of each length-encoding step (250/251 bytes, 64 KiB,
// 16 MiB), binary bytes, BIT, utf8mb4 and a BOM: the same bytes both ways, with -j 1 and
// -j 2 and with another delimiter.
#[test]
fn the_wire_and_the_driver_write_the_same_bytes() {
    let wd = Workdir::new("qexport_wire");
    let db = TestDb::new("qexport_wire");
    // The suite's server has no TLS: the wire is what reads, unless told otherwise.
    let tls = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
               WHERE VARIABLE_NAME IN ('SSL_CIPHER', 'COMPRESSION') ORDER BY VARIABLE_NAME";
    let plain = wd
        .cmd("qexport")
        .args(["--url", &db.url, "-n", "-e", tls])
        .ok();
    assert_eq!(plain.stdout(), "OFF\n\"\"\n");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, s LONGTEXT, b LONGBLOB, f BIT(12), n INT);
         INSERT INTO t VALUES
           (1, NULL, NULL, NULL, NULL), (2, '', '', b'0', 0),
           (3, 'a,b', 0x00FF2C22, b'101', -1), (4, 'say \"hi\"', 0x0A0D, b'111111111111', 7),
           (5, 'two\\nlines\\r\\n', '', NULL, NULL), (6, '😀 שלום é', 'x', NULL, NULL),
           (7, CONCAT(0xEFBBBF, 'bom'), NULL, NULL, NULL), (8, 'a;b', NULL, NULL, NULL);
         INSERT INTO t (id, s, n)
           SELECT 100 + seq, CONCAT(REPEAT('x', seq), ',', REPEAT('y', 70 - seq)), seq
           FROM seq_0_to_70;
         INSERT INTO t (id, s) SELECT 200 + seq, REPEAT('z', seq)
           FROM seq_249_to_252 UNION ALL SELECT 300, REPEAT('q', 65535)
           UNION ALL SELECT 301, REPEAT('q', 65536) UNION ALL SELECT 302, REPEAT('\"', 70000);",
    );
    // One row across packets: more than 16 MiB, sent in two protocol packets.
    db.exec("SET GLOBAL max_allowed_packet = 64 * 1024 * 1024");
    db.exec(
        "INSERT INTO t (id, s, b) SELECT 400, CONCAT(REPEAT('w', 17000000), ',end'),
         REPEAT(0xAB, 100)",
    );
    let out = both_ways(&wd, &db, &["t"]);
    assert!(out.len() > 17_000_000);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("\n3,\"a,b\",00ff2c22,5,-1\n"),
        "{}",
        &text[..300]
    );
    assert!(text.contains(",\"\",0,0\n"));
    assert!(text.contains("\"two\nlines\r\n\""));
    // A compressed connection is read by the driver (the client asked for it: no server
    // is asked), with the same bytes.
    let compressed = wd.cmd("qexport").args(["--url", &db.url, "-C", "t"]).ok();
    assert!(compressed.stdout().into_bytes() == out, "-C differs");
    both_ways(&wd, &db, &["-j", "2", "t"]);
    both_ways(&wd, &db, &["-d", ";", "--binary", "base64", "t"]);
    both_ways(&wd, &db, &["-e", "SELECT s, n FROM t WHERE id < 200"]);
    // A query without rows: the header alone.
    let empty = both_ways(&wd, &db, &["-e", "SELECT id, s FROM t WHERE id < 0"]);
    assert_eq!(empty, b"id,s\n");
}
