//! What a backup holds and how: its tables (all of the database's, when this user may
//! read all), the kinds of objects this user cannot read (refused, or said with
//! `--partial`), the reads planned for them, in dependency order, and the lock that keeps
//! the tables without transactions still.

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::engine::Job;
use super::plan::{KeyRange, TableQuery};
use super::read::chunk_rows;
use crate::conn::db_error;
use crate::flavour::{Flavour, Server};
use crate::grants::{database_privileges, Privilege, Privileges};
use crate::manifest::ObjectKind;
use crate::schema::list_tables;
use crate::sql::TableName;

/// What one backup covers.
pub(super) struct Scope {
    /// The tables, by name.
    pub tables: Vec<String>,
    /// The kinds of objects this user cannot read, each with the privilege it lacks
    /// (`triggers (TRIGGER)`): what a `--partial` backup misses.
    pub missing: Vec<String>,
    /// Those kinds, not to be read (a view's definition without SHOW VIEW is an error).
    pub unreadable: Vec<ObjectKind>,
}

/// The tables and objects to back up: `tables`, or every table of `db` (with `--all`).
/// Objects this user cannot see are not shown to it at all (information_schema hides
/// them): each kind it lacks the privilege to read is refused before anything is read,
/// unless `--partial`, which records them as missing.
pub(super) fn scope(
    cfg: &Config,
    conn: &mut Conn,
    db: &str,
    tables: Option<&[String]>,
) -> anyhow::Result<Scope> {
    let all = tables.is_none();
    let names = match tables {
        Some(t) => t.to_vec(),
        None => all_tables(cfg, conn, db)?,
    };
    let held = database_privileges(conn, db)?;
    let mut missing = Vec::new();
    let mut unreadable = Vec::new();
    let mut lacks = |privilege: Privilege, kind: &str, kinds: &[ObjectKind]| {
        if !held.contains(&privilege) {
            missing.push(format!("{kind} ({privilege})"));
            unreadable.extend_from_slice(kinds);
        }
    };
    lacks(Privilege::Trigger, "triggers", &[ObjectKind::Trigger]);
    if all {
        lacks(Privilege::Select, "tables it may not read", &[]);
        lacks(Privilege::Event, "events", &[ObjectKind::Event]);
        lacks(Privilege::ShowView, "views", &[ObjectKind::View]);
        if !routines_readable(conn, &held)? {
            missing.push(
                "routines (SELECT on mysql.proc, or SHOW CREATE ROUTINE: the privilege to read their bodies)".into(),
            );
            unreadable.extend([ObjectKind::Function, ObjectKind::Procedure]);
        }
    }
    if !missing.is_empty() && !cfg.partial {
        bail!(
            "this user cannot read every object of {db}: {} would be missing without a word; \
             grant the privileges on {}.*, or add --partial to back up what it can see (the \
             manifest then says partial and names what is missing)",
            missing.join(", "),
            crate::sql::quote_ident(db)
        );
    }
    Ok(Scope {
        tables: names,
        missing,
        unreadable,
    })
}

/// Can this user read every stored routine's body? MariaDB: SELECT on `mysql.proc` (or,
/// from 11.3, SHOW CREATE ROUTINE); MySQL: SHOW_ROUTINE (or a global SELECT, not told
/// apart here).
fn routines_readable(conn: &mut Conn, held: &Privileges) -> anyhow::Result<bool> {
    if held.contains(&Privilege::ShowCreateRoutine) || held.contains(&Privilege::ShowRoutine) {
        return Ok(true);
    }
    Ok(match Server::of(conn)?.flavour {
        Flavour::MariaDb => conn.query_drop("SELECT 1 FROM mysql.proc LIMIT 0").is_ok(),
        Flavour::MySql => false,
    })
}

/// Every table of `db`, when this user may read every table: information_schema shows a
/// user with SELECT on single tables only those, so without SELECT on the database (or
/// globally) `--all` could not tell what it misses, and refuses unless `--partial`.
fn all_tables(cfg: &Config, conn: &mut Conn, db: &str) -> anyhow::Result<Vec<String>> {
    let names = list_tables(conn, db)?;
    if !cfg.partial && !database_privileges(conn, db)?.contains(&Privilege::Select) {
        bail!(
            "--all: this user has no SELECT on {db}.* (only on some of its tables, which hides the others): grant SELECT ON {}.*, or add --partial to back up the {} it can see ({}); the manifest then says partial",
            crate::sql::quote_ident(db),
            crate::error::plural(names.len() as u64, "table"),
            names.join(", ")
        );
    }
    Ok(names)
}

