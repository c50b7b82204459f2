//! What a backup folder says besides its CSV files: `schema.sql` (the tables' CREATE
//! statements, then the other objects) and `manifest.json` (see [`crate::manifest`]).

use std::fmt::Write as _;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::backup::Files;
use super::objects::{self, Object};
use super::plan::TableQuery;
use qtools_csv::dialect::NullMarker;

use crate::conn::db_error;
use crate::flavour::{Flavour, Server};
use crate::manifest::{
    ColumnEntry, DialectEntry, Manifest, ObjectEntry, TableEntry, AFTER_DATA, FORMAT,
    FORMAT_VERSION,
};
use crate::sql::quote_ident;

/// `SHOW CREATE TABLE` of each table, in order, with foreign-key checks off; then the
/// other objects (see [`super::objects`]), those created after the data behind
/// [`AFTER_DATA`].
pub(super) fn schema_sql(
    conn: &mut Conn,
    queries: &mut [TableQuery],
    objects: &[Object],
) -> anyhow::Result<String> {
    let mut schema = String::from(
        "-- qexport backup schema: CREATE statements in dependency order\nSET FOREIGN_KEY_CHECKS = 0;\n\n",
    );
    schema.push_str(&objects::schema_sequences(objects));
    for tq in queries.iter_mut() {
        let row: Option<(String, String)> = conn
            .query_first(format!("SHOW CREATE TABLE {}", tq.info.name.quoted()))
            .map_err(db_error)?;
        let (_, create) = row.with_context(|| format!("SHOW CREATE TABLE {}", tq.info.name))?;
        // The server names a sequence of a column default with its database: the
        // restored table draws from the restored sequence, in its own database.
        let db = tq.info.name.database.as_deref().unwrap_or_default();
        let create = crate::sql::unqualify(
            &create,
            db,
            crate::sql::Lexing::PLAIN,
            crate::sql::Qualifiers::Everywhere,
            None,
        )
        .with_context(|| format!("SHOW CREATE TABLE {}", tq.info.name))?;
        let create = with_srids(conn, &tq.info.name, create)?;
        let create = plain_version_comments(&create);
        let (create, dropped) = without_directories(&create)?;
        if let Some(note) = foreign_sequences(&create)? {
            eprintln!("qexport: warning: {}: {note}", tq.info.name);
            tq.notes.push(note);
        }
        for note in charset_losses(conn, &tq.info)? {
            eprintln!("qexport: warning: {}: {note}", tq.info.name);
            tq.notes.push(note);
        }
        if !dropped.is_empty() {
            let note = format!(
                "{} not kept: a restore makes the table in the target server's own datadir",
                dropped.join(", ")
            );
            eprintln!("qexport: warning: {}: {note}", tq.info.name);
            tq.notes.push(note);
        }
        schema.push_str(&create);
        schema.push_str(";\n\n");
    }
    schema.push_str(&objects::schema_part(objects, false));
    schema.push_str(AFTER_DATA);
    schema.push_str("\n\n");
    schema.push_str(&objects::schema_part(objects, true));
    Ok(schema)
}

/// `create` with each executable comment that holds words only made plain: MariaDB's
/// SHOW CREATE TABLE writes `/*M!100301 COMPRESSED*/` for a compressed column, which a
/// restore (on a server of the same flavour) takes as `COMPRESSED`, and refuses as an
/// executable comment.
fn plain_version_comments(create: &str) -> String {
    use crate::sql::Token;
    let Ok(toks) = crate::sql::spanned(create, crate::sql::Lexing::PLAIN, usize::MAX) else {
        return create.to_owned();
    };
    let mut out = String::with_capacity(create.len());
    let mut from = 0;
    for (k, (t, span)) in toks.iter().enumerate() {
        if *t != Token::Versioned || span.start < from {
            continue;
        }
        // Its content ends at the first `*/` (the lexer refuses one that holds a quote or
        // a comment): words only, made plain.
        let Some(close) = create[span.end..].find("*/").map(|c| span.end + c) else {
            continue;
        };
        let inner: Vec<&(Token, std::ops::Range<usize>)> = toks[k + 1..]
            .iter()
            .take_while(|(_, r)| r.start < close)
            .collect();
        let words = inner
            .iter()
            .all(|(w, _)| matches!(w, Token::Word(_) | Token::Number(_) | Token::Punct('=')));
        if inner.is_empty() || !words {
            continue;
        }
        out.push_str(&create[from..span.start]);
        out.push_str(create[span.end..close].trim());
        from = close + 2;
    }
    out.push_str(&create[from..]);
    out
}

