//! Progress on stderr: an indicatif bar with rows, bytes and rate, shown only when stderr
//! is a terminal and the user did not ask for quiet. In pipes and cron logs it is absent.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Rows and bytes done, against an estimated total of rows when one is known. Cloning
/// shares the same bar.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    /// indicatif counts one quantity (rows); the bytes ride along here.
    bytes: Arc<AtomicU64>,
}

impl Progress {
    /// A bar for `what` (a table name), or nothing when stderr is not a terminal.
    pub fn new(what: &str, estimated_rows: Option<u64>, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let len = estimated_rows.filter(|n| *n > 0);
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        let template = if len.is_some() {
            "{prefix} [{bar:30}] {human_pos}/~{human_len} rows, {msg}, {elapsed} (eta {eta})"
        } else {
            "{prefix} {spinner} {human_pos} rows, {msg}, {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Some(bar),
            bytes: Arc::default(),
        }
    }

    /// A progress that shows nothing.
    pub fn hidden() -> Progress {
        Progress::default()
    }

    pub fn add(&self, rows: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
            b.inc(rows);
            b.set_message(HumanBytes(total).to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
