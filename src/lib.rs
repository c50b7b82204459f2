//! qtools: move data between MySQL/MariaDB and CSV in Unix pipelines.
//!
//! The four binaries (`qexport`, `qimport`, `qgrep`, `qcount`) are thin: each calls
//! `cmd::<tool>::main()`, and each tool's logic lives under `cmd/` (one file for qgrep and
//! qcount, a folder split by job for qexport and qimport), reading as args -> `Config` ->
//! `run`. What the tools share lives once, here, and imports only downward (no cycle):
//!
//! - [`bytes`]: byte helpers every parser and writer shares (a leaf: it imports nothing).
//! - [`dialect`]: the CSV dialect and the writing side of RFC 4180 (NULL convention).
//! - [`record`]: the quote-aware record parser and streaming reader.
//! - [`cli`]: flag groups the tools flatten (CSV dialect, connection, what qgrep and
//!   qcount both read with).
//! - [`conn`]: connection settings (flags, `--url`, option files, `MYSQL_*`) to a session.
//! - [`optfile`]: option files read as the mysql client reads them.
//! - [`tls`]: `--ssl-mode` and the certificates to the driver's TLS; TLS errors in words.
//! - [`flavour`]: MariaDB or MySQL, read once, and the statements that differ.
//! - [`sql`]: identifier quoting, `db.table` names, and a lexer for the statements of SQL
//!   text (one statement per query, `schema.sql`'s DELIMITER blocks).
//! - [`schema`]: a table's columns and their [`schema::SqlType`] (parsed once), key, engine
//!   and size, from `information_schema`; the user's privileges on a database.
//! - [`columns`]: column selections such as `-s email,2`.
//! - [`pipeline`]: quote-aware blocks processed in parallel, results in input order.
//! - [`positioned`]: inputs read at any offset too (files, byte ranges); a leaf.
//! - [`scan`]: the fast structural scan of a block (record ends by bit masks).
//! - [`guess`]: the quote state in the middle of CSV, guessed where blocks are cut.
//! - [`split`]: where qimport -j cuts a file into runs of records.
//! - [`shard`]: `--shard K/N`, the K-th of N byte ranges of a file cut at record ends.
//! - [`input`], [`out`]: opening inputs; the one stdout/file writer (atomic `-o`).
//! - [`progress`]: the progress bar on stderr (terminals only).
//! - [`docs`]: man pages and shell completions from the clap definitions.
//! - [`error`]: exit codes, broken pipes, errors that name file, line, column and value.
//! - [`manifest`]: the backup folder's format (one serde type), shared by qexport --all
//!   and qimport --dir.

pub mod bytes;
pub mod cli;
pub mod cmd;
pub mod columns;
pub mod conn;
pub mod dberror;
pub mod dialect;
pub mod docs;
pub mod encoding;
pub mod error;
pub mod flavour;
pub mod grants;
pub mod guess;
pub mod input;
pub mod interrupt;
pub mod manifest;
pub mod optfile;
pub mod out;
pub mod pipeline;
pub mod positioned;
pub mod progress;
pub mod reading;
pub mod record;
pub mod reorder;
pub mod scan;
pub mod schema;
pub mod shard;
pub mod split;
pub mod sql;
pub mod tls;
