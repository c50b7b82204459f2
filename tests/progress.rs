//! Progress on every long job: a bar on a terminal, plain lines with `--progress` in a
//! log, nothing in a pipe or with `-q`. See: #25.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Child;

use crate::util::db::TestDb;
use crate::util::Workdir;

/// Reads the child's stderr until a line holds `want`; returns what it read. A child
/// that never says it is stopped after 120 s, so that the test fails instead of hanging
/// (the limit only ends a broken run: nothing waits for it otherwise).
fn stderr_until(child: &mut Child, want: &str) -> String {
    let pid = child.id().to_string();
    let (said, watch) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if watch
            .recv_timeout(std::time::Duration::from_secs(120))
            .is_err()
        {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
        }
    });
    let err = child.stderr.as_mut().expect("stderr is piped");
    let mut seen = String::new();
    for line in BufReader::new(err).lines() {
        let line = line.expect("reading stderr");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(want) {
            let _ = said.send(());
            return seen;
        }
    }
    panic!("stderr ended without {want:?}:\n{seen}");
}

fn rest_of_stderr(child: &mut Child) -> String {
    let mut s = String::new();
    child
        .stderr
        .as_mut()
        .expect("stderr is piped")
        .read_to_string(&mut s)
        .expect("reading stderr");
    s
}

fn table(test: &str, rows: usize) -> (Workdir, TestDb) {
    let db = TestDb::new(test);
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100))");
    let wd = Workdir::new(test);
    let csv: String = std::iter::once("id,v\n".to_owned())
        .chain((1..=rows).map(|i| format!("{i},{}\n", "x".repeat(90))))
        .collect();
    wd.create("t.csv", csv);
    (wd, db)
}

// See: #25: a load from a stream that is still arriving says where it is, in a plain
// line (no escape codes) that a cron log keeps; the stream is held open by the test until
// the line is there, so nothing depends on time.
#[test]
fn progress_lines_in_a_log_while_a_load_runs() {
    let (wd, db) = table("progress_lines_import", 0);
    let mut child = wd
        .cmd("qimport")
        .args(["--url", &db.url, "--progress", "t"])
        .spawn();
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(b"id,v\n").unwrap();
    for i in 1..=5000 {
        writeln!(input, "{i},row {i}").unwrap();
    }
    input.flush().unwrap();
    let seen = stderr_until(&mut child, "rows/s");
    assert!(seen.contains("qimport: "), "{seen}");
    assert!(seen.contains("rows/s"), "{seen}");
    drop(input);
    let rest = rest_of_stderr(&mut child);
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert!(rest.contains("committing"), "{rest}");
    assert!(
        rest.contains("5,000 rows loaded") || rest.contains("5000 rows loaded"),
        "{rest}"
    );
    assert!(
        !format!("{seen}{rest}").contains('\x1b'),
        "escape codes in a log"
    );
    assert_eq!(db.count("t"), 5000);
}

// See: #25: an export that waits on its reader says where it is too, with the table's
// estimate; the test holds it by not reading its output until the line is there.
#[test]
fn progress_lines_while_an_export_waits_on_its_reader() {
    let (wd, db) = table("progress_lines_export", 20_000);
    wd.cmd("qimport")
        .args(["--url", &db.url, "t", "t.csv"])
        .ok();
    db.exec("ANALYZE TABLE t");
    let mut child = wd
        .cmd("qexport")
        .args(["--url", &db.url, "--progress", "t"])
        .spawn_piped();
    let seen = stderr_until(&mut child, "rows/s");
    assert!(seen.contains("qexport: "), "{seen}");
    assert!(seen.contains(" of ~"), "the estimate: {seen}");
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let rest = rest_of_stderr(&mut child);
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 20_001);
    assert!(
        !format!("{seen}{rest}").contains('\x1b'),
        "escape codes in a log"
    );
}

// See: #25: on a terminal (a pseudo-terminal by way of script(1)) a bar is drawn and
// cleared, beside the summary; with -q nothing at all; in a pipe without --progress,
// only the summary.
#[test]
fn a_bar_on_a_terminal_and_nothing_with_q_or_in_a_pipe() {
    let (wd, db) = table("progress_bar", 3000);
    let load = format!("qimport --url '{}' --truncate t t.csv", db.url);
    let r = wd.sh(&format!("script -qec \"{load}\" /dev/null")).ok();
    let out = r.stdout();
    assert!(out.contains("qimport: "), "{}", r.report());
    assert!(out.contains('\x1b'), "a bar is drawn: {}", r.report());
    assert!(out.contains("3000 rows loaded") || out.contains("3,000 rows loaded"));
    let r = wd.sh(&format!("script -qec \"{load} -q\" /dev/null")).ok();
    assert_eq!(r.stdout(), "", "{}", r.report());
    let r = wd.sh(&format!("{load} 2>&1")).ok();
    assert_eq!(r.stdout().lines().count(), 1, "{}", r.report());
    assert!(!r.stdout().contains('\x1b'), "{}", r.report());
}
