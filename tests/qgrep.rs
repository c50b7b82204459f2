use std::fmt::Write as _;

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
    // A delimiter inside a quoted value is part of the value, matched whole.
    wd.cmd("qgrep")
        .arg("^a,b$")
        .arg(fixture("csv/embedded.csv"))
        .ok()
        .stdout_is("id,name,email\n2,\"a,b\",\"c,d\"\n");
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
    // A file may end without a line end (a pipe may not: see: #23 (2)).
    let f = wd.create("nolf.csv", "a\nx");
    wd.cmd("qgrep").arg("x").arg(&f).ok().stdout_is("a\nx\n");
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

const CITIES: &str =
    "id,name,city,zip\n1,Ann,Paris,75001\n2,Bob,Lyon,\n3,Cy,\"Paris, TX\",75460\n4,Di,,\"\"\n";

#[test]
fn several_patterns_with_e_and_f() {
    let wd = Workdir::new("qgrep_many");
    wd.cmd("qgrep")
        .args(["-s", "city", "-e", "^Lyon$", "-e", "TX"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n2,Bob,Lyon,\n3,Cy,\"Paris, TX\",75460\n");
    let pats = wd.create("pats.txt", "Ann\nDi\n");
    wd.cmd("qgrep")
        .arg("-f")
        .arg(&pats)
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n4,Di,,\"\"\n");
    // With -e or -f, the first argument is a file.
    let f = wd.create("c.csv", CITIES);
    wd.cmd("qgrep")
        .args(["-e", "Bob"])
        .arg(&f)
        .ok()
        .stdout_is("id,name,city,zip\n2,Bob,Lyon,\n");
    // An empty pattern file has no pattern: nothing matches.
    let none = wd.create("none.txt", "");
    wd.cmd("qgrep")
        .arg("-f")
        .arg(&none)
        .stdin(CITIES)
        .fails(1)
        .stdout_is("id,name,city,zip\n");
}

