//! `qimport --dir DIR`: restore a backup written by `qexport --all -o DIR`.
//!
//! Before anything changes, every file's SHA-256 is checked against the manifest and no
//! table of the backup may exist yet. Then the schema is created, every table is loaded in
//! the manifest's order (referenced tables first) in one transaction with foreign-key
//! checks off, and each table's row count must equal the manifest's. On any failure the
//! transaction is rolled back and the tables created are dropped: the database is as
//! before. (CREATE TABLE commits implicitly, hence the explicit drop.)

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::args::Config;
use super::backup_files::{backup_file, check_sha256, entries, Entry};
use super::choices::Definer;
use super::restore_data::load_tables;
use super::restore_undo::{self, take_back, Making, Mark, Wanted};
use super::script::Stmt;
use super::undo::Undo;
use qtools_csv::dialect::NullMarker;

use crate::conn::db_error;
use crate::error::plural;
use crate::grants::Privilege;
use crate::manifest::{DialectEntry, Manifest, ObjectEntry, ObjectKind, AFTER_DATA};
use crate::sql::{quote_ident, Lexing, TableName, Token};

pub fn run(cfg: &Config, conn: &mut Conn, dir: &Path, undo: &Undo) -> anyhow::Result<ExitCode> {
    let db = cfg.database.clone();
    let manifest = read_manifest(dir)?;
    let mut cfg = cfg.clone();
    apply_dialect(&mut cfg, &manifest.dialect)?;
    apply_lenience(&mut cfg);
    let entries = entries(&manifest)?;
    let objects = &manifest.objects;
    let schema_path = backup_file(dir, "schema.sql")?;
    let schema = std::fs::read_to_string(&schema_path)
        .with_context(|| format!("reading {}", schema_path.display()))?;
    // What a restore into this database that was killed left in this one's way (see
    // restore_undo.rs).
    let wanted = Wanted {
        tables: entries.iter().map(|e| e.name.as_str()).collect(),
        objects: objects
            .iter()
            .map(|o| (o.kind.word(), o.name.as_str()))
            .collect(),
    };
    restore_undo::sweep(conn, &db, &wanted, (cfg.drop_leftovers, cfg.quiet))?;
    check_before(conn, &db, dir, &entries, objects)?;
    check_privileges(conn, &db, objects)?;
    if let Some(want) = &manifest.schema_sha256 {
        check_sha256(&schema_path, want)?;
    }
    let (before, after) = read_schema(&schema, &schema_path, &manifest, &db, cfg.definer)?;
    let judged = super::script::judge(&borrowed(&before), &borrowed(&after), &manifest, &db)?;
    say_what_it_lacks(&cfg, dir, &manifest);
    let defaults = adopt_defaults(conn, &db, &manifest, cfg.quiet)?;
    // Undone last (the undo runs its statements newest first): the defaults put back.
    if let Some(before) = &defaults {
        undo.object(before.clone());
    }
    // Made once the defaults are adopted (they are adopted only by an empty database).
    // Dropped last of all it made (the undo and the take-back drop newest first).
    let mark = Mark::put(conn, &db, undo)?;
    let making = Making {
        undo,
        mark: &mark,
        db: &db,
    };
    let result = (|| {
        conn.query_drop("SET SESSION foreign_key_checks = 0")
            .map_err(db_error)?;
        // The tables and sequences first; routines and views once the data is in, so
        // that nothing the backup defines can run while its tables are made and loaded.
        make_tables(conn, &db, &borrowed(&before), &judged, &making)?;
        // The objects came with settings of their own (sql_mode, time zone, character
        // set): back to the import's, in which the data was written.
        own_settings(conn)?;
        let total = load_tables(&cfg, conn, dir, &entries)?;
        super::stubs::make(conn, &borrowed(&before), &judged, &making, &own_settings)?;
        // Triggers and events, once the data is in; a failure still undoes everything.
        // The part after the data was read from the session's own settings: from them
        // it runs (the routines' settings are not the triggers').
        own_settings(conn)?;
        let disabled = make_after(conn, &borrowed(&after), &judged[before.len()..], &making)?;
        undo.disarmed(|| anyhow::Ok((total, disabled)))
    })();
    let _ = conn.query_drop("SET SESSION foreign_key_checks = 1");
    match result {
        Ok((total, disabled)) => {
            mark.stand(conn).with_context(|| {
                format!(
                    "restoring {} failed at its last step (the next qimport --dir into {db} \
                     drops what this one made)",
                    dir.display()
                )
            })?;
            // The restore stands: the events it made disabled come as the backup holds
            // them (a scheduler may run one at once, which is what the backup asks).
            enable_events(conn, &borrowed(&after), &disabled).with_context(|| {
                format!(
                    "{db} is restored from {}, but its events {} stay disabled",
                    dir.display(),
                    disabled
                        .iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            definers_exist(conn, &[borrowed(&before), borrowed(&after)].concat());
            let gone = events_as_made(conn, &db, objects, &disabled)?;
            if !cfg.quiet {
                let made = restore_undo::tables_and_others(entries.len(), objects.len() - gone);
                let rows = plural(total, "row");
                eprintln!(
                    "qimport: {db}: {made}, {rows} restored from {}",
                    dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let left = take_back(&cfg, conn, undo);
            Err(e.context(format!(
                "restoring {} (nothing was restored{left})",
                dir.display()
            )))
        }
    }
}

/// The backup's `manifest.json`, read.
fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = backup_file(dir, "manifest.json")?;
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Manifest::parse(&bytes).with_context(|| path.display().to_string())
}

/// Say how the server made the backup's events, where it did not make them as they were
/// on the source: one due in the past that does not persist, it drops as it is made; one
/// due in the past that persists, it makes disabled. Returns how many are gone.
fn events_as_made(
    conn: &mut Conn,
    db: &str,
    objects: &[ObjectEntry],
    disabled: &[(usize, String)],
) -> anyhow::Result<usize> {
    let events: Vec<&str> = objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Event)
        .map(|o| o.name.as_str())
        .collect();
    if events.is_empty() {
        return Ok(0);
    }
    let here: Vec<(String, String)> = conn
        .exec(
            "SELECT EVENT_NAME, STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?",
            (db,),
        )
        .map_err(db_error)?;
    let mut gone = 0;
    for e in events {
        match here.iter().find(|(n, _)| n == e) {
            None => {
                gone += 1;
                eprintln!(
                    "qimport: warning: the event {e} was due in the past and does not persist (ON COMPLETION NOT PRESERVE): the server dropped it as it was made"
                );
            }
            Some((_, status)) if status == "DISABLED" && disabled.iter().any(|(_, n)| n == e) => {
                eprintln!(
                    "qimport: warning: the event {e} is DISABLED: its time has passed, and the server disables such an event as it is made (ALTER EVENT ... ENABLE with a new schedule)"
                );
            }
            Some(_) => {}
        }
    }
    Ok(gone)
}

/// Make the tables and sequences of the part before the data (its settings with them),
/// each table registered for the undo as it is made, and checked to hold no row.
fn make_tables(
    conn: &mut Conn,
    db: &str,
    before: &[(&str, Lexing)],
    judged: &[Stmt],
    making: &Making<'_>,
) -> anyhow::Result<()> {
    for ((stmt, lexing), judged) in before.iter().zip(judged) {
        if runs_after_the_data(judged) {
            continue;
        }
        making.make(conn, judged, |conn| {
            super::send::run_one(conn, stmt, *lexing).with_context(|| creating(judged, stmt))
        })?;
        if let Stmt::Table(table) = judged {
            let t = TableName {
                database: Some(db.to_owned()),
                table: table.clone(),
            };
            // A definition makes no rows (a CREATE ... SELECT would have). (A MERGE table
            // whose tables are not made yet cannot be read: it holds none either.)
            let rows: Result<Option<u8>, _> =
                conn.query_first(format!("SELECT 1 FROM {} LIMIT 1", t.quoted()));
            if matches!(rows, Ok(Some(_))) {
                bail!("schema.sql: the CREATE TABLE of {table} made rows: it is no table definition (the backup is damaged)");
            }
        }
    }
    Ok(())
}

/// Whether a statement of the part before the data runs once the data is in: a stored
/// routine or a view (no table's definition needs one; made after the load, nothing a
/// backup defines can run while its tables are made and loaded).
fn runs_after_the_data(judged: &Stmt) -> bool {
    matches!(
        judged,
        Stmt::Object(
            ObjectKind::Function | ObjectKind::Procedure | ObjectKind::View,
            _
        )
    )
}

/// Say what the backup does not hold: a partial one, what its user could not read; one
/// taken with `-j N` and no `--consistent`, one point in time.
fn say_what_it_lacks(cfg: &Config, dir: &Path, manifest: &Manifest) {
    if manifest.partial && !cfg.quiet {
        let what = if manifest.missing.is_empty() {
            String::new()
        } else {
            format!(": {}", manifest.missing.join(", "))
        };
        eprintln!(
            "qimport: note: {} is a partial backup (qexport --partial): it misses what its user could not read{what}",
            dir.display()
        );
    }
    for w in &manifest.warnings {
        if !cfg.quiet {
            eprintln!("qimport: note: {} says: {w}", dir.display());
        }
    }
    if !manifest.consistent && !cfg.quiet {
        eprintln!(
            "qimport: warning: {} is not one point in time (taken with -j N and no --consistent): its tables may disagree with each other",
            dir.display()
        );
    }
}

/// The import session's own settings (character set, time zone, sql_mode), whatever
/// schema.sql set.
pub(super) fn own_settings(conn: &mut Conn) -> anyhow::Result<()> {
    for init in crate::conn::SESSION_INIT
        .iter()
        .chain(&[super::args::SESSION_SQL_MODE])
    {
        conn.query_drop(init).map_err(db_error)?;
    }
    Ok(())
}

/// Create the triggers and events. An event the backup holds enabled is made disabled: a
/// scheduler would run one due now, and what it did would stay if a later statement, or
/// anything else of the restore, failed. Returns those events (by their index in `after`
/// and name), for [`enable_events`] once the restore stands.
fn make_after(
    conn: &mut Conn,
    after: &[(&str, Lexing)],
    judged: &[Stmt],
    making: &Making<'_>,
) -> anyhow::Result<Vec<(usize, String)>> {
    let mut disabled = Vec::new();
    for (i, (&(stmt, lexing), judged)) in after.iter().zip(judged).enumerate() {
        let off = match judged {
            Stmt::Object(ObjectKind::Event, name) => {
                super::send::event_disabled(stmt, lexing).map(|d| (d, name))
            }
            _ => None,
        };
        let sent = off.as_ref().map_or(stmt, |(d, _)| d.as_str());
        making.make(conn, judged, |conn| {
            super::send::run_one(conn, sent, lexing).with_context(|| creating(judged, stmt))
        })?;
        if let Some((_, name)) = off {
            disabled.push((i, name.clone()));
        }
    }
    Ok(disabled)
}

/// Make each event that [`make_after`] made disabled again as the backup holds it: under
/// the settings the after-data part made before it, from the session's own.
fn enable_events(
    conn: &mut Conn,
    after: &[(&str, Lexing)],
    disabled: &[(usize, String)],
) -> anyhow::Result<()> {
    let Some(&(last, _)) = disabled.last() else {
        return Ok(());
    };
    own_settings(conn)?;
    for (i, &(stmt, lexing)) in after.iter().enumerate().take(last + 1) {
        let event = disabled.iter().find(|(at, _)| *at == i);
        if let Some((_, name)) = event {
            // (An event due in the past that does not persist is gone already.)
            conn.query_drop(format!("DROP EVENT IF EXISTS {}", quote_ident(name)))
                .map_err(db_error)?;
        } else if !matches!(super::script::classify(stmt, lexing), Ok(Stmt::Setting)) {
            continue;
        }
        super::send::run_one(conn, stmt, lexing)
            .with_context(|| format!("schema.sql: {}", first_line(stmt)))?;
    }
    Ok(())
}

/// A database that holds nothing yet takes the backup's default character set and
/// collation (so that routines and views come back as they were); one that holds tables
/// or other objects keeps its own, and qimport says so. Returns the statement that puts
/// the old defaults back, for a failed restore.
fn adopt_defaults(
    conn: &mut Conn,
    db: &str,
    manifest: &Manifest,
    quiet: bool,
) -> anyhow::Result<Option<String>> {
    let (Some(cs), Some(coll)) = (manifest.charset.as_deref(), manifest.collation.as_deref())
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
fn check_privileges(conn: &mut Conn, db: &str, objects: &[ObjectEntry]) -> anyhow::Result<()> {
    let held = crate::grants::database_privileges(conn, db)?;
    let mut needed = vec![Privilege::Create, Privilege::Drop, Privilege::Insert];
    for o in objects {
        needed.push(match o.kind {
            ObjectKind::View => Privilege::CreateView,
            ObjectKind::Function | ObjectKind::Procedure => Privilege::CreateRoutine,
            ObjectKind::Trigger => Privilege::Trigger,
            ObjectKind::Event => Privilege::Event,
            ObjectKind::Sequence => Privilege::Create,
        });
    }
    needed.sort_unstable_by(|a, b| a.name().cmp(b.name()));
    needed.dedup();
    let missing: Vec<&str> = needed
        .iter()
        .filter(|p| !held.contains(*p))
        .map(Privilege::name)
        .collect();
    if !missing.is_empty() {
        bail!(
            "restoring into {db} needs {} on {}.* (granted to the user or a role), which this user lacks; nothing was changed",
            missing.join(", "),
            quote_ident(db)
        );
    }
    Ok(())
}

/// The statements of `schema.sql`, before the data and after it: without qualifiers that
/// name the backed-up database (nothing a restore runs may name another database than the
/// target, whatever wrote the file), and with `--definer` applied.
/// Statements of schema.sql, each with the lexing it is read under.
type Statements = Vec<(String, Lexing)>;

fn read_schema(
    schema: &str,
    path: &Path,
    manifest: &Manifest,
    target: &str,
    definer: Definer,
) -> anyhow::Result<(Statements, Statements)> {
    let (before, after) = match schema.find(&format!("\n{AFTER_DATA}")) {
        Some(at) => schema.split_at(at),
        None => (schema, ""),
    };
    // Each part starts under the import's own sql_mode (the restore sets it back before
    // the data), and each statement is read under the modes the script set before it.
    let prepare = |part: &str| -> anyhow::Result<Statements> {
        crate::sql::script(part, Lexing::PLAIN)?
            .into_iter()
            .map(|(stmt, lexing)| {
                let stmt = rewrite_names(stmt, lexing, &manifest.database, target)?;
                let stmt = match definer {
                    Definer::Keep => stmt,
                    Definer::CurrentUser => super::script::definer_current_user(&stmt, lexing),
                };
                Ok((stmt, lexing))
            })
            .collect()
    };
    let what = |e: anyhow::Error| e.context(format!("{}", path.display()));
    Ok((
        prepare(before).map_err(what)?,
        prepare(after).map_err(what)?,
    ))
}

/// A statement of a backup of `source` restored into `target`: as it is under the same
/// name; under another, a routine, trigger or event (whose body is as its author wrote
/// it) with every qualifier that can only name `source` made `target`'s (not taken off:
/// `src.lower(x)` unqualified would call the built-in LOWER), and refused by name where
/// one could name a table or alias instead; a view, with its calls of `source`'s
/// functions made `target`'s (the server writes them qualified, and its tables without
/// the database). A string that names `source` (the SQL of a PREPARE) is said on stderr:
/// it still names it after the restore.
fn rewrite_names(stmt: &str, lexing: Lexing, source: &str, target: &str) -> anyhow::Result<String> {
    let Ok(Stmt::Object(kind, name)) = super::script::classify(stmt, lexing) else {
        return Ok(stmt.to_owned());
    };
    if source == target {
        return Ok(stmt.to_owned());
    }
    let what = format!("the {} {name}", kind.word().to_lowercase());
    let which = match kind {
        ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger | ObjectKind::Event => {
            crate::sql::Qualifiers::Everywhere
        }
        // A view calls its database's function by name (one named like a built-in).
        ObjectKind::View => crate::sql::Qualifiers::Calls,
        ObjectKind::Sequence => return Ok(stmt.to_owned()),
    };
    let names = crate::sql::tokens(stmt, lexing, usize::MAX)?;
    if names
        .iter()
        .any(|t| matches!(t, Token::Str(s) if s.contains(&format!("{source}."))))
    {
        eprintln!(
            "qimport: warning: {what} names {source} in a string (SQL it prepares?): it still does in {target}"
        );
    }
    crate::sql::unqualify(stmt, source, lexing, which, Some(target)).map_err(|e| {
        anyhow::anyhow!(
            "{what}: {e}; restore it into a database named {source}, or edit its definition"
        )
    })
}

/// Statements as [`super::script::judge`] reads them.
fn borrowed(part: &[(String, Lexing)]) -> Vec<(&str, Lexing)> {
    part.iter().map(|(s, l)| (s.as_str(), *l)).collect()
}

/// What a statement of schema.sql was doing, for its error: the object it creates by kind
/// and name (a view's CREATE can be long), else its first line.
pub(super) fn creating(judged: &Stmt, stmt: &str) -> String {
    match judged {
        Stmt::Table(t) => format!("schema.sql: creating the table {t}"),
        Stmt::Object(k, o) => format!("schema.sql: creating the {} {o}", k.word().to_lowercase()),
        _ => format!("schema.sql: {}", first_line(stmt)),
    }
}

/// Say, by name, which restored objects have a DEFINER this server has no account for:
/// using them fails with ERROR 1449 (the restore itself does not).
fn definers_exist(conn: &mut Conn, statements: &[(&str, Lexing)]) {
    let mut missing = Vec::new();
    for &(stmt, lexing) in statements {
        let Ok(super::script::Stmt::Object(kind, name)) = super::script::classify(stmt, lexing)
        else {
            continue;
        };
        let Some(Some((user, host))) = super::script::definer(stmt, lexing).map(|d| d.account)
        else {
            continue;
        };
        // A role is a row of mysql.user with an empty host and is_role 'Y'.
        let known: Result<Option<u64>, _> = match &host {
            Some(host) => conn.exec_first(
                "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?",
                (&user, host),
            ),
            None => conn.exec_first(
                "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = '' AND is_role = 'Y'",
                (&user,),
            ),
        };
        let who = match &host {
            Some(host) => format!("'{user}'@'{host}'"),
            None => format!("the role '{user}'"),
        };
        match known {
            Ok(Some(0)) => {
                missing.push(format!("the {} {name} ({who})", kind.word().to_lowercase()));
            }
            Ok(_) => {}
            Err(_) => {
                eprintln!("qimport: note: could not check that the objects' DEFINER accounts exist here (no SELECT on mysql.user)");
                return;
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "qimport: warning: no account here for the DEFINER of {}: using them fails with ERROR 1449 until it exists (or restore with --definer current-user)",
            missing.join(", ")
        );
    }
}

/// The first line of a statement, for messages.
pub(super) fn first_line(stmt: &str) -> &str {
    let line = stmt
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        .unwrap_or(stmt);
    line.char_indices()
        .nth(80)
        .map_or(line, |(i, _)| &line[..i])
}

/// Nothing changes before the backup is known to be whole and its tables and other
/// objects are new.
fn check_before(
    conn: &mut Conn,
    db: &str,
    dir: &Path,
    entries: &[Entry],
    objects: &[ObjectEntry],
) -> anyhow::Result<()> {
    for e in entries {
        if let Some(file) = &e.file {
            check_sha256(&backup_file(dir, file)?, &e.sha256)?;
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
    for o in objects {
        let (kind, name) = (o.kind, &o.name);
        let found: Option<i64> = match kind {
            ObjectKind::View | ObjectKind::Sequence => conn.exec_first(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, name),
            ),
            ObjectKind::Trigger => conn.exec_first(
                "SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?",
                (db, name),
            ),
            ObjectKind::Event => conn.exec_first(
                "SELECT 1 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?",
                (db, name),
            ),
            ObjectKind::Function | ObjectKind::Procedure => conn.exec_first(
                "SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?",
                (db, name, kind.word()),
            ),
        }
        .map_err(db_error)?;
        if found.is_some() {
            bail!(
                "{} {db}.{name} exists: restore into a database without the backup's objects",
                kind.word().to_lowercase()
            );
        }
    }
    Ok(())
}

fn apply_dialect(cfg: &mut Config, d: &DialectEntry) -> anyhow::Result<()> {
    cfg.dialect.delimiter = *d
        .delimiter
        .as_bytes()
        .first()
        .context("manifest: empty delimiter")?;
    cfg.dialect.header = d.header;
    cfg.dialect.null = match d.null.as_str() {
        "" => NullMarker::Empty,
        t => NullMarker::Text(t.as_bytes().to_vec()),
    };
    cfg.dialect.binary = d.binary;
    cfg.columns = None;
    cfg.rejects = None;
    Ok(())
}

/// What the source's server holds, the restore takes: dates such as 2019-02-30 (stored
/// under an `ALLOW_INVALID_DATES` the global mode or any session had), and ENUM error
/// values `''` (stored under a non-strict mode).
fn apply_lenience(cfg: &mut Config) {
    cfg.lenient = super::validate::Lenience {
        invalid_dates: true,
        enum_error_value: true,
    };
}
