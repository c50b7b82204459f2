//! The objects of a database besides its tables, for a backup's `schema.sql`: stored
//! functions and procedures, views, triggers and events, each as the server's own `SHOW
//! CREATE` statement (with its `DEFINER`, as mysqldump and mydumper keep it) after the
//! `sql_mode` it was created under.
//!
//! Order: routines first (a view or trigger may call them), then views (a view after the
//! views it reads), then, after the data, triggers (which would fire on the load) and
//! events (which could run during it). The session's default database is the backup's,
//! so the server leaves names in that database unqualified and a restore into another
//! database refers to its own tables.

use std::fmt::Write as _;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::{Conn, Row};

use crate::conn::db_error;
use crate::sql::quote_ident;

pub use crate::manifest::ObjectKind as Kind;

/// The column of `SHOW CREATE` that holds the statement.
fn create_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Sequence => "Create Table",
        Kind::Function => "Create Function",
        Kind::Procedure => "Create Procedure",
        Kind::View => "Create View",
        Kind::Trigger => "SQL Original Statement",
        Kind::Event => "Create Event",
    }
}

pub struct Object {
    pub kind: Kind,
    pub name: String,
    sql_mode: Option<String>,
    create: String,
    /// What follows the CREATE: a sequence's state (`DO SETVAL(...)`).
    state: Option<String>,
}

/// The objects to back up with `tables`: their triggers always; with `all`, also every
/// routine, view and event of the database.
pub fn list(
    conn: &mut Conn,
    db: &str,
    tables: &[String],
    all: bool,
) -> anyhow::Result<Vec<Object>> {
    let mut named: Vec<(Kind, String)> = Vec::new();
    if all {
        let sequences = names(
            conn,
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE' ORDER BY 1",
            db,
        )?;
        named.extend(sequences.into_iter().map(|s| (Kind::Sequence, s)));
        let routines: Vec<(String, String)> = conn
            .exec(
                "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES \
                 WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
                (db,),
            )
            .map_err(db_error)?;
        for (kind, name) in routines {
            let kind = match kind.as_str() {
                "FUNCTION" => Kind::Function,
                "PROCEDURE" => Kind::Procedure,
                other => bail!(
                    "{db}: cannot back up the {other} {name} (a stored {other} is not supported)"
                ),
            };
            named.push((kind, name));
        }
        let views = names(
            conn,
            "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY 1",
            db,
        )?;
        named.extend(views.into_iter().map(|v| (Kind::View, v)));
    }
    let triggers: Vec<(String, String)> = conn
        .exec(
            "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
            (db,),
        )
        .map_err(db_error)?;
    named.extend(
        triggers
            .into_iter()
            .filter(|(t, _)| tables.contains(t))
            .map(|(_, name)| (Kind::Trigger, name)),
    );
    if all {
        let events = names(
            conn,
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1",
            db,
        )?;
        named.extend(events.into_iter().map(|e| (Kind::Event, e)));
    }
    let objects = named
        .into_iter()
        .map(|(kind, name)| show_create(conn, kind, name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (views, mut others): (Vec<Object>, Vec<Object>) =
        objects.into_iter().partition(|o| o.kind == Kind::View);
    // Sequences and routines stand first in `others`, then triggers and events.
    let routines = others
        .iter()
        .take_while(|o| matches!(o.kind, Kind::Sequence | Kind::Function | Kind::Procedure))
        .count();
    let rest = others.split_off(routines);
    others.extend(order_views(views));
    others.extend(rest);
    Ok(others)
}

/// The names a query of information_schema gives for the database `db` (its one `?`).
fn names(conn: &mut Conn, sql: &str, db: &str) -> anyhow::Result<Vec<String>> {
    conn.exec(sql, (db,)).map_err(db_error)
}

fn show_create(conn: &mut Conn, kind: Kind, name: String) -> anyhow::Result<Object> {
    let what = format!("{} {name}", kind.word().to_lowercase());
    let row: Row = conn
        .query_first(format!(
            "SHOW CREATE {} {}",
            kind.word(),
            quote_ident(&name)
        ))
        .map_err(db_error)
        .with_context(|| format!("reading the definition of the {what}"))?
        .with_context(|| format!("the {what} vanished during the backup"))?;
    let text = |col: &str| -> Option<String> {
        row.get_opt::<Option<String>, &str>(col)
            .and_then(Result::ok)
            .flatten()
    };
    let Some(create) = text(create_column(kind)) else {
        bail!("cannot back up the {what}: the server shows no definition (the backup user needs SHOW CREATE ROUTINE, SELECT or the object's privileges)");
    };
    // A sequence goes on from where it is: its next value not yet handed out to a cache
    // (values a session had cached are skipped, as after a restart), and its cycles.
    let state = if kind == Kind::Sequence {
        let (next, cycles): (i64, i64) = conn
            .query_first(format!(
                "SELECT next_not_cached_value, cycle_count FROM {}",
                quote_ident(&name)
            ))
            .map_err(db_error)
            .with_context(|| format!("reading the state of the {what}"))?
            .with_context(|| format!("the {what} has no state"))?;
        Some(format!(
            "DO SETVAL({}, {next}, 0, {cycles})",
            quote_ident(&name)
        ))
    } else {
        None
    };
    Ok(Object {
        kind,
        sql_mode: text("sql_mode"),
        name,
        create,
        state,
    })
}

/// Views after the views they read: a view reads another when its definition names it
/// (`` `name` ``); a false match only reorders, and a cycle (which the server does not
/// allow) would be broken by name.
fn order_views(mut views: Vec<Object>) -> Vec<Object> {
    let mut ordered: Vec<Object> = Vec::with_capacity(views.len());
    while !views.is_empty() {
        let ready = (0..views.len())
            .find(|&i| {
                !views
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && views[i].create.contains(&quote_ident(&other.name)))
            })
            .unwrap_or(0);
        ordered.push(views.remove(ready));
    }
    ordered
}

/// The sequences' part of `schema.sql`, before the tables: each CREATE SEQUENCE and the
/// SETVAL that puts it where it was.
pub fn schema_sequences(objects: &[Object]) -> String {
    let mut s = String::new();
    for o in objects.iter().filter(|o| o.kind == Kind::Sequence) {
        let _ = writeln!(s, "{};", o.create);
        if let Some(state) = &o.state {
            let _ = writeln!(s, "{state};");
        }
        s.push('\n');
    }
    s
}

/// The objects' part of `schema.sql`, before the data (`after` false) or after it: each
/// statement after its `sql_mode`, between `DELIMITER ;;` lines as mysqldump writes
/// them, so that the `mariadb` client reads the file too.
pub fn schema_part(objects: &[Object], after: bool) -> String {
    let mut s = String::new();
    let part: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind != Kind::Sequence && o.kind.after_data() == after)
        .collect();
    if part.is_empty() {
        return s;
    }
    s.push_str("DELIMITER ;;\n");
    for o in part {
        if let Some(mode) = &o.sql_mode {
            let _ = writeln!(s, "SET SESSION sql_mode = '{}';;", mode.replace('\'', "''"));
        }
        let _ = write!(s, "{};;\n\n", o.create);
    }
    s.push_str("DELIMITER ;\n\n");
    s
}
