//! Progress on stderr for long jobs: rows, bytes, rate and, where the size is known, an
//! ETA. On a terminal it is an indicatif bar, cleared at the end; with `--progress` and
//! stderr not a terminal (a cron log, the journal) it is a plain line every few seconds,
//! without escape codes; with `-q`, or in a pipe without `--progress`, nothing.
//!
//! The loops that move rows only add to two atomic counters; a ticker thread of the
//! current task reads them and draws, so the hot path never takes a lock.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    Off,
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// A plain line every [`LINE_EVERY`] (`--progress`, stderr is not a terminal).
    Lines,
}

/// How often `--progress` writes a line to a log.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

impl Show {
    /// `-q` says nothing; a terminal gets a bar (unless the data goes to the same
    /// terminal: `data_on_terminal`, where a bar would mix with it); `--progress`
    /// (forced) gets lines.
    pub fn choose(quiet: bool, forced: bool, data_on_terminal: bool) -> Show {
        let terminal = std::io::stderr().is_terminal();
        if quiet || (terminal && data_on_terminal) {
            Show::Off
        } else if terminal {
            Show::Bar
        } else if forced {
            Show::Lines
        } else {
            Show::Off
        }
    }
}

/// The progress shown now, so that anything about to speak or end the process (an error,
/// an interrupt, a closed pipe) can clear it first: see [`clear`].
static SHOWN: Mutex<Option<Arc<Shared>>> = Mutex::new(None);

/// Once cleared for good, nothing more is drawn.
static CLEARED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// End the task shown now and clear its bar, for good: called before an error is said,
/// on an interrupt, and before a quiet exit on a closed pipe.
pub fn clear() {
    CLEARED.store(true, Ordering::SeqCst);
    let shown = lock(&SHOWN).clone();
    if let Some(s) = shown {
        end_task(&s);
    }
}

/// What the end of a task is measured in, when it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// The table's estimate of its rows.
    Rows(u64),
    /// The input files' sizes.
    Bytes(u64),
    Unknown,
}

/// Progress of one tool: tasks begin and end one after another (a table, then the next);
/// clones share the counters.
#[derive(Clone)]
pub struct Progress {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = self.shared.as_ref().map_or(Show::Off, |s| s.show);
        write!(f, "Progress({show:?})")
    }
}

struct Shared {
    tool: &'static str,
    show: Show,
    /// What the current task is about (a table), for its log lines.
    what: Mutex<String>,
    rows: AtomicU64,
    bytes: AtomicU64,
    phase: Mutex<Option<String>>,
    task: Mutex<Option<Task>>,
}

struct Task {
    stop: Arc<(Mutex<bool>, Condvar)>,
    ticker: JoinHandle<()>,
}

/// The current task; dropping it ends the task and clears its bar.
#[must_use = "the task ends when this is dropped"]
pub struct Running {
    progress: Progress,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.progress.end();
    }
}

impl Progress {
    pub fn new(tool: &'static str, show: Show) -> Progress {
        let shared = (show != Show::Off).then(|| {
            Arc::new(Shared {
                tool,
                show,
                what: Mutex::new(String::new()),
                rows: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                phase: Mutex::new(None),
                task: Mutex::new(None),
            })
        });
        if let Some(s) = &shared {
            *lock(&SHOWN) = Some(Arc::clone(s));
        }
        Progress { shared }
    }

    /// A progress that shows nothing.
    pub fn hidden() -> Progress {
        Progress { shared: None }
    }

    /// Begin a task on `what` (a table, a query), ending the one before.
    pub fn begin(&self, what: &str, total: Total) -> Running {
        let running = Running {
            progress: self.clone(),
        };
        let Some(s) = &self.shared else {
            return running;
        };
        self.end();
        if CLEARED.load(Ordering::SeqCst) {
            return running;
        }
        what.clone_into(&mut lock(&s.what));
        s.rows.store(0, Ordering::Relaxed);
        s.bytes.store(0, Ordering::Relaxed);
        *lock(&s.phase) = None;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let ticker = {
            let (s, stop, what) = (Arc::clone(s), Arc::clone(&stop), what.to_owned());
            std::thread::spawn(move || tick(&s, &stop, &what, total))
        };
        *lock(&s.task) = Some(Task { stop, ticker });
        running
    }

