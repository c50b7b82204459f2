//! A duplicate key, said so that the user can act on it: the first duplicate, where it is
//! in the input (file:line, and the earlier line with the same key when the input repeats
//! it), how many more the server skipped, and the flags that settle it.
//!
//! LOAD DATA does not say on which line a key repeats, and the server prints the key's
//! value, not the record: a regular file (stdin redirected from one included) is read
//! again, only after a failure, to find the first record with that key. A stream cannot
//! be read again; its message names the value, and `--method insert`, which does find
//! the line.

use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::check::{layout, Checker};
use qtools_csv::record::{Reader, Record};

use crate::dberror::{Code, Warning};
use crate::input::Input;
use crate::schema::{ColumnInfo, SqlType, TableInfo};

/// The server's `Duplicate entry 'ENTRY' for key 'KEY'` (ERROR 1062).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Duplicate {
    /// The key's values as the server prints them: joined by `-`, cut at 64 bytes with
    /// `...`.
    pub(super) entry: String,
    /// The key's name (MySQL 8 puts the table's name before it: `users.PRIMARY`).
    pub(super) key: String,
}

impl Duplicate {
    /// The duplicate a server error or warning of `code` names, when it is one. Its
    /// entry and key are read from the server's English words: a server that speaks
    /// another language (`lc_messages`) gets the generic message instead.
    pub(super) fn of(code: Code, msg: &str) -> Option<Duplicate> {
        if code != Code::DupEntry {
            return None;
        }
        Duplicate::parse(msg)
    }

    fn parse(msg: &str) -> Option<Duplicate> {
        let rest = msg.split("Duplicate entry '").nth(1)?;
        let (entry, key) = rest.rsplit_once("' for key '")?;
        let key = key.split('\'').next()?;
        let key = key.rsplit_once('.').map_or(key, |(_, k)| k);
        Some(Duplicate {
            entry: entry.to_owned(),
            key: key.to_owned(),
        })
    }
}

/// Where a duplicate is: the record the server refused, and where its key was before.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Place {
    pub(super) file: String,
    pub(super) line: u64,
    pub(super) before: Before,
    /// The refused record's key values (to look for in the table).
    pub(super) key: Vec<Vec<u8>>,
}

/// Where a refused record's key was before it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Before {
    /// In the table (before the load, or from an earlier input of it).
    Table,
    /// On this line of an input loaded before.
    Input(String, u64),
    /// Not in the table: on an earlier line of the input, under another spelling that the
    /// key's collation takes as the same (case, accents, trailing spaces).
    Alike,
    /// A later record repeats this one's key under another spelling (found as a key was
    /// built after the rows: the later record is the one the server refused).
    Later,
    /// On this earlier line of the same input.
    Line(u64),
    /// Not known (the input could not be read again).
    Unknown,
}

/// What a duplicate's message is made of: the import's settings, the table, the input's
/// name, and the inputs that can be read again (see [`Input::again`]).
pub(super) struct Explain<'a> {
    pub(super) cfg: &'a Config,
    pub(super) info: &'a TableInfo,
    pub(super) name: &'a str,
    pub(super) inputs: &'a [Input],
    /// The inputs loaded before these, in the same transaction (that can be read again):
    /// a key may be theirs.
    pub(super) earlier: &'a [Input],
}

/// The inputs a duplicate found after every row is in may be looked for in: all of them,
/// or none when one cannot be read again (a pipe, a compressed file): its records might
/// be either of the two, and the others alone would name the wrong ones.
pub(super) fn all_or_none(again: Vec<Input>, inputs: usize) -> Vec<Input> {
    if again.len() == inputs {
        again
    } else {
        Vec::new()
    }
}

