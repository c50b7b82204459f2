//! What the tools need to know about a table, from `information_schema`: its columns and
//! their types, the key that orders it (for key-ordered and parallel exports), its engine
//! and its estimated size. Also how a value of each type travels in CSV ([`ValueKind`]):
//! the MySQL side's to say, so that the CSV core (`qtools_csv`) knows nothing of SQL types.

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::sql::{quote_ident, TableName};

/// How a value travels in CSV: as text, as bytes encoded by `--binary`, or (BIT) as a
/// number. qexport decides it from the result's wire types, qimport from the column's
/// [`SqlType`]; both write and read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    /// Bytes: encoded by `--binary`.
    Binary,
    /// BIT(n): a number.
    Bit,
}

/// A BIT value (big-endian bytes, as the server sends it) as a decimal number.
pub fn bit_to_decimal(bytes: &[u8], out: &mut Vec<u8>) {
    let n = bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    out.extend_from_slice(n.to_string().as_bytes());
}

/// A column's SQL type with what the tools need of its parameters, parsed once from
/// `information_schema.COLUMNS` ([`SqlType::parse`]): validation, loading, key ranges and
/// the export match on it, so that a new type is taught in one place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SqlType {
    /// TINYINT to BIGINT, `bits` wide.
    Int {
        bits: u32,
        unsigned: bool,
    },
    /// DECIMAL(precision, scale).
    Decimal {
        precision: u64,
        scale: u64,
        unsigned: bool,
    },
    /// FLOAT (`double` false) or DOUBLE; `fixed`: the digits and decimals of FLOAT(M,D).
    Float {
        double: bool,
        unsigned: bool,
        fixed: Option<(u64, u64)>,
    },
    /// BIT(width).
    Bit {
        width: u32,
    },
    /// CHAR, VARCHAR: limited in characters.
    Char,
    /// TINYTEXT to LONGTEXT (JSON too): limited in bytes.
    Text,
    /// BINARY, VARBINARY and the BLOBs.
    Binary,
    /// The spatial types (bytes, WKB).
    Geometry,
    Date,
    DateTime {
        fsp: u32,
    },
    Timestamp {
        fsp: u32,
    },
    Time {
        fsp: u32,
    },
    Year,
    Enum(Vec<String>),
    Set(Vec<String>),
    /// A type the server parses from its text form and stores otherwise (MariaDB's UUID,
    /// INET4, INET6): its value must reach the server as text, never as raw bytes.
    FromText,
    /// Anything else: the server judges its values.
    #[default]
    Other,
}

impl SqlType {
    /// From `DATA_TYPE` (any case), `COLUMN_TYPE`, `NUMERIC_PRECISION`, `NUMERIC_SCALE`
    /// and `DATETIME_PRECISION`.
    pub fn parse(
        data_type: &str,
        column_type: &str,
        precision: Option<u64>,
        scale: Option<u64>,
        fsp: Option<u64>,
    ) -> SqlType {
        let unsigned = column_type.contains("unsigned");
        let fsp = u32::try_from(fsp.unwrap_or(0)).unwrap_or(6);
        let int = |bits| SqlType::Int { bits, unsigned };
        match data_type.to_ascii_lowercase().as_str() {
            "tinyint" => int(8),
            "smallint" => int(16),
            "mediumint" => int(24),
            "int" | "integer" => int(32),
            "bigint" => int(64),
            "decimal" | "numeric" => SqlType::Decimal {
                precision: precision.unwrap_or(65),
                scale: scale.unwrap_or(0),
                unsigned,
            },
            "float" => SqlType::Float {
                double: false,
                unsigned,
                fixed: precision.zip(scale),
            },
            "double" | "real" => SqlType::Float {
                double: true,
                unsigned,
                fixed: precision.zip(scale),
            },
            "bit" => SqlType::Bit {
                width: u32::try_from(precision.unwrap_or(1)).unwrap_or(64),
            },
            "char" | "varchar" => SqlType::Char,
            "tinytext" | "text" | "mediumtext" | "longtext" | "json" => SqlType::Text,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                SqlType::Binary
            }
            "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
            | "multipolygon" | "geometrycollection" => SqlType::Geometry,
            "date" => SqlType::Date,
            "datetime" => SqlType::DateTime { fsp },
            "timestamp" => SqlType::Timestamp { fsp },
            "time" => SqlType::Time { fsp },
            "year" => SqlType::Year,
            "enum" => SqlType::Enum(members(column_type)),
            "set" => SqlType::Set(members(column_type)),
            "uuid" | "inet4" | "inet6" => SqlType::FromText,
            _ => SqlType::Other,
        }
    }

    /// How its values travel in CSV.
    pub fn value_kind(&self) -> ValueKind {
        match self {
            SqlType::Binary | SqlType::Geometry => ValueKind::Binary,
            SqlType::Bit { .. } => ValueKind::Bit,
            _ => ValueKind::Text,
        }
    }

    /// Bytes rather than text.
    pub fn is_binary(&self) -> bool {
        matches!(self, SqlType::Binary | SqlType::Geometry)
    }

    /// A number in the text protocol (a key value is written back as it is).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            SqlType::Int { .. } | SqlType::Decimal { .. } | SqlType::Float { .. } | SqlType::Year
        )
    }

    /// Key ranges can be computed for a key of this type. (ENUM sorts by its index but
    /// compares as text, and BIT or spatial keys are rare: those tables use one
    /// connection.)
    pub fn ranges(&self) -> bool {
        self.is_numeric()
            || matches!(
                self,
                SqlType::Char
                    | SqlType::Binary
                    | SqlType::Date
                    | SqlType::DateTime { .. }
                    | SqlType::Timestamp { .. }
                    | SqlType::Time { .. }
            )
    }
}

