use crate::util::{fixture, Workdir};

const USERS: &str =
    "id,name,email\n1,John,john@gmail.com\n2,Jane,jane@yahoo.com\n3,\"Doe,\nJohn\",jd@gmail.com\n";

#[test]
fn keeps_header_and_whole_matching_records() {
    let wd = Workdir::new("qgrep_basic");
    wd.cmd("qgrep")
        .arg("@gmail")
        .stdin(USERS)
        .ok()
        .stdout_is("id,name,email\n1,John,john@gmail.com\n3,\"Doe,\nJohn\",jd@gmail.com\n");
}

#[test]
fn nothing_matched_exits_1_with_header() {
    let wd = Workdir::new("qgrep_nomatch");
    wd.cmd("qgrep")
        .arg("@hotmail")
        .stdin(USERS)
        .fails(1)
        .stdout_is("id,name,email\n")
        .stderr_empty();
}

#[test]
fn header_is_never_matched() {
    let wd = Workdir::new("qgrep_header");
    wd.cmd("qgrep").arg("email").stdin(USERS).fails(1);
}

#[test]
fn never_matches_across_fields() {
    let wd = Workdir::new("qgrep_across");
    // "John,john" spans two fields of record 1; "Doe,\nJohn" is inside one field.
    wd.cmd("qgrep").arg("John,john").stdin(USERS).fails(1);
    wd.cmd("qgrep")
        .args(["-F", "Doe,\nJohn"])
        .stdin(USERS)
        .ok()
        .stdout_is("id,name,email\n3,\"Doe,\nJohn\",jd@gmail.com\n");
}

#[test]
fn matches_unquoted_values() {
    let wd = Workdir::new("qgrep_unquoted");
    // The raw bytes hold `""hi""`; the value holds `"hi"`.
    wd.cmd("qgrep")
        .args(["-F", "say \"hi\""])
        .arg(fixture("csv/embedded.csv"))
        .ok()
        .stdout_is("id,name,email\n1,\"Doe, John\",\"say \"\"hi\"\" @gmail\"\n");
    wd.cmd("qgrep")
        .arg("^a,b$")
        .arg(fixture("csv/embedded.csv"))
        .ok();
}

#[test]
fn fixed_strings_ignore_case_invert() {
    let wd = Workdir::new("qgrep_flags");
    wd.cmd("qgrep")
        .args(["-F", "john@gmail.com"])
        .stdin("id,e\n1,johnXgmail.com\n2,john@gmail.com\n")
        .ok()
        .stdout_is("id,e\n2,john@gmail.com\n");
    wd.cmd("qgrep")
        .args(["-i", "JANE"])
        .stdin(USERS)
        .ok()
        .stdout_is("id,name,email\n2,Jane,jane@yahoo.com\n");
    wd.cmd("qgrep")
        .args(["-v", "@gmail"])
        .stdin(USERS)
        .ok()
        .stdout_is("id,name,email\n2,Jane,jane@yahoo.com\n");
}

#[test]
fn select_columns_by_name_and_number() {
    let wd = Workdir::new("qgrep_select");
    let data = "id,name,email\n1,gmail fan,x@yahoo.com\n2,Bo,bo@gmail.com\n";
    wd.cmd("qgrep")
        .args(["-s", "email", "gmail"])
        .stdin(data)
        .ok()
        .stdout_is("id,name,email\n2,Bo,bo@gmail.com\n");
    wd.cmd("qgrep")
        .args(["-s", "2", "gmail"])
        .stdin(data)
        .ok()
        .stdout_is("id,name,email\n1,gmail fan,x@yahoo.com\n");
    wd.cmd("qgrep")
        .args(["-n", "-s", "1", "^id$"])
        .stdin(data)
        .ok()
        .stdout_is("id,name,email\n");
    wd.cmd("qgrep")
        .args(["-s", "mail", "x"])
        .stdin(data)
        .fails(2)
        .stderr_has(&["no column \"mail\"", "id, name, email"]);
}

#[test]
fn crlf_records_keep_their_bytes() {
    let wd = Workdir::new("qgrep_crlf");
    wd.cmd("qgrep")
        .arg("Doe")
        .arg(fixture("csv/crlf.csv"))
        .ok()
        .stdout_is("id,name,email\r\n2,\"Jane\r\nDoe\",jane@yahoo.com\r\n");
}

#[test]
fn bom_is_not_part_of_the_first_column() {
    let wd = Workdir::new("qgrep_bom");
    wd.cmd("qgrep")
        .args(["-s", "id", "^2$"])
        .arg(fixture("csv/bom.csv"))
        .ok()
        .stdout_is("id,name,email\n2,Jane,jane@yahoo.com\n");
}

#[test]
fn last_record_without_newline_gets_one() {
    let wd = Workdir::new("qgrep_lastline");
    wd.cmd("qgrep")
        .arg("x")
        .stdin("a\nx")
        .ok()
        .stdout_is("a\nx\n");
}

#[test]
fn bad_regex_and_bad_input_exit_2() {
    let wd = Workdir::new("qgrep_errors");
    wd.cmd("qgrep")
        .arg("(")
        .stdin(USERS)
        .fails(2)
        .stderr_has(&["qgrep: invalid pattern \"(\""]);
    wd.cmd("qgrep")
        .arg("x")
        .arg(fixture("csv/unterminated.csv"))
        .fails(2)
        .stderr_has(&["unterminated quoted field"]);
    wd.cmd("qgrep").fails(2).stderr_has(&["PATTERN"]);
}
