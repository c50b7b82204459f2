//! Taking a failed restore back: at once ([`take_back`]), or, where nothing could (the
//! server died, or the client by SIGKILL), by the next restore into the same database,
//! from the mark the restore keeps there, so that its tables are not left in the way.
//!
//! The mark is a work table `__qimport_restore_ID` (ID: the restoring connection's),
//! marked as qimport's by its comment. Each table or object the restore makes is noted
//! in it just before it is made, committed at once; it is registered for the undo of a
//! signal once made ([`Making`]). The restoring connection holds the server lock
//! `qimport_work_ID`. The next restore into the database finds a mark whose lock is free
//! (its restore is gone). A mark proves nothing of who wrote it (anyone who may create
//! tables there can), nor is a table it names still the one the dead restore made (it
//! may have been made again since, with someone's data): so the next restore names what
//! the mark names and refuses, and drops those of its own backup only when told to
//! (`--drop-leftovers`). A mark that names nothing that stands is dropped. A restore that
//! ends, well or not, drops its own mark.

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::script::Stmt;
use super::table::{hold_work_lock, owner_gone, work_mark, WORK_MARK};
use super::undo::{drop_on, Undo};
use crate::conn::db_error;
use crate::error::plural;
use crate::manifest::ObjectKind;
use crate::sql::{quote_ident, quote_string, TableName};

const PREFIX: &str = "__qimport_restore_";

/// The mark of a running restore.
pub(super) struct Mark {
    pub table: TableName,
}

impl Mark {
    /// Hold the restore's lock and make its (empty) mark in `db`, registered with `undo`
    /// in the same step (a signal meanwhile finds both or neither).
    pub fn put(conn: &mut Conn, db: &str, undo: &Undo) -> anyhow::Result<Mark> {
        hold_work_lock(conn)?;
        let table = TableName {
            database: Some(db.to_owned()),
            table: format!("{PREFIX}{}", conn.connection_id()),
        };
        undo.made_table(&table, || {
            conn.query_drop(format!(
                "CREATE TABLE {} (kind VARCHAR(16) NOT NULL, name VARCHAR(64) NOT NULL) \
                 CHARACTER SET utf8mb4 COMMENT = {}",
                table.quoted(),
                quote_string(&work_mark(&table.table))
            ))
            .map_err(db_error)
        })?;
        Ok(Mark { table })
    }

    /// Note that the restore is about to make `name`, a table or an object of `kind`, and
    /// commit the note (no data is pending then: the DDL that made the last thing committed
    /// what was). Before, not after: a restore killed in between names a thing it did not
    /// make (the next restore names it to the user, who decides), never the reverse.
    fn note(&self, conn: &mut Conn, kind: &str, name: &str) -> anyhow::Result<()> {
        conn.exec_drop(
            format!("INSERT INTO {} VALUES (?, ?)", self.table.quoted()),
            (kind, name),
        )
        .and_then(|()| conn.query_drop("COMMIT"))
        .map_err(db_error)
    }

    /// The restore is done: its mark goes. It stands from this drop on; until it, a
    /// restore killed (or this drop lost) is dropped whole by the next one.
    pub fn stand(&self, conn: &mut Conn) -> anyhow::Result<()> {
        conn.query_drop(format!("DROP TABLE {}", self.table.quoted()))
            .map_err(db_error)
    }
}

/// What a restore makes, each registered for the undo of a signal and noted in the mark
/// as it is made.
pub(super) struct Making<'a> {
    pub undo: &'a Undo,
    pub mark: &'a Mark,
    pub db: &'a str,
}

impl Making<'_> {
    /// Run `make`, the statement that makes what `judged` says (a table, an object, or
    /// nothing to take back: a setting), and record what it made.
    pub fn make(
        &self,
        conn: &mut Conn,
        judged: &Stmt,
        make: impl FnOnce(&mut Conn) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        match judged {
            Stmt::Table(name) => {
                let t = TableName {
                    database: Some(self.db.to_owned()),
                    table: name.clone(),
                };
                self.mark.note(conn, "TABLE", name)?;
                self.undo.made_table(&t, || make(conn))
            }
            Stmt::Object(kind, name) => {
                self.mark.note(conn, kind.word(), name)?;
                self.undo
                    .made_object(drop_sql(*kind, self.db, name), || make(conn))
            }
            _ => make(conn),
        }
    }
}

/// What the restore about to run would make: the tables and the other objects (by their
/// SQL word) of its backup.
pub(super) struct Wanted<'a> {
    pub tables: Vec<&'a str>,
    pub objects: Vec<(&'static str, &'a str)>,
}

