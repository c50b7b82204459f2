//! Faults on the output side (issue #30): a write that fails for any reason but a closed
//! pipe is an error, said in one line, exit 2; a closed pipe ends quietly (tested in
//! pipes.rs).

use crate::util::setup;

// See: #30: stdout on a full disk (`/dev/full` answers every write with ENOSPC): each tool
// says so in one line and exits 2, never 0 with a short output.
#[test]
fn a_full_disk_on_stdout_is_an_error_for_every_tool() {
    let (wd, db) = setup::small("rel_full");
    let csv = wd
        .cmd("qexport")
        .args(["--url", &db.url, "t"])
        .ok()
        .stdout();
    wd.create("in.csv", &csv);
    for (tool, args) in [
        ("qexport", format!("--url '{}' t", db.url)),
        ("qgrep", "-v zzzz in.csv".to_owned()),
        ("qcount", "-g 1 in.csv".to_owned()),
    ] {
        let run = wd.sh(&format!("{tool} {args} > /dev/full")).run();
        assert_eq!(run.out.status.code(), Some(2), "{}", run.report());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{}", run.report());
        assert!(err.contains("No space left on device"), "{}", run.report());
    }
}
