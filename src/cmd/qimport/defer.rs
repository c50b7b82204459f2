//! Secondary indexes built once, after the rows (see: #29).
//!
//! A row inserted into a table with secondary indexes goes into each of their B-trees at
//! a random place; an index added afterwards by `ALTER TABLE ... ADD KEY` is built by
//! InnoDB from sorted runs, far cheaper (and the gap grows once the trees outgrow the
//! buffer pool). So where nobody can see the table until the load is done (the new copy
//! of `--swap`, the staging table of `-j` when it is renamed into place, a table this run
//! makes with `--create`, `--schema` or `--dir`), it is loaded without those indexes, and
//! they are added back in one `ALTER TABLE` (one pass) before it is shown.
//!
//! Which keys: secondary B-tree keys of an InnoDB table, each added back from its own
//! line of `SHOW CREATE TABLE` (so its name, parts, prefix lengths, `DESC`, comment,
//! `IGNORED`/`INVISIBLE` and `USING` come back as they were). Kept during the load:
//! - the primary key (InnoDB clusters the rows on it);
//! - FULLTEXT, SPATIAL and hash keys (their builds are of another kind);
//! - a key a foreign key needs (on either side: the server refuses to drop it);
//! - UNIQUE keys, unless the mode is `insert` without `--rejects` and the table has a
//!   primary key: in the other modes a repeated key decides what happens to a row, and
//!   without a primary key InnoDB may cluster on a unique key;
//! - and, to come back in the order `SHOW CREATE TABLE` had them (the server appends an
//!   added key after the others of its kind), only the last keys of each kind are
//!   deferred: a key that must stay keeps every key of its kind before it (SPATIAL keys
//!   are of the plain keys' kind there).
//!
//! A duplicate the deferred `ALTER TABLE` meets is said as a load would say it (the file,
//! both lines, the column and the value: see [`super::dups`]).

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::choices::Mode;
use super::dups::{Duplicate, Explain};
use crate::conn::db_error;
use crate::dberror::Code;
use crate::sql::{quote_ident, TableName};

/// A key of a table as `SHOW CREATE TABLE` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) name: String,
    /// Its definition, as shown (`UNIQUE KEY `email` (`email`) COMMENT 'x'`).
    pub(super) def: String,
    kind: Kind,
    /// Its columns, in order (from information_schema; empty until known).
    columns: Vec<String>,
}

/// A key's kind: the server orders the keys of a table by it (primary, unique, plain and
/// spatial, fulltext), and by position within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Primary,
    Unique,
    Plain,
    Fulltext,
    Spatial,
}

/// The keys of `SHOW CREATE TABLE`'s text, in its order; `None` when a key line cannot be
/// read (then nothing is deferred).
fn shown_keys(create: &str) -> Option<Vec<Key>> {
    let mut keys = Vec::new();
    for line in create.lines() {
        let def = line.trim().trim_end_matches(',');
        let (kind, rest) = if def.starts_with("PRIMARY KEY") {
            keys.push(Key {
                name: "PRIMARY".into(),
                def: def.into(),
                kind: Kind::Primary,
                columns: Vec::new(),
            });
            continue;
        } else if let Some(r) = def.strip_prefix("UNIQUE KEY ") {
            (Kind::Unique, r)
        } else if let Some(r) = def.strip_prefix("KEY ") {
            (Kind::Plain, r)
        } else if let Some(r) = def.strip_prefix("FULLTEXT KEY ") {
            (Kind::Fulltext, r)
        } else if let Some(r) = def.strip_prefix("SPATIAL KEY ") {
            (Kind::Spatial, r)
        } else {
            continue;
        };
        keys.push(Key {
            name: quoted_name(rest)?,
            def: def.into(),
            kind,
            columns: Vec::new(),
        });
    }
    Some(keys)
}

/// The keys of `t`, from `SHOW CREATE TABLE`; none when a key line cannot be read.
fn keys_of(conn: &mut Conn, t: &TableName) -> anyhow::Result<Vec<Key>> {
    let create: Option<(String, String)> = conn
        .query_first(format!("SHOW CREATE TABLE {}", t.quoted()))
        .map_err(db_error)?;
    Ok(create.and_then(|(_, c)| shown_keys(&c)).unwrap_or_default())
}

