//! What the tools need to know about a table, from `information_schema`: its columns and
//! their types, the key that orders it (for key-ordered and parallel exports), its engine
//! and its estimated size.

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::sql::{quote_ident, TableName};

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnInfo {
    pub name: String,
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `float`, `bit`, `blob`...
    pub data_type: String,
    /// `COLUMN_TYPE`: the full declaration, such as `int(10) unsigned`.
    pub column_type: String,
    pub nullable: bool,
    /// `CHARACTER_SET_NAME` and `COLLATION_NAME` of text columns.
    pub charset: Option<String>,
    pub collation: Option<String>,
    /// `CHARACTER_MAXIMUM_LENGTH`: characters for CHAR/VARCHAR, bytes for TEXT and binary.
    pub max_length: Option<u64>,
    /// `NUMERIC_PRECISION`, `NUMERIC_SCALE` (DECIMAL, BIT width) and `DATETIME_PRECISION`.
    pub precision: Option<u64>,
    pub scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    /// `EXTRA`: `auto_increment`, `VIRTUAL GENERATED`, ...
    pub extra: String,
    /// `COLUMN_DEFAULT` is not NULL (or the column is nullable).
    pub has_default: bool,
}

/// Data types that hold bytes rather than text (a `CHARACTER SET binary` column reports
/// one of these too).
const BINARY_TYPES: &[&str] = &[
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
];

const INTEGER_TYPES: &[&str] = &["tinyint", "smallint", "mediumint", "int", "bigint"];

impl ColumnInfo {
    /// A type the server parses from its text form and stores otherwise (MariaDB's UUID,
    /// INET4, INET6): its value must reach the server as text, never as raw bytes.
    pub fn parsed_from_text(&self) -> bool {
        matches!(self.data_type.as_str(), "uuid" | "inet4" | "inet6")
    }

    pub fn is_binary(&self) -> bool {
        BINARY_TYPES.contains(&self.data_type.as_str())
    }

    pub fn is_integer(&self) -> bool {
        INTEGER_TYPES.contains(&self.data_type.as_str())
    }

    pub fn is_unsigned(&self) -> bool {
        self.column_type.contains("unsigned")
    }

    pub fn is_generated(&self) -> bool {
        self.extra.to_ascii_uppercase().contains("GENERATED")
    }

    pub fn is_auto_increment(&self) -> bool {
        self.extra.to_ascii_lowercase().contains("auto_increment")
    }

    /// The expression that reads this column losslessly in the text protocol.
    ///
    /// FLOAT is the one type the server prints lossily: 6 significant digits, so
    /// 16777215 comes out as 16777200. Read as DOUBLE, it prints its exact value, which
    /// converts back to the identical FLOAT.
    pub fn select_expr(&self) -> String {
        let q = quote_ident(&self.name);
        if self.data_type == "float" {
            format!("CAST({q} AS DOUBLE) AS {q}")
        } else {
            q
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
                 CHARACTER_SET_NAME, COLLATION_NAME, CHARACTER_MAXIMUM_LENGTH, \
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

    /// The table with its history columns as plain `TIMESTAMP(6)` columns at the end, to
    /// read every version of every row (`FOR SYSTEM_TIME ALL`) and to load them back
    /// (under `system_versioning_insert_history`). Unchanged for a table without history.
    #[must_use]
    pub fn with_history(mut self) -> TableInfo {
        let Some(period) = self.period.clone() else {
            return self;
        };
        self.columns.retain(|c| !period.contains(&c.name));
        for name in period {
            self.columns.push(ColumnInfo {
                name,
                data_type: "timestamp".into(),
                column_type: "timestamp(6)".into(),
                datetime_precision: Some(6),
                has_default: true,
                ..ColumnInfo::default()
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
    ColumnInfo {
        name: r.take(0).unwrap_or_default(),
        data_type: r.take(1).unwrap_or_default(),
        column_type: r.take(2).unwrap_or_default(),
        nullable,
        charset: r.take(4).unwrap_or_default(),
        collation: r.take(5).unwrap_or_default(),
        max_length: r.take(6).unwrap_or_default(),
        precision: r.take(7).unwrap_or_default(),
        scale: r.take(8).unwrap_or_default(),
        datetime_precision: r.take(9).unwrap_or_default(),
        extra: r.take(10).unwrap_or_default(),
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

/// The base tables of a database, by name.
/// The privileges (`SELECT`, `CREATE`, ...) the current user holds on every table of
/// `db`: granted globally or on the database (a pattern such as `shop\_%` included), to
/// the user or to an enabled role. Privileges on single tables are not among them: they
/// say nothing of the tables information_schema does not show.
pub fn database_privileges(
    conn: &mut Conn,
    db: &str,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    const ME: &str = "(SELECT CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
        SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') UNION \
        SELECT CONCAT('''', ROLE_NAME, '''') FROM information_schema.ENABLED_ROLES \
        WHERE ROLE_NAME IS NOT NULL)";
    let privileges: Vec<String> = conn
        .exec(
            format!(
                "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES \
                 WHERE GRANTEE IN {ME} \
                 UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES \
                 WHERE GRANTEE IN {ME} AND ? LIKE TABLE_SCHEMA"
            ),
            (db,),
        )
        .map_err(db_error)
        .context("reading the user's privileges")?;
    Ok(privileges.into_iter().collect())
}

pub fn list_tables(conn: &mut Conn, db: &str) -> anyhow::Result<Vec<String>> {
    conn.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') \
         ORDER BY TABLE_NAME",
        (db,),
    )
    .map_err(db_error)
    .with_context(|| format!("listing the tables of {db}"))
}
