//! The objects of a database besides its tables, for a backup's `schema.sql`: stored
//! functions and procedures, views, triggers and events, each as the server's own `SHOW
//! CREATE` statement (with its `DEFINER`, as mysqldump and mydumper keep it) after the
//! `sql_mode` it was created under.
//!
//! Order: routines first (a view or trigger may call them), then views (a view after the
//! views it reads), then, after the data, triggers (which would fire on the load) and
//! events (which could run during it). Names in the backed-up database are written
//! unqualified where that is sure: the session's default database is the backup's, so the
//! server writes a view's tables so, and [`crate::sql::unqualify`] takes the database off a
//! routine's, trigger's or event's own name (`CREATE TRIGGER db.tr ... ON db.t`). Their
//! bodies stay as written; a restore under another name rewrites what can only be the
//! database, and refuses the rest by name. Each object is created under the context it was created in: its `sql_mode`, its
//! `collation_connection`, and for an event its `time_zone` (its schedule's clock).

use std::fmt::Write as _;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::{Conn, Row};

use crate::conn::db_error;
use crate::dberror::{Code, ServerError};
use crate::sql::{quote_ident, Lexing, Token};

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
    /// The session settings it was created under, besides `sql_mode`: `time_zone`,
    /// `collation_connection`.
    context: Vec<(&'static str, String)>,
    create: String,
    /// A view's reads: the names its definition reads from (see [`reads`]).
    reads: Vec<String>,
    /// What follows the CREATE: a sequence's state (`DO SETVAL(...)`), read once the data
    /// is (see [`Object::read_state`]).
    state: Option<String>,
}

/// The objects to back up with `tables`: their triggers always; with `all`, also every
/// routine, view and event of the database. Also what to say of them: each view that does
/// not work on this server (ERROR 1356).
pub fn list(
    conn: &mut Conn,
    db: &str,
    tables: &[String],
    all: bool,
    unreadable: &[Kind],
) -> anyhow::Result<(Vec<Object>, Vec<String>)> {
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
    // Kinds this user may not read (a --partial backup says they are missing).
    named.retain(|(kind, _)| !unreadable.contains(kind));
    // A view that does not work here (it reads a table, column or function gone since,
    // or one this user may not read) is backed up, and said: a restore that cannot make
    // it fails.
    let mut warnings = Vec::new();
    for (kind, name) in &named {
        if *kind != Kind::View {
            continue;
        }
        if let Err(mysql::Error::MySqlError(e)) =
            conn.query_drop(format!("SELECT 1 FROM {} LIMIT 0", quote_ident(name)))
        {
            let e = ServerError::from(e);
            if e.code == Code::ViewInvalid {
                warnings.push(format!(
                    "the view {name} does not work here ({}): a restore that cannot make it fails; drop it or make it work before the backup",
                    e.message
                ));
            }
        }
    }
    let objects = named
        .into_iter()
        .map(|(kind, name)| show_create(conn, db, kind, name))
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
    Ok((others, warnings))
}

/// The names a query of information_schema gives for the database `db` (its one `?`).
fn names(conn: &mut Conn, sql: &str, db: &str) -> anyhow::Result<Vec<String>> {
    conn.exec(sql, (db,)).map_err(db_error)
}

fn show_create(conn: &mut Conn, db: &str, kind: Kind, name: String) -> anyhow::Result<Object> {
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
    let reads = if kind == Kind::View {
        reads(&create, db)
    } else {
        Vec::new()
    };
    // A routine's, trigger's or event's text is in the sql_mode it was made under (its
    // quotes included); a view's and a sequence's in this session's plain mode.
    let sql_mode = text("sql_mode");
    let lexing = sql_mode.as_deref().map_or(Lexing::PLAIN, Lexing::of_mode);
    // A view's text, read with its database as the session's, names the tables of that
    // database without it (the server writes it so); a routine's, trigger's or event's
    // is the text it was made with: its head (`CREATE TRIGGER db.tr ... ON db.t`) is
    // rewritten, its body stays as written (a restore under another name rewrites what
    // can only be the database).
    let create = if kind == Kind::View {
        create
    } else {
        crate::sql::unqualify(&create, db, lexing, crate::sql::Qualifiers::Head, None)
            .with_context(|| format!("reading the definition of the {what}"))?
    };
    let mut context = Vec::new();
    if kind == Kind::Event {
        let zone = match text("time_zone") {
            // The clock of the server it runs on: on another server, another clock. Its
            // offset now is written instead (and said).
            Some(z) if z.eq_ignore_ascii_case("SYSTEM") => {
                let offset = system_offset(conn)?;
                eprintln!(
                    "qexport: note: the {what} keeps time by the server's own clock (time zone SYSTEM): it is backed up as {offset}, that clock's offset from UTC now (a time in another season of daylight saving moves by the change)"
                );
                Some(offset)
            }
            z => z,
        };
        context.extend(zone.map(|z| ("time_zone", z)));
    }
    context.extend(text("collation_connection").map(|c| ("collation_connection", c)));
    Ok(Object {
        kind,
        sql_mode,
        context,
        name,
        create,
        reads,
        state: None,
    })
}

