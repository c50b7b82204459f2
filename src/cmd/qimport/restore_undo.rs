//! Taking a failed restore back: at once ([`take_back`]), or, where nothing could (the
//! server died, or the client by SIGKILL), by the next restore into the same database,
//! from the mark the restore keeps there, so that its tables are not left in the way.
//!
//! The mark is a work table `__qimport_restore_ID` (ID: the restoring connection's),
//! marked as qimport's by its comment. Each table or object the restore makes is noted
//! in it once made (a table with its creation time), committed at once, in the same step
//! as its registration for the undo of a signal ([`Making`]). The restoring connection
//! holds the server lock `qimport_work_ID`. The next restore into the database finds a
//! mark whose lock is free (its restore is gone) and drops what it names, but only what
//! stands in its own way and is still what the dead restore made: a table or object of
//! the backup it restores, a table with the creation time noted (a table made again since,
//! by anyone, is kept). The rest stays noted, for a later restore of that backup. A mark
//! is no proof of who wrote it: that rule bounds what a forged one can do to what the
//! restore would have refused to replace (docs/backups.md). A restore that ends, well or
//! not, drops its own mark.

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

/// The kinds a mark's row may name, by their SQL word (`TABLE` for a table).
const KINDS: [ObjectKind; 6] = [
    ObjectKind::Sequence,
    ObjectKind::Function,
    ObjectKind::Procedure,
    ObjectKind::View,
    ObjectKind::Trigger,
    ObjectKind::Event,
];

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
                "CREATE TABLE {} (kind VARCHAR(16) NOT NULL, name VARCHAR(64) NOT NULL, \
                 created VARCHAR(32)) CHARACTER SET utf8mb4 COMMENT = {}",
                table.quoted(),
                quote_string(&work_mark(&table.table))
            ))
            .map_err(db_error)
        })?;
        Ok(Mark { table })
    }

    /// Note that the restore made `name`, a table (with its creation time) or an object
    /// of `kind`, and commit the note (no data is pending then: the DDL that made it
    /// committed what was).
    fn note(&self, conn: &mut Conn, kind: &str, name: &str) -> anyhow::Result<()> {
        let created: Option<String> = if kind == "TABLE" {
            created(conn, self.db(), name)?
        } else {
            None
        };
        conn.exec_drop(
            format!("INSERT INTO {} VALUES (?, ?, ?)", self.table.quoted()),
            (kind, name, created),
        )
        .and_then(|()| conn.query_drop("COMMIT"))
        .map_err(db_error)
    }

    fn db(&self) -> &str {
        self.table.database.as_deref().unwrap_or_default()
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
                self.undo.made_table(&t, || {
                    make(conn)?;
                    self.mark.note(conn, "TABLE", name)
                })
            }
            Stmt::Object(kind, name) => {
                self.undo.made_object(drop_sql(*kind, self.db, name), || {
                    make(conn)?;
                    self.mark.note(conn, kind.word(), name)
                })
            }
            _ => make(conn),
        }
    }
}

/// A table's creation time, as information_schema says (`None` for an engine that keeps
/// none).
fn created(conn: &mut Conn, db: &str, table: &str) -> anyhow::Result<Option<String>> {
    let t: Option<Option<String>> = conn
        .exec_first(
            "SELECT CAST(CREATE_TIME AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .map_err(db_error)?;
    Ok(t.flatten())
}

/// What the restore about to run would make: the tables and the other objects (by their
/// SQL word) of its backup.
pub(super) struct Wanted<'a> {
    pub tables: Vec<&'a str>,
    pub objects: Vec<(&'static str, &'a str)>,
}

/// Drop what restores into `db` that are gone left in the way of this one (`wanted`): see
/// the module's comment. Said unless `quiet`. A mark whose restore still runs is left
/// alone (the check that follows then finds its tables in the way).
pub(super) fn sweep(
    conn: &mut Conn,
    db: &str,
    wanted: &Wanted<'_>,
    quiet: bool,
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
        let Some(id) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let id_like =
            !id.is_empty() && !id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit());
        if !id_like || !owner_gone(conn, id)? {
            continue;
        }
        let mark = TableName {
            database: Some(db.to_owned()),
            table: name,
        };
        let rows: Vec<(String, String, Option<String>)> = conn
            .query(format!("SELECT kind, name, created FROM {}", mark.quoted()))
            .map_err(db_error)?;
        let (mut tables, mut objects, mut done) = (Vec::new(), Vec::new(), Vec::new());
        for (kind, name, made) in rows {
            let ours = if kind == "TABLE" {
                wanted.tables.contains(&name.as_str()) && created(conn, db, &name)? == made
            } else {
                wanted.objects.contains(&(kind.as_str(), name.as_str()))
            };
            if !ours {
                continue;
            }
            if kind == "TABLE" {
                tables.push(TableName {
                    database: Some(db.to_owned()),
                    table: name.clone(),
                });
            } else if let Some(k) = KINDS.iter().find(|k| k.word() == kind) {
                objects.push(drop_sql(*k, db, &name));
            }
            done.push((kind, name));
        }
        drop_on(conn, &objects, &tables).map_err(db_error)?;
        for (kind, name) in &done {
            conn.exec_drop(
                format!("DELETE FROM {} WHERE kind = ? AND name = ?", mark.quoted()),
                (kind, name),
            )
            .and_then(|()| conn.query_drop("COMMIT"))
            .map_err(db_error)?;
        }
        let left: Option<u64> = conn
            .query_first(format!("SELECT COUNT(*) FROM {}", mark.quoted()))
            .map_err(db_error)?;
        if left == Some(0) {
            conn.query_drop(format!("DROP TABLE {}", mark.quoted()))
                .map_err(db_error)?;
        }
        if !quiet && !done.is_empty() {
            eprintln!(
                "qimport: dropped what a restore into {db} that was killed left: {}",
                tables_and_others(tables.len(), objects.len())
            );
        }
    }
    Ok(())
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
