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

use super::choices::{Mode, OldRows};
use crate::conn::db_error;
use crate::dberror::{Code, ServerError};
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
    /// The key is the table's own, referring to itself (`parent_id` to `id`): a DELETE
    /// of a replaced row runs its action on other rows of the table, which the input
    /// may not hold.
    pub own: bool,
}

pub struct Relations {
    /// Foreign keys referring to this table: of other tables, and its own to itself.
    pub children: Vec<Child>,
    /// `children` is every such key, read from InnoDB's dictionary; false when it could
    /// not be read (see [`Relations::unseen`]): some may be missing.
    pub complete: bool,
    /// Why the dictionary could not be read, when it could not.
    unseen: Unseen,
    /// The table's own foreign keys (to itself included).
    pub parents: Vec<String>,
    pub triggers: Vec<String>,
}

/// What the import is about to do to the table's existing rows.
pub struct Plan {
    pub old_rows: OldRows,
    pub mode: Mode,
    /// `--cascade`: foreign keys' actions may touch other tables.
    pub cascade: bool,
}

/// Why InnoDB's list of foreign keys was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unseen {
    /// It was read.
    Nothing,
    /// This user lacks the PROCESS privilege.
    Privilege,
    /// The name has characters outside ASCII, which the dictionary spells in the
    /// server's file-name encoding by tables qimport does not carry.
    Name,
}

/// Does a foreign key rule act on the child's rows (rather than refuse the change)?
fn acts(rule: &str) -> bool {
    !matches!(rule, "RESTRICT" | "NO ACTION")
}

impl Relations {
    pub fn load(conn: &mut Conn, t: &TableName) -> anyhow::Result<Relations> {
        let db = t.database.clone().unwrap_or_default();
        let (children, unseen) = match innodb_children(conn, &db, &t.table)? {
            Ok(all) => (all, Unseen::Nothing),
            Err(why) => (visible_children(conn, &db, &t.table)?, why),
        };
        let complete = unseen == Unseen::Nothing;
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
            unseen,
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
        if (plan.old_rows == OldRows::Swap) && self.any() {
            let mut what = Vec::new();
            what.extend(
                self.children
                    .iter()
                    .filter(|c| !c.own)
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
        let what = if plan.old_rows == OldRows::Delete {
            "--truncate"
        } else {
            match plan.mode {
                Mode::Replace => "--mode replace",
                Mode::Upsert => "--mode upsert",
                Mode::Insert | Mode::Ignore => return Ok(()),
            }
        };
        // --truncate empties the table: its own keys' actions reach only rows it deletes.
        if plan.old_rows == OldRows::Delete {
            if let Some(c) = self.children.iter().find(|c| !c.own) {
                bail!(
                    "--truncate would delete from {t}, which the foreign key of {} refers to (ON DELETE {}): add --cascade to let its ON DELETE action touch that table",
                    c.name,
                    c.on_delete
                );
            }
        }
        if plan.mode == Mode::Replace && !(plan.old_rows == OldRows::Delete) {
            if let Some(c) = self.children.iter().find(|c| acts(&c.on_delete)) {
                let reach = if c.own {
                    "rows of the table the input does not hold"
                } else {
                    "that table"
                };
                bail!(
                    "--mode replace deletes the rows it replaces, and the foreign key of {} refers to {t} with ON DELETE {}: use --mode upsert, or add --cascade to let it touch {reach}",
                    c.name,
                    c.on_delete
                );
            }
        }
        if plan.mode == Mode::Upsert {
            if let Some(c) = self.children.iter().find(|c| acts(&c.on_update)) {
                let reach = if c.own {
                    "rows of the table the input does not hold"
                } else {
                    "that table"
                };
                bail!(
                    "--mode upsert may change a column of {t} that the foreign key of {} refers to (ON UPDATE {}), when a row is matched by another unique key: add --cascade to let its ON UPDATE action touch {reach}",
                    c.name,
                    c.on_update
                );
            }
        }
        match self.unseen {
            Unseen::Nothing => {}
            Unseen::Privilege => bail!(
                "{what}: this user cannot see every foreign key that may refer to {t} (InnoDB's \
                 list of them needs the PROCESS privilege; information_schema shows only the \
                 tables it may read), so a foreign key's action could change a table it cannot \
                 see: grant PROCESS, or add --cascade to accept that"
            ),
            Unseen::Name => bail!(
                "{what}: qimport cannot read InnoDB's list of the foreign keys that refer to \
                 {t} (the list spells a name with characters outside ASCII in the server's \
                 file-name encoding), and information_schema shows only the tables this user \
                 may read, so a foreign key's action could change a table it cannot see: add \
                 --cascade to accept that"
            ),
        }
        Ok(())
    }
}

/// Every foreign key that refers to `db.table`, from InnoDB's dictionary, or why it could
/// not be read.
fn innodb_children(
    conn: &mut Conn,
    db: &str,
    table: &str,
) -> anyhow::Result<Result<Vec<Child>, Unseen>> {
    let (Some(db_file), Some(table_file)) = (file_name(db), file_name(table)) else {
        return Ok(Err(Unseen::Name));
    };
    let sql = format!(
        "SELECT ID, FOR_NAME, TYPE, FOR_NAME = REF_NAME FROM {} WHERE REF_NAME = ? ORDER BY 1",
        Server::of(conn)?.foreign_keys_table()
    );
    // The dictionary compares names as the file system does (case-insensitively with
    // lower_case_table_names): so does this.
    let rows: Vec<(String, String, u32, bool)> =
        match conn.exec(sql, (format!("{db_file}/{table_file}"),)) {
            Ok(r) => r,
            Err(e) if ServerError::driver_is(&e, Code::SpecificAccessDenied) => {
                return Ok(Err(Unseen::Privilege))
            }
            Err(e) => return Err(db_error(e)),
        };
    Ok(Ok(rows
        .into_iter()
        .map(|(id, child, flags, own)| {
            let constraint = id.rsplit_once('/').map_or(id.as_str(), |(_, c)| c);
            let (d, t) = child.split_once('/').unwrap_or(("", &child));
            Child {
                name: format!("{}.{} ({})", shown(d), shown(t), shown(constraint)),
                on_delete: rule(flags, 1, 2, 16).into(),
                on_update: rule(flags, 4, 8, 32).into(),
                own,
            }
        })
        .collect()))
}

/// An ASCII name as InnoDB's dictionary spells it (the server's file-name encoding: a
/// letter, digit or `_` as itself, any other character as `@` and four hex digits, `-`
/// as `@002d`); `None` for a name with other characters, which the encoding spells by
/// tables of its own.
fn file_name(name: &str) -> Option<String> {
    name.is_ascii().then(|| {
        name.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'_' {
                    char::from(b).to_string()
                } else {
                    format!("@{b:04x}")
                }
            })
            .collect()
    })
}

