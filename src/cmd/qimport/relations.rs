//! What a load into a table would touch besides the table's own rows: foreign keys of
//! other tables that refer to it, its own foreign keys, and its triggers; and the flag
//! combinations refused because of them.
//!
//! A DELETE of the table's rows (`--truncate`, and `--mode replace`, which deletes the
//! row a new one replaces) runs the ON DELETE action of every foreign key that refers to
//! it: CASCADE deletes the other table's rows, SET NULL changes them; an UPDATE of a
//! referenced column (`--mode upsert` matching a row by another unique key) runs the ON
//! UPDATE action. An import must not touch rows of a table it was not given, so those need
//! `--cascade`. A RENAME (`--swap`) moves foreign keys and triggers with the old table,
//! and `CREATE TABLE ... LIKE` copies neither: `--swap` is refused when any involves the
//! table.
//!
//! `information_schema` shows a user only the foreign keys of tables it has a privilege
//! on: a child table in another database may be invisible, and its `ON DELETE CASCADE`
//! would still run. The complete list is InnoDB's own dictionary, which needs the PROCESS
//! privilege: where it cannot be read, qimport cannot know, and refuses what could reach
//! a table it cannot see unless `--cascade` says so.

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::load::Mode;
use crate::conn::db_error;
use crate::flavour::Server;
use crate::sql::TableName;

/// One foreign key of another table that refers to ours.
pub struct Child {
    /// `db.table (constraint)`.
    pub name: String,
    /// ON DELETE: CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION.
    pub on_delete: String,
    /// ON UPDATE, likewise.
    pub on_update: String,
}

pub struct Relations {
    /// Foreign keys of other tables referring to this one.
    pub children: Vec<Child>,
    /// `children` is every such key, read from InnoDB's dictionary; false when this user
    /// may not read it (see the module doc): some may be missing.
    pub complete: bool,
    /// The table's own foreign keys (to itself included).
    pub parents: Vec<String>,
    pub triggers: Vec<String>,
}

/// What the import is about to do to the table's existing rows.
pub struct Plan {
    pub truncate: bool,
    pub swap: bool,
    pub mode: Mode,
    /// `--cascade`: foreign keys' actions may touch other tables.
    pub cascade: bool,
}

/// The server's "Access denied; you need the PROCESS privilege".
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;

/// Does a foreign key rule act on the child's rows (rather than refuse the change)?
fn acts(rule: &str) -> bool {
    !matches!(rule, "RESTRICT" | "NO ACTION")
}

impl Relations {
    pub fn load(conn: &mut Conn, t: &TableName) -> anyhow::Result<Relations> {
        let db = t.database.clone().unwrap_or_default();
        let (children, complete) = match innodb_children(conn, &db, &t.table)? {
            Some(all) => (all, true),
            None => (visible_children(conn, &db, &t.table)?, false),
        };
        let parents: Vec<String> = conn
            .exec(
                "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? ORDER BY 1",
                (&db, &t.table),
            )
            .map_err(db_error)?;
        let triggers: Vec<String> = conn
            .exec(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS \
                 WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? ORDER BY 1",
                (&db, &t.table),
            )
            .map_err(db_error)?;
        Ok(Relations {
            children,
            complete,
            parents,
            triggers,
        })
    }

    /// Some foreign key or trigger involves the table (a RENAME would break it).
    pub fn any(&self) -> bool {
        !(self.children.is_empty() && self.parents.is_empty() && self.triggers.is_empty())
    }

