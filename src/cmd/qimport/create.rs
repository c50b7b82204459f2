//! `--create` and `--schema FILE`: make the target table when it does not exist.
//!
//! `--create` infers conservative types from every value of the input (a pipe is first
//! spooled to a temporary file, so memory stays flat): an integer type only for canonical
//! integers (`007` stays text, its zeros kept), DECIMAL(p,s), DATE or DATETIME(fsp) when
//! every value is a valid one, otherwise VARCHAR(n) or TEXT. Every column is nullable and
//! there is no key: add them later, or give `--schema FILE` with the CREATE TABLE
//! statement instead.
//!
//! The sizes leave room, so that tomorrow's file fits the table made from today's (see:
//! #25): BIGINT once values reach 9 digits (INT ends at 2,147,483,647); DECIMAL with 4
//! more integer digits than seen (the scale as seen); VARCHAR of at least twice the
//! longest value, rounded up to 64, 128, 255, 512, 1024 or 2048 characters (over 1024
//! characters seen: TEXT). A row of many wide columns would pass InnoDB's 65,535-byte row
//! limit: the widest VARCHARs then become TEXT.

use std::io::Read;

use anyhow::bail;

use super::validate::Check;
use qtools_csv::dialect::Dialect;
use qtools_csv::record::{Reader, Record};

use crate::sql::{quote_ident, TableName};

/// What the values of one column have all been so far.
/// The integer digits a DECIMAL gets beyond those seen.
const ROOM_DIGITS: u64 = 4;

/// What the VARCHARs of one row may take in all (InnoDB's row limit is 65,535 bytes; a
/// utf8mb4 character takes up to 4, plus 2 bytes of length each), with room for the
/// other columns.
const ROW_VARCHAR_BYTES: u64 = 60_000;

#[derive(Debug, Clone, Default)]
pub struct Inferred {
    seen: bool,
    all_int: bool,
    all_number: bool,
    all_date: bool,
    all_datetime: bool,
    int_digits: u64,
    scale: u64,
    fsp: u64,
    max_chars: u64,
    max_bytes: u64,
    big: bool,
}

impl Inferred {
    fn new() -> Self {
        Inferred {
            all_int: true,
            all_number: true,
            all_date: true,
            all_datetime: true,
            ..Inferred::default()
        }
    }

    fn add(&mut self, v: &[u8]) {
        self.seen = true;
        self.max_bytes = self.max_bytes.max(v.len() as u64);
        self.max_chars = self
            .max_chars
            .max(String::from_utf8_lossy(v).chars().count() as u64);
        let body = v.strip_prefix(b"-").unwrap_or(v);
        let (int, frac) = match body.iter().position(|&b| b == b'.') {
            Some(p) => (&body[..p], Some(&body[p + 1..])),
            None => (body, None),
        };
        // A negative zero (`-0`, `-0.00`) would read back without its sign: text.
        let negative_zero = v.starts_with(b"-")
            && int
                .iter()
                .chain(frac.unwrap_or_default())
                .all(|&b| b == b'0');
        let canonical_int = !int.is_empty()
            && int.iter().all(u8::is_ascii_digit)
            && (int.len() == 1 || int[0] != b'0')
            && !negative_zero;
        let is_int = canonical_int && frac.is_none() && int.len() <= 18;
        let is_number =
            canonical_int && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit));
        self.all_int &= is_int;
        self.all_number &= is_number;
        if is_number {
            self.int_digits = self.int_digits.max(int.len() as u64);
            self.scale = self.scale.max(frac.map_or(0, |f| f.len() as u64));
        }
        if is_int && int.len() > 9 {
            self.big = true;
        }
        let date = Check::Date.check(v).is_ok();
        self.all_date &= date;
        let datetime = date
            || (v.len() >= 19
                && Check::DateTime {
                    fsp: 6,
                    timestamp: false,
                }
                .check(v)
                .is_ok());
        self.all_datetime &= datetime;
        if datetime && v.len() > 20 {
            self.fsp = self.fsp.max(v.len() as u64 - 20);
        }
    }

    /// Fold in what another input saw of the same column.
    pub fn merge(&mut self, o: &Inferred) {
        if !o.seen {
            return;
        }
        if !self.seen {
            *self = o.clone();
            return;
        }
        self.all_int &= o.all_int;
        self.all_number &= o.all_number;
        self.all_date &= o.all_date;
        self.all_datetime &= o.all_datetime;
        self.int_digits = self.int_digits.max(o.int_digits);
        self.scale = self.scale.max(o.scale);
        self.fsp = self.fsp.max(o.fsp);
        self.max_chars = self.max_chars.max(o.max_chars);
        self.max_bytes = self.max_bytes.max(o.max_bytes);
        self.big |= o.big;
    }

    /// The column type for what was seen.
    pub fn sql_type(&self) -> String {
        if !self.seen {
            return "VARCHAR(255)".into();
        }
        if self.all_int {
            return if self.big || self.int_digits >= 9 {
                "BIGINT"
            } else {
                "INT"
            }
            .into();
        }
        if self.all_number && self.int_digits + self.scale <= 65 && self.scale <= 30 {
            let room = (self.int_digits + ROOM_DIGITS + self.scale).min(65);
            return format!("DECIMAL({room},{})", self.scale);
        }
        if self.all_date {
            return "DATE".into();
        }
        if self.all_datetime {
            return if self.fsp > 0 {
                format!("DATETIME({})", self.fsp.min(6))
            } else {
                "DATETIME".into()
            };
        }
        if let Some(n) = self.varchar() {
            return format!("VARCHAR({n})");
        }
        self.text()
    }

    /// The length of the VARCHAR for what was seen, when it is one: room for twice the
    /// longest value.
    fn varchar(&self) -> Option<u64> {
        if !self.seen {
            return Some(255);
        }
        if self.all_int || self.all_date || self.all_datetime || self.decimal() {
            return None;
        }
        (self.max_chars <= 1024).then(|| {
            let want = 2 * self.max_chars;
            // Never under 64: a VARCHAR of 255 bytes or less stays in the row, and InnoDB
            // takes no more than 8,126 bytes in one (63 columns of VARCHAR(32) did not
            // fit); a longer one may move out of it.
            [64, 128, 255, 512, 1024, 2048]
                .into_iter()
                .find(|&n| n >= want)
                .unwrap_or(2048)
        })
    }

    fn decimal(&self) -> bool {
        self.all_number && self.int_digits + self.scale <= 65 && self.scale <= 30
    }

    /// The TEXT type that holds what was seen.
    fn text(&self) -> String {
        match self.max_bytes {
            b if b <= 65_535 => "TEXT".into(),
            b if b <= 16_777_215 => "MEDIUMTEXT".into(),
            _ => "LONGTEXT".into(),
        }
    }
}

