//! qgrep and qcount in parallel: whatever `-j` and `--block-size`, the answer of one
//! thread reading record by record; and `--shard K/N` pieces that add up to the whole
//! file, as the recipes of docs/parallel.md use them.

use crate::util::Workdir;

/// CSV made to break naive block cutting: quoted line breaks, doubled quotes, CRLF, blank
/// lines, a BOM, and no line end after the last record.
fn tricky_csv() -> String {
    use std::fmt::Write as _;
    let mut s = String::from("\u{feff}id,name,note\r\n");
    for i in 0..3000 {
        match i % 7 {
            0 => writeln!(s, "{i},\"multi\nline @gmail\",\"say \"\"hi\"\"\"").unwrap(),
            1 => write!(s, "{i},plain,x\r\n").unwrap(),
            2 => writeln!(s, "{i},\"a,b\",\"\"\"\"").unwrap(),
            3 => writeln!(s, "\n{i},after blank,@gmail").unwrap(),
            4 => writeln!(s, "{i},,\"\n\n\"").unwrap(),
            _ => writeln!(s, "{i},\"x\"\"\n\"\"y\",z").unwrap(),
        }
    }
    s.push_str("3000,last,@gmail");
    s
}

#[test]
fn qgrep_and_qcount_are_identical_whatever_the_threads_and_blocks() {
    let wd = Workdir::new("parallel_csv");
    let f = wd.create("t.csv", tricky_csv());
    let run = |tool: &str, args: &[&str]| wd.cmd(tool).args(args).arg(&f).run();
    let one = run("qcount", &["-j", "1"]).status(0).stdout();
    assert_eq!(one, "3001\n");
    let grep_one = run("qgrep", &["-j", "1", "@gmail"]).status(0).stdout();
    let inv_one = run("qgrep", &["-j", "1", "-v", "-s", "name", "a"])
        .status(0)
        .stdout();
    for j in ["2", "3", "8"] {
        for block in ["1", "13", "100", "4096", "1000000"] {
            let a = ["-j", j, "--block-size", block];
            assert_eq!(
                run("qcount", &a).status(0).stdout(),
                one,
                "qcount -j {j} block {block}"
            );
            let mut g = a.to_vec();
            g.push("@gmail");
            assert_eq!(
                run("qgrep", &g).status(0).stdout(),
                grep_one,
                "qgrep -j {j} block {block}"
            );
            let mut v = a.to_vec();
            v.extend(["-v", "-s", "name", "a"]);
            assert_eq!(
                run("qgrep", &v).status(0).stdout(),
                inv_one,
                "qgrep -v -j {j} block {block}"
            );
        }
    }
}

#[test]
fn unterminated_quote_is_reported_alike() {
    let wd = Workdir::new("parallel_unterminated");
    let mut data = tricky_csv();
    data.push_str("\n3001,\"never closed\n3002,x,y\n");
    let f = wd.create("t.csv", data);
    let seq = wd.cmd("qcount").args(["-j", "1"]).arg(&f).fails(2).stderr();
    let par = wd
        .cmd("qcount")
        .args(["-j", "2", "--block-size", "100"])
        .arg(&f)
        .fails(2)
        .stderr();
    assert_eq!(par, seq);
    assert!(seq.contains("unterminated quoted field"), "{seq}");
    let gseq = wd
        .cmd("qgrep")
        .args(["-j", "1", "x"])
        .arg(&f)
        .fails(2)
        .stderr();
    let gpar = wd
        .cmd("qgrep")
        .args(["-j", "2", "--block-size", "100", "x"])
        .arg(&f)
        .fails(2)
        .stderr();
    assert_eq!(gpar, gseq);
}

/// Well-formed CSV with everything the fast scan must get right: quoted delimiters, `""`,
/// quoted line breaks and CRLF, across 64-byte chunks and block cuts.
fn clean_csv() -> String {
    use std::fmt::Write as _;
    let mut s = String::from("id,name,email,note\n");
    for i in 0..4000 {
        let mail = if i % 3 == 0 {
            "gmail.com"
        } else {
            "example.org"
        };
        match i % 5 {
            0 => write!(s, "{i},\"Doe, J\"\"r\"\"\",u{i}@{mail},\"two\nlines\"\r\n").unwrap(),
            1 => writeln!(s, "{i},plain,u{i}@{mail},").unwrap(),
            2 => writeln!(s, "{i},\"\",u{i}@{mail},\"{}\"", "w".repeat(i % 150)).unwrap(),
            3 => writeln!(s, "{i},\"@gmail in a name\",,\"\"\"\"").unwrap(),
            _ => writeln!(s, "{i},x,\"u{i}@{mail}\",\"a\n\n,b\"").unwrap(),
        }
    }
    s
}

