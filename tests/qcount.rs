use std::fmt::Write as _;

use crate::util::{fixture, Workdir};

#[test]
fn counts_records_not_lines() {
    let wd = Workdir::new("qcount_basic");
    wd.cmd("qcount")
        .arg(fixture("csv/quoted_newlines.csv"))
        .ok()
        .stdout_is("3\n");
    wd.cmd("qcount").stdin("id\n1\n2\n").ok().stdout_is("2\n");
}

#[test]
fn no_header_counts_every_record() {
    let wd = Workdir::new("qcount_noheader");
    wd.cmd("qcount")
        .arg("-n")
        .stdin("a,b\nc,d\n")
        .ok()
        .stdout_is("2\n");
    // A file may end without a line end (a pipe may not: see: #23 (2)).
    let f = wd.create("nolf.csv", "a,b\nc,d");
    wd.cmd("qcount")
        .arg("--no-header")
        .arg(&f)
        .ok()
        .stdout_is("2\n");
}

#[test]
fn crlf_bom_and_several_files() {
    let wd = Workdir::new("qcount_files");
    wd.cmd("qcount")
        .arg(fixture("csv/crlf.csv"))
        .arg(fixture("csv/bom.csv"))
        .ok()
        .stdout_is("4\n");
}

#[test]
fn empty_and_header_only() {
    let wd = Workdir::new("qcount_empty");
    wd.cmd("qcount").stdin("").ok().stdout_is("0\n");
    wd.cmd("qcount").stdin("id,name\n").ok().stdout_is("0\n");
    wd.cmd("qcount").arg("-n").stdin("").ok().stdout_is("0\n");
}

#[test]
fn tsv_and_blank_lines() {
    let wd = Workdir::new("qcount_tsv");
    wd.cmd("qcount")
        .arg("--tsv")
        .stdin("a\tb\n1\t\"x\ny\"\n\n2\t3\n")
        .ok()
        .stdout_is("2\n");
}

#[test]
fn unterminated_quote_is_an_error() {
    let wd = Workdir::new("qcount_unterminated");
    wd.cmd("qcount")
        .arg(fixture("csv/unterminated.csv"))
        .fails(2)
        .stderr_has(&[
            "qcount: ",
            "unterminated.csv:3: ",
            "unterminated quoted field",
        ]);
}

#[test]
fn missing_file_is_an_error() {
    let wd = Workdir::new("qcount_missing");
    wd.cmd("qcount")
        .arg("nope.csv")
        .fails(2)
        .stderr_has(&["qcount: opening nope.csv"]);
}

const PEOPLE: &str = "id,city,team\n1,Paris,a\n2,Lyon,b\n3,Paris,a\n4,,b\n5,\"\",a\n6,\"Nice, FR\",b\n7,Lyon,b\n8,Paris,b\n9,,a\n";

#[test]
fn group_by_sorts_by_count_then_key_with_null_a_group() {
    let wd = Workdir::new("qcount_group");
    // NULL (unquoted empty) and "" (an empty string) are different groups; NULL sorts
    // first among equal counts, and stays NULL in the output.
    wd.cmd("qcount")
        .args(["-g", "city"])
        .stdin(PEOPLE)
        .ok()
        .stdout_is("city,count\nParis,3\n,2\nLyon,2\n\"\",1\n\"Nice, FR\",1\n");
    wd.cmd("qcount")
        .args(["-g", "city,team", "--top", "2"])
        .stdin(PEOPLE)
        .ok()
        .stdout_is("city,team,count\nLyon,b,2\nParis,a,2\n");
    wd.cmd("qcount")
        .args(["-g", "2", "--top", "1", "-n"])
        .stdin("1,x\n2,y\n3,y\n")
        .ok()
        .stdout_is("y,2\n");
    wd.cmd("qcount")
        .args(["--distinct", "city"])
        .stdin(PEOPLE)
        .ok()
        .stdout_is("5\n");
    wd.cmd("qcount")
        .args(["-g", "town"])
        .stdin(PEOPLE)
        .fails(2)
        .stderr_has(&["no column \"town\""]);
    wd.cmd("qcount")
        .args(["--top", "3"])
        .stdin(PEOPLE)
        .fails(2)
        .stderr_has(&["--top needs -g"]);
}

