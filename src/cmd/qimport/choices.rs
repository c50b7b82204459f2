//! The choices an import is made of, as types: what it loads into, what becomes of the
//! table's old rows, where a missing table comes from, how keys already there are met,
//! how rows reach the server; and the checked record every loader takes. Each is an enum
//! so that no two choices that exclude each other can be held at once (see: #26).

use std::path::PathBuf;

use crate::sql::TableName;

use clap::ValueEnum;

/// What an import loads.
#[derive(Debug, Clone)]
pub enum Target {
    /// One table, from the inputs.
    Table(TableName),
    /// A backup folder of `qexport --all -o DIR` (`--dir`).
    Restore(PathBuf),
    /// No table: `--ledger L --status` prints the ledger.
    Status,
}

/// `--ledger [DB.]LEDGER`: each file loaded once, its row in the ledger committed with its
/// rows (see ledger.rs).
#[derive(Debug, Clone)]
pub struct Ledger {
    pub table: TableName,
    pub action: LedgerAction,
    /// `--done-dir`, `--error-dir`: where a file goes once its outcome is committed.
    pub done_dir: Option<PathBuf>,
    pub error_dir: Option<PathBuf>,
}

/// What a `--ledger` run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerAction {
    /// Load the FILEs not loaded yet.
    Load,
    /// `--watch DIR`: keep loading each file that appears in DIR.
    Watch(PathBuf),
    /// `--status`: the ledger as CSV on stdout.
    Status,
    /// `--retry`: set the FILEs (or SHA-256 sums) back to new.
    Retry,
}

/// What becomes of the rows the table holds before the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldRows {
    /// They stay; the new rows are added (by `--mode`).
    Keep,
    /// `--truncate`: deleted in the load's transaction.
    Delete,
    /// `--swap`: a new copy is loaded, then renamed into place.
    Swap,
}

impl OldRows {
    /// The new rows alone make the table (`--truncate` or `--swap`).
    pub fn replaced(self) -> bool {
        self != OldRows::Keep
    }
}

/// Where the table comes from when it does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// It must exist.
    Exists,
    /// `--create`: made with the types the input's values call for.
    Create,
    /// `--schema FILE`: made by the CREATE TABLE in FILE.
    Schema(PathBuf),
}

/// What to do with a row whose key exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// A duplicate key is an error (the default)
    #[default]
    Insert,
    /// Keep the existing row, skip the new one
    Ignore,
    /// Delete the existing row, insert the new one
    Replace,
    /// Update the existing row's loaded columns (ON DUPLICATE KEY UPDATE)
    Upsert,
}

impl Mode {
    /// The statement that adds rows in this mode.
    pub fn verb(self) -> &'static str {
        match self {
            Mode::Insert | Mode::Upsert => "INSERT",
            Mode::Ignore => "INSERT IGNORE",
            Mode::Replace => "REPLACE",
        }
    }
}

/// How rows reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Method {
    /// LOAD DATA LOCAL INFILE when the server allows it, else INSERT batches
    #[default]
    Auto,
    /// LOAD DATA LOCAL INFILE through qimport's own stream (the fast path)
    LoadData,
    /// Batches of multi-row prepared INSERTs
    Insert,
}

/// Whose rights a restored view, routine, trigger or event runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Definer {
    /// The DEFINER the backup names (the account must exist here)
    #[default]
    Keep,
    /// The restoring user (DEFINER=CURRENT_USER)
    CurrentUser,
}

/// One checked record, as the loaders take it: its values for the table's columns (None:
/// NULL), its line, and whether its values need escaping.
pub struct Row<'a> {
    pub values: &'a [Option<&'a [u8]>],
    pub line: u64,
    /// No byte of the raw record (but its line end) is one LOAD DATA's format escapes:
    /// its values that are bytes of it need no escaping.
    pub plain: bool,
}