/// The name a line continues with: `` `a``b` (...`` is ``a`b``.
fn quoted_name(rest: &str) -> Option<String> {
    let mut chars = rest.strip_prefix('`')?.chars().peekable();
    let mut name = String::new();
    while let Some(c) = chars.next() {
        if c == '`' {
            if chars.peek() == Some(&'`') {
                chars.next();
            } else {
                return Some(name);
            }
        }
        name.push(c);
    }
    None
}

/// A foreign key, as (schema, table, constraint, side: 0 child, 1 parent).
type Fk = (String, String, String, u8);

/// What the table's keys are, beside their text.
struct Facts {
    /// The keys whose index is a B-tree (not FULLTEXT, SPATIAL or HASH).
    btree: Vec<String>,
    /// Each foreign key's columns on this table's side (as child or as parent).
    fk_columns: Vec<Vec<String>>,
    /// Each key's columns, in order.
    columns: Vec<(String, Vec<String>)>,
    /// Unique keys may be deferred (the mode, and a primary key to cluster on).
    unique_ok: bool,
    /// The AUTO_INCREMENT column, which must lead some key at every moment.
    auto: Option<String>,
}

/// The keys of `shown` that are deferred (see the module doc), in their order.
fn deferrable(shown: &[Key], facts: &Facts) -> Vec<Key> {
    let may = |k: &Key| {
        let cols = facts
            .columns
            .iter()
            .find(|(n, _)| n == &k.name)
            .map(|(_, c)| c.as_slice())
            .unwrap_or_default();
        let fk = facts.fk_columns.iter().any(|fk| {
            cols.len() >= fk.len()
                && fk
                    .iter()
                    .all(|c| cols[..fk.len()].iter().any(|x| x.eq_ignore_ascii_case(c)))
        });
        let kind_ok = match k.kind {
            Kind::Plain => true,
            Kind::Unique => facts.unique_ok,
            _ => false,
        };
        let auto = facts
            .auto
            .as_ref()
            .is_some_and(|a| cols.iter().any(|c| c.eq_ignore_ascii_case(a)));
        kind_ok && !fk && !auto && !cols.is_empty() && facts.btree.contains(&k.name)
    };
    // The server orders SPATIAL keys among the plain ones, by position.
    let group = |k: Kind| if k == Kind::Spatial { Kind::Plain } else { k };
    let mut out = Vec::new();
    for kind in [Kind::Unique, Kind::Plain] {
        let of_kind: Vec<&Key> = shown.iter().filter(|k| group(k.kind) == kind).collect();
        let stays = of_kind.iter().rposition(|k| !may(k)).map_or(0, |i| i + 1);
        out.extend(of_kind[stays..].iter().map(|k| {
            Key {
                columns: facts
                    .columns
                    .iter()
                    .find(|(n, _)| n == &k.name)
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default(),
                ..(*k).clone()
            }
        }));
    }
    out
}

