//! Checking every value against its column before anything is sent: type, range, length,
//! NOT NULL, UTF-8 and character set, date validity, ENUM and SET members.
//!
//! The server in strict mode would refuse most of these too, but `LOAD DATA LOCAL` turns
//! bad data into warnings (and skipped or truncated rows) even in strict mode, and the
//! server stops at the first error. Checking here names every bad value, with its line and
//! column, before any row is sent. The rules accept what `qexport` writes and the server's
//! canonical formats; they are deliberately no looser than the server's strict mode.

use crate::schema::{ColumnInfo, SqlType};

/// What a column accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Int {
        min: i128,
        max: i128,
    },
    /// DECIMAL(P,S): at most `int_digits` before the point and `scale` after it.
    Decimal {
        int_digits: u64,
        scale: u64,
        unsigned: bool,
    },
    Float {
        max: f64,
        unsigned: bool,
    },
    /// Text: valid UTF-8, representable in the column's character set, not too long.
    Text {
        max_chars: Option<u64>,
        max_bytes: Option<u64>,
        charset: Charset,
    },
    /// Decoded bytes, at most this many.
    Binary {
        max_bytes: Option<u64>,
    },
    Bit {
        bits: u32,
    },
    Date,
    DateTime {
        fsp: usize,
        timestamp: bool,
    },
    /// DATE under `ALLOW_INVALID_DATES` (a restore of a backup taken under it): any day
    /// from 1 to 31 in any month.
    DateAnyDay,
    /// DATETIME under `ALLOW_INVALID_DATES`.
    DateTimeAnyDay {
        fsp: usize,
    },
    Time {
        fsp: usize,
    },
    Year,
    Enum {
        members: Vec<String>,
        ci: bool,
    },
    Set {
        members: Vec<String>,
        ci: bool,
    },
    /// A type qimport does not know: the server judges.
    Any,
}

/// What a restore accepts beyond a plain import: what the server accepted from the source
/// under its own `sql_mode` (see [`Check::lenient`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lenience {
    /// The source ran with `ALLOW_INVALID_DATES`: February 30 is a date.
    pub invalid_dates: bool,
    /// An ENUM's error value `''`, which the server stores for an invalid value under a
    /// non-strict `sql_mode`.
    pub enum_error_value: bool,
}

impl Check {
    /// This check, taking what `l` allows too.
    #[must_use]
    pub fn lenient(self, l: Lenience) -> Check {
        match self {
            Check::Date if l.invalid_dates => Check::DateAnyDay,
            Check::DateTime {
                fsp,
                timestamp: false,
            } if l.invalid_dates => Check::DateTimeAnyDay { fsp },
            Check::Enum { mut members, ci } if l.enum_error_value => {
                if !members.iter().any(String::is_empty) {
                    members.push(String::new());
                }
                Check::Enum { members, ci }
            }
            other => other,
        }
    }
}

/// A column's character set, as far as the checks need it: which characters it holds, and
/// how many bytes a value takes in it (a TEXT column's limit is in bytes of its own
/// character set, not of the UTF-8 the CSV holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// utf8mb4.
    Unicode,
    /// utf8mb3: no characters beyond U+FFFF.
    Bmp,
    Latin1,
    Ascii,
    /// utf16, utf16le: two bytes a character, four beyond U+FFFF.
    Utf16,
    /// ucs2: two bytes a character, none beyond U+FFFF.
    Ucs2,
    /// utf32: four bytes a character.
    Utf32,
    /// gbk, big5, sjis and the other East Asian sets: one byte for ASCII, at least two
    /// for the rest (the exact count needs the set's tables: the server judges beyond
    /// that lower bound, so that no value that fits is refused).
    MultiByte,
    /// cp1251, latin2 and the other single-byte sets (which characters they hold, the
    /// server judges), and any set not known here (one byte a character at least).
    Other,
}

