//! What a load keeps besides its rows: a system-versioned table's history and the
//! AUTO_INCREMENT numbering, whatever the path (-j N, --swap), and a --dry-run that says
//! what it could not take back. See: #23 (3).

use crate::util::db::TestDb;
use crate::util::Workdir;

// See: #23 (3): -j N and --swap never lose a system-versioned table's history.
#[test]
fn history_is_kept_or_the_load_refused() {
    let wd = Workdir::new("keeps_history");
    let db = TestDb::new("keeps_history");
    db.exec(
        "CREATE TABLE h (id INT PRIMARY KEY, v TEXT) WITH SYSTEM VERSIONING;
         INSERT INTO h VALUES (1, 'a'); UPDATE h SET v = 'b'; UPDATE h SET v = 'c'; DELETE FROM h;",
    );
    let history = || db.query::<u64>("SELECT COUNT(*) FROM h FOR SYSTEM_TIME ALL")[0];
    let before = history();
    assert_eq!(before, 3);
    let f = wd.create("h.csv", "id,v\n1,x\n2,y\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "h"])
        .arg(&f)
        .fails(2)
        .stderr_has(&["--swap would lose the history", "--truncate"]);
    assert_eq!(history(), before);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "h"])
        .arg(&f)
        .ok();
    assert_eq!(history(), before + 2);
    assert_eq!(db.count("h"), 2);
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "--truncate", "h"])
        .arg(&f)
        .ok();
    assert_eq!(
        history(),
        before + 4,
        "the DELETE keeps the old rows in the history"
    );
}

// See: #23 (3): -j N and --swap number new rows as -j 1 does, or -j N is refused.
#[test]
fn auto_increment_ids_are_those_of_one_connection() {
    let wd = Workdir::new("keeps_ids");
    let db = TestDb::new("keeps_ids");
    db.exec(
        "CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) AUTO_INCREMENT = 1000;
         CREATE TABLE b LIKE a; ALTER TABLE b AUTO_INCREMENT = 1000;",
    );
    let f = wd.create("v.csv", "v\nfirst\nsecond\n");
    // The input does not fill the ids: -j 2 cannot number them in input order.
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "a"])
        .arg(&f)
        .fails(2)
        .stderr_has(&[
            "no field for the AUTO_INCREMENT column id",
            "load with -j 1",
        ]);
    // Nor a NULL among given ids.
    let g = wd.create("ids.csv", "id,v\n5,x\n,y\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "a"])
        .arg(&g)
        .fails(2)
        .stderr_has(&["NULL in the AUTO_INCREMENT column"]);
    assert_eq!(db.count("a"), 0);
    // -j 1 and --swap: the same ids, the counter where -j 1 leaves it.
    wd.cmd("qimport").args(["--url", &db.url, "a"]).arg(&f).ok();
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "b"])
        .arg(&f)
        .ok();
    let ids = |t: &str| db.query::<(i64, String)>(&format!("SELECT id, v FROM {t} ORDER BY id"));
    assert_eq!(ids("a"), [(1000, "first".into()), (1001, "second".into())]);
    assert_eq!(ids("b"), ids("a"));
    // A second --swap goes on from there, as --truncate does: old ids do not come back.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--truncate", "a"])
        .arg(&f)
        .ok();
    wd.cmd("qimport")
        .args(["--url", &db.url, "--swap", "b"])
        .arg(&f)
        .ok();
    assert!(ids("a")[0].0 > 1001, "{:?}", ids("a"));
    assert_eq!(ids("b"), ids("a"));
    // Ids given: -j 2 keeps the counter as -j 1 would.
    db.exec("CREATE TABLE c LIKE a; ALTER TABLE c AUTO_INCREMENT = 1000;");
    let h = wd.create("given.csv", "id,v\n1,x\n2,y\n");
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "c"])
        .arg(&h)
        .ok();
    db.exec("INSERT INTO c (v) VALUES ('next')");
    assert_eq!(db.query::<i64>("SELECT MAX(id) FROM c"), [1000]);
}

// See: #23 (3): a dry run says what its rollback could not take back.
#[test]
fn a_dry_run_says_what_it_leaves() {
    let wd = Workdir::new("keeps_dry");
    let db = TestDb::new("keeps_dry");
    db.exec(
        "CREATE SEQUENCE s;
         CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, n BIGINT DEFAULT NEXTVAL(s), v TEXT) AUTO_INCREMENT = 1000;
         CREATE TABLE log (v TEXT) ENGINE=MyISAM;
         CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.v);
         CREATE TABLE plain (id INT PRIMARY KEY);",
    );
    let run = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "t"])
        .stdin("v\na\nb\n")
        .ok();
    run.stderr_has(&[
        "dry run: 2 records are valid",
        "not taken back: the AUTO_INCREMENT counter moved from 1000 to ",
        "the sequence in the default of column n advanced",
        "the trigger t_log ran: what it did that no transaction takes back stays",
    ]);
    assert_eq!(db.count("t"), 0);
    assert_eq!(db.count("log"), 2, "what the README and the summary say");
    // Nothing of the kind: nothing was changed, and it says so.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--dry-run", "plain"])
        .stdin("id\n1\n")
        .ok()
        .stderr_has(&["rolled back, nothing was changed"]);
}
