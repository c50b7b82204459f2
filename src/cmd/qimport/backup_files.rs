//! The files of a backup folder (`qexport --all -o DIR`) as a restore reads them: the
//! manifest's tables, each file checked to be a plain file of the folder, its SHA-256,
//! and opened by its name (`.gz`, `.zst`).

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::input::{Input, Source};
use crate::manifest::Manifest;
use qtools_csv::bytes::hex_encode;

/// One table of the manifest, checked: a file comes with its row count and SHA-256.
pub(super) struct Entry {
    pub(super) name: String,
    /// None: a table whose rows live elsewhere (MERGE, FEDERATED...): definition only.
    pub(super) file: Option<String>,
    pub(super) rows: u64,
    pub(super) sha256: String,
    /// The file holds every version of a system-versioned table's rows.
    pub(super) history: bool,
}

pub(super) fn check_sha256(path: &Path, want: &str) -> anyhow::Result<()> {
    let mut hash = Sha256::new();
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    std::io::copy(&mut f, &mut hash).with_context(|| format!("reading {}", path.display()))?;
    let mut got = Vec::new();
    hex_encode(&hash.finalize(), &mut got);
    if got != want.as_bytes() {
        bail!(
            "{}: SHA-256 differs from the manifest: the backup is damaged",
            path.display()
        );
    }
    Ok(())
}

pub(super) fn entries(manifest: &Manifest) -> anyhow::Result<Vec<Entry>> {
    manifest
        .tables
        .iter()
        .map(|t| {
            let (rows, sha256) = match &t.file {
                None => (0, String::new()),
                Some(f) => (
                    t.rows
                        .with_context(|| format!("manifest: {f} without a row count"))?,
                    t.sha256
                        .clone()
                        .with_context(|| format!("manifest: {f} without a SHA-256"))?,
                ),
            };
            Ok(Entry {
                name: t.name.clone(),
                file: t.file.clone(),
                rows,
                sha256,
                history: t.history,
            })
        })
        .collect()
}

/// Open a backup file, decompressing by its name.
/// A file of the backup folder, by the name the manifest gives: a plain name in the
/// folder (no `/`, no `..`), and a regular file there, not a link (which could lead
/// anywhere), a FIFO or a device (which could never end). Checked before it is read.
pub(super) fn backup_file(dir: &Path, file: &str) -> anyhow::Result<std::path::PathBuf> {
    if file.is_empty() || file.contains(['/', '\0']) || file.starts_with('.') {
        bail!("manifest: {file:?} is not the name of a file in the backup folder (the backup is damaged)");
    }
    let path = dir.join(file);
    let m = std::fs::symlink_metadata(&path).with_context(|| format!("{}", path.display()))?;
    if !m.is_file() {
        bail!(
            "{}: not a regular file (a link, a FIFO or a device): a backup holds only its own files",
            path.display()
        );
    }
    Ok(path)
}

pub(super) fn open(dir: &Path, file: &str) -> anyhow::Result<Input> {
    let path = backup_file(dir, file)?;
    let f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let ext = Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let reader = if ext.as_deref() == Some("gz") {
        Source::Stream(Box::new(flate2::read::MultiGzDecoder::new(f)))
    } else if ext.as_deref() == Some("zst") {
        Source::Stream(Box::new(zstd::stream::read::Decoder::new(f)?))
    } else {
        Source::File(f)
    };
    Ok(Input {
        name: path.display().to_string(),
        reader,
        stream: false,
    })
}