impl Charset {
    /// Whether an ASCII value takes one byte a character.
    #[inline]
    fn ascii_is_one_byte(self) -> bool {
        !matches!(self, Charset::Utf16 | Charset::Ucs2 | Charset::Utf32)
    }

    /// The bytes `s` takes in this set (at least: see [`Charset::MultiByte`]).
    fn bytes(self, s: &str) -> u64 {
        let n = |f: fn(char) -> u64| s.chars().map(f).sum::<u64>();
        match self {
            Charset::Unicode | Charset::Bmp => s.len() as u64,
            Charset::Latin1 | Charset::Ascii | Charset::Other => n(|_| 1),
            Charset::Utf16 => n(|c| if u32::from(c) > 0xFFFF { 4 } else { 2 }),
            Charset::Ucs2 => n(|_| 2),
            Charset::Utf32 => n(|_| 4),
            Charset::MultiByte => n(|c| if c.is_ascii() { 1 } else { 2 }),
        }
    }
}

/// cp1252 characters of 0x80-0x9F, which MySQL's latin1 holds besides U+0000-U+00FF.
const CP1252_EXTRA: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";

impl Check {
    pub fn for_column(c: &ColumnInfo) -> Check {
        let int = |bits: u32, unsigned: bool| {
            if unsigned {
                Check::Int {
                    min: 0,
                    max: (1i128 << bits) - 1,
                }
            } else {
                Check::Int {
                    min: -(1i128 << (bits - 1)),
                    max: (1i128 << (bits - 1)) - 1,
                }
            }
        };
        let ci = c
            .collation
            .as_deref()
            .is_none_or(|k| !k.ends_with("_bin") && !k.ends_with("_cs"));
        let fsp = |f: u32| usize::try_from(f).unwrap_or(6);
        match &c.ty {
            SqlType::Int { bits, unsigned } => int(*bits, *unsigned),
            SqlType::Decimal {
                precision,
                scale,
                unsigned,
            } => Check::Decimal {
                int_digits: precision.saturating_sub(*scale),
                scale: *scale,
                unsigned: *unsigned,
            },
            SqlType::Float {
                double, unsigned, ..
            } => Check::Float {
                max: if *double {
                    f64::MAX
                } else {
                    f64::from(f32::MAX)
                },
                unsigned: *unsigned,
            },
            SqlType::Char => Check::Text {
                max_chars: c.max_length,
                max_bytes: None,
                charset: charset(c),
            },
            SqlType::Text => {
                let cs = charset(c);
                // The limit is in bytes of the column's character set.
                if matches!(cs, Charset::Latin1 | Charset::Ascii | Charset::Other) {
                    Check::Text {
                        max_chars: c.max_length,
                        max_bytes: None,
                        charset: cs,
                    }
                } else {
                    Check::Text {
                        max_chars: None,
                        max_bytes: c.max_length,
                        charset: cs,
                    }
                }
            }
            SqlType::Binary => Check::Binary {
                max_bytes: c.max_length,
            },
            SqlType::Bit { width } => Check::Bit { bits: *width },
            SqlType::Date => Check::Date,
            SqlType::DateTime { fsp: f } => Check::DateTime {
                fsp: fsp(*f),
                timestamp: false,
            },
            SqlType::Timestamp { fsp: f } => Check::DateTime {
                fsp: fsp(*f),
                timestamp: true,
            },
            SqlType::Time { fsp: f } => Check::Time { fsp: fsp(*f) },
            SqlType::Year => Check::Year,
            SqlType::Enum(members) => Check::Enum {
                members: members.clone(),
                ci,
            },
            SqlType::Set(members) => Check::Set {
                members: members.clone(),
                ci,
            },
            SqlType::Geometry | SqlType::FromText | SqlType::Other => Check::Any,
        }
    }

    /// Check one non-NULL value (binary values already decoded).
    pub fn check(&self, v: &[u8]) -> Result<(), String> {
        self.check_known(v, false)
    }

