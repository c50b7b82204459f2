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
use super::engine::Sinks;
use super::objects::{self, Kind, Object};
use super::plan::TableQuery;
use super::read::execute;
use super::{folder, scope};
use crate::conn::db_error;
use crate::out::{Output, Written};
use crate::progress::Total;
use crate::schema::TableInfo;
use crate::sql::TableName;
use sha2::{Digest, Sha256};

/// One output file per table, opened when its first bytes arrive.
pub(super) struct Files<'a> {
    dir: &'a Path,
    pub(super) names: Vec<String>,
    cfg: &'a Config,
    open: Vec<Option<Output>>,
    pub(super) done: Vec<Option<(u64, Written)>>,
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
    let scope = scope::scope(cfg, conn, &db, tables)?;
    let infos: Vec<TableInfo> = scope
        .tables
        .iter()
        .map(|t| TableInfo::load(conn, &db, t))
        .collect::<anyhow::Result<_>>()?;
    let mut queries: Vec<TableQuery> = scope::dependency_order(conn, &db, &scope.tables)?
        .into_iter()
        .map(|i| {
            TableQuery::new(infos[i].clone(), None, None, None, None).map(TableQuery::with_history)
        })
        .collect::<anyhow::Result<_>>()?;
    // Plan the reads before any snapshot, as for a single table.
    let jobs = scope::plan_jobs(cfg, conn, &queries)?;
    // What the server's SHOW CREATE gives depends on the session's sql_mode (ANSI_QUOTES
    // quotes names with "): the export's session dumps under the plain mode, as mysqldump
    // does (see read::session); the manifest records the server's own mode and the
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
    let (mut objects, warnings) =
        objects::list(conn, &db, &table_names, tables.is_none(), &scope.unreadable)?;
    if queries.is_empty() && objects.is_empty() {
        bail!("database {db} has no tables and no other objects to back up");
    }
    warn(cfg, &db, &scope, &queries, &warnings);
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
    let shown = cfg.progress.begin(&db, Total::Rows(total));
    let read: Vec<&TableName> = queries
        .iter()
        .filter(|q| q.info.rows_elsewhere().is_none())
        .map(|q| &q.info.name)
        .collect();
    let mut freeze = || scope::freeze(cfg, &queries);
    let frozen = if jobs.is_empty() {
        None
    } else {
        execute(cfg, conn, &jobs, &read, &mut files, &mut freeze)?
    };
    // Sequences after the data: every value they hand out later is above those the rows
    // hold. (Read before the lock on the tables without transactions goes.)
    objects::read_states(conn, &mut objects)?;
    drop((frozen, shown));

    let mut schema =
        format!("-- qexport backup of {db}: default CHARACTER SET {charset} COLLATE {collation}\n");
    schema.push_str(&folder::schema_sql(conn, &mut queries, &objects)?);
    let schema_file = write_file(&tmp.path().join("schema.sql"), schema.as_bytes())?;
    let about = folder::About {
        db: &db,
        server: &server,
        created: &created,
        schema_sha256: &schema_file.sha256,
        sql_mode: &source_mode,
        charset: &charset,
        collation: &collation,
        missing: &scope.missing,
        warnings: &warnings,
    };
    let (manifest, total_rows) = folder::manifest(cfg, &about, &queries, &objects, &files)?;
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    write_file(&tmp.path().join("manifest.json"), text.as_bytes())?;

    publish(tmp, dir)?;
    if !cfg.quiet {
        eprintln!(
            "qexport: {db}: {}{}, {} backed up to {}",
            crate::error::plural(queries.len() as u64, "table"),
            counted(&objects),
            crate::error::plural(total_rows, "row"),
            dir.display()
        );
    }
    Ok(())
}

/// Say on stderr (whatever -q says: it is about what the backup lacks) what it does not
/// hold: kinds of objects this user could not read (`--partial`), history it cannot keep,
/// and no single point in time (`-j N` without `--consistent`).
fn warn(cfg: &Config, db: &str, scope: &scope::Scope, queries: &[TableQuery], warnings: &[String]) {
    for w in warnings {
        eprintln!("qexport: warning: {db}: {w}");
    }
    if !scope.missing.is_empty() {
        eprintln!(
            "qexport: warning: a partial backup of {db}: without the privilege to read them, it misses every one of its {}",
            scope.missing.join(", ")
        );
    }
    for q in queries {
        for note in &q.notes {
            eprintln!("qexport: warning: {}: {note}", q.info.name);
        }
    }
    if cfg.jobs > 1 && !cfg.consistent {
        eprintln!(
            "qexport: warning: -j {} without --consistent: each connection reads its own snapshot, so the backup is not one point in time (the manifest says so; add --consistent for one instant)",
            cfg.jobs
        );
    }
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
