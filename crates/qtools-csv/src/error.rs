//! The error for a bad value in the input ([`DataError`]): it names file, line, column and
//! value, in one line. What a tool does with it (print it, exit 2) is the tool's. Also how
//! every message of qtools spells a count ([`plural`]).

use std::fmt;

/// A bad value in the input: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The input's name in messages (a path, or `stdin`).
    pub file: String,
    /// The 1-based line the record starts on.
    pub line: u64,
    /// The column's name, when the fault is in one value.
    pub column: Option<String>,
    /// The value at fault, shown escaped and cut short.
    pub value: Option<Vec<u8>>,
    /// What is wrong, in words.
    pub reason: String,
}

impl DataError {
    /// A fault at `file:line`, for `reason`.
    pub fn new(file: &str, line: u64, reason: impl Into<String>) -> Self {
        DataError {
            file: file.to_owned(),
            line,
            column: None,
            value: None,
            reason: reason.into(),
        }
    }

    /// In the column named `column`.
    #[must_use]
    pub fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_owned());
        self
    }

    /// Of the value `value` (`None`: NULL, shown as nothing).
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
fn show_value(v: &[u8]) -> String {
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
