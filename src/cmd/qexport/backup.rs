//! `qexport --all -o DIR`: a database as a folder that `qimport --dir` restores.
//!
//! ```text
//! DIR/schema.sql      CREATE TABLE statements, in dependency order (referenced first),
//!                     routines and views, then (after a marker line) triggers and events
//! DIR/<table>.csv     one file per table (.csv.gz / .csv.zst when compressed)
//! DIR/manifest.json   tables, row counts, column types, keys, SHA-256 of each file,
//!                     the dialect, the server and the tool version
//! ```
//!
//! The folder is written under a temporary name beside DIR and renamed to DIR only when
//! every file is complete: a crashed nightly job leaves no folder that looks like a backup.
//! With `-j 1` (the default) all tables are read in one transaction, so the backup is one
//! consistent snapshot of the database (for InnoDB tables).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::engine::{Job, Sinks};
use super::objects::{self, Kind, Object};
use super::plan::{KeyRange, TableQuery};
use super::read::{chunk_rows, execute, EXPORT_INIT};
use crate::conn::db_error;
use crate::dialect::NullMarker;
use crate::manifest::{
    ColumnEntry, DialectEntry, Manifest, ObjectEntry, TableEntry, AFTER_DATA, FORMAT,
    FORMAT_VERSION,
};
use crate::out::{Output, Written};
use crate::progress::Progress;
use crate::schema::{database_privileges, list_tables, TableInfo};
use crate::sql::TableName;
use sha2::{Digest, Sha256};

/// One output file per table, opened when its first bytes arrive.
struct Files<'a> {
    dir: &'a Path,
    names: Vec<String>,
    cfg: &'a Config,
    open: Vec<Option<Output>>,
    done: Vec<Option<(u64, Written)>>,
}

impl Sinks for Files<'_> {
    fn write(&mut self, out: usize, bytes: &[u8]) -> anyhow::Result<()> {
        if self.open[out].is_none() {
            let path = self.dir.join(&self.names[out]);
            self.open[out] = Some(Output::open_compressed(Some(&path), self.cfg.compression)?);
        }
        match &mut self.open[out] {
            Some(o) => o.write_all(bytes),
            None => bail!("output {out} is closed"),
        }
    }

    fn finish(&mut self, out: usize, rows: u64) -> anyhow::Result<()> {
        if self.open[out].is_none() {
            self.write(out, b"")?;
        }
        if let Some(o) = self.open[out].take() {
            let written = o.finish()?.context("a backup file must be a file")?;
            self.done[out] = Some((rows, written));
        }
        Ok(())
    }
}

/// A file name for a table: safe characters kept, anything else percent-encoded. A name
/// that would make a long file name (a table name of 64 CJK characters is 576 bytes
/// encoded; file systems take 255) is cut and given a hash of the whole name, and so is
/// a name that differs from another of the backup only in case (`tied`), which would
/// share its file on a case-insensitive file system. The manifest maps tables to files.
pub fn file_name(table: &str, suffix: &str, tied: bool) -> String {
    const KEEP: usize = 120;
    let mut s = String::new();
    for (i, b) in table.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    if s.len() > KEEP || tied {
        // Cut between escapes, never inside one.
        let mut cut = s.len().min(KEEP);
        while s[..cut].rfind('%').is_some_and(|p| p + 3 > cut) {
            cut -= 1;
        }
        s.truncate(cut);
        let hash = Sha256::digest(table.as_bytes());
        let _ = write!(
            s,
            "~{:02x}{:02x}{:02x}{:02x}",
            hash[0], hash[1], hash[2], hash[3]
        );
    }
    format!("{s}.csv{suffix}")
}

/// The file names of `tables`, none shared even where case does not count.
fn file_names(tables: &[&str], suffix: &str) -> Vec<String> {
    tables
        .iter()
        .map(|t| {
            let lower = t.to_lowercase();
            let tied = tables.iter().filter(|o| o.to_lowercase() == lower).count() > 1;
            file_name(t, suffix, tied)
        })
        .collect()
}

