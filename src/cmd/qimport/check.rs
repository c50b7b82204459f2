//! The per-record check: how a file's fields map to columns (`Layout`), and the loop that
//! reads, checks and emits each record (`Checker`), which every load path (one connection,
//! `-j`, restore) runs.

use crate::dialect::Dialect;
use crate::error::DataError;
use crate::input::Source;
use crate::out::Output;
use crate::record::{Reader, Record};
use crate::schema::ColumnInfo;

use super::args::Config;
use super::load::Row;
use super::validate::Check;

/// Validation state across the inputs of one import: bad values found, rejects written.
pub(super) struct Checker<'a> {
    pub(super) cfg: &'a Config,
    pub(super) errors: Vec<DataError>,
    pub(super) rejects: Option<Output>,
    pub(super) rejected: u64,
    /// The input could not be read on (a quote never closed, say): what follows was not
    /// checked.
    pub(super) broken: bool,
}

/// An empty vector of values on the allocation of `values`, whatever the record they
/// borrowed from: one allocation serves every record. (Collecting a vector's `into_iter`
/// into a vector of a type of the same size reuses its allocation; were that ever not so,
/// this would only allocate.)
pub(super) fn recycle<'b>(mut values: Vec<Option<&[u8]>>) -> Vec<Option<&'b [u8]>> {
    values.clear();
    values.into_iter().map(|_| None).collect()
}

/// The record reader over one input.
pub(super) type CsvReader = Reader<Source>;

/// How the fields of one input map to the table.
pub(super) struct Layout {
    /// For each CSV field, what becomes of it (None: ignored).
    pub(super) fields: Vec<Option<Field>>,
    pub(super) cols: Vec<ColumnInfo>,
    /// Some field is decoded with --binary.
    pub(super) binary: bool,
}

/// What becomes of one CSV field, decided once per input.
pub(super) struct Field {
    /// The index of its column in `cols`.
    pub(super) col: usize,
    pub(super) check: Check,
    /// Decoded with --binary.
    pub(super) binary: bool,
    /// May be NULL: the column is nullable, AUTO_INCREMENT or a TIMESTAMP (both of which
    /// the server fills in).
    pub(super) null_ok: bool,
}

pub(super) type Emit<'e> = dyn FnMut(&Row<'_>) -> anyhow::Result<()> + 'e;

impl<'a> Checker<'a> {
    pub(super) fn new(cfg: &'a Config) -> Self {
        Checker {
            cfg,
            errors: Vec::new(),
            rejects: None,
            rejected: 0,
            broken: false,
        }
    }

    /// Enough bad values seen: stop reading (with --rejects, never).
    pub(super) fn stop(&self) -> bool {
        self.rejects.is_none() && self.errors.len() as u64 >= self.cfg.max_errors
    }

    /// Read, check and emit every record of one input. After the first bad value (without
    /// --rejects) nothing more is emitted, but checking goes on up to --max-errors.
    pub(super) fn read_records<R: std::io::Read>(
        &mut self,
        name: &str,
        rdr: &mut Reader<R>,
        layout: &Layout,
        emit: &mut Emit<'_>,
    ) -> anyhow::Result<()> {
        let d = &self.cfg.dialect;
        let mut rec = Record::default();
        let mut spare = Vec::new();
        let mut decoded = Vec::new();
        while !self.stop() {
            match rdr.read(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let e = e.in_file(name);
                    match e.downcast::<DataError>() {
                        Ok(de) => {
                            self.errors.push(de);
                            self.broken = true;
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            let values = recycle(std::mem::take(&mut spare));
            match Self::check_record(name, &rec, layout, d, values, &mut decoded) {
                Ok(values) if self.errors.is_empty() || self.rejects.is_some() => {
                    emit(&Row {
                        values: &values,
                        raw: rec.raw(),
                        line: rec.line(),
                    })?;
                    spare = recycle(values);
                }
                Ok(values) => spare = recycle(values),
                Err(e) => self.reject(&rec, e)?,
            }
        }
        Ok(())
    }

    /// The values of one record for the table's columns (None: NULL), each checked; in
    /// `values` (empty), a spare vector, and in `decoded`, the buffers binary values are
    /// decoded into (one per column, reused from record to record).
    pub(super) fn check_record<'r>(
        name: &str,
        rec: &'r Record,
        layout: &Layout,
        d: &Dialect,
        mut values: Vec<Option<&'r [u8]>>,
        decoded: &'r mut Vec<Vec<u8>>,
    ) -> Result<Vec<Option<&'r [u8]>>, DataError> {
        if rec.len() != layout.fields.len() {
            return Err(DataError::new(
                name,
                rec.line(),
                format!(
                    "expected {} fields (as in the header), found {}",
                    layout.fields.len(),
                    rec.len()
                ),
            ));
        }
        // Binary values are decoded first, so that the rest can borrow them; a value that
        // does not decode is reported in its turn below.
        let mut undecoded = None;
        if layout.binary {
            decoded.resize_with(layout.cols.len(), Vec::new);
            for ((v, quoted), field) in rec.iter().zip(&layout.fields) {
                let Some(f) = field.as_ref().filter(|f| f.binary) else {
                    continue;
                };
                if !d.is_null(v, quoted) {
                    if let Err(e) = d.binary.decode_into(v, &mut decoded[f.col]) {
                        undecoded.get_or_insert((f.col, e));
                    }
                }
            }
        }
        let decoded: &'r [Vec<u8>] = decoded;
        values.resize(layout.cols.len(), None);
        for ((v, quoted), field) in rec.iter().zip(&layout.fields) {
            let Some(f) = field else { continue };
            let bad = |reason: String| {
                DataError::new(name, rec.line(), reason)
                    .column(&layout.cols[f.col].name)
                    .value(Some(v))
            };
            if d.is_null(v, quoted) {
                if !f.null_ok {
                    return Err(bad("NULL in a NOT NULL column".into()).value(Some(b"NULL")));
                }
                continue;
            }
            let value = if f.binary {
                if let Some((_, e)) = undecoded.take_if(|(col, _)| *col == f.col) {
                    return Err(bad(e));
                }
                &decoded[f.col]
            } else {
                v
            };
            f.check.check(value).map_err(bad)?;
            values[f.col] = Some(value);
        }
        Ok(values)
    }

    /// A bad record: into the rejects file, or into the list of errors.
    pub(super) fn reject(&mut self, rec: &Record, e: DataError) -> anyhow::Result<()> {
        let Some(out) = &mut self.rejects else {
            self.errors.push(e);
            return Ok(());
        };
        let mut line = rec.raw().trim_ascii_end().to_vec();
        line.push(self.cfg.dialect.delimiter);
        let reason = format!(
            "line {}: {}",
            e.line,
            e.to_string().split_once(": ").map_or("", |x| x.1)
        );
        self.cfg.dialect.write_value(&mut line, reason.as_bytes());
        line.push(b'\n');
        out.write_all(&line)?;
        self.rejected += 1;
        Ok(())
    }
}
