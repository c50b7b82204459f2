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
//!
//! Across the crate boundary: the generic functions (the pipeline's walks, [`record::Reader`])
//! are compiled in the caller's crate as before, and the structural scan inlines within
//! this one; the small functions the tools call per record or per field (the accessors of
//! [`record::Record`], [`scan::raw_fields`] and [`scan::RawField::value`], the writers of
//! [`dialect::Dialect`]) are `#[inline]`, so that they still inline into the tools' loops
//! (measured: without, `qcount -g city` ran 4.7% more instructions).
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