/// The members of `enum('a','b''c')` or `set(...)`.
pub fn members(column_type: &str) -> Vec<String> {
    let Some(start) = column_type.find('(') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut chars = column_type[start + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut m = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    m.push('\'');
                }
                Some('\\') => {
                    if let Some(e) = chars.next() {
                        m.push(e);
                    }
                }
                Some('\'') | None => break,
                Some(c) => m.push(c),
            }
        }
        out.push(m);
    }
    out
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnInfo {
    pub name: String,
    /// The type, parsed (see [`SqlType`]).
    pub ty: SqlType,
    /// `COLUMN_TYPE`: the full declaration, such as `int(10) unsigned`, for messages and
    /// the backup manifest.
    pub column_type: String,
    pub nullable: bool,
    /// `CHARACTER_SET_NAME` and `COLLATION_NAME` of text columns.
    pub charset: Option<String>,
    pub collation: Option<String>,
    /// Characters for CHAR/VARCHAR (`CHARACTER_MAXIMUM_LENGTH`), bytes for binary and
    /// for TEXT (`CHARACTER_OCTET_LENGTH`: the maximum length of a TEXT column in utf16 is
    /// 127, its characters of two bytes at least, and its limit 255 bytes).
    pub max_length: Option<u64>,
    /// `NUMERIC_PRECISION`, `NUMERIC_SCALE` (DECIMAL, BIT width) and `DATETIME_PRECISION`.
    pub precision: Option<u64>,
    pub scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    /// `EXTRA`: `auto_increment`, `VIRTUAL GENERATED`, ..., read once.
    pub extra: Extra,
    /// `COLUMN_DEFAULT` is not NULL (or the column is nullable).
    pub has_default: bool,
}

/// What a column's `EXTRA` says that qtools decides on (see: #26: read once, by its
/// words, not searched for a substring each time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extra {
    pub auto_increment: bool,
    /// `VIRTUAL GENERATED`, `STORED GENERATED` (MariaDB's `PERSISTENT GENERATED`): the
    /// server computes it. MySQL 8's `DEFAULT_GENERATED` (an expression default) is not.
    pub generated: bool,
}

impl Extra {
    pub fn parse(extra: &str) -> Extra {
        let words: Vec<String> = extra
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        let generated = words.windows(2).any(|w| {
            matches!(w[0].as_str(), "VIRTUAL" | "STORED" | "PERSISTENT") && w[1] == "GENERATED"
        });
        Extra {
            auto_increment: words.iter().any(|w| w == "AUTO_INCREMENT"),
            generated,
        }
    }
}