    /// [`Check::check`], told whether `v` is known to be ASCII already (a loader surveys
    /// each record's bytes once: see `qtools_csv::bytes::survey`). The commonest answer,
    /// ASCII text or bytes within the column's length, is given here, small enough to
    /// inline; the rest in [`Check::check_all`] (measured: the large match's entry and
    /// exit alone cost a quarter of its instructions for such values).
    #[inline]
    pub fn check_known(&self, v: &[u8], known_ascii: bool) -> Result<(), String> {
        let fits = |max: &Option<u64>| max.is_none_or(|m| v.len() as u64 <= m);
        match self {
            Check::Text {
                max_chars,
                max_bytes,
                charset,
            } if (known_ascii || v.is_ascii())
                && fits(max_chars)
                && fits(max_bytes)
                && charset.ascii_is_one_byte() =>
            {
                Ok(())
            }
            Check::Binary { max_bytes } if fits(max_bytes) => Ok(()),
            _ => self.check_all(v, known_ascii),
        }
    }

    /// Every check (see [`Check::check_known`]).
    #[allow(clippy::too_many_lines)] // one arm per kind of column reads best as one match
    #[inline(never)]
    fn check_all(&self, v: &[u8], known_ascii: bool) -> Result<(), String> {
        match self {
            Check::Int { min, max } => {
                let n = parse_int(v).ok_or("not an integer")?;
                if n < *min || n > *max {
                    return Err(format!("out of range ({min} to {max})"));
                }
            }
            Check::Decimal {
                int_digits,
                scale,
                unsigned,
            } => {
                check_decimal(v, *int_digits, *scale, *unsigned)?;
            }
            Check::Float { max, unsigned } => {
                let s = std::str::from_utf8(v).map_err(|_| "not a number")?;
                let ok_chars = s
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
                let f: f64 = s
                    .parse()
                    .ok()
                    .filter(|_| ok_chars && !s.is_empty())
                    .ok_or("not a number")?;
                if !f.is_finite() || f.abs() > *max {
                    return Err(format!("out of range (at most {max:e} in magnitude)"));
                }
                if *unsigned && f < 0.0 {
                    return Err("negative in an UNSIGNED column".into());
                }
            }
            Check::Text {
                max_chars,
                max_bytes,
                charset,
            } => {
                // ASCII (most values) is valid in every charset and has one character
                // per byte: no decoding needed.
                let ascii = known_ascii || v.is_ascii();
                let s = if ascii {
                    ""
                } else {
                    let s = std::str::from_utf8(v).map_err(|_| {
                        "not valid UTF-8 (text columns take UTF-8; binary columns take --binary)"
                    })?;
                    check_charset(s, *charset)?;
                    s
                };
                if let Some(m) = max_chars.filter(|m| v.len() as u64 > *m) {
                    let n = if ascii { v.len() } else { s.chars().count() } as u64;
                    if n > m {
                        return Err(format!("{n} characters, longer than the column's {m}"));
                    }
                }
                if let Some(m) = max_bytes {
                    let n = if !ascii {
                        charset.bytes(s)
                    } else if charset.ascii_is_one_byte() {
                        v.len() as u64
                    } else {
                        charset.bytes(std::str::from_utf8(v).unwrap_or_default())
                    };
                    if n > *m {
                        return Err(format!("{n} bytes, longer than the column's {m}"));
                    }
                }
            }
            Check::Binary { max_bytes } => {
                if let Some(m) = max_bytes {
                    if v.len() as u64 > *m {
                        return Err(format!("{} bytes, longer than the column's {m}", v.len()));
                    }
                }
            }
            Check::Bit { bits } => {
                let n = parse_int(v)
                    .filter(|n| *n >= 0)
                    .ok_or("a BIT value must be a number, such as 5")?;
                if *bits < 64 && n >= 1i128 << bits {
                    return Err(format!("does not fit in BIT({bits})"));
                }
                if n > i128::from(u64::MAX) {
                    return Err("does not fit in 64 bits".into());
                }
            }
            Check::Date => {
                check_date(v, false).map_err(|e| format!("not a valid date (YYYY-MM-DD): {e}"))?;
            }
            Check::DateTime { fsp, timestamp } => check_datetime(v, *fsp, *timestamp, false)?,
            Check::DateAnyDay => {
                check_date(v, true).map_err(|e| format!("not a valid date (YYYY-MM-DD): {e}"))?;
            }
            Check::DateTimeAnyDay { fsp } => check_datetime(v, *fsp, false, true)?,
            Check::Time { fsp } => check_time(v, *fsp)?,
            Check::Year => {
                let n = parse_int(v).ok_or("not a year")?;
                if v.len() != 4 || !(n == 0 || (1901..=2155).contains(&n)) {
                    return Err("not a YEAR (1901 to 2155, or 0000)".into());
                }
            }
            Check::Enum { members, ci } => {
                let s = std::str::from_utf8(v).map_err(|_| "not valid UTF-8")?;
                if !is_member(s, members, *ci) {
                    return Err(format!("not one of the ENUM values ({})", list(members)));
                }
            }
            Check::Set { members, ci } => {
                let s = std::str::from_utf8(v).map_err(|_| "not valid UTF-8")?;
                if !s.is_empty() {
                    if let Some(bad) = s.split(',').find(|p| !is_member(p, members, *ci)) {
                        return Err(format!(
                            "{bad:?} is not one of the SET values ({})",
                            list(members)
                        ));
                    }
                }
            }
            Check::Any => {}
        }
        Ok(())
    }
}

