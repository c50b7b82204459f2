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

use super::args::Config;
use super::job::{choose_method, Job};
use super::undo::Undo;
use crate::bytes::hex_encode;
use crate::conn::db_error;
use crate::dialect::{BinaryEncoding, NullMarker};
use crate::input::{Input, Source};
use crate::manifest::AFTER_DATA;
use crate::schema::TableInfo;
use crate::sql::{quote_ident, TableName};

struct Entry {
    name: String,
    /// None: a table whose rows live elsewhere (MERGE, FEDERATED...): definition only.
    file: Option<String>,
    rows: u64,
    sha256: String,
    /// The file holds every version of a system-versioned table's rows.
    history: bool,
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
    apply_lenience(&mut cfg, &manifest);
    let entries = entries(&manifest)?;
    let objects = objects(&manifest)?;
    let schema_path = dir.join("schema.sql");
    let schema = std::fs::read_to_string(&schema_path)
        .with_context(|| format!("reading {}", schema_path.display()))?;
    check_before(conn, &db, dir, &entries, &objects)?;
    check_privileges(conn, &db, &objects)?;
    if manifest["partial"].as_bool() == Some(true) && !cfg.quiet {
        eprintln!("qimport: note: {} is a partial backup (qexport --partial): it holds only the tables its user could read", dir.display());
    }
    if let Some(want) = manifest["schema_sha256"].as_str() {
        check_sha256(&schema_path, want)?;
    }
    let (before, after) = match schema.find(&format!("\n{AFTER_DATA}")) {
        Some(at) => schema.split_at(at),
        None => (schema.as_str(), ""),
    };
    let what = |e: anyhow::Error| e.context(format!("{}", schema_path.display()));
    let before = crate::sql::script(before).map_err(what)?;
    let after = crate::sql::script(after).map_err(what)?;
    let drops: Vec<String> = objects
        .iter()
        .map(|(kind, name)| drop_sql(kind, name))
        .collect();
    let defaults = adopt_defaults(conn, &db, &manifest, cfg.quiet)?;
    let mut created = Vec::new();
    let result = (|| {
        conn.query_drop("SET SESSION foreign_key_checks = 0")
            .map_err(db_error)?;
        for d in &drops {
            undo.object(d.clone());
        }
        for stmt in before {
            conn.query_drop(stmt)
                .map_err(db_error)
                .with_context(|| format!("schema.sql: {}", first_line(stmt)))?;
            if let Some(table) = created_table(stmt) {
                let t = TableName {
                    database: Some(db.clone()),
                    table,
                };
                undo.table(&t);
                created.push(t);
            }
        }
        // The routines and views came with their own sql_mode: back to the import's.
        conn.query_drop(super::args::SESSION_SQL_MODE)
            .map_err(db_error)?;
        let total = load_tables(&cfg, conn, dir, &entries)?;
        // Triggers and events, once the data is in; a failure still undoes everything.
        for stmt in after {
            conn.query_drop(stmt)
                .map_err(db_error)
                .with_context(|| format!("schema.sql: {}", first_line(stmt)))?;
        }
        undo.disarmed(|| anyhow::Ok(total))
    })();
    let _ = conn.query_drop("SET SESSION foreign_key_checks = 1");
    match result {
        Ok(total) => {
            if !cfg.quiet {
                let others = if objects.is_empty() {
                    String::new()
                } else {
                    format!(" and {} other objects", objects.len())
                };
                eprintln!(
                    "qimport: {db}: {} tables{others}, {total} rows restored from {}",
                    entries.len(),
                    dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = conn.query_drop("ROLLBACK");
            if super::undo::drop_on(conn, &drops, &[]).is_err() {
                super::undo::drop_anew(&cfg.conn, &[], &drops, &[]);
            }
            super::undo::drop_tables(&cfg.conn, conn, &created);
            if let Some(before) = defaults {
                let _ = conn.query_drop(before);
            }
            Err(e.context(format!(
                "restoring {} (nothing was restored)",
                dir.display()
            )))
        }
    }
}

/// Load every table's file in one transaction, each count checked; returns the rows.
fn load_tables(
    cfg: &Config,
    conn: &mut Conn,
    dir: &Path,
    entries: &[Entry],
) -> anyhow::Result<u64> {
    let (method, _) = choose_method(cfg, conn)?;
    if entries.iter().any(|e| e.history) {
        // History rows keep their own row start and end (MariaDB 10.11 and later).
        conn.query_drop("SET SESSION system_versioning_insert_history = 1")
            .map_err(db_error)
            .context("restoring the history of system-versioned tables needs MariaDB 10.11 or later (system_versioning_insert_history)")?;
    }
    // Rows the source holds break no rule now: CHECK constraints are off as foreign keys
    // are (a constraint added later, or rows inserted with the checks off), and dates
    // follow the source's ALLOW_INVALID_DATES.
    conn.query_drop("SET SESSION check_constraint_checks = 0")
        .map_err(db_error)?;
    if cfg.lenient.invalid_dates {
        conn.query_drop(
            "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ALLOW_INVALID_DATES')",
        )
        .map_err(db_error)?;
    }
    conn.query_drop("START TRANSACTION").map_err(db_error)?;
    let mut total = 0;
    for e in entries {
        let Some(file) = &e.file else { continue };
        let mut info = TableInfo::load(conn, &cfg.database, &e.name)?;
        if e.history {
            info = info.with_history();
        }
        let input = open(dir, file)?;
        let mut job = Job::new(cfg, conn, &info, info.name.clone(), method)?;
        let r = job.load_input(input);
        let summary = job.finish(r)?;
        if summary.rows != e.rows {
            bail!(
                "{file}: {} rows loaded, the manifest says {}",
                summary.rows,
                e.rows
            );
        }
        total += summary.rows;
    }
    conn.query_drop("COMMIT").map_err(db_error)?;
    Ok(total)
}

/// A database that holds nothing yet takes the backup's default character set and
/// collation (so that routines and views come back as they were); one that holds tables
/// or other objects keeps its own, and qimport says so. Returns the statement that puts
/// the old defaults back, for a failed restore.
fn adopt_defaults(
    conn: &mut Conn,
    db: &str,
    manifest: &Json,
    quiet: bool,
) -> anyhow::Result<Option<String>> {
    let (Some(cs), Some(coll)) = (manifest["charset"].as_str(), manifest["collation"].as_str())
    else {
        return Ok(None);
    };
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !word(cs) || !word(coll) {
        bail!("manifest: a character set or collation that is not a name: {cs:?} {coll:?}");
    }
    let (now_cs, now_coll, things): (String, String, u64) = conn
        .exec_first(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, \
               (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) \
             + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) \
             + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) \
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (db, db, db, db),
        )
        .map_err(db_error)?
        .with_context(|| format!("database {db} not found"))?;
    if now_coll == coll {
        return Ok(None);
    }
    if things > 0 {
        if !quiet {
            eprintln!(
                "qimport: note: {db}'s default collation is {now_coll}, the backup's {coll}: the tables keep theirs (their CREATE TABLE names it); routines and views come back under {now_coll}"
            );
        }
        return Ok(None);
    }
    let alter = |cs: &str, coll: &str| {
        format!(
            "ALTER DATABASE {} CHARACTER SET {cs} COLLATE {coll}",
            quote_ident(db)
        )
    };
    conn.query_drop(alter(cs, coll)).map_err(db_error)?;
    if !quiet {
        eprintln!(
            "qimport: {db} (empty) takes the backup's defaults: CHARACTER SET {cs} COLLATE {coll}"
        );
    }
    Ok(Some(alter(&now_cs, &now_coll)))
}