/// The secondary keys of `t` that a load into an empty, unseen copy of it may build
/// afterwards; none with `--no-defer-indexes`, or for a table not in InnoDB.
pub(super) fn plan(cfg: &Config, conn: &mut Conn, t: &TableName) -> anyhow::Result<Vec<Key>> {
    if !cfg.defer_indexes || cfg.dry_run {
        return Ok(Vec::new());
    }
    let db = t.database.clone().unwrap_or_else(|| cfg.database.clone());
    // A system-versioned table takes no ALTER TABLE once it holds rows (unless the
    // session says @@system_versioning_alter_history = KEEP, which would let the history
    // be rewritten): its keys stay.
    let engine: Option<(Option<String>, String)> = conn
        .exec_first(
            "SELECT ENGINE, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&db, &t.table),
        )
        .map_err(db_error)?;
    if !engine.is_some_and(|(e, kind)| {
        e.is_some_and(|e| e.eq_ignore_ascii_case("InnoDB")) && kind == "BASE TABLE"
    }) {
        return Ok(Vec::new());
    }
    let shown = keys_of(conn, t)?;
    let stats: Vec<(String, String, String)> = conn
        .exec(
            "SELECT INDEX_NAME, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (&db, &t.table),
        )
        .map_err(db_error)?;
    let mut columns: Vec<(String, Vec<String>)> = Vec::new();
    let mut btree = Vec::new();
    for (index, column, kind) in stats {
        match columns.last_mut() {
            Some((n, cols)) if *n == index => cols.push(column),
            _ => columns.push((index.clone(), vec![column])),
        }
        if kind == "BTREE" && !btree.contains(&index) {
            btree.push(index);
        }
    }
    // Each foreign key's columns on this table's side: as the child, and as the parent
    // (both, for a table that refers to itself).
    let fks: Vec<(String, String, String, u8, String)> = conn
        .exec(
            "SELECT CONSTRAINT_SCHEMA, CONSTRAINT_NAME, TABLE_NAME, 0, COLUMN_NAME, ORDINAL_POSITION \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE REFERENCED_TABLE_NAME IS NOT NULL AND TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             UNION ALL \
             SELECT CONSTRAINT_SCHEMA, CONSTRAINT_NAME, TABLE_NAME, 1, REFERENCED_COLUMN_NAME, ORDINAL_POSITION \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE REFERENCED_TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME = ? \
             ORDER BY 1, 3, 2, 4, 6",
            (&db, &t.table, &db, &t.table),
        )
        .map_err(db_error)?
        .into_iter()
        .map(|(a, b, c, side, col, _): (String, String, String, u8, String, u64)| (a, b, c, side, col))
        .collect();
    let mut fk_columns: Vec<(Fk, Vec<String>)> = Vec::new();
    for (schema, name, table, side, column) in fks {
        let id = (schema, table, name, side);
        match fk_columns.last_mut() {
            Some((i, cols)) if *i == id => cols.push(column),
            _ => fk_columns.push((id, vec![column])),
        }
    }
    let auto: Option<String> = conn
        .exec_first(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
             AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%'",
            (&db, &t.table),
        )
        .map_err(db_error)?;
    let facts = Facts {
        auto,
        btree,
        fk_columns: fk_columns.into_iter().map(|(_, c)| c).collect(),
        columns,
        unique_ok: cfg.mode == Mode::Insert
            && cfg.rejects.is_none()
            && shown.iter().any(|k| k.kind == Kind::Primary),
    };
    Ok(deferrable(&shown, &facts))
}

/// Whether a copy of `t` made by `CREATE TABLE ... LIKE` is the same table: `t` has no
/// foreign key (on either side: the copy has none) and no key `USING HASH` (the copy may
/// make one on short columns a B-tree).
pub(super) fn copy_is_alike(conn: &mut Conn, t: &TableName) -> anyhow::Result<bool> {
    let found: Option<u8> = conn
        .exec_first(
            "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) \
               AND TABLE_NAME = ? AND INDEX_TYPE = 'HASH' \
             UNION ALL SELECT 1 FROM information_schema.KEY_COLUMN_USAGE \
             WHERE REFERENCED_TABLE_NAME IS NOT NULL \
               AND ((TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?) \
                 OR (REFERENCED_TABLE_SCHEMA = COALESCE(?, DATABASE()) AND REFERENCED_TABLE_NAME = ?)) \
             LIMIT 1",
            (&t.database, &t.table, &t.database, &t.table, &t.database, &t.table),
        )
        .map_err(db_error)?;
    Ok(found.is_none())
}

/// Whether `t` has a unique key `USING HASH` (a long unique key) or one `WITHOUT
/// OVERLAPS`: InnoDB checks them with locks that deadlock when two sessions insert at once
/// (see: #29).
pub(super) fn long_unique(conn: &mut Conn, t: &TableName) -> anyhow::Result<bool> {
    let found: Option<u8> = conn
        .exec_first(
            "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) \
             AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND INDEX_TYPE = 'HASH' LIMIT 1",
            (&t.database, &t.table),
        )
        .map_err(db_error)?;
    if found.is_some() {
        return Ok(true);
    }
    let keys = keys_of(conn, t)?;
    Ok(keys
        .iter()
        .any(|k| k.kind == Kind::Unique && k.def.contains(" WITHOUT OVERLAPS)")))
}