pub fn run(cfg: &Config, conn: &mut Conn, tables: Option<&[String]>) -> anyhow::Result<()> {
    let Some(dir) = cfg.output.as_deref() else {
        bail!("a backup needs -o DIR");
    };
    let db = cfg.conn.database.clone().unwrap_or_default();
    // Ctrl-C or SIGTERM removes the temporary folder.
    let (tmp, _undo) = crate::interrupt::made(
        || temp_dir_beside(dir),
        |t| {
            let doomed = t.path().to_owned();
            move || remove_folder(&doomed)
        },
    )?;
    let names = match tables {
        Some(t) => t.to_vec(),
        None => all_tables(cfg, conn, &db)?,
    };
    if names.is_empty() {
        bail!("database {db} has no tables to back up");
    }
    let infos: Vec<TableInfo> = names
        .iter()
        .map(|t| TableInfo::load(conn, &db, t))
        .collect::<anyhow::Result<_>>()?;
    let queries: Vec<TableQuery> = dependency_order(conn, &db, &names)?
        .into_iter()
        .map(|i| {
            TableQuery::new(infos[i].clone(), None, None, None, None).map(TableQuery::with_history)
        })
        .collect::<anyhow::Result<_>>()?;

    // Plan the reads before any snapshot, as for a single table.
    let jobs = plan_jobs(cfg, conn, &queries)?;
    // What the server's SHOW CREATE gives depends on the session's sql_mode (ANSI_QUOTES
    // quotes names with "): the export's session dumps under the plain mode, as mysqldump
    // does (see EXPORT_INIT); the manifest records the server's own mode and the
    // database's defaults.
    let (source_mode, charset, collation): (String, String, String) = conn
        .exec_first(
            "SELECT @@GLOBAL.sql_mode, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (&db,),
        )
        .map_err(db_error)?
        .with_context(|| format!("database {db} not found"))?;
    let table_names: Vec<String> = queries.iter().map(|q| q.info.name.table.clone()).collect();
    let objects = super::objects::list(conn, &db, &table_names, tables.is_none())?;
    let mut schema =
        format!("-- qexport backup of {db}: default CHARACTER SET {charset} COLLATE {collation}\n");
    schema.push_str(&schema_sql(conn, &queries, &objects)?);
    let (server, created): (String, String) = conn
        .query_first("SELECT VERSION(), DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')")
        .map_err(db_error)?
        .unwrap_or_default();

    let mut files = Files {
        dir: tmp.path(),
        names: file_names(
            &queries
                .iter()
                .map(|tq| tq.info.name.table.as_str())
                .collect::<Vec<_>>(),
            cfg.compression.suffix(),
        ),
        cfg,
        open: queries.iter().map(|_| None).collect(),
        done: queries.iter().map(|_| None).collect(),
    };
    let total: u64 = queries.iter().map(|q| q.info.estimated_rows).sum();
    let progress = Progress::new(&db, Some(total), cfg.quiet);
    let read: Vec<&TableName> = queries
        .iter()
        .filter(|q| q.info.rows_elsewhere().is_none())
        .map(|q| &q.info.name)
        .collect();
    let _frozen = freeze(cfg, &queries)?;
    execute(cfg, conn, &jobs, &read, &mut files, &progress)?;

    let schema_file = write_file(&tmp.path().join("schema.sql"), schema.as_bytes())?;
    let about = About {
        db: &db,
        server: &server,
        created: &created,
        schema_sha256: &schema_file.sha256,
        sql_mode: &source_mode,
        charset: &charset,
        collation: &collation,
    };
    let (manifest, total_rows) = manifest(cfg, &about, &queries, &objects, &files)?;
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    write_file(&tmp.path().join("manifest.json"), text.as_bytes())?;

    publish(tmp, dir)?;
    if !cfg.quiet {
        eprintln!(
            "qexport: {db}: {} tables{}, {total_rows} rows backed up to {}",
            queries.len(),
            counted(&objects),
            dir.display()
        );
    }
    Ok(())
}