fn charset(c: &ColumnInfo) -> Charset {
    match c.charset.as_deref() {
        None | Some("utf8mb4") => Charset::Unicode,
        Some("latin1") => Charset::Latin1,
        Some("ascii") => Charset::Ascii,
        Some("utf8mb3" | "utf8") => Charset::Bmp,
        Some("utf16" | "utf16le") => Charset::Utf16,
        Some("ucs2") => Charset::Ucs2,
        Some("utf32") => Charset::Utf32,
        Some(
            "big5" | "ujis" | "sjis" | "euckr" | "gb2312" | "gbk" | "cp932" | "eucjpms" | "gb18030",
        ) => Charset::MultiByte,
        Some(_) => Charset::Other,
    }
}

fn check_charset(s: &str, cs: Charset) -> Result<(), String> {
    let bad = match cs {
        Charset::Unicode
        | Charset::Utf16
        | Charset::Utf32
        | Charset::MultiByte
        | Charset::Other => None,
        Charset::Bmp | Charset::Ucs2 => s.chars().find(|c| u32::from(*c) > 0xFFFF),
        Charset::Latin1 => s
            .chars()
            .find(|c| u32::from(*c) > 0xFF && !CP1252_EXTRA.contains(*c)),
        Charset::Ascii => s.chars().find(|c| !c.is_ascii()),
    };
    match bad {
        Some(c) => Err(format!(
            "the character {c:?} does not exist in the column's character set"
        )),
        None => Ok(()),
    }
}

fn list(members: &[String]) -> String {
    let shown: Vec<String> = members.iter().take(8).map(|m| format!("{m:?}")).collect();
    let more = if members.len() > 8 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

fn is_member(s: &str, members: &[String], ci: bool) -> bool {
    members.iter().any(|m| {
        if ci {
            m.to_lowercase() == s.to_lowercase()
        } else {
            m == s
        }
    })
}

fn parse_int(v: &[u8]) -> Option<i128> {
    let digits = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    // Up to 18 digits in a u64 (most values: no 128-bit multiply), the rest in an i128;
    // at most 30 digits cannot overflow either.
    let (head, rest) = digits.split_at(digits.len().min(18));
    let digit = |b: &u8| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(d)
    };
    let mut n = 0u64;
    for b in head {
        n = n * 10 + u64::from(digit(b)?);
    }
    let mut n = i128::from(n);
    for b in rest {
        n = n * 10 + i128::from(digit(b)?);
    }
    Some(if v[0] == b'-' { -n } else { n })
}