    /// Rows and bytes done since the last call.
    pub fn add(&self, rows: u64, bytes: u64) {
        if let Some(s) = &self.shared {
            s.rows.fetch_add(rows, Ordering::Relaxed);
            s.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// A phase of the task after its rows (building indexes, publishing): said at once in
    /// a log (after the task's name), shown beside the bar on a terminal.
    pub fn phase(&self, phase: &str) {
        if let Some(s) = &self.shared {
            if CLEARED.load(Ordering::SeqCst) {
                return;
            }
            *lock(&s.phase) = Some(phase.to_owned());
            if s.show == Show::Lines {
                eprintln!("{}: {}: {phase}", s.tool, lock(&s.what));
            }
        }
    }

    fn end(&self) {
        if let Some(s) = &self.shared {
            end_task(s);
        }
    }
}

/// Stop the ticker of `s`'s task, if one runs, which clears its bar.
fn end_task(s: &Shared) {
    let task = lock(&s.task).take();
    if let Some(t) = task {
        *lock(&t.stop.0) = true;
        t.stop.1.notify_all();
        let _ = t.ticker.join();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The ticker of one task: draws until told to stop.
fn tick(s: &Shared, stop: &(Mutex<bool>, Condvar), what: &str, total: Total) {
    let start = Instant::now();
    let bar = (s.show == Show::Bar).then(|| new_bar(s.tool, what, total));
    let every = if bar.is_some() {
        Duration::from_millis(200)
    } else {
        LINE_EVERY
    };
    let mut stopped = lock(&stop.0);
    loop {
        if let Some(b) = &bar {
            let (rows, bytes) = (
                s.rows.load(Ordering::Relaxed),
                s.bytes.load(Ordering::Relaxed),
            );
            let total = beyond(total, rows);
            let phase = lock(&s.phase).clone();
            b.set_message(match phase {
                Some(p) => p,
                None => words(rows, bytes, total, start.elapsed(), Brief::Yes),
            });
            match total {
                Total::Bytes(_) => b.set_position(bytes),
                Total::Rows(_) => b.set_position(rows),
                // An estimate passed: the bar is full, the numbers go on.
                Total::Unknown => b.set_position(b.length().unwrap_or(0)),
            }
        }
        stopped = stop
            .1
            .wait_timeout_while(stopped, every, |done| !*done)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if *stopped {
            break;
        }
        if bar.is_none() && lock(&s.phase).is_none() {
            let (rows, bytes) = (
                s.rows.load(Ordering::Relaxed),
                s.bytes.load(Ordering::Relaxed),
            );
            eprintln!(
                "{}: {what}: {}",
                s.tool,
                words(rows, bytes, beyond(total, rows), start.elapsed(), Brief::No)
            );
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// A table's estimate of its rows can be stale (far below what it holds): once passed,
/// the task's end is unknown.
fn beyond(total: Total, rows: u64) -> Total {
    match total {
        Total::Rows(n) if rows > n => Total::Unknown,
        t => t,
    }
}

/// A bar, made whole (style, name, first numbers) before it is first drawn: no frame
/// with empty fields. Its numbers are cut to the terminal's width, so it never wraps.
fn new_bar(tool: &str, what: &str, total: Total) -> ProgressBar {
    let len = match total {
        Total::Rows(n) | Total::Bytes(n) if n > 0 => Some(n),
        _ => None,
    };
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
    let template = if len.is_some() {
        "{prefix} [{bar:20}] {wide_msg}"
    } else {
        "{prefix} {spinner} {wide_msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("{tool}: {what}"));
    bar.set_message(words(0, 0, total, Duration::ZERO, Brief::Yes));
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

/// Whether the words stand beside a bar, which shows how far the task is already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Brief {
    Yes,
    No,
}

/// `120,000 of ~991,845 rows (12%), 5.20 MiB, 40,000 rows/s, 3s, eta 22s`: the numbers
/// of a task, the same on the bar (without the totals) and in a log line.
// Display only: a rate or a share off in its 16th digit says the same.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn words(rows: u64, bytes: u64, total: Total, elapsed: Duration, brief: Brief) -> String {
    let total = beyond(total, rows);
    let secs = elapsed.as_secs_f64();
    let done = match total {
        Total::Rows(n) if n > 0 => Some(rows as f64 / n as f64),
        Total::Bytes(n) if n > 0 => Some(bytes as f64 / n as f64),
        _ => None,
    };
    let share = format!("({:.0}%)", 100.0 * done.unwrap_or(0.0).min(1.0));
    let full = brief == Brief::No;
    let (mut rows_part, mut bytes_part) = (
        format!("{} rows", HumanCount(rows)),
        HumanBytes(bytes).to_string(),
    );
    match total {
        Total::Rows(n) if n > 0 && full => {
            rows_part = format!("{} of ~{} rows {share}", HumanCount(rows), HumanCount(n));
        }
        Total::Bytes(n) if n > 0 && full => {
            bytes_part = format!("{bytes_part} of {} {share}", HumanBytes(n));
        }
        _ => {}
    }
    let rate = if secs >= 0.5 {
        match total {
            Total::Bytes(_) => format!("{}/s", HumanBytes((bytes as f64 / secs) as u64)),
            _ => format!("{} rows/s", HumanCount((rows as f64 / secs) as u64)),
        }
    } else {
        "starting".to_owned()
    };
    let mut s = format!("{rows_part}, {bytes_part}, {rate}, {}", clock(elapsed));
    if let Some(f) = done.filter(|f| *f > 0.0 && *f < 1.0 && secs >= 1.0) {
        let left = secs * (1.0 - f) / f;
        s = format!("{s}, eta {}", clock(Duration::from_secs_f64(left)));
    }
    s
}

/// `4s`, `3m05s`, `1h02m`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numbers_have_no_empty_field_and_say_rate_and_eta() {
        let w = words(0, 0, Total::Rows(991_845), Duration::ZERO, Brief::No);
        assert_eq!(w, "0 of ~991,845 rows (0%), 0 B, starting, 0s");
        let w = words(
            120_000,
            5 << 20,
            Total::Rows(480_000),
            Duration::from_secs(3),
            Brief::No,
        );
        assert_eq!(
            w,
            "120,000 of ~480,000 rows (25%), 5.00 MiB, 40,000 rows/s, 3s, eta 9s"
        );
        let w = words(
            10,
            1 << 20,
            Total::Bytes(4 << 20),
            Duration::from_secs(2),
            Brief::No,
        );
        assert_eq!(
            w,
            "10 rows, 1.00 MiB of 4.00 MiB (25%), 512.00 KiB/s, 2s, eta 6s"
        );
        let w = words(7, 70, Total::Unknown, Duration::from_secs(3700), Brief::No);
        assert_eq!(w, "7 rows, 70 B, 0 rows/s, 1h01m");
        let w = words(
            10,
            1 << 20,
            Total::Bytes(4 << 20),
            Duration::from_secs(2),
            Brief::Yes,
        );
        assert_eq!(w, "10 rows, 1.00 MiB, 512.00 KiB/s, 2s, eta 6s");
    }

    #[test]
    fn an_estimate_passed_is_no_more_than_everything() {
        let w = words(
            1200,
            10,
            Total::Rows(1000),
            Duration::from_secs(2),
            Brief::No,
        );
        assert!(
            w.starts_with("1,200 rows, 10 B"),
            "a stale estimate is dropped: {w}"
        );
        assert!(!w.contains("eta"), "{w}");
    }

    #[test]
    fn hidden_progress_does_nothing() {
        let p = Progress::new("qimport", Show::Off);
        let _t = p.begin("t", Total::Unknown);
        p.add(1, 1);
        p.phase("x");
    }
}