impl Explain<'_> {
    /// The first of `messages` (a load's warnings) that is a duplicate key, said in one
    /// line; None when some message is another warning (those are said as they were).
    /// `skipped`: the records the server skipped.
    pub(super) fn loaded(
        &self,
        conn: &mut Conn,
        messages: &[Warning],
        skipped: u64,
    ) -> Option<String> {
        let dup = messages
            .iter()
            .find_map(|w| Duplicate::of(w.code, &w.message))?;
        // Other warnings than duplicates are said as they were.
        if messages.iter().any(|w| w.code != Code::DupEntry) {
            return None;
        }
        Some(self.say(conn, &dup, skipped.saturating_sub(1)))
    }

    /// One duplicate (the server stopped at it), said with its place.
    pub(super) fn say(&self, conn: &mut Conn, dup: &Duplicate, more: u64) -> String {
        let (cols, place) = self.find(conn, dup);
        self.words(dup, &cols, more, place.as_ref())
    }

    /// One duplicate of a key the table does not have yet, met as the key is built after
    /// the rows (whose columns are `key`): the table held no row before, so both records
    /// are in the inputs (or the second repeats the first's key, spelled otherwise).
    pub(super) fn say_of_key(&self, dup: &Duplicate, key: &[String]) -> String {
        let cols: Vec<ColumnInfo> = key
            .iter()
            .filter_map(|n| self.info.columns.iter().find(|c| &c.name == n).cloned())
            .collect();
        let located = |i: &Input| locate(self.cfg, self.info, dup, &cols, i);
        let mut place = None;
        for (n, input) in self.inputs.iter().enumerate() {
            let Some(mut p) = located(input) else {
                continue;
            };
            if p.before == Before::Table {
                // Once in this input: the second is in a later one, or spelled otherwise.
                p = match self.inputs[n + 1..].iter().find_map(located) {
                    Some(second) => Place {
                        before: Before::Input(p.file, p.line),
                        ..second
                    },
                    None => Place {
                        before: Before::Later,
                        ..p
                    },
                };
            }
            place = Some(p);
            break;
        }
        if place.is_none() {
            let names: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
            let from = if !self.name.is_empty() {
                self.name.to_owned()
            } else if names.is_empty() {
                "the input".to_owned()
            } else {
                names.join(", ")
            };
            let cols: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            return format!(
                "{from}: duplicate key: ({}) '{}' (key {}), found as the key was built after the rows, on lines qimport could not find again in the input (--no-defer-indexes --method insert names them); give --mode upsert|ignore|replace to keep one row per key",
                cols.join(", "),
                dup.entry,
                dup.key
            );
        }
        self.words(dup, &cols, 0, place.as_ref())
    }

    /// The key's columns and where the duplicate is in the inputs, if it can be found.
    fn find(&self, conn: &mut Conn, dup: &Duplicate) -> (Vec<ColumnInfo>, Option<Place>) {
        let cols = key_columns(conn, self.info, &dup.key);
        let place = self.place(dup, &cols);
        (cols, place)
    }

    /// Where the duplicate of the key of `cols` is in the inputs, if it can be found.
    fn place(&self, dup: &Duplicate, cols: &[ColumnInfo]) -> Option<Place> {
        let mut place = self
            .inputs
            .iter()
            .find_map(|i| locate(self.cfg, self.info, dup, cols, i));
        // Found once in the input: the key is in an input loaded before, or in the table
        // as it was before the load (asked on a session of its own, which sees nothing of
        // this load), or it is an earlier record's spelled otherwise (`abc` after `Abc`).
        if let Some(p) = place.as_mut().filter(|p| p.before == Before::Table) {
            if let Some(at) = self
                .earlier
                .iter()
                .find_map(|i| locate(self.cfg, self.info, dup, cols, i))
            {
                p.before = Before::Input(at.file, at.line);
            } else if self.cfg.old_rows.replaced() || !self.in_table(cols, &p.key) {
                p.before = Before::Alike;
            }
        }
        place
    }

    /// A duplicate `--method insert` found on `line` of the input.
    pub(super) fn at(&self, conn: &mut Conn, dup: &Duplicate, line: u64) -> String {
        let (cols, found) = self.find(conn, dup);
        let place = match found {
            Some(p) if p.line == line => p,
            _ => Place {
                file: self.name.to_owned(),
                line,
                before: Before::Unknown,
                key: Vec::new(),
            },
        };
        self.words(dup, &cols, 0, Some(&place))
    }

    /// The line, from what is known.
    pub(super) fn words(
        &self,
        dup: &Duplicate,
        cols: &[ColumnInfo],
        more: u64,
        place: Option<&Place>,
    ) -> String {
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let what = match names[..] {
            [] => format!("'{}' (key {})", dup.entry, dup.key),
            [one] => format!("{one} '{}' (key {})", dup.entry, dup.key),
            _ => format!("({}) '{}' (key {})", names.join(", "), dup.entry, dup.key),
        };
        let more = if more > 0 {
            format!(", and {}", crate::error::plural(more, "more record"))
        } else {
            String::new()
        };
        let modes = "give --mode upsert|ignore|replace to keep one row per key";
        let (truncate, maybe) = if self.cfg.old_rows.replaced() {
            ("", "")
        } else {
            (
                ", or --truncate to replace the table's rows",
                " (or --truncate, if the key is in the table and its rows are to go)",
            )
        };
        let table = &self.info.name;
        match place {
            Some(Place {
                file, line, before, ..
            }) => {
                let (was, truncate) = match before {
                    Before::Line(e) => (format!(" is on line {e} too"), ""),
                    Before::Input(f, l) => (format!(" is in {f}:{l} too"), ""),
                    Before::Table => (format!(" is in {table} already"), truncate),
                    Before::Later => (
                        " is repeated by a later record, spelled otherwise (the key's collation takes case, accents or trailing spaces as the same)".to_owned(),
                        "",
                    ),
                    Before::Alike => (
                        " repeats an earlier record's key, spelled otherwise (the key's collation takes case, accents or trailing spaces as the same)".to_owned(),
                        "",
                    ),
                    Before::Unknown => (String::new(), maybe),
                };
                format!("{file}:{line}: duplicate key: {what}{was}{more}; {modes}{truncate}")
            }
            None => format!(
                "{}: duplicate key: {what}{more} (LOAD DATA does not say on which line; --method insert does); {modes}{maybe}",
                self.name,
            ),
        }
    }
}

