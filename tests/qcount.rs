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
    wd.cmd("qcount")
        .arg("--no-header")
        .stdin("a,b\nc,d")
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