/// A name from the dictionary as it reads: `@` and four hex digits back to the character
/// (any other `@` sequence, of the encoding's tables, stays as it is).
fn shown(file: &str) -> String {
    let mut out = String::new();
    let mut rest = file;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 5)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        if let Some(c) = code
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            out.push(c);
            rest = &rest[at + 5..];
        } else {
            out.push('@');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
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
    let rows: Vec<(String, String, String, String, String, bool)> = conn
        .exec(
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE, \
                    CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? \
             FROM information_schema.REFERENTIAL_CONSTRAINTS \
             WHERE UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ? \
             ORDER BY 1, 2, 3",
            (db, table, db, table),
        )
        .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(d, t, c, on_delete, on_update, own)| Child {
            name: format!("{d}.{t} ({c})"),
            on_delete,
            on_update,
            own,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #23 (review): names with punctuation are looked up as the dictionary spells
    // them, and read back.
    #[test]
    fn names_in_the_file_name_encoding() {
        assert_eq!(file_name("my-db.x").as_deref(), Some("my@002ddb@002ex"));
        assert_eq!(file_name("Plain_1").as_deref(), Some("Plain_1"));
        assert_eq!(file_name("caf\u{e9}"), None);
        assert_eq!(shown("my@002ddb@002ex"), "my-db.x");
        assert_eq!(shown("caf@0n"), "caf@0n");
        assert_eq!(shown("a@@0020b"), "a@ b");
    }

    #[test]
    fn rules_from_innodb_flags() {
        assert_eq!(rule(5, 1, 2, 16), "CASCADE");
        assert_eq!(rule(5, 4, 8, 32), "CASCADE");
        assert_eq!(rule(2 | 32, 1, 2, 16), "SET NULL");
        assert_eq!(rule(2 | 32, 4, 8, 32), "NO ACTION");
        assert_eq!(rule(0, 1, 2, 16), "RESTRICT");
    }
}