fn check_decimal(v: &[u8], int_digits: u64, scale: u64, unsigned: bool) -> Result<(), String> {
    let negative = v.first() == Some(&b'-');
    let body = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    // Digits, at most one point.
    let (int, frac) = match body.iter().position(|&b| b == b'.') {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, &b""[..]),
    };
    if !(int.iter().all(u8::is_ascii_digit) && frac.iter().all(u8::is_ascii_digit)) {
        return Err("not a decimal number".into());
    }
    if int.is_empty() && frac.is_empty() {
        return Err("not a decimal number".into());
    }
    let significant = int.iter().skip_while(|&&b| b == b'0').count() as u64;
    if significant > int_digits {
        return Err(format!(
            "out of range: more than {int_digits} digits before the point"
        ));
    }
    if frac.len() as u64 > scale {
        return Err(format!(
            "more than {scale} digits after the point (they would be rounded away)"
        ));
    }
    if unsigned && negative && (int.iter().chain(frac).any(|&b| b != b'0')) {
        return Err("negative in an UNSIGNED column".into());
    }
    Ok(())
}

fn num(v: &[u8]) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u32, |n, &b| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(())?;
        n.checked_mul(10)?.checked_add(u32::from(d))
    })
}

/// `any_day`: `ALLOW_INVALID_DATES` (a day from 1 to 31 whatever the month).
fn check_date(v: &[u8], any_day: bool) -> Result<(), &'static str> {
    let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = v else {
        return Err("wrong format");
    };
    if ![y1, y2, y3, y4, m1, m2, d1, d2]
        .iter()
        .all(u8::is_ascii_digit)
    {
        return Err("wrong format");
    }
    let two = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
    let (y, m, d) = (two(y1, y2) * 100 + two(y3, y4), two(m1, m2), two(d1, d2));
    if m > 12 || d > 31 {
        return Err("no such month or day");
    }
    if m > 0 && d > 0 && !any_day {
        const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = DAYS[(m - 1) as usize] + u32::from(m == 2 && leap);
        if d > days {
            return Err("no such day in that month");
        }
    }
    Ok(())
}

/// `HH:MM:SS[.f]` (`hours_max` bounds the hours), with at most `fsp` fractional digits.
fn check_clock(v: &[u8], fsp: usize, hours_max: u32) -> Result<(), String> {
    // The usual `HH:MM:SS`, without fractional digits, decided at once.
    if let [h1, h2, b':', m1, m2, b':', s1, s2] = *v {
        let two = |a: u8, b: u8| {
            let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
            (a < 10 && b < 10).then_some(u32::from(a) * 10 + u32::from(b))
        };
        if let (Some(h), Some(m), Some(s)) = (two(h1, h2), two(m1, m2), two(s1, s2)) {
            if h <= hours_max && m < 60 && s < 60 {
                return Ok(());
            }
        }
    }
    let (main, frac) = match v.iter().position(|&b| b == b'.') {
        Some(p) => (&v[..p], &v[p + 1..]),
        None => (v, &b""[..]),
    };
    if !frac.iter().all(u8::is_ascii_digit) {
        return Err("wrong format".into());
    }
    if frac.len() > fsp {
        return Err(format!(
            "more than {fsp} fractional digits (they would be rounded away)"
        ));
    }
    let mut parts = main.split(|&b| b == b':');
    let ok = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), Some(s), None) => {
            let (h, m, s) = (num(h), num(m), num(s));
            matches!((h, m, s), (Some(h), Some(m), Some(s)) if h <= hours_max && m < 60 && s < 60)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("wrong format or out of range".into())
    }
}

