//! A backup by a user who cannot read everything: `--all` refuses, naming what it would
//! miss; `--partial` backs up what it sees and says (on stderr and in the manifest) what
//! is missing; a restore checks its privileges before it changes anything. See: #17 (2),
//! #24 (1).

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::Workdir;

// See: #24 (1): a user without TRIGGER, EVENT or the right to read routines cannot see
// them: --all refuses, naming what it would miss; --partial backs up what it sees and says
// (stderr and manifest) which kinds are missing.
#[test]
fn objects_the_user_cannot_read_are_said() {
    let wd = Workdir::new("objects_privileges");
    let db = TestDb::new("objects_privileges");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);
         CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id;
         CREATE PROCEDURE p() SELECT 1;
         CREATE EVENT e ON SCHEDULE AT '2030-01-01 00:00:00' DO SELECT 1;",
    );
    let (user, _) = db.user("pw-backup-privileges");
    let mut c = db.conn();
    c.query_drop(format!("REVOKE ALL ON `{}`.* FROM '{user}'@'%'", db.name))
        .unwrap();
    c.query_drop(format!(
        "GRANT SELECT, SHOW VIEW, LOCK TABLES ON `{}`.* TO '{user}'@'%'",
        db.name
    ))
    .unwrap();
    let (host, port) = db.host_port();
    let url = format!(
        "mysql://{user}:pw-backup-privileges@{host}:{port}/{}",
        db.name
    );
    wd.cmd("qexport")
        .args(["--url", &url, "--all", "-o", "bk"])
        .fails(2)
        .stderr_has(&[
            "triggers (TRIGGER)",
            "events (EVENT)",
            "routines (",
            "--partial",
        ]);
    assert!(!wd.path().join("bk").exists());
    wd.cmd("qexport")
        .args(["--url", &url, "--all", "--partial", "-o", "bk"])
        .ok()
        .stderr_has(&["warning: a partial backup", "triggers (TRIGGER)"]);
    let m = crate::util::manifest(&wd.path().join("bk"));
    assert_eq!(m["partial"], true);
    let missing = m["missing"].to_string();
    assert!(
        missing.contains("triggers") && missing.contains("events"),
        "{missing}"
    );
    // A restore names what a partial backup misses.
    let copy = TestDb::new("objects_privileges_r");
    wd.cmd("qimport")
        .args(["--url", &copy.url, "--dir", "bk"])
        .ok()
        .stderr_has(&["a partial backup", "triggers (TRIGGER)"]);
    // (Hostile review.) The server applies the most specific database grant: EVENT and
    // TRIGGER on a pattern that also matches change nothing; nor does --partial read
    // views without SHOW VIEW (they are said missing).
    let pattern = format!("{}%", &db.name[..db.name.len() - 2]);
    c.query_drop(format!(
        "GRANT EVENT, TRIGGER ON `{pattern}`.* TO '{user}'@'%'"
    ))
    .unwrap();
    c.query_drop(format!(
        "REVOKE SHOW VIEW ON `{}`.* FROM '{user}'@'%'",
        db.name
    ))
    .unwrap();
    db.exec("CREATE VIEW v AS SELECT id FROM t;");
    wd.cmd("qexport")
        .args(["--url", &url, "--all", "-o", "bk2"])
        .fails(2)
        .stderr_has(&["triggers (TRIGGER)", "events (EVENT)", "views (SHOW VIEW)"]);
    wd.cmd("qexport")
        .args(["-q", "--url", &url, "--all", "--partial", "-o", "bk2"])
        .ok();
    assert!(crate::util::manifest(&wd.path().join("bk2"))["missing"]
        .to_string()
        .contains("views"));
    // A user whose default role holds every privilege backs up everything; --partial
    // with nothing missing is no partial backup.
    let role = format!("r{}", &user[1..]);
    for sql in [
        format!("CREATE ROLE {role}"),
        format!("GRANT ALL ON `{}`.* TO {role}", db.name),
        format!("GRANT SELECT ON mysql.proc TO {role}"),
        format!("REVOKE ALL ON `{}`.* FROM '{user}'@'%'", db.name),
        format!("GRANT {role} TO '{user}'@'%'"),
        format!("SET DEFAULT ROLE {role} FOR '{user}'@'%'"),
    ] {
        c.query_drop(sql).unwrap();
    }
    wd.cmd("qexport")
        .args(["-q", "--url", &url, "--all", "--partial", "-o", "bk3"])
        .ok();
    let m = crate::util::manifest(&wd.path().join("bk3"));
    assert_eq!(m["partial"], false, "{m}");
    assert_eq!(m["objects"].as_array().unwrap().len(), 4, "{m}");
    c.query_drop(format!("DROP ROLE {role}")).unwrap();
}

