//! The CSV dialect shared by all four tools: delimiter, header, NULL marker, and the
//! writing side of RFC 4180 (quoting, `"` doubling).
//!
//! The NULL convention is PostgreSQL's CSV rule: NULL is an *unquoted* empty field and an
//! empty string is `""`. `--null STRING` picks another marker (for example `\N`); a value
//! equal to the marker is then written quoted, so it stays a string on the way back.
//!
//! Binary values (BINARY, VARBINARY, BLOB, GEOMETRY) are written as hex by default, so a
//! CSV file stays text whatever the bytes; `--binary base64|raw` choose otherwise, and
//! qimport decodes by the target column's type. Which values are binary is the MySQL
//! side's to say (the tools' `schema::ValueKind`), not this crate's.

use base64::Engine as _;

/// How NULL is spelled in a CSV field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NullMarker {
    /// An unquoted empty field (the default).
    Empty,
    /// An unquoted field equal to this text, such as `\N`.
    Text(Vec<u8>),
}

/// How binary column values are spelled in CSV (and, by name, in a backup manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum BinaryEncoding {
    /// Lower-case hex digits, two per byte (the default): `deadbeef`.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
    /// The bytes as they are (quoted when needed, like any value).
    Raw,
}

impl BinaryEncoding {
    /// Append the encoding of `bytes`.
    pub fn encode(self, bytes: &[u8], out: &mut Vec<u8>) {
        match self {
            BinaryEncoding::Hex => crate::bytes::hex_encode(bytes, out),
            BinaryEncoding::Base64 => {
                let start = out.len();
                out.resize(
                    start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
                    0,
                );
                let n = base64::engine::general_purpose::STANDARD
                    .encode_slice(bytes, &mut out[start..])
                    .unwrap_or(0);
                out.truncate(start + n);
            }
            BinaryEncoding::Raw => out.extend_from_slice(bytes),
        }
    }

    /// Whether an encoded value may hold byte `b` (raw bytes may hold any).
    fn may_hold(self, b: u8) -> bool {
        match self {
            BinaryEncoding::Hex => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            BinaryEncoding::Base64 => b.is_ascii_alphanumeric() || b"+/=".contains(&b),
            BinaryEncoding::Raw => true,
        }
    }

    /// Decode a field; the error says what is wrong.
    #[cfg(test)]
    fn decode(self, text: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.decode_into(text, &mut out)?;
        Ok(out)
    }

    /// Decode a field into `out` (cleared first), so that one buffer can serve many.
    pub fn decode_into(self, text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        match self {
            BinaryEncoding::Hex => hex_decode_into(text, out),
            BinaryEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode_vec(text, out)
                .map_err(|e| format!("not valid base64 (--binary base64): {e}")),
            BinaryEncoding::Raw => {
                out.extend_from_slice(text);
                Ok(())
            }
        }
    }
}

/// The value of each byte as a hex digit, or 0xFF.
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decode hex digits (either case); an optional `0x` prefix is accepted.
#[cfg(test)]
fn hex_decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    hex_decode_into(text, &mut out).map(|()| out)
}

/// Append the bytes of hex digits (either case, after an optional `0x`).
fn hex_decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let t = text
        .strip_prefix(b"0x")
        .or_else(|| text.strip_prefix(b"0X"))
        .unwrap_or(text);
    if t.len() % 2 != 0 {
        return Err("not valid hex (--binary hex): odd number of digits".into());
    }
    let start = out.len();
    out.resize(start + t.len() / 2, 0);
    let mut bad = 0;
    for (o, p) in out[start..].iter_mut().zip(t.chunks_exact(2)) {
        let (h, l) = (HEX[usize::from(p[0])], HEX[usize::from(p[1])]);
        bad |= h | l;
        *o = h << 4 | l;
    }
    // Digits are 0..=15; a non-digit is 0xFF and sets the high bits.
    if bad > 15 {
        return Err("not valid hex (--binary hex): unexpected character".to_owned());
    }
    Ok(())
}

/// Everything a tool needs to know to read or write one CSV stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// The field delimiter (`,` by default; `\t` for TSV).
    pub delimiter: u8,
    /// The first record is a header row.
    pub header: bool,
    /// How NULL is spelled.
    pub null: NullMarker,
    /// How binary values are spelled.
    pub binary: BinaryEncoding,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            header: true,
            null: NullMarker::Empty,
            binary: BinaryEncoding::Hex,
        }
    }
}

impl Dialect {
    /// Is this field, as read, the NULL marker?
    #[inline]
    pub fn is_null(&self, value: &[u8], quoted: bool) -> bool {
        !quoted
            && match &self.null {
                NullMarker::Empty => value.is_empty(),
                NullMarker::Text(m) => value == m.as_slice(),
            }
    }

    /// Append the NULL marker.
    #[inline]
    pub fn write_null(&self, out: &mut Vec<u8>) {
        if let NullMarker::Text(m) = &self.null {
            out.extend_from_slice(m);
        }
    }

