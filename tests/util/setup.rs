//! Tables several test files start from.

use super::db::TestDb;
use super::Workdir;

/// A work directory and a database of the test's own, made by `sql`.
pub fn database(test: &str, sql: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(sql);
    (Workdir::new(test), db)
}

const USERS_TABLE: &str = "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, email VARCHAR(255) NULL);
INSERT INTO users VALUES (100, 'Existing', 'e@x.org');";

/// A work directory and a database whose table `users` (id, name, email) holds one row,
/// id 100.
pub fn users_table(test: &str) -> (Workdir, TestDb) {
    database(test, USERS_TABLE)
}

/// A database with the users fixture and the tables `sql` makes, and the users table as
/// qexport writes it.
pub fn exported_users(test: &str, sql: &str) -> (Workdir, TestDb, String) {
    let db = TestDb::new(test);
    db.load("users.sql");
    db.exec(sql);
    let wd = Workdir::new(test);
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "users"])
        .ok()
        .stdout();
    (wd, db, csv)
}

/// A parent table and a child table whose foreign key cascades deletes.
pub const FAMILY: &str = "CREATE TABLE parent (id INT PRIMARY KEY, v TEXT);
CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1, 'a'), (2, 'b');
INSERT INTO child VALUES (10, 1), (20, 2);";

pub const SMALL: &str = "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50), note TEXT);
INSERT INTO t VALUES (1, 'John', 'a,b'), (2, '', NULL), (3, NULL, 'say \"hi\"'), (4, 'x', 'two\\nlines');";

/// A work directory and a database holding the table `t` of [`SMALL`].
pub fn small(test: &str) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec(SMALL);
    (Workdir::new(test), db)
}