/// Input that fools quote parity: bare quotes inside unquoted fields and text after
/// closing quotes (kept literally by the reader), mixed with quoted line breaks.
fn malformed_csv() -> String {
    use std::fmt::Write as _;
    let mut s = String::from("id,a,b\n");
    for i in 0..3000 {
        match i % 4 {
            0 => writeln!(s, "{i},5\" tall,\"x\ny @gmail\"").unwrap(),
            1 => writeln!(s, "{i},\"q\"uoted,@gmail").unwrap(),
            2 => writeln!(s, "{i},\"multi\nline\",plain").unwrap(),
            _ => writeln!(s, "{i},a\"\"b,\"c\"").unwrap(),
        }
    }
    s
}

/// The record reader's answer, record by record: the oracle for the block engines.
fn oracle(data: &str, keep: impl Fn(&qtools_csv::record::Record) -> bool) -> (u64, String) {
    use qtools_csv::record::{Reader, Record};
    let mut rdr = Reader::new(data.as_bytes(), b',');
    let mut rec = Record::default();
    let (mut n, mut out) = (0, Vec::new());
    let mut push = |raw: &[u8]| {
        out.extend_from_slice(raw);
        if !raw.ends_with(b"\n") && !raw.ends_with(b"\r") {
            out.push(b'\n');
        }
    };
    assert!(rdr.read(&mut rec).unwrap());
    push(rec.raw());
    while rdr.read(&mut rec).unwrap() {
        n += 1;
        if keep(&rec) {
            push(rec.raw());
        }
    }
    (n, String::from_utf8(out).unwrap())
}

// The fast paths (structural scan, literal prefilter, parity cuts repaired on malformed
// input) give the record reader's answers, whatever the threads and block size.
#[test]
fn block_engines_agree_with_the_record_reader() {
    let wd = Workdir::new("parallel_oracle");
    let gmail = |r: &qtools_csv::record::Record| {
        r.iter().any(|(v, _)| v.windows(6).any(|w| w == b"@gmail"))
    };
    for (name, data) in [
        ("clean", clean_csv()),
        ("malformed", malformed_csv()),
        ("tricky", tricky_csv()),
    ] {
        let f = wd.create(&format!("{name}.csv"), &data);
        let (n, hits) = oracle(&data, gmail);
        let (_, misses) = oracle(&data, |r| !gmail(r));
        for j in ["1", "2"] {
            for block in ["1", "61", "4096", "1048576"] {
                let a = ["-j", j, "--block-size", block];
                let run = |more: &[&str]| wd.cmd("qgrep").args(a).args(more).arg(&f).run().stdout();
                let what = format!("{name} -j {j} --block-size {block}");
                let count = wd.cmd("qcount").args(a).arg(&f).ok().stdout();
                assert_eq!(count, format!("{n}\n"), "qcount {what}");
                assert_eq!(run(&["@gmail"]), hits, "qgrep {what}");
                assert_eq!(run(&["-v", "-F", "@gmail"]), misses, "qgrep -v {what}");
                // Through a pipe, a reader thread cuts the blocks (a file, the workers). A
                // pipe must end with a line end (see: #23 (2)).
                let mut whole = data.clone();
                if !whole.ends_with('\n') && !whole.ends_with('\r') {
                    whole.push('\n');
                }
                let piped = |tool: &str, more: &[&str]| {
                    wd.cmd(tool).args(a).args(more).stdin(&whole).run().stdout()
                };
                assert_eq!(
                    piped("qcount", &[]),
                    format!("{n}\n"),
                    "piped qcount {what}"
                );
                assert_eq!(piped("qgrep", &["@gmail"]), hits, "piped qgrep {what}");
            }
        }
    }
}

