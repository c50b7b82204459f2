//! The backup folder's format, shared by the writer (`qexport --all -o DIR`) and the
//! reader (`qimport --dir DIR`), so that neither spells it on its own.

/// The line of `schema.sql` after which come the statements a restore runs only once the
/// data is in (triggers, which would fire on the load, and events, which could). What
/// stands before it (tables, routines, views) is created before the data.
pub const AFTER_DATA: &str = "-- qexport: created after the data";