impl ColumnInfo {
    /// A column of `name` declared `column_type` (tests and synthetic columns).
    /// Its parameters come from the declaration, as the server would report them:
    /// `decimal(5,2)`, `bit(10)`, `datetime(6)`.
    pub fn typed(name: &str, data_type: &str, column_type: &str) -> ColumnInfo {
        let numbers: Vec<u64> = column_type
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(args, _)| {
                args.split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let (precision, scale, fsp) = match data_type {
            "datetime" | "timestamp" | "time" => (None, None, numbers.first().copied()),
            _ => (numbers.first().copied(), numbers.get(1).copied(), None),
        };
        ColumnInfo {
            name: name.to_owned(),
            ty: SqlType::parse(data_type, column_type, precision, scale, fsp),
            column_type: column_type.to_owned(),
            precision,
            scale,
            datetime_precision: fsp,
            ..ColumnInfo::default()
        }
    }

    pub fn is_binary(&self) -> bool {
        self.ty.is_binary()
    }

    pub fn is_generated(&self) -> bool {
        self.extra.generated
    }

    pub fn is_auto_increment(&self) -> bool {
        self.extra.auto_increment
    }

    /// The expression that reads this column losslessly in the text protocol.
    ///
    /// FLOAT is the one type the server prints lossily: 6 significant digits, so
    /// 16777215 comes out as 16777200. Read as DOUBLE, it prints its exact value, which
    /// converts back to the identical FLOAT.
    ///
    /// A FLOAT(M,D) or DOUBLE(M,D) may hold a value past its declared range
    /// (9999999999.99 stored in a FLOAT(12,2) is the float 1e10), which it would refuse to
    /// take back: such a value is written as the range's end, which rounds to the same
    /// float.
    pub fn select_expr(&self) -> String {
        let q = quote_ident(&self.name);
        let SqlType::Float {
            double,
            fixed,
            unsigned,
        } = self.ty
        else {
            return q;
        };
        let exact = if double {
            q.clone()
        } else {
            format!("CAST({q} AS DOUBLE)")
        };
        match fixed {
            // (The range's end as a DECIMAL literal: 65 digits at most.)
            Some((m, d)) if m > d && m <= 65 => {
                let max = format!(
                    "{}.{}",
                    "9".repeat(usize::try_from(m - d).unwrap_or(1)),
                    "9".repeat(usize::try_from(d).unwrap_or(0))
                );
                let max = max.trim_end_matches('.');
                let low = if unsigned {
                    String::new()
                } else {
                    format!(" WHEN {q} < -{max} THEN -{max}")
                };
                format!("CASE WHEN {q} > {max} THEN {max}{low} ELSE {exact} END AS {q}")
            }
            _ if double => q,
            _ => format!("{exact} AS {q}"),
        }
    }
}

/// A table, as the tools see it.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: TableName,
    pub columns: Vec<ColumnInfo>,
    /// The primary key, or else the first unique key of NOT NULL columns without prefix;
    /// empty when the table has neither.
    pub key: Vec<String>,
    pub engine: Option<String>,
    /// `TABLE_ROWS`: an estimate for InnoDB.
    pub estimated_rows: u64,
    /// `AVG_ROW_LENGTH` in bytes: an estimate.
    pub avg_row_length: u64,
    /// A system-versioned table: its row start and row end columns (`row_start` and
    /// `row_end` when the table does not name them), which hold each row's history.
    pub period: Option<[String; 2]>,
}