/// The reads of every table whose rows are here (key-range chunks with `-j N`), each
/// table's first one with the header.
pub(super) fn plan_jobs(
    cfg: &Config,
    conn: &mut Conn,
    queries: &[TableQuery],
) -> anyhow::Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (out, tq) in queries.iter().enumerate() {
        if let Some(e) = tq.info.rows_elsewhere() {
            if !cfg.quiet {
                eprintln!(
                    "qexport: {}: ENGINE={e} keeps its rows in other tables or servers: its definition is backed up, not its rows",
                    tq.info.name
                );
            }
            continue;
        }
        let ranges = if cfg.jobs > 1 && tq.unsplittable().is_none() {
            tq.chunks(conn, &KeyRange::default(), chunk_rows(&tq.info), 1)
                .map_err(|e| {
                    super::read::lock_told(
                        conn,
                        cfg,
                        "reading the key ranges of the tables",
                        &[&tq.info.name],
                        e,
                    )
                })?
        } else {
            vec![KeyRange::default()]
        };
        jobs.extend(ranges.iter().enumerate().map(|(i, r)| Job {
            out,
            what: format!("table {}", tq.info.name.quoted()),
            sql: tq.sql(r),
            header: i == 0,
        }));
    }
    Ok(jobs)
}

/// Tables that cannot be in a snapshot (MyISAM, Aria, MEMORY: no transactions) are kept
/// still instead, for a consistent backup (`-j 1`, or `--consistent`): `LOCK TABLES ...
/// READ` on a connection of its own, taken before the snapshot opens and held until the
/// backup ends (dropping the connection releases it). Writers to those tables wait that
/// long, as with `mysqldump --lock-tables`.
pub(super) fn freeze(cfg: &Config, queries: &[TableQuery]) -> anyhow::Result<Option<Conn>> {
    let still: Vec<String> = queries
        .iter()
        .filter(|q| !q.info.transactional() && q.info.rows_elsewhere().is_none())
        .map(|q| format!("{} READ", q.info.name.quoted()))
        .collect();
    if still.is_empty() || !(cfg.jobs == 1 || cfg.consistent) {
        return Ok(None);
    }
    let mut conn = super::read::connect(cfg)?;
    if let Err(e) = conn.query_drop(format!("LOCK TABLES {}", still.join(", "))) {
        let names: Vec<&TableName> = queries
            .iter()
            .filter(|q| !q.info.transactional() && q.info.rows_elsewhere().is_none())
            .map(|q| &q.info.name)
            .collect();
        return Err(super::read::lock_waited(
            &mut conn,
            cfg,
            "locking the tables that have no transactions (MyISAM, Aria, MEMORY) for a consistent backup",
            &names,
            e,
        ));
    }
    Ok(Some(conn))
}

/// Indexes into `names`, referenced tables before the tables that reference them (foreign
/// keys), otherwise by name. Cycles are broken by name order (the restore disables
/// foreign-key checks anyway).
pub(super) fn dependency_order(
    conn: &mut Conn,
    db: &str,
    names: &[String],
) -> anyhow::Result<Vec<usize>> {
    let edges: Vec<(String, String)> = conn
        .exec(
            "SELECT DISTINCT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL",
            (db, db),
        )
        .map_err(db_error)?;
    let mut placed = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let before = order.len();
        for (i, n) in names.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let waits = edges.iter().any(|(t, r)| {
                t == n
                    && r != n
                    && names
                        .iter()
                        .position(|x| x == r)
                        .is_some_and(|j| !placed[j])
            });
            if !waits {
                placed[i] = true;
                order.push(i);
            }
        }
        if order.len() == before {
            // A cycle: take the first remaining table.
            if let Some(i) = placed.iter().position(|p| !p) {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    Ok(order)
}
