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

use crate::conn::ConnConfig;
use crate::interrupt::{self, Guard};
use crate::sql::TableName;

#[derive(Default)]
struct State {
    /// False once the run is past the point of no return (or done).
    armed: bool,
    sessions: Vec<u32>,
    tables: Vec<TableName>,
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
        if st.tables.is_empty() {
            if !quiet {
                eprintln!("qimport: interrupted: rolling back");
            }
            return;
        }
        let names: Vec<String> = st.tables.iter().map(TableName::quoted).collect();
        let names = names.join(", ");
        if !quiet {
            eprintln!(
                "qimport: interrupted: rolling back and dropping {names} \
                 (interrupt again to leave that to the next import)"
            );
        }
        let dropped = cfg.connect(&[]).and_then(|mut c| {
            for id in &st.sessions {
                // A session that ended already is no error.
                let _ = c.query_drop(format!("KILL CONNECTION {id}"));
            }
            c.query_drop("SET SESSION foreign_key_checks = 0")?;
            for t in st.tables.iter().rev() {
                c.query_drop(format!("DROP TABLE IF EXISTS {}", t.quoted()))?;
            }
            Ok(())
        });
        if let Err(e) = dropped {
            eprintln!("qimport: could not drop {names}: {e:#}");
        }
    }
}