/// `, 2 views, 1 trigger`: how many objects of each kind, for the summary.
fn counted(objects: &[Object]) -> String {
    let mut others = String::new();
    for kind in [
        Kind::Sequence,
        Kind::View,
        Kind::Function,
        Kind::Procedure,
        Kind::Trigger,
        Kind::Event,
    ] {
        let n = objects.iter().filter(|o| o.kind == kind).count();
        if n > 0 {
            let word = kind.word().to_lowercase();
            let _ = write!(others, ", {n} {word}{}", if n == 1 { "" } else { "s" });
        }
    }
    others
}

/// Move the finished folder to `dir`. Every file was synced as it was finished; now the
/// folder's entries, so that a power loss cannot leave a folder named like a finished
/// backup with files missing, and after the rename the parent's, so that the name itself
/// is on disk.
fn publish(tmp: tempfile::TempDir, dir: &Path) -> anyhow::Result<()> {
    sync_dir(tmp.path())?;
    let tmp_path = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp_path, dir) {
        let _ = std::fs::remove_dir_all(&tmp_path);
        return Err(e)
            .with_context(|| format!("renaming the finished backup to {}", dir.display()));
    }
    sync_dir(match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    })
}

/// Tables that cannot be in a snapshot (MyISAM, Aria, MEMORY: no transactions) are kept
/// still instead, for a consistent backup (`-j 1`, or `--consistent`): `LOCK TABLES ...
/// READ` on a connection of its own, taken before the snapshot opens and held until the
/// backup ends (dropping the connection releases it). Writers to those tables wait that
/// long, as with `mysqldump --lock-tables`.
fn freeze(cfg: &Config, queries: &[TableQuery]) -> anyhow::Result<Option<Conn>> {
    let still: Vec<String> = queries
        .iter()
        .filter(|q| !q.info.transactional() && q.info.rows_elsewhere().is_none())
        .map(|q| format!("{} READ", q.info.name.quoted()))
        .collect();
    if still.is_empty() || !(cfg.jobs == 1 || cfg.consistent) {
        return Ok(None);
    }
    let mut conn = cfg.conn.connect(EXPORT_INIT)?;
    conn.query_drop(format!("LOCK TABLES {}", still.join(", ")))
        .map_err(db_error)
        .context("locking the tables that have no transactions (MyISAM, Aria, MEMORY) for a consistent backup")?;
    Ok(Some(conn))
}

/// Every table of `db`, when this user may read every table: information_schema shows a
/// user with SELECT on single tables only those, so without SELECT on the database (or
/// globally) `--all` could not tell what it misses, and refuses unless `--partial`.
fn all_tables(cfg: &Config, conn: &mut Conn, db: &str) -> anyhow::Result<Vec<String>> {
    let names = list_tables(conn, db)?;
    if !cfg.partial && !database_privileges(conn, db)?.contains("SELECT") {
        bail!(
            "--all: this user has no SELECT on {db}.* (only on some of its tables, which hides the others): grant SELECT ON {}.*, or add --partial to back up the {} tables it can see ({}); the manifest then says partial",
            crate::sql::quote_ident(db),
            names.len(),
            names.join(", ")
        );
    }
    Ok(names)
}

/// The reads of every table whose rows are here (key-range chunks with `-j N`), each
/// table's first one with the header.
fn plan_jobs(cfg: &Config, conn: &mut Conn, queries: &[TableQuery]) -> anyhow::Result<Vec<Job>> {
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
            tq.chunks(conn, &KeyRange::default(), chunk_rows(&tq.info), 1)?
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

/// Flush a folder's entries to disk.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the folder {}", dir.display()))
}

/// One whole file of the backup, written as its tables' files are (mode, fsync).
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<Written> {
    let mut out = Output::open(Some(path))?;
    out.write_all(bytes)?;
    out.finish()?.context("a backup file must be a file")
}

