//! `--ledger [DB.]LEDGER`: load each file exactly once, whatever runs at the same time or
//! ran before. A persistent job queue in an InnoDB table of the server, one row per file
//! and target, known by the SHA-256 of the file's bytes as read (after decompression).
//!
//! The protocol, per file (see: #27):
//! 1. Hash the file. Take the named lock `qimport:<hash of sha256 and target>` with no
//!    wait (`GET_LOCK(name, 0)`): a live worker holds it while it loads the file, so a
//!    second one skips the file at once; the server frees it when the worker's session
//!    ends, however it ends (killed process, lost host, `KILL CONNECTION`).
//! 2. Holding the lock, read the file's row: `done` is skipped. Otherwise the row becomes
//!    `in_progress` (autocommitted: an operator sees who works on what), `attempts` + 1.
//! 3. Load the rows in one transaction and, in the same transaction, set the row `done`
//!    with `rows_loaded`: after any crash a file is loaded and done, or neither (a row
//!    left `in_progress` by a dead worker has no lock holder: the next run takes it).
//! 4. A failure rolls the rows back and sets the row `error` with the one-line message.
//! 5. Release the lock.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;
use sha2::{Digest, Sha256};

use super::args::Config;
use super::choices::{Ledger, LedgerAction};
use super::job::Ctx;
use super::undo::Undo;
use super::{plain, Prepared};
use crate::conn::db_error;
use crate::input::open_all;
use crate::sql::TableName;

/// The ledger's table, as made on first use (`{}`: its quoted name).
pub(super) const CREATE: &str = "CREATE TABLE IF NOT EXISTS {} (
  sha256 CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'of the bytes as read, after decompression',
  target VARCHAR(200) NOT NULL COMMENT 'db.table loaded',
  file_name VARCHAR(2048) NOT NULL COMMENT 'as given, the last time',
  status ENUM('new','in_progress','done','error') NOT NULL DEFAULT 'new',
  rows_loaded BIGINT UNSIGNED NULL,
  bytes BIGINT UNSIGNED NULL,
  error_message TEXT NULL,
  worker VARCHAR(255) NULL COMMENT 'host:pid:connection id',
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  started_at DATETIME(6) NULL,
  finished_at DATETIME(6) NULL,
  PRIMARY KEY (sha256, target),
  KEY (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/// What became of one file.
enum Outcome {
    Loaded {
        rows: u64,
    },
    /// Loaded before (by this name or another).
    Done {
        as_name: String,
    },
    /// Another live worker holds it now.
    Busy,
    Failed(String),
}

/// A file's identity: the SHA-256 of its bytes as read, and their number.
fn digest(cfg: &Config, path: &Path) -> anyhow::Result<(String, u64)> {
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    for mut input in open_all(&[path.to_owned()], cfg.encoding)? {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = input
                .reader
                .read(&mut buf)
                .with_context(|| format!("reading {}", input.name))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            bytes += n as u64;
        }
    }
    Ok((hex(&hash.finalize()), bytes))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter()
        .fold(String::with_capacity(2 * b.len()), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// The named lock of one file and target (64 characters at most, as the server allows).
fn lock_name(sha: &str, target: &str) -> String {
    let h = Sha256::digest(format!("{sha}\0{target}").as_bytes());
    format!("qimport:{}", &hex(&h)[..56])
}

/// `host:pid:connection`.
fn worker(conn: &mut Conn) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "unknown".into(), |h| h.trim().to_owned());
    let id: Option<u64> = conn.query_first("SELECT CONNECTION_ID()").ok().flatten();
    format!("{host}:{}:{}", std::process::id(), id.unwrap_or(0))
}

/// Make the ledger if it is not there.
pub(super) fn ensure(conn: &mut Conn, ledger: &TableName) -> anyhow::Result<()> {
    conn.query_drop(CREATE.replace("{}", &ledger.quoted()))
        .map_err(db_error)
        .with_context(|| format!("--ledger: making {ledger}"))
}

/// One run over files: each loaded once, in its own transaction.
pub(super) struct Run<'a> {
    pub(super) cfg: &'a Config,
    pub(super) ledger: &'a Ledger,
    pub(super) target: &'a TableName,
    pub(super) p: &'a Prepared,
    pub(super) undo: &'a Undo,
    /// Files that failed (the run's exit status).
    pub(super) failed: u64,
}