fn check_datetime(v: &[u8], fsp: usize, timestamp: bool, any_day: bool) -> Result<(), String> {
    // The usual `YYYY-MM-DD HH:MM:SS` of a DATETIME, decided at once (a valid date, then
    // a time of at most 23:59:59), with no closure or error text set up.
    if let [date @ .., b' ', h1, h2, b':', m1, m2, b':', s1, s2] = v {
        if !timestamp && date.len() == 10 && check_date(date, any_day).is_ok() {
            let two = |a: u8, b: u8| {
                let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
                // Lazily: `a * 10` of a byte that is no digit overflows a u8.
                (a < 10 && b < 10).then(|| a * 10 + b)
            };
            if let (Some(h), Some(m), Some(s)) = (two(*h1, *h2), two(*m1, *m2), two(*s1, *s2)) {
                if h < 24 && m < 60 && s < 60 {
                    return Ok(());
                }
            }
        }
    }
    let what = if timestamp { "TIMESTAMP" } else { "DATETIME" };
    let err = |e: &str| format!("not a valid {what} (YYYY-MM-DD HH:MM:SS[.ffffff]): {e}");
    if v.len() < 10 {
        return Err(err("wrong format"));
    }
    check_date(&v[..10], any_day).map_err(err)?;
    if v.len() > 10 {
        if !matches!(v[10], b' ' | b'T') || v.len() < 19 {
            return Err(err("wrong format"));
        }
        check_clock(&v[11..], fsp, 23).map_err(|e| err(&e))?;
    }
    if timestamp {
        // Compared as text, with a `T` between date and time read as a space.
        let t = || {
            v.iter()
                .enumerate()
                .map(|(i, &b)| if i == 10 { b' ' } else { b })
        };
        let zero = v
            .iter()
            .all(|&b| matches!(b, b'0' | b'-' | b' ' | b'T' | b':' | b'.'));
        if !zero
            && (t().lt(b"1970-01-01 00:00:01".iter().copied())
                || t().gt(b"2038-01-19 03:14:07.999999".iter().copied()))
        {
            return Err(
                "out of the TIMESTAMP range (1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC)"
                    .into(),
            );
        }
    }
    Ok(())
}

