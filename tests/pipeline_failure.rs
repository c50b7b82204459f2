//! A failure upstream fails the whole pipeline, whatever sits in the middle: each tool
//! that writes CSV passes a failure on to its own output (the failure mark) and exits 2,
//! and a stream cut off in the middle of a record is refused. See: #23 (2).

use crate::safety::FAILS_LATE;
use crate::util::db::TestDb;
use crate::util::Workdir;

/// What a failed `qexport` leaves on its stdout: whole records, then its mark.
const FAILED: &str = "id,v\n1,name a\n2,name b\n\"qexport: failed: reading rows: lost";

// See: #23 (2): qgrep (with and without -v, -j 1 and -j 2) and qcount pass the failure on:
// the same mark at the end of their output, exit 2.
#[test]
fn the_tools_in_the_middle_pass_a_failure_on() {
    let wd = Workdir::new("pipefail_middle");
    for args in [
        &["-F", "name"][..],
        &["-v", "zzz"],
        &["-j", "2", "name"],
        &["-j", "2", "-v", "zzz"],
    ] {
        let out = wd
            .cmd("qgrep")
            .args(args)
            .stdin(FAILED)
            .fails(2)
            .stderr_has(&["qgrep: stdin:4: unterminated quoted field"])
            .stdout();
        assert!(
            out.starts_with("id,v\n") && out.contains("\n\"qgrep: failed: stdin:4: "),
            "{args:?}: {out}"
        );
    }
    for args in [&[][..], &["-g", "v"]] {
        let out = wd.cmd("qcount").args(args).stdin(FAILED).fails(2).stdout();
        assert!(
            out.starts_with("\"qcount: failed: stdin:4: "),
            "{args:?}: {out}"
        );
        // ... which the next qcount refuses in its turn.
        wd.cmd("qcount").arg("--merge").stdin(&out).fails(2);
    }
}

// See: #23 (2): qexport | qgrep | qimport, with the export failing midway: nothing is
// loaded and every tool but the first reports the stream as broken.
#[test]
fn a_failed_export_fails_every_tool_after_it() {
    let wd = Workdir::new("pipefail_chain");
    let db = TestDb::new("pipefail_chain");
    db.exec(
        "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO big SELECT seq, IF(seq % 2, 'name', 'other') FROM seq_1_to_40000;
         CREATE TABLE copy LIKE big;",
    );
    for middle in ["qgrep -F name", "qgrep -v -F zzz", "qgrep -j 2 name"] {
        let run = wd
            .sh(&format!(
                "qexport --url '{u}' --where '{FAILS_LATE}' big | {middle} | qimport --url '{u}' copy",
                u = db.url
            ))
            .fails(2);
        let err = run.stderr();
        assert!(
            err.contains("qgrep: stdin:") && err.contains("qimport: stdin:"),
            "{middle}: {}",
            run.report()
        );
        assert_eq!(db.count("copy"), 0, "{middle}");
    }
}

// See: #23 (2): a stream whose writer died in the middle of a record (kill -9 of qexport)
// ends without a line end: refused by qimport, qgrep and qcount; a regular file may end so.
#[test]
fn a_stream_cut_in_a_record_is_refused() {
    let wd = Workdir::new("pipefail_cut");
    let db = TestDb::new("pipefail_cut");
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT);");
    let cut = "id,v\n1,whole\n2,cut in the midd";
    for method in ["load-data", "insert"] {
        wd.cmd("qimport")
            .args(["--url", &db.url, "--method", method, "t"])
            .stdin(cut)
            .fails(2)
            .stderr_has(&["stdin:3: the input ends in the middle of a record"]);
    }
    wd.cmd("qimport")
        .args(["--url", &db.url, "-j", "2", "t"])
        .stdin(cut)
        .fails(2)
        .stderr_has(&["stdin:3: the input ends in the middle of a record"]);
    assert_eq!(db.count("t"), 0);
    wd.cmd("qgrep")
        .arg("whole")
        .stdin(cut)
        .fails(2)
        .stderr_has(&["stdin:3: the input ends in the middle"]);
    wd.cmd("qcount")
        .stdin(cut)
        .fails(2)
        .stderr_has(&["stdin:3: the input ends in the middle"]);
    // A header cut short, with nothing after it.
    wd.cmd("qcount").stdin("id,v").fails(2);
    // The same bytes in a regular file (or stdin redirected from one) load as they are.
    let f = wd.create("t.csv", cut);
    wd.cmd("qimport").args(["--url", &db.url, "t"]).arg(&f).ok();
    assert_eq!(db.count("t"), 2);
    wd.sh("qcount < t.csv").ok().stdout_is("2\n");
    // A file through a pipe is a stream.
    wd.sh("cat t.csv | qcount").fails(2);
}

// See: #23 (hostile review, round 2): a mistake in qexport's flags fails the pipe too,
// when its CSV was to go to stdout: the tool after it fails instead of reading an empty
// export (a count of 0, or "no match").
#[test]
fn a_flag_mistake_of_qexport_fails_the_pipe() {
    let wd = Workdir::new("pipefail_flags");
    for flags in [
        &["--limit", "99999999999999999999", "t"][..],
        &["--bogus", "t"],
        &["--url", "mysql://root@127.0.0.1:1/x"],
        &["--gzip", "--zstd", "t"],
    ] {
        let out = wd.cmd("qexport").args(flags).fails(2).stdout();
        assert!(out.starts_with("\"qexport: failed: "), "{flags:?}: {out:?}");
        wd.cmd("qcount").stdin(&out).fails(2);
    }
    // With -o, stdout carries no data, and no mark.
    let r = wd
        .cmd("qexport")
        .args(["--bogus", "t", "-o", "x.csv"])
        .fails(2);
    assert_eq!(r.stdout(), "");
}
