//! What a `--dry-run` cannot take back. Its rows are rolled back, but not everything a
//! load does is transactional: InnoDB never hands an AUTO_INCREMENT value out twice (the
//! counter stays where the rolled-back rows moved it), a sequence drawn from by a column
//! default stays advanced, and a trigger's writes to tables without transactions (MyISAM,
//! Aria) stay. The summary says which of these happened, by name.

use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::schema::TableInfo;

use super::table::auto_increment;

/// What is read before a dry run, to compare after it.
pub(super) struct Before {
    counter: Option<u64>,
}

pub(super) fn before(conn: &mut Conn, info: &TableInfo) -> anyhow::Result<Before> {
    Ok(Before {
        counter: auto_increment(conn, &info.name)?,
    })
}

/// `""`, or `; not taken back: ...` naming what the rolled-back dry run left.
pub(super) fn what_stays(
    conn: &mut Conn,
    info: &TableInfo,
    before: &Before,
    triggers: &[String],
) -> anyhow::Result<String> {
    let mut left = Vec::new();
    let after = auto_increment(conn, &info.name)?;
    if after != before.counter {
        left.push(format!(
            "the AUTO_INCREMENT counter moved from {} to {} (InnoDB never reuses a value)",
            before.counter.unwrap_or(1),
            after.unwrap_or(1)
        ));
    }
    let db = info.name.database.clone().unwrap_or_default();
    let drawn: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND LOWER(COLUMN_DEFAULT) LIKE '%nextval(%' \
             ORDER BY ORDINAL_POSITION",
            (&db, &info.name.table),
        )
        .map_err(db_error)?;
    for c in drawn {
        left.push(format!(
            "the sequence in the default of column {c} advanced for every row without a value"
        ));
    }
    let (which, it) = match triggers {
        [] => (String::new(), ""),
        [one] => (format!("the trigger {one}"), "it"),
        many => (format!("the triggers {}", many.join(", ")), "they"),
    };
    if !triggers.is_empty() {
        left.push(format!(
            "{which} ran: what {it} did that no transaction takes back stays (writes to \
             tables without transactions, AUTO_INCREMENT counters and sequences {it} moved)"
        ));
    }
    Ok(if left.is_empty() {
        String::new()
    } else {
        format!("; not taken back: {}", left.join("; "))
    })
}
