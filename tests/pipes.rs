//! Pipelines: the seed pipeline, and broken pipes (`| head`) ending quietly.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::db::TestDb;
use crate::util::Workdir;

#[test]
fn seed_pipeline_counts_gmail_users() {
    let wd = Workdir::new("pipes_seed");
    let db = TestDb::new("pipes_seed");
    db.load("users.sql");
    // What SQL says (a field holding "@gmail" anywhere: email or name).
    let gmail: Vec<u64> = db.query(
        "SELECT COUNT(*) FROM users WHERE CONCAT_WS(char(0), id, name, email) LIKE '%@gmail%'",
    );
    wd.sh(&format!(
        "qexport --url '{}' users | qgrep @gmail | qcount",
        db.url
    ))
    .ok()
    .stdout_is(&format!("{}\n", gmail[0]))
    .stderr_empty();
    let no_at: Vec<u64> =
        db.query("SELECT COUNT(*) FROM users WHERE COALESCE(email, '') NOT LIKE '%@%'");
    wd.sh(&format!(
        "qexport --url '{}' users | qgrep -s email -v @ | qcount",
        db.url
    ))
    .ok()
    .stdout_is(&format!("{}\n", no_at[0]));
}

fn big_table(test: &str) -> TestDb {
    let db = TestDb::new(test);
    db.exec(
        "CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(100));
         INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_300000;",
    );
    db
}

/// Read one line of the command's stdout, close the pipe, and expect a quiet exit 0.
fn read_one_line_then_close(mut cmd: Command) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(!line.is_empty());
    drop(out);
    let res = child.wait_with_output().unwrap();
    assert_eq!(
        res.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(
        res.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn qexport_into_closed_pipe_exits_0_quietly() {
    let db = big_table("pipes_qexport");
    let mut c = Command::new(env!("CARGO_BIN_EXE_qexport"));
    c.args(["--url", &db.url, "big"]);
    read_one_line_then_close(c);
}

#[test]
fn qgrep_into_closed_pipe_exits_0_quietly() {
    let wd = Workdir::new("pipes_qgrep");
    let mut data = String::from("id,pad\n");
    for i in 0..200_000 {
        writeln!(data, "{i},xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").unwrap();
    }
    let f = wd.create("big.csv", data);
    let mut c = Command::new(env!("CARGO_BIN_EXE_qgrep"));
    c.arg("x").arg(f);
    read_one_line_then_close(c);
}

#[test]
fn shell_head_ends_quietly() {
    let wd = Workdir::new("pipes_head");
    let db = big_table("pipes_head");
    wd.sh(&format!(
        "qexport --url '{}' big | qgrep 1 | head -n 2",
        db.url
    ))
    .ok()
    .stdout_is("id,pad\n1,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
    .stderr_empty();
}

/// `tool` (a command line) run on a terminal by `script`: once `ready` shows in what the
/// terminal shows (when given), `input` is typed; the terminal stays open (the test holds
/// it) until the tool has ended. Returns its status and what the terminal showed. Each
/// step waits on an event (the text shown, the tool's end), never on a time. See: #23 (0).
fn on_a_terminal(tool: &str, ready: Option<&str>, input: &[u8]) -> (bool, String) {
    use std::io::{Read as _, Write as _};
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_qcount"))
        .parent()
        .unwrap();
    let mut child = Command::new("script")
        .args(["-qec", &format!("{}/{tool}", bin.display()), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running script (util-linux)");
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut out = child.stdout.take().unwrap();
    let sink = std::sync::Arc::clone(&shown);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let text = || String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    if let Some(ready) = ready {
        crate::util::wait_for(&format!("{tool} to show {ready:?}"), &|| {
            text().contains(ready)
        });
    }
    let mut typed = child.stdin.take().unwrap();
    typed.write_all(input).unwrap();
    typed.flush().unwrap();
    crate::util::wait_for(&format!("{tool} to end"), &|| {
        std::fs::read_to_string(format!("/proc/{}/stat", child.id())).map_or(true, |st| {
            st.rsplit_once(") ")
                .is_some_and(|(_, r)| r.starts_with('Z'))
        })
    });
    let status = child.wait().unwrap();
    drop(typed);
    reader.join().unwrap();
    (status.success(), text())
}

/// Stdin left on the terminal (a forgotten `< file`): the tool says what it waits for, on
/// stderr, and reads what is typed. `script` gives the command a terminal.
#[test]
fn a_terminal_on_stdin_gets_a_hint() {
    let hint = "qcount: reading CSV from the terminal; end it with Ctrl-D";
    let (ok, shown) = on_a_terminal("qcount", Some(hint), b"a\n1\n2\n\x04");
    assert!(ok, "{shown}");
    assert_eq!(shown.lines().last().map(str::trim), Some("2"), "{shown}");
}

// See: #14: at a terminal one Ctrl-D ends the input of qcount and qgrep, not two. The
// terminal stays open after it (the test holds its input), so a tool that waited for a
// second would never end. See: #23 (0): no timeout decides; a guard only ends a hang.
#[test]
fn one_ctrl_d_ends_the_input_at_a_terminal() {
    for (tool, want) in [("qcount", "2"), ("qgrep -j 2 1", "1")] {
        let (ok, shown) = on_a_terminal(tool, None, b"a\n1\n2\n\x04");
        assert!(ok, "{tool}: {shown}");
        assert_eq!(
            shown.lines().last().map(str::trim),
            Some(want),
            "{tool}: {shown}"
        );
    }
}