    /// Refuse what would touch other tables' rows or lose a foreign key or trigger.
    pub fn check(&self, t: &TableName, plan: &Plan) -> anyhow::Result<()> {
        if plan.swap && self.any() {
            let mut what = Vec::new();
            what.extend(
                self.children
                    .iter()
                    .map(|c| format!("the foreign key of {}", c.name)),
            );
            what.extend(self.parents.iter().map(|p| format!("its foreign key {p}")));
            what.extend(self.triggers.iter().map(|g| format!("its trigger {g}")));
            bail!(
                "--swap would break {} (RENAME moves them with the old table): load with --truncate instead, which keeps them",
                what.join(", ")
            );
        }
        if plan.cascade {
            return Ok(());
        }
        let what = if plan.truncate {
            "--truncate"
        } else {
            match plan.mode {
                Mode::Replace => "--mode replace",
                Mode::Upsert => "--mode upsert",
                Mode::Insert | Mode::Ignore => return Ok(()),
            }
        };
        if plan.truncate {
            if let Some(c) = self.children.first() {
                bail!(
                    "--truncate would delete from {t}, which the foreign key of {} refers to (ON DELETE {}): add --cascade to let its ON DELETE action touch that table",
                    c.name,
                    c.on_delete
                );
            }
        }
        if plan.mode == Mode::Replace && !plan.truncate {
            if let Some(c) = self.children.iter().find(|c| acts(&c.on_delete)) {
                bail!(
                    "--mode replace deletes the rows it replaces, and the foreign key of {} refers to {t} with ON DELETE {}: use --mode upsert, or add --cascade to let it touch that table",
                    c.name,
                    c.on_delete
                );
            }
        }
        if plan.mode == Mode::Upsert {
            if let Some(c) = self.children.iter().find(|c| acts(&c.on_update)) {
                bail!(
                    "--mode upsert may change a column of {t} that the foreign key of {} refers to (ON UPDATE {}), when a row is matched by another unique key: add --cascade to let its ON UPDATE action touch that table",
                    c.name,
                    c.on_update
                );
            }
        }
        if !self.complete {
            bail!(
                "{what}: this user cannot see every foreign key that may refer to {t} (InnoDB's \
                 list of them needs the PROCESS privilege; information_schema shows only the \
                 tables it may read), so a foreign key's action could change a table it cannot \
                 see: grant PROCESS, or add --cascade to accept that"
            );
        }
        Ok(())
    }
}

/// Every foreign key that refers to `db.table`, from InnoDB's dictionary: `None` when
/// this user may not read it, or when the names are not plain ASCII (the dictionary
/// spells other characters in the server's file-name encoding).
fn innodb_children(conn: &mut Conn, db: &str, table: &str) -> anyhow::Result<Option<Vec<Child>>> {
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain(db) || !plain(table) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT ID, FOR_NAME, TYPE FROM {} WHERE REF_NAME = ? AND FOR_NAME <> REF_NAME ORDER BY 1",
        Server::of(conn)?.foreign_keys_table()
    );
    // The dictionary compares names as the file system does (case-insensitively with
    // lower_case_table_names): so does this.
    let rows: Vec<(String, String, u32)> = match conn.exec(sql, (format!("{db}/{table}"),)) {
        Ok(r) => r,
        Err(mysql::Error::MySqlError(e)) if e.code == ER_SPECIFIC_ACCESS_DENIED => return Ok(None),
        Err(e) => return Err(db_error(e)),
    };
    Ok(Some(
        rows.into_iter()
            .map(|(id, child, flags)| {
                let constraint = id.rsplit_once('/').map_or(id.as_str(), |(_, c)| c);
                Child {
                    name: format!("{} ({constraint})", child.replacen('/', ".", 1)),
                    on_delete: rule(flags, 1, 2, 16).into(),
                    on_update: rule(flags, 4, 8, 32).into(),
                }
            })
            .collect(),
    ))
}

/// A rule from InnoDB's flag bits (`dict0mem.h`: DICT_FOREIGN_ON_DELETE_CASCADE = 1,
/// ..._SET_NULL = 2, ..._NO_ACTION = 16; ON UPDATE: 4, 8, 32; none set: RESTRICT).
fn rule(flags: u32, cascade: u32, set_null: u32, no_action: u32) -> &'static str {
    if flags & cascade != 0 {
        "CASCADE"
    } else if flags & set_null != 0 {
        "SET NULL"
    } else if flags & no_action != 0 {
        "NO ACTION"
    } else {
        "RESTRICT"
    }
}

/// The foreign keys referring to `db.table` that this user can see.
fn visible_children(conn: &mut Conn, db: &str, table: &str) -> anyhow::Result<Vec<Child>> {
    let rows: Vec<(String, String, String, String, String)> = conn
        .exec(
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE \
             FROM information_schema.REFERENTIAL_CONSTRAINTS \
             WHERE UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ? \
               AND NOT (CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?) \
             ORDER BY 1, 2, 3",
            (db, table, db, table),
        )
        .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(d, t, c, on_delete, on_update)| Child {
            name: format!("{d}.{t} ({c})"),
            on_delete,
            on_update,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_from_innodb_flags() {
        assert_eq!(rule(5, 1, 2, 16), "CASCADE");
        assert_eq!(rule(5, 4, 8, 32), "CASCADE");
        assert_eq!(rule(2 | 32, 1, 2, 16), "SET NULL");
        assert_eq!(rule(2 | 32, 4, 8, 32), "NO ACTION");
        assert_eq!(rule(0, 1, 2, 16), "RESTRICT");
    }
}