/// The columns of the table's key `key`, in key order (empty when it is not found).
fn key_columns(conn: &mut Conn, info: &TableInfo, key: &str) -> Vec<ColumnInfo> {
    let db = info.name.database.clone().unwrap_or_default();
    let names: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ? ORDER BY SEQ_IN_INDEX",
            (db, &info.name.table, key),
        )
        .unwrap_or_default();
    names
        .iter()
        .filter_map(|n| info.columns.iter().find(|c| &c.name == n).cloned())
        .collect()
}

/// The record of `file` the duplicate is about: its first record with that key, or the
/// second when the file holds it twice (the server refused the second).
fn locate(
    cfg: &Config,
    info: &TableInfo,
    dup: &Duplicate,
    cols: &[ColumnInfo],
    input: &Input,
) -> Option<Place> {
    if cols.is_empty() {
        return None;
    }
    let input = input.again()?;
    let name = input.name.clone();
    let d = &cfg.dialect;
    let mut rdr = Reader::new(input.reader, d.delimiter).strict(true);
    let mut header = None;
    if d.header {
        let mut rec = Record::default();
        rdr.read(&mut rec).ok()?;
        header = Some(rec);
    }
    let lay = layout(cfg, info, &name, header.as_ref()).ok()?;
    if header.is_none() {
        rdr = rdr.expect_width(lay.fields.len());
    }
    // Where each key column is among the loaded columns.
    let at: Vec<usize> = cols
        .iter()
        .map(|c| lay.cols.iter().position(|l| l.name == c.name))
        .collect::<Option<_>>()?;
    let mut found: Vec<(u64, Vec<Vec<u8>>)> = Vec::new();
    let mut checker = Checker::new(cfg);
    checker.progress = crate::progress::Progress::hidden();
    let _ = checker.read_records(&name, &mut rdr, &lay, &mut |row| {
        let mut key = String::new();
        for (n, (&i, c)) in at.iter().zip(cols).enumerate() {
            let Some(v) = row.values.get(i).copied().flatten() else {
                // A NULL is never a duplicate.
                return Ok(());
            };
            if n > 0 {
                key.push('-');
            }
            key.push_str(&as_server_prints(c, v));
        }
        if same_entry(&dup.entry, &key) {
            let values = at
                .iter()
                .map(|&i| row.values[i].unwrap_or_default().to_vec())
                .collect();
            found.push((row.line, values));
            if found.len() == 2 {
                anyhow::bail!("found");
            }
        }
        Ok(())
    });
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some((line, key)), None) => Some(Place {
            file: name,
            line,
            before: Before::Table,
            key,
        }),
        (Some((first, _)), Some((line, key))) => Some(Place {
            file: name,
            line,
            before: Before::Line(first),
            key,
        }),
        _ => None,
    }
}

