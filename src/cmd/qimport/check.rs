//! The per-record check: how a file's fields map to columns (`Layout`), and the loop that
//! reads, checks and emits each record (`Checker`), which every load path (one connection,
//! `-j`, restore) runs.

use qtools_csv::dialect::Dialect;
use qtools_csv::error::DataError;
use qtools_csv::record::{ReadError, Reader, Record};

use crate::input::Source;
use crate::out::Output;
use crate::progress::Progress;
use anyhow::bail;

use crate::schema::ValueKind;
use crate::schema::{ColumnInfo, SqlType, TableInfo};

use super::args::Config;
use super::choices::Row;
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
    /// Told of every record read.
    pub(super) progress: Progress,
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
    /// The fields decoded with --binary, by index.
    pub(super) binary: Vec<usize>,
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
    /// Why a NULL is refused, when it is.
    pub(super) null_refused: &'static str,
}

/// Why a NULL is refused in a column that is not nullable.
pub(super) const NOT_NULL: &str = "NULL in a NOT NULL column";

pub(super) type Emit<'e> = dyn FnMut(&Row<'_>) -> anyhow::Result<()> + 'e;

impl<'a> Checker<'a> {
    pub(super) fn new(cfg: &'a Config) -> Self {
        Checker {
            cfg,
            errors: Vec::new(),
            rejects: None,
            rejected: 0,
            broken: false,
            progress: cfg.progress.clone(),
        }
    }

    /// Enough bad values seen: stop reading. With --rejects, a bad record is an error
    /// only when it reaches an explicit --max-errors (or the input cannot be read on).
    pub(super) fn stop(&self) -> bool {
        match self.rejects {
            None => self.errors.len() as u64 >= self.cfg.max_errors,
            Some(_) => !self.errors.is_empty(),
        }
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
        // Told to the progress every so many records (and at the end).
        let (mut rows, mut bytes) = (0u64, 0u64);
        while !self.stop() {
            if rows == 4096 {
                self.progress.add(rows, bytes);
                (rows, bytes) = (0, 0);
            }
            match rdr.read(&mut rec) {
                Ok(true) => {
                    rows += 1;
                    bytes += rec.raw().len() as u64;
                }
                Ok(false) => break,
                Err(e) => match e.placed(name) {
                    Ok(de) => {
                        self.errors.push(de);
                        self.broken = true;
                        break;
                    }
                    Err(io) => return Err(ReadError::Io(io).in_file(name)),
                },
            }
            let values = recycle(std::mem::take(&mut spare));
            let survey = qtools_csv::bytes::survey(
                qtools_csv::record::without_line_end(rec.raw()),
                14,
                b'\\',
            );
            match Self::check_record(name, &rec, layout, d, values, &mut decoded, survey.ascii) {
                Ok(values) if self.errors.is_empty() || self.rejects.is_some() => {
                    emit(&Row {
                        values: &values,
                        line: rec.line(),
                        plain: !survey.special,
                    })?;
                    spare = recycle(values);
                }
                Ok(values) => spare = recycle(values),
                Err(e) => self.reject(&rec, e)?,
            }
        }
        self.progress.add(rows, bytes);
        // The rejects on disk before the load can be published: a disk that fills fails
        // the load rather than losing the tail of its rejects.
        if let Some(r) = &mut self.rejects {
            r.flush()?;
        }
        Ok(())
    }

