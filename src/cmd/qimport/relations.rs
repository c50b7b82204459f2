//! What a load into a table would touch besides the table's own rows: foreign keys of
//! other tables that refer to it, its own foreign keys, and its triggers; and the flag
//! combinations refused because of them.
//!
//! A DELETE of the table's rows (`--truncate`, and `--mode replace`, which deletes the
//! row a new one replaces) runs the ON DELETE action of every foreign key that refers to
//! it: CASCADE deletes the other table's rows, SET NULL changes them. An import must not
//! touch rows of a table it was not given, so that needs `--cascade-deletes`. A RENAME
//! (`--swap`) moves foreign keys and triggers with the old table, and `CREATE TABLE ...
//! LIKE` copies neither: `--swap` is refused when any involves the table.

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::load::Mode;
use crate::conn::db_error;
use crate::sql::TableName;

/// One foreign key of another table that refers to ours.
pub struct Child {
    /// `db.table (constraint)`.
    pub name: String,
    /// ON DELETE: CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION.
    pub on_delete: String,
}

pub struct Relations {
    /// Foreign keys of other tables referring to this one.
    pub children: Vec<Child>,
    /// The table's own foreign keys (to itself included).
    pub parents: Vec<String>,
    pub triggers: Vec<String>,
}

impl Relations {
    pub fn load(conn: &mut Conn, t: &TableName) -> anyhow::Result<Relations> {
        let db = t.database.clone().unwrap_or_default();
        let children: Vec<(String, String, String, String)> = conn
            .exec(
                "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE \
                 FROM information_schema.REFERENTIAL_CONSTRAINTS \
                 WHERE UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ? \
                   AND NOT (CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?) \
                 ORDER BY 1, 2, 3",
                (&db, &t.table, &db, &t.table),
            )
            .map_err(db_error)?;
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
            children: children
                .into_iter()
                .map(|(d, t, c, on_delete)| Child {
                    name: format!("{d}.{t} ({c})"),
                    on_delete,
                })
                .collect(),
            parents,
            triggers,
        })
    }

    /// Some foreign key or trigger involves the table (a RENAME would break it).
    pub fn any(&self) -> bool {
        !(self.children.is_empty() && self.parents.is_empty() && self.triggers.is_empty())
    }

    /// Refuse what would touch other tables' rows or lose a foreign key or trigger.
    pub fn check(
        &self,
        t: &TableName,
        truncate: bool,
        swap: bool,
        mode: Mode,
        cascade_deletes: bool,
    ) -> anyhow::Result<()> {
        if swap && self.any() {
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
        if cascade_deletes {
            return Ok(());
        }
        if truncate {
            if let Some(c) = self.children.first() {
                bail!(
                    "--truncate would delete from {t}, which the foreign key of {} refers to (ON DELETE {}): add --cascade-deletes to let its ON DELETE action touch that table",
                    c.name,
                    c.on_delete
                );
            }
        }
        if mode == Mode::Replace {
            let acting = self
                .children
                .iter()
                .find(|c| !matches!(c.on_delete.as_str(), "RESTRICT" | "NO ACTION"));
            if let Some(c) = acting {
                bail!(
                    "--mode replace deletes the rows it replaces, and the foreign key of {} refers to {t} with ON DELETE {}: use --mode upsert, or add --cascade-deletes to let it touch that table",
                    c.name,
                    c.on_delete
                );
            }
        }
        Ok(())
    }
}
