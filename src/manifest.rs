//! The backup folder's format, shared by the writer (`qexport --all -o DIR`) and the
//! reader (`qimport --dir DIR`), so that neither spells it on its own: `manifest.json` as
//! one serde type ([`Manifest`]), and the marker line of `schema.sql`.

use qtools_csv::dialect::BinaryEncoding;
use serde::{Deserialize, Serialize};

use crate::out::Compression;

/// The line of `schema.sql` after which come the statements a restore runs only once the
/// data is in (triggers, which would fire on the load, and events, which could). What
/// stands before it (sequences, tables, routines, views) is created before the data.
pub const AFTER_DATA: &str = "-- qexport: created after the data";

/// What `format` says of a qtools backup.
pub const FORMAT: &str = "qtools-backup";

/// The version this build writes, and the newest it reads. 1: tables, files, dialect;
/// 2: also objects, history, sequences, per-table consistency, the source's sql_mode and
/// the database's defaults (all optional when read, so a version 1 folder restores).
pub const FORMAT_VERSION: u32 = 2;

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub tool: String,
    pub version: String,
    pub created: String,
    pub server: String,
    pub database: String,
    /// Every table with rows was read at one point in time.
    pub consistent: bool,
    /// Only the tables the user could read (`--partial`).
    #[serde(default)]
    pub partial: bool,
    pub schema: String,
    #[serde(default)]
    pub schema_sha256: Option<String>,
    /// The source server's global `sql_mode` when the backup was taken (the mode its
    /// writers ran under, unless they set their own).
    #[serde(default)]
    pub sql_mode: Option<String>,
    /// The database's default character set and collation.
    #[serde(default)]
    pub charset: Option<String>,
    #[serde(default)]
    pub collation: Option<String>,
    pub dialect: DialectEntry,
    /// The kinds of objects a `--partial` backup lacks, with the privilege its user lacked
    /// (`triggers (TRIGGER)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// What was said when the backup was taken of its objects (a view that did not work
    /// on the source), said again when it is restored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub tables: Vec<TableEntry>,
    #[serde(default)]
    pub objects: Vec<ObjectEntry>,
}

/// How the CSV files are written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DialectEntry {
    /// One character.
    pub delimiter: String,
    pub header: bool,
    /// The NULL marker; empty: an unquoted empty field.
    pub null: String,
    pub binary: BinaryEncoding,
    pub compression: Compression,
}

/// One table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// None: the definition only (a MERGE, FEDERATED... table: its rows live elsewhere).
    pub file: Option<String>,
    pub rows: Option<u64>,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub key: Vec<String>,
    /// Every version of a system-versioned table's rows, with their row start and end.
    #[serde(default)]
    pub history: bool,
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub consistent: Option<bool>,
    #[serde(default)]
    pub columns: Vec<ColumnEntry>,
    /// Why there is no file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// What the backup of this table does not keep, and why (a history it cannot
    /// restore, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One column, as declared (for people reading the manifest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: String,
    pub nullable: bool,
}

/// A view, routine, trigger, event or sequence of the backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectEntry {
    #[serde(rename = "type")]
    pub kind: ObjectKind,
    pub name: String,
}

/// The kinds of objects besides tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// Created before the tables (a column default may draw from it), with its state.
    Sequence,
    Function,
    Procedure,
    View,
    Trigger,
    Event,
}

impl ObjectKind {
    /// The SQL word: `SHOW CREATE {word}`, `DROP {word}`.
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::View => "VIEW",
            ObjectKind::Trigger => "TRIGGER",
            ObjectKind::Event => "EVENT",
        }
    }

    /// The kind whose SQL word is `word` (see [`ObjectKind::word`]).
    pub fn of_word(word: &str) -> Option<ObjectKind> {
        [
            ObjectKind::Sequence,
            ObjectKind::Function,
            ObjectKind::Procedure,
            ObjectKind::View,
            ObjectKind::Trigger,
            ObjectKind::Event,
        ]
        .into_iter()
        .find(|k| k.word() == word)
    }

    /// Created once the data is loaded.
    pub fn after_data(self) -> bool {
        matches!(self, ObjectKind::Trigger | ObjectKind::Event)
    }
}

impl Manifest {
    /// Read `manifest.json`: a qtools backup of a version this build knows.
    pub fn parse(bytes: &[u8]) -> anyhow::Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| anyhow::anyhow!("not a qexport backup manifest ({e})"))?;
        if m.format != FORMAT {
            anyhow::bail!("not a qexport backup manifest (format {:?})", m.format);
        }
        if m.format_version > FORMAT_VERSION {
            anyhow::bail!(
                "a backup of format version {} (this qimport reads up to {FORMAT_VERSION}): restore it with a newer qimport",
                m.format_version
            );
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #15: encodings by name, and a version this build does not know refused.
    #[test]
    fn names_and_versions() {
        let d = DialectEntry {
            delimiter: ",".into(),
            header: true,
            null: String::new(),
            binary: BinaryEncoding::Base64,
            compression: Compression::Zstd,
        };
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.contains(r#""binary":"base64""#) && text.contains(r#""compression":"zstd""#),
            "{text}"
        );
        let m = |version: u32| {
            format!(
                r#"{{"format":"qtools-backup","format_version":{version},"tool":"qexport","version":"0","created":"","server":"","database":"d","consistent":true,"schema":"schema.sql","dialect":{text},"tables":[]}}"#
            )
        };
        let old = Manifest::parse(m(1).as_bytes()).unwrap();
        assert!(old.objects.is_empty() && !old.partial);
        let e = Manifest::parse(m(FORMAT_VERSION + 1).as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("restore it with a newer qimport"),
            "{e}"
        );
        assert!(Manifest::parse(b"{}").is_err());
    }
}