#[test]
fn whole_field_match() {
    let wd = Workdir::new("qgrep_whole");
    wd.cmd("qgrep")
        .args(["-x", "Paris"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n");
    wd.cmd("qgrep")
        .args(["-x", "-F", "Paris, TX"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n3,Cy,\"Paris, TX\",75460\n");
    wd.cmd("qgrep")
        .args(["-x", "-e", "Ann", "-e", "Bo"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n");
}

#[test]
fn column_ranges() {
    let wd = Workdir::new("qgrep_ranges");
    // 75 is in zip (4) only; "a" in name (2) and city (3).
    wd.cmd("qgrep")
        .args(["-s", "name-city", "75"])
        .stdin(CITIES)
        .fails(1);
    wd.cmd("qgrep")
        .args(["-s", "3-", "^75"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n3,Cy,\"Paris, TX\",75460\n");
    wd.cmd("qgrep")
        .args(["-s", "1-2", "^[12]$"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n2,Bob,Lyon,\n");
    wd.cmd("qgrep")
        .args(["-s", "zip-id", "x"])
        .stdin(CITIES)
        .fails(2)
        .stderr_has(&["runs backwards"]);
}

#[test]
fn null_only_and_not_null() {
    let wd = Workdir::new("qgrep_null");
    // zip: NULL in record 2, an empty string ("") in record 4.
    wd.cmd("qgrep")
        .args(["--null-only", "-s", "zip"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n2,Bob,Lyon,\n");
    wd.cmd("qgrep")
        .args(["--not-null", "-s", "zip"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n1,Ann,Paris,75001\n3,Cy,\"Paris, TX\",75460\n4,Di,,\"\"\n");
    // Any field NULL, without -s.
    wd.cmd("qgrep")
        .arg("--null-only")
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n2,Bob,Lyon,\n4,Di,,\"\"\n");
    // Another NULL marker: \N unquoted is NULL, "\N" quoted is a string.
    wd.cmd("qgrep")
        .args(["--null-only", "--null", "\\N"])
        .stdin("a,b\n1,\\N\n2,\"\\N\"\n3,\n")
        .ok()
        .stdout_is("a,b\n1,\\N\n");
    wd.cmd("qgrep")
        .args(["--null-only", "x"])
        .stdin(CITIES)
        .fails(2)
        .stderr_has(&["opening x"]);
}

#[test]
fn header_out_never_and_exit_zero() {
    let wd = Workdir::new("qgrep_fanout");
    wd.cmd("qgrep")
        .args(["--header-out", "never", "Lyon"])
        .stdin(CITIES)
        .ok()
        .stdout_is("2,Bob,Lyon,\n");
    wd.cmd("qgrep")
        .args(["--exit-zero", "Rome"])
        .stdin(CITIES)
        .ok()
        .stdout_is("id,name,city,zip\n");
    // A fan-out with GNU parallel --pipe: the header printed once, the
    // records in input order, whatever the number of parts.
    let mut big = String::from("id,name,email\n");
    for i in 0..5000 {
        let mail = if i % 3 == 0 { "gmail.com" } else { "yahoo.com" };
        write!(big, "{i},\"N{i},\nx\",u{i}@{mail}\n").unwrap();
    }
    let f = wd.create("big.csv", &big);
    let want = wd.cmd("qgrep").arg("@gmail").arg(&f).ok().stdout();
    let got = wd
        .sh(&format!(
            "(head -n 1 {f}; parallel --pipe --block 20k --header 1 -k qgrep --header-out never --exit-zero @gmail < {f})",
            f = f.display()
        ))
        .ok()
        .stdout();
    assert_eq!(got, want);
}

#[test]
fn strict_rejects_ragged_records() {
    let wd = Workdir::new("qgrep_strict");
    let data = "a,b\n1,2\n3\n4,5\n";
    // Without --strict the ragged record is kept as it is, and the others searched.
    wd.cmd("qgrep")
        .arg("4")
        .stdin(data)
        .ok()
        .stdout_is("a,b\n4,5\n");
    for j in ["1", "2"] {
        wd.cmd("qgrep")
            .args(["--strict", "-j", j, "4"])
            .stdin(data)
            .fails(2)
            .stderr_has(&[
                "qgrep: stdin:3: ",
                "1 field where the first has 2 (--strict)",
            ]);
    }
    wd.cmd("qgrep")
        .args(["--strict", "x"])
        .stdin("a,b\n\"x\"y,1\n")
        .fails(2)
        .stderr_has(&["stdin:2: ", "after a closing quote"]);
}

// The literal prefilter only narrows the records to test; the answer is the field test's.
#[test]
fn literal_prefilter_never_changes_the_answer() {
    let wd = Workdir::new("qgrep_prefilter");
    let data = "a,b\n\"x,y\",1\nx,y\n\"q\"\"x\",2\n\"Straße\",3\nSTRASSE,4\n";
    // The literal "x,y" is in record 2's raw bytes too, across two fields.
    wd.cmd("qgrep")
        .args(["-F", "x,y"])
        .stdin(data)
        .ok()
        .stdout_is("a,b\n\"x,y\",1\n");
    // Anchored: the value starts with x, the raw bytes with a quote.
    wd.cmd("qgrep")
        .arg("^x")
        .stdin(data)
        .ok()
        .stdout_is("a,b\n\"x,y\",1\nx,y\n");
    // A quote in the pattern: the value holds q"x, the raw bytes q""x.
    wd.cmd("qgrep")
        .args(["-F", "q\"x"])
        .stdin(data)
        .ok()
        .stdout_is("a,b\n\"q\"\"x\",2\n");
    // Case folding beyond ASCII.
    wd.cmd("qgrep")
        .args(["-i", "straße"])
        .stdin(data)
        .ok()
        .stdout_is("a,b\n\"Straße\",3\n");
    wd.cmd("qgrep")
        .args(["-v", "-s", "b", "^[1-3]$"])
        .stdin(data)
        .ok()
        .stdout_is("a,b\nx,y\nSTRASSE,4\n");
}

#[test]
fn odd_inputs_have_defined_behaviour() {
    let wd = Workdir::new("qgrep_odd");
    wd.cmd("qgrep").arg("x").stdin("").fails(1).stdout_is("");
    wd.cmd("qgrep")
        .args(["-s", "email", "x"])
        .stdin("\n\n")
        .fails(1)
        .stdout_is("");
    // An empty input still gives a -g table, headed as -g names its columns: a finished
    // run, which qcount --merge can tell from one that died before writing.
    wd.cmd("qcount")
        .args(["-g", "email"])
        .stdin("")
        .ok()
        .stdout_is("email,count\n");
    wd.cmd("qcount")
        .args(["-g", "email"])
        .stdin("email\n")
        .ok()
        .stdout_is("email,count\n");
    wd.cmd("qgrep")
        .arg("x")
        .stdin("a,b\n")
        .fails(1)
        .stdout_is("a,b\n");
    // Invalid UTF-8 is searched as bytes.
    wd.cmd("qgrep")
        .args(["-s", "2", "(?-u:\\xff)"])
        .stdin(&b"a,b\n1,\xff\xfe\n2,ok\n"[..])
        .ok()
        .stdout_is_bytes(b"a,b\n1,\xff\xfe\n");
    // A 20 MB field, and a file that is one 20 MB line without a line end.
    let huge = "y".repeat(20 << 20);
    let f = wd.create("huge.csv", format!("a,b\n1,\"{huge}\nz\"\n2,x\n"));
    for j in ["1", "2"] {
        wd.cmd("qgrep")
            .args(["-j", j, "-s", "b", "^x$"])
            .arg(&f)
            .ok()
            .stdout_is("a,b\n2,x\n");
        wd.cmd("qcount")
            .args(["-j", j])
            .arg(&f)
            .ok()
            .stdout_is("2\n");
    }
    let line = wd.create("line.csv", &huge);
    wd.cmd("qcount").arg("-n").arg(&line).ok().stdout_is("1\n");
}

#[test]
fn bad_pattern_lists_are_one_line_errors() {
    let wd = Workdir::new("qgrep_pattern_errors");
    wd.cmd("qgrep")
        .args(["-e", "(", "-e", "x"])
        .stdin(CITIES)
        .fails(2)
        .stderr_has(&["qgrep: invalid pattern \"(\": unclosed group (at character 1)"]);
    wd.cmd("qgrep")
        .args(["-f", "missing.txt"])
        .stdin(CITIES)
        .fails(2)
        .stderr_has(&["qgrep: reading patterns from missing.txt"]);
}