impl Run<'_> {
    /// Load `path` once, or say why not, in one line on stderr.
    pub(super) fn file(&mut self, conn: &mut Conn, path: &Path) -> Went {
        let started = Instant::now();
        let name = path.display().to_string();
        let outcome = match self.try_file(conn, path, &name) {
            Ok(o) => o,
            Err(e) => Outcome::Failed(one_line(&e)),
        };
        let ms = started.elapsed().as_millis();
        let t = self.target;
        let quiet = self.cfg.quiet;
        let said = match &outcome {
            Outcome::Loaded { rows } => {
                format!(
                    "{name}: {} loaded into {t} ({ms} ms)",
                    crate::error::plural(*rows, "row")
                )
            }
            Outcome::Done { as_name } if *as_name == name => {
                format!("{name}: skipped: loaded into {t} already")
            }
            Outcome::Done { as_name } => {
                format!("{name}: skipped: loaded into {t} already, as {as_name} (the same bytes)")
            }
            Outcome::Busy => format!("{name}: skipped: another run is loading it now"),
            Outcome::Failed(m) => format!("{name}: failed: {m}"),
        };
        match outcome {
            Outcome::Failed(_) => {
                self.failed += 1;
                eprintln!("qimport: {said}");
                Self::move_to(path, self.ledger.error_dir.as_deref());
                Went::Failed
            }
            Outcome::Busy => {
                if !quiet {
                    eprintln!("qimport: {said}");
                }
                Went::Busy
            }
            Outcome::Loaded { .. } | Outcome::Done { .. } => {
                if !quiet {
                    eprintln!("qimport: {said}");
                }
                Self::move_to(path, self.ledger.done_dir.as_deref());
                Went::Done
            }
        }
    }

    fn try_file(&self, conn: &mut Conn, path: &Path, name: &str) -> anyhow::Result<Outcome> {
        let (sha, bytes) = digest(self.cfg, path)?;
        let target = self.target.to_string();
        let lock = lock_name(&sha, &target);
        let got: Option<Option<i64>> = conn
            .exec_first("SELECT GET_LOCK(?, 0)", (&lock,))
            .map_err(db_error)?;
        if got.flatten() != Some(1) {
            return Ok(Outcome::Busy);
        }
        let result = self.claimed(conn, path, name, &sha, bytes);
        let _ = conn.exec_drop("DO RELEASE_LOCK(?)", (&lock,));
        result
    }

    /// Holding the file's lock: skip it if done, else load it.
    fn claimed(
        &self,
        conn: &mut Conn,
        path: &Path,
        name: &str,
        sha: &str,
        bytes: u64,
    ) -> anyhow::Result<Outcome> {
        let l = self.ledger.table.quoted();
        let target = self.target.to_string();
        let row: Option<(String, String)> = conn
            .exec_first(
                format!("SELECT status, file_name FROM {l} WHERE sha256 = ? AND target = ?"),
                (sha, &target),
            )
            .map_err(db_error)?;
        if let Some((status, as_name)) = &row {
            if status == "done" {
                return Ok(Outcome::Done {
                    as_name: as_name.clone(),
                });
            }
        }
        let me = worker(conn);
        conn.exec_drop(
            format!(
                "INSERT INTO {l} (sha256, target, file_name, status, bytes, worker, attempts, started_at) \
                 VALUES (?, ?, ?, 'in_progress', ?, ?, 1, NOW(6)) \
                 ON DUPLICATE KEY UPDATE file_name = VALUES(file_name), status = 'in_progress', \
                 bytes = VALUES(bytes), worker = VALUES(worker), attempts = attempts + 1, \
                 started_at = NOW(6), finished_at = NULL, error_message = NULL, rows_loaded = NULL"
            ),
            (sha, &target, name, bytes, &me),
        )
        .map_err(db_error)?;
        match self.load(conn, path, sha) {
            Ok(rows) => Ok(Outcome::Loaded { rows }),
            Err(e) => {
                let msg = one_line(&e);
                self.mark_error(conn, sha, &msg);
                Ok(Outcome::Failed(msg))
            }
        }
    }

    /// The file's rows, and its row set done, in one transaction.
    fn load(&self, conn: &mut Conn, path: &Path, sha: &str) -> anyhow::Result<u64> {
        let mut cfg = self.cfg.clone();
        if let Some(dir) = &self.cfg.rejects {
            let base = path
                .file_name()
                .map_or_else(|| "input".into(), |n| n.to_string_lossy().into_owned());
            cfg.rejects = Some(dir.join(format!("{base}.rejects.csv")));
        }
        let inputs = open_all(&[path.to_owned()], cfg.encoding)?;
        let l = self.ledger.table.quoted();
        let target = self.target.to_string();
        let mut cx = Ctx {
            cfg: &cfg,
            conn,
            info: &self.p.info,
            undo: self.undo,
        };
        let _shown = cfg
            .progress
            .begin(&path.display().to_string(), crate::progress::Total::Unknown);
        let mut summary = plain::load(&mut cx, self.p, inputs, &mut |c, s| {
            // The bytes loaded are the bytes the ledger names: a file rewritten while it
            // was read (a producer that writes in place) is refused, not recorded.
            if digest(self.cfg, path)?.0 != sha {
                bail!(
                    "{}: the file changed while it was loaded (written in place?): nothing was loaded; a producer should write under another name and rename the file when it is whole",
                    path.display()
                );
            }
            c.exec_drop(
                format!(
                    "UPDATE {l} SET status = 'done', rows_loaded = ?, finished_at = NOW(6) \
                     WHERE sha256 = ? AND target = ?"
                ),
                (s.rows, sha, &target),
            )
            .map_err(db_error)
            .context("--ledger: marking the file done")
        })?;
        summary.keep_rejects()?;
        Ok(summary.rows)
    }

    /// The file failed: its row says so (on a new session if the load's was lost).
    fn mark_error(&self, conn: &mut Conn, sha: &str, msg: &str) {
        if conn.ping().is_err() {
            match self.cfg.connect() {
                Ok(c) => *conn = c,
                Err(_) => return,
            }
        }
        let l = self.ledger.table.quoted();
        let _ = conn.exec_drop(
            format!(
                "UPDATE {l} SET status = 'error', error_message = ?, finished_at = NOW(6) \
                 WHERE sha256 = ? AND target = ?"
            ),
            (msg, sha, self.target.to_string()),
        );
    }

    /// Move a finished file into `dir`, if one was given: a failed move is a warning (the
    /// ledger, not the folder, says what is loaded).
    fn move_to(path: &Path, dir: Option<&Path>) {
        let Some(dir) = dir else { return };
        let Some(base) = path.file_name() else { return };
        let to = dir.join(base);
        if let Err(e) = std::fs::rename(path, &to) {
            eprintln!(
                "qimport: warning: {}: not moved to {}: {e} (the ledger holds its outcome)",
                path.display(),
                to.display()
            );
        }
    }
}