/// The clauses that keep the keys `USING HASH` of `t` as they are through an `ALTER TABLE`
/// (of `t`, or of a `CREATE TABLE ... LIKE` copy of it): each dropped and added again by
/// its definition. MariaDB (seen on 10.11) makes a unique key `USING HASH` on short
/// columns a B-tree in any `ALTER TABLE` of its table that does not name it, even one
/// that only sets the comment, and in `LIKE` (see: #29, hostile review).
fn hash_keys_kept(conn: &mut Conn, t: &TableName) -> anyhow::Result<Vec<String>> {
    // By the index's type, not its words: InnoDB keeps a plain `KEY ... USING HASH` as a
    // B-tree (and shows the words), and a comment may hold them.
    let hashed: Vec<String> = conn
        .exec(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND INDEX_TYPE = 'HASH'",
            (&t.database, &t.table),
        )
        .map_err(db_error)?;
    if hashed.is_empty() {
        return Ok(Vec::new());
    }
    let keys = keys_of(conn, t)?;
    Ok(keys
        .iter()
        .filter(|k| hashed.contains(&k.name))
        .flat_map(|k| {
            [
                format!("DROP INDEX {}", quote_ident(&k.name)),
                format!("ADD {}", k.def),
            ]
        })
        .collect())
}

/// The clauses of an `ALTER TABLE` that drop `keys`.
pub(super) fn drop_clauses(keys: &[Key]) -> Vec<String> {
    keys.iter()
        .map(|k| format!("DROP INDEX {}", quote_ident(&k.name)))
        .collect()
}

/// Drop `keys` from `t`, a table this run made and nobody has rows in yet. `false` (and
/// nothing changed) when the user may not alter it: the load then runs with its indexes,
/// as it would with `--no-defer-indexes`, and says so.
pub(super) fn drop_from(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    keys: &[Key],
) -> anyhow::Result<bool> {
    if keys.is_empty() {
        return Ok(true);
    }
    altered(cfg, conn, t, drop_clauses(keys))
        .with_context(|| format!("{t}: dropping its indexes before the load"))
}

/// Whether the user may alter `t`, a table this run made and that holds no row yet
/// (asked by altering it in a way that changes nothing); says once when not.
pub(super) fn may_alter(cfg: &Config, conn: &mut Conn, t: &TableName) -> anyhow::Result<bool> {
    altered(cfg, conn, t, vec!["FORCE".into()])
}

/// `ALTER TABLE t CLAUSES`, keeping the keys `USING HASH` that `like` (`t` itself, or the
/// table `t` is a copy of) has as they are (see [`hash_keys_kept`]): every `ALTER TABLE`
/// of a load is made here.
pub(super) fn alter_sql(
    conn: &mut Conn,
    t: &TableName,
    like: &TableName,
    mut clauses: Vec<String>,
) -> anyhow::Result<String> {
    clauses.extend(hash_keys_kept(conn, like)?);
    Ok(format!("ALTER TABLE {} {}", t.quoted(), clauses.join(", ")))
}

/// `ALTER TABLE t CLAUSES`; `false`, said once, when the user lacks ALTER on `t`.
fn altered(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    clauses: Vec<String>,
) -> anyhow::Result<bool> {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let sql = alter_sql(conn, t, t, clauses)?;
    match conn.query_drop(sql) {
        Ok(()) => Ok(true),
        // 1142: the user lacks ALTER on the table.
        Err(mysql::Error::MySqlError(m)) if m.code == 1142 => {
            if !cfg.quiet && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!(
                    "qimport: note: {t}: its indexes are built as the rows come (ALTER on it would let them be built once, after the load)"
                );
            }
            Ok(false)
        }
        Err(e) => Err(db_error(e)),
    }
}

/// `N indexes`.
fn indexes(n: usize) -> String {
    if n == 1 {
        "1 index".into()
    } else {
        format!("{n} indexes")
    }
}

