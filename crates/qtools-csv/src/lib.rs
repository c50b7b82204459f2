//! qtools-csv: the CSV core of qtools, which knows nothing of MySQL. It reads RFC 4180
//! records (knowing which fields were quoted, and keeping each record's original bytes),
//! finds record ends 64 bytes at a time, walks large inputs in blocks on every core with
//! the results in input order, and writes CSV back (quoting, the NULL marker).
//!
//! Its modules import only downward (no cycle):
//!
//! - [`bytes`]: byte helpers every parser and writer shares (a leaf).
//! - [`error`]: [`error::DataError`], a bad value named by file, line, column and value.
//! - [`dialect`]: delimiter, header, NULL marker, binary encoding; the writing side.
//! - [`record`]: the quote-aware record parser and the streaming [`record::Reader`].
//! - [`scan`]: the structural scan of a block (record ends by bit masks; AVX2, SSE2 or
//!   portable), which answers as the parser does or not at all.
//! - [`positioned`]: inputs that can also be read at any offset (files, byte ranges).
//! - [`reorder`]: results finished in any order, handed on in order.
//! - [`pipeline`]: quote-aware blocks processed in parallel, results in input order.
//! - [`split`]: where a file is cut into runs of whole records (qimport `-j`).
//!
//! The guess of the quote state where a block is cut (`guess`) is the pipeline's own.
#![deny(missing_docs)]

pub mod bytes;
pub mod dialect;
pub mod error;
mod guess;
pub mod pipeline;
pub mod positioned;
pub mod record;
pub mod reorder;
pub mod scan;
pub mod split;
