//! `-o` never replaces what the shell opened for it: stdout, a descriptor, anything but a
//! plain file named as such is written in place. See: #23 (3).

use crate::util::db::TestDb;
use crate::util::Workdir;

// See: #23 (3): `-o /dev/stdout >> app.csv` appends; `-o /dev/fd/3 3>>f` too; `-o
// /proc/self/fd/3 3>f` writes where the shell opened it.
#[test]
fn output_through_a_descriptor_is_written_in_place() {
    let wd = Workdir::new("in_place");
    let db = TestDb::new("in_place");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
    let u = &db.url;
    for (script, file) in [
        (
            format!("qexport --url '{u}' t -o /dev/stdout >> app.csv"),
            "app.csv",
        ),
        (
            format!("qexport --url '{u}' t -o /dev/fd/3 3>> log.csv"),
            "log.csv",
        ),
        (
            format!("qexport --url '{u}' t -o /proc/self/fd/1 >> out.csv"),
            "out.csv",
        ),
        (
            format!("qexport --gzip --url '{u}' t -o /dev/stdout >> z.csv"),
            "z.csv",
        ),
    ] {
        wd.create(file, "earlier line\n");
        let ino = || {
            use std::os::unix::fs::MetadataExt as _;
            std::fs::metadata(wd.path().join(file)).unwrap().ino()
        };
        let before = ino();
        wd.sh(&script).ok();
        let got = std::fs::read(wd.path().join(file)).unwrap();
        assert!(got.starts_with(b"earlier line\n"), "{script}");
        assert_eq!(ino(), before, "{script}: the file was replaced");
        if !file.starts_with('z') {
            assert_eq!(
                String::from_utf8_lossy(&got),
                "earlier line\nid\n1\n2\n",
                "{script}"
            );
        }
    }
    wd.create("pos.csv", "xxxxxxxxxxxxxxxxxxxxxxxx\n");
    wd.sh(&format!(
        "qexport --url '{u}' t -o /proc/self/fd/3 3> pos.csv"
    ))
    .ok();
    assert_eq!(
        std::fs::read_to_string(wd.path().join("pos.csv")).unwrap(),
        "id\n1\n2\n"
    );
    // A descriptor open only to read is an input: opened again to write, it would be
    // overwritten. Refused, and left as it was.
    std::os::unix::fs::symlink("/dev//fd/0", wd.path().join("lnk")).unwrap();
    std::os::unix::fs::symlink("in.csv", wd.path().join("in-link")).unwrap();
    for script in [
        format!("qexport --url '{u}' t -o /dev/stdin < in.csv"),
        format!("qexport --url '{u}' t -o /dev/fd/3 3< in.csv"),
        // However the descriptor's path is spelled (#23, hostile review, round 2).
        format!("qexport --url '{u}' t -o /dev//fd/0 < in.csv"),
        format!("qexport --url '{u}' t -o /dev/./fd/0 < in.csv"),
        format!("qexport --url '{u}' t -o /dev/fd/../fd/0 < in.csv"),
        format!("qexport --url '{u}' t -o /proc/./self/fd/0 < in.csv"),
        format!("qexport --url '{u}' t -o /proc/thread-self/fd/0 < in.csv"),
        format!("qexport --url '{u}' t -o lnk < in.csv"),
        // The same file by any name: its own, a link to it, the shell's descriptor
        // (#23, hostile review, round 3).
        format!("qexport --url '{u}' t -o in.csv < in.csv"),
        format!("qexport --url '{u}' t -o in-link < in.csv"),
        format!("sh -c 'qexport --url \"{u}\" t -o /proc/$$/fd/0' < in.csv"),
    ] {
        wd.create("in.csv", "the input\n");
        wd.sh(&script).fails(2).stderr_has(&["is open"]);
        let kept = std::fs::read_to_string(wd.path().join("in.csv")).unwrap();
        assert_eq!(kept, "the input\n", "{script}");
    }
}