/// What restores into `db` that are gone left (see the module's comment): refused, naming
/// it, unless `drop` (`--drop-leftovers`): then what `wanted` holds of it is dropped (and
/// said unless `quiet`), and the rest named and kept. A mark whose restore still runs (or
/// is still being rolled back by the server) is refused too: one restore at a time.
pub(super) fn sweep(
    conn: &mut Conn,
    db: &str,
    wanted: &Wanted<'_>,
    (drop, quiet): (bool, bool),
) -> anyhow::Result<()> {
    let marks: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE '\\_\\_qimport\\_restore\\_%' \
               AND BINARY TABLE_COMMENT = BINARY CONCAT(?, TABLE_NAME, ?)",
            (db, WORK_MARK.0, WORK_MARK.1),
        )
        .map_err(db_error)?;
    for name in marks {
        let Some(id) = name.strip_prefix(PREFIX).map(str::to_owned) else {
            continue;
        };
        let id_like =
            !id.is_empty() && !id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit());
        if !id_like {
            continue;
        }
        let mark = TableName {
            database: Some(db.to_owned()),
            table: name,
        };
        if !owner_gone(conn, &id)? {
            bail!(
                "a restore into {db} is running, or is still being rolled back (its mark is {}): \
                 wait for it to end, then run again",
                mark.quoted()
            );
        }
        let rows: Vec<(String, String)> = conn
            .query(format!("SELECT kind, name FROM {}", mark.quoted()))
            .map_err(db_error)?;
        let mut standing = Vec::new();
        for (kind, name) in rows {
            if !standing.contains(&(kind.clone(), name.clone())) && stands(conn, db, &kind, &name)?
            {
                standing.push((kind, name));
            }
        }
        if !standing.is_empty() && !drop {
            let named: Vec<String> = standing.iter().map(|(k, n)| described(k, n)).collect();
            bail!(
                "a restore into {db} was cut short and left {} (named in its mark {}): look at \
                 them, then run again with --drop-leftovers to drop those this backup holds and \
                 restore, or drop them and the mark yourself",
                named.join(", "),
                mark.quoted()
            );
        }
        let (mut tables, mut objects, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        for (kind, name) in standing {
            let ours = if kind == "TABLE" {
                wanted.tables.contains(&name.as_str())
            } else {
                wanted.objects.contains(&(kind.as_str(), name.as_str()))
            };
            if !ours {
                kept.push(described(&kind, &name));
            } else if kind == "TABLE" {
                tables.push(TableName {
                    database: Some(db.to_owned()),
                    table: name,
                });
            } else if let Some(k) = ObjectKind::of_word(&kind) {
                objects.push(drop_sql(k, db, &name));
            }
        }
        // The mark first: dropped last (tables go newest first).
        let (n_tables, n_objects) = (tables.len(), objects.len());
        tables.insert(0, mark);
        drop_on(conn, &objects, &tables).map_err(db_error)?;
        if !quiet && n_tables + n_objects > 0 {
            eprintln!(
                "qimport: dropped what a restore into {db} that was killed left: {}",
                tables_and_others(n_tables, n_objects)
            );
        }
        if !quiet && !kept.is_empty() {
            eprintln!(
                "qimport: kept what it also left that this backup does not hold: {}",
                kept.join(", ")
            );
        }
    }
    Ok(())
}

/// `the table t`, `the procedure p`.
fn described(kind: &str, name: &str) -> String {
    format!("the {} {}", kind.to_ascii_lowercase(), quote_ident(name))
}

/// Whether the table or object `name` of `kind` (a mark's words) stands in `db`.
fn stands(conn: &mut Conn, db: &str, kind: &str, name: &str) -> anyhow::Result<bool> {
    let sql = match kind {
        "TABLE" | "VIEW" | "SEQUENCE" => {
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?"
        }
        "FUNCTION" | "PROCEDURE" => {
            "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ?"
        }
        "TRIGGER" => {
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?"
        }
        "EVENT" => {
            "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?"
        }
        _ => return Ok(false),
    };
    let n: Option<u64> = conn.exec_first(sql, (db, name)).map_err(db_error)?;
    Ok(n.unwrap_or(0) > 0)
}

/// `3 tables` or `3 tables and 2 other objects`.
pub(super) fn tables_and_others(tables: usize, others: usize) -> String {
    let tables = plural(tables as u64, "table");
    if others == 0 {
        tables
    } else {
        format!("{tables} and {}", plural(others as u64, "other object"))
    }
}

/// The statement that drops a view, routine, trigger, event or sequence of the backup.
/// The drop of an object a restore made, in its database: `DROP FUNCTION f` without it
/// would drop a library function (a UDF) of that name, server-wide.
pub(super) fn drop_sql(kind: ObjectKind, db: &str, name: &str) -> String {
    format!(
        "DROP {} IF EXISTS {}.{}",
        kind.word(),
        quote_ident(db),
        quote_ident(name)
    )
}

/// Take back a failed restore: drop what it made and put the database's defaults back
/// (all `undo` holds, newest first), under the session's own settings (the names are
/// UTF-8, whatever character set schema.sql set). Returns what to add to the error: when
/// the server cannot be reached, that the next restore drops what this one made.
pub(super) fn take_back(cfg: &Config, conn: &mut Conn, undo: &Undo) -> String {
    let (objects, tables) = undo.take();
    let _ = conn.query_drop("ROLLBACK");
    let _ = super::restore::own_settings(conn);
    if drop_on(conn, &objects, &tables).is_err() {
        // A server that cannot be reached (it died: the failure says so) needs no second
        // line: the next restore into the database drops what the mark names.
        if cfg.conn.connect(&[]).is_err() {
            return format!(
                ": the next qimport --dir into {} drops what this one made",
                cfg.database
            );
        }
        super::undo::drop_anew(&cfg.conn, &[], &objects, &tables);
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #23 (hostile review, round 5): a drop names its database (unqualified, DROP
    // FUNCTION drops a library function of that name, server-wide).
    #[test]
    fn drops_name_their_database() {
        assert_eq!(
            drop_sql(ObjectKind::Function, "d`b", "f"),
            "DROP FUNCTION IF EXISTS `d``b`.`f`"
        );
    }
}
