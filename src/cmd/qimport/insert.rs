//! The INSERT path: batches of multi-row prepared INSERTs, every value a parameter, for a
//! server that refuses LOCAL INFILE (or `--method insert`). A batch the server refuses is
//! tried again row by row, to name the record, column and value it refused.

use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use super::choices::Mode;
use super::load::insert_sql;
use crate::conn::{db_error, db_error_on};
use crate::dberror::{Code, Warning};
use crate::schema::ColumnInfo;
use crate::schema::ValueKind;
use crate::sql::TableName;

/// At most this many placeholders in one statement (the protocol's limit is 65,535).
const MAX_PARAMS: usize = 60_000;
const MAX_BATCH_ROWS: usize = 1000;
/// Flush a batch early past this many bytes of values, well under max_allowed_packet.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Multi-row prepared INSERT batches: the fallback when the server refuses LOCAL INFILE.
pub struct Inserter<'c> {
    pub conn: &'c mut Conn,
    pub table: TableName,
    pub cols: Vec<ColumnInfo>,
    pub mode: Mode,
    values: Vec<Value>,
    lines: Vec<u64>,
    bytes: usize,
    pub rows: u64,
    /// Rows `--mode ignore` skipped (their key was there already).
    pub skipped: u64,
    /// The server's `max_allowed_packet`, read at the first row: no statement may be
    /// larger (the server would drop the connection, which reads as a lost one).
    max_packet: Option<usize>,
}

/// A server refusal of one row, found by retrying a failed batch row by row.
pub struct Refused {
    /// The server's code, when the server refused it (None: qimport did).
    pub code: Option<Code>,
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<Vec<u8>>,
    pub message: String,
}

impl<'c> Inserter<'c> {
    pub fn new(conn: &'c mut Conn, table: TableName, cols: Vec<ColumnInfo>, mode: Mode) -> Self {
        Inserter {
            conn,
            table,
            cols,
            mode,
            values: Vec::new(),
            lines: Vec::new(),
            bytes: 0,
            rows: 0,
            skipped: 0,
            max_packet: None,
        }
    }

    fn max_rows(&self) -> usize {
        (MAX_PARAMS / self.cols.len().max(1)).clamp(1, MAX_BATCH_ROWS)
    }

    pub fn row(&mut self, values: &[Option<&[u8]>], line: u64) -> Result<(), Refused> {
        let max_packet = *self.max_packet.get_or_insert_with(|| {
            let max: Option<u64> = self
                .conn
                .query_first("SELECT @@max_allowed_packet")
                .ok()
                .flatten();
            max.map_or(16 << 20, |m| usize::try_from(m).unwrap_or(usize::MAX))
        });
        // Room for the statement and the other values of the row.
        let room = max_packet.saturating_sub(64 << 10);
        for (v, c) in values.iter().zip(&self.cols) {
            if let Some(v) = v.filter(|v| v.len() > room) {
                return Err(Refused {
                    code: None,
                    line,
                    column: Some(c.name.clone()),
                    value: Some(v[..v.len().min(61)].to_vec()),
                    message: format!(
                        "a value of {} bytes, more than the server's max_allowed_packet ({max_packet} bytes) lets INSERT send (LOAD DATA, --method load-data, has no such limit)",
                        v.len()
                    ),
                });
            }
        }
        // A batch stays under half the packet: send what is pending before this row
        // would take it past that.
        let limit = MAX_BATCH_BYTES.min(room / 2);
        let row_bytes: usize = values.iter().flatten().map(|v| v.len()).sum();
        if !self.lines.is_empty() && self.bytes + row_bytes > limit {
            self.flush()?;
        }
        for (v, c) in values.iter().zip(&self.cols) {
            self.bytes += v.as_ref().map_or(0, |v| v.len());
            self.values.push(match (v, c.ty.value_kind()) {
                (None, _) => Value::NULL,
                (Some(v), ValueKind::Bit) => Value::UInt(
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                ),
                (Some(v), _) => Value::Bytes(v.to_vec()),
            });
        }
        self.lines.push(line);
        if self.lines.len() >= self.max_rows() || self.bytes >= limit {
            self.flush()?;
        }
        Ok(())
    }

