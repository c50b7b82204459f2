//! `qexport --all -o DIR` (or `-o DIR TABLE...`): a complete backup folder (a CSV file per
//! table, schema.sql, manifest.json), written atomically. What a backup keeps is tested in
//! backup_objects.rs and backup_values.rs, who may take one in backup_privileges.rs, its
//! one point in time in backup_consistency.rs, and its restore in restore*.rs.

use crate::util::backup::shop;
use crate::util::{interrupt, wait_for, Workdir};

/// The names in a folder, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn manifest(path: &std::path::Path) -> serde_json::Value {
    crate::util::manifest(path)
}

#[test]
fn all_tables_schema_and_manifest() {
    let wd = Workdir::new("backup_all");
    let db = shop("backup_all");
    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .ok()
        .stderr_has(&["3 tables, 303 rows backed up to bk"]);
    let dir = wd.path().join("bk");
    assert_eq!(
        names(&dir),
        [
            "a%20odd%2Fname.csv",
            "manifest.json",
            "orders.csv",
            "schema.sql",
            "users.csv"
        ]
    );
    let m = manifest(&dir);
    assert_eq!(m["format"], "qtools-backup");
    assert_eq!(m["database"], db.name.as_str());
    assert_eq!(m["dialect"]["binary"], "hex");
    let tables = m["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // users before orders: orders references users.
    let (u, o) = (
        names.iter().position(|n| *n == "users").unwrap(),
        names.iter().position(|n| *n == "orders").unwrap(),
    );
    assert!(u < o, "{names:?}");
    let users = &tables[u];
    assert_eq!(users["rows"], 300);
    assert_eq!(users["key"][0], "id");
    assert_eq!(users["columns"][0]["type"], "int(11)");
    let csv = std::fs::read(dir.join("users.csv")).unwrap();
    assert_eq!(users["bytes"], csv.len());
    let schema = std::fs::read_to_string(dir.join("schema.sql")).unwrap();
    assert!(schema.contains("CREATE TABLE `users`") && schema.contains("CREATE TABLE `orders`"));
    assert_eq!(
        std::fs::read_to_string(dir.join("a%20odd%2Fname.csv")).unwrap(),
        "v\n00ff\n"
    );
    // The same CSV as a single-table export.
    let single = wd
        .cmd("qexport")
        .args(["--url", &db.url, "users"])
        .ok()
        .stdout();
    assert_eq!(String::from_utf8(csv).unwrap(), single);
}

#[test]
fn parallel_compressed_backup_of_some_tables() {
    let wd = Workdir::new("backup_some");
    let db = shop("backup_some");
    wd.cmd("qexport")
        .args([
            "--url",
            &db.url,
            "-j",
            "3",
            "--consistent",
            "--zstd",
            "-q",
            "-o",
            "bk",
            "users",
            "orders",
        ])
        .ok()
        .stderr_empty();
    let dir = wd.path().join("bk");
    let m = manifest(&dir);
    assert_eq!(m["tables"].as_array().unwrap().len(), 2);
    let raw = std::fs::read(dir.join("users.csv.zst")).unwrap();
    let csv = zstd::decode_all(&raw[..]).unwrap();
    let single = wd
        .cmd("qexport")
        .args(["--url", &db.url, "users"])
        .ok()
        .stdout();
    assert_eq!(String::from_utf8(csv).unwrap(), single);
}

#[test]
fn existing_folder_or_failure_leaves_no_backup() {
    let wd = Workdir::new("backup_fail");
    let db = shop("backup_fail");
    std::fs::create_dir(wd.path().join("bk")).unwrap();
    wd.cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .fails(2)
        .stderr_has(&["bk exists"]);
    wd.cmd("qexport")
        .args(["--url", &db.url, "-o", "bk2", "users", "missing"])
        .fails(2)
        .stderr_has(&["missing does not exist"]);
    assert_eq!(
        names(wd.path()),
        ["bk"],
        "no temporary folder may be left behind"
    );
}

/// SIGTERM during `qexport --all -o DIR` (here held up by a table locked for writing):
/// neither DIR nor its temporary folder is left.
#[test]
fn interrupted_backup_leaves_no_folder() {
    use mysql::prelude::Queryable;
    let wd = Workdir::new("backup_interrupted");
    let db = shop("backup_interrupted");
    let mut lock = db.conn();
    lock.query_drop("LOCK TABLES orders WRITE").unwrap();
    let child = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--all", "-o", "bk"])
        .spawn();
    wait_for("the temporary folder", &|| !names(wd.path()).is_empty());
    let err = interrupt(child, "TERM");
    lock.query_drop("UNLOCK TABLES").unwrap();
    assert_eq!(err, "");
    assert_eq!(names(wd.path()), Vec::<String>::new());
}
