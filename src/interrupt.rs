//! Ctrl-C, SIGTERM (`timeout`, `kill`, systemd) and SIGHUP: undo what a run has half
//! done, then end by the signal, as if there had been no handler (the shell sees 130 for
//! Ctrl-C, 143 for SIGTERM).
//!
//! Work that leaves something behind when the process dies (a temporary file, a staging
//! table) registers its undo with [`on_interrupt`] and keeps the [`Guard`] for as long as
//! the undo applies. On the first signal, a thread of ours runs the registered undos, the
//! latest first, while the work itself stops where it stands ([`crate::error::main_with`]
//! prints no error for a run that was interrupted, and [`made`] starts nothing new once
//! the undos are taken); a second signal ends the process at once. Nothing is installed
//! until the first registration, a signal that finds no undo registered ends the process
//! as the default action would, and a signal ignored when the process started (`nohup`,
//! background commands of a script) stays ignored.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

type Undo = Box<dyn FnOnce() + Send>;

static UNDOS: Mutex<Vec<(u64, Undo)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// A signal ends the run with status 0 once its undos are done (`--watch`, whose normal
/// end is a signal), not by the signal.
static EXIT_ZERO: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Keeps an undo registered; dropping it (the work is done, or failed and cleaned up after
/// itself) takes the undo back.
#[must_use = "the undo is taken back when the guard is dropped"]
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        undos().retain(|(id, _)| *id != self.0);
    }
}

/// Run `undo` if the process is interrupted while the guard lives.
pub fn on_interrupt(undo: impl FnOnce() + Send + 'static) -> Guard {
    let Ok(((), guard)) = made(|| Ok::<_, std::convert::Infallible>(()), |()| undo);
    guard
}

/// Make something an interrupt must undo (a temporary file, say) and register `undo_of`
/// it, with no moment between the two at which a signal would find it made but its undo
/// not registered.
pub fn made<T, E, U: FnOnce() + Send + 'static>(
    make: impl FnOnce() -> Result<T, E>,
    undo_of: impl FnOnce(&T) -> U,
) -> Result<(T, Guard), E> {
    INSTALL.call_once(install);
    // The signal thread takes the undos under this lock: it waits for this to finish.
    let mut undos = undos();
    if interrupted() {
        // The undos have been taken: nothing new may start (it would outlive them).
        drop(undos);
        wait_for_the_end();
    }
    let made = make()?;
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    undos.push((id, Box::new(undo_of(&made))));
    Ok((made, Guard(id)))
}

/// From now on, a signal ends the process with status 0 after its undos: for a run whose
/// normal end is a signal (a service stopped by systemd).
pub fn exit_zero_on_signal() {
    INSTALL.call_once(install);
    EXIT_ZERO.store(true, Ordering::SeqCst);
}

/// Has a signal come, and are its undos running (or done)? The run then ends by the
/// signal, not by its own result: see [`wait_for_the_end`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Wait for the interrupted run's undos to finish and the process to end by the signal.
pub fn wait_for_the_end() -> ! {
    loop {
        std::thread::park();
    }
}

fn undos() -> std::sync::MutexGuard<'static, Vec<(u64, Undo)>> {
    UNDOS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Is `sig` ignored by this process? A signal ignored at the start stays ignored, as POSIX
/// asks of programs that catch signals: `nohup` ignores SIGHUP, and a shell without job
/// control starts background commands with SIGINT ignored. Read from
/// `/proc/self/status` (a bit mask, bit N-1 for signal N); elsewhere, no.
fn ignored(sig: i32) -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| ignored_in(&s, sig))
}

fn ignored_in(status: &str, sig: i32) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask >> (sig - 1) & 1 == 1)
}

fn install() {
    let signals: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&s| !ignored(s))
        .collect();
    if signals.is_empty() {
        return;
    }
    let again = Arc::new(AtomicBool::new(false));
    // Registered before the iterator's own handler: on the first signal `again` is still
    // false, and the thread below sets it, so that a second signal ends the process. If
    // anything here fails, `again` is set and every signal ends the process as before.
    for &s in &signals {
        if signal_hook::flag::register_conditional_default(s, Arc::clone(&again)).is_err() {
            again.store(true, Ordering::SeqCst);
            return;
        }
    }
    let on_first = Arc::clone(&again);
    let spawned = signal_hook::iterator::Signals::new(&signals).and_then(|mut iter| {
        std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                if let Some(sig) = iter.forever().next() {
                    on_first.store(true, Ordering::SeqCst);
                    INTERRUPTED.store(true, Ordering::SeqCst);
                    // Its bar first, so that what the undos say stands on a line of its own.
                    crate::progress::clear();
                    let taken = std::mem::take(&mut *undos());
                    for (_, undo) in taken.into_iter().rev() {
                        undo();
                    }
                    if EXIT_ZERO.load(Ordering::SeqCst) {
                        std::process::exit(0);
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                    std::process::exit(128 + sig);
                }
            })
    });
    if spawned.is_err() {
        again.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Is the undo of this guard registered? (Other tests register undos of their own
    /// at the same time: only ids are compared.)
    fn registered(g: &Guard) -> bool {
        undos().iter().any(|(id, _)| *id == g.0)
    }

    #[test]
    fn a_guard_takes_its_undo_back_and_a_failed_make_registers_none() {
        let g = on_interrupt(|| {});
        let (n, h) = made(|| Ok::<_, ()>(7), |_| || {}).unwrap();
        assert_eq!(n, 7);
        assert!(registered(&g) && registered(&h));
        let id = h.0;
        drop(h);
        assert!(registered(&g) && !undos().iter().any(|(i, _)| *i == id));
        drop(g);
        let mut asked = false;
        let failed = made(
            || Err::<(), _>("no"),
            |()| {
                asked = true;
                || {}
            },
        );
        assert!(failed.is_err() && !asked);
        assert!(!interrupted());
    }

    #[test]
    fn ignored_signals_from_the_status_mask() {
        // A background command of a shell without job control: SIGINT and SIGQUIT.
        let status = "Name:\tqimport\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000006\n";
        assert!(ignored_in(status, SIGINT));
        assert!(!ignored_in(status, SIGTERM) && !ignored_in(status, SIGHUP));
        // nohup: SIGHUP.
        assert!(ignored_in("SigIgn:\t0000000000000001\n", SIGHUP));
        assert!(!ignored_in("no such line\n", SIGINT));
    }
}