    /// Append one non-NULL value, quoted when it has to be: it contains the delimiter, a
    /// quote or a line break, it is empty, or it equals the NULL marker.
    #[inline]
    pub fn write_value(&self, out: &mut Vec<u8>, value: &[u8]) {
        self.write_value_with(out, value, self.has_special(value));
    }

    /// Append binary `bytes` as [`Dialect::binary`] encodes them, quoted when they have
    /// to be, as [`Dialect::write_value`] would write the encoded text. Encoded in place:
    /// hex and base64 hold no quote or line break, so only a delimiter of their alphabet,
    /// an empty value or the NULL marker send the text through `scratch` to be quoted.
    pub fn write_binary(&self, out: &mut Vec<u8>, bytes: &[u8], scratch: &mut Vec<u8>) {
        let start = out.len();
        self.binary.encode(bytes, out);
        let v = &out[start..];
        let special = self.binary.may_hold(self.delimiter) && self.has_special(v);
        if !special && !self.must_quote(v) {
            return;
        }
        scratch.clear();
        scratch.extend_from_slice(v);
        out.truncate(start);
        self.write_value_with(out, scratch, special);
    }

    /// The bytes [`Dialect::write_value`] looks for: delimiter, quote, LF, CR.
    pub fn specials(&self) -> [u8; 4] {
        [self.delimiter, b'"', b'\n', b'\r']
    }

    /// [`Dialect::write_value`] when the caller has already looked for the
    /// [`Dialect::specials`] in `value` (a whole row at once: see [`crate::scan::marks`]).
    #[inline]
    pub fn write_value_with(&self, out: &mut Vec<u8>, value: &[u8], special: bool) {
        if special || self.must_quote(value) {
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
    #[inline]
    pub fn write_field(&self, out: &mut Vec<u8>, value: Option<&[u8]>) {
        match value {
            Some(v) => self.write_value(out, v),
            None => self.write_null(out),
        }
    }

    /// Whether `value` holds one of the [`Dialect::specials`].
    #[inline]
    fn has_special(&self, value: &[u8]) -> bool {
        // Short fields (most of them) eight bytes at a time; memchr's vector set-up only
        // pays off on longer ones, where it makes two passes (it searches for at most
        // three bytes).
        if value.len() < 64 {
            crate::bytes::has_any(value, self.specials())
        } else {
            memchr::memchr3(self.delimiter, b'"', b'\n', value).is_some()
                || memchr::memchr(b'\r', value).is_some()
        }
    }

    /// Whether a value without specials is quoted all the same: it is empty, or it equals
    /// the NULL marker, or it starts with a byte-order mark (at the start of a file a
    /// reader would take it for the file's BOM and drop it: a column named "\u{FEFF}id").
    #[inline]
    fn must_quote(&self, value: &[u8]) -> bool {
        value.is_empty()
            || matches!(&self.null, NullMarker::Text(m) if value == m.as_slice())
            || value.starts_with(b"\xEF\xBB\xBF")
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

    // See: #29: binary values encoded in place are written as write_value writes their
    // text: a delimiter of the alphabet, an empty value and the NULL marker quoted.
    #[test]
    fn binary_values_in_place_equal_their_text_written() {
        let cases: [&[u8]; 5] = [b"", b"\x00\xff", b"\xab\xcd", b"\xfb\xff", b"abc"];
        for binary in [
            BinaryEncoding::Hex,
            BinaryEncoding::Base64,
            BinaryEncoding::Raw,
        ] {
            for delimiter in [b',', b'a', b'+', b'0'] {
                for null in [NullMarker::Empty, NullMarker::Text(b"abcd".to_vec())] {
                    let d = Dialect {
                        binary,
                        delimiter,
                        null: null.clone(),
                        ..Dialect::default()
                    };
                    for v in cases {
                        let mut text = Vec::new();
                        binary.encode(v, &mut text);
                        let (mut want, mut got) = (b"x".to_vec(), b"x".to_vec());
                        d.write_value(&mut want, &text);
                        d.write_binary(&mut got, v, &mut Vec::new());
                        assert_eq!(got, want, "{binary:?} {delimiter} {v:?}");
                    }
                }
            }
        }
    }

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
    fn binary_encodings_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        for enc in [
            BinaryEncoding::Hex,
            BinaryEncoding::Base64,
            BinaryEncoding::Raw,
        ] {
            let mut out = Vec::new();
            enc.encode(&bytes, &mut out);
            assert_eq!(enc.decode(&out).unwrap(), bytes, "{enc:?}");
        }
        let mut out = Vec::new();
        BinaryEncoding::Hex.encode(b"\xde\xad", &mut out);
        assert_eq!(out, b"dead");
        assert_eq!(hex_decode(b"0xDEad").unwrap(), b"\xde\xad");
        assert!(hex_decode(b"abc").is_err());
        assert!(hex_decode(b"zz").is_err());
        assert!(hex_decode(b"0g").is_err());
        assert!(hex_decode(b"g0").is_err());
        assert_eq!(hex_decode(b"00fF").unwrap(), b"\x00\xff");
        assert!(BinaryEncoding::Base64.decode(b"!!").is_err());
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
