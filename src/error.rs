//! Exit codes, where a tool's failure is printed ([`main_with`]: the one error that ends a
//! run; the bad records of a load that goes on to count them are said by qimport's job
//! as it meets them), broken-pipe handling, and the error type for bad values
//! ([`DataError`]) that names file, line, column and value.

use std::fmt;
use std::io;
use std::process::ExitCode;

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
pub fn main_with(tool: &str, run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    let result = run();
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

/// A bad value in the input: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<Vec<u8>>,
    pub reason: String,
}

impl DataError {
    pub fn new(file: &str, line: u64, reason: impl Into<String>) -> Self {
        DataError {
            file: file.to_owned(),
            line,
            column: None,
            value: None,
            reason: reason.into(),
        }
    }

    #[must_use]
    pub fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_owned());
        self
    }

    #[must_use]
    pub fn value(mut self, value: Option<&[u8]>) -> Self {
        self.value = value.map(<[u8]>::to_vec);
        self
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column \"{c}\": ")?;
        }
        if let Some(v) = &self.value {
            write!(f, "value \"{}\": ", show_value(v))?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DataError {}

/// A value as it can be shown in one line of an error message: escaped (a byte that is
/// not UTF-8 as `\xFF`, so that the message says which byte is wrong), and cut at 60
/// characters.
pub fn show_value(v: &[u8]) -> String {
    use std::fmt::Write as _;
    const MAX: usize = 60;
    let mut out = String::new();
    let mut n = 0;
    for chunk in v.utf8_chunks() {
        for c in chunk.valid().chars() {
            if n == MAX {
                out.push_str("...");
                return out;
            }
            n += 1;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '"' => out.push_str("\\\""),
                c if c.is_control() => out.push_str(&c.escape_default().to_string()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            if n == MAX {
                out.push_str("...");
                return out;
            }
            n += 1;
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// `1 row`, `2 rows`, `1,000,000 rows` (grouped as the progress bar groups them).
pub fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", grouped(n), if n == 1 { "" } else { "s" })
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped() {
        assert_eq!(plural(1, "row"), "1 row");
        assert_eq!(plural(999, "row"), "999 rows");
        assert_eq!(plural(1000, "row"), "1,000 rows");
        assert_eq!(plural(1_234_567, "record"), "1,234,567 records");
        assert_eq!(grouped(0), "0");
    }

    // See: #23 (review): a server error quoting SQL text over several lines is one line.
    #[test]
    fn an_error_is_one_line() {
        assert_eq!(
            one_line("near 'FROM\r\n  t\nWHERE\r' at line 2\n"),
            "near 'FROM\\n  t\\nWHERE\\r' at line 2"
        );
    }

    #[test]
    fn data_error_names_everything() {
        let e = DataError::new("users.csv", 7, "not an integer")
            .column("id")
            .value(Some(b"x\"y\n"));
        assert_eq!(
            e.to_string(),
            "users.csv:7: column \"id\": value \"x\\\"y\\n\": not an integer"
        );
    }

    #[test]
    fn long_values_are_cut() {
        let v = "é".repeat(100);
        let shown = show_value(v.as_bytes());
        assert_eq!(shown.chars().count(), 63);
        assert!(shown.ends_with("..."));
    }

    // See: #14: bytes that are not UTF-8 are shown as such, not as U+FFFD or raw.
    #[test]
    fn invalid_utf8_is_shown_escaped() {
        assert_eq!(show_value(b"a\xff\xfeb\xc3\xa9"), "a\\xFF\\xFEb\u{e9}");
    }
}