    /// The values of one record for the table's columns (None: NULL), each checked; in
    /// `values` (empty), a spare vector, and in `decoded`, the buffers binary values are
    /// decoded into (one per column, reused from record to record). `ascii`: the record's
    /// bytes are all ASCII.
    pub(super) fn check_record<'r>(
        name: &str,
        rec: &'r Record,
        layout: &Layout,
        d: &Dialect,
        mut values: Vec<Option<&'r [u8]>>,
        decoded: &'r mut Vec<Vec<u8>>,
        ascii: bool,
    ) -> Result<Vec<Option<&'r [u8]>>, DataError> {
        if rec.len() != layout.fields.len() {
            return Err(DataError::new(
                name,
                rec.line(),
                format!(
                    "expected {} ({}), found {}",
                    crate::error::plural(layout.fields.len() as u64, "field"),
                    if d.header {
                        "as in the header"
                    } else {
                        "as in the first record"
                    },
                    rec.len()
                ),
            ));
        }
        // Binary values are decoded first, so that the rest can borrow them; a value that
        // does not decode is reported in its turn below.
        let mut undecoded = None;
        if !layout.binary.is_empty() {
            decoded.resize_with(layout.cols.len(), Vec::new);
            for &i in &layout.binary {
                let (Some(f), Some(v)) = (&layout.fields[i], rec.get(i)) else {
                    continue;
                };
                if !d.is_null(v, rec.quoted(i)) {
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
                    return Err(bad(f.null_refused.into()).value(Some(b"NULL")));
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
            f.check
                .check_known(value, ascii && !f.binary)
                .map_err(bad)?;
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
        if let Some(limit) = self.cfg.rejects_limit.filter(|l| self.rejected >= *l) {
            let why = format!(
                "{}; it is bad record {}, and --max-errors {limit} stops the load (with --rejects too)",
                e.reason, self.rejected
            );
            self.errors.push(DataError { reason: why, ..e });
        }
        Ok(())
    }
}

/// Map the header (or --columns, or the table's columns) to the table.
pub(super) fn layout(
    cfg: &Config,
    info: &TableInfo,
    name: &str,
    header: Option<&Record>,
) -> anyhow::Result<Layout> {
    let names: Vec<String> = match (&cfg.columns, header) {
        (Some(c), _) => c.clone(),
        (None, Some(h)) => h
            .iter()
            .map(|(v, _)| String::from_utf8_lossy(v).into_owned())
            .collect(),
        (None, None) => info
            .columns
            .iter()
            .filter(|c| !c.is_generated())
            .map(|c| c.name.clone())
            .collect(),
    };
    let line = header.map_or(1, Record::line);
    let all: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
    let mut fields = Vec::with_capacity(names.len());
    let mut cols: Vec<ColumnInfo> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        // The name as it is (a column may be named " id"), else without the white
        // space around it (a CSV written as "id, name").
        let col = info
            .column(n)
            .or_else(|| info.column(n.trim()))
            .filter(|c| !c.is_generated());
        match col {
            Some(c) if cols.iter().any(|x| x.name == c.name) => {
                bail!(
                    "{name}:{line}: column {:?} appears twice in the header",
                    c.name
                )
            }
            Some(c) => {
                fields.push(Some(cols.len()));
                cols.push(c.clone());
            }
            None if cfg.ignore_extra => fields.push(None),
            None if info.column(n).is_some_and(ColumnInfo::is_generated) => bail!(
                "{name}:{line}: header field {} {n:?} is a generated column of {}: the server computes its values (leave the field out, or --ignore-extra skips such fields)",
                i + 1,
                info.name
            ),
            None => bail!(
                "{name}:{line}: header field {} {n:?} is not a column of {} (its columns: {}); {}",
                i + 1,
                info.name,
                all.join(", "),
                header_hint(&names, info)
            ),
        }
    }
    if cols.is_empty() {
        bail!(
            "{name}:{line}: no field of the header is a column of {}",
            info.name
        );
    }
    let missing: Vec<&str> = info
        .columns
        .iter()
        .filter(|c| {
            !c.has_default
                && !c.is_auto_increment()
                && !c.is_generated()
                && !matches!(c.ty, SqlType::Timestamp { .. })
        })
        .filter(|c| !cols.iter().any(|x| x.name == c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{name}:{line}: the table's NOT NULL column(s) without a default are missing from the header: {}",
            missing.join(", ")
        );
    }
    let fields = fields
        .into_iter()
        .map(|j| {
            j.map(|col| {
                let c = &cols[col];
                Field {
                    col,
                    check: Check::for_column(c).lenient(cfg.lenient),
                    binary: c.ty.value_kind() == ValueKind::Binary,
                    null_ok: c.nullable
                        || c.is_auto_increment()
                        || matches!(c.ty, SqlType::Timestamp { .. }),
                    null_refused: NOT_NULL,
                }
            })
        })
        .collect::<Vec<_>>();
    let binary = (0..fields.len())
        .filter(|&i| fields[i].as_ref().is_some_and(|f| f.binary))
        .collect();
    Ok(Layout {
        fields,
        cols,
        binary,
    })
}

