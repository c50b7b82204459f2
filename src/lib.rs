//! qtools: move data between MySQL/MariaDB and CSV in Unix pipelines.
//!
//! The four binaries (`qexport`, `qimport`, `qgrep`, `qcount`) are thin: each calls
//! `cmd::<tool>::main()`, and each tool's logic lives under `cmd/` (one file for qgrep and
//! qcount, a folder split by job for qexport and qimport), reading as args -> `Config` ->
//! `run`. The CSV itself (reader, structural scan, block pipeline, dialect and writer) is
//! the crate `qtools_csv` (crates/qtools-csv), which knows nothing of MySQL. What the
//! tools share besides lives once, here, and imports only downward (no cycle):
//!
//! - [`cli`]: flag groups the tools flatten (CSV dialect, connection, what qgrep and
//!   qcount both read with).
//! - [`conn`]: connection settings (flags, `--url`, option files, `MYSQL_*`) to a session.
//! - `optfile`: option files read as the mysql client reads them.
//! - [`tls`]: `--ssl-mode` and the certificates to the driver's TLS; TLS errors in words.
//! - `flavour`: MariaDB or MySQL, read once, and the statements that differ.
//! - `dberror`: the server's errors and warnings by their numbers, not their words.
//! - `grants`: the privileges the current user holds on a database.
//! - `sql`: identifier quoting, `db.table` names, and a lexer for the statements of SQL
//!   text (one statement per query, `schema.sql`'s DELIMITER blocks).
//! - [`schema`]: a table's columns and their [`schema::SqlType`] (parsed once), key, engine
//!   and size, from `information_schema`; how each type's values travel in CSV
//!   ([`schema::ValueKind`]).
//! - `columns`: column selections such as `-s email,2`.
//! - `encoding`, `input`: `--encoding`; opening inputs (stdin, files; gzip and zstd).
//! - `reading`: how qgrep and qcount read, and the header step both take.
//! - `shard`: `--shard K/N`, the K-th of N byte ranges of a file cut at record ends.
//! - `out`: the one stdout/file writer (atomic `-o`, compression, the failure mark).
//! - `progress`: the progress bar on stderr (terminals only).
//! - `interrupt`: Ctrl-C, SIGTERM and SIGHUP undo what a run half did, then end it.
//! - `docs`: man pages and shell completions from the clap definitions.
//! - `error`: exit codes, the one place errors are printed, broken pipes.
//! - `manifest`: the backup folder's format (one serde type), shared by qexport --all
//!   and qimport --dir.
//!
//! Public is only what another crate uses: [`cmd`] (each tool's `main` for the binaries;
//! qimport's value checks for the `validate` fuzz target, with [`schema`]), and [`cli`],
//! [`conn`] and [`tls`] for the integration tests of option files; `columns` and `optfile`
//! are public but hidden, for their fuzz targets (fuzz/).
#![deny(unsafe_code)] // allowed in one place: borrowing the driver's socket (conn.rs, socket_of)

pub mod cli;
pub mod cmd;
#[doc(hidden)] // for the `columns` fuzz target
pub mod columns;
pub mod conn;
mod dberror;
mod docs;
mod encoding;
mod error;
mod flavour;
mod grants;
mod input;
mod interrupt;
mod manifest;
#[doc(hidden)] // for the `optfile` fuzz target
pub mod optfile;
mod out;
mod progress;
mod reading;
pub mod schema;
mod shard;
mod sql;
pub mod tls;
mod waiting;