/// What the restore will need, held before anything changes: CREATE and INSERT for the
/// tables, DROP to take them away again if it fails, and the privilege of each kind of
/// object the backup has.
fn check_privileges(conn: &mut Conn, db: &str, objects: &[(String, String)]) -> anyhow::Result<()> {
    let held = crate::schema::database_privileges(conn, db)?;
    let mut needed = vec!["CREATE", "DROP", "INSERT"];
    for (kind, _) in objects {
        needed.push(match kind.as_str() {
            "view" => "CREATE VIEW",
            "function" | "procedure" => "CREATE ROUTINE",
            "trigger" => "TRIGGER",
            "event" => "EVENT",
            _ => "CREATE",
        });
    }
    needed.sort_unstable();
    needed.dedup();
    let missing: Vec<&str> = needed.into_iter().filter(|p| !held.contains(*p)).collect();
    if !missing.is_empty() {
        bail!(
            "restoring into {db} needs {} on {}.* (granted to the user or a role), which this user lacks; nothing was changed",
            missing.join(", "),
            quote_ident(db)
        );
    }
    Ok(())
}

/// The first line of a statement, for messages.
fn first_line(stmt: &str) -> &str {
    let line = stmt
        .lines()
        .find(|l| !l.trim_start().starts_with("--"))
        .unwrap_or(stmt);
    line.char_indices()
        .nth(80)
        .map_or(line, |(i, _)| &line[..i])
}