#[test]
fn group_by_is_identical_whatever_the_threads() {
    let wd = Workdir::new("qcount_group_j");
    let mut data = String::from("id,k\n");
    for i in 0..20_000 {
        write!(data, "{i},\"k{}\nx,\"\"y\"\"\"\n", i % 97).unwrap();
    }
    let f = wd.create("g.csv", &data);
    let one = wd
        .cmd("qcount")
        .args(["-g", "k", "-j", "1"])
        .arg(&f)
        .ok()
        .stdout();
    assert!(
        one.starts_with("k,count\n\"k0\nx,\"\"y\"\"\",207\n"),
        "{one}"
    );
    for j in ["2", "3"] {
        for block in ["100", "65536"] {
            let got = wd
                .cmd("qcount")
                .args(["-g", "k", "-j", j, "--block-size", block])
                .arg(&f)
                .ok()
                .stdout();
            assert_eq!(got, one, "-j {j} --block-size {block}");
        }
    }
}

#[test]
fn merge_sums_plain_counts_and_group_tables() {
    let wd = Workdir::new("qcount_merge");
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("3\n5\n0\n")
        .ok()
        .stdout_is("8\n");
    // qcount always writes a count: an empty part is a run that died before writing
    // (#23, hostile review, round 2).
    wd.create("five", "5\n");
    wd.create("empty", "");
    for args in [&["--merge"][..], &["--merge", "five", "empty"]] {
        wd.cmd("qcount")
            .args(args)
            .stdin("")
            .fails(2)
            .stderr_has(&["empty: not an output of qcount"]);
    }
    // Concatenated -g tables: repeated headers skipped, awkward keys kept, NULL apart
    // from "".
    let parts = "k,count\n\"a,\nb\",2\n,1\n\"\",4\nk,count\n\"a,\nb\",3\n\"\",1\n";
    wd.cmd("qcount")
        .arg("--merge")
        .stdin(parts)
        .ok()
        .stdout_is("k,count\n\"\",5\n\"a,\nb\",5\n,1\n");
    wd.cmd("qcount")
        .args(["--merge", "--top", "1"])
        .stdin(parts)
        .ok()
        .stdout_is("k,count\n\"\",5\n");
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("k,count\nx,1\ny,many\n")
        .fails(2)
        .stderr_has(&["stdin:3: ", "not a count"]);
}

// The reduce step of a fan-out: each part carries the header, as with
// `parallel --pipe --header 1`; the merged result equals the one-process count.
#[test]
fn merge_of_parts_equals_the_whole() {
    let wd = Workdir::new("qcount_fanout");
    let mut data = String::from("id,city\n");
    for i in 0..3000 {
        let city = ["Paris", "\"Nice,\nFR\"", "", "\"\""][i % 4];
        writeln!(data, "{i},{city}").unwrap();
    }
    let f = wd.create("p.csv", &data);
    let whole = wd.cmd("qcount").arg(&f).ok().stdout();
    let groups = wd.cmd("qcount").args(["-g", "city"]).arg(&f).ok().stdout();
    let fan = |cmd: &str| {
        wd.sh(&format!(
            "parallel --pipe --block 10k --header 1 {cmd} < {f} | qcount --merge",
            f = f.display()
        ))
        .ok()
        .stdout()
    };
    assert_eq!(fan("qcount"), whole);
    assert_eq!(fan("qcount -g city"), groups);
}

#[test]
fn strict_rejects_ragged_records() {
    let wd = Workdir::new("qcount_strict");
    // Without --strict the short record counts as one.
    wd.cmd("qcount")
        .arg(fixture("csv/ragged.csv"))
        .ok()
        .stdout_is("2\n");
    wd.cmd("qcount")
        .arg("--strict")
        .arg(fixture("csv/ragged.csv"))
        .fails(2)
        .stderr_has(&["ragged.csv:", "(--strict)"]);
}

#[test]
fn merge_refuses_what_it_cannot_sum() {
    let wd = Workdir::new("qcount_merge_errors");
    wd.cmd("qcount")
        .args(["--merge", "-g", "k"])
        .stdin("1\n")
        .fails(2)
        .stderr_has(&["qcount: --merge takes the -g tables as input: drop -g"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("3\nx,1\n")
        .fails(2)
        .stderr_has(&["stdin:2: ", "a group row among plain counts"]);
    wd.cmd("qcount")
        .arg("--merge")
        .stdin("k,count\nx,1\nfoo\n")
        .fails(2)
        .stderr_has(&["stdin:3: ", "not a count nor a group row"]);
}