// Stdin redirected from a file is read by the workers at offsets: from where the header
// ended, and from where the stream already was (`(head -n 1 >/dev/null; qgrep) < f`).
#[test]
fn stdin_from_a_file_is_read_at_offsets() {
    use std::io::{BufRead, Seek};
    let wd = Workdir::new("parallel_stdin_file");
    let data = tricky_csv();
    let f = wd.create("t.csv", &data);
    let gmail = |r: &qtools_csv::record::Record| {
        r.iter().any(|(v, _)| v.windows(6).any(|w| w == b"@gmail"))
    };
    let run = |tool: &str, args: &[&str], skip_first_line: bool| {
        let mut file = std::fs::File::open(&f).unwrap();
        if skip_first_line {
            let mut line = Vec::new();
            let n = std::io::BufReader::new(&file)
                .read_until(b'\n', &mut line)
                .unwrap();
            file.seek(std::io::SeekFrom::Start(n as u64)).unwrap();
        }
        let bin = match tool {
            "qcount" => env!("CARGO_BIN_EXE_qcount"),
            _ => env!("CARGO_BIN_EXE_qgrep"),
        };
        let out = std::process::Command::new(bin)
            .args(["-j", "2", "--block-size", "61"])
            .args(args)
            .stdin(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{tool} {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let (n, hits) = oracle(&data, gmail);
    assert_eq!(run("qcount", &[], false), format!("{n}\n"));
    assert_eq!(run("qgrep", &["@gmail"], false), hits);
    // Past the header already: the rest read without one is every record.
    assert_eq!(run("qcount", &["-n"], true), format!("{n}\n"));
    let body = hits.split_once('\n').unwrap().1;
    assert_eq!(run("qgrep", &["-n", "@gmail"], true), body);
}

/// CSV whose records hold quoted line breaks, doubled quotes and CRLF, with a header.
fn multiline_csv(records: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("id,city,note\r\n");
    for i in 0..records {
        let city = ["Paris", "Lyon", "Nice", "Caen"][i % 4];
        match i % 3 {
            0 => writeln!(s, "{i},{city},\"line one\nline \"\"two\"\"\n{i},Paris,x\"").unwrap(),
            1 => writeln!(s, "{i},{city},plain").unwrap(),
            _ => write!(s, "{i},\"{city}\",\"a,b\"\r\n").unwrap(),
        }
    }
    s
}

// See: #14 (10): the fan-out recipes give the whole file's answer on multi-line fields.
#[test]
fn shards_cut_at_record_ends_and_the_recipes_add_up() {
    let wd = Workdir::new("safety_shards");
    let f = wd.create("m.csv", multiline_csv(30_000));
    let whole = wd.cmd("qcount").arg(&f).ok().stdout();
    assert_eq!(whole, "30000\n");
    let groups = wd.cmd("qcount").args(["-g", "city"]).arg(&f).ok().stdout();
    let paris = wd
        .cmd("qgrep")
        .args(["-s", "city", "-x", "Paris"])
        .arg(&f)
        .ok()
        .stdout();
    for n in [1, 2, 3, 7] {
        let ks = (1..=n).map(|k| k.to_string()).collect::<Vec<_>>().join(" ");
        // The recipes of docs/parallel.md, as written there.
        wd.sh(&format!(
            "parallel qcount --shard {{}}/{n} m.csv ::: {ks} | qcount --merge"
        ))
        .ok()
        .stdout_is(&whole);
        wd.sh(&format!(
            "parallel qcount -g city --shard {{}}/{n} m.csv ::: {ks} | qcount --merge"
        ))
        .ok()
        .stdout_is(&groups);
        wd.sh(&format!(
            "parallel -k qgrep --exit-zero -s city -x Paris --shard {{}}/{n} m.csv ::: {ks}"
        ))
        .ok()
        .stdout_is(&paris);
        // -j inside a shard changes nothing either.
        let mut sum = 0;
        for k in 1..=n {
            let out = wd
                .cmd("qcount")
                .args([
                    "-j",
                    "2",
                    "--block-size",
                    "4096",
                    "--shard",
                    &format!("{k}/{n}"),
                ])
                .arg(&f)
                .ok()
                .stdout();
            sum += out.trim().parse::<u64>().unwrap();
        }
        assert_eq!(sum, 30_000, "{n} shards");
    }
    // What parallel --pipe would do (cut at line feeds) goes wrong on this file; shards
    // need a regular file, and refuse what cannot be merged.
    wd.cmd("qcount")
        .args(["--shard", "1/2"])
        .stdin("a\n1\n")
        .fails(2)
        .stderr_has(&["--shard needs exactly one FILE"]);
    wd.cmd("qcount")
        .args(["--shard", "1/2", "--distinct", "city"])
        .arg(&f)
        .fails(2)
        .stderr_has(&["--shard with --distinct"]);
    wd.cmd("qgrep")
        .args(["--shard", "3/2", "x"])
        .arg(&f)
        .fails(2)
        .stderr_has(&["1 <= K <= N"]);
}
