//! What Ctrl-C or SIGTERM undoes on the server (see [`crate::interrupt`]).
//!
//! One undo per run. Rows sent in a transaction need nothing from us: the server rolls them
//! back when the connection ends, and the undo only says so. Tables need dropping: the
//! staging table of `--jobs`, the new copy of `--swap`, the table `--create` or `--schema`
//! made, the tables a restore made. The undo then ends the import's sessions with `KILL
//! CONNECTION` (their transactions roll back, their locks go) and drops those tables from
//! a connection of its own, newest first, before the process ends by the signal.
//!
//! The statements that cannot be undone, the final `COMMIT` or `RENAME`, run
//! [`Undo::disarmed`]: a signal then ends the process at once, and the server finishes or
//! drops that statement whole.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::{db_error, ConnConfig};
use crate::interrupt::{self, Guard};
use crate::sql::TableName;

#[derive(Default)]
struct State {
    /// False once the run is past the point of no return (or done).
    armed: bool,
    sessions: Vec<u32>,
    tables: Vec<TableName>,
    /// What undoes the rest of a restore: the `DROP ... IF EXISTS` of the views, routines
    /// and events it made, the database's defaults put back; run newest first.
    objects: Vec<String>,
}

/// The sessions and tables of one import, undone on a signal while the guard lives.
#[derive(Clone)]
pub(super) struct Undo(Arc<Mutex<State>>);

impl Undo {
    /// Register the undo of an import whose work runs on `conn`.
    pub fn new(conn_cfg: &ConnConfig, quiet: bool, conn: &Conn) -> (Undo, Guard) {
        let undo = Undo(Arc::default());
        undo.state().armed = true;
        undo.session(conn);
        let (run, cfg) = (undo.clone(), conn_cfg.clone());
        // The lock is held for the whole undo: a `disarmed` step waits for it to end
        // (and the process ends before that step runs).
        let guard = interrupt::on_interrupt(move || run.run(&cfg, quiet));
        (undo, guard)
    }

    /// Another session of the import.
    pub fn session(&self, conn: &Conn) {
        self.state().sessions.push(conn.connection_id());
    }

    /// A table the import made, to drop if it is interrupted.
    pub fn table(&self, t: &TableName) {
        self.state().tables.push(t.clone());
    }

    /// Make the table `t` with `make` and register its drop in one step: the undo of a
    /// signal that comes meanwhile waits for both, so it never finds the table made but
    /// not registered (and never drops a table that was there before).
    pub fn made_table<T>(
        &self,
        t: &TableName,
        make: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut st = self.state();
        let made = make()?;
        st.tables.push(t.clone());
        Ok(made)
    }

    /// A statement that undoes what a restore did (the database's defaults put back).
    pub fn object(&self, undo_sql: String) {
        self.state().objects.push(undo_sql);
    }

    /// Make an object (a view, routine, trigger, event or sequence of a restore) with
    /// `make` and register `drop_sql`, its drop, in one step, as [`Undo::made_table`].
    pub fn made_object<T>(
        &self,
        drop_sql: String,
        make: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut st = self.state();
        let made = make()?;
        st.objects.push(drop_sql);
        Ok(made)
    }

    /// Take back what is registered, for a failed run to undo itself (the statements and
    /// the tables, oldest first), and disarm.
    pub fn take(&self) -> (Vec<String>, Vec<TableName>) {
        let st = std::mem::take(&mut *self.state());
        (st.objects, st.tables)
    }

    /// Run `step` (a `COMMIT` or `RENAME` that publishes the import) with the undo taken
    /// back for good: from here on a signal ends the process at once.
    pub fn disarmed<T>(&self, step: impl FnOnce() -> T) -> T {
        *self.state() = State::default();
        step()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, cfg: &ConnConfig, quiet: bool) {
        let st = self.state();
        if !st.armed {
            return;
        }
        if st.tables.is_empty() && st.objects.is_empty() {
            if !quiet {
                eprintln!("qimport: interrupted: rolling back");
            }
            // Its sessions end now, not when a lock they wait for comes.
            drop_anew(cfg, &st.sessions, &[], &[]);
            return;
        }
        if !quiet {
            let what = if st.tables.is_empty() {
                "the objects it made".to_owned()
            } else {
                listed(&st.tables)
            };
            eprintln!(
                "qimport: interrupted: rolling back and dropping {what} \
                 (interrupt again to leave that to the next import)"
            );
        }
        drop_anew(cfg, &st.sessions, &st.objects, &st.tables);
    }
}

/// After a failed import, drop the tables it made (newest last in `tables`): on `conn`,
/// or, when that fails (the error may be a lost connection), on a new connection. If both
/// fail, say so: a work table is dropped by the next import of its table anyway, a table
/// a restore made is not. `work`: the tables are work tables, and a server that cannot
/// be reached at all (it died: the failure said so already) needs no second line.
pub(super) fn drop_tables(cfg: &ConnConfig, conn: &mut Conn, tables: &[TableName], work: bool) {
    let _ = conn.query_drop("ROLLBACK");
    if drop_on(conn, &[], tables).is_err() {
        if work && cfg.connect(&[]).is_err() {
            return;
        }
        drop_anew(cfg, &[], &[], tables);
    }
}

/// Drop `objects` and `tables` from a new connection, after ending `sessions`; say so if
/// that fails.
pub(super) fn drop_anew(
    cfg: &ConnConfig,
    sessions: &[u32],
    objects: &[String],
    tables: &[TableName],
) {
    // Not for ever behind another session's lock (a backup's, say): said, and left to
    // the next import.
    let dropped = cfg
        .connect(&["SET SESSION lock_wait_timeout = 10"])
        .and_then(|mut c| {
            for id in sessions {
                // A session that ended already is no error.
                let _ = c.query_drop(format!("KILL CONNECTION {id}"));
            }
            drop_on(&mut c, objects, tables).map_err(db_error)
        });
    if let Err(e) = dropped {
        let what = if tables.is_empty() {
            "all it made".to_owned()
        } else {
            listed(tables)
        };
        eprintln!("qimport: could not drop {what}: {e:#}");
    }
}

/// `` `db`.`a`, `db`.`b` ``
fn listed(tables: &[TableName]) -> String {
    let names: Vec<String> = tables.iter().map(TableName::quoted).collect();
    names.join(", ")
}

/// Drop `objects` (by their DROP statements), then `tables`, newest first, with
/// foreign-key checks off for the while.
/// Every drop is tried, whatever one before it said; the first error is returned.
pub(super) fn drop_on(c: &mut Conn, objects: &[String], tables: &[TableName]) -> mysql::Result<()> {
    let mut first = Ok(());
    let mut run = |c: &mut Conn, sql: &str| {
        if let Err(e) = c.query_drop(sql) {
            if first.is_ok() {
                first = Err(e);
            }
        }
    };
    for sql in objects.iter().rev() {
        run(c, sql);
    }
    run(c, "SET SESSION foreign_key_checks = 0");
    for t in tables.iter().rev() {
        run(c, &format!("DROP TABLE IF EXISTS {}", t.quoted()));
    }
    run(c, "SET SESSION foreign_key_checks = 1");
    first
}
