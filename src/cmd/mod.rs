//! One module per tool; no tool reaches into another's.

pub mod qcount;
pub mod qexport;
pub mod qgrep;
pub mod qimport;
