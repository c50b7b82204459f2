//! The CSV dialect shared by all four tools: delimiter, header, NULL marker, and the
//! writing side of RFC 4180 (quoting, `"` doubling).
//!
//! The NULL convention is PostgreSQL's CSV rule: NULL is an *unquoted* empty field and an
//! empty string is `""`. `--null STRING` picks another marker (for example `\N`); a value
//! equal to the marker is then written quoted, so it stays a string on the way back.

/// How NULL is spelled in a CSV field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NullMarker {
    /// An unquoted empty field (the default).
    Empty,
    /// An unquoted field equal to this text, such as `\N`.
    Text(Vec<u8>),
}

/// Everything a tool needs to know to read or write one CSV stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    /// The first record is a header row.
    pub header: bool,
    pub null: NullMarker,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            header: true,
            null: NullMarker::Empty,
        }
    }
}

impl Dialect {
    /// Is this field, as read, the NULL marker?
    pub fn is_null(&self, value: &[u8], quoted: bool) -> bool {
        !quoted
            && match &self.null {
                NullMarker::Empty => value.is_empty(),
                NullMarker::Text(m) => value == m.as_slice(),
            }
    }

    /// Append the NULL marker.
    pub fn write_null(&self, out: &mut Vec<u8>) {
        if let NullMarker::Text(m) = &self.null {
            out.extend_from_slice(m);
        }
    }

    /// Append one non-NULL value, quoted when it has to be: it contains the delimiter, a
    /// quote or a line break, it is empty, or it equals the NULL marker.
    pub fn write_value(&self, out: &mut Vec<u8>, value: &[u8]) {
        if self.needs_quotes(value) {
            out.reserve(value.len() + 2);
            out.push(b'"');
            let mut rest = value;
            while let Some(i) = memchr::memchr(b'"', rest) {
                out.extend_from_slice(&rest[..=i]);
                out.push(b'"');
                rest = &rest[i + 1..];
            }
            out.extend_from_slice(rest);
            out.push(b'"');
        } else {
            out.extend_from_slice(value);
        }
    }

    /// Append a field that may be NULL.
    pub fn write_field(&self, out: &mut Vec<u8>, value: Option<&[u8]>) {
        match value {
            Some(v) => self.write_value(out, v),
            None => self.write_null(out),
        }
    }

    fn needs_quotes(&self, value: &[u8]) -> bool {
        value.is_empty()
            || memchr::memchr3(self.delimiter, b'"', b'\n', value).is_some()
            || memchr::memchr(b'\r', value).is_some()
            || matches!(&self.null, NullMarker::Text(m) if value == m.as_slice())
    }

    /// Append one whole record and its `\n` terminator.
    pub fn write_record<'a, I>(&self, out: &mut Vec<u8>, fields: I)
    where
        I: IntoIterator<Item = Option<&'a [u8]>>,
    {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            self.write_field(out, f);
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(d: &Dialect, v: Option<&[u8]>) -> String {
        let mut out = Vec::new();
        d.write_field(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_rules() {
        let d = Dialect::default();
        assert_eq!(written(&d, Some(b"plain")), "plain");
        assert_eq!(written(&d, Some(b"")), "\"\"");
        assert_eq!(written(&d, None), "");
        assert_eq!(written(&d, Some(b"a,b")), "\"a,b\"");
        assert_eq!(written(&d, Some(b"say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(written(&d, Some(b"two\nlines")), "\"two\nlines\"");
        assert_eq!(written(&d, Some(b"cr\r")), "\"cr\r\"");
        assert_eq!(written(&d, Some(b"a\tb")), "a\tb");
    }

    #[test]
    fn custom_null_marker_is_quoted_when_it_is_a_value() {
        let d = Dialect {
            null: NullMarker::Text(b"\\N".to_vec()),
            ..Dialect::default()
        };
        assert_eq!(written(&d, None), "\\N");
        assert_eq!(written(&d, Some(b"\\N")), "\"\\N\"");
        assert!(d.is_null(b"\\N", false));
        assert!(!d.is_null(b"\\N", true));
        assert!(!d.is_null(b"", false));
    }

    #[test]
    fn tab_delimiter_quotes_tabs() {
        let d = Dialect {
            delimiter: b'\t',
            ..Dialect::default()
        };
        assert_eq!(written(&d, Some(b"a\tb")), "\"a\tb\"");
        assert_eq!(written(&d, Some(b"a,b")), "a,b");
    }
}
