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
  target VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT '`db`.`table` loaded, quoted',
  file_name TEXT NOT NULL COMMENT 'as given, the last time',
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
    /// Gone before it could be read (another run loaded it and moved it away).
    Gone,
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

/// `host:pid:connection` (the session's id as the server gave it at the handshake).
fn worker(conn: &Conn) -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_or_else(|_| "unknown".into(), |h| h.trim().to_owned())
    });
    format!("{host}:{}:{}", std::process::id(), conn.connection_id())
}

/// The columns a ledger must have.
const COLUMNS: [&str; 12] = [
    "sha256",
    "target",
    "file_name",
    "status",
    "rows_loaded",
    "bytes",
    "error_message",
    "worker",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
];

/// Make the ledger if it is not there (CREATE is needed that once only); one that is
/// there must be a ledger: InnoDB (its done row commits with the rows) with its columns.
pub(super) fn ensure(conn: &mut Conn, ledger: &TableName) -> anyhow::Result<()> {
    let db = ledger.database.clone().unwrap_or_default();
    let engine: Option<Option<String>> = conn
        .exec_first(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&db, &ledger.table),
        )
        .map_err(db_error)?;
    let Some(engine) = engine else {
        return conn
            .query_drop(CREATE.replace("{}", &ledger.quoted()))
            .map_err(db_error)
            .with_context(|| format!("--ledger: making {ledger}"));
    };
    if !engine
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("InnoDB"))
    {
        bail!(
            "--ledger {ledger} is an {} table: a ledger must be InnoDB, so that a file's done row commits with its rows (name another table; qimport makes it)",
            engine.as_deref().unwrap_or("unknown")
        );
    }
    let have: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&db, &ledger.table),
        )
        .map_err(db_error)?;
    if let Some(missing) = COLUMNS
        .iter()
        .find(|c| !have.iter().any(|h| h.eq_ignore_ascii_case(c)))
    {
        bail!("--ledger {ledger} is no ledger (it has no column {missing}): name another table, and qimport makes it");
    }
    Ok(())
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
    pub(super) fn file(&mut self, conn: &mut Conn, path: &Path, say_busy: bool) -> Went {
        let started = Instant::now();
        let name = path.display().to_string();
        let mut sha = None;
        let outcome = match self.try_file(conn, path, &name, &mut sha) {
            Ok(o) => o,
            Err(e) => Outcome::Failed(one_line(&e)),
        };
        // A session lost (a server restarted, an idle session closed): a new one for the
        // next file.
        if matches!(outcome, Outcome::Failed(_)) && conn.ping().is_err() {
            if let Ok(c) = self.cfg.connect() {
                *conn = c;
                let _ = conn.query_drop(SESSION);
            }
        }
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
            Outcome::Gone => format!("{name}: skipped: gone (another run loaded it and moved it?)"),
            Outcome::Failed(m) => format!("{name}: failed: {}", m.replace('\n', "\\n")),
        };
        match outcome {
            Outcome::Failed(_) => {
                self.failed += 1;
                eprintln!("qimport: {said}");
                Self::move_to(path, self.ledger.error_dir.as_deref(), sha.as_deref());
                Went::Failed
            }
            Outcome::Busy | Outcome::Gone => {
                if !quiet && say_busy {
                    eprintln!("qimport: {said}");
                }
                Went::Busy
            }
            Outcome::Loaded { .. } | Outcome::Done { .. } => {
                if !quiet {
                    eprintln!("qimport: {said}");
                }
                Self::move_to(path, self.ledger.done_dir.as_deref(), sha.as_deref());
                Went::Done
            }
        }
    }

    fn try_file(
        &self,
        conn: &mut Conn,
        path: &Path,
        name: &str,
        known: &mut Option<String>,
    ) -> anyhow::Result<Outcome> {
        // Only a regular file can be read twice (hashed, then loaded): /dev/stdin, a pipe
        // or a process substitution would be read empty the second time.
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Gone),
            Ok(m) if !m.is_file() => bail!(
                "not a regular file (a pipe, a device, stdin): --ledger reads a file twice, to know it and to load it"
            ),
            _ => {}
        }
        let (sha, bytes) = match digest(self.cfg, path) {
            Err(e)
                if e.chain().any(|c| {
                    c.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
                }) =>
            {
                return Ok(Outcome::Gone)
            }
            r => r?,
        };
        *known = Some(sha.clone());
        let target = self.target.quoted();
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
        let target = self.target.quoted();
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
                self.mark_error(conn, sha, &me, &msg);
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
            // Two files of one name (a daily file, two folders) keep their own rejects.
            cfg.rejects = Some(dir.join(format!("{base}.{}.rejects.csv", &sha[..12])));
        }
        let inputs = open_all(&[path.to_owned()], cfg.encoding)?;
        let l = self.ledger.table.quoted();
        let target = self.target.quoted();
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
        // Committed: from here on, nothing may say the file failed (its row is done; a
        // later run must skip it).
        if let Err(e) = summary.keep_rejects() {
            eprintln!(
                "qimport: warning: {}: loaded, but its bad records could not be kept: {}",
                path.display(),
                one_line(&e)
            );
        }
        Ok(summary.rows)
    }

    /// The file failed: its row says so (on a new session if the load's was lost), if it
    /// is still this worker's and not done: a COMMIT whose answer was lost may have
    /// committed, and another worker may have taken the file over and loaded it since.
    fn mark_error(&self, conn: &mut Conn, sha: &str, me: &str, msg: &str) {
        if conn.ping().is_err() {
            match self.cfg.connect() {
                Ok(c) => *conn = c,
                Err(_) => return,
            }
        }
        let l = self.ledger.table.quoted();
        // A TEXT holds 64 KiB: a message that long (a header of 100,000 characters) is cut.
        let mut end = msg.len().min(16 * 1024);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        let _ = conn.exec_drop(
            format!(
                "UPDATE {l} SET status = 'error', error_message = ?, finished_at = NOW(6) \
                 WHERE sha256 = ? AND target = ? AND status = 'in_progress' AND worker = ?"
            ),
            (&msg[..end], sha, self.target.quoted(), me),
        );
    }

    /// Move a finished file into `dir`, if one was given: a failed move is a warning (the
    /// ledger, not the folder, says what is loaded).
    fn move_to(path: &Path, dir: Option<&Path>, sha: Option<&str>) {
        let Some(dir) = dir else { return };
        let Some(base) = path.file_name() else { return };
        let mut to = dir.join(base);
        // Never over another file (yesterday's of the same name): this one's hash is added.
        if to.exists() {
            let mut named = base.to_os_string();
            named.push(format!(".{}", sha.map_or("again", |s| &s[..12])));
            to = dir.join(named);
        }
        if to.exists() {
            eprintln!(
                "qimport: warning: {}: not moved: {} is there already (the ledger holds its outcome)",
                path.display(),
                to.display()
            );
            return;
        }
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
    conn.query_drop(SESSION).map_err(db_error)?;
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
                run.file(conn, f, true);
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

/// A worker's session: idle (between files, or frozen, or cut off from the network) for
/// two minutes, the server ends it and frees its lock, so another run takes its file over.
const SESSION: &str = "SET SESSION wait_timeout = 120";

/// How often `--watch` looks at its folder.
const POLL: Duration = Duration::from_millis(500);

/// A file a watcher leaves alone: hidden, or still being written under a temporary name.
pub(super) fn ignored(name: &str) -> bool {
    let ext = Path::new(name)
        .extension()
        .map(std::ffi::OsStr::to_ascii_lowercase);
    name.starts_with('.') || ext.is_some_and(|e| e == "tmp" || e == "part")
}

/// How long a watcher waits before it tries a failed file again (unchanged: a file
/// that changed is tried at once).
const RETRY_FAILED: Duration = Duration::from_secs(60);

/// What a watcher knows of a file: its identity on disk (device, inode, size, mtime), and
/// how it went.
#[derive(PartialEq, Eq)]
struct Seen {
    id: (u64, u64, u64, SystemTime),
    went: Went,
    at: Instant,
}

/// `--watch DIR`: load each file that appears (links followed); a file seen done is not
/// tried again until it changes, a failed one after a while (or once it changes); runs
/// until a signal ends it (with status 0).
fn watch(run: &mut Run<'_>, conn: &mut Conn, dir: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    crate::interrupt::exit_zero_on_signal();
    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    loop {
        let mut files: Vec<(PathBuf, (u64, u64, u64, SystemTime))> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| !ignored(&e.file_name().to_string_lossy()))
                    .filter_map(|e| {
                        let path = e.path();
                        let m = std::fs::metadata(&path)
                            .ok()
                            .filter(std::fs::Metadata::is_file)?;
                        Some((path, (m.dev(), m.ino(), m.len(), m.modified().ok()?)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for (path, id) in files {
            let before = seen.get(&path).filter(|s| s.id == id);
            match before.map(|s| s.went) {
                Some(Went::Done) => continue,
                Some(Went::Failed) if before.is_some_and(|s| s.at.elapsed() < RETRY_FAILED) => {
                    continue
                }
                _ => {}
            }
            // A file busy in another run is said once, not at every look.
            let say_busy = !matches!(before.map(|s| s.went), Some(Went::Busy));
            let went = run.file(conn, &path, say_busy);
            seen.insert(
                path,
                Seen {
                    id,
                    went,
                    at: Instant::now(),
                },
            );
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
    let t = target.quoted();
    let mut failed = 0u64;
    if cfg.files.is_empty() {
        bail!("--retry: give the FILEs (or their SHA-256 sums) to load again");
    }
    for f in &cfg.files {
        let arg = f.display().to_string();
        let sha = if arg.len() == 64 && arg.bytes().all(|b| b.is_ascii_hexdigit()) && !f.exists() {
            arg.to_ascii_lowercase()
        } else {
            match digest(cfg, f) {
                Ok((sha, _)) => sha,
                Err(e) => {
                    failed += 1;
                    eprintln!("qimport: {arg}: {}: not set back", one_line(&e));
                    continue;
                }
            }
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