/// Add `keys` back to `t` in one `ALTER TABLE` (one pass over the rows), with a phase
/// of its own on the progress bar. A duplicate of a deferred unique key is said as a
/// load says one, and then `unchanged` (what the failure leaves).
pub(super) fn build(
    cfg: &Config,
    conn: &mut Conn,
    t: &TableName,
    keys: &[Key],
    dups: &Explain<'_>,
    unchanged: &str,
) -> anyhow::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    cfg.progress
        .phase(&format!("building {}", indexes(keys.len())));
    let adds = keys.iter().map(|k| format!("ADD {}", k.def)).collect();
    let sql = alter_sql(conn, t, t, adds)?;
    // The build sends nothing until it ends, however long that takes.
    match crate::conn::query_patiently(conn, &sql)? {
        Ok(()) => Ok(()),
        Err(mysql::Error::MySqlError(m)) if Code::of(m.code) == Code::DupEntry => {
            // The key by its whole name, as the message gives it (a name may hold a dot).
            let key = keys
                .iter()
                .find(|k| m.message.contains(&format!("for key '{}'", k.name)))
                .or_else(|| {
                    keys.iter()
                        .find(|k| m.message.contains(&format!(".{}'", k.name)))
                });
            if let (Some(d), Some(key)) = (Duplicate::of(Code::DupEntry, &m.message), key) {
                let d = Duplicate {
                    key: key.name.clone(),
                    ..d
                };
                bail!("{} ({unchanged})", dups.say_of_key(&d, &key.columns));
            }
            Err(db_error(mysql::Error::MySqlError(m))).with_context(|| {
                format!("building the indexes of {} ({unchanged})", dups.info.name)
            })
        }
        Err(e) => Err(db_error(e))
            .with_context(|| format!("building the indexes of {} ({unchanged})", dups.info.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  `a` varchar(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `u``1` (`a`),
  UNIQUE KEY `u2` (`b`) USING HASH,
  KEY `k1` (`a`(10),`b` DESC) COMMENT 'x, y' IGNORED,
  KEY `fk` (`p`),
  KEY `k3` (`c`),
  FULLTEXT KEY `ft` (`bio`) WITH PARSER `ngram`,
  CONSTRAINT `c` FOREIGN KEY (`p`) REFERENCES `p` (`id`)
) ENGINE=InnoDB";

    fn facts(unique_ok: bool) -> Facts {
        let cols =
            |n: &str, c: &[&str]| (n.to_owned(), c.iter().map(|s| (*s).to_owned()).collect());
        Facts {
            btree: ["PRIMARY", "u`1", "k1", "fk", "k3"]
                .map(String::from)
                .to_vec(),
            fk_columns: vec![vec!["p".into()]],
            columns: vec![
                cols("PRIMARY", &["id"]),
                cols("u`1", &["a"]),
                cols("u2", &["b"]),
                cols("k1", &["a", "b"]),
                cols("fk", &["p"]),
                cols("k3", &["c"]),
            ],
            unique_ok,
            auto: None,
        }
    }

    #[test]
    fn keys_read_from_their_lines() {
        let keys = shown_keys(CREATE).unwrap();
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["PRIMARY", "u`1", "u2", "k1", "fk", "k3", "ft"]);
        assert_eq!(
            keys[3].def,
            "KEY `k1` (`a`(10),`b` DESC) COMMENT 'x, y' IGNORED"
        );
        assert_eq!(quoted_name("`open ("), None);
    }

    #[test]
    fn only_the_last_keys_of_a_kind_that_may_go() {
        let keys = shown_keys(CREATE).unwrap();
        let names = |v: Vec<Key>| v.into_iter().map(|k| k.name).collect::<Vec<_>>();
        // k1 stays because fk (needed by a foreign key) comes after it; the hash unique
        // key keeps the B-tree one before it.
        assert_eq!(names(deferrable(&keys, &facts(true))), ["k3"]);
        let mut f = facts(true);
        f.fk_columns.clear();
        assert_eq!(names(deferrable(&keys, &f)), ["k1", "fk", "k3"]);
        let mut f = facts(false);
        f.btree.push("u2".into());
        f.fk_columns.clear();
        assert_eq!(names(deferrable(&keys, &f)), ["k1", "fk", "k3"]);
        f.unique_ok = true;
        assert_eq!(
            names(deferrable(&keys, &f)),
            ["u`1", "u2", "k1", "fk", "k3"]
        );
    }

    #[test]
    fn a_spatial_key_keeps_the_plain_keys_before_it() {
        let create =
            "  PRIMARY KEY (`id`),\n  KEY `a` (`a`),\n  SPATIAL KEY `sp` (`pt`),\n  KEY `b` (`b`)";
        let keys = shown_keys(create).unwrap();
        let f = Facts {
            btree: ["PRIMARY", "a", "b"].map(String::from).to_vec(),
            fk_columns: vec![],
            columns: ["a", "sp", "b"]
                .map(|n| (n.to_owned(), vec![n.to_owned()]))
                .to_vec(),
            unique_ok: true,
            auto: None,
        };
        let names: Vec<String> = deferrable(&keys, &f).into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["b"]);
    }
}
