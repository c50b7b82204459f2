//! What qexport reads: the SELECT for a table, and how to cut a table into half-open key
//! ranges, for chunks (`-j N`) and for shards (`--shard K/N`).
//!
//! Ranges are read from the key itself. An integer key is split arithmetically between its
//! MIN and MAX (two index lookups). Any other key (composite, string, date) is walked:
//! each boundary is the row `LIMIT 1 OFFSET step` past the previous one, in key order, so
//! the walk reads the key once in all. The first range is open below and the last open
//! above, so rows added at either end while planning are not lost.
//!
//! Boundary values are written into the SQL as literals of the column's own type: numbers
//! as they are, binary strings as `X'..'`, text as `CONVERT(_utf8mb4 X'..' USING cs)
//! COLLATE coll`, so that a range compares in exactly the collation the `ORDER BY` sorts
//! in (otherwise a case-insensitive key could lose or double rows at a boundary).

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::{Conn, Row, Value};
use qtools_csv::bytes::hex_encode;

use crate::conn::db_error;
use crate::schema::{ColumnInfo, SqlType, TableInfo};
use crate::sql::quote_ident;

/// A table export: which columns, which rows, in which order.
#[derive(Debug, Clone)]
pub struct TableQuery {
    pub info: TableInfo,
    pub columns: Vec<ColumnInfo>,
    pub filter: Option<String>,
    pub order_by: Option<String>,
    pub limit: Option<u64>,
    /// Every version of every row of a system-versioned table (`FOR SYSTEM_TIME ALL`),
    /// with its row start and end: what a backup keeps.
    pub history: bool,
    /// What a backup of the table cannot keep (for the manifest and stderr).
    pub notes: Vec<String>,
}

/// A half-open key range: `lower <= key < upper`; `None` is unbounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub lower: Option<Vec<String>>,
    pub upper: Option<Vec<String>>,
    /// Holds no row at all (a shard of a table with fewer keys than shards).
    pub nothing: bool,
}

