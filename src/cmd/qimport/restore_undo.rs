//! Taking a failed restore back: at once ([`take_back`]), or, where nothing could (the
//! server died, or the client by SIGKILL), by the next restore into the same database,
//! from the mark the restore keeps there, so that its tables are not left in the way.
//!
//! The mark is a work table `__qimport_restore_ID` (ID: the restoring connection's),
//! marked as qimport's by its comment, whose rows name each table and object the restore
//! makes, noted just before it is made: the statement that makes it (DDL) commits the
//! note with it. The restoring connection holds the server lock `qimport_work_ID`. The
//! next restore into the database finds a mark whose lock is free (its restore is gone),
//! drops what it names and the mark, and goes on. A restore that ends, well or not, drops
//! its own mark.

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
                "CREATE TABLE {} (kind VARCHAR(16) NOT NULL, name VARCHAR(64) NOT NULL) \
                 CHARACTER SET utf8mb4 COMMENT = {}",
                table.quoted(),
                quote_string(&work_mark(&table.table))
            ))
            .map_err(db_error)
        })?;
        Ok(Mark { table })
    }

    /// Note that the restore is about to make what `judged` makes (a table or an object;
    /// anything else is no note). The DDL that follows commits the note.
    pub fn note(&self, conn: &mut Conn, judged: &Stmt) -> anyhow::Result<()> {
        let (kind, name) = match judged {
            Stmt::Table(name) => ("TABLE", name),
            Stmt::Object(kind, name) => (kind.word(), name),
            _ => return Ok(()),
        };
        conn.exec_drop(
            format!("INSERT INTO {} VALUES (?, ?)", self.table.quoted()),
            (kind, name),
        )
        .map_err(db_error)
    }

    /// [`Mark::note`] each of `judged` (the objects of a step that makes several).
    pub fn note_all<'s>(
        &self,
        conn: &mut Conn,
        judged: impl IntoIterator<Item = &'s Stmt>,
    ) -> anyhow::Result<()> {
        judged.into_iter().try_for_each(|j| self.note(conn, j))
    }

    /// The restore is done: its mark goes. It stands from this drop on; until it, a
    /// restore killed (or this drop lost) is dropped whole by the next one.
    pub fn stand(&self, conn: &mut Conn) -> anyhow::Result<()> {
        conn.query_drop(format!("DROP TABLE {}", self.table.quoted()))
            .map_err(db_error)
    }
}

/// Drop what restores into `db` that are gone left behind: each mark whose restore's lock
/// is free, what it names, and the mark; said unless `quiet`. A mark whose restore still
/// runs is left alone (the check that follows then finds its tables in the way).
pub(super) fn sweep(conn: &mut Conn, db: &str, quiet: bool) -> anyhow::Result<()> {
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
        let rows: Vec<(String, String)> = conn
            .query(format!("SELECT kind, name FROM {}", mark.quoted()))
            .map_err(db_error)?;
        // The mark first: dropped last (tables go newest first).
        let mut tables = vec![mark];
        let mut objects = Vec::new();
        for (kind, name) in rows {
            if kind == "TABLE" {
                tables.push(TableName {
                    database: Some(db.to_owned()),
                    table: name,
                });
            } else if let Some(k) = KINDS.iter().find(|k| k.word() == kind) {
                objects.push(drop_sql(*k, db, &name));
            }
        }
        drop_on(conn, &objects, &tables).map_err(db_error)?;
        if !quiet {
            eprintln!(
                "qimport: dropped what a restore into {db} that was killed left: {}",
                tables_and_others(tables.len() - 1, objects.len())
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

/// Take back a failed restore: drop what it made (`drops`, then `created`) and put the
/// database's defaults back (`defaults`), under the session's own settings (the names are
/// UTF-8, whatever character set schema.sql set). Returns what to add to the error: when
/// the server cannot be reached, that the next restore drops what this one made.
pub(super) fn take_back(
    cfg: &Config,
    conn: &mut Conn,
    drops: &[String],
    created: &[TableName],
    defaults: Option<&str>,
) -> String {
    let _ = conn.query_drop("ROLLBACK");
    let _ = super::restore::own_settings(conn);
    if drop_on(conn, drops, created).is_err() {
        // A server that cannot be reached (it died: the failure says so) needs no second
        // line: the next restore into the database drops what the mark names.
        if cfg.conn.connect(&[]).is_err() {
            return format!(
                ": the next qimport --dir into {} drops what this one made",
                cfg.database
            );
        }
        super::undo::drop_anew(&cfg.conn, &[], drops, created);
    }
    if let Some(before) = defaults {
        // On a new connection when this one is lost (the error may be that).
        if conn.query_drop(before).is_err() {
            match cfg.conn.connect(&[]) {
                Ok(mut c) => {
                    let _ = c.query_drop(before);
                }
                Err(e) => eprintln!("qimport: could not put the database's defaults back: {e:#}"),
            }
        }
    }
    String::new()
}