/// What a caller needs of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Went {
    Done,
    Busy,
    Failed,
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .trim_end()
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// Load the FILEs, or watch a folder: each file once.
pub(super) fn run(
    cfg: &Config,
    conn: &mut Conn,
    ledger: &Ledger,
    target: &TableName,
    p: &Prepared,
    undo: &Undo,
) -> anyhow::Result<ExitCode> {
    if cfg.dry_run {
        return dry_run(cfg, conn, p, undo);
    }
    ensure(conn, &ledger.table)?;
    let mut run = Run {
        cfg,
        ledger,
        target,
        p,
        undo,
        failed: 0,
    };
    match &ledger.action {
        LedgerAction::Watch(dir) => watch(&mut run, conn, dir),
        _ => {
            for f in &cfg.files {
                run.file(conn, f);
            }
        }
    }
    Ok(if run.failed > 0 {
        ExitCode::from(crate::error::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--dry-run`: each file checked (and rolled back) on its own; the ledger is not read,
/// made or written.
fn dry_run(cfg: &Config, conn: &mut Conn, p: &Prepared, undo: &Undo) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for f in &cfg.files {
        let inputs = open_all(std::slice::from_ref(f), cfg.encoding)?;
        let mut cx = Ctx {
            cfg,
            conn,
            info: &p.info,
            undo,
        };
        match plain::load(&mut cx, p, inputs, &mut |_, _| Ok(())) {
            Ok(s) => {
                if !cfg.quiet {
                    let said = super::said(cfg, &p.info, &s, &p.how, p.would_be);
                    eprintln!("qimport: {}: {said}", f.display());
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("qimport: {}: failed: {}", f.display(), one_line(&e));
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(crate::error::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// How often `--watch` looks at its folder.
const POLL: Duration = Duration::from_millis(500);

/// A file a watcher leaves alone: hidden, or still being written under a temporary name.
pub(super) fn ignored(name: &str) -> bool {
    let ext = Path::new(name)
        .extension()
        .map(std::ffi::OsStr::to_ascii_lowercase);
    name.starts_with('.') || ext.is_some_and(|e| e == "tmp" || e == "part")
}

/// `--watch DIR`: load each file that appears (a file seen done or failed is not tried
/// again until it changes); runs until a signal ends it (with status 0).
fn watch(run: &mut Run<'_>, conn: &mut Conn, dir: &Path) {
    crate::interrupt::exit_zero_on_signal();
    let mut seen: HashMap<PathBuf, (u64, SystemTime)> = HashMap::new();
    loop {
        let mut files: Vec<(PathBuf, u64, SystemTime)> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| !ignored(&e.file_name().to_string_lossy()))
                    .filter_map(|e| {
                        let m = e.metadata().ok().filter(std::fs::Metadata::is_file)?;
                        Some((e.path(), m.len(), m.modified().ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for (path, len, modified) in files {
            if seen.get(&path) == Some(&(len, modified)) {
                continue;
            }
            if run.file(conn, &path) != Went::Busy {
                seen.insert(path, (len, modified));
            }
        }
        std::thread::sleep(POLL);
    }
}

/// A row of the ledger as `--status` reads it.
type StatusRow = (
    String,
    String,
    String,
    Option<u64>,
    Option<u64>,
    u32,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// `--status`: the ledger as CSV on stdout, newest first; a row `in_progress` whose
/// worker is gone (no session holds its lock) shows as `stale`.
pub(super) fn status(
    cfg: &Config,
    conn: &mut Conn,
    ledger: &TableName,
) -> anyhow::Result<ExitCode> {
    let l = ledger.quoted();
    let rows: Vec<StatusRow> = conn
        .query(format!(
            "SELECT file_name, target, status, rows_loaded, bytes, attempts, error_message, worker, \
             CAST(created_at AS CHAR), CAST(started_at AS CHAR), CAST(finished_at AS CHAR), sha256 \
             FROM {l} ORDER BY COALESCE(finished_at, started_at, created_at) DESC, file_name"
        ))
        .map_err(db_error)
        .with_context(|| format!("--status: reading {ledger}"))?;
    let d = &cfg.dialect;
    let mut out = crate::out::Output::stdout();
    let mut buf = Vec::new();
    let header = [
        "file_name",
        "target",
        "status",
        "rows_loaded",
        "bytes",
        "attempts",
        "error_message",
        "worker",
        "created_at",
        "started_at",
        "finished_at",
        "sha256",
    ];
    for (i, h) in header.iter().enumerate() {
        if i > 0 {
            buf.push(d.delimiter);
        }
        d.write_value(&mut buf, h.as_bytes());
    }
    buf.push(b'\n');
    for r in rows {
        let mut status = r.2.clone();
        if status == "in_progress" {
            let held: Option<Option<u64>> = conn
                .exec_first("SELECT IS_USED_LOCK(?)", (lock_name(&r.11, &r.1),))
                .map_err(db_error)?;
            if held.flatten().is_none() {
                status = "stale".into();
            }
        }
        let fields: [Option<String>; 12] = [
            Some(r.0),
            Some(r.1),
            Some(status),
            r.3.map(|n| n.to_string()),
            r.4.map(|n| n.to_string()),
            Some(r.5.to_string()),
            r.6,
            r.7,
            Some(r.8),
            r.9,
            r.10,
            Some(r.11),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                buf.push(d.delimiter);
            }
            d.write_field(&mut buf, f.as_deref().map(str::as_bytes));
        }
        buf.push(b'\n');
    }
    out.write_all(&buf)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// `--retry FILE|SHA256...`: set done (or failed) files of `target` back to new, saying
/// what became of each; one not in the ledger, or being loaded now, is an error.
pub(super) fn retry(
    cfg: &Config,
    conn: &mut Conn,
    ledger: &TableName,
    target: &TableName,
) -> anyhow::Result<ExitCode> {
    let l = ledger.quoted();
    let t = target.to_string();
    let mut failed = 0u64;
    if cfg.files.is_empty() {
        bail!("--retry: give the FILEs (or their SHA-256 sums) to load again");
    }
    for f in &cfg.files {
        let arg = f.display().to_string();
        let sha = if arg.len() == 64 && arg.bytes().all(|b| b.is_ascii_hexdigit()) && !f.exists() {
            arg.to_ascii_lowercase()
        } else {
            digest(cfg, f)?.0
        };
        let held: Option<Option<u64>> = conn
            .exec_first("SELECT IS_USED_LOCK(?)", (lock_name(&sha, &t),))
            .map_err(db_error)?;
        let was: Option<String> = conn
            .exec_first(
                format!("SELECT status FROM {l} WHERE sha256 = ? AND target = ?"),
                (&sha, &t),
            )
            .map_err(db_error)?;
        let said = match (was, held.flatten()) {
            (None, _) => {
                failed += 1;
                format!("{arg}: not in {ledger} for {t}: nothing to retry")
            }
            (Some(_), Some(_)) => {
                failed += 1;
                format!("{arg}: being loaded into {t} now: not set back")
            }
            (Some(s), None) => {
                conn.exec_drop(
                    format!(
                        "UPDATE {l} SET status = 'new', error_message = NULL, finished_at = NULL \
                         WHERE sha256 = ? AND target = ?"
                    ),
                    (&sha, &t),
                )
                .map_err(db_error)?;
                format!("{arg}: set back to new (was {s}): the next run loads it into {t}")
            }
        };
        eprintln!("qimport: {said}");
    }
    Ok(if failed > 0 {
        ExitCode::from(crate::error::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}