/// Read every record of `src` and infer a type per field, named by the header (or
/// `names`, or c1, c2, ...).
pub fn infer(
    src: impl Read,
    d: &Dialect,
    names: Option<&[String]>,
) -> anyhow::Result<(Vec<String>, Vec<Inferred>)> {
    let mut rdr = Reader::new(src, d.delimiter).strict(true);
    let mut rec = Record::default();
    let mut header: Vec<String> = Vec::new();
    if d.header {
        if !rdr.read(&mut rec).map_err(|e| e.in_file("input"))? {
            bail!("--create: empty input: expected a header row");
        }
        header = rec
            .iter()
            .map(|(v, _)| String::from_utf8_lossy(v).trim().to_owned())
            .collect();
    }
    if let Some(n) = names {
        header = n.to_vec();
    }
    let mut cols: Vec<Inferred> = vec![Inferred::new(); header.len()];
    while rdr.read(&mut rec).map_err(|e| e.in_file("input"))? {
        if header.is_empty() {
            header = (1..=rec.len()).map(|i| format!("c{i}")).collect();
            cols = vec![Inferred::new(); header.len()];
        }
        for ((v, quoted), c) in rec.iter().zip(cols.iter_mut()) {
            if !d.is_null(v, quoted) {
                c.add(v);
            }
        }
    }
    if header.is_empty() {
        bail!("--create: no columns to create");
    }
    Ok((header, cols))
}

/// The table `create_sql` would make, as the loaders see it (for a dry run, which
/// makes none).
pub fn would_be(
    table: &TableName,
    names: &[String],
    cols: &[Inferred],
) -> crate::schema::TableInfo {
    let columns = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ty = cols
                .get(i)
                .map_or_else(|| "VARCHAR(255)".into(), Inferred::sql_type)
                .to_ascii_lowercase();
            let data_type = ty.split('(').next().unwrap_or_default().to_owned();
            crate::schema::ColumnInfo {
                nullable: true,
                has_default: true,
                charset: Some("utf8mb4".into()),
                ..crate::schema::ColumnInfo::typed(n, &data_type, &ty)
            }
        })
        .collect();
    crate::schema::TableInfo {
        name: table.clone(),
        columns,
        key: Vec::new(),
        engine: Some("InnoDB".into()),
        estimated_rows: 0,
        avg_row_length: 0,
        period: None,
    }
}

/// The names of one input's header can name columns: none empty, none longer than the
/// server takes, none twice (column names differ ignoring case). Checked before anything
/// is made.
pub fn check_names(input: &str, names: &[String]) -> anyhow::Result<()> {
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            bail!("--create: {input}: header field {} has no name", i + 1);
        }
        if n.chars().count() > 64 {
            bail!(
                "--create: {input}: header field {} ({n:?}) is longer than the 64 characters a column name may have (nothing was created)",
                i + 1
            );
        }
        if let Some(first) = names[..i]
            .iter()
            .find(|m| m.to_lowercase() == n.to_lowercase())
        {
            bail!(
                "--create: {input}: the header names one column twice ({first:?} and {n:?}; column names differ only ignoring case): rename one (nothing was created)"
            );
        }
    }
    Ok(())
}

