//! What the tests of backups and restores share: a database to back up, and a backup
//! folder to tamper with (copied, edited, its manifest made to match).

use super::db::TestDb;

/// A database of the users fixture, orders that refer to it, and a table with an odd
/// name and a binary value.
pub fn shop(test: &str) -> TestDb {
    let db = TestDb::new(test);
    db.load("users.sql");
    db.exec(
        "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT NOT NULL, total DECIMAL(10,2),
           FOREIGN KEY (user_id) REFERENCES users (id));
         INSERT INTO orders VALUES (1, 1, 9.99), (2, 2, 0.00);
         CREATE TABLE `a odd/name` (v VARBINARY(4)); INSERT INTO `a odd/name` VALUES (x'00ff');",
    );
    db
}

/// Make `schema.sql` say `edit(schema)`, with the manifest's SHA-256 to match.
pub fn tamper(dir: &std::path::Path, edit: impl Fn(&str) -> String) {
    use sha2::Digest as _;
    let path = dir.join("schema.sql");
    let schema = edit(&std::fs::read_to_string(&path).unwrap());
    std::fs::write(&path, &schema).unwrap();
    let mpath = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    let hash = sha2::Sha256::digest(schema.as_bytes());
    let hex: Vec<String> = hash.iter().map(|b| format!("{b:02x}")).collect();
    m["schema_sha256"] = hex.concat().into();
    std::fs::write(&mpath, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// A fresh copy of the backup folder `bk`, as `name` beside it.
pub fn copy(bk: &std::path::Path, name: &str) -> std::path::PathBuf {
    let fresh = bk.with_file_name(name);
    let _ = std::fs::remove_dir_all(&fresh);
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(bk)
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(copied.success());
    fresh
}

/// Add `(kind, name)` to a backup's manifest objects.
pub fn list_object(dir: &std::path::Path, kind: &str, name: &str) {
    let mpath = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m["objects"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"type": kind, "name": name}));
    std::fs::write(&mpath, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}