impl Explain<'_> {
    /// The table held a row with the key `values` before the load (compared as the
    /// server compares them: by the columns' collations), as a session of its own sees
    /// it. When it cannot be asked, it is taken to hold one.
    fn in_table(&self, cols: &[ColumnInfo], values: &[Vec<u8>]) -> bool {
        if cols.is_empty() || cols.len() != values.len() {
            return true;
        }
        let Ok(mut conn) = self.cfg.connect() else {
            return true;
        };
        holds(&mut conn, self.info, cols, values)
    }
}

/// `conn` sees a row of the table with the key `values`.
fn holds(conn: &mut Conn, info: &TableInfo, cols: &[ColumnInfo], values: &[Vec<u8>]) -> bool {
    let cond: Vec<String> = cols
        .iter()
        .map(|c| format!("{} = ?", crate::sql::quote_ident(&c.name)))
        .collect();
    let sql = format!(
        "SELECT 1 FROM {} WHERE {} LIMIT 1",
        info.name.quoted(),
        cond.join(" AND ")
    );
    let params: Vec<mysql::Value> = values
        .iter()
        .map(|v| mysql::Value::Bytes(v.clone()))
        .collect();
    conn.exec_first::<u8, _, _>(sql, params)
        .map_or(true, |r| r.is_some())
}

/// A value as the server prints it in a duplicate-key message: a DECIMAL with all its
/// scale's digits, an integer without a plus or leading zeros; anything else as it is.
fn as_server_prints(c: &ColumnInfo, v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let s = s.trim();
    match c.ty {
        SqlType::Int { .. } => {
            let (sign, digits) = match s.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", s.strip_prefix('+').unwrap_or(s)),
            };
            let digits = digits.trim_start_matches('0');
            if digits.is_empty() {
                "0".to_owned()
            } else {
                format!("{sign}{digits}")
            }
        }
        SqlType::Decimal { scale, .. } => {
            let s = s.strip_prefix('+').unwrap_or(s);
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            let (sign, int) = match int.strip_prefix('-') {
                Some(i) => ("-", i),
                None => ("", int),
            };
            let int = match int.trim_start_matches('0') {
                "" => "0",
                i => i,
            };
            let scale = usize::try_from(scale).unwrap_or(0);
            let mut frac = frac.to_owned();
            frac.truncate(scale);
            while frac.len() < scale {
                frac.push('0');
            }
            if scale == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            }
        }
        _ => s.to_owned(),
    }
}

/// The server's entry (cut at 64 bytes, then `...`) is that of `key`.
fn same_entry(entry: &str, key: &str) -> bool {
    if entry == key {
        return true;
    }
    match entry.strip_suffix("...") {
        Some(cut) if entry.len() >= 64 => key.starts_with(cut) && key.len() > cut.len(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_servers_words() {
        let d = Duplicate::parse("Duplicate entry '1-x-y' for key 'PRIMARY'").unwrap();
        assert_eq!((d.entry.as_str(), d.key.as_str()), ("1-x-y", "PRIMARY"));
        let d = Duplicate::parse("Duplicate entry 'it''s' for key 'users.email'").unwrap();
        assert_eq!((d.entry.as_str(), d.key.as_str()), ("it''s", "email"));
        assert!(Duplicate::parse("Data truncated for column 'a' at row 1").is_none());
    }

    #[test]
    fn values_as_the_server_prints_them() {
        let dec = ColumnInfo::typed("d", "decimal", "decimal(5,2)");
        assert_eq!(as_server_prints(&dec, b"1.5"), "1.50");
        assert_eq!(as_server_prints(&dec, b"-001.5"), "-1.50");
        assert_eq!(as_server_prints(&dec, b"7"), "7.00");
        let int = ColumnInfo::typed("i", "int", "int(11)");
        assert_eq!(as_server_prints(&int, b"+007"), "7");
        assert_eq!(as_server_prints(&int, b"-0"), "0");
        assert!(same_entry("1-x", "1-x"));
        let long = format!("{}...", "a".repeat(64));
        assert!(same_entry(&long, &"a".repeat(100)));
        assert!(!same_entry(&long, &"a".repeat(64)));
    }
}