/// A user of the test server with `grants` (statements with `{user}`), dropped at the end.
struct User<'d> {
    db: &'d TestDb,
    name: String,
}

impl<'d> User<'d> {
    fn new(db: &'d TestDb, tag: &str, grants: &[String]) -> User<'d> {
        let name = format!("qt_{tag}_{}", std::process::id());
        db.exec(&format!(
            "DROP USER IF EXISTS '{name}'@'%';\nCREATE USER '{name}'@'%' IDENTIFIED BY 'pw-privileges';"
        ));
        crate::util::secret("pw-privileges");
        for g in grants {
            db.exec(&format!(
                "{};",
                g.replace("{user}", &format!("'{name}'@'%'"))
            ));
        }
        User { db, name }
    }

    /// The URL of `target` as this user.
    fn url(&self, target: &TestDb) -> String {
        let (host, port) = target.host_port();
        format!(
            "mysql://{}:pw-privileges@{host}:{port}/{}",
            self.name, target.name
        )
    }
}

impl Drop for User<'_> {
    fn drop(&mut self) {
        self.db
            .exec(&format!("DROP USER IF EXISTS '{}'@'%';", self.name));
    }
}

// See: #17 (2) and (12): --all refuses when grants hide tables (or says partial), and a
// restore checks its privileges before it changes anything.
#[test]
fn grants_that_hide_tables_or_forbid_the_restore_are_said() {
    let wd = Workdir::new("trust_grants");
    let db = TestDb::new("trust_grants");
    db.exec(
        "CREATE TABLE a (id INT PRIMARY KEY); INSERT INTO a VALUES (1);
         CREATE TABLE b (id INT PRIMARY KEY); INSERT INTO b VALUES (2);
         CREATE TABLE c (id INT PRIMARY KEY);",
    );
    let reader = User::new(
        &db,
        "part",
        &[
            format!("GRANT SELECT ON `{}`.a TO {{user}}", db.name),
            format!("GRANT SELECT ON `{}`.b TO {{user}}", db.name),
        ],
    );
    wd.cmd("qexport")
        .args(["--url", &reader.url(&db), "--all", "-o", "bk"])
        .fails(2)
        .stderr_has(&["--all: this user has no SELECT on", "--partial", "(a, b)"]);
    assert!(!wd.path().join("bk").exists());
    wd.cmd("qexport")
        .args(["--url", &reader.url(&db), "--all", "--partial", "-o", "bk"])
        .ok()
        .stderr_has(&["2 tables, 2 rows backed up"]);
    let m: serde_json::Value = crate::util::manifest(&wd.path().join("bk"));
    assert_eq!(m["partial"], true);
    // A restore user without DROP (needed to take a failed restore back) is refused first.
    let target = TestDb::new("trust_grants_r");
    let loader = User::new(
        &db,
        "load",
        &[format!(
            "GRANT CREATE, INSERT, SELECT ON `{}`.* TO {{user}}",
            target.name
        )],
    );
    wd.cmd("qimport")
        .args(["--url", &loader.url(&target), "--dir", "bk"])
        .fails(2)
        .stderr_has(&["needs DROP on", "nothing was changed"]);
    assert_eq!(
        target.query::<u64>(&format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
            target.name
        )),
        [0]
    );
    wd.cmd("qimport")
        .args(["--url", &target.url, "--dir", "bk"])
        .ok()
        .stderr_has(&["is a partial backup"]);
}