impl TableQuery {
    pub fn new(
        info: TableInfo,
        columns: Option<&[String]>,
        filter: Option<String>,
        order_by: Option<String>,
        limit: Option<u64>,
    ) -> anyhow::Result<TableQuery> {
        let columns = match columns {
            // Generated columns are computed by the server: leaving them out makes the
            // export load back into the same table as it is (as mysqldump and mydumper
            // do). `--columns` or `-e` can still name them.
            None => info
                .columns
                .iter()
                .filter(|c| !c.is_generated())
                .cloned()
                .collect(),
            Some(names) => names
                .iter()
                .map(|n| {
                    info.column(n).cloned().with_context(|| {
                        let all: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
                        format!(
                            "--columns: {} has no column {n:?} (its columns: {})",
                            info.name,
                            all.join(", ")
                        )
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        Ok(TableQuery {
            info,
            columns,
            filter,
            order_by,
            limit,
            history: false,
            notes: Vec::new(),
        })
    }

    /// Read the history too, when the table keeps one (see [`TableQuery::history`]). The
    /// key no longer orders the rows alone: the row end follows it.
    #[must_use]
    pub fn with_history(mut self) -> TableQuery {
        if self.info.period.is_some() && !self.info.transaction_precise() {
            self.info = self.info.with_history();
            self.columns
                .retain(|c| !self.info.period.iter().flatten().any(|p| *p == c.name));
            let n = self.info.columns.len();
            self.columns
                .extend(self.info.columns[n - 2..].iter().cloned());
            self.history = true;
        } else if self.info.period.is_some() {
            self.notes.push(
                "its history is not kept, only its current rows: it is versioned by \
                 transaction (its row start and end are this server's transaction ids, which \
                 no other server can take)"
                    .into(),
            );
        }
        self
    }

    /// Why this export cannot be cut into key ranges, if it cannot.
    pub fn unsplittable(&self) -> Option<String> {
        if self.info.key.is_empty() {
            return Some(format!(
                "{} has no primary or unique NOT NULL key",
                self.info.name
            ));
        }
        if let Some(c) = self.info.key_columns().iter().find(|c| !c.ty.ranges()) {
            return Some(format!(
                "the key column {} of {} is of type {}",
                c.name, self.info.name, c.column_type
            ));
        }
        if self.order_by.is_some() {
            return Some("--order-by sorts by something else than the key".into());
        }
        if self.limit.is_some() {
            return Some("--limit applies to the whole result".into());
        }
        None
    }

    fn key_list(&self) -> String {
        let k: Vec<String> = self.info.key.iter().map(|c| quote_ident(c)).collect();
        k.join(", ")
    }

    fn where_clause(&self, range: &KeyRange) -> String {
        let mut conds = Vec::new();
        if range.nothing {
            conds.push("FALSE".to_owned());
        }
        if let Some(f) = &self.filter {
            conds.push(format!("({f})"));
        }
        if let Some(lo) = &range.lower {
            conds.push(tuple_cmp(&self.info.key, lo, ">="));
        }
        if let Some(hi) = &range.upper {
            conds.push(tuple_cmp(&self.info.key, hi, "<"));
        }
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    }

    /// The SELECT for the rows of `range`, in key order (or `--order-by`).
    pub fn sql(&self, range: &KeyRange) -> String {
        let list: Vec<String> = self.columns.iter().map(ColumnInfo::select_expr).collect();
        let mut sql = format!(
            "SELECT {} FROM {}{}{}",
            list.join(", "),
            self.info.name.quoted(),
            if self.history {
                " FOR SYSTEM_TIME ALL"
            } else {
                ""
            },
            self.where_clause(range)
        );
        match (&self.order_by, &self.info.period) {
            (Some(o), _) => sql = format!("{sql} ORDER BY {o}"),
            (None, Some([_, end])) if self.history && !self.info.key.is_empty() => {
                sql = format!("{sql} ORDER BY {}, {}", self.key_list(), quote_ident(end));
            }
            (None, _) if !self.info.key.is_empty() => {
                sql = format!("{sql} ORDER BY {}", self.key_list());
            }
            (None, _) => {}
        }
        if let Some(n) = self.limit {
            sql = format!("{sql} LIMIT {n}");
        }
        sql
    }

    /// Cut `within` into `n` ranges of about equal size (fewer if it holds fewer keys).
    pub fn split(
        &self,
        conn: &mut Conn,
        within: &KeyRange,
        n: usize,
    ) -> anyhow::Result<Vec<KeyRange>> {
        let key = self.info.key_columns();
        if n <= 1 {
            return Ok(vec![within.clone()]);
        }
        if key.len() == 1 && matches!(key[0].ty, SqlType::Int { .. }) {
            return self.split_integer(conn, within, n, false);
        }
        let count: u64 = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM {}{}",
                self.info.name.quoted(),
                self.where_clause(within)
            ))
            .map_err(db_error)?
            .unwrap_or(0);
        let n = n as u64;
        let steps: Vec<u64> = (1..n)
            .map(|i| count * i / n - count * (i - 1) / n)
            .collect();
        let mut ranges = self.walk(conn, within, steps)?;
        // Fewer keys than shards: the remaining shards are empty.
        ranges.resize(
            usize::try_from(n).unwrap_or(usize::MAX),
            KeyRange {
                nothing: true,
                ..KeyRange::default()
            },
        );
        Ok(ranges)
    }

    /// Cut `within` into chunks of about `rows` rows, at least `min_chunks` of them.
    pub fn chunks(
        &self,
        conn: &mut Conn,
        within: &KeyRange,
        rows: u64,
        min_chunks: usize,
    ) -> anyhow::Result<Vec<KeyRange>> {
        let key = self.info.key_columns();
        if key.len() == 1 && matches!(key[0].ty, SqlType::Int { .. }) {
            let est = self.info.estimated_rows / rows.max(1);
            let n = usize::try_from(est)
                .unwrap_or(usize::MAX)
                .clamp(min_chunks, 100_000);
            return self.split_integer(conn, within, n, true);
        }
        let est = self.info.estimated_rows.max(1);
        let step = rows.min(est.div_ceil(min_chunks as u64)).max(1);
        // Walk until the key runs out.
        self.walk(conn, within, std::iter::repeat(step))
    }

    /// Split between MIN and MAX. Shards keep empty ranges (`dedup` false) so that there
    /// are always `n`; chunks drop them.
    fn split_integer(
        &self,
        conn: &mut Conn,
        within: &KeyRange,
        n: usize,
        dedup: bool,
    ) -> anyhow::Result<Vec<KeyRange>> {
        let k = quote_ident(&self.info.key[0]);
        let row: Option<(Option<String>, Option<String>)> = conn
            .query_first(format!(
                "SELECT MIN({k}), MAX({k}) FROM {}{}",
                self.info.name.quoted(),
                self.where_clause(within)
            ))
            .map_err(db_error)?;
        let Some((Some(lo), Some(hi))) = row else {
            let mut ranges = vec![within.clone()];
            if !dedup {
                ranges.resize(
                    n,
                    KeyRange {
                        nothing: true,
                        ..KeyRange::default()
                    },
                );
            }
            return Ok(ranges);
        };
        let n = n as i128;
        let lo: i128 = lo.parse().context("reading the key's minimum")?;
        let hi: i128 = hi.parse().context("reading the key's maximum")?;
        let span = hi - lo + 1;
        let mut bounds: Vec<i128> = (1..n).map(|i| lo + span * i / n).collect();
        if dedup {
            bounds.dedup();
            bounds.retain(|b| *b > lo);
        }
        Ok(ranges_from(
            within,
            bounds.into_iter().map(|b| vec![b.to_string()]).collect(),
        ))
    }

    /// Boundaries `steps[i]` rows apart in key order, starting at the range's start.
    fn walk(
        &self,
        conn: &mut Conn,
        within: &KeyRange,
        steps: impl IntoIterator<Item = u64>,
    ) -> anyhow::Result<Vec<KeyRange>> {
        let key = self.info.key_columns();
        let mut bounds: Vec<Vec<String>> = Vec::new();
        let mut from = within.clone();
        for step in steps {
            if step == 0 {
                continue;
            }
            let sql = format!(
                "SELECT {} FROM {}{} ORDER BY {} LIMIT 1 OFFSET {step}",
                self.key_list(),
                self.info.name.quoted(),
                self.where_clause(&from),
                self.key_list()
            );
            let row: Option<Row> = conn.query_first(sql).map_err(db_error)?;
            let Some(row) = row else { break };
            let lits = key
                .iter()
                .enumerate()
                .map(|(i, c)| match row.as_ref(i) {
                    Some(Value::Bytes(b)) => literal(c, b),
                    _ => bail!("unexpected NULL in the key column {}", c.name),
                })
                .collect::<anyhow::Result<Vec<String>>>()?;
            from.lower = Some(lits.clone());
            bounds.push(lits);
        }
        Ok(ranges_from(within, bounds))
    }
}

/// Consecutive ranges over `within`, cut at `bounds` (ascending).
fn ranges_from(within: &KeyRange, bounds: Vec<Vec<String>>) -> Vec<KeyRange> {
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut lower = within.lower.clone();
    for b in bounds {
        out.push(KeyRange {
            lower: lower.take(),
            upper: Some(b.clone()),
            nothing: within.nothing,
        });
        lower = Some(b);
    }
    out.push(KeyRange {
        lower,
        upper: within.upper.clone(),
        nothing: within.nothing,
    });
    out
}

/// `(k1, k2, ...) OP (v1, v2, ...)` spelled out so the optimizer reads it as an index
/// range: `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR (k2 = v2 AND k3 OP v3)))`.
fn tuple_cmp(key: &[String], vals: &[String], op: &str) -> String {
    let k = quote_ident(&key[0]);
    if key.len() == 1 {
        return format!("{k} {op} {}", vals[0]);
    }
    let strict = if op == "<" { "<" } else { ">" };
    format!(
        "({k} {strict} {v} OR ({k} = {v} AND {rest}))",
        v = vals[0],
        rest = tuple_cmp(&key[1..], &vals[1..], op)
    )
}

/// A key value, as read in the text protocol, as an SQL literal of the column's type.
fn literal(col: &ColumnInfo, text: &[u8]) -> anyhow::Result<String> {
    if col.ty.is_numeric() {
        if text.is_empty()
            || !text
                .iter()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            bail!("unexpected value in the numeric key column {}", col.name);
        }
        return Ok(String::from_utf8_lossy(text).into_owned());
    }
    let mut hex = Vec::with_capacity(text.len() * 2);
    hex_encode(text, &mut hex);
    let hex = String::from_utf8_lossy(&hex);
    if col.is_binary() {
        return Ok(format!("X'{hex}'"));
    }
    match (&col.charset, &col.collation) {
        (Some(cs), Some(coll)) => Ok(format!(
            "CONVERT(_utf8mb4 X'{hex}' USING {cs}) COLLATE {coll}"
        )),
        // Dates and times compare correctly with a plain string.
        _ => Ok(format!("_utf8mb4 X'{hex}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_comparisons() {
        let key = vec!["a".to_owned(), "b".to_owned()];
        let v = vec!["1".to_owned(), "2".to_owned()];
        assert_eq!(
            tuple_cmp(&key, &v, ">="),
            "(`a` > 1 OR (`a` = 1 AND `b` >= 2))"
        );
        assert_eq!(
            tuple_cmp(&key, &v, "<"),
            "(`a` < 1 OR (`a` = 1 AND `b` < 2))"
        );
        assert_eq!(tuple_cmp(&key[..1], &v[..1], "<"), "`a` < 1");
    }

    #[test]
    fn ranges_cover_everything_once() {
        let r = ranges_from(
            &KeyRange::default(),
            vec![vec!["5".into()], vec!["9".into()]],
        );
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].lower, None);
        assert_eq!(r[0].upper, Some(vec!["5".into()]));
        assert_eq!(r[1].lower, Some(vec!["5".into()]));
        assert_eq!(r[2].upper, None);
    }

    #[test]
    fn literals_by_type() {
        let col = |t: &str, cs: Option<&str>| ColumnInfo {
            nullable: false,
            charset: cs.map(Into::into),
            collation: cs.map(|c| format!("{c}_general_ci")),
            ..ColumnInfo::typed("k", t, t)
        };
        assert_eq!(literal(&col("int", None), b"-42").unwrap(), "-42");
        assert!(literal(&col("int", None), b"1; DROP").is_err());
        assert_eq!(
            literal(&col("varbinary", None), b"\x00\xff").unwrap(),
            "X'00ff'"
        );
        assert_eq!(
            literal(&col("varchar", Some("latin1")), b"a'b").unwrap(),
            "CONVERT(_utf8mb4 X'612762' USING latin1) COLLATE latin1_general_ci"
        );
        assert_eq!(
            literal(&col("date", None), b"2024-01-01").unwrap(),
            "_utf8mb4 X'323032342d30312d3031'"
        );
    }
}
