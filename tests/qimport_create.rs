//! `qimport --create` and `--schema`: the table made for the load (types inferred from the
//! input, or a CREATE TABLE of the user's), and dropped again if the load fails.

use crate::util::db::TestDb;
use crate::util::Workdir;

#[test]
fn create_infers_conservative_types() {
    let db = TestDb::new("qimport_create");
    let wd = Workdir::new("qimport_create");
    let data = "id,zip,price,day,note\n1,00501,9.99,2024-01-31,hello\n2,90210,10.5,2024-02-29,\n";
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "items"])
        .stdin(data)
        .ok()
        .stderr_has(&[
            "created",
            "`zip` VARCHAR(64)",
            "`price` DECIMAL(8,2)",
            "items: 2 rows loaded",
        ]);
    let zips: Vec<String> = db.query("SELECT zip FROM items ORDER BY id");
    assert_eq!(zips, ["00501", "90210"], "leading zeros kept");
    let back = wd
        .cmd("qexport")
        .args(["--url", &db.url, "items"])
        .ok()
        .stdout();
    assert_eq!(
        back,
        "id,zip,price,day,note\n1,00501,9.99,2024-01-31,hello\n2,90210,10.50,2024-02-29,\n"
    );
    // Regular files are read twice (not spooled), also from stdin at an offset: the
    // shell's `read` took the first line, a comment.
    wd.create("items.csv", data);
    wd.create("commented.csv", format!("# items\n{data}"));
    wd.sh(&format!(
        "qimport -q --url '{u}' --create items2 items.csv && \
         {{ read -r _; qimport -q --url '{u}' --create items3; }} < commented.csv",
        u = db.url
    ))
    .ok();
    for t in ["items2", "items3"] {
        assert_eq!(db.checksum(t), db.checksum("items"), "{t}");
    }
    // A failed load drops the table it created.
    wd.cmd("qimport")
        .args(["--url", &db.url, "--create", "bad"])
        .stdin("id,v\n1,a\n2\n")
        .fails(2)
        .stderr_has(&["stdin:3: expected 2 fields"]);
    let tables: Vec<String> = db.query("SHOW TABLES LIKE 'bad'");
    assert!(tables.is_empty());
    wd.cmd("qimport")
        .args(["--url", &db.url, "missing"])
        .stdin("id\n1\n")
        .fails(2)
        .stderr_has(&["missing does not exist"]);
}

#[test]
fn schema_file_creates_the_table() {
    let db = TestDb::new("qimport_schema");
    let wd = Workdir::new("qimport_schema");
    wd.create(
        "t.sql",
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(5));\n",
    );
    wd.cmd("qimport")
        .args(["--url", &db.url, "--schema", "t.sql", "t"])
        .stdin("id,v\n1,a\n")
        .ok();
    assert_eq!(db.count("t"), 1);
}