fn check_time(v: &[u8], fsp: usize) -> Result<(), String> {
    let body = v.strip_prefix(b"-").unwrap_or(v);
    check_clock(body, fsp, 838)
        .map_err(|e| format!("not a valid TIME ([-]HHH:MM:SS[.ffffff], within 838:59:59): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(data_type: &str, column_type: &str) -> ColumnInfo {
        ColumnInfo::typed("c", data_type, column_type)
    }

    fn ok(c: &Check, v: &str) -> bool {
        c.check(v.as_bytes()).is_ok()
    }

    #[test]
    fn integers() {
        let t = Check::for_column(&col("tinyint", "tinyint(4)"));
        assert!(ok(&t, "-128") && ok(&t, "127") && ok(&t, "+5"));
        assert!(!ok(&t, "128") && !ok(&t, "1.0") && !ok(&t, " 1") && !ok(&t, "") && !ok(&t, "0x1"));
        let u = Check::for_column(&col("bigint", "bigint(20) unsigned"));
        assert!(ok(&u, "18446744073709551615") && !ok(&u, "18446744073709551616") && !ok(&u, "-1"));
        assert!(t.check(b"300").unwrap_err().contains("-128 to 127"));
    }

    #[test]
    fn decimals_and_floats() {
        let d = Check::for_column(&ColumnInfo {
            precision: Some(5),
            scale: Some(2),
            ..col("decimal", "decimal(5,2)")
        });
        assert!(
            ok(&d, "123.45") && ok(&d, "-0.5") && ok(&d, "000123.4") && ok(&d, ".5") && ok(&d, "7")
        );
        assert!(!ok(&d, "1234.5") && !ok(&d, "1.234") && !ok(&d, "1e3") && !ok(&d, "."));
        let f = Check::for_column(&col("float", "float"));
        assert!(
            ok(&f, "3.4028234663852886e38") && ok(&f, "1.1754943508222875e-38") && ok(&f, "-0.1")
        );
        assert!(!ok(&f, "3.5e38") && !ok(&f, "inf") && !ok(&f, "NaN") && !ok(&f, "1,5"));
        assert!(ok(
            &Check::for_column(&col("double", "double")),
            "1.7976931348623157e308"
        ));
    }

    #[test]
    fn text_length_and_charsets() {
        let v = Check::for_column(&ColumnInfo {
            max_length: Some(3),
            charset: Some("utf8mb4".into()),
            ..col("varchar", "varchar(3)")
        });
        assert!(ok(&v, "héé") && ok(&v, "😀😀😀") && !ok(&v, "abcd"));
        assert!(v.check(b"\xff").unwrap_err().contains("UTF-8"));
        let l = Check::for_column(&ColumnInfo {
            max_length: Some(10),
            charset: Some("latin1".into()),
            ..col("varchar", "varchar(10)")
        });
        assert!(ok(&l, "café €") && !ok(&l, "日本"));
        let b = Check::for_column(&ColumnInfo {
            max_length: Some(5),
            charset: Some("utf8mb3".into()),
            ..col("varchar", "varchar(5)")
        });
        assert!(ok(&b, "日本") && !ok(&b, "😀"));
        let t = Check::for_column(&ColumnInfo {
            max_length: Some(4),
            charset: Some("utf8mb4".into()),
            ..col("tinytext", "tinytext")
        });
        assert!(ok(&t, "abcd") && !ok(&t, "éé é"));
        // See: #30: a TEXT column's limit is in bytes of its own character set.
        let text = |cs: &str, max: u64| {
            Check::for_column(&ColumnInfo {
                max_length: Some(max),
                charset: Some(cs.into()),
                ..col("tinytext", "tinytext")
            })
        };
        let kanji = "漢".repeat(100); // 300 bytes of UTF-8
        assert!(ok(&text("utf16", 255), &kanji) && !ok(&text("utf16", 255), &"漢".repeat(128)));
        assert!(ok(&text("ucs2", 255), &kanji) && !ok(&text("ucs2", 255), "😀"));
        assert!(
            !ok(&text("utf16", 255), &"a".repeat(128)),
            "ASCII takes two bytes"
        );
        assert!(ok(&text("utf16", 255), &"a".repeat(127)));
        assert!(ok(&text("utf16", 8), "😀😀") && !ok(&text("utf16", 8), "😀😀a"));
        assert!(ok(&text("utf32", 8), "ab") && !ok(&text("utf32", 8), "abc"));
        assert!(ok(&text("cp1251", 255), &"ж".repeat(255)));
        assert!(!ok(&text("cp1251", 255), &"ж".repeat(256)));
        assert!(ok(&text("gbk", 255), &kanji) && !ok(&text("gbk", 255), &"漢".repeat(128)));
    }

    // See: #30: found by the `validate` fuzz target in its 30-minute run: a DATETIME whose
    // clock holds bytes that are no digits overflowed a u8 in the fast path.
    #[test]
    fn a_clock_of_no_digits_is_refused_not_a_panic() {
        let dt = Check::DateTime {
            fsp: 0,
            timestamp: false,
        };
        assert!(dt.check(b"2023-02-28 %\xd4:\xf5c:\xdc\xe3").is_err());
        assert!(dt.check(b"2023-02-28 \xff\xff:00:00").is_err());
    }

    #[test]
    fn dates_and_times() {
        let d = Check::Date;
        assert!(ok(&d, "2024-02-29") && ok(&d, "0000-00-00") && ok(&d, "2024-00-00"));
        assert!(
            !ok(&d, "2023-02-29")
                && !ok(&d, "2024-13-01")
                && !ok(&d, "2024-1-1")
                && !ok(&d, "yesterday")
        );
        let dt = Check::DateTime {
            fsp: 6,
            timestamp: false,
        };
        assert!(
            ok(&dt, "9999-12-31 23:59:59.999999")
                && ok(&dt, "2024-01-01")
                && ok(&dt, "2024-01-01T10:00:00")
        );
        assert!(!ok(&dt, "2024-01-01 24:00:00") && !ok(&dt, "2024-01-01 10:00:00.1234567"));
        let d0 = Check::DateTime {
            fsp: 0,
            timestamp: false,
        };
        assert!(!ok(&d0, "2024-01-01 10:00:00.5"));
        let ts = Check::DateTime {
            fsp: 6,
            timestamp: true,
        };
        assert!(
            ok(&ts, "2038-01-19 03:14:07.999999")
                && ok(&ts, "1970-01-01 00:00:01")
                && ok(&ts, "0000-00-00 00:00:00")
        );
        assert!(!ok(&ts, "2038-01-19 03:14:08") && !ok(&ts, "1969-12-31 23:59:59"));
        let t = Check::Time { fsp: 3 };
        assert!(ok(&t, "-838:59:59.000") && ok(&t, "838:59:59") && ok(&t, "00:00:00"));
        assert!(!ok(&t, "839:00:00") && !ok(&t, "10:60:00") && !ok(&t, "10:00"));
        assert!(
            ok(&Check::Year, "2155")
                && ok(&Check::Year, "0000")
                && !ok(&Check::Year, "1900")
                && !ok(&Check::Year, "99")
        );
    }

    #[test]
    fn enums_sets_bits() {
        let e = Check::for_column(&ColumnInfo {
            collation: Some("utf8mb4_general_ci".into()),
            ..col("enum", "enum('a,b','c\"d','it''s')")
        });
        assert!(ok(&e, "a,b") && ok(&e, "C\"D") && ok(&e, "it's") && !ok(&e, "") && !ok(&e, "x"));
        let s = Check::for_column(&col("set", "set('x y','z')"));
        assert!(ok(&s, "") && ok(&s, "x y,z") && !ok(&s, "x y,w"));
        assert_eq!(
            crate::schema::members("enum('','a''b','c\\\\d')"),
            vec!["", "a'b", "c\\d"]
        );
        let b = Check::for_column(&ColumnInfo {
            precision: Some(10),
            ..col("bit", "bit(10)")
        });
        assert!(ok(&b, "1023") && !ok(&b, "1024") && !ok(&b, "-1") && !ok(&b, "b'1'"));
        let b64 = Check::for_column(&ColumnInfo {
            precision: Some(64),
            ..col("bit", "bit(64)")
        });
        assert!(ok(&b64, "18446744073709551615") && !ok(&b64, "18446744073709551616"));
    }

    // See: #17 (6): a restore takes what the source's sql_mode took; an import does not.
    #[test]
    fn lenience_takes_invalid_dates_and_enum_error_values() {
        let l = Lenience {
            invalid_dates: true,
            enum_error_value: true,
        };
        assert!(Check::Date.check(b"2024-02-30").is_err());
        assert!(Check::Date.lenient(l).check(b"2024-02-30").is_ok());
        assert!(Check::Date.lenient(l).check(b"2024-02-32").is_err());
        let dt = Check::DateTime {
            fsp: 0,
            timestamp: false,
        };
        assert!(dt.clone().lenient(l).check(b"2023-04-31 10:00:00").is_ok());
        // TIMESTAMP has no invalid dates, whatever the mode.
        let ts = Check::DateTime {
            fsp: 0,
            timestamp: true,
        };
        assert!(ts.lenient(l).check(b"2023-04-31 10:00:00").is_err());
        let e = Check::Enum {
            members: vec!["a".into()],
            ci: true,
        };
        assert!(e.check(b"").is_err());
        assert!(e.clone().lenient(l).check(b"").is_ok());
        assert!(e.lenient(l).check(b"z").is_err());
    }
}