/// The statement that drops a view, routine, trigger or event of the backup.
fn drop_sql(kind: &str, name: &str) -> String {
    format!(
        "DROP {} IF EXISTS {}",
        kind.to_uppercase(),
        quote_ident(name)
    )
}

/// The views, routines, triggers and events the manifest lists, as (type, name).
fn objects(manifest: &Json) -> anyhow::Result<Vec<(String, String)>> {
    let Some(list) = manifest["objects"].as_array() else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|o| {
            let kind = o["type"].as_str().unwrap_or_default();
            let name = o["name"].as_str().unwrap_or_default();
            if !matches!(
                kind,
                "sequence" | "view" | "function" | "procedure" | "trigger" | "event"
            ) || name.is_empty()
            {
                bail!("manifest: an object of unknown type {kind:?} or without a name");
            }
            Ok((kind.to_owned(), name.to_owned()))
        })
        .collect()
}

fn check_sha256(path: &Path, want: &str) -> anyhow::Result<()> {
    let mut hash = Sha256::new();
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    std::io::copy(&mut f, &mut hash).with_context(|| format!("reading {}", path.display()))?;
    let mut got = Vec::new();
    hex_encode(&hash.finalize(), &mut got);
    if got != want.as_bytes() {
        bail!(
            "{}: SHA-256 differs from the manifest: the backup is damaged",
            path.display()
        );
    }
    Ok(())
}

/// Nothing changes before the backup is known to be whole and its tables and other
/// objects are new.
fn check_before(
    conn: &mut Conn,
    db: &str,
    dir: &Path,
    entries: &[Entry],
    objects: &[(String, String)],
) -> anyhow::Result<()> {
    for e in entries {
        if let Some(file) = &e.file {
            check_sha256(&dir.join(file), &e.sha256)?;
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
    for (kind, name) in objects {
        let sql = match kind.as_str() {
            "view" | "sequence" => "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            "trigger" => "SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?",
            "event" => "SELECT 1 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?",
            _ => "SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?",
        };
        let found: Option<i64> = if sql.ends_with("ROUTINE_TYPE = ?") {
            conn.exec_first(sql, (db, name, kind.to_uppercase()))
        } else {
            conn.exec_first(sql, (db, name))
        }
        .map_err(db_error)?;
        if found.is_some() {
            bail!(
                "{kind} {db}.{name} exists: restore into a database without the backup's objects"
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

/// What the source's server accepted, the restore accepts too: dates under its
/// `ALLOW_INVALID_DATES`, and ENUM error values `''` (stored under a non-strict mode).
fn apply_lenience(cfg: &mut Config, manifest: &Json) {
    let mode = manifest["sql_mode"].as_str().unwrap_or_default();
    cfg.lenient = super::validate::Lenience {
        invalid_dates: mode.split(',').any(|m| m == "ALLOW_INVALID_DATES"),
        enum_error_value: true,
    };
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
                file: match &t["file"] {
                    Json::Null => None,
                    f => Some(
                        f.as_str()
                            .context("manifest: a file name that is not text")?
                            .to_owned(),
                    ),
                },
                rows: match &t["rows"] {
                    Json::Null if t["file"].is_null() => 0,
                    r => r.as_u64().context("manifest: table without rows")?,
                },
                sha256: t["sha256"].as_str().unwrap_or_default().to_owned(),
                history: t["history"].as_bool().unwrap_or(false),
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
    fn created_tables_are_named() {
        assert_eq!(
            created_table("CREATE TABLE `a``b` (\n  x int\n)").as_deref(),
            Some("a`b")
        );
        assert_eq!(
            created_table("CREATE TABLE `表` (y int)").as_deref(),
            Some("表")
        );
        assert_eq!(created_table("SET FOREIGN_KEY_CHECKS = 0"), None);
    }
}