    fn sql(&self, rows: usize) -> String {
        let one = format!("({})", vec!["?"; self.cols.len()].join(","));
        let names: Vec<String> = self.cols.iter().map(|c| c.name.clone()).collect();
        let values = format!("VALUES {}", vec![one; rows].join(","));
        insert_sql(self.mode, &self.table, &names, &values)
    }

    pub fn flush(&mut self) -> Result<(), Refused> {
        let rows = self.lines.len();
        if rows == 0 {
            return Ok(());
        }
        let values = std::mem::take(&mut self.values);
        let sql = self.sql(rows);
        match self.conn.exec_drop(&sql, values.clone()) {
            Ok(()) if self.mode == Mode::Insert && self.conn.warnings() > 0 => {
                return Err(self.locate(&values, "the server reported warnings".into()));
            }
            Ok(()) => {
                if self.mode == Mode::Ignore {
                    self.skipped += (rows as u64).saturating_sub(self.conn.affected_rows());
                }
            }
            // The network, not the rows: nothing to locate (and on a stalled network
            // each retry would wait out the timeouts again).
            Err(e) if !matches!(e, mysql::Error::MySqlError(_)) => {
                let msg = format!("{:#}", db_error_on(self.conn, e));
                return Err(Refused {
                    code: None,
                    line: self.lines.first().copied().unwrap_or(0),
                    column: None,
                    value: None,
                    message: msg,
                });
            }
            Err(e) => {
                let msg = format!("{:#}", db_error(e));
                return Err(self.locate(&values, msg));
            }
        }
        self.rows += rows as u64;
        self.lines.clear();
        self.bytes = 0;
        Ok(())
    }

    /// A batch failed: retry its rows one at a time to name the record the server refuses.
    fn locate(&mut self, values: &[Value], batch_msg: String) -> Refused {
        let n = self.cols.len();
        let sql = self.sql(1);
        for (row, &line) in values.chunks(n).zip(&self.lines) {
            let res = self.conn.exec_drop(&sql, row.to_vec());
            let (code, msg) = match res {
                Err(mysql::Error::MySqlError(e)) => (Some(Code::of(e.code)), e.message),
                Err(e) => (None, format!("{:#}", db_error(e))),
                Ok(()) if self.mode == Mode::Insert && self.conn.warnings() > 0 => {
                    match Warning::read(self.conn, 1).into_iter().next() {
                        Some(w) => (Some(w.code), w.message),
                        None => (None, String::new()),
                    }
                }
                Ok(()) => continue,
            };
            let names: Vec<String> = self.cols.iter().map(|c| c.name.clone()).collect();
            let column = column_in_message(&msg, &names);
            let value = column.as_ref().and_then(|c| {
                let i = names.iter().position(|n| n == c)?;
                match &row[i] {
                    Value::Bytes(b) => Some(b.clone()),
                    Value::NULL => Some(b"NULL".to_vec()),
                    v => Some(v.as_sql(true).into_bytes()),
                }
            });
            return Refused {
                code,
                line,
                column,
                value,
                message: msg.trim_end_matches(" at row 1").to_owned(),
            };
        }
        Refused {
            code: None,
            line: self.lines.first().copied().unwrap_or(0),
            column: None,
            value: None,
            message: batch_msg,
        }
    }
}

/// The column a server error message is about: ``for column `db`.`t`.`c` `` (MariaDB),
/// `for column 'c'` (MySQL), or `Column 'c' cannot be null`.
pub fn column_in_message(msg: &str, columns: &[String]) -> Option<String> {
    let candidate = if let Some(rest) = msg.split("for column ").nth(1) {
        let rest = rest.split(" at row").next().unwrap_or(rest);
        rest.rsplit('.')
            .next()
            .map(|s| s.trim_matches(['`', '\'']).to_owned())
    } else if let Some(rest) = msg.strip_prefix("Column '") {
        rest.split('\'').next().map(str::to_owned)
    } else {
        None
    }?;
    columns
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&candidate))
        .cloned()
}