impl TableInfo {
    /// Read a table's description; an error names the table when it does not exist.
    pub fn load(conn: &mut Conn, db: &str, table: &str) -> anyhow::Result<TableInfo> {
        let rows: Vec<mysql::Row> = conn
            .exec(
                "SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE, \
                 CHARACTER_SET_NAME, COLLATION_NAME, \
                 IF(DATA_TYPE LIKE '%text', CHARACTER_OCTET_LENGTH, CHARACTER_MAXIMUM_LENGTH), \
                 NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, EXTRA, \
                 COLUMN_DEFAULT IS NOT NULL \
                 FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (db, table),
            )
            .map_err(db_error)
            .with_context(|| format!("reading the columns of {db}.{table}"))?;
        if rows.is_empty() {
            bail!("table {db}.{table} does not exist (or you may not see it)");
        }
        let columns = rows.into_iter().map(column_from_row).collect();
        let key = find_key(conn, db, table)?;
        let (engine, estimated_rows, avg_row_length, kind): (
            Option<String>,
            Option<u64>,
            Option<u64>,
            Option<String>,
        ) = conn
            .exec_first(
                "SELECT ENGINE, TABLE_ROWS, AVG_ROW_LENGTH, TABLE_TYPE FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, table),
            )
            .map_err(db_error)?
            .unwrap_or((None, None, None, None));
        let period = if kind.as_deref() == Some("SYSTEM VERSIONED") {
            let named: Vec<(String, String)> = conn
                .exec(
                    "SELECT GENERATION_EXPRESSION, COLUMN_NAME FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                       AND GENERATION_EXPRESSION IN ('ROW START', 'ROW END')",
                    (db, table),
                )
                .map_err(db_error)?;
            let find = |what: &str, default: &str| {
                named
                    .iter()
                    .find(|(g, _)| g == what)
                    .map_or_else(|| default.to_owned(), |(_, c)| c.clone())
            };
            Some([find("ROW START", "row_start"), find("ROW END", "row_end")])
        } else {
            None
        };
        Ok(TableInfo {
            name: TableName {
                database: Some(db.to_owned()),
                table: table.to_owned(),
            },
            columns,
            key,
            engine,
            estimated_rows: estimated_rows.unwrap_or(0),
            avg_row_length: avg_row_length.unwrap_or(0),
            period,
        })
    }

    /// System-versioned by transaction ids (`BIGINT UNSIGNED GENERATED ALWAYS AS ROW
    /// START`), not by time.
    pub fn transaction_precise(&self) -> bool {
        self.period.as_ref().is_some_and(|p| {
            self.columns
                .iter()
                .any(|c| c.name == p[0] && matches!(c.ty, SqlType::Int { .. }))
        })
    }

    /// The table with its history columns as plain columns at the end (the declared ones
    /// with their type, implicit ones `TIMESTAMP(6)`), to
    /// read every version of every row (`FOR SYSTEM_TIME ALL`) and to load them back
    /// (under `system_versioning_insert_history`). Unchanged for a table without history.
    #[must_use]
    pub fn with_history(mut self) -> TableInfo {
        let Some(period) = self.period.clone() else {
            return self;
        };
        // Declared period columns keep their type; implicit ones are TIMESTAMP(6).
        let declared: Vec<ColumnInfo> = self
            .columns
            .iter()
            .filter(|c| period.contains(&c.name))
            .cloned()
            .collect();
        self.columns.retain(|c| !period.contains(&c.name));
        for name in period {
            let base = declared
                .iter()
                .find(|c| c.name == name)
                .cloned()
                .unwrap_or_else(|| ColumnInfo {
                    ty: SqlType::Timestamp { fsp: 6 },
                    datetime_precision: Some(6),
                    ..ColumnInfo::typed(&name, "timestamp", "timestamp(6)")
                });
            self.columns.push(ColumnInfo {
                has_default: true,
                extra: Extra::default(),
                ..base
            });
        }
        self
    }

    /// Whether the table's engine rolls back (InnoDB): with any other (MyISAM, Aria,
    /// MEMORY) the rows sent before a failure stay.
    pub fn transactional(&self) -> bool {
        self.engine
            .as_deref()
            .is_none_or(|e| e.eq_ignore_ascii_case("InnoDB"))
    }

    /// The engine of a table whose rows live elsewhere (MERGE: in its underlying tables;
    /// FEDERATED, CONNECT, SPIDER: on other servers or in other files): a backup holds
    /// only its definition, and a restore loads no rows into it (they would go into the
    /// tables they came from).
    pub fn rows_elsewhere(&self) -> Option<&str> {
        self.engine.as_deref().filter(|e| {
            ["MRG_MyISAM", "MERGE", "FEDERATED", "CONNECT", "SPIDER"]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(e))
        })
    }

    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The key's columns.
    pub fn key_columns(&self) -> Vec<&ColumnInfo> {
        self.key.iter().filter_map(|k| self.column(k)).collect()
    }
}

