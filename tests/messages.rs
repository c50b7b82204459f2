//! Small promises of the messages and the docs. See: #23 (5).

use crate::util::Workdir;

// See: #23 (5): a mistake in the flags is one `tool: message` line with clap's tip, and
// exit 2, for every tool.
#[test]
fn flag_mistakes_are_one_line() {
    let wd = Workdir::new("messages_flags");
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        let r = wd.cmd(tool).arg("--no-such-flag").fails(2);
        let err = r.stderr();
        assert_eq!(err.lines().count(), 1, "{}", r.report());
        assert!(
            err.starts_with(&format!(
                "{tool}: unexpected argument '--no-such-flag' found"
            )) && err.contains(&format!("try '{tool} --help'")),
            "{}",
            r.report()
        );
    }
    wd.cmd("qexport")
        .args(["-j", "0", "t"])
        .fails(2)
        .stderr_has(&["qexport: invalid value '0' for '--jobs <N>'"]);
    wd.cmd("qcount").arg("--version").ok();
    // See: #23 (review): numbers too big for what they count are one line of error, not a
    // panic or all the memory.
    wd.create("s.csv", "a,b\n1,2\n");
    for (tool, args, says) in [
        (
            "qgrep",
            &["-s", "1-18446744073709551615", "1", "s.csv"][..],
            "column 18446744073709551615 is past the last one",
        ),
        (
            "qcount",
            &["-g", "1-4000000000", "s.csv"],
            "column 4000000000 is past the last one",
        ),
        (
            "qcount",
            &["--shard", "1/18446744073709551615", "s.csv"],
            "at most 1000000 shards",
        ),
        (
            "qgrep",
            &["--shard", "1/99999999999999999999", "1", "s.csv"],
            "expected K/N",
        ),
        (
            "qexport",
            &["--shard", "1/18446744073709551615", "t"],
            "at most 1000000 shards",
        ),
    ] {
        let r = wd.cmd(tool).args(args).fails(2).stderr_has(&[says]);
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
    }
    wd.cmd("qcount")
        .args(["--shard", "1000000/1000000", "s.csv"])
        .ok()
        .stdout_is("0\n");
    // A file name that is not UTF-8 (legal on Linux) is an error like any other, not a
    // panic (#23, hostile review, round 2).
    let odd = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"f\xff.csv");
    let url = "mysql://root@127.0.0.1:1/x";
    for (tool, args) in [
        ("qexport", &["--url", url, "t", "-o"][..]),
        ("qimport", &["--url", url, "t"]),
        ("qgrep", &["x"]),
        ("qcount", &[]),
    ] {
        let r = wd.cmd(tool).args(args).arg(odd).run();
        assert_eq!(r.out.status.code(), Some(2), "{}", r.report());
        assert_eq!(r.stderr().lines().count(), 1, "{}", r.report());
        assert!(!r.stderr().contains("panicked"), "{}", r.report());
    }
}

// See: #23 (5): a damaged gzip input is named, wherever in the file it breaks.
#[test]
fn a_broken_compressed_input_is_named() {
    use std::io::Write as _;
    let wd = Workdir::new("messages_gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"a,b\n").unwrap();
    for i in 0..300_000 {
        writeln!(gz, "{i},{}", i * 7).unwrap();
    }
    let whole = gz.finish().unwrap();
    wd.create("cut.csv.gz", &whole[..whole.len() / 2]);
    for tool in [
        &["qcount"][..],
        &["qcount", "-j", "1"],
        &["qgrep", "-j", "2", "7"],
    ] {
        wd.cmd(tool[0])
            .args(&tool[1..])
            .arg("cut.csv.gz")
            .fails(2)
            .stderr_has(&["reading cut.csv.gz: "]);
    }
}

// See: #23 (5), #25: the code fences of README.md, BENCHMARKS.md and docs/*.md are closed
// (an open one turns the rest of the page into code).
#[test]
fn doc_fences_are_closed() {
    let root = crate::util::root();
    let mut pages = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    assert!(pages.len() > 8, "{pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let fences = text
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert_eq!(
            fences % 2,
            0,
            "an unclosed code fence in {}",
            page.display()
        );
    }
}
