//! Exit codes, where a tool's failure is printed ([`main_with`]: the one error that ends a
//! run; the bad records of a load that goes on to count them are said by qimport's job
//! as it meets them), and broken-pipe handling: the tools' edge. The error type for bad
//! values that names file, line, column and value ([`qtools_csv::error::DataError`]) and
//! the counts messages spell ([`plural`]) are the CSV core's, whose messages use them too.

use std::io;
use std::process::ExitCode;

/// `1 row`, `2 rows`, `1,000,000 rows`: the CSV core's, whose messages count too.
pub use qtools_csv::error::{grouped, plural};

/// Everything went fine.
pub const EXIT_OK: u8 = 0;
/// qgrep: nothing matched (a result, not an error).
pub const EXIT_NO_MATCH: u8 = 1;
/// Any error.
pub const EXIT_ERROR: u8 = 2;

/// Run a tool's body: print `tool: error` once on stderr and exit 2 on failure; a tool
/// whose data goes to stdout ends it with the failure mark (see
/// [`crate::out::mark_failure`]).
///
/// A closed stdout (`qexport t | head`) is not an error: the process ends at once with
/// status 0 and prints nothing. That is decided where stdout is written
/// ([`exit_on_broken_pipe`], used by [`crate::out::Output`]), so nothing (such as draining
/// a MySQL result set) runs after it. Here, no error is taken for a closed stdout: a
/// broken pipe in an error's chain may come from the database socket (a killed
/// connection), and that must exit 2, not 0. See: the killed-connection tests.
///
/// A run interrupted by a signal ends by that signal once its undos are done (see
/// [`crate::interrupt`]), whatever it returned: an error it met because its own
/// connections were ended is not reported.
///
/// A panic (a bug, ours or a dependency's: the driver panics on some malformed server
/// answers) is one line too, `tool: internal error: ...`, with the failure mark and exit 2:
/// never a stack trace, and never an output that a pipe reads as complete.
pub fn main_with(tool: &str, run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    // The first panic is said; the others it brings (the other `-j` workers, the scope
    // that joins them) add nothing.
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let name = tool.to_owned();
    std::panic::set_hook(Box::new(move |info| {
        if SAID.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::progress::clear();
        eprintln!(
            "{name}: internal error: {}{at} (a bug: please report it)",
            one_line(&what)
        );
    }));
    // Past a file-size limit (`ulimit -f`), a write fails with EFBIG and is said as any
    // write error, its temporary file removed: by default SIGXFSZ would kill the process
    // where it stands, leaving the file behind.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let Ok(result) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) else {
        // Said by the hook; the data stream still needs its mark.
        crate::out::mark_failure(tool, "internal error");
        return ExitCode::from(EXIT_ERROR);
    };
    if crate::interrupt::interrupted() {
        crate::interrupt::wait_for_the_end();
    }
    match result {
        Ok(code) => code,
        Err(err) => {
            crate::progress::clear();
            let msg = one_line(&format!("{err:#}"));
            crate::out::mark_failure(tool, &msg);
            eprintln!("{tool}: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// An error as one line of a log: a line break inside it (the server quotes the SQL
/// text near its error as it was written) shows as `\n` (a lone carriage return as `\r`).
fn one_line(msg: &str) -> String {
    msg.trim_end()
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// The running tool's name (`qexport`), for the messages of code that every tool shares.
pub fn tool_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Pass `r` through, but end the process quietly with status 0 if it is a broken pipe.
/// Only for writes to stdout.
pub fn exit_on_broken_pipe<T>(r: io::Result<T>) -> io::Result<T> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            crate::progress::clear();
            std::process::exit(i32::from(EXIT_OK))
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #23 (review): a server error quoting SQL text over several lines is one line.
    #[test]
    fn an_error_is_one_line() {
        assert_eq!(
            one_line("near 'FROM\r\n  t\nWHERE\r' at line 2\n"),
            "near 'FROM\\n  t\\nWHERE\\r' at line 2"
        );
    }
}