/// What to do about a header that names no column, by what it looks like: one field that
/// holds another separator (`id;email`: `-d ';'`; a tab: `--tsv`); no field a column's name
/// (the first line is data: `-n`); else some fields that are no column (`--ignore-extra`).
fn header_hint(names: &[String], info: &TableInfo) -> String {
    if let [one] = names {
        for (sep, flag) in [(';', "-d ';'"), ('\t', "--tsv"), ('|', "-d '|'")] {
            if one
                .split(sep)
                .filter(|p| info.column(p.trim()).is_some())
                .count()
                >= 2
            {
                return format!("the header is one field split by {sep:?}: give {flag}");
            }
        }
    }
    let known = names
        .iter()
        .filter(|n| info.column(n).or_else(|| info.column(n.trim())).is_some())
        .count();
    if known == 0 {
        "no field of the first line is a column's name: if it is data (the file has no header row), give -n".into()
    } else {
        "--ignore-extra skips such fields".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn config(flags: &[&str]) -> Config {
        let mut argv = vec!["qimport", "--no-defaults", "-D", "d"];
        argv.extend(flags);
        argv.push("t");
        Config::from_args(super::super::args::Args::parse_from(argv)).unwrap()
    }

    fn table() -> TableInfo {
        let mut id = ColumnInfo::typed("id", "int", "int(11)");
        id.extra = crate::schema::Extra::parse("auto_increment");
        let mut name = ColumnInfo::typed(" name", "varchar", "varchar(20)");
        name.nullable = true;
        name.has_default = true;
        let mut total = ColumnInfo::typed("total", "int", "int(11)");
        total.extra = crate::schema::Extra::parse("VIRTUAL GENERATED");
        let mut email = ColumnInfo::typed("email", "varchar", "varchar(50)");
        email.nullable = true;
        email.has_default = true;
        TableInfo {
            name: crate::sql::TableName::parse("d.t").unwrap(),
            columns: vec![id, name, total, email],
            key: vec!["id".into()],
            engine: Some("InnoDB".into()),
            estimated_rows: 0,
            avg_row_length: 0,
            period: None,
        }
    }

    fn header(line: &[u8]) -> Record {
        let mut r = Reader::new(line, b',');
        let mut h = Record::default();
        r.read(&mut h).unwrap();
        h
    }

    fn mapped(cfg: &Config, line: &[u8]) -> anyhow::Result<Vec<Option<String>>> {
        let l = layout(cfg, &table(), "f.csv", Some(&header(line)))?;
        Ok(l.fields
            .iter()
            .map(|f| f.as_ref().map(|f| l.cols[f.col].name.clone()))
            .collect())
    }

    // See: #15: header mapping: any order and case, exact names before trimmed ones,
    // generated columns, unknown and repeated names.
    #[test]
    fn header_fields_map_to_columns() {
        let cfg = config(&[]);
        assert_eq!(
            mapped(&cfg, b"EMAIL, name,Id\n").unwrap(),
            [
                Some("email".into()),
                Some(" name".into()),
                Some("id".into())
            ]
        );
        // Trimmed only when no column has the name as it is.
        assert_eq!(
            mapped(&cfg, b"id , email\n").unwrap()[1],
            Some("email".into())
        );
        let e = mapped(&cfg, b"id,total\n").unwrap_err().to_string();
        assert!(
            e.contains("\"total\" is a generated column of d.t: the server computes"),
            "{e}"
        );
        let e = mapped(&cfg, b"id,nope\n").unwrap_err().to_string();
        assert!(
            e.contains("\"nope\" is not a column of d.t") && e.contains("--ignore-extra"),
            "{e}"
        );
        let e = mapped(&cfg, b"id,ID\n").unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
        let lax = config(&["--ignore-extra"]);
        assert_eq!(
            mapped(&lax, b"nope,id\n").unwrap(),
            [None, Some("id".into())]
        );
        // No header: the table's columns in order, generated ones left out.
        let l = layout(&config(&["-n"]), &table(), "f.csv", None).unwrap();
        let names: Vec<&str> = l.cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", " name", "email"]);
    }
}