/// One row of the `information_schema.COLUMNS` query in [`TableInfo::load`].
fn column_from_row(mut r: mysql::Row) -> ColumnInfo {
    let nullable = r.take::<String, _>(3).unwrap_or_default() == "YES";
    let data_type: String = r.take(1).unwrap_or_default();
    let column_type: String = r.take(2).unwrap_or_default();
    let precision = r.take(7).unwrap_or_default();
    let scale = r.take(8).unwrap_or_default();
    let datetime_precision = r.take(9).unwrap_or_default();
    ColumnInfo {
        name: r.take(0).unwrap_or_default(),
        ty: SqlType::parse(
            &data_type,
            &column_type,
            precision,
            scale,
            datetime_precision,
        ),
        column_type,
        nullable,
        charset: r.take(4).unwrap_or_default(),
        collation: r.take(5).unwrap_or_default(),
        max_length: r.take(6).unwrap_or_default(),
        precision,
        scale,
        datetime_precision,
        extra: Extra::parse(&r.take::<String, _>(10).unwrap_or_default()),
        has_default: nullable || r.take::<i64, _>(11).unwrap_or(0) == 1,
    }
}

fn find_key(conn: &mut Conn, db: &str, table: &str) -> anyhow::Result<Vec<String>> {
    // (index, column, non_unique, nullable, sub_part), PRIMARY first, in key order.
    let rows: Vec<(String, String, i64, String, Option<i64>)> = conn
        .exec(
            "SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, NULLABLE, SUB_PART \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX",
            (db, table),
        )
        .map_err(db_error)
        .with_context(|| format!("reading the keys of {db}.{table}"))?;
    let mut i = 0;
    while i < rows.len() {
        let name = &rows[i].0;
        let end = rows[i..]
            .iter()
            .position(|r| &r.0 != name)
            .map_or(rows.len(), |p| i + p);
        let index = &rows[i..end];
        let usable = index.iter().all(|(_, _, non_unique, nullable, sub_part)| {
            *non_unique == 0 && nullable.is_empty() && sub_part.is_none()
        });
        if usable {
            return Ok(index.iter().map(|r| r.1.clone()).collect());
        }
        i = end;
    }
    Ok(Vec::new())
}

/// The comment that marks a table as a work table of qimport (set once the copy is made,
/// and put back to the original's before the copy is renamed into place).
///
/// The mark names the table itself (`qimport work table T__qimport_stage_42: ...`): a table
/// of yours that got it by accident (a `CREATE TABLE ... LIKE` copy of a work table, or a
/// rename) carries another table's name in it, and is never taken for a work table.
pub const WORK_MARK: (&str, &str) = (
    "qimport work table ",
    ": dropped by the next import if left behind",
);

/// The base tables of a database, by name; not qimport's work tables (a killed import's
/// staging table or a killed restore's mark, which the next import drops: no one's data).
pub fn list_tables(conn: &mut Conn, db: &str) -> anyhow::Result<Vec<String>> {
    conn.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') \
           AND BINARY TABLE_COMMENT <> BINARY CONCAT(?, TABLE_NAME, ?) \
         ORDER BY TABLE_NAME",
        (db, WORK_MARK.0, WORK_MARK.1),
    )
    .map_err(db_error)
    .with_context(|| format!("listing the tables of {db}"))
}

#[cfg(test)]
mod tests {
    use super::{bit_to_decimal, Extra};

    #[test]
    fn bits_as_numbers() {
        let mut out = Vec::new();
        bit_to_decimal(&[0x02, 0xaa], &mut out);
        assert_eq!(out, b"682");
    }

    // See: #26: EXTRA read by its words: MySQL 8's DEFAULT_GENERATED (a column with an
    // expression default) is no generated column.
    #[test]
    fn extra_by_its_words() {
        assert!(Extra::parse("auto_increment").auto_increment);
        assert!(Extra::parse("VIRTUAL GENERATED").generated);
        assert!(Extra::parse("STORED GENERATED").generated);
        assert!(Extra::parse("PERSISTENT GENERATED").generated);
        let d = Extra::parse("DEFAULT_GENERATED on update CURRENT_TIMESTAMP");
        assert!(!d.generated && !d.auto_increment);
        assert_eq!(Extra::parse(""), Extra::default());
    }
}
