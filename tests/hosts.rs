//! The multi-host recipes of docs/parallel.md (issue #30), run through GNU parallel's `-S`
//! with a stand-in for ssh that runs the command on this host the way ssh runs it on
//! another: the words joined with spaces and read again by a shell. So the remote shell's
//! reading of patterns with spaces, quotes and `$` is exercised; the joined or merged
//! output equals the one-host answer.

use crate::util::db::TestDb;
use crate::util::Workdir;

/// ssh's options and the host skipped, the rest joined and run by a shell, as sshd does;
/// and `SHELL` set as sshd sets it (the login shell): GNU parallel's remote worker runs the
/// job with `$SHELL`, and without it runs nothing and still exits 0 (as CI, whose
/// environment has no `SHELL`, showed).
const FAKE_SSH: &str = r#"#!/bin/bash
export SHELL=/bin/bash
while [[ ${1:-} == -* ]]; do
    case $1 in
        -[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
        *) shift ;;
    esac
done
shift
[[ ${1:-} == -- ]] && shift
exec bash -c "$*"
"#;

fn with_fake_ssh(test: &str) -> Workdir {
    let wd = Workdir::new(test);
    let ssh = wd.create("fakessh", FAKE_SSH);
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    wd
}

// See: #30: `parallel -S h1,h2 -k qexport --shard {}/4` joins into the one-host export;
// qgrep's shards with a pattern holding a space, both quotes and `$` (`parallel -q`, as
// docs/parallel.md says) join into qgrep's answer; qcount's shards merge into its count.
#[test]
fn the_multi_host_recipes_give_the_one_host_answers() {
    let wd = with_fake_ssh("hosts");
    let db = TestDb::new("hosts");
    db.exec(
        "CREATE TABLE t (id INT PRIMARY KEY, city VARCHAR(20), note TEXT);
         INSERT INTO t SELECT seq, CONCAT('City', seq % 7),
           IF(seq % 5 = 0, 'it''s \"x\" $5 here', IF(seq % 11 = 0, 'two\nlines, \"q\"', 'plain'))
         FROM seq_1_to_3000",
    );
    let whole = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    let hosts = "parallel --ssh ./fakessh -S h1,h2";
    wd.sh(&format!(
        "{hosts} -k qexport --url '{}' --shard {{}}/4 t ::: 1 2 3 4",
        db.url
    ))
    .ok()
    .stdout_is(&whole);
    wd.create("t.csv", &whole);
    let pattern = r#"'it'"'"'s "x" $5'"#;
    let one = wd.sh(&format!("qgrep -F {pattern} t.csv")).ok().stdout();
    assert_eq!(one.lines().count(), 601);
    wd.sh(&format!(
        "{hosts} -q -k qgrep -F --exit-zero --shard {{}}/4 {pattern} t.csv ::: 1 2 3 4"
    ))
    .ok()
    .stdout_is(&one);
    for count in ["qcount", "qcount -g city"] {
        let one = wd.sh(&format!("{count} t.csv")).ok().stdout();
        wd.sh(&format!(
            "{hosts} {count} --shard {{}}/4 t.csv ::: 1 2 3 4 | qcount --merge"
        ))
        .ok()
        .stdout_is(&one);
    }
}
