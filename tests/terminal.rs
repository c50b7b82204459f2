//! A terminal on stdin (a forgotten `< file`): the tool says what it waits for, and one
//! Ctrl-D ends the input.

use std::process::{Command, Stdio};

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