/// A column default that draws from a sequence of another database (`nextval(other.s)`):
/// a restore makes tables that refer to no other database (but through a foreign key),
/// and refuses it; said when the backup is taken.
fn foreign_sequences(create: &str) -> anyhow::Result<Option<String>> {
    use crate::sql::Token;
    let toks = crate::sql::tokens(create, crate::sql::Lexing::PLAIN, usize::MAX)?;
    let mut named = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let at = if ["NEXTVAL", "LASTVAL", "SETVAL"].iter().any(|w| t.is(w))
            && toks.get(i + 1) == Some(&Token::Punct('('))
        {
            i + 2
        } else if (t.is("NEXT") || t.is("PREVIOUS"))
            && toks.get(i + 1).is_some_and(|v| v.is("VALUE"))
            && toks.get(i + 2).is_some_and(|f| f.is("FOR"))
        {
            i + 3
        } else {
            continue;
        };
        if let (Some(db), Some(Token::Punct('.')), Some(s)) = (
            toks.get(at).and_then(Token::name),
            toks.get(at + 1),
            toks.get(at + 2).and_then(Token::name),
        ) {
            named.push(format!("{db}.{s}"));
        }
    }
    Ok((!named.is_empty()).then(|| {
        format!(
            "a default draws from {}, a sequence of another database: a restore refuses \
             the table (it makes tables that refer to no other database)",
            named.join(", ")
        )
    }))
}

/// The text columns whose values do not all survive the trip through UTF-8 that a CSV
/// makes (a few characters of sjis, cp932 or ujis map to UTF-8 and back as others: SJIS
/// 0x5C comes back as 0x815F; a byte over 127 in an ascii column as `?`): counted, and
/// said. UTF-8 and latin1 columns (whose every byte maps one to one) are not read for it.
fn charset_losses(conn: &mut Conn, t: &crate::schema::TableInfo) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for c in &t.columns {
        let Some(cs) = c.charset.as_deref() else {
            continue;
        };
        if matches!(cs, "utf8mb4" | "utf8mb3" | "utf8" | "binary" | "latin1") {
            continue;
        }
        let q = quote_ident(&c.name);
        let lost: Option<u64> = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM {} WHERE BINARY CONVERT(CONVERT({q} USING utf8mb4) USING {cs}) <> BINARY {q}",
                t.name.quoted()
            ))
            .map_err(db_error)?;
        if let Some(n) = lost.filter(|&n| n > 0) {
            let (verb, it) = if n == 1 {
                ("does", "it comes")
            } else {
                ("do", "they come")
            };
            notes.push(format!(
                "{} of column {} ({cs}) {verb} not survive UTF-8, in which the CSV holds \
                 text: {it} back as other characters",
                crate::error::plural(n, "value"),
                c.name
            ));
        }
    }
    Ok(notes)
}

/// `create` without its `DATA DIRECTORY = '...'` and `INDEX DIRECTORY = '...'` options
/// (of the table or of its partitions), which place its files outside the datadir: a
/// restore refuses them (a backup could write anywhere the server may), so the backup
/// leaves them out and says so. Returns what was left out.
fn without_directories(create: &str) -> anyhow::Result<(String, Vec<String>)> {
    let toks = crate::sql::spanned(create, crate::sql::Lexing::PLAIN, usize::MAX)?;
    let mut out = String::with_capacity(create.len());
    let mut dropped = Vec::new();
    let mut from = 0;
    for (i, (t, span)) in toks.iter().enumerate() {
        let kind = toks.get(i + 1).filter(|(d, _)| d.is("DIRECTORY"));
        if !(t.is("DATA") || t.is("INDEX")) || kind.is_none() {
            continue;
        }
        let mut last = i + 1;
        if toks
            .get(last + 1)
            .is_some_and(|(p, _)| *p == crate::sql::Token::Punct('='))
        {
            last += 1;
        }
        let Some((crate::sql::Token::Str(path), end)) = toks.get(last + 1) else {
            continue;
        };
        dropped.push(format!(
            "{} DIRECTORY '{path}'",
            if t.is("DATA") { "DATA" } else { "INDEX" }
        ));
        out.push_str(create[from..span.start].trim_end_matches(' '));
        from = end.end;
    }
    out.push_str(&create[from..]);
    Ok((out, dropped))
}

