//! Parallel export: `-j N` is byte-identical to `-j 1`, and `--shard K/N` pieces
//! concatenate to the whole table, for integer, composite and string keys.

use crate::util::db::TestDb;
use crate::util::Workdir;

/// Tables with awkward keys: sparse integers, a composite key, a case-insensitive string
/// key with mixed case and accents (collation order is not byte order), and no key at all.
fn tables(test: &str) -> TestDb {
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE ints (id BIGINT PRIMARY KEY, v VARCHAR(20));
         INSERT INTO ints SELECT seq * seq, CONCAT('v', seq) FROM seq_1_to_3000;
         INSERT INTO ints VALUES (-5, 'neg'), (9000000000000, 'far');
         CREATE TABLE comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
         INSERT INTO comp SELECT seq % 7, CONCAT('k', seq), seq FROM seq_1_to_2000;
         CREATE TABLE strs (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT)
           CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
         INSERT INTO strs SELECT CONCAT(ELT(1 + seq % 6, 'a', 'B', 'é', 'Z', 'ä', '_'), seq), seq FROM seq_1_to_2500;
         CREATE TABLE nokey (v INT);
         INSERT INTO nokey SELECT seq FROM seq_1_to_100;",
    );
    db.exec("ANALYZE TABLE ints, comp, strs;");
    db
}

fn export(wd: &Workdir, db: &TestDb, args: &[&str]) -> String {
    wd.cmd("qexport")
        .args(["--url", &db.url])
        .args(args)
        .ok()
        .stdout()
}

#[test]
fn jobs_output_is_byte_identical() {
    let wd = Workdir::new("parallel_jobs");
    let db = tables("parallel_jobs");
    for t in ["ints", "comp", "strs"] {
        let one = export(&wd, &db, &["-j", "1", t]);
        assert!(one.lines().count() > 2000, "{t}");
        for j in ["2", "3", "8"] {
            assert_eq!(export(&wd, &db, &["-j", j, t]), one, "table {t}, -j {j}");
        }
        let filtered = export(
            &wd,
            &db,
            &["-j", "1", "--where", "v LIKE '%7%' OR v < 50", t],
        );
        assert_eq!(
            export(
                &wd,
                &db,
                &["-j", "3", "--where", "v LIKE '%7%' OR v < 50", t]
            ),
            filtered,
            "table {t} with --where"
        );
    }
}

#[test]
fn table_without_key_falls_back_and_says_so() {
    let wd = Workdir::new("parallel_nokey");
    let db = tables("parallel_nokey");
    let r = wd
        .cmd("qexport")
        .args(["--url", &db.url, "-j", "4", "nokey"])
        .ok()
        .stderr_has(&[
            "nokey has no primary or unique NOT NULL key: exporting over one connection",
        ]);
    assert_eq!(r.stdout().lines().count(), 101);
    wd.cmd("qexport")
        .args(["--url", &db.url, "--shard", "1/2", "nokey"])
        .fails(2)
        .stderr_has(&["--shard needs a key to split on"]);
}

#[test]
fn shards_concatenate_to_the_whole_table() {
    let wd = Workdir::new("parallel_shards");
    let db = tables("parallel_shards");
    for t in ["ints", "comp", "strs"] {
        let whole = export(&wd, &db, &[t]);
        for n in [1, 2, 3, 7] {
            let mut joined = String::new();
            for k in 1..=n {
                joined.push_str(&export(&wd, &db, &["--shard", &format!("{k}/{n}"), t]));
            }
            assert_eq!(joined, whole, "table {t}, {n} shards");
        }
        // Shards can be read in parallel themselves.
        let mut joined = String::new();
        for k in 1..=3 {
            joined.push_str(&export(
                &wd,
                &db,
                &["-j", "2", "--shard", &format!("{k}/3"), t],
            ));
        }
        assert_eq!(joined, whole, "table {t}, shards with -j 2");
    }
}

#[test]
fn more_shards_than_rows() {
    let wd = Workdir::new("parallel_tiny");
    let db = TestDb::new("parallel_tiny");
    db.exec(
        "CREATE TABLE t (k VARCHAR(5) PRIMARY KEY); INSERT INTO t VALUES ('a'), ('b');
         CREATE TABLE n (id INT PRIMARY KEY); INSERT INTO n VALUES (1), (2);",
    );
    for t in ["t", "n"] {
        let whole = export(&wd, &db, &[t]);
        let joined: String = (1..=5)
            .map(|k| export(&wd, &db, &["--shard", &format!("{k}/5"), t]))
            .collect();
        assert_eq!(joined, whole, "{t}");
    }
}

#[test]
fn consistent_snapshot_with_jobs() {
    let wd = Workdir::new("parallel_consistent");
    let db = tables("parallel_consistent");
    let one = export(&wd, &db, &["ints"]);
    assert_eq!(export(&wd, &db, &["-j", "3", "--consistent", "ints"]), one);
}

#[test]
fn shard_arguments_are_checked() {
    let wd = Workdir::new("parallel_args");
    for bad in ["0/2", "3/2", "x", "1/0"] {
        wd.cmd("qexport")
            .args(["--url", "mysql://u@127.0.0.1:1/d", "--shard", bad, "t"])
            .fails(2)
            .stderr_has(&["K/N"]);
    }
}

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