/// Remove a temporary folder the export may be writing a file into at this very moment
/// (`schema.sql`, say): try again until it is gone, for a second at most.
fn remove_folder(dir: &Path) {
    for _ in 0..100 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A new temporary folder beside `dir`, which must not exist yet.
fn temp_dir_beside(dir: &Path) -> anyhow::Result<tempfile::TempDir> {
    if dir.exists() {
        bail!(
            "{} exists: a backup goes into a new folder (for example -o backup/$(date +%F))",
            dir.display()
        );
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dir
        .file_name()
        .with_context(|| format!("{}: not a folder name", dir.display()))?
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(parent)
        .with_context(|| format!("creating the folder {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        // What the umask leaves of rwxrwxrwx, as for mkdir.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary folder in {}", parent.display()))
}

/// `SHOW CREATE TABLE` of each table, in order, with foreign-key checks off; then the
/// other objects (see [`super::objects`]), those created after the data behind
/// [`AFTER_DATA`].
fn schema_sql(
    conn: &mut Conn,
    queries: &[TableQuery],
    objects: &[Object],
) -> anyhow::Result<String> {
    let mut schema = String::from(
        "-- qexport backup schema: CREATE statements in dependency order\nSET FOREIGN_KEY_CHECKS = 0;\n\n",
    );
    schema.push_str(&objects::schema_sequences(objects));
    for tq in queries {
        let row: Option<(String, String)> = conn
            .query_first(format!("SHOW CREATE TABLE {}", tq.info.name.quoted()))
            .map_err(db_error)?;
        let (_, create) = row.with_context(|| format!("SHOW CREATE TABLE {}", tq.info.name))?;
        // The server names a sequence of a column default with its database; the
        // restored table draws from the restored sequence.
        let db = crate::sql::quote_ident(tq.info.name.database.as_deref().unwrap_or_default());
        let create = ["nextval(", "lastval("]
            .iter()
            .fold(create, |c, f| c.replace(&format!("{f}{db}."), f));
        schema.push_str(&create);
        schema.push_str(";\n\n");
    }
    schema.push_str(&objects::schema_part(objects, false));
    schema.push_str(AFTER_DATA);
    schema.push_str("\n\n");
    schema.push_str(&objects::schema_part(objects, true));
    Ok(schema)
}

/// Where and when the backup was taken.
struct About<'a> {
    db: &'a str,
    server: &'a str,
    created: &'a str,
    schema_sha256: &'a str,
    sql_mode: &'a str,
    charset: &'a str,
    collation: &'a str,
}

/// The manifest, and the total number of rows.
fn manifest(
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
        partial: cfg.partial,
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

/// Indexes into `names`, referenced tables before the tables that reference them (foreign
/// keys), otherwise by name. Cycles are broken by name order (the restore disables
/// foreign-key checks anyway).
fn dependency_order(conn: &mut Conn, db: &str, names: &[String]) -> anyhow::Result<Vec<usize>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("users", "", false), "users.csv");
        assert_eq!(file_name("a/b c", ".gz", false), "a%2Fb%20c.csv.gz");
        assert_eq!(file_name(".hidden", "", false), "%2Ehidden.csv");
        assert_eq!(file_name("é", ".zst", false), "%C3%A9.csv.zst");
    }

    // See: #17 (9): file names stay short for any table name, and apart where case does
    // not count.
    #[test]
    fn file_names_are_short_and_apart() {
        let long = "表".repeat(64);
        let f = file_name(&long, ".csv.zst", false);
        assert!(f.len() < 160, "{f}");
        assert!(f.contains('~') && !f.contains("%E8%A1~"), "{f}");
        assert_ne!(
            file_name(&long, "", false),
            file_name(&"表".repeat(63), "", false)
        );
        let names = file_names(&["Users", "users", "orders"], "");
        assert_eq!(names[2], "orders.csv");
        assert_ne!(names[0].to_lowercase(), names[1].to_lowercase());
    }
}
