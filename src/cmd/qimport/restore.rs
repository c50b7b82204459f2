//! `qimport --dir DIR`: restore a backup written by `qexport --all -o DIR`.
//!
//! Before anything changes, every file's SHA-256 is checked against the manifest and no
//! table of the backup may exist yet. Then the schema is created, every table is loaded in
//! the manifest's order (referenced tables first) in one transaction with foreign-key
//! checks off, and each table's row count must equal the manifest's. On any failure the
//! transaction is rolled back and the tables created are dropped: the database is as
//! before. (CREATE TABLE commits implicitly, hence the explicit drop.)

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::undo::Undo;
use super::{choose_method, Config, Job};
use crate::conn::db_error;
use crate::dialect::{hex_encode, BinaryEncoding, NullMarker};
use crate::input::{Input, Source};
use crate::schema::TableInfo;
use crate::sql::TableName;

struct Entry {
    name: String,
    file: String,
    rows: u64,
    sha256: String,
}

pub fn run(cfg: &Config, conn: &mut Conn, dir: &Path, undo: &Undo) -> anyhow::Result<ExitCode> {
    let db = cfg.database.clone();
    let mpath = dir.join("manifest.json");
    let manifest: Json = serde_json::from_slice(
        &std::fs::read(&mpath).with_context(|| format!("reading {}", mpath.display()))?,
    )
    .with_context(|| format!("{}: not valid JSON", mpath.display()))?;
    if manifest["format"] != "qtools-backup" {
        bail!("{}: not a qexport backup manifest", mpath.display());
    }
    let mut cfg = cfg.clone();
    apply_dialect(&mut cfg, &manifest["dialect"])?;
    let entries = entries(&manifest)?;
    check_before(conn, &db, dir, &entries)?;
    let schema = std::fs::read_to_string(dir.join("schema.sql")).context("reading schema.sql")?;
    let mut created = Vec::new();
    let result = (|| {
        conn.query_drop("SET SESSION foreign_key_checks = 0")
            .map_err(db_error)?;
        for stmt in statements(&schema) {
            conn.query_drop(stmt)
                .map_err(db_error)
                .context("schema.sql")?;
            if let Some(table) = created_table(stmt) {
                let t = TableName {
                    database: Some(db.clone()),
                    table,
                };
                undo.table(&t);
                created.push(t);
            }
        }
        let (method, _) = choose_method(&cfg, conn)?;
        conn.query_drop("START TRANSACTION").map_err(db_error)?;
        let mut total = 0;
        for e in &entries {
            let info = TableInfo::load(conn, &db, &e.name)?;
            let input = open(dir, &e.file)?;
            let mut job = Job::new(&cfg, conn, &info, info.name.clone(), method)?;
            let r = job.load_input(input);
            let summary = job.finish(r)?;
            if summary.rows != e.rows {
                bail!(
                    "{}: {} rows loaded, the manifest says {}",
                    e.file,
                    summary.rows,
                    e.rows
                );
            }
            total += summary.rows;
        }
        undo.disarmed(|| conn.query_drop("COMMIT"))
            .map_err(db_error)?;
        Ok(total)
    })();
    let _ = conn.query_drop("SET SESSION foreign_key_checks = 1");
    match result {
        Ok(total) => {
            if !cfg.quiet {
                eprintln!(
                    "qimport: {db}: {} tables, {total} rows restored from {}",
                    entries.len(),
                    dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            super::undo::drop_tables(&cfg.conn, conn, &created);
            Err(e.context(format!(
                "restoring {} (nothing was restored)",
                dir.display()
            )))
        }
    }
}

/// Nothing changes before the backup is known to be whole and its tables are new.
fn check_before(conn: &mut Conn, db: &str, dir: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    for e in entries {
        let path = dir.join(&e.file);
        let mut hash = Sha256::new();
        let mut f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        std::io::copy(&mut f, &mut hash).with_context(|| format!("reading {}", path.display()))?;
        let mut got = Vec::new();
        hex_encode(&hash.finalize(), &mut got);
        if got != e.sha256.as_bytes() {
            bail!(
                "{}: SHA-256 differs from the manifest: the backup is damaged",
                path.display()
            );
        }
        let exists: Option<String> = conn
            .exec_first(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, &e.name),
            )
            .map_err(db_error)?;
        if exists.is_some() {
            bail!(
                "table {db}.{} exists: restore into a database without the backup's tables",
                e.name
            );
        }
    }
    Ok(())
}

fn apply_dialect(cfg: &mut Config, d: &Json) -> anyhow::Result<()> {
    let delim = d["delimiter"].as_str().unwrap_or(",");
    cfg.dialect.delimiter = *delim
        .as_bytes()
        .first()
        .context("manifest: empty delimiter")?;
    cfg.dialect.header = d["header"].as_bool().unwrap_or(true);
    cfg.dialect.null = match d["null"].as_str().unwrap_or("") {
        "" => NullMarker::Empty,
        t => NullMarker::Text(t.as_bytes().to_vec()),
    };
    cfg.dialect.binary = match d["binary"].as_str().unwrap_or("hex") {
        "hex" => BinaryEncoding::Hex,
        "base64" => BinaryEncoding::Base64,
        "raw" => BinaryEncoding::Raw,
        other => bail!("manifest: unknown binary encoding {other:?}"),
    };
    cfg.columns = None;
    cfg.rejects = None;
    Ok(())
}

fn entries(manifest: &Json) -> anyhow::Result<Vec<Entry>> {
    let tables = manifest["tables"]
        .as_array()
        .context("manifest: no tables")?;
    tables
        .iter()
        .map(|t| {
            Ok(Entry {
                name: t["name"]
                    .as_str()
                    .context("manifest: table without a name")?
                    .to_owned(),
                file: t["file"]
                    .as_str()
                    .context("manifest: table without a file")?
                    .to_owned(),
                rows: t["rows"].as_u64().context("manifest: table without rows")?,
                sha256: t["sha256"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Open a backup file, decompressing by its name.
fn open(dir: &Path, file: &str) -> anyhow::Result<Input> {
    if file.contains('/') || file.starts_with('.') {
        bail!("manifest: suspicious file name {file:?}");
    }
    let path = dir.join(file);
    let f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let ext = Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let reader = if ext.as_deref() == Some("gz") {
        Source::Stream(Box::new(flate2::read::MultiGzDecoder::new(f)))
    } else if ext.as_deref() == Some("zst") {
        Source::Stream(Box::new(zstd::stream::read::Decoder::new(f)?))
    } else {
        Source::File(f)
    };
    Ok(Input {
        name: path.display().to_string(),
        reader,
    })
}

/// The statements of schema.sql: separated by `;` at the end of a line, comments skipped.
fn statements(sql: &str) -> Vec<&str> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let body = s
                .lines()
                .skip_while(|l| l.trim_start().starts_with("--"))
                .collect::<Vec<_>>();
            let start = s.len() - body.join("\n").len();
            s[start..].trim()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// `CREATE TABLE `name` (...` -> name.
fn created_table(stmt: &str) -> Option<String> {
    let rest = stmt.strip_prefix("CREATE TABLE ")?;
    let rest = rest.strip_prefix('`')?;
    let mut name = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if chars.peek() == Some(&'`') => {
                chars.next();
                name.push('`');
            }
            '`' => return Some(name),
            c => name.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_statements() {
        let sql = "-- comment\nSET FOREIGN_KEY_CHECKS = 0;\n\nCREATE TABLE `a``b` (\n  x int\n);\n\nCREATE TABLE `c` (y int);\n";
        let s = statements(sql);
        assert_eq!(
            s,
            vec![
                "SET FOREIGN_KEY_CHECKS = 0",
                "CREATE TABLE `a``b` (\n  x int\n)",
                "CREATE TABLE `c` (y int)"
            ]
        );
        assert_eq!(created_table(s[1]).as_deref(), Some("a`b"));
        assert_eq!(created_table(s[0]), None);
    }
}