/// The server's own time zone (`SYSTEM`) as its offset from UTC now: `+09:00`.
fn system_offset(conn: &mut Conn) -> anyhow::Result<String> {
    let diff: Option<String> = conn
        .query_first(
            "SELECT TIME_FORMAT(TIMEDIFF(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', 'SYSTEM'), \
             UTC_TIMESTAMP()), '%H:%i')",
        )
        .map_err(db_error)?;
    let diff = diff.unwrap_or_else(|| "00:00".into());
    Ok(if diff.starts_with('-') {
        diff
    } else {
        format!("+{diff}")
    })
}

impl Object {
    /// A sequence goes on from where it is once the data is read: its next value not yet
    /// handed out to a cache (values a session had cached are skipped, as after a
    /// restart), and its cycles. Read after the tables, so that every value it will hand
    /// out after a restore is above the ones the backed-up rows hold.
    pub fn read_state(&mut self, conn: &mut Conn) -> anyhow::Result<()> {
        if self.kind != Kind::Sequence {
            return Ok(());
        }
        let what = format!("sequence {}", self.name);
        let (next, cycles): (i64, i64) = conn
            .query_first(format!(
                "SELECT next_not_cached_value, cycle_count FROM {}",
                quote_ident(&self.name)
            ))
            .map_err(db_error)
            .with_context(|| format!("reading the state of the {what}"))?
            .with_context(|| format!("the {what} has no state"))?;
        self.state = Some(format!(
            "DO SETVAL({}, {next}, 0, {cycles})",
            quote_ident(&self.name)
        ));
        Ok(())
    }
}

/// The tables and views a view's definition reads: each name right after FROM or JOIN,
/// or after a comma in a FROM list, with its database qualifier when it has one (a
/// column's name is never one, even when it is a view's: see: #24 (11)).
fn reads(create: &str, db: &str) -> Vec<String> {
    let Ok(toks) = crate::sql::tokens(create, Lexing::PLAIN, usize::MAX) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut in_from = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let starts = t.is("FROM") || t.is("JOIN") || (in_from && *t == Token::Punct(','));
        if t.is("FROM") {
            in_from = true;
        } else if [
            "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "ON", "USING",
        ]
        .iter()
        .any(|w| t.is(w))
            || *t == Token::Punct(')')
        {
            in_from = false;
        }
        if starts {
            if let Some(first) = toks.get(i + 1).and_then(Token::name) {
                let qualified = toks.get(i + 2) == Some(&Token::Punct('.'));
                match toks.get(i + 3).and_then(Token::name) {
                    Some(second) if qualified && first == db => out.push(second.to_owned()),
                    Some(_) if qualified => {} // another database's
                    _ => out.push(first.to_owned()),
                }
            }
        }
        i += 1;
    }
    out
}

/// Views after the views they read (by what their definitions read: see [`reads`]); a
/// cycle, which the server does not allow, would be broken by name.
fn order_views(mut views: Vec<Object>) -> Vec<Object> {
    let mut ordered: Vec<Object> = Vec::with_capacity(views.len());
    while !views.is_empty() {
        let ready = (0..views.len())
            .find(|&i| {
                !views
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && views[i].reads.contains(&other.name))
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
        for (name, value) in &o.context {
            let _ = writeln!(
                s,
                "SET SESSION {name} = {};;",
                crate::sql::quote_string(value)
            );
        }
        let _ = write!(s, "{};;\n\n", o.create);
    }
    s.push_str("DELIMITER ;\n");
    // The import's own settings again.
    s.push_str("SET SESSION time_zone = '+00:00';\nSET NAMES utf8mb4;\n\n");
    s
}

/// Read the state of each sequence in `objects` (after the data: see
/// [`Object::read_state`]).
pub fn read_states(conn: &mut Conn, objects: &mut [Object]) -> anyhow::Result<()> {
    objects.iter_mut().try_for_each(|o| o.read_state(conn))
}
