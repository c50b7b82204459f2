//! The routines and views of a restore, made so that none of the backup's code runs while
//! it is restored. Creating a view evaluates some of its expressions (`LIKE ... ESCAPE
//! f()`, a constant argument), which may call a stored function: so the views are made
//! while each of the backup's functions is a stub of the same signature that does
//! nothing (`RETURN ''`, `0` or NULL), and the real functions come back once every view
//! stands.

use anyhow::Context;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::restore_undo::Making;
use super::script::Stmt;
use crate::conn::db_error;
use crate::manifest::ObjectKind;
use crate::sql::{quote_ident, Lexing};

/// Make the routines and views of the part before the data (`before`, with what the
/// judge said of each), under the settings the part makes; `reset` puts the session's
/// own back, from which the part was read.
pub(super) fn make(
    conn: &mut Conn,
    before: &[(&str, Lexing)],
    judged: &[Stmt],
    making: &Making<'_>,
    reset: &dyn Fn(&mut Conn) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let db = making.db;
    let is = |j: &Stmt, kinds: &[ObjectKind]| matches!(j, Stmt::Object(k, _) if kinds.contains(k));
    let functions: Vec<&str> = judged
        .iter()
        .filter_map(|j| match j {
            Stmt::Object(ObjectKind::Function, name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let views = judged.iter().any(|j| is(j, &[ObjectKind::View]));
    // The routines, as they are.
    replay(
        conn,
        (before, judged),
        making,
        reset,
        &[ObjectKind::Function, ObjectKind::Procedure],
    )?;
    if !views {
        return Ok(());
    }
    let stubbed = !functions.is_empty();
    for f in &functions {
        let stub = stub(conn, db, f, before, judged)?;
        conn.query_drop(format!(
            "DROP FUNCTION {}.{}",
            quote_ident(db),
            quote_ident(f)
        ))
        .map_err(db_error)?;
        conn.query_drop(&stub)
            .map_err(db_error)
            .with_context(|| format!("making a stand-in for the function {f}"))?;
    }
    replay(conn, (before, judged), making, reset, &[ObjectKind::View])?;
    if stubbed {
        for f in &functions {
            conn.query_drop(format!(
                "DROP FUNCTION {}.{}",
                quote_ident(db),
                quote_ident(f)
            ))
            .map_err(db_error)?;
        }
        replay(
            conn,
            (before, judged),
            making,
            reset,
            &[ObjectKind::Function],
        )?;
    }
    Ok(())
}

/// Run the settings of `before` and its statements of `kinds`, in order, from the
/// session's own settings.
fn replay(
    conn: &mut Conn,
    (before, judged): (&[(&str, Lexing)], &[Stmt]),
    making: &Making<'_>,
    reset: &dyn Fn(&mut Conn) -> anyhow::Result<()>,
    kinds: &[ObjectKind],
) -> anyhow::Result<()> {
    reset(conn)?;
    for ((stmt, lexing), judged) in before.iter().zip(judged) {
        let wanted = match judged {
            Stmt::Setting => true,
            Stmt::Object(k, _) => kinds.contains(k),
            _ => false,
        };
        if wanted {
            making.make(conn, judged, |conn| {
                super::send::run_one(conn, stmt, *lexing)
                    .with_context(|| super::restore::creating(judged, stmt))
            })?;
        }
    }
    Ok(())
}

/// A row of information_schema.PARAMETERS: position (0: the return value), name, type,
/// character set, collation.
type Parameter = (u64, Option<String>, String, Option<String>, Option<String>);

/// A function of the signature of `db.f` (as the server now holds it) that does nothing:
/// its parameters and return type from information_schema, returning an empty value of
/// that type (an aggregate one reads its rows first).
fn stub(
    conn: &mut Conn,
    db: &str,
    f: &str,
    before: &[(&str, Lexing)],
    judged: &[Stmt],
) -> anyhow::Result<String> {
    let rows: Vec<Parameter> = conn
        .exec(
            "SELECT ORDINAL_POSITION, PARAMETER_NAME, DTD_IDENTIFIER, CHARACTER_SET_NAME, COLLATION_NAME \
             FROM information_schema.PARAMETERS \
             WHERE SPECIFIC_SCHEMA = ? AND SPECIFIC_NAME = ? AND ROUTINE_TYPE = 'FUNCTION' \
             ORDER BY ORDINAL_POSITION",
            (db, f),
        )
        .map_err(db_error)?;
    let typed = |dtd: &str, cs: &Option<String>, co: &Option<String>| {
        let mut t = dtd.to_owned();
        if let (Some(cs), Some(co)) = (cs, co) {
            t = format!("{t} CHARACTER SET {cs} COLLATE {co}");
        }
        t
    };
    let mut returns = String::new();
    let mut params = Vec::new();
    for (pos, name, dtd, cs, co) in &rows {
        if *pos == 0 {
            returns = typed(dtd, cs, co);
        } else {
            params.push(format!(
                "{} {}",
                quote_ident(name.as_deref().unwrap_or_default()),
                typed(dtd, cs, co)
            ));
        }
    }
    anyhow::ensure!(
        !returns.is_empty(),
        "the function {f} has no return type here"
    );
    // Aggregate: as the backup's statement says.
    let aggregate = before.iter().zip(judged).any(|((stmt, lexing), j)| {
        matches!(j, Stmt::Object(ObjectKind::Function, n) if n == f)
            && crate::sql::tokens(stmt, *lexing, 12).is_ok_and(|t| {
                t.iter()
                    .take_while(|t| !t.is("FUNCTION"))
                    .any(|t| t.is("AGGREGATE"))
            })
    });
    // As deterministic as the function (a view may need a constant where it calls it, as
    // ESCAPE does), returning an empty value of its type.
    let deterministic: Option<String> = conn
        .exec_first(
            "SELECT IS_DETERMINISTIC FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'",
            (db, f),
        )
        .map_err(db_error)?;
    let deterministic = if deterministic.as_deref() == Some("YES") {
        "DETERMINISTIC"
    } else {
        "NOT DETERMINISTIC"
    };
    let kind = returns.to_ascii_lowercase();
    let empty = if ["char", "text", "enum", "set("]
        .iter()
        .any(|t| kind.contains(t))
    {
        "''"
    } else if ["int", "dec", "float", "double", "real", "bit", "numeric"]
        .iter()
        .any(|t| kind.contains(t))
    {
        "0"
    } else {
        "NULL"
    };
    let head = format!(
        "CREATE {}FUNCTION {}.{}({}) RETURNS {returns} {deterministic} NO SQL",
        if aggregate { "AGGREGATE " } else { "" },
        quote_ident(db),
        quote_ident(f),
        params.join(", ")
    );
    Ok(if aggregate {
        format!(
            "{head} BEGIN DECLARE CONTINUE HANDLER FOR NOT FOUND RETURN {empty}; \
             LOOP FETCH GROUP NEXT ROW; END LOOP; END"
        )
    } else {
        format!("{head} RETURN {empty}")
    })
}