/// `create` with each spatial column's SRID, which MariaDB's SHOW CREATE TABLE leaves
/// out (`POINT REF_SYSTEM_ID=4326` comes back as `point`): put back after the column's
/// type, from `information_schema.GEOMETRY_COLUMNS`. MySQL's SHOW CREATE keeps its
/// `SRID n` itself.
fn with_srids(
    conn: &mut Conn,
    t: &crate::sql::TableName,
    create: String,
) -> anyhow::Result<String> {
    if Server::of(conn)?.flavour != Flavour::MariaDb {
        return Ok(create);
    }
    let srids: Vec<(String, u32)> = conn
        .exec(
            "SELECT G_GEOMETRY_COLUMN, SRID FROM information_schema.GEOMETRY_COLUMNS \
             WHERE G_TABLE_SCHEMA = ? AND G_TABLE_NAME = ? AND SRID <> 0",
            (t.database.as_deref().unwrap_or_default(), &t.table),
        )
        .map_err(db_error)?;
    if srids.is_empty() {
        return Ok(create);
    }
    let mut out = String::with_capacity(create.len());
    for line in create.split_inclusive('\n') {
        let srid = srids.iter().find_map(|(c, srid)| {
            line.strip_prefix(&format!("  {} ", quote_ident(c)))
                .map(|rest| (line.len() - rest.len(), rest, srid))
        });
        match srid {
            Some((at, rest, srid)) if !rest.contains("REF_SYSTEM_ID") => {
                let ty = rest.find([' ', ',', '\n']).unwrap_or(rest.len());
                out.push_str(&line[..at + ty]);
                let _ = write!(out, " REF_SYSTEM_ID={srid}");
                out.push_str(&rest[ty..]);
            }
            _ => out.push_str(line),
        }
    }
    Ok(out)
}

/// Where and when the backup was taken.
pub(super) struct About<'a> {
    pub db: &'a str,
    pub server: &'a str,
    pub created: &'a str,
    pub schema_sha256: &'a str,
    pub sql_mode: &'a str,
    pub charset: &'a str,
    pub collation: &'a str,
    pub missing: &'a [String],
    pub warnings: &'a [String],
}

/// The manifest, and the total number of rows.
pub(super) fn manifest(
    cfg: &Config,
    about: &About<'_>,
    queries: &[TableQuery],
    objects: &[Object],
    files: &Files<'_>,
) -> anyhow::Result<(Manifest, u64)> {
    let d = &cfg.dialect;
    // One point in time with the other tables: InnoDB by the snapshot, tables without
    // transactions by a lock held for the whole backup.
    let consistent = cfg.jobs == 1 || cfg.consistent;
    let mut tables = Vec::new();
    let mut total_rows = 0;
    for (i, tq) in queries.iter().enumerate() {
        let mut entry = TableEntry {
            name: tq.info.name.table.clone(),
            file: None,
            rows: None,
            bytes: None,
            sha256: None,
            key: tq.info.key.clone(),
            history: tq.history,
            engine: tq.info.engine.clone(),
            consistent: None,
            columns: tq
                .info
                .columns
                .iter()
                .map(|c| ColumnEntry {
                    name: c.name.clone(),
                    column_type: c.column_type.clone(),
                    nullable: c.nullable,
                })
                .collect(),
            data: None,
            notes: tq.notes.clone(),
        };
        if tq.info.rows_elsewhere().is_some() {
            entry.data = Some("definition only: the rows live in other tables or servers".into());
        } else {
            let Some((rows, written)) = &files.done[i] else {
                bail!("{} was not written", tq.info.name);
            };
            total_rows += rows;
            entry.file = Some(files.names[i].clone());
            entry.rows = Some(*rows);
            entry.bytes = Some(written.bytes);
            entry.sha256 = Some(written.sha256.clone());
            entry.consistent = Some(consistent);
        }
        tables.push(entry);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool: "qexport".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created: about.created.into(),
        server: about.server.into(),
        database: about.db.into(),
        consistent,
        partial: !about.missing.is_empty(),
        missing: about.missing.to_vec(),
        warnings: about.warnings.to_vec(),
        schema: "schema.sql".into(),
        schema_sha256: Some(about.schema_sha256.into()),
        sql_mode: Some(about.sql_mode.into()),
        charset: Some(about.charset.into()),
        collation: Some(about.collation.into()),
        dialect: DialectEntry {
            delimiter: char::from(d.delimiter).to_string(),
            header: d.header,
            null: match &d.null {
                NullMarker::Empty => String::new(),
                NullMarker::Text(t) => String::from_utf8_lossy(t).into_owned(),
            },
            binary: d.binary,
            compression: cfg.compression,
        },
        tables,
        objects: objects
            .iter()
            .map(|o| ObjectEntry {
                kind: o.kind,
                name: o.name.clone(),
            })
            .collect(),
    };
    Ok((manifest, total_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #24 (hostile review, round 2): MariaDB's `/*M!100301 COMPRESSED*/` is written
    // as the word it holds; a comment's text in a string is not touched.
    #[test]
    fn executable_comments_of_words_are_made_plain() {
        assert_eq!(
            plain_version_comments("CREATE TABLE `c` (\n  `x` text /*M!100301 COMPRESSED*/ DEFAULT NULL\n) COMMENT='/*!1 y*/'"),
            "CREATE TABLE `c` (\n  `x` text COMPRESSED DEFAULT NULL\n) COMMENT='/*!1 y*/'"
        );
    }
}