/// The CREATE TABLE statement.
pub fn create_sql(
    table: &TableName,
    names: &[String],
    cols: &[Inferred],
) -> anyhow::Result<String> {
    let unseen = Inferred::default();
    let col = |i: usize| cols.get(i).unwrap_or(&unseen);
    // The widest VARCHARs become TEXT while the row would pass InnoDB's limit.
    let mut as_text = vec![false; names.len()];
    let bytes = |n: u64| 4 * n + 2;
    let mut row: u64 = (0..names.len())
        .filter_map(|i| col(i).varchar())
        .map(bytes)
        .sum();
    while row > ROW_VARCHAR_BYTES {
        let Some((i, n)) = (0..names.len())
            .filter(|&i| !as_text[i])
            .filter_map(|i| col(i).varchar().map(|n| (i, n)))
            .max_by_key(|&(i, n)| (n, col(i).max_chars, std::cmp::Reverse(i)))
        else {
            break;
        };
        as_text[i] = true;
        row -= bytes(n);
    }
    let mut defs = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            bail!("--create: header field {} has no name", i + 1);
        }
        let t = if as_text[i] {
            col(i).text()
        } else {
            col(i).sql_type()
        };
        defs.push(format!("  {} {t} NULL", quote_ident(n)));
    }
    Ok(format!(
        "CREATE TABLE {} (\n{}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        table.quoted(),
        defs.join(",\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(csv: &str) -> Vec<String> {
        let (_, cols) = infer(csv.as_bytes(), &Dialect::default(), None).unwrap();
        cols.iter().map(Inferred::sql_type).collect()
    }

    #[test]
    fn conservative_types() {
        assert_eq!(
            types("a,b,c,d,e,f,g,h\n1,007,1.50,2024-01-01,2024-01-01 10:00:00.25,x,,12345678901\n-20,1,-3,2024-02-29,2024-01-02,longer,,1\n"),
            vec!["INT", "VARCHAR(64)", "DECIMAL(7,2)", "DATE", "DATETIME(2)", "VARCHAR(64)", "VARCHAR(255)", "BIGINT"]
        );
        assert_eq!(types("z\n1e5\n"), vec!["VARCHAR(64)"]);
        assert_eq!(types("z\n2024-02-30\n"), vec!["VARCHAR(64)"]);
        // See: #23 (5): a negative zero would come back without its sign.
        assert_eq!(types("z\n-0\n5\n"), vec!["VARCHAR(64)"]);
        assert_eq!(types("z\n-0.00\n"), vec!["VARCHAR(64)"]);
        assert_eq!(types("z\n-0.5\n0\n"), vec!["DECIMAL(6,1)"]);
    }

    // See: #25: tomorrow's file fits the table made from today's.
    #[test]
    fn sizes_leave_room() {
        assert_eq!(types("z\n12345678\n"), vec!["INT"]);
        assert_eq!(types("z\n123456789\n"), vec!["BIGINT"]);
        assert_eq!(types("z\n999.99\n"), vec!["DECIMAL(9,2)"]);
        assert_eq!(
            types(&format!("z\n{}\n", "x".repeat(100))),
            vec!["VARCHAR(255)"]
        );
        assert_eq!(
            types(&format!("z\n{}\n", "x".repeat(200))),
            vec!["VARCHAR(512)"]
        );
        assert_eq!(
            types(&format!("z\n{}\n", "x".repeat(1000))),
            vec!["VARCHAR(2048)"]
        );
        assert_eq!(types(&format!("z\n{}\n", "x".repeat(1025))), vec!["TEXT"]);
    }

    // See: #25: many wide columns stay under InnoDB's row limit: the widest become TEXT.
    #[test]
    fn a_wide_row_fits_the_row_limit() {
        let names: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let head = names.join(",");
        let row: Vec<String> = (0..20).map(|i| "x".repeat(300 + i)).collect();
        let csv = format!("{head}\n{}\n", row.join(","));
        let (_, cols) = infer(csv.as_bytes(), &Dialect::default(), None).unwrap();
        let t = TableName {
            database: None,
            table: "t".into(),
        };
        let sql = create_sql(&t, &names, &cols).unwrap();
        let text = sql.matches(" TEXT ").count();
        let varchar = sql.matches("VARCHAR(1024)").count();
        assert_eq!(text + varchar, 20, "{sql}");
        assert!(4 * 1026 * varchar as u64 <= ROW_VARCHAR_BYTES, "{sql}");
        assert!(sql.contains("`c19` TEXT"), "the widest first: {sql}");
    }
}
